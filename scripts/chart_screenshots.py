"""Screenshots of the inventory block as GitHub shows it, in light and dark mode.

The block (docs/behaviour.md §11) is rendered to HTML (markdown-it, as CommonMark), styled with
GitHub's own Markdown CSS (``github-markdown-css``) and its Mermaid chart drawn by ``mermaid``'s
browser bundle with the theme GitHub uses for each mode (``default`` / ``dark``); headless
Chromium takes one PNG per history length and mode. Nothing here is part of the test suite.

    apt-get install -y chromium            # once, if missing
    npm install --prefix scripts/chart-screenshots
    python scripts/chart_screenshots.py [--out DIR] [--points 1,2,15,200]

Prints the PNG paths (default folder: scripts/chart-screenshots/out/).
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from markdown_it import MarkdownIt

from bot.inventory.block import MAX_POINTS, FileCount, Inventory, Point, render_block

HERE = Path(__file__).resolve().parent / "chart-screenshots"
MODULES = HERE / "node_modules"
BASE = "https://github.com/acme/platform"
# The width of an issue body's column on github.com at a 1280 px window (sidebar shown).
WIDTH, HEIGHT = 800, 1300

PAGE = """<!doctype html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="{css}">
<style>
  body {{ margin: 0; background: {page}; }}
  .markdown-body {{ box-sizing: border-box; width: {width}px; padding: 16px; }}
</style>
</head><body>
<article class="markdown-body">{html}</article>
<script src="{mermaid}"></script>
<script>
  for (const code of document.querySelectorAll("pre > code.language-mermaid")) {{
    const div = document.createElement("div");
    div.className = "mermaid";
    div.textContent = code.textContent;
    code.parentElement.replaceWith(div);
  }}
  mermaid.initialize({{startOnLoad: false, theme: "{theme}"}});
  mermaid.run().then(() => document.title = "drawn");
</script>
</body></html>
"""

MODES = {  # GitHub's page background and the Mermaid theme it uses in each colour mode
    "light": ("#ffffff", "default", "github-markdown-light.css"),
    "dark": ("#0d1117", "dark", "github-markdown-dark.css"),
}


def history(count: int) -> list[Point]:
    """``count`` pushes, about three a day, the total falling with a few steps back up."""
    start = datetime.date(2026, 9, 1)
    total = 640
    points = []
    for n in range(count):
        total = max(0, total - (n * 7) % 5 + (2 if n % 11 == 5 else 0))
        points.append(Point((start + datetime.timedelta(days=n // 3)).isoformat(),
                            f"{n + 1:07x}" + "0" * 33, total))
    return points


def block(count: int) -> str:
    points = history(count)
    last = points[-1]
    files = (
        FileCount("netra_backend/app/websocket_core/unified_manager_compatibility_layer.py",
                  41, 12),
        FileCount("netra_backend/app/agents/supervisor/agent_instance_factory.py", 17, 46),
        FileCount("tests/mission_critical/test_websocket_agent_events_suite_with_a_long_name.py",
                  9, 3),
    )
    inventory = Inventory(
        sha=last.sha, date=last.date, rules=("ws-legacy-import", "ws-legacy-annotation"),
        total=last.total, per_rule={"ws-legacy-import": last.total - last.total // 3,
                                    "ws-legacy-annotation": last.total // 3},
        top_files=files, files_with_violations=37, files_checked=9854)
    return render_block(inventory, points, html_base=BASE)


def shoot(chromium: str, html: Path, png: Path) -> None:
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--allow-file-access-from-files", "--virtual-time-budget=15000",
         f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={png}", html.as_uri()],
        check=True, capture_output=True, timeout=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--points", default=f"1,2,15,{MAX_POINTS}")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 2
    if not (MODULES / "mermaid").is_dir() or not (MODULES / "github-markdown-css").is_dir():
        print(f"run: npm install --prefix {HERE}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    markdown = MarkdownIt("commonmark", {"html": True}).enable("table")
    with tempfile.TemporaryDirectory() as tmp:
        for count in (int(n) for n in args.points.split(",")):
            html = markdown.render(block(count))
            for mode, (page, theme, css) in MODES.items():
                source = Path(tmp) / f"{count}-{mode}.html"
                source.write_text(PAGE.format(
                    css=(MODULES / "github-markdown-css" / css).as_uri(), page=page,
                    width=WIDTH, html=html, theme=theme,
                    mermaid=(MODULES / "mermaid" / "dist" / "mermaid.min.js").as_uri()),
                    "utf-8")
                png = args.out / f"inventory-{count}-points-{mode}.png"
                shoot(chromium, source, png)
                print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
