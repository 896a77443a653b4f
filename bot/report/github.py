"""Engine results -> what the bot writes on GitHub: the check run output and the review.

Pure builders, no I/O: :mod:`bot.usecases.analysis` sends what these return. GitHub's limits
are honoured here (summary/text <= 65,535 characters, annotation fields <= 64 KB, 50 annotations
per request, action label/description lengths), so callers never have to think about them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot import markers
from bot.config.model import Config, ConfigProblem
from bot.engine.model import FileError, Violation
from bot.report.local import fails
from bot.report.markdown import code_span

__all__ = [
    "ANNOTATION_LEVEL",
    "MAX_OUTPUT_CHARS",
    "RECHECK_ACTION",
    "CheckRunReport",
    "FixedComment",
    "FixedPlan",
    "ReviewComment",
    "ReviewPlan",
    "annotation_batches",
    "check_run_report",
    "comment_body",
    "fixed_comment_body",
    "invalid_config_report",
    "plan_fixed",
    "plan_review",
    "review_body",
]

FIXED_LINE = "\u2705 Fixed in {sha}"

ANNOTATION_LEVEL: dict[str, str] = {"error": "failure", "warning": "warning", "notice": "notice"}

RECHECK_ACTION: dict[str, str] = {
    "label": "Re-run SSOT",
    "description": "Analyse this pull request again",
    "identifier": "recheck",
}

MAX_OUTPUT_CHARS = 65_535  # check run output.summary / output.text
MAX_ANNOTATION_BYTES = 64 * 1024  # annotation message / raw_details
MAX_ANNOTATION_TITLE = 255
MAX_REVIEW_BODY_CHARS = 60_000  # GitHub allows 65,536; the caller appends a marker line
MAX_ROW_CHARS = 2_000  # one table row / list item in a summary, text or review body
_OMISSION_RESERVE = 80  # room kept for one "... N more rows omitted" note

_SEVERITY_RANK: dict[str, int] = {"error": 0, "warning": 1, "notice": 2}
_EVENT = {"comment": "COMMENT", "request-changes": "REQUEST_CHANGES"}


# --------------------------------------------------------------------------- small helpers


def fixed_comment_body(body: str, head_sha: str) -> str:
    """An inline comment marked fixed (docs/behaviour.md §12): ``✅ Fixed in <short sha>`` on
    the first line, the original text below, each marker with `` state=fixed``."""
    return f"{FIXED_LINE.format(sha=head_sha[:7])}\n\n{markers.mark_fixed(body)}"


@dataclass(frozen=True)
class FixedComment:
    """One of the bot's inline comments to mark fixed, and its new body."""

    id: int
    path: str
    fingerprints: frozenset[str]
    body: str


@dataclass(frozen=True)
class FixedReview:
    """One of the bot's reviews whose body lists findings (those GitHub refused inline) of
    which some are fixed now, and its new body."""

    id: int
    fingerprints: frozenset[str]  # the findings marked fixed by this edit
    body: str


# a finding listed in a review body: "- `path:line` **rule** message" (its fingerprint on the
# body's marker line, in the same order), "- ✅ Fixed in <sha>: `path:line` ..." once fixed
_BODY_ROW_RE = re.compile(
    r"^- (?P<fixed>\u2705 Fixed in [0-9a-f]{1,40}: )?(?P<fence>`+) ?(?P<loc>[^\n]*?) ?(?P=fence) ",
    re.MULTILINE)


def _body_rows(body: str) -> list[tuple[re.Match[str], str, bool]]:
    """Each listed finding of a review body: its row, fingerprint and whether it is fixed."""
    rows = list(_BODY_ROW_RE.finditer(body))
    return [(row, fp, fixed) for row, (fp, fixed)
            in zip(rows, markers.fingerprint_tags(body), strict=False)]


def body_findings(body: str | None) -> list[tuple[str, str]]:
    """``(path, fingerprint)`` of each open finding a review body lists (fixed ones and rows
    whose location does not read as ``path:line`` are left out)."""
    found: list[tuple[str, str]] = []
    for row, fp, fixed in _body_rows(body or ""):
        path, sep, line = row.group("loc").rpartition(":")
        if not fixed and sep and path and line.isdigit():
            found.append((path, fp))
    return found


