"""``ssot-bot``: ``check`` (local run of the rules), ``fix``, ``init``, ``inventory``, ``serve``,
``demo``, ``manifest``, ``schema``.

Only ``check`` lives here; the other commands are imported when they are run, so
``ssot-bot check`` never loads the web service.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__
from bot.report.local import FORMATS

if TYPE_CHECKING:
    from bot.engine.model import FileResult, Violation

__all__ = ["build_parser", "check_main", "main"]

# -- argument parsing ------------------------------------------------------------------------


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (in this process) or more")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError("must be between 1 and 65535")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssot-bot",
        description="Single-source-of-truth rules for Python code: locally, and on pull requests "
        "as a GitHub App.",
    )
    parser.add_argument("--version", action="version", version=f"ssot-bot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    check = commands.add_parser(
        "check",
        help="run the SSOT rules on local files",
        description="Run the SSOT rules on local files. Exit 0: nothing fails under fail_on; "
        "1: something does; 2: usage or configuration error.",
    )
    check.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or directories to check (default: the root)",
    )
    check.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (default: <root>/.github/ssot.yml if it exists, else the "
        "bundled config/ssot.yml)",
    )
    check.add_argument(
        "--root",
        metavar="DIR",
        default=".",
        help="repository root: globs and output paths are relative to it (default: .)",
    )
    diff = check.add_mutually_exclusive_group()
    diff.add_argument(
        "--diff",
        metavar="FILE",
        help="unified diff (as git diff prints it; '-' for stdin): check only the files in it; "
        "a violation is new when it touches an added line",
    )
    diff.add_argument(
        "--diff-base",
        metavar="REF",
        help="like --diff, with the diff of the work tree against git merge-base REF HEAD",
    )
    check.add_argument("--format", choices=FORMATS, default="text", help="output format")
    check.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        metavar="N",
        help="worker processes (default: one per CPU; 0: analyse in this process)",
    )
    check.add_argument(
        "--no-prefilter",
        action="store_true",
        help="parse every file, even those that cannot mention a rule's symbols",
    )
    check.add_argument("--no-progress", action="store_true", help="never show a progress bar")

    inventory = commands.add_parser(
        "inventory", help="the tracking issue's inventory block for a local tree",
        description="Count the violations of the inventory's rules in a local tree and print "
        "the block the App keeps in the tracking issue (or its data as JSON).")
    inventory.add_argument("path", nargs="?", default=".", metavar="PATH",
                           help="repository root (default: .)")
    inventory.add_argument("--config", metavar="FILE", help="configuration file (default: "
                           "<PATH>/.github/ssot.yml if it exists, else the bundled one)")
    inventory.add_argument("--rules", metavar="ID,...", help="rule ids or globs (default: "
                           "the rules of tracking.inventory, else every rule)")
    inventory.add_argument("--format", choices=("markdown", "json"), default="markdown")
    inventory.add_argument("--jobs", "-j", type=_jobs, metavar="N",
                           help="worker processes (default: one per CPU)")
    inventory.add_argument("--no-progress", action="store_true",
                           help="never show a progress bar")

    serve = commands.add_parser("serve", help="run the GitHub App webhook service")
    serve.add_argument("--host", default=None, help="interface to listen on (default: $HOST)")
    serve.add_argument("--port", type=_port, default=None, help="port (default: $PORT)")
    serve.add_argument("--role", choices=("web", "worker", "all"), default=None,
                       help="shared mode: answer webhooks (web), run jobs (worker) or both "
                       "(default: $SSOT_ROLE, else all)")

    migrate = commands.add_parser(
        "migrate", help="create or update the shared database's schema (DATABASE_URL)")
    migrate.add_argument("--database-url", default=None, metavar="URL",
                         help="default: $DATABASE_URL")

    demo = commands.add_parser(
        "demo", help="offline end-to-end run against a local GitHub emulator"
    )
    demo.add_argument("--no-color", action="store_true", help="plain output")

    manifest = commands.add_parser("manifest", help="print the GitHub App manifest JSON")
    manifest.add_argument("--url", default=None, help="the App's public base URL")

    commands.add_parser("schema", help="print the JSON Schema of ssot.yml")

    from bot.workspace.fix import add_fix_parser
    from bot.workspace.init import add_init_parser

    add_fix_parser(commands)
    add_init_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (2), --help and --version (0)
        return exc.code if isinstance(exc.code, int) else 2
    command: str = args.command
    if command == "check":
        return check_main(args)
    if command == "fix":
        from bot.workspace.fix import fix_main

        return fix_main(args)
    if command == "init":
        from bot.workspace.init import init_main

        return init_main(args)
    if command == "inventory":
        from bot.workspace.inventory import inventory_main

        return inventory_main(args)
    if command == "serve":
        from bot.service.main import serve_main

        return serve_main(args)
    if command == "migrate":
        from bot.service.main import migrate_main

        return migrate_main(args)
    if command == "demo":
        from bot.demo import demo_main  # type: ignore[import-not-found, unused-ignore]

        result: int = demo_main(args)
        return result
    if command == "manifest":
        from bot.manifest import manifest_main

        return manifest_main(args)
    if command == "schema":
        from bot.config.schema import schema_text

        sys.stdout.write(schema_text())
        return 0
    parser.error(f"unknown command {command!r}")  # pragma: no cover - argparse rejects it first
    return 2  # pragma: no cover


# -- check -----------------------------------------------------------------------------------


def check_main(args: argparse.Namespace) -> int:
    if args.jobs != 0:
        from bot.engine.processes import warm_up

        # the workers' server imports the engine (and this module, which each worker's import
        # of the ``ssot-bot`` script needs) on another core while this process imports it
        # too, reads the configuration, walks the tree and builds the re-export index
        warm_up([__name__])
    from bot.engine import collector
    from bot.report.local import fails, format_github, format_json, format_sarif, format_text
    from bot.workspace.command import analyse_tree, fail, open_root
    from bot.workspace.diff import added_lines
    from bot.workspace.files import UsageError, collect
    from bot.workspace.progress import isatty

    root = Path(args.root)
    config = open_root("check", root, f"--root {args.root}", args.config)
    if isinstance(config, int):
        return config
    try:
        added = added_lines(root, args.diff, args.diff_base)
        inputs = collect(root, args.paths or [str(root)], config, added)
    except UsageError as exc:
        return fail("check", str(exc))
    with collector.batch():  # thousands of parses ahead: the collector set for them
        config, results = analyse_tree(root, inputs, config, jobs=args.jobs,
                                       progress=not args.no_progress,
                                       prefilter=not args.no_prefilter)
    results.extend(inputs.errors)
    results = [_mark(r, None if added is None else added.get(r.path)) for r in results]
    results.sort(key=lambda r: r.path)
    files_checked = len(inputs.files)

    if args.format == "json":
        output = format_json(results, files_checked=files_checked)
    elif args.format == "sarif":
        output = format_sarif(results, rules=config.rules)
    elif args.format == "github":
        output = format_github(results)
    else:
        color = not os.environ.get("NO_COLOR") and isatty(sys.stdout)
        output = format_text(results, files_checked=files_checked, color=color)
    sys.stdout.write(output)
    sys.stdout.flush()
    violations: list[Violation] = [v for r in results for v in r.violations]
    # fail closed (§13): a file that may hold a violation nobody could see fails the run
    blocked = config.fail_on != "never" and any(
        r.error is not None and r.error.blocking for r in results)
    return 1 if blocked or fails(violations, config.fail_on) else 0


def _mark(result: FileResult, added: frozenset[int] | None) -> FileResult:
    from bot.engine.diff import mark_new
    from bot.engine.model import FileResult

    if not result.violations:
        return result
    return FileResult(
        path=result.path,
        violations=tuple(mark_new(result.violations, added)),
        error=result.error,
        parsed=result.parsed,
    )
