"""Graceful shutdown of a real ``ssot-bot serve``: the first SIGTERM stops taking work (webhooks
and /healthz answered 503) while the running job finishes, then exit 0; a second SIGTERM exits
at once, without a traceback.

GitHub is a stand-in HTTP server in this process whose token endpoint holds every request until
the test releases it, so that a job is running when the signal arrives."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ssot_emulator import OPENAPI_SUBSET, EmulatorServer, GitHubEmulator
from tests.integration.harness import INSTALLATION, REPO, example_files

from .test_serve import free_port, serving

SECRET = "shutdown-secret"
PAYLOAD = json.loads((Path(__file__).resolve().parent.parent / "data" / "webhooks"
                      / "pull_request.opened.json").read_text())


@dataclass
class Held:
    """The stand-in GitHub: counts requests, holds them until ``release`` is set."""

    release: threading.Event
    arrived: threading.Event
    url: str


@pytest.fixture
def github() -> Iterator[Held]:
    release, arrived = threading.Event(), threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _hold(self) -> None:
            arrived.set()
            release.wait(60)
            body = b'{"message": "Not Found"}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_PUT = _hold

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Held(release, arrived, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def _serving(tmp_path: Path,
             api_url: str) -> AbstractContextManager[tuple[subprocess.Popen[str], int]]:
    return serving(tmp_path, {"WEBHOOK_SECRET": SECRET, "GITHUB_API_URL": api_url,
                              "SSOT_STATE_DIR": str(tmp_path / "state")})


def _webhook(port: int, delivery: str) -> int:
    body = json.dumps({**PAYLOAD, "installation": {"id": 42}}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/github/webhooks", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-GitHub-Event": "pull_request",
                 "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": signature})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (http)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _health(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _sigterm_while_a_job_runs(proc: subprocess.Popen[str], port: int, github: Held) -> None:
    """A delivery's job is held at GitHub when SIGTERM arrives; returns once draining."""
    assert _webhook(port, "d-1") == 202
    assert github.arrived.wait(30), "the job never reached GitHub"
    proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    while _health(port) != 503:
        assert proc.poll() is None and time.monotonic() < deadline, "never started draining"
        time.sleep(0.05)


def test_sigterm_refuses_new_work_finishes_the_running_job_and_exits_0(
        tmp_path: Path, github: Held) -> None:
    with _serving(tmp_path, github.url) as (proc, port):
        _sigterm_while_a_job_runs(proc, port, github)
        assert _webhook(port, "d-2") == 503  # stop taking work; GitHub can redeliver it
        assert proc.poll() is None  # the running job holds the exit
        github.release.set()
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    messages = [json.loads(line)["msg"] for line in err.splitlines() if line.startswith("{")]
    assert "draining" in messages and messages[-1] == "stopped"
    assert messages.index("draining") < messages.index("stopped")


def test_a_second_sigterm_exits_at_once_without_a_traceback(
        tmp_path: Path, github: Held) -> None:
    with _serving(tmp_path, github.url) as (proc, port):
        _sigterm_while_a_job_runs(proc, port, github)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
        took = time.monotonic() - started
    assert proc.returncode == 1, err
    assert took < 15  # the held job (60 s) was not waited for
    assert "Traceback" not in err
    assert any(json.loads(line)["msg"] == "second signal: exiting now"
               for line in err.splitlines() if line.startswith("{"))


def test_sigterm_on_an_idle_service_exits_0_at_once(tmp_path: Path, github: Held) -> None:
    with _serving(tmp_path, github.url) as (proc, _port):
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


async def test_sigterm_lets_an_answered_delivery_s_handler_submit_its_job(
        tmp_path: Path) -> None:
    """A delivery answered 202 whose handler is still talking to GitHub when SIGTERM arrives
    (here ``/ssot recheck``, its reaction held for 2 s): the handler finishes, the analysis it
    submits runs to a completed check run, and the process exits 0. Before, the job queue was
    shut down first and the analysis was dropped ("job queue is shut down")."""
    emu = GitHubEmulator(OPENAPI_SUBSET)
    emu.add_installation(INSTALLATION, REPO.split("/")[0])
    emu.add_repo(REPO, example_files(), installation_id=INSTALLATION)
    emu.commit(REPO, "feature", {"netra_backend/app/services/util.py": "def helper():\n    "
                                 "return 1\n"})
    number = emu.open_pull_request(REPO, "feature", title="A change", user="octocat")
    held = emu.inject("POST", r"/reactions$", status=None, delay=2.0)
    async with EmulatorServer(emu) as api_url:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SSOT_", "DATABASE"))}
        env.update({"APP_ID": str(emu.app_id), "PRIVATE_KEY": emu.private_key_pem,
                    "WEBHOOK_SECRET": SECRET, "GITHUB_API_URL": api_url, "HOST": "127.0.0.1",
                    "PORT": str(port), "SSOT_WORKERS": "0", "SSOT_RECONCILE_MINUTES": "0",
                    "LOG_LEVEL": "INFO", "SSOT_STATE_DIR": str(tmp_path / "state")})
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", cwd=str(tmp_path), env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/api/github/webhooks"
            for _ in range(300):
                with contextlib.suppress(OSError):
                    if await asyncio.to_thread(_health, port) == 200:
                        break
                await asyncio.sleep(0.1)
            comment = emu.add_issue_comment(REPO, number, "/ssot recheck", "octocat", "User")
            assert await emu.deliver(url, SECRET, "issue_comment", emu.payload_issue_comment(
                REPO, number, comment)) == 202
            for _ in range(300):  # the handler is waiting for its reaction
                if held.used:
                    break
                await asyncio.sleep(0.02)
            assert held.used and emu.check_runs(REPO) == []
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(60):
                _, err = await proc.communicate()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    text = err.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "job queue is shut down" not in text
    [run] = emu.check_runs(REPO)
    assert run.status == "completed" and run.head_sha == emu.head_sha(REPO, number)
