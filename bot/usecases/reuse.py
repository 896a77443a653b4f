"""Results of pull request files reused across pushes (docs/behaviour.md §14). Pure functions.

A file's findings depend on its path, its text (its blob sha), the effective configuration
(rules, paths, aliases, budgets, the engine's version) and the re-export facts the index holds
for that configuration. :func:`result_key` names exactly that; a result stored under a key is
what analysing the file again would give, so a push that changed k files analyses k files
and takes the others' results from the store. ``new`` is not part of a result: it depends on
the PR's patch and is marked afresh each analysis.

Only results without an error are kept: an error may be the machine's (a worker past its time
budget under load), and must be tried again rather than remembered.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.config.model import Config
from bot.engine.model import FileResult, Violation
from bot.inventory.scan import analysis_key


def reexports_digest(config: Config) -> str:
    """The digest of the re-export facts the effective configuration carries."""
    text = json.dumps(sorted((k, list(v)) for k, v in config.reexports.items()),
                      separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def config_key(config: Config) -> str:
    """The effective configuration and its re-export facts, as one digest."""
    return analysis_key(config, reexports_digest(config))


def result_key(path: str, blob_sha: str, key: str) -> str:
    """The store's key of one file's result under :func:`config_key` ``key``."""
    text = json.dumps([path, blob_sha, key], separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dumps(result: FileResult) -> str | None:
    """A result as stored, or None when it is not to be kept (it has an error)."""
    if result.error is not None:
        return None
    rows = [{k: v for k, v in violation.to_json().items() if k != "new"}
            for violation in result.violations]
    return json.dumps({"path": result.path, "parsed": result.parsed, "violations": rows},
                      separators=(",", ":"))


def loads(text: str) -> FileResult | None:
    """A stored result, or None when it cannot be read (then the file is analysed again)."""
    try:
        data: Any = json.loads(text)
        violations = tuple(Violation(**{**row, "new": False}) for row in data["violations"])
        return FileResult(str(data["path"]), violations, None, bool(data.get("parsed")))
    except (ValueError, TypeError, KeyError):
        return None
