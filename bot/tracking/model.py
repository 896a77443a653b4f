"""The task list of a tracking issue as the bot reads it: lines, steps, sections.

Pure functions over the issue body (``str``); docs/behaviour.md §5 and §9. What is a step (§9):
a task item (``-``, ``*``, ``+`` or ``1.`` with ``[ ]``, ``[x]``, ``[X]``) labelled ``Step N`` /
``Phase N`` / ``Stage N`` (any case, bold anywhere, colon inside or outside the bold, a dash or
nothing) or ``N.M`` (a sub-step, colon optional) or ``N:``; or a heading (ATX or setext) that
names a step, which owns the lines up to the next heading of its level or higher. A task item
wins over a heading, ``Step`` over ``Phase``/``Stage``; every item carrying the linked id is
ticked. Which lines are code, headings, quotes or HTML is CommonMark's
(:func:`bot.markdown_lines.scan_blocks`).

:mod:`bot.tracking.edit` changes the body; :mod:`bot.tracking.messages` says what happened.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.markdown_lines import scan_blocks

Section = Literal["completed", "in_progress", "pending"]
Word = Literal["step", "phase", "none"]

# --- line model ------------------------------------------------------------------------------

_LIST_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
TASK = re.compile(
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
PENDING_EMOJI = "\u23f3\U0001f4cb\U0001f504"  # ⏳ 📋 🔄
DONE_EMOJI = "\u2705"
_STATUS_WORDS = (r"PENDING|PLANNED|IN[ \t]+PROGRESS|TO[ \t]?DO|NOT[ \t]+STARTED"
                 r"|COMPLETED|COMPLETE|DONE")
_STATUS_END = re.compile(
    r"(?P<emoji>[" + PENDING_EMOJI + DONE_EMOJI + r"]\ufe0f?[ \t]*)?"
    r"(?P<open>[(\[][ \t]*)?(?P<bold>\*\*|__)?"
    r"(?P<word>" + _STATUS_WORDS + r")"
    r"(?:\*\*|__)?(?:[ \t]*[)\]])?[ \t]*$"
    r"|(?P<lone>[" + PENDING_EMOJI + DONE_EMOJI + r"])\ufe0f?[ \t]*$",
    re.IGNORECASE,
)
_SECTION_WORDS: tuple[tuple[Section, re.Pattern[str]], ...] = (
    ("completed", re.compile(r"\b(?:COMPLETED|DONE)\b|\u2705", re.IGNORECASE)),
    ("in_progress", re.compile(r"\bIN[\s_-]*PROGRESS\b|\bCURRENT\b|\U0001f504", re.IGNORECASE)),
    ("pending", re.compile(r"\b(?:PENDING|NEXT|UPCOMING|PLANNED|TODO)\b|\u23f3", re.IGNORECASE)),
)
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_]|[*_](?!\w)|`")


@dataclass(slots=True)
class Line:
    content: str  # without the line ending
    ending: str  # "\n", "\r\n" or "" (last line of a body without a final newline)


def split_lines(body: str) -> list[Line]:
    parts = body.split("\n")
    lines: list[Line] = []
    for part in parts[:-1]:
        if part.endswith("\r"):
            lines.append(Line(part[:-1], "\r\n"))
        else:
            lines.append(Line(part, "\n"))
    if parts[-1]:
        lines.append(Line(parts[-1], ""))
    return lines


def join_lines(lines: Sequence[Line]) -> str:
    return "".join(line.content + line.ending for line in lines)


def indent_width(indent: str) -> int:
    return len(indent.expandtabs(4))


_ID_TEXT = re.compile(r"(?:(?:step|phase|stage)[ \t]*)?#?(\d+(?:\.\d+)*)", re.IGNORECASE)


def id_key(step_id: str) -> tuple[int, ...] | None:
    """``"1.1"`` -> ``(1, 1)``; also accepts ``"Step 4"``, ``"#4"``; None if not a step id."""
    m = _ID_TEXT.fullmatch(step_id.strip())
    if m is None or len(m.group(1)) > 40:
        return None
    return tuple(int(part) for part in m.group(1).split("."))


def display_id(step_id: str) -> str:
    text = step_id.strip()
    m = _ID_TEXT.fullmatch(text)
    if m is None:
        return text
    return ".".join(str(int(p)) for p in m.group(1).split("."))


def is_title_link(step: str) -> bool:
    """``"Execute Remediation"`` (quoted in the PR body) links an item by its title."""
    return len(step) >= 2 and step[0] == '"' and step[-1] == '"'


def plain(text: str) -> str:
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
class Node:
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
    parent: int | None = None  # index into Doc.nodes
    children: list[int] = field(default_factory=list)
    owner: int | None = None  # task: the heading step whose block holds it
    text_at: int = 0  # heading: where its text starts in the line (after an ATX's hashes)

    @property
    def has_box(self) -> bool:
        return self.kind == "task" or self.status is not None or self.deco is not None


@dataclass(slots=True)
class Doc:
    lines: list[Line]
    nodes: list[Node]
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
                node_key = id_key(node.step_id) if node.step_id is not None else None
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
            if j in headings or indent_width(leading(content)) <= item.indent:
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
                if not (self.fenced[j + 1] or self.list_lines[j + 1] or content[:1].isspace()
                        or lazy_continuation(content)):
                    break
                j += 1
        while j > start and self.open_after[j]:  # never inside a fenced code block
            j -= 1
        return j + 1


def lazy_continuation(content: str) -> bool:
    """Text that, right after a list line, continues its paragraph (CommonMark's lazy
    continuation) instead of starting a block: not blank, not indented code, not an ATX
    heading, fence, HTML, quote or thematic break. List items and fenced lines are the
    caller's to tell apart."""
    text = content.lstrip(" ")
    return bool(text.strip()) and len(content) - len(text) < 4 \
        and not text.startswith(("#", "```", "~~~", "<", ">")) \
        and text.rstrip() not in ("---", "***", "___")


