"""Webhook service under load: answer latency, GitHub requests per analysis, end-to-end time.

    python benchmarks/webhook_load.py [--quick] [--json] [-n N] [--in-flight K]

Three processes on loopback, as in production the measured service has its own event loop:

* ``emulator``: the GitHub emulator (``ssot_emulator``) with a repository of generated
  Python files and four pull requests (one changing 300 files for the load test, then 10, 100
  and 300), plus a small control app (``GET /state``, ``GET /requests?since=N``);
* ``service``: the real ``python -m bot serve`` configured by environment variables;
* ``bare``: a bare aiohttp handler that checks ``X-Hub-Signature-256`` and answers 202.

This process is the load client. It prints numbers; nothing is asserted.

(a) latency of webhook answers (``issue_comment.created`` on an issue, every fifth a
    ``pull_request.labeled``; to the service and the bare handler alternately, ``--in-flight``
    at a time) while the service analyses the 300-file pull request: cold (its first analysis:
    token exchange, engine start) and warm (the same PR again, after (b) and (c)).
    Targets: p99 <= 2x bare and < 20 ms. Answers >= 20 ms are listed (``--json``) with when
    they were sent, and counted by analysis phase; ``--asyncio-debug`` names the callbacks that
    block the service's loop for over 100 ms.
(b) GitHub requests per analysis for F = 10, 100, 300 changed files, against the bound of
    docs/behaviour.md §14, 8 + ceil(F/100) + ceil(F/50) + ceil(A/50) (304s not counted; A =
    annotations, at most limits.max_annotations; the 8 include the one Git Trees listing of
    the head); the installation token exchange (once
    an hour per installation) is counted apart.
(c) webhook -> check run completed for the 300-file pull request. Target: < 5 s on 2 cores.

The emulator computes each pull request's file list (300 diffs) once per head and caches it, as
GitHub serves it precomputed; otherwise its work would take CPU from the measured service.

Internal roles (started by the benchmark itself): ``--role emulator|bare --info PATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
REPO = "netra-systems/netra-apex"
INSTALLATION = 4711
WEBHOOK_PATH = "/api/github/webhooks"
AGENTS_DIR = "netra_backend/app/agents/"
LEGACY_IMPORT = "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager"
ORDINARY_DIRS = ("netra_backend/app/services", "netra_backend/app/routes",
                 "netra_backend/app/db", "netra_backend/app/core", "shared/utils",
                 "tests/unit")
BASE_FILES = 320  # the pull requests change the first 10, 100 or 300 of them
PULLS = (("load", 300), ("10", 10), ("100", 100), ("300", 300))
CHILD_MAX_LIFETIME = 600.0  # children stop by themselves after this, whatever happens
SLOW_MS = 20.0  # answers at least this slow are listed with the time they were sent
SECRET_ENV = "SSOT_BENCH_WEBHOOK_SECRET"  # noqa: S105 - a variable name, not a secret


# --------------------------------------------------------------------------------------------
# the repository


def file_paths(count: int) -> list[str]:
    """One file in ten under netra_backend/app/agents/, the rest spread over ordinary packages."""
    paths = []
    for i in range(count):
        if i % 10 == 0:
            paths.append(f"{AGENTS_DIR}agent_{i:03d}.py")
        else:
            paths.append(f"{ORDINARY_DIRS[i % len(ORDINARY_DIRS)]}/module_{i:03d}.py")
    return paths


def module_source(index: int, path: str, tag: str | None = None) -> str:
    """About 150 lines of ordinary async Python. ``tag`` (a branch) gives the changed version:
    a revision comment, a new constant value, one edited line, one new method, and in agent
    files the legacy WebSocketManager import and an ``Optional[WebSocketManager]`` annotation
    (two new SSOT violations)."""
    agent = path.startswith(AGENTS_DIR)
    out = [f'"""{path}: component {index} of the benchmark repository."""', ""]
    if tag:
        out.append(f"# revision: {tag}")
    out += ["from __future__ import annotations", "", "import asyncio", "import logging",
            "from dataclasses import dataclass, field", "from typing import Any, Optional"]
    if agent and tag:
        out.append(LEGACY_IMPORT)
    out += ["", "log = logging.getLogger(__name__)", "",
            f"LIMIT = {index + 17 if tag else index + 10}", f"NAME = {path!r}", "", "",
            "@dataclass", "class Record:", "    key: str", "    score: int = 0",
            "    tags: list[str] = field(default_factory=list)",
            "    extra: dict[str, Any] = field(default_factory=dict)", ""]
    if agent and tag:
        out += ["", "x: Optional[WebSocketManager] = None", ""]
    out += ["", f"class Component{index:03d}:",
            f'    """Pipeline stage {index}: filters records and keeps a running count."""', "",
            "    def __init__(self, name: str = NAME) -> None:",
            "        self.name = name", "        self.seen = 0", ""]
    for m in range(9):
        compare = ">=" if tag and m == 4 else ">"
        out += [
            f"    async def step_{m}(self, items: list[Record], retries: int = 3)"
            " -> Optional[Record]:",
            f'        """Step {m}: the first record over the limit, retrying on timeouts."""',
            "        for attempt in range(retries):",
            "            try:",
            f"                chosen = [r for r in items if r.score * {m + 1} {compare} LIMIT]",
            "                if chosen:",
            "                    self.seen += len(chosen)",
            "                    return chosen[0]",
            "            except asyncio.TimeoutError:",
            f'                log.warning("step {m} timed out (attempt %d)", attempt)',
            "                await asyncio.sleep(0.01 * attempt)",
            "        return None",
            ""]
    if tag:
        out += ["    def describe(self) -> str:",
                f'        """What this stage is ({tag})."""',
                '        return f"{self.name}: {self.seen} records seen"', ""]
    out += ["", "def build() -> Component" + f"{index:03d}:",
            f"    return Component{index:03d}()", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# role: emulator


def _emulator_role(info_path: Path, parent_pid: int) -> int:
    return asyncio.run(_emulator_main(info_path, parent_pid))


def _build_emulator() -> tuple[Any, dict[str, int]]:
    from ssot_emulator import GitHubEmulator

    emu = GitHubEmulator(None)  # it computes each pull request's files once (state.pull_files)
    emu.add_installation(INSTALLATION, REPO.split("/")[0])
    paths = file_paths(BASE_FILES)
    emu.add_repo(REPO, {p: module_source(i, p) for i, p in enumerate(paths)},
                 installation_id=INSTALLATION)
    numbers: dict[str, int] = {}
    for name, count in PULLS:
        branch = f"bench-{name}"
        emu.commit(REPO, branch, {p: module_source(i, p, branch)
                                  for i, p in enumerate(paths[:count])})
        numbers[name] = emu.open_pull_request(
            REPO, branch, title=f"Refactor {count} modules ({name})",
            body="Benchmark pull request.", user="dev-alice")
        emu.pull_files(REPO, numbers[name])  # warm the cache
    return emu, numbers


def _control_app(emu: Any, numbers: dict[str, int]) -> web.Application:
    """GET /state[?pr=N][&full=1] and GET /requests?since=N over the emulator's state."""
    head_to_pr = {emu.head_sha(REPO, n): n for n in numbers.values()}
    blob_to_pr: dict[str, int] = {}
    for n in numbers.values():
        for item in emu.pull_files(REPO, n):
            blob_to_pr[item.sha] = n
    completed_at: dict[int, float] = {}

    def label(rec: Any) -> str:
        path = rec.path
        if path.endswith("/access_tokens"):
            return "token"
        if "/contents/" in path:
            return "config"
        found = re.search(r"/pulls/(\d+)", path) or re.search(r"/issues/(\d+)", path)
        if found:
            return f"pr#{found.group(1)}"
        found = re.search(r"/git/blobs/([0-9a-f]+)", path)
        if found and found.group(1) in blob_to_pr:
            return f"pr#{blob_to_pr[found.group(1)]}"
        if rec.method == "POST" and path.endswith("/check-runs") and isinstance(rec.json, dict):
            pr = head_to_pr.get(str(rec.json.get("head_sha")))
            return f"pr#{pr}" if pr else "other"
        found = re.search(r"/check-runs/(\d+)$", path)
        if found:
            with contextlib.suppress(LookupError):
                pr = head_to_pr.get(emu.check_run(REPO, int(found.group(1))).head_sha)
                return f"pr#{pr}" if pr else "other"
        return "other"

    def logged_times(run: Any) -> tuple[float | None, float | None]:
        """When the run was created and completed, by the request log (the API's own
        timestamps have whole seconds). The n-th run of a head was made by its n-th POST."""
        posts = [r.at for r in emu.requests
                 if r.method == "POST" and r.path.endswith("/check-runs") and r.status == 201
                 and isinstance(r.json, dict) and r.json.get("head_sha") == run.head_sha]
        ids = sorted(c.id for c in emu.check_runs(REPO) if c.head_sha == run.head_sha)
        created = posts[ids.index(run.id)] if ids.index(run.id) < len(posts) else None
        if run.status == "completed" and run.id not in completed_at:
            suffix = f"/check-runs/{run.id}"
            done = next((r.at for r in reversed(emu.requests)
                         if r.method == "PATCH" and r.path.endswith(suffix) and r.status == 200
                         and isinstance(r.json, dict) and r.json.get("conclusion")), None)
            if done is not None:
                completed_at[run.id] = done
        return created, completed_at.get(run.id)

    def pr_state(number: int) -> dict[str, Any]:
        head = emu.head_sha(REPO, number)
        runs = []
        for run in emu.check_runs(REPO):
            if run.head_sha != head:
                continue
            created, done = logged_times(run)
            runs.append({"id": run.id, "status": run.status, "conclusion": run.conclusion,
                         "started_at": run.started_at, "completed_at": run.completed_at,
                         "created_logged_at": created, "completed_logged_at": done,
                         "annotations": len(run.output.get("annotations") or []),
                         "title": run.output.get("title")})
        reviews = emu.reviews(REPO, number)
        return {"number": number, "check_runs": runs, "reviews": len(reviews),
                "review_posted_at": reviews[-1].submitted_at if reviews else None,
                "review_comments": len(emu.review_comments(REPO, number))}

    async def state(request: web.Request) -> web.Response:
        wanted = request.query.get("pr")
        prs = [int(wanted)] if wanted else list(numbers.values())
        body: dict[str, Any] = {"requests": len(emu.requests),
                                "prs": {str(n): pr_state(n) for n in prs}}
        if request.query.get("full"):
            body["requests_by_label"] = dict(Counter(label(r) for r in emu.requests))
        return web.json_response(body)

    async def requests_since(request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        return web.json_response([
            {"method": r.method, "path": r.path, "status": r.status, "at": r.at,
             "fault": r.fault, "label": label(r)}
            for r in emu.requests[since:]])

    async def count(request: web.Request) -> web.Response:
        return web.json_response({"requests": len(emu.requests)})

    app = web.Application()
    app.router.add_get("/count", count)
    app.router.add_get("/state", state)
    app.router.add_get("/requests", requests_since)
    return app


async def _wait_for_exit(parent_pid: int) -> None:
    """Until SIGTERM, the parent's death, or CHILD_MAX_LIFETIME. Ctrl-C (SIGINT to the whole
    process group) is left to the parent, which then stops its children in order."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    deadline = time.monotonic() + CHILD_MAX_LIFETIME
    while not stop.is_set() and os.getppid() == parent_pid and time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data), encoding="utf-8")
    partial.replace(path)


async def _emulator_main(info_path: Path, parent_pid: int) -> int:
    from ssot_emulator import EmulatorServer

    emu, numbers = _build_emulator()
    async with EmulatorServer(emu) as api_url:
        control = web.AppRunner(_control_app(emu, numbers), access_log=None)
        await control.setup()
        await web.TCPSite(control, "127.0.0.1", 0).start()
        control_port = control.addresses[0][1]
        issue = emu.create_issue(REPO, "Flaky login test", "It fails one run in ten.",
                                 user="dev-carol")
        comment = emu.add_issue_comment(REPO, issue, "Seen it too, on main.", user="dev-bob")
        label = {"id": 1, "node_id": "LA_1", "url": f"{api_url}/repos/{REPO}/labels/refactor",
                 "name": "refactor", "color": "ededed", "default": False,
                 "description": None}
        _write_json(info_path, {
            "api_url": api_url, "control_url": f"http://127.0.0.1:{control_port}",
            "app_id": emu.app_id, "private_key": emu.private_key_pem,
            "prs": {name: {"number": numbers[name], "files": count,
                           "payload": emu.payload_pull_request(REPO, numbers[name], "opened")}
                    for name, count in PULLS},
            "events": {
                "issue_comment": emu.payload_issue_comment(REPO, issue, comment),
                "labeled": emu.payload_pull_request(REPO, numbers["10"], "labeled",
                                                    label=label, sender="dev-bob"),
            },
        })
        try:
            await _wait_for_exit(parent_pid)
        finally:
            await control.cleanup()
    return 0


# --------------------------------------------------------------------------------------------
# role: bare handler


def _bare_role(info_path: Path, parent_pid: int) -> int:
    return asyncio.run(_bare_main(info_path, parent_pid))


async def _bare_main(info_path: Path, parent_pid: int) -> int:
    key = os.environ[SECRET_ENV].encode("utf-8")

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        given = request.headers.get("X-Hub-Signature-256", "").encode("ascii", "replace")
        expected = b"sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest().encode("ascii")
        return web.Response(status=202 if hmac.compare_digest(expected, given) else 401)

    app = web.Application()
    app.router.add_post(WEBHOOK_PATH, hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    _write_json(info_path, {"url": f"http://127.0.0.1:{runner.addresses[0][1]}{WEBHOOK_PATH}"})
    try:
        await _wait_for_exit(parent_pid)
    finally:
        await runner.cleanup()
    return 0


# --------------------------------------------------------------------------------------------
# the load client


class BenchError(Exception):
    """The benchmark could not run (a process died, a wait timed out): exit 1."""


def log(message: str) -> None:
    print(f"[webhook_load] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def latency_summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "p50_ms": percentile(ms, 0.50), "p90_ms": percentile(ms, 0.90),
            "p99_ms": percentile(ms, 0.99), "max_ms": max(ms), "mean_ms": sum(ms) / len(ms)}


def endpoint(method: str, path: str) -> str:
    path = re.sub(r"^/repos/[^/]+/[^/]+", "", path)
    path = re.sub(r"/[0-9a-f]{40}\b", "/{sha}", path)
    path = re.sub(r"/\d+(?=/|$)", "/{n}", path)
    return f"{method} {path}"


class Children:
    """The child processes; ``stop()`` terminates and waits for every one (kill if it must)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        with (self.workdir / f"{name}.log").open("wb") as out:
            self.procs[name] = subprocess.Popen(
                argv, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT)

    def check(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise BenchError(f"the {name} process exited with {proc.returncode}:\n"
                                 + self.tail(name))

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / f"{name}.log"
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    drop = {"SSOT_WORKERS", "APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET",
            "GITHUB_API_URL", "HOST", "PORT", "WEBHOOK_PATH", "LOG_LEVEL"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(extra or {})
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def read_json(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


async def wait_for_json(children: Children, path: Path, within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        data = read_json(path)
        if data is not None:
            return data
        children.check()
        if time.monotonic() > deadline:
            raise BenchError(f"{path.name} did not appear within {within:.0f} s")
        await asyncio.sleep(0.05)


class Client:
    """Signed deliveries and the control calls."""

    def __init__(self, session: aiohttp.ClientSession, control: aiohttp.ClientSession,
                 secret: str, info: dict[str, Any], service_base: str) -> None:
        self.session = session
        self.control = control
        self.key = secret.encode("utf-8")
        self.info = info
        self.control_url = info["control_url"]
        self.service_base = service_base
        self.service_url = service_base + WEBHOOK_PATH
        self.app_id = str(info["app_id"])
        # JSON-encoded once: the service and the bare handler get the same bytes
        self.bodies = {name: json.dumps(payload).encode("utf-8")
                       for name, payload in info["events"].items()}

    def headers(self, event: str, body: bytes) -> dict[str, str]:
        digest = hmac.new(self.key, body, hashlib.sha256).hexdigest()
        return {"X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-GitHub-Hook-ID": "1",
                "X-GitHub-Hook-Installation-Target-Type": "integration",
                "X-GitHub-Hook-Installation-Target-ID": self.app_id,
                "X-Hub-Signature-256": f"sha256={digest}",
                "User-Agent": "GitHub-Hookshot/benchmark", "Content-Type": "application/json"}

    async def post(self, url: str, event: str, body: bytes) -> tuple[int, float]:
        """(status, seconds); status 0 when the request failed."""
        headers = self.headers(event, body)
        started = time.perf_counter()
        try:
            async with self.session.post(url, data=body, headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        return status, time.perf_counter() - started

    async def state(self, pr: int | None = None) -> dict[str, Any]:
        """One PR's state, or (None) every PR's and the request log counted per label."""
        params = {"pr": str(pr)} if pr is not None else {"full": "1"}
        async with self.control.get(self.control_url + "/state", params=params) as response:
            data: dict[str, Any] = await response.json()
            return data

    async def request_count(self) -> int:
        async with self.control.get(self.control_url + "/count") as response:
            count: int = (await response.json())["requests"]
            return count

    async def requests_since(self, since: int) -> list[dict[str, Any]]:
        async with self.control.get(self.control_url + "/requests",
                                    params={"since": str(since)}) as response:
            data: list[dict[str, Any]] = await response.json()
            return data

    async def service_jobs(self) -> dict[str, int]:
        async with self.control.get(self.service_base + "/healthz") as response:
            data: dict[str, Any] = await response.json()
            jobs: dict[str, int] = data.get("jobs") or {}
            return jobs

    async def send_pr(self, name: str) -> tuple[int, float]:
        """Deliver the PR's ``pull_request.opened``; (status, time.time() when sent)."""
        body = json.dumps(self.info["prs"][name]["payload"]).encode("utf-8")
        sent = time.time()
        status, _ = await self.post(self.service_url, "pull_request", body)
        return status, sent

    async def wait_completed(self, number: int, within: float, interval: float = 0.015,
                             exclude: set[int] | None = None) -> dict[str, Any] | None:
        """Poll until a check run of the PR (not one of ``exclude``) is completed:
        {"seen_at": time.time(), "run": ..., "pr": ...}, or None."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            pr = (await self.state(number))["prs"][str(number)]
            done = [r for r in pr["check_runs"]
                    if r["status"] == "completed" and r["id"] not in (exclude or set())]
            if done:
                return {"seen_at": time.time(), "run": done[-1], "pr": pr}
            await asyncio.sleep(interval)
        return None

    async def wait_idle(self, within: float = 30.0) -> bool:
        """No job queued or running in the service and no new emulator request for 200 ms."""
        deadline = time.monotonic() + within
        last, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            jobs = await self.service_jobs()
            count = await self.request_count()
            now = time.monotonic()
            if count != last or jobs.get("running") or jobs.get("queued"):
                last, quiet_since = count, now
            elif now - quiet_since >= 0.2:
                return True
            await asyncio.sleep(0.02)
        return False


async def burst(client: Client, bare_url: str, n: int, in_flight: int,
                time_limit: float) -> dict[str, Any]:
    """n deliveries to each target, alternating service / bare, ``in_flight`` at a time; every
    fifth pair is a ``pull_request.labeled``, the rest ``issue_comment.created`` on an issue."""
    jobs = []
    for i in range(2 * n):
        kind = "labeled" if (i // 2) % 5 == 4 else "issue_comment"
        jobs.append(("service" if i % 2 == 0 else "bare", kind))
    queue = iter(jobs)
    urls = {"service": client.service_url, "bare": bare_url}
    events = {"labeled": "pull_request", "issue_comment": "issue_comment"}
    samples: dict[str, list[float]] = {"service": [], "bare": []}
    sent_at: dict[str, list[float]] = {"service": [], "bare": []}
    bad: Counter[str] = Counter()
    deadline = time.monotonic() + time_limit
    stopped_early = False

    async def worker() -> None:
        nonlocal stopped_early
        for target, kind in queue:
            if time.monotonic() > deadline:
                stopped_early = True
                return
            sent_at[target].append(time.time())
            status, took = await client.post(urls[target], events[kind], client.bodies[kind])
            samples[target].append(took)
            if status != 202:
                bad[f"{target}:{status}"] += 1

    started = time.time()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return {"samples": samples, "sent_at": sent_at, "bad": dict(bad), "started": started,
            "ended": time.time(), "stopped_early": stopped_early}


async def count_requests(client: Client, since: int, files: int, run: dict[str, Any],
                         idle: bool) -> dict[str, Any]:
    recs = await client.requests_since(since)
    tokens = [r for r in recs if r["label"] == "token"]
    others = [r for r in recs if r["label"] != "token"]
    annotations = int(run["annotations"])
    # docs/behaviour.md §14 (GraphQL batches of 50; a 304 costs nothing)
    others = [r for r in others if r.get("status") != 304]
    bound = 8 + math.ceil(files / 100) + math.ceil(files / 50) + math.ceil(annotations / 50)
    by_endpoint = Counter(endpoint(r["method"], r["path"]) for r in others)
    timeline: dict[str, tuple[float, float]] = {}
    for r in recs:
        key = endpoint(r["method"], r["path"])
        lo, hi = timeline.get(key, (r["at"], r["at"]))
        timeline[key] = (min(lo, r["at"]), max(hi, r["at"]))
    return {"files": files, "annotations": annotations, "requests": len(others),
            "token_exchanges": len(tokens), "bound": bound, "within_bound": len(others) <= bound,
            # a 404 for .github/ssot.yml is expected: the repository has no configuration
            "failed_requests": sum(1 for r in others if r["status"] >= 400
                                   and not (r["label"] == "config" and r["status"] == 404)),
            "by_endpoint": dict(sorted(by_endpoint.items())), "settled": idle,
            "timeline": dict(sorted(timeline.items(), key=lambda kv: kv[1]))}


async def latency_under_analysis(client: Client, bare_url: str, args: argparse.Namespace,
                                 children: Children) -> tuple[dict[str, Any], dict[str, Any]]:
    """Deliver the load PR's ``pull_request.opened``, then the burst while it is analysed.
    Returns the latency numbers and the analysis' request count row."""
    load = client.info["prs"]["load"]
    number = load["number"]
    earlier = (await client.state(number))["prs"][str(number)]
    known = {r["id"] for r in earlier["check_runs"]}
    before = await client.request_count()
    status, sent = await client.send_pr("load")
    if status != 202:
        raise BenchError(f"the service answered {status} to pull_request.opened")
    poller = asyncio.create_task(client.wait_completed(number, 90, exclude=known))
    shot = await burst(client, bare_url, args.n, args.in_flight, 60)
    done = await poller
    if done is None:
        raise BenchError("the 300-file analysis did not complete within 90 s:\n"
                         + children.tail("service"))
    idle = await client.wait_idle()
    run = done["run"]
    completed = run["completed_logged_at"] or done["seen_at"]
    service_sent = shot["sent_at"]["service"]
    a: dict[str, Any] = {
        "n_per_target": args.n, "in_flight": args.in_flight,
        "service": latency_summary(shot["samples"]["service"]),
        "bare": latency_summary(shot["samples"]["bare"]),
        "non_202": shot["bad"], "burst_stopped_by_time_limit": shot["stopped_early"],
        "burst_s": shot["ended"] - shot["started"],
        "burst_start_after_webhook_s": shot["started"] - sent,
        "burst_end_after_webhook_s": shot["ended"] - sent,
        "analysis_running_at_burst_end": shot["ended"] < completed,
        "service_deliveries_sent_during_analysis": sum(1 for t in service_sent
                                                       if t < completed),
        "check_run_created_after_webhook_s": (run["created_logged_at"] or sent) - sent,
        "analysis_e2e_s": completed - sent,
        "analysis_e2e_polled_s": done["seen_at"] - sent,
        "conclusion": run["conclusion"],
    }
    a["p99_ratio"] = (a["service"]["p99_ms"] / a["bare"]["p99_ms"]
                      if a["bare"].get("p99_ms") else None)
    # where the slow answers fall in the analysis (for whoever has to make them fast)
    a["slow_service_deliveries"] = [
        {"sent_after_webhook_s": round(t - sent, 4), "ms": round(took * 1000, 2)}
        for t, took in zip(service_sent, shot["samples"]["service"], strict=True)
        if took * 1000 >= SLOW_MS]
    row = await count_requests(client, before, load["files"], run, idle)
    a["analysis_timeline"] = {k: [round(lo - sent, 4), round(hi - sent, 4)]
                              for k, (lo, hi) in row.pop("timeline").items()}
    final = (await client.state(number))["prs"][str(number)]
    row["review_comments"] = final["review_comments"] - earlier["review_comments"]
    row["reviews"] = final["reviews"] - earlier["reviews"]
    row["conclusion"] = run["conclusion"]
    row["e2e_s"] = a["analysis_e2e_s"]
    return a, row


async def measure(args: argparse.Namespace, children: Children, workdir: Path) -> dict[str, Any]:
    secret = secrets.token_hex(16)
    env = child_env({SECRET_ENV: secret})
    me = str(os.getpid())
    script = str(SCRIPT)
    children.start("emulator", [sys.executable, script, "--role", "emulator", "--info",
                                str(workdir / "emulator.json"), "--parent", me], env)
    children.start("bare", [sys.executable, script, "--role", "bare", "--info",
                            str(workdir / "bare.json"), "--parent", me], env)
    info = await wait_for_json(children, workdir / "emulator.json", 90)
    bare = await wait_for_json(children, workdir / "bare.json", 30)
    port = free_port()
    children.start("service", [sys.executable, "-m", "bot", "serve"], child_env({
        "APP_ID": str(info["app_id"]),
        "PRIVATE_KEY": base64.b64encode(info["private_key"].encode("ascii")).decode("ascii"),
        "WEBHOOK_SECRET": secret, "GITHUB_API_URL": info["api_url"], "HOST": "127.0.0.1",
        "PORT": str(port), "LOG_LEVEL": "WARNING",
        # no catch-up pass: at start it would analyse the emulator's open PRs on its own and
        # mix those requests into what (a) and (b) measure (benchmarks/catch_up.py measures it)
        "SSOT_RECONCILE_MINUTES": "0",
        **({"PYTHONASYNCIODEBUG": "1"} if args.asyncio_debug else {})}))
    service_base = f"http://127.0.0.1:{port}"
    timeout = aiohttp.ClientTimeout(total=10)
    connector = aiohttp.TCPConnector(limit=2 * args.in_flight + 4)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session, \
            aiohttp.ClientSession(timeout=timeout) as control:
        client = Client(session, control, secret, info, service_base)
        deadline = time.monotonic() + 30
        while True:
            children.check()
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                await client.service_jobs()
                break
            if time.monotonic() > deadline:
                raise BenchError("the service did not answer /healthz within 30 s:\n"
                                 + children.tail("service"))
            await asyncio.sleep(0.1)
        log(f"emulator {info['api_url']}, service {service_base}, bare {bare['url']}")

        # warm-up: connections, first-call imports; not recorded
        warm = await burst(client, bare["url"], 20, args.in_flight, 20)
        if warm["bad"]:
            raise BenchError(f"warm-up deliveries were refused: {warm['bad']}\n"
                             + children.tail("service"))

        # (a) latency while the 300-file analysis runs (cold: the service's first analysis)
        log(f"(a) 300-file analysis; burst of {args.n} deliveries to each target")
        a, first = await latency_under_analysis(client, bare["url"], args, children)

        # (b) + (c): one analysis at a time -----------------------------------------------------
        per_pr: dict[str, Any] = {"300 (a, cold)": first}
        for name in ("10", "100", "300"):
            pr = info["prs"][name]
            before = await client.request_count()
            status, sent = await client.send_pr(name)
            if status != 202:
                raise BenchError(f"the service answered {status} to PR {name}")
            done = await client.wait_completed(pr["number"], 60, interval=0.01)
            if done is None:
                raise BenchError(f"the {name}-file analysis did not complete within 60 s")
            idle = await client.wait_idle()
            final = (await client.state(pr["number"]))["prs"][str(pr["number"])]
            run = done["run"]
            row = await count_requests(client, before, pr["files"], run, idle)
            row.pop("timeline")
            row["review_comments"] = final["review_comments"]
            row["reviews"] = final["reviews"]
            row["conclusion"] = run["conclusion"]
            row["e2e_s"] = (run["completed_logged_at"] or done["seen_at"]) - sent
            row["e2e_polled_s"] = done["seen_at"] - sent
            row["analysis_s"] = ((run["completed_logged_at"] or done["seen_at"])
                                 - (run["created_logged_at"] or sent))
            per_pr[name] = row
            log(f"(b) {name} files: {row['requests']} requests, {row['e2e_s']:.2f} s")
        # (a) again, warm: the same pull request analysed a second time (token cached, the
        # engine loaded); after (b) and (c) so that they run on a quiet service
        log("(a) warm: the 300-file pull request again, same burst")
        a_warm, again = await latency_under_analysis(client, bare["url"], args, children)
        per_pr["300 (a, warm)"] = again
        overall = await client.state()
    if args.asyncio_debug:
        log("the service's log (asyncio debug mode: callbacks over 100 ms are named):\n"
            + children.tail("service", 200))
    return {"cpus": os.cpu_count(), "a": a, "a_warm": a_warm, "b": per_pr,
            "c": {"e2e_s": per_pr["300"]["e2e_s"], "e2e_polled_s": per_pr["300"]["e2e_polled_s"],
                  "analysis_s": per_pr["300"]["analysis_s"],
                  "first_under_load_e2e_s": a["analysis_e2e_s"], "target_s": 5.0},
            "emulator_requests_total": overall["requests"],
            "emulator_requests_by_label": overall.get("requests_by_label", {})}


def _phase(at: float, timeline: dict[str, list[float]]) -> str:
    """Which part of the analysis a delivery sent ``at`` s after the webhook fell in."""
    def first(key: str) -> float | None:
        return min((v[0] for k, v in timeline.items() if key in k), default=None)

    def last(key: str) -> float | None:
        return max((v[1] for k, v in timeline.items() if key in k), default=None)

    token, blobs_end, patch = first("access_tokens"), last("/git/blobs/"), first("PATCH")
    if token is not None and at <= token:
        return "token exchange"
    if blobs_end is not None and at <= blobs_end:
        return "fetching"
    if patch is not None and at <= patch:
        return "engine"
    return "report/review"


def report(r: dict[str, Any]) -> str:
    a, b, c = r["a"], r["b"], r["c"]
    out = [f"ssot-bot webhook load benchmark ({r['cpus']} CPUs, loopback)", ""]
    out.append(f"(a) webhook answer latency while the service analyses the 300-file PR "
               f"({a['n_per_target']} deliveries per target, alternating, "
               f"{a['in_flight']} in flight)")
    out.append(f"    {'':<22}{'n':>5}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}"
               f"{'p99/bare':>10}")
    for label, run in (("cold", a), ("warm", r["a_warm"])):
        for name, key in ((f"service, {label}", "service"), (f"bare, {label}", "bare")):
            s = run[key]
            ratio = f"{run['p99_ratio']:.2f}x" if key == "service" and run["p99_ratio"] else ""
            out.append(f"    {name:<22}{s['n']:>5}{s['p50_ms']:>9.2f}{s['p90_ms']:>9.2f}"
                       f"{s['p99_ms']:>9.2f}{s['max_ms']:>9.2f}{ratio:>10}")
    out.append("    targets: p99 service <= 2x bare and < 20 ms")
    for label, run in (("cold", a), ("warm", r["a_warm"])):
        ratio = run["p99_ratio"]
        verdict = ("met" if ratio is not None and ratio <= 2 and run["service"]["p99_ms"] < 20
                   else "NOT met")
        out.append(f"    {label}: {verdict}; burst {run['burst_start_after_webhook_s']:.2f}-"
                   f"{run['burst_end_after_webhook_s']:.2f} s after the webhook, analysis "
                   f"completed at {run['analysis_e2e_s']:.2f} s, still running when the burst "
                   f"ended: {'yes' if run['analysis_running_at_burst_end'] else 'NO'} "
                   f"({run['service_deliveries_sent_during_analysis']}/{run['service']['n']} "
                   "service deliveries sent during it)")
        if run["non_202"]:
            out.append(f"    {label}: answers other than 202: {run['non_202']}")
        slow = run["slow_service_deliveries"]
        if slow:
            phases = Counter(_phase(x["sent_after_webhook_s"], run["analysis_timeline"])
                             for x in slow)
            worst = max(slow, key=lambda x: x["ms"])
            out.append(f"    {label}: {len(slow)} service answers >= {SLOW_MS:.0f} ms, sent "
                       "during: " + ", ".join(f"{k} x{v}" for k, v in phases.items())
                       + f"; worst {worst['ms']:.0f} ms sent at "
                       f"{worst['sent_after_webhook_s']:.3f} s")
    out.append("")
    out.append("(b) GitHub requests per analysis (installation token exchange counted apart)")
    out.append(f"    {'PR':<15}{'F':>4}{'A':>4}{'comments':>10}{'requests':>10}"
               f"{'bound':>7}{'within':>8}{'token':>7}{'failed':>8}")
    for name, row in b.items():
        out.append(f"    {name:<15}{row['files']:>4}{row['annotations']:>4}"
                   f"{row['review_comments']:>10}{row['requests']:>10}{row['bound']:>7}"
                   f"{'yes' if row['within_bound'] else 'NO':>8}{row['token_exchanges']:>7}"
                   f"{row['failed_requests']:>8}")
    out.append("    bound = 8 + ceil(F/100) + ceil(F/50) + ceil(A/50); A = annotations; "
               "comments = inline "
               "review comments this analysis posted (max_review_comments 30; the warm re-run "
               "comments the next 30 new violations); token = POST /app/installations/{id}/"
               "access_tokens (once per hour per installation, not in the bound)")
    for name, row in b.items():
        parts = ", ".join(f"{k} x{v}" for k, v in row["by_endpoint"].items())
        out.append(f"    {name}: {parts}")
        if not row["settled"]:
            out.append(f"    {name}: the service did not settle within 30 s; counts may be short")
    out.append("")
    out.append("(c) end to end, 300-file pull request: webhook sent -> check run completed")
    ok = "met" if c["e2e_s"] < c["target_s"] else "NOT met"
    out.append(f"    {c['e2e_s']:.2f} s (from the emulator's request log; polled every 10 ms: "
               f"{c['e2e_polled_s']:.2f} s); target < {c['target_s']:.0f} s: {ok}")
    out.append(f"    of which check run created -> completed: {c['analysis_s']:.2f} s")
    out.append(f"    first 300-file analysis, under (a)'s load and cold (token exchange, engine "
               "start): "
               f"{c['first_under_load_e2e_s']:.2f} s")
    return "\n".join(out)


async def main_async(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="ssot-webhook-load-"))
    children = Children(workdir)
    try:
        results = await measure(args, children, workdir)
    except BenchError as exc:
        print(f"webhook_load: {exc}", file=sys.stderr)
        return 1
    except (aiohttp.ClientError, TimeoutError) as exc:
        print(f"webhook_load: a process stopped answering ({exc!r})", file=sys.stderr)
        for name, proc in children.procs.items():
            state = "running" if proc.poll() is None else f"exited with {proc.returncode}"
            print(f"--- {name} ({state}), its log:\n{children.tail(name, 15)}",
                  file=sys.stderr)
        return 1
    finally:
        children.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    results["quick"] = args.quick
    print(json.dumps(results, indent=2) if args.json else report(results))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller burst (N=100)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("-n", type=int, default=None,
                        help="deliveries per target in the burst (default 300, --quick 100)")
    parser.add_argument("--in-flight", type=int, default=4, help="concurrent deliveries")
    parser.add_argument("--asyncio-debug", action="store_true",
                        help="run the service in asyncio debug mode and print its log "
                             "(names the callbacks that block its event loop; slower)")
    parser.add_argument("--role", choices=("emulator", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--info", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--parent", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role:
        roles: dict[str, Callable[[Path, int], int]] = {"emulator": _emulator_role,
                                                        "bare": _bare_role}
        return roles[args.role](args.info, args.parent or os.getppid())
    args.n = max(1, args.n if args.n is not None else (100 if args.quick else 300))
    args.in_flight = max(1, args.in_flight)

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        return asyncio.run(main_async(args))
    except KeyboardInterrupt:
        print("webhook_load: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