def fixed_review_body(body: str, fixed: set[str], head_sha: str) -> str:
    """``body`` with each listed finding of ``fixed`` marked: ``✅ Fixed in <short sha>:`` in
    front of its row, its fingerprint ``state=fixed`` on the marker line (§12)."""
    prefix = f"{FIXED_LINE.format(sha=head_sha[:7])}: "
    out, at = [], 0
    for row, fp, was_fixed in _body_rows(body):
        if fp in fixed and not was_fixed:
            out += [body[at:row.start() + 2], prefix]
            at = row.start() + 2
    out.append(body[at:])
    return markers.mark_fixed("".join(out), only=fixed)


@dataclass(frozen=True)
class FixedPlan:
    """What an analysis changes in the bot's inline comments (docs/behaviour.md §12).

    ``edits``: comments whose findings are gone, to mark fixed once; ``open``: fingerprints
    the bot has an open (not fixed) comment for, i.e. already commented; ``fixed``: how many
    findings the bot commented on are fixed now (marked before or by ``edits``).
    """

    edits: tuple[FixedComment, ...]
    open: frozenset[str]
    fixed: int
    reviews: tuple[FixedReview, ...] = ()  # review bodies whose listed findings are fixed


def plan_fixed(
    own_comments: Sequence[Mapping[str, Any]],
    found: set[str],
    checked_paths: set[str],
    head_sha: str,
    own_reviews: Sequence[Mapping[str, Any]] = (),
) -> FixedPlan:
    """Which of the bot's own inline comments (the caller keeps only those the App wrote) are
    fixed by an analysis that found the fingerprints ``found``.

    Only a comment on a file the analysis checked (``checked_paths``: analysed, neither skipped
    by a limit nor unparsable) can be fixed: a finding in a file not looked at is not gone.
    A comment already marked fixed is not edited again; its finding coming back is not
    "already commented" (it gets a fresh comment).
    """
    edits: list[FixedComment] = []
    still_open: set[str] = set()
    fixed_before: set[str] = set()
    for comment in own_comments:
        body = comment.get("body") or ""
        fixed_before |= markers.fixed_fingerprints(body)
        prints = markers.fingerprints(body)
        if not prints:
            continue
        path = str(comment.get("path") or "")
        if path in checked_paths and not prints & found and isinstance(comment.get("id"), int):
            edits.append(FixedComment(int(comment["id"]), path, frozenset(prints),
                                      fixed_comment_body(body, head_sha)))
        else:
            still_open |= prints
    reviews: list[FixedReview] = []
    for review in own_reviews:  # findings GitHub refused inline, listed in a review's body
        body = review.get("body") or ""
        fixed_before |= markers.fixed_fingerprints(body)
        gone = {fp for path, fp in body_findings(body)
                if path in checked_paths and fp not in found}
        still_open |= markers.fingerprints(body) - gone
        if gone and isinstance(review.get("id"), int):
            reviews.append(FixedReview(int(review["id"]), frozenset(gone),
                                       fixed_review_body(body, gone, head_sha)))
    newly = {fp for e in edits for fp in e.fingerprints} | {
        fp for r in reviews for fp in r.fingerprints}
    fixed = (fixed_before | newly) - found - still_open
    return FixedPlan(tuple(edits), frozenset(still_open), len(fixed), tuple(reviews))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _new_title(count: int) -> str:
    if count == 0:
        return "No new SSOT violations"
    return f"{count} new SSOT violation" + ("" if count == 1 else "s")


