"""From the API edge model to the pipeline's input."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from nlp_service.enrichment import InteractionInput
from nlp_service.schemas import InteractionIn

__all__ = ["to_input", "aware"]


def aware(value: datetime, tz_name: str) -> datetime:
    """A timestamp without an offset is taken in the configured zone (Asia/Shanghai by default)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(tz_name))


def to_input(model: InteractionIn, *, tz_name: str = "Asia/Shanghai", raw: str | bytes | None = None,
             tenant: str = "default") -> InteractionInput:
    participants = ({k: v.model_dump() for k, v in model.participants.items()}
                    if model.participants else None)
    return InteractionInput(
        id=model.id, channel=model.channel, format=model.format, customer_id=model.customer_id,
        occurred_at=aware(model.occurred_at, tz_name), content=model.content if raw is None else raw,
        participants=participants, speaker=model.speaker, team=model.team, region=model.region,
        rep_id=model.rep_id, tenant=tenant,
    )
