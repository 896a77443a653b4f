"""Echoing user text safely in the bot's comments (docs/behaviour.md §8).

Text a user wrote (a link line, a command, a step title) appears in the bot's comments only as
a code span built here: nothing inside a code span renders as a mention, a link, an image,
emphasis or HTML.
"""

from __future__ import annotations

import re

from bot.markers import neutralise

__all__ = ["MAX_SPAN_CHARS", "code_span"]

MAX_SPAN_CHARS = 120
_BACKTICKS = re.compile(r"`+")
_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x1c-\x1e\x85]+")


def code_span(text: str, *, limit: int = MAX_SPAN_CHARS) -> str:
    """``text`` as one inline code span: line breaks become spaces, at most ``limit`` characters
    (an ellipsis marks the cut), fenced with more backticks than any run inside it."""
    flat = neutralise(_BREAKS.sub(" ", text).replace("\x00", ""))
    flat = "".join(ch for ch in flat if ch == "\t" or ch >= " ")
    if len(flat) > limit:
        flat = flat[: max(1, limit - 1)] + "\u2026"
    if not flat.strip():
        flat = flat + " " if flat else " "
    longest = max((len(run) for run in _BACKTICKS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    # A span that starts or ends with a backtick (or is only spaces) needs one space of padding,
    # which CommonMark strips again.
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"
