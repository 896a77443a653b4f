"""The catch-up pass (docs/behaviour.md §12) end to end: what happened on GitHub while the
service was down is found at the next start, said once, never twice; a pass is bounded per
installation and paced under the rate limit."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot import logs
from bot.demo import FACTORY
from bot.handlers import router
from bot.service.app import serving
from bot.service.context import Bot
from bot.settings import Settings
from bot.usecases.reconcile import PassStats, Reconciler
from ssot_emulator import OPENAPI_SUBSET, EmulatorServer, GitHubEmulator
from ssot_emulator.state import CheckRun
from tests.integration.harness import (
    DATA,
    FAST_RETRIES,
    INSTALLATION,
    REPO,
    SECRET,
    example_before,
    example_files,
    running,
)

SEED = (DATA / "tracking-issue-1103.md").read_bytes().decode("utf-8")
EXPECTED = Path(__file__).resolve().parent.parent / "tracking" / "expected"


def emulator() -> GitHubEmulator:
    emu = GitHubEmulator(OPENAPI_SUBSET)
    emu.validate_responses = True
    return emu


@contextlib.asynccontextmanager
async def service(emu: GitHubEmulator, api_url: str, *,
                  reconcile_minutes: float = 30.0) -> AsyncIterator[tuple[Bot, str]]:
    """The real service against ``emu`` (which outlives it: stop and start it again); yields
    the bot and the service's base URL."""
    settings = Settings(webhook_secrets=(SECRET,), app_id=str(emu.app_id),
                        private_key=emu.private_key_pem, api_url=api_url, workers=0,
                        reconcile_minutes=reconcile_minutes)
    bot = Bot(settings, retry=FAST_RETRIES)
    async with serving(bot, router) as url:
        yield bot, url.rsplit("/api/", 1)[0]
        await bot.idle()


async def first_pass(emu: GitHubEmulator, api_url: str) -> PassStats:
    """The service started against ``emu`` until its first catch-up pass and the work that
    pass started are done; the pass's stats."""
    async with service(emu, api_url) as (bot, _):
        assert bot.reconciler is not None
        stats = await bot.reconciler.wait_passes(1)
        await bot.idle()
    return stats


def writes(emu: GitHubEmulator) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in emu.requests if r.method in ("POST", "PATCH")
            and not r.path.endswith("/access_tokens")]


def completed_run(emu: GitHubEmulator, full_name: str, number: int, *,
                  app_id: int | None = None, status: str = "completed") -> None:
    """A check run on the PR's head, as if an earlier analysis (or another App) made it."""
    head = emu.head_sha(full_name, number)
    suite = emu.check_suite(full_name, head)
    emu.add_check_run(full_name, CheckRun(
        emu.next_id(), "SSOT", head, suite.id, status,
        "success" if status == "completed" else None, emu.clock(),
        emu.clock() if status == "completed" else None,
        {"title": "ok", "summary": "ok", "text": None, "annotations": []}, [],
        app_id=app_id))


