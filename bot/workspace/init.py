"""``ssot-bot init``: start a repository's configuration from the bundled, commented example.

Writes ``.github/ssot.yml`` (the bundled ``config/ssot.yml``) and ``.github/ssot.schema.json``
beside it, so that the file's ``# yaml-language-server: $schema=ssot.schema.json`` line resolves
and editors complete, explain and check every key.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["SCHEMA_LINE", "add_init_parser", "init_main"]

SCHEMA_LINE = "# yaml-language-server: $schema=ssot.schema.json"


def add_init_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = commands.add_parser(
        "init",
        help="write .github/ssot.yml (the commented example) and its JSON Schema",
        description="Write .github/ssot.yml (the bundled, commented example rules) and "
        ".github/ssot.schema.json beside it for editors. Exit 0: written; 2: a file exists "
        "(see --force) or cannot be written.",
    )
    init.add_argument("--root", metavar="DIR", default=".", help="repository root (default: .)")
    init.add_argument("--force", action="store_true", help="overwrite existing files")


def init_main(args: argparse.Namespace) -> int:
    # imported when the command runs, not when ``ssot-bot`` builds its parsers (bot.cli)
    from bot.config.loader import bundled_config_text
    from bot.config.schema import schema_text

    root = Path(args.root)
    if not root.is_dir():
        print(f"ssot-bot init: --root {args.root}: not a directory", file=sys.stderr)
        return 2
    config_text = bundled_config_text()
    if not config_text.startswith(SCHEMA_LINE + "\n"):
        config_text = f"{SCHEMA_LINE}\n{config_text}"
    files = {
        root / ".github" / "ssot.yml": config_text,
        root / ".github" / "ssot.schema.json": schema_text(),
    }
    existing = [p for p in files if p.exists()]
    if existing and not args.force:
        for path in existing:
            print(f"ssot-bot init: {path} exists (--force overwrites it)", file=sys.stderr)
        return 2
    try:
        (root / ".github").mkdir(exist_ok=True)
        for path, text in files.items():
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"ssot-bot init: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for path in files:
        print(f"wrote {path}")
    print("Edit the rules in .github/ssot.yml, then run: ssot-bot check")
    return 0
