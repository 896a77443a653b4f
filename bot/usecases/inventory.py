"""The inventory of a tracking issue (docs/behaviour.md §11): on a push to the default branch,
or `/ssot inventory`, analyse the whole default branch with the inventory's rules and keep the
issue's block (counts, top files, history, chart) up to date.

Cost: results per file are cached by blob sha in the state store; the default branch is read
incrementally when the store knows an earlier commit (the push's changed paths, else the compare
API), and as one tarball otherwise. Runs per repository are serialised and coalesced by the job
queue: pushes that arrive during a run fold into one follow-up of the newest commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import tarfile
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import gidgethub

from bot import logs, markers
from bot.config.globs import path_filter, path_matches
from bot.config.loader import load_config_text
from bot.config.model import Config, ConfigError, InventoryTarget, Limits
from bot.engine.pool import portable
from bot.engine.reexports import symbols_of
from bot.github import retry
from bot.github.client import ArchiveTooLarge, Repo, TreeEntry
from bot.github.retry import RetryPolicy
from bot.inventory import archive
from bot.inventory.block import mark_incomplete, update_body
from bot.inventory.messages import clear_comment
from bot.inventory.model import Inventory, previous_total, too_large
from bot.inventory.scan import (
    analysis_key,
    archive_index,
    batches,
    inventory_rules,
    record_of,
    restricted,
    take,
    updated_index,
)
from bot.state.store import MAX_CONFIG_BYTES, FileRecord, Snapshot
from bot.usecases.issue_body import edit_body
from bot.usecases.ports import Durable, IssueLocks, Jobs, RepoFor, StoreFor, Workers

log = logging.getLogger(__name__)
T = TypeVar("T")

CONFIG_PATH = ".github/ssot.yml"
FETCH_CONCURRENCY = 8
BATCHES_IN_FLIGHT = 2  # batches of a full scan read and being pre-filtered at once
PUSH_PAYLOAD_COMMITS = 20  # GitHub lists at most 20 commits in a push payload
COMPARE_FILES = 300  # ... and at most 300 files in a compare answer
COMPARE_COMMITS = 250
MAX_ARCHIVE_BYTES = 2 << 30  # the compressed tarball
MAX_EXTRACTED_BYTES = 4 << 30  # the files the rules look at, unpacked
ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class Push:
    """What a ``push`` payload tells: the commits moved from ``before`` to ``after``, and the
    paths they touched (path -> exists at ``after``) when the payload lists every commit."""

    before: str
    after: str
    changed: Mapping[str, bool] | None = None
    date: str | None = None

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Push:
        commits = data.get("commits") or []
        changed: dict[str, bool] | None = {}
        complete = (isinstance(commits, list) and len(commits) < PUSH_PAYLOAD_COMMITS
                    and not data.get("forced") and not data.get("created"))
        if complete and changed is not None:
            for commit in commits:
                for path in commit.get("added", []) + commit.get("modified", []):
                    changed[str(path)] = True
                for path in commit.get("removed", []):
                    changed[str(path)] = False
        else:
            changed = None
        head = data.get("head_commit") or {}
        stamp = str(head.get("timestamp") or "")
        date = None
        if stamp:
            try:
                date = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(
                    dt.UTC).strftime("%Y-%m-%d")
            except ValueError:
                date = None
        return cls(str(data.get("before") or ZERO_SHA), str(data["after"]), changed, date)


@dataclass
class Run:
    """Counters of one run (logged, and read by the benchmark)."""

    mode: str = ""  # cached | push | compare | archive | too-large | incomplete | stale
    analysed: int = 0
    fetched: int = 0
    inventories: list[Inventory] = field(default_factory=list)
    stored: set[str] = field(default_factory=set)  # paths whose new records are stored already
    incomplete: str | None = None  # why the block kept its previous figures


class Incomplete(Exception):
    """The inventory could not be finished (its reason is said in the block)."""


class Stale(Exception):
    """The push's commit is older than the one the inventory was last taken at (deliveries
    handled out of order): nothing to do."""


@dataclass(frozen=True)
class InventoryParts:
    """What an inventory run uses."""

    repo: RepoFor
    jobs: Jobs
    workers: Workers
    store: StoreFor
    issue_locks: IssueLocks
    retry: RetryPolicy  # a tarball download that fails starts over


def submit_inventory(parts: InventoryParts, installation_id: int, full_name: str, *,
                     html_base: str,
                     push: Push | None = None) -> str:
    """Queue an inventory of the default branch (the push's ``after``, else its newest commit).

    One run per repository at a time; triggers during a run fold into one follow-up (the job
    queue keeps the newest)."""
    key = ("inventory", full_name.lower())
    context = logs.current()

    async def job() -> None:
        token = logs.bind(**context, inventory=full_name)
        try:
            await run_inventory(parts, installation_id, full_name, html_base=html_base, push=push)
        finally:
            logs.unbind(token)

    outcome = parts.jobs.submit(key, job, tenant=installation_id, durable=Durable(
        "inventory", f"inventory:{full_name.lower()}",
        {"installation": installation_id, "repo": full_name, "html_base": html_base,
         "push": None if push is None else dataclasses.asdict(push)}))
    log.info("inventory %s", outcome, extra={"repo": full_name})
    return outcome


async def run_inventory_job(parts: Any, args: Mapping[str, Any]) -> None:
    """A stored inventory job (shared mode's workers; ``parts``: the handlers' parts): the
    newest push stored wins."""
    full_name = str(args["repo"])
    token = logs.bind(repo=full_name, installation=int(args["installation"]),
                      inventory=full_name)
    try:
        push = args.get("push")
        await run_inventory(parts.inventory, int(args["installation"]), full_name,
                            html_base=str(args["html_base"]),
                            push=None if push is None else Push(**push))
    finally:
        logs.unbind(token)


async def _config(store: StoreFor, repo: Repo, name: str, ref: str,
                  push: Push | None) -> Config | None:
    """The configuration at ``ref``; a push that did not touch it reuses the one read at its
    ``before`` (no request)."""
    cached = await asyncio.to_thread(store().config, name)
    if (push is not None and cached is not None and cached[0] == push.before
            and push.changed is not None and CONFIG_PATH not in push.changed):
        text = cached[1]
    else:
        # judged by its listed size first: a configuration over the limit is neither read nor
        # stored (docs/behaviour.md §13)
        entry = await repo.file_entry(CONFIG_PATH, ref, max_bytes=MAX_CONFIG_BYTES)
        raw = None if entry is None else entry[1]
        if entry is not None and raw is None:
            log.info("inventory: configuration over %d bytes; nothing to do", MAX_CONFIG_BYTES)
            return None
        try:
            text = None if raw is None else raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            log.info("inventory: configuration is not UTF-8; nothing to do")
            return None
    if push is not None:
        await asyncio.to_thread(store().put_config, name, push.after, text)
    if text is None:
        return None  # the bundled default has no tracking.inventory
    try:
        return await asyncio.to_thread(load_config_text, text, CONFIG_PATH)
    except ConfigError as exc:
        log.info("inventory: invalid configuration", extra={"problems": len(exc.problems)})
        return None


async def _analyse(workers: Workers, config: Config, items: Sequence[tuple[str, bytes]]
                   ) -> dict[str, FileRecord]:
    results = await workers.analyse(items, config)
    return {r.path: record_of(r) for r in results}


Reexports = Mapping[str, tuple[str, ...]]


async def _fetch_changed(
    parts: InventoryParts, repo: Repo, config: Config, sha: str, paths: Sequence[str], run: Run,
    known: Mapping[str, str] | None = None, index: Reexports | None = None,
    removed: Sequence[str] = (),
) -> tuple[dict[str, str], dict[str, FileRecord], dict[str, tuple[str, ...]]]:
    """Fetch and analyse ``paths`` at ``sha``: (path -> blob sha, path -> new record, the
    re-export index after them). ``known``: blob shas already known (from compare): a blob
    the store has is not fetched (unless re-exports are followed: its text may bind names)."""
    index = dict(index or {})
    follow = bool(symbols_of(config))
    sem = asyncio.Semaphore(FETCH_CONCURRENCY)
    limit = config.limits.max_file_bytes
    cached = ({} if known is None else await asyncio.to_thread(
        parts.store().results, repo.full_name.lower(), analysis_key(config), known))
    sizes: Mapping[str, TreeEntry] = {}
    if known is not None and any(p not in cached or follow for p in paths):
        # compare lists no sizes: the commit's tree does, in one request (docs/behaviour.md §13)
        run.fetched += 1
        sizes = (await repo.tree(sha)).files

    async def one(path: str) -> tuple[str, str | None, bytes | None, bool]:
        async with sem:
            if known is not None and path in cached and not follow:
                return path, known[path], None, False
            listed = sizes.get(path)
            if known is not None and listed is not None:
                if listed.size > limit:
                    return path, known[path], None, True  # over the limit: never fetched
                run.fetched += 1
                return path, known[path], await repo.blob(known[path]), True
            run.fetched += 1  # not in a truncated listing: the contents API says its size
            entry = await repo.file_entry(path, sha, max_bytes=limit)
            if entry is None:
                return path, None, None, False
            return path, entry[0], entry[1], True

    got = await asyncio.gather(*(one(p) for p in paths))
    blobs = {p: s for p, s, _, _ in got if s is not None}
    if follow:
        changed: dict[str, bytes | None] = dict.fromkeys(removed)
        changed.update({p: data for p, _, data, _ in got})
        # parsing happens in the worker processes, never in the service's (§13)
        size = sum(len(d) for d in changed.values() if d is not None)
        try:
            index = await parts.workers.in_worker(
                updated_index, index, portable(config), changed,
                budget=config.file_time_budget * (1 + size // config.limits.max_file_bytes))
        except Exception as exc:
            raise Incomplete(f"the re-export index could not be built ({_why(exc)})") from exc
        config = replace(config, reexports=index)
    records: dict[str, FileRecord] = {}
    items: list[tuple[str, bytes]] = []
    for path, blob_sha, data, fetched in got:
        if blob_sha is None or not fetched:
            continue
        if data is None or len(data) > limit:
            records[path] = FileRecord(skipped=True)
        else:
            items.append((path, data))
    if items:
        records.update(await _analyse(parts.workers, config, items))
        run.analysed += len(items)
    return blobs, records, index


async def _full_scan(parts: InventoryParts, repo: Repo, config: Config, sha: str, run: Run,
                     previous: Reexports | None,
                     ) -> tuple[dict[str, str], dict[str, FileRecord], str | None,
                                dict[str, tuple[str, ...]]]:
    """The whole commit from its tarball: (path -> blob sha, new records, too-large reason,
    the re-export index over every module). Cached results count only under an unchanged
    index (``previous``: the index they were computed with)."""
    name, key = repo.full_name.lower(), analysis_key(config)
    limits = config.limits
    follow = bool(symbols_of(config))

    checked = path_filter(config.paths)

    def wanted(path: str) -> bool:  # every module when re-exports are followed
        return checked(path) or (follow and path.endswith(".py"))

    with tempfile.TemporaryDirectory(prefix="ssot-inventory-") as tmp:
        try:
            extracted = await _unpacked(parts, repo, sha, Path(tmp), wanted, limits, run)
        except ArchiveTooLarge:
            return {}, {}, f"an archive over {MAX_ARCHIVE_BYTES >> 20:,} MiB", {}
        if extracted.too_large:
            return {}, {}, extracted.too_large, {}
        index: dict[str, tuple[str, ...]] = {}
        if follow:
            try:
                index = await parts.workers.in_worker(archive_index, extracted, portable(config),
                                            budget=limits.analysis_time_budget)
            except Exception as exc:  # past its budget, its worker died: said in the block
                raise Incomplete(f"the re-export index could not be built ({_why(exc)})") \
                    from exc
            config = replace(config, reexports=index)
        blobs = await asyncio.to_thread(_checked, extracted, config)
        cached = (await asyncio.to_thread(parts.store().results, name, key, blobs)
                  if previous is None or dict(previous) == index else {})
        records: dict[str, FileRecord] = {p: FileRecord(skipped=True) for p in extracted.large
                                          if p in blobs}
        todo = sorted(p for p in extracted.files if p in blobs and p not in cached)
        # every batch is read and pre-filtered as soon as the one before is queued, so the
        # pool's workers never wait for files (one batch at a time left a worker idle behind
        # each batch's slowest file); the bytes held stay bounded by BATCHES_IN_FLIGHT * BATCH
        # files, the texts queued for the workers by what the pre-filter lets through
        flight = asyncio.Semaphore(BATCHES_IN_FLIGHT)

        async def one(chunk: Sequence[str]) -> None:
            await flight.acquire()
            held = [True]

            def release() -> None:
                if held:
                    held.clear()
                    flight.release()

            try:  # no reference to the bytes is kept here: they go once queued
                results = await parts.workers.analyse(
                    await asyncio.to_thread(extracted.read_many, chunk), config,
                    started=release)
            finally:
                release()
            fresh = {r.path: record_of(r) for r in results}
            records.update(fresh)
            run.analysed += len(chunk)
            # stored as it goes: a run cut short (its budget) leaves the next one less to do
            await asyncio.to_thread(parts.store().put_results, name, key,
                                    [(p, blobs[p], r) for p, r in fresh.items()])
            run.stored.update(fresh)

        await asyncio.gather(*(one(chunk) for chunk in batches(todo)))
    return blobs, records, None, index


def _checked(extracted: archive.Extracted, config: Config) -> dict[str, str]:
    """Path -> blob sha of the archive's files that ``config.paths`` checks (10,000 path
    tests: off the event loop)."""
    checked = path_filter(config.paths)
    return {p: s for p, s in {**extracted.files, **extracted.large}.items() if checked(p)}


async def _unpacked(parts: InventoryParts, repo: Repo, sha: str, tmp: Path,
                    wanted: Callable[[str], bool], limits: Limits, run: Run) -> archive.Extracted:
    """The commit's tarball, unpacked while it downloads (it is never stored). A download
    that fails (GitHub 5xx, a connection lost mid-stream, a truncated archive) starts over
    under the retry policy (:mod:`bot.github.retry`: what was streamed cannot be resumed);
    a 4xx and :class:`ArchiveTooLarge` are raised."""

    async def download() -> archive.Extracted:
        run.fetched += 1
        pipe = archive.Pipe()
        spool = tmp / f"files-{run.fetched}.spool"
        unpacking = asyncio.ensure_future(asyncio.to_thread(
            archive.extract, pipe, spool, wanted=wanted, max_file_bytes=limits.max_file_bytes,
            max_files=limits.max_inventory_files, max_total_bytes=MAX_EXTRACTED_BYTES))
        try:
            await repo.tarball(sha, pipe.put, max_bytes=MAX_ARCHIVE_BYTES)
            await pipe.end()
            return await unpacking
        except BaseException as exc:
            pipe.abort()
            if not isinstance(exc, Exception):
                raise  # cancelled: the thread stops on its own at its next read
            with contextlib.suppress(Exception):
                await unpacking
            spool.unlink(missing_ok=True)
            raise

    def wait(exc: BaseException, attempt: int, policy: RetryPolicy) -> float | None:
        if isinstance(exc, tarfile.ReadError):  # a truncated archive
            return policy.backoff(attempt)
        return retry.github_wait(exc, attempt, policy)

    return await retry.call(download, parts.retry, what="inventory: archive download",
                            wait=wait)


async def _head_and_files(
    parts: InventoryParts, repo: Repo, config: Config, push: Push | None, branch: str | None,
    snapshot: Snapshot | None, run: Run,
) -> tuple[str, dict[str, str] | None, dict[str, FileRecord], str | None,
           dict[str, tuple[str, ...]]]:
    """The commit analysed, its files (None: too large), the new records, a too-large
    reason, and the re-export index."""
    index = dict(snapshot.index) if snapshot is not None else {}
    if push is not None:
        sha = push.after
        if snapshot is not None and snapshot.sha == sha:
            run.mode = "cached"
            return sha, dict(snapshot.files), {}, None, index
        if snapshot is not None and push.changed is not None and push.before == snapshot.sha:
            run.mode = "push"
            files = dict(snapshot.files)
            for path in push.changed:
                files.pop(path, None)
            wanted = await asyncio.to_thread(
                _checked_paths, config, [p for p, exists in push.changed.items() if exists])
            # at most max_files (and no more than compare would list) read one by one; more:
            # the tarball, one request (docs/behaviour.md §13)
            if len(wanted) <= min(config.limits.max_files, COMPARE_FILES):
                gone = [p for p, exists in push.changed.items() if not exists]
                blobs, records, index = await _fetch_changed(
                    parts, repo, config, sha, sorted(wanted), run, index=index, removed=gone)
                files.update(blobs)
                return sha, files, records, None, index
            return await _archive(parts, repo, config, sha, snapshot, run)
        target = sha
    else:
        assert branch is not None
        target = branch
    if snapshot is not None:
        compared = await repo.compare(snapshot.sha, target)
        commits = compared.get("commits") or []
        changed = compared.get("files") or []
        if compared.get("status") == "identical":
            run.mode = "cached"
            return snapshot.sha, dict(snapshot.files), {}, None, index
        if push is not None and compared.get("status") == "behind":
            raise Stale(sha)
        if (compared.get("status") == "ahead" and commits
                and int(compared.get("total_commits") or 0) <= COMPARE_COMMITS
                and len(changed) < min(COMPARE_FILES, config.limits.max_files + 1)):
            run.mode = "compare"
            sha = str(commits[-1]["sha"])
            files = dict(snapshot.files)
            for f in changed:
                files.pop(str(f["filename"]), None)
                if f.get("previous_filename"):
                    files.pop(str(f["previous_filename"]), None)
            present = [f for f in changed if f.get("status") != "removed"]
            checked = set(await asyncio.to_thread(
                _checked_paths, config, [str(f["filename"]) for f in present]))
            known = {str(f["filename"]): str(f["sha"]) for f in present
                     if str(f["filename"]) in checked}
            gone = [str(f.get("previous_filename") or f["filename"]) for f in changed
                    if f.get("status") in ("removed", "renamed")]
            blobs, records, index = await _fetch_changed(parts, repo, config, sha, sorted(known),
                                                         run, known=known, index=index,
                                                         removed=gone)
            files.update(blobs)
            return sha, files, records, None, index
    if push is None:
        compared = await repo.compare(target, target)
        sha = str(compared["base_commit"]["sha"])
    else:
        sha = push.after
    return await _archive(parts, repo, config, sha, snapshot, run)


async def _archive(
    parts: InventoryParts, repo: Repo, config: Config, sha: str, snapshot: Snapshot | None,
    run: Run,
) -> tuple[str, dict[str, str] | None, dict[str, FileRecord], str | None,
           dict[str, tuple[str, ...]]]:
    run.mode = "archive"
    blobs, records, reason, index = await _full_scan(
        parts, repo, config, sha, run, snapshot.index if snapshot is not None else None)
    return sha, (None if reason else blobs), records, reason, index


async def run_inventory(
    parts: InventoryParts, installation_id: int, full_name: str, *, html_base: str,
    push: Push | None = None,
) -> Run:
    """One inventory of the default branch; every target issue's block is brought up to date."""
    run = Run()
    repo = parts.repo(installation_id, full_name)
    name = full_name.lower()
    branch = None
    if push is None:
        branch = str((await repo.repository()).get("default_branch") or "main")
    config = await _config(parts.store, repo, name, push.after if push else str(branch), push)
    if config is None or not config.tracking.inventory:
        return run
    rules = inventory_rules(config)
    config = restricted(config, rules)
    key = analysis_key(config)
    snapshot = await asyncio.to_thread(parts.store().snapshot, name, key)
    budget = config.limits.inventory_time_budget
    deadline = asyncio.timeout(budget)
    try:
        async with deadline:
            sha, files, records, reason, index = await _head_and_files(
                parts, repo, config, push, branch, snapshot, run)
        if files is not None and reason is None:
            records = await _complete(parts, name, key, files, records, run)
    except Incomplete as exc:
        return await _incomplete(parts, repo, config, run, str(exc), html_base)
    except Stale as exc:
        run.mode = "stale"
        log.info("inventory: the push is older than the inventory taken; nothing to do",
                 extra={"repo": full_name, "sha": str(exc), "taken_at": snapshot and snapshot.sha})
        return run
    except TimeoutError:
        if not deadline.expired():
            raise
        return await _incomplete(parts, repo, config, run, (
            f"it took longer than `limits.inventory_time_budget` ({budget:g} s); the files "
            "analysed so far are kept for the next run"), html_base)
    date = (push.date if push and push.date else None) or dt.datetime.now(dt.UTC).strftime(
        "%Y-%m-%d")
    if files is not None and len(files) > config.limits.max_inventory_files:
        reason = (f"more than {config.limits.max_inventory_files:,} files to check "
                  "(`limits.max_inventory_files`)")
    if reason is not None or files is None:
        run.mode = "too-large"
        inventories = {t.issue: too_large(t.rules, sha=sha, date=date,
                                          reason=reason or "unknown") for t in
                       config.tracking.inventory}
    else:
        await asyncio.to_thread(parts.store().put_snapshot, name, key, Snapshot(sha, files, index))
        inventories = {t.issue: take(records, t.rules, sha=sha, date=date)
                       for t in config.tracking.inventory}
    for target in config.tracking.inventory:
        inventory = inventories[target.issue]
        run.inventories.append(inventory)
        await _write(parts, repo, target, inventory, html_base)
    log.info("inventory taken", extra={
        "repo": full_name, "sha": sha, "mode": run.mode, "analysed": run.analysed,
        "fetched": run.fetched, "totals": [i.total for i in run.inventories]})
    return run


