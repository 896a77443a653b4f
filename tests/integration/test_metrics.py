"""GET /metrics is Prometheus text that prometheus-client's parser reads, and it counts what
the service saw."""

from __future__ import annotations

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.harness import REPO, running


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_count_deliveries_analyses_and_github_requests() -> None:
    async with running() as h:
        h.emu.commit(REPO, "feature", {"a.py": "A = 1\n"})
        number = h.emu.open_pull_request(REPO, "feature")
        payload = h.emu.payload_pull_request(REPO, number, "opened")
        await h.send("pull_request", payload, delivery_id="m-1")
        await h.send("pull_request", payload, delivery_id="m-1")  # duplicate
        await h.send("star", {"action": "created"}, delivery_id="m-2")  # ignored
        base = h.url.rsplit("/api/", 1)[0]
        async with aiohttp.ClientSession() as session, session.get(f"{base}/metrics") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain")
            text = await resp.text()
        got = samples(text)
        delivered = "ssot_webhook_deliveries_total"
        assert got[(delivered, (("event", "pull_request"), ("outcome", "accepted")))] == 1
        assert got[(delivered, (("event", "pull_request"), ("outcome", "duplicate")))] == 1
        assert got[(delivered, (("event", "star"), ("outcome", "ignored")))] == 1
        assert got[("ssot_analysis_duration_seconds_count", (("outcome", "ok"),))] == 1
        made = sum(v for (name, _), v in got.items() if name == "ssot_github_requests_total")
        assert made == len(h.emu.requests)
        assert got[("ssot_jobs_running", ())] == 0
        remaining = [v for (name, labels), v in got.items()
                     if name == "ssot_github_rate_limit_remaining"]
        assert remaining and all(v > 0 for v in remaining)
