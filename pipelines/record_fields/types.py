"""The record-field dataclasses (re-exported by ``pipelines.fields``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

__all__ = [
    "Level",
    "LEVELS",
    "Blocker",
    "NextAction",
    "SupportRequest",
    "RecordFields",
    "SignalLike",
    "TimeFinder",
]

Level = Literal["P0", "P1", "P2", "P3"]
LEVELS: tuple[Level, ...] = ("P0", "P1", "P2", "P3")


@dataclass(frozen=True, slots=True)
class Blocker:
    """The customer's current sticking point.

    Attributes:
        text: the customer's own words (the clauses that carry the blocker, most severe first).
        level: P0 (deal about to be lost) .. P3 (a document or small question).
        turn: ``Turn.index`` of the main clause.
    """

    text: str
    level: Level
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class NextAction:
    """The rep's earliest concrete commitment toward the customer.

    Attributes:
        text: the commitment in the rep's words, with what is to be sent when the rep's words
            leave it implicit ("好的，今天下午发您" + what the customer asked for).
        due: ``YYYY-MM-DDTHH:MM:SS+08:00`` when a clock time was said, ``YYYY-MM-DD`` for a day,
            ``None`` when no time was given.
        turn: ``Turn.index`` it was said in.
    """

    text: str
    due: str | None
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class SupportRequest:
    """Help the rep needs from a colleague."""

    department: str | None
    person: str | None
    request: str
    due: str | None
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class RecordFields:
    blocker: Blocker | None
    next_action: NextAction | None
    support_needed: tuple[SupportRequest, ...]
    customer_questions: tuple[str, ...]
    competitors: tuple[str, ...]
    rejection_reason: str | None
    attachments: tuple[str, ...]
    needs_review: tuple[str, ...] = ()


class SignalLike(Protocol):
    """What the extractors read from a ``pipelines.keywords.RiskSignal``."""

    @property
    def category(self) -> str: ...

    @property
    def quote(self) -> str: ...

    @property
    def speaker(self) -> str: ...

    @property
    def turn(self) -> int: ...

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...

    @property
    def severity(self) -> int: ...


TimeFinder = Callable[[str, datetime], Sequence[object]]
