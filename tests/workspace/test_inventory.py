"""``ssot-bot inventory``: the block and its data for a local tree (docs/behaviour.md §11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.inventory.block import END, START

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "netra-apex"


def test_json_counts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inventory", str(EXAMPLE), "--format", "json", "-j", "0",
                 "--rules", "ws-legacy-*,ws-dual-pattern"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == 4
    assert data["rules"] == {"ws-legacy-import": 1, "ws-legacy-annotation": 2,
                             "ws-dual-pattern": 1}
    assert data["files"] == [{"path": "netra_backend/app/agents/supervisor/"
                                      "agent_instance_factory.py", "count": 4, "line": 46}]


def test_markdown_is_the_block(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n")
    assert main(["inventory", str(tmp_path), "-j", "0", "--rules", "ws-legacy-import",
                 "--config", str(EXAMPLE.parents[1] / "config" / "ssot.yml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(START) and out.rstrip("\n").endswith(END)
    assert "| `ws-legacy-import` | 0 |" in out  # a.py is outside the rule's paths


def test_unknown_rule_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inventory", str(EXAMPLE), "--rules", "nope"]) == 2
    assert "no rule matches 'nope'" in capsys.readouterr().err
