"""The task list of a tracking issue: parse it, tick steps, move them between sections.

Pure functions over the issue body (``str``); docs/behaviour.md §5 and §9. Every edit is line-based
and touches only the lines it owns: the boxes of the steps it ticks, the status at the end of a
heading step it completes, the blocks it moves (a step line with its nested lines), and the
``Last Updated`` / ``Next Action`` lines. Every other byte, including each line's own ending
(LF or CRLF), trailing spaces, non-ASCII text and a missing final newline, stays as it was.

What is a step (§9): a task item (``-``, ``*``, ``+`` or ``1.`` with ``[ ]``, ``[x]``, ``[X]``)
labelled ``Step N`` / ``Phase N`` / ``Stage N`` (any case, bold anywhere, colon inside or
outside the bold, a dash or nothing) or ``N.M`` (a sub-step, colon optional) or ``N:``; or a
heading that names a step, which owns the lines up to the next heading of its level or higher.
A task item wins over a heading, ``Step`` over ``Phase``/``Stage``; every item carrying the
linked id is ticked.
"""

from __future__ import annotations

import bisect
import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot import markers
from bot.markdown_lines import scan_lines
from bot.report.markdown import code_span

Section = Literal["completed", "in_progress", "pending"]
Word = Literal["step", "phase", "none"]

LINK_ERROR_MARKER = markers.LINK_ERROR
MAX_CANDIDATES = 10  # task items listed in a link-error comment for a title link

# --- line model ------------------------------------------------------------------------------

_LIST_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_TASK = re.compile(
    r"^(?P<indent>[ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+\[(?P<box>[ xX])\](?P<rest>[ \t].*|)$"
)
_DECO = r"(?P<deco>(?:[^\w\s*_\[\]()#:|`]\ufe0f?[ \t]*){0,3})"
_LABEL_BODY = r"""
    (?P<open>\*\*|__)?[ \t]*
    (?:(?P<word>step|phase|stage)[ \t]*)?
    \#?(?P<id>\d{1,6}(?:\.\d{1,6}){0,4})(?=[\s*_:\-\u2013\u2014)]|$)
    (?P<mid>[ \t]*(?:\*\*|__)?[ \t]*)
    (?P<sep>:|[-\u2013\u2014](?=[ \t]))?
    (?P<post>[ \t]*(?:\*\*|__)?[ \t]*)
    (?P<title>.*)$"""
# The text after a box: "**Step 1**: title", "STEP 1.2: T", "1.1: title", "5.1 Run", ...
_STEP = re.compile(r"^[ \t]*" + _DECO + _LABEL_BODY, re.IGNORECASE | re.VERBOSE)
# A heading's text: "Step 3: Plan 🔄 IN PROGRESS", "**STEP 1**: X (PENDING)", "⏳ Phase 6: X",
# "NEXT: STEP 1 - X" (a word and a colon may come first).
_HEADING_STEP = re.compile(
    r"^[ \t]*" + _DECO + r"(?:[A-Za-z]{1,20}[ \t]*:[ \t]*)?" + _LABEL_BODY,
    re.IGNORECASE | re.VERBOSE,
)
# A table row naming a step: "| Step 6 | ... |", "| **Phase 2** | ..."
_TABLE_STEP = re.compile(
    r"^[ \t]*\|[ \t]*" + _DECO + r"(?:\*\*|__)?[ \t]*(?P<word>step|phase|stage)[ \t]*"
    r"(?P<id>\d{1,6}(?:\.\d{1,6}){0,4})\b",
    re.IGNORECASE,
)
_PENDING_EMOJI = "\u23f3\U0001f4cb\U0001f504"  # ⏳ 📋 🔄
_DONE_EMOJI = "\u2705"
_STATUS_WORDS = (r"PENDING|PLANNED|IN[ \t]+PROGRESS|TO[ \t]?DO|NOT[ \t]+STARTED"
                 r"|COMPLETED|COMPLETE|DONE")
