"""The conversation cut into clauses with resolved time mentions, computed once per record.

Every extractor reads the same ``Analysis``: text turns split into sentences and clauses (offsets
into ``Turn.text``) and the time mentions of each sentence, resolved against the interaction's
``occurred_at``. Time expressions are looked for per sentence, never on raw transcript lines, so
WeChat/transcript stamps cannot match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from pipelines.conversation import Conversation, Turn
from pipelines.record_fields.types import TimeFinder
from pipelines.segment import Span, split_clauses, split_sentences

__all__ = ["Due", "Clause", "TurnView", "Analysis", "analyse", "CJK"]

CJK = r"\u4e00-\u9fff"

# Mentions too vague to be a due ("今年", "年后", "下个月"): a record needs a day.
_VAGUE_TIME = re.compile(
    r"^(?:今年|明年|去年|年后|年前|过年前?|过完年|节后|春节后|年底|年初|年末|明年初|下个?月|这个?月|"
    r"上半年|下半年|[一二三四1-4]季度|下个?季度|近期|最近|以后|之后|后面)(?:前|之前|以前|内|之内)?$"
)
# A bare part of day or clock time ("下午", "三点前"): it belongs to the day said before it.
_BARE_PART = re.compile(r"^(?:上午|下午|中午|晚上|傍晚|早上|早晨|晚些|下班)")
_DAY_WORD = re.compile(r"今|明|后天|昨|[周礼拜星期]|[0-9一二三四五六七八九十]+[日号]|月|年|节|底|初|旬")


@dataclass(frozen=True, slots=True)
class Due:
    """A resolved time mention.

    Attributes:
        text: the words as said.
        start: offset in the turn's text.
        end: end offset in the turn's text.
        day: the resolved day.
        clock: the clock time, when one was said (``中午`` = 12:00).
        deadline: a due-by ("前", "之前", "内").
        tz: the reference's tzinfo, for ``iso()``.
    """

    text: str
    start: int
    end: int
    day: date
    clock: time | None
    deadline: bool
    tz: Any = None

    def iso(self) -> str:
        """``YYYY-MM-DDTHH:MM:SS+08:00`` with a clock time, else ``YYYY-MM-DD``."""
        if self.clock is None:
            return self.day.isoformat()
        return datetime.combine(self.day, self.clock, tzinfo=self.tz).isoformat(timespec="seconds")

    @property
    def sort_key(self) -> tuple[date, time]:
        # A bare day is due by its end: "18:00 today" comes before "today".
        return (self.day, self.clock or time(23, 59, 59))


@dataclass(frozen=True, slots=True)
class Clause:
    """One clause of a turn.

    Attributes:
        turn: ``Turn.index``.
        position: order of the turn among the text turns (0-based).
        speaker: the turn's speaker.
        text: the clause, ``turn_text[start:end]``.
        start: offset in the turn's text.
        end: end offset.
        sentence: ordinal of its sentence within the turn.
        sentence_text: the whole sentence.
        times: time mentions inside the clause.
    """

    turn: int
    position: int
    speaker: str
    text: str
    start: int
    end: int
    sentence: int
    sentence_text: str
    times: tuple[Due, ...]


@dataclass(frozen=True, slots=True)
class TurnView:
    turn: Turn
    position: int
    clauses: tuple[Clause, ...]
    times: tuple[Due, ...]


@dataclass(frozen=True, slots=True)
class Analysis:
    conversation: Conversation
    reference: datetime
    turns: tuple[TurnView, ...]

    @property
    def clauses(self) -> tuple[Clause, ...]:
        return tuple(c for t in self.turns for c in t.clauses)

    def by_speaker(self, *speakers: str) -> tuple[Clause, ...]:
        return tuple(c for t in self.turns if t.turn.speaker in speakers for c in t.clauses)

    def view(self, turn_index: int) -> TurnView | None:
        for t in self.turns:
            if t.turn.index == turn_index:
                return t
        return None


# A bare clock time ("十点到您车间可以吗"): in a reply it belongs to the day just asked about.
_BARE_CLOCK = re.compile(r"^(?:[零一二两三四五六七八九十]{1,3}|\d{1,2})(?:点|:|：)")


def _to_due(m: Any, offset: int, reference: datetime, previous: Due | None,
            earlier: Due | None = None) -> Due | None:
    text = str(m.text)
    core = text
    if _VAGUE_TIME.match(core):
        return None
    value: datetime = m.value
    clock = value.timetz().replace(tzinfo=None) if m.granularity == "datetime" else None
    day = value.date()
    if day < reference.date():
        return None  # "上周已经验收完了": a past day is never a due
    # "明天上午把方案报给大区 下午给您回电话": the bare 下午 is tomorrow afternoon.
    if (previous is not None and day == reference.date() and previous.day != day
            and _BARE_PART.match(text) and not _DAY_WORD.search(text.replace("下班", ""))):
        day = previous.day
    elif (previous is None and earlier is not None and day == reference.date() and earlier.day > day
          and _BARE_CLOCK.match(text) and not _DAY_WORD.search(text)):
        day = earlier.day  # "明天上午几点？" – "十点到您车间可以吗"
    return Due(text, offset + int(m.start), offset + int(m.end), day, clock, bool(m.deadline), reference.tzinfo)


def _clauses(text: str) -> list[Span]:
    """``split_clauses``, but a clock time ("17:00", "9：30") is never cut at its colon."""
    out: list[Span] = []
    for cl in split_clauses(text):
        if out and out[-1].text[-1:].isdigit() and cl.text[:1].isdigit() \
                and text[out[-1].end:cl.start] in (":", "："):
            prev = out.pop()
            cl = Span(text[prev.start:cl.end], prev.start, cl.end)
        out.append(cl)
    return out


def _turn_view(turn: Turn, position: int, reference: datetime, find_times: TimeFinder,
               earlier: Due | None = None) -> TurnView:
    """``earlier``: the last day named in the turn or two before, for a bare clock time in a reply."""
    clauses: list[Clause] = []
    times: list[Due] = []
    previous: Due | None = None
    for n, sent in enumerate(split_sentences(turn.text)):
        sent_times: list[Due] = []
        for m in find_times(sent.text, reference):
            due = _to_due(m, sent.start, reference, previous, earlier)
            if due is not None:
                sent_times.append(due)
                previous = due
        times.extend(sent_times)
        for cl in _clauses(sent.text):
            start, end = sent.start + cl.start, sent.start + cl.end
            inside = tuple(d for d in sent_times if d.start < end and d.end > start)
            clauses.append(Clause(turn.index, position, turn.speaker, cl.text, start, end, n, sent.text, inside))
    return TurnView(turn, position, tuple(clauses), tuple(times))


def analyse(conversation: Conversation, reference: datetime, find_times: TimeFinder) -> Analysis:
    """Cut the text turns of ``conversation`` into clauses and resolve their time mentions."""
    views: list[TurnView] = []
    for i, t in enumerate(conversation.text_turns):
        recent = [d for v in views[-2:] for d in v.times]
        views.append(_turn_view(t, i, reference, find_times, recent[-1] if recent else None))
    return Analysis(conversation, reference, tuple(views))


def window(text: str, start: int, end: int, before: int, after: int) -> str:
    """``text[start-before:end+after]`` clipped to the text."""
    return text[max(0, start - before): min(len(text), end + after)]


def clauses_of(views: Sequence[TurnView]) -> tuple[Clause, ...]:
    return tuple(c for v in views for c in v.clauses)
