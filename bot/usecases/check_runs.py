"""The check run in progress per (repository, head, check name): an analysis run again for a
head (taken over from a replica that died, contract §15) completes the run the first one left
``in_progress`` instead of creating a second. One process keeps them in memory (bounded);
shared mode in its database (:class:`bot.service.shared.SharedCheckRuns`)."""

from __future__ import annotations

from typing import Protocol


class CheckRuns(Protocol):
    async def find(self, repo: str, head_sha: str, name: str) -> int | None: ...

    async def remember(self, repo: str, head_sha: str, name: str, check_run_id: int) -> None: ...

    async def forget(self, repo: str, head_sha: str, name: str, check_run_id: int) -> None: ...


class LocalCheckRuns:
    """:class:`CheckRuns` of one process."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._runs: dict[tuple[str, str, str], int] = {}
        self._capacity = capacity

    async def find(self, repo: str, head_sha: str, name: str) -> int | None:
        return self._runs.get((repo.lower(), head_sha, name))

    async def remember(self, repo: str, head_sha: str, name: str, check_run_id: int) -> None:
        self._runs[(repo.lower(), head_sha, name)] = check_run_id
        while len(self._runs) > self._capacity:
            del self._runs[next(iter(self._runs))]

    async def forget(self, repo: str, head_sha: str, name: str, check_run_id: int) -> None:
        if self._runs.get((repo.lower(), head_sha, name)) == check_run_id:
            del self._runs[(repo.lower(), head_sha, name)]
