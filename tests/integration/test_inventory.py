"""The inventory end to end (docs/behaviour.md §11): pushes to the default branch and
`/ssot inventory` keep the tracking issue's block true, through the real service and the
emulator (tarball via a codeload redirect, contents, compare)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.inventory.block import END, START, parse_history
from bot.state.store import open_store
from tests.integration.harness import DATA, REPO, Harness, example_files, running

SEED = (DATA / "tracking-issue-1103.md").read_bytes().decode("utf-8")
BUNDLED = (Path(__file__).resolve().parents[2] / "config" / "ssot.yml").read_text("utf-8")
LEGACY = "netra_backend.app.websocket_core.websocket_manager"
EXTRA = "netra_backend/app/agents/triage_two.py"
EXTRA_TEXT = f"from {LEGACY} import WebSocketManager\n\n\ndef make():\n    return 1\n"
FIXED_TEXT = "def make():\n    return 1\n"


def config(issue: int, extra: str = "") -> str:
    return (BUNDLED + f"\ntracking:\n  inventory:\n    - issue: {issue}\n"
            f"      rules: [ws-legacy-import, ws-legacy-annotation, ws-dual-pattern]\n" + extra)


def seed_tracking(h: Harness, tmp_path: Path) -> int:
    """A store under ``tmp_path``, the seed tracking issue, and ``main``'s configuration giving
    it an inventory (no webhook sent); the issue's number."""
    h.bot.store = open_store(tmp_path)
    issue = h.emu.create_issue(REPO, "Tracking", SEED)
    h.emu.commit(REPO, "main", {".github/ssot.yml": config(issue)})
    return issue


def block_of(body: str) -> str:
    start = body.index(START)
    return body[start:body.index(END) + len(END)]


async def push(h: Harness, files: dict[str, str | bytes | None], *,
               settle: bool = True, delivery_id: str | None = None) -> str:
    before = h.emu.repo(REPO).branches["main"]
    after = h.emu.commit(REPO, "main", files)
    await h.send("push", h.emu.payload_push(REPO, before, after), settle=settle,
                 delivery_id=delivery_id)
    return after


async def setup(h: Harness, tmp_path: Path, body: str = SEED,
                extra_config: str = "") -> tuple[int, str]:
    h.bot.store = open_store(tmp_path)
    issue = h.emu.create_issue(REPO, "SSOT Regression: WebSocket Factory Fragmentation", body)
    sha = await push(h, {".github/ssot.yml": config(issue, extra_config), EXTRA: EXTRA_TEXT})
    return issue, sha


async def test_first_push_creates_the_block_and_a_fix_lowers_it(tmp_path: Path) -> None:
    async with running() as h:
        issue, first = await setup(h, tmp_path)
        body = h.emu.issue(REPO, issue).body or ""
        assert body.startswith(SEED)  # every byte of the seed kept, the block appended
        assert body[len(SEED):].startswith("\n" if SEED.endswith("\n") else "\n\n")
        block = block_of(body)
        assert body.endswith(block)
        assert f"**5 violations left** at [`{first[:7]}`]" in block
        assert "| `ws-legacy-import` | 2 |" in block
        assert "| `ws-legacy-annotation` | 2 |" in block
        link = (f"{h.emu.shapes.html()}/{REPO}/blob/{first}/netra_backend/app/agents/supervisor/"
                "agent_instance_factory.py#L46")
        assert ("- **4** in [`netra_backend/app/agents/supervisor/agent_instance_factory.py`]"
                f"({link})") in block
        assert "mermaid" not in block  # one point: no chart yet
        assert [p.total for p in parse_history(body)] == [5]
        assert len(h.calls("GET", "/tarball/")) == 1
        assert len(h.calls("GET", "/_codeload/")) == 1

        # a push that fixes the extra file: only that file is read, the counts go down
        before_requests = len(h.emu.requests)
        second = await push(h, {EXTRA: FIXED_TEXT})
        made = h.emu.requests[before_requests:]
        assert [r.path for r in made if "/contents/" in r.path] == [
            f"/repos/{REPO}/contents/{EXTRA}"]
        assert not any("/tarball/" in r.path or "/compare/" in r.path for r in made)
        body = h.emu.issue(REPO, issue).body or ""
        assert body.startswith(SEED)
        assert f"**4 violations left** at [`{second[:7]}`]" in body
        assert "(1 fewer than before)" in body
        history = parse_history(body)
        assert [(p.sha, p.total) for p in history] == [(first, 5), (second, 4)]
        assert body.count(START) == 1 and body.count(END) == 1

        # a redelivered push adds no point and no write
        writes = len(h.calls("PATCH", f"/issues/{issue}"))
        await h.send("push", h.emu.payload_push(REPO, first, second))
        assert len(h.calls("PATCH", f"/issues/{issue}")) == writes
        assert len(parse_history(h.emu.issue(REPO, issue).body)) == 2
        assert h.emu.issue(REPO, issue).comments == []


