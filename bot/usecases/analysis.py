"""The pull request analysis job, shared by every trigger (PR events, `/ssot recheck`, re-runs).

Fetch (config at base, changed files, blobs at head) -> engine (process pool) -> report ->
write back (check run, review). Everything GitHub-shaped comes from :mod:`bot.report.github`;
every call goes through :mod:`bot.github.client`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import aiohttp
import gidgethub

from bot.config.globs import path_matches
from bot.config.loader import bundled_config, load_config_text
from bot.config.model import Config, ConfigError, ConfigProblem
from bot.engine.diff import added_lines_from_patch, commentable_lines_from_patch, mark_new
from bot.engine.imports import reexport_entries
from bot.engine.model import FileError, Violation
from bot.engine.pool import portable
from bot.engine.reexports import symbols_of
from bot.engine.run import holds_symbol_word, rules_for_path
from bot.github.client import Repo
from bot.report.github import (
    RECHECK_ACTION,
    CheckRunReport,
    ReviewComment,
    annotation_batches,
    check_run_report,
    fingerprints_in,
    invalid_config_report,
    plan_review,
    review_body,
)
from bot.service import logs
from bot.service.context import Bot
from bot.usecases import fixed as fixed_comments
from bot.usecases.budget import (
    TIMED_OUT_TITLE,
    AnalysisContext,
    oversized,
    plan_fetches,
    timed_out_summary,
)
from bot.usecases.inventory import pull_request_note
from bot.usecases.modules import ModuleReads, cache_for, reexport_config

log = logging.getLogger(__name__)

REPO_CONFIG_PATH = ".github/ssot.yml"
JOB_ATTEMPTS = 3
BLOB_CONCURRENCY = 16
T = TypeVar("T")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def submit_analysis(bot: Bot, installation_id: int, full_name: str, number: int) -> str:
    """Queue an analysis of the PR's newest head; coalesces with queued/running ones."""
    key = ("analysis", full_name.lower(), number)
    context = logs.current()

    async def job() -> None:
        token = logs.bind(**context, pr=number)
        try:
            for attempt in range(1, JOB_ATTEMPTS + 1):
                try:
                    await analyse_pull_request(bot, installation_id, full_name, number)
                    return
                except (gidgethub.GitHubBroken, aiohttp.ClientError, TimeoutError) as exc:
                    # GitHub stayed down through the client's retries: try the whole analysis
                    # again later rather than drop it.
                    if attempt == JOB_ATTEMPTS:
                        raise
                    delay = bot.retry.max_delay
                    log.warning("analysis failed on GitHub errors; trying again", extra={
                        "pr": number, "error": type(exc).__name__, "delay": delay})
                    await asyncio.sleep(delay)
        finally:
            logs.unbind(token)

    outcome = bot.jobs.submit(key, job)
    log.info("analysis %s", outcome, extra={"pr": number})
    return outcome


async def _bounded_gather(limit: int, calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    sem = asyncio.Semaphore(limit)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with sem:
            return await call()

    return list(await asyncio.gather(*(one(c) for c in calls)))


async def load_repo_config(repo: Repo, base_ref: str) -> Config:
    """The base branch's `.github/ssot.yml` (a PR cannot loosen its own rules), else the default."""
    raw = await repo.file_at(REPO_CONFIG_PATH, base_ref)
    if raw is None:
        # parsed and schema-checked on first use (~0.1 s of CPU): never on the event loop
        return await asyncio.to_thread(bundled_config)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigProblem(REPO_CONFIG_PATH, 1, None,
                                         "configuration is not UTF-8 text")]) from exc
    # a config may be up to 1 MiB of YAML: parse it off the event loop
    return await asyncio.to_thread(load_config_text, text, REPO_CONFIG_PATH)


def _output(report: CheckRunReport, annotations: list[dict[str, Any]]) -> dict[str, Any]:
    output: dict[str, Any] = {"title": report.title, "summary": report.summary,
                              "annotations": annotations}
    if report.text:
        output["text"] = report.text
    return output


