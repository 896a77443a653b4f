"""analyse_source behaviour: resolution, positions, suppression, suggestions, errors, prefilter."""

from __future__ import annotations

import libcst
import pytest

from bot.config.model import PathFilter
from bot.engine import run as run_module
from bot.engine.model import Violation
from bot.engine.rules.syntax import ASCII_WORD, ascii_words
from bot.engine.run import analyse_source, has_word, rules_for_path

from .conftest import (
    BRIDGE,
    FACTORY,
    SEED_PATH,
    WS,
    WS_IMPORT,
    WS_MODULE,
    config,
    rule,
    seed_config,
)


def check(code: str, *rules, path: str = "app/mod.py", aliases=None, prefilter=True):
    cfg = config(*rules, aliases=aliases)
    result = analyse_source(path, code.encode(), cfg, prefilter=prefilter)
    assert result.error is None, result.error
    return list(result.violations)


def seed_source(crlf: bool = False, bom: bool = False) -> bytes:
    lines = [f"# line {i}" for i in range(1, 121)]
    lines[44] = "from typing import Optional"
    lines[45] = WS_IMPORT.rstrip("\n")
    lines[46] = (
        "from netra_backend.app.services.agent_websocket_bridge import "
        "create_agent_websocket_bridge"
    )
    lines[95] = "class AgentInstanceFactory:"
    lines[96] = "    def __init__(self) -> None:"
    lines[97] = "        self._websocket_manager: Optional[WebSocketManager] = None"
    nl = "\r\n" if crlf else "\n"
    text = nl.join(lines) + nl
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


# ------------------------------------------------------------------------------------- seed


@pytest.mark.parametrize(
    ("crlf", "bom"), [(False, False), (True, False), (False, True), (True, True)]
)
def test_seed_file(crlf: bool, bom: bool) -> None:
    result = analyse_source(SEED_PATH, seed_source(crlf, bom), seed_config())
    assert result.error is None and result.parsed
    imp, ann = result.violations
    assert (imp.rule, imp.kind, imp.line, imp.column, imp.end_line) == (
        "ws-legacy-import",
        "banned-import",
        46,
        64,
        46,
    )
    assert imp.end_column == imp.column + len("WebSocketManager")
    assert (ann.rule, ann.line, ann.column, ann.end_line) == ("ws-annotation", 98, 43, 98)
    # the fix also imports AgentWebSocketBridge: more than the commented lines, no suggestion
    # (contract §16); ``ssot-bot fix`` fixes both
    assert imp.suggestion is None and ann.suggestion is None
    assert imp.fixable and ann.fixable and "+from netra_backend" in result.fix_diff
    assert imp.message == "banned-import message" and imp.severity == "error" and imp.new
    assert len(imp.fingerprint) == 16 and imp.fingerprint != ann.fingerprint


def test_seed_rule_path_scoping() -> None:
    result = analyse_source("netra_backend/app/other.py", seed_source(), seed_config())
    assert [v.rule for v in result.violations] == ["ws-annotation"]


def test_rules_for_path_needs_config_paths_too() -> None:
    cfg = seed_config()
    assert [r.id for r in rules_for_path(cfg, SEED_PATH)] == ["ws-legacy-import", "ws-annotation"]
    assert rules_for_path(cfg, "README.md") == ()
    cfg2 = config(*cfg.rules, paths=PathFilter(("**/*.py",), ("netra_backend/app/agents/**",)))
    assert rules_for_path(cfg2, SEED_PATH) == ()
    assert analyse_source(SEED_PATH, seed_source(), cfg2).violations == ()


# ------------------------------------------------------------------------------- resolution

# keeps the banned import used and imports the bridge: an annotation's fix is then a line edit
KEEP = (
    "from netra_backend.app.services.agent_websocket_bridge import AgentWebSocketBridge\n"
    "LEGACY = WebSocketManager\n"
)
IMPORT_RULE = rule("banned-import", symbols=(WS,), use=FACTORY)
ANN_RULE = rule("banned-annotation", symbols=(WS,), use=BRIDGE)
CALL_RULE = rule("banned-call", symbols=(WS,), allow=("netra_backend/app/websocket_core/**",))


