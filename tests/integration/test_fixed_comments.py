"""Fixed findings say so (docs/behaviour.md §12) end to end: the bot's own inline comment on a
finding a push removed is edited once, exactly as the contract says; the finding coming back
gets a fresh comment; a fingerprint marker pasted by anyone else suppresses nothing."""

from __future__ import annotations

from bot import markers
from bot.demo import FACTORY, factory_before
from tests.integration.harness import REPO, example_before, example_files, running


def regression() -> bytes:
    """Lines 46 (legacy import: two findings) and 98 (legacy annotation) go back to legacy."""
    return example_files()[FACTORY]


def fixed_line_98() -> bytes:
    """The regression with line 98 fixed again (the bridge annotation); line 46 stays."""
    lines = regression().split(b"\n")
    lines[97] = factory_before(example_files()).split(b"\n")[97]
    return b"\n".join(lines)


def marker_of(body: str) -> str:
    start = body.index("<!-- ssot-bot:fingerprint=")
    return body[start:body.index("-->", start) + 3]


async def test_a_fixed_finding_is_marked_once_and_a_comeback_gets_a_new_comment() -> None:
    async with running(example_before()) as h:
        number = await h.open_pr({FACTORY: regression()})
        first = h.emu.review_comments(REPO, number)
        assert sorted(c.line for c in first) == [46, 46, 98]
        original = {c.id: c.body for c in first}
        [on_98] = [c for c in first if c.line == 98]

        await h.push(number, {FACTORY: fixed_line_98()})
        head = h.emu.head_sha(REPO, number)
        after = h.emu.review_comments(REPO, number)
        assert [c.id for c in after] == [c.id for c in first]  # no new comment
        marker = marker_of(original[on_98.id])
        fixed_marker = marker.replace(" -->", " state=fixed -->")
        assert on_98.body == (f"\u2705 Fixed in {head[:7]}\n\n"
                              + original[on_98.id].replace(marker, fixed_marker))
        assert on_98.body.splitlines()[0] == f"✅ Fixed in {head[:7]}"
        for c in after:
            if c.id != on_98.id:
                assert c.body == original[c.id]  # the line-46 findings are still there
        edits = h.calls("PATCH", "/pulls/comments/")
        assert [r.path.rsplit("/", 1)[1] for r in edits] == [str(on_98.id)]
        run = h.emu.check_runs(REPO)[-1]
        assert run.head_sha == head
        assert "Fixed: 1 finding the bot commented on is no longer found" in run.output["summary"]

        # the same head analysed again: the fixed comment is not edited a second time
        await h.send("pull_request", h.emu.payload_pull_request(REPO, number, "synchronize"))
        assert len(h.calls("PATCH", "/pulls/comments/")) == 1

        # the finding comes back: a fresh comment; the fixed one stays as it is
        await h.push(number, {FACTORY: regression()})
        again = h.emu.review_comments(REPO, number)
        assert len(again) == 4
        [fresh] = [c for c in again if c.id not in original]
        assert fresh.line == 98
        assert marker in fresh.body and "state=fixed" not in fresh.body
        assert h.emu.review_comment(REPO, on_98.id).body.startswith("✅ Fixed in")
        assert "Fixed:" not in h.emu.check_runs(REPO)[-1].output["summary"]


async def test_a_whole_pr_fixed_marks_every_comment_and_posts_no_review() -> None:
    async with running(example_before()) as h:
        number = await h.open_pr({FACTORY: regression()})
        reviews = len(h.emu.reviews(REPO, number))
        await h.push(number, {FACTORY: factory_before(example_files()) + b"\n# done\n"})
        comments = h.emu.review_comments(REPO, number)
        assert len(comments) == 3
        assert all(c.body.startswith("✅ Fixed in") and "state=fixed -->" in c.body
                   for c in comments)
        assert len(h.emu.reviews(REPO, number)) == reviews
        assert "Fixed: 3 findings" in h.emu.check_runs(REPO)[-1].output["summary"]