async def test_what_happened_while_down_is_caught_up_once() -> None:
    emu = emulator()
    emu.add_installation(INSTALLATION, REPO.split("/")[0])
    emu.add_repo(REPO, example_before(), installation_id=INSTALLATION)
    issue = emu.create_issue(REPO, "SSOT Regression: WebSocket Factory Fragmentation", SEED)
    async with EmulatorServer(emu) as api_url:
        stats = await first_pass(emu, api_url)  # up: nothing to catch up
        assert (stats.installations, stats.pull_requests) == (1, 0)
        # down: a PR is opened and a linked PR is merged; no webhook reaches anyone
        emu.commit(REPO, "feature", {FACTORY: example_files()[FACTORY]})
        opened = emu.open_pull_request(REPO, "feature")
        emu.commit(REPO, "step-1", {"tests/test_factory.py": "def test_x():\n    pass\n"})
        linked = emu.open_pull_request(
            REPO, "step-1", body=f"Fixes it.\n\nSSOT-Tracking: #{issue}\nSSOT-Step: 1\n")
        emu.merge_pull_request(REPO, linked)

        async with service(emu, api_url) as (bot, base):  # up again
            assert bot.reconciler is not None
            stats = await bot.reconciler.wait_passes(1)
            await bot.idle()
            assert (stats.pull_requests, stats.analysed, stats.merges) == (2, 1, 1)
            metrics = await scrape(base)
        [run] = emu.check_runs(REPO)
        assert run.head_sha == emu.head_sha(REPO, opened)
        assert (run.status, run.conclusion) == ("completed", "failure")
        assert len(emu.reviews(REPO, opened)) == 1
        today = dt.datetime.now(dt.UTC).date().isoformat()
        want = (EXPECTED / "after-step-1.md").read_bytes().decode("utf-8").replace(
            "2025-09-20 - Step 1 completed via #1201", f"{today} - Step 1 completed via #{linked}")
        assert emu.issue(REPO, issue).body == want
        [done] = emu.issue(REPO, issue).comments
        assert f"<!-- ssot-bot:step-done pr={linked} steps=1 -->" in done.body
        assert metrics[("ssot_reconcile_passes_total", (("outcome", "ok"),))] == 1
        assert metrics[("ssot_reconcile_prs_analysed_total", ())] == 1
        assert metrics[("ssot_reconcile_merges_applied_total", ())] == 1

        # restarted again: nothing is said or written twice
        before = writes(emu)
        stats = await first_pass(emu, api_url)
        assert (stats.analysed, stats.up_to_date, stats.merges) == (0, 1, 1)
        assert writes(emu) == before
        assert emu.issue(REPO, issue).body == want
        assert len(emu.issue(REPO, issue).comments) == 1
    assert emu.openapi_violations == [] and emu.response_violations == []


async def scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with aiohttp.ClientSession() as session, session.get(f"{base}/metrics") as resp:
        text = await resp.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_an_analysis_cut_off_by_a_crash_is_found_by_the_next_pass() -> None:
    emu = emulator()
    emu.add_installation(INSTALLATION, REPO.split("/")[0])
    emu.add_repo(REPO, example_before(), installation_id=INSTALLATION)
    numbers = []
    for branch in ("crashed", "other-app", "done"):
        emu.commit(REPO, branch, {f"docs/{branch}.md": "text\n"})
        numbers.append(emu.open_pull_request(REPO, branch))
    crashed, other_app, done = numbers
    completed_run(emu, REPO, crashed, status="in_progress")  # the service died mid-analysis
    completed_run(emu, REPO, other_app, app_id=99)  # another App's check counts for nothing
    completed_run(emu, REPO, done)
    async with EmulatorServer(emu) as api_url, service(emu, api_url) as (bot, _):
        assert bot.reconciler is not None
        stats = await bot.reconciler.wait_passes(1)
        await bot.idle()
        assert (stats.analysed, stats.up_to_date) == (2, 1)
    ours = [r for r in emu.check_runs(REPO) if r.app_id is None]
    heads = {r.head_sha for r in ours if r.status == "completed" and r.output["title"] != "ok"}
    assert heads == {emu.head_sha(REPO, crashed), emu.head_sha(REPO, other_app)}
    checks = [r for r in emu.requests if "/check-runs" in r.path and r.method == "GET"]
    assert all(r.query.get("app_id") == str(emu.app_id) for r in checks)
    assert emu.openapi_violations == [] and emu.response_violations == []


def many_prs(emu: GitHubEmulator, full_name: str, count: int, *, unchecked: int = 0,
             old: int = 0) -> None:
    """``count`` open PRs updated now (all but the newest ``unchecked`` already have this
    App's completed check run) and ``old`` more last updated two days ago."""
    for n in range(old + count):
        emu.commit(full_name, f"b{n}", {f"docs/n{n}.md": f"{n}\n"})
        number = emu.open_pull_request(full_name, f"b{n}", title=f"PR {n}")
        if n < old:
            emu.issue(full_name, number).updated_at = emu.clock() - 2 * 86400
        elif n < old + count - unchecked:
            completed_run(emu, full_name, number)


