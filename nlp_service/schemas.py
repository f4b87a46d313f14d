"""API edge schemas (pydantic). Internals are dataclasses; mapping happens in ``record.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipelines.conversation import CHANNELS, FORMATS

__all__ = [
    "Participant",
    "InteractionIn",
    "DetectIn",
    "RiskSignalOut",
    "KeyStatementOut",
    "BlockerOut",
    "NextActionOut",
    "SupportOut",
    "RecordOut",
    "FillOut",
    "TurnOut",
    "ConversationOut",
    "EnrichmentOut",
    "InteractionPage",
    "Health",
]

ChannelName = Literal["wechat", "email", "call", "meeting", "other"]
FormatName = Literal["wechat_archive_jsonl", "wechat_text", "eml", "call_transcript", "plain"]
assert set(ChannelName.__args__) == set(CHANNELS)  # type: ignore[attr-defined]
assert set(FormatName.__args__) == set(FORMATS)  # type: ignore[attr-defined]


class Participant(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")
    name: str | None = None
    role: Literal["rep", "customer"]


class InteractionIn(BaseModel):
    """One interaction as a CRM posts it (also one line of ``nlp-service enrich --jsonl``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_max_length=50_000_000)

    id: str = Field(min_length=1, max_length=200, description="The CRM's interaction id; makes posts idempotent.")
    channel: ChannelName
    format: FormatName
    customer_id: str = Field(min_length=1, max_length=200)
    occurred_at: datetime = Field(description="Start of the interaction, ISO 8601; without an offset, +08:00.")
    participants: dict[str, Participant] | None = Field(
        None, description="wechat_archive_jsonl: userid → {name, role}; eml: address or domain → {role}.")
    content: str = Field(description="The raw content exactly as delivered.")
    speaker: Literal["rep", "customer"] = Field("customer", description="format plain: who wrote the text.")
    team: str | None = Field(None, max_length=200, description="Sales team, for alert routing.")
    region: str | None = Field(None, max_length=200, description="Sales region, for alert routing.")
    rep_id: str | None = Field(None, max_length=200)

    @field_validator("id", "customer_id")
    @classmethod
    def _no_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v


class DetectIn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str
    text: str
    speaker: Literal["rep", "customer", "unknown"] = "customer"


class RiskSignalOut(BaseModel):
    category: str
    quote: str
    speaker: str
    turn: int
    start: int
    end: int
    confidence: float
    severity: int | None = None
    method: str | None = None
    entry_id: str | None = None


class KeyStatementOut(BaseModel):
    speaker: str
    text: str
    turn: int


class BlockerOut(BaseModel):
    text: str
    level: Literal["P0", "P1", "P2", "P3"]
    source_interaction: str | None = None


class NextActionOut(BaseModel):
    text: str
    due: str | None
    source_interaction: str | None = None


class SupportOut(BaseModel):
    department: str | None
    person: str | None
    request: str
    due: str | None


class RecordOut(BaseModel):
    summary: str
    key_statements: list[KeyStatementOut]
    blocker: BlockerOut | None
    next_action: NextActionOut | None
    support_needed: list[SupportOut]
    risk_signals: list[RiskSignalOut]
    competitors: list[str]
    customer_questions: list[str]
    rejection_reason: str | None
    attachments: list[str]


class FillOut(BaseModel):
    filled: list[str]
    empty: list[str]
    needs_review: list[str]
    ratio: float


class TurnOut(BaseModel):
    speaker: str
    name: str | None
    at: str | None
    text: str
    kind: str = "text"
    role_inferred: bool = False
    attachment: str | None = None


class ConversationOut(BaseModel):
    turns: list[TurnOut]
    roles_inferred: bool = False
    subject: str | None = None
    stripped: list[str] = []


class EnrichmentOut(BaseModel):
    """The draft CRM interaction record (schema_version "1")."""

    interaction_id: str
    customer_id: str
    channel: str
    occurred_at: str
    schema_version: Literal["1"] = "1"
    record: RecordOut
    fill: FillOut
    conversation: ConversationOut
    keywords: list[str]
    timings_ms: dict[str, float]
    versions: dict[str, Any]


class InteractionPage(BaseModel):
    items: list[EnrichmentOut]
    next_cursor: str | None
    total: int


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    store: str
