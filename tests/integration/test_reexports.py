"""Shims found in the repository (docs/behaviour.md §10), end to end: the CLI and the App
(service + emulator) report the same violations for the same tree, and the App reads only
the modules it needs, once, cached by blob sha across analyses."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from bot.cli import main as cli_main
from tests.integration.harness import REPO, running

CONFIG = """\
version: 1
paths: {include: ["app/**"]}
rules:
  - id: no-legacy-import
    kind: banned-import
    message: Import the new class.
    symbols: [legacy.core.Legacy]
    use: new.bridge.Bridge
  - id: no-legacy-call
    kind: banned-call
    message: Do not build Legacy.
    symbols: [legacy.core.Legacy]
  - id: no-legacy-annotation
    kind: banned-annotation
    message: Annotate with Bridge.
    symbols: [legacy.core.Legacy]
    use: new.bridge.Bridge
  - id: no-mixing
    kind: dual-pattern
    message: Legacy and Fine together.
    legacy: [legacy.core.Legacy]
    ssot: [legacy.core.Fine]
"""

# Five first-party packages, each a shim of another form; none re-exports through the
# canonical module by a star import, so reading the five is enough.
PACKAGES = {
    "pkg0/__init__.py": "from legacy.core import Legacy, Fine\n",
    "pkg1/__init__.py": "from legacy.core import Legacy as OldLegacy\n",
    "pkg2/__init__.py": (
        "try:\n    from pkg1 import OldLegacy as Thing\nexcept ImportError:\n"
        "    from pkg0 import Legacy as Thing\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg0 import Fine as Good\n"
    ),
    "pkg3/__init__.py": "from pkg0 import *\n",
    "pkg4/__init__.py": (
        "import pkg0 as _p\nAlias = _p.Legacy\nChain = Alias\nclass Legacy: ...\n"
    ),
}
BASE = {
    ".github/ssot.yml": CONFIG,
    "legacy/__init__.py": "",
    "legacy/core.py": (
        "__all__ = ['Legacy', 'Fine']\nclass Legacy: ...\nclass Fine: ...\nclass Hidden: ...\n"
    ),
    "new/bridge.py": "class Bridge: ...\n",
    **PACKAGES,
}
USES = [
    "from pkg0 import Legacy\nLegacy()\n",
    "from pkg1 import OldLegacy\ndef f(x: OldLegacy) -> None: ...\n",
    "from pkg2 import Thing, Good\nx: 'Thing | None' = None\nGood()\n",
    "from pkg3 import *\nLegacy()\nFine()\n",
    "from pkg4 import Alias, Chain, Legacy\nAlias()\nChain()\nLegacy()\n",
]
# ten files, two per package
PR = {f"app/f{n}.py": f"import os  # {n}\n{USES[n % 5]}" for n in range(10)}

# More forms, and the negatives: a definition under the name, a star import of a module whose
# __all__ leaves the name out, a cycle, what the banned name itself points to, a shim outside
# paths.include (tools/), a module imported whole.
MORE_BASE = {
    **BASE,
    "tools/shim.py": "from pkg1 import OldLegacy as ToolLegacy\n",
    "legacy/partial.py": "__all__ = ['Fine']\nfrom legacy.core import Legacy, Fine\n",
    "legacy/hidden.py": "from legacy.partial import *\n",
    "loop/a.py": "from loop.b import Legacy\n",
    "loop/b.py": "from loop.a import Legacy\n",
    "legacy/old.py": "from new.bridge import Bridge as Legacy\n",
    # a module re-exported whole, by a shim that does not name the class: not followed (the
    # index reads only modules that name a re-exported name), alike in the CLI and the App
    "mods/__init__.py": "from legacy import core as legacy_core\n",
}
MORE_PR = {
    "app/tools.py": "from tools.shim import ToolLegacy\nToolLegacy()\n",
    "app/hidden.py": "from legacy.hidden import *\nLegacy()\n",
    "app/loop.py": "from loop.a import Legacy\nLegacy()\n",
    "app/upstream.py": "from new.bridge import Bridge\nBridge()\n",
    "app/mods.py": "from mods import legacy_core\nlegacy_core.Legacy()\n",
    "app/star.py": "from pkg3 import *\n",
    "app/whole.py": "import pkg2\ndef f(x: pkg2.Thing): ...\n",
}


def cli_violations(tree: dict[str, str], root: Path) -> set[tuple[str, int, str]]:
    for path, text in tree.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cli_main(["check", "--root", str(root), "--format", "json", "-j", "0",
                  str(root / "app")])
    doc = json.loads(out.getvalue())
    assert doc["errors"] == []
    return {(v["path"], v["line"], v["rule"]) for v in doc["violations"]}


def app_violations(runs: list) -> set[tuple[str, int, str]]:  # type: ignore[type-arg]
    run = runs[-1]
    return {(a["path"], a["start_line"], a["title"].split()[0])
            for a in run.output["annotations"]}


async def test_cli_and_app_report_the_same_violations_through_shims(tmp_path: Path) -> None:
    tree = {**MORE_BASE, **PR, **MORE_PR}
    expected = cli_violations(tree, tmp_path)
    # every form is seen; the negatives stay silent
    assert ("app/f0.py", 2, "no-legacy-import") in expected
    assert ("app/f1.py", 3, "no-legacy-annotation") in expected
    assert ("app/f2.py", 3, "no-legacy-annotation") in expected
    assert ("app/f3.py", 3, "no-legacy-call") in expected
    assert ("app/f3.py", 3, "no-mixing") in expected
    assert ("app/f4.py", 2, "no-legacy-import") in expected
    assert ("app/f4.py", 3, "no-legacy-call") in expected and (
        "app/f4.py", 4, "no-legacy-call") in expected
    assert ("app/f4.py", 5, "no-legacy-call") not in expected  # pkg4 defines its own Legacy
    assert ("app/tools.py", 2, "no-legacy-call") in expected
    assert ("app/whole.py", 2, "no-legacy-annotation") in expected
    for silent in ("app/hidden.py", "app/loop.py", "app/upstream.py", "app/star.py"):
        assert not any(v[0] == silent for v in expected), silent
    async with running(MORE_BASE, workers=0) as h:
        await h.open_pr({**PR, **MORE_PR})
        assert app_violations(h.emu.check_runs(REPO)) == expected


async def test_app_reads_each_imported_module_once_then_from_its_cache() -> None:
    async with running(BASE, workers=0) as h:
        number = await h.open_pr(PR)
        first_trees = len(h.calls("GET", "/git/trees/"))
        reads = h.blob_reads()
        # the ten checked files in one GraphQL query, then the five packages in another
        assert first_trees == 1
        assert len(reads) == 10 + 5 == len(set(reads))
        assert len(h.calls("POST", "/graphql")) == 2 and not h.calls("GET", "/git/blobs/")
        run = h.emu.check_runs(REPO)[-1]
        assert "Re-exports: 5 modules read (0 from cache)." in run.output["summary"]
        assert len(app_violations(h.emu.check_runs(REPO))) >= 10

        before = len(h.emu.requests)
        await h.send("pull_request", h.emu.payload_pull_request(REPO, number, "synchronize"))
        again = h.emu.requests[before:]
        trees = [r for r in again if "/git/trees/" in r.path]
        assert len(trees) == 1
        assert h.blob_reads(before) == []  # unchanged: the texts come from the cache
        run = h.emu.check_runs(REPO)[-1]
        assert "Re-exports: 0 modules read (5 from cache)." in run.output["summary"]


async def test_app_stops_at_max_module_fetches() -> None:
    base = dict(BASE)
    base[".github/ssot.yml"] = CONFIG + "limits: {max_module_fetches: 2}\n"
    async with running(base, workers=0) as h:
        await h.open_pr(PR)
        assert len(h.blob_reads()) == 10 + 2
        summary = h.emu.check_runs(REPO)[-1].output["summary"]
        assert "Re-exports: 2 modules read (0 from cache)." in summary
        assert "3 more modules not read: past `limits.max_module_fetches`." in summary