_STATUS_END = re.compile(
    r"(?P<emoji>[" + _PENDING_EMOJI + _DONE_EMOJI + r"]\ufe0f?[ \t]*)?"
    r"(?P<open>[(\[][ \t]*)?(?P<bold>\*\*|__)?"
    r"(?P<word>" + _STATUS_WORDS + r")"
    r"(?:\*\*|__)?(?:[ \t]*[)\]])?[ \t]*$"
    r"|(?P<lone>[" + _PENDING_EMOJI + _DONE_EMOJI + r"])\ufe0f?[ \t]*$",
    re.IGNORECASE,
)
_SECTION_WORDS: tuple[tuple[Section, re.Pattern[str]], ...] = (
    ("completed", re.compile(r"\b(?:COMPLETED|DONE)\b|\u2705", re.IGNORECASE)),
    ("in_progress", re.compile(r"\bIN[\s_-]*PROGRESS\b|\bCURRENT\b|\U0001f504", re.IGNORECASE)),
    ("pending", re.compile(r"\b(?:PENDING|NEXT|UPCOMING|PLANNED|TODO)\b|\u23f3", re.IGNORECASE)),
)
_FOOTER_KEY = re.compile(
    r"^(?P<lead>[ \t]*(?:[-*+][ \t]+)?)(?P<em>\*\*|__|\*|_)?"
    r"(?P<key>last[ \t]+updated|next[ \t]+action)",
    re.IGNORECASE,
)
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_]|[*_](?!\w)|`")


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


_ID_TEXT = re.compile(r"(?:(?:step|phase|stage)[ \t]*)?#?(\d+(?:\.\d+)*)", re.IGNORECASE)


def _id_key(step_id: str) -> tuple[int, ...] | None:
    """``"1.1"`` -> ``(1, 1)``; also accepts ``"Step 4"``, ``"#4"``; None if not a step id."""
    m = _ID_TEXT.fullmatch(step_id.strip())
    if m is None or len(m.group(1)) > 40:
        return None
    return tuple(int(part) for part in m.group(1).split("."))


def _display_id(step_id: str) -> str:
    text = step_id.strip()
    m = _ID_TEXT.fullmatch(text)
    if m is None:
        return text
    return ".".join(str(int(p)) for p in m.group(1).split("."))


def is_title_link(step: str) -> bool:
    """``"Execute Remediation"`` (quoted in the PR body) links an item by its title."""
    return len(step) >= 2 and step[0] == '"' and step[-1] == '"'


def _plain(text: str) -> str:
    """Text without Markdown emphasis, whitespace collapsed, case folded (title matching)."""
    return " ".join(_EMPHASIS.sub("", text).split()).casefold()


def _section_of(heading_text: str) -> Section | None:
    best: tuple[int, Section] | None = None
    for name, pattern in _SECTION_WORDS:
        m = pattern.search(heading_text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), name)
    return best[1] if best else None


def _word(raw: str | None) -> Word:
    if not raw:
        return "none"
    return "step" if raw.lower() == "step" else "phase"


def _clean_title(m: re.Match[str]) -> str:
    """The title after a label, without the bold that opened before the label."""
    title = m.group("title")
    opener = m.group("open")
    if opener and opener not in (m.group("mid") or "") + (m.group("post") or ""):
        title = title.replace(opener, "", 1)
    return " ".join(title.split())


# --- parsed document -------------------------------------------------------------------------


@dataclass(slots=True)
class _Node:
    """A task item (a step or not) or a heading that names a step."""

    kind: Literal["task", "heading"]
    line: int
    indent: int  # task: indent width; heading: level
    box_col: int  # task: column of the box character; heading: -1
    checked: bool
    step_id: str | None
    word: Word
    title: str
    section: Section | None
    text: str = ""  # task: the text after the box
    block: tuple[int, int] = (0, 0)  # heading: the lines it owns (after itself)
    status: re.Match[str] | None = None  # heading: its trailing status
    deco: tuple[int, int] | None = None  # heading: a leading status emoji's span
    parent: int | None = None  # index into _Doc.nodes
    children: list[int] = field(default_factory=list)
    owner: int | None = None  # task: the heading step whose block holds it

    @property
    def has_box(self) -> bool:
        return self.kind == "task" or self.status is not None or self.deco is not None


@dataclass(slots=True)
class _Doc:
    lines: list[_Line]
    nodes: list[_Node]
    fenced: list[bool]
    open_after: list[bool]
    headings: list[int]
    levels: dict[int, int]  # heading line -> level
    list_lines: list[bool]
    groups: list[tuple[int, Section]]  # group headings in order
    boxless: dict[tuple[int, ...], int]  # step ids named by lines without a box -> line
    boxes: dict[int, list[int]] = field(default_factory=dict)  # heading node -> its boxes
    by_key: dict[tuple[int, ...], list[int]] | None = None  # step id -> nodes (built lazily)
    heading_set: frozenset[int] = frozenset()
    task_lines: list[tuple[int, int]] = field(default_factory=list)  # (line, node) of tasks

    def last_group(self, section: Section) -> int | None:
        found = [line for line, s in self.groups if s == section]
        return found[-1] if found else None

    @property
    def has_sections(self) -> bool:
        kinds = {s for _, s in self.groups}
        return "completed" in kinds and len(kinds) >= 2

    def candidates(self, key: tuple[int, ...]) -> list[int]:
        """The nodes a link to ``key`` means (§9 precedence): task items labelled Step (or
        unlabelled), else Phase/Stage task items, else Step headings, else Phase headings."""
        if self.by_key is None:
            self.by_key = {}
            for j, node in enumerate(self.nodes):
                node_key = _id_key(node.step_id) if node.step_id is not None else None
                if node_key is not None:
                    self.by_key.setdefault(node_key, []).append(j)
        tiers: dict[tuple[str, Word], list[int]] = {}
        for k in self.by_key.get(key, ()):
            node = self.nodes[k]
            word: Word = "phase" if node.word == "phase" else "step"
            tiers.setdefault((node.kind, word), []).append(k)
        for tier in (("task", "step"), ("task", "phase"), ("heading", "step"),
                     ("heading", "phase")):
            if tier in tiers:
                return tiers[tier]
        return []

    def root(self, k: int) -> int:
        while (parent := self.nodes[k].parent) is not None:
            k = parent
        return k

    def block_end(self, k: int) -> int:
        """Exclusive end line of task k's block: its line and the more-indented lines after it."""
        item = self.nodes[k]
        headings = self.heading_set or frozenset(self.headings)
        self.heading_set = headings
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

    def section_range(self, start: int) -> tuple[int, int]:
        end = next((h for h in self.headings if h > start), len(self.lines))
        return start, end

    def insertion_point(self, heading: int) -> int:
        """Line index before which a block lands at the end of the list under ``heading``."""
        start, end = self.section_range(heading)
        last_list = next((j for j in range(end - 1, start, -1) if self.list_lines[j]), None)
        if last_list is None:
            j = next((j for j in range(end - 1, start, -1) if self.lines[j].content.strip()),
                     start)
        else:
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


def _task_label(rest: str) -> tuple[str, Word, str] | None:
    m = _STEP.match(rest)
    if m is None:
        return None
    word = m.group("word")
    step_id = m.group("id")
    if not (word or m.group("sep") == ":" or "." in step_id):
        return None
    if m.group("deco").strip() and not word:
        return None
    return step_id, _word(word), _clean_title(m)


def _heading_status(text: str) -> tuple[re.Match[str] | None, tuple[int, int] | None]:
    """The trailing status of a heading's text and a leading status emoji (spans in ``text``)."""
    status = _STATUS_END.search(text)
    m = _HEADING_STEP.match(text)
    deco: tuple[int, int] | None = None
    if m is not None:
        d = m.group("deco")
        at = m.start("deco")
        for ch in (_PENDING_EMOJI + _DONE_EMOJI):
            pos = d.find(ch)
            if pos >= 0:
                deco = (at + pos, at + pos + len(ch))
                break
    return status, deco


def _status_done(node: _Node, text: str) -> bool:
    if node.status is not None:
        word = node.status.group("word") or ""
        emoji = node.status.group("emoji") or node.status.group("lone") or ""
        if word:
            return word.upper() in ("COMPLETED", "COMPLETE", "DONE")
        return _DONE_EMOJI in emoji
    if node.deco is not None:
        return text[node.deco[0]:node.deco[1]] == _DONE_EMOJI
    return False


def _parse(body: str) -> _Doc:
    lines = _split(body)
    md = scan_lines([line.content for line in lines])
    n = len(lines)
    nodes: list[_Node] = []
    fenced = [m.fenced for m in md]
    open_after = [m.open_after for m in md]
    list_lines = [False] * n
    headings = [i for i, m in enumerate(md) if m.heading]
    levels = {i: md[i].heading for i in headings}
    boxless: dict[tuple[int, ...], int] = {}
    heading_nodes: dict[int, int] = {}  # heading line -> node index

    # headings: steps, then groups (a step heading is never a group)
    ends: dict[int, int] = {}  # heading line -> end of its block (next heading of level <=)
    open_headings: list[int] = []
    for h in headings:
        while open_headings and levels[open_headings[-1]] >= levels[h]:
            ends[open_headings.pop()] = h
        open_headings.append(h)
    for h in open_headings:
        ends[h] = n
    heading_texts: dict[int, str] = {}
    for i in headings:
        text = md[i].text.lstrip(" ")[levels[i]:]
        heading_texts[i] = text
        hm = _HEADING_STEP.match(text)
        if hm is None or not hm.group("word"):
            continue
        end = ends[i]
        status, deco = _heading_status(text)
        title = _clean_title(hm)
        ts = _STATUS_END.search(title)
        if ts is not None:
            title = title[: ts.start()].rstrip(" \t-\u2013\u2014:")
        node = _Node(kind="heading", line=i, indent=levels[i], box_col=-1, checked=False,
                     step_id=hm.group("id"), word=_word(hm.group("word")), title=title,
                     section=None, block=(i + 1, end), status=status, deco=deco)
        node.checked = _status_done(node, text)
        heading_nodes[i] = len(nodes)
        nodes.append(node)

    def paragraphs_and_tasks(start: int, end: int) -> tuple[bool, bool]:
        prose = tasks = False
        for j in range(start, end):
            if not md[j].visible or md[j].heading or not lines[j].content.strip():
                continue
            if _TASK.match(md[j].text):
                tasks = True
            else:
                prose = True
        return prose, tasks

    groups: list[tuple[int, Section]] = []
    for i in headings:
        if i in heading_nodes:
            continue
        group = _section_of(heading_texts[i])
        if group is None:
            continue
        end = ends[i]
        prose, tasks = paragraphs_and_tasks(i + 1, end)
        if tasks or not prose:
            groups.append((i, group))
    group_at = dict(groups)

    section: Section | None = None
    owner: int | None = None  # the heading step whose block we are in
    stack: list[tuple[int, int | None]] = []
    for i in range(n):
        if not md[i].visible:
            continue
        content = md[i].text
        if md[i].heading:
            section = group_at.get(i)
            if i in heading_nodes:
                owner = heading_nodes[i]
            elif owner is not None and i >= nodes[owner].block[1]:
                owner = None
            stack.clear()
            continue
        if owner is not None and i >= nodes[owner].block[1]:
            owner = None
        if not content.strip():
            continue
        if tm := _TABLE_STEP.match(content):
            boxless.setdefault(tuple(int(p) for p in tm.group("id").split(".")), i)
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
            label = _task_label(content[lm.end():])
            if label is not None and label[1] != "none":
                boxless.setdefault(_id_key(label[0]) or (), i)
            stack.append((indent, None))
            continue
        rest = tm.group("rest")
        found = _task_label(rest)
        step_id: str | None = None
        word: Word = "none"
        title = rest.strip()
        if found is not None:
            step_id, word, title = found
        if parent is None and owner is not None and step_id is not None and "." in step_id:
            parent = owner  # "N.M" items in a heading step's block are its sub-steps
        node = _Node(kind="task", line=i, indent=indent, box_col=tm.start("box"),
                     checked=tm.group("box") != " ", step_id=step_id, word=word, title=title,
                     section=section, text=rest.strip(), owner=owner)
        nodes.append(node)
        k = len(nodes) - 1
        if parent is not None:
            nodes[parent].children.append(k)
        node.parent = parent
        stack.append((indent, k))

    return _Doc(lines, nodes, fenced, open_after, headings, levels, list_lines, groups, boxless)


def _heading_boxes(doc: _Doc, k: int) -> list[int]:
    """The task items in heading step k's block (every box it owns)."""
    cached = doc.boxes.get(k)
    if cached is None:
        if not doc.task_lines:
            doc.task_lines = sorted((node.line, j) for j, node in enumerate(doc.nodes)
                                    if node.kind == "task")
        start, end = doc.nodes[k].block
        lo = bisect.bisect_left(doc.task_lines, (start, -1))
        hi = bisect.bisect_left(doc.task_lines, (end, -1))
        cached = [j for _, j in doc.task_lines[lo:hi]]
        doc.boxes[k] = cached
    return cached


def _finish_headings(doc: _Doc) -> None:
    """A heading step without a status is done when its block has boxes, all ticked."""
    for k, node in enumerate(doc.nodes):
        if node.kind == "heading" and node.status is None and node.deco is None:
            boxes = _heading_boxes(doc, k)
            node.checked = bool(boxes) and all(doc.nodes[b].checked for b in boxes)


def _parse_doc(body: str) -> _Doc:
    doc = _parse(body)
    _finish_headings(doc)
    return doc


# --- public model ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """A step of the checklist: ``- [ ] **Step 1**: title``, a sub-item ``- [ ] 1.1: title``,
    or a heading step (``heading=True``).

    ``line_index`` is 0-based; ``parent`` is the id of the enclosing step (None for a
    top-level step); ``section`` names the group heading the item sits under.
    """

    id: str
    title: str
    checked: bool
    line_index: int
    parent: str | None
    section: Section | None
    heading: bool = False


@dataclass(frozen=True, slots=True)
class Checklist:
    steps: tuple[Step, ...]
    has_sections: bool  # a COMPLETED group heading and at least one other

    def get(self, step_id: str) -> Step | None:
        """The first step with this id (``"4"``, ``"1.1"``, ``"Step 4"``), or None."""
        key = _id_key(step_id)
        if key is None:
            return None
        return next((s for s in self.steps if _id_key(s.id) == key), None)

    @property
    def is_tracking(self) -> bool:
        """The body holds a step checklist (a step with a box to tick)."""
        return bool(self.steps)


def parse_checklist(body: str) -> Checklist:
    doc = _parse_doc(body)
    steps: list[Step] = []
    for k, node in enumerate(doc.nodes):
        if node.step_id is None:
            continue
        if node.kind == "heading" and not _tickable(doc, k):
            continue
        parent = doc.nodes[node.parent].step_id if node.parent is not None else None
        steps.append(Step(id=node.step_id, title=node.title, checked=node.checked,
                          line_index=node.line, parent=parent, section=node.section,
                          heading=node.kind == "heading"))
    return Checklist(steps=tuple(steps), has_sections=doc.has_sections)


def last_step(body: str) -> str | None:
    """The id of the last top-level step (the process's "PR and closure"), or None."""
    doc = _parse_doc(body)
    keys = [key for node in doc.nodes
            if node.parent is None and node.step_id is not None
            and (key := _id_key(node.step_id)) is not None
            and any(_tickable(doc, k) for k in doc.candidates(key))]
    if not keys:
        return None
    return ".".join(map(str, max(keys)))


def _tickable(doc: _Doc, k: int) -> bool:
    node = doc.nodes[k]
    return node.has_box or bool(_heading_boxes(doc, k))


@dataclass(frozen=True, slots=True)
class TitleProblem:
    """A title link (``SSOT-Step: "Execute Remediation"``) that matched no or several items;
    ``candidates``: the unticked items it matched (several) or could have (none)."""

    title: str
    candidates: tuple[str, ...]
    several: bool


@dataclass(frozen=True, slots=True)
class Edit:
    """The result of an edit: the new body and what happened.

    ``ticked``: ids (or titles) of items whose box went from ``[ ]`` to ``[x]`` (document order);
    ``completed``: heading steps whose status became COMPLETED;
    ``moved``: ids of top-level steps moved to another section (ascending);
    ``missing``: requested ids not found in the issue; ``no_box``: ids of steps that have no
    checkbox to tick; ``unmatched``: title links that matched no or several items.
    """

    body: str
    changed: bool
    ticked: tuple[str, ...]
    moved: tuple[str, ...]
    missing: tuple[str, ...]
    no_box: tuple[str, ...] = ()
    unmatched: tuple[TitleProblem, ...] = ()
    completed: tuple[str, ...] = ()

    def found_any(self, requested: Sequence[str]) -> bool:
        """Some requested link was found (and so done, now or before)."""
        bad = set(self.missing) | set(self.no_box) | {p.title for p in self.unmatched}
        return any(_display_id(s) not in bad for s in requested)


# --- edits -----------------------------------------------------------------------------------


def _sort_key(doc: _Doc, k: int) -> tuple[tuple[int, ...], int]:
    step_id = doc.nodes[k].step_id
    key = _id_key(step_id) if step_id is not None else None
    return (key or (10**9,), doc.nodes[k].line)


def _node_label(node: _Node) -> str:
    return node.step_id if node.step_id is not None else node.text


def _move_blocks(doc: _Doc, blocks: Sequence[int], target: int) -> list[_Line]:
    """Move the blocks of task nodes ``blocks`` (in that order) to the end of the list under
    heading line ``target``."""
    if not blocks:
        return doc.lines
    ranges = [(doc.nodes[k].line, doc.block_end(k)) for k in blocks]
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
    """A body without a final newline stays without one.

    If the unterminated last line moved away from the end, it takes the ending of the line
    that is now last, and that line becomes the unterminated one. Empty lines left at the very
    end (the blank line that stood in front of the moved block) go with the block's separator:
    an unterminated empty last line would read as a final newline.
    """
    if not before or before[-1].ending or not after:
        return
    orphan = next((j for j, line in enumerate(after) if not line.ending), None)
    last = len(after) - 1
    if orphan is None or orphan == last:
        return
    after[orphan] = _Line(after[orphan].content, after[last].ending)
    after[last] = _Line(after[last].content, "")
    while len(after) > 1 and after[-1].content == "" and after[-1].ending == "":
        after.pop()
        after[-1] = _Line(after[-1].content, "")


def _tick(line: _Line, col: int) -> _Line:
    content = line.content
    return _Line(content[:col] + "x" + content[col + 1:], line.ending)


def _styled(word: str, new: str) -> str:
    if word.isupper():
        return new.upper()
    if word[:1].isupper():
        return new.capitalize()
    return new.lower()


def _complete_heading(line: _Line, node: _Node) -> _Line:
    """Rewrite a heading step's status to COMPLETED (its emoji to ✅), keeping its style."""
    content = line.content
    h = re.match(r"^ {0,3}#{1,6}", content)
    if h is None:
        return line
    text_at = h.end()
    edits: list[tuple[int, int, str]] = []
    st = node.status
    if st is not None:
        if st.group("word"):
            edits.append((st.start("word"), st.end("word"), _styled(st.group("word"),
                                                                    "completed")))
            emoji = st.group("emoji")
            if emoji and emoji[0] in _PENDING_EMOJI:
                edits.append((st.start("emoji"), st.start("emoji") + 1, _DONE_EMOJI))
        elif st.group("lone") and st.group("lone") in _PENDING_EMOJI:
            edits.append((st.start("lone"), st.end("lone"), _DONE_EMOJI))
    if node.deco is not None and content[text_at + node.deco[0]] in _PENDING_EMOJI:
        edits.append((node.deco[0], node.deco[1], _DONE_EMOJI))
    for start, end, new in sorted(set(edits), reverse=True):
        content = content[: text_at + start] + new + content[text_at + end:]
    return _Line(content, line.ending)


def _steps_label(ids: Sequence[str]) -> str:
    if len(ids) == 1:
        return f"Step {ids[0]}"
    return "Steps " + ", ".join(ids)


def _dedupe(steps: Sequence[str]) -> list[str]:
    seen: set[tuple[int, ...] | str] = set()
    out: list[str] = []
    for raw in steps:
        shown = raw if is_title_link(raw) else _display_id(raw)
        key: tuple[int, ...] | str = (_plain(raw) if is_title_link(raw)
                                      else _id_key(raw) or shown)
        if key not in seen:
            seen.add(key)
            out.append(shown)
    return out


def _matches_title(node: _Node, want: str) -> bool:
    for text in (_plain(node.text), _plain(node.title)):
        if text == want or (text.startswith(want) and not text[len(want)].isalnum()):
            return True
    return False


def _by_title(doc: _Doc, title: str) -> tuple[list[int], TitleProblem | None]:
    want = _plain(title[1:-1])
    tasks = [k for k, node in enumerate(doc.nodes) if node.kind == "task"]
    if want:
        open_hits = [k for k in tasks if not doc.nodes[k].checked
                     and _matches_title(doc.nodes[k], want)]
        if len(open_hits) == 1:
            return open_hits, None
        if len(open_hits) > 1:
            return [], TitleProblem(title, tuple(doc.nodes[k].text
                                                 for k in open_hits[:MAX_CANDIDATES]), True)
        done = [k for k in tasks if doc.nodes[k].checked and _matches_title(doc.nodes[k], want)]
        if done:
            return done[:1], None  # done already (a replay)
    unticked = [doc.nodes[k].text for k in tasks if not doc.nodes[k].checked]
    return [], TitleProblem(title, tuple(unticked[:MAX_CANDIDATES]), False)


@dataclass(slots=True)
class _Resolved:
    found: list[tuple[str, list[int]]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    no_box: list[str] = field(default_factory=list)
    unmatched: list[TitleProblem] = field(default_factory=list)


def _resolve(doc: _Doc, steps: Sequence[str]) -> _Resolved:
    out = _Resolved()
    for step in _dedupe(steps):
        if is_title_link(step):
            nodes, problem = _by_title(doc, step)
            if problem is not None:
                out.unmatched.append(problem)
            else:
                out.found.append((step, nodes))
            continue
        key = _id_key(step)
        candidates = doc.candidates(key) if key is not None else []
        if not candidates:
            if key is not None and key in doc.boxless:
                out.no_box.append(step)
            else:
                out.missing.append(step)
            continue
        boxed = [k for k in candidates if _tickable(doc, k)]
        if not boxed:
            out.no_box.append(step)
            continue
        out.found.append((step, boxed))
    return out


def complete_steps(
    body: str, steps: Sequence[str], *, pr_number: int, merged_on: datetime.date,
    pr_ref: str | None = None,
) -> Edit:
    """Tick the linked steps (merge of PR ``pr_number`` on ``merged_on``); docs/behaviour.md
    §5, §9. ``pr_ref`` names the PR in the footer when it is not in the issue's repository."""
    doc = _parse_doc(body)
    res = _resolve(doc, steps)
    marked: set[int] = set()
    done_headings: set[int] = set()

    def is_checked(k: int) -> bool:
        return doc.nodes[k].checked or k in marked or k in done_headings

    def mark(k: int) -> None:
        node = doc.nodes[k]
        if node.kind == "heading":
            done_headings.add(k)
            for b in _heading_boxes(doc, k):
                marked.add(b)
            return
        marked.add(k)
        for child in node.children:
            mark(child)

    def roll_up(k: int) -> None:
        parent = doc.nodes[k].parent
        while parent is not None:
            node = doc.nodes[parent]
            if node.kind == "heading":
                if all(is_checked(b) for b in _heading_boxes(doc, parent)):
                    done_headings.add(parent)
                return
            if not all(is_checked(c) for c in node.children):
                return
            marked.add(parent)
            parent = node.parent

    for _, nodes in res.found:
        for k in nodes:
            mark(k)
            roll_up(k)

    newly = sorted(k for k in marked if not doc.nodes[k].checked)
    for k in newly:
        node = doc.nodes[k]
        doc.lines[node.line] = _tick(doc.lines[node.line], node.box_col)
    completed = sorted(k for k in done_headings if not doc.nodes[k].checked)
    for k in completed:
        node = doc.nodes[k]
        doc.lines[node.line] = _complete_heading(doc.lines[node.line], node)

    found = [step for step, _ in res.found]
    if found:
        _rewrite_footer(doc, found, pr_ref or f"#{pr_number}", merged_on, is_checked)

    moving: list[int] = []
    target = doc.last_group("completed")
    if doc.has_sections and target is not None:
        moving = [k for k in newly
                  if doc.nodes[k].kind == "task" and doc.nodes[k].parent is None
                  and doc.nodes[k].owner is None and doc.nodes[k].section != "completed"
                  and (doc.nodes[k].step_id is not None
                       or any(k in nodes for _, nodes in res.found))]
        moving.sort(key=lambda k: _sort_key(doc, k))
    lines = _move_blocks(doc, moving, target) if target is not None else doc.lines

    new_body = _join(lines)
    return Edit(
        body=new_body,
        changed=new_body != body,
        ticked=tuple(_node_label(doc.nodes[k]) for k in newly
                     if doc.nodes[k].step_id is not None
                     or any(k in nodes for _, nodes in res.found)),
        moved=tuple(_node_label(doc.nodes[k]) for k in moving),
        missing=tuple(res.missing),
        no_box=tuple(res.no_box),
        unmatched=tuple(res.unmatched),
        completed=tuple(doc.nodes[k].step_id or "" for k in completed),
    )


def _footer(content: str) -> tuple[str, str, str] | None:
    """``(prefix up to the colon, key, suffix)`` of a Last Updated / Next Action line in any
    style: ``**Key**:``, ``**Key:**``, ``*Key: ...*``, ``_Key: ..._``, ``Key:``."""
    m = _FOOTER_KEY.match(content)
    if m is None:
        return None
    em = m.group("em") or ""
    key = re.sub(r"\s+", " ", m.group("key")).lower()
    rest = content[m.end():]
    if em:
        after = rest[len(em):] if rest.startswith(em) else None
        if after is not None and after.lstrip(" \t").startswith(":"):  # **Key**:
            colon = len(em) + (len(after) - len(after.lstrip(" \t"))) + 1
            return content[: m.end() + colon], key, ""
        if rest.startswith(":" + em):  # **Key:**
            return content[: m.end() + 1 + len(em)], key, ""
        stripped = rest.rstrip(" \t")
        if rest.startswith(":") and stripped.endswith(em) and len(stripped) > len(em):
            tail = rest[len(stripped) - len(em):]  # *Key: value*  (whole line emphasised)
            return content[: m.end() + 1], key, tail
        return None
    after = rest.lstrip(" \t")
    if after.startswith(":") and after[1:2] not in ("*", "_"):
        return content[: m.end() + (len(rest) - len(after)) + 1], key, ""
    return None


def _rewrite_footer(
    doc: _Doc, found: Sequence[str], pr_ref: str, merged_on: datetime.date,
    is_checked: object,
) -> None:
    check = is_checked if callable(is_checked) else (lambda k: False)
    ids = [s[1:-1] if is_title_link(s) else s for s in found]
    label = (_steps_label(ids) if not any(is_title_link(s) for s in found)
             else ", ".join(f'"{i}"' for i in ids))
    updated = f"{merged_on.isoformat()} - {label} completed via {pr_ref}"
    open_keys: dict[tuple[int, ...], _Node] = {}
    for node in doc.nodes:
        if node.parent is not None or node.step_id is None:
            continue
        key = _id_key(node.step_id)
        if key is None or key in open_keys:
            continue
        tops = [k for k in doc.candidates(key) if doc.nodes[k].parent is None
                and _tickable(doc, k)]
        if tops and not all(check(k) for k in tops):
            open_keys[key] = doc.nodes[tops[0]]
    if open_keys:
        key = min(open_keys)
        nxt = open_keys[key]
        action = f"Begin Step {'.'.join(map(str, key))}"
        if nxt.title:
            action += f" - {nxt.title}"
    else:
        action = "All steps complete"
    for j, line in enumerate(doc.lines):
        if doc.fenced[j]:
            continue
        parts = _footer(line.content)
        if parts is None:
            continue
        pre, key_name, post = parts
        text = updated if key_name == "last updated" else action
        doc.lines[j] = _Line(f"{pre} {text}{post}", line.ending)


def start_steps(body: str, steps: Sequence[str]) -> Edit:
    """A PR linking these steps was opened: move their top-level task steps from a PENDING
    group to the end of the (last) IN PROGRESS group, unticked. Nothing else changes."""
    doc = _parse_doc(body)
    res = _resolve(doc, steps)
    target = doc.last_group("in_progress")
    moving: list[int] = []
    for _, nodes in res.found:
        for k in nodes:
            root = doc.root(k)
            node = doc.nodes[root]
            if (target is not None and node.kind == "task" and node.section == "pending"
                    and not node.checked and root not in moving):
                moving.append(root)
    moving.sort(key=lambda k: _sort_key(doc, k))
    lines = _move_blocks(doc, moving, target) if target is not None else doc.lines
    new_body = _join(lines)
    return Edit(
        body=new_body,
        changed=new_body != body,
        ticked=(),
        moved=tuple(_node_label(doc.nodes[k]) for k in moving),
        missing=tuple(res.missing),
        no_box=tuple(res.no_box),
        unmatched=tuple(res.unmatched),
    )


# --- comments --------------------------------------------------------------------------------


def _marker_id(step: str) -> str:
    if is_title_link(step):
        slug = re.sub(r"[^a-z0-9]+", "-", _plain(step[1:-1])).strip("-")[:60]
        return f"title:{slug or '-'}"
    return _display_id(step)


def step_done_marker(pr_number: int, steps: Sequence[str]) -> str:
    """``<!-- ssot-bot:step-done pr=P steps=1.1,1.2 -->`` (linked ids, no spaces)."""
    return markers.step_done(pr_number, [_marker_id(s) for s in _dedupe(steps)])


def _shown_steps(ids: Sequence[str]) -> str:
    """Step ids as the bot writes them; title links (user text) only as code spans."""
    numbered = [s for s in ids if not is_title_link(s)]
    titles = [code_span(s[1:-1]) for s in ids if is_title_link(s)]
    parts = [_steps_label(numbered)] if numbered else []
    parts.extend(titles)
    return ", ".join(parts)


def completion_comment(pr_number: int, steps: Sequence[str], edit: Edit,
                       pr_ref: str | None = None) -> str:
    """The issue comment posted when PR ``pr_number`` completing ``steps`` was merged."""
    ref = pr_ref or f"#{pr_number}"
    ids = _dedupe(steps)
    bad = set(edit.missing) | set(edit.no_box) | {p.title for p in edit.unmatched}
    done = [s for s in ids if s not in bad]
    lines: list[str] = []
    if done:
        lines.append(f"\u2705 {_shown_steps(done)} completed via {ref}.")
    else:
        lines.append(f"{ref} was merged, but none of its linked steps is in this issue.")
    done_keys = {_id_key(d) for d in done}
    extra = [s for s in edit.ticked
             if _id_key(s) is not None and _id_key(s) not in done_keys]
    if extra:
        lines.append("")
        lines.append(f"Also ticked: {', '.join(extra)}.")
    if edit.moved:
        lines.append("")
        shown = [m for m in edit.moved if _id_key(m) is not None]
        titles = [code_span(m) for m in edit.moved if _id_key(m) is None]
        lines.append("Moved to COMPLETED: "
                     + ", ".join(([_steps_label(shown)] if shown else []) + titles) + ".")
    if edit.missing:
        lines.append("")
        lines.append(
            f"Not found in this issue: {_steps_label(list(edit.missing))} "
            "(check the `SSOT-Step:` line of the pull request)."
        )
    for step in edit.no_box:
        lines.append("")
        lines.append(f"Step {step} has no checkbox to tick.")
    lines.append("")
    lines.append(step_done_marker(pr_number, steps))
    return "\n".join(lines)


def link_error_comment(problems: Sequence[str]) -> str:
    """The PR comment explaining which tracking link could not be followed. ``problems`` are
    sentences the bot wrote; any user text in them is already a code span."""
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


def edit_problems(ref: str, edit: Edit, *, neutral: bool = False) -> list[str]:
    """Sentences for the link-error comment about what ``edit`` could not find in issue
    ``ref`` (a text the bot built). ``neutral``: the issue is in another repository; say the
    same whether the issue exists or not (:func:`neutral_problem`)."""
    out: list[str] = []
    if edit.missing:
        if neutral:
            out.append(neutral_problem(ref, edit.missing))
        else:
            word = "step" if len(edit.missing) == 1 else "steps"
            out.append(f"{ref} has no {word} {', '.join(edit.missing)}")
    out.extend(f"Step {step} has no checkbox to tick (in {ref})" for step in edit.no_box)
    for problem in edit.unmatched:
        title = code_span(problem.title[1:-1])
        if problem.several:
            out.append(f"{title} matches several unticked items of {ref}: "
                       + ", ".join(code_span(c, limit=80) for c in problem.candidates))
        elif problem.candidates:
            out.append(f"{title} matches no unticked item of {ref}; its unticked items: "
                       + ", ".join(code_span(c, limit=80) for c in problem.candidates))
        else:
            out.append(f"{title} matches no unticked item of {ref}")
    return out


def neutral_problem(ref: str, steps: Sequence[str]) -> str:
    """One sentence for an issue of another repository that was not found or has no such step:
    the same words either way, so nothing tells whether the issue exists."""
    word = "step" if len(steps) == 1 else "steps"
    return f"{ref}: found no tracking issue with {word} {', '.join(steps)} there"
