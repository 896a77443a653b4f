"""The webhook endpoint's answers (docs/behaviour.md §3), over real HTTP to the real aiohttp app."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.handlers import router
from bot.service.app import create_app
from bot.service.context import Bot
from bot.settings import Settings

SECRET = "s3cret"
PATH = "/api/github/webhooks"


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
async def client(aiohttp_client: Any) -> TestClient:
    settings = Settings(webhook_secrets=(SECRET, "next-secret"))
    return await aiohttp_client(create_app(Bot(settings), router))  # type: ignore[no-any-return]


def headers(body: bytes, event: str | None = "issues", delivery: str = "d-1",
            signature: str | None = None, ctype: str = "application/json") -> dict[str, str]:
    h = {"Content-Type": ctype, "X-GitHub-Delivery": delivery,
         "X-Hub-Signature-256": signature if signature is not None else sign(body)}
    if event:
        h["X-GitHub-Event"] = event
    return h


async def post(client: TestClient, body: bytes, **kw: Any) -> tuple[int, Any]:
    resp = await client.post(PATH, data=body, headers=headers(body, **kw))
    return resp.status, await resp.json()


async def test_ping_answers_200(client: TestClient) -> None:
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    status, answer = await post(client, body, event="ping")
    assert status == 200
    assert answer["zen"] == "Keep it logically awesome."


async def test_missing_or_wrong_signature_is_401(client: TestClient) -> None:
    body = b'{"action": "opened"}'
    assert (await post(client, body, signature=""))[0] == 401
    assert (await post(client, body, signature=sign(body, "wrong")))[0] == 401
    assert (await post(client, body, signature="sha1=" + "0" * 40))[0] == 401
    assert (await post(client, body, signature=sign(b"other body")))[0] == 401


async def test_any_configured_secret_is_accepted(client: TestClient) -> None:
    body = b'{"action": "opened"}'
    assert (await post(client, body, signature=sign(body, "next-secret")))[0] == 202


async def test_refusal_order_413_before_401_before_415_before_400(client: TestClient) -> None:
    big = b"x" * (25 * 1024 * 1024 + 1)
    assert (await post(client, big, signature="sha256=bad"))[0] == 413
    form = b"payload=%7B%7D"
    assert (await post(client, form, signature="bad", ctype="application/x-www-form-urlencoded")
            )[0] == 401
    assert (await post(client, form, ctype="application/x-www-form-urlencoded"))[0] == 415
    assert (await post(client, b"[1, 2]", event=None))[0] == 400
    assert (await post(client, b"[1, 2]"))[0] == 400
    assert (await post(client, b"{not json"))[0] == 400


async def test_redelivery_is_not_processed_again(client: TestClient) -> None:
    body = b'{"action": "labeled"}'
    assert (await post(client, body, event="issues", delivery="same"))[0] == 202
    status, answer = await post(client, body, event="issues", delivery="same")
    assert status == 202
    assert "duplicate" in answer["message"]


async def test_refused_delivery_id_is_not_remembered(client: TestClient) -> None:
    body = b'{"action": "labeled"}'
    assert (await post(client, body, delivery="retry-me", signature="sha256=0"))[0] == 401
    status, answer = await post(client, body, delivery="retry-me")
    assert status == 202
    assert "duplicate" not in answer["message"]


async def test_unrelated_event_is_accepted_and_ignored(client: TestClient) -> None:
    body = b'{"action": "starred"}'
    status, answer = await post(client, body, event="star", delivery="star-1")
    assert status == 202
    assert "nothing to do" in answer["message"]


async def test_healthz(client: TestClient) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    data = await resp.json()
    assert data["status"] == "ok"
    assert data["jobs"] == {"queued": 0, "running": 0}