def test_module_import_is_not_class_import_but_uses_through_it_are() -> None:
    code = (
        "import netra_backend.app.websocket_core.websocket_manager as wm\n"
        "def f(m: wm.WebSocketManager) -> None:\n"
        "    wm.WebSocketManager()\n"
    )
    vs = check(code, IMPORT_RULE, ANN_RULE, CALL_RULE)
    assert [(v.kind, v.line, v.column) for v in vs] == [
        ("banned-annotation", 2, 10),
        ("banned-call", 3, 5),
    ]
    assert vs[0].end_column == 10 + len("wm.WebSocketManager")
    vs = check(code + KEEP, ANN_RULE)
    assert vs[0].suggestion == "def f(m: AgentWebSocketBridge) -> None:"


def test_aliased_imports() -> None:
    code = (
        "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager as W\n"
        "import netra_backend.app.websocket_core as core\n"
        "x: W = W()\n"
        "y: core.websocket_manager.WebSocketManager\n"
    )
    vs = check(code, IMPORT_RULE, ANN_RULE, CALL_RULE)
    assert [(v.kind, v.line, v.column) for v in vs] == [
        ("banned-import", 1, 64),
        ("banned-annotation", 3, 4),
        ("banned-call", 3, 8),
        ("banned-annotation", 4, 4),
    ]


def test_look_alike_local_names_never_match() -> None:
    code = (
        "from other.module import WebSocketManager\n"
        "class Thing:\n    WebSocketManager = None\n"
        "def f(m: WebSocketManager, n: 'WebSocketManager') -> WebSocketManager:\n"
        "    return WebSocketManager()\n"
        "obj.WebSocketManager()\n"
    )
    assert check(code, IMPORT_RULE, ANN_RULE, CALL_RULE) == []
    local = "class WebSocketManager:\n    pass\nx: WebSocketManager = WebSocketManager()\n"
    assert check(local, IMPORT_RULE, ANN_RULE, CALL_RULE) == []


def test_the_canonical_module_itself_defines_the_symbol() -> None:
    code = "class WebSocketManager:\n    pass\ndef make() -> WebSocketManager: ...\n"
    vs = check(code, ANN_RULE, path="netra_backend/app/websocket_core/websocket_manager.py")
    assert [v.line for v in vs] == [3]


@pytest.mark.parametrize(
    ("path", "code", "flagged"),
    [
        (
            "netra_backend/app/websocket_core/x.py",
            "from .websocket_manager import WebSocketManager",
            True,
        ),
        (
            "netra_backend/app/agents/x.py",
            "from ..websocket_core.websocket_manager import WebSocketManager",
            True,
        ),
        ("netra_backend/app/agents/x.py", "from .websocket_manager import WebSocketManager", False),
        # pkg/__init__.py resolves against pkg itself
        (
            "netra_backend/app/websocket_core/__init__.py",
            "from .websocket_manager import WebSocketManager",
            True,
        ),
        (
            "netra_backend/app/websocket_core/websocket_manager/__init__.py",
            "from . import WebSocketManager",
            True,
        ),
        (
            "netra_backend/app/websocket_core/websocket_manager.py",
            "from . import WebSocketManager",
            False,
        ),
        # climbing above the root matches nothing and is no error
        ("a.py", "from .. import WebSocketManager", False),
        ("a/b.py", "from .....websocket_manager import WebSocketManager", False),
    ],
)
def test_relative_imports(path: str, code: str, flagged: bool) -> None:
    vs = check(code + "\n", IMPORT_RULE, path=path)
    assert bool(vs) is flagged


def test_type_checking_imports_are_imports() -> None:
    code = (
        "from typing import TYPE_CHECKING, Optional\n"
        "if TYPE_CHECKING:\n"
        "    from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n"
        "def f(m: 'Optional[WebSocketManager]' = None) -> None: ...\n"
    )
    vs = check(code, IMPORT_RULE, ANN_RULE)
    assert [(v.kind, v.line) for v in vs] == [("banned-import", 3), ("banned-annotation", 4)]
    _imp, ann = vs
    # inside the string: column of the name itself, suggestion edits inside the string
    assert ann.column == code.splitlines()[3].index("WebSocketManager") + 1
    (ann,) = check(code + KEEP, ANN_RULE)
    assert ann.suggestion == "def f(m: 'Optional[AgentWebSocketBridge]' = None) -> None: ..."


