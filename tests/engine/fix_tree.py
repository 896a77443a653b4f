"""A generated repository for ``ssot-bot fix``: the seed's legacy WebSocket patterns in the forms
real code has them, among neutral modules (tests/engine/test_fix.py; benchmarks/fix.py)."""

from __future__ import annotations

import random
from pathlib import Path

WSM = "netra_backend.app.websocket_core.websocket_manager"
BRIDGE = "netra_backend.app.services.agent_websocket_bridge"

# name -> (code, fixable: the fix removes every violation of the file)
TEMPLATES: dict[str, tuple[str, bool]] = {
    # the demo's shape: import + annotations, the bridge module already imported
    "annotated": (
        f"from typing import Optional\n\nfrom {BRIDGE} import UserExecutionContext\n"
        f"# legacy delivery\nfrom {WSM} import WebSocketManager\n\n\n"
        "class Agent{n}:\n"
        "    def __init__(self, ctx: UserExecutionContext) -> None:\n"
        "        self.ctx = ctx\n"
        "        self.manager: Optional[WebSocketManager] = None\n\n"
        "    def attach(self, manager: WebSocketManager) -> None:\n"
        "        self.manager = manager\n",
        True,
    ),
    # a direct instantiation: the call becomes the factory, the import goes
    "called": (
        f"import logging\nfrom {WSM} import WebSocketManager\n\nlog = logging.getLogger()\n\n\n"
        "def build{n}(user: str) -> object:\n"
        "    log.info('building for %s', user)\n"
        "    return WebSocketManager(user)\n",
        True,
    ),
    # through the module: annotation and call through ``wm.``; the module import goes
    "through_module": (
        f"import {WSM} as wm\n\n\n"
        "def use{n}(m: wm.WebSocketManager) -> None:\n"
        "    other = wm.WebSocketManager()\n"
        "    print(m, other)\n",
        True,
    ),
    # a string annotation under TYPE_CHECKING
    "type_checking": (
        "from __future__ import annotations\n\nfrom typing import TYPE_CHECKING, Optional\n\n"
        f"if TYPE_CHECKING:\n    from {WSM} import WebSocketManager\n\n\n"
        "def handle{n}(m: 'Optional[WebSocketManager]' = None) -> None:\n"
        "    print(m)\n",
        True,
    ),
    # a use no rule rewrites (a value): the import stays, needs a person
    "value_use": (
        f"from {WSM} import WebSocketManager\n\n" + "REGISTRY{n} = {'legacy': WebSocketManager}\n",
        False,
    ),
    # a second definition: needs a person
    "copy": (
        "class AgentWebSocketBridge:\n    '''A local copy (drifts).'''\n\n    n = {n}\n",
        False,
    ),
    # neutral modules, most of any real tree
    "neutral": (
        "import os\n\n\ndef path{n}(name: str) -> str:\n    return os.path.join('a', name)\n",
        True,
    ),
}
WEIGHTS = {"annotated": 3, "called": 2, "through_module": 2, "type_checking": 1,
           "value_use": 1, "copy": 1, "neutral": 90}


def generate(root: Path, files: int, seed: int = 7) -> dict[str, str]:
    """Write ``files`` modules under ``root``/netra_backend/app/agents/; path -> template."""
    rng = random.Random(seed)
    names = list(WEIGHTS)
    chosen: dict[str, str] = {}
    for pkg in ("netra_backend", "netra_backend/app", "netra_backend/app/agents"):
        (root / pkg).mkdir(parents=True, exist_ok=True)
        (root / pkg / "__init__.py").write_text("")
    for i in range(files):
        name = names[i] if i < len(names) else rng.choices(names, [WEIGHTS[n] for n in names])[0]
        folder = root / "netra_backend/app/agents" / f"group{i // 200}"
        if not folder.exists():
            folder.mkdir()
            (folder / "__init__.py").write_text("")
        path = folder / f"m{i}_{name}.py"
        path.write_text(TEMPLATES[name][0].replace("{n}", str(i)))
        chosen[path.relative_to(root).as_posix()] = name
    return chosen
