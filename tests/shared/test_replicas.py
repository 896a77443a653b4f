"""Contract §15 end to end: two and three real ``ssot-bot serve`` processes sharing one
PostgreSQL database, deliveries over HTTP, GitHub played by the emulator."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from tests.integration.harness import DATA, REPO, ROOT, example_before, example_regression
from tests.shared.cluster import Cluster, TcpProxy, cluster

pytestmark = pytest.mark.slow

SEED = (DATA / "tracking-issue-1103.md").read_bytes().decode("utf-8")


def runs_by_head(c: Cluster) -> dict[str, list[tuple[str, str | None]]]:
    found: dict[str, list[tuple[str, str | None]]] = {}
    for run in c.emu.check_runs(REPO):
        found.setdefault(run.head_sha, []).append((run.status, run.conclusion))
    return found


async def test_deliveries_alternated_and_redelivered_across_three_replicas(
        database_url: str, tmp_path: Path) -> None:
    async with cluster(database_url, tmp_path, example_before()) as c:
        replicas = [await c.start() for _ in range(3)]
        c.emu.commit(REPO, "feature", example_regression())
        number = c.emu.open_pull_request(REPO, "feature", title="A change", body=None,
                                         user="octocat")
        heads = [c.emu.head_sha(REPO, number)]
        answers = []
        for i in range(3):
            if i:
                c.emu.commit(REPO, "feature", {f"extra_{i}.py": f"X = {i}\n"})
                heads.append(c.emu.head_sha(REPO, number))
            action = "opened" if i == 0 else "synchronize"
            payload = c.emu.payload_pull_request(REPO, number, action)
            first, again = replicas[i % 3], replicas[(i + 1) % 3]
            answers.append(await c.deliver(first, "pull_request", payload, f"d-{i}"))
            # GitHub's Redeliver, landing on another replica, at once and after the work
            answers.append(await c.deliver(again, "pull_request", payload, f"d-{i}"))
            await c.drained()
            answers.append(await c.deliver(replicas[(i + 2) % 3], "pull_request", payload,
                                           f"d-{i}"))
        assert answers == [202] * 9
        await c.drained()
        runs = runs_by_head(c)
        assert sorted(runs) == sorted(heads)
        for head in heads:  # one check run per head, completed
            assert runs[head] == [("completed", "failure")], (head, runs[head])
        reviews = c.emu.reviews(REPO, number)
        assert sorted(r.commit_id for r in reviews) == sorted(heads[:1])  # new findings once
        comments = [cm.body for r in reviews for cm in r.comments]
        assert len(comments) == len(set(comments)) == 3  # no comment twice
        rows = await c.query("SELECT count(*), count(*) FILTER (WHERE state = 'done') "
                             "FROM ssot_deliveries")
        assert rows == [(3, 3)]


async def test_two_merges_linked_to_one_issue_on_two_replicas_at_once(
        database_url: str, tmp_path: Path) -> None:
    async with cluster(database_url, tmp_path) as c:
        a, b = await c.start(), await c.start()
        issue = c.emu.create_issue(REPO, "Tracking", SEED)
        numbers = []
        for step in (2, 3, 4, 5):
            c.emu.commit(REPO, f"step-{step}", {f"step{step}.py": f"S = {step}\n"})
            numbers.append(c.emu.open_pull_request(
                REPO, f"step-{step}", title=f"Step {step}", user="octocat",
                body=f"Fixes it.\n\nSSOT-Tracking: #{issue}\nSSOT-Step: {step}\n"))
        c.emu.latency = 0.03  # every edit's read-modify-write takes a while: they overlap
        for n in numbers:
            c.emu.merge_pull_request(REPO, n)
        answers = await asyncio.gather(*(
            c.deliver(a if i % 2 else b, "pull_request",
                      c.emu.payload_pull_request(REPO, n, "closed"), f"merge-{n}")
            for i, n in enumerate(numbers)))
        assert answers == [202] * 4
        await c.drained()
        body = c.emu.issue(REPO, issue).body or ""
        for step in (2, 3, 4, 5):
            assert f"- [x] **Step {step}**" in body, body
        comments = [cm.body for cm in c.emu.issue(REPO, issue).comments]
        assert sorted(cm.split("steps=")[1].split(" ")[0] for cm in comments) == [
            "2", "3", "4", "5"]
        workers = {w for (w,) in await c.query("SELECT id FROM ssot_workers")}
        assert len(workers) == 2


async def test_a_killed_replica_s_analysis_is_finished_by_the_other(
        database_url: str, tmp_path: Path) -> None:
    async with cluster(database_url, tmp_path, example_before()) as c:
        a, b = await c.start(), await c.start()
        c.emu.commit(REPO, "feature", example_regression())
        number = c.emu.open_pull_request(REPO, "feature", title="A change", body=None,
                                         user="octocat")
        # the analysis stalls on the file list, its check run in progress
        stall = c.emu.inject("GET", rf"/pulls/{number}/files", status=None, delay=300.0)
        assert await c.deliver(a, "pull_request",
                               c.emu.payload_pull_request(REPO, number, "opened"), "k-1") == 202
        running: list[tuple[str]] = []
        for _ in range(300):
            running = await c.query("SELECT worker FROM ssot_jobs WHERE kind = 'analysis' "
                                    "AND status = 'running'")
            if running and stall.used:  # the analysis waits for the file list
                break
            await asyncio.sleep(0.1)
        assert running and [r.status for r in c.emu.check_runs(REPO)] == ["in_progress"]
        pid = int(running[0][0].split(":")[1])
        victim = next(r for r in (a, b) if r.proc.pid == pid)
        survivor = b if victim is a else a
        killed = time.monotonic()
        victim.kill()
        await victim.proc.wait()
        await c.drained(within=60.0)
        took = time.monotonic() - killed
        print(f"finished by the other replica {took:.1f} s after the kill")
        assert took < 60.0
        runs = c.emu.check_runs(REPO)
        assert [(r.status, r.conclusion) for r in runs] == [("completed", "failure")]
        assert len(c.emu.reviews(REPO, number)) == 1
        status, health = await survivor.health()
        assert status == 200 and health["database"] == "ok" and health["queue"] == 0


async def test_database_unreachable_503_then_redeliver_processes_it_once(
        database_url: str, tmp_path: Path) -> None:
    proxy = TcpProxy(target_port=int(database_url.rsplit(":", 1)[1].split("/")[0]))
    await proxy.start()
    proxied = database_url.replace(database_url.rsplit("@", 1)[1].split("/")[0],
                                   f"127.0.0.1:{proxy.port}")
    try:
        async with cluster(database_url, tmp_path, example_before()) as c:
            web = await c.start("web", database_url=proxied)
            worker = await c.start("worker")
            # a worker answers no webhook (only /healthz and /metrics)
            assert await c.deliver(worker, "ping", {"zen": "z"}, "to-worker") in (404, 405)
            c.emu.commit(REPO, "feature", example_regression())
            number = c.emu.open_pull_request(REPO, "feature", title="A change", body=None,
                                             user="octocat")
            payload = c.emu.payload_pull_request(REPO, number, "opened")
            await proxy.stop()  # the database is gone, for this replica
            assert await c.deliver(web, "pull_request", payload, "down-1") == 503
            status, health = await web.health()
            assert (status, health["database"]) == (503, "unreachable")
            await asyncio.sleep(1.0)
            assert c.emu.check_runs(REPO) == []
            await proxy.start()  # back: GitHub's Redeliver, same id
            assert await c.deliver(web, "pull_request", payload, "down-1") == 202
            assert await c.deliver(web, "pull_request", payload, "down-1") == 202
            await c.drained()
            assert [(r.status, r.conclusion) for r in c.emu.check_runs(REPO)] == [
                ("completed", "failure")]
            assert len(c.emu.reviews(REPO, number)) == 1
            status, health = await web.health()
            assert (status, health["database"], health["role"]) == (200, "ok", "web")
    finally:
        await proxy.stop()


async def test_migrate_from_two_processes_at_once(database_url: str, tmp_path: Path) -> None:
    async def migrate() -> tuple[int, bytes]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "migrate", "--database-url", database_url,
            cwd=str(tmp_path), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        out, _ = await proc.communicate()
        return proc.returncode or 0, out

    results = await asyncio.gather(*(migrate() for _ in range(3)))
    assert [code for code, _ in results] == [0, 0, 0], results
    assert all(b"schema version 1" in out for _, out in results)
    again = await migrate()  # idempotent
    assert again[0] == 0


async def test_pushes_on_two_replicas_one_inventory_at_a_time_the_cache_shared(
        database_url: str, tmp_path: Path) -> None:
    from tests.integration.test_inventory import EXTRA, EXTRA_TEXT, FIXED_TEXT, config

    async with cluster(database_url, tmp_path) as c:
        a, b = await c.start(), await c.start()
        issue = c.emu.create_issue(REPO, "SSOT Regression", SEED)
        before = c.emu.repo(REPO).branches["main"]
        first = c.emu.commit(REPO, "main", {".github/ssot.yml": config(issue),
                                            EXTRA: EXTRA_TEXT})
        assert await c.deliver(a, "push", c.emu.payload_push(REPO, before, first), "p-1") == 202
        await c.drained()
        assert "**5 violations left**" in (c.emu.issue(REPO, issue).body or "")
        tarballs = len([r for r in c.emu.requests if "/tarball/" in r.path])
        # the next push lands on the other replica: it reads the one changed file only,
        # from the snapshot the first stored in the shared database
        second = c.emu.commit(REPO, "main", {EXTRA: FIXED_TEXT})
        assert await c.deliver(b, "push", c.emu.payload_push(REPO, first, second), "p-2") == 202
        await c.drained()
        body = c.emu.issue(REPO, issue).body or ""
        assert f"**4 violations left** at [`{second[:7]}`]" in body
        assert len([r for r in c.emu.requests if "/tarball/" in r.path]) == tarballs
        # a burst of pushes on both: one inventory at a time, the newest push wins
        head = second
        for i in range(6):
            after = c.emu.commit(REPO, "main", {f"netra_backend/app/x{i}.py": f"X = {i}\n"})
            await c.deliver((a, b)[i % 2], "push", c.emu.payload_push(REPO, head, after),
                            f"p-burst-{i}")
            head = after
        await c.drained()
        body = c.emu.issue(REPO, issue).body or ""
        assert f"at [`{head[:7]}`]" in body
        assert body.count("<!-- ssot-bot:inventory-history ") == 1
        rows = await c.query("SELECT count(*) FROM ssot_snapshots")
        assert rows == [(1,)]
