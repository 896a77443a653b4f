"""The emulator's route table: every REST route it registers is an operation of the OpenAPI
subset it validates against (GraphQL and codeload are not REST operations of the description);
a method the table does not have on a known path is an unknown endpoint, as on GitHub."""

from __future__ import annotations

import json

import aiohttp
from aiohttp import web

from ssot_emulator import OPENAPI_SUBSET, EmulatorServer, GitHubEmulator

# served, but not REST operations of the description
NOT_IN_THE_DESCRIPTION = {("POST", "/graphql"), ("*", "/_codeload/{tail}")}


def registered(app: web.Application) -> set[tuple[str, str]]:
    return {(route.method, route.resource.canonical)
            for route in app.router.routes() if route.resource is not None}


def test_every_route_is_an_operation_of_the_openapi_subset() -> None:
    spec = json.loads(OPENAPI_SUBSET.read_text(encoding="utf-8"))
    described = {(method.upper(), path) for path, item in spec["paths"].items()
                 for method in item if method in ("get", "post", "put", "patch", "delete")}
    routes = registered(GitHubEmulator().app())
    assert routes - NOT_IN_THE_DESCRIPTION <= described, routes - described
    assert routes >= NOT_IN_THE_DESCRIPTION
    # and the emulator serves every operation the subset describes
    assert described <= routes, described - routes


async def test_a_method_the_table_lacks_is_an_unknown_endpoint_not_a_405() -> None:
    emu = GitHubEmulator(OPENAPI_SUBSET)
    emu.add_installation(1, "acme")
    emu.add_repo("acme/app", {"a.py": "x = 1\n"}, installation_id=1)
    token = emu.issue_token(1)
    async with EmulatorServer(emu) as url, aiohttp.ClientSession() as session:
        for method in ("DELETE", "HEAD"):
            async with session.request(method, f"{url}/repos/acme/app/pulls/1",
                                       headers={"Authorization": f"token {token}"}) as answer:
                assert answer.status == 404
                if method == "DELETE":
                    assert (await answer.json())["message"] == "Not Found"
    assert emu.openapi_violations == [
        f"{m} /repos/acme/app/pulls/1: endpoint not in the OpenAPI description"
        for m in ("DELETE", "HEAD")]