def world(spec: Mapping[int, list[tuple[str, int, int, int]]]) -> GitHubEmulator:
    """installation -> [(repository, recent PRs, of them unchecked, old PRs)]."""
    emu = emulator()
    for installation, repos in spec.items():
        emu.add_installation(installation, f"org{installation}")
        for name, count, unchecked, old in repos:
            full_name = f"org{installation}/{name}"
            emu.add_repo(full_name, {"README.md": "hello\n"}, installation_id=installation)
            many_prs(emu, full_name, count, unchecked=unchecked, old=old)
    return emu


def per_repo(emu: GitHubEmulator, since: int = 0) -> dict[str, dict[str, int]]:
    """Requests of the pass by repository: PR list pages and check-run look-ups."""
    out: dict[str, dict[str, int]] = {}
    for r in emu.requests[since:]:
        parts = r.path.split("/")
        if r.method != "GET" or len(parts) < 5 or parts[1] != "repos":
            continue
        name = f"{parts[2]}/{parts[3]}"
        kind = "lists" if parts[4] == "pulls" and len(parts) == 5 else \
            "checks" if parts[-1] == "check-runs" else None
        if kind:
            out.setdefault(name, {"lists": 0, "checks": 0})[kind] += 1
    return out


async def test_a_pass_is_bounded_per_installation_and_stops_paging_at_24_hours() -> None:
    emu = world({301: [("a", 60, 2, 5), ("b", 60, 2, 5)],
                 302: [("c", 50, 3, 0)],
                 303: [("d", 30, 0, 40), ("e", 20, 1, 0)]})
    async with EmulatorServer(emu) as api_url, \
            service(emu, api_url, reconcile_minutes=0) as (bot, _):
        reconciler = Reconciler(bot.catch_up_parts(), interval=60)
        stats = await reconciler.run_pass()
        await bot.idle()
    assert stats.installations == 3 and stats.repositories == 5
    assert stats.pull_requests == 100 + 50 + 50  # 301 has 120 recent PRs: 100 are looked at
    assert stats.cut_at_bound == 1
    seen = per_repo(emu)
    assert seen["org301/a"] == {"lists": 1, "checks": 60}
    assert seen["org301/b"] == {"lists": 1, "checks": 40}  # what the bound leaves
    assert seen["org303/d"] == {"lists": 1, "checks": 30}  # one page: paging stops at old PRs
    assert stats.analysed == 2 + 2 + 3 + 1
    lists = [r for r in emu.requests if r.path.endswith("/pulls") and r.method == "GET"]
    assert all((r.query["state"], r.query["sort"], r.query["direction"])
               == ("all", "updated", "desc") for r in lists)
    assert emu.openapi_violations == [] and emu.response_violations == []


async def test_a_pass_slows_down_and_stops_before_the_rate_limit() -> None:
    emu = world({401: [("a", 50, 5, 0)], 402: [("b", 50, 5, 0)], 403: [("c", 50, 5, 0)]})
    emu.enforce_rate_limits = True  # an empty bucket answers 403, as GitHub does
    emu.set_rate_limit(402, 1500, reset_in=100)  # under half: spread what is left
    emu.set_rate_limit(403, 40)  # fewer requests left than the pass would need
    slept: list[tuple[Any, float]] = []

    async def sleep(delay: float) -> None:
        slept.append((logs.current().get("installation"), delay))

    async with EmulatorServer(emu) as api_url, \
            service(emu, api_url, reconcile_minutes=0) as (bot, _):
        reconciler = Reconciler(bot.catch_up_parts(), interval=60, sleep=sleep)
        stats = await reconciler.run_pass()
        await bot.idle()
    assert [r for r in emu.requests if r.status == 403] == []
    assert stats.rate_limited == 1
    seen = per_repo(emu)
    assert "org403/c" not in seen  # stopped before its PRs: left for a later pass
    assert seen["org401/a"]["checks"] == seen["org402/b"]["checks"] == 50
    paced = [d for who, d in slept if who == 402]
    assert len(paced) >= 50 and all(0 < d <= 30 for d in paced)
    assert not [d for who, d in slept if who == 401]
    assert stats.analysed == 10
    assert emu.openapi_violations == [] and emu.response_violations == []


