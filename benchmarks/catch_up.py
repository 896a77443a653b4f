"""Requests one catch-up pass (docs/behaviour.md §12) makes, against the emulator.

    python benchmarks/catch_up.py [--installations 3] [--prs 50]

Each installation has one repository with ``--prs`` PRs updated in the last 24 hours: 80 %
open with this App's completed check run, 10 % open without one (to analyse), 10 % merged
with a tracking link. Runs the service's pass three times (the second finds nothing to do; the
third is a fresh pass, as after a restart, which re-reads the merged PRs' issues to find
nothing to do) and prints the requests of each by endpoint, the pass's own apart from the
analyses it queued.
Numbers only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from collections import Counter

from bot.github.retry import RetryPolicy
from bot.handlers import router
from bot.service.app import serving
from bot.service.context import Bot
from bot.settings import Settings
from bot.usecases.reconcile import Reconciler
from ssot_emulator import EmulatorServer, GitHubEmulator
from ssot_emulator.state import CheckRun

ISSUE_BODY = "# Tracking\n\n- [ ] **Step 1**: first\n- [ ] **Step 2**: second\n"
PASS_OWN = re.compile(r"^(GET /app/installations|POST /app/installations/\{id\}/access_tokens|"
                      r"GET /installation/repositories|GET /repos/\{r\}/pulls|"
                      r"GET /repos/\{r\}/commits/\{sha\}/check-runs|"
                      r"(GET|PATCH) /repos/\{r\}/issues/\{n\}(/comments)?|"
                      r"POST /repos/\{r\}/issues/\{n\}/comments)$")


def endpoint(method: str, path: str) -> str:
    path = re.sub(r"^/repos/[^/]+/[^/]+", "/repos/{r}", path)
    path = re.sub(r"/[0-9a-f]{40}", "/{sha}", path)
    path = re.sub(r"/\d+", lambda m: "/{id}" if "installations" in path else "/{n}", path)
    return f"{method} {path}"


def build(installations: int, prs: int) -> GitHubEmulator:
    emu = GitHubEmulator()
    for i in range(installations):
        installation = 100 + i
        full_name = f"org{i}/repo"
        emu.add_installation(installation, f"org{i}")
        emu.add_repo(full_name, {"README.md": "hello\n"}, installation_id=installation)
        issue = emu.create_issue(full_name, "Tracking", ISSUE_BODY)
        for n in range(prs):
            emu.commit(full_name, f"b{n}", {f"docs/n{n}.md": f"{n}\n"})
            kind = n % 10
            body = f"SSOT-Tracking: #{issue}\nSSOT-Step: {1 + n % 2}\n" if kind == 9 else None
            number = emu.open_pull_request(full_name, f"b{n}", body=body)
            if kind == 9:
                emu.merge_pull_request(full_name, number)
            elif kind != 8:
                head = emu.head_sha(full_name, number)
                suite = emu.check_suite(full_name, head)
                emu.add_check_run(full_name, CheckRun(
                    emu.next_id(), "SSOT", head, suite.id, "completed", "success", emu.clock(),
                    emu.clock(), {"title": "ok", "summary": "ok", "text": None,
                                  "annotations": []}, []))
    return emu


async def main(installations: int, prs: int) -> None:
    emu = build(installations, prs)
    async with EmulatorServer(emu) as api_url:
        settings = Settings(webhook_secrets=("s",), app_id=str(emu.app_id),
                            private_key=emu.private_key_pem, api_url=api_url, workers=0)
        bot = Bot(settings, retry=RetryPolicy(attempts=2))
        async with serving(bot, router):
            reconciler = Reconciler(bot.catch_up_parts(), interval=60)
            for number in (1, 2, 3):
                if number == 3:  # as after a restart: nothing remembered of earlier passes
                    await reconciler.stop()
                    reconciler = Reconciler(bot.catch_up_parts(), interval=60)
                start = len(emu.requests)
                began = time.perf_counter()
                stats = await reconciler.run_pass()
                await bot.idle()
                took = time.perf_counter() - began
                counts = Counter(endpoint(r.method, r.path) for r in emu.requests[start:])
                own = {k: v for k, v in counts.items() if PASS_OWN.match(k)}
                print(f"pass {number}: {installations} installations x {prs} PRs, "
                      f"{took:.2f} s; analysed {stats.analysed}, merges {stats.merges}, "
                      f"up to date {stats.up_to_date}")
                print(f"  the pass's own requests: {sum(own.values())}")
                for key, value in sorted(own.items()):
                    print(f"    {value:5d}  {key}")
                print(f"  requests of the analyses it queued: "
                      f"{sum(counts.values()) - sum(own.values())}")
            await reconciler.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--installations", type=int, default=3)
    parser.add_argument("--prs", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.installations, args.prs))
