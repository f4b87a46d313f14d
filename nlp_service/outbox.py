"""A durable outbox for outgoing HTTP deliveries (alert webhooks, job callbacks).

A delivery row is written in the same transaction as what caused it (the stored interaction,
the finished job), so nothing accepted is lost in a crash. A ``Deliverer`` thread sends due rows,
signs each body with HMAC-SHA256, retries with exponential backoff and jitter, and marks rows
delivered. Rows are claimed with a lease, so several replicas can share one outbox; a row whose
sender died mid-flight is retried once its lease runs out. Every request carries a stable
``X-Nlp-Delivery-Id``: a receiver that keeps the ids it has seen gets each delivery exactly once
even in the rare crash between its 2xx and our bookkeeping.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import JSON, Index, Integer, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from nlp_service.store import Base, Store, UtcDateTime, utcnow

__all__ = ["OutboxRow", "enqueue", "sign", "verify_signature", "Deliverer", "SIGNATURE_HEADER"]

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Nlp-Signature"
TIMESTAMP_HEADER = "X-Nlp-Timestamp"
DELIVERY_HEADER = "X-Nlp-Delivery-Id"


class OutboxRow(Base):
    __tablename__ = "outbox"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))  # webhook | callback
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(String(200), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=12)
    next_attempt_at: Mapped[Any] = mapped_column(UtcDateTime())
    lease_until: Mapped[Any] = mapped_column(UtcDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[Any] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[Any] = mapped_column(UtcDateTime(), default=utcnow)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, timestamp + "." + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance_s: float = 300,
                     now: float | None = None) -> bool:
    """Receiver-side check (also used in tests): signature matches and the timestamp is recent."""
    try:
        if abs((now or time.time()) - float(timestamp)) > tolerance_s:
            return False
    except ValueError:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def enqueue(session: Session, *, tenant: str, kind: str, dedup_key: str, url: str, payload: Any,
            secret: str | None = None, max_attempts: int = 12, meta: dict[str, Any] | None = None) -> str | None:
    """Add a delivery inside the caller's transaction; a repeated ``dedup_key`` is ignored."""
    existing = session.scalar(select(OutboxRow.id).where(OutboxRow.dedup_key == dedup_key))
    if existing:
        return None
    row_id = uuid.uuid4().hex
    body = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    session.add(OutboxRow(id=row_id, tenant=tenant, kind=kind, dedup_key=dedup_key, url=url, secret=secret,
                          body=body, status="pending", attempts=0, max_attempts=max_attempts,
                          next_attempt_at=utcnow(), meta=meta or {}))
    session.info["outbox"] = True  # after the commit, wake the deliverer (see main)
    return row_id


def _backoff_s(attempts: int) -> float:
    return min(300.0, 0.5 * (2 ** max(0, attempts - 1))) * (0.8 + 0.4 * random.random())


class Deliverer:
    """Sends due outbox rows: one scanner thread claims them, a small pool sends them.

    ``wake()`` after a commit that added rows gives low latency; otherwise the scanner looks
    once per ``poll_s`` (one cheap read), which also picks up rows other replicas added and
    retries whose backoff has run out.
    """

    def __init__(self, store: Store, *, timeout_s: float = 5.0, lease_s: float = 30.0, poll_s: float = 1.0,
                 concurrency: int = 4, transport: httpx.BaseTransport | None = None,
                 url_check: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.timeout_s = timeout_s
        self.lease_s = max(lease_s, 2 * timeout_s)
        self.poll_s = poll_s
        self.concurrency = concurrency
        self.url_check = url_check
        self._client = httpx.Client(timeout=timeout_s, transport=transport, follow_redirects=False,
                                    headers={"User-Agent": "nlp-service-webhooks/1"})
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._slots = threading.Semaphore(concurrency)
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self.worker_id = uuid.uuid4().hex[:12]

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="outbox-send")
        self._thread = threading.Thread(target=self._loop, name="outbox-scan", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                claimed = self._claim_batch()
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the sender
                logger.exception("outbox pass failed")
                claimed = []
            for row in claimed:
                self._slots.acquire()
                assert self._pool is not None
                self._pool.submit(self._send_and_release, row)
            if not claimed:
                self._wake.wait(self.poll_s)

    def _send_and_release(self, row: OutboxRow) -> None:
        try:
            self._send(row)
        except Exception:  # noqa: BLE001 - the lease expires and the row is retried
            logger.exception("delivery %s crashed", row.id)
        finally:
            self._slots.release()

    def _claim_batch(self, limit: int | None = None) -> list[OutboxRow]:
        """Lease up to ``limit`` due rows (others' expired leases included)."""
        now = utcnow()
        due = (OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now,
               or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now))
        if self.store.backend == "sqlite":
            # Look before taking the write lock, so an idle outbox never stalls interaction inserts.
            with self.store.read_session() as s:
                if s.scalar(select(OutboxRow.id).where(*due).limit(1)) is None:
                    return []
        with self.store.session() as s:
            q = select(OutboxRow).where(*due).order_by(OutboxRow.next_attempt_at).limit(limit or self.concurrency)
            if self.store.backend == "postgresql":
                q = q.with_for_update(skip_locked=True)
            rows = list(s.scalars(q))
            for row in rows:
                row.lease_until = now + timedelta(seconds=self.lease_s)
                row.attempts += 1
            s.flush()
            for row in rows:
                s.expunge(row)
            return rows

    def run_once(self) -> bool:
        """Send one due row in the calling thread; returns False when nothing was due (tests)."""
        rows = self._claim_batch(1)
        if not rows:
            return False
        self._send(rows[0])
        return True

    def _send(self, row: OutboxRow) -> None:
        from nlp_service.webhook_formats import sign_for_format

        fmt = (row.meta or {}).get("format")
        url, text = sign_for_format(fmt, row.url, row.body, row.secret)
        body = text.encode("utf-8")
        ts = str(int(time.time()))
        headers = {"Content-Type": "application/json; charset=utf-8", DELIVERY_HEADER: row.id,
                   TIMESTAMP_HEADER: ts}
        if row.secret and fmt not in ("dingtalk", "feishu"):
            headers[SIGNATURE_HEADER] = sign(row.secret, ts, body)
        error: str | None = None
        try:
            if self.url_check is not None:
                self.url_check(row.url)
            resp = self._client.post(url, content=body, headers=headers)
            if resp.status_code >= 300:
                error = f"HTTP {resp.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}"
        except ValueError as exc:  # url_check refused the address
            error = str(exc)
        with self.store.session() as s:
            if error is None:
                s.execute(update(OutboxRow).where(OutboxRow.id == row.id).values(
                    status="delivered", delivered_at=utcnow(), lease_until=None, last_error=None))
                return
            dead = row.attempts >= row.max_attempts
            s.execute(update(OutboxRow).where(OutboxRow.id == row.id).values(
                status="dead" if dead else "pending", lease_until=None, last_error=error[:500],
                next_attempt_at=utcnow() + timedelta(seconds=_backoff_s(row.attempts))))
        logger.warning("delivery %s attempt %d failed: %s%s", row.id, row.attempts, error,
                       " (giving up)" if dead else "")