async def test_passes_repeat_on_the_interval_and_stopping_cancels_one_in_flight() -> None:
    emu = world({501: [("a", 3, 0, 0)]})
    async with EmulatorServer(emu) as api_url:
        async with service(emu, api_url, reconcile_minutes=0.0005) as (bot, _):  # 30 ms
            assert bot.reconciler is not None
            stats = await bot.reconciler.wait_passes(3)
            assert (stats.pull_requests, stats.up_to_date, stats.analysed) == (3, 3, 0)
        emu.latency = 0.2  # a slow GitHub: the service stops in the middle of a pass
        async with service(emu, api_url) as (bot, _):
            reconciler = bot.reconciler
            assert reconciler is not None
            # the emulator's request log says when the pass is under way
            while not any(r.path.endswith("/installation/repositories")  # noqa: ASYNC110
                          for r in emu.requests[-3:]):
                await asyncio.sleep(0.01)
        assert reconciler.passes == 0 and reconciler._task is None
    async with EmulatorServer(emu) as api_url, \
            service(emu, api_url, reconcile_minutes=0) as (bot, _):
        assert bot.reconciler is None  # 0 turns catching up off, the pass at start included


async def test_a_pass_never_rewinds_what_a_later_merge_wrote() -> None:
    async with running() as h:
        issue = h.emu.create_issue(REPO, "Tracking", SEED)
        merged = []
        for step in ("1", "2"):
            number = await h.open_pr({f"tests/test_step_{step}.py": "X = 1\n"},
                                     branch=f"step-{step}",
                                     body=f"SSOT-Tracking: #{issue}\nSSOT-Step: {step}\n")
            h.emu.merge_pull_request(REPO, number)
            await h.send("pull_request", h.emu.payload_pull_request(REPO, number, "closed"))
            merged.append(number)
        body = h.emu.issue(REPO, issue).body
        assert f"Step 2 completed via #{merged[1]}" in (body or "")
        before = writes(h.emu)
        stats = await Reconciler(h.bot.catch_up_parts(), interval=60).run_pass()
        await h.bot.idle()
        assert stats.merges == 2
        assert h.emu.issue(REPO, issue).body == body  # not back to "Step 1 ... via #first"
        assert writes(h.emu) == before


async def test_a_pr_opened_while_down_gets_its_open_move_from_the_catch_up_pass() -> None:
    """docs/behaviour.md §12: the catch-up pass applies the open/edit move (PENDING -> IN
    PROGRESS) of a PR opened while the bot was down, as the `opened` webhook would have."""
    emu = emulator()
    emu.add_installation(INSTALLATION, REPO.split("/")[0])
    emu.add_repo(REPO, example_before(), installation_id=INSTALLATION)
    issue = emu.create_issue(REPO, "Tracking", SEED)
    emu.set_permission(REPO, "octocat", "write")  # a maintainer's PR
    emu.commit(REPO, "step-2", {"tests/test_plan.py": "X = 1\n"})
    opened = emu.open_pull_request(REPO, "step-2", user="octocat",
                                   body=f"SSOT-Tracking: #{issue}\nSSOT-Step: 2\n")
    async with EmulatorServer(emu) as api_url:
        stats = await first_pass(emu, api_url)
        assert (stats.analysed, stats.started) == (1, 1)
        want = (EXPECTED / "started-step-2.md").read_bytes().decode("utf-8")
        assert emu.issue(REPO, issue).body == want
        assert emu.issue(REPO, issue).comments == []
        [run] = emu.check_runs(REPO)
        assert run.head_sha == emu.head_sha(REPO, opened)
        # up again: the PR has its check now; nothing is moved or written twice
        before = writes(emu)
        stats = await first_pass(emu, api_url)
        assert (stats.analysed, stats.started, stats.up_to_date) == (0, 0, 1)
        assert writes(emu) == before
