"""The embedded on-disk store of the inventory (docs/behaviour.md §11): per-file results cached
by blob sha, the last analysed snapshot of each repository, and the configuration read at it;
and the findings of pull request files reused across pushes, per installation (§14).

:class:`StateStore` is the interface; :class:`SQLiteStore` (the standard library's SQLite, one
file under ``SSOT_STATE_DIR``) implements it for one replica. Several replicas sharing work
would put another implementation behind the same Protocol. Methods are blocking: call them
from a thread, never on the event loop.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

DB_NAME = "ssot-state.sqlite3"
MAX_FINDINGS_PER_INSTALLATION = 200_000  # reusable file results kept per installation


@dataclass(frozen=True, slots=True)
class FileRecord:
    """What the engine found in one file: (rule id, line) pairs, or that it could not say."""

    findings: tuple[tuple[str, int], ...] = ()
    error: bool = False  # not UTF-8, does not parse, over the time budget
    skipped: bool = False  # over limits.max_file_bytes, not analysed

    def dumps(self) -> str:
        return json.dumps([[r, n] for r, n in self.findings] if not (self.error or self.skipped)
                          else ("error" if self.error else "skipped"))

    @classmethod
    def loads(cls, text: str) -> FileRecord:
        data = json.loads(text)
        if data == "error":
            return cls(error=True)
        if data == "skipped":
            return cls(skipped=True)
        return cls(tuple((str(r), int(n)) for r, n in data))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The files of one analysed commit (path -> blob sha), only those the rules look at, and
    the re-export index the results were computed with (docs/behaviour.md §10): cached results
    hold only under that index."""

    sha: str
    files: Mapping[str, str] = field(default_factory=dict)
    index: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class StateStore(Protocol):
    """Where the inventory keeps what it learnt. ``key`` names the analysis (rules, engine
    version, re-export index): results under another key are never reused."""

    def results(self, repo: str, key: str, files: Mapping[str, str]) -> dict[str, FileRecord]:
        """Cached records of ``files`` (path -> blob sha) whose blob is known."""
        ...

    def put_results(self, repo: str, key: str,
                    rows: Iterable[tuple[str, str, FileRecord]]) -> None:
        """Remember (path, blob sha, record) rows."""
        ...

    def snapshot(self, repo: str, key: str) -> Snapshot | None: ...

    def put_snapshot(self, repo: str, key: str, snapshot: Snapshot) -> None:
        """Remember the newest analysed commit; results of blobs it no longer holds go."""
        ...

    def config(self, repo: str) -> tuple[str, str | None] | None:
        """(commit sha, `.github/ssot.yml` text or None) last read for ``repo``."""
        ...

    def put_config(self, repo: str, sha: str, text: str | None) -> None: ...

    def findings(self, installation: int, keys: Sequence[str]) -> dict[str, str]:
        """The cached results of a pull request's files (docs/behaviour.md §14) under ``keys``
        (each names a file's path, blob sha, effective configuration and re-export facts), of
        ``installation`` only: key -> the serialised result, for the keys known."""
        ...

    def put_findings(self, installation: int, rows: Iterable[tuple[str, str]]) -> None:
        """Remember (key, serialised result) rows of ``installation``; past
        :data:`MAX_FINDINGS_PER_INSTALLATION` the least recently used go."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    repo TEXT NOT NULL, key TEXT NOT NULL, path TEXT NOT NULL, sha TEXT NOT NULL,
    data TEXT NOT NULL, PRIMARY KEY (repo, key, path, sha));
CREATE TABLE IF NOT EXISTS snapshots (
    repo TEXT NOT NULL, key TEXT NOT NULL, sha TEXT NOT NULL, files TEXT NOT NULL,
    reexports TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (repo, key));
CREATE TABLE IF NOT EXISTS configs (
    repo TEXT PRIMARY KEY, sha TEXT NOT NULL, text TEXT);
CREATE TABLE IF NOT EXISTS findings (
    installation INTEGER NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, used REAL NOT NULL,
    PRIMARY KEY (installation, key));
CREATE INDEX IF NOT EXISTS findings_used ON findings (installation, used);
"""


