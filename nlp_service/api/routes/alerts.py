"""Alerts: list, acknowledge, rules, and the live stream (SSE and WebSocket)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from nlp_service.alert_engine import AlertEngine, dumps_event, matches_filter
from nlp_service.api.deps import TenantDep, get_tenant
from nlp_service.api.responses import JsonResponse
from nlp_service.errors import NlpServiceError

router = APIRouter(prefix="/v1", tags=["alerts"])

_HEARTBEAT_S = 15.0
#: Alert ids are 64-bit: a larger id in a request is a 422, not a database overflow (issue 7 fuzzing).
MAX_ID = 2**63 - 1


def _engine(request: Request | WebSocket) -> AlertEngine:
    return request.app.state.alerts


def _split(value: str | None) -> set[str] | None:
    return {v.strip() for v in value.split(",") if v.strip()} if value else None


@router.get("/alerts", summary="Alerts, newest first (filter, paginate with before=<id>)")
def list_alerts(
    request: Request,
    tenant: TenantDep,
    customer_id: str | None = None,
    category: str | None = None,
    team: str | None = None,
    region: str | None = None,
    min_severity: Annotated[int, Query(ge=1, le=3)] = 1,
    acked: bool | None = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JsonResponse:
    items = _engine(request).list(tenant, customer_id=customer_id, category=category, team=team, region=region,
                                  min_severity=min_severity, acked=acked, before=before, limit=limit)
    next_before = items[-1]["id"] if len(items) == limit else None
    return JsonResponse({"items": items, "next_before": next_before})


@router.post("/alerts/{alert_id}/ack", summary="Acknowledge an alert")
def ack_alert(alert_id: Annotated[int, Path(ge=-MAX_ID - 1, le=MAX_ID)], request: Request, tenant: TenantDep,
              body: Annotated[dict[str, Any] | None, Body()] = None) -> JsonResponse:
    by = str((body or {}).get("by") or "")[:200] or None
    got = _engine(request).ack(tenant, alert_id, by)
    if got is None:
        raise NlpServiceError("not-found", f"No alert {alert_id}.")
    return JsonResponse(got)


@router.get("/alert-rules", summary="The tenant's alert rules and webhooks")
def get_rules(request: Request, tenant: TenantDep) -> JsonResponse:
    rules = _engine(request).rules_for(tenant)
    data = rules.model_dump(mode="json")
    for hook in data.get("webhooks", []):
        if hook.get("secret"):
            hook["secret"] = "***"
    return JsonResponse(data)


@router.put("/alert-rules", summary="Replace the tenant's alert rules (validated)")
def put_rules(request: Request, tenant: TenantDep, body: Annotated[dict[str, Any], Body()]) -> JsonResponse:
    for hook in body.get("webhooks", []) if isinstance(body.get("webhooks"), list) else []:
        if isinstance(hook, dict) and isinstance(hook.get("url"), str):
            request.app.state.url_check(hook["url"])
    rules = _engine(request).set_rules(tenant, body)
    return JsonResponse({"ok": True, "rules": len(rules.rules), "webhooks": len(rules.webhooks)})


async def _replay(engine: AlertEngine, tenant: str, after: int, pred: Any) -> list[dict[str, Any]]:
    rows = await run_in_threadpool(engine.list, tenant, after=after, limit=1000)
    return [a for a in rows if pred(a)]


@router.get("/alerts/stream", summary="Server-Sent Events of new alerts; resumes from Last-Event-ID")
async def stream_alerts(
    request: Request,
    tenant: TenantDep,
    team: str | None = None,
    category: str | None = None,
    region: str | None = None,
    customer_id: str | None = None,
    min_severity: Annotated[int, Query(ge=1, le=3)] = 1,
    last_event_id: Annotated[str | None, Header()] = None,
    since: Annotated[int | None, Query(ge=0, le=MAX_ID, description="Resume after this alert id (EventSource can't set headers on first connect)")] = None,
) -> StreamingResponse:
    engine = _engine(request)
    teams, cats, regions = _split(team), _split(category), _split(region)

    def pred(a: dict[str, Any]) -> bool:
        return matches_filter(a, tenant=tenant, teams=teams, categories=cats, min_severity=min_severity,
                              regions=regions, customer_id=customer_id)

    try:
        resume = int(last_event_id) if last_event_id else since
    except ValueError:
        resume = since
    if resume is not None and not 0 <= resume <= MAX_ID:
        resume = since
    sub = engine.bus.subscribe(pred)

    async def events() -> AsyncIterator[str]:
        # Alerts committed by concurrent requests are published in commit-callback order, which
        # is not always id order: skip only what the replay already sent, never "id <= last".
        replayed: set[int] = set()
        floor = resume or 0
        try:
            yield "retry: 2000\n\n"
            if resume is not None:
                for a in await _replay(engine, tenant, resume, pred):
                    replayed.add(a["id"])
                    yield f"id: {a['id']}\nevent: alert\ndata: {dumps_event(a)}\n\n"
            while True:
                try:
                    a = await asyncio.wait_for(sub.queue.get(), timeout=_HEARTBEAT_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": keep-alive\n\n"
                    continue
                if a["id"] <= floor or a["id"] in replayed:
                    continue
                yield f"id: {a['id']}\nevent: alert\ndata: {dumps_event(a)}\n\n"
        finally:
            engine.bus.unsubscribe(sub)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.websocket("/alerts/ws")
async def ws_alerts(websocket: WebSocket) -> None:
    """Same events as the SSE stream, as JSON messages. Query: team, category, min_severity, since."""
    q = websocket.query_params
    try:
        tenant = get_tenant(websocket)  # type: ignore[arg-type]
    except NlpServiceError as exc:
        await websocket.close(code=4401, reason=exc.detail[:120])
        return
    engine = _engine(websocket)
    teams, cats, regions = _split(q.get("team")), _split(q.get("category")), _split(q.get("region"))
    try:
        min_severity = int(q.get("min_severity", "1"))
        since = int(q["since"]) if q.get("since") else None
        if since is not None and not 0 <= since <= MAX_ID:
            raise ValueError(since)
    except ValueError:
        await websocket.close(code=4422, reason="min_severity and since must be integers")
        return

    def pred(a: dict[str, Any]) -> bool:
        return matches_filter(a, tenant=tenant, teams=teams, categories=cats, min_severity=min_severity,
                              regions=regions)

    await websocket.accept()
    sub = engine.bus.subscribe(pred)
    replayed: set[int] = set()
    floor = since or 0
    try:
        if since is not None:
            for a in await _replay(engine, tenant, since, pred):
                replayed.add(a["id"])
                await websocket.send_text(json.dumps({"event": "alert", "alert": a}, ensure_ascii=False))
        while True:
            a = await sub.queue.get()
            if a["id"] <= floor or a["id"] in replayed:
                continue
            await websocket.send_text(json.dumps({"event": "alert", "alert": a}, ensure_ascii=False))
    except WebSocketDisconnect:
        pass
    finally:
        engine.bus.unsubscribe(sub)
