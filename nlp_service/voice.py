"""WeChat voice messages: transcribe the attached recordings into their archive turns.

An archive ``voice`` message names its media (``msgid``, ``sdkfileid``, ``md5sum``); the CRM
uploads the recordings alongside the archive, each file named by one of those keys. Each match
goes through the same Transcriber as call recordings (mono; the sender's role comes from the
archive), and its text becomes the turn's text, so the rest of the pipeline treats it like a
typed message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from pipelines.conversation import Conversation

__all__ = ["media_index", "transcribe_voice_turns"]


def media_index(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """Map each uploaded file by its name and its name without extension."""
    out: dict[str, bytes] = {}
    for name, data in files.items():
        out[name] = data
        out[PurePath(name).stem] = data
    return out


def transcribe_voice_turns(conversation: Conversation, media: Mapping[str, bytes], transcriber: Any
                           ) -> tuple[Conversation, list[str]]:
    """Returns the conversation with voice turns transcribed, and the keys of voice messages
    that had no uploaded recording (they stay as empty voice turns)."""
    turns = list(conversation.turns)
    missing: list[str] = []
    changed = False
    for i, turn in enumerate(turns):
        if turn.kind != "voice" or turn.text.strip():
            continue
        data = next((media[k] for k in turn.media_keys if k in media), None)
        if data is None:
            missing.append(turn.message_id or "?")
            continue
        transcript = transcriber.transcribe(data, layout="mono")
        text = transcript.text
        turns[i] = dataclasses.replace(turn, text=text, source="message", source_start=0, source_end=len(text))
        changed = True
    if not changed:
        return conversation, missing
    return dataclasses.replace(conversation, turns=tuple(turns)), missing
