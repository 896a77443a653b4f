"""`/ssot` commands in PR comments and re-runs from the checks UI, end to end
(docs/behaviour.md §4, §6): signed webhooks over HTTP into the real service, GitHub played by
the OpenAPI-checked emulator."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.harness import DATA, INSTALLATION, REPO, Harness, running

CHANGE = {"netra_backend/app/services/util.py": "def helper():\n    return 1\n"}
AUTHOR = "octocat"


def change(n: int) -> dict[str, str | bytes | None]:
    return {"netra_backend/app/services/util.py": f"def helper():\n    return {n}\n"}


def new_comment(h: Harness, number: int, body: str, *, user: str = AUTHOR,
                user_type: str = "User") -> int:
    return h.emu.add_issue_comment(REPO, number, body, user, user_type)


async def comment(h: Harness, number: int, body: str, *, user: str = AUTHOR,
                  user_type: str = "User", settle: bool = True,
                  delivery_id: str | None = None) -> int:
    """Post a comment in the emulator and deliver its `issue_comment` `created` webhook."""
    comment_id = new_comment(h, number, body, user=user, user_type=user_type)
    status = await h.send("issue_comment", h.emu.payload_issue_comment(REPO, number, comment_id),
                          settle=settle, delivery_id=delivery_id)
    assert status == 202
    return comment_id


def reactions(h: Harness, comment_id: int) -> list[str]:
    return [r.content for r in h.emu.reactions(REPO, comment_id)]


def replies(h: Harness, number: int) -> list[str]:
    """Bodies of the bot's comments on the PR."""
    return [c.body for c in h.emu.issue(REPO, number).comments if c.user == h.emu.bot_login]


def heads(h: Harness) -> list[str]:
    return [r.head_sha for r in h.emu.check_runs(REPO)]


def bot_writes(h: Harness, since: int) -> list[str]:
    """Non-GET requests the bot made after request index ``since`` (token exchanges aside)."""
    return [f"{r.method} {r.path}" for r in h.emu.requests[since:]
            if r.method != "GET" and "/access_tokens" not in r.path]


# 1. /ssot recheck ------------------------------------------------------------------------------

async def test_recheck_by_author_reacts_eyes_and_analyses_the_newest_head() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        [first] = h.emu.check_runs(REPO)
        comment_id = new_comment(h, number, "/ssot recheck")
        stale = h.emu.payload_issue_comment(REPO, number, comment_id)  # built before the push
        new_head = h.emu.commit(REPO, "feature", change(2))  # no synchronize webhook sent
        assert new_head != first.head_sha
        assert await h.send("issue_comment", stale) == 202
        assert reactions(h, comment_id) == ["eyes"]
        runs = h.emu.check_runs(REPO)
        assert len(runs) == 2
        assert runs[1].head_sha == new_head == h.emu.head_sha(REPO, number)
        assert runs[1].status == "completed"
        assert replies(h, number) == []  # a recheck is answered by the reaction only


async def test_recheck_reaction_comes_before_the_new_check_run() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        since = len(h.emu.requests)
        await comment(h, number, "/ssot recheck")
        writes = bot_writes(h, since)
        assert writes[0].endswith("/reactions")
        assert any(w.startswith("POST") and w.endswith("/check-runs") for w in writes[1:])


async def test_recheck_by_the_author_with_other_case_login_is_allowed() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE, user="OctoCat")
        comment_id = await comment(h, number, "/ssot recheck", user="octocat")
        assert reactions(h, comment_id) == ["eyes"]
        assert len(h.emu.check_runs(REPO)) == 2


# 2. permissions --------------------------------------------------------------------------------

@pytest.mark.parametrize(("permission", "allowed"), [
    ("admin", True),
    ("write", True),
    ("maintain", True),  # GitHub reports the maintain role as `write`
    ("triage", False),  # ... and triage as `read`
    ("read", False),
    ("none", False),
    (None, False),  # never set: not a collaborator
])
async def test_recheck_permission(permission: str | None, allowed: bool) -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        if permission is not None:
            h.emu.set_permission(REPO, "alice", permission)
        since = len(h.emu.requests)
        comment_id = await comment(h, number, "/ssot recheck", user="alice")
        asked = h.calls("GET", "/collaborators/alice/permission")
        assert len(asked) == 1
        if allowed:
            assert reactions(h, comment_id) == ["eyes"]
            assert len(h.emu.check_runs(REPO)) == 2
        else:
            assert reactions(h, comment_id) == ["-1"]
            assert len(h.emu.check_runs(REPO)) == 1
            # nothing else: no check run, no comment, no review
            assert bot_writes(h, since) == [
                f"POST /repos/{REPO}/issues/comments/{comment_id}/reactions"]
        assert replies(h, number) == []