@pytest.mark.parametrize(
    "annotation",
    [
        "WebSocketManager | None",
        "Optional[WebSocketManager]",
        "'WebSocketManager'",
        "list[WebSocketManager]",
        "'WebSocketManager | None'",
        "Union[int, 'WebSocketManager']",
        "(WebSocketManager)",
        "Optional[(WebSocketManager)]",
        "((WebSocketManager)) | None",
        "'(WebSocketManager)'",
    ],
)
def test_annotation_forms(annotation: str) -> None:
    code = WS_IMPORT + f"x: {annotation} = None\n" + KEEP
    (v,) = check(code, ANN_RULE)
    line = code.splitlines()[1]
    assert (v.line, v.column) == (2, line.index("WebSocketManager") + 1)
    assert v.suggestion == line.replace("WebSocketManager", "AgentWebSocketBridge")


def test_parenthesised_annotation_span_is_the_name_itself() -> None:
    (v,) = check(WS_IMPORT + "def f(m: ( WebSocketManager )): ...\n" + KEEP, ANN_RULE)
    assert (v.column, v.end_column) == (12, 28)
    assert v.suggestion == "def f(m: ( AgentWebSocketBridge )): ..."
    (v,) = check(WS_IMPORT + "x = (WebSocketManager())\n", CALL_RULE)
    assert (v.column, v.end_column) == (6, 24)  # a call: the call, not its parentheses


def test_parameter_on_its_own_line_in_multiline_def() -> None:
    code = WS_IMPORT + "def f(\n    a: int,\n    m: WebSocketManager,\n) -> None: ...\n" + KEEP
    (v,) = check(code, ANN_RULE)
    assert (v.line, v.column, v.end_line, v.end_column) == (4, 8, 4, 24)
    assert v.suggestion == "    m: AgentWebSocketBridge,"


def test_two_references_on_one_line_get_one_consistent_suggestion() -> None:
    code = WS_IMPORT + "def f(a: WebSocketManager, b: WebSocketManager): ...\n" + KEEP
    v1, v2 = check(code, ANN_RULE)
    assert v1.column < v2.column
    # one change on one line: the first violation carries it, applying it fixes both
    assert v1.suggestion == "def f(a: AgentWebSocketBridge, b: AgentWebSocketBridge): ..."
    assert v2.suggestion is None and v2.fixable
    assert v1.fingerprint != v2.fingerprint


def test_values_and_strings_are_not_annotations() -> None:
    code = WS_IMPORT + "x = WebSocketManager\ny = 'WebSocketManager'\n# z: WebSocketManager\n"
    assert check(code, ANN_RULE) == []


def test_star_import_matches_bare_name() -> None:
    code = f"from {WS_MODULE} import *\nx: WebSocketManager = WebSocketManager()\n"
    vs = check(code, ANN_RULE, CALL_RULE, IMPORT_RULE)
    assert [(v.kind, v.column) for v in vs] == [("banned-annotation", 4), ("banned-call", 23)]
    # a star import of an unrelated module does not
    assert check("from os import *\nx: WebSocketManager = None\n", ANN_RULE) == []


def test_alias_re_exports() -> None:
    aliases = {"netra_backend.app.websocket_core.WebSocketManager": WS}
    code = (
        "from netra_backend.app.websocket_core import WebSocketManager\n"
        "import netra_backend.app.websocket_core as core\n"
        "a: WebSocketManager\n"
        "core.WebSocketManager()\n"
    )
    vs = check(code, IMPORT_RULE, ANN_RULE, CALL_RULE, aliases=aliases)
    assert [(v.kind, v.line) for v in vs] == [
        ("banned-import", 1),
        ("banned-annotation", 3),
        ("banned-call", 4),
    ]
    assert check(code, IMPORT_RULE, ANN_RULE, CALL_RULE) == []  # without the alias: nothing


def test_renamed_alias_still_passes_prefilter() -> None:
    aliases = {"compat.LegacyManager": WS}
    code = "from compat import LegacyManager\nx: LegacyManager\n"
    assert [v.kind for v in check(code, ANN_RULE, aliases=aliases)] == ["banned-annotation"]


# ----------------------------------------------------------------------------- rule kinds


