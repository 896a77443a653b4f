"""A state store that cannot wedge the bot (docs/behaviour.md §13): corrupt, locked or full,
the analysis completes without it (logged at ERROR) and the store recovers by itself once the
fault clears; its files are the owner's only; configurations over the size limit are never
stored; uninstalling the App deletes what it held. Through the real service and the emulator
where the bot's behaviour is at stake, on the store itself where only the store is."""

from __future__ import annotations

import copy
import json
import logging
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from bot.state.store import DB_NAME, MAX_CONFIG_BYTES, FileRecord, Snapshot, open_store
from tests.integration.harness import DATA, INSTALLATION, REPO, Harness, running
from tests.integration.test_inventory import config, push

ROWS = [("a.py", "1" * 40, FileRecord((("r", 3),)))]
FILES = {"a.py": "1" * 40}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _locked(store_dir: Path) -> sqlite3.Connection:
    """Another process holds the store's file, readers shut out too (closing frees it)."""
    other = sqlite3.connect(store_dir / DB_NAME, isolation_level=None)
    other.execute("PRAGMA locking_mode=EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    other.execute("CREATE TABLE IF NOT EXISTS elsewhere (x)")
    return other


def _corrupt(store_dir: Path) -> None:
    for side in store_dir.glob(f"{DB_NAME}-*"):
        side.unlink()
    (store_dir / DB_NAME).write_bytes(b"this is not a database" * 1000)


def _filled(store_dir: Path) -> None:
    store = open_store(store_dir)
    store.put_results("o/r", "k", ROWS)
    store.put_snapshot("o/r", "k", Snapshot("f" * 40, FILES))
    store.close()


# ------------------------------------------------------------------------------ the store alone


def test_store_files_are_the_owners_only(tmp_path: Path) -> None:
    state = tmp_path / "state"
    store = open_store(state)
    store.put_results("o/r", "k", ROWS)
    assert _mode(state) == 0o700
    created = sorted(p.name for p in state.iterdir())
    assert DB_NAME in created
    for name in created:  # the database and SQLite's -wal / -shm beside it
        assert _mode(state / name) == 0o600, name
    store.close()
    # an existing store opened with looser modes is tightened
    state.chmod(0o755)
    (state / DB_NAME).chmod(0o644)
    open_store(state).close()
    assert _mode(state) == 0o700 and _mode(state / DB_NAME) == 0o600


def test_a_failed_write_rolls_back_and_the_store_recovers_when_space_returns(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = open_store(tmp_path)
    store.put_results("o/r", "k", ROWS)
    db = store._db
    assert db is not None
    # the disk is full: SQLite cannot grow the file past its current pages
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count={pages}")
    big = [(f"f{n}.py", f"{n:040d}", FileRecord((("r", n),))) for n in range(5000)]
    with caplog.at_level(logging.ERROR, logger="bot.state.store"):
        store.put_results("o/r", "k", big)  # fails: no exception reaches the caller
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    assert store.failures == 1
    assert store._db is not db  # rolled back and closed: never left inside a transaction
    # the next call opens the file again: the write that failed left nothing half-done
    assert store.results("o/r", "k", FILES) == {"a.py": ROWS[0][2]}
    store.put_results("o/r", "k", big)
    assert len(store.results("o/r", "k", {p: s for p, s, _ in big})) == 5000
    assert store.failures == 1


def test_a_locked_store_answers_empty_then_recovers_when_the_lock_goes(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bot.state.store.BUSY_TIMEOUT", 0.1)
    _filled(tmp_path)
    other = _locked(tmp_path)
    with caplog.at_level(logging.ERROR, logger="bot.state.store"):
        store = open_store(tmp_path)
        assert store.results("o/r", "k", FILES) == {}  # waits 0.1 s, then answers empty
        store.put_config("o/r", "e" * 40, "version: 1\n")
    assert caplog.records and all(r.levelname == "ERROR" for r in caplog.records)
    other.close()
    assert store.results("o/r", "k", FILES) == {"a.py": ROWS[0][2]}
    store.put_config("o/r", "e" * 40, "version: 1\n")
    assert store.config("o/r") == ("e" * 40, "version: 1\n")


def test_a_corrupt_store_is_set_aside_and_a_new_one_started(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _filled(tmp_path)
    _corrupt(tmp_path)
    with caplog.at_level(logging.ERROR, logger="bot.state.store"):
        store = open_store(tmp_path)
        assert store.snapshot("o/r", "k") is None
    assert any("set aside" in r.getMessage() for r in caplog.records)
    assert list(tmp_path.glob(f"{DB_NAME}.corrupt-*"))
    store.put_results("o/r", "k", ROWS)  # a fresh file
    assert store.results("o/r", "k", FILES) == {"a.py": ROWS[0][2]}


def test_a_configuration_over_the_limit_is_never_stored(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.put_config("o/r", "e" * 40, "#" * (MAX_CONFIG_BYTES + 1))
    assert store.config("o/r") == ("e" * 40, None)


# ----------------------------------------------------------------- through the service


async def _inventory_pr(h: Harness, tmp_path: Path) -> None:
    """A repository that keeps an inventory (so the PR's check reads the store)."""
    h.bot.store = open_store(tmp_path)
    issue = h.emu.create_issue(REPO, "SSOT", "Tracking\n")
    await push(h, {".github/ssot.yml": config(issue)})


@pytest.mark.parametrize("fault", ["corrupt", "locked"])
async def test_store_fault_never_leaves_a_check_in_progress_and_the_store_recovers(
        tmp_path: Path, fault: str, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.state.store.BUSY_TIMEOUT", 0.1)
    async with running() as h:
        await _inventory_pr(h, tmp_path)
        h.bot.store.close()  # type: ignore[attr-defined]
        other = None
        if fault == "corrupt":
            _corrupt(tmp_path)
        else:
            other = _locked(tmp_path)
        h.bot.store = open_store(tmp_path)
        with caplog.at_level(logging.ERROR):
            number = await h.open_pr({"netra_backend/app/agents/x.py": "x = 1\n"})
        (run,) = h.emu.check_runs(REPO)
        assert run.status == "completed" and run.conclusion == "success"
        assert any(r.levelname == "ERROR" and r.name == "bot.state.store"
                   for r in caplog.records)
        if other is not None:
            other.close()
        # the fault is gone: the next push is stored again, without a restart
        await push(h, {"netra_backend/app/agents/y.py": "y = 1\n"})
        assert h.bot.store.snapshot is not None
        await h.push(number, {"netra_backend/app/agents/x.py": "x = 2\n"})
        assert all(r.status == "completed" for r in h.emu.check_runs(REPO))
        assert h.bot.store.config(REPO.lower()) is not None


# ------------------------------------------------------------------ purge on uninstall


def _real(name: str, full_name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "webhooks" / f"{name}.json").read_text("utf-8"))
    data = copy.deepcopy(data)
    data["installation"]["id"] = INSTALLATION
    key = "repositories" if name.startswith("installation.") else "repositories_removed"
    data[key][0].update(full_name=full_name, name=full_name.split("/")[1])
    return data


@pytest.mark.parametrize("event", ["installation.deleted",
                                   "installation_repositories.removed"])
async def test_uninstalling_deletes_what_the_store_holds(tmp_path: Path, event: str) -> None:
    async with running() as h:
        await _inventory_pr(h, tmp_path)
        store = h.bot.store
        name = REPO.lower()
        assert store.config(name) is not None
        store.put_results("other/repo", "k", ROWS)
        kind = event.split(".")[0]
        status = await h.send(kind, _real(event, REPO))
        assert status == 202
        assert store.config(name) is None
        assert store.results(name, "k", FILES) == {}
        snapshot = store.snapshot  # every analysis key of the repository is gone
        assert all(snapshot(name, key) is None for key in ("k",))
        assert store.results("other/repo", "k", FILES) != {}  # others' rows stay
