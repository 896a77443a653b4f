"""The pull request analysis job, shared by every trigger (PR events, `/ssot recheck`, re-runs).

Fetch (config at base, changed files, blobs at head) -> engine (process pool) -> report ->
write back (check run, review). Everything GitHub-shaped comes from :mod:`bot.report.github`;
every call goes through :mod:`bot.github.client`.

docs/behaviour.md §14: one snapshot per analysis (the PR, its file list and the head's tree are
read once and passed along); file contents in GraphQL batches of 50; a file whose blob,
effective configuration and re-export facts were analysed before (this installation, any PR)
is not read or analysed again (:mod:`bot.usecases.reuse`, the store's ``findings``); an
installation short of rate limit waits for the reset with a ``queued`` check; the summary ends
with what the analysis cost.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import gidgethub

from bot import logs, markers
from bot.config.globs import path_matches
from bot.config.loader import bundled_config
from bot.config.model import Config, ConfigError
from bot.engine.diff import added_lines_from_patch, commentable_lines_from_patch, mark_new
from bot.engine.imports import FileScan, reexport_entries, used_words
from bot.engine.model import FileError, FileResult, Violation
from bot.engine.pool import portable
from bot.engine.reexports import symbols_of
from bot.engine.run import holds_symbol_word, rules_for_path
from bot.github.client import BlobRef, Repo, RequestCount, counting, stop_counting
from bot.github.ratelimit import RateLimits
from bot.report.github import (
    RECHECK_ACTION,
    SUPERSEDED_TITLE,
    CheckRunReport,
    ReviewComment,
    annotation_batches,
    check_run_report,
    invalid_config_report,
    plan_review,
    review_body,
    superseded_summary,
)
from bot.usecases import fixed as fixed_comments
from bot.usecases import reuse
from bot.usecases.budget import (
    TIMED_OUT_TITLE,
    AnalysisContext,
    oversized,
    plan_fetches,
    timed_out_summary,
)
from bot.usecases.check_runs import CheckRuns, LocalCheckRuns
from bot.usecases.inventory import pull_request_note
from bot.usecases.modules import BlobCache, ModuleReads, TextCache, reexport_config
from bot.usecases.ports import Durable, Jobs, RepoFor, StoreFor, Workers
from bot.usecases.repo_config import load_repo_config

log = logging.getLogger(__name__)

WAITING_SUMMARY = (
    "This installation has used nearly all of GitHub's rate limit for the hour. ssot-bot "
    "waits for the limit to reset, then analyses this pull request; nothing needs doing.")


def waiting_title(reset: float) -> str:
    """The ``queued`` check's title while an analysis waits for the rate limit (§14)."""
    at = dt.datetime.fromtimestamp(reset, dt.UTC).strftime("%H:%M")
    return f"Waiting for GitHub's rate limit (resets at {at} UTC)"


def cost_line(requests: int, reused: int) -> str:
    """The last line of a check's summary: what the analysis cost (§14)."""
    return f"GitHub requests: {requests} ({reused} files reused)"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class AnalysisParts:
    """What the analysis of a pull request uses."""

    repo: RepoFor
    jobs: Jobs
    workers: Workers
    blobs: BlobCache  # module texts read for the re-export index, per installation
    store: StoreFor  # reusable results (§14) and the inventory's records (the PR's note)
    rate_limits: RateLimits  # an installation short of its limit waits for the reset (§14)
    # the check run in progress per head (one per head and name, across replicas: §15)
    check_runs: CheckRuns = field(default_factory=LocalCheckRuns)


def submit_analysis(parts: AnalysisParts, installation_id: int, full_name: str, number: int, *,
                    retargeted_from: str | None = None) -> str:
    """Queue an analysis of the PR's newest head; coalesces with queued/running ones.
    ``retargeted_from``: the base branch the PR had before (its check may go by another name:
    that one is completed as superseded, docs/behaviour.md §8)."""
    key = ("analysis", full_name.lower(), number)
    context = logs.current()

    async def job() -> None:
        token = logs.bind(**context, pr=number)
        try:  # each GitHub call is retried by the client; the analysis is not, on top
            await analyse_pull_request(parts, installation_id, full_name, number,
                                       retargeted_from=retargeted_from)
        finally:
            logs.unbind(token)

    outcome = parts.jobs.submit(key, job, tenant=installation_id, durable=Durable(
        "analysis", f"analysis:{full_name.lower()}#{number}",
        {"installation": installation_id, "repo": full_name, "number": number,
         "retargeted_from": retargeted_from}))
    log.info("analysis %s", outcome, extra={"pr": number})
    return outcome


