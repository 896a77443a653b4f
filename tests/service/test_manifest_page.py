"""The manifest flow's redirect page (bot/service/setup.py): the manifest's ``redirect_url`` is
served by the service, starts the flow without a code and completes it with one (GitHub's
``POST /app-manifests/{code}/conversions``, a stand-in server here), and what it shows is
what ``serve`` accepts."""

from __future__ import annotations

import base64
import html
import json
import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.handlers import router
from bot.manifest import MANIFEST_REDIRECT_PATH, build_manifest
from bot.service.app import create_app
from bot.service.context import Bot
from bot.service.setup import github_web_url
from bot.settings import Settings, load_settings

PEM = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
    serialization.NoEncryption()).decode()


@pytest.fixture
async def github(aiohttp_server: Any) -> tuple[TestServer, list[str]]:
    """GitHub's conversion endpoint: code ``good`` converts once, any other is unknown."""
    seen: list[str] = []

    async def convert(request: web.Request) -> web.Response:
        code = request.match_info["code"]
        seen.append(code)
        if code != "good" or seen.count(code) > 1:
            return web.json_response({"message": "Not Found"}, status=404)
        return web.json_response({
            "id": 424242, "slug": "ssot-bot-acme", "name": "ssot-bot (acme)",
            "html_url": "https://github.com/apps/ssot-bot-acme", "webhook_secret": "w3bh00k",
            "pem": PEM, "client_id": "Iv1.x", "client_secret": "never-shown",
        }, status=201)

    app = web.Application()
    app.router.add_post("/app-manifests/{code}/conversions", convert)
    return await aiohttp_server(app), seen


async def _client(aiohttp_client: Any, api_url: str) -> TestClient:
    settings = Settings(webhook_secrets=("s",), api_url=api_url)
    return await aiohttp_client(create_app(Bot(settings), router))  # type: ignore[no-any-return]


def test_the_manifest_sends_github_back_to_the_page() -> None:
    manifest = build_manifest("https://ssot.example.com/")
    assert manifest["redirect_url"] == "https://ssot.example.com" + MANIFEST_REDIRECT_PATH


async def test_without_a_code_the_page_starts_the_flow_for_this_service(
        aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client, "https://api.github.com")
    resp = await client.get(MANIFEST_REDIRECT_PATH, headers={"Host": "ssot.example.com",
                                                             "X-Forwarded-Proto": "https"})
    assert resp.status == 200
    page = await resp.text()
    assert 'action="https://github.com/settings/apps/new" method="post"' in page
    value = re.search(r'name="manifest" value="([^"]*)"', page)
    assert value is not None
    manifest = json.loads(html.unescape(value.group(1)))
    assert manifest["hook_attributes"]["url"] == "https://ssot.example.com/api/github/webhooks"
    assert manifest["redirect_url"] == "https://ssot.example.com" + MANIFEST_REDIRECT_PATH
    assert "push" in manifest["default_events"]


def test_github_enterprise_server_is_reached_on_its_own_host() -> None:
    assert github_web_url("https://ghe.example.com/api/v3/") == "https://ghe.example.com"
    assert github_web_url("https://api.github.com") == "https://github.com"


async def test_the_code_is_exchanged_and_the_settings_shown_work_for_serve(
        aiohttp_client: Any, github: tuple[TestServer, list[str]]) -> None:
    server, seen = github
    client = await _client(aiohttp_client, str(server.make_url("")))
    resp = await client.get(MANIFEST_REDIRECT_PATH, params={"code": "good"})
    assert resp.status == 200 and seen == ["good"]
    assert resp.headers["Cache-Control"] == "no-store"
    page = html.unescape(await resp.text())
    assert "ssot-bot (acme)" in page and "never-shown" not in page
    assert 'href="https://github.com/apps/ssot-bot-acme/installations/new"' in page
    block = re.search(r"<pre>(.*?)</pre>", page, re.S)
    assert block is not None
    env = dict(line.split("=", 1) for line in block.group(1).strip().splitlines())
    assert env["APP_ID"] == "424242" and env["WEBHOOK_SECRET"] == "w3bh00k"
    assert base64.b64decode(env["PRIVATE_KEY"]).decode() == PEM
    settings = load_settings(env, dotenv_path=None)
    assert settings.app_id == "424242" and settings.private_key == PEM
    # the code works once: reloading the page says so instead of showing anything
    again = await client.get(MANIFEST_REDIRECT_PATH, params={"code": "good"})
    assert again.status == 400 and "PRIVATE_KEY" not in await again.text()


async def test_a_malformed_code_is_refused_without_asking_github(
        aiohttp_client: Any, github: tuple[TestServer, list[str]]) -> None:
    server, seen = github
    client = await _client(aiohttp_client, str(server.make_url("")))
    resp = await client.get(MANIFEST_REDIRECT_PATH, params={"code": "../../app/installations"})
    assert resp.status == 400 and seen == []


async def test_a_hostile_host_header_is_not_echoed(aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client, "https://api.github.com")
    resp = await client.get(MANIFEST_REDIRECT_PATH, headers={"Host": 'x"><script>'})
    assert resp.status == 400
    assert "<script>" not in await resp.text()