def _clip_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (on a character boundary), marked if cut."""
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        return text
    note = "\n… (truncated)"
    keep = raw[: max(0, limit - len(note.encode()))].decode("utf-8", "ignore")
    return keep + note


def _clip_chars(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + "…"


def _code(text: str) -> str:
    """``text`` as a Markdown code span whatever backticks it holds (one line)."""
    text = " ".join(text.splitlines())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    """Text safe inside one Markdown table cell or list item: one line, pipes escaped."""
    return _clip_chars(markers.neutralise(" ".join(text.split())).replace("|", "\\|"),
                       MAX_ROW_CHARS)


def _fence_for(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=0)
    return "`" * max(3, longest + 1)


def _omitted(count: int) -> str:
    return f"_… {_plural(count, 'more row')} omitted_"


@dataclass(frozen=True)
class _Rows:
    """Rows (table rows, list items) of a document, built lazily: most of a huge list is cut."""

    count: int
    rows: Iterable[str]


def _fit(blocks: Sequence[str | _Rows], limit: int) -> str:
    """Join ``blocks`` with newlines within ``limit`` characters.

    A ``str`` block is fixed text; rows are dropped from a :class:`_Rows` block's end when
    space runs out, leaving a "… N more rows omitted" note.
    """
    row_blocks = sum(1 for b in blocks if isinstance(b, _Rows))
    fixed = sum(len(b) + 1 for b in blocks if isinstance(b, str))
    budget = limit - fixed - _OMISSION_RESERVE * row_blocks
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, str):
            lines.append(block)
            continue
        taken = 0
        for row in block.rows:
            cost = len(row) + 1
            if cost > budget:
                break
            budget -= cost
            lines.append(row)
            taken += 1
        if taken < block.count:
            lines.extend(["", _omitted(block.count - taken)])
    return _clip_chars("\n".join(lines), limit)


# --------------------------------------------------------------------------- check run


@dataclass(frozen=True)
class CheckRunReport:
    """The completed check run's ``conclusion`` and ``output`` (annotations unbatched)."""

    conclusion: str
    title: str
    summary: str
    annotations: list[dict[str, Any]]
    text: str | None = None


def _violation_annotation(v: Violation) -> dict[str, Any]:
    start = max(1, v.line)
    end = max(start, v.end_line)
    title = v.rule if v.new else f"{v.rule} (pre-existing)"
    message = v.message
    if v.suggestion is not None:
        message += "\n\nSuggested fix: replace these lines with the text in the details."
    annotation: dict[str, Any] = {
        "path": v.path,
        "start_line": start,
        "end_line": end,
        "annotation_level": ANNOTATION_LEVEL[v.severity] if v.new else "notice",
        "title": _clip_chars(title, MAX_ANNOTATION_TITLE),
        "message": _clip_bytes(message, MAX_ANNOTATION_BYTES),
    }
    if start == end and v.column >= 1:
        # GitHub: columns only on single-line annotations; ours end exclusive, GitHub's inclusive.
        annotation["start_column"] = v.column
        annotation["end_column"] = max(v.column, v.end_column - 1)
    if v.suggestion is not None:
        annotation["raw_details"] = _clip_bytes(v.suggestion, MAX_ANNOTATION_BYTES)
    return annotation


def _error_annotation(e: FileError) -> dict[str, Any]:
    return {
        "path": e.path,
        "start_line": 1,
        "end_line": 1,
        "annotation_level": "failure" if e.blocking else "warning",
        "title": UNANALYSED_TITLE if e.blocking else "File skipped by ssot-bot",
        "message": _clip_bytes(e.message, MAX_ANNOTATION_BYTES),
    }


UNANALYSED_TITLE = "Could not be analysed"


def _title(new: int, blocking: int) -> str:
    if not blocking:
        return _new_title(new)
    unread = f"{_plural(blocking, 'file')} could not be analysed"
    return f"{_new_title(new)}; {unread}" if new else unread[:1].upper() + unread[1:]


def _rule_rows(violations: Sequence[Violation], config: Config) -> _Rows:
    counts: dict[str, list[int]] = {r.id: [0, 0] for r in config.rules}
    kinds: dict[str, str] = {r.id: r.kind for r in config.rules}
    severities: dict[str, str] = {r.id: r.severity for r in config.rules}
    for v in violations:
        pair = counts.setdefault(v.rule, [0, 0])
        kinds.setdefault(v.rule, v.kind)
        severities.setdefault(v.rule, v.severity)
        pair[0 if v.new else 1] += 1
    rows = (
        f"| {_code(rule)} | {_cell(kinds[rule])} | {_cell(severities[rule])} | {new} | {old} |"
        for rule, (new, old) in counts.items()
    )
    return _Rows(len(counts), rows)


def _violation_rows(violations: Sequence[Violation]) -> _Rows:
    rows = (
        f"- {_code(f'{v.path}:{v.line}')} **{_cell(v.rule)}** ({v.severity}) {_cell(v.message)}"
        for v in violations
    )
    return _Rows(len(violations), rows)


