"""「同步最新沟通」: merge a customer's new interactions into one draft record.

Newest facts win: a single-valued field (blocker, next action, rejection reason, summary) comes
from the newest interaction that has it; list fields are the de-duplicated union, newest first.
Every field names the interaction(s) it came from, so the rep can check a value at its source.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nlp_service.record import CONTENT_FIELDS, fill_status

__all__ = ["merge_results", "timeline_entry"]

_SINGLE = ("blocker", "next_action", "rejection_reason")
_LISTS = ("competitors", "customer_questions", "attachments")


def _key(value: Any) -> str:
    if isinstance(value, dict):
        return "|".join(str(value.get(k)) for k in ("department", "person", "category", "quote", "text"))
    return str(value).strip().lower()


def merge_results(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Merge stored results (any order) into one draft; newest ``occurred_at`` wins."""
    ordered = sorted(results, key=lambda r: (r.get("occurred_at") or "", r.get("interaction_id") or ""),
                     reverse=True)
    record: dict[str, Any] = {}
    sources: dict[str, Any] = {}
    for name in _SINGLE:
        record[name] = None
        sources[name] = None
        for r in ordered:
            value = (r.get("record") or {}).get(name)
            if value:
                record[name] = value
                sources[name] = r["interaction_id"]
                break
    # Summary: the newest interaction's, then one line per older interaction (newest first).
    summaries = [(r["interaction_id"], (r.get("record") or {}).get("summary") or "") for r in ordered]
    summaries = [(i, s) for i, s in summaries if s]
    record["summary"] = "；".join(s for _, s in summaries[:3])
    sources["summary"] = [i for i, _ in summaries[:3]]
    for name in (*_LISTS, "support_needed", "risk_signals", "key_statements"):
        seen: set[str] = set()
        items: list[Any] = []
        origin: list[str] = []
        for r in ordered:
            for value in (r.get("record") or {}).get(name) or []:
                k = _key(value)
                if k in seen:
                    continue
                seen.add(k)
                if isinstance(value, dict):
                    value = {**value, "interaction_id": r["interaction_id"]}
                items.append(value)
                origin.append(r["interaction_id"])
        if name == "key_statements":
            items = items[:5]
            origin = origin[:5]
        record[name] = items
        sources[name] = origin
    record = {k: record[k] for k in CONTENT_FIELDS}
    return {"record": record, "sources": sources, "fill": fill_status(record)}


def timeline_entry(result: dict[str, Any]) -> dict[str, Any]:
    rec = result.get("record") or {}
    blocker = rec.get("blocker") or {}
    return {
        "interaction_id": result.get("interaction_id"),
        "occurred_at": result.get("occurred_at"),
        "channel": result.get("channel"),
        "summary": rec.get("summary"),
        "key_statements": rec.get("key_statements") or [],
        "risk_signals": [s for s in rec.get("risk_signals") or []],
        "attachments": rec.get("attachments") or [],
        "blocker_level": blocker.get("level"),
        "next_action": rec.get("next_action"),
    }