async def _complete(parts: InventoryParts, name: str, key: str, files: Mapping[str, str],
                    records: dict[str, FileRecord], run: Run) -> dict[str, FileRecord]:
    """Every file's record: this run's (stored now, unless stored as they came) and the
    store's for the rest. A file with neither (the store could not be read) makes the
    inventory incomplete: a count without it would be wrong."""
    new = [(p, files[p], r) for p, r in records.items() if p in files and p not in run.stored]
    if new:
        await asyncio.to_thread(parts.store().put_results, name, key, new)
    known = {p: s for p, s in files.items() if p not in records}
    every = {**await asyncio.to_thread(parts.store().results, name, key, known),
             **{p: r for p, r in records.items() if p in files}}
    missing = len(files) - len(every)
    if missing:
        raise Incomplete(f"the results of {missing:,} files could not be read from the "
                         "state store")
    return every


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "past its time budget"
    return "its worker process died" if "Expired" in type(exc).__name__ else \
        type(exc).__name__


async def _incomplete(parts: InventoryParts, repo: Repo, config: Config, run: Run, reason: str,
                      html_base: str) -> Run:
    """Every target's block keeps its figures and says why this run could not finish; the
    snapshot stays the last complete one, so the next push goes on from there."""
    run.mode, run.incomplete = "incomplete", reason
    for target in config.tracking.inventory:
        await _edit_block(parts, repo, target, lambda body: (mark_incomplete(body, reason), None))
    log.warning("inventory incomplete", extra={
        "repo": repo.full_name, "reason": reason, "analysed": run.analysed,
        "fetched": run.fetched})
    return run


