"""The inventory's input bounds and deadline (docs/behaviour.md §13), through the real service
and the emulator where the bot's requests and the issue's block are at stake, on the archive
reader itself for the hostile archives (built in memory, as GitHub would stream them)."""

from __future__ import annotations

import gzip
import io
import tarfile
import tracemalloc
from pathlib import Path

import pytest

from bot.inventory.archive import MAX_HEADER_BYTES, extract
from bot.inventory.block import END, START
from bot.inventory.messages import INCOMPLETE
from tests.integration.harness import REPO, Harness, running
from tests.integration.test_inventory import LEGACY, block_of, config, push, setup

AGENTS = "netra_backend/app/agents"


def _requests_since(h: Harness, since: int) -> list[str]:
    return [f"{r.method} {r.path}" for r in h.emu.requests[since:]
            if not r.path.endswith("/access_tokens")]


async def test_push_with_600_changed_files_takes_the_tarball_with_bounded_requests(
        tmp_path: Path) -> None:
    async with running() as h:
        issue, _ = await setup(h, tmp_path)
        since = len(h.emu.requests)
        changed = {f"{AGENTS}/gen/m{n}.py": f"x = {n}\n" for n in range(600)}
        head = await push(h, changed)
        made = _requests_since(h, since)
        assert not [r for r in made if "/contents/" in r or "/git/blobs/" in r]
        assert len([r for r in made if "/tarball/" in r]) == 1
        assert len(made) <= 12, made  # not 600: one archive, the config, the issue
        body = h.emu.issue(REPO, issue).body or ""
        assert f"at [`{head[:7]}`]" in body and INCOMPLETE not in body


async def test_compare_path_never_fetches_an_over_size_blob(tmp_path: Path) -> None:
    big = b"# " + b"x" * (2 << 20) + b"\n"  # 2 MiB, over the default max_file_bytes
    async with running() as h:
        issue, _ = await setup(h, tmp_path)
        # two commits the bot is not told about one by one: the next push starts from the
        # second, so the bot compares its last inventory (first) with the new head
        h.emu.commit(REPO, "main", {f"{AGENTS}/huge.py": big})
        middle = h.emu.repo(REPO).branches["main"]
        after = h.emu.commit(REPO, "main", {f"{AGENTS}/small.py": f"from {LEGACY} import "
                                            "WebSocketManager\n"})
        since = len(h.emu.requests)
        await h.send("push", h.emu.payload_push(REPO, middle, after))
        made = _requests_since(h, since)
        assert any("/compare/" in r for r in made) and not any("/tarball/" in r for r in made)
        huge_sha = h.emu.repo(REPO).commits[after].tree[f"{AGENTS}/huge.py"]
        assert not [r for r in made if huge_sha in r]  # judged by its size in the tree
        assert len([r for r in made if "/git/trees/" in r]) == 1
        body = h.emu.issue(REPO, issue).body or ""
        assert "**6 violations left**" in body  # the small file's import counted
        assert "1 file over `limits.max_file_bytes` skipped" in body


async def test_inventory_past_its_deadline_keeps_the_previous_figures_and_says_so(
        tmp_path: Path) -> None:
    # a file the rules look at whose parse keeps a worker busy for a minute
    slow = (f"from {LEGACY} import WebSocketManager\nx = " + " + ".join(["a"] * 20_000)
            + "\n")
    async with running(workers=1) as h:
        issue, _ = await setup(h, tmp_path)
        before = block_of(h.emu.issue(REPO, issue).body or "")
        assert "**5 violations left**" in before
        hurried = config(issue, "limits:\n  inventory_time_budget: 1\n").replace(
            "file_time_budget: 10", "file_time_budget: 60")
        await push(h, {".github/ssot.yml": hurried, f"{AGENTS}/slow.py": slow})
        block = block_of(h.emu.issue(REPO, issue).body or "")
        lines = block.split("\n")
        assert lines[0] == START and lines[1].startswith(
            f"{INCOMPLETE}it took longer than `limits.inventory_time_budget` (1 s)")
        assert "\n".join([lines[0], *lines[2:]]) == before  # the figures as they were
        assert block.endswith(END)

        # the next push goes on from the last complete inventory, not from nothing
        since = len(h.emu.requests)
        head = await push(h, {".github/ssot.yml": config(issue), f"{AGENTS}/slow.py": None})
        made = _requests_since(h, since)
        assert not any("/tarball/" in r for r in made), made
        body = h.emu.issue(REPO, issue).body or ""
        assert INCOMPLETE not in body and f"at [`{head[:7]}`]" in body
        assert "**5 violations left**" in body


