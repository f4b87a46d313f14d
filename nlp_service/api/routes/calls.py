"""Call recordings as durable jobs: ``POST /v1/calls`` → 202 + job; ``GET /v1/jobs/{id}``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from nlp_service.api.deps import SettingsDep, TenantDep
from nlp_service.api.problems import problem_responses
from nlp_service.api.responses import JsonResponse
from nlp_service.errors import NlpServiceError
from nlp_service.interactions import aware
from nlp_service.jobs import JobStore, job_view, save_upload

router = APIRouter(prefix="/v1", tags=["calls"])

_PROBLEMS = problem_responses({413: "Audio too long or too large", 415: "Undecodable audio",
                               422: "Empty or silent audio, invalid metadata"})


def _check_audio(data: bytes, max_duration_s: float) -> dict[str, Any]:
    """Decode once at the door so corrupt/empty/silent/over-long audio fails now, not in the job."""
    from pipelines.audio import AudioError, is_silent, load_audio

    try:
        decoded = load_audio(data, max_duration_s=max_duration_s)
    except AudioError as exc:
        raise NlpServiceError(exc.code, exc.detail) from None  # type: ignore[arg-type]
    if decoded.duration_s < 0.1:
        raise NlpServiceError("empty-audio", "The recording has no audio samples; send the whole file.")
    if all(is_silent(ch) for ch in decoded.channels):
        raise NlpServiceError("no-speech", "The recording is silent (no channel rises above -55 dBFS). "
                                           "Check the recorder's input or send the right file.")
    return {"duration_s": round(decoded.duration_s, 3), "channels": decoded.source_channels,
            "codec": decoded.codec, "sample_rate_hz": decoded.source_sample_rate_hz}


@router.post("/calls", status_code=202, responses=_PROBLEMS,
             summary="Upload a call recording; transcription and enrichment run as a durable job")
async def post_call(
    request: Request,
    settings: SettingsDep,
    tenant: TenantDep,
    file: Annotated[UploadFile, File(description="wav, mp3, m4a/aac, amr, ogg/opus, flac, …")],
    customer_id: Annotated[str, Form(min_length=1, max_length=200)],
    occurred_at: Annotated[datetime | None, Form(description="Start of the call; default now")] = None,
    channel: Annotated[Literal["call", "meeting"], Form()] = "call",
    layout: Annotated[Literal["auto", "mono", "stereo"], Form(description="stereo: one party per channel")] = "auto",
    id: Annotated[str | None, Form(max_length=200, description="Interaction id; default the job id")] = None,
    callback_url: Annotated[str | None, Form(max_length=2000, description="POSTed the result when done")] = None,
    team: Annotated[str | None, Form(max_length=200)] = None,
    region: Annotated[str | None, Form(max_length=200)] = None,
) -> JsonResponse:
    data = await file.read()
    if not data:
        raise NlpServiceError("empty-audio", "The uploaded file is empty; send the recording's bytes.")
    if callback_url:
        request.app.state.url_check(callback_url)
    info = await run_in_threadpool(_check_audio, data, settings.asr.max_duration_s)
    jobs: JobStore = request.app.state.jobs
    suffix = Path(file.filename or "audio").suffix.lower()[:8] or ".bin"
    job_id = __import__("uuid").uuid4().hex
    path = await run_in_threadpool(save_upload, settings.data_dir, job_id, data, suffix)
    when = aware(occurred_at, settings.timezone) if occurred_at else datetime.now().astimezone()
    payload = {"customer_id": customer_id, "occurred_at": when.isoformat(), "channel": channel, "layout": layout,
               "interaction_id": id, "callback_url": callback_url, "team": team, "region": region,
               "filename": file.filename, "audio": info}
    await run_in_threadpool(jobs.create, tenant=tenant, payload=payload, audio_path=str(path), job_id=job_id)
    request.app.state.job_dispatch(job_id)
    return JsonResponse({"job_id": job_id, "status": "queued", "status_url": f"/v1/jobs/{job_id}",
                         "audio": info}, status_code=202, headers={"Location": f"/v1/jobs/{job_id}"})


@router.get("/jobs/{job_id}", summary="Job status, progress and (when done) the result")
def get_job(job_id: str, request: Request, tenant: TenantDep) -> JsonResponse:
    row = request.app.state.jobs.get(tenant, job_id)
    if row is None:
        raise NlpServiceError("not-found", f"No job {job_id!r}.")
    return JsonResponse(job_view(row))
