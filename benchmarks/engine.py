"""Engine throughput over the running interpreter's standard library.

    python benchmarks/engine.py [--limit N] [--no-prefilter | --both] [--pool N]

Prints files, MB, files/s, MB/s and the ratio of engine wall time to bare
``libcst.parse_module`` of the same files in one process. Numbers only; nothing is asserted.
Targets: prefilter on <= 0.3x bare parsing, prefilter off <= 2.5x.
"""

from __future__ import annotations

import argparse
import sysconfig
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import libcst

from bot.config.model import Config, PathFilter, Rule
from bot.engine.model import FileResult
from bot.engine.pool import analyse_files
from bot.engine.rules.gate import gate_tree
from bot.engine.run import _compiled, analyse_text, plan

RULES = (
    Rule(
        id="no-ordereddict",
        kind="banned-import",
        message="Use dict.",
        symbols=("collections.OrderedDict",),
        use="builtins.dict",
    ),
    Rule(
        id="no-asyncore",
        kind="banned-import",
        message="asyncore is gone in 3.12.",
        symbols=("asyncore", "asynchat", "imp"),
    ),
    Rule(
        id="no-optional",
        kind="banned-annotation",
        message="Write X | None.",
        symbols=("typing.Optional",),
        use="types.NoneType",
    ),
    Rule(
        id="no-any",
        kind="banned-annotation",
        message="Be precise.",
        symbols=("typing.Any",),
        severity="warning",
    ),
    Rule(
        id="no-os-system",
        kind="banned-call",
        message="Use subprocess.run.",
        symbols=("os.system", "os.popen"),
        allow=("subprocess.py",),
    ),
    Rule(
        id="no-popen",
        kind="banned-call",
        message="Use subprocess.run.",
        symbols=("subprocess.Popen",),
        allow=("subprocess.py", "asyncio/**"),
    ),
    Rule(
        id="no-warn-in-lib",
        kind="banned-call",
        message="No warnings here.",
        symbols=("warnings.warn",),
        paths=PathFilter(("email/**", "json/**")),
    ),
    Rule(
        id="optparse-argparse",
        kind="dual-pattern",
        message="Pick one option parser.",
        legacy=("optparse.OptionParser", "getopt.getopt"),
        ssot=("argparse.ArgumentParser",),
    ),
    Rule(
        id="ospath-pathlib",
        kind="dual-pattern",
        message="Pick os.path or pathlib.",
        legacy=("os.path.join",),
        ssot=("pathlib.Path",),
    ),
    Rule(
        id="one-ordereddict",
        kind="canonical-definition",
        message="Defined in collections.",
        canonical={
            "OrderedDict": "collections/__init__.py",
            "namedtuple": "collections/__init__.py",
        },
        severity="notice",
    ),
)
CONFIG = Config(rules=RULES, file_time_budget=120.0, paths=PathFilter(("**/*.py",), ()))


def load(limit: int | None) -> tuple[list[tuple[str, bytes]], int]:
    """Stdlib ``.py`` files (site-packages excluded) that are UTF-8 and that libcst parses."""
    root = Path(sysconfig.get_paths()["stdlib"])
    paths = sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts)
    files: list[tuple[str, bytes]] = []
    skipped = 0
    for p in paths:
        if limit is not None and len(files) >= limit:
            break
        data = p.read_bytes()
        try:
            libcst.parse_module(data.decode("utf-8"))
        except Exception:
            skipped += 1
        else:
            files.append((p.relative_to(root).as_posix(), data))
    return files, skipped


class Meter:
    def __init__(self, label: str) -> None:
        self.label = label
        self.wall = 0.0
        self.cpu = 0.0
        self.results: list[FileResult] = []

    def time(self, fn: Callable[[], list[FileResult] | None]) -> None:
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        self.wall += time.perf_counter() - w
        self.cpu += time.process_time() - c
        if out:
            self.results.extend(out)

    def line(self, files: int, size: float, bare: Meter | None) -> str:
        text = (
            f"{self.label:<26} {self.wall:8.2f} s {files / self.wall:8.1f} files/s"
            f" {size / self.wall:6.2f} MB/s"
        )
        if bare is not None:
            text += f"  wall {self.wall / bare.wall:5.2f}x bare"
            text += f"  cpu {self.cpu / bare.cpu:5.2f}x bare"
        if self.results:
            parsed = sum(r.parsed for r in self.results)
            errors = sum(r.error is not None for r in self.results)
            found = sum(len(r.violations) for r in self.results)
            text += f"  parsed {parsed}  errors {errors}  violations {found}"
        return text


