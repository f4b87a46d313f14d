"""Ingest: every channel's raw format becomes one ``Conversation``.

``parse_content`` is the single entry point; it dispatches on the declared format and raises
``IngestError`` (with a stable code and the failing line or MIME part) for content that does not
parse as that format.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from pipelines.conversation import FORMATS, Channel, Conversation, Speaker, Turn
from pipelines.ingest.errors import IngestError
from pipelines.ingest.mail import parse_eml
from pipelines.ingest.transcript import parse_call_transcript
from pipelines.ingest.wechat import parse_wechat_archive, parse_wechat_text

__all__ = ["IngestError", "parse_content", "parse_plain", "decode_text"]


def decode_text(data: bytes) -> str:
    """Text files from Chinese systems: UTF-8 (with or without BOM), else GB18030.

    Raises:
        IngestError: ``unsupported-charset`` when neither decodes.
    """
    for charset in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            continue
    raise IngestError("the text is neither UTF-8 nor GB18030; re-send it as UTF-8", code="unsupported-charset")


def parse_plain(
    content: str, *, speaker: Speaker = "customer", channel: Channel = "other", started_at: datetime | None = None,
    name: str | None = None,
) -> Conversation:
    """Free text from one known speaker: one turn, the text trimmed of surrounding blanks."""
    start = len(content) - len(content.lstrip())
    text = content.strip()
    if not text:
        raise IngestError("the text is empty", code="empty-content")
    turn = Turn(index=0, speaker=speaker, text=text, name=name, at=started_at, source="content",
                source_start=start, source_end=start + len(text))
    return Conversation(channel=channel, format="plain", turns=(turn,), started_at=started_at)


def parse_content(
    fmt: str,
    content: str | bytes,
    *,
    channel: Channel,
    started_at: datetime | None = None,
    participants: Mapping[str, Mapping[str, object]] | None = None,
    our_domains: Iterable[str] = (),
    speaker: Speaker = "customer",
) -> Conversation:
    """Parse ``content`` as ``fmt``.

    Raises:
        IngestError: unknown format (``unsupported-format``), empty content, or content that does
            not parse as the format.
    """
    if fmt not in FORMATS:
        raise IngestError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", code="unsupported-format")
    if fmt == "eml":
        return parse_eml(content, participants=participants, our_domains=our_domains, channel=channel,
                         started_at=started_at)
    if isinstance(content, bytes):
        content = decode_text(content)
    if not content.strip():
        raise IngestError("content is empty", code="empty-content")
    if fmt == "wechat_archive_jsonl":
        return parse_wechat_archive(content, participants=participants, channel=channel, started_at=started_at)
    if fmt == "wechat_text":
        return parse_wechat_text(content, participants=participants, channel=channel, started_at=started_at)
    if fmt == "call_transcript":
        return parse_call_transcript(content, channel=channel, started_at=started_at)
    return parse_plain(content, speaker=speaker, channel=channel, started_at=started_at)
