""":class:`~bot.state.store.StateStore` in the shared PostgreSQL database (shared mode,
docs/deploy.md): the tables ``ssot_results``, ``ssot_snapshots``, ``ssot_configs`` of
:mod:`bot.service.schema` (``ssot-bot migrate`` creates them). Blocking, like every store:
call it from a thread. Needs the ``ssot-bot[shared]`` extra."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from psycopg_pool import ConnectionPool

from bot.state.store import FileRecord, Snapshot


class PostgresStore:
    """The store every replica shares; each call is one transaction."""

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        self._pool = ConnectionPool(url, min_size=0, max_size=pool_size, timeout=10.0, open=True,
                                    kwargs={"connect_timeout": 3}, name="ssot-store")

    def close(self) -> None:
        self._pool.close()

    def results(self, repo: str, key: str, files: Mapping[str, str]) -> dict[str, FileRecord]:
        with self._pool.connection() as conn:
            rows = conn.execute("SELECT path, sha, data FROM ssot_results WHERE repo = %s AND "
                                "key = %s", (repo, key)).fetchall()
        return {path: FileRecord.loads(data) for path, sha, data in rows
                if files.get(path) == sha}

    def put_results(self, repo: str, key: str,
                    rows: Iterable[tuple[str, str, FileRecord]]) -> None:
        data = [(repo, key, path, sha, record.dumps()) for path, sha, record in rows]
        with self._pool.connection() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO ssot_results (repo, key, path, sha, data) VALUES "
                "(%s, %s, %s, %s, %s) ON CONFLICT (repo, key, path, sha) DO UPDATE SET "
                "data = EXCLUDED.data", data)

    def snapshot(self, repo: str, key: str) -> Snapshot | None:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT sha, files, reexports FROM ssot_snapshots WHERE "
                               "repo = %s AND key = %s", (repo, key)).fetchone()
        if row is None:
            return None
        return Snapshot(str(row[0]), {str(p): str(s) for p, s in json.loads(row[1]).items()},
                        {str(k): tuple(v) for k, v in json.loads(row[2]).items()})

    def put_snapshot(self, repo: str, key: str, snapshot: Snapshot) -> None:
        files = dict(snapshot.files)
        with self._pool.connection() as conn, conn.transaction():
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
            conn.execute("DELETE FROM ssot_snapshots WHERE repo = %s AND key <> %s",
                         (repo, key))

    def config(self, repo: str) -> tuple[str, str | None] | None:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT sha, text FROM ssot_configs WHERE repo = %s",
                               (repo,)).fetchone()
        return None if row is None else (str(row[0]), None if row[1] is None else str(row[1]))

    def put_config(self, repo: str, sha: str, text: str | None) -> None:
        with self._pool.connection() as conn:
            conn.execute("INSERT INTO ssot_configs (repo, sha, text) VALUES (%s, %s, %s) "
                         "ON CONFLICT (repo) DO UPDATE SET sha = EXCLUDED.sha, "
                         "text = EXCLUDED.text", (repo, sha, text))
