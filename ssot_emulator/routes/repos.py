"""A repository itself, the comparison of two refs, and a collaborator's permission."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssot_emulator import archive
from ssot_emulator.endpoints import Call, Endpoints, Reply
from ssot_emulator.errors import DOCS, not_found
from ssot_emulator.state import NotFound

if TYPE_CHECKING:
    from ssot_emulator.server import GitHubEmulator

route = Endpoints()
routes = route.table


@route("GET", "", perms=("metadata",))
def get_repo(emu: GitHubEmulator, call: Call) -> Reply:
    shape = emu.shapes.repo(call.repository)
    shape.update({"has_discussions": False, "network_count": 0, "subscribers_count": 0})
    return Reply(200, shape)


@route("GET", "/collaborators/{username}/permission", perms=("metadata",))
def permission(emu: GitHubEmulator, call: Call) -> Reply:
    username = call.params["username"]
    role = emu.permission(call.full_name, username)
    # GitHub folds the finer roles into the legacy field: maintain -> write, triage -> read
    legacy = {"maintain": "write", "triage": "read"}.get(role, role)
    user = emu.shapes.user(username)
    user["permissions"] = {
        "admin": role == "admin",
        "maintain": role in ("admin", "maintain"),
        "push": role in ("admin", "maintain", "write"),
        "triage": role in ("admin", "maintain", "write", "triage"),
        "pull": role != "none"}
    user["role_name"] = role
    return Reply(200, {"permission": legacy, "role_name": role, "user": user})


@route("GET", "/compare/{basehead}", perms=("contents",))
def compare(emu: GitHubEmulator, call: Call) -> Reply:
    basehead = call.params["basehead"]
    base_ref, sep, head_ref = basehead.partition("...")
    if not sep:
        raise not_found()
    try:
        base = emu.resolve_ref(call.full_name, base_ref)
        head = emu.resolve_ref(call.full_name, head_ref)
    except NotFound:
        raise not_found(f"{DOCS}/commits/commits#compare-two-commits") from None
    repo = call.repository
    merge_base = repo.commits[emu.merge_base(call.full_name, base.sha, head.sha)]
    before = set(emu.state._ancestors(repo, merge_base.sha))
    ahead = [sha for sha in emu.state._ancestors(repo, head.sha) if sha not in before]
    behind = [sha for sha in emu.state._ancestors(repo, base.sha) if sha not in before]
    status = ("identical" if not ahead and not behind else "ahead" if not behind
              else "behind" if not ahead else "diverged")
    api, html = emu.shapes.api(), emu.shapes.html()
    author = emu.shapes.user(repo.owner)
    added, removed, modified = archive.changes(merge_base.tree, head.tree)
    files = ([archive.diff_entry(api, html, repo, head.sha, p, "added", head.tree[p])
              for p in added]
             + [archive.diff_entry(api, html, repo, head.sha, p, "removed", merge_base.tree[p])
                for p in removed]
             + [archive.diff_entry(api, html, repo, head.sha, p, "modified", head.tree[p])
                for p in modified])
    files.sort(key=lambda f: f["filename"])
    page = f"{html}/{call.full_name}/compare/{basehead}"
    return Reply(200, {
        "url": f"{api}/repos/{call.full_name}/compare/{basehead}", "html_url": page,
        "permalink_url": f"{html}/{call.full_name}/compare/{base.sha}...{head.sha}",
        "diff_url": f"{page}.diff", "patch_url": f"{page}.patch",
        "base_commit": archive.commit_shape(api, html, repo, base, author),
        "merge_base_commit": archive.commit_shape(api, html, repo, merge_base, author),
        "status": status, "ahead_by": len(ahead), "behind_by": len(behind),
        "total_commits": len(ahead),
        "commits": [archive.commit_shape(api, html, repo, repo.commits[sha], author)
                    for sha in reversed(ahead)][:250],
        "files": files[:300],
    })
