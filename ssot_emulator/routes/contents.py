"""A repository's files: contents, git blobs and trees, the tarball (a 302 to codeload) and the
codeload URL that serves it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ssot_emulator import archive
from ssot_emulator.endpoints import EMULATOR, Call, Endpoints, Recorded, Reply, existing
from ssot_emulator.errors import DOCS, HTTPError, not_found
from ssot_emulator.state import NotFound, Repository

if TYPE_CHECKING:
    from ssot_emulator.server import GitHubEmulator

route = Endpoints()
routes = route.table
LARGE_FILE = 1024 * 1024  # the contents API leaves out files over 1 MB


def b64_lines(data: bytes) -> str:
    """Base64 in 60-character lines, each ending with a newline, as GitHub sends it."""
    text = base64.b64encode(data).decode("ascii")
    return "".join(text[i:i + 60] + "\n" for i in range(0, len(text), 60))


@route("GET", "/contents/{path:.*}", perms=("contents",))
def contents(emu: GitHubEmulator, call: Call) -> Reply:
    doc = f"{DOCS}/repos/contents#get-repository-content"
    try:
        commit = emu.resolve_ref(call.full_name, call.arg("ref"))
    except NotFound as exc:
        raise HTTPError(404, str(exc), doc=doc) from None
    path = call.params["path"].strip("/")
    repo = call.repository
    ref = call.arg("ref") or repo.default_branch
    sha = commit.tree.get(path)
    if sha is not None:
        data = emu.blobs[sha]
        return Reply(200, _content_entry(emu, repo, path, sha, len(data), "file", ref, data))
    prefix = f"{path}/" if path else ""
    children: dict[str, tuple[str, str, int]] = {}
    for item, item_sha in commit.tree.items():
        if not item.startswith(prefix):
            continue
        name, _, rest = item[len(prefix):].partition("/")
        if rest:
            children.setdefault(name, ("dir", item_sha, 0))
        else:
            children[name] = ("file", item_sha, len(emu.blobs[item_sha]))
    if not children:
        raise HTTPError(404, "Not Found", doc=doc)
    return Reply(200, [_content_entry(emu, repo, prefix + name, s, size, kind, ref, None)
                       for name, (kind, s, size) in sorted(children.items())])


def _content_entry(emu: GitHubEmulator, repo: Repository, path: str, sha: str, size: int,
                   kind: str, ref: str, data: bytes | None) -> dict[str, Any]:
    api = f"{emu.shapes.api()}/repos/{repo.full_name}"
    html = f"{emu.shapes.html()}/{repo.full_name}/blob/{ref}/{path}"
    url = f"{api}/contents/{path}?ref={ref}"
    git = f"{api}/git/{'blobs' if kind == 'file' else 'trees'}/{sha}"
    entry: dict[str, Any] = {
        "type": kind, "size": size, "name": path.rsplit("/", 1)[-1], "path": path,
        "sha": sha, "url": url, "git_url": git, "html_url": html,
        "download_url": f"{emu.shapes.html()}/{repo.full_name}/raw/{ref}/{path}"
                        if kind == "file" else None,
        "_links": {"self": url, "git": git, "html": html},
    }
    if data is not None:
        if size > LARGE_FILE:
            entry.update({"encoding": "none", "content": ""})
        else:
            entry.update({"encoding": "base64", "content": b64_lines(data)})
    return entry


@route("GET", "/git/blobs/{file_sha}", perms=("contents",))
def blob(emu: GitHubEmulator, call: Call) -> Reply:
    sha = call.params["file_sha"]
    if sha not in emu.blobs or not emu.repo_has_blob(call.full_name, sha):
        raise not_found(f"{DOCS}/git/blobs#get-a-blob")
    data = emu.blobs[sha]
    return Reply(200, {
        "sha": sha, "node_id": base64.b64encode(f"05:Blob{sha}".encode()).decode(),
        "size": len(data), "url": f"{emu.shapes.api()}/repos/{call.full_name}/git/blobs/{sha}",
        "content": b64_lines(data), "encoding": "base64"})


@route("GET", "/git/trees/{tree_sha}", perms=("contents",))
def tree(emu: GitHubEmulator, call: Call) -> Reply:
    """A commit's tree (by commit sha or branch); ``recursive`` lists every level."""
    commit = existing(emu.resolve_ref, call, call.params["tree_sha"],
                      f"{DOCS}/git/trees#get-a-tree")
    api = f"{emu.shapes.api()}/repos/{call.full_name}/git"
    recursive = call.arg("recursive") not in (None, "", "0", "false")
    entries: dict[str, dict[str, Any]] = {}
    for path, blob_sha in sorted(commit.tree.items()):
        parts = path.split("/")
        if not recursive and len(parts) > 1:
            entries.setdefault(parts[0], _tree_entry(emu, api, parts[0], None))
            continue
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            entries.setdefault(folder, _tree_entry(emu, api, folder, None))
        entries[path] = _tree_entry(emu, api, path, blob_sha)
    listed = [entries[key] for key in sorted(entries)]
    truncated = len(listed) > emu.tree_limit
    return Reply(200, {"sha": commit.sha, "url": f"{api}/trees/{commit.sha}",
                       "tree": listed[: emu.tree_limit], "truncated": truncated})


