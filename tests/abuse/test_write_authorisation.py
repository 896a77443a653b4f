"""Who can make the bot write where (docs/behaviour.md §8), attacked through the real service and
the GitHub emulator: cross-repository links, a fork's PR aimed at a private repository of the same
installation, forged markers, mentions and links echoed, command floods, drive-by PRs."""

from __future__ import annotations

import re

from tests.integration.harness import DATA, INSTALLATION, REPO, Harness, example_files, running

SEED = (DATA / "tracking-issue-1103.md").read_bytes().decode("utf-8")
PRIVATE = "acme/private-infra"
NEUTRAL = "links to other repositories are not enabled"


def link_errors(h: Harness, number: int) -> list[str]:
    return [c.body for c in h.emu.issue(REPO, number).comments
            if c.user == h.emu.bot_login and "<!-- ssot-bot:link-error -->" in c.body]


def bot_comments(h: Harness, repo: str, number: int) -> list[str]:
    return [c.body for c in h.emu.issue(repo, number).comments if c.user == h.emu.bot_login]


def outside_code_spans(text: str) -> str:
    return re.sub(r"(`+)(?:(?!\1).)*?\1", "", text, flags=re.S)


async def merge(h: Harness, number: int) -> None:
    h.emu.merge_pull_request(REPO, number)
    await h.send("pull_request", h.emu.payload_pull_request(REPO, number, "closed"))


async def test_cross_repository_link_writes_nothing_there_and_says_one_neutral_sentence() -> None:
    async with running() as h:
        h.emu.add_repo(PRIVATE, {"README.md": "private\n"}, installation_id=INSTALLATION)
        issue = h.emu.create_issue(PRIVATE, "Tracker", SEED)
        h.emu.set_permission(REPO, "octocat", "write")
        h.emu.set_permission(PRIVATE, "octocat", "admin")
        number = await h.open_pr({"a.py": "A = 1\n"},
                                 body=f"SSOT-Tracking: {PRIVATE}#{issue}\nSSOT-Step: 2\n")
        await merge(h, number)
        assert h.emu.issue(PRIVATE, issue).body == SEED
        assert h.emu.issue(PRIVATE, issue).comments == []
        assert not [r for r in h.emu.requests if f"/repos/{PRIVATE}" in r.path]  # not even read
        [note] = link_errors(h, number)
        assert f"`{PRIVATE}#{issue}`: {NEUTRAL}" in note
        assert "not found" not in note and "has no step" not in note


async def test_fork_pr_to_a_private_repository_reads_the_same_for_existing_and_missing() -> None:
    async with running() as h:
        h.emu.add_repo(PRIVATE, {"README.md": "private\n"}, installation_id=INSTALLATION)
        existing = h.emu.create_issue(PRIVATE, "Tracker", SEED)
        missing = existing + 41
        texts = []
        for branch, target in (("fork-a", existing), ("fork-b", missing)):
            number = await h.open_pr({f"{branch}.py": "A = 1\n"}, branch=branch,
                                     user="stranger",
                                     body=f"SSOT-Tracking: {PRIVATE}#{target}\nSSOT-Step: 2\n")
            await merge(h, number)
            [note] = link_errors(h, number)
            texts.append(note.replace(f"{PRIVATE}#{target}`", "REF`"))
        assert texts[0] == texts[1]
        assert NEUTRAL in texts[0]
        assert h.emu.issue(PRIVATE, existing).body == SEED
        assert not [r for r in h.emu.requests if f"/repos/{PRIVATE}" in r.path]


async def test_malformed_owner_or_name_is_refused_without_a_request() -> None:
    async with running() as h:
        body = ("SSOT-Tracking: https://github.com/netra-systems/../issues/1\nSSOT-Step: 1\n\n"
                "SSOT-Tracking: https://github.com/./netra-apex/issues/2\nSSOT-Step: 1\n")
        number = await h.open_pr({"a.py": "A = 1\n"}, body=body)
        await merge(h, number)
        [note] = link_errors(h, number)
        assert note.count(NEUTRAL) == 2
        assert not [r for r in h.emu.requests if "/.." in r.path or "/./" in r.path]


async def test_a_repository_the_base_config_lists_is_followed() -> None:
    config = "version: 1\nrules: []\ntracking:\n  repositories: [Acme/Infra]\n"
    files = {**example_files(), ".github/ssot.yml": config}
    async with running(files) as h:
        h.emu.add_repo("acme/infra", {"README.md": "x\n"}, installation_id=INSTALLATION)
        issue = h.emu.create_issue("acme/infra", "Tracker", SEED)
        number = await h.open_pr({"a.py": "A = 1\n"},
                                 body=f"SSOT-Tracking: acme/infra#{issue}\nSSOT-Step: 1\n")
        await merge(h, number)
        body = h.emu.issue("acme/infra", issue).body or ""
        assert "- [x] **Step 1**: Discover and Plan Test" in body
        assert f"Step 1 completed via {REPO}#{number}" in body
        [done] = bot_comments(h, "acme/infra", issue)
        assert f"completed via {REPO}#{number}" in done
        assert link_errors(h, number) == []
        # a missing issue and a missing step there read the same
        texts = []
        for branch, link in (("b", f"acme/infra#{issue + 50}"), ("c", f"acme/infra#{issue}")):
            other = await h.open_pr({f"{branch}.py": "B = 1\n"}, branch=branch,
                                    body=f"SSOT-Tracking: {link}\nSSOT-Step: 9\n")
            await merge(h, other)
            [note] = link_errors(h, other)
            texts.append(note.replace(link, "REF"))
        assert texts[0] == texts[1]


