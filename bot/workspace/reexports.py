"""The re-exports over a whole local tree (docs/behaviour.md §10)."""

from __future__ import annotations

import os
from pathlib import Path

from bot.config.model import Config
from bot.workspace.files import walk


def with_reexports(root: Path, config: Config) -> Config:
    """``config`` with the re-exports found in every module under ``root``, checked or not
    (docs/behaviour.md §10)."""
    from bot.engine.reexports import build_index, symbols_of

    if not symbols_of(config):
        return config
    root_abs = os.path.abspath(root)
    sources: list[tuple[str, str]] = []
    for entry in walk(root_abs, root_abs):
        if not entry.rel.endswith(".py"):
            continue
        try:
            text = Path(entry.on_disk).read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue  # a file that cannot be read re-exports nothing
        sources.append((entry.rel, text))
    return build_index(sources, config).as_config(config)
