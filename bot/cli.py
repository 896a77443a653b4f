"""``ssot-bot``: ``check`` (local run of the rules), ``inventory``, ``serve``, ``demo``,
``manifest``, ``schema``.

Only ``check`` lives here; the other commands are imported when they are run, so
``ssot-bot check`` never loads the web service.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pathspec

from bot import __version__
from bot.config.globs import path_matches
from bot.config.loader import bundled_config, load_config_file
from bot.config.model import Config, ConfigError
from bot.engine.diff import NotADiff, added_lines_from_diff, mark_new
from bot.engine.model import FileError, FileResult
from bot.report.local import (
    FORMATS,
    fails,
    format_github,
    format_json,
    format_sarif,
    format_text,
)

if TYPE_CHECKING:
    from bot.engine.model import Violation

__all__ = ["SKIPPED_DIRS", "UsageError", "build_parser", "check_main", "main"]

#: Folders never walked into when a PATH is a directory.
SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox",
     ".mypy_cache", ".ruff_cache", ".pytest_cache", "site-packages", "__pypackages__", ".eggs"}
)  # fmt: skip

#: Show a progress bar (on a terminal's stderr) only for runs of more files than this.
PROGRESS_MIN_FILES = 20

GIT_TIMEOUT_SECONDS = 60


class UsageError(Exception):
    """A command line that cannot be run: exit 2 with this message."""


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

    demo = commands.add_parser(
        "demo", help="offline end-to-end run against a local GitHub emulator"
    )
    demo.add_argument("--no-color", action="store_true", help="plain output")

    manifest = commands.add_parser("manifest", help="print the GitHub App manifest JSON")
    manifest.add_argument("--url", default=None, help="the App's public base URL")

    commands.add_parser("schema", help="print the JSON Schema of ssot.yml")
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
    if command == "inventory":
        from bot.inventory.local import inventory_main

        return inventory_main(args)
    if command == "serve":
        from bot.service.main import serve_main

        return serve_main(args)
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


@dataclass
class _Inputs:
    """What ``check`` reads before analysing: the files, and unreadable ones as errors."""

    files: list[tuple[str, Path]] = field(default_factory=list)  # (root-relative, on disk)
    errors: list[FileResult] = field(default_factory=list)


def _fail(message: str) -> int:
    print(f"ssot-bot check: {message}", file=sys.stderr)
    return 2


def check_main(args: argparse.Namespace) -> int:
    root = Path(args.root)
    if not root.is_dir():
        return _fail(f"--root {args.root}: not a directory")
    config = load_config_or_report(root, args.config)
    if config is None:
        return 2
    try:
        added = _diff(root, args)
        inputs = _collect(root, args.paths or [str(root)], config, added)
    except UsageError as exc:
        return _fail(str(exc))

    from bot.engine.pool import analyse_files

    config = _with_reexports(root, config)
    progress = _Progress.start(len(inputs.files), enabled=not args.no_progress)
    read_errors: list[FileResult] = []
    try:
        results: list[FileResult] = list(
            analyse_files(
                _read(inputs.files, read_errors),
                config,
                workers=args.jobs,
                prefilter=not args.no_prefilter,
                on_result=progress.advance,
            )
        )
    finally:
        progress.finish()
    results.extend(read_errors)
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
        color = not os.environ.get("NO_COLOR") and _isatty(sys.stdout)
        output = format_text(results, files_checked=files_checked, color=color)
    sys.stdout.write(output)
    sys.stdout.flush()
    violations: list[Violation] = [v for r in results for v in r.violations]
    # fail closed (§13): a file that may hold a violation nobody could see fails the run
    blocked = config.fail_on != "never" and any(
        r.error is not None and r.error.blocking for r in results)
    return 1 if blocked or fails(violations, config.fail_on) else 0


def _with_reexports(root: Path, config: Config) -> Config:
    """``config`` with the re-exports found in every module under ``root``, checked or not
    (docs/behaviour.md §10)."""
    from bot.engine.reexports import build_index, symbols_of

    if not symbols_of(config):
        return config
    root_abs = os.path.abspath(root)
    sources: list[tuple[str, str]] = []
    for on_disk in _walk(root_abs, root_abs):
        if not on_disk.endswith(".py"):
            continue
        rel = _relative(root_abs, on_disk)
        try:
            text = Path(on_disk).read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue  # a file that cannot be read re-exports nothing
        if rel:
            sources.append((rel, text))
    return build_index(sources, config).as_config(config)


def _mark(result: FileResult, added: frozenset[int] | None) -> FileResult:
    if not result.violations:
        return result
    return FileResult(
        path=result.path,
        violations=tuple(mark_new(result.violations, added)),
        error=result.error,
        parsed=result.parsed,
    )


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


# -- diffs -----------------------------------------------------------------------------------


def _diff(root: Path, args: argparse.Namespace) -> dict[str, frozenset[int] | None] | None:
    """root-relative path -> added lines (None: whole file), or None without a diff."""
    if args.diff is not None:
        if args.diff == "-":
            text = sys.stdin.read()
        else:
            try:
                text = Path(args.diff).read_text(encoding="utf-8", errors="surrogateescape")
            except OSError as exc:
                raise UsageError(f"--diff {args.diff}: {exc.strerror or exc}") from None
        try:
            return added_lines_from_diff(text)
        except NotADiff as exc:
            raise UsageError(f"--diff {args.diff}: {exc}") from None
    if args.diff_base is not None:
        return _git_diff_base(root, args.diff_base)
    return None


def _git(root: Path, *argv: str) -> str:
    try:
        done = subprocess.run(
            ["git", *argv],
            cwd=root,
            capture_output=True,
            check=False,
            timeout=GIT_TIMEOUT_SECONDS,
        )
    except FileNotFoundError:
        raise UsageError("--diff-base needs git, and git was not found") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"git {argv[0]} took longer than {GIT_TIMEOUT_SECONDS}s") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {' '.join(argv)} failed: {detail[-1] if detail else 'error'}")
    return done.stdout.decode("utf-8", "surrogateescape")


def _git_diff_base(root: Path, ref: str) -> dict[str, frozenset[int] | None]:
    """The work tree (tracked changes and untracked, not ignored files) against
    ``git merge-base REF HEAD``; paths relative to ``root``."""
    if ref.startswith("-"):
        raise UsageError(f"--diff-base {ref}: not a git revision")
    base = _git(root, "merge-base", ref, "HEAD").strip()
    diff = _git(
        root,
        "-c",
        "core.quotePath=true",
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--relative",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "-M",
        base,
        "--",
    )
    added = added_lines_from_diff(diff)
    untracked = _git(root, "ls-files", "-z", "--others", "--exclude-standard", "--", ".")
    for path in untracked.split("\0"):
        if path:
            added[path] = None
    return added


# -- files -----------------------------------------------------------------------------------


def _relative(root_abs: str, path: str) -> str | None:
    rel = os.path.relpath(os.path.abspath(path), root_abs)
    if rel == os.curdir:
        return ""
    if rel.startswith(os.pardir + os.sep) or rel == os.pardir or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/")


def _walk(directory: str, root: str | None = None) -> Iterator[str]:
    """Files under ``directory``, and the symbolic links to folders (never followed).

    Never walked into: the :data:`SKIPPED_DIRS`, virtual environments (a folder holding
    ``pyvenv.cfg``, whatever its name), and what a ``.gitignore`` between ``root`` (default:
    ``directory``) and the file ignores, with git's rules (pathspec's gitwildmatch: a deeper
    ``.gitignore`` wins, ``!`` re-includes)."""
    ignores = _Ignores(os.path.abspath(root or directory))
    for current, dirs, names in os.walk(directory):
        kept = []
        for name in sorted(dirs):
            full = os.path.join(current, name)
            if name in SKIPPED_DIRS or ignores.ignored(full, folder=True):
                continue
            if not os.path.islink(full) and os.path.isfile(os.path.join(full, "pyvenv.cfg")):
                continue  # a virtual environment
            kept.append(name)
        dirs[:] = kept
        for name in dirs:
            if os.path.islink(os.path.join(current, name)):
                yield os.path.join(current, name)
        for name in sorted(names):
            full = os.path.join(current, name)
            if not ignores.ignored(full, folder=False):
                yield full


class _Ignores:
    """The ``.gitignore`` files from ``root`` down, read once per folder."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}

    def _spec(self, folder: str) -> pathspec.GitIgnoreSpec | None:
        if folder not in self._specs:
            spec = None
            try:
                with open(os.path.join(folder, ".gitignore"), encoding="utf-8",
                          errors="replace") as f:
                    spec = pathspec.GitIgnoreSpec.from_lines(f.read().splitlines())
            except OSError:
                pass
            except Exception:  # a line pathspec cannot read: the file ignores nothing
                spec = None
            self._specs[folder] = spec
        return self._specs[folder]

    def ignored(self, path: str, *, folder: bool) -> bool:
        path = os.path.abspath(path)
        rel = os.path.relpath(path, self.root)
        if rel.startswith(os.pardir) or os.path.isabs(rel):
            return False
        parts = rel.split(os.sep)
        verdict = False
        base = self.root
        for i in range(len(parts)):  # shallow to deep: the deepest .gitignore that says wins
            spec = self._spec(base)
            if spec is not None:
                below = "/".join(parts[i:]) + ("/" if folder else "")
                said = spec.check_file(below).include
                if said is not None:
                    verdict = said
            base = os.path.join(base, parts[i])
        return verdict


