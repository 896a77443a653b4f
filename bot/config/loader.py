"""Load and strictly validate ``ssot.yml``.

Three passes, each problem carrying the line it is on:

1. **Compose** the YAML into a node tree from libyaml's events, refusing anchors and aliases
   at the first alias event (nothing is ever expanded: a "billion laughs" file costs what its
   bytes cost) and nesting deeper than :data:`MAX_DEPTH`, with YAML 1.2 booleans (only
   ``true``/``false``: ``review: off`` is the string ``off``). The nodes become plain data, with a
   table from each value's path to its node; duplicate and non-string keys are reported here.
2. **Shape**: the data is validated against the JSON Schema of :mod:`bot.config.schema`
   (``jsonschema``); each error's path is mapped back to its node for ``FILE:LINE``.
3. **Meaning**: what a schema cannot say is checked in code: globs, dotted names, paths,
   repository names, duplicate rule ids, inventory rule ids that exist, the counts of rules and
   symbols (before the schema pass, so a huge list costs one problem).

Every problem is collected; one :class:`ConfigError` lists them all (at most
:data:`MAX_PROBLEMS`).
"""

from __future__ import annotations

import fnmatch
import keyword
import math
import re
from collections.abc import Generator, Iterator, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

import jsonschema
import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.config.globs import GlobError, validate_glob
from bot.config.keys import MAX_SYMBOLS, NON_BLANK, Key
from bot.config.kinds import KIND_SPECS
from bot.config.model import (
    Config,
    ConfigError,
    ConfigProblem,
    InventoryTarget,
    Limits,
    PathFilter,
    Rule,
    Tracking,
    is_repository_name,
)
from bot.config.schema import (
    COMMON_RULE_KEYS,
    MAX_RULES,
    RULE_ID_PATTERN,
    TOP_KEYS,
    config_schema,
    kind_spec,
)

__all__ = [
    "BUNDLED_SOURCE",
    "MAX_CONFIG_BYTES",
    "MAX_DEPTH",
    "bundled_config",
    "bundled_config_text",
    "load_config_file",
    "load_config_text",
]

MAX_CONFIG_BYTES = 1024 * 1024
MAX_DEPTH = 32  # nesting of mappings and lists; ssot.yml needs 5
MAX_PROBLEMS = 100
BUNDLED_SOURCE = "config/ssot.yml"

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
# libyaml's parser when PyYAML was built with it, else the pure-Python one (same events).
_EVENTS = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path_ = tuple[str | int, ...]


