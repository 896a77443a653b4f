"""Issues (and pull requests as issues), their comments and the comments' reactions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssot_emulator.endpoints import Call, Endpoints, Reply, existing, listing
from ssot_emulator.errors import validation_failed
from ssot_emulator.render import REACTIONS
from ssot_emulator.state import Issue, IssueComment, iso

if TYPE_CHECKING:
    from ssot_emulator.server import GitHubEmulator

route = Endpoints()
routes = route.table
_ISSUES = ("issues", "pull_requests")


def _issue(emu: GitHubEmulator, call: Call) -> Issue:
    return existing(emu.issue, call, call.number("issue_number"))


def _comment(emu: GitHubEmulator, call: Call) -> IssueComment:
    return existing(emu.comment, call, call.number("comment_id"))


@route("GET", "/issues/{issue_number}", perms=_ISSUES)
def get_issue(emu: GitHubEmulator, call: Call) -> Reply:
    return Reply(200, emu.shapes.issue(call.repository, _issue(emu, call)))


@route("PATCH", "/issues/{issue_number}", perms=_ISSUES, level="write")
def patch_issue(emu: GitHubEmulator, call: Call) -> Reply:
    number = _issue(emu, call).number
    data = call.body if isinstance(call.body, dict) else {}
    changes = {k: data[k] for k in ("title", "body", "state", "state_reason") if k in data}
    if "title" in changes and changes["title"] is not None:
        changes["title"] = str(changes["title"])
    if changes.get("title", "x") is None:
        del changes["title"]
    issue = emu.update_issue(call.full_name, number, **changes)
    if emu.issue(call.full_name, number).is_pull_request and "state" in changes:
        pull = emu.pull(call.full_name, number)
        if changes["state"] == "closed" and pull.frozen_head_sha is None:
            pull.frozen_head_sha = emu.repo(call.full_name).branches[pull.head_ref]
        elif changes["state"] == "open" and not pull.merged:
            pull.frozen_head_sha = None
    return Reply(200, emu.shapes.issue(call.repository, issue))


@route("GET", "/issues/{issue_number}/comments", perms=_ISSUES)
def list_issue_comments(emu: GitHubEmulator, call: Call) -> Reply:
    number = _issue(emu, call).number
    comments = emu.issue(call.full_name, number).comments
    since = call.arg("since")
    if since:
        comments = [c for c in comments if iso(c.updated_at) >= since.replace("+00:00", "Z")]
    return listing(emu, call, [emu.shapes.comment(call.repository, c) for c in comments])


@route("POST", "/issues/{issue_number}/comments", perms=_ISSUES, level="write")
def create_issue_comment(emu: GitHubEmulator, call: Call) -> Reply:
    number = _issue(emu, call).number
    body = call.body.get("body") if isinstance(call.body, dict) else None
    if not isinstance(body, str) or not body.strip():
        raise validation_failed("IssueComment", "body", "Body cannot be blank")
    comment_id = emu.add_issue_comment(call.full_name, number, body, call.actor, "Bot",
                                       via_app=True)
    emu.issue(call.full_name, number).updated_at = emu.clock()
    return Reply(201, emu.shapes.comment(call.repository, emu.comment(call.full_name, comment_id)))


@route("GET", "/issues/comments/{comment_id}", perms=_ISSUES)
def get_comment(emu: GitHubEmulator, call: Call) -> Reply:
    return Reply(200, emu.shapes.comment(call.repository, _comment(emu, call)))


@route("PATCH", "/issues/comments/{comment_id}", perms=_ISSUES, level="write")
def patch_comment(emu: GitHubEmulator, call: Call) -> Reply:
    comment = _comment(emu, call)
    body = call.body.get("body") if isinstance(call.body, dict) else None
    if not isinstance(body, str):
        raise validation_failed("IssueComment", "body", "Body cannot be blank")
    comment.body = body
    comment.updated_at = emu.clock()
    return Reply(200, emu.shapes.comment(call.repository, comment))


@route("POST", "/issues/comments/{comment_id}/reactions", perms=_ISSUES, level="write")
def react(emu: GitHubEmulator, call: Call) -> Reply:
    comment_id = _comment(emu, call).id
    content = call.body.get("content") if isinstance(call.body, dict) else None
    if content not in REACTIONS:
        raise validation_failed("Reaction", "content", "content is not a valid reaction",
                                "invalid")
    reaction, new = emu.add_reaction(call.full_name, comment_id, call.actor, str(content))
    return Reply(201 if new else 200, emu.shapes.reaction(reaction))
