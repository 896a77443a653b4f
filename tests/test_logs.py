"""Log lines are JSON with the delivery's context, and never carry a token, a JWT or a key."""

from __future__ import annotations

import json
import logging

from bot import logs


def render(record_msg: str, **extra: object) -> dict[str, object]:
    record = logging.makeLogRecord({"msg": record_msg, "levelname": "INFO", "name": "t",
                                    **extra})
    return json.loads(logs.JsonFormatter().format(record))  # type: ignore[no-any-return]


def test_context_fields_are_on_every_line() -> None:
    token = logs.bind(delivery="d-1", event="pull_request", repo="o/r", pr=None)
    try:
        line = render("analysis finished", duration_ms=12.5)
    finally:
        logs.unbind(token)
    assert line["delivery"] == "d-1"
    assert line["event"] == "pull_request"
    assert line["duration_ms"] == 12.5
    assert "pr" not in line
    assert "delivery" not in render("after")


def test_secrets_are_scrubbed() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiI0MiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    pem = "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----"
    line = json.dumps(render(f"token ghs_abcdefghijklmnop1234 jwt {jwt} key {pem}",
                             headers={"Authorization": "token ghs_zzzzzzzzzzzz"}))
    assert "ghs_" not in line
    assert jwt not in line
    assert "BEGIN RSA" not in line
    assert "[redacted]" in line
