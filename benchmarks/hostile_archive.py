"""A hostile repository archive (docs/behaviour.md §13): 300,000 empty members that no rule
checks (``.txt``), ~2.3 MB of gzip.

    python benchmarks/hostile_archive.py [--members 300000] [--limit 50000]

Builds the archive once (cached under the system's temporary folder), then unpacks it with
:func:`bot.inventory.archive.extract` as the inventory does (the default paths, ``**/*.py``;
the default ``max_inventory_files`` as the limit) and prints the CPU time and the wall time of
the extraction, the growth of this process's peak resident memory over it, and why it
stopped. Run it with ``PYTHONPATH`` pointing at another checkout to measure that checkout's
code (the API is the same). Numbers only.
"""

from __future__ import annotations

import argparse
import io
import resource
import tarfile
import tempfile
import time
from pathlib import Path


def build(path: Path, members: int) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for n in range(members):
            info = tarfile.TarInfo(f"o-r-1/d{n % 100}/f{n}.txt")
            tar.addfile(info, io.BytesIO(b""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=300_000)
    parser.add_argument("--limit", type=int, default=50_000)
    args = parser.parse_args()
    archive = Path(tempfile.gettempdir()) / f"ssot-hostile-{args.members}-txt.tar.gz"
    if not archive.exists():
        build(archive, args.members)
    from bot.inventory.archive import extract

    with tempfile.TemporaryDirectory() as tmp:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu, wall = time.process_time(), time.perf_counter()
        got = extract(archive, Path(tmp) / "spool", wanted=lambda p: p.endswith(".py"),
                      max_file_bytes=1 << 20, max_files=args.limit, max_total_bytes=4 << 30)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss
    print(f"archive: {args.members:,} members, {archive.stat().st_size / 1e6:.2f} MB gzip")
    print(f"extract: cpu {cpu:.2f} s, wall {wall:.2f} s, peak memory +{grown / 1024:.1f} MiB, "
          f"files kept {len(got.files):,}, stopped: {got.too_large}")


if __name__ == "__main__":
    main()
