"""A repository archive (GitHub's gzip tarball) unpacked safely (docs/behaviour.md §8, §11).

Streamed member by member (``r|gz``), never all in memory; only regular files the rules look at
are written, below ``dest`` only: absolute names, ``..``, links and devices are refused by
tarfile's ``data`` filter and by our own checks. Size limits are judged by the tar headers,
never by decoding: a file over ``max_file_bytes`` is hashed (to know when it changes) but not
written; past ``max_files`` files or ``max_total_bytes`` the extraction stops.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CHUNK = 1 << 16


@dataclass
class Extracted:
    root: Path
    files: dict[str, str] = field(default_factory=dict)  # path -> blob sha (written)
    large: dict[str, str] = field(default_factory=dict)  # path -> blob sha (over the limit)
    too_large: str | None = None  # why extraction stopped


def _relative(name: str) -> str | None:
    """The member's path below GitHub's top folder ``<owner>-<repo>-<sha>/``, or None."""
    parts = name.replace("\\", "/").split("/")
    rest = [p for p in parts[1:] if p not in ("", ".")]
    if not rest or name.startswith("/") or any(p == ".." for p in rest):
        return None
    return "/".join(rest)


def extract(
    archive: Path,
    dest: Path,
    *,
    wanted: Callable[[str], bool],
    max_file_bytes: int,
    max_files: int,
    max_total_bytes: int,
) -> Extracted:
    """Unpack the files of ``archive`` whose path ``wanted`` accepts into ``dest``."""
    out = Extracted(dest)
    total = 0
    base = os.path.realpath(dest)
    with tarfile.open(archive, mode="r|gz") as tar:
        for member in tar:
            if not member.isreg():
                continue  # folders are implied; links, devices and fifos are never followed
            rel = _relative(member.name)
            if rel is None or not wanted(rel):
                continue
            try:
                member = tarfile.data_filter(member, base)
            except tarfile.FilterError:
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
                out.large[rel] = digest.hexdigest()
                continue
            total += member.size
            if total > max_total_bytes:
                out.too_large = (f"more than {max_total_bytes // (1 << 20):,} MiB of files to "
                                 "check")
                break
            target = os.path.realpath(os.path.join(base, rel))
            if not target.startswith(base + os.sep):
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as sink:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    sink.write(chunk)
            out.files[rel] = digest.hexdigest()
    return out
