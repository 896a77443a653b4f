"""Regenerate what is derived from the rule kinds' declarations (bot/engine/rules/<kind>.py).

    python scripts/generate_kinds.py            # write the files
    python scripts/generate_kinds.py --check    # exit 1 when one is stale (the tests do this)

Writes bot/config/kinds.py, the kind-key fields of Rule in bot/config/model.py,
config/ssot.schema.json, the kinds table of config/ssot.yml and docs/rules.md
(bot/engine/catalog.py says how each is derived).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def declare_fields() -> bool:
    """Write the ``Rule`` fields of every declared key before anything imports the kinds (a new
    kind's examples build Rules with its new keys, which only exist once this ran). The keys are
    read from the sources: each ``keys = (...)`` and ``NAME = Key(...)`` of bot/engine/rules/."""
    import ast

    from bot.config.keys import Key, KindSpec

    names: dict[str, object] = {"Key": Key}
    trees = [ast.parse(p.read_text(encoding="utf-8"))
             for p in sorted((ROOT / "bot/engine/rules").glob("*.py"))]
    for tree in trees:  # module-level NAME = Key(...) first (shared keys, in base.py)
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and ast.unparse(node.value).startswith("Key(")):
                names[node.targets[0].id] = eval(ast.unparse(node.value), dict(names))  # noqa: S307
    specs: list[KindSpec] = []
    for tree in trees:  # then each class's kind = "..." and keys = (...)
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            found: dict[str, object] = {}
            for node in cls.body:
                if (isinstance(node, ast.Assign) and len(node.targets) == 1
                        and isinstance(node.targets[0], ast.Name)
                        and node.targets[0].id in ("kind", "keys")):
                    # our own source, not input
                    found[node.targets[0].id] = eval(ast.unparse(node.value), dict(names))  # noqa: S307
            if isinstance(found.get("kind"), str) and isinstance(found.get("keys"), tuple):
                specs.append(KindSpec(str(found["kind"]), "", tuple(found["keys"])))
    specs.sort(key=lambda s: s.name)
    from bot.config.keys import model_module

    model = ROOT / "bot/config/model.py"
    text = model.read_text(encoding="utf-8")
    new = model_module(text, specs)
    if new != text:
        model.write_text(new, encoding="utf-8")
        return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args()
    stale = []
    if not args.check and declare_fields():
        print("wrote: bot/config/model.py (Rule fields)")
    from bot.engine.catalog import outputs

    for rel, text in outputs(ROOT).items():
        path = ROOT / rel
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(rel)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    for rel in stale:
        print(f"{'stale' if args.check else 'wrote'}: {rel}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    raise SystemExit(main())