class SQLiteStore:
    """:class:`StateStore` in one SQLite file (WAL; one connection guarded by a lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        with self._lock:
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def results(self, repo: str, key: str, files: Mapping[str, str]) -> dict[str, FileRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT path, sha, data FROM results WHERE repo = ? AND key = ?",
                (repo, key)).fetchall()
        return {path: FileRecord.loads(data) for path, sha, data in rows
                if files.get(path) == sha}

    def put_results(self, repo: str, key: str,
                    rows: Iterable[tuple[str, str, FileRecord]]) -> None:
        data = [(repo, key, path, sha, record.dumps()) for path, sha, record in rows]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO results (repo, key, path, sha, data) "
                "VALUES (?, ?, ?, ?, ?)", data)
            self._db.execute("COMMIT")

    def snapshot(self, repo: str, key: str) -> Snapshot | None:
        with self._lock:
            row = self._db.execute(
                "SELECT sha, files, reexports FROM snapshots WHERE repo = ? AND key = ?",
                (repo, key)).fetchone()
        if row is None:
            return None
        return Snapshot(str(row[0]), {str(p): str(s) for p, s in json.loads(row[1]).items()},
                        {str(k): tuple(v) for k, v in json.loads(row[2]).items()})

    def put_snapshot(self, repo: str, key: str, snapshot: Snapshot) -> None:
        files = dict(snapshot.files)
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO snapshots (repo, key, sha, files, reexports) "
                "VALUES (?, ?, ?, ?, ?)",
                (repo, key, snapshot.sha, json.dumps(files, separators=(",", ":")),
                 json.dumps({k: list(v) for k, v in snapshot.index.items()})))
            stale = [(repo, key, path, sha) for path, sha in self._db.execute(
                "SELECT path, sha FROM results WHERE repo = ? AND key = ?", (repo, key))
                if files.get(path) != sha]
            self._db.executemany(
                "DELETE FROM results WHERE repo = ? AND key = ? AND path = ? AND sha = ?", stale)
            # results of other analyses (rules changed) of this repository are dead too
            self._db.execute("DELETE FROM results WHERE repo = ? AND key != ?", (repo, key))
            self._db.execute("DELETE FROM snapshots WHERE repo = ? AND key != ?", (repo, key))
            self._db.execute("COMMIT")

    def config(self, repo: str) -> tuple[str, str | None] | None:
        with self._lock:
            row = self._db.execute("SELECT sha, text FROM configs WHERE repo = ?",
                                   (repo,)).fetchone()
        return None if row is None else (str(row[0]), None if row[1] is None else str(row[1]))

    def put_config(self, repo: str, sha: str, text: str | None) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO configs (repo, sha, text) VALUES (?, ?, ?)",
                             (repo, sha, text))


    def findings(self, installation: int, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        now = time.time()
        with self._lock:
            for start in range(0, len(keys), 500):  # SQLite's bound on parameters
                chunk = list(keys[start:start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, data FROM findings WHERE installation = ? AND key IN ({marks})",  # noqa: S608 - placeholders only
                    (installation, *chunk)).fetchall()
                found.update((str(k), str(d)) for k, d in rows)
            if found:
                self._db.executemany(
                    "UPDATE findings SET used = ? WHERE installation = ? AND key = ?",
                    [(now, installation, k) for k in found])
        return found

    def put_findings(self, installation: int, rows: Iterable[tuple[str, str]]) -> None:
        now = time.time()
        data = [(installation, key, text, now) for key, text in rows]
        if not data:
            return
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO findings (installation, key, data, used) "
                    "VALUES (?, ?, ?, ?)", data)
                self._db.execute(
                    "DELETE FROM findings WHERE installation = ? AND key IN (SELECT key FROM "
                    "findings WHERE installation = ? ORDER BY used DESC LIMIT -1 OFFSET ?)",
                    (installation, installation, MAX_FINDINGS_PER_INSTALLATION))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise


def open_store(state_dir: str | Path) -> SQLiteStore:
    """The store in ``state_dir`` (created when missing)."""
    directory = Path(state_dir)
    directory.mkdir(parents=True, exist_ok=True)
    return SQLiteStore(directory / DB_NAME)
