"""Property: the editor never changes a byte it does not own, nor the final-newline state.

Bodies are generated from the wider grammar of docs/behaviour.md §9: prose (unicode, trailing
spaces), headings (group headings by every word and emoji, with random decoration; step headings
with and without a status, bold or not, Step/Phase/Stage), task items (steps in every label style
with sub-items ``N.M`` with or without a colon, other tasks), ordered lists of status emoji,
fenced code holding fake tasks, footers in every style (with trailing spaces: a hard break),
setext headings (groups and steps), heading steps whose block holds task steps of their own,
with random LF/CRLF endings and an optional final newline. After ``complete_steps`` /
``start_steps``, the non-empty lines nobody owns keep their bytes and their relative order;
owned lines differ only by the box character, their position, a heading's status (for heading
steps) or (for the footer) their rewritten text; a footer keeps its trailing spaces; a body
ends with a newline exactly when it did before; and the same edit applied to its own result
changes nothing (issue #20 item 2).
"""

from __future__ import annotations

import datetime
import re
from collections import Counter

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.tracking.edit import complete_steps, start_steps
from bot.tracking.model import parse_checklist

Line = tuple[str, str]  # (content, ending)

_letters = st.characters(whitelist_categories=("Lu", "Ll"), max_codepoint=0x2FFF)
_text_char = st.one_of(
    st.characters(
        blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
        blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85",
    ),
    st.sampled_from(["\u201a\u00fa\u00d6", "\uf8ffüîÑ", "√©", " ", "*", "#", "[ ]", "`",
                     "\u2705", "\U0001f504", "\u23f3"]),
)
_text = st.lists(_text_char, max_size=20).map("".join)
_trailing = st.sampled_from(["", "", " ", "  ", "\t"])
_STATUS = ["", " (PENDING)", " \U0001f504 IN PROGRESS", " \U0001f4cb PLANNED", " (Pending)",
           " - TODO", " \u23f3", " NOT STARTED", " \u2705 COMPLETED"]
FOOTERS = [
    "**Last Updated**: 2025-01-01 - old", "**Last Updated:** 2025-01-01",
    "*Last Updated: 2025-09-13*", "_Last Updated: 2025-09-13_", "Last updated: yesterday",
    "**Next Action**: old", "**Next Action:** old", "*Next Action: old*", "Next action: old",
]


@st.composite
def prose(draw: st.DrawFn) -> str:
    return draw(_letters) + draw(_text).rstrip("\r\n") + draw(_trailing)


@st.composite
def setext(draw: st.DrawFn, text: str) -> list[tuple[str, str]]:
    """``text`` as a setext heading: the line and its ``=`` or ``-`` underline."""
    underline = draw(st.sampled_from(["=", "-"])) * draw(st.integers(1, 12))
    # a blank line first: under a list item the text would be its lazy continuation
    return [("free", ""), ("free", text.lstrip("# ")), ("free", underline + draw(_trailing))]


@st.composite
def group_heading(draw: st.DrawFn) -> str:
    hashes = "#" * draw(st.integers(1, 6))
    word = draw(st.sampled_from(["COMPLETED", "In Progress", "pending", "DONE", "CURRENT",
                                 "NEXT", "Upcoming", "PLANNED", "TODO", "Notes", "Plan"]))
    deco = draw(st.sampled_from(["", "\u201a\u00fa\u00d6 ", "\u2705 ", "\U0001f504 ",
                                 "\u23f3 ", "üìã "]))
    after = draw(st.sampled_from(["", " \u2705", " \U0001f504"]))
    return f"{hashes} {deco}{word}{after}{draw(_trailing)}"


def _label(draw: st.DrawFn, number: int) -> str:
    word = draw(st.sampled_from(["Step", "STEP", "step", "Phase", "Stage"]))
    style = draw(st.integers(0, 5))
    return [f"**{word} {number}**:", f"**{word} {number}:**", f"{word} {number}:",
            f"{word} {number} -", f"**{word} {number}**", f"{word} {number}"][style]