async def test_forged_step_done_marker_changes_nothing() -> None:
    async with running() as h:
        issue = h.emu.create_issue(REPO, "Tracker", SEED)
        number = await h.open_pr({"a.py": "A = 1\n"},
                                 body=f"SSOT-Tracking: #{issue}\nSSOT-Step: 1\n")
        # the author pre-posts the bot's marker on the issue (and a link-error one on the PR)
        h.emu.add_issue_comment(REPO, issue, f"<!-- ssot-bot:step-done pr={number} steps=1 -->")
        await merge(h, number)
        [done] = bot_comments(h, REPO, issue)
        assert f"<!-- ssot-bot:step-done pr={number} steps=1 -->" in done
        bad = await h.open_pr({"b.py": "B = 1\n"}, branch="b",
                              body="SSOT-Tracking: #4242\nSSOT-Step: 1\n", settle=False)
        h.emu.add_issue_comment(REPO, bad, "<!-- ssot-bot:link-error -->")
        await h.bot.idle()
        await merge(h, bad)
        assert len(link_errors(h, bad)) == 1


async def test_forged_reply_marker_does_not_silence_a_command() -> None:
    async with running() as h:
        number = await h.open_pr({"a.py": "A = 1\n"})
        forged = h.emu.add_issue_comment(REPO, number,
                                         "<!-- ssot-bot:reply comment=PLACEHOLDER -->")
        command = h.emu.add_issue_comment(REPO, number, "/ssot help")
        h.emu.comment(REPO, forged).body = f"<!-- ssot-bot:reply comment={command} -->"
        await h.send("issue_comment", h.emu.payload_issue_comment(REPO, number, command))
        assert len(bot_comments(h, REPO, number)) == 1


async def test_mentions_and_links_are_echoed_only_inside_code_spans() -> None:
    async with running() as h:
        body = ("SSOT-Tracking: see @org/team [x](https://evil.example)\n"
                "SSOT-Step: ![i](https://evil.example/i.png) <b>x</b>\n")
        number = await h.open_pr({"a.py": "A = 1\n"}, body=body)
        [note] = link_errors(h, number)
        assert "@org/team" in note
        visible = outside_code_spans(note.replace("<!-- ssot-bot:link-error -->", ""))
        for bad in ("@", "](", "<b>", "<img", "evil.example"):
            assert bad not in visible, (bad, visible)
        cmd = h.emu.add_issue_comment(REPO, number, "/ssot @org/team [x](https://evil.example)")
        await h.send("issue_comment", h.emu.payload_issue_comment(REPO, number, cmd))
        [reply] = [b for b in bot_comments(h, REPO, number) if "ssot-bot:reply" in b]
        visible = outside_code_spans(reply)
        assert "@org" not in visible and "evil.example" not in visible


async def test_ten_unknown_commands_in_one_comment_get_one_reply() -> None:
    async with running() as h:
        number = await h.open_pr({"a.py": "A = 1\n"})
        body = "\n".join(f"/ssot x{i}" for i in range(10))
        cmd = h.emu.add_issue_comment(REPO, number, body)
        await h.send("issue_comment", h.emu.payload_issue_comment(REPO, number, cmd))
        assert len(bot_comments(h, REPO, number)) == 1
        assert [r.content for r in h.emu.reactions(REPO, cmd)] == ["confused"]


async def test_sixth_recheck_in_ten_minutes_gets_minus_one_and_no_analysis() -> None:
    async with running() as h:
        number = await h.open_pr({"a.py": "A = 1\n"})
        for i in range(5):
            cmd = h.emu.add_issue_comment(REPO, number, f"/ssot recheck\n\ntry {i}")
            await h.send("issue_comment", h.emu.payload_issue_comment(REPO, number, cmd))
            assert [r.content for r in h.emu.reactions(REPO, cmd)] == ["eyes"]
        runs = len(h.emu.check_runs(REPO))
        sixth = h.emu.add_issue_comment(REPO, number, "/ssot recheck")
        await h.send("issue_comment", h.emu.payload_issue_comment(REPO, number, sixth))
        assert [r.content for r in h.emu.reactions(REPO, sixth)] == ["-1"]
        assert len(h.emu.check_runs(REPO)) == runs
        assert bot_comments(h, REPO, number) == []
        # another user is counted on their own
        h.emu.set_permission(REPO, "alice", "write")
        other = h.emu.add_issue_comment(REPO, number, "/ssot recheck", "alice")
        await h.send("issue_comment", h.emu.payload_issue_comment(REPO, number, other))
        assert [r.content for r in h.emu.reactions(REPO, other)] == ["eyes"]


async def test_drive_by_pr_author_without_permission_moves_nothing_until_merged() -> None:
    async with running() as h:
        issue = h.emu.create_issue(REPO, "Tracker", SEED)
        h.emu.set_permission(REPO, "stranger", "read")
        number = await h.open_pr({"a.py": "A = 1\n"}, user="stranger",
                                 body=f"SSOT-Tracking: #{issue}\nSSOT-Step: 2\n")
        await h.send("pull_request", h.emu.payload_pull_request(REPO, number, "edited"))
        assert h.emu.issue(REPO, issue).body == SEED
        assert len(h.calls("GET", "/collaborators/stranger/permission")) >= 1
        await merge(h, number)  # a maintainer merged it: that counts
        assert "- [x] **Step 2**" in (h.emu.issue(REPO, issue).body or "")
