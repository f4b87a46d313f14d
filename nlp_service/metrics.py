"""Prometheus metrics (``GET /metrics``), one registry per app so tests and replicas stay apart."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["Metrics", "CONTENT_TYPE_LATEST"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("nlp_http_requests_total", "HTTP requests", ("method", "route", "status"),
                                registry=self.registry)
        self.latency = Histogram("nlp_http_request_duration_seconds", "HTTP request latency", ("method", "route"),
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
                                 registry=self.registry)
        self.interactions = Counter("nlp_interactions_total", "Interactions enriched and stored", ("channel",),
                                    registry=self.registry)
        self.alerts = Counter("nlp_alerts_total", "Alerts raised", ("category",), registry=self.registry)
        self.asr_rtf = Histogram("nlp_asr_rtf", "ASR real-time factor (processing s / audio s)",
                                 buckets=(0.02, 0.05, 0.1, 0.2, 0.5, 1, 2), registry=self.registry)
        self.asr_audio_seconds = Counter("nlp_asr_audio_seconds_total", "Audio seconds transcribed",
                                         registry=self.registry)
        self.queue_depth = Gauge("nlp_jobs_queue_depth", "Jobs queued or running", registry=self.registry)
        self.deliveries_pending = Gauge("nlp_outbox_pending", "Outbox deliveries not yet delivered",
                                        registry=self.registry)
        self._collectors: list[Callable[[], None]] = []

    def on_collect(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` before each scrape (gauges read from the database)."""
        self._collectors.append(fn)

    def observe_request(self, method: str, route: str, status: int, duration_ms: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(duration_ms / 1000)

    def render(self) -> bytes:
        for fn in self._collectors:
            try:
                fn()
            except Exception:  # noqa: BLE001 - a failed gauge must not break the scrape
                pass
        return generate_latest(self.registry)
