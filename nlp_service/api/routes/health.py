"""Liveness/readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import text

from nlp_service import __version__
from nlp_service.api.deps import StoreDep
from nlp_service.errors import NlpServiceError
from nlp_service.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(store: StoreDep) -> Health:
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any database failure means not ready
        raise NlpServiceError("model-unavailable", f"The database is not reachable ({type(exc).__name__}).",
                              status=503, headers={"Retry-After": "5"}) from None
    return Health(status="ok", version=__version__, store=store.backend)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    from nlp_service.metrics import CONTENT_TYPE_LATEST

    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
