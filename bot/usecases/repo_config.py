"""A repository's configuration as the bot reads it on GitHub: the base branch's
``.github/ssot.yml`` (a PR cannot loosen its own rules), else the bundled default."""

from __future__ import annotations

import asyncio

from bot.config.loader import bundled_config, load_config_text
from bot.config.model import Config, ConfigError, ConfigProblem
from bot.github.client import Repo

REPO_CONFIG_PATH = ".github/ssot.yml"


async def load_repo_config(repo: Repo, base_ref: str) -> Config:
    """The base branch's `.github/ssot.yml` (a PR cannot loosen its own rules), else the default."""
    raw = await repo.file_at(REPO_CONFIG_PATH, base_ref)
    if raw is None:
        # parsed and schema-checked on first use (~0.1 s of CPU): never on the event loop
        return await asyncio.to_thread(bundled_config)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigProblem(REPO_CONFIG_PATH, 1, None,
                                         "configuration is not UTF-8 text")]) from exc
    # a config may be up to 1 MiB of YAML: parse it off the event loop
    return await asyncio.to_thread(load_config_text, text, REPO_CONFIG_PATH)
