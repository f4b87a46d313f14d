"""Raising, storing, streaming and pushing alerts.

``AlertEngine.on_insert`` runs inside the transaction that stores an interaction: it evaluates
the tenant's rules, de-duplicates against recent alerts (a counter instead of a new alert),
applies the hourly cap, stores new alerts and queues their webhook deliveries in the outbox. After
the commit, new alerts go to the ``AlertBus`` — live subscribers (SSE, WebSocket) in this process
and, when Redis is configured, every other replica.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, bindparam, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from nlp_service.alerts import AlertCandidate, AlertRules, evaluate_rules, load_rules, parse_rules, throttled
from nlp_service.enrichment import InteractionInput
from nlp_service.outbox import enqueue
from nlp_service.store import Base, Store, UtcDateTime, utcnow
from nlp_service.webhook_formats import render_payload

__all__ = ["AlertRow", "RulesRow", "AlertBus", "AlertEngine", "alert_view", "matches_filter"]

logger = logging.getLogger(__name__)


class AlertRow(Base):
    __tablename__ = "alerts"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[str] = mapped_column(String(200))
    interaction_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30), default="risk_signal")
    category: Mapped[str] = mapped_column(String(30))
    severity: Mapped[int] = mapped_column(Integer, default=2)
    level: Mapped[str | None] = mapped_column(String(4), nullable=True)
    quote: Mapped[str] = mapped_column(Text)
    team: Mapped[str | None] = mapped_column(String(200), nullable=True)
    region: Mapped[str | None] = mapped_column(String(200), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(20), nullable=True)
    occurred_at: Mapped[Any] = mapped_column(UtcDateTime(), nullable=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_at: Mapped[Any] = mapped_column(UtcDateTime(), default=utcnow)
    last_at: Mapped[Any] = mapped_column(UtcDateTime(), default=utcnow)
    throttled: Mapped[bool] = mapped_column(Boolean, default=False)
    acked_at: Mapped[Any] = mapped_column(UtcDateTime(), nullable=True)
    acked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    rule_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)

    __table_args__ = (
        Index("ix_alerts_dedup", "tenant", "customer_id", "category", "last_at"),
        Index("ix_alerts_tenant_seq", "tenant", "seq"),
    )


# Prebuilt statements for the insert hook, which runs inside every interaction's write
# transaction (issue 7 load test: ORM statement building and a unit-of-work flush per alert cost
# more than the rest of the transaction).
_DEDUP = (select(AlertRow)
          .where(AlertRow.tenant == bindparam("tenant"), AlertRow.customer_id == bindparam("customer_id"),
                 AlertRow.category == bindparam("category"), AlertRow.last_at >= bindparam("since"))
          .order_by(AlertRow.seq.desc()).limit(1))
_RECENT = select(AlertRow.first_at).where(
    AlertRow.tenant == bindparam("tenant"), AlertRow.customer_id == bindparam("customer_id"),
    AlertRow.first_at >= bindparam("since"), AlertRow.throttled.is_(False))
_INSERT = insert(AlertRow).returning(AlertRow.seq)


class RulesRow(Base):
    __tablename__ = "alert_rules"

    tenant: Mapped[str] = mapped_column(String(100), primary_key=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[Any] = mapped_column(UtcDateTime(), default=utcnow)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def alert_view(row: AlertRow) -> dict[str, Any]:
    return {
        "id": row.seq, "tenant": row.tenant, "kind": row.kind, "customer_id": row.customer_id,
        "interaction_id": row.interaction_id, "category": row.category, "severity": row.severity,
        "level": row.level, "quote": row.quote, "speaker": "customer", "team": row.team, "region": row.region,
        "channel": row.channel, "occurred_at": _iso(row.occurred_at), "count": row.count,
        "first_at": _iso(row.first_at), "last_at": _iso(row.last_at), "throttled": row.throttled,
        "acked_at": _iso(row.acked_at), "acked_by": row.acked_by, "rule_ids": list(row.rule_ids or []),
    }


def matches_filter(alert: dict[str, Any], *, tenant: str, teams: set[str] | None = None,
                   categories: set[str] | None = None, min_severity: int = 1, regions: set[str] | None = None,
                   customer_id: str | None = None) -> bool:
    if alert.get("tenant") != tenant:
        return False
    if teams and alert.get("team") not in teams:
        return False
    if regions and alert.get("region") not in regions:
        return False
    if categories and alert.get("category") not in categories:
        return False
    if customer_id and alert.get("customer_id") != customer_id:
        return False
    return int(alert.get("severity") or 1) >= min_severity or alert.get("level") == "P0"


class _Subscriber:
    __slots__ = ("loop", "queue", "predicate")

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[dict[str, Any]],
                 predicate: Callable[[dict[str, Any]], bool]) -> None:
        self.loop = loop
        self.queue = queue
        self.predicate = predicate


class AlertBus:
    """Fan-out of new alerts to live subscribers; thread-safe publish."""

    def __init__(self) -> None:
        self._subs: set[_Subscriber] = set()
        self._lock = threading.Lock()
        self.remote_publish: Callable[[dict[str, Any]], None] | None = None

    def subscribe(self, predicate: Callable[[dict[str, Any]], bool], maxsize: int = 1000) -> _Subscriber:
        sub = _Subscriber(asyncio.get_running_loop(), asyncio.Queue(maxsize=maxsize), predicate)
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: _Subscriber) -> None:
        with self._lock:
            self._subs.discard(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subs)

    def publish_local(self, alert: dict[str, Any]) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            if sub.predicate(alert):
                try:
                    sub.loop.call_soon_threadsafe(_offer, sub.queue, alert)
                except RuntimeError:  # the subscriber's loop is closed
                    self.unsubscribe(sub)

    def publish(self, alert: dict[str, Any]) -> None:
        self.publish_local(alert)
        if self.remote_publish is not None:
            try:
                self.remote_publish(alert)
            except Exception:  # noqa: BLE001 - the alert is stored; other replicas replay it from the DB
                logger.exception("remote alert publish failed")


def _offer(queue: asyncio.Queue[dict[str, Any]], alert: dict[str, Any]) -> None:
    try:
        queue.put_nowait(alert)
    except asyncio.QueueFull:  # a stalled client: it will resume from Last-Event-ID
        pass


class AlertEngine:
    def __init__(self, store: Store, bus: AlertBus, *, default_rules: AlertRules,
                 clock: Callable[[], datetime] = utcnow, max_attempts: int = 12,
                 redact: Callable[[str], str] | None = None) -> None:
        self.store = store
        self.bus = bus
        self.default_rules = default_rules
        self.clock = clock
        self.max_attempts = max_attempts
        self.redact = redact
        self._rules_cache: dict[str, tuple[float, AlertRules]] = {}
        self.on_new_alerts: list[Callable[[list[dict[str, Any]]], None]] = []

    @classmethod
    def from_file(cls, store: Store, bus: AlertBus, path: Any, **kw: Any) -> AlertEngine:
        return cls(store, bus, default_rules=load_rules(path), **kw)

    # ------------------------------------------------------------ rules

    def rules_for(self, tenant: str, session: Session | None = None) -> AlertRules:
        import time

        cached = self._rules_cache.get(tenant)
        if cached and time.monotonic() - cached[0] < 5.0:
            return cached[1]
        if session is None:
            with self.store.session() as s:
                row = s.get(RulesRow, tenant)
                data = row.rules if row else None
        else:
            row = session.get(RulesRow, tenant)
            data = row.rules if row else None
        rules = parse_rules(data, source="stored rules") if data else self.default_rules
        self._rules_cache[tenant] = (time.monotonic(), rules)
        return rules

    def set_rules(self, tenant: str, data: Any) -> AlertRules:
        rules = parse_rules(data)
        with self.store.session() as s:
            row = s.get(RulesRow, tenant)
            dumped = rules.model_dump(mode="json")
            if row is None:
                s.add(RulesRow(tenant=tenant, rules=dumped, updated_at=utcnow()))
            else:
                row.rules = dumped
                row.updated_at = utcnow()
        self._rules_cache.pop(tenant, None)
        return rules

    # ------------------------------------------------------------ raising

    def on_insert(self, session: Session, _seq: int, item: InteractionInput, result: dict[str, Any]) -> None:
        """Insert hook: runs inside the interaction's transaction."""
        rules = self.rules_for(item.tenant, session)
        candidates = evaluate_rules(result, rules, team=item.team, region=item.region)
        if not candidates:
            return
        now = self.clock()
        new: list[dict[str, Any]] = session.info.setdefault("new_alerts", [])
        for cand in candidates:
            view = self._raise(session, item, cand, rules, now)
            if view is not None:
                new.append(view)

    def _raise(self, session: Session, item: InteractionInput, cand: AlertCandidate, rules: AlertRules,
               now: datetime) -> dict[str, Any] | None:
        window_start = now - timedelta(seconds=rules.dedup_window_s)
        who = {"tenant": item.tenant, "customer_id": item.customer_id}
        existing = session.scalar(_DEDUP, {**who, "category": cand.category, "since": window_start})
        if existing is not None and cand.level != "P0":
            existing.count += 1
            existing.last_at = now
            return None
        recent = list(session.scalars(_RECENT, {**who, "since": now - timedelta(hours=1)}))
        is_throttled = cand.level != "P0" and throttled(recent, now, rules.max_per_customer_per_hour)
        quote = self.redact(cand.quote) if self.redact else cand.quote
        values = {"tenant": item.tenant, "customer_id": item.customer_id, "interaction_id": item.id,
                  "kind": cand.kind, "category": cand.category, "severity": cand.severity, "level": cand.level,
                  "quote": quote, "team": item.team, "region": item.region, "channel": item.channel,
                  "occurred_at": item.occurred_at, "count": 1, "first_at": now, "last_at": now,
                  "throttled": is_throttled, "rule_ids": list(cand.rule_ids), "acked_at": None, "acked_by": None}
        seq = session.connection().execute(_INSERT, values).scalar_one()
        row = AlertRow(seq=seq, **values)  # transient: only read by alert_view below
        view = alert_view(row)
        if not is_throttled:
            hooks = {w.id: w for w in rules.webhooks}
            for wid in cand.webhook_ids:
                hook = hooks.get(wid)
                if hook is None:
                    continue
                enqueue(session, tenant=item.tenant, kind="webhook", dedup_key=f"alert:{item.tenant}:{row.seq}:{wid}",
                        url=hook.url, secret=hook.secret, max_attempts=self.max_attempts,
                        payload=render_payload(hook.format, view), meta={"format": hook.format, "webhook": wid})
        return None if is_throttled else view

    def after_commit(self, info: dict[str, Any]) -> None:
        """Session after-commit: publish what the transaction raised."""
        new = info.pop("new_alerts", None)
        if not new:
            return
        for alert in new:
            self.bus.publish(alert)
        for cb in self.on_new_alerts:
            cb(new)

    # ------------------------------------------------------------ reading

    def list(self, tenant: str, *, customer_id: str | None = None, category: str | None = None,
             team: str | None = None, region: str | None = None, min_severity: int = 1, acked: bool | None = None,
             before: int | None = None, after: int | None = None, limit: int = 50,
             since: datetime | None = None) -> list[dict[str, Any]]:
        with self.store.session() as s:
            q = select(AlertRow).where(AlertRow.tenant == tenant)
            if customer_id:
                q = q.where(AlertRow.customer_id == customer_id)
            if category:
                q = q.where(AlertRow.category == category)
            if team:
                q = q.where(AlertRow.team == team)
            if region:
                q = q.where(AlertRow.region == region)
            if min_severity > 1:
                q = q.where((AlertRow.severity >= min_severity) | (AlertRow.level == "P0"))
            if acked is not None:
                q = q.where(AlertRow.acked_at.is_not(None) if acked else AlertRow.acked_at.is_(None))
            if since is not None:
                q = q.where(AlertRow.last_at >= since)
            if after is not None:
                q = q.where(AlertRow.seq > after).order_by(AlertRow.seq.asc())
            else:
                if before is not None:
                    q = q.where(AlertRow.seq < before)
                q = q.order_by(AlertRow.seq.desc())
            return [alert_view(r) for r in s.scalars(q.limit(limit))]

    def ack(self, tenant: str, alert_id: int, by: str | None) -> dict[str, Any] | None:
        with self.store.session() as s:
            row = s.get(AlertRow, alert_id)
            if row is None or row.tenant != tenant:
                return None
            if row.acked_at is None:
                row.acked_at = utcnow()
                row.acked_by = by
            s.flush()
            return alert_view(row)


def dumps_event(alert: dict[str, Any]) -> str:
    return json.dumps(alert, ensure_ascii=False, separators=(",", ":"))
