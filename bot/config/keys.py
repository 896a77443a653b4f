"""The vocabulary a rule kind declares its own keys in (Fixit/ruff style, one file per kind).

A rule kind (``bot/engine/rules/<kind>.py``) lists its keys as :class:`Key` values and its
documentation as :class:`KindSpec`; ``scripts/generate_kinds.py`` writes what configuration needs
from them (``bot/config/kinds.py``, the ``Rule`` fields in ``bot/config/model.py``, the JSON
Schema, the comment table of ``config/ssot.yml`` and ``docs/rules.md``), so that configuration
never imports the engine. Each :class:`KeyType` knows its JSON Schema, its Python type, how a
YAML value becomes the model's value and what the schema cannot check (globs, dotted names,
paths).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_SYMBOLS = 2000  # symbols per rule (every list or mapping of names together)

NON_BLANK = "\\S"
_NON_BLANK_STRING: dict[str, Any] = {"type": "string", "pattern": NON_BLANK}
DOTTED_SCHEMA: dict[str, Any] = {
    **_NON_BLANK_STRING, "description": "a dotted name: package.module.Name"}


@dataclass(frozen=True, slots=True)
class KeyType:
    """How one kind of value is written in YAML, typed in the model, and checked.

    ``check``: the meaning check the loader runs (``names``, ``globs``, ``name-paths`` or
    ``""``); ``counts``: the value's entries count towards :data:`MAX_SYMBOLS`.
    """

    name: str
    annotation: str  # the Rule field's type, as written in bot/config/model.py
    default: str  # the Rule field's default, as written there
    schema: Callable[[str], dict[str, Any]]  # description -> JSON Schema
    convert: Callable[[Any], Any]  # a schema-valid YAML value -> the model's value
    check: str = ""
    counts: bool = False


def _names(description: str) -> dict[str, Any]:
    return {"description": description, "type": "array", "minItems": 1,
            "maxItems": MAX_SYMBOLS, "items": DOTTED_SCHEMA}


def _globs(description: str) -> dict[str, Any]:
    return {"description": description, "type": ["array", "null"],
            "items": {"$ref": "#/$defs/glob"}}


def _name(description: str) -> dict[str, Any]:
    return {**DOTTED_SCHEMA, "description": description}


def _name_paths(description: str) -> dict[str, Any]:
    return {"description": description, "type": "object", "minProperties": 1,
            "maxProperties": MAX_SYMBOLS, "additionalProperties": _NON_BLANK_STRING}


KEY_TYPES: Mapping[str, KeyType] = {
    t.name: t
    for t in (
        KeyType("names", "tuple[str, ...]", "()", _names,
                lambda v: tuple(v or ()), check="names", counts=True),
        KeyType("name", "str | None", "None", _name, lambda v: v, check="name"),
        KeyType("globs", "tuple[str, ...]", "()", _globs,
                lambda v: tuple(v or ()), check="globs"),
        KeyType("name-paths", "Mapping[str, str]", "field(default_factory=dict)", _name_paths,
                lambda v: dict(v or {}), check="name-paths", counts=True),
    )
}


@dataclass(frozen=True, slots=True)
class Key:
    """One key a rule kind takes: ``name`` in YAML, ``field`` of :class:`~bot.config.model.Rule`
    (the same unless two kinds give one YAML name two types), a :class:`KeyType` name."""

    name: str
    type: str
    description: str
    required: bool = False
    field: str = ""

    @property
    def attribute(self) -> str:
        return self.field or self.name

    @property
    def key_type(self) -> KeyType:
        return KEY_TYPES[self.type]

    def schema(self) -> dict[str, Any]:
        return self.key_type.schema(self.description)


@dataclass(frozen=True, slots=True)
class KindSpec:
    """What configuration knows of one rule kind: its name, one line on what it flags, its
    keys (in the order the docs list them)."""

    name: str
    summary: str
    keys: tuple[Key, ...]

    def key(self, name: str) -> Key | None:
        return next((k for k in self.keys if k.name == name), None)