def test_banned_import_module_symbol_forms() -> None:
    mod_rule = rule("banned-import", symbols=(WS_MODULE,))
    code = (
        f"import {WS_MODULE}\n"
        f"import {WS_MODULE}.sub as s\n"
        "from netra_backend.app.websocket_core import websocket_manager\n"
        f"from {WS_MODULE} import A, B\n"
        "import netra_backend.app.websocket_core\n"
        "from netra_backend.app.websocket_core import other\n"
    )
    assert [v.line for v in check(code, mod_rule)] == [1, 2, 3, 4]


def test_banned_import_suggestion_only_when_statement_is_all_banned() -> None:
    code = (
        f"from {WS_MODULE} import WebSocketManager, helper\n"
        f"from {WS_MODULE} import WebSocketManager  # noqa: F401\n"
        f"import os; from {WS_MODULE} import WebSocketManager\n"
        f"from {WS_MODULE} import (\n    WebSocketManager,\n)\n"
    )
    vs = check(code, IMPORT_RULE)
    assert [v.line for v in vs] == [1, 2, 3, 5]
    # lines 4 and 6 change too (the parenthesised import goes): ``ssot-bot fix``, no suggestion
    assert [v.suggestion for v in vs] == [None] * 4 and all(v.fixable for v in vs)
    vs = check(code.split("\n", 1)[1], IMPORT_RULE)  # the first line is no longer there
    assert len(vs) == 3 and all(v.fixable for v in vs)


def test_no_use_no_suggestion() -> None:
    r = rule("banned-import", symbols=(WS,))
    (v,) = check(WS_IMPORT, r)
    assert v.suggestion is None


def test_banned_call_allow_globs() -> None:
    code = WS_IMPORT + "m = WebSocketManager()\n"
    assert [v.line for v in check(code, CALL_RULE, path="netra_backend/app/routes/x.py")] == [2]
    assert check(code, CALL_RULE, path="netra_backend/app/websocket_core/factory.py") == []
    (v,) = check(WS_IMPORT + "m = WebSocketManager(\n    user,\n)\n", CALL_RULE)
    assert (v.line, v.column, v.end_line, v.end_column) == (2, 5, 4, 2)


DUAL = rule("dual-pattern", legacy=(WS,), ssot=(BRIDGE,))
BRIDGE_IMPORT = (
    "from netra_backend.app.services.agent_websocket_bridge import AgentWebSocketBridge\n"
)


def test_dual_pattern_one_violation_at_first_legacy_reference() -> None:
    code = BRIDGE_IMPORT + "def f():\n    return WebSocketManager()\n" + WS_IMPORT + "x = 1\n"
    (v,) = check(code, DUAL)
    # the use on line 3 comes before the (late) import on line 4
    assert (v.line, v.column) == (3, 12)
    assert v.kind == "dual-pattern"


def test_dual_pattern_strings_and_comments_do_not_count() -> None:
    code = BRIDGE_IMPORT + "# WebSocketManager\ns = 'WebSocketManager'\nx: 'WebSocketManager'\n"
    assert check(code, DUAL) == []
    assert check(WS_IMPORT + "WebSocketManager()\n", DUAL) == []
    assert check(BRIDGE_IMPORT + "AgentWebSocketBridge()\n", DUAL) == []


CANON = rule(
    "canonical-definition",
    canonical={"AgentWebSocketBridge": "netra_backend/app/services/agent_websocket_bridge.py"},
)


def test_canonical_definition() -> None:
    code = "class AgentWebSocketBridge:\n    pass\n"
    assert check(code, CANON, path="netra_backend/app/services/agent_websocket_bridge.py") == []
    (v,) = check(code, CANON, path="netra_backend/app/legacy/bridge.py")
    assert (v.line, v.column, v.end_column) == (1, 7, 27)
    nested = (
        "def f():\n    class AgentWebSocketBridge: ...\n"
        "class C:\n    def AgentWebSocketBridge(self): ...\n"
    )
    assert check(nested, CANON) == []
    assert [v.line for v in check("if X:\n    AgentWebSocketBridge = 1\n", CANON)] == [2]


# ---------------------------------------------------------------------------- suppression


def test_suppression_comments() -> None:
    code = (
        WS_IMPORT.rstrip("\n") + "  # ssot: ignore\n"
        "a: WebSocketManager  # ssot: ignore[banned-annotation]\n"
        "b: WebSocketManager  # ssot: ignore[other-rule]\n"
        "c: WebSocketManager  # type: ignore  # ssot: ignore[x, banned-annotation]\n"
        "d: WebSocketManager  # ssot:ignore\n"
        "e: WebSocketManager = '# ssot: ignore'\n"
    )
    vs = check(code, IMPORT_RULE, ANN_RULE)
    assert [(v.kind, v.line) for v in vs] == [("banned-annotation", 3), ("banned-annotation", 6)]


