"""Installations share the bot fairly (docs/behaviour.md §13), through the real service and the
GitHub emulator: while one installation's PR keeps every worker busy, another installation's
one-file PR gets its check; one installation's burst of jobs never holds every job slot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bot.service.jobs import FairSlots, JobQueue
from tests.integration.harness import INSTALLATION, REPO, Harness, running

OTHER_INSTALLATION = 9090
OTHER_REPO = "other-org/service"
CONFIG = ".github/ssot.yml"
HOSTILE_CONFIG = (
    "version: 1\nfile_time_budget: 60\nlimits: {analysis_time_budget: 15}\n"
    "rules:\n  - id: no-os-system\n    kind: banned-call\n    symbols: [os.system]\n"
    "    message: use subprocess.run\n")


def _hostile_file(n: int) -> str:
    """A file a rule matches whose parse keeps a worker busy for a minute (20,000 terms)."""
    return f"import os\nos.system('x{n}')\nx = " + " + ".join(["a"] * 20_000) + "\n"


async def _wait(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(120):
        while not condition():  # noqa: ASYNC110 - polling another party's state
            await asyncio.sleep(0.05)


def _add_other_installation(h: Harness) -> None:
    h.emu.add_installation(OTHER_INSTALLATION, OTHER_REPO.split("/")[0])
    # its own rule matches its file: the file is parsed in a worker, behind nobody
    h.emu.add_repo(OTHER_REPO, {CONFIG: HOSTILE_CONFIG, "app/main.py": "print('hello')\n"},
                   installation_id=OTHER_INSTALLATION)


async def test_other_installations_one_file_pr_completes_within_10_s_behind_a_hostile_pr(
) -> None:
    async with running({CONFIG: HOSTILE_CONFIG, "app/ok.py": "x = 1\n"}, workers=2) as h:
        _add_other_installation(h)
        pool = h.bot.workers.pool
        assert pool is not None
        h.emu.commit(REPO, "hostile", {f"app/h{n}.py": _hostile_file(n) for n in range(6)})
        hostile = h.emu.open_pull_request(REPO, "hostile")
        await h.send("pull_request", h.emu.payload_pull_request(REPO, hostile, "opened"),
                     settle=False)
        await _wait(lambda: pool.fair.running(INSTALLATION) == 2)  # every worker is busy

        h.emu.commit(OTHER_REPO, "fix", {"app/main.py": "import os\nos.system('ls')\n"})
        other = h.emu.open_pull_request(OTHER_REPO, "fix")
        started = time.monotonic()
        await h.send("pull_request", h.emu.payload_pull_request(OTHER_REPO, other, "opened"),
                     settle=False)
        await _wait(lambda: any(r.status == "completed"
                                for r in h.emu.check_runs(OTHER_REPO)))
        latency = time.monotonic() - started
        (theirs,) = h.emu.check_runs(OTHER_REPO)
        (hostile_run,) = h.emu.check_runs(REPO)
        assert theirs.conclusion == "failure"  # analysed: its os.system call found
        assert hostile_run.status == "in_progress"  # still busy, yet the other went first
        assert pool.fair.running(INSTALLATION) == 2  # it went first without waiting
        assert latency < 10, latency
        # the hostile PR still ends (its own analysis budget), never hangs in_progress
        await h.bot.idle()
        (hostile_run,) = h.emu.check_runs(REPO)
        assert hostile_run.status == "completed"


async def test_one_installations_burst_of_jobs_leaves_a_slot_for_another() -> None:
    queue = JobQueue(concurrency=3)
    gate = asyncio.Event()
    started: list[str] = []

    def job(name: str) -> object:
        async def run() -> None:
            started.append(name)
            if name.startswith("a"):
                await gate.wait()
        return run

    for n in range(10):
        queue.submit(("a", n), job(f"a{n}"), tenant="A")
    await asyncio.sleep(0.05)
    assert started == ["a0", "a1"]  # the last free slot is kept for a tenant with none
    queue.submit(("b", 0), job("b0"), tenant="B")
    await asyncio.sleep(0.05)
    assert started[-1] == "b0"
    gate.set()
    await queue.join()
    assert len(started) == 11


async def test_waiting_jobs_start_tenants_in_turn() -> None:
    slots = FairSlots(1)
    order: list[str] = []

    async def one(tenant: str, name: str) -> None:
        async with slots.hold(tenant):
            order.append(name)
            await asyncio.sleep(0)

    await asyncio.gather(*(one("A", f"a{n}") for n in range(4)),
                         *(one("B", f"b{n}") for n in range(2)))
    # a1 was waiting before B came; from then on A and B alternate
    assert order == ["a0", "a1", "b0", "a2", "b1", "a3"]


async def test_a_cancelled_waiter_gives_its_turn_away() -> None:
    slots = FairSlots(1)
    await slots.acquire("A")
    waiting = asyncio.ensure_future(slots.acquire("B"))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.sleep(0)
    slots.release("A")
    assert slots.free == 1
    await slots.acquire("C")
    assert slots.held("C") == 1