async def test_crlf_body_without_final_newline_keeps_every_byte(tmp_path: Path) -> None:
    seed = SEED.replace("\n", "\r\n").rstrip("\r\n")
    async with running() as h:
        issue, _ = await setup(h, tmp_path, body=seed)
        body = h.emu.issue(REPO, issue).body or ""
        assert body.startswith(seed + "\r\n\r\n" + START)
        block = block_of(body)
        assert "\n" not in block.replace("\r\n", "")
        # text written after the block by a person stays too
        h.emu.update_issue(REPO, issue, body=body + "\r\nA note below.")
        await push(h, {EXTRA: FIXED_TEXT})
        body = h.emu.issue(REPO, issue).body or ""
        assert body.startswith(seed + "\r\n\r\n" + START)
        assert body.endswith(END + "\r\nA note below.")


async def test_a_step_tick_during_an_inventory_edit_survives(tmp_path: Path) -> None:
    async with running() as h:
        issue, _ = await setup(h, tmp_path)
        number = await h.open_pr({"tests/test_factory.py": "def test_x():\n    pass\n"},
                                 body=f"SSOT-Tracking: #{issue}\nSSOT-Step: 1\n")
        # the inventory's write is slow; the merge's tick arrives meanwhile
        h.emu.inject("PATCH", rf"/issues/{issue}$", status=None, delay=0.3)
        h.emu.merge_pull_request(REPO, number)
        pushing = push(h, {EXTRA: FIXED_TEXT}, settle=False)
        merging = h.send("pull_request", h.emu.payload_pull_request(REPO, number, "closed"),
                         settle=False)
        await asyncio.gather(pushing, merging)
        await h.bot.idle()
        body = h.emu.issue(REPO, issue).body or ""
        assert "- [x] **Step 1**" in body
        assert "violations left" in block_of(body)
        assert len([c for c in h.emu.issue(REPO, issue).comments
                    if "step-done" in c.body]) == 1


