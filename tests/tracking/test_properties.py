"""Property: the editor never changes a line it does not own.

Bodies are generated from prose (unicode, trailing spaces), headings (the three sections with
random decoration, and others), task items (steps with sub-items, other tasks), fenced code
holding fake tasks, the two status lines, with random LF/CRLF endings and an optional final
newline. After ``complete_steps``/``start_steps``, the lines nobody owns keep their bytes and
their relative order; owned lines differ only by the box character, their position, or (for
the status lines) their rewritten text.
"""

from __future__ import annotations

import datetime
from collections import Counter

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.tracking.checklist import complete_steps, parse_checklist, start_steps

Line = tuple[str, str]  # (content, ending)

_letters = st.characters(whitelist_categories=("Lu", "Ll"), max_codepoint=0x2FFF)
_text_char = st.one_of(
    st.characters(
        blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
        blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85",
    ),
    st.sampled_from(["\u201a\u00fa\u00d6", "\uf8ffüîÑ", "√©", " ", "*", "#", "[ ]", "`"]),
)
_text = st.lists(_text_char, max_size=20).map("".join)
_trailing = st.sampled_from(["", "", " ", "  ", "\t"])


@st.composite
def prose(draw: st.DrawFn) -> str:
    return draw(_letters) + draw(_text).rstrip("\r\n") + draw(_trailing)


@st.composite
def heading(draw: st.DrawFn) -> str:
    hashes = "#" * draw(st.integers(1, 6))
    word = draw(st.sampled_from(["COMPLETED", "In Progress", "pending", "Notes", "Plan"]))
    deco = draw(st.sampled_from(["", "\u201a\u00fa\u00d6 ", "\uf8ffüîÑ ", "üìã "]))
    return f"{hashes} {deco}{word}{draw(_trailing)}"


@st.composite
def step_block(draw: st.DrawFn, number: int) -> list[tuple[str, str]]:
    """(kind, content) lines of one step and its sub-items."""
    bullet = draw(st.sampled_from(["-", "*", "+"]))
    box = draw(st.sampled_from([" ", " ", "x", "X"]))
    label = draw(st.sampled_from([f"**Step {number}**:", f"Step {number}:"]))
    title = draw(prose())
    out = [("owned", f"{bullet} [{box}] {label} {title}")]
    for sub in range(1, draw(st.integers(0, 3)) + 1):
        sbox = draw(st.sampled_from([" ", "x"]))
        out.append(("owned", f"  {bullet} [{sbox}] {number}.{sub}: {draw(prose())}"))
    return out


