"""A repository archive (GitHub's gzip tarball) unpacked safely (docs/behaviour.md §8, §11).

Streamed member by member (``r|gz``), never all in memory, and unpacked while it downloads: the
event loop hands each downloaded piece to the unpacking thread through a bounded :class:`Pipe`
(GitHub's codeload streams the archive as it makes it). Only regular files the rules look at
are kept, and none of them is written under its own name: their bytes go one after another into
one spool file, found again by offset (:meth:`Extracted.read_many`). So no name in the archive
(absolute, ``..``, a link, a device) can place anything anywhere, and creating 10,000 files one
by one is not paid for (it was 6 of the 7.6 s that unpacking a 10,000-file tree took here).
Names are still checked (absolute names and ``..`` skipped; links, devices, fifos and sparse
files never followed). Size limits are judged by the tar headers, never by decoding: a file over
``max_file_bytes`` is hashed (to know when it changes) but not kept; past ``max_files`` files or
``max_total_bytes`` the extraction stops.

Bounded whatever the archive holds (docs/behaviour.md §13): at most ``max_files`` members are
read in all (folders and skipped files count), at most :data:`MAX_UNPACKED_BYTES` unpacked in
all (what is skipped is unpacked too, to reach the next header), and an archive header (a long
name, pax or GNU extension record, which ``tarfile`` reads whole into memory) over
:data:`MAX_HEADER_BYTES` stops the reading. ``tarfile``'s list of the members read is emptied as
it goes (it kept every header: 142 MiB for a 300,000-member archive of 1.4 MB).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import queue
import tarfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 16
MAX_UNPACKED_BYTES = 2 << 30  # every member's bytes, kept or not
MAX_HEADER_BYTES = 1 << 20  # one extended header (long name, pax record)
# header records tarfile reads whole into memory before the member they describe
_EXTENDED = frozenset({tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE,
                       tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_SPARSE})
PIPE_PIECES = 32  # pieces (of up to 64 KiB as downloaded) waiting for the unpacking thread
_POLL = 0.1


class PipeAborted(Exception):
    """The download ended in an error: the unpacking stops."""


class Pipe:
    """Bytes from the event loop (the download) to one reading thread (tarfile), bounded.

    The writer awaits :meth:`put` (False once the reader is done: stop downloading) and calls
    :meth:`end` or :meth:`abort`; the reader reads like a file and calls :meth:`close_reader`
    when it stops, so a writer never waits on a reader that is gone."""

    def __init__(self, capacity: int = PIPE_PIECES) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(capacity)
        self._rest = b""
        self._eof = False
        self._reader_gone = threading.Event()
        self._aborted = threading.Event()

    async def put(self, piece: bytes) -> bool:
        if not piece:
            return not self._reader_gone.is_set()
        try:
            self._queue.put_nowait(piece)
        except queue.Full:  # the reader is behind: wait for room off the event loop
            return await asyncio.to_thread(self._put_waiting, piece)
        return not self._reader_gone.is_set()

    async def end(self) -> None:
        """The download is complete."""
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            await asyncio.to_thread(self._put_waiting, None)

    def abort(self) -> None:
        """The download failed: the reader gets :class:`PipeAborted` (never blocks)."""
        self._aborted.set()

    def _put_waiting(self, piece: bytes | None) -> bool:
        while not (self._reader_gone.is_set() or self._aborted.is_set()):
            try:
                self._queue.put(piece, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    # the reading thread ------------------------------------------------------------------
    def read(self, size: int = -1) -> bytes:
        while not self._rest:
            if self._eof:
                return b""
            if self._aborted.is_set():
                raise PipeAborted("the archive's download failed")
            try:
                piece = self._queue.get(timeout=_POLL)
            except queue.Empty:
                continue
            if piece is None:
                self._eof = True
                return b""
            self._rest = piece
        if size < 0 or size >= len(self._rest):
            out, self._rest = self._rest, b""
        else:
            out, self._rest = self._rest[:size], self._rest[size:]
        return out

    def close_reader(self) -> None:
        self._reader_gone.set()
        while True:  # free a writer waiting for room
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return


@dataclass
class Extracted:
    spool: Path  # the kept files' bytes, back to back
    files: dict[str, str] = field(default_factory=dict)  # path -> blob sha (kept)
    large: dict[str, str] = field(default_factory=dict)  # path -> blob sha (over the limit)
    too_large: str | None = None  # why extraction stopped
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (offset, size)

    def each(self, paths: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """``(path, bytes)`` of kept files, one at a time, in the order given."""
        with self.spool.open("rb") as spool:
            for path in paths:
                offset, size = self.spans[path]
                spool.seek(offset)
                yield path, spool.read(size)

    def read_many(self, paths: Iterable[str]) -> list[tuple[str, bytes]]:
        return list(self.each(paths))


class ArchiveRefused(Exception):
    """The archive breaks a bound no honest repository archive needs (a huge header)."""


class _BoundedInfo(tarfile.TarInfo):
    """A tar header that refuses an extended header record over :data:`MAX_HEADER_BYTES`
    before ``tarfile`` reads it into memory."""

    def _proc_member(self, tarfile: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _EXTENDED and self.size > MAX_HEADER_BYTES:
            raise ArchiveRefused(f"an archive header over {MAX_HEADER_BYTES >> 20} MiB")
        return super()._proc_member(tarfile)  # type: ignore[misc,no-any-return]


def _relative(name: str) -> str | None:
    """The member's path below GitHub's top folder ``<owner>-<repo>-<sha>/``, or None."""
    parts = name.replace("\\", "/").split("/")
    rest = [p for p in parts[1:] if p not in ("", ".")]
    if not rest or name.startswith("/") or any(p == ".." for p in rest):
        return None
    return "/".join(rest)


def extract(
    archive: Path | BinaryIO | Pipe,
    spool: Path,
    *,
    wanted: Callable[[str], bool],
    max_file_bytes: int,
    max_files: int,
    max_total_bytes: int,
) -> Extracted:
    """Keep the files of ``archive`` (a file, or a :class:`Pipe` it is read from; closed as
    a reader when done) whose path ``wanted`` accepts, in the new file ``spool``."""
    try:
        return _extract(archive, spool, wanted, max_file_bytes, max_files, max_total_bytes)
    finally:
        if isinstance(archive, Pipe):
            archive.close_reader()


def _extract(archive: Path | BinaryIO | Pipe, spool: Path, wanted: Callable[[str], bool],
             max_file_bytes: int, max_files: int, max_total_bytes: int) -> Extracted:
    out = Extracted(spool)
    try:
        _read(out, archive, wanted, max_file_bytes, max_files, max_total_bytes)
    except ArchiveRefused as exc:
        out.too_large = str(exc)
    except RecursionError:  # extended headers chained without end
        out.too_large = "too many chained archive headers"
    return out


def _read(out: Extracted, archive: Path | BinaryIO | Pipe, wanted: Callable[[str], bool],
          max_file_bytes: int, max_files: int, max_total_bytes: int) -> None:
    spool = out.spool
    total = unpacked = members = 0
    with contextlib.ExitStack() as stack:
        source = stack.enter_context(archive.open("rb")) if isinstance(archive, Path) else archive
        # stream mode only ever calls read()
        tar = stack.enter_context(tarfile.open(  # type: ignore[call-overload]
            fileobj=source, mode="r|gz", tarinfo=_BoundedInfo))
        sink = stack.enter_context(spool.open("xb"))
        while (member := tar.next()) is not None:
            tar.members.clear()  # tarfile would keep every header read
            members += 1
            if members > max_files:
                what = ("files to check" if len(out.files) + len(out.large) >= max_files
                        else "archive members")
                out.too_large = f"more than {max_files:,} {what} (`limits.max_inventory_files`)"
                break
            unpacked += max(0, member.size)
            if unpacked > MAX_UNPACKED_BYTES:
                out.too_large = f"more than {MAX_UNPACKED_BYTES >> 30} GiB unpacked"
                break
            if not member.isreg() or member.issparse():
                continue  # folders are implied; links, devices, fifos, sparse: never followed
            rel = _relative(member.name)
            if rel is None or not wanted(rel):
                continue
            if len(out.files) + len(out.large) >= max_files:
                out.too_large = (f"more than {max_files:,} files to check "
                                 "(`limits.max_inventory_files`)")
                break
            source = tar.extractfile(member)
            if source is None:
                continue
            digest = hashlib.sha1(b"blob %d\0" % member.size, usedforsecurity=False)
            if member.size > max_file_bytes:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                out.files.pop(rel, None)  # a name given twice: the last one counts, as in tar
                out.spans.pop(rel, None)
                out.large[rel] = digest.hexdigest()
                continue
            total += member.size
            if total > max_total_bytes:
                out.too_large = (f"more than {max_total_bytes // (1 << 20):,} MiB of files to "
                                 "check")
                break
            offset = sink.tell()
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                sink.write(chunk)
            out.large.pop(rel, None)
            out.spans[rel] = (offset, sink.tell() - offset)
            out.files[rel] = digest.hexdigest()
