"""The configuration of a local run: ``--config``, else the tree's ``.github/ssot.yml``, else
the bundled default."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.config.loader import bundled_config, load_config_file
from bot.config.model import Config, ConfigError


def load_config_or_report(root: Path, config_arg: str | None) -> Config | None:
    """The configuration for ``root``, or None once every problem is printed on stderr as
    ``FILE:LINE: [rule-id] what is wrong`` (exit 2)."""
    try:
        return _load_config(root, config_arg)
    except ConfigError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        return None


def _load_config(root: Path, config_arg: str | None) -> Config:
    if config_arg is not None:
        path = Path(config_arg)
        return load_config_file(path)
    repo_config = root / ".github" / "ssot.yml"
    if repo_config.is_file():
        return load_config_file(repo_config)
    return bundled_config()
