"""Pull request checks end to end: signed webhooks over HTTP into the real service, GitHub played
by the emulator (every request checked against GitHub's OpenAPI description)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.demo import FACTORY
from bot.usecases.reconcile import Reconciler
from tests.integration.harness import (
    REPO,
    ROOT,
    example_before,
    example_files,
    example_regression,
    running,
)
from tests.timing import TIMED


async def test_opened_pr_gets_failing_check_and_review_at_the_changed_lines() -> None:
    async with running(example_before()) as h:
        number = await h.open_pr(example_regression())
        runs = h.emu.check_runs(REPO)
        assert len(runs) == 1
        run = runs[0]
        assert (run.name, run.status, run.conclusion) == ("SSOT", "completed", "failure")
        assert run.head_sha == h.emu.head_sha(REPO, number)
        assert run.output["title"] == "3 new SSOT violations"
        assert any(a["identifier"] == "recheck" for a in run.actions)
        levels = {(a["start_line"], a["title"].split()[0], a["annotation_level"])
                  for a in run.output["annotations"]}
        assert (46, "ws-legacy-import", "failure") in levels
        assert (46, "ws-dual-pattern", "failure") in levels
        assert (98, "ws-legacy-annotation", "failure") in levels
        assert (103, "ws-legacy-annotation", "notice") in levels  # pre-existing line

        reviews = h.emu.reviews(REPO, number)
        assert len(reviews) == 1
        review = reviews[0]
        assert review.event == "COMMENT"
        assert review.commit_id == run.head_sha
        assert sorted((c.path, c.line) for c in review.comments) == [
            (FACTORY, 46), (FACTORY, 46), (FACTORY, 98)]
        line98 = next(c for c in review.comments if c.line == 98)
        # the fix needs more than the commented lines (it imports AgentWebSocketBridge on
        # line 43): no suggestion, the command; the check run's text carries the diff (§16)
        assert "```suggestion" not in line98.body
        assert f"Fix with: `ssot-bot fix {FACTORY}`" in line98.body
        assert "<!-- ssot-bot:fingerprint=" in line98.body
        line46 = [c for c in review.comments if c.line == 46]
        assert any(f"Fix with: `ssot-bot fix {FACTORY}`" in c.body for c in line46)
        assert not any("```suggestion" in c.body for c in line46)
        text = run.output["text"]
        assert "### Fixes" in text and "```diff" in text
        assert "+        self._websocket_manager: Optional[AgentWebSocketBridge] = None" in text


async def test_synchronize_adds_a_check_run_and_never_repeats_a_comment() -> None:
    async with running(example_before()) as h:
        number = await h.open_pr(example_regression())
        first = [c.body for r in h.emu.reviews(REPO, number) for c in r.comments]
        # an unrelated push: same violations, one more unrelated line
        content = example_files()[FACTORY] + b"\n\nEXTRA = 1\n"
        await h.push(number, {FACTORY: content})
        runs = h.emu.check_runs(REPO)
        assert len(runs) == 2
        assert runs[1].head_sha == h.emu.head_sha(REPO, number)
        assert runs[1].conclusion == "failure"
        all_comments = [c.body for r in h.emu.reviews(REPO, number) for c in r.comments]
        assert sorted(all_comments) == sorted(first)  # no second review, no duplicate comment
        assert len(h.emu.reviews(REPO, number)) == 1


async def test_clean_pr_passes_without_review() -> None:
    async with running(example_before()) as h:
        number = await h.open_pr({"netra_backend/app/services/util.py": "def helper():\n"
                                                                        "    return 1\n"})
        [run] = h.emu.check_runs(REPO)
        assert run.conclusion == "success"
        assert run.output["title"] == "No new SSOT violations"
        assert h.emu.reviews(REPO, number) == []


async def test_base_branch_config_wins_over_the_pr_editing_it() -> None:
    files = example_before()
    files[".github/ssot.yml"] = (
        b"version: 1\ncheck_name: SSOT strict\nrules:\n"
        b"  - id: no-legacy\n    kind: banned-import\n"
        b"    symbols: [netra_backend.app.websocket_core.websocket_manager.WebSocketManager]\n"
        b"    message: No legacy manager.\n")
    async with running(files) as h:
        relaxed = b"version: 1\ncheck_name: SSOT strict\nrules: []\n"
        number = await h.open_pr({**example_regression(), ".github/ssot.yml": relaxed})
        [run] = h.emu.check_runs(REPO)
        assert run.name == "SSOT strict"
        assert run.conclusion == "failure"
        assert run.output["title"] == "1 new SSOT violation"
        [review] = h.emu.reviews(REPO, number)
        assert [c.line for c in review.comments] == [46]
        assert "no-legacy" in review.comments[0].body


async def test_invalid_config_fails_the_check_with_file_and_line() -> None:
    files = example_before()
    files[".github/ssot.yml"] = b"version: 1\nrules:\n  - id: Bad Id\n    kind: nope\n"
    async with running(files) as h:
        number = await h.open_pr(example_regression())
        [run] = h.emu.check_runs(REPO)
        assert run.name == "SSOT"  # the bundled default's check_name
        assert run.conclusion == "failure"
        assert run.output["title"] == "Invalid SSOT configuration"
        assert ".github/ssot.yml:3" in run.output["summary"]
        assert ".github/ssot.yml:4" in run.output["summary"]
        assert h.emu.reviews(REPO, number) == []


async def test_redelivered_webhook_is_not_processed_again() -> None:
    async with running(example_before()) as h:
        h.emu.commit(REPO, "feature", example_regression())
        number = h.emu.open_pull_request(REPO, "feature")
        payload = h.emu.payload_pull_request(REPO, number, "opened")
        assert await h.send("pull_request", payload, delivery_id="abc") == 202
        assert await h.send("pull_request", payload, delivery_id="abc") == 202
        assert len(h.emu.check_runs(REPO)) == 1
        assert len(h.emu.reviews(REPO, number)) == 1


async def test_github_faults_are_retried_to_one_check_run_and_one_review() -> None:
    async with running(example_before()) as h:
        h.emu.inject("GET", r"/pulls/\d+/files", status=502, times=2)
        h.emu.inject("POST", r"/check-runs$", rate_limit="secondary", retry_after=0, status=403)
        h.emu.inject("GET", r"/git/blobs/", status=500, times=1)
        h.emu.inject("PATCH", r"/check-runs/\d+", status=503, times=1)
        h.emu.inject("POST", r"/pulls/\d+/reviews", status=502, times=1)
        number = await h.open_pr(example_regression())
        runs = h.emu.check_runs(REPO)
        assert len(runs) == 1
        assert runs[0].conclusion == "failure"
        assert len(h.emu.reviews(REPO, number)) == 1
        assert len(h.emu.reviews(REPO, number)[0].comments) >= 2


async def test_primary_rate_limit_waits_for_reset() -> None:
    async with running(example_before()) as h:
        h.emu.inject("GET", r"/pulls/\d+$", rate_limit="primary", retry_after=1, status=403)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await h.open_pr(example_regression())
        assert loop.time() - started >= 0.5
        assert len(h.emu.check_runs(REPO)) == 1


async def test_installation_token_is_cached_and_refreshed_after_a_401() -> None:
    async with running(example_before()) as h:
        number = await h.open_pr(example_regression())
        assert len(h.calls("POST", "/access_tokens")) == 1  # one token for the whole analysis
        for issued in h.emu.tokens.values():  # GitHub revokes/expires it early
            issued.expires_at = 0
        await h.send("pull_request", h.emu.payload_pull_request(REPO, number, "synchronize"))
        assert len(h.emu.check_runs(REPO)) == 2
        assert len(h.calls("POST", "/access_tokens")) == 2
        assert [r for r in h.emu.requests if r.status == 401]  # it did see the 401


async def test_comment_outside_the_diff_never_loses_the_others() -> None:
    # GitHub omits the patch of huge files: the bot cannot know which lines take a comment.
    async with running(example_before()) as h:
        h.emu.omit_patches_over = 1
        number = await h.open_pr(example_regression())
        [run] = h.emu.check_runs(REPO)
        assert run.conclusion == "failure"  # every line of a patch-less file counts as new
        reviews = h.emu.reviews(REPO, number)
        # nothing could be commented inline, so no review, but every finding is in the check run
        assert reviews == [] or all(not r.comments for r in reviews)
        assert {a["start_line"] for a in run.output["annotations"]} >= {46, 98}


async def test_unrelated_event_is_accepted_and_ignored() -> None:
    async with running(example_before()) as h:
        status = await h.send("star", {"action": "created", "repository": {"full_name": REPO},
                                       "installation": {"id": 1}})
        assert status == 202
        assert [r for r in h.emu.requests if r.method != "GET"] == []


@pytest.mark.parametrize("action", ["reopened", "ready_for_review"])
async def test_other_triggers_analyse_too(action: str) -> None:
    async with running(example_before()) as h:
        h.emu.commit(REPO, "feature", example_regression())
        number = h.emu.open_pull_request(REPO, "feature")
        await h.send("pull_request", h.emu.payload_pull_request(REPO, number, action))
        assert len(h.emu.check_runs(REPO)) == 1


async def test_a_burst_of_pushes_coalesces_into_few_analyses_of_the_newest_head() -> None:
    async with running(example_before()) as h:
        h.emu.latency = 0.02
        number = await h.open_pr(example_regression(), settle=False)
        for i in range(5):
            h.emu.commit(REPO, "feature", {"extra.py": f"X = {i}\n"})
            await h.send("pull_request", h.emu.payload_pull_request(REPO, number, "synchronize"),
                         settle=False)
        await h.bot.idle()
        runs = h.emu.check_runs(REPO)
        assert 1 <= len(runs) <= 3  # the first, at most one running and one follow-up
        assert runs[-1].head_sha == h.emu.head_sha(REPO, number)


async def test_process_pool_analysis(tmp_path: object) -> None:
    async with running(example_before(), workers=2) as h:
        await h.open_pr(example_regression())
        [run] = h.emu.check_runs(REPO)
        assert run.output["title"] == "3 new SSOT violations"



async def test_no_token_or_key_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    async with running(example_before()) as h:
        h.emu.inject("GET", r"/pulls/\d+/files", status=502, times=1)
        await h.open_pr(example_regression())
        secrets = [*h.emu.tokens, h.emu.private_key_pem.splitlines()[1], "integration-secret"]
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "retrying" in text  # the retry was logged ...
    for secret in secrets:
        assert secret not in text  # ... without a credential


@TIMED
async def test_hostile_file_is_reported_and_skipped_while_the_bot_stays_responsive(
        timed: bool) -> None:
    files = example_before()
    files[".github/ssot.yml"] = (
        b"version: 1\nfile_time_budget: 1\nrules:\n"
        b"  - id: no-legacy\n    kind: banned-import\n"
        b"    symbols: [netra_backend.app.websocket_core.websocket_manager.WebSocketManager]\n"
        b"    message: No legacy manager.\n")
    hostile = ("from netra_backend.app.websocket_core.websocket_manager import "
               "WebSocketManager\n" + "x = " + " + ".join(["a"] * 20000) + "\n")
    async with running(files, workers=1) as h:
        number = await h.open_pr({"hostile.py": hostile, FACTORY: example_files()[FACTORY]},
                                 settle=False)
        base = h.url.rsplit("/api/", 1)[0]
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession() as session:
            for _ in range(5):  # the event loop answers while the worker is stuck
                started = loop.time()
                async with session.get(f"{base}/healthz") as resp:
                    assert resp.status == 200
                assert loop.time() - started < 0.5 or not timed
                await asyncio.sleep(0.1)
        await h.bot.idle()
        [run] = h.emu.check_runs(REPO)
        notes = {(a["path"], a["annotation_level"]) for a in run.output["annotations"]}
        # it names the banned symbol: not analysed, it fails the check (§13)
        assert ("hostile.py", "failure") in notes
        assert (FACTORY, "failure") in notes  # the other file's finding is not lost
        assert "time budget" in " ".join(a["message"] for a in run.output["annotations"])
        assert run.conclusion == "failure"
        assert len(h.emu.reviews(REPO, number)) == 1


async def test_github_down_through_all_retries_the_catch_up_pass_analyses_later() -> None:
    async with running(example_before()) as h:
        h.emu.inject("GET", r"/pulls/\d+$", status=502, times=5)  # the policy's 5 attempts
        number = await h.open_pr(example_regression())
        # one retry policy, applied once per call: 5 tries of the one GET, not 5 x 3 x 3
        tries = [r for r in h.emu.requests
                 if r.method == "GET" and r.path.endswith(f"/pulls/{number}")]
        assert len(tries) == 5
        assert h.emu.check_runs(REPO) == []  # the job failed; it is not run again on top
        stats = await Reconciler(h.bot.catch_up_parts(), interval=60).run_pass()
        await h.bot.idle()
        assert stats.analysed == 1  # an open PR without a completed check: analysed now
        [run] = h.emu.check_runs(REPO)
        assert run.conclusion == "failure"
        assert run.output["title"] == "3 new SSOT violations"
        assert len(h.emu.reviews(REPO, number)) == 1


async def test_a_refused_review_is_retried_as_one_review_and_loses_nothing() -> None:
    async with running(example_before()) as h:
        h.emu.inject("POST", r"/pulls/\d+/reviews$", status=422, times=1)
        number = await h.open_pr(example_regression())
        [review] = h.emu.reviews(REPO, number)
        assert len(review.comments) == 3  # every comment is on an added line: all kept


async def test_a_review_refused_twice_carries_its_findings_in_the_body() -> None:
    async with running(example_before()) as h:
        h.emu.inject("POST", r"/pulls/\d+/reviews$", status=422, times=2)
        number = await h.open_pr(example_regression())
        [review] = h.emu.reviews(REPO, number)
        assert review.comments == []
        body = review.body or ""
        assert body.count("<!-- ssot-bot:fingerprint=") == 3
        assert "agent_instance_factory.py:98" in body
        # a later analysis repeats none of them
        await h.push(number, {"unrelated.py": "U = 1\n"})
        assert len(h.emu.reviews(REPO, number)) == 1
        assert h.emu.review_comments(REPO, number) == []


async def test_a_retarget_to_a_base_with_another_check_name_supersedes_the_old_check() -> None:
    """docs/behaviour.md §8: the old base's check (another name) is completed as superseded;
    the new base's check has the verdict."""
    bundled = (ROOT / "config" / "ssot.yml").read_text(encoding="utf-8")
    assert "\ncheck_name: SSOT\n" in bundled
    release = bundled.replace("\ncheck_name: SSOT\n", "\ncheck_name: SSOT release\n")
    async with running(example_before()) as h:
        h.emu.commit(REPO, "release", {".github/ssot.yml": release})
        number = await h.open_pr(example_regression())
        [old] = h.emu.check_runs(REPO)
        assert (old.name, old.conclusion) == ("SSOT", "failure")
        h.emu.pull(REPO, number).base_ref = "release"  # retargeted on GitHub
        await h.send("pull_request", h.emu.payload_pull_request(
            REPO, number, "edited", changes={"base": {"ref": {"from": "main"},
                                                      "sha": {"from": old.head_sha}}}))
        runs = {run.name: run for run in h.emu.check_runs(REPO)}
        assert set(runs) == {"SSOT", "SSOT release"}
        superseded = runs["SSOT"]
        assert (superseded.status, superseded.conclusion) == ("completed", "neutral")
        assert superseded.output["title"] == "Superseded: the base branch changed"
        assert "`SSOT release`" in superseded.output["summary"]
        assert (runs["SSOT release"].status, runs["SSOT release"].conclusion) == (
            "completed", "failure")
        # retargeted back: the release check is superseded in turn, SSOT has the verdict again
        h.emu.pull(REPO, number).base_ref = "main"
        await h.send("pull_request", h.emu.payload_pull_request(
            REPO, number, "edited", changes={"base": {"ref": {"from": "release"},
                                                      "sha": {"from": old.head_sha}}}))
        latest = {run.name: run for run in h.emu.check_runs(REPO)}  # the newest of each name
        assert latest["SSOT release"].output["title"] == "Superseded: the base branch changed"
        assert latest["SSOT"].conclusion == "failure"
