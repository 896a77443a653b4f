"""Module reads for the re-export index (bot.usecases.modules.reexport_config): a module's
bytes count against ``limits.max_total_bytes`` with the checked files', whether it is fetched
or found in the cache (issue 18 item 1)."""

from __future__ import annotations

from bot.config.loader import load_config_text
from bot.github.client import Tree, TreeEntry
from bot.usecases.modules import BlobCache, reexport_config

CONFIG = """\
version: 1
rules:
  - id: no-legacy
    kind: banned-import
    symbols: [pkg.core.Legacy]
    message: use pkg.core.Thing
limits:
  max_total_bytes: {total}
"""
SHIM = "from pkg.core import Legacy as Old\n" + "# padding\n" * 40  # 435 bytes
USER = b"from pkg.shim import Old\n"


def _tree() -> Tree:
    files = {"pkg/__init__.py": "", "pkg/core.py": "class Legacy: ...\n", "pkg/shim.py": SHIM,
             "user.py": USER.decode()}
    return Tree("head", {p: TreeEntry(p, f"sha-{p}", len(t)) for p, t in files.items()}, False)


async def _reads(total: int, cache: BlobCache) -> tuple[list[str], int, int]:
    fetched: list[str] = []

    async def fetch(shas: list[str]) -> list[bytes]:
        fetched.extend(shas)
        return [SHIM.encode() if s == "sha-pkg/shim.py" else b"" for s in shas]

    config = load_config_text(CONFIG.format(total=total), "ssot.yml")
    _, reads = await reexport_config(config, _tree(), [("user.py", USER)], fetch, cache)
    return fetched, reads.cached, reads.over_total


async def test_a_cached_module_counts_against_max_total_bytes_as_a_fetched_one_does() -> None:
    cache = BlobCache()
    fetched, cached, over = await _reads(10_000, cache)
    assert fetched == ["sha-pkg/shim.py"] and cached == 0 and over == 0
    # the same text, now in the cache: read from it while it fits ...
    fetched, cached, over = await _reads(10_000, cache)
    assert fetched == [] and cached == 1 and over == 0
    # ... and not read at all, cache or no cache, once it would pass the total
    fetched, cached, over = await _reads(len(USER) + 100, cache)
    assert fetched == [] and cached == 0 and over == 1
