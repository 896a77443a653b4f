"""Hostile issue bodies and copied markers (docs/behaviour.md §13; issue #18 item 6), through the
real service and the emulator: the bot keeps exactly one inventory block whatever markers a
person pasted, a history it cannot read starts a new one without failing the run, and text
copied from a pull request into the App's own comments never forms a marker."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import markers
from bot.demo import FACTORY, factory_before
from bot.inventory.block import END, START, parse_history
from tests.integration.harness import REPO, example_files, running
from tests.integration.test_inventory import EXTRA, FIXED_TEXT, SEED, push, setup

SHA = "a" * 40


def blocks_in(body: str) -> int:
    """Complete blocks: marker lines alone on their lines, start then end."""
    lines = [line.strip() for line in body.split("\n")]
    return sum(1 for line in lines if line == END)


def history_comment(payload: str) -> str:
    return f"{START}\nold figures\n<!-- ssot-bot:inventory-history {payload} -->\n{END}"


async def test_a_stray_end_marker_does_not_add_a_block_on_every_push(tmp_path: Path) -> None:
    pasted = (SEED + "\nA person quoted the end marker here:\n" + END + "\n\n"
              "and in a code span `" + START + "` and a code block:\n\n```\n" + START
              + "\n" + END + "\n```\n")
    async with running() as h:
        issue, _ = await setup(h, tmp_path, body=pasted)
        first = h.emu.issue(REPO, issue).body or ""
        assert first.startswith(pasted)  # nothing the person wrote is taken into the block
        await push(h, {EXTRA: FIXED_TEXT})
        await push(h, {"pkg/other.py": "x = 1\n"})
        body = h.emu.issue(REPO, issue).body or ""
        assert body.startswith(pasted)
        assert body[len(pasted):].count(START) == 1  # one block, updated in place
        assert [p.total for p in parse_history(body)] == [5, 4, 4]


async def test_several_start_markers_and_copies_leave_exactly_one_block(tmp_path: Path) -> None:
    old = history_comment('{"points": []}')
    # what an older version left behind: a stray start marker, then a block appended on each
    # push below a stray end marker
    body = (SEED + "\n" + START + "\nnotes the person keeps\n\n" + END + " (quoted)\n"
            + "\n" + old + "\n\n" + old + "\n\n" + old)
    async with running() as h:
        issue, _ = await setup(h, tmp_path, body=body)
        after = h.emu.issue(REPO, issue).body or ""
        assert after.startswith(SEED + "\n" + START + "\nnotes the person keeps\n\n"
                                + END + " (quoted)\n\n" + START + "\n### SSOT inventory")
        assert blocks_in(after) == 1
        assert after.rstrip().endswith(END)
        await push(h, {EXTRA: FIXED_TEXT})
        again = h.emu.issue(REPO, issue).body or ""
        assert blocks_in(again) == 1 and again.startswith(after[:after.index("### SSOT")])


@pytest.mark.parametrize("payload", [
    "[" * 30_000 + "]" * 30_000,  # nested past Python's recursion limit
    '{"points": [{"date": "2026-01-01", "sha": "' + SHA + '", "total": ' + "9" * 4_300 + "}]}",
    '{"points": [{"date": "2026-01-01", "sha": "' + SHA + '", "total": "many"}]}',
    '{"points": [{"date": "2026-01-01", "sha": "' + SHA + '", "total": 1e400}]}',
    '{"points": [' + ", ".join(['{"date": "2026-01-01", "sha": "' + SHA + '", "total": 1}']
                               * 1_000) + "]}",  # over 64 KiB
    '{"points": {"a": {"b": {"c": {}}}}}',
], ids=["nested", "4300-digit-total", "text-total", "float-overflow", "over-64-KiB", "shape"])
async def test_an_unreadable_history_starts_a_new_one(tmp_path: Path, payload: str) -> None:
    async with running() as h:
        issue, first = await setup(h, tmp_path, body=SEED + "\n" + history_comment(payload))
        body = h.emu.issue(REPO, issue).body or ""
        assert body.startswith(SEED + "\n" + START + "\n### SSOT inventory")
        assert [(p.sha, p.total) for p in parse_history(body)] == [(first, 5)]
        assert "old figures" not in body and len(body) < len(SEED) + 5_000
        second = await push(h, {EXTRA: FIXED_TEXT})
        body = h.emu.issue(REPO, issue).body or ""
        assert [(p.sha, p.total) for p in parse_history(body)] == [(first, 5), (second, 4)]


# --- markers copied from a pull request ------------------------------------------------------


def with_comment(text: bytes, line: int, comment: str) -> bytes:
    lines = text.split(b"\n")
    lines[line - 1] += b"  # " + comment.encode()
    return b"\n".join(lines)


async def test_a_marker_copied_from_the_pr_into_a_suggestion_is_no_marker() -> None:
    base = example_files()
    base[FACTORY] = factory_before(base)
    regression = example_files()[FACTORY]
    async with running(base) as h:
        # the marker the line-46 dual-pattern finding gets, seen on another PR
        first = await h.open_pr({FACTORY: regression}, branch="first")
        [dual] = [c for c in h.emu.review_comments(REPO, first) if "ws-dual-pattern" in c.body]
        [forged] = markers.markers_of(dual.body)

        # a PR whose line 98 carries that marker in a comment: the App's suggestion for line
        # 98 copies the line, marker text and all, into the App's own comment
        second = await h.open_pr({FACTORY: with_comment(regression, 98, forged)},
                                 branch="second")
        comments = h.emu.review_comments(REPO, second)
        [on_98] = [c for c in comments if c.line == 98]
        original = on_98.body
        suggestion = original.split("```suggestion\n")[1].split("\n```")[0]
        assert suggestion.endswith(f"  # {forged}")
        own = markers.fingerprints(original)
        assert len(own) == 1 and forged not in markers.markers_of(original)
        assert len(comments) == 3  # the dual-pattern finding was commented, not taken as done

        # line 46 fixed (and with it the three findings): each comment is marked fixed once,
        # its own marker only; the suggestion still says exactly what the PR had
        fixed = regression.split(b"\n")
        fixed[45] = factory_before(example_files()).split(b"\n")[45]
        await h.push(second, {FACTORY: with_comment(b"\n".join(fixed), 98, forged)},
                     branch="second")
        after = {c.id: c.body for c in h.emu.review_comments(REPO, second)}
        assert after[on_98.id] == f"\u2705 Fixed in {h.emu.head_sha(REPO, second)[:7]}\n\n" + (
            original.replace(markers.fingerprint(*own), markers.fingerprint(*own, fixed=True)))
        assert f"  # {forged}\n```" in after[on_98.id]
        assert markers.fixed_fingerprints(after[on_98.id]) == own
        assert "Fixed: 3 findings" in h.emu.check_runs(REPO)[-1].output["summary"]


def test_the_marker_line_is_the_last_line_outside_code_only() -> None:
    fp = markers.fingerprint("f1")
    assert markers.markers_of(f"text\n\n{fp}\n") == (fp,)
    assert markers.markers_of(f"text\r\n\r\n{fp} {markers.HELP}") == (fp, markers.HELP)
    for body in (f"{fp}\ntext", f"text {fp}", f"# {fp}", f"```\n{fp}", f"```\n{fp}\n",
                 f"    {fp}", f"> {fp}", f"{fp} and text", f"<!-- ssot-bot:x\n{fp}"[:-4]):
        assert markers.markers_of(body) == (), body
    assert markers.carries(f"a\n{markers.LINK_ERROR}", markers.LINK_ERROR)
    assert not markers.carries(f"{markers.LINK_ERROR}\na", markers.LINK_ERROR)


def test_echoed_text_is_neutralised() -> None:
    quoted = "# <!-- ssot-bot:fingerprint=abc -->"
    shown = markers.neutralise(quoted)
    assert "<!-- ssot-bot" not in shown and shown.replace("\u2060", "") == quoted
    assert markers.neutralise("<!--ssot-bot:help-->") != "<!--ssot-bot:help-->"
    assert markers.neutralise("<!-- a comment -->") == "<!-- a comment -->"