def leading(content: str) -> str:
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
        for ch in (PENDING_EMOJI + DONE_EMOJI):
            pos = d.find(ch)
            if pos >= 0:
                deco = (at + pos, at + pos + len(ch))
                break
    return status, deco


def _status_done(node: Node, text: str) -> bool:
    if node.status is not None:
        word = node.status.group("word") or ""
        emoji = node.status.group("emoji") or node.status.group("lone") or ""
        if word:
            return word.upper() in ("COMPLETED", "COMPLETE", "DONE")
        return DONE_EMOJI in emoji
    if node.deco is not None:
        return text[node.deco[0]:node.deco[1]] == DONE_EMOJI
    return False


def _parse(body: str) -> Doc:
    lines = split_lines(body)
    md = scan_blocks([line.content for line in lines])
    n = len(lines)
    nodes: list[Node] = []
    fenced = [m.fenced or m.code for m in md]
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
        # an ATX heading's text follows its hashes; a setext heading's is its whole line
        text_at = 0 if md[i].setext else len(md[i].text) - len(md[i].text.lstrip(" ")) + levels[i]
        text = md[i].text[text_at:]
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
        node = Node(kind="heading", line=i, indent=levels[i], box_col=-1, checked=False,
                     step_id=hm.group("id"), word=_word(hm.group("word")), title=title,
                     section=None, block=(i + 1, end), status=status, deco=deco,
                     text_at=text_at)
        node.checked = _status_done(node, text)
        heading_nodes[i] = len(nodes)
        nodes.append(node)

    def paragraphs_and_tasks(start: int, end: int) -> tuple[bool, bool]:
        prose = tasks = False
        for j in range(start, end):
            if not md[j].visible or md[j].heading or not lines[j].content.strip():
                continue
            if TASK.match(md[j].text):
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
        indent = indent_width(lm.group("indent"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = next((k for _, k in reversed(stack) if k is not None), None)
        tm = TASK.match(content)
        if tm is None:
            label = _task_label(content[lm.end():])
            if label is not None and label[1] != "none":
                boxless.setdefault(id_key(label[0]) or (), i)
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
        node = Node(kind="task", line=i, indent=indent, box_col=tm.start("box"),
                     checked=tm.group("box") != " ", step_id=step_id, word=word, title=title,
                     section=section, text=rest.strip(), owner=owner)
        nodes.append(node)
        k = len(nodes) - 1
        if parent is not None:
            nodes[parent].children.append(k)
        node.parent = parent
        stack.append((indent, k))

    return Doc(lines, nodes, fenced, open_after, headings, levels, list_lines, groups, boxless)


def heading_boxes(doc: Doc, k: int) -> list[int]:
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


def _finish_headings(doc: Doc) -> None:
    """A heading step without a status is done when its block has boxes, all ticked."""
    for k, node in enumerate(doc.nodes):
        if node.kind == "heading" and node.status is None and node.deco is None:
            boxes = heading_boxes(doc, k)
            node.checked = bool(boxes) and all(doc.nodes[b].checked for b in boxes)


def parse_doc(body: str) -> Doc:
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
        key = id_key(step_id)
        if key is None:
            return None
        return next((s for s in self.steps if id_key(s.id) == key), None)

    @property
    def is_tracking(self) -> bool:
        """The body holds a step checklist (a step with a box to tick)."""
        return bool(self.steps)


def parse_checklist(body: str) -> Checklist:
    doc = parse_doc(body)
    steps: list[Step] = []
    for k, node in enumerate(doc.nodes):
        if node.step_id is None:
            continue
        if node.kind == "heading" and not tickable(doc, k):
            continue
        parent = doc.nodes[node.parent].step_id if node.parent is not None else None
        steps.append(Step(id=node.step_id, title=node.title, checked=node.checked,
                          line_index=node.line, parent=parent, section=node.section,
                          heading=node.kind == "heading"))
    return Checklist(steps=tuple(steps), has_sections=doc.has_sections)


def last_step(body: str) -> str | None:
    """The id of the last top-level step (the process's "PR and closure"), or None."""
    doc = parse_doc(body)
    keys = [key for node in doc.nodes
            if node.parent is None and node.step_id is not None
            and (key := id_key(node.step_id)) is not None
            and any(tickable(doc, k) for k in doc.candidates(key))]
    if not keys:
        return None
    return ".".join(map(str, max(keys)))


def tickable(doc: Doc, k: int) -> bool:
    node = doc.nodes[k]
    return node.has_box or bool(heading_boxes(doc, k))


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
        return any(display_id(s) not in bad for s in requested)



def dedupe(steps: Sequence[str]) -> list[str]:
    seen: set[tuple[int, ...] | str] = set()
    out: list[str] = []
    for raw in steps:
        shown = raw if is_title_link(raw) else display_id(raw)
        key: tuple[int, ...] | str = (plain(raw) if is_title_link(raw)
                                      else id_key(raw) or shown)
        if key not in seen:
            seen.add(key)
            out.append(shown)
    return out