def _escapes(real_root: str, on_disk: str) -> bool:
    """``on_disk`` resolves (symbolic links followed) to somewhere outside the root."""
    real = os.path.realpath(on_disk)
    return real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep)


def _collect(
    root: Path,
    paths: Sequence[str],
    config: Config,
    added: dict[str, frozenset[int] | None] | None,
) -> _Inputs:
    root_abs = os.path.abspath(root)
    real_root = os.path.realpath(root)
    seen: set[str] = set()
    inputs = _Inputs()

    def consider(on_disk: str) -> None:
        rel = _relative(root_abs, on_disk)
        if not rel or rel in seen:
            return
        if _escapes(real_root, on_disk) and (
                os.path.isdir(on_disk) or path_matches(config.paths, rel)):
            # never read outside the root through a symbolic link
            seen.add(rel)
            inputs.errors.append(FileResult(path=rel, error=FileError(
                rel, "not checked: a symbolic link to outside the root")))
            return
        if not os.path.isfile(on_disk) or _escapes(real_root, on_disk):
            return
        if not path_matches(config.paths, rel):
            return
        if added is not None and rel not in added:
            return
        seen.add(rel)
        inputs.files.append((rel, Path(on_disk)))

    for path in paths:
        if not os.path.exists(path):
            raise UsageError(f"{path}: no such file or directory")
        if _relative(root_abs, path) is None:
            raise UsageError(f"{path}: not inside the root {root} (see --root)")
        if os.path.isdir(path) and not _escapes(real_root, path):
            for on_disk in _walk(path, root_abs):
                consider(on_disk)
        else:
            consider(path)
    inputs.files.sort()
    return inputs


