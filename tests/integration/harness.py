"""The real service and the GitHub emulator on loopback, wired as GitHub wires them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot import demo
from bot.github.retry import RetryPolicy
from bot.handlers import router
from bot.service.app import EndpointLimits, serving
from bot.service.context import Bot
from bot.settings import Settings
from ssot_emulator import OPENAPI_SUBSET, EmulatorServer, GitHubEmulator

DATA = Path(__file__).resolve().parent.parent / "data"
ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "netra-apex"
SECRET = "integration-secret"
INSTALLATION = 8080
REPO = "netra-systems/netra-apex"
FAST_RETRIES = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.05, max_wait=5.0,
                           secondary_default_wait=0.05)


def example_files() -> dict[str, bytes]:
    return demo.example_files(EXAMPLE)


def example_before() -> dict[str, bytes]:
    """The example before the regression: the factory uses only the bridge at lines 46 and 98."""
    files = example_files()
    files[demo.FACTORY] = demo.factory_before(files)
    return files


def example_regression() -> dict[str, str | bytes | None]:
    """The PR: lines 46 and 98 go back to the legacy WebSocketManager (the seed's state)."""
    return {demo.FACTORY: example_files()[demo.FACTORY]}


@dataclass
class Harness:
    emu: GitHubEmulator
    bot: Bot
    url: str

    async def send(self, event: str, payload: Mapping[str, Any], *,
                   delivery_id: str | None = None, settle: bool = True) -> int:
        status = await self.emu.deliver(self.url, SECRET, event, dict(payload),
                                        delivery_id=delivery_id)
        if settle:
            await self.bot.idle()
        return status

    async def open_pr(self, files: Mapping[str, str | bytes | None], *, branch: str = "feature",
                      body: str | None = None, user: str = "octocat", settle: bool = True,
                      title: str = "A change") -> int:
        self.emu.commit(REPO, branch, files)
        number = self.emu.open_pull_request(REPO, branch, title=title, body=body, user=user)
        await self.send("pull_request",
                        self.emu.payload_pull_request(REPO, number, "opened"), settle=settle)
        return number

    async def push(self, number: int, files: Mapping[str, str | bytes | None],
                   *, branch: str = "feature") -> None:
        self.emu.commit(REPO, branch, files)
        await self.send("pull_request",
                        self.emu.payload_pull_request(REPO, number, "synchronize"))

    async def slowest_health_answer(self, event: str, payload: Mapping[str, Any]) -> float:
        """Send ``event`` and, until the bot is idle, ask ``/healthz`` every 20 ms: the
        slowest answer, in seconds (the event loop stays free while the work goes on)."""
        base = self.url.rsplit("/api/", 1)[0]
        worst = 0.0
        async with aiohttp.ClientSession() as session:
            await self.send(event, payload, settle=False)
            idle = asyncio.ensure_future(self.bot.idle())
            while not idle.done():
                started = time.perf_counter()
                async with session.get(f"{base}/healthz") as resp:
                    assert resp.status == 200
                worst = max(worst, time.perf_counter() - started)
                await asyncio.sleep(0.02)
            await idle
        return worst

    async def health_from_outside(self, event: str, payload: Mapping[str, Any]) -> list[float]:
        """Send ``event`` and, until the bot is idle, have another process ask ``/healthz``
        every 20 ms (``tests/abuse/poller.py``): the answer times, in seconds. Measured from
        outside, a blocked event loop cannot hide (a poller on the loop waits with it)."""
        base = self.url.rsplit("/api/", 1)[0]
        poller = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.abuse.poller", f"{base}/healthz", cwd=ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        assert poller.stdin is not None and poller.stdout is not None
        try:
            assert (await poller.stdout.readline()).strip() == b"ready"
            await self.send(event, payload)
            poller.stdin.close()
            times: list[float] = json.loads(await poller.stdout.read())
        finally:
            if poller.returncode is None:
                poller.kill()
            await poller.wait()
        return times

    def blob_reads(self, since: int = 0) -> list[str]:
        """Every file content the bot read after request ``since``: GraphQL object
        expressions (``<sha>:<path>``) and oids, and REST blob shas, in order."""
        found: list[str] = []
        for r in self.emu.requests[since:]:
            if r.fault or r.status != 200:
                continue
            if r.method == "POST" and r.path == "/graphql":
                variables = (r.json or {}).get("variables") or {}
                found.extend(str(v) for k, v in variables.items() if k[0] in "eo"
                             and k[1:].isdigit())
            elif r.method == "GET" and "/git/blobs/" in r.path:
                found.append(r.path.rsplit("/", 1)[-1])
        return found

    def counted(self, since: int = 0) -> list[Any]:
        """Requests after ``since`` as GitHub counts them (docs §14): not the token exchange,
        not ``GET /app``, not a 304."""
        return [r for r in self.emu.requests[since:]
                if r.status != 304 and not r.path.endswith(("/access_tokens", "/app"))]

    def calls(self, method: str, path_fragment: str) -> list[Any]:
        return [r for r in self.emu.requests
                if r.method == method and path_fragment in r.path and not r.fault]


@contextlib.asynccontextmanager
async def _state_dir() -> AsyncIterator[str]:
    """A store of the test's own (results reused across pushes live there, docs §14)."""
    with tempfile.TemporaryDirectory(prefix="ssot-state-") as path:
        yield path


@contextlib.asynccontextmanager
async def running(files: Mapping[str, str | bytes] | None = None, *, workers: int | None = 0,
                  validate: bool = True, settings: Mapping[str, Any] | None = None,
                  limits: EndpointLimits | None = None) -> AsyncIterator[Harness]:
    """Emulator + service on loopback. On exit, no request the bot made may have failed the
    OpenAPI check. ``settings`` overrides :class:`Settings` fields, ``limits`` the endpoint's."""
    emu = GitHubEmulator(OPENAPI_SUBSET if validate else None)
    emu.validate_responses = validate
    emu.add_installation(INSTALLATION, REPO.split("/")[0])
    emu.add_repo(REPO, dict(example_files() if files is None else files),
                 installation_id=INSTALLATION)
    async with EmulatorServer(emu) as api_url, _state_dir() as state_dir:
        config = Settings(webhook_secrets=(SECRET,), app_id=str(emu.app_id),
                          private_key=emu.private_key_pem, api_url=api_url, workers=workers,
                          **{"state_dir": state_dir, **dict(settings or {})})
        bot = Bot(config, retry=FAST_RETRIES)
        async with serving(bot, router, limits=limits) as url:
            yield Harness(emu, bot, url)
            await bot.idle()
        assert emu.openapi_violations == [], emu.openapi_violations
        assert emu.graphql.violations == [], emu.graphql.violations
        if validate:
            assert emu.response_violations == [], emu.response_violations
