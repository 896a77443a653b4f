"""Load and strictly validate ``ssot.yml``.

The YAML is composed into a node tree (never constructed into Python objects wholesale) and
validated node by node, so every problem carries the line it is on. Validation collects every
problem it finds and raises one :class:`ConfigError` listing them all.
"""

from __future__ import annotations

import fnmatch
import keyword
import math
import re
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.config.globs import GlobError, validate_glob
from bot.config.model import (
    LIMIT_BOUNDS,
    RULE_KINDS,
    SEVERITIES,
    Config,
    ConfigError,
    ConfigProblem,
    FailOn,
    InventoryTarget,
    Limits,
    PathFilter,
    ReviewMode,
    Rule,
    RuleKind,
    Severity,
    Tracking,
    is_repository_name,
)

__all__ = [
    "BUNDLED_SOURCE",
    "MAX_CONFIG_BYTES",
    "bundled_config",
    "bundled_config_text",
    "load_config_file",
    "load_config_text",
]

MAX_CONFIG_BYTES = 1024 * 1024
BUNDLED_SOURCE = "config/ssot.yml"

_RULE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
_FAIL_ON: tuple[FailOn, ...] = ("new", "any", "never")
_REVIEW: tuple[ReviewMode, ...] = ("comment", "request-changes", "off")

