"""The inventory's SQLite store and the safe tarball extraction (docs/behaviour.md §8, §11)."""

from __future__ import annotations

import asyncio
import io
import os
import tarfile
from pathlib import Path

import pytest

from bot.inventory.archive import Pipe, PipeAborted, extract
from bot.state.store import FileRecord, Snapshot, open_store


def test_store_survives_a_reopen_and_prunes_stale_blobs(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.put_results("o/r", "k", [("a.py", "1" * 40, FileRecord((("r", 3),))),
                                   ("b.py", "2" * 40, FileRecord(error=True)),
                                   ("c.py", "3" * 40, FileRecord(skipped=True))])
    store.put_snapshot("o/r", "k", Snapshot("f" * 40, {"a.py": "1" * 40, "b.py": "2" * 40,
                                                       "c.py": "3" * 40}))
    store.put_config("o/r", "f" * 40, "version: 1\n")
    store.close()
    again = open_store(tmp_path)
    files = {"a.py": "1" * 40, "b.py": "2" * 40, "c.py": "3" * 40}
    assert again.results("o/r", "k", files) == {
        "a.py": FileRecord((("r", 3),)), "b.py": FileRecord(error=True),
        "c.py": FileRecord(skipped=True)}
    assert again.results("o/r", "other-key", files) == {}
    assert again.results("o/r", "k", {"a.py": "9" * 40}) == {}  # another blob: not cached
    assert again.snapshot("o/r", "k") == Snapshot("f" * 40, files)
    assert again.config("o/r") == ("f" * 40, "version: 1\n")
    # a new snapshot drops what it no longer holds, and other keys of the repository
    again.put_results("o/r", "k2", [("a.py", "1" * 40, FileRecord())])
    again.put_snapshot("o/r", "k", Snapshot("e" * 40, {"a.py": "1" * 40}))
    assert again.results("o/r", "k", files) == {"a.py": FileRecord((("r", 3),))}
    assert again.results("o/r", "k2", files) == {}


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return raw.getvalue()


def _file(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


def _link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def test_extract_keeps_inside_the_folder_and_refuses_links(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(_tar([
        (_file("o-r-abc1234/pkg/ok.py"), b"x = 1\n"),
        (_file("o-r-abc1234/../../evil.py"), b"bad"),
        (_file("/abs/evil.py"), b"bad"),
        (_link("o-r-abc1234/pkg/link.py", "/etc/passwd", tarfile.SYMTYPE), None),
        (_link("o-r-abc1234/pkg/hard.py", "o-r-abc1234/pkg/ok.py", tarfile.LNKTYPE), None),
        (_file("o-r-abc1234/pkg/big.py"), b"y" * 100),
        (_file("o-r-abc1234/README.md"), b"# hi"),
    ]))
    got = extract(archive, tmp_path / "spool", wanted=lambda p: p.endswith(".py"),
                  max_file_bytes=50, max_files=10, max_total_bytes=1000)
    assert got.too_large is None
    assert set(got.files) == {"pkg/ok.py"}
    assert got.files["pkg/ok.py"] == "7d4290a117a4ddcc11daae7ea675841033830c8f"  # git's id
    assert set(got.large) == {"pkg/big.py"}
    assert got.read_many(["pkg/ok.py"]) == [("pkg/ok.py", b"x = 1\n")]
    # nothing is written under an archive's name: only the spool
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) \
        == ["a.tar.gz", "spool"]


def test_extract_keeps_many_files_in_one_spool_and_the_last_of_a_name(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(_tar([
        *((_file(f"o-r-1/d{n % 7}/f{n}.py"), f"n = {n}\n".encode()) for n in range(300)),
        (_file("o-r-1/d0/f0.py"), b"again = 1\n"),
    ]))
    got = extract(archive, tmp_path / "spool", wanted=lambda p: True, max_file_bytes=50,
                  max_files=1000, max_total_bytes=100_000)
    assert len(got.files) == 300
    read = dict(got.read_many(sorted(got.files, reverse=True)))
    assert read["d0/f0.py"] == b"again = 1\n" and read["d5/f299.py"] == b"n = 299\n"


def test_extract_stops_past_the_file_limit(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(_tar([(_file(f"o-r-1/f{n}.py"), b"x\n") for n in range(5)]))
    got = extract(archive, tmp_path / "spool", wanted=lambda p: True, max_file_bytes=50,
                  max_files=3, max_total_bytes=1000)
    assert got.too_large == "more than 3 files to check (`limits.max_inventory_files`)"


def _pieces(data: bytes, size: int = 1000) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


async def _feed(pipe: Pipe, data: bytes) -> bool:
    for piece in _pieces(data):
        if not await pipe.put(piece):
            return False
    await pipe.end()
    return True


async def test_extract_unpacks_while_the_download_goes_on(tmp_path: Path) -> None:
    data = _tar([(_file(f"o-r-1/p/f{n}.py"), f"n = {n}\n".encode() * 50) for n in range(200)])
    pipe = Pipe(capacity=2)  # a small pipe: the writer must wait for the reader often
    unpacking = asyncio.ensure_future(asyncio.to_thread(
        extract, pipe, tmp_path / "spool", wanted=lambda p: True, max_file_bytes=10_000,
        max_files=1000, max_total_bytes=10_000_000))
    assert await _feed(pipe, data)
    got = await unpacking
    assert len(got.files) == 200 and got.too_large is None
    assert dict(got.read_many(["p/f7.py"]))["p/f7.py"] == b"n = 7\n" * 50


async def test_a_reader_that_stops_early_stops_the_download(tmp_path: Path) -> None:
    # incompressible: the archive is far larger than the pipe holds
    data = _tar([(_file(f"o-r-1/f{n}.py"), os.urandom(2000)) for n in range(100)])
    pipe = Pipe(capacity=2)
    unpacking = asyncio.ensure_future(asyncio.to_thread(
        extract, pipe, tmp_path / "spool", wanted=lambda p: True, max_file_bytes=10_000,
        max_files=3, max_total_bytes=10_000_000))
    assert not await asyncio.wait_for(_feed(pipe, data), 10)  # told to stop, never stuck
    assert (await unpacking).too_large is not None


async def test_a_failed_download_ends_the_unpacking(tmp_path: Path) -> None:
    data = _tar([(_file(f"o-r-1/f{n}.py"), bytes(2000)) for n in range(100)])
    pipe = Pipe()
    unpacking = asyncio.ensure_future(asyncio.to_thread(
        extract, pipe, tmp_path / "spool", wanted=lambda p: True, max_file_bytes=10_000,
        max_files=1000, max_total_bytes=10_000_000))
    for piece in _pieces(data)[:3]:
        await pipe.put(piece)
    pipe.abort()
    with pytest.raises(PipeAborted):
        await asyncio.wait_for(unpacking, 10)


async def test_the_archive_index_is_built_in_a_worker_process(tmp_path: Path) -> None:
    """The service builds the inventory's re-export index in its pool (ast parsing a whole
    tree would hold the GIL, and the event loop, for seconds): same index as in process."""
    from bot.config.loader import load_config_text
    from bot.engine.pool import portable
    from bot.inventory.scan import archive_index
    from bot.service.context import Bot
    from bot.settings import Settings

    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(_tar([
        (_file("o-r-1/legacy/core.py"), b"class Legacy: ...\n"),
        (_file("o-r-1/shim.py"), b"from legacy.core import Legacy as Renamed\n"),
        (_file("o-r-1/user.py"), b"from shim import Renamed\n"),
    ]))
    got = extract(archive, tmp_path / "spool", wanted=lambda p: True, max_file_bytes=1000,
                  max_files=10, max_total_bytes=10_000)
    config = load_config_text(
        "version: 1\nrules:\n  - id: r\n    kind: banned-call\n    symbols: [legacy.core.Legacy]\n"
        "    message: m\n", "x.yml")
    expected = {"shim.Renamed": ("legacy.core.Legacy",), "user.Renamed": ("shim.Renamed",)}
    assert archive_index(got, config) == expected
    bot = Bot(Settings(webhook_secrets=("s",), workers=1))
    try:
        index = await bot.workers.in_worker(archive_index, got, portable(config), budget=60)
        assert index == expected
        assert await bot.workers.in_worker(os.getpid, budget=60) != os.getpid()
    finally:
        await bot.stop()
