"""The task list of a tracking issue: parse it, tick steps, move them between sections.

Pure functions over the issue body (``str``). Every edit is line-based and touches only the
lines it owns: the boxes of the steps it ticks, the blocks it moves (a step line with its
nested lines), and the ``**Last Updated**:`` / ``**Next Action**:`` lines. Every other byte,
including each line's own ending (LF or CRLF), trailing spaces, non-ASCII text and a missing
final newline, stays as it was.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Section = Literal["completed", "in_progress", "pending"]

LINK_ERROR_MARKER = "<!-- ssot-bot:link-error -->"

# --- line model ------------------------------------------------------------------------------

_FENCE_OPEN = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?=[ \t]|$)(?P<text>.*)$")
_LIST_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_TASK = re.compile(
    r"^(?P<indent>[ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+\[(?P<box>[ xX])\](?P<rest>[ \t].*|)$"
)
# The text after the box: "**Step 1**: title", "Step 1: title", "1.1: title", "**1.1:** title".
_STEP = re.compile(
    r"""^[ \t]*(?P<open>\*\*|__)?[ \t]*
    (?:(?P<word>step)[ \t]*)?
    \#?(?P<id>\d+(?:\.\d+)*)(?=[\s*_:\-\u2013\u2014]|$)
    [ \t]*(?:\*\*|__)?[ \t]*
    (?P<sep>:|[-\u2013\u2014](?=[ \t]))?
    [ \t]*(?:\*\*|__)?[ \t]*
    (?P<title>.*)$""",
    re.IGNORECASE | re.VERBOSE,
)
_SECTION_WORDS: tuple[tuple[Section, re.Pattern[str]], ...] = (
    ("completed", re.compile(r"COMPLETED", re.IGNORECASE)),
    ("in_progress", re.compile(r"IN[\s_-]*PROGRESS", re.IGNORECASE)),
    ("pending", re.compile(r"PENDING", re.IGNORECASE)),
)
_LAST_UPDATED = re.compile(
    r"^(?P<pre>[ \t]*(?:[-*+][ \t]+)?\*\*Last[ \t]+Updated(?:\*\*[ \t]*:|:\*\*))",
    re.IGNORECASE,
)
_NEXT_ACTION = re.compile(
    r"^(?P<pre>[ \t]*(?:[-*+][ \t]+)?\*\*Next[ \t]+Action(?:\*\*[ \t]*:|:\*\*))",
    re.IGNORECASE,
)


@dataclass(slots=True)
class _Line:
    content: str  # without the line ending
    ending: str  # "\n", "\r\n" or "" (last line of a body without a final newline)


def _split(body: str) -> list[_Line]:
    parts = body.split("\n")
    lines: list[_Line] = []
    for part in parts[:-1]:
        if part.endswith("\r"):
            lines.append(_Line(part[:-1], "\r\n"))
        else:
            lines.append(_Line(part, "\n"))
    if parts[-1]:
        lines.append(_Line(parts[-1], ""))
    return lines


def _join(lines: Sequence[_Line]) -> str:
    return "".join(line.content + line.ending for line in lines)


def _indent_width(indent: str) -> int:
    return len(indent.expandtabs(4))


def _id_key(step_id: str) -> tuple[int, ...] | None:
    """``"1.1"`` -> ``(1, 1)``; also accepts ``"Step 4"``, ``"#4"``; None if not a step id."""
    text = step_id.strip()
    m = re.fullmatch(r"(?:step[ \t]*)?#?(\d+(?:\.\d+)*)", text, re.IGNORECASE)
    if m is None:
        return None
    return tuple(int(part) for part in m.group(1).split("."))


def _display_id(step_id: str) -> str:
    text = step_id.strip()
    m = re.fullmatch(r"(?:step[ \t]*)?#?(\d+(?:\.\d+)*)", text, re.IGNORECASE)
    return m.group(1) if m else text


def _section_of(heading_text: str) -> Section | None:
    best: tuple[int, Section] | None = None
    for name, pattern in _SECTION_WORDS:
        m = pattern.search(heading_text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), name)
    return best[1] if best else None


# --- parsed document -------------------------------------------------------------------------


@dataclass(slots=True)
class _Item:
    """One task-list item (a step or not)."""

    line: int
    indent: int
    box_col: int
    checked: bool
    step_id: str | None
    title: str
    section: Section | None
    parent: int | None = None  # index into _Doc.items
    children: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Doc:
    lines: list[_Line]
    items: list[_Item]
    fenced: list[bool]  # per line: a fence marker or inside a fenced code block
    open_after: list[bool]  # per line: a fenced code block is still open after this line
    headings: list[int]  # line indices of headings (outside fences)
    list_lines: list[bool]  # per line: a list item line (outside fences)
    sections: dict[Section, int]  # first heading line of each section

    @property
    def has_sections(self) -> bool:
        return len(self.sections) == 3

    def section_range(self, section: Section) -> tuple[int, int]:
        start = self.sections[section]
        end = next((h for h in self.headings if h > start), len(self.lines))
        return start, end

    def find(self, step_id: str) -> int | None:
        key = _id_key(step_id)
        if key is None:
            return None
        for k, item in enumerate(self.items):
            if item.step_id is not None and _id_key(item.step_id) == key:
                return k
        return None

    def root(self, k: int) -> int:
        while (parent := self.items[k].parent) is not None:
            k = parent
        return k

    def block_end(self, k: int) -> int:
        """Exclusive end line of item k's block: its line and the more-indented lines after it."""
        item = self.items[k]
        headings = set(self.headings)
        j = item.line + 1
        end = j
        while j < len(self.lines):
            content = self.lines[j].content
            if not content.strip():
                j += 1
                continue
            if j in headings or _indent_width(_leading(content)) <= item.indent:
                break
            j += 1
            end = j
        return end

    def insertion_point(self, section: Section) -> int:
        """Line index before which a block lands at the end of ``section``'s list."""
        start, end = self.section_range(section)
        last_list = next(
            (j for j in range(end - 1, start, -1) if self.list_lines[j]),
            None,
        )
        if last_list is None:
            # no list yet: after the last line of text (the heading itself if none)
            j = next(
                (j for j in range(end - 1, start, -1) if self.lines[j].content.strip()),
                start,
            )
        else:
            # after the last list item and its continuation lines
            j = last_list
            while j + 1 < end:
                content = self.lines[j + 1].content
                if not content.strip():
                    break
                if not (self.fenced[j + 1] or self.list_lines[j + 1] or content[:1].isspace()):
                    break
                j += 1
        while j > start and self.open_after[j]:  # never inside a fenced code block
            j -= 1
        return j + 1