# -- 1. compose ------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.2 core booleans: ``yes``/``no``/``on``/``off`` stay strings."""


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class _Composer:
    """Builds the node tree from libyaml's events (C speed), refusing aliases at the first alias
    event, anchors, and nesting deeper than :data:`MAX_DEPTH`. PyYAML's own composer cannot refuse
    before it has resolved an alias, and its pure-Python scanner needs seconds for a 1 MiB file."""

    def __init__(self, text: str) -> None:
        self.events = cast(Generator[Any, None, None], yaml.parse(text, Loader=_EVENTS))
        self.resolver = _Resolver()
        self.first_anchor: tuple[int, str] | None = None

    def single(self) -> Node | None:
        next(self.events)  # StreamStartEvent
        event = next(self.events)
        if isinstance(event, yaml.StreamEndEvent):
            return None
        root = self.node(next(self.events), 1)
        next(self.events)  # DocumentEndEvent
        event = next(self.events)
        if not isinstance(event, yaml.StreamEndEvent):
            raise _Refused(
                _mark_line(event), "YAML syntax error: expected a single document in the stream"
            )
        return root

    def node(self, event: Any, depth: int) -> Node:
        line = _mark_line(event)
        start: Any = event.start_mark  # libyaml's marks are not yaml.error.Mark, but alike
        if isinstance(event, AliasEvent):
            raise _Refused(line, "aliases are not allowed")
        if depth > MAX_DEPTH:
            raise _Refused(line, f"nested deeper than {MAX_DEPTH} levels")
        anchor = getattr(event, "anchor", None)
        if anchor is not None and self.first_anchor is None:
            self.first_anchor = (line, str(anchor))
        if isinstance(event, yaml.ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = self.resolver.resolve(  # type: ignore[no-untyped-call]
                    ScalarNode, event.value, event.implicit
                )
            return ScalarNode(tag, event.value, start, start, event.style)
        if isinstance(event, yaml.SequenceStartEvent):
            items: list[Node] = []
            node: Node = SequenceNode(
                event.tag or _SEQ, items, start, None, event.flow_style
            )
            for item in self.events:
                if isinstance(item, yaml.SequenceEndEvent):
                    node.end_mark = item.end_mark
                    return node
                items.append(self.node(item, depth + 1))
        if isinstance(event, yaml.MappingStartEvent):
            pairs: list[tuple[Node, Node]] = []
            node = MappingNode(event.tag or _MAP, pairs, start, None, event.flow_style)
            for key in self.events:
                if isinstance(key, yaml.MappingEndEvent):
                    node.end_mark = key.end_mark
                    return node
                pairs.append((self.node(key, depth + 1), self.node(next(self.events), depth + 1)))
        raise _Refused(line, f"YAML syntax error: unexpected {type(event).__name__}")


def _mark_line(event: yaml.Event) -> int:
    mark = event.start_mark
    return int(mark.line) + 1 if mark is not None else 1


def _compose(text: str, source: str) -> Node | None:
    composer = _Composer(text)
    try:
        root = composer.single()
    except _Refused as exc:
        raise ConfigError([ConfigProblem(source, exc.line, None, exc.message)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise ConfigError(
            [ConfigProblem(source, line, None, f"YAML syntax error: {what}")]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(source, 1, None, f"YAML error: {exc}")]) from None
    finally:
        composer.events.close()
    if composer.first_anchor is not None:
        # An anchor that nothing refers to is harmless, but anchors exist only for aliases.
        line, name = composer.first_anchor
        raise ConfigError(
            [ConfigProblem(source, line, None, f"aliases are not allowed (anchor &{name})")]
        )
    return root


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == _NULL:
        return "empty (null)"
    if node.tag == _FLOAT and not math.isfinite(float(yaml.safe_load(node.value))):
        return f"{node.value!r}"
    if node.tag in (_INT, _FLOAT):
        return "a number"
    if node.tag == _BOOL:
        return "a boolean"
    return f"{node.value!r}"


class _Data:
    """The composed nodes as plain data, and where each value and key came from."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[ConfigProblem] = []
        self.nodes: dict[Path_, Node] = {}
        self.keys: dict[Path_, Node] = {}  # path of a mapping value -> its key's node
        self._constructor = yaml.constructor.SafeConstructor()

    def value(self, node: Node, path: Path_ = ()) -> Any:
        self.nodes[path] = node
        if isinstance(node, MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag != _STR:
                    self.problems.append(
                        ConfigProblem(self.source, _line(key_node), None, "keys must be strings")
                    )
                    continue
                key = str(key_node.value)
                if key in out:
                    first = _line(self.keys[(*path, key)])
                    self.problems.append(
                        ConfigProblem(
                            self.source,
                            _line(key_node),
                            None,
                            f"duplicate key '{key}' (first on line {first})",
                        )
                    )
                    continue
                self.keys[(*path, key)] = key_node
                out[key] = self.value(value_node, (*path, key))
            return out
        if isinstance(node, SequenceNode):
            return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        if node.tag in (_INT, _FLOAT, _BOOL, _NULL):
            value = self._constructor.construct_object(node)
            if isinstance(value, float) and not math.isfinite(value):
                return str(node.value)  # .inf/.nan: the schema says it is not a number
            return value
        return str(node.value)


# -- 2. shape: JSON Schema errors as FILE:LINE problems ------------------------------------------


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    schema = config_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cast(jsonschema.protocols.Validator, cls(schema))


_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
}


def _label(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _bound(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class _Checker:
    def __init__(self, data: _Data, document: Any) -> None:
        self.data = data
        self.document = document
        self.problems = data.problems

    # -- where a path points ----------------------------------------------------------------

    def rule_label(self, path: Path_) -> tuple[str | None, Path_]:
        """(rule id or ``rules[i]``, path inside the rule) for a path under ``rules``."""
        if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
            rules = self.document.get("rules") if isinstance(self.document, dict) else None
            rule = rules[path[1]] if isinstance(rules, list) else None
            rule_id = rule.get("id") if isinstance(rule, dict) else None
            if isinstance(rule_id, str) and re.fullmatch(RULE_ID_PATTERN, rule_id):
                return rule_id, path[2:]
            return f"rules[{path[1]}]", path[2:]
        return None, path

    def node(self, path: Path_) -> Node:
        while path not in self.data.nodes:
            path = path[:-1]
        return self.data.nodes[path]

    def problem(self, path: Path_, message: str, *, key: bool = False) -> None:
        node = self.data.keys.get(path) if key else None
        node = node or self.node(path)
        rule, _ = self.rule_label(path)
        self.problems.append(ConfigProblem(self.data.source, _line(node), rule, message))

    def what(self, path: Path_) -> str:
        rule, inner = self.rule_label(path)
        if rule is not None:
            return _label(inner) or "a rule"
        return _label(path) or "the configuration"

    # -- one jsonschema error -> one problem --------------------------------------------------

    def schema_error(self, error: jsonschema.ValidationError) -> None:
        path: Path_ = tuple(error.absolute_path)
        what = self.what(path)
        node = self.node(path)
        keyword_ = error.validator
        value = error.validator_value
        schema = error.schema if isinstance(error.schema, dict) else {}
        instance = error.instance
        if keyword_ == "type":
            types = [value] if isinstance(value, str) else [t for t in value if t != "null"]
            expected = " or ".join(_TYPE_NAMES.get(t, t) for t in types)
            self.problem(path, f"{what} must be {expected}, not {_describe(node)}")
        elif keyword_ == "enum":
            shown = f"{node.value!r}" if isinstance(node, ScalarNode) else _describe(node)
            options = ", ".join(str(v) for v in value)
            self.problem(path, f"{what} must be one of {options}, not {shown}")
        elif keyword_ == "const":
            if path == ("version",):
                self.problem(path, f"unsupported version {instance} (must be {value})")
            else:
                self.problem(path, f"{what} must be {value}")
        elif keyword_ == "required":
            missing = [k for k in value if isinstance(instance, dict) and k not in instance]
            rule, inner = self.rule_label(path)
            for key in missing:
                kind = instance.get("kind") if rule is not None and not inner else None
                if isinstance(kind, str) and key not in COMMON_RULE_KEYS:
                    self.problem(path, f"missing required key '{key}' for kind {kind}")
                elif rule is not None or not path:
                    self.problem(path, f"missing required key '{key}'")
                else:
                    self.problem(path, f"{what}: missing required key '{key}'")
        elif keyword_ == "additionalProperties":
            known = list(schema.get("properties", {}))
            for key in instance if isinstance(instance, dict) else ():
                if key in known:
                    continue
                rule, inner = self.rule_label(path)
                if rule is not None and not inner:
                    message = f"unknown key '{key}'"
                elif not path:
                    message = f"unknown key '{key}' ({', '.join(TOP_KEYS)})"
                else:
                    message = f"unknown key '{key}' in {what} ({', '.join(known)})"
                self.problem((*path, key), message, key=True)
        elif error.schema is False:
            # A key of another kind, refused (``false``) by this kind's ``then``. jsonschema
            # leaves a false schema's key out of the path: it is the key holding the value.
            rule = self.document["rules"][path[1]]
            kind = kind_spec(rule.get("kind"))
            own = {k.name for k in kind.keys} if kind is not None else set()
            refused = [k for k in rule if k not in own and k not in COMMON_RULE_KEYS]
            key = path[2] if len(path) > 2 else next(
                (k for k in refused if rule[k] is instance), refused[0] if refused else "?")
            valid = ", ".join(k.name for k in kind.keys) if kind is not None else ""
            self.problem(
                (*path[:2], key),
                f"key '{key}' does not apply to kind {rule.get('kind')} ({valid})", key=True)
        elif keyword_ == "pattern":
            if value == NON_BLANK:
                self.problem(path, f"{what} must not be empty")
            elif value == RULE_ID_PATTERN:
                self.problem(
                    path, f"rule id {instance!r} must match [a-z0-9-]+ (e.g. ws-legacy-import)"
                )
            else:
                self.problem(path, f"{what}: {instance!r} does not match {value}")
        elif keyword_ in ("minItems", "minProperties"):
            self.problem(path, f"{what} must list at least one entry")
        elif keyword_ in ("maxItems", "maxProperties"):
            self.problem(path, f"{what} may list at most {value} entries")
        elif keyword_ in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if path[-1:] == ("issue",):
                self.problem(path, f"{what} must be an issue number")
            else:
                self.problem(path, self.bounds(what, schema, instance))
        else:
            self.problem(path, f"{what}: {error.message}")

    @staticmethod
    def bounds(what: str, schema: Mapping[str, Any], instance: Any) -> str:
        low, high = schema.get("minimum"), schema.get("maximum")
        if "exclusiveMinimum" in schema and high is not None:
            return (
                f"{what} must be more than {_bound(schema['exclusiveMinimum'])} and at most "
                f"{_bound(high)}"
            )
        if low is not None and high is not None:
            return f"{what} must be from {_bound(low)} to {_bound(high)}, not {instance}"
        if low is not None:
            return f"{what} must be {_bound(low)} or more"
        return f"{what} must be at most {high}"

    # -- 3. meaning: what the schema cannot say ------------------------------------------------

    def counts(self) -> bool:
        """Rules and symbols within bounds (checked first: a huge list is one problem)."""
        rules = self.document.get("rules")
        if not isinstance(rules, list):
            return True
        if len(rules) > MAX_RULES:
            self.problem(("rules",), f"at most {MAX_RULES} rules, not {len(rules)}", key=True)
            return False
        ok = True
        for index, rule in enumerate(rules):
            if not isinstance(rule, dict):
                continue
            spec = kind_spec(rule.get("kind"))
            counted = [k.name for k in spec.keys if k.key_type.counts] if spec else []
            count = sum(
                len(rule[key]) for key in counted if isinstance(rule.get(key), list | dict)
            )
            if count > MAX_SYMBOLS:
                self.problem(
                    ("rules", index), f"at most {MAX_SYMBOLS} symbols per rule, not {count}"
                )
                ok = False
        return ok

    def strings(self, path: Path_) -> Iterator[tuple[Path_, str]]:
        """The string items of the list at ``path`` (anything else the schema reported)."""
        value = self.at(path)
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    yield (*path, i), item

    def at(self, path: Path_) -> Any:
        value: Any = self.document
        for part in path:
            found = (isinstance(value, dict) and part in value) or (
                isinstance(part, int) and isinstance(value, list) and part < len(value)
            )
            if not found:
                return None
            value = value[part]
        return value

    def globs(self, path: Path_) -> None:
        for item_path, pattern in self.strings(path):
            try:
                validate_glob(pattern)
            except GlobError as exc:
                self.problem(item_path, f"{self.what(path)}: {exc}")

    def dotted(self, path: Path_) -> None:
        for item_path, name in self.strings(path):
            if not is_dotted_name(name):
                self.problem(
                    item_path,
                    f"{self.what(path)}: {name!r} is not a dotted name (like package.module.Name)",
                )

    def kind_key(self, at: Path_, key: Key, value: Any) -> None:
        """What the schema cannot say about one of a kind's keys (by its type's ``check``)."""
        check = key.key_type.check
        where: Path_ = (*at, key.name)
        if check == "globs":
            self.globs(where)
        elif check == "names":
            self.dotted(where)
        elif check == "name" and isinstance(value, str) and value.strip():
            if not is_dotted_name(value):
                self.problem(where, f"{key.name}: {value!r} is not a dotted name")
        elif check == "name-paths" and isinstance(value, dict):
            for name, path in value.items():
                if not is_dotted_name(name):
                    self.problem((*where, name), f"{key.name}: {name!r} is not a Python name",
                                 key=True)
                elif isinstance(path, str) and (error := _repo_path_error(path)):
                    self.problem((*where, name), f"{key.name}.{name}: {error}")

    def meaning(self) -> None:
        doc = self.document
        for where in (("paths",),):
            self.globs((*where, "include"))
            self.globs((*where, "exclude"))
        aliases = doc.get("aliases")
        if isinstance(aliases, dict):
            for name, target in aliases.items():
                if not is_dotted_name(name):
                    self.problem(("aliases", name), f"aliases: {name!r} is not a dotted name",
                                 key=True)
                elif isinstance(target, str) and not is_dotted_name(target):
                    self.problem(
                        ("aliases", name), f"aliases.{name}: {target!r} is not a dotted name"
                    )
        rules = doc.get("rules")
        seen: dict[str, int] = {}
        for index, rule in enumerate(rules if isinstance(rules, list) else ()):
            if not isinstance(rule, dict):
                continue
            at: Path_ = ("rules", index)
            self.globs((*at, "paths", "include"))
            self.globs((*at, "paths", "exclude"))
            spec = kind_spec(rule.get("kind"))
            for key in spec.keys if spec is not None else ():
                self.kind_key(at, key, rule.get(key.name))
            rule_id = rule.get("id")
            if isinstance(rule_id, str) and rule_id:
                id_line = _line(self.node((*at, "id")))
                if rule_id in seen:
                    self.problems.append(
                        ConfigProblem(
                            self.data.source,
                            id_line,
                            rule_id,
                            f"duplicate rule id '{rule_id}' (lines {seen[rule_id]} and {id_line})",
                        )
                    )
                else:
                    seen[rule_id] = id_line
        tracking = doc.get("tracking")
        if not isinstance(tracking, dict):
            return
        for item_path, name in self.strings(("tracking", "repositories")):
            if not is_repository_name(name):
                self.problem(
                    item_path,
                    f"tracking.repositories: {name!r} is not a repository (owner/name)",
                )
        inventory = tracking.get("inventory")
        for index in range(len(inventory) if isinstance(inventory, list) else 0):
            target_path: Path_ = ("tracking", "inventory", index, "rules")
            for item_path, pattern in self.strings(target_path):
                if not any(fnmatch.fnmatchcase(i, pattern) for i in seen):
                    self.problem(
                        item_path,
                        f"{self.what(target_path)}: {pattern!r} names no rule of this file",
                    )


def is_dotted_name(name: str) -> bool:
    """``a.b.C``: non-empty identifiers separated by dots, none a Python keyword."""
    parts = name.split(".")
    return all(p.isidentifier() and not keyword.iskeyword(p) for p in parts)


def _repo_path_error(path: str) -> str | None:
    if path.startswith("/") or "\\" in path or re.match(r"[A-Za-z]:", path):
        return f"{path!r} must be a path relative to the repository root, '/'-separated"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return f"{path!r} must be a plain relative path (no '.', '..' or empty parts)"
    return None


# -- building the Config (only from a document without problems) --------------------------------


def _path_filter(value: Any, default_include: tuple[str, ...]) -> PathFilter:
    if value is None:
        return PathFilter(default_include, ())
    include = value.get("include")
    return PathFilter(
        tuple(include) if include is not None else default_include,
        tuple(value.get("exclude") or ()),
    )


def _rule(value: dict[str, Any], line: int) -> Rule:
    """The rule's common keys, and its kind's keys each converted by its type."""
    spec = kind_spec(value["kind"], KIND_SPECS)
    assert spec is not None  # the schema accepted the kind
    keys = {k.attribute: k.key_type.convert(value.get(k.name)) for k in spec.keys}
    return Rule(
        id=value["id"],
        kind=value["kind"],
        message=value["message"],
        severity=value.get("severity", "error"),
        paths=_path_filter(value.get("paths"), ("**",)),
        line=line,
        **keys,
    )


def _build(doc: dict[str, Any], data: _Data) -> Config:
    values: dict[str, Any] = {}
    for key in ("check_name", "fail_on", "review", "max_review_comments"):
        if key in doc:
            values[key] = doc[key]
    if "file_time_budget" in doc:
        values["file_time_budget"] = float(doc["file_time_budget"])
    if "paths" in doc:
        values["paths"] = _path_filter(doc["paths"], ("**/*.py",))
    rules = tuple(
        _rule(rule, _line(data.nodes[("rules", i)]))
        for i, rule in enumerate(doc.get("rules") or ())
    )
    values["rules"] = rules
    values["aliases"] = dict(doc.get("aliases") or {})
    limits: dict[str, Any] = dict(doc.get("limits") or {})
    for seconds in ("analysis_time_budget", "inventory_time_budget"):
        if seconds in limits:
            limits[seconds] = float(limits[seconds])
    values["limits"] = Limits(**limits)
    tracking = doc.get("tracking") or {}
    ids = [r.id for r in rules]
    inventory = []
    for i, target in enumerate(tracking.get("inventory") or ()):
        selected: list[str] = []
        for pattern in target["rules"]:
            selected.extend(m for m in ids if fnmatch.fnmatchcase(m, pattern) and m not in selected)
        inventory.append(
            InventoryTarget(
                issue=target["issue"],
                rules=tuple(selected),
                line=_line(data.nodes[("tracking", "inventory", i)]),
            )
        )
    values["tracking"] = Tracking(
        repositories=tuple(r.lower() for r in tracking.get("repositories") or ()),
        closing_step=tracking.get("closing_step", "last"),
        inventory=tuple(inventory),
    )
    return Config(source=data.source, **values)


def _raise(problems: list[ConfigProblem], source: str) -> None:
    unique = list(dict.fromkeys(problems))
    unique.sort(key=lambda p: p.line)
    if len(unique) > MAX_PROBLEMS:
        more = len(unique) - MAX_PROBLEMS
        unique = [
            *unique[:MAX_PROBLEMS],
            ConfigProblem(source, unique[MAX_PROBLEMS].line, None, f"... and {more} more problems"),
        ]
    raise ConfigError(unique)


def load_config_text(text: str, source: str) -> Config:
    """Parse and validate ssot.yml text; ``source`` names the file in messages.

    Raises :class:`ConfigError` listing every problem found.
    """
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_CONFIG_BYTES:
        raise ConfigError(
            [
                ConfigProblem(
                    source, 1, None, f"configuration is larger than {MAX_CONFIG_BYTES} bytes"
                )
            ]
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    root = _compose(text, source)
    if root is None:
        raise ConfigError([ConfigProblem(source, 1, None, "the configuration is empty")])
    data = _Data(source)
    doc = data.value(root)
    checker = _Checker(data, doc)
    if not isinstance(doc, dict):
        checker.problem((), f"the configuration must be a mapping, not {_describe(root)}")
        _raise(data.problems, source)
    if checker.counts():
        for error in _validator().iter_errors(doc):
            checker.schema_error(error)
        checker.meaning()
    if data.problems:
        _raise(data.problems, source)
    return _build(doc, data)


def load_config_file(path: Path) -> Config:
    """Read and validate a configuration file; unreadable files are a :class:`ConfigError` too."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                [
                    ConfigProblem(
                        source, 1, None, f"configuration is larger than {MAX_CONFIG_BYTES} bytes"
                    )
                ]
            )
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError([ConfigProblem(source, 1, None, f"cannot read: {reason}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError([ConfigProblem(source, line, None, "not UTF-8 text")]) from None
    return load_config_text(text, source)


def bundled_config_text() -> str:
    """The text of the bundled default configuration (``config/ssot.yml``)."""
    return resources.files("bot").joinpath("data", "ssot.yml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def bundled_config() -> Config:
    """The bundled default configuration: the seed's WebSocket SSOT rules."""
    return load_config_text(bundled_config_text(), BUNDLED_SOURCE)
