"""The emulator's GraphQL endpoint, conditional requests and rate-limit buckets (docs §14)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import gidgethub
import gidgethub.aiohttp
import pytest
from cachetools import LRUCache

from ssot_emulator import OPENAPI_SUBSET, EmulatorServer, GitHubEmulator, blob_sha
from ssot_emulator.graphql import TEXT_LIMIT
from tests.emulator.test_emulator import (
    BASE_FILES,
    INSTALLATION,
    REPO,
    install_token,
    make_emulator,
)

BLOBS = """query($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) {
    f0: object(expression: "main:app/other.py") { ...B }
    f1: object(expression: "main:big.txt") { ...B }
    f2: object(expression: "main:bin.dat") { ...B }
    f3: object(expression: "main:missing.py") { ... on Blob { text } }
  }
  rateLimit { cost remaining resetAt }
}
fragment B on Blob { text byteSize isBinary isTruncated }"""


@pytest.fixture
def emu() -> GitHubEmulator:
    emulator = make_emulator()
    emulator.commit(REPO, "main", {"big.txt": "é" * TEXT_LIMIT, "bin.dat": b"\0\1\2" * 10})
    return emulator


@pytest.fixture
async def gh(emu: GitHubEmulator) -> AsyncIterator[tuple[gidgethub.aiohttp.GitHubAPI, str]]:
    async with EmulatorServer(emu) as url, aiohttp.ClientSession() as session:
        plain = gidgethub.aiohttp.GitHubAPI(session, "emulator-tests", base_url=url)
        token = await install_token(plain, emu)
        yield gidgethub.aiohttp.GitHubAPI(session, "emulator-tests", oauth_token=token,
                                          base_url=url, cache=LRUCache(64)), url


async def test_blobs_come_in_one_query_and_long_texts_are_truncated_as_on_github(
        gh: tuple[gidgethub.aiohttp.GitHubAPI, str], emu: GitHubEmulator) -> None:
    api, url = gh
    data = await api.graphql(BLOBS, endpoint=f"{url}/graphql", owner="acme", name="app")
    repo = data["repository"]
    assert repo["f0"] == {"text": BASE_FILES["app/other.py"], "byteSize": 6, "isBinary": False,
                          "isTruncated": False}
    big = repo["f1"]
    assert big["isTruncated"] and big["byteSize"] == 2 * TEXT_LIMIT
    assert len(big["text"].encode()) <= TEXT_LIMIT and big["text"] == "é" * (TEXT_LIMIT // 2)
    assert repo["f2"]["isBinary"] and repo["f2"]["text"] is None
    assert repo["f3"] is None
    assert data["rateLimit"]["cost"] == 1
    assert emu.graphql.violations == []
    # by oid, too (a module read by its blob sha)
    sha = blob_sha(BASE_FILES["app/other.py"].encode())
    by_oid = await api.graphql(
        'query { repository(owner: "acme", name: "app") { m: object(oid: "' + sha
        + '") { ... on Blob { text } } } }', endpoint=f"{url}/graphql")
    assert by_oid["repository"]["m"]["text"] == "a = 1\n"


async def test_an_invalid_query_is_answered_with_githubs_error_shape(
        gh: tuple[gidgethub.aiohttp.GitHubAPI, str], emu: GitHubEmulator) -> None:
    api, url = gh
    with pytest.raises(gidgethub.QueryError) as info:
        await api.graphql('query { repository(owner: "acme", name: "app") { object(expression: '
                          '"main:x") { ... on Blob { size } } } }', endpoint=f"{url}/graphql")
    (error,) = info.value.response["errors"]
    assert error["message"] == "Cannot query field 'size' on type 'Blob'."
    assert error["locations"] and error["extensions"] == {"code": "undefinedField"}
    with pytest.raises(gidgethub.QueryError):
        await api.graphql("query { repository(", endpoint=f"{url}/graphql")
    assert len(emu.graphql.violations) == 2
    emu.graphql.violations.clear()


async def test_another_installations_repository_is_not_found(
        gh: tuple[gidgethub.aiohttp.GitHubAPI, str], emu: GitHubEmulator) -> None:
    api, url = gh
    emu.add_installation(99, "other")
    emu.add_repo("other/secret", {"a.py": "x = 1\n"}, installation_id=99)
    with pytest.raises(gidgethub.QueryError) as info:
        await api.graphql('query { repository(owner: "other", name: "secret") { id } }',
                          endpoint=f"{url}/graphql")
    (error,) = info.value.response["errors"]
    assert error["type"] == "NOT_FOUND" and info.value.response["data"] == {"repository": None}


async def test_a_repeated_get_is_a_304_that_costs_no_rate_limit(
        gh: tuple[gidgethub.aiohttp.GitHubAPI, str], emu: GitHubEmulator) -> None:
    api, _ = gh
    path = f"/repos/{REPO}/contents/app/other.py"
    first = await api.getitem(path)
    left = emu.rate_remaining(INSTALLATION)
    again = await api.getitem(path)
    assert again == first
    assert [r.status for r in emu.requests if r.path == path] == [200, 304]
    assert emu.rate_remaining(INSTALLATION) == left  # not counted
    emu.commit(REPO, "main", {"app/other.py": "a = 2\n"})
    changed = await api.getitem(path)
    assert changed["sha"] != first["sha"]
    assert emu.rate_remaining(INSTALLATION) == left - 1  # type: ignore[operator]


async def test_rate_limit_headers_count_down_per_installation_and_resource(
        emu: GitHubEmulator) -> None:
    emu.add_installation(99, "other")
    emu.add_repo("other/app", {"a.py": "x = 1\n"}, installation_id=99)
    async with EmulatorServer(emu) as url, aiohttp.ClientSession() as session:
        plain = gidgethub.aiohttp.GitHubAPI(session, "t", base_url=url)
        one = await install_token(plain, emu)
        two = await install_token(plain, emu, 99)
        seen: list[tuple[str, str]] = []
        for token, repo in ((one, REPO), (one, REPO), (two, "other/app")):
            async with session.get(f"{url}/repos/{repo}", headers={
                    "Authorization": f"token {token}"}) as response:
                seen.append((response.headers["x-ratelimit-remaining"],
                             response.headers["x-ratelimit-resource"]))
        async with session.post(f"{url}/graphql", json={"query": "query { rateLimit { cost } }"},
                                headers={"Authorization": f"bearer {one}"}) as response:
            seen.append((response.headers["x-ratelimit-remaining"],
                         response.headers["x-ratelimit-resource"]))
    assert seen == [("4999", "core"), ("4998", "core"), ("4999", "core"), ("4999", "graphql")]
    assert OPENAPI_SUBSET.exists()