def stages(files: list[tuple[str, bytes]], size: float, bare: Meter) -> None:
    """Prefilter-on run again, stage by stage: text test, ast gate, libcst analysis."""
    aliases = _compiled(CONFIG).aliases
    text_s = gate_s = cst_s = 0.0
    text_pass: list[tuple[str, str, int, tuple[Rule, ...]]] = []
    gate_pass: list[tuple[str, str, int, tuple[Rule, ...]]] = []
    for path, data in files:
        t0 = time.perf_counter()
        planned = plan(path, data, CONFIG)
        t1 = time.perf_counter()
        text_s += t1 - t0
        if isinstance(planned, FileResult):
            continue
        text, rules = planned
        text_pass.append((path, text, len(data), rules))
        kept, tree = gate_tree(path, text, rules, aliases)
        t2 = time.perf_counter()
        gate_s += t2 - t1
        if kept is None or kept:
            gate_pass.append((path, text, len(data), rules if kept is None else kept))
            kept_rules = rules if kept is None else kept
            analyse_text(path, text, CONFIG, kept_rules, gate=False, tree=tree)
            cst_s += time.perf_counter() - t2
    total = len(files)
    mb = size * 1e6

    def share(rows: list[tuple[str, str, int, tuple[Rule, ...]]]) -> str:
        return (
            f"{len(rows):5d} files ({len(rows) / total:6.1%})"
            f" {sum(r[2] for r in rows) / mb:6.1%} of bytes"
        )

    print("stages of prefilter=on (files passing each stage; time as a multiple of bare parsing):")
    print(f"    text prefilter   {share(text_pass)}  {text_s:7.2f} s  {text_s / bare.wall:5.3f}x")
    print(f"    ast gate         {share(gate_pass)}  {gate_s:7.2f} s  {gate_s / bare.wall:5.3f}x")
    print(f"    libcst analysis  {'':37}{cst_s:7.2f} s  {cst_s / bare.wall:5.3f}x")
    whole = text_s + gate_s + cst_s
    print(f"    sum              {'':37}{whole:7.2f} s  {whole / bare.wall:5.3f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[1])
    ap.add_argument("--limit", type=int, default=None, help="at most N files")
    ap.add_argument("--no-prefilter", action="store_true", help="skip the prefilter-on run")
    ap.add_argument("--pool", type=int, default=0, help="also run with N worker processes")
    args = ap.parse_args()
    files, skipped = load(args.limit)
    size = sum(len(s) for _, s in files) / 1e6
    print(
        f"stdlib {sysconfig.get_paths()['stdlib']}: {len(files)} files, {size:.2f} MB"
        f" ({skipped} skipped: not UTF-8 or libcst cannot parse them)"
    )
    print("single process (workers=0); per file: bare parse, then each engine mode, interleaved")
    bare = Meter("bare libcst.parse_module")
    modes = [Meter("engine prefilter=off")]
    if not args.no_prefilter:
        modes.insert(0, Meter("engine prefilter=on"))
    for path, data in files:
        text = data.decode("utf-8")
        bare.time(lambda text=text: [] if libcst.parse_module(text) is None else None)  # type: ignore[misc]
        for m in modes:
            m.time(
                lambda m=m, one=[(path, data)]: analyse_files(  # type: ignore[misc]
                    one, CONFIG, workers=0, prefilter=m.label.endswith("on")
                )
            )
    print(bare.line(len(files), size, None))
    for m in modes:
        print(m.line(len(files), size, bare))
    per_rule = Counter(v.rule for r in modes[-1].results for v in r.violations)
    print("    violations per rule:", dict(sorted(per_rule.items())))
    if not args.no_prefilter:
        stages(files, size, bare)
    if args.pool:
        for m in modes:
            on = m.label.endswith("on")
            pool = Meter(f"pool workers={args.pool} prefilter={'on' if on else 'off'}")
            pool.time(
                lambda on=on: analyse_files(  # type: ignore[misc]
                    files, CONFIG, workers=args.pool, prefilter=on
                )
            )
            print(pool.line(len(files), size, bare), "(cpu: parent only)")


if __name__ == "__main__":
    main()
