"""One check run per head and check name (contract §15, and in one process): an analysis tried
again after GitHub stayed down completes the check run its first attempt created."""

from __future__ import annotations

from bot.demo import FACTORY, factory_before
from tests.integration.harness import REPO, example_files, running


async def test_a_retried_analysis_completes_its_first_check_run() -> None:
    files = example_files()
    files[FACTORY] = factory_before(files)
    async with running(files) as h:
        # after the check run is created, the file list fails through the client's 5 attempts
        h.emu.inject("GET", r"/pulls/\d+/files", status=502, times=5)
        number = await h.open_pr({FACTORY: example_files()[FACTORY]})
        [run] = h.emu.check_runs(REPO)
        assert (run.status, run.conclusion) == ("completed", "failure")
        assert run.output["title"] == "3 new SSOT violations"
        assert len(h.calls("POST", "/check-runs")) == 1
        assert len(h.emu.reviews(REPO, number)) == 1
        # a later analysis of the same head (a recheck) is a new run, as before
        assert await h.bot.check_runs.find(REPO, run.head_sha, "SSOT") is None
