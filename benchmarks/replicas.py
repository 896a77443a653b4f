"""One process with SQLite against two replicas on PostgreSQL: a burst of pull request events.

    python benchmarks/replicas.py [--events 200] [--in-flight 20] [--mode single|shared|both]

For each mode, real ``python -m bot serve`` processes (``single``: one, no ``DATABASE_URL``;
``shared``: two, ``--role all``, on a fresh PostgreSQL database created for the run and dropped
after it) answer a burst of ``--events`` ``pull_request.opened`` deliveries, ``--in-flight`` at a
time, sent alternately to each replica, one per pull request (each PR adds one file with a
legacy import: one check run and one review each). GitHub is the emulator, served from a thread
of this process with its own event loop (OpenAPI validation off).

``--mode split``: one ``--role web`` process answering every delivery and two ``--role worker``
processes (roles scaled separately, as docs/deploy.md describes; its compose file runs two
``web`` replicas).

Printed per mode:
- ack p50 / p99 / max: the webhook's answer (202), measured by a load client in a process of
  its own (every body encoded and signed before the first is sent);
- stored (shared): from the delivery handed to the database to its job committed, the
  replicas' ``ssot_delivery_store_seconds`` histogram (the buckets holding the median and the
  99th percentile, and the mean): the ack less this is the HTTP exchange, the signature, the
  JSON and the waits of both processes for a CPU;
- delivery job start (shared): from stored to started, the replicas' ``ssot_job_wait_seconds``
  histogram (the bucket holding the median, and the mean); one process starts a delivery's
  handlers at once;
- analysis start p50 / p90 / max: from a delivery sent to its analysis's check run created (a
  burst of 200 analyses queues behind the 4 running per process);
- drain: from the first delivery sent to the last check run completed and review posted;
- PostgreSQL statements per analysis (shared): the replicas' ``ssot_database_queries_total``
  over the burst (heartbeats and sweeps of the idle time subtracted), divided by the events.

Targets (issue 22): ack p99 < 50 ms in shared mode, job start median < 1 s, the burst drains no
slower than the single process. Nothing is asserted; the numbers are noisy on a loaded machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
sys.path.insert(0, str(ROOT))

from bot import demo  # noqa: E402
from ssot_emulator import EmulatorServer, GitHubEmulator  # noqa: E402

REPO = "netra-systems/netra-apex"
INSTALLATION = 4711
SECRET = "bench-secret"  # noqa: S105 - a local benchmark's
ADMIN_URL = os.environ.get("SSOT_BENCH_DATABASE_URL",
                           "postgresql://postgres@127.0.0.1:5432/test")
LEGACY = "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmulatorThread:
    """The emulator on a loop of its own thread, so that its work does not delay this client's
    timings more than the GIL does."""

    def __init__(self, emu: GitHubEmulator) -> None:
        self.emu = emu
        self.url = ""
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with EmulatorServer(self.emu) as url:
            self.url = url
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> EmulatorThread:
        self._thread.start()
        self._ready.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def make_emulator(events: int) -> tuple[GitHubEmulator, dict[int, str]]:
    emu = GitHubEmulator(None)
    emu.validate_responses = False
    emu.add_installation(INSTALLATION, REPO.split("/")[0])
    files = demo.example_files(ROOT / "examples" / "netra-apex")
    files[demo.FACTORY] = demo.factory_before(files)
    emu.add_repo(REPO, files, installation_id=INSTALLATION)
    heads: dict[int, str] = {}
    for i in range(events):
        path = f"netra_backend/app/agents/bench_{i}.py"
        emu.commit(REPO, f"bench-{i}", {path: LEGACY + f"X = {i}\n"})
        number = emu.open_pull_request(REPO, f"bench-{i}", title=f"Bench {i}", body=None,
                                       user="octocat")
        heads[number] = emu.head_sha(REPO, number)
    return emu, heads


async def send_burst(spec: dict[str, Any]) -> dict[str, list[float]]:
    """``--role client``: send the burst (a process of its own: its timings do not wait for
    the emulator's thread); [send time, ack seconds, status] per event."""
    gate = asyncio.Semaphore(int(spec["in_flight"]))
    results: dict[str, list[float]] = {}

    # every body encoded and signed before the first is sent: encoding the other 180 while the
    # first 20 were in flight counted up to 50 ms of this process's own work in their acks
    prepared: list[tuple[bytes, dict[str, str]]] = []
    for item in spec["events"]:
        body = json.dumps(item["payload"]).encode("utf-8")
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        prepared.append((body, {
            "X-GitHub-Event": "pull_request", "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": signature, "Content-Type": "application/json"}))

    async def one(session: aiohttp.ClientSession, i: int) -> None:
        body, headers = prepared[i]
        url = spec["urls"][i % len(spec["urls"])]
        async with gate:
            sent = time.time()
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as resp:
                await resp.read()
            number = spec["events"][i]["number"]
            results[str(number)] = [sent, time.perf_counter() - started, resp.status]

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(one(session, i) for i in range(len(spec["events"]))))
    return results


