"""The block's chart through Mermaid's own parser (docs/behaviour.md §11), when node and the
``mermaid`` npm package are installed (``.ci/run`` installs them into ``.ci/mermaid``; set
``SSOT_MERMAID_DIR`` to another install). Without them the grammar test in test_block.py stands.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.inventory.block import MAX_POINTS, Point, render_chart

ROOT = Path(__file__).resolve().parents[2]
MERMAID_DIR = Path(os.environ.get("SSOT_MERMAID_DIR") or ROOT / ".ci" / "mermaid")
PARSE = """
import { JSDOM } from "jsdom";
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window; globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
let text = "";
for await (const chunk of process.stdin) text += chunk;
const out = [];
for (const chart of JSON.parse(text)) {
  try {
    const result = await mermaid.parse(chart);
    out.push({ok: true, type: result.diagramType});
  } catch (e) {
    out.push({ok: false, error: String(e.message || e)});
  }
}
console.log(JSON.stringify(out));
"""

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None
    or not (MERMAID_DIR / "node_modules" / "mermaid").is_dir()
    or not (MERMAID_DIR / "node_modules" / "jsdom").is_dir(),
    reason="node with the mermaid and jsdom npm packages is not installed")


def parse(charts: list[str]) -> list[dict[str, object]]:
    """Every chart through ``mermaid.parse`` in one node process."""
    done = subprocess.run(
        ["node", "--input-type=module", "-e", PARSE], input=json.dumps(charts),
        cwd=MERMAID_DIR, capture_output=True, text=True, timeout=300, check=False)
    result: list[dict[str, object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_chart_parses_as_an_xychart_and_a_broken_one_does_not() -> None:
    charts = []
    for totals in ([732], [5, 4, 4, 0], list(range(MAX_POINTS, 0, -1))):
        history = [Point("2026-11-30", f"{n:07x}" + "0" * 33, t) for n, t in enumerate(totals)]
        charts.append("\n".join(render_chart(history)[1:-1]))
    broken = "xychart-beta\n    x-axis [a b\n"
    results = parse([*charts, broken])
    assert results[:-1] == [{"ok": True, "type": "xychart"}] * len(charts)
    assert results[-1]["ok"] is False