def test_suppression_counts_on_first_line_only() -> None:
    code = WS_IMPORT + "m = WebSocketManager(\n    1,  # ssot: ignore\n)\n"
    assert [v.line for v in check(code, CALL_RULE)] == [2]
    code = WS_IMPORT + "m = WebSocketManager(  # ssot: ignore\n    1,\n)\n"
    assert check(code, CALL_RULE) == []


# ---------------------------------------------------------------------------- fingerprints


def test_fingerprint_stable_when_lines_inserted_above() -> None:
    code = WS_IMPORT + "def f(m: WebSocketManager) -> None: ...\n"
    before = check(code, IMPORT_RULE, ANN_RULE)
    after = check("import os\n\n\n" + code.replace("def f(", "def  f("), IMPORT_RULE, ANN_RULE)
    assert [v.line for v in after] == [v.line + 3 for v in before]
    assert [v.fingerprint for v in after] == [v.fingerprint for v in before]


def test_fingerprint_occurrence_index_separates_identical_lines() -> None:
    code = WS_IMPORT + "a = WebSocketManager()\na = WebSocketManager()\n"
    v1, v2 = check(code, CALL_RULE)
    assert v1.fingerprint != v2.fingerprint
    # and depends on rule and path
    (other,) = check(code.replace("a = W", "b = W", 1)[: len(WS_IMPORT) + 23], CALL_RULE)
    assert other.fingerprint != v1.fingerprint
    (moved,) = check(code[: len(WS_IMPORT) + 23], CALL_RULE, path="app/other.py")
    assert moved.fingerprint != v1.fingerprint


# --------------------------------------------------------------------------------- errors


def test_not_utf8_is_an_error() -> None:
    r = analyse_source("app/x.py", b"x = '\xff'\n", seed_config())
    assert r.error is not None and r.error.path == "app/x.py"
    assert "UTF-8" in r.error.message and r.violations == ()


def test_syntax_error_is_an_error() -> None:
    r = analyse_source("app/x.py", WS_IMPORT.encode() + b"def (:\n", seed_config())
    assert r.error is not None and "parse" in r.error.message


def test_violations_sorted_by_line_column_rule() -> None:
    code = WS_IMPORT + "x: WebSocketManager = WebSocketManager()\n"
    vs = check(code, CALL_RULE, ANN_RULE, IMPORT_RULE)
    keys = [(v.line, v.column, v.rule) for v in vs]
    assert keys == sorted(keys) and len(vs) == 3
    assert all(isinstance(v, Violation) for v in vs)


# ------------------------------------------------------------------------------ prefilter


def test_prefilter_skips_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = libcst.parse_module

    def spy(source: str, *a, **kw):  # type: ignore[no-untyped-def]
        calls.append(source)
        return real(source, *a, **kw)

    monkeypatch.setattr(run_module.cst, "parse_module", spy)
    cfg = seed_config()
    unrelated = b"import os\n\ndef main() -> None:\n    print(os.getcwd())\n"
    r = analyse_source(SEED_PATH, unrelated, cfg)
    assert r == analyse_source(SEED_PATH, unrelated, cfg)
    assert calls == [] and not r.parsed
    r = analyse_source(SEED_PATH, unrelated, cfg, prefilter=False)
    assert len(calls) == 1 and r.parsed and r.violations == ()
    r = analyse_source(SEED_PATH, seed_source(), cfg, fixes=False)  # (a fix parses again)
    assert len(calls) == 2 and len(r.violations) == 2


def test_prefilter_never_changes_results() -> None:
    code = (
        f"import {WS_MODULE} as wm\n"
        "from os import path\n"
        "def f(x: wm.WebSocketManager): return wm.WebSocketManager()\n"
    )
    rules = (IMPORT_RULE, ANN_RULE, CALL_RULE, DUAL, CANON)
    assert check(code, *rules) == check(code, *rules, prefilter=False)


