"""Links from a pull request body to steps of a tracking issue.

```
SSOT-Tracking: #1103          (or owner/repo#1103, or the issue's URL)
SSOT-Step: 4                  (or 1.1, or a list: 3, 4)
```

Keys are case-insensitive; a line may be a list item or carry bold markers. Lines inside
fenced code blocks, HTML comments (PR templates) and block quotes are ignored. With several
``SSOT-Tracking`` lines, each pairs with the ``SSOT-Step`` lines that follow it; with one, the
order does not matter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FENCE_OPEN = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
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


@dataclass(slots=True)
class _Group:
    issue: IssueRef
    line: int
    steps: list[str] = field(default_factory=list)


def _visible_lines(body: str) -> list[tuple[int, str]]:
    """(1-based line number, text) of lines outside fences, HTML comments and quotes."""
    out: list[tuple[int, str]] = []
    fence: str | None = None
    in_comment = False
    for number, raw in enumerate(body.splitlines(), start=1):
        line = raw
        if fence is not None:
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fence = None
            continue
        if in_comment:
            end = line.find("-->")
            if end < 0:
                continue
            line = line[end + 3 :]
            in_comment = False
        # drop HTML comments that open (and maybe close) on this line
        while (start := line.find("<!--")) >= 0:
            end = line.find("-->", start + 4)
            if end < 0:
                line = line[:start]
                in_comment = True
                break
            line = line[:start] + line[end + 3 :]
        fm = _FENCE_OPEN.match(line)
        if fm and not (fm.group("fence")[0] == "`" and "`" in fm.group("info")):
            fence = fm.group("fence")
            continue
        if line.lstrip().startswith(">"):
            continue
        out.append((number, line))
    return out


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
    for token in _STEP_SPLIT.split(value.strip()):
        if not token or token.lower() in _STEP_WORDS:
            continue
        m = _STEP_ID.match(token.rstrip("."))
        if m is None:
            problems.append(f"bad step id {token!r}")
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
    for number, line in _visible_lines(body):
        m = _KEY_LINE.match(line)
        if m:
            entries.append((number, m.group("key").lower(), m.group("value")))

    current: _Group | None = None
    for number, key, value in entries:
        if key == "tracking":
            issue = _parse_issue(value, default_owner, default_repo)
            if issue is None:
                if value.strip():
                    problems.append(f"bad tracking reference {value.strip()!r} (line {number})")
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
            problems.append(f"SSOT-Tracking {_ref_text(group.issue)} given without SSOT-Step")
            continue
        links.append(StepLink(issue=group.issue, steps=steps))
    return links, problems


def _ref_text(issue: IssueRef) -> str:
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
