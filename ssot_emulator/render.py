"""GitHub's JSON shapes for the emulator's state: what the REST API answers and what webhook
payloads carry. Field names and nesting follow GitHub's OpenAPI description and real payloads.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from ssot_emulator.state import (
    CheckRun,
    EmulatorState,
    Issue,
    IssueComment,
    PullFile,
    Reaction,
    Repository,
    Review,
    ReviewComment,
    iso,
)

REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
_ASSOCIATION = {"admin": "OWNER", "maintain": "MEMBER", "write": "COLLABORATOR",
                "triage": "COLLABORATOR", "read": "CONTRIBUTOR"}


def node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode("ascii")


def _time(value: float | None) -> str | None:
    return None if value is None else iso(value)


class Shapes:
    """Renders state objects. ``api()`` is the emulator's base URL (REST and links)."""

    def __init__(self, state: EmulatorState, api: Callable[[], str], *, app_id: int,
                 slug: str, app_owner: str, permissions: dict[str, str],
                 events: list[str]) -> None:
        self.state = state
        self._api = api
        self.app_id = app_id
        self.slug = slug
        self.app_owner = app_owner
        self.permissions = permissions
        self.events = events

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"

    def api(self) -> str:
        return self._api().rstrip("/")

    def html(self) -> str:
        return self.api()

    # people -------------------------------------------------------------------------------
    def user(self, login: str, type_: str = "User") -> dict[str, Any]:
        uid = self.state.user_id(login)
        url = f"{self.api()}/users/{login}"
        return {
            "login": login, "id": uid, "node_id": node_id(type_, uid),
            "avatar_url": f"{self.api()}/avatars/u/{uid}?v=4", "gravatar_id": "",
            "url": url, "html_url": f"{self.html()}/{login}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs", "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": type_, "site_admin": False, "user_view_type": "public",
        }

    def actor(self, login: str, type_: str | None = None) -> dict[str, Any]:
        """A user, or the app's bot user when ``login`` is the bot."""
        if login == self.bot_login:
            return self.user(login, "Bot")
        return self.user(login, type_ or "User")

    def association(self, repo: Repository, login: str) -> str:
        if login == repo.owner:
            return "OWNER"
        return _ASSOCIATION.get(repo.permissions.get(login, "none"), "NONE")

    def app(self) -> dict[str, Any]:
        created = iso(1_600_000_000)
        return {
            "id": self.app_id, "slug": self.slug, "node_id": node_id("App", self.app_id),
            "client_id": f"Iv1.{self.app_id:016x}",
            "owner": self.user(self.app_owner, "Organization"), "name": self.slug,
            "description": "ssot-bot (emulated)", "external_url": self.html(),
            "html_url": f"{self.html()}/apps/{self.slug}", "created_at": created,
            "updated_at": created, "permissions": dict(self.permissions),
            "events": list(self.events), "installations_count": len(self.state.installations),
        }

    def installation(self, installation_id: int) -> dict[str, Any]:
        return {"id": installation_id, "node_id": node_id("Installation", installation_id)}

    def installation_full(self, installation_id: int) -> dict[str, Any]:
        """An installation as ``GET /app/installations`` lists it."""
        login = self.state.installations[installation_id]
        created = iso(1_600_000_000)
        account = self.user(login, "Organization")
        # the description's account is allOf(simple user, enterprise): both shapes' keys
        account.update({"name": login, "slug": login, "created_at": created,
                        "updated_at": created})
        return {
            "id": installation_id, "client_id": f"Iv1.{self.app_id:016x}", "account": account,
            "repository_selection": "all",
            "access_tokens_url": f"{self.api()}/app/installations/{installation_id}"
                                 "/access_tokens",
            "repositories_url": f"{self.api()}/installation/repositories",
            "html_url": f"{self.html()}/organizations/{login}/settings/installations/"
                        f"{installation_id}",
            "app_id": self.app_id, "app_slug": self.slug, "target_id": account["id"],
            "target_type": "Organization", "permissions": dict(self.permissions),
            "events": list(self.events), "created_at": created, "updated_at": created,
            "single_file_name": None, "has_multiple_single_files": False,
            "single_file_paths": [], "suspended_by": None, "suspended_at": None,
        }

    def other_app(self, app_id: int) -> dict[str, Any]:
        """Another App (a check run that is not this App's)."""
        result = self.app()
        slug = f"other-app-{app_id}"
        result.update({"id": app_id, "slug": slug, "name": slug,
                       "node_id": node_id("App", app_id),
                       "client_id": f"Iv1.{app_id:016x}",
                       "html_url": f"{self.html()}/apps/{slug}"})
        return result

    # repositories ---------------------------------------------------------------------------
    def repo(self, repo: Repository) -> dict[str, Any]:
        api = f"{self.api()}/repos/{repo.full_name}"
        html = f"{self.html()}/{repo.full_name}"
        head = repo.commits[repo.branches[repo.default_branch]]
        templated = {
            "forks_url": "/forks", "keys_url": "/keys{/key_id}",
            "collaborators_url": "/collaborators{/collaborator}", "teams_url": "/teams",
            "hooks_url": "/hooks", "issue_events_url": "/issues/events{/number}",
            "events_url": "/events", "assignees_url": "/assignees{/user}",
            "branches_url": "/branches{/branch}", "tags_url": "/tags",
            "blobs_url": "/git/blobs{/sha}", "git_tags_url": "/git/tags{/sha}",
            "git_refs_url": "/git/refs{/sha}", "trees_url": "/git/trees{/sha}",
            "statuses_url": "/statuses/{sha}", "languages_url": "/languages",
            "stargazers_url": "/stargazers", "contributors_url": "/contributors",
            "subscribers_url": "/subscribers", "subscription_url": "/subscription",
            "commits_url": "/commits{/sha}", "git_commits_url": "/git/commits{/sha}",
            "comments_url": "/comments{/number}",
            "issue_comment_url": "/issues/comments{/number}",
            "contents_url": "/contents/{+path}", "compare_url": "/compare/{base}...{head}",
            "merges_url": "/merges", "archive_url": "/{archive_format}{/ref}",
            "downloads_url": "/downloads", "issues_url": "/issues{/number}",
            "pulls_url": "/pulls{/number}", "milestones_url": "/milestones{/number}",
            "notifications_url": "/notifications{?since,all,participating}",
            "labels_url": "/labels{/name}", "releases_url": "/releases{/id}",
            "deployments_url": "/deployments",
        }
        open_issues = sum(1 for i in self.state.issues(repo.full_name) if i.state == "open")
        result: dict[str, Any] = {
            "id": repo.id, "node_id": node_id("Repository", repo.id), "name": repo.name,
            "full_name": repo.full_name, "private": False, "owner": self.user(repo.owner),
            "html_url": html, "description": None, "fork": False, "url": api,
        }
        result.update({k: api + v for k, v in templated.items()})
        result.update({
            "created_at": iso(repo.created_at), "updated_at": iso(head.timestamp),
            "pushed_at": iso(head.timestamp), "git_url": f"{html}.git",
            "ssh_url": f"git@emulator:{repo.full_name}.git", "clone_url": f"{html}.git",
            "svn_url": html, "homepage": None, "size": 0, "stargazers_count": 0,
            "watchers_count": 0, "language": "Python", "has_issues": True,
            "has_projects": False, "has_downloads": True, "has_wiki": False,
            "has_pages": False, "forks_count": 0, "mirror_url": None, "archived": False,
            "disabled": False, "open_issues_count": open_issues, "license": None,
            "forks": 0, "open_issues": open_issues, "watchers": 0,
            "default_branch": repo.default_branch, "is_template": False, "topics": [],
            "visibility": "public", "web_commit_signoff_required": False,
        })
        return result

    # issues and comments ----------------------------------------------------------------------
    def reactions_summary(self, url: str, reactions: list[Reaction]) -> dict[str, Any]:
        summary: dict[str, Any] = {"url": f"{url}/reactions", "total_count": len(reactions)}
        for content in REACTIONS:
            summary[content] = sum(1 for r in reactions if r.content == content)
        return summary

    def issue(self, repo: Repository, issue: Issue) -> dict[str, Any]:
        api = f"{self.api()}/repos/{repo.full_name}"
        url = f"{api}/issues/{issue.number}"
        kind = "pull" if issue.is_pull_request else "issues"
        result: dict[str, Any] = {
            "url": url, "repository_url": api, "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments", "events_url": f"{url}/events",
            "html_url": f"{self.html()}/{repo.full_name}/{kind}/{issue.number}",
            "id": issue.id, "node_id": node_id("Issue", issue.id), "number": issue.number,
            "title": issue.title, "user": self.user(issue.user), "labels": [],
            "state": issue.state, "state_reason": issue.state_reason, "locked": False,
            "assignee": None, "assignees": [], "milestone": None,
            "comments": len(issue.comments), "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at), "closed_at": _time(issue.closed_at),
            "author_association": self.association(repo, issue.user),
            "active_lock_reason": None, "body": issue.body,
            "reactions": self.reactions_summary(url, []),
            "timeline_url": f"{url}/timeline", "performed_via_github_app": None,
        }
        if issue.is_pull_request:
            pull = self.state.pull(repo.full_name, issue.number)
            html = f"{self.html()}/{repo.full_name}/pull/{issue.number}"
            result["pull_request"] = {
                "url": f"{api}/pulls/{issue.number}", "html_url": html,
                "diff_url": f"{html}.diff", "patch_url": f"{html}.patch",
                "merged_at": _time(pull.merged_at),
            }
            result["draft"] = pull.draft
        return result

    def comment(self, repo: Repository, comment: IssueComment) -> dict[str, Any]:
        api = f"{self.api()}/repos/{repo.full_name}"
        url = f"{api}/issues/comments/{comment.id}"
        kind = "pull" if self.state.issue(repo.full_name, comment.issue_number).is_pull_request \
            else "issues"
        return {
            "id": comment.id, "node_id": node_id("IssueComment", comment.id), "url": url,
            "html_url": f"{self.html()}/{repo.full_name}/{kind}/{comment.issue_number}"
                        f"#issuecomment-{comment.id}",
            "body": comment.body, "user": self.actor(comment.user, comment.user_type),
            "created_at": iso(comment.created_at), "updated_at": iso(comment.updated_at),
            "issue_url": f"{api}/issues/{comment.issue_number}",
            "author_association": self.association(repo, comment.user),
            "performed_via_github_app": self.app() if comment.via_app else None,
            "reactions": self.reactions_summary(url, comment.reactions),
        }

    def reaction(self, reaction: Reaction) -> dict[str, Any]:
        return {"id": reaction.id, "node_id": node_id("Reaction", reaction.id),
                "user": self.actor(reaction.user), "content": reaction.content,
                "created_at": iso(reaction.created_at)}

    # pull requests --------------------------------------------------------------------------
    def _branch(self, repo: Repository, ref: str, sha: str) -> dict[str, Any]:
        return {"label": f"{repo.owner}:{ref}", "ref": ref, "sha": sha,
                "user": self.user(repo.owner), "repo": self.repo(repo)}

    def pull(self, repo: Repository, number: int, *, full: bool = True) -> dict[str, Any]:
        name = repo.full_name
        pull = self.state.pull(name, number)
        issue = self.state.issue(name, number)
        api = f"{self.api()}/repos/{name}"
        url = f"{api}/pulls/{number}"
        html = f"{self.html()}/{name}/pull/{number}"
        head = self.state.head_sha(name, number)
        base = repo.branches[pull.base_ref]
        result: dict[str, Any] = {
            "url": url, "id": pull.id, "node_id": node_id("PullRequest", pull.id),
            "html_url": html, "diff_url": f"{html}.diff", "patch_url": f"{html}.patch",
            "issue_url": f"{api}/issues/{number}", "number": number, "state": issue.state,
            "locked": False, "title": issue.title, "user": self.user(issue.user),
            "body": issue.body, "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at), "closed_at": _time(issue.closed_at),
            "merged_at": _time(pull.merged_at), "merge_commit_sha": pull.merge_commit_sha,
            "assignee": None, "assignees": [], "requested_reviewers": [],
            "requested_teams": [], "labels": [], "milestone": None, "draft": pull.draft,
            "commits_url": f"{url}/commits", "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{api}/issues/{number}/comments",
            "statuses_url": f"{api}/statuses/{head}",
            "head": self._branch(repo, pull.head_ref, head),
            "base": self._branch(repo, pull.base_ref, base),
            "_links": {
                "self": {"href": url}, "html": {"href": html},
                "issue": {"href": f"{api}/issues/{number}"},
                "comments": {"href": f"{api}/issues/{number}/comments"},
                "review_comments": {"href": f"{url}/comments"},
                "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
                "commits": {"href": f"{url}/commits"},
                "statuses": {"href": f"{api}/statuses/{head}"},
            },
            "author_association": self.association(repo, issue.user),
            "auto_merge": None, "active_lock_reason": None,
        }
        if full:
            files = self.state.pull_files(name, number)
            # a merged PR counts its commits against the base as it was before the merge
            counted_from = repo.commits[pull.merge_commit_sha].parents[0] \
                if pull.merge_commit_sha else base
            result.update({
                "merged": pull.merged, "mergeable": None if pull.merged else True,
                "rebaseable": None if pull.merged else True,
                "mergeable_state": "unknown" if pull.merged else "clean",
                "merged_by": self.user(pull.merged_by) if pull.merged_by else None,
                "comments": len(issue.comments), "review_comments": len(pull.review_comments),
                "maintainer_can_modify": False,
                "commits": self.state.commits_between(name, counted_from, head),
                "additions": sum(f.additions for f in files),
                "deletions": sum(f.deletions for f in files), "changed_files": len(files),
            })
        return result

    def pull_ref(self, repo: Repository, number: int) -> dict[str, Any]:
        """The short PR object inside check runs and check suites."""
        pull = self.state.pull(repo.full_name, number)
        short_repo = {"id": repo.id, "url": f"{self.api()}/repos/{repo.full_name}",
                      "name": repo.name}
        return {
            "url": f"{self.api()}/repos/{repo.full_name}/pulls/{number}", "id": pull.id,
            "number": number,
            "head": {"ref": pull.head_ref, "sha": self.state.head_sha(repo.full_name, number),
                     "repo": short_repo},
            "base": {"ref": pull.base_ref, "sha": repo.branches[pull.base_ref],
                     "repo": short_repo},
        }

    def pull_file(self, repo: Repository, head: str, item: PullFile) -> dict[str, Any]:
        html = f"{self.html()}/{repo.full_name}"
        result: dict[str, Any] = {
            "sha": item.sha, "filename": item.filename, "status": item.status,
            "additions": item.additions, "deletions": item.deletions,
            "changes": item.additions + item.deletions,
            "blob_url": f"{html}/blob/{head}/{item.filename}",
            "raw_url": f"{html}/raw/{head}/{item.filename}",
            "contents_url": f"{self.api()}/repos/{repo.full_name}/contents/{item.filename}"
                            f"?ref={head}",
        }
        if item.patch is not None:
            result["patch"] = item.patch
        return result

    def review(self, repo: Repository, review: Review) -> dict[str, Any]:
        url = f"{self.api()}/repos/{repo.full_name}/pulls/{review.pull_number}"
        html = f"{self.html()}/{repo.full_name}/pull/{review.pull_number}"
        result: dict[str, Any] = {
            "id": review.id, "node_id": node_id("PullRequestReview", review.id),
            "user": self.actor(review.user), "body": review.body, "state": review.state,
            "html_url": f"{html}#pullrequestreview-{review.id}", "pull_request_url": url,
            "author_association": self.association(repo, review.user),
            "_links": {"html": {"href": f"{html}#pullrequestreview-{review.id}"},
                       "pull_request": {"href": url}},
            "commit_id": review.commit_id,
        }
        if review.event is not None:
            result["submitted_at"] = iso(review.submitted_at)
        return result

    def review_comment(self, repo: Repository, comment: ReviewComment,
                       diff_hunk: str, position: int) -> dict[str, Any]:
        api = f"{self.api()}/repos/{repo.full_name}"
        url = f"{api}/pulls/comments/{comment.id}"
        html = f"{self.html()}/{repo.full_name}/pull/{comment.pull_number}" \
               f"#discussion_r{comment.id}"
        pr_url = f"{api}/pulls/{comment.pull_number}"
        result: dict[str, Any] = {
            "url": url, "id": comment.id, "node_id": node_id("PullRequestReviewComment",
                                                              comment.id),
            "pull_request_review_id": comment.review_id, "diff_hunk": diff_hunk,
            "path": comment.path, "position": position, "original_position": position,
            "commit_id": comment.commit_id, "original_commit_id": comment.commit_id,
            "user": self.actor(comment.user, comment.user_type), "body": comment.body,
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at or comment.created_at),
            "html_url": html, "pull_request_url": pr_url,
            "author_association": self.association(repo, comment.user),
            "_links": {"self": {"href": url}, "html": {"href": html},
                       "pull_request": {"href": pr_url}},
            "start_line": comment.start_line, "original_start_line": comment.start_line,
            "start_side": comment.start_side if comment.start_line else None,
            "line": comment.line, "original_line": comment.line, "side": comment.side,
            "subject_type": comment.subject_type,
            "reactions": self.reactions_summary(url, []),
        }
        if comment.in_reply_to_id is not None:
            result["in_reply_to_id"] = comment.in_reply_to_id
        return result

    # checks ---------------------------------------------------------------------------------
    def check_run(self, repo: Repository, run: CheckRun) -> dict[str, Any]:
        url = f"{self.api()}/repos/{repo.full_name}/check-runs/{run.id}"
        output = run.output
        suite = self.state.check_suite(repo.full_name, run.head_sha)
        return {
            "id": run.id, "node_id": node_id("CheckRun", run.id), "head_sha": run.head_sha,
            "external_id": run.external_id, "url": url,
            "html_url": f"{self.html()}/{repo.full_name}/runs/{run.id}",
            "details_url": run.details_url or f"{self.html()}/{repo.full_name}/runs/{run.id}",
            "status": run.status, "conclusion": run.conclusion,
            "started_at": _time(run.started_at), "completed_at": _time(run.completed_at),
            "output": {
                "title": output.get("title"), "summary": output.get("summary"),
                "text": output.get("text"),
                "annotations_count": len(output.get("annotations", [])),
                "annotations_url": f"{url}/annotations",
            },
            "name": run.name, "check_suite": {"id": suite.id},
            "app": self.app() if run.app_id is None or run.app_id == self.app_id
            else self.other_app(run.app_id),
            "pull_requests": [self.pull_ref(repo, n) for n in
                              self.state.open_pulls_with_head(repo.full_name, run.head_sha)],
        }

    def check_suite(self, repo: Repository, head_sha: str) -> dict[str, Any]:
        suite = self.state.check_suite(repo.full_name, head_sha)
        runs = [r for r in self.state.check_runs(repo.full_name) if r.head_sha == head_sha]
        done = runs and all(r.status == "completed" for r in runs)
        conclusions = {r.conclusion for r in runs}
        conclusion = None
        if done:
            conclusion = "failure" if "failure" in conclusions else "success"
        commit = repo.commits.get(head_sha)
        api = f"{self.api()}/repos/{repo.full_name}"
        return {
            "id": suite.id, "node_id": node_id("CheckSuite", suite.id),
            "head_branch": suite.head_branch, "head_sha": head_sha,
            "status": "completed" if done else "queued", "conclusion": conclusion,
            "url": f"{api}/check-suites/{suite.id}", "before": None, "after": head_sha,
            "pull_requests": [self.pull_ref(repo, n) for n in
                              self.state.open_pulls_with_head(repo.full_name, head_sha)],
            "app": self.app(),
            "created_at": iso(commit.timestamp if commit else self.state.clock()),
            "updated_at": iso(self.state.clock()),
            "latest_check_runs_count": len(runs),
            "check_runs_url": f"{api}/check-suites/{suite.id}/check-runs",
            "head_commit": {
                "id": head_sha, "tree_id": head_sha,
                "message": commit.message if commit else "",
                "timestamp": iso(commit.timestamp if commit else self.state.clock()),
                "author": {"name": "octocat", "email": "octocat@example.invalid"},
                "committer": {"name": "octocat", "email": "octocat@example.invalid"},
            },
        }