def check_run_report(
    violations: Sequence[Violation],
    errors: Sequence[FileError],
    config: Config,
    *,
    files_checked: int,
    fixed: int = 0,
    fixes: Mapping[str, str] | None = None,
) -> CheckRunReport:
    """The completed check run for one analysis (docs/behaviour.md §4.3). ``fixed``: findings
    the bot commented on that are gone now (docs/behaviour.md §12). ``fixes``: path -> the
    verified fix of the file's violations as a unified diff (contract §16), shown in the text
    for the files with a new violation."""
    new = [v for v in violations if v.new]
    old = [v for v in violations if not v.new]
    # fail closed (§13): a file that may hold a violation nobody could see fails the check
    blocking = [e for e in errors if e.blocking]
    skipped = [e for e in errors if not e.blocking]
    failing = fails(violations, config.fail_on) or (bool(blocking) and config.fail_on != "never")
    conclusion = "failure" if failing else "success"
    title = _title(len(new), len(blocking))

    headline = f"**{title}**"
    if old:
        headline += f" ({_plural(len(old), 'pre-existing violation')} in the changed files)"
    policy = {
        "new": "The check fails on new `error`-severity violations (`fail_on: new`).",
        "any": "The check fails on any `error`-severity violation in the changed files "
        "(`fail_on: any`).",
        "never": "The check never fails (`fail_on: never`).",
    }[config.fail_on]
    blocks: list[str | _Rows] = [
        headline,
        "",
        "| Rule | Kind | Severity | New | Pre-existing |",
        "| --- | --- | --- | ---: | ---: |",
        _rule_rows(violations, config),
        "",
        f"Files checked: {files_checked} · Files skipped: {len(skipped)}"
        + (f" · Could not be analysed: {len(blocking)}" if blocking else ""),
    ]
    if blocking:
        blocks += ["", f"### {UNANALYSED_TITLE}", "",
                   "These files name a symbol of a rule that applies to them (or a limit kept "
                   "them unread while a rule's `paths` match them), and ssot-bot could not "
                   "look inside: the check fails rather than pass unseen code.", "",
                   _Rows(len(blocking), (f"- {_code(e.path)}: {_cell(e.message)}"
                                         for e in blocking))]
    if fixed:
        blocks += ["", f"Fixed: {_plural(fixed, 'finding')} the bot commented on "
                       f"{'is' if fixed == 1 else 'are'} no longer found (comments marked ✅)."]
    if skipped:
        blocks += ["", f"Skipped ({_plural(len(skipped), 'file')} not analysed):", ""]
        blocks.append(_Rows(len(skipped), (f"- {_code(e.path)}: {_cell(e.message)}"
                                           for e in skipped)))
    annotations, unshown = _capped_annotations(new, old, [*blocking, *skipped],
                                               config.limits.max_annotations)
    if unshown:
        blocks += ["", f"{_plural(unshown, 'more finding')} not annotated: a check run carries "
                       f"at most {config.limits.max_annotations} annotations "
                       "(`limits.max_annotations`; new violations first)."]
    blocks += ["", policy]
    summary = _fit(blocks, MAX_OUTPUT_CHARS)

    text: str | None = None
    if violations:
        text_blocks: list[str | _Rows] = []
        if new:
            text_blocks += ["### New violations", "", _violation_rows(new)]
        if old:
            if text_blocks:
                text_blocks.append("")
            text_blocks += ["### Pre-existing violations", "", _violation_rows(old)]
        diffs = [(p, d) for p, d in sorted((fixes or {}).items())
                 if any(v.path == p and v.new and v.fixable for v in violations)]
        if diffs:
            text_blocks += ["", "### Fixes", "",
                            "`ssot-bot fix` makes these changes (verified: the result compiles "
                            "and the check no longer finds the fixed violations):", ""]
            # a diff is shown whole or not at all (half a diff would be a wrong fix); the
            # violation rows above give way first
            budget = MAX_OUTPUT_CHARS // 2
            for n, (path, diff) in enumerate(diffs):
                fence = _fence_for(diff)
                block = [f"{_code(path)}:", "", f"{fence}diff", diff.rstrip("\n"), fence, ""]
                size = sum(len(b) + 1 for b in block)
                if size > budget:
                    text_blocks.append(f"_{_plural(len(diffs) - n, 'more file')}: run "
                                       "`ssot-bot fix` for the whole change._")
                    break
                budget -= size
                text_blocks += block
        text = _fit(text_blocks, MAX_OUTPUT_CHARS)

    return CheckRunReport(conclusion, title, summary, annotations, text)


