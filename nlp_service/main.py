"""The app factory: ``create_app(settings)`` builds store, models, services and routes."""

from __future__ import annotations

import gc

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from nlp_service import __version__
from nlp_service.alert_engine import AlertBus, AlertEngine
from nlp_service.alerts import load_rules
from nlp_service.api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from nlp_service.api.problems import install_problem_handlers
from nlp_service.api.routes import alerts, calls, customers, health, interactions
from nlp_service.api.routes import insights as insights_routes
from nlp_service.jobs import JobRunner, JobStore
from nlp_service.logging_config import configure_logging
from nlp_service.metrics import Metrics
from nlp_service.model_registry import ModelRegistry
from nlp_service.outbox import Deliverer
from nlp_service.service import InteractionService
from nlp_service.settings import Settings, get_settings
from nlp_service.store import Store
from nlp_service.tenants import ApiKeyAuth
from nlp_service.urls import check_outbound_url

__all__ = ["create_app"]


def _count_result(metrics: Metrics, result: dict) -> None:  # type: ignore[type-arg]
    metrics.interactions.labels(result.get("channel", "other")).inc()
    asr = result.get("asr")
    if asr:
        metrics.asr_rtf.observe(float(asr.get("rtf") or 0))
        metrics.asr_audio_seconds.inc(float(asr.get("duration_s") or 0))

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, configure_logs: bool = True, preload: bool = True) -> FastAPI:
    settings = settings or get_settings()
    if configure_logs:
        configure_logging(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(settings.database_url, echo=settings.store.echo)
        models = ModelRegistry(settings)
        service = InteractionService(settings, store, models)
        app.state.settings = settings
        app.state.store = store
        app.state.models = models
        app.state.service = service
        app.state.auth = ApiKeyAuth(store) if settings.security.require_api_key else None
        app.state.url_check = lambda url: check_outbound_url(url, allow_private=settings.alerts.allow_private_urls)
        bus = AlertBus()
        engine = AlertEngine(store, bus, default_rules=load_rules(settings.alerts.rules_file),
                             max_attempts=settings.alerts.webhook_max_attempts)
        app.state.alerts = engine
        service.insert_hooks.append(engine.on_insert)
        store.after_commit_callbacks.append(engine.after_commit)
        jobs = JobStore(store, lease_s=settings.jobs.lease_s)
        app.state.jobs = jobs
        deliverer = Deliverer(store, timeout_s=settings.alerts.webhook_timeout_s, url_check=app.state.url_check)
        app.state.deliverer = deliverer
        # Wake the sender only after a commit that queued deliveries (alert webhooks, callbacks).
        store.after_commit_callbacks.append(lambda info: deliverer.wake() if info.get("outbox") else None)
        secret = settings.jobs.callback_secret.get_secret_value() if settings.jobs.callback_secret else None
        in_process = settings.jobs.workers if settings.jobs.backend == "inprocess" else 0
        runner = JobRunner(jobs, service, models.transcriber.get, workers=in_process,
                           callback_secret=secret)
        app.state.job_runner = runner
        app.state.job_dispatch = lambda _job_id: runner.wake()
        if settings.jobs.backend == "celery":
            from nlp_service.celery_app import process_call_job

            app.state.job_dispatch = lambda job_id: process_call_job.delay(job_id)
        bridge = None
        if settings.jobs.redis_url:
            from nlp_service.redis_bridge import RedisAlertBridge

            bridge = RedisAlertBridge(settings.jobs.redis_url, bus)
            bridge.start()
        metrics.on_collect(lambda: metrics.queue_depth.set(jobs.queued_count()))
        engine.on_new_alerts.append(lambda new: [metrics.alerts.labels(a["category"]).inc() for a in new])
        service.after_commit.append(lambda result: _count_result(metrics, result))
        if settings.request_threads:
            anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        if preload:
            models.preload()
            # The loaded stages are hundreds of MB of long-lived Python objects (automata tables,
            # jieba's dictionary): take them out of the cyclic collector's full passes, which
            # otherwise walk all of them every few thousand requests (latency spikes, CPU).
            gc.collect()
            gc.freeze()
        deliverer.start()
        runner.start()
        logger.info("nlp-service %s ready (store=%s, job workers=%d)", __version__, store.backend,
                    settings.jobs.workers)
        try:
            yield
        finally:
            runner.stop()
            deliverer.stop()
            if bridge is not None:
                bridge.stop()
            store.close()

    app = FastAPI(
        title="nlp-service",
        version=__version__,
        description="Conversational NLP for Chinese B2B sales: draft CRM records, risk signals, alerts.",
        lifespan=lifespan,
    )
    metrics = Metrics()
    app.state.metrics = metrics
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(interactions.router)
    app.include_router(calls.router)
    app.include_router(alerts.router)
    app.include_router(customers.router)
    app.include_router(insights_routes.router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes,
                       max_upload_bytes=settings.max_upload_bytes)
    app.add_middleware(RequestContextMiddleware, on_request=metrics.observe_request)
    return app
