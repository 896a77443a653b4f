"""Edits of a tracking issue's task list: tick steps, complete heading steps, move steps
between sections, rewrite the ``Last Updated`` / ``Next Action`` lines (docs/behaviour.md §5,
§9).

Every edit is line-based and touches only the lines it owns: the boxes of the steps it ticks,
the status at the end of a heading step it completes, the blocks it moves (a step line with its
nested lines), and the footer lines. Every other byte, including each line's own ending (LF or
CRLF), trailing spaces (a hard break too), non-ASCII text and a missing final newline, stays as
it was. Applying an edit to its own result changes nothing (a redelivered merge is a no-op).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.tracking.messages import steps_label
from bot.tracking.model import (
    DONE_EMOJI,
    PENDING_EMOJI,
    Doc,
    Edit,
    Line,
    Node,
    TitleProblem,
    dedupe,
    heading_boxes,
    id_key,
    is_title_link,
    join_lines,
    lazy_continuation,
    parse_doc,
    plain,
    tickable,
)

MAX_CANDIDATES = 10  # task items listed in a link-error comment for a title link

_FOOTER_KEY = re.compile(
    r"^(?P<lead>[ \t]*(?:[-*+][ \t]+)?)(?P<em>\*\*|__|\*|_)?"
    r"(?P<key>last[ \t]+updated|next[ \t]+action)",
    re.IGNORECASE,
)

# --- edits -----------------------------------------------------------------------------------


def _sort_key(doc: Doc, k: int) -> tuple[tuple[int, ...], int]:
    step_id = doc.nodes[k].step_id
    key = id_key(step_id) if step_id is not None else None
    return (key or (10**9,), doc.nodes[k].line)


def _node_label(node: Node) -> str:
    return node.step_id if node.step_id is not None else node.text


def _move_blocks(doc: Doc, blocks: Sequence[int], target: int) -> list[Line]:
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
    # a line of text right after the moved list would be read as its lazy continuation (a
    # setext heading's text, which then stops being a heading): a blank line keeps them apart
    follow = next((j for j in range(at, len(doc.lines)) if j not in removed), None)
    if moved and follow is not None and _absorbed(doc, follow):
        moved.append(Line("", moved[-1].ending or "\n"))
    out: list[Line] = []
    for j, line in enumerate(doc.lines):
        if j == at:
            out.extend(moved)
        if j not in removed:
            out.append(line)
    if at >= len(doc.lines):
        out.extend(moved)
    _keep_final_newline(doc.lines, out)
    return out


def _absorbed(doc: Doc, j: int) -> bool:
    """Line ``j``, right after a list, would continue the list's last paragraph."""
    return not doc.list_lines[j] and not doc.fenced[j] \
        and lazy_continuation(doc.lines[j].content)


def _keep_final_newline(before: Sequence[Line], after: list[Line]) -> None:
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
    after[orphan] = Line(after[orphan].content, after[last].ending)
    after[last] = Line(after[last].content, "")
    while len(after) > 1 and after[-1].content == "" and after[-1].ending == "":
        after.pop()
        after[-1] = Line(after[-1].content, "")


def _tick(line: Line, col: int) -> Line:
    content = line.content
    return Line(content[:col] + "x" + content[col + 1:], line.ending)


def _styled(word: str, new: str) -> str:
    if word.isupper():
        return new.upper()
    if word[:1].isupper():
        return new.capitalize()
    return new.lower()


def _complete_heading(line: Line, node: Node) -> Line:
    """Rewrite a heading step's status to COMPLETED (its emoji to ✅), keeping its style."""
    content = line.content
    text_at = node.text_at
    edits: list[tuple[int, int, str]] = []
    st = node.status
    if st is not None:
        if st.group("word"):
            edits.append((st.start("word"), st.end("word"), _styled(st.group("word"),
                                                                    "completed")))
            emoji = st.group("emoji")
            if emoji and emoji[0] in PENDING_EMOJI:
                edits.append((st.start("emoji"), st.start("emoji") + 1, DONE_EMOJI))
        elif st.group("lone") and st.group("lone") in PENDING_EMOJI:
            edits.append((st.start("lone"), st.end("lone"), DONE_EMOJI))
    if node.deco is not None and content[text_at + node.deco[0]] in PENDING_EMOJI:
        edits.append((node.deco[0], node.deco[1], DONE_EMOJI))
    for start, end, new in sorted(set(edits), reverse=True):
        content = content[: text_at + start] + new + content[text_at + end:]
    return Line(content, line.ending)


def _matches_title(node: Node, want: str) -> bool:
    for text in (plain(node.text), plain(node.title)):
        if text == want or (text.startswith(want) and not text[len(want)].isalnum()):
            return True
    return False


def _by_title(doc: Doc, title: str) -> tuple[list[int], TitleProblem | None]:
    want = plain(title[1:-1])
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


