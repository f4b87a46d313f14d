"""The channel-agnostic conversation every ingest parser produces.

Every downstream stage (segmentation, risk detection, record fields, summaries) reads a
``Conversation`` of ``Turn``s and never the raw channel format, so WeChat, e-mail and call
transcripts share one path. ``Turn.text`` is always an exact substring of the text quotes must
refer to (the raw content, the decoded e-mail body, or one archive message's ``text.content``), so
a risk-signal quote taken from a turn is exactly what the customer wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = [
    "Speaker",
    "TurnKind",
    "Channel",
    "Format",
    "CHANNELS",
    "FORMATS",
    "Turn",
    "Conversation",
]

Speaker = Literal["rep", "customer", "unknown"]
TurnKind = Literal["text", "file", "image", "emotion", "voice", "video", "link", "revoke", "other"]
Channel = Literal["wechat", "email", "call", "meeting", "other"]
Format = Literal["wechat_archive_jsonl", "wechat_text", "eml", "call_transcript", "plain"]

CHANNELS: tuple[Channel, ...] = ("wechat", "email", "call", "meeting", "other")
FORMATS: tuple[Format, ...] = ("wechat_archive_jsonl", "wechat_text", "eml", "call_transcript", "plain")


@dataclass(frozen=True, slots=True)
class Turn:
    """One message or utterance.

    Attributes:
        index: position in the conversation, 0-based.
        speaker: who said it; ``unknown`` only when nothing could tell.
        text: the message text, an exact substring of the source (see ``source``).
        name: the speaker's display name, when the format gives one.
        at: when it was said (timezone-aware), when the format gives it.
        source: which text ``source_start``/``source_end`` index into: ``content`` (the raw
            input), ``body`` (a decoded e-mail body) or ``message`` (one archive message).
        source_start: offset of ``text`` in that source (code points).
        source_end: end offset (exclusive).
        role_inferred: True when ``speaker`` was guessed from content, not given by the format.
        kind: message type; non-text messages have an empty or descriptive ``text``.
        attachment: file name for ``file`` messages.
        message_id: the format's own id for the message (archive ``msgid``).
        media_keys: ids an attached media file may be named by (archive voice: msgid,
            sdkfileid, md5sum), so an uploaded recording can be matched to its message.
    """

    index: int
    speaker: Speaker
    text: str
    name: str | None = None
    at: datetime | None = None
    source: Literal["content", "body", "message"] = "content"
    source_start: int = 0
    source_end: int = 0
    role_inferred: bool = False
    kind: TurnKind = "text"
    attachment: str | None = None
    message_id: str | None = None
    media_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Conversation:
    """A parsed interaction.

    Attributes:
        channel: wechat / email / call / meeting / other.
        format: the input format it was parsed from.
        turns: the turns in time order (quoted e-mail history is *not* a turn).
        started_at: start of the interaction (``occurred_at``).
        roles_inferred: True when any turn's speaker was inferred from content.
        subject: e-mail subject, when there is one.
        quoted_history: quoted/forwarded e-mail history stripped from the new text; kept for
            attachment mentions only, never for risk signals.
        stripped: short labels of what cleaning removed (``signature``, ``disclaimer``,
            ``quoted_history`` …), for transparency in the result.
        warnings: non-fatal parse notes (skipped unknown message types, …).
        body: the decoded e-mail body that ``source="body"`` offsets index into.
    """

    channel: Channel
    format: Format
    turns: tuple[Turn, ...]
    started_at: datetime | None = None
    roles_inferred: bool = False
    subject: str | None = None
    quoted_history: str = ""
    stripped: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)
    body: str = ""

    @property
    def text_turns(self) -> tuple[Turn, ...]:
        """Turns with words in them: text messages, and voice messages once transcribed."""
        return tuple(t for t in self.turns if t.kind in ("text", "voice") and t.text.strip())

    @property
    def attachments(self) -> tuple[str, ...]:
        return tuple(t.attachment for t in self.turns if t.attachment)
