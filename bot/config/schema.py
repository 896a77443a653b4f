"""The JSON Schema of ``ssot.yml``, generated from what each rule kind declares.

``ssot-bot schema`` prints it; ``config/ssot.schema.json`` is this output, committed (a test
keeps it up to date) so that editors with the YAML language server complete and check the keys.
The loader validates the shape of every file against it; what a schema cannot say (globs, dotted
names, duplicate rule ids, inventory rule ids that exist) is checked in code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from bot.config.model import (
    LIMIT_BOUNDS,
    RULE_KINDS,
    SEVERITIES,
    Limits,
    RuleKind,
)

SCHEMA_FILE = "config/ssot.schema.json"
SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"

MAX_RULES = 500  # rules per file
MAX_SYMBOLS = 2000  # symbols per rule (symbols, legacy and ssot together)

RULE_ID_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"
NON_BLANK = "\\S"
FAIL_ON = ("new", "any", "never")
REVIEW = ("comment", "request-changes", "off")
CLOSING_STEP = ("last", "none")

_NON_BLANK_STRING: dict[str, Any] = {"type": "string", "pattern": NON_BLANK}
_DOTTED: dict[str, Any] = {**_NON_BLANK_STRING, "description": "a dotted name: package.module.Name"}
_GLOBS: dict[str, Any] = {
    "type": "array",
    "items": {"$ref": "#/$defs/glob"},
}


def _dotted_list(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_SYMBOLS,
        "items": _DOTTED,
    }


@dataclass(frozen=True, slots=True)
class KindKeys:
    """What one rule kind declares: its own keys (JSON Schema of each) and which are required.

    The engine's rule classes (``bot/engine/rules/<kind>.py``) implement the kinds; a test checks
    that both sides name the same kinds. Declared here because configuration never imports the
    engine.
    """

    kind: RuleKind
    description: str
    keys: Mapping[str, Mapping[str, Any]]
    required: tuple[str, ...] = field(default=())


_USE: dict[str, Any] = {
    **_DOTTED,
    "description": "what to use instead (dotted name); enables suggested fixes",
}

KIND_KEYS: tuple[KindKeys, ...] = (
    KindKeys(
        "banned-import",
        "every import of a listed symbol; a listed module also bans its submodules and the "
        "names imported from it",
        {"symbols": _dotted_list("banned symbols or modules"), "use": _USE},
        ("symbols",),
    ),
    KindKeys(
        "banned-annotation",
        "every reference to a listed symbol inside a type annotation",
        {"symbols": _dotted_list("banned symbols"), "use": _USE},
        ("symbols",),
    ),
    KindKeys(
        "banned-call",
        "every call of a listed symbol outside the allow files",
        {
            "symbols": _dotted_list("symbols whose calls are banned"),
            "use": _USE,
            "allow": {
                **_GLOBS,
                "type": ["array", "null"],
                "description": "globs of files where the calls are fine",
            },
        },
        ("symbols",),
    ),
    KindKeys(
        "dual-pattern",
        "a file that references at least one legacy and one ssot symbol",
        {
            "legacy": _dotted_list("the legacy symbols"),
            "ssot": _dotted_list("the single-source-of-truth symbols"),
        },
        ("legacy", "ssot"),
    ),
    KindKeys(
        "canonical-definition",
        "a module-level class, def or assignment of Name in any file but its canonical one",
        {
            "symbols": {
                "description": "Name: path/of/canonical.py (relative to the repository root)",
                "type": "object",
                "minProperties": 1,
                "maxProperties": MAX_SYMBOLS,
                "additionalProperties": _NON_BLANK_STRING,
            }
        },
        ("symbols",),
    ),
)

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


def kind_keys(kind: str) -> KindKeys | None:
    return next((k for k in KIND_KEYS if k.kind == kind), None)


def _paths(default_include: str) -> dict[str, Any]:
    return {
        "description": f"which files (globs, .gitignore conventions; include defaults to "
        f"[{default_include!r}])",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "include": {**_GLOBS, "default": [default_include]},
            "exclude": {**_GLOBS, "type": ["array", "null"], "default": []},
        },
    }


def _rule() -> dict[str, Any]:
    all_kind_keys = sorted({key for k in KIND_KEYS for key in k.keys})
    properties: dict[str, Any] = {
        "id": {
            "description": "unique rule id, [a-z0-9-]+",
            "type": "string",
            "pattern": RULE_ID_PATTERN,
        },
        "kind": {"enum": list(RULE_KINDS)},
        "message": {**_NON_BLANK_STRING, "description": "what the violation says"},
        "severity": {"enum": list(SEVERITIES), "default": "error"},
        "paths": _paths("**"),
    }
    # Every kind's key is known to the rule; each kind's ``then`` says which apply and how.
    properties.update({key: True for key in all_kind_keys})
    per_kind = []
    for k in KIND_KEYS:
        then: dict[str, Any] = {
            "properties": {
                key: (dict(k.keys[key]) if key in k.keys else {"not": {}})
                for key in all_kind_keys
            },
        }
        if k.required:
            then["required"] = list(k.required)
        per_kind.append(
            {
                "if": {"properties": {"kind": {"const": k.kind}}, "required": ["kind"]},
                "then": {"description": f"{k.kind}: {k.description}", **then},
            }
        )
    return {
        "type": "object",
        "required": ["id", "kind", "message"],
        "additionalProperties": False,
        "properties": properties,
        "allOf": per_kind,
    }


def _limits() -> dict[str, Any]:
    defaults = Limits()
    properties: dict[str, Any] = {}
    for f in fields(Limits):
        low, high = LIMIT_BOUNDS[f.name]
        integer = isinstance(getattr(defaults, f.name), int)
        properties[f.name] = {
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
            "closing_step": {"enum": list(CLOSING_STEP), "default": "last"},
            "inventory": {
                "type": ["array", "null"],
                "items": {
                    "type": "object",
                    "required": ["issue", "rules"],
                    "additionalProperties": False,
                    "properties": {
                        "issue": {"type": "integer", "minimum": 1},
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


@lru_cache(maxsize=1)
def config_schema() -> Mapping[str, Any]:
    """The JSON Schema (draft 2020-12) of ``ssot.yml``."""
    return {
        "$schema": SCHEMA_URL,
        "title": "ssot-bot configuration (.github/ssot.yml)",
        "description": "Single-source-of-truth rules checked on every pull request. "
        "Generated by `ssot-bot schema`; see docs/behaviour.md §2.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "version": {"type": "integer", "const": 1},
            "check_name": {**_NON_BLANK_STRING, "default": "SSOT"},
            "fail_on": {"enum": list(FAIL_ON), "default": "new"},
            "review": {"enum": list(REVIEW), "default": "comment"},
            "max_review_comments": {"type": "integer", "minimum": 0, "default": 30},
            "file_time_budget": {
                "description": "seconds of analysis per file",
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 60,
                "default": 10,
            },
            "paths": _paths("**/*.py"),
            "rules": {
                "type": ["array", "null"],
                "maxItems": MAX_RULES,
                "items": {"$ref": "#/$defs/rule"},
            },
            "aliases": {
                "description": "re-exports: re.exported.Name: canonical.module.Name",
                "type": ["object", "null"],
                "additionalProperties": _DOTTED,
            },
            "limits": _limits(),
            "tracking": _tracking(),
        },
        "$defs": {
            "glob": {**_NON_BLANK_STRING, "description": "a glob, .gitignore conventions"},
            "rule": _rule(),
        },
    }


def schema_text() -> str:
    """The schema as committed in ``config/ssot.schema.json``."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"
