"""Local output formats: text, JSON, SARIF 2.1.0, GitHub workflow commands."""

from __future__ import annotations

import json
from typing import Any

from bot.config.loader import bundled_config
from bot.engine.model import FileError, FileResult, Violation
from bot.report.local import (
    fails,
    format_github,
    format_json,
    format_sarif,
    format_text,
    summary_line,
)

FACTORY = "netra_backend/app/agents/supervisor/agent_instance_factory.py"
IMPORT_LINE = "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager"
SUGGESTED_IMPORT = (
    "from netra_backend.app.services.agent_websocket_bridge import create_agent_websocket_bridge"
)
SUGGESTED_ANNOTATION = "        self._websocket_manager: Optional[AgentWebSocketBridge] = None"


def v(
    rule: str,
    line: int,
    *,
    path: str = FACTORY,
    kind: str = "banned-import",
    severity: Any = "error",
    new: bool = True,
    suggestion: str | None = None,
    message: str = "Use the bridge (SSOT).",
    end_line: int | None = None,
) -> Violation:
    return Violation(
        rule=rule,
        kind=kind,
        path=path,
        line=line,
        column=1,
        end_line=line if end_line is None else end_line,
        end_column=80,
        severity=severity,
        message=message,
        new=new,
        fingerprint=f"fp-{rule}-{line}",
        suggestion=suggestion,
    )


def sample() -> list[FileResult]:
    return [
        FileResult(
            path=FACTORY,
            violations=(
                v(
                    "ws-legacy-annotation",
                    98,
                    kind="banned-annotation",
                    suggestion=SUGGESTED_ANNOTATION,
                ),
                v("ws-legacy-import", 46, suggestion=SUGGESTED_IMPORT),
                v("ws-dual-pattern", 46, kind="dual-pattern", new=False, severity="warning"),
            ),
        ),
        FileResult(path="netra_backend/app/ok.py"),
        FileResult(
            path="netra_backend/app/broken.py",
            error=FileError("netra_backend/app/broken.py", "does not parse: line 3"),
        ),
    ]


# -- fail_on --------------------------------------------------------------------------------


def test_fails_follows_fail_on_and_severity() -> None:
    new_error = v("r", 1)
    old_error = v("r", 2, new=False)
    new_warning = v("r", 3, severity="warning")
    assert fails([new_error], "new")
    assert not fails([old_error, new_warning], "new")
    assert fails([old_error], "any")
    assert not fails([new_warning], "any")
    assert not fails([new_error, old_error], "never")
    assert not fails([], "any")


# -- text -----------------------------------------------------------------------------------


def test_text_is_compiler_like_sorted_with_suggestions_and_summary() -> None:
    text = format_text(sample(), files_checked=7, color=False)
    lines = text.splitlines()
    assert lines[0] == f"{FACTORY}:46:1: ws-dual-pattern Use the bridge (SSOT). [warning]"
    assert lines[1] == f"{FACTORY}:46:1: ws-legacy-import Use the bridge (SSOT). [error, new]"
    assert lines[2] == "    suggestion (replaces line 46):"
    assert lines[3] == "        " + SUGGESTED_IMPORT
    assert lines[4].startswith(f"{FACTORY}:98:1: ws-legacy-annotation ")
    assert "netra_backend/app/broken.py: not analysed: does not parse: line 3" in lines
    assert lines[-1] == (
        "3 violations (2 new) in 1 of 7 files checked; 1 file could not be analysed"
    )
    assert "\x1b[" not in text


def test_text_colour_only_when_asked() -> None:
    coloured = format_text(sample(), color=True)
    assert "\x1b[31merror\x1b[0m" in coloured
    plain = format_text(sample(), color=False)
    assert plain.count("[error, new]") == 2


def test_text_when_clean() -> None:
    clean = [FileResult(path="a.py"), FileResult(path="b.py")]
    assert format_text(clean, color=False) == "No violations in 2 files checked\n"
    assert summary_line([FileResult(path="a.py")]) == "No violations in 1 file checked"


def test_text_groups_files_with_a_blank_line_and_multi_line_suggestions() -> None:
    results = [
        FileResult(path="b.py", violations=(v("r", 1, path="b.py"),)),
        FileResult(
            path="a.py",
            violations=(v("r", 2, path="a.py", end_line=3, suggestion="x = 1\ny = 2"),),
        ),
    ]
    lines = format_text(results, color=False).splitlines()
    assert lines[0].startswith("a.py:2:1: r ")
    assert lines[1:4] == ["    suggestion (replaces lines 2-3):", "        x = 1", "        y = 2"]
    assert lines[4] == ""
    assert lines[5].startswith("b.py:1:1: r ")


