"""Customer-level views: sync latest communication, timeline; and record lint."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from nlp_service.api.deps import ServiceDep, StoreDep, TenantDep
from nlp_service.api.responses import JsonResponse
from nlp_service.errors import NlpServiceError
from nlp_service.schemas import InteractionIn
from nlp_service.store import utcnow
from nlp_service.sync import merge_results, timeline_entry
from pipelines.lint import lint_record

router = APIRouter(prefix="/v1", tags=["customers"])


class SyncIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    interactions: list[InteractionIn] = Field(default_factory=list, max_length=500,
                                              description="New interactions since the last sync (optional)")


@router.post("/customers/{customer_id}/sync", summary="同步最新沟通: one draft record from the new interactions")
def sync_customer(customer_id: str, service: ServiceDep, store: StoreDep, tenant: TenantDep,
                  body: Annotated[SyncIn | None, Body()] = None) -> JsonResponse:
    """Stores the posted interactions (idempotently), merges everything new since the last sync
    (newest facts win; each field names its source interaction) and moves the sync point."""
    for item in (body.interactions if body else []):
        if item.customer_id != customer_id:
            raise NlpServiceError("invalid-input", f"Interaction {item.id!r} belongs to customer "
                                                   f"{item.customer_id!r}, not {customer_id!r}.")
    for item in (body.interactions if body else []):
        service.submit(item, tenant=tenant)
    prev = store.get_sync(tenant, customer_id)
    last_seq = prev.last_seq if prev else 0
    new = store.interactions_since(tenant, customer_id, last_seq)
    if not new:
        if prev is not None and prev.draft:
            return JsonResponse({**prev.draft, "new_interactions": 0, "synced_at": prev.synced_at.isoformat()})
        if not store.customer_results(tenant, customer_id):
            raise NlpServiceError("not-found", f"No interactions stored for customer {customer_id!r}; post some "
                                               "in the body or to /v1/interactions first.")
    results = [r for _, r in new]
    merged = merge_results(results)
    draft = {"customer_id": customer_id, "interactions": [r["interaction_id"] for r in results], **merged}
    store.set_sync(tenant, customer_id, max(seq for seq, _ in new), draft)
    return JsonResponse({**draft, "new_interactions": len(results), "synced_at": utcnow().isoformat()})


@router.get("/customers/{customer_id}/timeline", summary="The customer journey, oldest first")
def customer_timeline(customer_id: str, store: StoreDep, tenant: TenantDep) -> JsonResponse:
    results = store.customer_results(tenant, customer_id)
    return JsonResponse({"customer_id": customer_id, "items": [timeline_entry(r) for r in results]})


@router.post("/records/lint", summary="Check a record a rep wrote: vague blocker, action without time, …",
             description="Body: the record (or {record, occurred_at}); with occurred_at, dues before it are flagged.")
async def lint(body: Annotated[dict[str, Any], Body()]) -> JsonResponse:
    record = body.get("record") if isinstance(body.get("record"), dict) else body
    reference = None
    when = body.get("occurred_at")
    if isinstance(when, str):
        try:
            reference = datetime.fromisoformat(when)
        except ValueError:
            raise NlpServiceError("invalid-timestamp", "occurred_at must be ISO 8601, e.g. 2026-03-02T10:00:00+08:00.") \
                from None
    problems = await run_in_threadpool(lambda: lint_record(record, reference=reference))
    return JsonResponse({"ok": not problems, "problems": [
        {"field": p.field, "code": p.code, "message": p.message} for p in problems]})