async def run_analysis_job(parts: Any, args: Mapping[str, Any]) -> None:
    """A stored analysis job (shared mode's workers); ``parts``: the handlers' parts."""
    number = int(args["number"])
    token = logs.bind(repo=str(args["repo"]), installation=int(args["installation"]), pr=number)
    try:
        await analyse_pull_request(parts.analysis, int(args["installation"]), str(args["repo"]),
                                   number, retargeted_from=args.get("retargeted_from"))
    finally:
        logs.unbind(token)


async def _check_run(parts: AnalysisParts, repo: Repo, head_sha: str, name: str,
                     data: dict[str, Any]) -> dict[str, Any]:
    """The check run of ``head_sha`` named ``name``, as ``data`` says: the one an earlier,
    unfinished analysis of this head left in progress (a replica that died) is updated, else
    one is created. One check run per head and name."""
    known = await parts.check_runs.find(repo.full_name, head_sha, name)
    if known is not None:
        try:
            return await repo.update_check_run(known, {
                k: v for k, v in data.items() if k not in ("name", "head_sha")})
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) not in (404, 410, 422):
                raise
            await parts.check_runs.forget(repo.full_name, head_sha, name, known)
    run = await repo.create_check_run(data)
    if data.get("status") != "completed":
        await parts.check_runs.remember(repo.full_name, head_sha, name, int(run["id"]))
    return run


def _output(report: CheckRunReport, annotations: list[dict[str, Any]]) -> dict[str, Any]:
    output: dict[str, Any] = {"title": report.title, "summary": report.summary,
                              "annotations": annotations}
    if report.text:
        output["text"] = report.text
    return output


async def analyse_pull_request(parts: AnalysisParts, installation_id: int, full_name: str,
                               number: int, *, retargeted_from: str | None = None) -> None:
    count = RequestCount()  # every request of this analysis, and only this analysis's
    token = counting(count)
    try:
        await _analyse_pull_request(parts, installation_id, full_name, number, count,
                                    retargeted_from=retargeted_from)
    finally:
        stop_counting(token)


async def _start_check(parts: AnalysisParts, repo: Repo, config: Config,
                       head_sha: str) -> dict[str, Any]:
    """The check run, ``in_progress``; when the installation has less than 10% of its rate
    limit left, first ``queued`` with the waiting title until the limit resets (§14)."""
    rate_limits = parts.rate_limits
    installation = str(repo.installation_id)
    reset = rate_limits.low_until(installation)
    start = {"status": "in_progress", "started_at": _now(),
             "output": {"title": "Analysing…",
                        "summary": "ssot-bot is checking the changed files."}}
    if reset is None:
        return await _check_run(parts, repo, head_sha, config.check_name, {
            "name": config.check_name, "head_sha": head_sha, **start})
    check = await _check_run(parts, repo, head_sha, config.check_name, {
        "name": config.check_name, "head_sha": head_sha, "status": "queued",
        "output": {"title": waiting_title(reset), "summary": WAITING_SUMMARY}})
    while reset is not None:
        log.info("waiting for the rate limit to reset", extra={"reset": reset})
        await asyncio.sleep(max(0.0, reset - rate_limits.clock()) + 1.0)
        reset = rate_limits.low_until(installation)
    await repo.update_check_run(check["id"], start)
    return check


