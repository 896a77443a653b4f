"""``ssot-bot check`` against ruff's banned-api check (TID251) on large public codebases.

    python benchmarks/realworld.py [--cache DIR] [--only NAME] [--runs N] [--jobs N] [--pairs N]

Downloads each codebase's sdist from PyPI once (``pip download --no-deps --no-binary :all:``)
into the cache folder (default ``benchmarks/.cache/realworld``, or ``$SSOT_BENCH_CACHE``) and
unpacks it there; never run by the test suite. For each codebase it writes an ssot
configuration (one ``banned-import`` rule over a few much-imported symbols of the codebase)
and a ruff configuration banning the same symbols (``flake8-tidy-imports.banned-api``), and
runs the whole ``ssot-bot check --format json`` (the default workers) and ``ruff check
--no-cache`` as subprocesses in back-to-back pairs, which goes first alternating,
``max(--runs, --pairs)`` pairs (default 5): the best wall time of each and their ratio, and
the median of the pairs' ratios, all from the same minutes of a machine whose speed drifts
between runs (this project's, by a fifth to a third: the best runs taken minutes apart paired
ssot's slow minutes with ruff's quick ones, or the reverse). Then ``ssot-bot check --jobs 0``
(one process: its CPU time is the whole work, which a loaded machine does not blur as it does
wall time) against ruff's CPU time, best of ``--runs``. Then, untimed: ruff once more, told
also the names the codebase re-exports the symbols under (ssot's re-export index finds those
itself; ruff has to be told), for the findings.

Prints the wall time of each, the ratio, the finding counts, and compares the findings: the
import statements each tool flags, as (path, first line of the statement). ruff also flags
attribute uses of a banned name (``sympy.Symbol(...)``), which ``banned-import`` leaves to
``banned-call``; those are counted apart. Exits 1 when the import findings differ. Target:
ssot-bot <= 15x ruff. ssot-bot is timed as installed: its modules compiled to bytecode first
(:func:`as_installed`).
"""

from __future__ import annotations

import argparse
import ast
import compileall
import json
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import bot
from bot.config.loader import load_config_file
from bot.engine.names import AliasTable
from bot.engine.reexports import build_index
from bot.engine.rules.base import symbol_hit

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Codebase:
    name: str  # the PyPI distribution
    version: str
    symbols: tuple[str, ...]  # real, much-imported names of the codebase
    note: str


CODEBASES = (
    Codebase(
        "sympy", "1.13.3",
        ("sympy.core.symbol.Symbol", "sympy.core.singleton.S", "sympy.core.numbers.Rational"),
        "many re-exports: `from sympy import Symbol` names sympy.core.symbol.Symbol",
    ),
    Codebase(
        "Django", "5.1.4",
        ("django.conf.settings", "django.core.exceptions.ImproperlyConfigured",
         "django.utils.translation.gettext_lazy"),
        "a large application framework, few re-exports",
    ),
)


def fetch(codebase: Codebase, cache: Path) -> Path:
    """The unpacked sdist (downloaded and unpacked once)."""
    target = cache / f"{codebase.name}-{codebase.version}"
    if (target / ".unpacked").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    archives = cache / "sdists"
    wanted = f"{codebase.name}=={codebase.version}"
    found = _archive(archives, codebase)
    if found is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "--quiet", wanted, "-d", str(archives)],
            check=True,
        )
        found = _archive(archives, codebase)
    if found is None:
        raise SystemExit(f"pip download {wanted}: no sdist in {archives}")
    if target.exists():
        shutil.rmtree(target)
    with tarfile.open(found) as tar:
        tar.extractall(cache, filter="data")
    unpacked = cache / found.name.removesuffix(".tar.gz")
    if unpacked != target:
        unpacked.rename(target)
    (target / ".unpacked").touch()
    return target


def _archive(folder: Path, codebase: Codebase) -> Path | None:
    if not folder.is_dir():
        return None
    prefix = f"{codebase.name}-{codebase.version}".lower()
    for p in folder.iterdir():
        if p.name.lower() == f"{prefix}.tar.gz":
            return p
    return None