@pytest.mark.parametrize(
    ("path", "code"),
    [
        (
            "netra_backend/app/websocket_core/x.py",
            "from .websocket_manager import WebSocketManager as W\nW()\n",
        ),
        (
            "netra_backend/app/websocket_core/websocket_manager.py",
            "class WebSocketManager: ...\ndef f(m: WebSocketManager): WebSocketManager()\n",
        ),
        ("app/x.py", f"from {WS_MODULE} import *\ndef f(m: WebSocketManager): ...\n"),
        (
            "app/x.py",
            "from \\\n  netra_backend.app.websocket_core.websocket_manager import (\n"
            "    WebSocketManager)\nWebSocketManager()\n",
        ),
        ("app/x.py", f"import {WS_MODULE} as wm\nwm . WebSocketManager()\n"),
        (
            "app/x.py",
            "import netra_backend\nnetra_backend.app.websocket_core.websocket_manager"
            ".WebSocketManager()\n",
        ),
    ],
)
def test_prefilter_is_sound(path: str, code: str) -> None:
    rules = (IMPORT_RULE, ANN_RULE, CALL_RULE, DUAL, CANON)
    on = check(code, *rules, path=path)
    assert on and on == check(code, *rules, path=path, prefilter=False)


def test_prefilter_single_component_module() -> None:
    r = rule("banned-import", symbols=("asyncore",))
    assert [v.line for v in check("import os\nimport asyncore\n", r)] == [2]
    assert check("import os  # asyncore is gone\n", r) == []


def test_string_annotations_with_padding_escapes_and_newlines() -> None:
    (v,) = check(WS_IMPORT + "x: '  WebSocketManager  '\n" + KEEP, ANN_RULE)
    assert (v.line, v.column, v.suggestion) == (2, 7, "x: '  AgentWebSocketBridge  '")
    # escapes: columns inside the string are not exact -> the whole string, no suggestion
    (v,) = check(WS_IMPORT + "x: 'Opt\\x69onal[WebSocketManager]'\n", ANN_RULE)
    assert (v.line, v.column, v.suggestion) == (2, 4, None)
    (v,) = check(WS_IMPORT + "x: '''\n  Optional[WebSocketManager]'''\n", ANN_RULE)
    assert (v.line, v.end_line, v.suggestion) == (2, 3, None)


@pytest.mark.parametrize(
    "code",
    [
        "class AgentWebSocketBridge(Base): ...\n",
        "async def AgentWebSocketBridge(): ...\n",
        "AgentWebSocketBridge = make()\n",
        "AgentWebSocketBridge: type = make()\n",
        "(a,\n AgentWebSocketBridge\n) = 1, 2\n",
        "[a, AgentWebSocketBridge] = 1, 2\n",
        "try:\n    pass\nexcept ImportError:\n    x = AgentWebSocketBridge = make()\n",
    ],
)
def test_canonical_definition_prefilter_is_sound(code: str) -> None:
    assert check(code, CANON) and check(code, CANON) == check(code, CANON, prefilter=False)


def test_canonical_definition_prefilter_skips_mere_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a: object, **kw: object) -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(run_module.cst, "parse_module", boom)
    check("from x import AgentWebSocketBridge\nb = AgentWebSocketBridge()\n", CANON)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Legacy", True),
        ("x = Legacy()", True),
        ("LegacyX Legacy_ xLegacy", False),
        ("LegacyX and then Legacy.", True),  # a later whole occurrence counts
        ("éLegacy", True),  # ASCII boundaries: may see a word, never miss one
        ("_Legacy1", False),
        ("", False),
    ],
)
def test_has_word(text: str, found: bool) -> None:
    assert has_word(text, "Legacy") is found


def test_has_word_past_many_near_misses() -> None:
    near = "xLegacyx " * 100  # past the occurrences tried by hand: the pattern decides
    assert not has_word(near, "Legacy")
    assert has_word(near + "(Legacy)", "Legacy")


@pytest.mark.parametrize("text", [
    "from sympy import Symbol, S\nx = Symbol('x')  # é\n",
    "naïve_name = café2 + Ωmega_3\tx\x0cy\x1cz\u2028w",  # non-ASCII letters end a word
    "a.b(c)[d]{e}:f;g,h'i\"j\\k\r\nl\x00m",
    "",
])
def test_ascii_words_are_the_runs_of_ascii_word_characters(text: str) -> None:
    assert ascii_words(text) == frozenset(ASCII_WORD.findall(text))