# 3. help, unknown commands, several commands, quotes and code -----------------------------------

async def test_help_gets_one_reply_listing_the_commands() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        comment_id = await comment(h, number, "Thanks!\n/ssot help\n", user="stranger")
        [reply] = replies(h, number)
        assert "/ssot recheck" in reply
        assert "/ssot help" in reply
        assert reactions(h, comment_id) == []
        assert len(h.emu.check_runs(REPO)) == 1  # help never analyses
        assert h.calls("GET", "/collaborators/") == []  # anyone may ask for help


async def test_unknown_command_gets_confused_reaction_and_the_help() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        comment_id = await comment(h, number, "/ssot frobnicate", user="stranger")
        assert reactions(h, comment_id) == ["confused"]
        [reply] = replies(h, number)
        assert "frobnicate" in reply
        assert "/ssot recheck" in reply
        assert len(h.emu.check_runs(REPO)) == 1


async def test_several_commands_in_one_comment_get_one_reply() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        body = ("/ssot help\n"
                "/ssot frobnicate\n"
                "/ssot recheck\n"
                "/ssot help\n"  # the same command again: answered once
                "/ssot recheck\n")
        comment_id = await comment(h, number, body)
        assert sorted(reactions(h, comment_id)) == ["confused", "eyes"]
        # one reply per comment (docs/behaviour.md §8): help and unknown
        [reply] = replies(h, number)
        assert "frobnicate" in reply and "/ssot recheck" in reply
        assert len(h.emu.check_runs(REPO)) == 2
        assert len(h.calls("POST", f"/issues/comments/{comment_id}/reactions")) == 2


@pytest.mark.parametrize("body", [
    "> /ssot recheck",
    "> > /ssot help",
    "As you said:\n> /ssot recheck\n\nI disagree.",
    "```\n/ssot recheck\n```",
    "~~~text\n/ssot help\n/ssot frobnicate\n~~~",
    "Run `/ssot recheck` to re-run.",
    "<!--\n/ssot recheck\n-->",
    "Example:\n\n    /ssot recheck\n",
])
async def test_quoted_and_code_commands_are_ignored(body: str) -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        since = len(h.emu.requests)
        comment_id = await comment(h, number, body)
        assert reactions(h, comment_id) == []
        assert replies(h, number) == []
        assert len(h.emu.check_runs(REPO)) == 1
        assert h.emu.requests[since:] == []  # not one request for it


async def test_commands_are_case_insensitive() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        comment_id = await comment(h, number, "/SSOT Recheck")
        assert reactions(h, comment_id) == ["eyes"]
        assert len(h.emu.check_runs(REPO)) == 2


async def test_edited_and_deleted_comments_are_not_commands() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        comment_id = new_comment(h, number, "/ssot recheck\n/ssot help")
        since = len(h.emu.requests)
        for action in ("edited", "deleted"):
            await h.send("issue_comment",
                         h.emu.payload_issue_comment(REPO, number, comment_id, action=action))
        assert h.emu.requests[since:] == []
        assert reactions(h, comment_id) == []


async def test_command_on_a_plain_issue_is_ignored() -> None:
    async with running() as h:
        await h.open_pr(CHANGE)
        issue = h.emu.create_issue(REPO, "A bug", "details")
        since = len(h.emu.requests)
        comment_id = await comment(h, issue, "/ssot recheck\n/ssot help")
        assert reactions(h, comment_id) == []
        assert h.emu.requests[since:] == []


# 4. bots ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("login", "user_type"), [
    ("dependabot[bot]", "Bot"),
    ("ci-helper", "Bot"),
    ("renovate[bot]", "User"),
])
async def test_comments_from_bots_are_ignored(login: str, user_type: str) -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        h.emu.set_permission(REPO, login, "admin")
        since = len(h.emu.requests)
        comment_id = await comment(h, number, "/ssot recheck\n/ssot help", user=login,
                                   user_type=user_type)
        assert h.emu.requests[since:] == []
        assert reactions(h, comment_id) == []
        assert replies(h, number) == []
        assert len(h.emu.check_runs(REPO)) == 1


