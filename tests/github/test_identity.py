"""Only the App's own comments count: AppIdentity.wrote, and GET /app through the emulator."""

from __future__ import annotations

from bot.github.client import AppIdentity
from tests.integration.harness import INSTALLATION, REPO, running

APP = AppIdentity(4242, "ssot-bot")


def test_issue_comment_by_the_app_via_performed_via_github_app() -> None:
    assert APP.wrote({"performed_via_github_app": {"id": 4242}, "user": {"login": "x"}})
    assert not APP.wrote({"performed_via_github_app": {"id": 1}, "user": {"login": "x"}})


def test_review_comment_by_the_apps_bot_user() -> None:
    assert APP.wrote({"user": {"login": "ssot-bot[bot]", "type": "Bot"}})
    assert APP.wrote({"user": {"login": "SSOT-Bot[bot]", "type": "Bot"}})


def test_anyone_else_never_counts() -> None:
    assert not APP.wrote({"user": {"login": "mallory", "type": "User"}})
    assert not APP.wrote({"user": {"login": "other-app[bot]", "type": "Bot"}})
    assert not APP.wrote({"user": {"login": "ssot-bot[bot]", "type": "User"}})
    assert not APP.wrote({"performed_via_github_app": None, "user": None})
    assert not APP.wrote(None)


async def test_identity_is_read_once_from_get_app() -> None:
    async with running() as h:
        repo = h.bot.repo(INSTALLATION, REPO)
        first = await repo.identity()
        second = await repo.identity()
        assert first == second == AppIdentity(h.emu.app_id, "ssot-bot")
        assert len([r for r in h.emu.requests if r.method == "GET" and r.path == "/app"]) == 1