@st.composite
def step_block(draw: st.DrawFn, number: int) -> list[tuple[str, str]]:
    """(kind, content) lines of one task step and its sub-items."""
    bullet = draw(st.sampled_from(["-", "*", "+", "1."]))
    box = draw(st.sampled_from([" ", " ", "x", "X"]))
    title = draw(prose())
    out = [("owned", f"{bullet} [{box}] {_label(draw, number)} {title}")]
    for sub in range(1, draw(st.integers(0, 3)) + 1):
        sbox = draw(st.sampled_from([" ", "x"]))
        colon = draw(st.sampled_from([":", ""]))
        out.append(("owned", f"  {bullet} [{sbox}] {number}.{sub}{colon} {draw(prose())}"))
    return out


@st.composite
def heading_step(draw: st.DrawFn, number: int, level: int) -> list[tuple[str, str]]:
    """A heading step owning a block of plain task items and sub-steps.

    Sibling heading steps share one level, as in real trackers: a deeper step heading would lie
    inside the block of the one above it (and be completed with it, docs/behaviour.md §9),
    which the oracle of these properties does not model."""
    hashes = "#" * level
    deco = draw(st.sampled_from(["", "\u23f3 ", "\u2705 "]))
    word = draw(st.sampled_from(["Step", "STEP", "Phase"]))
    label = draw(st.sampled_from([f"**{word} {number}**:", f"{word} {number}:"]))
    status = draw(st.sampled_from(_STATUS))
    title = f"{deco}{label} {draw(prose()).strip()}{status}"
    if draw(st.integers(0, 3)):
        out = [("owned", f"{hashes} {title}")]
    else:  # setext: the underline is nobody's line; a blank line before it, or under a list
        # item its text would be the item's lazy continuation and no heading at all (CommonMark)
        out = [("free", ""), ("owned", title.lstrip()),
               ("free", draw(st.sampled_from(["=", "-"])) * 5)]
    for sub in range(draw(st.integers(0, 3))):
        sbox = draw(st.sampled_from([" ", "x"]))
        text = draw(st.sampled_from([f"{number}.{sub + 1}: ", ""])) + draw(prose())
        out.append(("owned", f"- [{sbox}] {text}"))
    if draw(st.booleans()):  # a task step of its own in the heading's block (issue #20 item 2)
        sbox = draw(st.sampled_from([" ", "x"]))
        out.append(("owned", f"- [{sbox}] **Step {number + 10}**: {draw(prose())}"))
    return out


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A body and the ids it holds."""
    numbers = draw(st.permutations(list(range(8))))[: draw(st.integers(0, 8))]
    chunks: list[list[tuple[str, str]]] = []
    level = draw(st.integers(2, 4))
    for n in numbers:
        chunks.append(draw(st.one_of(step_block(n), heading_step(n, level))))
    others = draw(
        st.lists(
            st.one_of(
                prose().map(lambda t: [("free", t)]),
                st.just([("free", "")]),
                st.just([("free", "   ")]),
                group_heading().map(lambda t: [("free", t)]),
                group_heading().flatmap(setext),
                prose().map(lambda t: [("free", f"- [ ] **Golden Path**: {t}")]),
                prose().map(lambda t: [("free", f"- plain bullet {t}")]),
                st.integers(0, 9).map(lambda n: [("free", f"{n}. \u23f3 **Step {n}**: x")]),
                st.sampled_from(["```", "~~~", "````md"]).map(
                    lambda f: [
                        ("free", f),
                        ("free", "- [ ] **Step 3**: FAKE in a fence"),
                        ("free", "### Step 5: FAKE (PENDING)"),
                        ("free", "**Last Updated**: FAKE"),
                        ("free", f[:3]),
                    ]
                ),
                st.tuples(st.sampled_from(FOOTERS), _trailing).map(
                    lambda f: [("status", f[0] + f[1])]),
            ),
            max_size=25,
        )
    )
    chunks.extend(others)
    if draw(st.integers(0, 4)):  # mostly: the three sections, decorated, at random places
        for word in ("COMPLETED", "IN PROGRESS", "Pending"):
            hashes = "#" * draw(st.integers(1, 6))
            deco = draw(st.sampled_from(["", "\u2705 ", "\U0001f504 ", "\u23f3 "]))
            chunks.append([("free", f"{hashes} {deco}{word}{draw(_trailing)}")])
    chunks = draw(st.permutations(chunks))
    kinds_lines = [kl for chunk in chunks for kl in chunk]
    endings = [draw(st.sampled_from(["\n", "\r\n"])) for _ in kinds_lines]
    if len(kinds_lines) > 0 and draw(st.booleans()):
        endings[-1] = ""
    body = "".join(c + e for (_, c), e in zip(kinds_lines, endings, strict=True))
    ids = [s.id for s in parse_checklist(body).steps]
    return body, ids


def split(body: str) -> list[Line]:
    parts = body.split("\n")
    lines = [(p[:-1], "\r\n") if p.endswith("\r") else (p, "\n") for p in parts[:-1]]
    if parts[-1]:
        lines.append((parts[-1], ""))
    return lines


_TASK_LINE = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\[[ xX]\]")
_STEP_HEADING = re.compile(
    r"^(?: {0,3}#{1,6}[ \t].*|(?:[\u23f3\u2705] )?(?:\*\*)?)(?:step|phase|stage)[ \t]*\d",
    re.IGNORECASE)
_HEADING_STATUS = re.compile(
    r"\b(?:PENDING|PLANNED|IN[ \t]+PROGRESS|TO[ \t]?DO|NOT[ \t]+STARTED|COMPLETED)\b"
    r"|[\u23f3\U0001f4cb\U0001f504\u2705]",
    re.IGNORECASE)
_FOOTER = re.compile(r"^[*_]{0,2}(?:last updated|next action)", re.IGNORECASE)


def is_owned(content: str) -> bool:
    return bool(_TASK_LINE.match(content) or _STEP_HEADING.match(content))


def is_status(content: str) -> bool:
    return bool(_FOOTER.match(content)) and "FAKE" not in content


def normalise(content: str) -> str:
    """An owned line with its box unticked and a heading's status words and emoji removed."""
    content = re.sub(r"\[[xX]\]", "[ ]", content, count=1)
    if not _TASK_LINE.match(content):  # a heading step, ATX or setext
        content = _HEADING_STATUS.sub("", content)
    return content


