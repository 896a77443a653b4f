"""`ssot-bot serve` as operators run it: env in, JSON logs out, SIGTERM drains and exits 0."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def private_key() -> str:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()).decode()


@contextlib.contextmanager
def serving(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """``ssot-bot serve`` in ``tmp_path`` (an App key, a free port, INFO logs; ``env`` on top)
    and its port, once its /healthz answers (a process that exits or stays silent for 30 s
    fails the test); killed on the way out if still running."""
    proc, port = _start(tmp_path, env)
    try:
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()


def _start(tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    env = {**os.environ, "APP_ID": "12345", "PRIVATE_KEY": private_key(), "HOST": "127.0.0.1",
           "PORT": str(port), "LOG_LEVEL": "INFO", **env}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc, port
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(proc.communicate()[1]) from None
            time.sleep(0.1)


def test_serve_starts_answers_health_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {"WEBHOOK_SECRET": "hush-hush", "GITHUB_API_URL": "http://127.0.0.1:9"}
    with serving(tmp_path, env) as (proc, port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            assert json.load(r)["status"] == "ok"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(line["msg"] == "serving" and line["port"] == port for line in lines)
    assert "hush-hush" not in err
    assert "PRIVATE KEY" not in err