@st.composite
def bodies(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A body and the ids it holds."""
    numbers = draw(st.permutations(list(range(8))))[: draw(st.integers(0, 8))]
    chunks: list[list[tuple[str, str]]] = []
    for n in numbers:
        chunks.append(draw(step_block(n)))
    others = draw(
        st.lists(
            st.one_of(
                prose().map(lambda t: [("free", t)]),
                st.just([("free", "")]),
                st.just([("free", "   ")]),
                heading().map(lambda t: [("free", t)]),
                prose().map(lambda t: [("free", f"- [ ] **Golden Path**: {t}")]),
                prose().map(lambda t: [("free", f"- plain bullet {t}")]),
                st.sampled_from(["```", "~~~", "````md"]).map(
                    lambda f: [
                        ("free", f),
                        ("free", "- [ ] **Step 3**: FAKE in a fence"),
                        ("free", "**Last Updated**: FAKE"),
                        ("free", f[:3]),
                    ]
                ),
                st.just([("status", "**Last Updated**: 2025-01-01 - old")]),
                st.just([("status", "**Next Action**: old")]),
            ),
            max_size=25,
        )
    )
    chunks.extend(others)
    if draw(st.integers(0, 4)):  # mostly: the three sections, decorated, at random places
        for word in ("COMPLETED", "IN PROGRESS", "Pending"):
            hashes = "#" * draw(st.integers(1, 6))
            deco = draw(st.sampled_from(["", "\u201a\u00fa\u00d6 ", "\uf8ffüîÑ "]))
            chunks.append([("free", f"{hashes} {deco}{word}{draw(_trailing)}")])
    chunks = draw(st.permutations(chunks))
    kinds_lines = [kl for chunk in chunks for kl in chunk]
    endings = [draw(st.sampled_from(["\n", "\r\n"])) for _ in kinds_lines]
    if len(kinds_lines) > 0 and draw(st.booleans()):
        endings[-1] = ""
    body = "".join(c + e for (_, c), e in zip(kinds_lines, endings, strict=True))
    ids = [s.id for s in parse_checklist(body).steps]
    return body, ids


def split(body: str, *, separators: bool = False) -> list[Line]:
    """Lines with their endings. With ``separators`` (the model of a body without a final
    newline) the endings separate lines, so the last line is unterminated and may be empty:
    ``"a\\n"`` is ``a`` then an empty line, not ``a`` alone."""
    parts = body.split("\n")
    lines = [(p[:-1], "\r\n") if p.endswith("\r") else (p, "\n") for p in parts[:-1]]
    if parts[-1] or separators:
        lines.append((parts[-1], ""))
    return lines


def is_status(content: str) -> bool:
    return content.startswith(("**Last Updated**:", "**Next Action**:")) and "FAKE" not in content


def owned_contents(body: str) -> set[str]:
    """Lines of the steps (both box states) as the parser sees them."""
    lines = body.split("\n")
    owned: set[str] = set()
    for step in parse_checklist(body).steps:
        content = lines[step.line_index].rstrip("\r")
        owned.add(content)
    return {v for c in owned for v in (c, c.replace("[ ]", "[x]", 1))}


def normalise(content: str) -> str:
    return content.replace("[x]", "[ ]", 1).replace("[X]", "[ ]", 1)


def check_invariants(before: str, after: str, *, ticks_allowed: bool) -> None:
    owned = owned_contents(before)
    # A body without a final newline is read as separated lines both before and after: when
    # its last block moves away and the line left last is empty (a blank line before the
    # block), the edited body ends with the separator in front of that empty line. Every byte
    # is kept; an added final newline would show up here as an extra empty line.
    terminated = before == "" or before.endswith("\n")
    b_lines = split(before, separators=not terminated)
    a_lines = split(after, separators=not terminated)
    assert len(b_lines) == len(a_lines)
    if terminated:
        assert after == before == "" or after.endswith("\n")
    assert Counter(e for _, e in b_lines) == Counter(e for _, e in a_lines)

    def free(lines: list[Line]) -> list[tuple[int, Line]]:
        return [
            (i, line)
            for i, line in enumerate(lines)
            if line[0] not in owned and not is_status(line[0])
        ]

    fb, fa = free(b_lines), free(a_lines)
    assert [c for _, (c, _) in fb] == [c for _, (c, _) in fa]
    for (ib, (_, eb)), (ia, (_, ea)) in zip(fb, fa, strict=True):
        if eb != ea:  # only the separator shift of a body without a final newline
            assert ib == len(b_lines) - 1 or ia == len(a_lines) - 1

    ob = [c for c, _ in b_lines if c in owned]
    oa = [c for c, _ in a_lines if c in owned]
    if ticks_allowed:
        assert Counter(map(normalise, ob)) == Counter(map(normalise, oa))
    else:
        assert Counter(ob) == Counter(oa)
    assert sum(is_status(c) for c, _ in b_lines) == sum(is_status(c) for c, _ in a_lines)


ids_to_link = st.lists(
    st.sampled_from(["0", "1", "2", "3", "4", "5", "6", "7", "1.1", "2.2", "3.1", "9", "7.3"]),
    min_size=1,
    max_size=4,
)
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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
def test_complete_steps_changes_only_owned_lines(
    generated: tuple[str, list[str]], steps: list[str], pr: int
) -> None:
    body, ids = generated
    edit = complete_steps(body, steps, pr_number=pr, merged_on=datetime.date(2025, 9, 20))
    check_invariants(body, edit.body, ticks_allowed=True)
    assert edit.changed == (edit.body != body)
    assert set(edit.missing) == {s for s in steps if s not in ids}
    after = parse_checklist(edit.body)
    for s in steps:
        if s in ids:
            found = after.get(s)
            assert found is not None and found.checked
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
