"""Time the checklist editor on large and hostile issue bodies (GitHub caps a body at 65,536
characters). Prints numbers; asserts nothing.

    python benchmarks/tracking.py
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable

from bot.tracking.edit import complete_steps, start_steps
from bot.tracking.links import link_problems

D = datetime.date(2025, 9, 20)


def steps_body(n: int) -> str:
    lines = ["## COMPLETED", "- [x] **Step 0**: a", "", "## IN PROGRESS"]
    lines += [f"- [ ] **Step {i}**: title {i}\n  - [ ] {i}.1 sub" for i in range(1, n)]
    lines += ["", "## PENDING", "", "**Last Updated**: x", "**Next Action**: y"]
    return "\n".join(lines)[:65_536]


CASES: dict[str, str] = {
    "1,500 steps with sub-steps (64 KiB)": steps_body(1_500),
    "heading steps, 64 KiB": "\n".join(
        f"### Step {i}: t (PENDING)\n- [ ] a\n- [ ] {i}.1 b" for i in range(2_000))[:65_536],
    "one heading of 64 KiB spaces": "### Step 1: " + " " * 65_000 + "x",
    "one task line of 64 KiB asterisks": "- [ ] " + "*" * 65_000,
    "64 KiB of unclosed HTML comment starts": "<!--" * 16_000,
    "64 KiB of backtick runs": "`" * 65_000,
}


def clock(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    print(f"{'body':45} {'merge':>8} {'open':>8} {'links':>8}")
    for name, body in CASES.items():
        merge = clock(lambda b=body: complete_steps(b, ["7", "1.1"], pr_number=1, merged_on=D))
        start = clock(lambda b=body: start_steps(b, ["9"]))
        links = clock(lambda b=body: link_problems(b))
        print(f"{name:45} {merge:8.3f} {start:8.3f} {links:8.3f}")


if __name__ == "__main__":
    main()
