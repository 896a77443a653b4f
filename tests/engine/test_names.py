"""Module names from paths: the import root, relative imports, canonical paths below a folder."""

from __future__ import annotations

import pytest

from bot.engine.names import module_of_path, module_parts, package_of_path, resolve_relative
from bot.engine.run import analyse_source

from .conftest import WS, config, rule

CANON = "netra_backend/app/services/agent_websocket_bridge.py"
EXAMPLE = "examples/netra-apex/"


@pytest.mark.parametrize(
    ("path", "module", "package"),
    [
        # a normal root: unchanged
        ("pkg/sub/mod.py", "pkg.sub.mod", ["pkg", "sub"]),
        ("pkg/__init__.py", "pkg", ["pkg"]),
        ("setup.py", "setup", []),
        ("./pkg/mod.py", "pkg.mod", ["pkg"]),
        # folders above the package root: cut after the last one that is no identifier
        (EXAMPLE + "netra_backend/app/x.py", "netra_backend.app.x", ["netra_backend", "app"]),
        (EXAMPLE + "netra_backend/__init__.py", "netra_backend", ["netra_backend"]),
        ("a/my-project/b/c-d/pkg/mod.py", "pkg.mod", ["pkg"]),
        ("proj/class/pkg/mod.py", "pkg.mod", ["pkg"]),  # a keyword is no package either
        # the src layout
        ("src/pkg/mod.py", "pkg.mod", ["pkg"]),
        (EXAMPLE + "src/pkg/mod.py", "pkg.mod", ["pkg"]),
        ("src/mod.py", "mod", []),
        ("pkg/src/mod.py", "pkg.src.mod", ["pkg", "src"]),  # only right below the root
        ("my-file.py", "my-file", []),  # the file itself is not a folder: kept as it was
    ],
)
def test_module_names(path: str, module: str, package: list[str]) -> None:
    assert module_of_path(path) == module
    assert package_of_path(path) == package


def test_module_parts_and_relative_resolution() -> None:
    assert module_parts("pkg/mod") == ["pkg", "mod"]
    path = EXAMPLE + "netra_backend/app/websocket_core/x.py"
    assert resolve_relative(path, 1, "websocket_manager") == (
        "netra_backend.app.websocket_core.websocket_manager"
    )
    assert resolve_relative(path, 4, None) is None  # climbs above the import root
    assert resolve_relative("pkg/sub/mod.py", 2, "x") == "pkg.x"


@pytest.mark.parametrize("prefilter", [True, False])
@pytest.mark.parametrize("root", ["", EXAMPLE, "src/"])
def test_relative_import_below_a_folder_above_the_root(root: str, prefilter: bool) -> None:
    cfg = config(rule("banned-import", symbols=(WS,)))
    code = b"from .websocket_manager import WebSocketManager\n"
    path = root + "netra_backend/app/websocket_core/x.py"
    (v,) = analyse_source(path, code, cfg, prefilter=prefilter).violations
    assert (v.path, v.line) == (path, 1)


@pytest.mark.parametrize("prefilter", [True, False])
def test_canonical_file_below_a_folder_above_the_root(prefilter: bool) -> None:
    cfg = config(rule("canonical-definition", canonical={"AgentWebSocketBridge": CANON}))
    code = b"class AgentWebSocketBridge:\n    pass\n"
    for path in (CANON, EXAMPLE + CANON, "./" + CANON):
        assert analyse_source(path, code, cfg, prefilter=prefilter).violations == ()
    for path in ("x" + CANON, "netra_backend/app/services/other.py", CANON + "/x.py"):
        (v,) = analyse_source(path, code, cfg, prefilter=prefilter).violations
        assert v.line == 1
