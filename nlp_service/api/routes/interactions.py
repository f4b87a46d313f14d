"""Interactions: post (JSON or raw upload), read one, list a customer's."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from nlp_service.api.deps import ServiceDep, SettingsDep, StoreDep, TenantDep
from nlp_service.api.problems import problem_responses, validation_code
from nlp_service.api.responses import JsonResponse
from nlp_service.errors import NlpServiceError, from_ingest
from nlp_service.schemas import EnrichmentOut, InteractionIn, InteractionPage
from pipelines.ingest import IngestError, decode_text
from pipelines.ingest.mail import message_date

router = APIRouter(prefix="/v1", tags=["interactions"])

_PROBLEMS = problem_responses({400: "Malformed JSON", 409: "Same id, different content", 413: "Payload too large",
                               415: "Unsupported charset or media type", 422: "Invalid or unparseable input"})


def _json(body: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status_code=status)


@router.post("/interactions", response_model=EnrichmentOut, status_code=201, responses=_PROBLEMS,
             summary="Enrich and store one interaction (idempotent on id)")
def post_interaction(body: InteractionIn, service: ServiceDep, tenant: TenantDep) -> JsonResponse:
    """Returns 201 with the draft record; the same id posted again returns 200 and the same result."""
    result, created = service.submit(body, tenant=tenant)
    return _json(result, 201 if created else 200)


@router.post("/interactions/upload", response_model=EnrichmentOut, status_code=201, responses=_PROBLEMS,
             summary="Upload a raw file (.eml, chat export, transcript) with metadata fields")
async def upload_interaction(
    service: ServiceDep,
    settings: SettingsDep,
    tenant: TenantDep,
    file: Annotated[UploadFile, File(description="The raw .eml / export / transcript file")],
    customer_id: Annotated[str, Form()],
    format: Annotated[str | None, Form(description="Defaults from the file name (.eml → eml)")] = None,
    channel: Annotated[str | None, Form()] = None,
    id: Annotated[str | None, Form(description="Defaults to the file name")] = None,
    occurred_at: Annotated[str | None, Form(description="Defaults to the e-mail's Date header or now")] = None,
    participants: Annotated[str | None, Form(description="JSON object, as in the JSON body")] = None,
    team: Annotated[str | None, Form()] = None,
    region: Annotated[str | None, Form()] = None,
    media: Annotated[list[UploadFile] | None, File(description="WeChat voice recordings, each named by the "
                                                   "archive message's msgid, sdkfileid or md5sum")] = None,
) -> JsonResponse:
    raw = await file.read()
    name = file.filename or "upload"
    fmt = format or ("eml" if name.lower().endswith(".eml") else
                     "wechat_archive_jsonl" if name.lower().endswith(".jsonl") else None)
    if fmt is None:
        raise NlpServiceError("unsupported-format",
                              f"Cannot tell the format of {name!r}; send a 'format' field "
                              "(eml, wechat_archive_jsonl, wechat_text, call_transcript, plain).")
    channel = channel or {"eml": "email", "wechat_archive_jsonl": "wechat", "wechat_text": "wechat",
                          "call_transcript": "call"}.get(fmt, "other")
    content: str | bytes = raw
    if fmt != "eml":
        try:
            content = decode_text(raw)
        except IngestError as exc:
            raise from_ingest(exc) from None
    when = occurred_at
    if not when and fmt == "eml":
        date = message_date(raw)
        when = date.isoformat() if date else None
    try:
        parts = json.loads(participants) if participants else None
        model = InteractionIn.model_validate({
            "id": id or name, "channel": channel, "format": fmt, "customer_id": customer_id,
            "occurred_at": when or datetime.now(ZoneInfo(settings.timezone)).isoformat(timespec="seconds"),
            "participants": parts, "content": content if isinstance(content, str) else "",
            "team": team, "region": region,
        })
    except json.JSONDecodeError:
        raise NlpServiceError("malformed-json", "The 'participants' field is not valid JSON.") from None
    except ValidationError as exc:
        code, _ = validation_code(list(exc.errors()))
        raise NlpServiceError(code if code != "malformed-json" else "invalid-input",  # type: ignore[arg-type]
                              "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
                              ) from None
    conversation = None
    if media:
        files = {m.filename or f"media-{i}": await m.read() for i, m in enumerate(media)}
        conversation = await run_in_threadpool(_with_voice, service, model, content, files, settings.timezone)
    result, created = await run_in_threadpool(service.submit, model, tenant=tenant, raw=content,
                                              conversation=conversation)
    return _json(result, 201 if created else 200)


def _with_voice(service: Any, model: InteractionIn, content: str | bytes, files: dict[str, bytes], tz: str) -> Any:
    from nlp_service.interactions import to_input
    from nlp_service.voice import media_index, transcribe_voice_turns
    from pipelines.audio import AudioError

    try:
        conversation = service.registry.pipeline.get().parse(to_input(model, tz_name=tz, raw=content))
    except IngestError as exc:
        raise from_ingest(exc) from None
    try:
        conversation, _missing = transcribe_voice_turns(conversation, media_index(files),
                                                        service.registry.transcriber.get())
    except AudioError as exc:
        raise NlpServiceError(exc.code, f"A voice recording could not be used: {exc.detail}") from None  # type: ignore[arg-type]
    return conversation


@router.get("/interactions/{interaction_id}", response_model=EnrichmentOut, responses=_PROBLEMS)
def get_interaction(interaction_id: str, store: StoreDep, tenant: TenantDep) -> JsonResponse:
    got = store.get_interaction(tenant, interaction_id)
    if got is None:
        raise NlpServiceError("not-found", f"No interaction {interaction_id!r}. Post it to /v1/interactions first.")
    return _json(got.result)


@router.get("/customers/{customer_id}/interactions", response_model=InteractionPage, responses=_PROBLEMS)
def list_customer_interactions(
    customer_id: str,
    store: StoreDep,
    tenant: TenantDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> JsonResponse:
    """Newest first; pass ``next_cursor`` back as ``cursor`` for the next page."""
    try:
        items, next_cursor, total = store.list_interactions(tenant, customer_id, limit=limit, cursor=cursor)
    except ValueError:
        raise NlpServiceError("invalid-input", "The cursor is not valid; use the next_cursor of a previous page.") \
            from None
    return _json({"items": items, "next_cursor": next_cursor, "total": total})
