"""CRM record fields from a conversation and its risk signals (first rules).

Pure functions over ``Conversation`` + ``RiskSignal``s: the blocker and its P level, the rep's
next action with a resolved due time, support needed from colleagues, the customer's
questions, competitors, a rejection reason and attachments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pipelines.conversation import Conversation, Turn
from pipelines.segment import Span, split_clauses, split_sentences

__all__ = [
    "Level",
    "Blocker",
    "NextAction",
    "SupportRequest",
    "RecordFields",
    "FieldLexicons",
    "load_field_lexicons",
    "extract_fields",
]

Level = Literal["P0", "P1", "P2", "P3"]
_LEXICONS = Path(__file__).resolve().parent.parent / "lexicons"


@dataclass(frozen=True, slots=True)
class Blocker:
    text: str
    level: Level
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class NextAction:
    text: str
    due: str | None
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class SupportRequest:
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


@dataclass(frozen=True, slots=True)
class FieldLexicons:
    competitors: tuple[str, ...]
    documents: tuple[str, ...]
    departments: dict[str, str]  # alias -> canonical


def _read_list(path: Path) -> tuple[str, ...]:
    if not path.exists():
        return ()
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return tuple(out)


def load_field_lexicons(directory: Path | None = None) -> FieldLexicons:
    d = directory or _LEXICONS
    departments: dict[str, str] = {}
    for line in _read_list(d / "departments.txt"):
        canonical, _, aliases = line.partition(":")
        canonical = canonical.strip()
        departments[canonical] = canonical
        for a in aliases.split(","):
            if a.strip():
                departments[a.strip()] = canonical
    return FieldLexicons(_read_list(d / "competitors.txt"), _read_list(d / "documents.txt"), departments)


# ---------------------------------------------------------------- helpers

TimeFinder = Callable[[str, datetime], Sequence[object]]

_LEVEL_BY_CATEGORY: dict[str, Level] = {
    "churn": "P1", "payment": "P1", "budget": "P1", "procurement": "P1", "competitor": "P1",
    "price": "P2", "decision_delay": "P2", "trust": "P2",
}
_LEVEL_RANK = {"P0": 0, "P1": 1, "P2": 2, "P3": 3}
_COMMIT = re.compile(
    r"(我|我们|我这边|我们这边|我司|咱们)(?:.{0,12}?)(发|寄|送|提供|准备|安排|整理|出|做|给您|联系|打电话|回复|确认|过去|上门|拜访|申请|约)"
)
_REP_INTERNAL = re.compile(r"(找|请|让|申请|协调|问问|汇报|报给|批)")
_QUESTION = re.compile(r"[？?]|(吗|么|能不能|可不可以|是否|有没有|多少|几[个天家]|怎么|哪|什么时候|多久)")


def _sentence_of(text: str, start: int, end: int) -> Span:
    for s in split_sentences(text):
        if s.start <= start < s.end:
            return s
    return Span(text[start:end], start, end)


def _clause_of(text: str, start: int, end: int) -> Span:
    for s in split_clauses(text):
        if s.start <= start < s.end:
            return s
    return Span(text[start:end], start, end)


def _due_of(text: str, reference: datetime, find_times: TimeFinder | None) -> str | None:
    if find_times is None:
        return None
    mentions = list(find_times(text, reference))
    if not mentions:
        return None
    best = min(mentions, key=lambda m: getattr(m, "value"))
    return str(best.due())  # type: ignore[attr-defined]


# ---------------------------------------------------------------- fields


def _blocker(turns: Sequence[Turn], signals: Sequence[object]) -> Blocker | None:
    ranked = []
    for s in signals:
        if getattr(s, "speaker", "customer") not in ("customer", "unknown", "rep"):
            continue
        level = _LEVEL_BY_CATEGORY.get(getattr(s, "category"), "P2")
        if getattr(s, "severity", 2) >= 3 and getattr(s, "category") in ("churn", "payment"):
            level = "P0"
        ranked.append((_LEVEL_RANK[level], getattr(s, "turn"), level, s))
    if not ranked:
        return None
    ranked.sort(key=lambda r: (r[0], r[1]))
    _, turn_idx, level, s = ranked[0]
    turn = next((t for t in turns if t.index == turn_idx), None)
    text = getattr(s, "quote")
    if turn is not None:
        text = _clause_of(turn.text, getattr(s, "start"), getattr(s, "end")).text
    return Blocker(text=text, level=level, turn=turn_idx)


def _next_action(turns: Sequence[Turn], reference: datetime, find_times: TimeFinder | None) -> NextAction | None:
    best: tuple[str, NextAction] | None = None
    for t in turns:
        if t.speaker != "rep" or t.kind != "text":
            continue
        for sent in split_sentences(t.text):
            if not _COMMIT.search(sent.text):
                continue
            due = _due_of(sent.text, reference, find_times)
            action = NextAction(text=sent.text, due=due, turn=t.index)
            key = due or "9999"
            if best is None or key < best[0]:
                best = (key, action)
    return best[1] if best else None


def _support(turns: Sequence[Turn], lex: FieldLexicons, reference: datetime,
             find_times: TimeFinder | None) -> tuple[SupportRequest, ...]:
    out: list[SupportRequest] = []
    seen: set[str] = set()
    aliases = sorted(lex.departments, key=len, reverse=True)
    for t in turns:
        if t.speaker != "rep" or t.kind != "text":
            continue
        for sent in split_sentences(t.text):
            dept = next((lex.departments[a] for a in aliases if a in sent.text), None)
            person_m = re.search(r"([\u4e00-\u9fff]{1,2}(总|工|经理|主管|总监))", sent.text)
            person = person_m.group(1) if person_m else None
            if not dept and not person:
                continue
            if not _REP_INTERNAL.search(sent.text):
                continue
            key = dept or person or ""
            if key in seen:
                continue
            seen.add(key)
            out.append(SupportRequest(department=dept, person=person, request=sent.text,
                                      due=_due_of(sent.text, reference, find_times), turn=t.index))
    return tuple(out)


def _questions(turns: Sequence[Turn]) -> tuple[str, ...]:
    out = []
    for t in turns:
        if t.speaker == "rep" or t.kind != "text":
            continue
        for c in split_sentences(t.text):
            if _QUESTION.search(c.text) and len(c.text) >= 4:
                out.append(c.text.rstrip("？?。 "))
    return tuple(dict.fromkeys(out))


def _competitors(turns: Sequence[Turn], lex: FieldLexicons) -> tuple[str, ...]:
    found: list[str] = []
    text = "\n".join(t.text for t in turns)
    for name in sorted(lex.competitors, key=len, reverse=True):
        if name in text and not any(name in f for f in found):
            found.append(name)
    return tuple(found)


def _attachments(conversation: Conversation, lex: FieldLexicons) -> tuple[str, ...]:
    found: list[str] = [a for a in conversation.attachments]
    text = "\n".join(t.text for t in conversation.turns) + "\n" + conversation.quoted_history
    for doc in sorted(lex.documents, key=len, reverse=True):
        if doc in text and not any(doc in f for f in found):
            found.append(doc)
    return tuple(dict.fromkeys(found))


_REJECT = re.compile(r"(不考虑|不合作|不续|决定(不|选)|选择了|放弃|暂停合作|不再|先不(签|做|买|续))")


def _rejection(turns: Sequence[Turn]) -> str | None:
    for t in turns:
        if t.speaker != "customer" or t.kind != "text":
            continue
        for s in split_sentences(t.text):
            if _REJECT.search(s.text):
                return s.text
    return None


def extract_fields(
    conversation: Conversation,
    signals: Sequence[object],
    *,
    reference: datetime,
    lexicons: FieldLexicons,
    find_times: TimeFinder | None = None,
) -> RecordFields:
    """Fill the record's content fields.

    Args:
        conversation: the parsed interaction.
        signals: risk signals (``pipelines.keywords.RiskSignal``) for the conversation.
        reference: the interaction's time, for resolving relative dates.
        lexicons: competitor/document/department names.
        find_times: ``pipelines.timeexpr.find_times`` (injected to keep this module light).
    """
    turns = conversation.text_turns
    blocker = _blocker(turns, [s for s in signals if getattr(s, "speaker", "") == "customer"]
                       or list(signals))
    return RecordFields(
        blocker=blocker,
        next_action=_next_action(turns, reference, find_times),
        support_needed=_support(turns, lexicons, reference, find_times),
        customer_questions=_questions(turns),
        competitors=_competitors(turns, lexicons),
        rejection_reason=_rejection(turns),
        attachments=_attachments(conversation, lexicons),
    )
