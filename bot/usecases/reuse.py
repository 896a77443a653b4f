"""Results of pull request files reused across pushes (docs/behaviour.md §14). Pure functions.

A file's findings depend on its path, its text (its blob sha), the effective configuration
(rules, paths, aliases, budgets, the engine's version) and the re-export facts of the index
that the file can reach (the entries whose names it writes: a push that turns one more module
into a shim changes only the keys of the files that name what it re-exports).
:func:`result_key` names exactly that; a result stored under a key is
what analysing the file again would give, so a push that changed k files analyses k files
and takes the others' results from the store. ``new`` is not part of a result: it depends on
the PR's patch and is marked afresh each analysis.

Only results without an error are kept: an error may be the machine's (a worker past its time
budget under load), and must be tried again rather than remembered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from bot.config.model import Config
from bot.engine.model import FileResult, Violation
from bot.inventory.scan import analysis_key

Facts = Mapping[str, list[tuple[str, tuple[str, ...]]]]


def config_key(config: Config) -> str:
    """The effective configuration without its re-export facts (rules, paths, aliases,
    budgets, the engine's version), as one digest."""
    return analysis_key(config)


def facts_by_name(config: Config) -> Facts:
    """The re-export index by the last component of each key: a file can reach an entry only
    by writing that name (``from pkg import Name``, ``pkg.Name``, ``mod.Name``)."""
    found: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for key, targets in config.reexports.items():
        found.setdefault(key.rpartition(".")[2], []).append((key, tuple(targets)))
    return found


def facts_digest(facts: Facts, path: str, words: Iterable[str]) -> str:
    """The digest of the re-export facts the file at ``path`` whose text holds ``words`` can
    reach. An entry ``pkg.mod.Name`` is reached only by a text that writes ``Name`` and ``mod``
    (``from pkg.mod import Name``, ``mod.Name``, ``import pkg.mod``), or by a relative import
    (the file's own path names its packages), or through another reached entry that names
    ``pkg.mod`` as a module; a superset, since words in comments and strings count too."""
    names = set(words) | set(path.removesuffix(".py").split("/"))
    reachable = set(names)
    relevant: set[tuple[str, tuple[str, ...]]] = set()
    while True:
        before = len(relevant)
        for word in names & facts.keys():
            for key, targets in facts[word]:
                parts = key.split(".")
                if (key, targets) in relevant or (len(parts) > 1 and parts[-2] not in reachable):
                    continue
                relevant.add((key, targets))
                for target in targets:
                    reachable.update(target.split("."))
        if len(relevant) == before:
            break
    text = json.dumps(sorted(relevant), separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def result_key(path: str, blob_sha: str, key: str, facts: str) -> str:
    """The store's key of one file's result: its path and blob, :func:`config_key` ``key``
    and :func:`facts_digest` ``facts``."""
    text = json.dumps([path, blob_sha, key, facts], separators=(",", ":"))
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
