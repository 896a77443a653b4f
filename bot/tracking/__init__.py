"""Tracking issues: the pure checklist editor and PR-body link parsing."""

from bot.tracking.edit import complete_steps, start_steps
from bot.tracking.links import IssueRef, StepLink, link_problems, parse_links, ref_text
from bot.tracking.messages import (
    LINK_ERROR_MARKER,
    completion_comment,
    edit_problems,
    link_error_comment,
    neutral_problem,
    step_done_marker,
)
from bot.tracking.model import Checklist, Edit, Step, TitleProblem, last_step, parse_checklist

__all__ = [
    "LINK_ERROR_MARKER",
    "Checklist",
    "Edit",
    "IssueRef",
    "Step",
    "StepLink",
    "TitleProblem",
    "complete_steps",
    "completion_comment",
    "edit_problems",
    "last_step",
    "link_error_comment",
    "link_problems",
    "neutral_problem",
    "parse_checklist",
    "parse_links",
    "ref_text",
    "start_steps",
    "step_done_marker",
]
