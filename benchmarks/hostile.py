"""Hostile pull requests against the real service (docs/behaviour.md §13): numbers only.

    python benchmarks/hostile.py [--case stall|prepare|both]

*stall*: the service and the GitHub emulator on loopback (the integration harness, 2 worker
processes) analyse (a) a drive-by PR of five ~0.9 MiB re-export shims and a file importing
from them, and (b) the alias bomb (30,000 ``import old.Legacy as A<n>`` lines, 0.8 MiB, plus a
file with the real banned import); ``/healthz`` is asked every 20 ms by *another process*
(``tests/abuse/poller.py``): its max and p99 answer times, the wall time and the conclusion.

*prepare*: the alias bomb's preparation in this process, at 3,000 and 30,000 aliases: building
the re-export index, then compiling the pre-filter and planning a 100 KB file with it (CPU s).

Run it against other code with ``PYTHONPATH=<checkout>`` (the service's code, the harness and
the engine come from there; this script and the poller from here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
POLLER = HERE / "tests" / "abuse" / "poller.py"
AGENTS = "netra_backend/app/agents"
WS = "netra_backend.app.websocket_core.websocket_manager"
BOMB_CONFIG = ("version: 1\nrules:\n  - id: no-legacy\n    kind: banned-import\n"
               "    symbols: [old.Legacy]\n    message: use new.Thing\n")


def bomb(n: int) -> str:
    return "".join(f"import old.Legacy as A{i}\n" for i in range(n))


def shims() -> dict[str, str]:
    files = {}
    for n in range(5):
        files[f"{AGENTS}/shim{n}.py"] = (
            f"from {WS} import WebSocketManager as Manager{n}\nDATA = ["
            + ",".join(str(i % 10) for i in range(450_000)) + "]\n")
    files[f"{AGENTS}/user.py"] = "".join(
        f"from {AGENTS.replace('/', '.')}.shim{n} import Manager{n}\n" for n in range(5))
    return files


async def stall(name: str, base: dict[str, str] | None, pr: dict[str, str]) -> None:
    from tests.integration.harness import REPO, example_files, running

    files = None if base is None else {**example_files(), **base}
    async with running(files, workers=2) as h:
        h.emu.commit(REPO, "drive-by", pr)
        number = h.emu.open_pull_request(REPO, "drive-by", user="stranger")
        url = h.url.rsplit("/api/", 1)[0] + "/healthz"
        poller = await asyncio.create_subprocess_exec(
            sys.executable, str(POLLER), url, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE)
        assert poller.stdin is not None and poller.stdout is not None
        await poller.stdout.readline()
        started = time.perf_counter()
        await h.send("pull_request", h.emu.payload_pull_request(REPO, number, "opened"))
        wall = time.perf_counter() - started
        poller.stdin.close()
        times = sorted(json.loads(await poller.stdout.read()))
        await poller.wait()
        (run,) = h.emu.check_runs(REPO)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(f"{name:<34} /healthz from outside: max {times[-1] * 1000:7.0f} ms  "
          f"p99 {p99 * 1000:6.0f} ms  ({len(times)} answers)  analysis {wall:6.1f} s  "
          f"conclusion {run.conclusion}")


def prepare(sizes: list[int]) -> None:
    from bot.config.loader import load_config_text
    from bot.engine.reexports import build_index
    from bot.engine.run import _compiled, plan

    other = b"x = foo.bar(baz)\n" * 6000
    # the aliases in a module of their own, and inside the symbol's own package (each alias a
    # key under the package that holds the symbol: the case that was quadratic)
    cases = [("pkg/bomb.py", "old.Legacy", "import old.Legacy as A{}\n"),
             ("old/__init__.py", "old.core.Legacy", "from .core import Legacy as A{}\n")]
    for n, (path, symbol, line) in ((n, c) for c in cases for n in sizes):
        cfg = load_config_text(BOMB_CONFIG.replace("old.Legacy", symbol), "ssot.yml")
        text = "".join(line.format(i) for i in range(n))
        started = time.process_time()
        index = build_index([(path, text), ("pkg/use.py", "from pkg.bomb import A5\n")], cfg)
        built = time.process_time()
        prepared = index.as_config(cfg)
        _compiled(prepared)
        plan("pkg/other.py", other, prepared)
        done = time.process_time()
        print(f"alias bomb in {path:<15} {n:>6} aliases ({len(text) / 1e6:.2f} MB): "
              f"index {built - started:6.2f} s"
              f"  pre-filter + plan {done - built:6.2f} s  total {done - started:6.2f} s CPU"
              f"  ({len(index.entries)} re-exports)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", choices=("stall", "prepare", "both"), default="both")
    ap.add_argument("--sizes", default="3000,30000", help="alias counts for --case prepare")
    args = ap.parse_args()
    if args.case in ("prepare", "both"):
        prepare([int(n) for n in args.sizes.split(",")])
    if args.case in ("stall", "both"):
        asyncio.run(stall("five 0.9 MiB re-export shims", None, shims()))
        asyncio.run(stall("alias bomb (30,000 aliases)",
                          {".github/ssot.yml": BOMB_CONFIG, "old.py": "class Legacy: ...\n"},
                          {"pkg/bomb.py": bomb(30_000),
                           "pkg/use.py": "import os\nfrom old import Legacy\n"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
