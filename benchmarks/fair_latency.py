"""Another installation's latency behind a hostile PR (docs/behaviour.md §13).

    python benchmarks/fair_latency.py [--workers 2] [--hostile-files 6] [--wait 3]

The real service (its process pool of ``--workers``) and the GitHub emulator on loopback.
Installation A opens a PR of ``--hostile-files`` files that each keep a worker busy for up to
its 60 s ``file_time_budget`` (a 20,000-term expression a rule's word reaches); ``--wait``
seconds later, when every worker is busy with them, installation B opens a one-file PR whose
file a rule of B's own configuration matches (so it is parsed in a worker). Prints B's latency:
webhook sent -> B's check run completed, next to the same PR's latency on an idle service
(measured first, after a warm-up PR). A's analysis is then cut by its own
``analysis_time_budget`` (30 s). Run it with ``PYTHONPATH`` pointing at another checkout to
measure that checkout's code. Numbers only.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bot.github.client import RetryPolicy
from bot.handlers import router
from bot.service.app import serving
from bot.service.context import Bot
from bot.settings import Settings
from ssot_emulator import EmulatorServer, GitHubEmulator

SECRET = "bench-secret"  # noqa: S105 - a loopback benchmark's webhook secret
RULES = ("rules:\n  - id: no-os-system\n    kind: banned-call\n    symbols: [os.system]\n"
         "    message: use subprocess.run\n")
HOSTILE_CONFIG = "version: 1\nfile_time_budget: 60\nlimits: {analysis_time_budget: 30}\n" + RULES
OTHER_CONFIG = "version: 1\n" + RULES


def hostile_file(n: int) -> str:
    return f"import os\nos.system('x{n}')\nx = " + " + ".join(["a"] * 20_000) + "\n"


async def main(workers: int, files: int, wait: float) -> None:
    emu = GitHubEmulator()
    emu.add_installation(1, "hostile")
    emu.add_repo("hostile/repo", {".github/ssot.yml": HOSTILE_CONFIG, "app/ok.py": "x = 1\n"},
                 installation_id=1)
    emu.add_installation(2, "other")
    emu.add_repo("other/repo", {".github/ssot.yml": OTHER_CONFIG,
                                "app/main.py": "print('hello')\n"}, installation_id=2)
    async with EmulatorServer(emu) as api_url:
        settings = Settings(webhook_secrets=(SECRET,), app_id=str(emu.app_id),
                            private_key=emu.private_key_pem, api_url=api_url, workers=workers,
                            reconcile_minutes=0)
        bot = Bot(settings, retry=RetryPolicy(attempts=2))
        async with serving(bot, router) as url:

            async def other_pr(n: int) -> float:
                fix = f"import os\nos.system('{n}')\n"
                emu.commit("other/repo", f"fix{n}", {"app/main.py": fix})
                other = emu.open_pull_request("other/repo", f"fix{n}")
                started = time.perf_counter()
                await emu.deliver(url, SECRET, "pull_request",
                                  emu.payload_pull_request("other/repo", other, "opened"))
                while sum(r.status == "completed"  # noqa: ASYNC110 - the emulator's state
                          for r in emu.check_runs("other/repo")) < n:
                    await asyncio.sleep(0.02)
                return time.perf_counter() - started

            await other_pr(1)  # warm-up: token, configuration, worker start
            idle = await other_pr(2)
            emu.commit("hostile/repo", "h", {f"app/h{n}.py": hostile_file(n)
                                             for n in range(files)})
            hostile = emu.open_pull_request("hostile/repo", "h")
            await emu.deliver(url, SECRET, "pull_request",
                              emu.payload_pull_request("hostile/repo", hostile, "opened"))
            await asyncio.sleep(wait)
            behind = await other_pr(3)
            hostile_done = any(r.status == "completed" for r in emu.check_runs("hostile/repo"))
            print(f"workers {workers}, hostile files {files}: the other installation's one-file "
                  f"PR checked in {behind:.2f} s behind the hostile PR, {idle:.2f} s on an idle "
                  f"service (hostile PR finished first: {hostile_done})")
            await bot.idle()

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hostile-files", type=int, default=6)
    parser.add_argument("--wait", type=float, default=3.0)
    args = parser.parse_args()
    asyncio.run(main(args.workers, args.hostile_files, args.wait))