def _capped_annotations(
    new: Sequence[Violation], old: Sequence[Violation], errors: Sequence[FileError], limit: int
) -> tuple[list[dict[str, Any]], int]:
    """At most ``limit`` annotations: new violations, then skipped files, then pre-existing
    violations; and how many were left out. Only the kept ones are built."""
    total = len(new) + len(errors) + len(old)
    annotations: list[dict[str, Any]] = []
    if len(new) > limit:  # every file's first findings before any file's next ones
        new = _fair(new)
    for v in new[:limit]:
        annotations.append(_violation_annotation(v))
    for e in errors[: max(0, limit - len(annotations))]:
        annotations.append(_error_annotation(e))
    for v in old[: max(0, limit - len(annotations))]:
        annotations.append(_violation_annotation(v))
    return annotations, total - len(annotations)


SUPERSEDED_TITLE = "Superseded: the base branch changed"


def superseded_summary(check_name: str) -> str:
    """The summary of the old base's check of a retargeted PR (docs/behaviour.md §8)."""
    return (f"This pull request now targets another base branch, whose configuration names its "
            f"check {code_span(check_name)}; that check has the verdict.")


def _fair(violations: Sequence[Violation]) -> list[Violation]:
    """``violations`` ordered by their rank in their own file (stable): one file with 30,000
    findings does not crowd another file's first one out of the annotations."""
    seen: dict[str, int] = {}
    ranked = []
    for v in violations:
        rank = seen[v.path] = seen.get(v.path, -1) + 1
        ranked.append((rank, v))
    return [v for _, v in sorted(ranked, key=lambda item: item[0])]


def invalid_config_report(problems: Sequence[ConfigProblem]) -> CheckRunReport:
    """A failed check run naming every configuration problem as ``FILE:LINE: [rule] message``."""
    rows = _Rows(len(problems),
                 (f"- {_code(_clip_chars(str(p), MAX_ROW_CHARS))}" for p in problems))
    blocks: list[str | _Rows] = [
        "ssot-bot could not use this repository's SSOT configuration, so nothing was checked. "
        "Fix these problems on the base branch:",
        "",
        rows,
    ]
    summary = _fit(blocks, MAX_OUTPUT_CHARS)
    return CheckRunReport("failure", "Invalid SSOT configuration", summary, [])


def annotation_batches(
    annotations: Sequence[dict[str, Any]], size: int = 50
) -> list[list[dict[str, Any]]]:
    """Annotations in chunks of at most ``size`` (GitHub takes 50 per request); [] for none."""
    if size < 1:
        raise ValueError("batch size must be positive")
    return [list(annotations[i : i + size]) for i in range(0, len(annotations), size)]


# --------------------------------------------------------------------------- review


@dataclass(frozen=True)
class ReviewComment:
    """One inline review comment: the violation it is about and the payload GitHub takes."""

    violation: Violation
    payload: dict[str, Any]


@dataclass(frozen=True)
class ReviewPlan:
    """The review to post: inline comments, new violations left out of it, and its event."""

    comments: tuple[ReviewComment, ...]
    overflow: tuple[Violation, ...]
    event: str


def comment_body(v: Violation) -> str:
    """An inline comment: rule id and severity, message, a suggestion block, the marker."""
    head = [f"**{v.rule}** · {v.severity}", "", markers.neutralise(v.message.strip() or v.rule),
            ""]
    marker = markers.fingerprint(v.fingerprint)
    if v.suggestion is not None:
        fence = _fence_for(v.suggestion)
        body = "\n".join([*head, f"{fence}suggestion", v.suggestion, fence, "", marker])
        if len(body) <= MAX_REVIEW_BODY_CHARS:
            return body
        # A cut suggestion would be a wrong fix: too long to post, it is left to the check run.
    if v.fixable:
        # the fix needs more than these lines (contract §16): the check run carries the diff
        head = [*head, f"Fix with: {_code('ssot-bot fix ' + v.path)}", ""]
    text = _clip_chars("\n".join(head[:-1]), MAX_REVIEW_BODY_CHARS - len(marker) - 2)
    return f"{text}\n\n{marker}"


