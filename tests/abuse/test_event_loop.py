"""A file that is costly to parse, within the size limits, does not stop the service answering:
the re-export planning parses each checked file in the worker processes, not in a thread of
the service (``ast.parse`` holds the GIL for the whole file: a second and more for 1 MB)."""

from __future__ import annotations

from tests.integration.harness import REPO, running
from tests.timing import TIMED

AGENTS = "netra_backend/app/agents"


@TIMED
async def test_a_1_mb_file_does_not_stop_the_service_answering(timed: bool) -> None:
    # one list literal of 500,000 items: just under max_file_bytes (1 MiB), nothing to cut
    heavy = "DATA = [" + ",".join(str(i % 10) for i in range(500_000)) + "]\n"
    assert len(heavy) < 1024 * 1024
    async with running(workers=1) as h:
        h.emu.commit(REPO, "feature", {
            f"{AGENTS}/data.py": heavy,
            f"{AGENTS}/legacy.py": "from netra_backend.app.agents.data import DATA\n"
                                   "import os\nos.system('ls')\n"})
        number = h.emu.open_pull_request(REPO, "feature")
        worst = await h.slowest_health_answer(
            "pull_request", h.emu.payload_pull_request(REPO, number, "opened"))
        assert worst < 0.5 or not timed, worst
        (run,) = h.emu.check_runs(REPO)
        assert run.status == "completed" and run.conclusion is not None
        # the heavy module was read as a checked file: re-exports came from the worker's scan
        assert "Re-exports:" in run.output["summary"]