def _leading(content: str) -> str:
    return content[: len(content) - len(content.lstrip(" \t"))]


def _parse(body: str) -> _Doc:
    lines = _split(body)
    items: list[_Item] = []
    fenced = [False] * len(lines)
    open_after = [False] * len(lines)
    list_lines = [False] * len(lines)
    headings: list[int] = []
    sections: dict[Section, int] = {}
    fence: str | None = None
    section: Section | None = None
    # open list items: (indent width, index into items or None for a plain bullet)
    stack: list[tuple[int, int | None]] = []

    for i, line in enumerate(lines):
        content = line.content
        if fence is not None:
            fenced[i] = True
            stripped = content.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fence = None
            open_after[i] = fence is not None
            continue
        fm = _FENCE_OPEN.match(content)
        if fm and not (fm.group("fence")[0] == "`" and "`" in fm.group("info")):
            fence = fm.group("fence")
            fenced[i] = open_after[i] = True
            continue
        hm = _HEADING.match(content)
        if hm:
            headings.append(i)
            section = _section_of(hm.group("text"))
            if section is not None and section not in sections:
                sections[section] = i
            stack.clear()
            continue
        if not content.strip():
            continue
        lm = _LIST_ITEM.match(content)
        if lm is None:
            if not content[:1].isspace():
                stack.clear()
            continue
        list_lines[i] = True
        indent = _indent_width(lm.group("indent"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = next((k for _, k in reversed(stack) if k is not None), None)
        tm = _TASK.match(content)
        if tm is None:
            stack.append((indent, None))
            continue
        step_id: str | None = None
        title = tm.group("rest").strip()
        sm = _STEP.match(tm.group("rest"))
        if sm and (sm.group("word") or sm.group("sep") == ":"):
            step_id = sm.group("id")
            title = sm.group("title").strip()
        item = _Item(
            line=i,
            indent=indent,
            box_col=tm.start("box"),
            checked=tm.group("box") != " ",
            step_id=step_id,
            title=title,
            section=section,
            parent=parent,
        )
        items.append(item)
        k = len(items) - 1
        if parent is not None:
            items[parent].children.append(k)
        stack.append((indent, k))

    return _Doc(lines, items, fenced, open_after, headings, list_lines, sections)


# --- public model ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """A step of the checklist: ``- [ ] **Step 1**: title`` or a sub-item ``- [ ] 1.1: title``.

    ``line_index`` is 0-based; ``parent`` is the id of the enclosing step (None for a
    top-level step); ``section`` names the heading the item sits under.
    """

    id: str
    title: str
    checked: bool
    line_index: int
    parent: str | None
    section: Section | None


@dataclass(frozen=True, slots=True)
class Checklist:
    steps: tuple[Step, ...]
    has_sections: bool  # the body has COMPLETED, IN PROGRESS and PENDING headings

    def get(self, step_id: str) -> Step | None:
        """The first step with this id (``"4"``, ``"1.1"``, ``"Step 4"``), or None."""
        key = _id_key(step_id)
        if key is None:
            return None
        return next((s for s in self.steps if _id_key(s.id) == key), None)


def parse_checklist(body: str) -> Checklist:
    doc = _parse(body)
    steps: list[Step] = []
    for item in doc.items:
        if item.step_id is None:
            continue
        parent = doc.items[item.parent].step_id if item.parent is not None else None
        steps.append(
            Step(
                id=item.step_id,
                title=item.title,
                checked=item.checked,
                line_index=item.line,
                parent=parent,
                section=item.section,
            )
        )
    return Checklist(steps=tuple(steps), has_sections=doc.has_sections)


@dataclass(frozen=True, slots=True)
class Edit:
    """The result of an edit: the new body and what happened.

    ``ticked``: ids of steps whose box went from ``[ ]`` to ``[x]`` (document order);
    ``moved``: ids of top-level steps moved to another section (ascending);
    ``missing``: requested ids not found in the issue.
    """

    body: str
    changed: bool
    ticked: tuple[str, ...]
    moved: tuple[str, ...]
    missing: tuple[str, ...]


# --- edits -----------------------------------------------------------------------------------


def _sort_key(doc: _Doc, k: int) -> tuple[tuple[int, ...], int]:
    step_id = doc.items[k].step_id
    key = _id_key(step_id) if step_id is not None else None
    return (key or (), doc.items[k].line)


def _move_blocks(doc: _Doc, blocks: Sequence[int], target: Section) -> list[_Line]:
    """Move the blocks of items ``blocks`` (in that order) to the end of ``target``'s list."""
    if not blocks:
        return doc.lines
    ranges = [(doc.items[k].line, doc.block_end(k)) for k in blocks]
    removed: set[int] = set()
    for start, end in ranges:
        removed.update(range(start, end))
    moved = [doc.lines[j] for start, end in ranges for j in range(start, end)]
    at = doc.insertion_point(target)
    out: list[_Line] = []
    for j, line in enumerate(doc.lines):
        if j == at:
            out.extend(moved)
        if j not in removed:
            out.append(line)
    if at >= len(doc.lines):
        out.extend(moved)
    _keep_final_newline(doc.lines, out)
    return out


def _keep_final_newline(before: Sequence[_Line], after: list[_Line]) -> None:
    """Line endings act as separators: a body without a final newline stays without one.

    If the unterminated last line moved away from the end, it takes the ending of the line
    that is now last, and that line becomes the unterminated one. If that line is empty (a
    blank line was in front of the block), it has no bytes left and the body ends with the
    separator before it: every byte is kept, none is added, so the body ends in a newline.
    """
    if not before or before[-1].ending or not after:
        return
    orphan = next((j for j, line in enumerate(after) if not line.ending), None)
    last = len(after) - 1
    if orphan is None or orphan == last:
        return
    after[orphan] = _Line(after[orphan].content, after[last].ending)
    after[last] = _Line(after[last].content, "")


def _tick(line: _Line, col: int) -> _Line:
    content = line.content
    return _Line(content[:col] + "x" + content[col + 1 :], line.ending)


def _steps_label(ids: Sequence[str]) -> str:
    if len(ids) == 1:
        return f"Step {ids[0]}"
    return "Steps " + ", ".join(ids)


def _dedupe(steps: Sequence[str]) -> list[str]:
    seen: set[tuple[int, ...] | str] = set()
    out: list[str] = []
    for raw in steps:
        shown = _display_id(raw)
        key: tuple[int, ...] | str = _id_key(raw) or shown
        if key not in seen:
            seen.add(key)
            out.append(shown)
    return out


def complete_steps(
    body: str, steps: Sequence[str], *, pr_number: int, merged_on: datetime.date
) -> Edit:
    """Tick the linked steps (merge of PR ``pr_number`` on ``merged_on``).

    See docs/behaviour.md §5.
    """
    doc = _parse(body)
    requested = _dedupe(steps)
    found: list[str] = []
    missing: list[str] = []
    marked: set[int] = set()

    def mark_down(k: int) -> None:
        marked.add(k)
        for child in doc.items[k].children:
            mark_down(child)

    def is_checked(k: int) -> bool:
        return doc.items[k].checked or k in marked

    for step_id in requested:
        k = doc.find(step_id)
        if k is None:
            missing.append(step_id)
            continue
        found.append(step_id)
        mark_down(k)
        parent = doc.items[k].parent
        while parent is not None and all(is_checked(c) for c in doc.items[parent].children):
            marked.add(parent)
            parent = doc.items[parent].parent

    newly = sorted(k for k in marked if not doc.items[k].checked)
    for k in newly:
        item = doc.items[k]
        doc.lines[item.line] = _tick(doc.lines[item.line], item.box_col)

    if found:
        _rewrite_status(doc, found, pr_number, merged_on, is_checked)

    moving: list[int] = []
    if doc.has_sections:
        moving = [
            k
            for k in newly
            if doc.items[k].parent is None
            and doc.items[k].step_id is not None
            and doc.items[k].section != "completed"
        ]
        moving.sort(key=lambda k: _sort_key(doc, k))
    lines = _move_blocks(doc, moving, "completed")

    new_body = _join(lines)
    return Edit(
        body=new_body,
        changed=new_body != body,
        ticked=tuple(sid for k in newly if (sid := doc.items[k].step_id) is not None),
        moved=tuple(sid for k in moving if (sid := doc.items[k].step_id) is not None),
        missing=tuple(missing),
    )


def _rewrite_status(
    doc: _Doc,
    found: Sequence[str],
    pr_number: int,
    merged_on: datetime.date,
    is_checked: Callable[[int], bool],
) -> None:
    updated = f" {merged_on.isoformat()} - {_steps_label(found)} completed via #{pr_number}"
    open_steps = [
        k
        for k, item in enumerate(doc.items)
        if item.parent is None and item.step_id is not None and not is_checked(k)
    ]
    if open_steps:
        nxt = doc.items[min(open_steps, key=lambda k: _sort_key(doc, k))]
        action = f" Begin Step {nxt.step_id}"
        if nxt.title:
            action += f" - {nxt.title}"
    else:
        action = " All steps complete"
    for j, line in enumerate(doc.lines):
        if doc.fenced[j]:
            continue
        if m := _LAST_UPDATED.match(line.content):
            doc.lines[j] = _Line(m.group("pre") + updated, line.ending)
        elif m := _NEXT_ACTION.match(line.content):
            doc.lines[j] = _Line(m.group("pre") + action, line.ending)


def start_steps(body: str, steps: Sequence[str]) -> Edit:
    """A PR linking these steps was opened: move their top-level steps from PENDING to the end
    of IN PROGRESS, unticked. Nothing else changes."""
    doc = _parse(body)
    missing: list[str] = []
    moving: list[int] = []
    for step_id in _dedupe(steps):
        k = doc.find(step_id)
        if k is None:
            missing.append(step_id)
            continue
        root = doc.root(k)
        item = doc.items[root]
        if (
            doc.has_sections
            and item.step_id is not None
            and item.section == "pending"
            and root not in moving
        ):
            moving.append(root)
    moving.sort(key=lambda k: _sort_key(doc, k))
    lines = _move_blocks(doc, moving, "in_progress")
    new_body = _join(lines)
    return Edit(
        body=new_body,
        changed=new_body != body,
        ticked=(),
        moved=tuple(sid for k in moving if (sid := doc.items[k].step_id) is not None),
        missing=tuple(missing),
    )


# --- comments --------------------------------------------------------------------------------


def step_done_marker(pr_number: int, steps: Sequence[str]) -> str:
    """``<!-- ssot-bot:step-done pr=P steps=1.1,1.2 -->`` (linked ids, no spaces)."""
    ids = ",".join(_dedupe(steps))
    return f"<!-- ssot-bot:step-done pr={pr_number} steps={ids} -->"


def completion_comment(pr_number: int, steps: Sequence[str], edit: Edit) -> str:
    """The issue comment posted when PR ``pr_number`` completing ``steps`` was merged."""
    ids = _dedupe(steps)
    missing = {_id_key(m) or m for m in edit.missing}
    done = [s for s in ids if (_id_key(s) or s) not in missing]
    lines: list[str] = []
    if done:
        lines.append(f"\u2705 {_steps_label(done)} completed via #{pr_number}.")
    else:
        lines.append(f"#{pr_number} was merged, but none of its linked steps is in this issue.")
    extra = [s for s in edit.ticked if (_id_key(s) or s) not in {_id_key(d) for d in done}]
    if extra:
        lines.append("")
        lines.append(f"Also ticked: {', '.join(extra)}.")
    if edit.moved:
        lines.append("")
        lines.append(f"Moved to COMPLETED: {_steps_label(list(edit.moved))}.")
    if edit.missing:
        lines.append("")
        lines.append(
            f"Not found in this issue: {_steps_label(list(edit.missing))} "
            "(check the `SSOT-Step:` line of the pull request)."
        )
    lines.append("")
    lines.append(step_done_marker(pr_number, steps))
    return "\n".join(lines)


def link_error_comment(problems: Sequence[str]) -> str:
    """The PR comment explaining which tracking link could not be followed."""
    lines = [
        "**SSOT tracking link problem**",
        "",
        "This pull request links a tracking issue, but I could not follow the link:",
        "",
    ]
    lines.extend(f"- {problem}" for problem in problems)
    lines.extend(
        [
            "",
            "Expected lines in the pull request body such as:",
            "",
            "```",
            "SSOT-Tracking: #1103",
            "SSOT-Step: 4",
            "```",
            "",
            LINK_ERROR_MARKER,
        ]
    )
    return "\n".join(lines)
