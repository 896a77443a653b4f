"""Pure parts of docs/behaviour.md §12: which of the bot's inline comments a new analysis marks
fixed and how; how fast the catch-up pass may spend an installation's rate limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import markers
from bot.engine.model import Violation
from bot.github.ratelimit import STOP, RateLimits, RateReading, pace
from bot.report.github import (
    comment_body,
    fixed_comment_body,
    plan_fixed,
)
from bot.settings import SettingsError, load_settings

SHA = "0123456789abcdef0123456789abcdef01234567"


def violation(fp: str, path: str = "a.py", line: int = 3) -> Violation:
    return Violation(rule="ws-legacy-import", kind="banned-import", severity="error", path=path,
                     line=line, column=1, end_line=line, end_column=5,
                     message="Use the bridge.", fingerprint=fp)


def comment(cid: int, fp: str, path: str = "a.py") -> dict[str, Any]:
    return {"id": cid, "path": path, "body": comment_body(violation(fp, path))}


def test_fixed_body_is_the_line_then_the_original_with_the_marker_state() -> None:
    original = comment_body(violation("abc123"))
    body = fixed_comment_body(original, SHA)
    assert body.split("\n", 2)[:2] == ["✅ Fixed in 0123456", ""]
    assert body.split("\n", 2)[2] == original.replace(
        "<!-- ssot-bot:fingerprint=abc123 -->", "<!-- ssot-bot:fingerprint=abc123 state=fixed -->")
    assert markers.fingerprints(body) == set()  # no longer "already commented"
    assert markers.fixed_fingerprints(body) == {"abc123"}
    assert markers.fixed_fingerprints(original) == set()


def test_plan_marks_only_gone_findings_in_checked_files() -> None:
    own = [comment(1, "gone"), comment(2, "here"), comment(3, "skipped", path="big.py"),
           {"id": 4, "path": "a.py", "body": "a reply without a marker"}]
    plan = plan_fixed(own, found={"here"}, checked_paths={"a.py"}, head_sha=SHA)
    assert [(e.id, set(e.fingerprints)) for e in plan.edits] == [(1, {"gone"})]
    assert plan.edits[0].body == fixed_comment_body(own[0]["body"], SHA)
    assert plan.open == {"here", "skipped"}  # a file not looked at is not fixed
    assert plan.fixed == 1


def test_plan_never_edits_twice_and_a_comeback_is_not_already_commented() -> None:
    fixed_before = {"id": 1, "path": "a.py",
                    "body": fixed_comment_body(comment_body(violation("fp")), SHA)}
    plan = plan_fixed([fixed_before], found=set(), checked_paths={"a.py"}, head_sha=SHA)
    assert plan.edits == () and plan.open == frozenset() and plan.fixed == 1
    back = plan_fixed([fixed_before], found={"fp"}, checked_paths={"a.py"}, head_sha=SHA)
    assert back.edits == () and "fp" not in back.open and back.fixed == 0
    # the fresh comment for the comeback is open; fixed again later, it is edited once more
    again = plan_fixed([fixed_before, comment(2, "fp")], found=set(), checked_paths={"a.py"},
                       head_sha=SHA)
    assert [e.id for e in again.edits] == [2] and again.fixed == 1


@pytest.mark.parametrize(("remaining", "reset_in", "cost", "expected"), [
    (5000, 3600, 1, 0.0),  # plenty
    (2500, 3600, 1, 0.0),  # half the limit left: no wait yet
    (1500, 100, 1, 0.1),  # 1000 above the 500 reserve, 100 s to the reset
    (1500, 100, 501, 0.2),  # an expensive step leaves 500 above the reserve
    (500, 10, 1, STOP),  # the reserve is for webhooks
    (40, 3600, 1, STOP),
    (600, 3600, 1, STOP),  # 36 s a request: over the 30 s cap, wait for a later pass
])
def test_pace(remaining: int, reset_in: float, cost: int, expected: float) -> None:
    now = 1_000_000.0
    got = pace(RateReading(5000, remaining, now + reset_in), now, cost=cost)
    assert got == pytest.approx(expected)


def test_pace_without_a_reading_or_after_the_reset_does_not_wait() -> None:
    assert pace(None, 10.0) == 0.0
    assert pace(RateReading(5000, 0, 5.0), 10.0) == 0.0
    assert pace(RateReading(200, 150, 100.0), 10.0) == 0.0  # small limits keep 100 in reserve
    assert pace(RateReading(200, 99, 100.0), 10.0) == STOP


def test_rate_limits_keep_the_latest_reading_per_installation_not_the_apps() -> None:
    limits = RateLimits(clock=lambda: 100.0)
    headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "600",
               "x-ratelimit-reset": "3700"}
    limits.observe("7", "https://api.github.com/repos/o/r/pulls", headers)
    limits.observe("7", "https://api.github.com/app/installations/7/access_tokens",
                   {**headers, "x-ratelimit-remaining": "4999"})
    limits.observe(None, "https://api.github.com/repos/o/r", headers)
    limits.observe("8", "https://api.github.com/repos/o/r", {"x-ratelimit-remaining": "x"})
    assert limits.reading("7") == RateReading(5000, 600, 3700.0)
    assert limits.reading("8") is None
    assert limits.delay("7") == STOP and limits.delay("8") == 0.0


def test_reconcile_minutes_setting(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()).decode()
    env = {"WEBHOOK_SECRET": "s", "APP_ID": "1", "PRIVATE_KEY": pem}
    assert load_settings(env, dotenv_path=None).reconcile_minutes == 30
    assert load_settings({**env, "SSOT_RECONCILE_MINUTES": "0"},
                         dotenv_path=None).reconcile_minutes == 0
    assert load_settings({**env, "SSOT_RECONCILE_MINUTES": "2.5"},
                         dotenv_path=None).reconcile_minutes == 2.5
    for bad in ("-1", "soon", "nan", "100000"):
        with pytest.raises(SettingsError, match="SSOT_RECONCILE_MINUTES"):
            load_settings({**env, "SSOT_RECONCILE_MINUTES": bad}, dotenv_path=None)


def test_an_installation_under_a_tenth_of_any_of_its_limits_waits_for_that_reset() -> None:
    limits = RateLimits(clock=lambda: 100.0)
    headers = {"x-ratelimit-limit": "5000", "x-ratelimit-reset": "160"}
    limits.observe("1", "/repos/o/r", {**headers, "x-ratelimit-remaining": "600"})
    assert limits.low_until("1") is None
    limits.observe("1", "/graphql", {**headers, "x-ratelimit-remaining": "150",
                                     "x-ratelimit-resource": "graphql"})
    assert limits.low_until("1") == 160.0
    assert limits.reading("1") == RateReading(5000, 600, 160.0)  # core only
    assert limits.low_until("2") is None  # another installation's bucket
    limits.clock = lambda: 200.0  # past the reset: the reading says nothing any more
    assert limits.low_until("1") is None
