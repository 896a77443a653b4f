"""Several real ``ssot-bot serve`` processes sharing one PostgreSQL database, GitHub played by
the emulator in the test's process (every request checked against the OpenAPI description)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

from ssot_emulator import OPENAPI_SUBSET, EmulatorServer, GitHubEmulator
from tests.integration.harness import INSTALLATION, REPO, SECRET, example_files

ROOT = Path(__file__).resolve().parent.parent.parent
STARTUP = 90.0  # seconds a replica may take to answer /healthz on a loaded machine
DRAIN = 120.0  # seconds the queue may take to empty (a bound, not a measurement)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Replica:
    name: str
    role: str
    port: int
    proc: asyncio.subprocess.Process
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/api/github/webhooks"

    async def health(self) -> tuple[int, dict[str, Any]]:
        async with aiohttp.ClientSession() as session, \
                session.get(f"{self.base}/healthz") as resp:
            return resp.status, json.loads(await resp.read())

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(40):
                    await self.proc.wait()
            except TimeoutError:
                self.kill()
                await self.proc.wait()


@dataclass
class Cluster:
    emu: GitHubEmulator
    api_url: str
    database_url: str
    tmp: Path
    replicas: list[Replica] = field(default_factory=list)

    def env(self, database_url: str | None = None, **more: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SSOT_", "DATABASE"))}
        env.update({
            "APP_ID": str(self.emu.app_id), "PRIVATE_KEY": self.emu.private_key_pem,
            "WEBHOOK_SECRET": SECRET, "GITHUB_API_URL": self.api_url, "HOST": "127.0.0.1",
            "DATABASE_URL": database_url or self.database_url, "SSOT_WORKERS": "0",
            "SSOT_RECONCILE_MINUTES": "0", "LOG_LEVEL": "INFO",
            "SSOT_STATE_DIR": str(self.tmp / "state"), "PYTHONPATH": str(ROOT),
        })
        env.update(more)
        return env

    async def start(self, role: str = "all", *, database_url: str | None = None,
                    wait: bool = True) -> Replica:
        port = free_port()
        name = f"r{len(self.replicas) + 1}-{role}"
        log = self.tmp / f"{name}.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "serve", "--role", role, "--port", str(port),
                env=self.env(database_url), cwd=str(self.tmp), stdout=out, stderr=out,
                stdin=asyncio.subprocess.DEVNULL)
        replica = Replica(name, role, port, proc, log)
        self.replicas.append(replica)
        if wait:
            await self.ready(replica)
        return replica

    async def ready(self, replica: Replica) -> None:
        deadline = time.monotonic() + STARTUP
        while time.monotonic() < deadline:
            if replica.proc.returncode is not None:
                raise AssertionError(f"{replica.name} exited {replica.proc.returncode}:\n"
                                     + self.tail(replica))
            with contextlib.suppress(aiohttp.ClientError, OSError):
                status, _ = await replica.health()
                if status == 200:
                    return
            await asyncio.sleep(0.2)
        raise AssertionError(f"{replica.name} did not start:\n{self.tail(replica)}")

    def tail(self, replica: Replica, lines: int = 40) -> str:
        text = replica.log.read_text(errors="replace") if replica.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def deliver(self, replica: Replica, event: str, payload: Mapping[str, Any],
                      delivery_id: str) -> int:
        return await self.emu.deliver(replica.url, SECRET, event, dict(payload),
                                      delivery_id=delivery_id)

    async def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        async with await psycopg.AsyncConnection.connect(self.database_url,
                                                         autocommit=True) as conn:
            cur = await conn.execute(sql, params)  # type: ignore[arg-type]
            return list(await cur.fetchall()) if cur.description else []

    async def drained(self, within: float = DRAIN) -> None:
        """Wait until no job waits or runs (twice in a row, 0.2 s apart)."""
        deadline = time.monotonic() + within
        empty = 0
        while time.monotonic() < deadline:
            rows = await self.query("SELECT count(*) FROM ssot_jobs")
            empty = empty + 1 if rows[0][0] == 0 else 0
            if empty >= 2:
                return
            await asyncio.sleep(0.2)
        jobs = await self.query("SELECT kind, key, status, worker FROM ssot_jobs")
        raise AssertionError(f"queue not drained: {jobs}\n"
                             + "\n".join(f"--- {r.name}\n{self.tail(r)}" for r in self.replicas))


@contextlib.asynccontextmanager
async def cluster(database_url: str, tmp: Path, files: Mapping[str, bytes] | None = None,
                  ) -> AsyncIterator[Cluster]:
    emu = GitHubEmulator(OPENAPI_SUBSET)
    emu.validate_responses = True
    emu.add_installation(INSTALLATION, REPO.split("/")[0])
    emu.add_repo(REPO, dict(example_files() if files is None else files),
                 installation_id=INSTALLATION)
    async with EmulatorServer(emu) as api_url:
        c = Cluster(emu, api_url, database_url, tmp)
        try:
            yield c
        finally:
            await asyncio.gather(*(r.stop() for r in c.replicas))
    assert emu.openapi_violations == [], emu.openapi_violations
    assert emu.response_violations == [], emu.response_violations


class TcpProxy:
    """A TCP forwarder to PostgreSQL that a test can take down and bring back on the same port
    (the shared server itself must not be stopped)."""

    def __init__(self, target_port: int = 5432, port: int | None = None) -> None:
        self.target_port = target_port
        self.port = port or free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):
                w.close()
            await self._server.wait_closed()
            self._server = None

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
        self._writers -= {writer, up_writer}
