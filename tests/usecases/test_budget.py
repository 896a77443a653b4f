"""What one analysis may fetch (bot.usecases.budget.plan_fetches) and which delivery ids are
remembered (bot.service.context.DeliveryLog): pure pieces of the service's limits."""

from __future__ import annotations

from typing import Any

from bot.config.model import Limits
from bot.github.client import Tree, TreeEntry
from bot.service.context import DeliveryLog
from bot.usecases.budget import oversized, plan_fetches


def _tree(**sizes: int) -> Tree:
    return Tree("head", {f"{p}.py": TreeEntry(f"{p}.py", f"sha-{p}", s) for p, s in sizes.items()},
                False)


def _files(*names: str) -> list[dict[str, Any]]:
    return [{"filename": f"{n}.py", "sha": f"sha-{n}"} for n in names]


def test_a_file_over_max_file_bytes_is_skipped_by_its_listed_size() -> None:
    plan = plan_fetches(_files("a", "big", "b"), _tree(a=10, big=2 * 1024 * 1024, b=10),
                        Limits())
    assert [f["filename"] for f in plan.fetch] == ["a.py", "b.py"]
    (skip,) = plan.skipped
    assert skip.path == "big.py"
    assert skip.message == ("file not checked: it is 2.0 MiB, over the max_file_bytes limit of "
                            "1.0 MiB")


def test_files_past_max_files_are_skipped_in_order() -> None:
    plan = plan_fetches(_files("a", "b", "c"), _tree(a=1, b=1, c=1), Limits(max_files=2))
    assert [f["filename"] for f in plan.fetch] == ["a.py", "b.py"]
    assert [(e.path, "max_files" in e.message) for e in plan.skipped] == [("c.py", True)]


def test_files_past_max_total_bytes_are_skipped_smaller_later_ones_still_fit() -> None:
    plan = plan_fetches(_files("a", "b", "c"), _tree(a=60, b=50, c=40),
                        Limits(max_total_bytes=100))
    assert [f["filename"] for f in plan.fetch] == ["a.py", "c.py"]
    assert [(e.path, "max_total_bytes" in e.message) for e in plan.skipped] == [("b.py", True)]


def test_a_file_missing_from_a_truncated_listing_is_fetched_and_judged_after() -> None:
    plan = plan_fetches(_files("unlisted"), _tree(), Limits(max_file_bytes=5))
    assert [f["filename"] for f in plan.fetch] == ["unlisted.py"]
    assert oversized("unlisted.py", 6, Limits(max_file_bytes=5)) is not None
    assert oversized("unlisted.py", 5, Limits(max_file_bytes=5)) is None


def test_delivery_ids_are_remembered_only_when_handling_succeeded() -> None:
    log = DeliveryLog(capacity=2)
    assert log.begin("a")
    assert not log.begin("a")  # running: a concurrent duplicate is skipped
    log.failed("a")
    assert log.begin("a")  # failed: GitHub's Redeliver runs it again
    log.succeeded("a")
    assert not log.begin("a") and log.seen("a")
    for other in ("b", "c"):
        assert log.begin(other)
        log.succeeded(other)
    assert not log.seen("a")  # bounded: the oldest is forgotten