def write_configs(codebase: Codebase, root: Path, work: Path) -> tuple[Path, Path, Path, int]:
    """The ssot configuration, ruff's on the same symbols (timed), and ruff's told the names
    the codebase re-exports them under too (for the findings); the count of those names."""
    work.mkdir(parents=True, exist_ok=True)
    ssot = work / f"{codebase.name}.ssot.yml"
    ssot.write_text(
        "version: 1\nfail_on: any\nrules:\n  - id: banned\n    kind: banned-import\n"
        "    message: banned in this benchmark\n    symbols:\n"
        + "".join(f"      - {s}\n" for s in codebase.symbols),
        encoding="utf-8",
    )
    # the names that lead to a symbol through ssot's own index of the tree (untimed): the
    # keys whose expansion names it, as an import of the key does in the engine
    config = load_config_file(ssot)
    sources = []
    for p in sorted(root.rglob("*.py")):
        try:
            sources.append((p.relative_to(root).as_posix(), p.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            continue
    entries = build_index(sources, config).entries
    table = AliasTable({}, entries)
    extra = [k for k in entries
             if any(symbol_hit(q, codebase.symbols) for q in table.expand(k))]
    timed_config = work / f"{codebase.name}.ruff.toml"
    told_config = work / f"{codebase.name}.reexports.ruff.toml"
    for path, names in ((timed_config, codebase.symbols), (told_config, (*codebase.symbols,
                                                                         *extra))):
        path.write_text(
            '[lint]\nselect = ["TID251"]\n[lint.flake8-tidy-imports.banned-api]\n'
            + "".join(f'"{name}".msg = "banned in this benchmark"\n'
                      for name in dict.fromkeys(names)),
            encoding="utf-8",
        )
    return ssot, timed_config, told_config, len(extra)


def timed(argv: list[str], cwd: Path, runs: int) -> tuple[float, float, str]:
    """Best wall time, best CPU time (user + system of the process and the children it waited
    for: pool workers forked by a server are not counted), the last output."""
    best = cpu = float("inf")
    out = ""
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
        best = min(best, time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = min(cpu, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
        out = done.stdout
    return best, cpu, out


def paired(first: list[str], second: list[str], cwd: Path, pairs: int
           ) -> tuple[list[float], list[float], str]:
    """Wall times of ``first`` and of ``second``, each pair run back to back (which goes
    first alternates): on a machine whose speed drifts, both runs of a pair see about the
    same; and ``first``'s last output."""
    times: tuple[list[float], list[float]] = ([], [])
    out = ""
    for n in range(pairs):
        for k in ((0, 1) if n % 2 == 0 else (1, 0)):
            start = time.perf_counter()
            done = subprocess.run((first, second)[k], cwd=cwd, capture_output=True, text=True,
                                  check=False)
            times[k].append(time.perf_counter() - start)
            if done.returncode not in (0, 1):
                raise SystemExit(f"{(first, second)[k][0]} failed ({done.returncode}): "
                                 f"{done.stderr[-2000:]}")
            if k == 0:
                out = done.stdout
    return times[0], times[1], out


class Statements:
    """Which import statement a line of a file lies in (first line of the statement)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache: dict[str, list[tuple[int, int]]] = {}

    def of(self, path: str, line: int) -> int | None:
        spans = self.cache.get(path)
        if spans is None:
            try:
                tree = ast.parse((self.root / path).read_bytes())
            except (SyntaxError, ValueError, OSError):
                tree = ast.Module(body=[], type_ignores=[])
            spans = self.cache[path] = [
                (n.lineno, n.end_lineno or n.lineno) for n in ast.walk(tree)
                if isinstance(n, (ast.Import, ast.ImportFrom))
            ]
        for first, last in spans:
            if first <= line <= last:
                return first
        return None


def as_installed() -> None:
    """Compile ssot-bot's modules to bytecode, as installing its wheel does (pip, pipx, the
    Docker image): an editable checkout run with ``PYTHONDONTWRITEBYTECODE`` (this workplace
    sets it) never keeps the bytecode, and every run would compile the package again in the
    command and in its forkserver (~0.2 s of CPU each), which no installed copy does."""
    compileall.compile_dir(Path(bot.__file__).parent, quiet=1)


def run(codebase: Codebase, cache: Path, runs: int, jobs: int | None, pairs: int) -> bool:
    root = fetch(codebase, cache)
    ssot_config, ruff_config, told_config, extra = write_configs(codebase, root,
                                                                 cache / "configs")
    files = sum(1 for _ in root.rglob("*.py"))
    ssot_bin = Path(sys.executable).with_name("ssot-bot")
    ruff_bin = shutil.which("ruff", path=str(Path(sys.executable).parent)) or "ruff"
    argv = [str(ssot_bin), "check", "--config", str(ssot_config), "--format", "json",
            "--no-progress", "."]
    if jobs is not None:
        argv[2:2] = ["--jobs", str(jobs)]

    def ruff(config: Path) -> list[str]:
        # --ignore-noqa: the codebases silence some imports for flake8, not for this
        return [ruff_bin, "check", "--no-cache", "--exit-zero", "--ignore-noqa", "--config",
                str(config), "--output-format", "json", "."]

    # wall: the whole check and ruff back to back, max(runs, pairs) times; the best of each
    # and the median of the pairs' ratios, all from the same minutes of the machine
    ssot_times, ruff_times, ssot_out = paired(argv, ruff(ruff_config), root, max(runs, pairs))
    ssot_time, ruff_time = min(ssot_times), min(ruff_times)
    ratios = sorted(a / b for a, b in zip(ssot_times, ruff_times, strict=True))
    _, ruff_cpu, _ = timed(ruff(ruff_config), root, runs)
    _, ssot_cpu, _ = timed([*argv[:2], "--jobs", "0", *argv[2:]], root, runs)
    _, _, ruff_out = timed(ruff(told_config), root, 1)

    report = json.loads(ssot_out)
    statements = Statements(root)
    ssot_found = {(v["path"], statements.of(v["path"], v["line"]) or v["line"])
                  for v in report["violations"]}
    ruff_found: set[tuple[str, int]] = set()
    ruff_uses = 0
    for f in json.loads(ruff_out):
        path = Path(f["filename"]).resolve().relative_to(root.resolve()).as_posix()
        first = statements.of(path, f["location"]["row"])
        if first is None:
            ruff_uses += 1  # an attribute use, not an import
        else:
            ruff_found.add((path, first))
    same = ssot_found == ruff_found
    print(f"== {codebase.name} {codebase.version} ({files} .py files; {codebase.note})")
    print(f"   symbols: {', '.join(codebase.symbols)} (+{extra} re-exported names for ruff)")
    print(f"   ssot-bot check {ssot_time:7.2f} s   {len(report['violations'])} violations, "
          f"{len(ssot_found)} import statements, {len(report['errors'])} errors")
    print(f"   ruff TID251    {ruff_time:7.2f} s   (the symbols only); told the re-exported "
          f"names: {len(ruff_found)} import statements (+{ruff_uses} attribute uses)")
    print(f"   ratio          {ssot_time / ruff_time:7.1f}x   import findings "
          f"{'the same' if same else 'DIFFER'}")
    median = ratios[len(ratios) // 2] if len(ratios) % 2 else (
        ratios[len(ratios) // 2 - 1] + ratios[len(ratios) // 2]) / 2
    print(f"   paired         {median:7.1f}x   median of {len(ratios)} back-to-back pairs "
          f"({ratios[0]:.1f}x-{ratios[-1]:.1f}x)")
    print(f"   CPU time       {ssot_cpu:7.2f} s (--jobs 0) / {ruff_cpu:.2f} s (ruff) = "
          f"{ssot_cpu / ruff_cpu:.1f}x")
    if not same:
        for label, diff in (("only ssot", ssot_found - ruff_found),
                            ("only ruff", ruff_found - ssot_found)):
            for path, line in sorted(diff)[:10]:
                print(f"     {label}: {path}:{line}")
            if len(diff) > 10:
                print(f"     {label}: ... {len(diff) - 10} more")
    return same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path(
        os.environ.get("SSOT_BENCH_CACHE", HERE / ".cache" / "realworld")))
    parser.add_argument("--only", choices=[c.name for c in CODEBASES])
    parser.add_argument("--runs", type=int, default=1,
                        help="runs of the CPU-time comparison (best of); at least as many pairs")
    parser.add_argument("--jobs", type=int, default=None, help="ssot-bot check --jobs")
    parser.add_argument("--pairs", type=int, default=5,
                        help="back-to-back pairs of ssot-bot check and ruff (the wall times)")
    args = parser.parse_args()
    as_installed()
    ok = True
    for codebase in CODEBASES:
        if args.only is None or args.only == codebase.name:
            ok = run(codebase, args.cache.resolve(), args.runs, args.jobs, args.pairs) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