def separators(lines: list[Line]) -> int:
    """Blank lines between a task line and a line of text that is neither a list item nor an
    ATX heading."""
    return sum(1 for i in range(1, len(lines) - 1)
               if lines[i][0] == "" and _TASK_LINE.match(lines[i - 1][0])
               and lines[i + 1][0].strip() and not lines[i + 1][0].lstrip().startswith("#")
               and not re.match(r"\s*(?:[-*+]|\d+[.)])\s", lines[i + 1][0]))


def check_invariants(before: str, after: str, *, ticks_allowed: bool) -> None:
    assert before.endswith("\n") == after.endswith("\n")
    b_lines, a_lines = split(before), split(after)
    # Only the blank line left last by a block that moved away from the end of a body without
    # a final newline may go (an unterminated empty last line would read as a final newline).
    # A moved list that lands right before a line of text (a setext heading's) is kept apart
    # from it by a blank line: the text would otherwise continue the list's last item.
    blank_b = sum(1 for c, _ in b_lines if c == "")
    blank_a = sum(1 for c, _ in a_lines if c == "")
    added = max(0, separators(a_lines) - separators(b_lines))
    assert blank_a <= blank_b + added
    if before.endswith("\n") or not before:  # a blank line already there may be the separator
        assert blank_b <= blank_a <= blank_b + added
    assert len(b_lines) - blank_b == len(a_lines) - blank_a

    def free(lines: list[Line]) -> list[tuple[int, Line]]:
        return [(i, line) for i, line in enumerate(lines)
                if line[0] and not is_owned(line[0]) and not is_status(line[0])]

    fb, fa = free(b_lines), free(a_lines)
    assert [c for _, (c, _) in fb] == [c for _, (c, _) in fa]
    for (ib, (_, eb)), (ia, (_, ea)) in zip(fb, fa, strict=True):
        if eb != ea:  # only the separator shift of a body without a final newline
            assert ib == len(b_lines) - 1 or ia == len(a_lines) - 1

    ob = [c for c, _ in b_lines if is_owned(c)]
    oa = [c for c, _ in a_lines if is_owned(c)]
    if ticks_allowed:
        assert Counter(map(normalise, ob)) == Counter(map(normalise, oa))
    else:
        assert Counter(ob) == Counter(oa)
    assert sum(is_status(c) for c, _ in b_lines) == sum(is_status(c) for c, _ in a_lines)

    def trailing(lines: list[Line]) -> list[str]:
        return [c[len(c.rstrip(" \t")):] for c, _ in lines if is_status(c)]

    assert trailing(b_lines) == trailing(a_lines)  # a hard break stays a hard break


