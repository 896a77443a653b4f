"""The JSON Schema of ``ssot.yml``, generated from what each rule kind declares.

``ssot-bot schema`` prints it; ``config/ssot.schema.json`` is this output, committed (a test
keeps it up to date) so that editors with the YAML language server complete and check the keys.
The loader validates the shape of every file against it; what a schema cannot say (globs, dotted
names, duplicate rule ids, inventory rule ids that exist) is checked in code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from functools import lru_cache
from typing import Any

from bot.config.keys import DOTTED_SCHEMA, MAX_SYMBOLS, NON_BLANK, KindSpec
from bot.config.kinds import KIND_SPECS
from bot.config.model import LIMIT_BOUNDS, SEVERITIES, Limits

SCHEMA_FILE = "config/ssot.schema.json"
SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"

MAX_RULES = 500  # rules per file

RULE_ID_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"
FAIL_ON = ("new", "any", "never")
REVIEW = ("comment", "request-changes", "off")
CLOSING_STEP = ("last", "none")

_NON_BLANK_STRING: dict[str, Any] = {"type": "string", "pattern": NON_BLANK}
_DOTTED = DOTTED_SCHEMA
_GLOBS: dict[str, Any] = {
    "type": "array",
    "items": {"$ref": "#/$defs/glob"},
}

__all__ = ["MAX_SYMBOLS", "KindSpec", "config_schema", "kind_spec", "schema_text"]


COMMON_RULE_KEYS = ("id", "kind", "message", "severity", "paths")
TOP_KEYS = (
    "version",
    "check_name",
    "fail_on",
    "review",
    "max_review_comments",
    "file_time_budget",
    "paths",
    "rules",
    "aliases",
    "limits",
    "tracking",
)


def kind_spec(kind: object, specs: tuple[KindSpec, ...] = KIND_SPECS) -> KindSpec | None:
    return next((k for k in specs if k.name == kind), None)


def _paths(default_include: str, what: str = "which files are checked at all") -> dict[str, Any]:
    return {
        "description": f"{what}: {{include: [globs], exclude: [globs]}} (globs follow "
        f".gitignore conventions, relative to the repository root; include defaults to "
        f"[{default_include!r}])",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "include": {**_GLOBS, "description": "globs of the files included",
                        "default": [default_include]},
            "exclude": {**_GLOBS, "type": ["array", "null"],
                        "description": "globs of the files left out (after include)",
                        "default": []},
        },
    }


def _rule(specs: tuple[KindSpec, ...]) -> dict[str, Any]:
    """A rule: the common keys, every kind's keys (a hover says which kinds take each), and per
    kind an ``if kind == K then`` branch with K's keys and a refusal (``false``) of the others;
    the branch's ``errorMessage`` names the keys K takes. The YAML language server shows that
    message for a refused property; a ``not`` schema's ``errorMessage`` it ignores ("Matches a
    schema that is not allowed.": tests/config/test_editor.py asks the real server)."""
    takers: dict[str, list[KindSpec]] = {}
    for spec in specs:
        for key in spec.keys:
            takers.setdefault(key.name, []).append(spec)
    kinds_text = "; ".join(f"{k.name}: {k.summary}" for k in specs)
    properties: dict[str, Any] = {
        "id": {
            "description": "unique rule id, [a-z0-9-]+ (shown in reports; used in "
            "suppressions: `# ssot: ignore[rule-id]`)",
            "type": "string",
            "pattern": RULE_ID_PATTERN,
        },
        "kind": {"description": f"what the rule flags. {kinds_text}",
                 "enum": [k.name for k in specs]},
        "message": {**_NON_BLANK_STRING,
                    "description": "what is wrong and what to do instead (shown with each "
                    "violation)"},
        "severity": {"description": "error | warning | notice; only errors can fail the check",
                     "enum": list(SEVERITIES), "default": "error"},
        "paths": _paths("**", "where the rule applies"),
    }
    for name, kinds in sorted(takers.items()):
        properties[name] = {"description": " | ".join(
            f"{k.name}: {k.key(name).description}"  # type: ignore[union-attr]
            for k in kinds)}
    per_kind = []
    for spec in specs:
        own = [k.name for k in spec.keys]
        then: dict[str, Any] = {
            "properties": {
                key: (spec.key(key).schema() if spec.key(key) is not None  # type: ignore[union-attr]
                      else False)
                for key in sorted(takers)
            },
            "errorMessage": f"this key does not apply to kind {spec.name} "
                            f"(it takes {', '.join(own)})",
        }
        required = [k.name for k in spec.keys if k.required]
        if required:
            then["required"] = required
        per_kind.append(
            {
                "if": {"properties": {"kind": {"const": spec.name}}, "required": ["kind"]},
                "then": {"description": f"{spec.name}: {spec.summary}", **then},
            }
        )
    return {
        "description": "one rule: id, kind, message, optional severity and paths, and the "
        "keys of its kind",
        "type": "object",
        "required": ["id", "kind", "message"],
        "additionalProperties": False,
        "properties": properties,
        "allOf": per_kind,
    }


