"""Local results -> text for a terminal, JSON, SARIF 2.1.0, or GitHub workflow commands.

Pure functions: engine results (violations already marked new or not) in, a string out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from bot import __version__
from bot.config.model import FailOn, Rule, Severity
from bot.engine.model import FileError, FileResult, Violation

__all__ = [
    "FORMATS",
    "INFORMATION_URI",
    "SARIF_SCHEMA",
    "all_errors",
    "all_violations",
    "fails",
    "format_github",
    "format_json",
    "format_sarif",
    "format_text",
    "summary_line",
]

FORMATS = ("text", "json", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/netra-systems/ssot-bot"
SARIF_FINGERPRINT_KEY = "ssotFingerprint/v1"

_SARIF_LEVEL: dict[Severity, str] = {"error": "error", "warning": "warning", "notice": "note"}

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_SEVERITY_COLOR: dict[Severity, str] = {
    "error": "\x1b[31m",  # red
    "warning": "\x1b[33m",  # yellow
    "notice": "\x1b[36m",  # cyan
}
_NEW_COLOR = "\x1b[35m"  # magenta
_GREEN = "\x1b[32m"


def _violation_key(v: Violation) -> tuple[str, int, int, str]:
    return (v.path, v.line, v.column, v.rule)


def all_violations(results: Iterable[FileResult]) -> list[Violation]:
    """Every violation, ordered by path, line, column, rule."""
    return sorted((v for r in results for v in r.violations), key=_violation_key)


def all_errors(results: Iterable[FileResult]) -> list[FileError]:
    """Every file the engine could not analyse, ordered by path."""
    return sorted((r.error for r in results if r.error is not None), key=lambda e: e.path)


def fails(violations: Iterable[Violation], fail_on: FailOn) -> bool:
    """True when an error-severity violation fails the run under ``fail_on``."""
    if fail_on == "never":
        return False
    return any(v.severity == "error" and (fail_on == "any" or v.new) for v in violations)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def summary_line(results: Sequence[FileResult], files_checked: int | None = None) -> str:
    """``3 violations (2 new) in 1 of 7 files checked`` (plus files that could not be read)."""
    checked = len(results) if files_checked is None else files_checked
    violations = all_violations(results)
    new = sum(1 for v in violations if v.new)
    with_violations = len({v.path for v in violations})
    if violations:
        text = (
            f"{_plural(len(violations), 'violation')} ({new} new) "
            f"in {with_violations} of {_plural(checked, 'file')} checked"
        )
    else:
        text = f"No violations in {_plural(checked, 'file')} checked"
    errors = all_errors(results)
    if errors:
        text += f"; {_plural(len(errors), 'file')} could not be analysed"
    return text


# -- text ------------------------------------------------------------------------------------


def format_text(
    results: Sequence[FileResult], *, files_checked: int | None = None, color: bool = False
) -> str:
    """Compiler-like lines, grouped by file, each suggestion indented under its violation:

    ``path:line:col: rule-id message [error, new]``
    """

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    out: list[str] = []
    violations = all_violations(results)
    current: str | None = None
    for v in violations:
        if current is not None and v.path != current:
            out.append("")
        current = v.path
        tags = paint(v.severity, _SEVERITY_COLOR[v.severity])
        if v.new:
            tags += ", " + paint("new", _NEW_COLOR)
        location = paint(f"{v.path}:{v.line}:{v.column}:", _BOLD)
        out.append(f"{location} {paint(v.rule, _BOLD)} {v.message} [{tags}]")
        if v.suggestion is not None:
            span = f"line {v.line}" if v.end_line <= v.line else f"lines {v.line}-{v.end_line}"
            out.append(paint(f"    suggestion (replaces {span}):", _DIM))
            out.extend("        " + paint(line, _GREEN) for line in v.suggestion.split("\n"))
        elif v.fixable:
            out.append(paint(f"    fix with: ssot-bot fix {v.path}", _DIM))
    errors = all_errors(results)
    if errors:
        if out:
            out.append("")
        for e in errors:
            what = "not analysed (fails the check)" if e.blocking else "not analysed"
            out.append(f"{paint(e.path + ':', _BOLD)} {paint(what, _DIM)}: {e.message}")
    if out:
        out.append("")
    out.append(summary_line(results, files_checked))
    return "\n".join(out) + "\n"


# -- json ------------------------------------------------------------------------------------


def json_document(
    results: Sequence[FileResult], files_checked: int | None = None
) -> dict[str, Any]:
    """The JSON shape of docs/behaviour.md §1 as a dict."""
    return {
        "violations": [v.to_json() for v in all_violations(results)],
        "files_checked": len(results) if files_checked is None else files_checked,
        "errors": [e.to_json() for e in all_errors(results)],
    }


def format_json(results: Sequence[FileResult], *, files_checked: int | None = None) -> str:
    """``{"violations": [...], "files_checked": N, "errors": [{"path", "message"}]}``"""
    return json.dumps(json_document(results, files_checked), indent=2, ensure_ascii=False) + "\n"


# -- sarif -----------------------------------------------------------------------------------


def _sarif_rule(rule_id: str, kind: str, description: str, severity: Severity) -> dict[str, Any]:
    return {
        "id": rule_id,
        "name": "".join(part.capitalize() for part in rule_id.split("-")),
        "shortDescription": {"text": description},
        "defaultConfiguration": {"level": _SARIF_LEVEL[severity]},
        "properties": {"tags": ["ssot", kind]},
    }


def _region(v: Violation) -> dict[str, int]:
    end_line = max(v.line, v.end_line)
    end_column = v.end_column
    if end_line == v.line and end_column <= v.column:
        end_column = v.column + 1
    return {
        "startLine": v.line,
        "startColumn": v.column,
        "endLine": end_line,
        "endColumn": end_column,
    }


def sarif_document(results: Sequence[FileResult], rules: Sequence[Rule] = ()) -> dict[str, Any]:
    """SARIF 2.1.0 as GitHub code scanning accepts it, as a dict."""
    descriptors: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for rule in rules:
        if rule.id not in index:
            index[rule.id] = len(descriptors)
            descriptors.append(_sarif_rule(rule.id, rule.kind, rule.message, rule.severity))
    violations = all_violations(results)
    for v in violations:
        if v.rule not in index:
            index[v.rule] = len(descriptors)
            descriptors.append(_sarif_rule(v.rule, v.kind, v.message, v.severity))

    sarif_results: list[dict[str, Any]] = []
    for v in violations:
        artifact = {"uri": v.path, "uriBaseId": "%SRCROOT%"}
        result: dict[str, Any] = {
            "ruleId": v.rule,
            "ruleIndex": index[v.rule],
            "level": _SARIF_LEVEL[v.severity],
            "message": {"text": v.message},
            "locations": [
                {"physicalLocation": {"artifactLocation": artifact, "region": _region(v)}}
            ],
            "baselineState": "new" if v.new else "unchanged",
        }
        if v.fingerprint:
            result["partialFingerprints"] = {SARIF_FINGERPRINT_KEY: v.fingerprint}
        if v.suggestion is not None:
            result["fixes"] = [
                {
                    "description": {"text": f"Replace with the SSOT form ({v.rule})"},
                    "artifactChanges": [
                        {
                            "artifactLocation": dict(artifact),
                            "replacements": [
                                {
                                    # Whole lines: without columns a region runs to the end
                                    # of endLine, its newline excluded.
                                    "deletedRegion": {
                                        "startLine": v.line,
                                        "endLine": max(v.line, v.end_line),
                                    },
                                    "insertedContent": {"text": v.suggestion},
                                }
                            ],
                        }
                    ],
                }
            ]
        sarif_results.append(result)

    notifications = [
        {
            "level": "warning",
            "message": {"text": f"{e.path}: {e.message}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": e.path, "uriBaseId": "%SRCROOT%"}
                    }
                }
            ],
        }
        for e in all_errors(results)
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "ssot-bot",
                "informationUri": INFORMATION_URI,
                "version": __version__,
                "semanticVersion": __version__,
                "rules": descriptors,
            }
        },
        "results": sarif_results,
        "columnKind": "unicodeCodePoints",
    }
    if notifications:
        run["invocations"] = [
            {"executionSuccessful": True, "toolExecutionNotifications": notifications}
        ]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def format_sarif(results: Sequence[FileResult], *, rules: Sequence[Rule] = ()) -> str:
    """SARIF 2.1.0 (GitHub code scanning). ``rules`` (the configuration's) describe the rules
    in ``tool.driver.rules``, including those that found nothing."""
    return json.dumps(sarif_document(results, rules), indent=2, ensure_ascii=False) + "\n"


# -- github workflow commands ----------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(name: str, properties: dict[str, str | int], message: str) -> str:
    props = ",".join(f"{key}={_escape_property(str(value))}" for key, value in properties.items())
    return f"::{name} {props}::{_escape_data(message)}"


def format_github(results: Sequence[FileResult]) -> str:
    """GitHub Actions workflow commands: ``::error file=…,line=…,title=rule-id::message``.

    New violations at their severity; pre-existing ones as ``notice``, as in the check run.
    Files that could not be analysed are a ``warning``; an ``error`` when they fail the run
    (their text names a symbol of a rule: docs/behaviour.md §13).
    """
    lines: list[str] = []
    for v in all_violations(results):
        level = v.severity if v.new else "notice"
        props: dict[str, str | int] = {
            "file": v.path,
            "line": v.line,
            "col": v.column,
            "endLine": max(v.line, v.end_line),
            "endColumn": v.end_column,
        }
        props["title"] = v.rule if v.new else f"{v.rule} (pre-existing)"
        message = v.message
        if v.suggestion is not None:
            message += "\nSuggested replacement:\n" + v.suggestion
        lines.append(_command(level, props, message))
    for e in all_errors(results):
        level = "error" if e.blocking else "warning"
        lines.append(_command(level, {"file": e.path, "title": "not analysed"}, e.message))
    return "".join(line + "\n" for line in lines)
