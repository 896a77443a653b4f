"""Engine throughput over the running interpreter's standard library.

    python benchmarks/engine.py [--limit N] [--config typical|dense|both] [--pool N]
                                [--no-prefilter-off] [--stages]

Two configurations (`benchmarks/samples.py`): *typical*, the bundled configuration (the
seed's WebSocket rules: a few first-party symbols that almost no file names, as a project
configures it), and *dense*, ten rules of all five kinds on names the standard library uses a
lot. Every engine run includes building the re-export index of the whole tree
(:mod:`bot.engine.reexports`, as ``ssot-bot check`` does), timed on its own line too.

Prints files, MB, files/s, MB/s and the ratio of engine wall time to bare
``libcst.parse_module`` of the same files in one process, measured in the same run. Numbers
only; nothing is asserted. Targets, 2 workers: typical <= 0.06x, dense <= 0.3x bare parsing.
"""

from __future__ import annotations

import argparse
import sysconfig
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import libcst
from samples import dense_config, typical_config  # benchmarks/samples.py

from bot.config.model import Config, Rule
from bot.engine.model import FileResult
from bot.engine.pool import analyse_files
from bot.engine.reexports import build_index
from bot.engine.rules.gate import gate_tree
from bot.engine.run import _compiled, analyse_text, plan

CONFIGS: dict[str, Callable[[], Config]] = {"typical": typical_config, "dense": dense_config}


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
        wall = max(self.wall, 1e-9)
        text = (
            f"{self.label:<40} {self.wall:8.2f} s {files / wall:8.1f} files/s"
            f" {size / wall:6.2f} MB/s"
        )
        if bare is not None:
            text += f"  wall {self.wall / bare.wall:6.3f}x bare"
        if self.results:
            parsed = sum(r.parsed for r in self.results)
            errors = sum(r.error is not None for r in self.results)
            found = sum(len(r.violations) for r in self.results)
            text += f"  parsed {parsed}  errors {errors}  violations {found}"
        return text


def with_index(files: list[tuple[str, bytes]], config: Config) -> tuple[Config, int, int]:
    """``config`` with the re-export index of ``files`` (the work ``ssot-bot check`` does),
    the number of re-exports found and of modules read."""
    texts = [(path, data.decode("utf-8")) for path, data in files]
    index = build_index(texts, config)
    return index.as_config(config), len(index.entries), index.modules_read


def engine(
    files: list[tuple[str, bytes]], config: Config, workers: int, *, prefilter: bool = True
) -> list[FileResult]:
    indexed, _, _ = with_index(files, config)
    return analyse_files(files, indexed, workers=workers, prefilter=prefilter)


def stages(files: list[tuple[str, bytes]], config: Config, bare: Meter) -> None:
    """Prefilter-on run again, stage by stage: index, text test, ast gate, libcst analysis."""
    t0 = time.perf_counter()
    config, _, _ = with_index(files, config)
    index_s = time.perf_counter() - t0
    aliases = _compiled(config).aliases
    text_s = gate_s = cst_s = 0.0
    text_pass: list[tuple[str, str, int, tuple[Rule, ...]]] = []
    gate_pass: list[tuple[str, str, int, tuple[Rule, ...]]] = []
    for path, data in files:
        t0 = time.perf_counter()
        planned = plan(path, data, config)
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
            analyse_text(path, text, config, kept_rules, gate=False, tree=tree)
            cst_s += time.perf_counter() - t2
    total = len(files)
    mb = sum(len(d) for _, d in files)

    def share(rows: list[tuple[str, str, int, tuple[Rule, ...]]]) -> str:
        return (
            f"{len(rows):5d} files ({len(rows) / total:6.1%})"
            f" {sum(r[2] for r in rows) / mb:6.1%} of bytes"
        )

    print("    stages, one process (files passing each stage; time as a multiple of bare):")
    print(f"      re-export index  {'':37}{index_s:7.2f} s  {index_s / bare.wall:5.3f}x")
    print(f"      text prefilter   {share(text_pass)}  {text_s:7.2f} s  {text_s / bare.wall:5.3f}x")
    print(f"      ast gate         {share(gate_pass)}  {gate_s:7.2f} s  {gate_s / bare.wall:5.3f}x")
    print(f"      libcst analysis  {'':37}{cst_s:7.2f} s  {cst_s / bare.wall:5.3f}x")
    whole = index_s + text_s + gate_s + cst_s
    print(f"      sum              {'':37}{whole:7.2f} s  {whole / bare.wall:5.3f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[1])
    ap.add_argument("--limit", type=int, default=None, help="at most N files")
    ap.add_argument("--config", choices=(*CONFIGS, "both"), default="both")
    ap.add_argument("--pool", type=int, default=2, help="worker processes of the pool runs")
    ap.add_argument("--no-prefilter-off", action="store_true",
                    help="skip the prefilter-off runs (the slowest)")
    ap.add_argument("--stages", action="store_true", help="time each stage of prefilter=on")
    args = ap.parse_args()
    files, skipped = load(args.limit)
    size = sum(len(s) for _, s in files) / 1e6
    print(
        f"stdlib {sysconfig.get_paths()['stdlib']}: {len(files)} files, {size:.2f} MB"
        f" ({skipped} skipped: not UTF-8 or libcst cannot parse them)"
    )
    bare = Meter("bare libcst.parse_module, one process")
    for _, data in files:
        text = data.decode("utf-8")
        bare.time(lambda text=text: [] if libcst.parse_module(text) is None else None)  # type: ignore[misc]
    print(bare.line(len(files), size, None))
    names = list(CONFIGS) if args.config == "both" else [args.config]
    for name in names:
        config = CONFIGS[name]()
        print(f"{name} configuration ({len(config.rules)} rules)")
        started = time.perf_counter()
        _, entries, read = with_index(files, config)
        alone = Meter("  re-export index alone")
        alone.wall = time.perf_counter() - started
        print(alone.line(len(files), size, bare), f"  {entries} re-exports, {read} modules read")
        runs = [(0, True), (args.pool, True)]
        if not args.no_prefilter_off:
            runs += [(0, False), (args.pool, False)]
        for workers, prefilter in runs:
            label = (f"  engine, {'one process' if workers == 0 else f'{workers} workers'},"
                     f" prefilter {'on' if prefilter else 'off'}")
            m = Meter(label)
            m.time(lambda c=config, w=workers, p=prefilter: engine(files, c, w, prefilter=p))  # type: ignore[misc]
            print(m.line(len(files), size, bare))
            if workers == 0 and prefilter:
                per_rule = Counter(v.rule for r in m.results for v in r.violations)
                print("    violations per rule:", dict(sorted(per_rule.items())))
        if args.stages:
            stages(files, config, bare)


if __name__ == "__main__":
    main()