async def _edit_block(parts: InventoryParts, repo: Repo, target: InventoryTarget,
                      change: Callable[[str], tuple[str, T]]) -> T | None:
    """``change`` through the one issue-body writer (under the issue's lock: re-read, write,
    verify); what it said, or None when the issue is missing (no error)."""
    try:
        return await edit_body(repo, parts.issue_locks, target.issue, change)
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) in (404, 410):
            log.info("inventory issue not found", extra={"issue": target.issue})
            return None
        raise


async def _write(parts: InventoryParts, repo: Repo, target: InventoryTarget, inventory: Inventory,
                 html_base: str) -> None:
    """Put the block in the issue (re-read / write / verify, under the issue's lock); say once
    when the total went from above 0 to 0 (docs/behaviour.md §11)."""

    def change(body: str) -> tuple[str, int | None]:
        # the body's history with this commit's point: its other points are the body's
        new, history = update_body(body, inventory, html_base=html_base)
        return new, previous_total(history, inventory.sha)

    previous = await _edit_block(parts, repo, target, change)
    if inventory.too_large is None and inventory.total == 0 and previous:
        await repo.comment_once(target.issue, clear_comment(inventory.sha, html_base),
                                marker=markers.inventory_clear(inventory.sha))


def html_base_of(repository: Mapping[str, Any]) -> str:
    """``https://<host>/<owner>/<repo>`` from a webhook's ``repository``."""
    return str(repository.get("html_url") or f"https://github.com/{repository['full_name']}")


