"""Manager insights: questions of the week, the 「今日必看」 summary, and the dashboard page."""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from nlp_service.api.deps import SettingsDep, StoreDep, TenantDep
from nlp_service.errors import NlpServiceError
from nlp_service.insights import question_insights, today_summary
from nlp_service.store import utcnow

router = APIRouter(tags=["insights"])

# The page's assets: a fixed list, so the route can never serve anything else from the package.
_ASSETS = {"dashboard.js": "text/javascript; charset=utf-8", "dashboard.css": "text/css; charset=utf-8"}
_NO_CACHE = {"Cache-Control": "no-cache"}


def _static(name: str) -> str:
    return files("nlp_service").joinpath("static", name).read_text(encoding="utf-8")


@router.get("/v1/insights/questions", summary="This week's most asked customer questions, grouped and counted")
def get_questions(
    store: StoreDep,
    tenant: TenantDep,
    days: Annotated[int, Query(ge=1, le=90)] = 7,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    region: Annotated[str | None, Query(max_length=200)] = None,
    team: Annotated[str | None, Query(max_length=200)] = None,
) -> JSONResponse:
    """Questions customers asked in interactions that occurred in the last ``days`` days.

    Similar wordings are grouped (topic lexicon, then character-bigram similarity); ``count`` is
    the number of distinct interactions that asked, ``customers`` the distinct customers.
    """
    body = question_insights(store, tenant, now=utcnow(), days=days, limit=limit, region=region, team=team)
    return JSONResponse(body)


@router.get("/v1/insights/today", summary="「今日必看」: red alerts, overdue follow-ups, customers to call")
def get_today(
    store: StoreDep,
    settings: SettingsDep,
    tenant: TenantDep,
    alert_hours: Annotated[int, Query(ge=1, le=24 * 30)] = 24,
    call_hours: Annotated[int, Query(ge=1, le=24 * 30)] = 72,
    region: Annotated[str | None, Query(max_length=200)] = None,
    team: Annotated[str | None, Query(max_length=200)] = None,
) -> JSONResponse:
    """Every count comes with ``meaning`` and ``todo`` in plain words; ``last_alert_id`` is where
    the page's ``/v1/alerts/stream?since=`` picks up."""
    body = today_summary(store, tenant, now=utcnow(), tz=ZoneInfo(settings.timezone), alert_hours=alert_hours,
                         call_hours=call_hours, region=region, team=team)
    return JSONResponse(body)


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard() -> HTMLResponse:
    return HTMLResponse(_static("dashboard.html"), headers=_NO_CACHE)


@router.get("/dashboard/static/{name}", include_in_schema=False)
def dashboard_asset(name: str) -> Response:
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise NlpServiceError("not-found", f"No dashboard asset {name!r}.")
    return Response(_static(name), media_type=media_type, headers=_NO_CACHE)
