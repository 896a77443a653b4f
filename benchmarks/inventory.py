"""The inventory (docs/behaviour.md §11) over a generated 10,000-file repository.

    python benchmarks/inventory.py [--files 10000] [--changed 10]

The repository is the running interpreter's standard library copied as often as needed, with a
legacy import added to one file in 50. The GitHub emulator runs in a child process (so its copy
of the repository does not count); the real service runs here with its process pool. Prints:
the full inventory (first push: tarball, every file analysed) wall time and the peak memory of
the service (this process plus its pool workers, sampled from /proc) and their CPU time (less
sensitive than the wall time to other work on the machine), then a push changing
``--changed`` files: GitHub requests made and wall time to the updated block. Numbers only.
Targets: full < 20 s and < 500 MB; push of 10 files <= 15 requests and < 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sysconfig
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = "bench/monorepo"
INSTALLATION = 77
SECRET = "bench-secret"  # noqa: S105 - a loopback benchmark's webhook secret
LEGACY = "from legacy.websocket_core import WebSocketManager  # the old way\n"
CONFIG = """version: 1
rules:
  - id: legacy-import
    kind: banned-import
    symbols: [legacy.websocket_core.WebSocketManager]
    use: modern.bridge.create_bridge
    message: Use modern.bridge.create_bridge.
tracking:
  inventory:
    - issue: 1
      rules: [legacy-import]
