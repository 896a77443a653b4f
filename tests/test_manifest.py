"""app.yaml lists exactly the events the routers register and the permissions the calls need."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from bot.cli import main
from bot.handlers import router
from bot.manifest import build_manifest

ROOT = Path(__file__).resolve().parent.parent

# Which permission each REST path the bot calls needs (GitHub's docs, "Permissions required for
# GitHub Apps"). A new call in bot/github/client.py must be added here, or this test fails.
PERMISSION_FOR = [
    (r"^/repos/\{owner\}/\{repo\}/pulls", ("pull_requests", "read")),
    (r"^/repos/\{owner\}/\{repo\}/pulls/\{n\}/(reviews|comments)", ("pull_requests", "write")),
    (r"^/repos/\{owner\}/\{repo\}/contents/", ("contents", "read")),
    (r"^/repos/\{owner\}/\{repo\}/git/(blobs|trees)/", ("contents", "read")),
    (r"^/repos/\{owner\}/\{repo\}/check-runs", ("checks", "write")),
    (r"^/repos/\{owner\}/\{repo\}/commits/\{ref\}/check-runs", ("checks", "read")),
    (r"^/repos/\{owner\}/\{repo\}/pulls/comments/\{id\}", ("pull_requests", "write")),
    (r"^/repos/\{owner\}/\{repo\}/issues", ("issues", "write")),
    (r"^/repos/\{owner\}/\{repo\}/collaborators/", ("metadata", "read")),
    (r"^/repos/\{owner\}/\{repo\}$", ("metadata", "read")),
    (r"^/repos/\{owner\}/\{repo\}/(git/trees|tarball|compare)/", ("contents", "read")),
]
LEVEL = {"read": 1, "write": 2}


def registered_events() -> set[str]:
    return set(router._shallow_routes) | set(router._deep_routes)


# GitHub sends these to every App without a subscription (they are not events an App picks)
ALWAYS_DELIVERED = {"installation", "installation_repositories"}


def test_events_match_the_routers_exactly() -> None:
    manifest = yaml.safe_load((ROOT / "app.yaml").read_text())
    assert set(manifest["default_events"]) == registered_events() - ALWAYS_DELIVERED
    assert registered_events() >= ALWAYS_DELIVERED  # the store is purged on uninstall


def test_every_api_call_is_covered_by_a_permission() -> None:
    manifest = yaml.safe_load((ROOT / "app.yaml").read_text())
    granted = manifest["default_permissions"]
    source = (ROOT / "bot" / "github" / "client.py").read_text()
    urls = set(re.findall(r'"(/repos/[^"]+)"', source))
    assert len(urls) >= 12, urls
    for url in sorted(urls):
        needs = [perm for pattern, perm in PERMISSION_FOR if re.search(pattern, url)]
        assert needs, f"no permission known for {url}: add it to PERMISSION_FOR"
        for name, level in needs:
            assert LEVEL[granted.get(name, "none")] >= LEVEL[level] if granted.get(name) in LEVEL \
                else False, f"{url} needs {name}: {level}"
    assert set(granted) == {"checks", "pull_requests", "issues", "contents", "metadata"}


def test_manifest_command_prints_json_with_the_url(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["manifest", "--url", "https://bot.example.com/"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == build_manifest("https://bot.example.com")
    assert printed["hook_attributes"]["url"] == "https://bot.example.com/api/github/webhooks"
    assert printed["default_permissions"]["checks"] == "write"


def test_manifest_rejects_a_bad_url(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["manifest", "--url", "ftp://nope"]) == 2
    assert "--url" in capsys.readouterr().err
