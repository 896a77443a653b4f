"""The emulator's endpoints for the catch-up pass and fixed comments (docs/behaviour.md §12),
driven over HTTP as GitHub is: installations, installation repositories, PRs sorted by update,
check runs by App, review comment get/edit, per-installation rate-limit buckets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import gidgethub
import gidgethub.aiohttp
import pytest
from gidgethub import apps

from ssot_emulator import EmulatorServer, GitHubEmulator
from ssot_emulator.state import CheckRun
from tests.emulator.test_emulator import (
    INSTALLATION,
    REPO,
    edit_service,
    install_token,
    make_emulator,
)


@pytest.fixture
def emu() -> GitHubEmulator:
    return make_emulator()


@pytest.fixture
async def gh(emu: GitHubEmulator) -> AsyncIterator[gidgethub.aiohttp.GitHubAPI]:
    async with EmulatorServer(emu) as url, aiohttp.ClientSession() as session:
        yield gidgethub.aiohttp.GitHubAPI(session, "emulator-tests", base_url=url)
    assert emu.response_violations == []


async def test_installations_and_their_repositories_page_like_github(
    gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator
) -> None:
    emu.add_installation(78, "other")
    emu.add_repo("other/one", {"a": "1"}, installation_id=78)
    emu.add_repo("other/two", {"a": "1"}, installation_id=78)
    jwt = apps.get_jwt(app_id=str(emu.app_id), private_key=emu.private_key_pem)
    listed = [i async for i in gh.getiter("/app/installations?per_page=1", jwt=jwt)]
    assert [(i["id"], i["app_id"], i["account"]["login"]) for i in listed] == [
        (INSTALLATION, emu.app_id, "acme"), (78, emu.app_id, "other")]
    token = await install_token(gh, emu, 78)
    repos = [r["full_name"] async for r in gh.getiter(
        "/installation/repositories?per_page=1", oauth_token=token,
        iterable_key="repositories")]
    assert repos == ["other/one", "other/two"]
    with pytest.raises(gidgethub.BadRequest):  # an installation token, not the JWT
        await gh.getitem("/installation/repositories", jwt=jwt)
    assert emu.openapi_violations == []


async def test_pulls_sorted_by_update_and_check_runs_by_app(
    gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator
) -> None:
    first = edit_service(emu, "one")
    second = edit_service(emu, "two")
    emu.commit(REPO, "one", {"README.md": "pushed\n"})  # a push updates PR `first`
    emu.issue(REPO, first).updated_at += 5
    token = await install_token(gh, emu)
    url = f"/repos/{REPO}/pulls?state=all&sort=updated&direction=desc"
    assert [p["number"] for p in await gh.getitem(url, oauth_token=token)] == [first, second]
    asc = await gh.getitem(f"/repos/{REPO}/pulls?sort=updated", oauth_token=token)
    assert [p["number"] for p in asc] == [second, first]  # GitHub: asc unless sort=created

    head = emu.head_sha(REPO, first)
    suite = emu.check_suite(REPO, head)
    for app_id in (None, 99):
        emu.add_check_run(REPO, CheckRun(emu.next_id(), f"run-{app_id}", head, suite.id,
                                         "completed", "success", 0.0, 1.0,
                                         {"annotations": []}, [], app_id=app_id))
    runs = await gh.getitem(f"/repos/{REPO}/commits/{head}/check-runs", oauth_token=token)
    assert sorted(r["app"]["id"] for r in runs["check_runs"]) == [99, emu.app_id]
    mine = await gh.getitem(f"/repos/{REPO}/commits/{head}/check-runs?app_id={emu.app_id}",
                            oauth_token=token)
    assert [r["name"] for r in mine["check_runs"]] == ["run-None"]
    assert emu.openapi_violations == []


async def test_review_comments_are_read_and_edited_only_by_their_author(
    gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator
) -> None:
    number = edit_service(emu)
    theirs = emu.add_review_comment(REPO, number, "app/new.py", 1, "mine", user="mallory")
    token = await install_token(gh, emu)
    got = await gh.getitem(f"/repos/{REPO}/pulls/comments/{theirs}", oauth_token=token)
    assert (got["user"]["login"], got["user"]["type"], got["body"]) == ("mallory", "User",
                                                                        "mine")
    with pytest.raises(gidgethub.BadRequest) as refused:
        await gh.patch(f"/repos/{REPO}/pulls/comments/{theirs}", data={"body": "x"},
                       oauth_token=token)
    assert refused.value.status_code == 403
    ours = await gh.post(f"/repos/{REPO}/pulls/{number}/comments", oauth_token=token, data={
        "body": "bot", "commit_id": emu.head_sha(REPO, number), "path": "app/new.py",
        "line": 2, "side": "RIGHT"})
    edited = await gh.patch(f"/repos/{REPO}/pulls/comments/{ours['id']}",
                            data={"body": "✅ Fixed"}, oauth_token=token)
    assert edited["body"] == "✅ Fixed" and edited["user"]["login"] == emu.bot_login
    assert emu.review_comment(REPO, ours["id"]).body == "✅ Fixed"
    with pytest.raises(gidgethub.BadRequest):
        await gh.getitem(f"/repos/{REPO}/pulls/comments/999999", oauth_token=token)
    assert emu.openapi_violations == []


async def test_an_installation_bucket_is_shared_by_its_tokens_and_enforced(
    gh: gidgethub.aiohttp.GitHubAPI, emu: GitHubEmulator
) -> None:
    emu.enforce_rate_limits = True
    emu.set_rate_limit(INSTALLATION, 2, reset_in=60)
    one, two = await install_token(gh, emu), await install_token(gh, emu)
    await gh.getitem(f"/repos/{REPO}/pulls", oauth_token=one)
    assert gh.rate_limit is not None and gh.rate_limit.remaining == 1
    await gh.getitem(f"/repos/{REPO}/pulls", oauth_token=two)  # the same bucket
    with pytest.raises(gidgethub.RateLimitExceeded):
        await gh.getitem(f"/repos/{REPO}/pulls", oauth_token=one)
    assert emu.requests[-1].status == 403
