"""Tracking issues end to end: merged PRs tick the seed issue's checklist through the real
service and the emulator; exactly one comment; nothing more on replay; no lost updates."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from tests.integration.harness import DATA, REPO, Harness, example_files, running

SEED = (DATA / "tracking-issue-1103.md").read_bytes().decode("utf-8")
EXPECTED = Path(__file__).resolve().parent.parent / "tracking" / "expected"


def expected(name: str) -> str:
    return (EXPECTED / name).read_bytes().decode("utf-8")


def linked_body(issue: int, steps: str) -> str:
    return f"Fixes the factory.\n\nSSOT-Tracking: #{issue}\nSSOT-Step: {steps}\n"


async def merge(h: Harness, number: int, *, delivery_id: str | None = None,
                settle: bool = True) -> None:
    h.emu.merge_pull_request(REPO, number)
    await h.send("pull_request", h.emu.payload_pull_request(REPO, number, "closed"),
                 delivery_id=delivery_id, settle=settle)


async def test_merging_the_step_1_pr_yields_the_contract_body_and_one_comment() -> None:
    async with running() as h:
        issue = h.emu.create_issue(REPO, "SSOT Regression: WebSocket Factory Fragmentation", SEED)
        number = await h.open_pr({"tests/test_factory.py": "def test_x():\n    pass\n"},
                                 body=linked_body(issue, "1"))
        assert h.emu.issue(REPO, issue).body == SEED  # Step 1 is IN PROGRESS already
        await merge(h, number, delivery_id="merge-1")

        merged_at = h.emu.pull(REPO, number).merged_at
        assert merged_at is not None
        day = dt.datetime.fromtimestamp(merged_at, dt.UTC).date().isoformat()  # the merge's date
        want = expected("after-step-1.md").replace(
            "2025-09-20 - Step 1 completed via #1201", f"{day} - Step 1 completed via #{number}")
        assert h.emu.issue(REPO, issue).body == want
        comments = h.emu.issue(REPO, issue).comments
        assert len(comments) == 1
        assert f"<!-- ssot-bot:step-done pr={number} steps=1 -->" in comments[0].body
        assert f"#{number}" in comments[0].body

        # a redelivery and a replay (new delivery id) change nothing and add nothing
        writes = len([r for r in h.emu.requests if r.method in ("PATCH", "POST")])
        await h.send("pull_request", h.emu.payload_pull_request(REPO, number, "closed"),
                     delivery_id="merge-1")
        await h.send("pull_request", h.emu.payload_pull_request(REPO, number, "closed"))
        assert h.emu.issue(REPO, issue).body == want
        assert len(h.emu.issue(REPO, issue).comments) == 1
        assert len([r for r in h.emu.requests if r.method in ("PATCH", "POST")]) == writes


async def test_opening_a_pr_for_a_pending_step_moves_it_to_in_progress() -> None:
    async with running() as h:
        issue = h.emu.create_issue(REPO, "Tracking", SEED)
        h.emu.set_permission(REPO, "octocat", "write")  # a maintainer's PR
        await h.open_pr({"tests/test_plan.py": "X = 1\n"}, body=linked_body(issue, "2"))
        assert h.emu.issue(REPO, issue).body == expected("started-step-2.md")
        assert h.emu.issue(REPO, issue).comments == []


async def test_crlf_issue_body_keeps_its_line_endings() -> None:
    async with running() as h:
        crlf = SEED.replace("\n", "\r\n")
        issue = h.emu.create_issue(REPO, "Tracking", crlf)
        number = await h.open_pr({"a.py": "A = 1\n"}, body=linked_body(issue, "1"))
        await merge(h, number)
        body = h.emu.issue(REPO, issue).body
        assert body is not None
        assert body.count("\r\n") == crlf.count("\r\n")
        assert "\n" not in body.replace("\r\n", "")
        assert "- [x] **Step 1**: Discover and Plan Test\r\n" in body


async def test_missing_issue_or_step_gets_one_explanatory_comment_on_the_pr() -> None:
    async with running() as h:
        issue = h.emu.create_issue(REPO, "Tracking", SEED)
        body = f"SSOT-Tracking: #{issue}\nSSOT-Step: 9\n\nSSOT-Tracking: #4242\nSSOT-Step: 1\n"
        number = await h.open_pr({"a.py": "A = 1\n"}, body=body)
        await h.send("pull_request", h.emu.payload_pull_request(REPO, number, "edited"))
        await merge(h, number)
        notes = [c for c in h.emu.issue(REPO, number).comments
                 if "<!-- ssot-bot:link-error -->" in c.body]
        assert len(notes) == 1
        assert "9" in notes[0].body
        assert "4242" in notes[0].body
        assert h.emu.issue(REPO, issue).body == SEED
        assert h.emu.issue(REPO, issue).comments == []


async def test_closed_without_merge_changes_nothing() -> None:
    async with running() as h:
        issue = h.emu.create_issue(REPO, "Tracking", SEED)
        number = await h.open_pr({"a.py": "A = 1\n"}, body=linked_body(issue, "1"))
        h.emu.close_pull_request(REPO, number)
        await h.send("pull_request", h.emu.payload_pull_request(REPO, number, "closed"))
        assert h.emu.issue(REPO, issue).body == SEED
        assert h.emu.issue(REPO, issue).comments == []


async def test_pr_without_body_links_nothing() -> None:
    async with running() as h:
        number = await h.open_pr({"a.py": "A = 1\n"}, body=None)
        await merge(h, number)
        assert h.emu.issue(REPO, number).comments == []


async def test_five_prs_merging_at_once_all_land_on_a_slow_github() -> None:
    async with running() as h:
        issue = h.emu.create_issue(REPO, "Tracking", SEED)
        numbers = []
        for step in range(2, 7):
            numbers.append(await h.open_pr({f"step{step}.py": f"S = {step}\n"},
                                           branch=f"step-{step}",
                                           body=linked_body(issue, str(step))))
        h.emu.latency = 0.02
        for n in numbers:
            h.emu.merge_pull_request(REPO, n)
        await asyncio.gather(*(h.send("pull_request",
                                      h.emu.payload_pull_request(REPO, n, "closed"),
                                      settle=False) for n in numbers))
        await h.bot.idle()
        body = h.emu.issue(REPO, issue).body or ""
        for step in range(2, 7):
            assert f"- [x] **Step {step}**" in body
        assert "- [ ] **Step 1**" in body  # Step 1 was never merged
        assert "**Next Action**: Begin Step 1 - Discover and Plan Test" in body
        comments = h.emu.issue(REPO, issue).comments
        assert sorted(c.body.split("steps=")[1].split(" ")[0] for c in comments) == [
            "2", "3", "4", "5", "6"]


async def test_sub_steps_roll_up_into_their_parent() -> None:
    async with running() as h:
        issue = h.emu.create_issue(REPO, "Tracking", SEED)
        first = await h.open_pr({"a.py": "A = 1\n"}, branch="a", body=linked_body(issue, "1.1"))
        await merge(h, first)
        body = h.emu.issue(REPO, issue).body or ""
        assert "- [x] 1.1:" in body
        assert "- [ ] **Step 1**" in body
        second = await h.open_pr({"b.py": "B = 1\n"}, branch="b", body=linked_body(issue, "1.2"))
        await merge(h, second)
        body = h.emu.issue(REPO, issue).body or ""
        assert "- [x] **Step 1**" in body
        assert body.index("- [x] **Step 1**") < body.index("IN PROGRESS")


# --- docs/behaviour.md §9: closing keywords and the real formats, end to end -----------------

EXAMPLES = Path(__file__).resolve().parent.parent / "tracking" / "examples"


def example(name: str) -> str:
    return (EXAMPLES / name).read_bytes().decode("utf-8")


def merge_day(h: Harness, number: int) -> str:
    merged_at = h.emu.pull(REPO, number).merged_at
    assert merged_at is not None
    return dt.datetime.fromtimestamp(merged_at, dt.UTC).date().isoformat()


async def test_closes_keyword_merge_completes_the_last_step_of_a_tracking_issue() -> None:
    body = example("15-netra-879-threadstate-bold-step-headings.md")
    async with running() as h:
        issue = h.emu.create_issue(REPO, "ThreadState", body)
        number = await h.open_pr({"a.py": "A = 1\n"}, body=f"Final PR.\n\nCloses #{issue}\n")
        assert h.emu.issue(REPO, issue).body == body  # nothing on open
        await merge(h, number)
        want = expected("example-15-closed-by-pr.md").replace(
            "2025-09-20 - Step 6 completed via #1210",
            f"{merge_day(h, number)} - Step 6 completed via #{number}")
        assert h.emu.issue(REPO, issue).body == want
        [done] = h.emu.issue(REPO, issue).comments
        assert f"<!-- ssot-bot:step-done pr={number} steps=6 -->" in done.body
        await h.send("pull_request", h.emu.payload_pull_request(REPO, number, "closed"))
        assert len(h.emu.issue(REPO, issue).comments) == 1
        assert h.emu.issue(REPO, number).comments == []  # no link error


async def test_closes_keyword_with_a_step_line_completes_that_step() -> None:
    async with running() as h:
        issue = h.emu.create_issue(REPO, "Tracking", SEED)
        number = await h.open_pr({"a.py": "A = 1\n"},
                                 body=f"fixes #{issue}\n\nSSOT-Step: 1\n")
        await merge(h, number)
        want = expected("after-step-1.md").replace(
            "2025-09-20 - Step 1 completed via #1201",
            f"{merge_day(h, number)} - Step 1 completed via #{number}")
        assert h.emu.issue(REPO, issue).body == want


async def test_closes_keyword_to_a_plain_issue_or_with_closing_step_none_does_nothing() -> None:
    config = "version: 1\nrules: []\ntracking:\n  closing_step: none\n"
    async with running() as h:
        plain = h.emu.create_issue(REPO, "A bug", "It breaks.\n- [ ] reproduce\n")
        number = await h.open_pr({"a.py": "A = 1\n"}, body=f"Resolves #{plain}")
        await merge(h, number)
        assert h.emu.issue(REPO, plain).body == "It breaks.\n- [ ] reproduce\n"
        assert h.emu.issue(REPO, plain).comments == []
        assert h.emu.issue(REPO, number).comments == []
    async with running({**example_files(), ".github/ssot.yml": config}) as h:
        issue = h.emu.create_issue(REPO, "Tracking", SEED)
        number = await h.open_pr({"a.py": "A = 1\n"}, body=f"Closes #{issue}")
        await merge(h, number)
        assert h.emu.issue(REPO, issue).body == SEED
        assert h.emu.issue(REPO, issue).comments == []


async def test_a_step_without_a_checkbox_gets_the_link_error() -> None:
    body = example("08-netra-1126-websocket-factory-ordered-list.md")
    async with running() as h:
        issue = h.emu.create_issue(REPO, "Factory", body)
        number = await h.open_pr({"a.py": "A = 1\n"},
                                 body=f"SSOT-Tracking: #{issue}\nSSOT-Step: 6\n")
        await merge(h, number)
        assert h.emu.issue(REPO, issue).body == body
        [note] = [c.body for c in h.emu.issue(REPO, number).comments]
        assert "Step 6 has no checkbox to tick" in note


async def test_heading_step_merge_through_the_service() -> None:
    body = example("09-netra-1078-jwt-step-headings.md")
    async with running() as h:
        issue = h.emu.create_issue(REPO, "JWT", body)
        number = await h.open_pr({"a.py": "A = 1\n"},
                                 body=f"SSOT-Tracking: #{issue}\nSSOT-Step: 3\n")
        await merge(h, number)
        assert h.emu.issue(REPO, issue).body == expected("example-09-after-step-3.md")
