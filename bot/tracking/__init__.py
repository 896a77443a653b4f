"""Tracking issues: the pure checklist editor and PR-body link parsing."""

from bot.tracking.checklist import (
    LINK_ERROR_MARKER,
    Checklist,
    Edit,
    Step,
    complete_steps,
    completion_comment,
    link_error_comment,
    parse_checklist,
    start_steps,
    step_done_marker,
)
from bot.tracking.links import IssueRef, StepLink, link_problems, parse_links

__all__ = [
    "LINK_ERROR_MARKER",
    "Checklist",
    "Edit",
    "IssueRef",
    "Step",
    "StepLink",
    "complete_steps",
    "completion_comment",
    "link_error_comment",
    "link_problems",
    "parse_checklist",
    "parse_links",
    "start_steps",
    "step_done_marker",
]