def histogram_median(text: str, name: str, label: str, q: float = 0.5) -> tuple[float, float]:
    """(upper bound of the bucket holding the ``q`` quantile, mean) of a Prometheus histogram
    (``label``: its label, or "" for one without)."""
    labels, inner = (f"{label}," if label else ""), (f"{{{label}}}" if label else "")
    buckets = [(float("inf") if b == "+Inf" else float(b), float(v)) for b, v in re.findall(
        rf'^{name}_bucket{{{labels}le="([^"]+)"}} (\S+)$', text, re.M)]
    count = re.search(rf"^{name}_count{inner} (\S+)$", text, re.M)
    total = re.search(rf"^{name}_sum{inner} (\S+)$", text, re.M)
    if not buckets or not count or float(count.group(1)) == 0:
        return 0.0, 0.0
    n = float(count.group(1))
    upper = next(b for b, v in sorted(buckets) if v >= n * q)
    return upper, float(total.group(1)) / n if total else 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def start_replica(emu: GitHubEmulator, api_url: str, tmp: Path, name: str,
                        database_url: str | None, workers: int,
                        role: str = "all") -> tuple[Any, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SSOT_", "DATABASE"))}
    env.update({"APP_ID": str(emu.app_id), "PRIVATE_KEY": emu.private_key_pem,
                "WEBHOOK_SECRET": SECRET, "GITHUB_API_URL": api_url, "HOST": "127.0.0.1",
                "PORT": str(port), "SSOT_WORKERS": str(workers),
                "SSOT_RECONCILE_MINUTES": "0", "LOG_LEVEL": "WARNING",
                "SSOT_STATE_DIR": str(tmp / name), "PYTHONPATH": str(ROOT)})
    if database_url:
        env["DATABASE_URL"] = database_url
    log = (tmp / f"{name}.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--port", str(port), "--role", role, env=env,
        cwd=str(tmp),
        stdout=log, stderr=log, stdin=asyncio.subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(f"{base}/healthz") as resp:
                    if resp.status == 200:
                        return proc, base
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{name} did not start; see {tmp / name}.log")


async def queries(session: aiohttp.ClientSession, bases: list[str]) -> float:
    total = 0.0
    for base in bases:
        async with session.get(f"{base}/metrics") as resp:
            text = await resp.text()
        match = re.search(r"^ssot_database_queries_total (\S+)$", text, re.M)
        total += float(match.group(1)) if match else 0.0
    return total


async def run_mode(mode: str, events: int, in_flight: int) -> dict[str, Any]:
    emu, heads = make_emulator(events)
    by_head = {sha: n for n, sha in heads.items()}
    tmp = Path(tempfile.mkdtemp(prefix=f"ssot-bench-{mode}-"))
    database_url = None
    admin: Any = None
    if mode != "single":
        import psycopg

        name = f"ssot_bench_{uuid.uuid4().hex[:10]}"
        admin = psycopg.connect(ADMIN_URL, autocommit=True)
        admin.execute(f'CREATE DATABASE "{name}"')
        database_url = f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    procs: list[Any] = []
    try:
        with EmulatorThread(emu) as thread:
            # the same engine worker processes in all: 2
            roles = {"single": ["all"], "shared": ["all", "all"],
                     "split": ["web", "worker", "worker"]}[mode]
            count = len(roles)
            bases, metric_bases = [], []
            for i, role in enumerate(roles):
                proc, base = await start_replica(emu, thread.url, tmp, f"r{i}", database_url,
                                                 workers=0 if role == "web" else
                                                 2 // roles.count("all" if mode != "split"
                                                                  else "worker"), role=role)
                procs.append(proc)
                metric_bases.append(base)
                if role != "worker":
                    bases.append(base)
            async with aiohttp.ClientSession() as session:
                idle_from, idle_q = time.monotonic(), await queries(session, metric_bases)
                await asyncio.sleep(3.0)
                idle_rate = (await queries(session, metric_bases) - idle_q) / (
                    time.monotonic() - idle_from)
                burst_q, burst_from = await queries(session, metric_bases), time.monotonic()
                spec = {"in_flight": in_flight, "urls": [f"{b}/api/github/webhooks" for b in bases],
                        "events": [{"number": n, "payload": emu.payload_pull_request(
                            REPO, n, "opened")} for n in heads]}
                (tmp / "spec.json").write_text(json.dumps(spec), "utf-8")
                client = await asyncio.create_subprocess_exec(
                    sys.executable, str(SCRIPT), "--role", "client",
                    str(tmp / "spec.json"), str(tmp / "acks.json"))
                await client.wait()
                answered = json.loads((tmp / "acks.json").read_text("utf-8"))
                sent = {int(n): v[0] for n, v in answered.items()}
                acks = [v[1] for v in answered.values()]
                first = min(sent.values())
                assert all(v[2] == 202 for v in answered.values()), answered
                done_at = 0.0
                for _ in range(6000):  # every check run completed, every review posted
                    runs = [r for r in list(emu.check_runs(REPO)) if r.status == "completed"]
                    reviews = [v for n in heads for v in list(emu.reviews(REPO, n))]
                    if len({r.head_sha for r in runs}) >= events and len(reviews) >= events:
                        done_at = max([r.completed_at or 0.0 for r in runs]
                                      + [v.submitted_at for v in reviews])
                        break
                    await asyncio.sleep(0.1)
                burst_seconds = time.monotonic() - burst_from
                used = (await queries(session, metric_bases) - burst_q
                        - idle_rate * burst_seconds)
                delivery_wait = (0.0, 0.0)
                store: tuple[float, float, float] | None = None
                if mode != "single":
                    texts = []
                    for base in metric_bases:
                        async with session.get(f"{base}/metrics") as resp:
                            texts.append(await resp.text())
                    waits = [histogram_median(t, "ssot_job_wait_seconds", 'kind="delivery"')
                             for t in texts]
                    delivery_wait = (max(w[0] for w in waits),
                                     sum(w[1] for w in waits) / len(waits))
                    stores = [(histogram_median(t, "ssot_delivery_store_seconds", ""),
                               histogram_median(t, "ssot_delivery_store_seconds", "", 0.99))
                              for t in texts]
                    stores = [s for s in stores if s[0][0]]  # the replicas that answer webhooks
                    store = (max(s[0][0] for s in stores), max(s[1][0] for s in stores),
                             sum(s[0][1] for s in stores) / len(stores)) if stores else None
            starts = []
            for r in list(emu.requests):
                if r.method == "POST" and r.path.endswith("/check-runs") and \
                        isinstance(r.json, dict) and r.json.get("head_sha") in by_head:
                    number = by_head[r.json["head_sha"]]
                    starts.append(r.at - sent[number])
            completed = {r.head_sha for r in emu.check_runs(REPO) if r.status == "completed"}
            return {
                "mode": mode, "replicas": count, "events": events,
                "ack_p50_ms": pct(acks, 0.5) * 1000, "ack_p99_ms": pct(acks, 0.99) * 1000,
                "ack_max_ms": max(acks) * 1000, "store": store,
                "delivery_job_p50_s": delivery_wait[0], "delivery_job_mean_s": delivery_wait[1],
                "start_p50_s": pct(starts, 0.5), "start_p90_s": pct(starts, 0.9),
                "start_max_s": max(starts) if starts else 0.0,
                "drain_s": (done_at - first) if done_at else float("nan"),
                "check_runs": len(emu.check_runs(REPO)), "completed_heads": len(completed),
                "reviews": sum(len(emu.reviews(REPO, n)) for n in heads),
                "db_statements_per_analysis": used / events if mode != "single" else None,
            }
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        for proc in procs:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(40):
                    await proc.wait()
        if admin is not None and database_url is not None:
            admin.execute(f'DROP DATABASE IF EXISTS "{database_url.rsplit("/", 1)[1]}" '
                          "WITH (FORCE)")
            admin.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    if sys.argv[1:2] == ["--role"]:  # the load client, started by the benchmark itself
        spec = json.loads(Path(sys.argv[3]).read_text("utf-8"))
        Path(sys.argv[4]).write_text(json.dumps(asyncio.run(send_burst(spec))), "utf-8")
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=20)
    parser.add_argument("--mode", choices=("single", "shared", "split", "both", "all"),
                        default="both")
    args = parser.parse_args()
    modes = {"both": ("single", "shared"), "all": ("single", "shared", "split")}.get(
        args.mode, (args.mode,))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for mode in modes:
        result = asyncio.run(run_mode(mode, args.events, args.in_flight))
        db = result["db_statements_per_analysis"]
        print(f"{mode:>6} ({result['replicas']} process{'es' if result['replicas'] > 1 else ''}"
              f"): ack p50 {result['ack_p50_ms']:.1f} ms, p99 {result['ack_p99_ms']:.1f} ms, "
              f"max {result['ack_max_ms']:.1f} ms; "
              + ("stored p50 <= {:.0f} ms, p99 <= {:.0f} ms (mean {:.1f} ms); ".format(
                  result["store"][0] * 1000, result["store"][1] * 1000,
                  result["store"][2] * 1000) if result["store"] else "")
              + (f"delivery job start p50 <= {result['delivery_job_p50_s']:.2f} s (mean "
                 f"{result['delivery_job_mean_s']:.3f} s); " if mode != "single" else "")
              + f"analysis start p50 {result['start_p50_s']:.2f} s, "
              f"p90 {result['start_p90_s']:.2f} s, max {result['start_max_s']:.2f} s; "
              f"drain {result['drain_s']:.1f} s; {result['check_runs']} check runs, "
              f"{result['completed_heads']} heads completed, {result['reviews']} reviews"
              + (f"; {db:.1f} PostgreSQL statements per analysis" if db is not None else ""))
        print(f"        load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
