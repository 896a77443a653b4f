"""The embedded on-disk store of the inventory (docs/behaviour.md §11): per-file results cached
by blob sha, the last analysed snapshot of each repository, and the configuration read at it;
and the findings of pull request files reused across pushes, per installation (§14).

:class:`StateStore` is the interface; :class:`SQLiteStore` (the standard library's SQLite, one
file under ``SSOT_STATE_DIR``) implements it for one replica. Several replicas sharing work
would put another implementation behind the same Protocol. Methods are blocking: call them
from a thread, never on the event loop.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Concatenate, ParamSpec, Protocol, TypeVar, cast

DB_NAME = "ssot-state.sqlite3"
MAX_FINDINGS_PER_INSTALLATION = 200_000  # reusable file results kept per installation
MAX_CONFIG_BYTES = 1 << 20  # the bundled default's limits.max_file_bytes
log = logging.getLogger(__name__)
_T = TypeVar("_T")
_P = ParamSpec("_P")


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

    def put_config(self, repo: str, sha: str, text: str | None) -> None:
        """Remember the configuration read at ``sha`` (a text over :data:`MAX_CONFIG_BYTES`
        is never stored)."""
        ...

    def forget(self, repos: Iterable[str]) -> None:
        """Delete everything held for ``repos`` (the App was uninstalled from them)."""
        ...

    def findings(self, installation: int, keys: Sequence[str]) -> dict[str, str]:
        """The cached results of a pull request's files (docs/behaviour.md §14) under ``keys``
        (each names a file's path, blob sha, effective configuration and re-export facts), of
        ``installation`` only: key -> the serialised result, for the keys known."""
        ...

    def put_findings(self, installation: int, rows: Iterable[tuple[str, str]]) -> None:
        """Remember (key, serialised result) rows of ``installation``; past
        :data:`MAX_FINDINGS_PER_INSTALLATION` the least recently used go."""
        ...

    def forget_installation(self, installation: int) -> None:
        """Delete the findings held for ``installation`` (the App was uninstalled)."""
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


# SQLite's primary result codes that mean the file is not a database any more
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
BUSY_TIMEOUT = 2.0  # seconds a call waits for another process's lock before it gives up


def _guarded(default: Callable[[], object]) -> Callable[
        [Callable[Concatenate[SQLiteStore, sqlite3.Connection, _P], _T]],
        Callable[Concatenate[SQLiteStore, _P], _T]]:
    """Make a :class:`SQLiteStore` method safe to call whatever state the file is in: any
    SQLite or file-system error rolls back what the call began, is logged at ERROR, and the
    call returns ``default()`` (an empty answer: the caller goes on without the cache). The
    next call opens the file again, so the store recovers by itself once the fault clears
    (a lock released, space freed, a corrupt file set aside). The method receives the open
    connection after ``self``."""

    def wrap(method: Callable[Concatenate[SQLiteStore, sqlite3.Connection, _P], _T]
             ) -> Callable[Concatenate[SQLiteStore, _P], _T]:
        @functools.wraps(method)
        def guarded(self: SQLiteStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
            with self._lock:
                try:
                    return method(self, self._connection(), *args, **kwargs)
                except (sqlite3.Error, OSError) as exc:
                    self._failed(method.__name__, exc)
                    return cast(_T, default())
        return guarded
    return wrap


class SQLiteStore:
    """:class:`StateStore` in one SQLite file (WAL; one connection guarded by a lock).

    It never raises: every method is :func:`_guarded`, so a corrupt, locked or full store makes
    the bot forget, never stop (an analysis completes without what it could not read or
    store). A file SQLite reports corrupt is moved aside (``<name>.corrupt-<time>``) and a new
    one started. The file is the owner's only (0600, in a 0700 folder)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self.failures = 0  # calls that failed (tests, metrics)
        with self._lock:
            try:
                self._connection()
            except (sqlite3.Error, OSError) as exc:
                self._failed("open", exc)

    def _connection(self) -> sqlite3.Connection:
        """The open connection, (re)opened when the last call failed. Lock held."""
        if self._db is not None:
            return self._db
        memory = self.path == ":memory:"
        if not memory:
            _private_file(Path(self.path))
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                             timeout=BUSY_TIMEOUT)
        try:
            if not memory:
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
        except BaseException:
            db.close()
            raise
        self._db = db
        return db

    def _failed(self, what: str, exc: BaseException) -> None:
        """Lock held: roll back, log, and drop the connection (the next call reopens)."""
        self.failures += 1
        db, self._db = self._db, None
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                if db.in_transaction:
                    db.rollback()
            with contextlib.suppress(sqlite3.Error):
                db.close()
        corrupt = getattr(exc, "sqlite_errorcode", None) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
        log.error("state store: %s failed; going on without it", what, extra={
            "error": type(exc).__name__, "detail": str(exc)[:200], "corrupt": corrupt})
        if corrupt and self.path != ":memory:":
            self._set_aside()

    def _set_aside(self) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        for suffix in ("", "-wal", "-shm"):
            source = Path(self.path + suffix)
            with contextlib.suppress(OSError):
                if source.exists():
                    source.rename(source.with_name(f"{source.name}.corrupt-{stamp}"))
        log.error("state store: the corrupt file was set aside; a new one is started",
                  extra={"path": self.path})

    def close(self) -> None:
        with self._lock:
            db, self._db = self._db, None
            if db is not None:
                db.close()

    @_guarded(dict)
    def results(self, db: sqlite3.Connection, repo: str, key: str,
                files: Mapping[str, str]) -> dict[str, FileRecord]:
        rows = db.execute("SELECT path, sha, data FROM results WHERE repo = ? AND key = ?",
                          (repo, key)).fetchall()
        return {path: FileRecord.loads(data) for path, sha, data in rows
                if files.get(path) == sha}

    @_guarded(lambda: None)
    def put_results(self, db: sqlite3.Connection, repo: str, key: str,
                    rows: Iterable[tuple[str, str, FileRecord]]) -> None:
        data = [(repo, key, path, sha, record.dumps()) for path, sha, record in rows]
        with _transaction(db):
            db.executemany(
                "INSERT OR REPLACE INTO results (repo, key, path, sha, data) "
                "VALUES (?, ?, ?, ?, ?)", data)

    @_guarded(lambda: None)
    def snapshot(self, db: sqlite3.Connection, repo: str, key: str) -> Snapshot | None:
        row = db.execute(
            "SELECT sha, files, reexports FROM snapshots WHERE repo = ? AND key = ?",
            (repo, key)).fetchone()
        if row is None:
            return None
        return Snapshot(str(row[0]), {str(p): str(s) for p, s in json.loads(row[1]).items()},
                        {str(k): tuple(v) for k, v in json.loads(row[2]).items()})

    @_guarded(lambda: None)
    def put_snapshot(self, db: sqlite3.Connection, repo: str, key: str,
                     snapshot: Snapshot) -> None:
        files = dict(snapshot.files)
        with _transaction(db):
            db.execute(
                "INSERT OR REPLACE INTO snapshots (repo, key, sha, files, reexports) "
                "VALUES (?, ?, ?, ?, ?)",
                (repo, key, snapshot.sha, json.dumps(files, separators=(",", ":")),
                 json.dumps({k: list(v) for k, v in snapshot.index.items()})))
            stale = [(repo, key, path, sha) for path, sha in db.execute(
                "SELECT path, sha FROM results WHERE repo = ? AND key = ?", (repo, key))
                if files.get(path) != sha]
            db.executemany(
                "DELETE FROM results WHERE repo = ? AND key = ? AND path = ? AND sha = ?", stale)
            # results of other analyses (rules changed) of this repository are dead too
            db.execute("DELETE FROM results WHERE repo = ? AND key != ?", (repo, key))
            db.execute("DELETE FROM snapshots WHERE repo = ? AND key != ?", (repo, key))

    @_guarded(lambda: None)
    def config(self, db: sqlite3.Connection, repo: str) -> tuple[str, str | None] | None:
        row = db.execute("SELECT sha, text FROM configs WHERE repo = ?", (repo,)).fetchone()
        return None if row is None else (str(row[0]), None if row[1] is None else str(row[1]))

    @_guarded(lambda: None)
    def put_config(self, db: sqlite3.Connection, repo: str, sha: str,
                   text: str | None) -> None:
        if text is not None and len(text.encode("utf-8")) > MAX_CONFIG_BYTES:
            text = None  # never stored (docs/behaviour.md §13); callers check first
        db.execute("INSERT OR REPLACE INTO configs (repo, sha, text) VALUES (?, ?, ?)",
                   (repo, sha, text))

    @_guarded(dict)
    def findings(self, db: sqlite3.Connection, installation: int,
                 keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(keys), 500):  # SQLite's bound on parameters
            chunk = list(keys[start:start + 500])
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, data FROM findings WHERE installation = ? AND key IN ({marks})"  # noqa: S608 - placeholders only
            rows = db.execute(query, (installation, *chunk)).fetchall()
            found.update((str(k), str(d)) for k, d in rows)
        if found:
            now = time.time()
            with _transaction(db):
                db.executemany("UPDATE findings SET used = ? WHERE installation = ? AND key = ?",
                               [(now, installation, k) for k in found])
        return found

    @_guarded(lambda: None)
    def put_findings(self, db: sqlite3.Connection, installation: int,
                     rows: Iterable[tuple[str, str]]) -> None:
        now = time.time()
        data = [(installation, key, text, now) for key, text in rows]
        if not data:
            return
        with _transaction(db):
            db.executemany("INSERT OR REPLACE INTO findings (installation, key, data, used) "
                           "VALUES (?, ?, ?, ?)", data)
            db.execute(
                "DELETE FROM findings WHERE installation = ? AND key IN (SELECT key FROM "
                "findings WHERE installation = ? ORDER BY used DESC LIMIT -1 OFFSET ?)",
                (installation, installation, MAX_FINDINGS_PER_INSTALLATION))

    @_guarded(lambda: None)
    def forget_installation(self, db: sqlite3.Connection, installation: int) -> None:
        db.execute("DELETE FROM findings WHERE installation = ?", (installation,))

    @_guarded(lambda: None)
    def forget(self, db: sqlite3.Connection, repos: Iterable[str]) -> None:
        names = [(r.lower(),) for r in repos]
        with _transaction(db):
            for table in ("results", "snapshots", "configs"):
                db.executemany(f"DELETE FROM {table} WHERE repo = ?", names)  # noqa: S608


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN ... COMMIT, rolled back on any error (a failed write never leaves the connection
    inside a transaction)."""
    db.execute("BEGIN")
    try:
        yield
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.rollback()
        raise
    db.execute("COMMIT")


def _private_file(path: Path) -> None:
    """``path``'s folder 0700 and the file 0600, created so (never readable by others, not
    even for a moment) or tightened when they exist."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for suffix in ("", "-wal", "-shm"):  # SQLite gives its side files the database's mode
        with contextlib.suppress(FileNotFoundError):
            os.chmod(f"{path}{suffix}", 0o600)



def open_store(state_dir: str | Path) -> SQLiteStore:
    """The store in ``state_dir`` (created 0700 when missing; never raises: a store that
    cannot be opened now is opened again on its next use)."""
    return SQLiteStore(Path(state_dir) / DB_NAME)
