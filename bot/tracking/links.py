"""Links from a pull request body to steps of a tracking issue.

```
SSOT-Tracking: #1103          (or owner/repo#1103, or the issue's URL)
SSOT-Step: 4                  (or 1.1, or a list: 3, 4)
```

Keys are case-insensitive; a line may be a list item or carry bold markers. Lines inside
fenced code blocks, HTML comments (PR templates) and block quotes are ignored. With several
``SSOT-Tracking`` lines, each pairs with the ``SSOT-Step`` lines that follow it; with one, the
order does not matter.

Closing keywords (docs/behaviour.md §9): ``Closes #N`` (GitHub's keywords close, closes, closed,
fix, fixes, fixed, resolve, resolves, resolved; any case; ``owner/repo#N`` or the issue's URL too)
link the issue as a *closing* link: on merge, if it is a tracking issue, the steps of the body's
``SSOT-Step:`` line (when no ``SSOT-Tracking:`` line claims them) or its last step.

``SSOT-Step: "Execute Remediation"`` (quoted) links an item of an unnumbered checklist by title.
Problems echo user text only as code spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.markdown_lines import scan_lines
from bot.report.markdown import code_span

_KEY_LINE = re.compile(
    r"""^[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?     # optional list bullet
    (?:\*\*|__|\*|_)?[ \t]*
    SSOT[-_ ]?(?P<key>tracking|steps?)
    [ \t]*(?:\*\*|__|\*|_)?[ \t]*:[ \t]*(?:\*\*|__|\*|_)?
    (?P<value>.*?)
    [ \t]*(?:\*\*|__|\*|_)?[ \t]*$""",
    re.IGNORECASE | re.VERBOSE,
)
_SHORT_REF = re.compile(
    r"^(?:(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)/(?P<repo>[A-Za-z0-9._-]+))?"
    r"#(?P<number>\d+)$"
)
_URL_REF = re.compile(
    r"^https?://[^/\s]+(?:/[^\s]*)?/(?P<owner>[^/\s]+)/(?P<repo>[^/\s]+)/issues/(?P<number>\d+)"
    r"(?:[/?#][^\s]*)?$",
    re.IGNORECASE,
)
_MD_LINK = re.compile(r"^\[(?P<text>[^\]]*)\]\((?P<url>[^)\s]+)\)$")
_STEP_ID = re.compile(r"^#?(\d+(?:\.\d+)*)$")
_STEP_SPLIT = re.compile(r"[,;\s]+")
_STEP_WORDS = {"step", "steps", "and", "&"}
_QUOTED = re.compile(r'"(?P<a>[^"]{1,200})"|\u201c(?P<b>[^\u201d]{1,200})\u201d')
_CODE_SPAN = re.compile(r"(`+).*?\1")
_CLOSING = re.compile(
    r"(?<![\w/-])(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)[ \t]*:?[ \t]+"
    r"(?P<ref>(?:[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100})?#\d{1,9}"
    r"|https?://[^\s/]+/[^\s/]+/[^\s/]+/issues/\d{1,9})(?![\w-])",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class IssueRef:
    """A tracking issue; ``owner``/``repo`` None means the pull request's own repository."""

    owner: str | None
    repo: str | None
    number: int


@dataclass(frozen=True, slots=True)
class StepLink:
    """A pull request's link to steps of one tracking issue (ids like ``"4"``, ``"1.1"``)."""

    issue: IssueRef
    steps: tuple[str, ...]
    # From a closing keyword (``Closes #N``): acts only if the issue is a tracking issue;
    # no steps means "its last step" (unless ``tracking: {closing_step: none}``).
    closing: bool = False


@dataclass(slots=True)
class _Group:
    issue: IssueRef
    line: int
    steps: list[str] = field(default_factory=list)


def _visible_lines(body: str) -> list[tuple[int, str]]:
    """(1-based line number, text) of lines outside fences, HTML comments and quotes."""
    lines = body.splitlines()
    return [(number, md.text) for number, md in enumerate(scan_lines(lines), start=1)
            if md.visible]


def _parse_issue(value: str, default_owner: str, default_repo: str) -> IssueRef | None:
    text = value.strip().strip("<>").strip()
    if m := _MD_LINK.match(text):
        return _parse_issue(m.group("url"), default_owner, default_repo) or _parse_issue(
            m.group("text"), default_owner, default_repo
        )
    text = text.split()[0] if text else text
    text = text.rstrip(".,;)")
    if m := _SHORT_REF.match(text):
        return IssueRef(
            owner=m.group("owner") or default_owner,
            repo=m.group("repo") or default_repo,
            number=int(m.group("number")),
        )
    if m := _URL_REF.match(text):
        return IssueRef(owner=m.group("owner"), repo=m.group("repo"), number=int(m.group("number")))
    if text.isdigit():
        return IssueRef(owner=default_owner, repo=default_repo, number=int(text))
    return None


def _parse_steps(value: str) -> tuple[list[str], list[str]]:
    """(ids, problems) of an ``SSOT-Step`` value: ``4``, ``1.1``, ``3, 4``, ``Steps 3 and 4``."""
    ids: list[str] = []
    problems: list[str] = []
    for quoted in _QUOTED.finditer(value):
        title = " ".join((quoted.group("a") or quoted.group("b") or "").split())
        if title:
            ids.append(f'"{title}"')
    value = _QUOTED.sub(" ", value)
    for token in _STEP_SPLIT.split(value.strip()):
        if not token or token.lower() in _STEP_WORDS:
            continue
        m = _STEP_ID.match(token.rstrip("."))
        if m is None:
            problems.append(f"bad step id {code_span(token)}")
            continue
        ids.append(".".join(str(int(part)) for part in m.group(1).split(".")))
    return ids, problems


def _scan(
    body: str | None, default_owner: str, default_repo: str
) -> tuple[list[StepLink], list[str]]:
    if not body:
        return [], []
    problems: list[str] = []
    groups: list[_Group] = []
    loose: list[tuple[int, list[str]]] = []  # step lines before any tracking line
    entries: list[tuple[int, str, str]] = []
    closing: list[IssueRef] = []
    for number, line in _visible_lines(body):
        m = _KEY_LINE.match(line)
        if m:
            entries.append((number, m.group("key").lower(), m.group("value")))
            continue
        for cm in _CLOSING.finditer(_CODE_SPAN.sub(" ", line)):
            ref = _parse_issue(cm.group("ref"), default_owner, default_repo)
            if ref is not None and ref not in closing:
                closing.append(ref)

    current: _Group | None = None
    for number, key, value in entries:
        if key == "tracking":
            issue = _parse_issue(value, default_owner, default_repo)
            if issue is None:
                if value.strip():
                    problems.append(f"bad tracking reference {code_span(value.strip())} "
                                    f"(line {number})")
                else:
                    problems.append(f"SSOT-Tracking without an issue reference (line {number})")
                current = None
                continue
            existing = next((g for g in groups if g.issue == issue), None)
            current = existing or _Group(issue=issue, line=number)
            if existing is None:
                groups.append(current)
            continue
        ids, bad = _parse_steps(value)
        problems.extend(f"{p} (line {number})" for p in bad)
        if not ids and not bad:
            problems.append(f"SSOT-Step without a step id (line {number})")
        if current is not None:
            current.steps.extend(ids)
        elif ids:
            loose.append((number, ids))

    if loose:
        if len(groups) == 1:
            # the common case: one tracking issue, its step line anywhere in the body
            first = groups[0]
            early = [sid for _, ids in loose for sid in ids]
            first.steps[:0] = early
        elif not groups:
            if not closing:
                problems.append("SSOT-Step given without SSOT-Tracking")
        else:
            for number, _ in loose:
                problems.append(
                    f"SSOT-Step on line {number} comes before any SSOT-Tracking line; "
                    "with several tracking issues, put each SSOT-Step after its SSOT-Tracking"
                )

    links: list[StepLink] = []
    for group in groups:
        steps = tuple(dict.fromkeys(group.steps))
        if not steps:
            shown = code_span(ref_text(group.issue))
            problems.append(f"SSOT-Tracking {shown} given without SSOT-Step")
            continue
        links.append(StepLink(issue=group.issue, steps=steps))
    claimed = {g.issue for g in groups}
    loose_ids = tuple(dict.fromkeys(sid for _, ids in loose for sid in ids)) if not groups else ()
    for ref in closing:
        if ref not in claimed:
            links.append(StepLink(issue=ref, steps=loose_ids, closing=True))
    return links, problems


def ref_text(issue: IssueRef) -> str:
    """``owner/repo#N`` (``#N`` for the PR's own repository when owner/repo are unset)."""
    if issue.owner and issue.repo:
        return f"{issue.owner}/{issue.repo}#{issue.number}"
    return f"#{issue.number}"


def parse_links(body: str | None, *, default_owner: str, default_repo: str) -> list[StepLink]:
    """The step links in a PR body; owner/repo default to the PR's repository."""
    links, _ = _scan(body, default_owner, default_repo)
    return links


def link_problems(body: str | None) -> list[str]:
    """Human-readable problems with the body's ``SSOT-Tracking``/``SSOT-Step`` lines."""
    _, problems = _scan(body, "", "")
    return problems
