"""``POST /graphql`` (:mod:`ssot_emulator.graphql`): installation tokens only, answered 200 as
GitHub answers GraphQL, counted against the installation's GraphQL bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssot_emulator.endpoints import Call, Endpoints, Reply

if TYPE_CHECKING:
    from ssot_emulator.server import GitHubEmulator

route = Endpoints(prefix="")
routes = route.table
GRAPHQL_DOCS = "https://docs.github.com/graphql"


@route("POST", "/graphql", auth="installation", validate=False, doc=GRAPHQL_DOCS)
def graphql(emu: GitHubEmulator, call: Call) -> Reply:
    assert call.installation_id is not None
    limits = emu.rate_limits
    key = limits.installation_key(call.installation_id, "graphql")
    return Reply(200, emu.graphql.answer(call.body, call.installation_id,
                                         lambda: limits.bucket(key, "token")))
