"""Fewer requests (docs/behaviour.md §14), end to end through the real service and the emulator:
GraphQL batches, results reused across pushes, one snapshot per analysis, conditional requests,
waiting for the rate limit, and caches that stay inside their installation (§13).

Requests are counted as GitHub counts them against the rate limit: every request after the
delivery except the token exchange, ``GET /app`` and answers ``304 Not Modified``."""

from __future__ import annotations

import math
import re
from typing import Any

from bot.state.store import open_store
from ssot_emulator import CheckRun, blob_sha
from tests.integration.harness import INSTALLATION, REPO, Harness, running

CONFIG = """\
version: 1
paths: {include: ["app/**"]}
rules:
  - id: no-legacy-import
    kind: banned-import
    message: Import the new class.
    symbols: [legacy.core.Legacy]
"""
F = 300
VIOLATING = range(0, F, F // 10)  # 10 files
BAD = "from legacy.core import Legacy\n"


def base_files() -> dict[str, str]:
    files = {".github/ssot.yml": CONFIG, "legacy/__init__.py": "",
             "legacy/core.py": "class Legacy: ...\n", "app/__init__.py": ""}
    files.update({f"app/mod_{i:03d}.py": f"VALUE = {i}\n" for i in range(F)})
    return files


def pr_files() -> dict[str, str]:
    return {f"app/mod_{i:03d}.py": (BAD if i in VIOLATING else "") + f"VALUE = {i + 1}\n"
            for i in range(F)}


def bound(files: int, annotations: int, changed: int | None = None) -> int:
    """§14: 8 + ⌈F/100⌉ + ⌈F/50⌉ (first analysis) or ⌈k/50⌉ (k changed since) + ⌈A/50⌉."""
    read = files if changed is None else changed
    return 8 + math.ceil(files / 100) + math.ceil(read / 50) + math.ceil(annotations / 50)


def last_run(h: Harness) -> CheckRun:
    return h.emu.check_runs(REPO)[-1]


def findings(run: CheckRun) -> list[tuple[Any, ...]]:
    return sorted((a["path"], a["start_line"], a["annotation_level"], a["message"])
                  for a in run.output["annotations"])


def same_summary(run: CheckRun) -> list[str]:
    """The summary without what depends on caches (what was read, what it cost)."""
    return [p for p in run.output["summary"].split("\n\n")
            if not p.startswith(("Re-exports:", "GitHub requests:"))]


def cost(run: CheckRun) -> tuple[int, int]:
    last = run.output["summary"].rsplit("\n", 1)[-1]
    found = re.fullmatch(r"GitHub requests: (\d+) \((\d+) files reused\)", last)
    assert found, last
    return int(found[1]), int(found[2])


async def test_a_300_file_pr_costs_at_most_18_requests_and_every_violation_is_annotated() -> None:
    async with running(base_files()) as h:
        since = len(h.emu.requests)
        await h.open_pr(pr_files())
        counted = h.counted(since)
        run = last_run(h)
        assert run.conclusion == "failure"
        annotated = {a["path"] for a in run.output["annotations"]}
        assert annotated == {f"app/mod_{i:03d}.py" for i in VIOLATING}
        assert len(counted) <= bound(F, 10) == 18, [f"{r.method} {r.path}" for r in counted]
        # the contents: six GraphQL queries of 50 (and one for the package the re-export
        # planning reads), no REST blob, each file read once
        assert len(h.calls("POST", "/graphql")) == 6 + 1 and not h.calls("GET", "/git/blobs/")
        head = h.emu.head_sha(REPO, 1)
        checked = [r for r in h.blob_reads(since) if r.startswith(f"{head}:")]
        assert len(checked) == F == len(set(checked))
        # the file list once (three pages), the tree once
        assert len(h.calls("GET", "/files")) == 3 and len(h.calls("GET", "/git/trees/")) == 1
        # the cost line ends the summary: the requests up to the check's completion
        requests, reused = cost(run)
        assert reused == 0 and requests <= len(counted)


async def test_a_push_changing_2_files_reads_2_files_and_finds_what_a_fresh_analysis_finds(
        tmp_path: Any) -> None:
    async with running(base_files()) as h:
        number = await h.open_pr(pr_files())
        first = last_run(h)
        since = len(h.emu.requests)
        # one violating file edited (still violating), one clean file newly violating
        changed = {"app/mod_000.py": BAD + "VALUE = -1\n", "app/mod_001.py": BAD + "VALUE = 2\n"}
        await h.push(number, changed)
        counted = h.counted(since)
        run = last_run(h)
        assert run.id != first.id
        assert len(counted) <= bound(F, 11, changed=2) == 13, [
            f"{r.method} {r.path} {r.status}" for r in counted]
        head = h.emu.head_sha(REPO, number)
        assert sorted(h.blob_reads(since)) == sorted(f"{head}:{p}" for p in changed)
        assert cost(run)[1] == F - 2
        assert "app/mod_001.py" in {a["path"] for a in run.output["annotations"]}
        pushed = findings(run)

        # the same head analysed with every cache cleared: the same findings, fingerprints
        h.bot.store = open_store(tmp_path)
        h.bot.parts.analysis.blobs.drop(INSTALLATION)
        await h.send("check_run", h.emu.payload_check_run(REPO, run.id, "rerequested"))
        fresh = last_run(h)
        assert fresh.id != run.id and fresh.head_sha == run.head_sha
        assert findings(fresh) == pushed
        assert (fresh.conclusion, fresh.output["title"]) == (run.conclusion, run.output["title"])
        assert same_summary(fresh) == same_summary(run)
        assert cost(fresh)[1] == 0


async def test_the_second_analysis_reads_the_configuration_with_a_304() -> None:
    async with running(base_files()) as h:
        await h.open_pr({"app/mod_001.py": BAD})
        await h.open_pr({"app/mod_002.py": BAD}, branch="second")
        reads = [r.status for r in h.emu.requests if r.path.endswith("/contents/.github/ssot.yml")]
        assert reads == [200, 304]
        # the second PR's analysis: no REST read of anything but what changed
        assert len(h.emu.check_runs(REPO)) == 2


async def test_an_installation_short_of_its_rate_limit_waits_queued_then_completes() -> None:
    async with running(base_files()) as h:
        h.emu.enforce_rate_limits = True
        h.emu.set_rate_limit(INSTALLATION, remaining=150, reset_in=3)  # 3% of 5,000
        h.emu.set_rate_limit(INSTALLATION, remaining=150, reset_in=3, resource="graphql")
        await h.open_pr({"app/mod_001.py": BAD})
        created = [r.json for r in h.emu.requests
                   if r.method == "POST" and r.path.endswith("/check-runs")]
        assert created[0]["status"] == "queued"
        assert re.fullmatch(r"Waiting for GitHub's rate limit \(resets at \d\d:\d\d UTC\)",
                            created[0]["output"]["title"])
        run = last_run(h)
        assert len(h.emu.check_runs(REPO)) == 1
        assert (run.status, run.conclusion) == ("completed", "failure")
        assert not [r for r in h.emu.requests if r.status in (403, 429)]


async def test_a_truncated_graphql_text_is_read_again_as_a_rest_blob() -> None:
    long = ("# " + "x" * 998 + "\n") * 600 + BAD  # 600 KB: over GraphQL's 512,000, under 1 MiB
    async with running(base_files()) as h:
        await h.open_pr({"app/long.py": long})
        run = last_run(h)
        assert [(a["path"], a["start_line"]) for a in run.output["annotations"]] == [
            ("app/long.py", 601)]
        assert len(h.calls("GET", "/git/blobs/")) == 1


async def test_caches_stay_inside_their_installation() -> None:
    other, other_repo = 9090, "another-org/copy"
    async with running(base_files()) as h:
        h.emu.add_installation(other, "another-org")
        h.emu.add_repo(other_repo, base_files(), installation_id=other)
        await h.open_pr({"app/mod_001.py": BAD})
        mine = last_run(h)
        assert cost(mine)[1] == 0
        # the same files, the same configuration, in another installation's repository
        h.emu.commit(other_repo, "feature", {"app/mod_001.py": BAD})
        number = h.emu.open_pull_request(other_repo, "feature", title="Same change")
        since = len(h.emu.requests)
        await h.send("pull_request", h.emu.payload_pull_request(other_repo, number, "opened"))
        theirs = h.emu.check_runs(other_repo)[-1]
        assert findings(theirs) == findings(mine)
        assert cost(theirs)[1] == 0  # nothing reused from the other installation
        head = h.emu.head_sha(other_repo, number)
        module = blob_sha(b"class Legacy: ...\n")
        # read again, through its own token
        assert h.blob_reads(since) == [f"{head}:app/mod_001.py", module]
        assert "Re-exports: 1 module read (0 from cache)." in theirs.output["summary"]
        config_reads = [r.status for r in h.emu.requests[since:]
                        if r.path.endswith("/contents/.github/ssot.yml")]
        assert config_reads == [200]  # no ETag carried over from the other installation


async def test_a_binary_file_is_read_as_a_rest_blob_and_reported_as_before() -> None:
    async with running(base_files()) as h:
        await h.open_pr({"app/blob.py": b"\x00\xff" * 100, "app/mod_001.py": BAD})
        run = last_run(h)
        levels = {(a["path"], a["annotation_level"]) for a in run.output["annotations"]}
        assert ("app/blob.py", "warning") in levels and ("app/mod_001.py", "failure") in levels
        assert len(h.calls("GET", "/git/blobs/")) == 1  # GraphQL gives no text for it
