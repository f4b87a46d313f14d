"""Mapping from the internal ``Enrichment`` to the CRM record JSON (schema_version "1")."""

from __future__ import annotations

from typing import Any

from nlp_service.enrichment import Enrichment
from pipelines.lint import is_vague

__all__ = ["CONTENT_FIELDS", "to_record_json", "fill_status", "iso"]

CONTENT_FIELDS = (
    "summary", "key_statements", "blocker", "next_action", "support_needed", "risk_signals",
    "competitors", "customer_questions", "rejection_reason", "attachments",
)


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def fill_status(record: dict[str, Any], *, roles_inferred: bool = False) -> dict[str, Any]:
    """Which fields are filled, empty, or need a human look, and the filled ratio."""
    filled, empty, review = [], [], []
    for name in CONTENT_FIELDS:
        value = record.get(name)
        (filled if value not in (None, "", [], {}) else empty).append(name)
    blocker = record.get("blocker")
    if blocker and is_vague(blocker.get("text")):
        review.append("blocker")
    action = record.get("next_action")
    if action and (is_vague(action.get("text")) or not action.get("due")):
        review.append("next_action")
    if any(not (s.get("department") and s.get("person")) for s in record.get("support_needed") or []):
        review.append("support_needed")
    if roles_inferred and record.get("risk_signals"):
        review.append("risk_signals")  # who said it was guessed from content
    return {"filled": filled, "empty": empty, "needs_review": review,
            "ratio": round(len(filled) / len(CONTENT_FIELDS), 3)}


def to_record_json(e: Enrichment) -> dict[str, Any]:
    item, conv, fields = e.interaction, e.conversation, e.fields
    record: dict[str, Any] = {
        "summary": e.summary.text,
        "key_statements": [{"speaker": k.speaker, "text": k.text, "turn": k.turn} for k in e.summary.key_statements],
        "blocker": {"text": fields.blocker.text, "level": fields.blocker.level} if fields.blocker else None,
        "next_action": ({"text": fields.next_action.text, "due": fields.next_action.due}
                        if fields.next_action else None),
        "support_needed": [{"department": s.department, "person": s.person, "request": s.request, "due": s.due}
                           for s in fields.support_needed],
        "risk_signals": [
            {"category": s.category, "quote": s.quote, "speaker": s.speaker, "turn": s.turn, "start": s.start,
             "end": s.end, "confidence": round(s.confidence, 3), "severity": s.severity, "method": s.method,
             "entry_id": s.entry_id}
            for s in e.signals
        ],
        "competitors": list(fields.competitors),
        "customer_questions": list(fields.customer_questions),
        "rejection_reason": fields.rejection_reason,
        "attachments": list(fields.attachments),
    }
    fill = fill_status(record, roles_inferred=conv.roles_inferred)
    for name in fields.needs_review:
        if name not in fill["needs_review"]:
            fill["needs_review"].append(name)
    return {
        "interaction_id": item.id,
        "customer_id": item.customer_id,
        "channel": item.channel,
        "occurred_at": item.occurred_at.isoformat(),
        "schema_version": "1",
        "record": record,
        "fill": fill,
        "conversation": {
            "turns": [{"speaker": t.speaker, "name": t.name, "at": iso(t.at), "text": t.text, "kind": t.kind,
                       "role_inferred": t.role_inferred, "attachment": t.attachment} for t in conv.turns],
            "roles_inferred": conv.roles_inferred,
            "subject": conv.subject,
            "stripped": list(conv.stripped),
        },
        "keywords": list(e.keywords),
        "timings_ms": dict(e.timings_ms),
        "versions": dict(e.versions),
    }