async def test_the_bots_own_help_reply_coming_back_as_a_webhook_is_ignored() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        await comment(h, number, "/ssot help")
        [own] = [c for c in h.emu.issue(REPO, number).comments if c.user == h.emu.bot_login]
        since = len(h.emu.requests)
        await h.send("issue_comment", h.emu.payload_issue_comment(REPO, number, own.id))
        assert h.emu.requests[since:] == []
        assert len(replies(h, number)) == 1


# 5. a burst ------------------------------------------------------------------------------------

async def _until(condition: Callable[[], bool]) -> None:
    """Poll the emulator's state (it changes in another task) for up to 10 seconds."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached in 10 s")


async def test_burst_of_rechecks_coalesces_to_at_most_two_analyses_of_the_newest_head() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        old_head = h.emu.head_sha(REPO, number)
        h.emu.latency = 0.05
        ids = [await comment(h, number, "/ssot recheck", settle=False) for _ in range(5)]
        # the first analysis has created its check run on the old head and is still running
        await _until(lambda: len(h.emu.check_runs(REPO)) == 2)
        assert h.emu.check_runs(REPO)[1].status == "in_progress"
        newest = h.emu.commit(REPO, "feature", change(3))  # pushed, no synchronize webhook
        h.emu.set_permission(REPO, "alice", "write")  # (5 rechecks per user per 10 minutes)
        ids += [await comment(h, number, "/ssot recheck", user="alice", settle=False)
                for _ in range(5)]
        await h.bot.idle()
        h.emu.latency = 0.0
        assert [reactions(h, c) for c in ids] == [["eyes"]] * 10
        runs = h.emu.check_runs(REPO)
        assert len(runs) == 3, [(r.head_sha, r.status) for r in runs]  # running + 1 follow-up
        assert runs[1].head_sha == old_head
        assert runs[-1].head_sha == newest == h.emu.head_sha(REPO, number)
        assert all(r.status == "completed" for r in runs)
        assert replies(h, number) == []


# 6. redelivery and replays ---------------------------------------------------------------------

async def test_redelivered_help_is_answered_once() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        comment_id = new_comment(h, number, "/ssot help")
        payload = h.emu.payload_issue_comment(REPO, number, comment_id)
        assert await h.send("issue_comment", payload, delivery_id="help-1") == 202
        assert await h.send("issue_comment", payload, delivery_id="help-1") == 202
        assert len(replies(h, number)) == 1
        # the same comment replayed under a new delivery id: the reply's marker is found
        assert await h.send("issue_comment", payload, delivery_id="help-2") == 202
        assert len(replies(h, number)) == 1


async def test_replayed_unknown_command_is_answered_once() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        comment_id = new_comment(h, number, "/ssot frobnicate")
        payload = h.emu.payload_issue_comment(REPO, number, comment_id)
        await h.send("issue_comment", payload)
        await h.send("issue_comment", payload)
        assert len(replies(h, number)) == 1
        assert reactions(h, comment_id) == ["confused"]


async def test_concurrent_replays_of_help_are_answered_once() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        comment_id = new_comment(h, number, "/ssot help")
        payload = h.emu.payload_issue_comment(REPO, number, comment_id)
        # the reply-marker look-up is slow, so the two handlers overlap
        h.emu.inject("GET", rf"/issues/{number}/comments$", status=None, delay=0.1, times=2)
        await h.send("issue_comment", payload, delivery_id="help-a", settle=False)
        await h.send("issue_comment", payload, delivery_id="help-b", settle=False)
        await h.bot.idle()
        assert len(replies(h, number)) == 1


async def test_a_second_help_comment_gets_its_own_reply() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        await comment(h, number, "/ssot help")
        await comment(h, number, "/ssot help")
        assert len(replies(h, number)) == 2


# 7. re-runs from the checks UI -------------------------------------------------------------------

async def test_check_run_rerequested_analyses_again() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        [run] = h.emu.check_runs(REPO)
        await h.send("check_run", h.emu.payload_check_run(REPO, run.id, "rerequested"))
        runs = h.emu.check_runs(REPO)
        assert len(runs) == 2
        assert runs[1].head_sha == h.emu.head_sha(REPO, number)


async def test_requested_action_recheck_analyses_again_other_identifiers_do_nothing() -> None:
    async with running() as h:
        await h.open_pr(CHANGE)
        [run] = h.emu.check_runs(REPO)
        since = len(h.emu.requests)
        await h.send("check_run", h.emu.payload_check_run(REPO, run.id, "requested_action",
                                                          requested_action_identifier="other"))
        assert h.emu.requests[since:] == []
        assert len(h.emu.check_runs(REPO)) == 1
        await h.send("check_run", h.emu.payload_check_run(REPO, run.id, "requested_action",
                                                          requested_action_identifier="recheck"))
        assert len(h.emu.check_runs(REPO)) == 2


async def test_check_suite_rerequested_analyses_again() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        head = h.emu.head_sha(REPO, number)
        await h.send("check_suite", h.emu.payload_check_suite(REPO, head))
        assert heads(h) == [head, head]


@pytest.mark.parametrize("event", ["rerequested", "requested_action", "check_suite"])
async def test_another_apps_checks_are_ignored(event: str) -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        [run] = h.emu.check_runs(REPO)
        if event == "check_suite":
            payload = h.emu.payload_check_suite(REPO, h.emu.head_sha(REPO, number))
            payload["check_suite"]["app"]["id"] = h.emu.app_id + 1
        else:
            payload = h.emu.payload_check_run(
                REPO, run.id, event,
                requested_action_identifier="recheck" if event == "requested_action" else None)
            payload["check_run"]["app"]["id"] = h.emu.app_id + 1
            payload["check_run"]["check_suite"]["app"]["id"] = h.emu.app_id + 1
        since = len(h.emu.requests)
        await h.send("check_suite" if event == "check_suite" else "check_run", payload)
        assert h.emu.requests[since:] == []
        assert len(h.emu.check_runs(REPO)) == 1


async def test_the_bots_own_check_events_do_not_trigger_analyses() -> None:
    """GitHub tells the app about the check runs it creates and the suites of each push: only
    `rerequested` / `requested_action` are triggers (no analysis loop)."""
    async with running() as h:
        number = await h.open_pr(CHANGE)
        [run] = h.emu.check_runs(REPO)
        since = len(h.emu.requests)
        for action in ("created", "completed"):
            await h.send("check_run", h.emu.payload_check_run(REPO, run.id, action))
        for action in ("requested", "completed"):
            await h.send("check_suite", h.emu.payload_check_suite(
                REPO, h.emu.head_sha(REPO, number), action))
        assert h.emu.requests[since:] == []
        assert len(h.emu.check_runs(REPO)) == 1


# real payloads (tests/data/webhooks), rewritten to the emulator's repository and PR ------------

def _real(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "webhooks" / f"{name}.json").read_text("utf-8"))
    return data


def _pull_ref(h: Harness, number: int, template: dict[str, Any] | None) -> dict[str, Any]:
    """The real payload's short PR object with the emulator's ids, refs and shas."""
    repo = h.emu.repo(REPO)
    pull = h.emu.pull(REPO, number)
    ref = copy.deepcopy(template) if template else {"head": {"repo": {}}, "base": {"repo": {}}}
    ref.update(url=f"{h.emu.base_url}/repos/{REPO}/pulls/{number}", id=pull.id, number=number)
    for side, branch, sha in (("head", pull.head_ref, h.emu.head_sha(REPO, number)),
                              ("base", pull.base_ref, h.emu.base_sha(REPO, number))):
        ref[side].update(ref=branch, sha=sha)
        ref[side]["repo"].update(id=repo.id, url=f"{h.emu.base_url}/repos/{REPO}",
                                 name=repo.name)
    return ref


def _adapt(h: Harness, payload: dict[str, Any], number: int, *, key: str,
           with_pulls: bool) -> dict[str, Any]:
    """Point a real webhook at the emulator's state; everything else keeps GitHub's shape."""
    repo = h.emu.repo(REPO)
    head = h.emu.head_sha(REPO, number)
    payload["repository"].update(id=repo.id, name=repo.name, full_name=REPO)
    payload["repository"]["owner"]["login"] = repo.owner
    payload["installation"]["id"] = INSTALLATION
    payload.pop("organization", None)
    obj = payload[key]
    suites = [obj] + ([obj["check_suite"]] if "check_suite" in obj else [])
    for item in suites:
        item["app"]["id"] = h.emu.app_id
        item["head_sha"] = head
        templates = item.get("pull_requests") or [None]
        item["pull_requests"] = [_pull_ref(h, number, templates[0])] if with_pulls else []
    if key == "check_run":
        obj["id"] = h.emu.check_runs(REPO)[-1].id
    if "head_commit" in obj:
        obj["head_commit"]["id"] = head
    return payload


async def test_real_check_run_rerequested_payload_without_pull_requests() -> None:
    """GitHub leaves `pull_requests` empty (forks; the stored payload has it empty): the bot
    finds the PR by the head sha."""
    async with running() as h:
        number = await h.open_pr(CHANGE)
        payload = _adapt(h, _real("check_run.rerequested"), number, key="check_run",
                         with_pulls=False)
        assert payload["check_run"]["pull_requests"] == []
        await h.send("check_run", payload)
        assert heads(h) == [h.emu.head_sha(REPO, number)] * 2
        assert h.calls("GET", f"/repos/{REPO}/pulls") != []


async def test_real_check_run_rerequested_payload_with_pull_requests() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        payload = _adapt(h, _real("check_run.rerequested"), number, key="check_run",
                         with_pulls=True)
        await h.send("check_run", payload)
        assert heads(h) == [h.emu.head_sha(REPO, number)] * 2


async def test_real_requested_action_payload() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        raw = _real("check_run.requested_action")
        assert raw["requested_action"]["identifier"] != "recheck"
        payload = _adapt(h, copy.deepcopy(raw), number, key="check_run", with_pulls=True)
        since = len(h.emu.requests)
        await h.send("check_run", payload)  # the stored identifier is another app's action
        assert h.emu.requests[since:] == []
        assert len(h.emu.check_runs(REPO)) == 1
        payload["requested_action"]["identifier"] = "recheck"
        await h.send("check_run", payload)
        assert heads(h) == [h.emu.head_sha(REPO, number)] * 2


async def test_real_check_suite_rerequested_payload() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        payload = _adapt(h, _real("check_suite.rerequested"), number, key="check_suite",
                         with_pulls=True)
        await h.send("check_suite", payload)
        assert heads(h) == [h.emu.head_sha(REPO, number)] * 2


async def test_real_check_suite_payload_of_another_app_is_ignored() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        raw = _real("check_suite.rerequested")
        payload = _adapt(h, copy.deepcopy(raw), number, key="check_suite", with_pulls=True)
        payload["check_suite"]["app"]["id"] = raw["check_suite"]["app"]["id"]  # 29310
        since = len(h.emu.requests)
        await h.send("check_suite", payload)
        assert h.emu.requests[since:] == []
        assert len(h.emu.check_runs(REPO)) == 1


async def test_rerequested_stale_check_run_analyses_the_newest_head() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        [run] = h.emu.check_runs(REPO)
        payload = _adapt(h, _real("check_run.rerequested"), number, key="check_run",
                         with_pulls=True)
        newest = h.emu.commit(REPO, "feature", change(4))  # pushed, synchronize not yet seen
        await h.send("check_run", payload)
        assert heads(h) == [run.head_sha, newest]


# 8. permission answers are cached ----------------------------------------------------------------

async def test_permission_answer_is_cached_per_repo_and_user() -> None:
    async with running() as h:
        number = await h.open_pr(CHANGE)
        h.emu.set_permission(REPO, "alice", "write")
        h.emu.set_permission(REPO, "bob", "read")
        first = await comment(h, number, "/ssot recheck", user="alice")
        second = await comment(h, number, "/ssot recheck", user="alice")
        assert reactions(h, first) == reactions(h, second) == ["eyes"]
        assert len(h.calls("GET", "/collaborators/alice/permission")) == 1
        assert len(h.emu.check_runs(REPO)) == 3
        # another user is asked about separately
        refused = await comment(h, number, "/ssot recheck", user="bob")
        assert reactions(h, refused) == ["-1"]
        assert len(h.calls("GET", "/collaborators/bob/permission")) == 1
        assert len(h.calls("GET", "/collaborators/alice/permission")) == 1