def _resolve(doc: Doc, steps: Sequence[str]) -> _Resolved:
    out = _Resolved()
    for step in dedupe(steps):
        if is_title_link(step):
            nodes, problem = _by_title(doc, step)
            if problem is not None:
                out.unmatched.append(problem)
            else:
                out.found.append((step, nodes))
            continue
        key = id_key(step)
        candidates = doc.candidates(key) if key is not None else []
        if not candidates:
            if key is not None and key in doc.boxless:
                out.no_box.append(step)
            else:
                out.missing.append(step)
            continue
        boxed = [k for k in candidates if tickable(doc, k)]
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
    doc = parse_doc(body)
    res = _resolve(doc, steps)
    marked: set[int] = set()
    done_headings: set[int] = set()

    def is_checked(k: int) -> bool:
        return doc.nodes[k].checked or k in marked or k in done_headings

    def mark(k: int) -> None:
        node = doc.nodes[k]
        if node.kind == "heading":
            done_headings.add(k)
            for b in heading_boxes(doc, k):
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
                if all(is_checked(b) for b in heading_boxes(doc, parent)):
                    done_headings.add(parent)
                return
            if not all(is_checked(c) for c in node.children):
                return
            marked.add(parent)
            parent = node.parent

    # every mark first, then roll up to a fixed point: a roll-up judged before a sibling's
    # mark would leave a parent or heading unticked that the same merge applied again ticks
    # (a redelivery must change nothing)
    linked = [k for _, nodes in res.found for k in nodes]
    for k in linked:
        mark(k)
    while True:
        before = (len(marked), len(done_headings))
        for k in [*linked, *sorted(marked)]:
            roll_up(k)
        if (len(marked), len(done_headings)) == before:
            break

    newly = sorted(k for k in marked if not doc.nodes[k].checked)
    for k in newly:
        node = doc.nodes[k]
        doc.lines[node.line] = _tick(doc.lines[node.line], node.box_col)
    completed = sorted(k for k in done_headings if not doc.nodes[k].checked)
    for k in completed:
        node = doc.nodes[k]
        doc.lines[node.line] = _complete_heading(doc.lines[node.line], node)

    def is_done(k: int) -> bool:
        # as parse_doc judges it afterwards: a heading step without a status is done when
        # its block has boxes, all ticked (else Next Action, judged before that, would change
        # when the same merge is applied again)
        node = doc.nodes[k]
        if is_checked(k):
            return True
        if node.kind == "heading" and node.status is None and node.deco is None:
            boxes = heading_boxes(doc, k)
            return bool(boxes) and all(is_checked(b) for b in boxes)
        return False

    found = [step for step, _ in res.found]
    if found:
        _rewrite_footer(doc, found, pr_ref or f"#{pr_number}", merged_on, is_done)

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

    ticked = [k for k in newly if doc.nodes[k].step_id is not None
              or any(k in nodes for _, nodes in res.found)]
    return _result(doc, body, lines, res, moving, ticked=ticked, completed=completed)


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
    doc: Doc, found: Sequence[str], pr_ref: str, merged_on: datetime.date,
    is_checked: object,
) -> None:
    check = is_checked if callable(is_checked) else (lambda k: False)
    ids = [s[1:-1] if is_title_link(s) else s for s in found]
    label = (steps_label(ids) if not any(is_title_link(s) for s in found)
             else ", ".join(f'"{i}"' for i in ids))
    updated = f"{merged_on.isoformat()} - {label} completed via {pr_ref}"
    open_keys: dict[tuple[int, ...], Node] = {}
    for node in doc.nodes:
        if node.parent is not None or node.step_id is None:
            continue
        key = id_key(node.step_id)
        if key is None or key in open_keys:
            continue
        tops = [k for k in doc.candidates(key) if doc.nodes[k].parent is None
                and tickable(doc, k)]
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
        if not post:  # trailing spaces (two make a hard break) stay after the new text
            post = line.content[len(line.content.rstrip(" \t")):]
        doc.lines[j] = Line(f"{pre} {text}{post}", line.ending)


def start_steps(body: str, steps: Sequence[str]) -> Edit:
    """A PR linking these steps was opened: move their top-level task steps from a PENDING
    group to the end of the (last) IN PROGRESS group, unticked. Nothing else changes."""
    doc = parse_doc(body)
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
    return _result(doc, body, lines, res, moving)


def _result(doc: Doc, body: str, lines: Sequence[Line], res: _Resolved, moving: Sequence[int],
            *, ticked: Sequence[int] = (), completed: Sequence[int] = ()) -> Edit:
    new_body = join_lines(lines)
    return Edit(
        body=new_body,
        changed=new_body != body,
        ticked=tuple(_node_label(doc.nodes[k]) for k in ticked),
        moved=tuple(_node_label(doc.nodes[k]) for k in moving),
        missing=tuple(res.missing),
        no_box=tuple(res.no_box),
        unmatched=tuple(res.unmatched),
        completed=tuple(doc.nodes[k].step_id or "" for k in completed),
    )