ids_to_link = st.lists(
    st.sampled_from(["0", "1", "2", "3", "4", "5", "6", "7", "1.1", "2.2", "3.1", "9", "7.3",
                     "11", "13"]),
    min_size=1,
    max_size=4,
)
PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(bodies(), ids_to_link, st.integers(1, 99999))
@example(  # the last block moves away from behind a blank line, no final newline
    generated=(
        "- [ ] **Step 0**: A\n- [ ] **Step 1**: A\n# IN PROGRESS\n- [ ] **Step 3**: A\n"
        "  - [ ] 3.1: A\n- [ ] **Step 4**: A\n  - [ ] 4.1: A\n  - [ ] 4.2: A\n  - [ ] 4.3: A\n"
        "A\n# COMPLETED\n# Pending\n\n- [ ] **Step 2**: A\n  - [ ] 2.1: A",
        ["0", "1", "3", "3.1", "4", "4.1", "4.2", "4.3", "2", "2.1"],
    ),
    steps=["2"],
    pr=1,
)
@example(  # a heading step at the very end, no final newline, CRLF
    generated=("## \u2705 COMPLETED\r\n- [x] **Step 1**: a\r\n\r\n### Step 2: b (PENDING)\r\n"
               "- [ ] 2.1 c\r\n- [ ] other", ["1", "2", "2.1"]),
    steps=["2"],
    pr=7,
)
@example(  # issue #20 item 2: the heading's roll-up once waited for a second merge
    generated=("### Step 3: Plan (PENDING)\n- [ ] 3.1: a\n- [ ] **Step 4**: b\n",
               ["3", "3.1", "4"]),
    steps=["3.1", "4"],
    pr=1,
)
@example(  # a setext COMPLETED section and a hard break on the footer
    generated=("COMPLETED\n---\n- [x] **Step 1**: a\n\nPENDING\n---\n- [ ] **Step 2**: b\n\n"
               "**Last Updated**: x  \n", ["1", "2"]),
    steps=["2"],
    pr=3,
)
@example(  # a step moved under an empty COMPLETED heading, before a setext heading step
    generated=("- [ ] **Step 1**: A\n  - [ ] 1.1: A\n# COMPLETED\n**Step 0**: A\n=====\n"
               "- [ ] 0.1: A\n# Pending\n", ["1", "1.1", "0", "0.1"]),
    steps=["0", "1"],
    pr=1,
)
@example(  # the blank line after the empty COMPLETED heading already separates the step
    generated=("- [ ] **Step 0**: A\n# COMPLETED\n\n**Step 2**: A\n=====\n- [ ] **Step 3**: A\n"
               "# Pending\n", ["0", "2", "3"]),
    steps=["0"],
    pr=1,
)
def test_complete_steps_changes_only_owned_lines(
    generated: tuple[str, list[str]], steps: list[str], pr: int
) -> None:
    body, _ = generated
    edit = complete_steps(body, steps, pr_number=pr, merged_on=datetime.date(2025, 9, 20))
    check_invariants(body, edit.body, ticks_allowed=True)
    assert edit.changed == (edit.body != body)
    after = parse_checklist(edit.body)
    for s in steps:
        if s in edit.missing or s in edit.no_box:
            continue
        found = after.get(s)
        assert found is not None and found.checked, (s, edit)
    again = complete_steps(edit.body, steps, pr_number=pr, merged_on=datetime.date(2025, 9, 20))
    assert again.body == edit.body and not again.changed


@PROPS
@given(bodies(), ids_to_link)
def test_start_steps_changes_only_owned_lines(
    generated: tuple[str, list[str]], steps: list[str]
) -> None:
    body, _ = generated
    edit = start_steps(body, steps)
    check_invariants(body, edit.body, ticks_allowed=False)
    assert [s.checked for s in parse_checklist(body).steps].count(True) == [
        s.checked for s in parse_checklist(edit.body).steps
    ].count(True)
    again = start_steps(edit.body, steps)
    assert again.body == edit.body