_TOP_KEYS = (
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
_COMMON_RULE_KEYS = ("id", "kind", "message", "severity", "paths")
_KIND_KEYS: dict[str, tuple[str, ...]] = {
    "banned-import": ("symbols", "use"),
    "banned-annotation": ("symbols", "use"),
    "banned-call": ("symbols", "use", "allow"),
    "dual-pattern": ("legacy", "ssot"),
    "canonical-definition": ("symbols",),
}
_ALL_RULE_KEYS = frozenset(_COMMON_RULE_KEYS).union(*_KIND_KEYS.values())

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"


def is_dotted_name(name: str) -> bool:
    """``a.b.C``: non-empty identifiers separated by dots, none a Python keyword."""
    parts = name.split(".")
    return all(p.isidentifier() and not keyword.iskeyword(p) for p in parts)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    tag = node.tag
    if tag == _NULL:
        return "empty (null)"
    if tag == _INT:
        return "a number"
    if tag == _FLOAT:
        return "a number"
    if tag == "tag:yaml.org,2002:bool":
        return "a boolean"
    return f"{node.value!r}"


class _Validator:
    """Walks the composed node tree of one file and collects :class:`ConfigProblem`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[ConfigProblem] = []
        self._constructor = yaml.SafeLoader("")

    # -- reporting ---------------------------------------------------------------------------

    def problem(self, node: Node | int, rule: str | None, message: str) -> None:
        line = node if isinstance(node, int) else _line(node)
        self.problems.append(ConfigProblem(self.source, line, rule, message))

    # -- primitive readers: return None (and record a problem) when the node is wrong ---------

    def mapping(
        self, node: Node, rule: str | None, what: str
    ) -> dict[str, tuple[Node, Node]] | None:
        """A mapping with string keys -> {key: (key_node, value_node)}; duplicates reported."""
        if not isinstance(node, MappingNode):
            self.problem(node, rule, f"{what} must be a mapping, not {_describe(node)}")
            return None
        out: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STR:
                self.problem(key_node, rule, f"{what}: keys must be strings")
                continue
            key = str(key_node.value)
            if key in out:
                first = _line(out[key][0])
                self.problem(key_node, rule, f"duplicate key '{key}' (first on line {first})")
                continue
            out[key] = (key_node, value_node)
        return out

    def string(self, node: Node, rule: str | None, what: str) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag != _STR:
            self.problem(node, rule, f"{what} must be a string, not {_describe(node)}")
            return None
        value = str(node.value)
        if not value.strip():
            self.problem(node, rule, f"{what} must not be empty")
            return None
        return value

    def choice(
        self, node: Node, rule: str | None, what: str, options: tuple[str, ...]
    ) -> str | None:
        # The raw text counts, so an unquoted ``review: off`` (a YAML 1.1 boolean) still works.
        if isinstance(node, ScalarNode) and str(node.value) in options:
            return str(node.value)
        shown = f"{node.value!r}" if isinstance(node, ScalarNode) else _describe(node)
        self.problem(node, rule, f"{what} must be one of {', '.join(options)}, not {shown}")
        return None

    def number(self, node: Node, what: str, *, integer: bool) -> int | float | None:
        allowed = (_INT,) if integer else (_INT, _FLOAT)
        kind = "an integer" if integer else "a number"
        if not isinstance(node, ScalarNode) or node.tag not in allowed:
            self.problem(node, None, f"{what} must be {kind}, not {_describe(node)}")
            return None
        value = self._constructor.construct_object(node)
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            self.problem(node, None, f"{what} must be {kind}")
            return None
        return value

    def string_list(
        self,
        node: Node,
        rule: str | None,
        what: str,
        check: Callable[[str], str | None] | None = None,
        *,
        allow_null: bool = False,
        non_empty: bool = False,
    ) -> tuple[str, ...] | None:
        """A list of strings; ``check`` returns an error message for a bad item."""
        if allow_null and isinstance(node, ScalarNode) and node.tag == _NULL:
            return ()
        if not isinstance(node, SequenceNode):
            self.problem(node, rule, f"{what} must be a list, not {_describe(node)}")
            return None
        items: list[str] = []
        ok = True
        for item_node in node.value:
            item = self.string(item_node, rule, f"each item of {what}")
            if item is None:
                ok = False
                continue
            if check is not None:
                error = check(item)
                if error is not None:
                    self.problem(item_node, rule, f"{what}: {error}")
                    ok = False
                    continue
            items.append(item)
        if ok and non_empty and not items:
            self.problem(node, rule, f"{what} must list at least one entry")
            return None
        return tuple(items) if ok else None

    # -- composite readers ---------------------------------------------------------------------

    def path_filter(
        self, node: Node, rule: str | None, what: str, default_include: tuple[str, ...]
    ) -> PathFilter | None:
        fields = self.mapping(node, rule, what)
        if fields is None:
            return None
        include: tuple[str, ...] | None = default_include
        exclude: tuple[str, ...] | None = ()
        for key, (key_node, value_node) in fields.items():
            if key == "include":
                include = self.string_list(value_node, rule, f"{what}.include", _glob_error)
            elif key == "exclude":
                exclude = self.string_list(
                    value_node, rule, f"{what}.exclude", _glob_error, allow_null=True
                )
            else:
                self.problem(key_node, rule, f"unknown key '{key}' in {what} (include, exclude)")
        if include is None or exclude is None:
            return None
        return PathFilter(include, exclude)

    def aliases(self, node: Node) -> dict[str, str] | None:
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            return {}
        fields = self.mapping(node, None, "aliases")
        if fields is None:
            return None
        out: dict[str, str] = {}
        for key, (key_node, value_node) in fields.items():
            if not is_dotted_name(key):
                self.problem(key_node, None, f"aliases: {key!r} is not a dotted name")
                continue
            target = self.string(value_node, None, f"aliases.{key}")
            if target is None:
                continue
            if not is_dotted_name(target):
                self.problem(value_node, None, f"aliases.{key}: {target!r} is not a dotted name")
                continue
            out[key] = target
        return out

    def rule(self, node: Node, index: int) -> Rule | None:
        label = f"rules[{index}]"
        if not isinstance(node, MappingNode):
            self.problem(node, label, f"a rule must be a mapping, not {_describe(node)}")
            return None
        before = len(self.problems)
        fields = self.mapping(node, label, "rule")
        assert fields is not None

        rule_id: str | None = None
        if "id" in fields:
            id_node = fields["id"][1]
            raw = id_node.value if isinstance(id_node, ScalarNode) else None
            if isinstance(raw, str) and raw and id_node.tag == _STR:
                if _RULE_ID.match(raw):
                    rule_id = raw
                    label = raw
                else:
                    self.problem(
                        id_node,
                        label,
                        f"rule id {raw!r} must match [a-z0-9-]+ (e.g. ws-legacy-import)",
                    )
            else:
                self.problem(id_node, label, f"rule id must be a string, not {_describe(id_node)}")
        else:
            self.problem(node, label, "missing required key 'id'")

        kind: str | None = None
        if "kind" in fields:
            kind = self.choice(fields["kind"][1], label, "kind", RULE_KINDS)
        else:
            self.problem(node, label, "missing required key 'kind'")

        message: str | None = None
        if "message" in fields:
            message = self.string(fields["message"][1], label, "message")
        else:
            self.problem(node, label, "missing required key 'message'")

        severity: str | None = "error"
        if "severity" in fields:
            severity = self.choice(fields["severity"][1], label, "severity", SEVERITIES)

        paths: PathFilter | None = PathFilter(("**",), ())
        if "paths" in fields:
            paths = self.path_filter(fields["paths"][1], label, "paths", ("**",))

        for key, (key_node, _) in fields.items():
            if key not in _ALL_RULE_KEYS:
                self.problem(key_node, label, f"unknown key '{key}'")
            elif kind is not None and key not in _COMMON_RULE_KEYS and key not in _KIND_KEYS[kind]:
                valid = ", ".join(_KIND_KEYS[kind])
                self.problem(
                    key_node, label, f"key '{key}' does not apply to kind {kind} ({valid})"
                )

        symbols: tuple[str, ...] = ()
        use: str | None = None
        allow: tuple[str, ...] = ()
        legacy: tuple[str, ...] = ()
        ssot: tuple[str, ...] = ()
        canonical: dict[str, str] = {}

        def required(key: str) -> Node | None:
            if key in fields:
                return fields[key][1]
            self.problem(node, label, f"missing required key '{key}' for kind {kind}")
            return None

        if kind in ("banned-import", "banned-annotation", "banned-call"):
            sym_node = required("symbols")
            if sym_node is not None:
                symbols = (
                    self.string_list(sym_node, label, "symbols", _dotted_error, non_empty=True)
                    or ()
                )
            if "use" in fields:
                use_node = fields["use"][1]
                use = self.string(use_node, label, "use")
                if use is not None and not is_dotted_name(use):
                    self.problem(use_node, label, f"use: {use!r} is not a dotted name")
                    use = None
            if kind == "banned-call" and "allow" in fields:
                allow = (
                    self.string_list(
                        fields["allow"][1], label, "allow", _glob_error, allow_null=True
                    )
                    or ()
                )
        elif kind == "dual-pattern":
            for key in ("legacy", "ssot"):
                key_node_ = required(key)
                if key_node_ is not None:
                    names = (
                        self.string_list(key_node_, label, key, _dotted_error, non_empty=True) or ()
                    )
                    if key == "legacy":
                        legacy = names
                    else:
                        ssot = names
        elif kind == "canonical-definition":
            sym_node = required("symbols")
            if sym_node is not None:
                canonical = self.canonical(sym_node, label)

        if len(self.problems) > before:
            return None
        assert rule_id is not None and kind is not None and message is not None
        assert severity is not None and paths is not None
        return Rule(
            id=rule_id,
            kind=cast(RuleKind, kind),
            message=message,
            severity=cast(Severity, severity),
            paths=paths,
            symbols=symbols,
            use=use,
            allow=allow,
            legacy=legacy,
            ssot=ssot,
            canonical=canonical,
            line=_line(node),
        )

    def canonical(self, node: Node, label: str) -> dict[str, str]:
        if not isinstance(node, MappingNode):
            self.problem(
                node,
                label,
                "symbols of a canonical-definition rule must be a mapping "
                f"Name: path/of/canonical.py, not {_describe(node)}",
            )
            return {}
        fields = self.mapping(node, label, "symbols") or {}
        out: dict[str, str] = {}
        for name, (key_node, value_node) in fields.items():
            if not is_dotted_name(name):
                self.problem(key_node, label, f"symbols: {name!r} is not a Python name")
                continue
            path = self.string(value_node, label, f"symbols.{name}")
            if path is None:
                continue
            error = _repo_path_error(path)
            if error is not None:
                self.problem(value_node, label, f"symbols.{name}: {error}")
                continue
            out[name] = path
        if not fields:
            self.problem(node, label, "symbols must list at least one entry")
        return out

    # -- the document ----------------------------------------------------------------------

    def document(self, root: Node) -> Config | None:
        fields = self.mapping(root, None, "the configuration")
        if fields is None:
            return None
        values: dict[str, Any] = {}
        for key, (key_node, value_node) in fields.items():
            if key not in _TOP_KEYS:
                self.problem(key_node, None, f"unknown key '{key}' ({', '.join(_TOP_KEYS)})")
                continue
            if key == "version":
                version = self.number(value_node, "version", integer=True)
                if version is not None and version != 1:
                    self.problem(value_node, None, f"unsupported version {version} (must be 1)")
                values[key] = 1
            elif key == "check_name":
                values[key] = self.string(value_node, None, "check_name")
            elif key == "fail_on":
                values[key] = self.choice(value_node, None, "fail_on", _FAIL_ON)
            elif key == "review":
                values[key] = self.choice(value_node, None, "review", _REVIEW)
            elif key == "max_review_comments":
                count = self.number(value_node, "max_review_comments", integer=True)
                if count is not None and count < 0:
                    self.problem(value_node, None, "max_review_comments must be 0 or more")
                values[key] = count
            elif key == "file_time_budget":
                budget = self.number(value_node, "file_time_budget", integer=False)
                if budget is not None and not 0 < budget <= 60:
                    self.problem(
                        value_node, None, "file_time_budget must be more than 0 and at most 60"
                    )
                    budget = None
                values[key] = None if budget is None else float(budget)
            elif key == "limits":
                values[key] = self.limits(value_node)
            elif key == "paths":
                values[key] = self.path_filter(value_node, None, "paths", ("**/*.py",))
            elif key == "aliases":
                values[key] = self.aliases(value_node)
            elif key == "rules":
                values[key] = self.rules(value_node)
        if "tracking" in fields:
            # After the rules: inventory rule ids and globs are checked against them.
            key_node, value_node = fields["tracking"]
            values["tracking"] = self.tracking(value_node, values.get("rules") or ())
        if self.problems:
            return None
        return Config(source=self.source, **{k: v for k, v in values.items() if v is not None})

    def limits(self, node: Node) -> Limits | None:
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            return Limits()
        fields = self.mapping(node, None, "limits")
        if fields is None:
            return None
        values: dict[str, int | float] = {}
        for key, (key_node, value_node) in fields.items():
            if key not in LIMIT_BOUNDS:
                self.problem(
                    key_node, None, f"unknown key '{key}' in limits ({', '.join(LIMIT_BOUNDS)})"
                )
                continue
            integer = key != "analysis_time_budget"
            value = self.number(value_node, f"limits.{key}", integer=integer)
            if value is None:
                continue
            low, high = LIMIT_BOUNDS[key]
            if not low <= value <= high:
                self.problem(
                    value_node,
                    None,
                    f"limits.{key} must be from {low:.0f} to {high:.0f}, not {value}",
                )
                continue
            values[key] = value if integer else float(value)
        return Limits(**values)  # type: ignore[arg-type]

    def tracking(self, node: Node, rules: tuple[Rule, ...]) -> Tracking | None:
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            return Tracking()
        fields = self.mapping(node, None, "tracking")
        if fields is None:
            return None
        known = ("repositories", "closing_step", "inventory")
        repositories: tuple[str, ...] = ()
        closing: str | None = "last"
        inventory: tuple[InventoryTarget, ...] = ()
        for key, (key_node, value_node) in fields.items():
            if key == "repositories":
                repositories = tuple(
                    r.lower()
                    for r in self.string_list(
                        value_node,
                        None,
                        "tracking.repositories",
                        _repository_error,
                        allow_null=True,
                    )
                    or ()
                )
            elif key == "closing_step":
                closing = self.choice(value_node, None, "tracking.closing_step", ("last", "none"))
            elif key == "inventory":
                inventory = self.inventory(value_node, rules)
            else:
                self.problem(
                    key_node, None, f"unknown key '{key}' in tracking ({', '.join(known)})"
                )
        if closing is None:
            return None
        return Tracking(
            repositories=repositories,
            closing_step=cast(Any, closing),
            inventory=inventory,
        )

    def inventory(self, node: Node, rules: tuple[Rule, ...]) -> tuple[InventoryTarget, ...]:
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            return ()
        if not isinstance(node, SequenceNode):
            self.problem(node, None, f"tracking.inventory must be a list, not {_describe(node)}")
            return ()
        ids = [rule.id for rule in rules]
        out: list[InventoryTarget] = []
        for index, item in enumerate(node.value):
            what = f"tracking.inventory[{index}]"
            fields = self.mapping(item, None, what)
            if fields is None:
                continue
            issue: int | None = None
            selected: list[str] = []
            ok = True
            for key, (key_node, value_node) in fields.items():
                if key == "issue":
                    number = self.number(value_node, f"{what}.issue", integer=True)
                    if number is not None and number < 1:
                        self.problem(value_node, None, f"{what}.issue must be an issue number")
                    elif number is not None:
                        issue = int(number)
                elif key == "rules":
                    patterns = self.string_list(value_node, None, f"{what}.rules", non_empty=True)
                    if patterns is None:
                        ok = False
                        continue
                    for pattern, pattern_node in zip(patterns, value_node.value, strict=True):
                        matched = [i for i in ids if fnmatch.fnmatchcase(i, pattern)]
                        if not matched:
                            self.problem(
                                pattern_node,
                                None,
                                f"{what}.rules: {pattern!r} names no rule of this file",
                            )
                            ok = False
                        selected.extend(m for m in matched if m not in selected)
                else:
                    self.problem(key_node, None, f"unknown key '{key}' in {what} (issue, rules)")
            if "issue" not in fields:
                self.problem(item, None, f"{what}: missing required key 'issue'")
            if "rules" not in fields:
                self.problem(item, None, f"{what}: missing required key 'rules'")
            if issue is not None and ok and selected:
                out.append(InventoryTarget(issue=issue, rules=tuple(selected), line=_line(item)))
        return tuple(out)

    def rules(self, node: Node) -> tuple[Rule, ...]:
        if isinstance(node, ScalarNode) and node.tag == _NULL:
            return ()
        if not isinstance(node, SequenceNode):
            self.problem(node, None, f"rules must be a list, not {_describe(node)}")
            return ()
        rules: list[Rule] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(node.value):
            rule = self.rule(item, index)
            # Duplicate ids are checked even for rules with other problems.
            id_node = _rule_id_node(item)
            if id_node is not None:
                rule_id = str(id_node.value)
                if rule_id in seen:
                    self.problem(
                        id_node,
                        rule_id,
                        f"duplicate rule id '{rule_id}' "
                        f"(lines {seen[rule_id]} and {_line(id_node)})",
                    )
                else:
                    seen[rule_id] = _line(id_node)
            if rule is not None:
                rules.append(rule)
        return tuple(rules)


def _rule_id_node(node: Node) -> ScalarNode | None:
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if (
            isinstance(key_node, ScalarNode)
            and key_node.value == "id"
            and isinstance(value_node, ScalarNode)
            and value_node.tag == _STR
            and value_node.value
        ):
            return value_node
    return None


def _glob_error(pattern: str) -> str | None:
    try:
        validate_glob(pattern)
    except GlobError as exc:
        return str(exc)
    return None


def _repository_error(name: str) -> str | None:
    if is_repository_name(name):
        return None
    return f"{name!r} is not a repository (owner/name)"


def _dotted_error(name: str) -> str | None:
    if is_dotted_name(name):
        return None
    return f"{name!r} is not a dotted name (like package.module.Name)"


def _repo_path_error(path: str) -> str | None:
    if path.startswith("/") or "\\" in path or re.match(r"[A-Za-z]:", path):
        return f"{path!r} must be a path relative to the repository root, '/'-separated"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return f"{path!r} must be a plain relative path (no '.', '..' or empty parts)"
    return None


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
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise ConfigError(
            [ConfigProblem(source, line, None, f"YAML syntax error: {what}")]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(source, 1, None, f"YAML error: {exc}")]) from None
    if root is None:
        raise ConfigError([ConfigProblem(source, 1, None, "the configuration is empty")])
    validator = _Validator(source)
    config = validator.document(root)
    if config is None or validator.problems:
        raise ConfigError(sorted(validator.problems, key=lambda p: p.line))
    return config


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
