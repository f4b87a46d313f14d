"""Distributed transcription: the same ``process_job`` on Celery workers with a Redis broker.

Enabled with ``NLP_JOBS__BACKEND=celery`` and ``NLP_JOBS__REDIS_URL``. The API replicas write the
job row and the audio (on storage shared with the workers: ``NLP_DATA_DIR`` on a shared volume)
and send the job id; a worker (``celery -A nlp_service.celery_app worker -c 1``) claims the row
with a lease, exactly as the in-process runner does, so durability and exactly-once completion
do not depend on the broker: a lost message is recovered by any worker's periodic sweep of
claimable jobs.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from celery import Celery
from celery.signals import worker_ready

from nlp_service.settings import get_settings

__all__ = ["app", "process_call_job", "sweep"]

logger = logging.getLogger(__name__)


def _make_app() -> Celery:
    settings = get_settings()
    url = settings.jobs.redis_url or "redis://127.0.0.1:6379/0"
    celery = Celery("nlp_service", broker=url, backend=None)
    celery.conf.update(task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
                       task_default_queue="nlp-service", broker_connection_retry_on_startup=True,
                       beat_schedule={"sweep": {"task": "nlp_service.sweep", "schedule": 30.0}})
    return celery


app = _make_app()


@lru_cache(maxsize=1)
def _runtime() -> dict[str, Any]:
    """The worker's store, services and transcriber, built once per worker process."""
    from nlp_service.alert_engine import AlertBus, AlertEngine
    from nlp_service.alerts import load_rules
    from nlp_service.jobs import JobStore
    from nlp_service.model_registry import ModelRegistry
    from nlp_service.outbox import Deliverer
    from nlp_service.service import InteractionService
    from nlp_service.store import Store

    settings = get_settings()
    store = Store(settings.database_url)
    models = ModelRegistry(settings)
    service = InteractionService(settings, store, models)
    bus = AlertBus()
    if settings.jobs.redis_url:
        from nlp_service.redis_bridge import RedisAlertBridge

        RedisAlertBridge(settings.jobs.redis_url, bus).start()
    engine = AlertEngine(store, bus, default_rules=load_rules(settings.alerts.rules_file))
    service.insert_hooks.append(engine.on_insert)
    store.after_commit_callbacks.append(engine.after_commit)
    deliverer = Deliverer(store, timeout_s=settings.alerts.webhook_timeout_s)
    deliverer.start()
    store.after_commit_callbacks.append(lambda info: deliverer.wake() if info.get("outbox") else None)
    return {"settings": settings, "store": store, "models": models, "service": service,
            "jobs": JobStore(store, lease_s=settings.jobs.lease_s), "deliverer": deliverer}


def _run(job_id: str | None) -> bool:
    import os
    import uuid

    from nlp_service.jobs import process_job

    rt = _runtime()
    worker_id = f"celery-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    job = rt["jobs"].claim(worker_id, job_id)
    if job is None:
        return False
    secret = rt["settings"].jobs.callback_secret
    process_job(job, jobs=rt["jobs"], service=rt["service"], transcriber=rt["models"].transcriber.get(),
                worker_id=worker_id, callback_secret=secret.get_secret_value() if secret else None)
    return True


@app.task(name="nlp_service.process_call_job", bind=True, max_retries=3)
def process_call_job(self: Any, job_id: str) -> bool:
    return _run(job_id)


@app.task(name="nlp_service.sweep")
def sweep() -> int:
    """Run claimable jobs whose message was lost (queued too long, or an expired lease)."""
    n = 0
    while _run(None):
        n += 1
    return n


@worker_ready.connect
def _sweep_on_start(**_: Any) -> None:
    sweep.delay()
