"""``ssot-bot fix``: apply the fix engine's verified fixes to local files (contract §16).

``--diff`` (the default) prints the change as a unified diff; ``--write`` changes the files in
place (a file is written only when the fixed text parses back, and atomically). Every violation
left (no automatic fix, or a fix that was not safe) is listed on stderr as ``needs a person``.
Exit 0: every violation of the chosen rules is fixed; 1: some remain; 2: usage or
configuration error.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

# the engine is imported when the command runs: ``ssot-bot`` builds every command's parser
# first, and ``check`` starts its workers' server before it imports the engine (bot.cli)
if TYPE_CHECKING:
    from bot.engine.fix import FileFix

__all__ = ["add_fix_parser", "fix_main"]


def add_fix_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fix = commands.add_parser(
        "fix",
        help="fix the violations that have a verified automatic fix",
        description="Fix violations of rules with `use` (banned-import, banned-annotation, "
        "banned-call) through libcst, formatting and comments kept; every fix is verified "
        "(compiles, names defined, the check no longer flags it) before it is applied. Exit 0: "
        "every violation fixed; 1: some need a person; 2: usage or configuration error.",
    )
    fix.add_argument("paths", nargs="*", metavar="PATH",
                     help="files or directories to fix (default: the root)")
    fix.add_argument("--config", metavar="FILE", help="configuration file (default: "
                     "<root>/.github/ssot.yml if it exists, else the bundled config/ssot.yml)")
    fix.add_argument("--root", metavar="DIR", default=".",
                     help="repository root: globs and output paths are relative to it")
    fix.add_argument("--rule", action="append", metavar="ID", default=None,
                     help="fix only this rule (repeatable; default: every rule)")
    mode = fix.add_mutually_exclusive_group()
    mode.add_argument("--diff", dest="write", action="store_false",
                      help="print the change as a unified diff (the default)")
    mode.add_argument("--write", dest="write", action="store_true",
                      help="change the files in place")
    fix.add_argument("--jobs", "-j", type=int, metavar="N", default=None,
                     help="worker processes for the analysis (default: one per CPU)")
    fix.set_defaults(write=False)


def fix_main(args: argparse.Namespace) -> int:
    from bot.engine.fix import fix_file
    from bot.engine.run import analyse_source, decode
    from bot.workspace.command import analyse_tree, fail, open_root
    from bot.workspace.files import UsageError, collect

    root = Path(args.root)
    config = open_root("fix", root, f"--root {args.root}", args.config)
    if isinstance(config, int):
        return config
    rules = None
    if args.rule:
        known = {r.id for r in config.rules}
        unknown = [r for r in args.rule if r not in known]
        if unknown:
            return fail("fix", f"--rule {unknown[0]}: no such rule in {config.source}")
        rules = frozenset(args.rule)
    try:
        inputs = collect(root, args.paths or [str(root)], config, None)
    except UsageError as exc:
        return fail("fix", str(exc))

    config, results = analyse_tree(root, inputs, config, jobs=args.jobs)
    on_disk = dict(inputs.files)
    remaining = 0
    changed = 0
    for result in sorted([*results, *inputs.errors], key=lambda r: r.path):
        if result.error is not None:
            print(f"{result.path}: needs a person: not analysed ({result.error.message})",
                  file=sys.stderr)
            remaining += 1
            continue
        if not result.violations:
            continue
        path = on_disk[result.path]
        raw = path.read_bytes()
        text = decode(result.path, raw)
        if not isinstance(text, str):
            continue
        fix = fix_file(result.path, text, config, result.violations, rules=rules,
                       check=analyse_source)
        for v, why in fix.left:
            print(f"{v.path}:{v.line}:{v.column}: {v.rule} {why}", file=sys.stderr)
        remaining += len(fix.left)
        if not fix.changed:
            continue
        changed += 1
        if args.write:
            _write(path, raw, fix)
        else:
            sys.stdout.write(fix.diff())
    verb = "fixed" if args.write else "would change"
    print(f"ssot-bot fix: {verb} {changed} file{'s' * (changed != 1)}; "
          f"{remaining} violation{'s' * (remaining != 1)} need{'s' * (remaining == 1)} a person",
          file=sys.stderr)
    sys.stdout.flush()
    return 1 if remaining else 0


def _write(path: Path, raw: bytes, fix: FileFix) -> None:
    """Replace the file with the fixed text (its BOM kept), only when it parses back."""
    import libcst as cst

    cst.parse_module(fix.fixed)  # verified already; never write what does not parse back
    data = fix.fixed.encode("utf-8")
    if raw.startswith(b"\xef\xbb\xbf"):
        data = b"\xef\xbb\xbf" + data
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, path.stat().st_mode & 0o7777)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