# -- json -----------------------------------------------------------------------------------


def test_json_has_exactly_the_contract_shape() -> None:
    doc = json.loads(format_json(sample(), files_checked=7))
    assert list(doc) == ["violations", "files_checked", "errors"]
    assert doc["files_checked"] == 7
    assert doc["errors"] == [
        {"path": "netra_backend/app/broken.py", "message": "does not parse: line 3"}
    ]
    keys = [
        "rule",
        "kind",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "severity",
        "message",
        "new",
        "fingerprint",
        "suggestion",
    ]
    assert all(list(item) == keys for item in doc["violations"])
    assert [(i["rule"], i["line"], i["new"]) for i in doc["violations"]] == [
        ("ws-dual-pattern", 46, False),
        ("ws-legacy-import", 46, True),
        ("ws-legacy-annotation", 98, True),
    ]
    assert doc["violations"][1]["suggestion"] == SUGGESTED_IMPORT
    assert doc["violations"][0]["suggestion"] is None


def test_json_files_checked_defaults_to_the_results() -> None:
    assert json.loads(format_json(sample()))["files_checked"] == 3


# -- sarif ----------------------------------------------------------------------------------


def test_sarif_has_what_github_code_scanning_requires() -> None:
    config = bundled_config()
    doc = json.loads(format_sarif(sample(), rules=config.rules))
    assert doc["version"] == "2.1.0"
    assert doc["$schema"].endswith("sarif-2.1.0.json")
    [run] = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "ssot-bot"
    assert driver["informationUri"].startswith("https://")
    assert isinstance(driver["version"], str)
    rule_ids = [r["id"] for r in driver["rules"]]
    assert rule_ids[: len(config.rules)] == [r.id for r in config.rules]
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    assert len(run["results"]) == 3
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        [location] = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": FACTORY, "uriBaseId": "%SRCROOT%"}
        region = physical["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert region["endLine"] >= region["startLine"]
        assert result["partialFingerprints"]["ssotFingerprint/v1"].startswith("fp-")
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["ws-dual-pattern"]["level"] == "warning"
    assert by_rule["ws-dual-pattern"]["baselineState"] == "unchanged"
    assert by_rule["ws-legacy-import"]["baselineState"] == "new"
    [fix] = by_rule["ws-legacy-import"]["fixes"]
    [change] = fix["artifactChanges"]
    [replacement] = change["replacements"]
    assert replacement["deletedRegion"] == {"startLine": 46, "endLine": 46}
    assert replacement["insertedContent"]["text"] == SUGGESTED_IMPORT
    assert "fixes" not in by_rule["ws-dual-pattern"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert "netra_backend/app/broken.py" in notes[0]["message"]["text"]


def test_sarif_notice_is_note_and_unknown_rules_get_a_descriptor() -> None:
    results = [
        FileResult(path="a.py", violations=(v("custom", 1, severity="notice", path="a.py"),))
    ]
    doc = json.loads(format_sarif(results))
    [run] = doc["runs"]
    assert run["tool"]["driver"]["rules"][0]["id"] == "custom"
    assert run["results"][0]["level"] == "note"
    assert run["results"][0]["ruleIndex"] == 0
    assert "invocations" not in run


# -- github workflow commands ---------------------------------------------------------------


def test_github_commands() -> None:
    lines = format_github(sample()).splitlines()
    assert lines[0] == (
        f"::notice file={FACTORY},line=46,col=1,endLine=46,endColumn=80,"
        "title=ws-dual-pattern (pre-existing)::Use the bridge (SSOT)."
    )
    assert lines[1].startswith(
        f"::error file={FACTORY},line=46,col=1,endLine=46,endColumn=80,title=ws-legacy-import::"
    )
    assert "%0ASuggested replacement:%0A" + SUGGESTED_IMPORT in lines[1]
    # ':' is escaped in properties only, not in the message.
    assert lines[-1] == (
        "::warning file=netra_backend/app/broken.py,title=not analysed::does not parse: line 3"
    )
    assert len(lines) == 4


def test_github_escaping() -> None:
    results = [
        FileResult(
            path="odd,dir/a:b.py",
            violations=(
                v(
                    "r",
                    1,
                    path="odd,dir/a:b.py",
                    severity="warning",
                    message="100% wrong\r\nsee: docs, now",
                ),
            ),
        )
    ]
    [line] = format_github(results).splitlines()
    assert line.startswith("::warning file=odd%2Cdir/a%3Ab.py,line=1,")
    assert line.endswith("::100%25 wrong%0D%0Asee: docs, now")
