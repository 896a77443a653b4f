""":class:`~bot.state.store.StateStore` in the shared PostgreSQL database (shared mode,
docs/deploy.md): the tables ``ssot_results``, ``ssot_snapshots``, ``ssot_configs`` and
``ssot_findings`` of :mod:`bot.service.schema` (``ssot-bot migrate`` creates them). Blocking,
like every store: call it from a thread. Needs the ``ssot-bot[shared]`` extra.

Like the SQLite store it never raises: a call the database fails is logged at ERROR and
answers empty (the caller goes on without the cache); the pool reconnects by itself."""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import psycopg
from psycopg_pool import ConnectionPool

from bot.state.store import MAX_CONFIG_BYTES, MAX_FINDINGS_PER_INSTALLATION, FileRecord, Snapshot

log = logging.getLogger(__name__)
_T = TypeVar("_T")
_P = ParamSpec("_P")


def _guarded(default: Callable[[], object]) -> Callable[
        [Callable[Concatenate[PostgresStore, psycopg.Connection[Any], _P], _T]],
        Callable[Concatenate[PostgresStore, _P], _T]]:
    """The method runs in one transaction on a pooled connection; a database error rolls it
    back, is logged, and the call returns ``default()``."""

    def wrap(method: Callable[Concatenate[PostgresStore, psycopg.Connection[Any], _P], _T]
             ) -> Callable[Concatenate[PostgresStore, _P], _T]:
        @functools.wraps(method)
        def guarded(self: PostgresStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
            try:
                with self._pool.connection() as conn, conn.transaction():
                    return method(self, conn, *args, **kwargs)
            except psycopg.Error as exc:
                self.failures += 1
                log.error("state store: %s failed; going on without it", method.__name__,
                          extra={"error": type(exc).__name__, "detail": str(exc)[:200]})
                return cast(_T, default())
        return guarded
    return wrap


class PostgresStore:
    """The store every replica shares."""

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        self.failures = 0
        self._pool = ConnectionPool(url, min_size=0, max_size=pool_size, timeout=10.0, open=True,
                                    kwargs={"connect_timeout": 3}, name="ssot-store")

    def close(self) -> None:
        self._pool.close()

    @_guarded(dict)
    def results(self, conn: psycopg.Connection[Any], repo: str, key: str,
                files: Mapping[str, str]) -> dict[str, FileRecord]:
        rows = conn.execute("SELECT path, sha, data FROM ssot_results WHERE repo = %s AND "
                            "key = %s", (repo, key)).fetchall()
        return {path: FileRecord.loads(data) for path, sha, data in rows
                if files.get(path) == sha}

    @_guarded(lambda: None)
    def put_results(self, conn: psycopg.Connection[Any], repo: str, key: str,
                    rows: Iterable[tuple[str, str, FileRecord]]) -> None:
        data = [(repo, key, path, sha, record.dumps()) for path, sha, record in rows]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO ssot_results (repo, key, path, sha, data) VALUES "
                "(%s, %s, %s, %s, %s) ON CONFLICT (repo, key, path, sha) DO UPDATE SET "
                "data = EXCLUDED.data", data)

    @_guarded(lambda: None)
    def snapshot(self, conn: psycopg.Connection[Any], repo: str, key: str) -> Snapshot | None:
        row = conn.execute("SELECT sha, files, reexports FROM ssot_snapshots WHERE "
                           "repo = %s AND key = %s", (repo, key)).fetchone()
        if row is None:
            return None
        return Snapshot(str(row[0]), {str(p): str(s) for p, s in json.loads(row[1]).items()},
                        {str(k): tuple(v) for k, v in json.loads(row[2]).items()})

    @_guarded(lambda: None)
    def put_snapshot(self, conn: psycopg.Connection[Any], repo: str, key: str,
                     snapshot: Snapshot) -> None:
        files = dict(snapshot.files)
        conn.execute(
            "INSERT INTO ssot_snapshots (repo, key, sha, files, reexports) VALUES "
            "(%s, %s, %s, %s, %s) ON CONFLICT (repo, key) DO UPDATE SET sha = EXCLUDED.sha, "
            "files = EXCLUDED.files, reexports = EXCLUDED.reexports",
            (repo, key, snapshot.sha, json.dumps(files, separators=(",", ":")),
             json.dumps({k: list(v) for k, v in snapshot.index.items()})))
        stale = [(repo, key, path, sha) for path, sha in conn.execute(
            "SELECT path, sha FROM ssot_results WHERE repo = %s AND key = %s",
            (repo, key)).fetchall() if files.get(path) != sha]
        with conn.cursor() as cur:
            cur.executemany("DELETE FROM ssot_results WHERE repo = %s AND key = %s AND "
                            "path = %s AND sha = %s", stale)
        # results of other analyses (rules changed) of this repository are dead too
        conn.execute("DELETE FROM ssot_results WHERE repo = %s AND key <> %s", (repo, key))
        conn.execute("DELETE FROM ssot_snapshots WHERE repo = %s AND key <> %s", (repo, key))

    @_guarded(lambda: None)
    def config(self, conn: psycopg.Connection[Any], repo: str) -> tuple[str, str | None] | None:
        row = conn.execute("SELECT sha, text FROM ssot_configs WHERE repo = %s",
                           (repo,)).fetchone()
        return None if row is None else (str(row[0]), None if row[1] is None else str(row[1]))

    @_guarded(lambda: None)
    def put_config(self, conn: psycopg.Connection[Any], repo: str, sha: str,
                   text: str | None) -> None:
        if text is not None and len(text.encode("utf-8")) > MAX_CONFIG_BYTES:
            text = None  # never stored (docs/behaviour.md §13)
        conn.execute("INSERT INTO ssot_configs (repo, sha, text) VALUES (%s, %s, %s) "
                     "ON CONFLICT (repo) DO UPDATE SET sha = EXCLUDED.sha, "
                     "text = EXCLUDED.text", (repo, sha, text))

    @_guarded(dict)
    def findings(self, conn: psycopg.Connection[Any], installation: int,
                 keys: Sequence[str]) -> dict[str, str]:
        rows = conn.execute("UPDATE ssot_findings SET used = %s WHERE installation = %s AND "
                            "key = ANY(%s) RETURNING key, data",
                            (time.time(), installation, list(keys))).fetchall()
        return {str(k): str(d) for k, d in rows}

    @_guarded(lambda: None)
    def put_findings(self, conn: psycopg.Connection[Any], installation: int,
                     rows: Iterable[tuple[str, str]]) -> None:
        now = time.time()
        data = [(installation, key, text, now) for key, text in rows]
        if not data:
            return
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO ssot_findings (installation, key, data, used) VALUES "
                            "(%s, %s, %s, %s) ON CONFLICT (installation, key) DO UPDATE SET "
                            "data = EXCLUDED.data, used = EXCLUDED.used", data)
        conn.execute("DELETE FROM ssot_findings WHERE installation = %s AND key IN (SELECT key "
                     "FROM ssot_findings WHERE installation = %s ORDER BY used DESC OFFSET %s)",
                     (installation, installation, MAX_FINDINGS_PER_INSTALLATION))

    @_guarded(lambda: None)
    def forget_installation(self, conn: psycopg.Connection[Any], installation: int) -> None:
        conn.execute("DELETE FROM ssot_findings WHERE installation = %s", (installation,))

    @_guarded(lambda: None)
    def forget(self, conn: psycopg.Connection[Any], repos: Iterable[str]) -> None:
        names = [r.lower() for r in repos]
        conn.execute("DELETE FROM ssot_results WHERE repo = ANY(%s)", (names,))
        conn.execute("DELETE FROM ssot_snapshots WHERE repo = ANY(%s)", (names,))
        conn.execute("DELETE FROM ssot_configs WHERE repo = ANY(%s)", (names,))
