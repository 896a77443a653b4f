"""What the bot says about tracking issues: the completion comment on the issue, the
link-error comment on the PR and its sentences (docs/behaviour.md §5, §8, §9). User text
appears only as code spans (:func:`bot.report.markdown.code_span`); markers come from
:mod:`bot.markers`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot import markers
from bot.report.markdown import code_span
from bot.tracking.model import Edit, dedupe, display_id, id_key, is_title_link, plain

LINK_ERROR_MARKER = markers.LINK_ERROR

def steps_label(ids: Sequence[str]) -> str:
    if len(ids) == 1:
        return f"Step {ids[0]}"
    return "Steps " + ", ".join(ids)



# --- comments --------------------------------------------------------------------------------


def _marker_id(step: str) -> str:
    if is_title_link(step):
        slug = re.sub(r"[^a-z0-9]+", "-", plain(step[1:-1])).strip("-")[:60]
        return f"title:{slug or '-'}"
    return display_id(step)


def step_done_marker(pr_number: int, steps: Sequence[str]) -> str:
    """``<!-- ssot-bot:step-done pr=P steps=1.1,1.2 -->`` (linked ids, no spaces)."""
    return markers.step_done(pr_number, [_marker_id(s) for s in dedupe(steps)])


def _shown_steps(ids: Sequence[str]) -> str:
    """Step ids as the bot writes them; title links (user text) only as code spans."""
    numbered = [s for s in ids if not is_title_link(s)]
    titles = [code_span(s[1:-1]) for s in ids if is_title_link(s)]
    parts = [steps_label(numbered)] if numbered else []
    parts.extend(titles)
    return ", ".join(parts)


def completion_comment(pr_number: int, steps: Sequence[str], edit: Edit,
                       pr_ref: str | None = None) -> str:
    """The issue comment posted when PR ``pr_number`` completing ``steps`` was merged."""
    ref = pr_ref or f"#{pr_number}"
    ids = dedupe(steps)
    bad = set(edit.missing) | set(edit.no_box) | {p.title for p in edit.unmatched}
    done = [s for s in ids if s not in bad]
    lines: list[str] = []
    if done:
        lines.append(f"\u2705 {_shown_steps(done)} completed via {ref}.")
    else:
        lines.append(f"{ref} was merged, but none of its linked steps is in this issue.")
    done_keys = {id_key(d) for d in done}
    extra = [s for s in edit.ticked
             if id_key(s) is not None and id_key(s) not in done_keys]
    if extra:
        lines.append("")
        lines.append(f"Also ticked: {', '.join(extra)}.")
    if edit.moved:
        lines.append("")
        shown = [m for m in edit.moved if id_key(m) is not None]
        titles = [code_span(m) for m in edit.moved if id_key(m) is None]
        lines.append("Moved to COMPLETED: "
                     + ", ".join(([steps_label(shown)] if shown else []) + titles) + ".")
    if edit.missing:
        lines.append("")
        lines.append(
            f"Not found in this issue: {steps_label(list(edit.missing))} "
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