def _read(
    files: Sequence[tuple[str, Path]], errors: list[FileResult]
) -> Iterator[tuple[str, bytes]]:
    """File contents, lazily; a file that cannot be read becomes an error result."""
    for rel, on_disk in files:
        try:
            data = on_disk.read_bytes()
        except OSError as exc:
            message = f"cannot read: {exc.strerror or exc}"
            errors.append(FileResult(path=rel, error=FileError(rel, message)))
            continue
        yield rel, data


# -- progress --------------------------------------------------------------------------------


@dataclass
class _Progress:
    """``[#####     ] 120/300 files`` on stderr, rewritten in place; only on a terminal."""

    total: int
    stream: IO[str] | None
    done: int = 0
    _last_width: int = -1
    width: int = 30

    @classmethod
    def start(cls, total: int, *, enabled: bool) -> _Progress:
        stream: IO[str] | None = sys.stderr
        if not enabled or total <= PROGRESS_MIN_FILES or not _isatty(sys.stderr):
            stream = None
        progress = cls(total, stream)
        progress._draw()
        return progress

    def advance(self, _result: FileResult | None = None) -> None:
        self.done += 1
        self._draw()

    def _draw(self) -> None:
        if self.stream is None:
            return
        filled = self.width * min(self.done, self.total) // max(self.total, 1)
        if filled == self._last_width and self.done not in (0, self.total) and self.done % 50:
            return
        self._last_width = filled
        bar = "#" * filled + " " * (self.width - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} files")
        self.stream.flush()

    def finish(self) -> None:
        if self.stream is None:
            return
        self.stream.write("\r\x1b[K")
        self.stream.flush()


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