async def test_index_that_cannot_be_built_keeps_the_figures(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with running() as h:
        issue, _ = await setup(h, tmp_path)
        before = block_of(h.emu.issue(REPO, issue).body or "")

        def worker_died(*args: object) -> object:  # fault injection: the index's worker
            raise MemoryError

        monkeypatch.setattr("bot.usecases.inventory.archive_index", worker_died)
        # a rule change: the next inventory reads the whole tree again, index included
        await push(h, {".github/ssot.yml": config(issue).replace(
            "netra_backend/app/agents/**", "netra_backend/**")})
        block = block_of(h.emu.issue(REPO, issue).body or "")
        lines = block.split("\n")
        assert lines[1] == f"{INCOMPLETE}the re-export index could not be built (MemoryError)"
        assert "\n".join([lines[0], *lines[2:]]) == before

        monkeypatch.undo()
        head = await push(h, {"README.md": "again\n"})
        body = h.emu.issue(REPO, issue).body or ""
        assert INCOMPLETE not in body and f"at [`{head[:7]}`]" in body


# --------------------------------------------------------------------- hostile archives


def _gz(raw: bytes) -> bytes:
    return gzip.compress(raw, compresslevel=1)


def _header(name: str, size: int = 0, kind: bytes = tarfile.REGTYPE) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type = size, kind
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def test_300000_member_archive_is_read_for_at_most_max_inventory_files_members(
        tmp_path: Path) -> None:
    one = _header("o-r-1/README.txt")  # 300,000 times the same empty member: ~1 MB of gzip
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(_gz(one * 300_000 + b"\0" * 1024))
    got = extract(archive, tmp_path / "spool", wanted=lambda p: p.endswith(".py"),
                  max_file_bytes=1 << 20, max_files=5_000, max_total_bytes=4 << 30)
    # read up to the limit (5,000 here, 50,000 by default), never to the archive's end
    assert got.too_large == "more than 5,000 archive members (`limits.max_inventory_files`)"


def test_archive_headers_are_not_kept_while_reading(tmp_path: Path) -> None:
    raw = b"".join(_header(f"o-r-1/d/f{n}.txt") for n in range(10_000))
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(_gz(raw + b"\0" * 1024))
    tracemalloc.start()
    got = extract(archive, tmp_path / "spool", wanted=lambda p: p.endswith(".py"),
                  max_file_bytes=1 << 20, max_files=50_000, max_total_bytes=4 << 30)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert got.too_large is None
    # tarfile kept every header read: 10.3 MiB at its peak for 20,000 (2.1 now)
    assert peak < 3 << 20, peak


def test_archive_header_over_1_mib_is_refused_before_it_is_read(tmp_path: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("o-r-1/a.py")
        info.pax_headers = {"comment": "x" * (MAX_HEADER_BYTES + 10)}
        tar.addfile(info, io.BytesIO(b""))
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(_gz(raw.getvalue()))
    got = extract(archive, tmp_path / "spool", wanted=lambda p: True, max_file_bytes=1 << 20,
                  max_files=10, max_total_bytes=1 << 30)
    assert got.too_large == "an archive header over 1 MiB" and not got.files


def test_sparse_and_special_members_are_skipped_and_2_gib_unpacked_stops(
        tmp_path: Path) -> None:
    body = b"import os\n"
    raw = (_header("o-r-1/sparse.py", kind=tarfile.GNUTYPE_SPARSE)
           + _header("o-r-1/fifo.py", kind=tarfile.FIFOTYPE)
           + _header("o-r-1/ok.py", len(body)) + body + b"\0" * (512 - len(body))
           # a member that says it is 3 GiB: refused by its header, its bytes never read
           + _header("o-r-1/huge.bin", 3 << 30) + b"\0" * 1024)
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(_gz(raw))
    got = extract(archive, tmp_path / "spool", wanted=lambda p: True, max_file_bytes=1 << 20,
                  max_files=10, max_total_bytes=8 << 30)
    assert set(got.files) == {"ok.py"}
    assert got.too_large == "more than 2 GiB unpacked"
