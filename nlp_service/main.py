"""The app factory: ``create_app(settings)`` builds store, models, services and routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from nlp_service import __version__
from nlp_service.api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from nlp_service.api.problems import install_problem_handlers
from nlp_service.api.routes import health, interactions
from nlp_service.logging_config import configure_logging
from nlp_service.model_registry import ModelRegistry
from nlp_service.service import InteractionService
from nlp_service.settings import Settings, get_settings
from nlp_service.store import Store

__all__ = ["create_app"]

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
        app.state.auth = None
        if preload:
            models.preload()
        logger.info("nlp-service %s ready (store=%s)", __version__, store.backend)
        try:
            yield
        finally:
            store.close()

    app = FastAPI(
        title="nlp-service",
        version=__version__,
        description="Conversational NLP for Chinese B2B sales: draft CRM records, risk signals, alerts.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(interactions.router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes,
                       max_upload_bytes=settings.max_upload_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app
