"""The block's chart through Mermaid's own parser (docs/behaviour.md §11), when node and the
``mermaid`` npm package are installed (``.ci/run`` installs them into ``.ci/mermaid``; set
``SSOT_MERMAID_DIR`` to another install). Without them the grammar test in test_block.py stands.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.inventory.block import MAX_POINTS
from bot.inventory.messages import CHART_COLOR, MAX_DATE_LABELS, render_chart
from bot.inventory.model import Point

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
    out.push({ok: true, type: result.diagramType, config: result.config || {}});
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


def history_of(count: int) -> list[Point]:
    start = datetime.date(2026, 11, 1)
    return [Point((start + datetime.timedelta(days=n // 3)).isoformat(),
                  f"{n:07x}" + "0" * 33, 732 - n) for n in range(count)]


def test_the_chart_parses_as_an_xychart_at_1_2_15_and_200_points() -> None:
    assert render_chart(history_of(1)) == []  # one point draws no chart (and no empty one)
    counts = [2, 3, MAX_DATE_LABELS, MAX_DATE_LABELS + 1, 15, MAX_POINTS]
    charts = ["\n".join(render_chart(history_of(n))[1:-1]) for n in counts]
    broken = "xychart-beta\n    x-axis [a b\n"
    results = parse([*charts, broken])
    for count, result in zip(counts, results[:-1], strict=True):
        assert result["ok"] is True and result["type"] == "xychart", (count, result)
        # the init directive reached Mermaid: the line's colour is ours, not the pale default
        config = result["config"]
        assert isinstance(config, dict)
        assert config["themeVariables"]["xyChart"]["plotColorPalette"] == CHART_COLOR
    assert results[-1]["ok"] is False
