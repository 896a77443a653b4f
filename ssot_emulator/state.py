"""The emulator's world: repositories (content-addressed blobs, commits, branches), issues and
pull requests sharing one number sequence, comments, reviews, check runs, permissions.

A plain synchronous API, used by tests and by the offline demo to set up scenarios and to read
back what the bot did. No HTTP here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ssot_emulator.diff import count_changes, unified_patch

PULL_FILES_CACHED = 64  # pull requests' file lists kept (each up to a few MB of patches)


class NotFound(LookupError):
    """A repository, issue, pull request, comment or ref that does not exist."""


def blob_sha(data: bytes) -> str:
    """git's blob id: ``sha1(b"blob <len>\\0" + data)``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's id


def iso(timestamp: float) -> str:
    """ISO 8601 in UTC with a ``Z``, as GitHub writes times."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


@dataclass
class Commit:
    sha: str
    tree: dict[str, str]  # path -> blob sha
    parents: list[str]
    message: str
    timestamp: float


@dataclass
class Repository:
    id: int
    full_name: str
    installation_id: int
    default_branch: str
    created_at: float
    branches: dict[str, str] = field(default_factory=dict)  # name -> head sha
    commits: dict[str, Commit] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # login -> admin|write|read|none

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/", 1)[1]


@dataclass
class Reaction:
    id: int
    user: str
    content: str
    created_at: float


@dataclass
class IssueComment:
    id: int
    issue_number: int
    body: str
    user: str
    user_type: str
    created_at: float
    updated_at: float
    via_app: bool = False
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class Issue:
    """An issue, or the issue side of a pull request (same number sequence, same comments)."""

    number: int
    id: int
    title: str
    body: str | None
    user: str
    created_at: float
    updated_at: float
    state: str = "open"
    state_reason: str | None = None
    closed_at: float | None = None
    comments: list[IssueComment] = field(default_factory=list)
    is_pull_request: bool = False


@dataclass
class ReviewComment:
    id: int
    pull_number: int
    review_id: int | None
    commit_id: str
    path: str
    line: int | None
    side: str | None
    start_line: int | None
    start_side: str | None
    body: str
    user: str
    user_type: str
    created_at: float
    in_reply_to_id: int | None = None
    subject_type: str = "line"
    updated_at: float | None = None  # None: never edited (created_at)


@dataclass
class Review:
    id: int
    pull_number: int
    event: str | None  # APPROVE | REQUEST_CHANGES | COMMENT, None: pending
    body: str
    commit_id: str
    user: str
    submitted_at: float
    comments: list[ReviewComment] = field(default_factory=list)

    @property
    def state(self) -> str:
        return {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED",
                "COMMENT": "COMMENTED"}.get(self.event or "", "PENDING")


@dataclass
class PullRequest:
    number: int
    id: int
    head_ref: str
    base_ref: str
    draft: bool
    merged: bool = False
    merged_at: float | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    frozen_head_sha: str | None = None  # set when merged or closed: the head at that time
    reviews: list[Review] = field(default_factory=list)
    review_comments: list[ReviewComment] = field(default_factory=list)


@dataclass
class CheckRun:
    id: int
    name: str
    head_sha: str
    check_suite_id: int
    status: str
    conclusion: str | None
    started_at: float
    completed_at: float | None
    output: dict[str, Any]  # title, summary, text, annotations (all, accumulated)
    actions: list[dict[str, Any]]
    external_id: str = ""
    details_url: str | None = None
    app_id: int | None = None  # None: the emulated App itself; else another App's run


@dataclass
class CheckSuite:
    id: int
    head_sha: str
    head_branch: str | None


@dataclass
class PullFile:
    """One entry of ``GET /pulls/{n}/files``."""

    filename: str
    status: str  # added | modified | removed
    sha: str
    additions: int
    deletions: int
    patch: str | None


@dataclass
class RepoState:
    """Everything stored per repository besides git data."""

    repo: Repository
    issues: dict[int, Issue] = field(default_factory=dict)
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    comments: dict[int, IssueComment] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    check_suites: dict[str, CheckSuite] = field(default_factory=dict)  # head sha -> suite


class EmulatorState:
    """The emulated GitHub's data and the scenario API."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.installations: dict[int, str] = {}  # id -> account login
        self.blobs: dict[str, bytes] = {}
        self._repos: dict[str, RepoState] = {}
        self._ids: Iterator[int] = itertools.count(1001)
        self._user_ids: dict[str, int] = {}
        self._next_number: dict[str, int] = {}
        self._commit_counter = itertools.count(1)
        # (repository, merge base sha, head sha) -> the PR's files, oldest first out
        self._files_by_commits: dict[tuple[str, str, str], tuple[PullFile, ...]] = {}

    # identities -----------------------------------------------------------------------------
    def next_id(self) -> int:
        return next(self._ids)

    def user_id(self, login: str) -> int:
        return self._user_ids.setdefault(login, 5000 + len(self._user_ids))

    # repositories -----------------------------------------------------------------------------
    def add_installation(self, installation_id: int, account: str) -> None:
        self.installations[installation_id] = account
        self.user_id(account)

    def add_repo(
        self,
        full_name: str,
        files: Mapping[str, str | bytes],
        *,
        installation_id: int,
        default_branch: str = "main",
    ) -> Repository:
        if installation_id not in self.installations:
            raise NotFound(f"installation {installation_id} was never added")
        if full_name in self._repos:
            raise ValueError(f"repository {full_name} exists")
        repo = Repository(self.next_id(), full_name, installation_id, default_branch,
                          self.clock())
        self._repos[full_name] = RepoState(repo)
        self._next_number[full_name] = 1
        self.user_id(repo.owner)
        sha = self._new_commit(repo, {}, dict(files), [], "Initial commit")
        repo.branches[default_branch] = sha
        return repo

    def repo(self, full_name: str) -> Repository:
        return self._state(full_name).repo

    def repos(self) -> list[Repository]:
        return [s.repo for s in self._repos.values()]

    def _state(self, full_name: str) -> RepoState:
        try:
            return self._repos[full_name]
        except KeyError:
            raise NotFound(f"no repository {full_name}") from None

    def _new_commit(
        self,
        repo: Repository,
        base_tree: Mapping[str, str],
        files: Mapping[str, str | bytes | None],
        parents: list[str],
        message: str,
    ) -> str:
        tree = dict(base_tree)
        for path, content in files.items():
            if content is None:
                tree.pop(path, None)
                continue
            data = _as_bytes(content)
            sha = blob_sha(data)
            self.blobs[sha] = data
            tree[path] = sha
        serial = "\n".join(f"{p} {s}" for p, s in sorted(tree.items()))
        counter = next(self._commit_counter)
        header = f"tree {serial}\nparents {' '.join(parents)}\n{message}\n{counter}"
        sha = hashlib.sha1(header.encode("utf-8")).hexdigest()  # noqa: S324 - an id, not security
        repo.commits[sha] = Commit(sha, tree, parents, message, self.clock())
        return sha

    def commit(
        self,
        full_name: str,
        branch: str,
        files: Mapping[str, str | bytes | None],
        message: str = "Update files",
    ) -> str:
        """Commit ``files`` (None deletes) on ``branch`` (created from the default branch when
        missing); returns the branch's new head sha."""
        repo = self.repo(full_name)
        parent = repo.branches.get(branch) or repo.branches[repo.default_branch]
        sha = self._new_commit(repo, repo.commits[parent].tree, files, [parent], message)
        repo.branches[branch] = sha
        state = self._state(full_name)
        for pull in state.pulls.values():  # a push updates the open PRs it is the head of
            issue = state.issues[pull.number]
            if pull.head_ref == branch and issue.state == "open":
                issue.updated_at = self.clock()
        return sha

    def resolve_ref(self, full_name: str, ref: str | None) -> Commit:
        """A branch name (or ``refs/heads/x``), a full commit sha, or a unique sha prefix of 7+."""
        repo = self.repo(full_name)
        ref = ref or repo.default_branch
        if ref.startswith("refs/heads/"):
            ref = ref[len("refs/heads/"):]
        if ref in repo.branches:
            return repo.commits[repo.branches[ref]]
        if ref in repo.commits:
            return repo.commits[ref]
        if len(ref) >= 7:
            found = [c for sha, c in repo.commits.items() if sha.startswith(ref)]
            if len(found) == 1:
                return found[0]
        raise NotFound(f"No commit found for the ref {ref}")

    def file_at(self, full_name: str, path: str, ref: str | None = None) -> bytes | None:
        commit = self.resolve_ref(full_name, ref)
        sha = commit.tree.get(path)
        return None if sha is None else self.blobs[sha]

    def repo_has_blob(self, full_name: str, sha: str) -> bool:
        repo = self.repo(full_name)
        return any(sha in c.tree.values() for c in repo.commits.values())

    def _ancestors(self, repo: Repository, sha: str) -> list[str]:
        """``sha`` and its ancestors, nearest first (breadth-first)."""
        seen: list[str] = []
        queue = [sha]
        known: set[str] = set()
        while queue:
            current = queue.pop(0)
            if current in known:
                continue
            known.add(current)
            seen.append(current)
            queue.extend(repo.commits[current].parents)
        return seen

    def commits_between(self, full_name: str, base: str, head: str) -> int:
        """How many commits ``head`` has that ``base`` does not (a PR's ``commits``)."""
        repo = self.repo(full_name)
        return len(set(self._ancestors(repo, head)) - set(self._ancestors(repo, base)))

    def merge_base(self, full_name: str, a: str, b: str) -> str:
        repo = self.repo(full_name)
        of_b = set(self._ancestors(repo, b))
        for sha in self._ancestors(repo, a):
            if sha in of_b:
                return sha
        return a

    # issues and pull requests --------------------------------------------------------------
    def _number(self, full_name: str) -> int:
        number = self._next_number[full_name]
        self._next_number[full_name] = number + 1
        return number

    def create_issue(self, full_name: str, title: str, body: str | None,
                     user: str = "octocat") -> int:
        state = self._state(full_name)
        now = self.clock()
        number = self._number(full_name)
        self.user_id(user)
        state.issues[number] = Issue(number, self.next_id(), title, body, user, now, now)
        return number

    def open_pull_request(
        self,
        full_name: str,
        head: str,
        base: str = "main",
        title: str = "A pull request",
        body: str | None = None,
        user: str = "octocat",
        draft: bool = False,
    ) -> int:
        state = self._state(full_name)
        repo = state.repo
        if head not in repo.branches:
            raise NotFound(f"no branch {head} in {full_name}")
        if base not in repo.branches:
            raise NotFound(f"no branch {base} in {full_name}")
        number = self.create_issue(full_name, title, body, user)
        state.issues[number].is_pull_request = True
        state.pulls[number] = PullRequest(number, self.next_id(), head, base, draft)
        return number

    def issue(self, full_name: str, number: int) -> Issue:
        try:
            return self._state(full_name).issues[number]
        except KeyError:
            raise NotFound(f"no issue #{number} in {full_name}") from None

    def issues(self, full_name: str) -> list[Issue]:
        return list(self._state(full_name).issues.values())

    def pull(self, full_name: str, number: int) -> PullRequest:
        try:
            return self._state(full_name).pulls[number]
        except KeyError:
            raise NotFound(f"no pull request #{number} in {full_name}") from None

    def pulls(self, full_name: str) -> list[PullRequest]:
        return list(self._state(full_name).pulls.values())

    def head_sha(self, full_name: str, number: int) -> str:
        pull = self.pull(full_name, number)
        if pull.frozen_head_sha is not None:
            return pull.frozen_head_sha
        return self.repo(full_name).branches[pull.head_ref]

    def base_sha(self, full_name: str, number: int) -> str:
        pull = self.pull(full_name, number)
        return self.repo(full_name).branches[pull.base_ref]

    def set_pr_body(self, full_name: str, number: int, body: str | None) -> None:
        self.pull(full_name, number)
        issue = self.issue(full_name, number)
        issue.body = body
        issue.updated_at = self.clock()

    def update_issue(self, full_name: str, number: int, **changes: Any) -> Issue:
        issue = self.issue(full_name, number)
        now = self.clock()
        for key in ("title", "body", "state", "state_reason"):
            if key in changes:
                setattr(issue, key, changes[key])
        if changes.get("state") == "closed" and issue.closed_at is None:
            issue.closed_at = now
        elif changes.get("state") == "open":
            issue.closed_at = None
        issue.updated_at = now
        return issue

    def merge_pull_request(self, full_name: str, number: int, merged_by: str = "octocat") -> None:
        """Merge: the base branch gets a merge commit holding the head's changes."""
        pull = self.pull(full_name, number)
        if pull.merged or self.issue(full_name, number).state != "open":
            raise ValueError(f"pull request #{number} is not open")
        repo = self.repo(full_name)
        head = self.head_sha(full_name, number)
        base = repo.branches[pull.base_ref]
        fork = self.merge_base(full_name, base, head)
        before, after = repo.commits[fork].tree, repo.commits[head].tree
        changes: dict[str, str | bytes | None] = {}
        for path in set(before) | set(after):
            if before.get(path) != after.get(path):
                sha = after.get(path)
                changes[path] = None if sha is None else self.blobs[sha]
        merge = self._new_commit(repo, repo.commits[base].tree, changes, [base, head],
                                 f"Merge pull request #{number} from {pull.head_ref}")
        repo.branches[pull.base_ref] = merge
        now = self.clock()
        pull.merged, pull.merged_at, pull.merged_by = True, now, merged_by
        pull.merge_commit_sha, pull.frozen_head_sha = merge, head
        self.update_issue(full_name, number, state="closed")
        self.user_id(merged_by)

    def close_pull_request(self, full_name: str, number: int) -> None:
        pull = self.pull(full_name, number)
        pull.frozen_head_sha = self.head_sha(full_name, number)
        self.update_issue(full_name, number, state="closed")

    def reopen_pull_request(self, full_name: str, number: int) -> None:
        pull = self.pull(full_name, number)
        if pull.merged:
            raise ValueError(f"pull request #{number} is merged")
        pull.frozen_head_sha = None
        self.update_issue(full_name, number, state="open")

    def set_draft(self, full_name: str, number: int, draft: bool) -> None:
        self.pull(full_name, number).draft = draft

    def pull_files(self, full_name: str, number: int, *, head: str | None = None) -> list[PullFile]:
        """The PR's files: the head commit against the merge base with the base branch (the
        three-dot diff GitHub shows), in path order.

        Computed once per (repository, merge base, head) and kept, as GitHub serves them
        precomputed: every review comment validated asks for them again, and recomputing
        300 diffs 30 times per review took the CPU of the service under test. Commits and
        blobs never change, so the pair of commits is the whole key: a push (new head) or a
        moved or retargeted base branch (new merge base) computes afresh. Callers get copies."""
        repo = self.repo(full_name)
        head = head or self.head_sha(full_name, number)
        pull = self.pull(full_name, number)
        base_sha = self.merge_base(full_name, repo.branches[pull.base_ref], head)
        key = (full_name, base_sha, head)
        files = self._files_by_commits.get(key)
        if files is None:
            files = self._diff_trees(repo.commits[base_sha].tree, repo.commits[head].tree)
            self._files_by_commits[key] = files
            while len(self._files_by_commits) > PULL_FILES_CACHED:
                self._files_by_commits.pop(next(iter(self._files_by_commits)))
        return [replace(f) for f in files]

    def _diff_trees(self, old_tree: Mapping[str, str],
                    new_tree: Mapping[str, str]) -> tuple[PullFile, ...]:
        files: list[PullFile] = []
        for path in sorted(set(old_tree) | set(new_tree)):
            old_sha, new_sha = old_tree.get(path), new_tree.get(path)
            if old_sha == new_sha:
                continue
            status = "added" if old_sha is None else "removed" if new_sha is None else "modified"
            old = self.blobs[old_sha] if old_sha else b""
            new = self.blobs[new_sha] if new_sha else b""
            patch: str | None
            try:
                patch = unified_patch(old.decode("utf-8"), new.decode("utf-8"))
            except UnicodeDecodeError:
                patch = None  # binary: GitHub shows no patch
            additions, deletions = count_changes(patch) if patch else (0, 0)
            files.append(PullFile(path, status, str(new_sha or old_sha), additions, deletions,
                                  patch))
        return tuple(files)

    # comments --------------------------------------------------------------------------------
    def add_issue_comment(
        self, full_name: str, number: int, body: str, user: str = "octocat",
        user_type: str = "User", *, via_app: bool = False,
    ) -> int:
        state = self._state(full_name)
        issue = self.issue(full_name, number)
        now = self.clock()
        comment = IssueComment(self.next_id(), number, body, user, user_type, now, now,
                               via_app=via_app)
        issue.comments.append(comment)
        state.comments[comment.id] = comment
        self.user_id(user)
        return comment.id

    def comment(self, full_name: str, comment_id: int) -> IssueComment:
        try:
            return self._state(full_name).comments[comment_id]
        except KeyError:
            raise NotFound(f"no issue comment {comment_id} in {full_name}") from None

    def reactions(self, full_name: str, comment_id: int) -> list[Reaction]:
        return list(self.comment(full_name, comment_id).reactions)

    def add_reaction(self, full_name: str, comment_id: int, user: str,
                     content: str) -> tuple[Reaction, bool]:
        """Returns the reaction and whether it is new (False: this user already reacted so)."""
        comment = self.comment(full_name, comment_id)
        for existing in comment.reactions:
            if existing.user == user and existing.content == content:
                return existing, False
        reaction = Reaction(self.next_id(), user, content, self.clock())
        comment.reactions.append(reaction)
        return reaction, True

    # permissions -----------------------------------------------------------------------------
    def set_permission(self, full_name: str, username: str, permission: str) -> None:
        if permission not in ("admin", "maintain", "write", "triage", "read", "none"):
            raise ValueError(f"unknown permission {permission!r}")
        self.repo(full_name).permissions[username] = permission
        self.user_id(username)

    def permission(self, full_name: str, username: str) -> str:
        return self.repo(full_name).permissions.get(username, "none")

    # reviews ---------------------------------------------------------------------------------
    def reviews(self, full_name: str, number: int) -> list[Review]:
        return list(self.pull(full_name, number).reviews)

    def review_comments(self, full_name: str, number: int) -> list[ReviewComment]:
        return list(self.pull(full_name, number).review_comments)

    def review_comment(self, full_name: str, comment_id: int) -> ReviewComment:
        for pull in self._state(full_name).pulls.values():
            for comment in pull.review_comments:
                if comment.id == comment_id:
                    return comment
        raise NotFound(f"no review comment {comment_id} in {full_name}")

    def add_review_comment(self, full_name: str, number: int, path: str, line: int, body: str,
                           user: str = "octocat", user_type: str = "User") -> int:
        """Someone (not the App) comments on a line of the PR's head, in a review of its own."""
        pull = self.pull(full_name, number)
        head = self.head_sha(full_name, number)
        now = self.clock()
        review = Review(self.next_id(), number, "COMMENT", "", head, user, now)
        comment = ReviewComment(self.next_id(), number, review.id, head, path, line, "RIGHT",
                                None, None, body, user, user_type, now)
        review.comments.append(comment)
        pull.reviews.append(review)
        pull.review_comments.append(comment)
        self.user_id(user)
        return comment.id

    # check runs ------------------------------------------------------------------------------
    def check_suite(self, full_name: str, head_sha: str) -> CheckSuite:
        state = self._state(full_name)
        suite = state.check_suites.get(head_sha)
        if suite is None:
            branch = next((b for b, s in state.repo.branches.items() if s == head_sha), None)
            suite = CheckSuite(self.next_id(), head_sha, branch)
            state.check_suites[head_sha] = suite
        return suite

    def check_runs(self, full_name: str) -> list[CheckRun]:
        return list(self._state(full_name).check_runs.values())

    def check_run(self, full_name: str, check_run_id: int) -> CheckRun:
        try:
            return self._state(full_name).check_runs[check_run_id]
        except KeyError:
            raise NotFound(f"no check run {check_run_id} in {full_name}") from None

    def add_check_run(self, full_name: str, run: CheckRun) -> None:
        self._state(full_name).check_runs[run.id] = run

    def open_pulls_with_head(self, full_name: str, head_sha: str) -> list[int]:
        return [n for n in self._state(full_name).pulls
                if self.issue(full_name, n).state == "open"
                and self.head_sha(full_name, n) == head_sha]