async def test_a_pasted_fingerprint_marker_suppresses_nothing() -> None:
    async with running(example_before()) as h:
        first = await h.open_pr({FACTORY: regression()}, branch="first")
        markers = [marker_of(c.body) for c in h.emu.review_comments(REPO, first)]
        assert len(set(markers)) == 3

        # the same change in a second PR; before the bot sees it, a user and another App's bot
        # paste the bot's markers (open and fixed) into review comments of their own
        h.emu.commit(REPO, "second", {FACTORY: regression()})
        second = h.emu.open_pull_request(REPO, "second")
        forged = [h.emu.add_review_comment(REPO, second, FACTORY, 46, f"quoting {m}",
                                           user="mallory") for m in markers]
        forged.append(h.emu.add_review_comment(
            REPO, second, FACTORY, 98, "\n".join(markers), user="other-app[bot]",
            user_type="Bot"))
        await h.send("pull_request", h.emu.payload_pull_request(REPO, second, "opened"))

        own = [c for c in h.emu.review_comments(REPO, second) if c.id not in forged]
        assert sorted(marker_of(c.body) for c in own) == sorted(markers)
        assert all(c.user == h.emu.bot_login for c in own)
        # nobody else's comment is ever edited, whatever markers it holds
        await h.push(second, {FACTORY: factory_before(example_files())}, branch="second")
        edited = {int(r.path.rsplit("/", 1)[1]) for r in h.calls("PATCH", "/pulls/comments/")}
        assert edited == {c.id for c in own}
        assert not edited & set(forged)


async def test_a_file_that_no_longer_parses_fixes_nothing() -> None:
    async with running(example_before()) as h:
        number = await h.open_pr({FACTORY: regression()})
        original = {c.id: c.body for c in h.emu.review_comments(REPO, number)}
        await h.push(number, {FACTORY: regression() + b"\ndef broken(:\n"})
        assert {c.id: c.body for c in h.emu.review_comments(REPO, number)} == original
        assert h.calls("PATCH", "/pulls/comments/") == []
        assert "Fixed:" not in h.emu.check_runs(REPO)[-1].output["summary"]


async def test_findings_carried_in_a_review_body_are_marked_fixed_like_inline_ones() -> None:
    """GitHub refused the inline comments twice (422), so the review's body lists the three
    findings (their fingerprints on its marker line); a push fixing line 98 marks that row of
    the body fixed, and its fingerprint, once, and the check run counts it; the line-46
    findings stay open."""
    async with running(example_before()) as h:
        h.emu.inject("POST", r"/pulls/\d+/reviews$", status=422, times=2)
        number = await h.open_pr({FACTORY: regression()})
        [review] = h.emu.reviews(REPO, number)
        assert h.emu.review_comments(REPO, number) == []
        original = review.body or ""
        assert len(markers.fingerprints(original)) == 3
        [on_98] = [line for line in original.splitlines() if f"{FACTORY}:98`" in line]
        order = [fp for fp, _ in markers.fingerprint_tags(original)]
        rows = [line for line in original.splitlines() if line.startswith("- `")]
        fp_98 = order[rows.index(on_98)]

        await h.push(number, {FACTORY: fixed_line_98()})
        head = h.emu.head_sha(REPO, number)
        body = h.emu.reviews(REPO, number)[0].body or ""
        want = original.replace(on_98, f"- \u2705 Fixed in {head[:7]}: {on_98[2:]}").replace(
            markers.fingerprint(fp_98), markers.fingerprint(fp_98, fixed=True))
        assert body == want
        assert markers.fixed_fingerprints(body) == {fp_98}
        assert markers.fingerprints(body) == set(order) - {fp_98}
        assert len(h.calls("PUT", "/reviews/")) == 1
        assert "Fixed: 1 finding the bot commented on is no longer found" in (
            h.emu.check_runs(REPO)[-1].output["summary"])

        # analysed again: the body is not edited a second time
        await h.send("pull_request", h.emu.payload_pull_request(REPO, number, "synchronize"))
        assert len(h.calls("PUT", "/reviews/")) == 1
