"""``ssot-bot demo``: the seed's story, offline, end to end.

Starts the GitHub emulator and the real webhook service on loopback (no network, no
credentials), loads the example repository and the seed tracking issue (package data,
``bot/data/demo/``, which the repository's ``examples/`` points to), and plays it: a PR
that brings back the legacy WebSocketManager (check run, inline review with suggestions), a
``/ssot recheck``, then the PR linked to Step 1 merging (the tracking issue's diff).
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import importlib.util
import logging
import os
import secrets
import sys
import time
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from bot.github.retry import RetryPolicy
from bot.handlers import router
from bot.service.app import serving
from bot.service.context import Bot
from bot.settings import Settings
from ssot_emulator import OPENAPI_SUBSET, EmulatorServer, GitHubEmulator

DEMO_DATA = resources.files("bot") / "data" / "demo"
EXAMPLE = DEMO_DATA / "netra-apex"
SEED_ISSUE = DEMO_DATA / "tracking-issue-1103.md"
SPEC = OPENAPI_SUBSET
REPO = "netra-systems/netra-apex"
INSTALLATION = 1103
FACTORY = "netra_backend/app/agents/supervisor/agent_instance_factory.py"
LEGACY_IMPORT = "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager"
BRIDGE_IMPORT = "from netra_backend.app.services.agent_websocket_bridge import AgentWebSocketBridge"


class DemoError(Exception):
    """The story did not go as it should: the demo exits 1 with this message."""


def example_files(root: Traversable = EXAMPLE) -> dict[str, bytes]:
    """Every file under ``root`` (a directory or package data), by ``/``-separated path."""
    files: dict[str, bytes] = {}

    def walk(folder: Traversable, prefix: str) -> None:
        for child in folder.iterdir():
            if child.name == "__pycache__":
                continue
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.is_file():
                files[prefix + child.name] = child.read_bytes()

    walk(root, "")
    return dict(sorted(files.items()))


def factory_before(files: dict[str, bytes]) -> bytes:
    """The factory before the regression: only the bridge, at lines 46 and 98."""
    lines = files[FACTORY].decode("utf-8").split("\n")
    if lines[45] != LEGACY_IMPORT:
        raise DemoError(f"{FACTORY}: line 46 is not the seed's legacy import")
    lines[45] = BRIDGE_IMPORT
    lines[97] = lines[97].replace("Optional[WebSocketManager]", "Optional[AgentWebSocketBridge]")
    return "\n".join(lines).encode("utf-8")


@dataclass
class Style:
    color: bool

    def _c(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def head(self, text: str) -> str:
        return self._c("1;36", text)

    def dim(self, text: str) -> str:
        return self._c("2", text)

    def red(self, text: str) -> str:
        return self._c("31", text)

    def green(self, text: str) -> str:
        return self._c("32", text)

    def bold(self, text: str) -> str:
        return self._c("1", text)


class Story:
    def __init__(self, style: Style, out: Any = None) -> None:
        self.s = style
        self.out = out or sys.stdout
        self.step = 0

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def chapter(self, title: str) -> None:
        self.step += 1
        self.say()
        self.say(self.s.head(f"── {self.step}. {title}"))

    def quote(self, body: str, indent: str = "     │ ") -> None:
        for line in body.rstrip("\n").split("\n"):
            if line.startswith("<!--"):
                line = self.s.dim(line)
            self.say(indent + line)


async def _deliver(story: Story, emu: GitHubEmulator, bot: Bot, url: str, secret: str,
                   event: str, payload: dict[str, Any]) -> None:
    started = time.perf_counter()
    status = await emu.deliver(url, secret, event, payload)
    took = (time.perf_counter() - started) * 1000
    story.say(story.s.dim(f"   webhook {event}.{payload.get('action')} -> HTTP {status} "
                          f"in {took:.1f} ms; analysis runs in the background"))
    if status != 202:
        raise DemoError(f"the service answered {status} to {event}")
    await bot.idle()


def _show_check_run(story: Story, emu: GitHubEmulator, index: int = -1) -> Any:
    run = emu.check_runs(REPO)[index]
    verdict = (story.s.red if run.conclusion == "failure" else story.s.green)(
        f"{run.conclusion}")
    story.say(f"   check run {story.s.bold(run.name)} on {run.head_sha[:7]}: {verdict} - "
              f"{run.output['title']}")
    for a in run.output.get("annotations") or []:
        story.say(f"     {a['annotation_level']:>7}  {a['path']}:{a['start_line']}  "
                  f"{a['title']}")
    return run


def load(example: Traversable = EXAMPLE,
         seed_issue: Traversable = SEED_ISSUE) -> tuple[dict[str, bytes], str]:
    """The example repository's files and the seed tracking issue's body (package data)."""
    if not example.is_dir() or not seed_issue.is_file():
        raise DemoError(f"the demo data is missing from this installation of ssot-bot "
                        f"({example}, {seed_issue}): reinstall it")
    return example_files(example), seed_issue.read_bytes().decode("utf-8")


async def play(story: Story, files: dict[str, bytes], seed: str, *,
               spec: Path | None = None) -> int:
    s = story.s
    base = dict(files)
    base[FACTORY] = factory_before(files)
    emu = GitHubEmulator(spec)
    emu.add_installation(INSTALLATION, REPO.split("/")[0])
    emu.add_repo(REPO, base, installation_id=INSTALLATION)
    issue = emu.create_issue(REPO, "SSOT Regression: WebSocket Factory Fragmentation Blocking "
                                   "Golden Path", seed, user="netra-lead")
    secret = secrets.token_hex(16)
    started = time.perf_counter()
    async with EmulatorServer(emu) as api_url:
        settings = Settings(webhook_secrets=(secret,), app_id=str(emu.app_id),
                            private_key=emu.private_key_pem, api_url=api_url, workers=1)
        bot = Bot(settings, retry=RetryPolicy(base_delay=0.05, max_delay=0.5))
        async with serving(bot, router) as url:
            story.say(s.bold("ssot-bot demo") + s.dim(
                f" - GitHub emulator at {api_url}, ssot-bot at {url} (loopback only)"))
            story.say(s.dim(f"   repository {REPO}: examples/netra-apex, tracking issue "
                            f"#{issue} (the seed), rules: the bundled config/ssot.yml"))
            try:
                await _story(story, emu, bot, url, secret, files, issue)
            finally:
                await bot.idle()
    story.say()
    checked = "; every request matched GitHub's OpenAPI description" if spec else ""
    story.say(s.green("done") + f" in {time.perf_counter() - started:.1f} s: "
              f"{len(emu.requests)} GitHub API requests{checked}.")
    if emu.openapi_violations:
        raise DemoError("requests that GitHub would refuse: " + "; ".join(emu.openapi_violations))
    return 0


async def _story(story: Story, emu: GitHubEmulator, bot: Bot, url: str, secret: str,
                 files: dict[str, bytes], issue: int) -> None:
    s = story.s
    # 1. the regression PR
    emu.commit(REPO, "factory-websocket-manager", {FACTORY: files[FACTORY]})
    pr = emu.open_pull_request(
        REPO, "factory-websocket-manager", title="Agent factory: wire WebSocketManager directly",
        body="Quick fix for dropped events: use the manager directly in the factory.",
        user="dev-alice")
    story.chapter(f"Pull request #{pr} opened by @dev-alice: it brings back WebSocketManager "
                  f"in {FACTORY.rsplit('/', 1)[1]} (lines 46 and 98)")
    await _deliver(story, emu, bot, url, secret, "pull_request",
                   emu.payload_pull_request(REPO, pr, "opened"))
    run = _show_check_run(story, emu)
    reviews = emu.reviews(REPO, pr)
    if run.conclusion != "failure" or len(reviews) != 1:
        raise DemoError("expected a failing check run and one review")
    review = reviews[0]
    story.say(f"   review by {emu.bot_login} ({review.event}) with "
              f"{len(review.comments)} inline comments:")
    for c in review.comments:
        story.say(s.bold(f"   ┌ {c.path}:{c.line}"))
        story.quote(c.body)
    lines = {c.line for c in review.comments if c.line is not None}
    if not {46, 98} <= lines:
        raise DemoError(f"expected inline comments at lines 46 and 98, got {sorted(lines)}")

    # 2. /ssot recheck
    comment = emu.add_issue_comment(REPO, pr, "Fixed the flaky test, please look again.\n\n"
                                              "/ssot recheck", user="dev-alice")
    story.chapter(f"@dev-alice comments `/ssot recheck` on #{pr}")
    await _deliver(story, emu, bot, url, secret, "issue_comment",
                   emu.payload_issue_comment(REPO, pr, comment))
    reactions = [r.content for r in emu.reactions(REPO, comment)]
    story.say(f"   reaction on the comment: {', '.join(reactions) or 'none'}")
    _show_check_run(story, emu)
    story.say(f"   reviews on #{pr}: still {len(emu.reviews(REPO, pr))} "
              "(every finding was already commented: nothing is said twice)")
    if "eyes" not in reactions or len(emu.check_runs(REPO)) != 2:
        raise DemoError("expected an eyes reaction and a second check run")

    # 3. the Step 1 PR merges
    emu.commit(REPO, "ssot-step-1", {
        "tests/mission_critical/test_websocket_factory_ssot.py":
            "def test_factory_uses_only_the_bridge():\n    ...\n"})
    step_pr = emu.open_pull_request(
        REPO, "ssot-step-1", title="Step 1: discover and plan WebSocket factory SSOT tests",
        body=f"Test inventory and plan.\n\nSSOT-Tracking: #{issue}\nSSOT-Step: 1\n",
        user="dev-bob")
    story.chapter(f"Pull request #{step_pr} (SSOT-Tracking: #{issue}, SSOT-Step: 1) opens "
                  "and is merged")
    await _deliver(story, emu, bot, url, secret, "pull_request",
                   emu.payload_pull_request(REPO, step_pr, "opened"))
    before = emu.issue(REPO, issue).body or ""
    emu.merge_pull_request(REPO, step_pr, merged_by="netra-lead")
    await _deliver(story, emu, bot, url, secret, "pull_request",
                   emu.payload_pull_request(REPO, step_pr, "closed"))
    after = emu.issue(REPO, issue).body or ""
    story.say(f"   tracking issue #{issue}, what changed:")
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), "before", "after",
                                     n=1, lineterm=""))
    for line in diff[2:]:
        if line.startswith("+"):
            line = s.green(line)
        elif line.startswith("-"):
            line = s.red(line)
        elif line.startswith("@@"):
            line = s.dim(line)
        story.say("     " + line)
    comments = emu.issue(REPO, issue).comments
    story.say(f"   comment on #{issue} by {emu.bot_login}:")
    for note in comments:
        story.quote(note.body)
    if "- [x] **Step 1**" not in after or len(comments) != 1:
        raise DemoError("expected Step 1 ticked and one comment on the tracking issue")


def demo_main(args: argparse.Namespace) -> int:
    color = (not getattr(args, "no_color", False) and sys.stdout.isatty()
             and "NO_COLOR" not in os.environ)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("bot").setLevel(logging.ERROR)
    try:
        files, seed = load()
        # With the test extra installed (openapi-core), every request is checked against
        # GitHub's OpenAPI description, as in the tests.
        checkable = SPEC.is_file() and importlib.util.find_spec("openapi_core") is not None
        return asyncio.run(play(Story(Style(color)), files, seed,
                                spec=SPEC if checkable else None))
    except DemoError as exc:
        print(f"ssot-bot demo: {exc}", file=sys.stderr)
        return 1
