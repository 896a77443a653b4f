"""``ssot-bot inventory [PATH]``: the inventory block and its data for a local tree
(docs/behaviour.md §11), so Step 0's audit runs before any App is installed."""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import subprocess
import sys
from pathlib import Path

from bot.config.model import Config
from bot.inventory.messages import render_block
from bot.inventory.model import Point
from bot.inventory.scan import inventory_rules, record_of, restricted, take
from bot.workspace.command import analyse_tree, fail, open_root
from bot.workspace.files import UsageError, collect


def select_rules(config: Config, spec: str | None) -> tuple[str, ...]:
    """``--rules a,ws-*`` expanded against the configuration (default: the rules of
    ``tracking.inventory``, else every rule). Raises ValueError naming an unknown id."""
    ids = [r.id for r in config.rules]
    if spec is None:
        return inventory_rules(config) or tuple(ids)
    chosen: dict[str, None] = {}
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        matched = [i for i in ids if fnmatch.fnmatchcase(i, item)]
        if not matched:
            raise ValueError(f"--rules: no rule matches {item!r}")
        chosen.update(dict.fromkeys(matched))
    return tuple(chosen)


def _head(root: Path) -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    sha = done.stdout.decode("ascii", "replace").strip()
    return sha if done.returncode == 0 and len(sha) == 40 else ""


def inventory_main(args: argparse.Namespace) -> int:
    root = Path(args.path)
    config = open_root("inventory", root, args.path, args.config)
    if isinstance(config, int):
        return config
    try:
        rules = select_rules(config, args.rules)
    except ValueError as exc:
        return fail("inventory", str(exc))
    config = restricted(config, rules)
    try:
        inputs = collect(root, [str(root)], config, None)
    except UsageError as exc:
        return fail("inventory", str(exc))
    config, results = analyse_tree(root, inputs, config, jobs=args.jobs,  # behaviour.md §10
                                   progress=not args.no_progress)
    records = {r.path: record_of(r) for r in results}
    sha = _head(root)
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    inventory = take(records, rules, sha=sha, date=date)
    history = [Point(date, sha, inventory.total)] if sha else []
    if args.format == "json":
        document = {**inventory.as_json(),
                    "history": {"points": [p.as_json() for p in history]}}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        sys.stdout.write(render_block(inventory, history, html_base=None) + "\n")
    return 0