def _payload(v: Violation) -> dict[str, Any]:
    payload: dict[str, Any] = {"path": v.path}
    if v.end_line > v.line:
        payload |= {"start_line": v.line, "start_side": "RIGHT"}
        payload |= {"line": v.end_line, "side": "RIGHT"}
    else:
        payload |= {"line": v.line, "side": "RIGHT"}
    payload["body"] = comment_body(v)
    return payload


def _placeable(v: Violation, commentable: Mapping[str, frozenset[int]] | None) -> bool:
    if v.line < 1:
        return False
    if commentable is None:
        return True
    lines = commentable.get(v.path)
    if not lines:
        return False
    # GitHub takes a (multi-line) comment only on lines its diff shows, all in one hunk.
    return all(n in lines for n in range(v.line, max(v.line, v.end_line) + 1))


def _review_order(v: Violation) -> tuple[int, str, int, int, str]:
    return (_SEVERITY_RANK.get(v.severity, 3), v.path, v.line, v.column, v.rule)


def plan_review(
    violations: Sequence[Violation],
    config: Config,
    *,
    already_commented: set[str],
    commentable: Mapping[str, frozenset[int]] | None = None,
) -> ReviewPlan | None:
    """The review for the new violations not yet commented on this PR, or None for no review.

    Errors come first, then warnings, then notices (each by path and line); the first
    ``max_review_comments`` that GitHub can take inline become comments, the rest overflow
    (they are in the check run). None when ``review`` is ``off`` or there is nothing to comment.
    """
    if config.review == "off":
        return None
    seen: set[str | tuple[str, str, int, int, str]] = set()
    fresh: list[Violation] = []
    for v in violations:
        if not v.new or (v.fingerprint and v.fingerprint in already_commented):
            continue
        key = v.fingerprint or (v.rule, v.path, v.line, v.column, v.message)
        if key in seen:
            continue
        seen.add(key)
        fresh.append(v)
    fresh.sort(key=_review_order)
    comments: list[ReviewComment] = []
    overflow: list[Violation] = []
    limit = max(0, config.max_review_comments)
    for v in fresh:
        if len(comments) < limit and _placeable(v, commentable):
            comments.append(ReviewComment(v, _payload(v)))
        else:
            overflow.append(v)
    if not comments:
        return None
    return ReviewPlan(tuple(comments), tuple(overflow), _EVENT[config.review])


MAX_MARKER_LINE_CHARS = 20_000  # the review's last line: the rejected findings' fingerprints


def review_body(
    plan: ReviewPlan, *, rejected: Sequence[Violation] = (), check_name: str = "SSOT",
    marker: str | None = None,
) -> str:
    """The review's own body: a count, comments GitHub refused inline, and how many new
    violations are only in the check run; its last line the markers (docs/behaviour.md §13):
    the refused comments' fingerprints (so they are neither lost nor repeated; as many as
    :data:`MAX_MARKER_LINE_CHARS` holds) and ``marker``, the review's own."""
    tags: list[str] = []
    room = MAX_MARKER_LINE_CHARS - len(marker or "")
    for v in rejected:
        tag = markers.fingerprint(v.fingerprint)
        room -= len(tag) + 1
        if room < 0:
            break
        tags.append(tag)
    if marker is not None:
        tags.append(marker)
    line = markers.marker_line(tags)
    total = len(plan.comments) + len(plan.overflow)
    inline = len(plan.comments) - len(rejected)
    blocks: list[str | _Rows] = [
        f"ssot-bot found {_plural(total, 'new SSOT violation')}"
        + (f"; {inline} commented inline." if inline > 0 else ".")
    ]
    if rejected:
        blocks += [
            "",
            "GitHub did not accept these as inline comments:",
            "",
            _Rows(len(rejected), (
                f"- {_code(f'{v.path}:{v.line}')} **{_cell(v.rule)}** {_cell(v.message)}"
                for v in rejected
            )),
        ]
    if plan.overflow:
        blocks += [
            "",
            f"{_plural(len(plan.overflow), 'more new violation')} "
            f"{'is' if len(plan.overflow) == 1 else 'are'} not commented inline; "
            f"the {_code(check_name)} check run lists every violation.",
        ]
    text = _fit(blocks, MAX_REVIEW_BODY_CHARS - len(line) - 2)
    return markers.with_markers(text, *tags) if tags else text

