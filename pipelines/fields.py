"""CRM record fields from a conversation and its risk signals.

The promise to the rep is a record that is 80%+ filled, whose three must-have fields are never
vague: the customer's blocker in plain words (with a P0–P3 level), the next action with an exact
time, and the support needed from a named department and person. Around them: the customer's
questions, competitors, a rejection reason and attachments.

Pure functions over ``Conversation`` + ``RiskSignal``s; the extractors live in
``pipelines.record_fields`` (one module per field) and share one ``Analysis`` of the
conversation (clauses with resolved time mentions). Fields that break the record rules
(``pipelines.lint``) are listed in ``RecordFields.needs_review``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from pipelines.conversation import Conversation
from pipelines.lint import is_vague
from pipelines.record_fields.actions import extract_next_action, extract_support, find_commitments
from pipelines.record_fields.blocker import extract_blocker, extract_rejection
from pipelines.record_fields.competitors import extract_competitors
from pipelines.record_fields.documents import extract_attachments
from pipelines.record_fields.lexicons import FieldLexiconError, FieldLexicons, load_field_lexicons
from pipelines.record_fields.questions import extract_questions
from pipelines.record_fields.text import analyse
from pipelines.record_fields.types import (
    Blocker,
    Level,
    NextAction,
    RecordFields,
    SignalLike,
    SupportRequest,
    TimeFinder,
)

__all__ = [
    "Level",
    "Blocker",
    "NextAction",
    "SupportRequest",
    "RecordFields",
    "FieldLexicons",
    "FieldLexiconError",
    "load_field_lexicons",
    "extract_fields",
]


def _review(fields: RecordFields, conversation: Conversation) -> tuple[str, ...]:
    review: list[str] = []
    if fields.blocker is not None and (is_vague(fields.blocker.text) or conversation.roles_inferred):
        review.append("blocker")
    action = fields.next_action
    if action is not None and (is_vague(action.text) or not action.due):
        review.append("next_action")
    if any(not (s.department and s.person) for s in fields.support_needed):
        review.append("support_needed")
    return tuple(review)


def extract_fields(
    conversation: Conversation,
    signals: Sequence[SignalLike],
    *,
    reference: datetime,
    lexicons: FieldLexicons,
    find_times: TimeFinder | None = None,
) -> RecordFields:
    """Fill the record's content fields.

    Args:
        conversation: the parsed interaction.
        signals: risk signals (``pipelines.keywords.RiskSignal``) for the conversation, both
            speakers; the customer's count first, the rep's restatements only without them.
        reference: the interaction's time (``occurred_at``), for resolving relative dates.
        lexicons: competitor/document/department names (``load_field_lexicons``).
        find_times: ``pipelines.timeexpr.find_times`` or a stand-in; defaults to it.

    Returns:
        The fields, with ``needs_review`` naming those a human should check (a vague blocker or
        action, an action without a time, support without a department and person, a blocker
        whose speakers were guessed).
    """
    if find_times is None:
        from pipelines.timeexpr import find_times as default_find_times

        find_times = default_find_times
    simplified, back = _simplified(conversation)
    analysis = analyse(simplified, reference, find_times)
    commitments = find_commitments(analysis)
    competitors = extract_competitors(analysis, lexicons)
    fields = RecordFields(
        blocker=extract_blocker(analysis, signals, lexicons, competitors),
        next_action=extract_next_action(analysis, lexicons, commitments),
        support_needed=extract_support(analysis, lexicons, commitments),
        customer_questions=extract_questions(analysis, lexicons),
        competitors=competitors,
        rejection_reason=extract_rejection(analysis, signals, competitors),
        attachments=extract_attachments(analysis, lexicons),
    )
    if back:
        fields = _in_original_script(fields, back, lexicons)
    review = _review(fields, conversation)
    if review:
        fields = replace(fields, needs_review=review)
    return fields


# ---------------------------------------------------------------- Traditional Chinese


def _simplified(conversation: Conversation) -> tuple[Conversation, dict[str, str]]:
    """The conversation in Simplified characters (same lengths, so offsets hold), and the map back
    from each changed character to the one the speaker wrote.

    The extractors' patterns and lexicons are Simplified; a Hong Kong or Taiwan customer writes
    報價/認證/區域經理. Only characters that map one way in this conversation are mapped back.
    """
    from pipelines.textnorm import to_simplified

    texts = [t.text for t in conversation.turns] + [conversation.quoted_history]
    joined = "\n".join(texts)
    if not joined or to_simplified(joined) == joined:
        return conversation, {}
    back: dict[str, str] = {}
    ambiguous: set[str] = set()
    kept: set[str] = set()

    def convert(text: str) -> str:
        if not text:
            return text
        out = to_simplified(text)
        if len(out) != len(text):  # a phrase conversion changed the length: go char by char
            out = "".join(c if len(c) == 1 else o for o, c in ((o, to_simplified(o)) for o in text))
        for o, n in zip(text, out, strict=True):
            if o == n:
                kept.add(n)
            elif back.setdefault(n, o) != o:
                ambiguous.add(n)
        return out

    turns = tuple(replace(t, text=convert(t.text)) for t in conversation.turns)
    quoted = convert(conversation.quoted_history)
    for ch in ambiguous | kept:
        back.pop(ch, None)
    return replace(conversation, turns=turns, quoted_history=quoted), back


def _in_original_script(fields: RecordFields, back: dict[str, str], lexicons: FieldLexicons) -> RecordFields:
    """Texts in the characters the speakers wrote; lexicon names (competitors, departments) stay
    canonical."""
    table = str.maketrans(back)

    def o(text: str | None) -> str | None:
        return text.translate(table) if text else text

    blocker = replace(fields.blocker, text=o(fields.blocker.text) or "") if fields.blocker else None
    action = replace(fields.next_action, text=o(fields.next_action.text) or "") if fields.next_action else None
    support = tuple(replace(s, person=o(s.person), request=o(s.request) or "") for s in fields.support_needed)
    return replace(
        fields, blocker=blocker, next_action=action, support_needed=support,
        customer_questions=tuple(o(q) or "" for q in fields.customer_questions),
        competitors=tuple(c if c in lexicons.competitor_aliases else o(c) or "" for c in fields.competitors),
        rejection_reason=o(fields.rejection_reason),
        attachments=tuple(o(a) or "" for a in fields.attachments),
    )