async def analyse_pull_request(bot: Bot, installation_id: int, full_name: str, number: int) -> None:
    started = time.perf_counter()
    repo = bot.repo(installation_id, full_name)
    pr = await repo.pull(number)
    if pr.get("state") != "open":
        log.info("pull request is not open; not analysed", extra={"pr": number})
        return
    head_sha: str = pr["head"]["sha"]
    try:
        config = await load_repo_config(repo, pr["base"]["ref"])
    except ConfigError as exc:
        report = invalid_config_report(exc.problems)
        default = await asyncio.to_thread(bundled_config)
        await repo.create_check_run({
            "name": default.check_name, "head_sha": head_sha, "status": "completed",
            "conclusion": report.conclusion, "completed_at": _now(),
            "output": {"title": report.title, "summary": report.summary},
            "actions": [RECHECK_ACTION],
        })
        log.info("invalid configuration", extra={"problems": len(exc.problems)})
        return

    check = await repo.create_check_run({
        "name": config.check_name, "head_sha": head_sha, "status": "in_progress",
        "started_at": _now(),
        "output": {"title": "Analysing…", "summary": "ssot-bot is checking the changed files."},
    })
    deadline = asyncio.timeout(config.limits.analysis_time_budget)
    try:
        async with deadline:
            ctx = AnalysisContext(repo, number, head_sha, config, await repo.tree(head_sha))
            violations, errors, files_checked, files, reads = await _analyse(bot, ctx)
            # the bot's own inline comments whose findings are gone (docs/behaviour.md §12)
            fixed = await fixed_comments.plan(repo, number, head_sha, violations, files, errors)
            # many findings make this a few hundred ms of CPU: keep it off the event loop
            report = await asyncio.to_thread(
                functools.partial(check_run_report, violations, errors, config,
                                  files_checked=files_checked, fixed=fixed.fixed))
    except Exception as exc:
        if isinstance(exc, TimeoutError) and deadline.expired():
            # fail closed (§13): GitHub counts a neutral check as passing
            await repo.update_check_run(check["id"], {
                "status": "completed", "conclusion": "failure", "completed_at": _now(),
                "output": {"title": TIMED_OUT_TITLE, "summary": timed_out_summary(
                    config.limits.analysis_time_budget)}, "actions": [RECHECK_ACTION]})
            log.warning("analysis timed out", extra={"pr": number})
            return
        await repo.update_check_run(check["id"], {
            "status": "completed", "conclusion": "failure", "completed_at": _now(),
            "output": {"title": "SSOT analysis failed",
                       "summary": "ssot-bot could not finish this analysis (GitHub or the "
                                  "analysis failed after retries). Use **Re-run SSOT** to try "
                                  "again."},
            "actions": [RECHECK_ACTION],
        })
        raise

    if reads is not None:  # re-exports read from the head (docs/behaviour.md §10)
        report = dataclasses.replace(report, summary=f"{report.summary}\n\n{reads.summary()}")
    note = await _inventory_note(bot, repo, pr, config, violations)
    if note:  # docs/behaviour.md §11: pre-existing inventory violations the PR removes
        report = dataclasses.replace(report, summary=f"{report.summary}\n\n{note}")
    batches = annotation_batches(report.annotations) or [[]]
    for batch in batches[:-1]:
        await repo.update_check_run(check["id"], {"output": _output(report, batch)})
    await repo.update_check_run(check["id"], {
        "status": "completed", "conclusion": report.conclusion, "completed_at": _now(),
        "output": _output(report, batches[-1]), "actions": [RECHECK_ACTION],
    })
    await fixed_comments.apply(repo, number, head_sha, fixed)
    await _review(repo, number, head_sha, config, violations, files, check["id"],
                  already=set(fixed.open))
    log.info("analysis finished", extra={
        "pr": number, "files": files_checked, "violations": len(violations),
        "new": sum(v.new for v in violations), "conclusion": report.conclusion,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1)})


async def _analyse(
    bot: Bot, ctx: AnalysisContext
) -> tuple[list[Violation], list[FileError], int, list[dict[str, Any]], ModuleReads | None]:
    repo, config = ctx.repo, ctx.config
    files = await repo.pull_files(ctx.number)
    # path matching is CPU on hostile globs and paths: never on the event loop
    checked = await asyncio.to_thread(
        lambda: [f for f in files
                 if f.get("status") != "removed" and path_matches(config.paths, f["filename"])])
    ctx.files = checked
    planned = plan_fetches(checked, ctx.tree, config.limits)
    contents = await _bounded_gather(
        BLOB_CONCURRENCY, [functools.partial(repo.blob, f["sha"]) for f in planned.fetch])
    errors: list[FileError] = list(planned.skipped)
    fetched: list[tuple[dict[str, Any], bytes]] = []
    for f, content in zip(planned.fetch, contents, strict=True):
        late = None if f["filename"] in ctx.tree.files else oversized(
            f["filename"], len(content), config.limits)  # not in a truncated listing
        if late is not None:
            errors.append(late)
        else:
            fetched.append((f, content))
    if errors:  # skipped unread by a limit while a rule's paths match: fails the check (§13)
        errors = await asyncio.to_thread(_unread, config, errors)
    sources = [(f["filename"], c) for f, c in fetched]
    reads = None
    if symbols_of(config):  # re-exports, resolved over the head's tree listed above
        budget = config.file_time_budget
        config, reads = await reexport_config(
            config, ctx.tree, sources, repo.blob, cache_for(bot),
            scan=lambda items: bot.scan_modules(items, budget),
            facts=lambda items: bot.module_facts(items, budget),
            build=lambda items, cfg: bot.in_worker(
                reexport_entries, items, portable(cfg), budget=index_budget(items, cfg)))
    results = await bot.analyse(sources, config)
    if reads is not None and reads.failed:
        # names re-exported may hide a violation nobody could see: fail closed (§13)
        errors.extend(await asyncio.to_thread(_unresolved, config, sources, reads.failed))

    def new_lines() -> list[Violation]:  # 300 patches parsed: 15-20 ms of CPU, off the loop
        found: list[Violation] = []
        for (f, _), result in zip(fetched, results, strict=True):
            found.extend(mark_new(result.violations, added_lines_from_patch(f.get("patch"))))
        return found

    errors.extend(r.error for r in results if r.error is not None)
    violations = await asyncio.to_thread(new_lines)
    return violations, errors, len(checked), checked, reads