"""


def generate(count: int) -> dict[str, bytes]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    sources = sorted(p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts)
    files: dict[str, bytes] = {}
    copy = 0
    while len(files) < count:
        for path in sources:
            if len(files) >= count:
                break
            data = path.read_bytes()
            name = f"copy{copy}/{path.relative_to(stdlib).as_posix()}"
            if len(files) % 50 == 0:
                data = LEGACY.encode() + data
            files[name] = data
        copy += 1
    return files


def emulator_main(conn: Connection, count: int) -> None:
    """The child: the emulator with the repository, driven by commands over ``conn``."""
    from ssot_emulator import EmulatorServer, GitHubEmulator

    emu = GitHubEmulator()
    emu.add_installation(INSTALLATION, REPO.split("/")[0])
    files = generate(count)
    emu.add_repo(REPO, files, installation_id=INSTALLATION)
    emu.create_issue(REPO, "SSOT tracking", "## Steps\n- [ ] **Step 1**: audit\n")

    async def serve() -> None:
        async with EmulatorServer(emu) as url:
            conn.send((url, emu.app_id, emu.private_key_pem, len(files)))
            loop = asyncio.get_running_loop()
            while True:
                command: Any = await loop.run_in_executor(None, conn.recv)
                kind = command[0]
                if kind == "stop":
                    conn.send(None)
                    return
                if kind == "push":
                    _, changes, bot_url = command
                    before = emu.repo(REPO).branches["main"]
                    if changes == "legacy-fix":
                        tree = emu.repo(REPO).commits[before].tree
                        bad = [p for p in sorted(tree)
                               if emu.blobs[tree[p]].startswith(LEGACY.encode())][:10]
                        changes = {p: emu.blobs[tree[p]][len(LEGACY):] for p in bad}
                    after = emu.commit(REPO, "main", changes)
                    mark = len(emu.requests)
                    await emu.deliver(bot_url, SECRET, "push",
                                      emu.payload_push(REPO, before, after))
                    conn.send((after, mark))
                elif kind == "requests":
                    conn.send([f"{r.method} {r.path}" for r in emu.requests[command[1]:]])
                elif kind == "body":
                    conn.send(emu.issue(REPO, 1).body)

    asyncio.run(serve())


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


def _descendants(pid: int, exclude: int) -> list[int]:
    found: list[int] = []
    children: list[str] = []
    # every thread's children: the pool's forkserver is started from a worker thread
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children.extend((task / "children").read_text().split())
        except OSError:
            continue
    for child in map(int, children):
        if child != exclude:
            found.append(child)
            found.extend(_descendants(child, exclude))
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (its threads included)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def service_cpu(exclude: int) -> dict[int, float]:
    """CPU seconds of this process and its descendants but the emulator, by pid."""
    me = os.getpid()
    return {p: _cpu_seconds(p) for p in [me, *_descendants(me, exclude)]}


class PeakMemory(threading.Thread):
    """Peak of (this process + its descendants but the emulator) RSS, sampled every 20 ms."""

    def __init__(self, exclude: int) -> None:
        super().__init__(daemon=True)
        self.exclude, self.peak_kb, self.stop_flag = exclude, 0, False
        self.at_peak: dict[int, int] = {}  # pid -> RSS (KB) at the peak

    def run(self) -> None:
        me = os.getpid()
        while not self.stop_flag:
            each = {p: _rss_kb(p) for p in [me, *_descendants(me, self.exclude)]}
            total = sum(each.values())
            if total > self.peak_kb:
                self.peak_kb, self.at_peak = total, each
            time.sleep(0.02)


PROBES: list[float] = []


async def health_probe(url: str) -> None:
    """GET /healthz every 20 ms; each answer's time into PROBES (the service's event loop
    stays responsive while the inventory runs: its CPU work is in threads and processes)."""
    import aiohttp

    base = url.split("/api/", 1)[0]
    async with aiohttp.ClientSession() as session:
        while True:
            sent = time.perf_counter()
            async with session.get(f"{base}/healthz") as response:
                await response.read()
            PROBES.append(time.perf_counter() - sent)
            await asyncio.sleep(0.02)


async def bench(count: int, changed: int) -> None:
    from bot.handlers import router
    from bot.service.app import serving
    from bot.service.context import Bot
    from bot.settings import Settings
    from bot.state.store import open_store

    parent, child = multiprocessing.Pipe()
    emulator = multiprocessing.get_context("fork").Process(target=emulator_main,
                                                           args=(child, count), daemon=True)
    emulator.start()
    loop = asyncio.get_running_loop()

    async def recv() -> Any:  # the service shares this loop: never block it
        return await loop.run_in_executor(None, parent.recv)

    url, app_id, key, files = await recv()
    print(f"repository: {files:,} files ({REPO}), emulator pid {emulator.pid}")
    with tempfile.TemporaryDirectory() as state:
        settings = Settings(webhook_secrets=(SECRET,), app_id=str(app_id), private_key=key,
                            api_url=url, state_dir=state)
        bot = Bot(settings)
        bot.store = open_store(state)
        async with serving(bot, router) as bot_url:
            await bot.idle()  # the pool's warm-up
            memory = PeakMemory(exclude=emulator.pid or -1)
            memory.start()
            cpu_before = service_cpu(emulator.pid or -1)
            emulator_before = _cpu_seconds(emulator.pid or -1)
            probe = asyncio.ensure_future(health_probe(bot_url))
            started = time.perf_counter()
            parent.send(("push", {".github/ssot.yml": CONFIG}, bot_url))
            _sha, mark = await recv()
            await bot.idle()
            full = time.perf_counter() - started
            probe.cancel()
            answers = sorted(await asyncio.gather(probe, return_exceptions=True) and PROBES)
            cpu_after = service_cpu(emulator.pid or -1)
            cpu = sum(t - cpu_before.get(p, 0.0) for p, t in cpu_after.items())
            emulator_cpu = _cpu_seconds(emulator.pid or -1) - emulator_before
            memory.stop_flag = True
            memory.join()
            parent.send(("requests", mark))
            made = await recv()
            parent.send(("body",))
            body = await recv()
            line = next((ln for ln in body.splitlines() if "violations left" in ln), "?")
            parts = sorted(memory.at_peak.values(), reverse=True)
            print(f"full inventory: {full:.1f} s wall, peak memory of the service "
                  f"{memory.peak_kb / 1024:.0f} MB ({len(parts)} processes: "
                  f"{', '.join(f'{kb / 1024:.0f}' for kb in parts)} MB), "
                  f"{len(made)} GitHub requests")
            print(f"  CPU of the service (process and pool): {cpu:.1f} s; of this machine's "
                  f"{os.cpu_count()} cores, {cpu / full / (os.cpu_count() or 1):.0%} busy "
                  f"with it on average; the emulator (making the tarball): {emulator_cpu:.1f} s")
            print(f"  {line}")
            if answers:
                print(f"  /healthz during the run ({len(answers)} requests, one every 20 ms): "
                      f"p50 {answers[len(answers) // 2] * 1000:.1f} ms, "
                      f"p99 {answers[int(len(answers) * 0.99)] * 1000:.1f} ms, "
                      f"max {answers[-1] * 1000:.1f} ms")

            started = time.perf_counter()
            parent.send(("push", "legacy-fix" if changed == 10 else {}, bot_url))
            _sha, mark = await recv()
            await bot.idle()
            push = time.perf_counter() - started
            parent.send(("requests", mark))
            made = await recv()
            parent.send(("body",))
            body = await recv()
            line = next((ln for ln in body.splitlines() if "violations left" in ln), "?")
            print(f"push of {changed} files: {push:.2f} s wall to the updated block, "
                  f"{len(made)} GitHub requests")
            for request in made:
                print(f"    {request}")
            print(f"  {line}")
        parent.send(("stop",))
        await recv()
    emulator.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=10, choices=[10])
    args = parser.parse_args()
    asyncio.run(bench(args.files, args.changed))


if __name__ == "__main__":
    main()
