"""The catch-up pass gives each installation at most 200 requests per pass, installations in
turn (docs/behaviour.md §13), through the real service and the emulator: an installation with
300 repositories and no PRs never delays the next installation's visit."""

from __future__ import annotations

from bot.usecases.reconcile import MAX_REQUESTS_PER_INSTALLATION, Reconciler
from ssot_emulator import EmulatorServer
from tests.integration.test_catch_up import service, world


def _pull_lists(emu: object, owner: str) -> list[int]:
    """Indexes in the emulator's request log of the PR listings of ``owner``'s repositories."""
    requests = emu.requests  # type: ignore[attr-defined]
    return [n for n, r in enumerate(requests)
            if r.method == "GET" and r.path.startswith(f"/repos/{owner}/")
            and r.path.endswith("/pulls")]


async def test_second_installation_is_visited_in_turn_and_the_first_spends_at_most_200() -> None:
    spec: dict[int, list[tuple[str, int, int, int]]] = {
        601: [(f"r{n:03d}", 0, 0, 0) for n in range(300)],  # 300 repositories, no PRs
        602: [("app", 1, 1, 0)],  # one open PR without a check run
    }
    emu = world(spec)
    async with EmulatorServer(emu) as api_url, \
            service(emu, api_url, reconcile_minutes=0) as (bot, _):
        reconciler = Reconciler(bot.catch_up_parts(), interval=60)
        first = await reconciler.run_pass()
        await bot.idle()
        first_lists = _pull_lists(emu, "org601")
        other = _pull_lists(emu, "org602")
        # the first installation: 3 pages of repositories, then at most 197 PR listings
        assert len(first_lists) + 3 <= MAX_REQUESTS_PER_INSTALLATION
        assert len(first_lists) == MAX_REQUESTS_PER_INSTALLATION - 3
        assert first.cut_at_budget == 1
        # the second installation's visit came in its turn, not after the first's 197
        assert len(other) == 1 and other[0] < first_lists[2]
        assert first.analysed == 1
        runs = emu.check_runs("org602/app")
        assert [r.status for r in runs] == ["completed"]

        # the next pass resumes where the budget stopped: the other 103 repositories first
        seen = {emu.requests[n].path for n in first_lists}
        since = len(emu.requests)
        await reconciler.run_pass()
        await bot.idle()
        later = [emu.requests[n].path for n in _pull_lists(emu, "org601") if n >= since]
        assert len(later) == MAX_REQUESTS_PER_INSTALLATION - 3
        assert not set(later[:103]) & seen  # the ones the first pass left come first
        assert len(set(later[:103]) | seen) == 300
    assert emu.openapi_violations == [] and emu.response_violations == []