# --- the PR check's summary (docs/behaviour.md §11) -----------------------------------------

MAX_BASE_FETCHES = 30  # base versions of touched files read per PR when the store lacks them


def _checked_paths(config: Config, paths: Sequence[str]) -> list[str]:
    """The ``paths`` that ``config.paths`` checks, in order (CPU on hostile globs: called off
    the event loop)."""
    return [p for p in paths if path_matches(config.paths, p)]


def _touched(files: Sequence[Mapping[str, Any]], config: Config) -> dict[str, str | None]:
    """The PR's files that existed on the base and that ``config`` checks: base path -> head
    path (None: removed)."""
    touched: dict[str, str | None] = {}
    for f in files:
        status, head_path = f.get("status"), str(f["filename"])
        base_path = str(f.get("previous_filename") or head_path)
        if status in ("modified", "renamed", "changed", "removed") and path_matches(
                config.paths, base_path):
            touched[base_path] = None if status == "removed" else head_path
    return touched


async def pull_request_note(
    workers: Workers, store: StoreFor, repo: Repo, pr: Mapping[str, Any], config: Config,
    violations: Sequence[Any], files: Sequence[Mapping[str, Any]] | None = None,
) -> str | None:
    """How many pre-existing inventory violations the PR removes, for its check summary (None
    when the repository keeps no inventory). Base counts come from the inventory's store when
    the PR targets the default branch and the store knows the files; otherwise the base
    versions are read (at most :data:`MAX_BASE_FETCHES`); every extra request is counted."""
    if not config.tracking.inventory:
        return None
    rules = inventory_rules(config)
    wanted = set(rules)
    inv_config = restricted(config, rules)
    name, key = repo.full_name.lower(), analysis_key(inv_config)
    requests = 0
    if files is None:  # the analysis passes the file list it read (§14: read once)
        files = await repo.pull_files(int(pr["number"]))
        requests += max(1, -(-len(files) // 100))
    # path matching is CPU on hostile globs and paths (3,000 files): never on the event loop
    touched = await asyncio.to_thread(_touched, files, inv_config)
    if not touched:
        return None
    base = pr.get("base") or {}
    base_records: dict[str, FileRecord] = {}
    snapshot = await asyncio.to_thread(store().snapshot, name, key)
    if snapshot is not None and base.get("ref") == (base.get("repo") or {}).get(
            "default_branch"):
        known = {p: snapshot.files[p] for p in touched if p in snapshot.files}
        base_records = await asyncio.to_thread(store().results, name, key, known)
    missing = [p for p in sorted(touched) if p not in base_records]
    fetch, unread = missing[:MAX_BASE_FETCHES], len(missing[MAX_BASE_FETCHES:])
    limit = inv_config.limits.max_file_bytes
    items: list[tuple[str, bytes]] = []
    for path in fetch:
        requests += 1
        entry = await repo.file_entry(path, str(base.get("sha")), max_bytes=limit)
        if entry is not None and entry[1] is not None:
            items.append((path, entry[1]))
    if items:
        if snapshot is not None:
            inv_config = replace(inv_config, reexports=snapshot.index)
        base_records.update(await _analyse(workers, inv_config, items))
    head_counts: dict[str, int] = {}
    for v in violations:
        if v.rule in wanted:
            head_counts[v.path] = head_counts.get(v.path, 0) + 1
    before = after = removed = 0
    for base_path, target in touched.items():
        record = base_records.get(base_path)
        if record is None:
            continue
        old = sum(1 for r, _ in record.findings if r in wanted)
        new = 0 if target is None else head_counts.get(target, 0)
        before, after, removed = before + old, after + new, removed + max(0, old - new)
    issues = ", ".join(f"#{t.issue}" for t in config.tracking.inventory)
    text = (f"**Inventory** ({issues}): this PR removes **{removed}** pre-existing "
            f"violation{'s' if removed != 1 else ''} of the inventory's rules "
            f"({before} → {after} in the files it touches)")
    if unread:
        text += f"; {unread} more touched files were not compared (limit {MAX_BASE_FETCHES})"
    return text + f". ({requests} extra GitHub request{'s' if requests != 1 else ''}.)"