_LIMIT_TEXT = {
    "max_file_bytes": "a file larger than this (bytes) is skipped and reported",
    "max_files": "files checked per analysis; the rest are skipped and counted",
    "max_total_bytes": "bytes read per analysis",
    "max_annotations": "annotations per check run; the summary counts the rest",
    "analysis_time_budget": "seconds per analysis; past it the check completes as neutral",
    "max_module_fetches": "extra module reads per analysis to follow re-exports",
    "max_inventory_files": "a larger repository gets the inventory block's notice instead",
    "inventory_time_budget": "seconds a full inventory may take; past it the block says it "
    "is incomplete",
}


def _limits() -> dict[str, Any]:
    defaults = Limits()
    properties: dict[str, Any] = {}
    for f in fields(Limits):
        low, high = LIMIT_BOUNDS[f.name]
        integer = isinstance(getattr(defaults, f.name), int)
        properties[f.name] = {
            "description": _LIMIT_TEXT.get(f.name, f.name.replace("_", " ")),
            "type": "integer" if integer else "number",
            "minimum": int(low),
            "maximum": int(high),
            "default": getattr(defaults, f.name),
        }
    return {
        "description": "hard bounds on what one analysis may cost",
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": properties,
    }


def _tracking() -> dict[str, Any]:
    return {
        "description": "tracking issues (read from the base branch)",
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": {
            "repositories": {
                "description": "other repositories (owner/name) whose issues PRs may link to",
                "type": ["array", "null"],
                "items": _NON_BLANK_STRING,
            },
            "closing_step": {"description": "what a `Closes #N` link to a tracking issue "
                             "completes: the last top-level step, or none",
                             "enum": list(CLOSING_STEP), "default": "last"},
            "inventory": {
                "description": "tracking issues whose inventory block (counts and burndown) "
                "the bot keeps, and the rules it counts",
                "type": ["array", "null"],
                "items": {
                    "description": "one tracking issue and its rules",
                    "type": "object",
                    "required": ["issue", "rules"],
                    "additionalProperties": False,
                    "properties": {
                        "issue": {"description": "the tracking issue's number",
                                  "type": "integer", "minimum": 1},
                        "rules": {
                            "description": "rule ids or globs of them (ws-*)",
                            "type": "array",
                            "minItems": 1,
                            "items": _NON_BLANK_STRING,
                        },
                    },
                },
            },
        },
    }


@lru_cache(maxsize=2)
def config_schema(specs: tuple[KindSpec, ...] = KIND_SPECS) -> Mapping[str, Any]:
    """The JSON Schema (draft 2020-12) of ``ssot.yml``; ``specs``: the rule kinds (the
    generator passes the engine's own, see :mod:`bot.engine.catalog`)."""
    return {
        "$schema": SCHEMA_URL,
        "title": "ssot-bot configuration (.github/ssot.yml)",
        "description": "Single-source-of-truth rules checked on every pull request. "
        "Generated by `ssot-bot schema`; see docs/behaviour.md §2.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "version": {"description": "the schema version of this file: always 1",
                        "type": "integer", "const": 1},
            "check_name": {**_NON_BLANK_STRING, "description": "name of the GitHub check run",
                           "default": "SSOT"},
            "fail_on": {"description": "which error-severity violations fail the check: new "
                        "(only on lines the pull request adds), any (every one in the checked "
                        "files), never (report only)",
                        "enum": list(FAIL_ON), "default": "new"},
            "review": {"description": "the pull-request review that carries inline comments: "
                       "comment, request-changes, or off",
                       "enum": list(REVIEW), "default": "comment"},
            "max_review_comments": {"description": "inline comments per review; the rest stay "
                                    "in the check run",
                                    "type": "integer", "minimum": 0, "default": 30},
            "file_time_budget": {
                "description": "seconds of analysis per file; a file past it is reported as an "
                "error and skipped",
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 60,
                "default": 10,
            },
            "paths": _paths("**/*.py"),
            "rules": {
                "description": "the rules (docs/rules.md lists the kinds and their keys)",
                "type": ["array", "null"],
                "maxItems": MAX_RULES,
                "items": {"$ref": "#/$defs/rule"},
            },
            "aliases": {
                "description": "re-exports declared by hand: {re.exported.Name: "
                "canonical.module.Name} (most are found in the tree without it)",
                "type": ["object", "null"],
                "additionalProperties": _DOTTED,
            },
            "limits": _limits(),
            "tracking": _tracking(),
        },
        "$defs": {
            "glob": {**_NON_BLANK_STRING, "description": "a glob, .gitignore conventions"},
            "rule": _rule(specs),
        },
    }


def schema_text(specs: tuple[KindSpec, ...] = KIND_SPECS) -> str:
    """The schema as committed in ``config/ssot.schema.json``."""
    return json.dumps(config_schema(specs), indent=2, ensure_ascii=False) + "\n"
