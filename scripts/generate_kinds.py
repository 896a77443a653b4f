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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args()
    stale = []
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
