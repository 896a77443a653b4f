"""`ssot-bot demo` runs offline and shows the review at lines 46 and 98 and the Step 1 tick."""

from __future__ import annotations

import subprocess
import sys


def test_demo_plays_the_seed_story() -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "demo", "--no-color"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "failure - 3 new SSOT violations" in out
    assert "agent_instance_factory.py:46" in out
    assert "agent_instance_factory.py:98" in out
    # the fix needs more than the commented lines (contract §16): the command, not a suggestion
    assert "Fix with: `ssot-bot fix netra_backend/app/agents/supervisor/" in out
    assert "```suggestion" not in out
    assert "+        self._websocket_manager: Optional[AgentWebSocketBridge] = None" in out
    assert "reaction on the comment: eyes" in out
    assert "+- [x] **Step 1**: Discover and Plan Test" in out
    assert "-- [ ] **Step 1**: Discover and Plan Test" in out
    assert "Step 1 completed via #3" in out
    assert "<!-- ssot-bot:step-done pr=3 steps=1 -->" in out
    assert "every request matched GitHub's OpenAPI description" in out
    assert "\x1b[" not in out  # --no-color
