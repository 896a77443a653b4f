"""``ssot-bot fix`` on a generated repository the size of the real codebase (9,854 files).

    python benchmarks/fix.py [--files N] [--jobs N]

Generates the tree of tests/engine/fix_tree.py (the seed's legacy patterns in 10% of the files,
neutral modules in the rest), then times ``ssot-bot fix --diff``, ``--write`` and a second
``--write`` (idempotent: changes nothing), and counts the files changed and the violations that
need a person. Also times the fix's own name check (``ast``) against libcst's scope analysis
on the demo's fixed file. Numbers only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.cli import main as cli  # noqa: E402
from tests.engine.fix_tree import generate  # noqa: E402


def run(*argv: str) -> tuple[float, int, str]:
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli(list(argv))
    return time.perf_counter() - start, code, err.getvalue()


def name_check_costs(repeat: int = 50) -> tuple[float, float]:
    """ms per run: the fix's ast check of the demo's fixed file vs libcst scope analysis."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, ScopeProvider

    from bot.config.loader import bundled_config
    from bot.engine.fix import fix_file
    from bot.engine.run import analyse_source

    rel = "netra_backend/app/agents/supervisor/agent_instance_factory.py"
    text = (ROOT / "bot/data/demo/netra-apex" / rel).read_text()
    found = analyse_source(rel, text.encode(), bundled_config(), fixes=False).violations
    fixed = fix_file(rel, text, bundled_config(), found, check=analyse_source).fixed
    start = time.perf_counter()
    for _ in range(repeat):
        tree = ast.parse(fixed)
        compile(tree, rel, "exec")
        {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    ours = (time.perf_counter() - start) / repeat * 1000
    start = time.perf_counter()
    for _ in range(repeat):
        scopes = MetadataWrapper(cst.parse_module(fixed)).resolve(ScopeProvider)
        [a for s in set(scopes.values()) if s is not None for a in s.accesses]
    libcst_scope = (time.perf_counter() - start) / repeat * 1000
    return ours, libcst_scope


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=9854)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        chosen = generate(root, args.files)
        legacy = sum(1 for n in chosen.values() if n != "neutral")
        print(f"tree: {args.files} files, {legacy} with legacy patterns")
        jobs = ("--jobs", str(args.jobs))
        for label, argv in (("fix --diff", ()), ("fix --write", ("--write",)),
                            ("fix --write again", ("--write",))):
            seconds, code, err = run("fix", "--root", str(root), *jobs, *argv)
            summary = err.strip().splitlines()[-1]
            print(f"{label:18} {seconds:6.1f} s  exit {code}  {summary}")
        seconds, code, _ = run("check", "--root", str(root), *jobs, "--no-progress")
        print(f"{'check after':18} {seconds:6.1f} s  exit {code}")
    ours, scope = name_check_costs()
    print(f"name check of the demo's fixed file: ast {ours:.2f} ms, libcst ScopeProvider "
          f"{scope:.2f} ms ({scope / ours:.0f}x)")


if __name__ == "__main__":
    main()
