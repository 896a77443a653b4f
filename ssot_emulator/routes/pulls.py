"""Pull requests: listing, files, review comments (placed on the diff as GitHub places them, 422
outside it) and reviews."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ssot_emulator.diff import hunks, resolve_line
from ssot_emulator.endpoints import Call, Endpoints, Reply, existing, listing
from ssot_emulator.errors import HTTPError, not_found, unprocessable, validation_failed
from ssot_emulator.state import PullFile, Review, ReviewComment, iso

if TYPE_CHECKING:
    from ssot_emulator.server import GitHubEmulator

route = Endpoints()
routes = route.table
_PULLS = ("pull_requests",)


def _pull_or_404(emu: GitHubEmulator, call: Call) -> int:
    return existing(emu.pull, call, call.number("pull_number")).number


@route("GET", "/pulls", perms=_PULLS)
def list_pulls(emu: GitHubEmulator, call: Call) -> Reply:
    repo = call.repository
    state = call.arg("state", "open")
    head, base = call.arg("head"), call.arg("base")
    numbers = []
    for pull in emu.pulls(repo.full_name):
        issue = emu.issue(repo.full_name, pull.number)
        if state != "all" and issue.state != state:
            continue
        if head and head not in (pull.head_ref, f"{repo.owner}:{pull.head_ref}"):
            continue
        if base and base != pull.base_ref:
            continue
        numbers.append(pull.number)
    # GitHub: sort created (default) | updated | popularity | long-running; direction
    # defaults to desc for created, else asc
    sort = call.arg("sort", "created")
    direction = call.arg("direction", "desc" if sort == "created" else "asc")
    if sort == "updated":
        numbers.sort(key=lambda n: (emu.issue(repo.full_name, n).updated_at, n),
                     reverse=direction != "asc")
    else:
        numbers.sort(reverse=direction != "asc")
    return listing(emu, call, [emu.shapes.pull(repo, n, full=False) for n in numbers])


@route("GET", "/pulls/{pull_number}", perms=_PULLS)
def get_pull(emu: GitHubEmulator, call: Call) -> Reply:
    number = _pull_or_404(emu, call)
    return Reply(200, emu.shapes.pull(call.repository, number))


def _files(emu: GitHubEmulator, full_name: str, number: int,
           head: str | None = None) -> dict[str, PullFile]:
    """filename -> the file's entry, with patches over ``omit_patches_over`` lines left out as
    GitHub does for huge diffs."""
    result: dict[str, PullFile] = {}
    for item in emu.pull_files(full_name, number, head=head):
        if (emu.omit_patches_over is not None and item.patch is not None
                and item.patch.count("\n") + 1 > emu.omit_patches_over):
            item.patch = None
        result[item.filename] = item
    return result


@route("GET", "/pulls/{pull_number}/files", perms=_PULLS)
def pull_files(emu: GitHubEmulator, call: Call) -> Reply:
    number = _pull_or_404(emu, call)
    repo = call.repository
    head = emu.head_sha(repo.full_name, number)
    files = _files(emu, repo.full_name, number).values()
    return listing(emu, call, [emu.shapes.pull_file(repo, head, f) for f in files])


def diff_hunk(patch: str | None, line: int | None, side: str | None) -> tuple[str, int]:
    """GitHub's ``diff_hunk`` (the hunk up to the commented line) and ``position`` (the line's
    index in the patch, the first hunk header being 0)."""
    if not patch:
        return "", 1
    lines = patch.split("\n")
    starts = [i for i, text in enumerate(lines) if text.startswith("@@")] + [len(lines)]
    for index, hunk in enumerate(hunks(patch)):
        shown = hunk.left if side == "LEFT" else hunk.right
        if line not in shown:
            continue
        start = starts[index]
        match = re.match(r"^@@ -(\d+)(?:,\d+)? \+(\d+)", lines[start])
        old_no, new_no = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
        for offset, text in enumerate(lines[start + 1:starts[index + 1]], start + 1):
            if text.startswith("\\"):
                continue
            here = old_no if side == "LEFT" else new_no
            if here == line and not text.startswith("-" if side != "LEFT" else "+"):
                return "\n".join(lines[start:offset + 1]), offset
            if not text.startswith("+"):
                old_no += 1
            if not text.startswith("-"):
                new_no += 1
    return lines[0], 1


def _place(emu: GitHubEmulator, call: Call, number: int, commit_id: str, raw: dict[str, Any],
           review_id: int | None) -> ReviewComment:
    """A review comment if GitHub could place it on the diff, else 422 (in the shape of the
    reviews endpoint, or of the single-comment endpoint when ``review_id`` is None)."""
    try:
        return _placed(emu, call, number, commit_id, raw, review_id)
    except HTTPError as exc:
        if review_id is not None:
            raise
        raise validation_failed(
            "PullRequestReviewComment", "pull_request_review_thread.line",
            "pull_request_review_thread.line must be part of the diff") from exc


def _placed(emu: GitHubEmulator, call: Call, number: int, commit_id: str, raw: dict[str, Any],
            review_id: int | None) -> ReviewComment:
    files = _files(emu, call.full_name, number, head=commit_id)
    path = raw.get("path")
    item = files.get(str(path)) if path is not None else None
    line = raw.get("line")
    side = str(raw.get("side") or "RIGHT")
    start_line = raw.get("start_line")
    start_side = raw.get("start_side")
    subject_type = str(raw.get("subject_type") or "line")
    if "position" in raw and line is None and item is not None and item.patch:
        position = raw["position"]
        if not isinstance(position, int) or not 1 <= position < len(item.patch.split("\n")):
            raise unprocessable("Line could not be resolved")
    elif subject_type == "file":
        if item is None:
            raise unprocessable("Path could not be resolved")
        line = side = None  # type: ignore[assignment]
    elif item is None or not resolve_line(
            item.patch, line if isinstance(line, int) else None, side,
            start_line if isinstance(start_line, int) else None,
            str(start_side) if start_side else None):
        raise unprocessable("Line could not be resolved")
    return ReviewComment(
        emu.next_id(), number, review_id, commit_id, str(path),
        line if isinstance(line, int) else None, side,
        start_line if isinstance(start_line, int) else None,
        str(start_side or side) if start_line is not None else None,
        str(raw.get("body") or ""), call.actor, "Bot", emu.clock(),
        subject_type=subject_type)


def _commit_of(emu: GitHubEmulator, call: Call, number: int, commit_id: Any) -> str:
    head = emu.head_sha(call.full_name, number)
    if commit_id in (None, ""):
        return head
    repo = call.repository
    if str(commit_id) not in repo.commits:
        raise unprocessable("Commit could not be resolved")  # not a commit of this repo
    return str(commit_id)


def _render_comment(emu: GitHubEmulator, call: Call, comment: ReviewComment) -> dict[str, Any]:
    files = _files(emu, call.full_name, comment.pull_number, head=comment.commit_id)
    item = files.get(comment.path)
    hunk, position = diff_hunk(item.patch if item else None, comment.line, comment.side)
    return emu.shapes.review_comment(call.repository, comment, hunk, position)


def _review_comment_or_404(emu: GitHubEmulator, call: Call) -> ReviewComment:
    return existing(emu.review_comment, call, call.number("comment_id"))


def _body_or_422(call: Call, resource: str, *, allow_empty: bool) -> str:
    body = call.body.get("body") if isinstance(call.body, dict) else None
    if not isinstance(body, str) or not (body or allow_empty):
        raise validation_failed(resource, "body", "missing_field", "missing_field")
    return body


def _own(call: Call, author: str) -> None:
    if author != call.actor:  # an App edits only what it wrote
        raise HTTPError(403, "Resource not accessible by integration")


@route("GET", "/pulls/comments/{comment_id}", perms=_PULLS)
def get_review_comment(emu: GitHubEmulator, call: Call) -> Reply:
    return Reply(200, _render_comment(emu, call, _review_comment_or_404(emu, call)))


@route("PATCH", "/pulls/comments/{comment_id}", perms=_PULLS, level="write")
def patch_review_comment(emu: GitHubEmulator, call: Call) -> Reply:
    comment = _review_comment_or_404(emu, call)
    body = _body_or_422(call, "PullRequestReviewComment", allow_empty=False)
    _own(call, comment.user)
    comment.body = body
    comment.updated_at = emu.clock()
    return Reply(200, _render_comment(emu, call, comment))


@route("GET", "/pulls/{pull_number}/comments", perms=_PULLS)
def list_review_comments(emu: GitHubEmulator, call: Call) -> Reply:
    number = _pull_or_404(emu, call)
    comments = emu.pull(call.full_name, number).review_comments
    since = call.arg("since")
    if since:
        comments = [c for c in comments if iso(c.created_at) >= since]
    return listing(emu, call, [_render_comment(emu, call, c) for c in comments])


@route("POST", "/pulls/{pull_number}/comments", perms=_PULLS, level="write")
def create_review_comment(emu: GitHubEmulator, call: Call) -> Reply:
    number = _pull_or_404(emu, call)
    data = call.body if isinstance(call.body, dict) else {}
    pull = emu.pull(call.full_name, number)
    reply_to = data.get("in_reply_to")
    if reply_to is not None:
        parent = next((c for c in pull.review_comments if c.id == reply_to), None)
        if parent is None:
            raise not_found()
        comment = ReviewComment(emu.next_id(), number, parent.review_id, parent.commit_id,
                                parent.path, parent.line, parent.side, parent.start_line,
                                parent.start_side, str(data.get("body") or ""),
                                call.actor, "Bot", emu.clock(), in_reply_to_id=parent.id)
    else:
        if not data.get("body"):
            raise validation_failed("PullRequestReviewComment", "body", "missing_field",
                                    "missing_field")
        commit_id = _commit_of(emu, call, number, data.get("commit_id"))
        comment = _place(emu, call, number, commit_id, data, None)
        review = Review(emu.next_id(), number, "COMMENT", "", commit_id, call.actor,
                        emu.clock(), [comment])
        comment.review_id = review.id
        pull.reviews.append(review)
    pull.review_comments.append(comment)
    return Reply(201, _render_comment(emu, call, comment))


@route("GET", "/pulls/{pull_number}/reviews", perms=_PULLS)
def list_reviews(emu: GitHubEmulator, call: Call) -> Reply:
    number = _pull_or_404(emu, call)
    return listing(emu, call, [emu.shapes.review(call.repository, r)
                               for r in emu.pull(call.full_name, number).reviews])


@route("POST", "/pulls/{pull_number}/reviews", perms=_PULLS, level="write")
def create_review(emu: GitHubEmulator, call: Call) -> Reply:
    number = _pull_or_404(emu, call)
    data = call.body if isinstance(call.body, dict) else {}
    event = data.get("event")
    body = str(data.get("body") or "")
    raw_comments = data.get("comments") or []
    commit_id = _commit_of(emu, call, number, data.get("commit_id"))
    if event in ("REQUEST_CHANGES", "COMMENT") and not body and not raw_comments:
        raise unprocessable(f"Review body is required for {event}")
    if event == "REQUEST_CHANGES" and not body:
        raise unprocessable("Review body is required for REQUEST_CHANGES")
    review = Review(emu.next_id(), number, event, body, commit_id, call.actor, emu.clock())
    # all or nothing: one comment GitHub cannot place rejects the whole review
    review.comments = [_place(emu, call, number, commit_id, raw, review.id)
                       for raw in raw_comments]
    pull = emu.pull(call.full_name, number)
    pull.reviews.append(review)
    pull.review_comments.extend(review.comments)
    return Reply(200, emu.shapes.review(call.repository, review))


@route("PUT", "/pulls/{pull_number}/reviews/{review_id}", perms=_PULLS, level="write")
def update_review(emu: GitHubEmulator, call: Call) -> Reply:
    number = _pull_or_404(emu, call)
    body = _body_or_422(call, "PullRequestReview", allow_empty=True)
    review_id = call.number("review_id")
    review = next((r for r in emu.pull(call.full_name, number).reviews if r.id == review_id),
                  None)
    if review is None:
        raise not_found()
    _own(call, review.user)
    review.body = body
    return Reply(200, emu.shapes.review(call.repository, review))
