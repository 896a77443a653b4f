"""Webhooks as GitHub sends them: payloads built from the emulator's state, signed with the
webhook secret and POSTed to the bot."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import aiohttp

from ssot_emulator import archive
from ssot_emulator.render import Shapes
from ssot_emulator.state import EmulatorState, NotFound, Repository, iso


def signature(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


async def deliver(url: str, secret: str, event: str, payload: dict[str, Any], *, app_id: int,
                  delivery_id: str | None = None) -> int:
    """POST a webhook the way GitHub does; returns the answer's status."""
    body = json.dumps(payload).encode("utf-8")
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "1",
        "X-GitHub-Hook-Installation-Target-Type": "integration",
        "X-GitHub-Hook-Installation-Target-ID": str(app_id),
        "X-Hub-Signature-256": signature(secret, body),
        "User-Agent": "GitHub-Hookshot/emulator",
        "Content-Type": "application/json",
    }
    async with aiohttp.ClientSession() as session, \
            session.post(url, data=body, headers=headers) as response:
        await response.read()
        return response.status


class Payloads:
    """Webhook payloads for the state as it is now."""

    def __init__(self, state: EmulatorState, shapes: Shapes) -> None:
        self.state = state
        self.shapes = shapes

    def envelope(self, repo: Repository, action: str | None, sender: str,
                 sender_type: str | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if action is not None:
            payload["action"] = action
        payload["repository"] = self.shapes.repo(repo)
        payload["sender"] = self.shapes.actor(sender, sender_type)
        payload["installation"] = self.shapes.installation(repo.installation_id)
        return payload

    def pull_request(self, full_name: str, number: int, action: str,
                     **extra: Any) -> dict[str, Any]:
        """A ``pull_request`` webhook payload for the PR as it is now. ``sender=`` overrides
        the sender (default: the merger for a merge, else the author); other keywords are
        added at the top level (``before=``/``after=`` for ``synchronize``)."""
        repo = self.state.repo(full_name)
        pull = self.state.pull(full_name, number)
        default_sender = pull.merged_by if (action == "closed" and pull.merged_by) \
            else self.state.issue(full_name, number).user
        sender = str(extra.pop("sender", default_sender))
        payload = self.envelope(repo, action, sender)
        body = {"action": action, "number": number,
                "pull_request": self.shapes.pull(repo, number)}
        body.update(payload)
        body.update(extra)
        return body

    def issue_comment(self, full_name: str, number: int, comment_id: int,
                      action: str = "created") -> dict[str, Any]:
        repo = self.state.repo(full_name)
        comment = self.state.comment(full_name, comment_id)
        if comment.issue_number != number:
            raise NotFound(f"comment {comment_id} is not on #{number}")
        body = {"action": action,
                "issue": self.shapes.issue(repo, self.state.issue(full_name, number)),
                "comment": self.shapes.comment(repo, comment)}
        body.update(self.envelope(repo, None, comment.user, comment.user_type))
        return body

    def issues(self, full_name: str, number: int, action: str = "edited",
               sender: str | None = None) -> dict[str, Any]:
        repo = self.state.repo(full_name)
        issue = self.state.issue(full_name, number)
        body = {"action": action, "issue": self.shapes.issue(repo, issue)}
        body.update(self.envelope(repo, None, sender or issue.user))
        return body

    def check_run(self, full_name: str, check_run_id: int, action: str,
                  requested_action_identifier: str | None = None,
                  sender: str = "octocat") -> dict[str, Any]:
        repo = self.state.repo(full_name)
        run = self.state.check_run(full_name, check_run_id)
        check_run = self.shapes.check_run(repo, run)
        check_run["check_suite"] = self.shapes.check_suite(repo, run.head_sha)
        body: dict[str, Any] = {"action": action, "check_run": check_run}
        if requested_action_identifier is not None:
            body["requested_action"] = {"identifier": requested_action_identifier}
        body.update(self.envelope(repo, None, sender))
        return body

    def check_suite(self, full_name: str, head_sha: str, action: str = "rerequested",
                    sender: str = "octocat") -> dict[str, Any]:
        repo = self.state.repo(full_name)
        body = {"action": action, "check_suite": self.shapes.check_suite(repo, head_sha)}
        body.update(self.envelope(repo, None, sender))
        return body

    def push(self, full_name: str, before: str, after: str | None = None, *,
             branch: str | None = None, sender: str = "octocat") -> dict[str, Any]:
        """A ``push`` payload for ``branch`` (default: the default branch) moving from
        ``before`` to ``after`` (default: the branch's head); at most 20 commits listed."""
        repo = self.state.repo(full_name)
        branch = branch or repo.default_branch
        after = after or repo.branches[branch]
        html = self.shapes.html()
        known = set(self.state._ancestors(repo, before)) if before.strip("0") else set()
        shas = [s for s in reversed(self.state._ancestors(repo, after)) if s not in known]
        commits = []
        for sha in shas:
            commit = repo.commits[sha]
            parent = repo.commits[commit.parents[0]].tree if commit.parents else None
            added, removed, modified = archive.changes(parent, commit.tree)
            person = {"name": sender, "email": f"{sender}@users.noreply.emulator",
                      "username": sender}
            commits.append({
                "id": sha, "tree_id": sha, "distinct": True, "message": commit.message,
                "timestamp": iso(commit.timestamp),
                "url": f"{html}/{full_name}/commit/{sha}", "author": person,
                "committer": person, "added": added, "removed": removed, "modified": modified})
        payload: dict[str, Any] = {
            "ref": f"refs/heads/{branch}", "before": before, "after": after,
            "created": not before.strip("0"), "deleted": False, "forced": False,
            "base_ref": None, "compare": f"{html}/{full_name}/compare/{before[:12]}...{after[:12]}",
            "commits": commits[-20:], "head_commit": commits[-1] if commits else None,
            "pusher": {"name": sender, "email": f"{sender}@users.noreply.emulator"},
        }
        payload.update(self.envelope(repo, None, sender))
        return payload
