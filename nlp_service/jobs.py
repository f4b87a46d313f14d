"""Durable call-transcription jobs.

``POST /v1/calls`` writes the audio to the data directory and a ``queued`` job row, then
answers 202. Workers claim jobs with a lease (``running``, ``lease_until``), renew it as
transcription progresses, and finish by storing the interaction, marking the job ``done`` and
queueing its callback **in one transaction** — so a crash at any point either leaves the job to
be claimed again once its lease expires, or finds it complete; a job is finished exactly once.
The in-process ``JobRunner`` is the embedded default; ``nlp_service.celery_app`` runs the same
``process_job`` on Celery workers.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from nlp_service.errors import NlpServiceError
from nlp_service.outbox import enqueue
from nlp_service.schemas import InteractionIn
from nlp_service.service import InteractionService
from nlp_service.store import Base, Store, UtcDateTime, utcnow

__all__ = ["JobRow", "JobStore", "JobRunner", "process_job", "render_transcript", "job_view"]

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="call")
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued | running | done | failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(40), default="queued")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    audio_path: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[Any] = mapped_column(UtcDateTime(), nullable=True)
    worker_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    interaction_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[Any] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[Any] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[Any] = mapped_column(UtcDateTime(), nullable=True)

    __table_args__ = (Index("ix_jobs_claim", "status", "lease_until"),)


def job_view(row: JobRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "job_id": row.id, "status": row.status, "stage": row.stage, "progress": round(row.progress, 3),
        "attempts": row.attempts, "interaction_id": row.interaction_id,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }
    if row.status == "done":
        out["result"] = row.result
    if row.status == "failed":
        out["error"] = row.error
    return out


class JobStore:
    def __init__(self, store: Store, *, lease_s: float = 60.0) -> None:
        self.store = store
        self.lease_s = lease_s

    def create(self, *, tenant: str, payload: dict[str, Any], audio_path: str, job_id: str | None = None) -> str:
        job_id = job_id or uuid.uuid4().hex
        with self.store.session() as s:
            s.add(JobRow(id=job_id, tenant=tenant, kind="call", status="queued", payload=payload,
                         audio_path=audio_path, progress=0.0, stage="queued", attempts=0))
        return job_id

    def get(self, tenant: str, job_id: str) -> JobRow | None:
        with self.store.session() as s:
            row = s.get(JobRow, job_id)
            if row is None or row.tenant != tenant:
                return None
            s.expunge(row)
            return row

    def claim(self, worker_id: str, job_id: str | None = None) -> JobRow | None:
        """Take the oldest claimable job (queued, or running with an expired lease)."""
        now = utcnow()
        with self.store.session() as s:
            q = select(JobRow).where(
                or_(JobRow.status == "queued", (JobRow.status == "running") & (JobRow.lease_until < now)))
            if job_id is not None:
                q = q.where(JobRow.id == job_id)
            q = q.order_by(JobRow.created_at).limit(1)
            if self.store.backend == "postgresql":
                q = q.with_for_update(skip_locked=True)
            row = s.scalar(q)
            if row is None:
                return None
            row.status = "running"
            row.stage = "transcribing"
            row.worker_id = worker_id
            row.attempts += 1
            row.lease_until = now + timedelta(seconds=self.lease_s)
            row.updated_at = now
            s.flush()
            s.expunge(row)
            return row

    def heartbeat(self, job_id: str, worker_id: str, progress: float, stage: str) -> None:
        now = utcnow()
        with self.store.session() as s:
            s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.worker_id == worker_id,
                                           JobRow.status == "running")
                      .values(progress=progress, stage=stage, lease_until=now + timedelta(seconds=self.lease_s),
                              updated_at=now))

    def requeue(self, job_id: str, worker_id: str) -> None:
        with self.store.session() as s:
            s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.worker_id == worker_id,
                                           JobRow.status == "running")
                      .values(status="queued", stage="queued", lease_until=None, worker_id=None,
                              updated_at=utcnow()))

    def fail(self, job_id: str, worker_id: str, error: dict[str, Any]) -> None:
        with self.store.session() as s:
            s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.worker_id == worker_id)
                      .values(status="failed", stage="failed", error=error, finished_at=utcnow(),
                              lease_until=None, updated_at=utcnow()))

    def mark_done(self, session: Session, job_id: str, worker_id: str, interaction_id: str,
                  result: dict[str, Any]) -> bool:
        res = session.execute(update(JobRow).where(JobRow.id == job_id, JobRow.worker_id == worker_id,
                                                   JobRow.status == "running")
                              .values(status="done", stage="done", progress=1.0, result=result,
                                      interaction_id=interaction_id, finished_at=utcnow(), lease_until=None,
                                      updated_at=utcnow()))
        return bool(res.rowcount)

    def queued_count(self) -> int:
        from sqlalchemy import func

        with self.store.session() as s:
            return s.scalar(select(func.count()).select_from(JobRow).where(
                JobRow.status.in_(("queued", "running")))) or 0


class _LostLease(Exception):
    pass


def render_transcript(segments: Any, *, labelled: bool) -> str:
    """A transcript as ``call_transcript`` text, so calls take the same enrichment path as text."""
    lines = []
    for seg in segments:
        t = int(seg.start_s)
        stamp = f"[{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}]"
        text = " ".join(seg.text.split())
        if not text:
            continue
        if labelled and seg.speaker in ("rep", "customer"):
            lines.append(f"{stamp} {'销售' if seg.speaker == 'rep' else '客户'}: {text}")
        else:
            lines.append(f"{stamp} {text}")
    return "\n".join(lines)


def process_job(job: JobRow, *, jobs: JobStore, service: InteractionService, transcriber: Any, worker_id: str,
                callback_secret: str | None = None, on_done: Callable[[], None] | None = None) -> None:
    """Transcribe, enrich and store one claimed job (idempotent on the job's interaction id)."""
    from pipelines.audio import AudioError

    payload = job.payload
    last_beat = [0.0]

    def progress(fraction: float) -> None:
        now = time.monotonic()
        if now - last_beat[0] >= 1.0:
            last_beat[0] = now
            jobs.heartbeat(job.id, worker_id, 0.9 * fraction, "transcribing")

    try:
        transcript = transcriber.transcribe(job.audio_path, layout=payload.get("layout", "auto"), progress=progress)
    except AudioError as exc:
        jobs.fail(job.id, worker_id, {"code": exc.code, "detail": exc.detail})
        return
    except Exception as exc:  # noqa: BLE001
        logger.exception("transcription failed for job %s", job.id)
        if job.attempts >= MAX_ATTEMPTS:
            jobs.fail(job.id, worker_id, {"code": "internal-error", "detail": f"transcription failed ({type(exc).__name__})"})
        return  # leave it running; the lease expiry hands it to another attempt
    jobs.heartbeat(job.id, worker_id, 0.92, "enriching")
    content = render_transcript(transcript.segments, labelled=transcript.layout == "stereo")
    if not content.strip():
        jobs.fail(job.id, worker_id, {"code": "no-speech",
                                      "detail": "No speech was recognised in the recording (silence or noise). "
                                                "Check the file and the channel layout."})
        return
    interaction_id = payload.get("interaction_id") or job.id
    model = InteractionIn.model_validate({
        "id": interaction_id, "channel": payload.get("channel", "call"), "format": "call_transcript",
        "customer_id": payload["customer_id"], "occurred_at": payload["occurred_at"], "content": content,
        "team": payload.get("team"), "region": payload.get("region"), "rep_id": payload.get("rep_id"),
    })
    asr_meta = {"model": transcript.model_id, "duration_s": transcript.duration_s, "layout": transcript.layout,
                "language": transcript.language,
                "rtf": round(transcript.timings_ms.get("total_ms", 0) / 1000 / max(transcript.duration_s, 1e-6), 4)}

    def complete(session: Session, result: dict[str, Any]) -> None:
        if not jobs.mark_done(session, job.id, worker_id, interaction_id, result):
            raise _LostLease()  # another worker owns the job now: roll the whole insert back
        if payload.get("callback_url"):
            enqueue(session, tenant=job.tenant, kind="callback", dedup_key=f"job:{job.id}:callback",
                    url=payload["callback_url"], secret=callback_secret,
                    payload={"event": "job.done", "job_id": job.id, "status": "done", "result": result})

    try:
        result, created = service.submit(model, tenant=job.tenant, result_extra={"asr": asr_meta},
                                         on_insert=lambda s, _seq, _item, r: complete(s, r))
        if not created:  # the same id and content were stored before (a replayed upload)
            with jobs.store.session() as s:
                complete(s, result)
    except _LostLease:
        logger.warning("job %s: lease lost before completion; left to its new owner", job.id)
        return
    except NlpServiceError as exc:
        if exc.code != "conflict":
            jobs.fail(job.id, worker_id, exc.to_dict())
            return
        # Stored by an earlier attempt under this id (e.g. a client re-used an interaction id).
        stored = service.store.get_interaction(job.tenant, interaction_id)
        if stored is None:
            jobs.fail(job.id, worker_id, exc.to_dict())
            return
        try:
            with jobs.store.session() as s:
                complete(s, stored.result)
        except _LostLease:
            return
    if on_done is not None:
        on_done()


class JobRunner:
    """In-process workers that claim and run jobs; ``workers`` bounds CPU use."""

    def __init__(self, jobs: JobStore, service: InteractionService, transcriber_factory: Callable[[], Any], *,
                 workers: int = 1, poll_s: float = 1.0, callback_secret: str | None = None,
                 on_done: Callable[[], None] | None = None) -> None:
        self.jobs = jobs
        self.service = service
        self.transcriber_factory = transcriber_factory
        self.workers = workers
        self.poll_s = poll_s
        self.callback_secret = callback_secret
        self.on_done = on_done
        self.worker_id = f"{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.in_flight: set[str] = set()

    def start(self) -> None:
        for i in range(self.workers):
            t = threading.Thread(target=self._loop, name=f"job-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop claiming; let in-flight jobs finish, and hand back those that can't in time."""
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        for job_id in list(self.in_flight):
            self.jobs.requeue(job_id, self.worker_id)  # another replica takes it at once
            logger.warning("job %s handed back at shutdown", job_id)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.jobs.claim(self.worker_id)
            except Exception:  # noqa: BLE001
                logger.exception("claiming a job failed")
                job = None
            if job is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            self.in_flight.add(job.id)
            try:
                process_job(job, jobs=self.jobs, service=self.service, transcriber=self.transcriber_factory(),
                            worker_id=self.worker_id, callback_secret=self.callback_secret, on_done=self.on_done)
            except Exception:  # noqa: BLE001
                logger.exception("job %s crashed", job.id)
            finally:
                self.in_flight.discard(job.id)


def save_upload(data_dir: Path, job_id: str, data: bytes, suffix: str) -> Path:
    """Write an upload durably (fsync) before the job row that points to it is committed."""
    folder = data_dir / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{job_id}{suffix}"
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path