def index_budget(sources: Sequence[tuple[str, str]], config: Config) -> float:
    """The re-export index's time in its worker: one file's budget for each ``max_file_bytes``
    of text it reads (it parses each module at most once), within the analysis's budget."""
    size = sum(len(text) for _, text in sources)
    pieces = 1 + size // max(1, config.limits.max_file_bytes)
    return min(config.limits.analysis_time_budget, config.file_time_budget * pieces)


def _unresolved(config: Config, sources: Sequence[tuple[str, bytes]], reason: str
                ) -> list[FileError]:
    message = f"re-exports could not be resolved: the index was {reason}"
    return [FileError(path, message, blocking=True) for path, data in sources
            if holds_symbol_word(config, path, data.decode("utf-8", "replace"))]


def _unread(config: Config, errors: list[FileError]) -> list[FileError]:
    return [dataclasses.replace(e, blocking=True) if rules_for_path(config, e.path) else e
            for e in errors]


async def _inventory_note(bot: Bot, repo: Repo, pr: dict[str, Any], config: Config,
                          violations: list[Violation]) -> str | None:
    try:
        return await pull_request_note(bot, repo, pr, config, violations)
    except (gidgethub.GitHubException, aiohttp.ClientError, TimeoutError, OSError):
        log.warning("inventory note skipped", exc_info=True)
        return None


async def _review(
    repo: Repo, number: int, head_sha: str, config: Config, violations: list[Violation],
    files: list[dict[str, Any]], check_run_id: int, *, already: set[str],
) -> None:
    """``already``: fingerprints of the App's own open inline comments (fixed.plan)."""
    if config.review == "off" or not any(v.new for v in violations):
        return
    # only markers the App itself wrote count (docs/behaviour.md §8)
    identity = await repo.identity()
    for earlier in await repo.reviews(number):
        if identity.wrote(earlier):
            already |= fingerprints_in(earlier.get("body"))

    def lines() -> tuple[dict[str, frozenset[int]], dict[str, frozenset[int] | None]]:
        # every changed file's patch parsed twice: tens of ms of CPU, off the event loop
        return ({f["filename"]: commentable_lines_from_patch(f.get("patch")) for f in files},
                {f["filename"]: added_lines_from_patch(f.get("patch")) for f in files})

    commentable, added = await asyncio.to_thread(lines)
    plan = await asyncio.to_thread(functools.partial(
        plan_review, violations, config, already_commented=already, commentable=commentable))
    if plan is None:
        return
    marker = f"<!-- ssot-bot:review head={head_sha} check-run={check_run_id} -->"

    def on_added_lines(c: ReviewComment) -> bool:
        lines = added.get(c.violation.path)
        first = c.payload.get("start_line", c.payload["line"])
        return lines is not None and all(n in lines for n in range(first, c.payload["line"] + 1))

    # GitHub refuses a whole review (422) for one comment it cannot place. One review per
    # analysis, and nothing lost: retry with only comments on added lines, then with none;
    # whatever is not inline is listed in the review body with its fingerprint marker.
    attempts: list[Callable[[ReviewComment], bool]] = [
        lambda c: True, on_added_lines, lambda c: False]
    for attempt, keep in enumerate(attempts, start=1):
        inline = [c for c in plan.comments if keep(c)]
        rejected = [c.violation for c in plan.comments if not keep(c)]
        review: dict[str, Any] = {
            "commit_id": head_sha, "event": plan.event,
            "body": review_body(plan, rejected=rejected, check_name=config.check_name)
            + "\n" + marker,
        }
        if inline:
            review["comments"] = [c.payload for c in inline]
        try:
            await repo.create_review(number, review, marker=marker)
            return
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) != 422 or attempt == len(attempts):
                raise
            log.warning("review refused (422); retrying with fewer inline comments",
                        extra={"attempt": attempt, "comments": len(inline)})


__all__ = ["analyse_pull_request", "submit_analysis"]
