"""``POST /graphql`` as GitHub answers it, for the part of the schema ssot-bot queries.

Every query is parsed and validated against GitHub's public schema (the subset in
``data/graphql-subset.graphql``, generated from ``@octokit/graphql-schema`` by
``scripts/graphql_subset.py``: a query valid against the subset is valid against the whole
schema). An invalid query is answered as GitHub answers one: HTTP 200 with ``errors`` (a
message, ``locations``, and an ``extensions.code`` where GitHub gives one) and no ``data``;
the problem is also recorded in :attr:`Queries.violations` so tests can fail on it.

Resolved: ``repository(owner:, name:)`` (only a repository of the token's installation: any
other is ``NOT_FOUND``, as GitHub says for one it cannot see), ``Repository.object(expression:
"<rev>:<path>" | oid:)`` for blobs, and ``rateLimit``. ``Blob.text`` is cut at 512,000 bytes
with ``isTruncated`` set, as GitHub does; a binary blob (a NUL byte in its first 8,000 bytes,
or not UTF-8) has ``text: null``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphql

from ssot_emulator.state import EmulatorState, NotFound

GRAPHQL_SUBSET = Path(__file__).resolve().parent / "data" / "graphql-subset.graphql"
TEXT_LIMIT = 512_000  # bytes of Blob.text GitHub returns before it sets isTruncated
BINARY_PROBE = 8000


@functools.cache
def schema(path: Path = GRAPHQL_SUBSET) -> graphql.GraphQLSchema:
    built = graphql.build_schema(path.read_text(encoding="utf-8"))
    graphql.assert_valid_schema(built)
    return built


def _is_binary(data: bytes) -> bool:
    if b"\0" in data[:BINARY_PROBE]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def blob_node(sha: str, data: bytes) -> dict[str, Any]:
    """A ``Blob`` as GitHub resolves it."""
    binary = _is_binary(data)
    text = None
    if not binary:
        text = data[:TEXT_LIMIT].decode("utf-8", "ignore")
    return {"__typename": "Blob", "id": f"B_{sha[:20]}", "oid": sha, "abbreviatedOid": sha[:7],
            "byteSize": len(data), "isBinary": binary, "isTruncated": len(data) > TEXT_LIMIT,
            "text": text}


@dataclass
class Bucket:
    limit: int
    remaining: int
    reset: int


@dataclass
class Queries:
    """The GraphQL endpoint of one emulator: its state, its log of invalid queries."""

    state: EmulatorState
    violations: list[str] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)  # every valid query, as sent

    def answer(self, body: Any, installation_id: int,
               bucket: Callable[[], Bucket]) -> dict[str, Any]:
        """The JSON answer (always HTTP 200, as GitHub answers GraphQL) to ``body``."""
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return self._invalid("A query attribute must be specified and must be a string.")
        source = body["query"]
        variables = body.get("variables") or {}
        if not isinstance(variables, dict):
            return self._invalid("Variables must be an object.")
        try:
            document = graphql.parse(source)
        except graphql.GraphQLError as exc:
            return self._invalid(exc.message, exc)
        errors = graphql.validate(schema(), document)
        if errors:
            self.violations.extend(e.message for e in errors)
            return {"errors": [_error(e, "undefinedField") for e in errors]}
        self.executed.append(source)
        root = _Root(self.state, installation_id, bucket)
        result = graphql.execute_sync(schema(), document, root_value=root,
                                      variable_values=variables)
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [_error(e, None) for e in result.errors]
        return answer

    def _invalid(self, message: str, exc: graphql.GraphQLError | None = None) -> dict[str, Any]:
        self.violations.append(message)
        return {"errors": [_error(exc, None) if exc else {"message": message}]}


def _error(error: graphql.GraphQLError, code: str | None) -> dict[str, Any]:
    shaped: dict[str, Any] = {"message": error.message}
    if error.locations:
        shaped["locations"] = [{"line": loc.line, "column": loc.column}
                               for loc in error.locations]
    if error.path:
        shaped["path"] = list(error.path)
    if isinstance(error.original_error, _NotFound):
        shaped["type"] = "NOT_FOUND"
    elif code is not None:
        shaped["extensions"] = {"code": code}
    return shaped


class _NotFound(Exception):
    pass


class _Root:
    """The query root, resolved by graphql-core's default resolvers (attributes, called)."""

    def __init__(self, state: EmulatorState, installation_id: int,
                 bucket: Callable[[], Bucket]) -> None:
        self._state = state
        self._installation_id = installation_id
        self._bucket = bucket

    def repository(self, info: Any, owner: str, name: str,
                   followRenames: bool = True) -> _Repository:
        full_name = f"{owner}/{name}"
        try:
            repo = self._state.repo(full_name)
        except NotFound:
            repo = None
        if repo is None or repo.installation_id != self._installation_id:
            raise _NotFound(f"Could not resolve to a Repository with the name '{full_name}'.")
        return _Repository(self._state, repo.full_name)

    def rateLimit(self, info: Any, dryRun: bool = False) -> dict[str, Any]:
        bucket = self._bucket()
        reset = dt.datetime.fromtimestamp(bucket.reset, dt.UTC)
        return {"cost": 1, "limit": bucket.limit, "nodeCount": 0,
                "remaining": bucket.remaining, "used": bucket.limit - bucket.remaining,
                "resetAt": reset.strftime("%Y-%m-%dT%H:%M:%SZ")}


class _Repository:
    def __init__(self, state: EmulatorState, full_name: str) -> None:
        self._state = state
        self.nameWithOwner = full_name
        self.id = f"R_{full_name}"

    def object(self, info: Any, expression: str | None = None,
               oid: str | None = None) -> dict[str, Any] | None:
        blobs = self._state.blobs
        if oid is not None:
            if oid in blobs and self._state.repo_has_blob(self.nameWithOwner, oid):
                return blob_node(oid, blobs[oid])
            return None
        if expression is None:
            return None
        rev, sep, path = expression.partition(":")
        if not sep:
            return None
        try:
            commit = self._state.resolve_ref(self.nameWithOwner, rev or None)
        except NotFound:
            return None
        sha = commit.tree.get(path.strip("/"))
        return None if sha is None else blob_node(sha, blobs[sha])