async def test_zero_posts_one_comment_once(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": "", "pkg/old.py": EXTRA_TEXT}
    async with running(files) as h:
        h.bot.store = open_store(tmp_path)
        issue = h.emu.create_issue(REPO, "Tracking", "Steps\n")
        await push(h, {".github/ssot.yml": config(issue).replace(
            "netra_backend/app/agents/**", "**")})
        assert "**1 violation left**" in (h.emu.issue(REPO, issue).body or "")
        fixed = await push(h, {"pkg/old.py": FIXED_TEXT}, delivery_id="fix")
        comments = h.emu.issue(REPO, issue).comments
        assert len(comments) == 1
        assert f"<!-- ssot-bot:inventory-clear sha={fixed} -->" in comments[0].body
        assert "**0 violations left**" in (h.emu.issue(REPO, issue).body or "")
        # the same push again, and a push that leaves it at 0: nothing more said
        await h.send("push", h.emu.payload_push(REPO, fixed, fixed), delivery_id="fix-again")
        await push(h, {"pkg/other.py": "x = 1\n"})
        assert len(h.emu.issue(REPO, issue).comments) == 1
        assert [p.total for p in parse_history(h.emu.issue(REPO, issue).body)] == [1, 0, 0]


async def test_inventory_command_needs_write_permission(tmp_path: Path) -> None:
    async with running() as h:
        issue = seed_tracking(h, tmp_path)
        h.emu.set_permission(REPO, "drive-by", "read")
        h.emu.set_permission(REPO, "maintainer", "write")
        refused = h.emu.add_issue_comment(REPO, issue, "/ssot inventory", user="drive-by")
        await h.send("issue_comment", h.emu.payload_issue_comment(REPO, issue, refused))
        assert [r.content for r in h.emu.reactions(REPO, refused)] == ["-1"]
        assert h.emu.issue(REPO, issue).body == SEED

        allowed = h.emu.add_issue_comment(REPO, issue, "/ssot inventory", user="maintainer")
        await h.send("issue_comment", h.emu.payload_issue_comment(REPO, issue, allowed))
        assert [r.content for r in h.emu.reactions(REPO, allowed)] == ["eyes"]
        head = h.emu.repo(REPO).branches["main"]
        body = h.emu.issue(REPO, issue).body or ""
        assert f"**4 violations left** at [`{head[:7]}`]" in body
        assert len(h.calls("GET", f"/repos/{REPO}/tarball/")) == 1

        # a restart (a new store object on the same files) does not rescan
        h.bot.store = open_store(tmp_path)
        again = h.emu.add_issue_comment(REPO, issue, "/ssot inventory", user="maintainer")
        await h.send("issue_comment", h.emu.payload_issue_comment(REPO, issue, again))
        assert len(h.calls("GET", f"/repos/{REPO}/tarball/")) == 1
        assert h.emu.issue(REPO, issue).body == body


async def test_inventory_command_on_an_issue_without_an_inventory_refreshes_nothing(
        tmp_path: Path) -> None:
    async with running() as h:
        issue = seed_tracking(h, tmp_path)
        other = h.emu.create_issue(REPO, "Unrelated", "Nothing to see.")
        h.emu.set_permission(REPO, "maintainer", "write")
        comment = h.emu.add_issue_comment(REPO, other, "/ssot inventory", user="maintainer")
        await h.send("issue_comment", h.emu.payload_issue_comment(REPO, other, comment))
        assert [r.content for r in h.emu.reactions(REPO, comment)] == ["confused"]
        assert h.calls("GET", f"/repos/{REPO}/tarball/") == []
        assert h.emu.issue(REPO, issue).body == SEED
        assert h.emu.issue(REPO, other).body == "Nothing to see."


@pytest.mark.parametrize(("login", "user_type"), [
    ("renovate[bot]", "User"),  # a bot's login, whatever its type says
    ("ci-helper", "Bot"),
])
async def test_inventory_command_from_a_bot_is_ignored(tmp_path: Path, login: str,
                                                       user_type: str) -> None:
    async with running() as h:
        issue = seed_tracking(h, tmp_path)
        h.emu.set_permission(REPO, login, "admin")
        since = len(h.emu.requests)
        comment = h.emu.add_issue_comment(REPO, issue, "/ssot inventory", login, user_type)
        await h.send("issue_comment", h.emu.payload_issue_comment(REPO, issue, comment))
        assert h.emu.requests[since:] == []
        assert h.emu.issue(REPO, issue).body == SEED


async def test_inventory_command_at_the_end_of_a_long_comment_is_answered(
        tmp_path: Path) -> None:
    """A comment over 4 KiB is parsed off the event loop; its command counts all the same."""
    async with running() as h:
        issue = seed_tracking(h, tmp_path)
        h.emu.set_permission(REPO, "maintainer", "write")
        body = "Some notes.\n" * 800 + "\n/ssot inventory\n"
        assert len(body) > 8000
        comment = h.emu.add_issue_comment(REPO, issue, body, user="maintainer")
        await h.send("issue_comment", h.emu.payload_issue_comment(REPO, issue, comment))
        assert [r.content for r in h.emu.reactions(REPO, comment)] == ["eyes"]
        assert len(h.calls("GET", f"/repos/{REPO}/tarball/")) == 1


async def test_a_push_to_another_branch_or_without_inventory_does_nothing(tmp_path: Path) -> None:
    async with running() as h:
        h.bot.store = open_store(tmp_path)
        issue = h.emu.create_issue(REPO, "Tracking", SEED)
        before = h.emu.repo(REPO).branches["main"]
        after = h.emu.commit(REPO, "main", {EXTRA: EXTRA_TEXT})  # no tracking.inventory
        await h.send("push", h.emu.payload_push(REPO, before, after))
        other = h.emu.commit(REPO, "feature", {".github/ssot.yml": config(issue)})
        await h.send("push", h.emu.payload_push(REPO, after, other, branch="feature"))
        assert h.emu.issue(REPO, issue).body == SEED
        assert not h.calls("GET", "/tarball/")


async def test_a_repository_over_max_inventory_files_gets_the_sentence(tmp_path: Path) -> None:
    async with running(example_files()) as h:
        issue, _ = await setup(h, tmp_path, extra_config="limits:\n  max_inventory_files: 3\n")
        block = block_of(h.emu.issue(REPO, issue).body or "")
        assert "too large to take the inventory" in block
        # the archive is read for at most that many members, folders included (§13)
        assert "more than 3 archive members (`limits.max_inventory_files`)" in block
        assert parse_history(h.emu.issue(REPO, issue).body) == []


async def test_pr_check_summary_counts_the_inventory_violations_it_removes(
        tmp_path: Path) -> None:
    async with running() as h:
        await setup(h, tmp_path)  # the store knows the default branch
        number = await h.open_pr({EXTRA: FIXED_TEXT})
        run = [r for r in h.emu.check_runs(REPO) if r.head_sha == h.emu.head_sha(REPO, number)]
        summary = run[-1].output["summary"]
        assert "this PR removes **1** pre-existing violation of the inventory's rules" in summary
        assert "(1 → 0 in the files it touches)" in summary
        # base counts from the store, the file list the analysis read (docs §14: read once)
        assert "(0 extra GitHub requests.)" in summary


async def test_pushes_during_a_run_fold_into_one_follow_up_of_the_newest(
        tmp_path: Path) -> None:
    async with running() as h:
        h.bot.store = open_store(tmp_path)
        issue = h.emu.create_issue(REPO, "Tracking", SEED)
        h.emu.inject("GET", r"/tarball/", status=None, delay=0.5)  # the first run is slow
        first = await push(h, {".github/ssot.yml": config(issue), EXTRA: EXTRA_TEXT},
                           settle=False)
        await asyncio.sleep(0.2)
        await push(h, {"a.py": "x = 1\n"}, settle=False)
        last = await push(h, {EXTRA: FIXED_TEXT}, settle=False)
        await h.bot.idle()
        history = parse_history(h.emu.issue(REPO, issue).body)
        assert [(p.sha, p.total) for p in history] == [(first, 5), (last, 4)]
        assert len(h.calls("GET", "/tarball/")) == 1
        assert len(h.calls("GET", "/compare/")) == 1  # the follow-up reads what changed since


async def test_a_push_handled_after_a_newer_one_changes_nothing(tmp_path: Path) -> None:
    """Deliveries handled out of order (GitHub does not promise order; replicas run a burst's
    deliveries at once): an older push arriving after the inventory of a newer one is taken
    leaves the block as it is, and reads no tarball."""
    async with running() as h:
        issue, _ = await setup(h, tmp_path)
        older_payload = h.emu.payload_push(REPO, h.emu.repo(REPO).branches["main"],
                                           h.emu.commit(REPO, "main", {"a.py": "x = 1\n"}))
        await push(h, {EXTRA: FIXED_TEXT})  # the newer push, handled first
        body = h.emu.issue(REPO, issue).body
        tarballs, writes = len(h.calls("GET", "/tarball/")), len(h.calls("PATCH", "/issues/"))
        await h.send("push", older_payload)  # the older one, handled last
        assert h.emu.issue(REPO, issue).body == body
        assert len(h.calls("GET", "/tarball/")) == tarballs
        assert len(h.calls("PATCH", "/issues/")) == writes
        assert [p.total for p in parse_history(body)][-1] == 4


async def test_reexports_are_followed_with_the_index_of_the_whole_archive(
        tmp_path: Path) -> None:
    """docs/behaviour.md §10: a name imported through a shim module counts, as in `check`."""
    shim = "netra_backend/app/agents/compat.py"
    user = "netra_backend/app/agents/uses_shim.py"
    async with running() as h:
        h.bot.store = open_store(tmp_path)
        issue = h.emu.create_issue(REPO, "Tracking", SEED)
        first = await push(h, {
            ".github/ssot.yml": config(issue),
            shim: f"from {LEGACY} import WebSocketManager\n",
            user: "from netra_backend.app.agents.compat import WebSocketManager\n",
        })
        body = h.emu.issue(REPO, issue).body or ""
        assert f"**6 violations left** at [`{first[:7]}`]" in body  # 4 + the shim + its user
        assert "| `ws-legacy-import` | 3 |" in body
        # the user of the shim is fixed: read alone, with the index kept from the archive
        second = await push(h, {user: "X = 1\n"})
        assert f"**5 violations left** at [`{second[:7]}`]" in (
            h.emu.issue(REPO, issue).body or "")
        assert len(h.calls("GET", "/tarball/")) == 1


@pytest.mark.parametrize(("failing", "tarball_requests"), [
    (r"/tarball/", 1),  # GitHub answers 502 to the tarball request: asked again
    (r"^/_codeload/", 2),  # codeload answers 502: started over (its link serves one download)
])
async def test_a_failed_archive_download_is_retried_and_nothing_is_lost(
        tmp_path: Path, failing: str, tarball_requests: int) -> None:
    async with running() as h:
        h.bot.store = open_store(tmp_path)
        issue = h.emu.create_issue(REPO, "Tracking", SEED)
        fault = h.emu.inject("GET", failing, status=502)
        first = await push(h, {".github/ssot.yml": config(issue), EXTRA: EXTRA_TEXT})
        body = h.emu.issue(REPO, issue).body or ""
        assert f"**5 violations left** at [`{first[:7]}`]" in block_of(body)
        assert fault.used == 1 and len(h.calls("GET", "/tarball/")) == tarball_requests
        assert len(parse_history(body)) == 1
