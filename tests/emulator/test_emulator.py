"""The GitHub emulator, driven over HTTP the way the bot drives GitHub."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import gidgethub
import gidgethub.aiohttp
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gidgethub import apps

from ssot_emulator import OPENAPI_SUBSET, EmulatorServer, GitHubEmulator, blob_sha, resolve_line
from tests.timing import TIMED

SPEC = OPENAPI_SUBSET
REPO = "acme/app"
INSTALLATION = 77

BASE_FILES = {
    "app/service.py": "".join(f"line {i}\n" for i in range(1, 41)),
    "app/other.py": "a = 1\n",
    "README.md": "hello\n",
}


def make_emulator(**kwargs: Any) -> GitHubEmulator:
    emu = GitHubEmulator(SPEC, **kwargs)
    emu.validate_responses = True
    emu.add_installation(INSTALLATION, "acme")
    emu.add_repo(REPO, BASE_FILES, installation_id=INSTALLATION)
    return emu


def edit_service(emu: GitHubEmulator, branch: str = "feature") -> int:
    """A PR changing lines 5 and 30 of app/service.py (two hunks) and adding app/new.py."""
    lines = BASE_FILES["app/service.py"].splitlines(keepends=True)
    lines[4] = "changed 5\n"
    lines[29] = "changed 30\n"
    emu.commit(REPO, branch, {"app/service.py": "".join(lines), "app/new.py": "x = 1\ny = 2\n"})
    return emu.open_pull_request(REPO, branch, title="Edit", body="SSOT-Step: 4")


@pytest.fixture
def emu() -> GitHubEmulator:
    return make_emulator()


@pytest.fixture
async def base_url(emu: GitHubEmulator) -> AsyncIterator[str]:
    async with EmulatorServer(emu) as url:
        yield url
    # every answer the tests provoked matches the description's response schemas
    assert emu.response_violations == []


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def gh(session: aiohttp.ClientSession, base_url: str) -> gidgethub.aiohttp.GitHubAPI:
    return gidgethub.aiohttp.GitHubAPI(session, "emulator-tests", base_url=base_url)


async def install_token(gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator,
                        installation_id: int = INSTALLATION) -> str:
    answer = await apps.get_installation_access_token(
        gh, installation_id=str(installation_id), app_id=str(emu.app_id),
        private_key=emu.private_key_pem)
    return str(answer["token"])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}", "Accept": "application/vnd.github+json"}


# authentication ------------------------------------------------------------------------------

async def test_jwt_then_token_then_repo_call(
    gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator
) -> None:
    app_jwt = apps.get_jwt(app_id=str(emu.app_id), private_key=emu.private_key_pem)
    app = await gh.getitem("/app", jwt=app_jwt)
    assert app["id"] == emu.app_id and app["slug"] == "ssot-bot"

    answer = await apps.get_installation_access_token(
        gh, installation_id=str(INSTALLATION), app_id=str(emu.app_id),
        private_key=emu.private_key_pem)
    assert answer["token"].startswith("ghs_")
    assert answer["expires_at"].endswith("Z")
    assert answer["permissions"]["checks"] == "write"

    data = await gh.getitem(f"/repos/{REPO}/contents/README.md", oauth_token=answer["token"])
    assert base64.b64decode(data["content"]) == b"hello\n"
    assert [r.auth for r in emu.requests] == ["jwt", "jwt", "token"]
    assert emu.openapi_violations == []


async def test_integer_iss_is_accepted(gh: gidgethub.aiohttp.GitHubAPI,
                                       emu: GitHubEmulator) -> None:
    now = int(time.time())
    claims = json.dumps({"iat": now - 30, "exp": now + 500, "iss": emu.app_id}).encode()
    token = jwt.api_jws.encode(claims, emu.private_key_pem, algorithm="RS256")  # PyJWT: str only
    assert (await gh.getitem("/app", jwt=token))["id"] == emu.app_id


def _other_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.mark.parametrize("case", ["foreign key", "wrong iss", "too long", "expired", "garbage"])
async def test_bad_jwt_is_401(gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator,
                              case: str) -> None:
    now = int(time.time())
    key, claims = emu.private_key_pem, {"iat": now - 60, "exp": now + 540, "iss": str(emu.app_id)}
    if case == "foreign key":
        key = _other_key()
    elif case == "wrong iss":
        claims["iss"] = "999"
    elif case == "too long":
        claims["exp"] = now + 3600
    elif case == "expired":
        claims.update(iat=now - 1200, exp=now - 700)
    token = "a.b.c" if case == "garbage" else jwt.encode(claims, key, algorithm="RS256")
    with pytest.raises(gidgethub.BadRequest) as info:
        await gh.post(f"/app/installations/{INSTALLATION}/access_tokens", data=b"", jwt=token)
    assert info.value.status_code == 401
    assert not emu.tokens


async def test_unknown_installation_is_404(gh: gidgethub.aiohttp.GitHubAPI,
                                           emu: GitHubEmulator) -> None:
    with pytest.raises(gidgethub.BadRequest) as info:
        await install_token(gh, emu, installation_id=5)
    assert info.value.status_code == 404


async def test_repo_calls_need_a_live_token_of_the_owning_installation(
    session: aiohttp.ClientSession, base_url: str, emu: GitHubEmulator,
    gh: gidgethub.aiohttp.GitHubAPI,
) -> None:
    url = f"{base_url}/repos/{REPO}/contents/README.md"
    emu.add_installation(88, "other")
    emu.add_repo("other/repo", {"x": "y"}, installation_id=88)
    foreign = await install_token(gh, emu, installation_id=88)
    app_jwt = apps.get_jwt(app_id=str(emu.app_id), private_key=emu.private_key_pem)
    for headers in ({}, auth("ghs_madeup"), auth(foreign),
                    {"Authorization": f"Bearer {app_jwt}"}):
        async with session.get(url, headers=headers) as response:
            assert response.status == 401
            assert (await response.json())["message"] == "Bad credentials"
    async with session.get(url, headers={"Authorization": f"Bearer {foreign}"}) as response:
        assert response.status == 401
    good = await install_token(gh, emu)
    async with session.get(url, headers={"Authorization": f"Bearer {good}"}) as response:
        assert response.status == 200


async def test_tokens_expire() -> None:
    now = [time.time()]
    emu = make_emulator(clock=lambda: now[0], token_lifetime=60)
    async with EmulatorServer(emu) as base_url, aiohttp.ClientSession() as session:
        gh = gidgethub.aiohttp.GitHubAPI(session, "t", base_url=base_url)
        token = await install_token(gh, emu)
        await gh.getitem(f"/repos/{REPO}/pulls", oauth_token=token)
        now[0] += 61
        with pytest.raises(gidgethub.BadRequest) as info:
            await gh.getitem(f"/repos/{REPO}/pulls", oauth_token=token)
        assert info.value.status_code == 401
        fresh = await install_token(gh, emu)  # the JWT is judged by the same clock
        assert await gh.getitem(f"/repos/{REPO}/pulls", oauth_token=fresh) == []


# contents and blobs ---------------------------------------------------------------------------

async def test_contents_at_ref_and_404(gh: gidgethub.aiohttp.GitHubAPI,
                                       emu: GitHubEmulator) -> None:
    token = await install_token(gh, emu)
    old_sha = emu.repo(REPO).branches["main"]
    emu.commit(REPO, "main", {"README.md": "bye\n"})
    url = f"/repos/{REPO}/contents/{{+path}}{{?ref}}"
    at_old = await gh.getitem(url, {"path": "README.md", "ref": old_sha}, oauth_token=token)
    now = await gh.getitem(url, {"path": "README.md", "ref": "main"}, oauth_token=token)
    assert base64.b64decode(at_old["content"]) == b"hello\n"
    assert base64.b64decode(now["content"]) == b"bye\n"
    assert now["type"] == "file" and now["encoding"] == "base64"
    nested = await gh.getitem(url, {"path": "app/other.py", "ref": "main"}, oauth_token=token)
    assert nested["path"] == "app/other.py" and nested["sha"] == blob_sha(b"a = 1\n")
    listing = await gh.getitem(url, {"path": "app", "ref": "main"}, oauth_token=token)
    assert [entry["name"] for entry in listing] == ["other.py", "service.py"]
    for path, ref in (("missing.py", "main"), ("README.md", "no-such-branch")):
        with pytest.raises(gidgethub.BadRequest) as info:
            await gh.getitem(url, {"path": path, "ref": ref}, oauth_token=token)
        assert info.value.status_code == 404
    assert emu.openapi_violations == []


async def test_blob_round_trip(gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator) -> None:
    token = await install_token(gh, emu)
    data = bytes(range(256)) * 5
    emu.commit(REPO, "main", {"bin/data.bin": data})
    sha = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's id
    assert blob_sha(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"  # git hash-object
    blob = await gh.getitem(f"/repos/{REPO}/git/blobs/{sha}", oauth_token=token)
    assert blob["encoding"] == "base64" and blob["size"] == len(data)
    assert base64.b64decode(blob["content"]) == data
    with pytest.raises(gidgethub.BadRequest) as info:
        await gh.getitem(f"/repos/{REPO}/git/blobs/{'0' * 40}", oauth_token=token)
    assert info.value.status_code == 404


async def test_git_tree_lists_every_blob_with_its_size(gh: gidgethub.aiohttp.GitHubAPI,
                                                       emu: GitHubEmulator) -> None:
    token = await install_token(gh, emu)
    head = emu.repo(REPO).branches["main"]
    url = f"/repos/{REPO}/git/trees/{{sha}}{{?recursive}}"
    tree = await gh.getitem(url, {"sha": head, "recursive": 1}, oauth_token=token)
    blobs = {e["path"]: e for e in tree["tree"] if e["type"] == "blob"}
    assert tree["sha"] == head and tree["truncated"] is False
    assert sorted(blobs) == sorted(BASE_FILES)
    assert blobs["app/other.py"]["size"] == 6
    assert blobs["app/other.py"]["sha"] == blob_sha(b"a = 1\n")
    assert [e["path"] for e in tree["tree"] if e["type"] == "tree"] == ["app"]
    by_branch = await gh.getitem(url, {"sha": "main"}, oauth_token=token)
    assert sorted(e["path"] for e in by_branch["tree"]) == ["README.md", "app"]
    emu.tree_limit = 2
    cut = await gh.getitem(url, {"sha": head, "recursive": 1}, oauth_token=token)
    assert cut["truncated"] is True and len(cut["tree"]) == 2
    with pytest.raises(gidgethub.BadRequest) as info:
        await gh.getitem(url, {"sha": "no-such-branch"}, oauth_token=token)
    assert info.value.status_code == 404
    assert emu.openapi_violations == []


# pull requests and files ---------------------------------------------------------------------

async def test_pull_files_patches(gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator) -> None:
    token = await install_token(gh, emu)
    emu.commit(REPO, "feature", {"README.md": None, "app/other.py": "a = 2"})
    number = edit_service(emu)
    files = {f["filename"]: f for f in await gh.getitem(
        f"/repos/{REPO}/pulls/{number}/files", oauth_token=token)}
    assert {name: f["status"] for name, f in files.items()} == {
        "README.md": "removed", "app/new.py": "added", "app/other.py": "modified",
        "app/service.py": "modified"}
    assert files["app/new.py"]["patch"] == "@@ -0,0 +1,2 @@\n+x = 1\n+y = 2"
    assert files["app/other.py"]["patch"] == (
        "@@ -1 +1 @@\n-a = 1\n+a = 2\n\\ No newline at end of file")
    service = files["app/service.py"]
    assert service["patch"].count("@@ -") == 2  # two hunks, three lines of context each
    assert service["patch"].startswith("@@ -2,7 +2,7 @@\n line 2\n")
    assert (service["additions"], service["deletions"], service["changes"]) == (2, 2, 4)
    assert service["sha"] == emu.repo(REPO).commits[emu.head_sha(REPO, number)].tree[
        "app/service.py"]
    assert files["README.md"]["patch"] == "@@ -1 +0,0 @@\n-hello"

    emu.omit_patches_over = 3
    files = {f["filename"]: f for f in await gh.getitem(
        f"/repos/{REPO}/pulls/{number}/files", oauth_token=token)}
    assert "patch" not in files["app/service.py"] and "patch" in files["README.md"]


async def test_pagination_over_250_files(gh: gidgethub.aiohttp.GitHubAPI,
                                         session: aiohttp.ClientSession, base_url: str,
                                         emu: GitHubEmulator) -> None:
    token = await install_token(gh, emu)
    emu.commit(REPO, "many", {f"pkg/m{i:03}.py": f"value = {i}\n" for i in range(250)})
    number = emu.open_pull_request(REPO, "many")
    seen = [f["filename"] async for f in gh.getiter(
        f"/repos/{REPO}/pulls/{number}/files{{?per_page}}", {"per_page": 100}, oauth_token=token)]
    assert seen == [f"pkg/m{i:03}.py" for i in range(250)]

    url = f"{base_url}/repos/{REPO}/pulls/{number}/files"
    async with session.get(url, params={"per_page": "100", "page": "2"},
                           headers=auth(token)) as response:
        assert len(await response.json()) == 100
        links = {link["rel"]: str(link["url"]) for link in response.links.values()}
    assert links == {
        "prev": f"{url}?per_page=100&page=1", "next": f"{url}?per_page=100&page=3",
        "last": f"{url}?per_page=100&page=3", "first": f"{url}?per_page=100&page=1"}
    async with session.get(url, headers=auth(token)) as response:  # default: 30 a page
        assert len(await response.json()) == 30
        assert str(response.links["last"]["url"]).endswith("page=9")
        assert "prev" not in response.links
    async with session.get(url, params={"per_page": "500", "page": "3"},
                           headers=auth(token)) as response:  # at most 100 a page
        assert len(await response.json()) == 50
        assert set(response.links) == {"prev", "first"}


async def test_pulls_list_and_merge(gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator) -> None:
    token = await install_token(gh, emu)
    number = edit_service(emu)
    other = emu.create_issue(REPO, "An issue", "body")
    assert other == number + 1  # issues and pull requests share numbers
    pulls = await gh.getitem(f"/repos/{REPO}/pulls", oauth_token=token)
    assert [p["number"] for p in pulls] == [number]
    assert pulls[0]["head"]["sha"] == emu.repo(REPO).branches["feature"]
    assert pulls[0]["head"]["ref"] == "feature" and pulls[0]["base"]["ref"] == "main"
    assert pulls[0]["head"]["repo"]["full_name"] == REPO
    emu.commit(REPO, "feature", {"app/more.py": "pass\n"})
    assert (await gh.getitem(f"/repos/{REPO}/pulls/{number}", oauth_token=token))["commits"] == 2

    emu.merge_pull_request(REPO, number, merged_by="maintainer")
    assert emu.file_at(REPO, "app/new.py", "main") == b"x = 1\ny = 2\n"
    assert emu.file_at(REPO, "app/service.py", "main") == emu.file_at(
        REPO, "app/service.py", "feature")
    pull = await gh.getitem(f"/repos/{REPO}/pulls/{number}", oauth_token=token)
    assert pull["merged"] is True and pull["state"] == "closed"
    assert pull["merged_at"] and pull["merged_by"]["login"] == "maintainer"
    assert pull["commits"] == 2 and pull["changed_files"] == 3
    assert await gh.getitem(f"/repos/{REPO}/pulls", oauth_token=token) == []
    closed = await gh.getitem(f"/repos/{REPO}/pulls{{?state}}", {"state": "closed"},
                              oauth_token=token)
    assert [p["number"] for p in closed] == [number]
    issue = await gh.getitem(f"/repos/{REPO}/issues/{number}", oauth_token=token)
    assert issue["pull_request"]["merged_at"] == pull["merged_at"]


# reviews --------------------------------------------------------------------------------------

async def test_review_comment_outside_the_diff_rejects_the_whole_review(
    gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator
) -> None:
    token = await install_token(gh, emu)
    number = edit_service(emu)
    head = emu.head_sha(REPO, number)
    url = f"/repos/{REPO}/pulls/{number}/reviews"
    inside = {"path": "app/service.py", "line": 5, "side": "RIGHT", "body": "ok"}
    for bad in (
        {"path": "app/service.py", "line": 17, "side": "RIGHT", "body": "between hunks"},
        {"path": "app/other.py", "line": 1, "side": "RIGHT", "body": "file not in the PR"},
        {"path": "app/service.py", "line": 30, "start_line": 5, "body": "range across hunks"},
        {"path": "app/service.py", "line": 99, "body": "past the end"},
    ):
        with pytest.raises(gidgethub.ValidationError) as info:
            await gh.post(url, data={"commit_id": head, "event": "COMMENT", "body": "x",
                                     "comments": [inside, bad]}, oauth_token=token)
        assert info.value.status_code == 422
        assert "Line could not be resolved" in str(info.value)
    assert emu.reviews(REPO, number) == [] and emu.review_comments(REPO, number) == []

    review = await gh.post(url, data={
        "commit_id": head, "event": "REQUEST_CHANGES", "body": "see inline",
        "comments": [inside,
                     {"path": "app/service.py", "line": 31, "start_line": 29,
                      "side": "RIGHT", "start_side": "RIGHT", "body": "range"},
                     {"path": "app/new.py", "line": 2, "side": "RIGHT", "body": "new file"}]},
        oauth_token=token)
    assert review["state"] == "CHANGES_REQUESTED" and review["commit_id"] == head
    stored = emu.reviews(REPO, number)[0]
    assert stored.event == "REQUEST_CHANGES" and stored.body == "see inline"
    assert [(c.path, c.line, c.start_line) for c in stored.comments] == [
        ("app/service.py", 5, None), ("app/service.py", 31, 29), ("app/new.py", 2, None)]
    listed = await gh.getitem(f"/repos/{REPO}/pulls/{number}/comments", oauth_token=token)
    assert [(c["path"], c["line"], c["body"]) for c in listed] == [
        ("app/service.py", 5, "ok"), ("app/service.py", 31, "range"), ("app/new.py", 2, "new file")]
    assert listed[0]["user"] == {**listed[0]["user"], "login": "ssot-bot[bot]", "type": "Bot"}
    assert listed[0]["diff_hunk"].endswith("+changed 5")
    assert listed[0]["pull_request_review_id"] == review["id"]
    reviews = await gh.getitem(url, oauth_token=token)
    assert [r["id"] for r in reviews] == [review["id"]]
    assert emu.openapi_violations == []


async def test_the_files_follow_each_push_and_merge_base(
    gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator
) -> None:
    """The PR's files are computed once per head and merge base (a review asks for them per
    comment), never served stale: after a push, and after a retarget that moves the merge
    base, the diff and the review comments GitHub accepts are the new ones; an old head
    still has its own diff."""
    token = await install_token(gh, emu)
    number = edit_service(emu)
    first = emu.head_sha(REPO, number)
    url = f"/repos/{REPO}/pulls/{number}/reviews"

    async def files() -> dict[str, Any]:
        return {f["filename"]: f for f in await gh.getitem(
            f"/repos/{REPO}/pulls/{number}/files", oauth_token=token)}

    async def review(commit: str, line: int, path: str = "app/service.py") -> None:
        await gh.post(url, data={"commit_id": commit, "event": "COMMENT", "body": "x",
                                 "comments": [{"path": path, "line": line, "side": "RIGHT",
                                               "body": "here"}]}, oauth_token=token)

    await review(first, 5)
    assert set(await files()) == {"app/service.py", "app/new.py"}
    with pytest.raises(gidgethub.ValidationError):
        await review(first, 17)  # between the two hunks

    lines = BASE_FILES["app/service.py"].splitlines(keepends=True)
    lines[4], lines[16], lines[29] = "changed 5\n", "changed 17\n", "changed 30\n"
    second = emu.commit(REPO, "feature", {"app/service.py": "".join(lines),
                                          "app/other.py": "a = 3\n"})
    now = await files()
    assert set(now) == {"app/service.py", "app/new.py", "app/other.py"}
    assert "+changed 17" in now["app/service.py"]["patch"]
    await review(second, 17)  # on the new push's line: accepted
    await review(second, 1, path="app/other.py")
    with pytest.raises(gidgethub.ValidationError):
        await review(first, 17)  # the first head's diff still has no line 17
    comments = await gh.getitem(f"/repos/{REPO}/pulls/{number}/comments", oauth_token=token)
    assert [c["diff_hunk"].rsplit("\n", 1)[-1] for c in comments] == [
        "+changed 5", "+changed 17", "+a = 3"]

    # retargeted onto a branch that holds the first push: the merge base moves to it, and
    # only the second push is left in the diff
    emu.repo(REPO).branches["release"] = first
    emu.pull(REPO, number).base_ref = "release"
    now = await files()
    assert set(now) == {"app/service.py", "app/other.py"}
    assert now["app/service.py"]["patch"].startswith("@@ -14,7 +14,7 @@")
    with pytest.raises(gidgethub.ValidationError):
        await review(second, 5)  # the first push's line: no longer in the diff
    await review(second, 17)
    assert emu.openapi_violations == []


async def test_review_without_body_or_comments_is_422(
    gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator
) -> None:
    token = await install_token(gh, emu)
    number = edit_service(emu)
    for event in ("COMMENT", "REQUEST_CHANGES"):
        with pytest.raises(gidgethub.ValidationError):
            await gh.post(f"/repos/{REPO}/pulls/{number}/reviews",
                          data={"event": event}, oauth_token=token)
    assert emu.reviews(REPO, number) == []


async def test_single_review_comment(gh: gidgethub.aiohttp.GitHubAPI,
                                     emu: GitHubEmulator) -> None:
    token = await install_token(gh, emu)
    number = edit_service(emu)
    head = emu.head_sha(REPO, number)
    url = f"/repos/{REPO}/pulls/{number}/comments"
    with pytest.raises(gidgethub.ValidationError) as info:
        await gh.post(url, data={"commit_id": head, "path": "app/service.py", "line": 20,
                                 "side": "RIGHT", "body": "no"}, oauth_token=token)
    assert "must be part of the diff" in str(info.value)
    made = await gh.post(url, data={"commit_id": head, "path": "app/service.py", "line": 30,
                                    "side": "RIGHT", "body": "yes"}, oauth_token=token)
    assert made["line"] == 30 and made["user"]["type"] == "Bot"
    assert [c.body for c in emu.review_comments(REPO, number)] == ["yes"]


def test_line_resolution_rules() -> None:
    patch = "@@ -1,3 +1,4 @@\n a\n-b\n+B\n+C\n c"
    assert resolve_line(patch, 2) and resolve_line(patch, 4) and not resolve_line(patch, 5)
    assert resolve_line(patch, 2, "LEFT") and not resolve_line(patch, 4, "LEFT")
    assert resolve_line(patch, 3, start_line=1) and not resolve_line(patch, 3, start_line=3)


# check runs -----------------------------------------------------------------------------------

def _annotations(count: int, path: str = "app/service.py") -> list[dict[str, Any]]:
    return [{"path": path, "start_line": i + 1, "end_line": i + 1,
             "annotation_level": "warning", "message": f"m{i}"} for i in range(count)]


async def test_check_runs(gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator) -> None:
    token = await install_token(gh, emu)
    number = edit_service(emu)
    head = emu.head_sha(REPO, number)
    action = {"label": "Re-run SSOT", "identifier": "recheck", "description": "Run again"}
    run = await gh.post(f"/repos/{REPO}/check-runs", data={
        "name": "SSOT", "head_sha": head, "status": "in_progress", "actions": [action],
        "output": {"title": "Running", "summary": "...", "annotations": _annotations(50)}},
        oauth_token=token)
    assert run["status"] == "in_progress" and run["conclusion"] is None
    assert run["app"]["id"] == emu.app_id and run["check_suite"]["id"]
    assert [p["number"] for p in run["pull_requests"]] == [number]

    with pytest.raises(gidgethub.BadRequest) as info:  # 51 in one request
        await gh.patch(f"/repos/{REPO}/check-runs/{run['id']}",
                       data={"output": {"title": "t", "summary": "s",
                                        "annotations": _annotations(51)}}, oauth_token=token)
    assert info.value.status_code == 422
    assert any("51 items" in v for v in emu.openapi_violations)
    emu.openapi_violations.clear()

    done = await gh.patch(f"/repos/{REPO}/check-runs/{run['id']}", data={
        "status": "completed", "conclusion": "failure",
        "output": {"title": "2 new SSOT violations", "summary": "table",
                   "annotations": _annotations(30, "app/new.py")}}, oauth_token=token)
    assert done["status"] == "completed" and done["completed_at"]
    assert done["output"]["annotations_count"] == 80
    stored = emu.check_runs(REPO)[0]
    assert stored.conclusion == "failure" and stored.output["title"] == "2 new SSOT violations"
    assert len(stored.output["annotations"]) == 80  # accumulated over both requests
    assert stored.actions == [action]

    await gh.post(f"/repos/{REPO}/check-runs", data={"name": "other", "head_sha": head},
                  oauth_token=token)
    listed = await gh.getitem(f"/repos/{REPO}/commits/{head}/check-runs{{?check_name}}",
                              {"check_name": "SSOT"}, oauth_token=token)
    assert listed["total_count"] == 1 and listed["check_runs"][0]["id"] == run["id"]
    by_branch = await gh.getitem(f"/repos/{REPO}/commits/feature/check-runs", oauth_token=token)
    assert by_branch["total_count"] == 2
    assert (await gh.getitem(f"/repos/{REPO}/check-runs/{run['id']}",
                             oauth_token=token))["conclusion"] == "failure"
    assert emu.openapi_violations == []


# issues, comments, reactions, permissions -----------------------------------------------------

async def test_issue_body_edit_and_comments(gh: gidgethub.aiohttp.GitHubAPI,
                                            emu: GitHubEmulator) -> None:
    now = [time.time()]
    emu.clock = lambda: now[0]
    token = await install_token(gh, emu)
    number = emu.create_issue(REPO, "Tracking", "- [ ] **Step 1**: a\r\n", user="lead")
    before = await gh.getitem(f"/repos/{REPO}/issues/{number}", oauth_token=token)
    now[0] += 5
    after = await gh.patch(f"/repos/{REPO}/issues/{number}",
                           data={"body": "- [x] **Step 1**: a\r\n"}, oauth_token=token)
    assert after["body"] == "- [x] **Step 1**: a\r\n" == emu.issue(REPO, number).body
    assert after["updated_at"] > before["updated_at"]

    for i in range(35):
        emu.add_issue_comment(REPO, number, f"human {i}", user="someone")
    made = await gh.post(f"/repos/{REPO}/issues/{number}/comments",
                         data={"body": "done <!-- ssot-bot:step-done pr=9 steps=1 -->"},
                         oauth_token=token)
    assert made["user"]["login"] == "ssot-bot[bot]"
    assert made["performed_via_github_app"]["id"] == emu.app_id
    bodies = [c["body"] async for c in gh.getiter(f"/repos/{REPO}/issues/{number}/comments",
                                                  oauth_token=token)]
    assert len(bodies) == 36 and bodies[-1].startswith("done")
    assert emu.issue(REPO, number).comments[-1].body == bodies[-1]

    edited = await gh.patch(f"/repos/{REPO}/issues/comments/{made['id']}",
                            data={"body": "edited"}, oauth_token=token)
    assert edited["body"] == "edited"
    fetched = await gh.getitem(f"/repos/{REPO}/issues/comments/{made['id']}", oauth_token=token)
    assert fetched["body"] == "edited"


async def test_reactions(session: aiohttp.ClientSession, base_url: str,
                         gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator) -> None:
    token = await install_token(gh, emu)
    number = edit_service(emu)
    comment = emu.add_issue_comment(REPO, number, "/ssot recheck", user="dev")
    url = f"{base_url}/repos/{REPO}/issues/comments/{comment}/reactions"
    statuses = []
    for content in ("eyes", "eyes", "-1"):
        async with session.post(url, json={"content": content}, headers=auth(token)) as response:
            statuses.append(response.status)
    assert statuses == [201, 200, 201]
    assert [(r.user, r.content) for r in emu.reactions(REPO, comment)] == [
        ("ssot-bot[bot]", "eyes"), ("ssot-bot[bot]", "-1")]
    async with session.post(url, json={"content": "thumbsup"}, headers=auth(token)) as response:
        assert response.status == 422
    assert len(emu.openapi_violations) == 1 and "thumbsup" in emu.openapi_violations[0]


async def test_collaborator_permission(gh: gidgethub.aiohttp.GitHubAPI,
                                       emu: GitHubEmulator) -> None:
    token = await install_token(gh, emu)
    for user, role in (("boss", "admin"), ("keeper", "maintain"), ("dev", "write"),
                       ("helper", "triage")):
        emu.set_permission(REPO, user, role)
    url = f"/repos/{REPO}/collaborators/{{user}}/permission"
    seen = {user: (await gh.getitem(url, {"user": user}, oauth_token=token))
            for user in ("boss", "keeper", "dev", "helper", "stranger")}
    assert {u: d["permission"] for u, d in seen.items()} == {
        "boss": "admin", "keeper": "write", "dev": "write", "helper": "read",
        "stranger": "none"}
    assert seen["keeper"]["role_name"] == "maintain"
    assert seen["dev"]["user"]["login"] == "dev"


# faults, rate limits, request log -------------------------------------------------------------

async def test_fault_injection(session: aiohttp.ClientSession, base_url: str,
                               gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator) -> None:
    token = await install_token(gh, emu)
    url = f"{base_url}/repos/{REPO}/pulls"
    emu.inject("GET", r"/pulls$", status=502)
    statuses = []
    for _ in range(2):
        async with session.get(url, headers=auth(token)) as response:
            statuses.append(response.status)
    assert statuses == [502, 200]
    assert [r.fault for r in emu.requests[-2:]] == [True, False]

    emu.inject("*", r"/pulls", rate_limit="secondary", retry_after=7, times=2)
    for _ in range(2):
        async with session.get(url, headers=auth(token)) as response:
            assert response.status == 403 and response.headers["Retry-After"] == "7"
            assert "secondary rate limit" in (await response.json())["message"]

    emu.inject("GET", r"/pulls", rate_limit="primary", retry_after=30)
    async with session.get(url, headers=auth(token)) as response:
        assert response.status == 403 and response.headers["x-ratelimit-remaining"] == "0"
        assert int(response.headers["x-ratelimit-reset"]) >= int(time.time()) + 29
    with pytest.raises(gidgethub.RateLimitExceeded):  # what gidgethub makes of it
        emu.inject("GET", r"/pulls", rate_limit="primary")
        await gh.getitem(f"/repos/{REPO}/pulls", oauth_token=token)

    emu.inject("POST", r"/check-runs", status=None, delay=0.3)
    started = time.monotonic()
    async with session.post(f"{base_url}/repos/{REPO}/check-runs",
                            json={"name": "x", "head_sha": emu.repo(REPO).branches["main"]},
                            headers=auth(token)) as response:
        assert response.status == 201
    assert time.monotonic() - started >= 0.3


@TIMED
async def test_global_latency_serves_concurrently(
    timed: bool,
    session: aiohttp.ClientSession, base_url: str, gh: gidgethub.aiohttp.GitHubAPI,
    emu: GitHubEmulator,
) -> None:
    token = await install_token(gh, emu)
    emu.latency = 0.2

    async def fetch() -> int:
        async with session.get(f"{base_url}/repos/{REPO}/pulls", headers=auth(token)) as r:
            return r.status

    started = time.monotonic()
    assert await asyncio.gather(*(fetch() for _ in range(10))) == [200] * 10
    took = time.monotonic() - started
    assert took >= 0.2  # the latency is served
    assert took < 1.5 or not timed  # ... concurrently


async def test_rate_limit_headers_and_request_log(
    session: aiohttp.ClientSession, base_url: str, gh: gidgethub.aiohttp.GitHubAPI,
    emu: GitHubEmulator,
) -> None:
    token = await install_token(gh, emu)
    remaining = []
    for _ in range(3):
        async with session.get(f"{base_url}/repos/{REPO}/pulls", params={"state": "all"},
                               headers=auth(token)) as response:
            assert response.headers["x-ratelimit-limit"] == "5000"
            assert response.headers["x-ratelimit-resource"] == "core"
            assert response.headers["Content-Type"] == "application/json; charset=utf-8"
            remaining.append(int(response.headers["x-ratelimit-remaining"]))
    assert remaining == [4999, 4998, 4997]
    last = emu.requests[-1]
    assert (last.method, last.path, last.query, last.status, last.auth) == (
        "GET", f"/repos/{REPO}/pulls", {"state": "all"}, 200, "token")
    assert token not in repr(emu.requests)  # credentials are never recorded


# OpenAPI validation ---------------------------------------------------------------------------

async def test_requests_violating_the_description(
    session: aiohttp.ClientSession, base_url: str, gh: gidgethub.aiohttp.GitHubAPI,
    emu: GitHubEmulator,
) -> None:
    token = await install_token(gh, emu)
    head = emu.repo(REPO).branches["main"]
    async with session.post(f"{base_url}/repos/{REPO}/check-runs",
                            json={"name": "SSOT", "head_sha": head, "status": "running"},
                            headers=auth(token)) as response:
        assert response.status == 422
        body = await response.json()
        assert body["message"].startswith("Invalid request")
    assert emu.check_runs(REPO) == []
    assert len(emu.openapi_violations) == 1
    assert emu.openapi_violations[0].startswith(f"POST /repos/{REPO}/check-runs: ")
    assert "'running' is not one of" in emu.openapi_violations[0]

    action = {"label": "Re-run SSOT", "identifier": "recheck"}  # GitHub requires a description
    async with session.post(f"{base_url}/repos/{REPO}/check-runs",
                            json={"name": "SSOT", "head_sha": head, "actions": [action]},
                            headers=auth(token)) as response:
        assert response.status == 422
    assert "'description' is a required property" in emu.openapi_violations[1]

    async with session.get(f"{base_url}/repos/{REPO}/pulls", params={"state": "merged"},
                           headers=auth(token)) as response:
        assert response.status == 422
    async with session.delete(f"{base_url}/repos/{REPO}/issues/1",
                              headers=auth(token)) as response:
        assert response.status == 404
    async with session.get(f"{base_url}/repos/{REPO}/branches", headers=auth(token)) as response:
        assert response.status == 404
        assert (await response.json())["message"] == "Not Found"
    assert len(emu.openapi_violations) == 5
    assert emu.openapi_violations[-1] == (
        f"GET /repos/{REPO}/branches: endpoint not in the OpenAPI description")


async def test_without_a_description_github_rules_still_hold(
    session: aiohttp.ClientSession,
) -> None:
    emu = GitHubEmulator(None)  # what the demo does: the description is not packaged
    emu.add_installation(INSTALLATION, "acme")
    emu.add_repo(REPO, BASE_FILES, installation_id=INSTALLATION)
    token = emu.issue_token(INSTALLATION)
    head = emu.repo(REPO).branches["main"]
    async with EmulatorServer(emu) as base_url:
        async with session.post(f"{base_url}/repos/{REPO}/check-runs", headers=auth(token),
                                json={"name": "SSOT", "head_sha": head,
                                      "output": {"title": "t", "summary": "s",
                                                 "annotations": _annotations(5)}}) as response:
            run_id = (await response.json())["id"]
        async with session.patch(f"{base_url}/repos/{REPO}/check-runs/{run_id}",
                                 headers=auth(token),
                                 json={"status": "completed", "conclusion": "success",
                                       "output": {"title": "t", "summary": "s",
                                                  "annotations": _annotations(51)}}) as response:
            assert response.status == 422
        async with session.get(f"{base_url}/repos/{REPO}/nothing",
                               headers=auth(token)) as response:
            assert response.status == 404
    run = emu.check_runs(REPO)[0]
    assert run.status == "queued" and len(run.output["annotations"]) == 5  # refused: unchanged
    assert emu.openapi_violations == [f"GET /repos/{REPO}/nothing: endpoint not in the OpenAPI "
                                      "description"]


# webhooks -------------------------------------------------------------------------------------

async def test_webhook_delivery_is_signed(emu: GitHubEmulator) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(status=202)

    receiver = web.Application()
    receiver.router.add_post("/api/github/webhooks", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        number = edit_service(emu)
        payload = emu.payload_pull_request(REPO, number, "opened")
        status = await emu.deliver(f"http://127.0.0.1:{port}/api/github/webhooks", "s3cret",
                                   "pull_request", payload, delivery_id="d-1")
    finally:
        await runner.cleanup()
    assert status == 202
    headers, body = received[0]
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Hub-Signature-256"], f"sha256={expected}")
    assert headers["X-GitHub-Event"] == "pull_request"
    assert headers["X-GitHub-Delivery"] == "d-1"
    assert headers["User-Agent"].startswith("GitHub-Hookshot/")
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == payload


def test_payloads_follow_state_and_carry_the_installation(emu: GitHubEmulator) -> None:
    number = edit_service(emu)
    head = emu.head_sha(REPO, number)
    opened = emu.payload_pull_request(REPO, number, "opened")
    webhooks = Path(__file__).parent.parent / "data" / "webhooks"
    real = json.loads((webhooks / "pull_request.opened.json").read_text())
    assert set(real["pull_request"]) <= set(opened["pull_request"])
    assert set(real["repository"]) <= set(opened["repository"]) | {"custom_properties"}
    assert opened["installation"]["id"] == INSTALLATION and opened["installation"]["node_id"]
    assert opened["number"] == number and opened["pull_request"]["head"]["sha"] == head
    assert opened["pull_request"]["body"] == "SSOT-Step: 4"
    assert opened["repository"]["full_name"] == REPO and opened["sender"]["login"] == "octocat"

    new_head = emu.commit(REPO, "feature", {"app/x.py": "pass\n"})
    sync = emu.payload_pull_request(REPO, number, "synchronize", before=head, after=new_head)
    assert sync["before"] == head and sync["pull_request"]["head"]["sha"] == new_head

    emu.merge_pull_request(REPO, number, merged_by="maintainer")
    closed = emu.payload_pull_request(REPO, number, "closed")
    assert closed["pull_request"]["merged"] is True
    assert closed["sender"]["login"] == "maintainer"

    comment = emu.add_issue_comment(REPO, number, "/ssot recheck", user="dev")
    event = emu.payload_issue_comment(REPO, number, comment)
    assert event["comment"]["body"] == "/ssot recheck" and event["comment"]["id"] == comment
    assert event["issue"]["number"] == number and "pull_request" in event["issue"]
    assert event["sender"]["login"] == "dev" and event["installation"]["id"] == INSTALLATION

    suite = emu.payload_check_suite(REPO, new_head)
    assert suite["check_suite"]["head_sha"] == new_head
    assert suite["installation"]["id"] == INSTALLATION


async def test_check_run_payload(gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator) -> None:
    token = await install_token(gh, emu)
    number = edit_service(emu)
    head = emu.head_sha(REPO, number)
    run = await gh.post(f"/repos/{REPO}/check-runs", data={"name": "SSOT", "head_sha": head},
                        oauth_token=token)
    event = emu.payload_check_run(REPO, run["id"], "requested_action",
                                  requested_action_identifier="recheck")
    assert event["requested_action"] == {"identifier": "recheck"}
    assert event["check_run"]["id"] == run["id"] and event["check_run"]["head_sha"] == head
    assert event["check_run"]["app"]["id"] == emu.app_id
    assert [p["number"] for p in event["check_run"]["pull_requests"]] == [number]
    assert event["installation"]["id"] == INSTALLATION


# the lead's client against the emulator, and a plain asyncio program ----------------------------

async def test_bot_client_round_trip(session: aiohttp.ClientSession, base_url: str,
                                     emu: GitHubEmulator) -> None:
    from bot.github.client import GitHub

    number = edit_service(emu)
    github = GitHub(session, api_url=base_url, app_id=str(emu.app_id),
                    private_key=emu.private_key_pem)
    repo = github.repo(INSTALLATION, REPO)
    assert await repo.file_at("app/other.py", "main") == b"a = 1\n"
    assert await repo.file_at("nope.py", "main") is None
    files = await repo.pull_files(number)
    assert {f["filename"] for f in files} == {"app/service.py", "app/new.py"}
    assert await repo.blob(files[0]["sha"]) == emu.blobs[files[0]["sha"]]
    assert await repo.permission("stranger") == "none"
    assert emu.openapi_violations == []


def test_usable_from_a_plain_asyncio_program() -> None:
    async def main() -> int:
        emu = make_emulator()
        async with EmulatorServer(emu) as url, aiohttp.ClientSession() as session, \
                session.get(f"{url}/app") as response:
            assert emu.base_url == url
            return response.status

    assert asyncio.run(main()) == 401
