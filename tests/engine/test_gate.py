"""The prefilter's ast gate: it only ever skips libcst for files where no rule can fire.

Same violations with the prefilter on and off: over tricky cases, and over a sample of the
standard library with the benchmark's rules.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

import libcst
import pytest

from benchmarks.samples import dense_config
from bot.config.model import Config, Rule
from bot.engine import run as run_module
from bot.engine.names import AliasTable
from bot.engine.reexports import build_index
from bot.engine.rules.gate import gate
from bot.engine.run import analyse_source, plan

from .conftest import BRIDGE, WS, WS_IMPORT, WS_MODULE, config, rule

ANN = rule("banned-annotation", symbols=(WS,))
CALL = rule("banned-call", symbols=(WS,))
IMPORT = rule("banned-import", symbols=(WS,))
DUAL = rule("dual-pattern", legacy=(WS,), ssot=(BRIDGE,))
MODULE_ANN = rule("banned-annotation", "module-ann", symbols=(WS_MODULE,))
STAR = f"from {WS_MODULE} import *\n"
BRIDGE_IMPORT = f"from {BRIDGE.rpartition('.')[0]} import AgentWebSocketBridge\n"
WM = f"import {WS_MODULE} as wm\n"

# (code, path, rules, aliases): libcst finds something in each; the gate must keep the rule
FOUND = [
    (STAR + BRIDGE_IMPORT + "try:\n    pass\nexcept E as WebSocketManager:\n    pass\n", DUAL),
    (STAR + BRIDGE_IMPORT + "match v:\n    case {**WebSocketManager}:\n        pass\n", DUAL),
    (STAR + BRIDGE_IMPORT + "match v:\n    case C(WebSocketManager=1):\n        pass\n", DUAL),
    (STAR + BRIDGE_IMPORT + "match v:\n    case [*WebSocketManager]:\n        pass\n", DUAL),
    (STAR + "def f() -> None: ...\n", MODULE_ANN),  # libcst: ``None`` is a name
    (WS_IMPORT + "x: 'WebSocketManager' 'Foo'\n", ANN),  # implicit concatenation
    (WS_IMPORT + "x: 'Opt\\x69onal[WebSocketManager]'\n", ANN),
    (WS_IMPORT + "def f(*a: 'list[WebSocketManager]', **k: WebSocketManager): ...\n", ANN),
    (WM + "f = lambda m=wm.WebSocketManager(): m\n", CALL),
    (WM + "@wm.WebSocketManager()\ndef g(): ...\n", CALL),
    (WM + "class A(B, metaclass=wm.WebSocketManager()): ...\n", CALL),
    (WM + "f(a=[wm.WebSocketManager() for _ in x])\n", CALL),
    (WM + "x = (y := wm . WebSocketManager())\n", CALL),
    (WM + "async def f():\n    async with wm.WebSocketManager() as m:\n        pass\n", CALL),
    ("def f():\n    " + WS_IMPORT + "    return WebSocketManager()\n", CALL),
    ("if T:\n    " + WS_IMPORT + "def f(m: 'WebSocketManager'): ...\n", ANN),
    (WM + BRIDGE_IMPORT + "x: wm.WebSocketManager\n", DUAL),
    (WS_IMPORT + BRIDGE_IMPORT, IMPORT),
]


@pytest.mark.parametrize(("code", "r"), FOUND)
def test_gate_keeps_what_libcst_finds(code: str, r: Rule) -> None:
    cfg = config(r)
    off = analyse_source("app/mod.py", code.encode(), cfg, prefilter=False)
    on = analyse_source("app/mod.py", code.encode(), cfg)
    assert off.violations and on == off


@pytest.mark.parametrize(
    ("path", "code", "r", "aliases"),
    [
        (
            "netra_backend/app/websocket_core/websocket_manager.py",
            "class WebSocketManager: ...\ndef f() -> 'WebSocketManager': ...\n",
            ANN,
            {},
        ),
        (
            "examples/netra-apex/netra_backend/app/websocket_core/x.py",
            "from . import websocket_manager as w\ndef f(m: 'w.WebSocketManager'): ...\n",
            ANN,
            {},
        ),
        ("app/x.py", "from compat import M\nx: 'Optional[M]'\n", ANN, {"compat.M": WS}),
        ("app/x.py", "import compat\ncompat.sub.M()\n", CALL, {"compat.sub": WS_MODULE + ".X"}),
    ],
)
def test_gate_keeps_own_definitions_relative_imports_and_aliases(
    path: str, code: str, r: Rule, aliases: dict[str, str]
) -> None:
    cfg = config(r, aliases=aliases)
    off = analyse_source(path, code.encode(), cfg, prefilter=False)
    assert analyse_source(path, code.encode(), cfg) == off
    kept = gate(path, code, cfg.rules, AliasTable(aliases))
    assert kept == cfg.rules or not off.violations


def test_gate_spares_libcst_when_no_rule_can_fire(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = libcst.parse_module
    monkeypatch.setattr(
        run_module.cst, "parse_module", lambda s, *a, **kw: calls.append(s) or real(s)
    )
    cfg = config(ANN, CALL, IMPORT, DUAL)
    # passes the text test (names the package and the class), but binds an unrelated class
    code = b"from netra_backend.app.other import WebSocketManager\nx: WebSocketManager = None\n"
    planned = plan("app/x.py", code, cfg)
    assert isinstance(planned, tuple) and planned[1]  # the text prefilter let it through
    r = analyse_source("app/x.py", code, cfg)
    assert r.violations == () and not r.parsed and calls == []
    r = analyse_source("app/x.py", code, cfg, prefilter=False)
    assert r.violations == () and r.parsed and len(calls) == 1


def test_gate_keeps_only_the_rules_that_can_fire() -> None:
    cfg = config(ANN, CALL, IMPORT, DUAL)
    kept = gate("app/x.py", WS_IMPORT + "x: WebSocketManager\n", cfg.rules, AliasTable({}))
    assert kept == (ANN, IMPORT)


def test_what_ast_cannot_parse_goes_to_libcst() -> None:
    assert gate("app/x.py", "def (:\n", (ANN,), AliasTable({})) is None
    r = analyse_source("app/x.py", WS_IMPORT.encode() + b"x: WebSocketManager\ndef (:\n",
                       config(ANN))
    assert r.error is not None and "parse" in r.error.message


# ------------------------------------------------------------------- standard library sample


def _stdlib_sample(cfg: Config, size: int = 300) -> list[tuple[str, bytes]]:
    """Small files: every one that passes the text prefilter (the gate decides those),
    and every fifth of the others."""
    root = Path(sysconfig.get_paths()["stdlib"])
    paths = sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts)
    out: list[tuple[str, bytes]] = []
    others = 0
    for p in paths:
        data = p.read_bytes()
        if len(data) > 40_000:
            continue
        path = p.relative_to(root).as_posix()
        if not isinstance(plan(path, data, cfg), tuple):
            others += 1
            if others % 5:
                continue
        out.append((path, data))
        if len(out) >= size:
            break
    return out


def test_stdlib_sample_same_violations_prefilter_on_and_off() -> None:
    plain = dense_config()
    files = _stdlib_sample(plain)
    # with the re-export index of the sample, as ssot-bot check builds it
    cfg = build_index([(p, d.decode("utf-8")) for p, d in files], plain).as_config(plain)
    assert cfg.reexports
    assert len(files) >= 200
    found = 0
    for path, data in files:
        off = analyse_source(path, data, cfg, prefilter=False)
        on = analyse_source(path, data, cfg)
        if off.error is None:
            assert on.violations == off.violations, path
            found += len(off.violations)
    assert found >= 20  # the sample exercises the rules