def _tree_entry(emu: GitHubEmulator, api: str, path: str, blob_sha: str | None) -> dict[str, Any]:
    if blob_sha is None:  # a folder: its sha is derived from its path (stable, not git's)
        sha = hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()
        return {"path": path, "mode": "040000", "type": "tree", "sha": sha,
                "url": f"{api}/trees/{sha}"}
    return {"path": path, "mode": "100644", "type": "blob", "sha": blob_sha,
            "size": len(emu.blobs[blob_sha]), "url": f"{api}/blobs/{blob_sha}"}


@route("GET", "/tarball/{ref:.+}", perms=("contents",))
def tarball(emu: GitHubEmulator, call: Call) -> Reply:
    """302 to a codeload URL (as GitHub answers); that URL serves the bytes once."""
    commit = existing(emu.resolve_ref, call, call.params["ref"],
                      f"{DOCS}/repos/contents#download-a-repository-archive-tar")
    token = secrets.token_hex(12)
    emu.codeload_tokens[token] = (call.full_name, commit.sha)
    owner, name = call.full_name.split("/", 1)
    base = (emu.base_url or call.origin).rstrip("/")
    return Reply(302, None, {"Location": f"{base}/_codeload/{owner}/{name}/legacy.tar.gz/"
                                         f"{commit.sha}?token={token}"})


@route.raw("*", "/_codeload/{tail:.*}")
async def codeload(request: web.Request) -> web.StreamResponse:
    """The archive, once per token, without credentials; recorded, and failing with injected
    faults, on its own terms."""
    emu = request.app[EMULATOR]
    found = emu.codeload_tokens.pop(request.query.get("token", ""), None)
    status = 200 if found is not None and not request.headers.get("Authorization") else 404
    emu.requests.append(Recorded("GET", request.path, {}, None, status, "none", {}, emu.clock()))
    if status != 200 or found is None:
        return web.Response(status=404, text="Not Found")
    fault = emu.fault_plan.take("GET", request.path)  # codeload fails on its own too
    if fault is not None:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is not None:
            return web.Response(status=fault.status, text="Server Error")
    full_name, sha = found
    # streamed as it is made (chunked, no length), as codeload serves archives
    response = web.StreamResponse(status=200, headers={
        "Content-Type": "application/x-gzip",
        "Content-Disposition": f"attachment; filename={full_name.replace('/', '-')}-"
                               f"{sha[:7]}.tar.gz"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    repo = emu.repo(full_name)
    for piece in archive.tarball_chunks(repo, repo.commits[sha], emu.blobs):
        await response.write(piece)
    await response.write_eof()
    return response
