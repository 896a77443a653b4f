"""``# ssot: ignore`` and ``# ssot: ignore[rule-id, other-id]`` comments, found with tokenize.

Only real comments count (a string holding the marker does not), also after another comment on
the same line (``# type: ignore  # ssot: ignore[x]``).
"""

from __future__ import annotations

import io
import re
import tokenize

_MARKER = re.compile(r"#\s*ssot:\s*ignore\b(?:\[([^\]]*)\])?")

# line -> None (every rule) or the rule ids named there
Suppressions = dict[int, frozenset[str] | None]


def _merge(into: Suppressions, line: int, comment: str) -> None:
    for m in _MARKER.finditer(comment):
        if m.group(1) is None:
            into[line] = None
            continue
        ids = frozenset(p.strip() for p in m.group(1).split(",") if p.strip())
        if line in into and into[line] is None:
            continue
        into[line] = (into.get(line) or frozenset()) | ids


def suppressions(text: str) -> Suppressions:
    """Every suppression comment of ``text`` by 1-based line. Cheap when there are none."""
    out: Suppressions = {}
    if "ssot" not in text:
        return out
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                _merge(out, tok.start[0], tok.string)
    except (tokenize.TokenError, SyntaxError):
        # tokenize gave up part-way (libcst accepts a little more than it); keep what it found
        pass
    return out


def is_suppressed(sup: Suppressions, line: int, rule_id: str) -> bool:
    if line not in sup:
        return False
    ids = sup[line]
    return ids is None or rule_id in ids