async def _analyse_pull_request(parts: AnalysisParts, installation_id: int, full_name: str,
                                number: int, count: RequestCount, *,
                                retargeted_from: str | None) -> None:
    started = time.perf_counter()
    repo = parts.repo(installation_id, full_name)
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
        if retargeted_from is not None:
            await _supersede(repo, head_sha, retargeted_from, default.check_name)
        return

    check = await _start_check(parts, repo, config, head_sha)

    async def completed(data: dict[str, Any]) -> None:
        await repo.update_check_run(check["id"], data)
        await parts.check_runs.forget(repo.full_name, head_sha, config.check_name,
                                      int(check["id"]))

    if retargeted_from is not None:
        await _supersede(repo, head_sha, retargeted_from, config.check_name)
    deadline = asyncio.timeout(config.limits.analysis_time_budget)
    try:
        async with deadline:
            # one snapshot: the head's tree and the PR's file list, read once, passed along
            tree, listed = await asyncio.gather(repo.tree(head_sha), repo.pull_files(number))
            ctx = AnalysisContext(repo, number, head_sha, config, tree, listed=listed)
            violations, errors, files_checked, files, reads, reused = await _analyse(parts, ctx)
            # the bot's own inline comments whose findings are gone (docs/behaviour.md §12)
            fixed = await fixed_comments.plan(repo, number, head_sha, violations, files, errors,
                                              listed=listed)
            # many findings make this a few hundred ms of CPU: keep it off the event loop
            report = await asyncio.to_thread(
                functools.partial(check_run_report, violations, errors, config,
                                  files_checked=files_checked, fixed=fixed.fixed,
                                  fixes=ctx.fix_diffs))
    except Exception as exc:
        if isinstance(exc, TimeoutError) and deadline.expired():
            # fail closed (§13): GitHub counts a neutral check as passing
            await completed({
                "status": "completed", "conclusion": "failure", "completed_at": _now(),
                "output": {"title": TIMED_OUT_TITLE, "summary": timed_out_summary(
                    config.limits.analysis_time_budget)}, "actions": [RECHECK_ACTION]})
            log.warning("analysis timed out", extra={"pr": number})
            return
        await completed({
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
    note = await _inventory_note(parts, repo, pr, config, violations, ctx.listed)
    if note:  # docs/behaviour.md §11: pre-existing inventory violations the PR removes
        report = dataclasses.replace(report, summary=f"{report.summary}\n\n{note}")
    batches = annotation_batches(report.annotations) or [[]]
    # what it cost, the check run's own updates to come included (§14)
    cost = cost_line(count.requests + len(batches), reused)
    report = dataclasses.replace(report, summary=f"{report.summary}\n\n{cost}")
    for batch in batches[:-1]:
        await repo.update_check_run(check["id"], {"output": _output(report, batch)})
    await completed({
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


async def _supersede(repo: Repo, head_sha: str, old_base: str, name: str) -> None:
    """A retargeted PR whose old base's configuration names its check otherwise: the App's
    check of the old name on this head is completed as superseded, so that no verdict from the
    old base stands (docs/behaviour.md §8)."""
    try:
        old_name = (await load_repo_config(repo, old_base)).check_name
    except ConfigError:  # the old base's invalid configuration was reported under the default
        old_name = (await asyncio.to_thread(bundled_config)).check_name
    if old_name == name:
        return  # the new analysis replaces the check of the same name
    identity = await repo.identity()
    for run in await repo.app_check_runs(head_sha, identity.id):
        if run.get("name") != old_name or \
                (run.get("output") or {}).get("title") == SUPERSEDED_TITLE:
            continue
        await repo.update_check_run(int(run["id"]), {
            "status": "completed", "conclusion": "neutral", "completed_at": _now(),
            "output": {"title": SUPERSEDED_TITLE, "summary": superseded_summary(name)}})
        log.info("check of the old base superseded", extra={"check": old_name, "now": name})


async def _analyse(parts: AnalysisParts, ctx: AnalysisContext) -> tuple[
        list[Violation], list[FileError], int, list[dict[str, Any]], ModuleReads | None, int]:
    repo, config = ctx.repo, ctx.config
    files = ctx.listed
    # path matching is CPU on hostile globs and paths: never on the event loop
    checked = await asyncio.to_thread(
        lambda: [f for f in files
                 if f.get("status") != "removed" and path_matches(config.paths, f["filename"])])
    ctx.files = checked
    planned = plan_fetches(checked, ctx.tree, config.limits)
    errors: list[FileError] = list(planned.skipped)
    texts = parts.blobs.scoped(repo.installation_id)
    shas = {f["filename"]: _blob_sha(f, ctx) for f in planned.fetch}
    contents: dict[str, bytes] = {}

    async def read(wanted: Sequence[dict[str, Any]]) -> None:
        """The texts of ``wanted`` (this installation's cache, else GraphQL batches)."""
        missing = [f for f in wanted if f["filename"] not in contents
                   and not _cached_text(texts, shas[f["filename"]], f["filename"], contents)]
        got = await repo.blobs([BlobRef(shas[f["filename"]] or str(f.get("sha") or ""),
                                        f"{ctx.head_sha}:{f['filename']}") for f in missing])
        for f, data in zip(missing, got, strict=True):
            path = f["filename"]
            late = None if path in ctx.tree.files else oversized(
                path, len(data), config.limits)  # not in a truncated listing
            if late is not None:
                errors.append(late)
                continue
            contents[path] = data
            if shas[path]:
                texts.put(f"file:{shas[path]}", data.decode("latin-1"), len(data))

    reads = None
    words: dict[str, set[str]] = {}  # the words of each checked file, from its scan
    if symbols_of(config):  # re-exports, resolved over the head's tree listed above
        await read(planned.fetch)
        sources = [(f["filename"], contents[f["filename"]]) for f in planned.fetch
                   if f["filename"] in contents]
        budget = config.file_time_budget

        async def scan(items: list[tuple[str, str]]) -> list[FileScan | None]:
            """Each file's planning scan: this installation's cache by path and blob sha,
            else the worker processes."""
            found = [texts.scan(path, shas[path]) if shas.get(path) else None
                     for path, _ in items]
            todo = [i for i, got in enumerate(found) if got is None]
            if todo:
                fresh = await parts.workers.scan_modules([items[i] for i in todo], budget)
                for i, got in zip(todo, fresh, strict=True):
                    found[i] = got
                    path = items[i][0]
                    if got is not None and shas.get(path):
                        texts.put_scan(path, shas[path], got)
            words.update((path, got.words) for (path, _), got in zip(items, found, strict=True)
                         if got is not None)
            return found

        config, reads = await reexport_config(
            config, ctx.tree, sources, lambda found: repo.blobs([BlobRef(s) for s in found]),
            texts, scan=scan,
            facts=lambda items: parts.workers.module_facts(items, budget),
            build=lambda items, cfg: parts.workers.in_worker(
                reexport_entries, items, portable(cfg), budget=index_budget(items, cfg)))
        if reads.failed:
            # names re-exported may hide a violation nobody could see: fail closed (§13)
            errors.extend(await asyncio.to_thread(_unresolved, config, sources, reads.failed))
    keys = await asyncio.to_thread(_result_keys, config, shas, contents, words)
    kept = await _stored(parts.store, repo.installation_id, keys)
    await read([f for f in planned.fetch if f["filename"] not in kept])
    order = [f for f in planned.fetch if f["filename"] in contents or f["filename"] in kept]
    fresh = [(f["filename"], contents[f["filename"]]) for f in order
             if f["filename"] not in kept]
    contents.clear()
    analysed = {r.path: r for r in await parts.workers.analyse(fresh, config)} if fresh else {}
    await _store(parts.store, repo.installation_id,
                 [(keys[p], r) for p, r in analysed.items() if p in keys])
    results = [kept.get(f["filename"]) or analysed[f["filename"]] for f in order]

    def new_lines() -> list[Violation]:  # 300 patches parsed: 15-20 ms of CPU, off the loop
        found: list[Violation] = []
        for f, result in zip(order, results, strict=True):
            found.extend(mark_new(result.violations, added_lines_from_patch(f.get("patch"))))
        return found

    if errors:  # skipped unread by a limit while a rule's paths match: fails the check (§13)
        errors = await asyncio.to_thread(_unread, config, errors)
    errors.extend(r.error for r in results if r.error is not None)
    ctx.fix_diffs.update((r.path, r.fix_diff) for r in results if r.fix_diff)
    violations = await asyncio.to_thread(new_lines)
    return violations, errors, len(checked), checked, reads, len(kept)


def _result_keys(config: Config, shas: dict[str, str], texts: dict[str, bytes],
                 scanned: dict[str, set[str]]) -> dict[str, str]:
    """Each file's key in the store of reusable results (:mod:`bot.usecases.reuse`); a file
    without a known blob sha, or whose re-export facts need a text not read, has none.
    ``scanned``: the words of the files the planning scanned (else read from the text)."""
    key = reuse.config_key(config)
    facts = reuse.facts_by_name(config)
    keys: dict[str, str] = {}
    for path, sha in shas.items():
        if not sha or (facts and path not in texts and path not in scanned):
            continue
        words: Iterable[str] = ()
        if facts:
            words = scanned.get(path) or used_words(texts[path].decode("utf-8", "replace"))
        keys[path] = reuse.result_key(path, sha, key, reuse.facts_digest(facts, path, words))
    return keys


def _blob_sha(f: dict[str, Any], ctx: AnalysisContext) -> str:
    """The changed file's blob sha at the head (the file list's, else the tree's; '' unknown)."""
    entry = ctx.tree.files.get(f["filename"])
    return str(f.get("sha") or (entry.sha if entry is not None else ""))


def _cached_text(texts: TextCache, sha: str, path: str, into: dict[str, bytes]) -> bool:
    text = texts.get(f"file:{sha}") if sha else None
    if text is None:
        return False
    into[path] = text.encode("latin-1")
    return True


async def _stored(store: StoreFor, installation_id: int, keys: dict[str, str]
                  ) -> dict[str, FileResult]:
    """The reusable results the store holds, by path (``keys``: each path's key); a store that
    fails is logged and read as empty (the files are analysed again: slower, never wrong).
    Off the loop, decoding included: a hostile PR's results run to megabytes of JSON."""
    if not keys:
        return {}

    def read() -> dict[str, FileResult]:
        stored = store().findings(installation_id, list(keys.values()))
        kept: dict[str, FileResult] = {}
        for path, key in keys.items():
            found = reuse.loads(stored[key]) if key in stored else None
            if found is not None and found.path == path:
                kept[path] = found
        return kept

    try:
        return await asyncio.to_thread(read)
    except (sqlite3.Error, OSError):
        log.error("reading reusable results failed", exc_info=True)
        return {}


async def _store(store: StoreFor, installation_id: int,
                 results: list[tuple[str, FileResult]]) -> None:
    """Keep ``results`` (key, result) for reuse; off the loop, encoding included."""
    def write() -> None:
        rows = [(key, text) for key, result in results
                if (text := reuse.dumps(result)) is not None]
        if rows:
            store().put_findings(installation_id, rows)

    if not results:
        return
    try:
        await asyncio.to_thread(write)
    except (sqlite3.Error, OSError):
        log.error("storing reusable results failed", exc_info=True)


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


async def _inventory_note(parts: AnalysisParts, repo: Repo, pr: dict[str, Any], config: Config,
                          violations: list[Violation], files: list[dict[str, Any]]) -> str | None:
    try:
        return await pull_request_note(parts.workers, parts.store, repo, pr, config, violations,
                                       files)
    except (gidgethub.GitHubException, aiohttp.ClientError, TimeoutError, OSError):
        log.warning("inventory note skipped", exc_info=True)
        return None


async def _review(
    repo: Repo, number: int, head_sha: str, config: Config, violations: list[Violation],
    files: list[dict[str, Any]], check_run_id: int, *, already: set[str],
) -> None:
    """``already``: fingerprints the App commented on already and that are not fixed: its open
    inline comments and the findings its reviews' bodies list (fixed.plan read them)."""
    if config.review == "off" or not any(v.new for v in violations):
        return

    def lines() -> tuple[dict[str, frozenset[int]], dict[str, frozenset[int] | None]]:
        # every changed file's patch parsed twice: tens of ms of CPU, off the event loop
        return ({f["filename"]: commentable_lines_from_patch(f.get("patch")) for f in files},
                {f["filename"]: added_lines_from_patch(f.get("patch")) for f in files})

    commentable, added = await asyncio.to_thread(lines)
    plan = await asyncio.to_thread(functools.partial(
        plan_review, violations, config, already_commented=already, commentable=commentable))
    if plan is None:
        return
    marker = markers.review(head_sha, check_run_id)

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
            "body": review_body(plan, rejected=rejected, check_name=config.check_name,
                                marker=marker),
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


__all__ = ["analyse_pull_request", "run_analysis_job", "submit_analysis"]
