"""Prometheus metrics, one registry per service instance (tests run several in one process)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.deliveries = Counter(
            "ssot_webhook_deliveries", "Webhook deliveries by event and outcome",
            ["event", "outcome"], registry=r)
        self.analysis_seconds = Histogram(
            "ssot_analysis_duration_seconds", "Pull request analysis duration", ["outcome"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120), registry=r)
        self.github_requests = Counter(
            "ssot_github_requests", "GitHub REST requests by method and status",
            ["method", "status"], registry=r)
        self.rate_limit_remaining = Gauge(
            "ssot_github_rate_limit_remaining", "x-ratelimit-remaining last seen, per installation",
            ["installation"], registry=r)
        self.jobs_queued = Gauge("ssot_jobs_queued", "Analyses waiting to start", registry=r)
        self.jobs_running = Gauge("ssot_jobs_running", "Analyses running", registry=r)
        self.files_analysed = Counter(
            "ssot_files_analysed", "Files analysed by outcome", ["outcome"], registry=r)

    def github_response(
        self, method: str, status: int | None, headers: Mapping[str, str],
        installation: str | None = None,
    ) -> None:
        """One GitHub answer (the path is no label: its cardinality is unbounded)."""
        self.github_requests.labels(method, str(status) if status else "network-error").inc()
        remaining = headers.get("x-ratelimit-remaining") if headers else None
        if remaining is not None and remaining.isdigit() and installation is not None:
            self.rate_limit_remaining.labels(installation).set(int(remaining))

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))

