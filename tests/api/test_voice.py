"""A WeChat archive voice message with its recording goes through the call ASR path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import AUDIO


def _archive() -> str:
    base = 1772416800000  # 2026-03-02 10:00:00 +08:00
    msgs = [
        {"msgid": "t1", "action": "send", "from": "wmCustomer0000000001", "tolist": ["rep01"], "roomid": "",
         "msgtime": base, "msgtype": "text", "text": {"content": "我发段语音给你"}},
        {"msgid": "v1", "action": "send", "from": "wmCustomer0000000001", "tolist": ["rep01"], "roomid": "",
         "msgtime": base + 5000, "msgtype": "voice",
         "voice": {"md5sum": "abc123", "voice_size": 4000, "play_length": 5, "sdkfileid": "SDK1"}},
    ]
    return "\n".join(json.dumps(m, ensure_ascii=False) for m in msgs)


PARTICIPANTS = json.dumps({"wmCustomer0000000001": {"name": "王总", "role": "customer"},
                           "rep01": {"name": "小李", "role": "rep"}})


@pytest.mark.model
def test_voice_message_is_transcribed_into_its_turn(client: Any) -> None:
    resp = client.post("/v1/interactions/upload",
                       files=[("file", ("chat.jsonl", _archive().encode())),
                              ("media", ("abc123.wav", (AUDIO / "paddle_zh.wav").read_bytes()))],
                       data={"customer_id": "C-V", "participants": PARTICIPANTS, "id": "voice-1",
                             "occurred_at": "2026-03-02T10:00:00+08:00"})
    assert resp.status_code == 201, resp.text
    turns = resp.json()["conversation"]["turns"]
    voice = [t for t in turns if t["kind"] == "voice"]
    assert len(voice) == 1 and voice[0]["speaker"] == "customer"
    assert "跑步" in voice[0]["text"] and "健康" in voice[0]["text"]


def test_voice_message_without_its_recording_stays_empty(client: Any) -> None:
    resp = client.post("/v1/interactions/upload", files={"file": ("chat.jsonl", _archive().encode())},
                       data={"customer_id": "C-V", "participants": PARTICIPANTS, "id": "voice-2",
                             "occurred_at": "2026-03-02T10:00:00+08:00"})
    assert resp.status_code == 201, resp.text
    voice = [t for t in resp.json()["conversation"]["turns"] if t["kind"] == "voice"]
    assert voice and voice[0]["text"] == ""


def test_undecodable_voice_recording_is_a_4xx(client: Any) -> None:
    resp = client.post("/v1/interactions/upload",
                       files=[("file", ("chat.jsonl", _archive().encode())),
                              ("media", ("v1.amr", b"#!AMR\n" + b"\x00" * 10))],
                       data={"customer_id": "C-V", "participants": PARTICIPANTS, "id": "voice-3"})
    assert resp.status_code in (415, 422), resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
