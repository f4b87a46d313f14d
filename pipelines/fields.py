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
    analysis = analyse(conversation, reference, find_times)
    commitments = find_commitments(analysis)
    fields = RecordFields(
        blocker=extract_blocker(analysis, signals, lexicons),
        next_action=extract_next_action(analysis, lexicons, commitments),
        support_needed=extract_support(analysis, lexicons, commitments),
        customer_questions=extract_questions(analysis),
        competitors=extract_competitors(analysis, lexicons),
        rejection_reason=extract_rejection(analysis, signals),
        attachments=extract_attachments(analysis, lexicons),
    )
    review = _review(fields, conversation)
    if review:
        from dataclasses import replace

        fields = replace(fields, needs_review=review)
    return fields
