"""Call recordings as durable jobs: real Whisper base, real service processes, real SIGKILL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from nlp_service.outbox import verify_signature
from tests.helpers import AUDIO, Receiver, ServiceProcess, long_recording, query, wait_until, wav_bytes


def _assert_problem(resp: Any, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == code


@pytest.mark.parametrize(("name", "data", "status", "code"), [
    ("empty.wav", b"", 422, "empty-audio"),
    ("corrupt.mp3", b"ID3\x03\x00garbage" * 50, 415, "undecodable-audio"),
    ("notes.txt", "这不是音频".encode() * 100, 415, "undecodable-audio"),
    ("silence.wav", wav_bytes(np.zeros(16000 * 3, dtype=np.int16)), 422, "no-speech"),
], ids=["empty", "corrupt", "text", "silence"])
def test_bad_audio_is_rejected_at_the_door(client: Any, name: str, data: bytes, status: int, code: str) -> None:
    resp = client.post("/v1/calls", files={"file": (name, data)}, data={"customer_id": "C-1"})
    _assert_problem(resp, status, code)


def test_over_long_audio(settings: Any) -> None:
    from fastapi.testclient import TestClient

    from nlp_service.main import create_app

    short = settings.model_copy(update={"asr": settings.asr.model_copy(update={"max_duration_s": 2.0})})
    with TestClient(create_app(short, configure_logs=False, preload=False)) as c:
        resp = c.post("/v1/calls", files={"file": ("a.wav", (AUDIO / "paddle_zh.wav").read_bytes())},
                      data={"customer_id": "C-1"})
        _assert_problem(resp, 413, "audio-too-long")


def test_unsafe_callback_url(client: Any) -> None:
    resp = client.post("/v1/calls", files={"file": ("a.wav", (AUDIO / "paddle_zh.wav").read_bytes())},
                       data={"customer_id": "C-1", "callback_url": "http://127.0.0.1:9/hook"})
    _assert_problem(resp, 422, "unsafe-url")


@pytest.mark.model
@pytest.mark.slow
def test_job_transcribes_enriches_and_calls_back(service_env: dict[str, str]) -> None:
    env = {**service_env, "NLP_ALERTS__ALLOW_PRIVATE_URLS": "true", "NLP_JOBS__CALLBACK_SECRET": "s3cret"}
    with Receiver() as receiver:
        svc = ServiceProcess(env).start()
        try:
            audio = (AUDIO / "funasr_asr_example.wav").read_bytes()
            resp = httpx.post(svc.url + "/v1/calls", files={"file": ("call.wav", audio)},
                              data={"customer_id": "C-7", "occurred_at": "2026-03-02T10:00:00+08:00",
                                    "callback_url": receiver.url, "id": "call-1"}, timeout=30)
            assert resp.status_code == 202, resp.text
            job_url = svc.url + resp.json()["status_url"]
            done = wait_until(lambda: (j := httpx.get(job_url).json())["status"] in ("done", "failed") and j, 120)
            assert done["status"] == "done", done
            assert done["interaction_id"] == "call-1"
            turns = done["result"]["conversation"]["turns"]
            assert "语音识别" in "".join(t["text"] for t in turns)
            assert done["result"]["asr"]["model"]
            stored = httpx.get(svc.url + "/v1/interactions/call-1").json()
            assert stored["interaction_id"] == "call-1"
            wait_until(lambda: receiver.requests, 30)
            req = receiver.requests[0]
            assert verify_signature("s3cret", req["headers"]["x-nlp-timestamp"], req["body"],
                                    req["headers"]["x-nlp-signature"])
            assert json.loads(req["body"])["job_id"] == done["job_id"]
        finally:
            svc.stop()


@pytest.mark.model
@pytest.mark.slow
def test_job_survives_a_killed_worker_and_finishes_exactly_once(service_env: dict[str, str], db_url: str) -> None:
    env = {**service_env, "NLP_JOBS__LEASE_S": "2", "NLP_ALERTS__ALLOW_PRIVATE_URLS": "true"}
    with Receiver() as receiver:
        svc = ServiceProcess(env).start()
        resp = httpx.post(svc.url + "/v1/calls", files={"file": ("long.wav", long_recording(3))},
                          data={"customer_id": "C-8", "callback_url": receiver.url, "id": "call-long"}, timeout=30)
        assert resp.status_code == 202, resp.text
        job_id = resp.json()["job_id"]
        # Wait until the worker is mid-transcription, then crash the process.
        wait_until(lambda: httpx.get(f"{svc.url}/v1/jobs/{job_id}").json()["progress"] > 0.05, 120, 0.1)
        svc.kill()
        assert query(db_url, "SELECT status, attempts FROM jobs WHERE id=:id", id=job_id) == [("running", 1)]
        assert query(db_url, "SELECT count(*) FROM interactions") == [(0,)]

        svc2 = ServiceProcess(env).start()
        try:
            job = wait_until(lambda: (j := httpx.get(f"{svc2.url}/v1/jobs/{job_id}").json())["status"]
                             in ("done", "failed") and j, 180, 0.2)
            assert job["status"] == "done", job
            assert job["attempts"] == 2
            wait_until(lambda: receiver.requests, 30)
        finally:
            svc2.stop()
    assert query(db_url, "SELECT count(*) FROM interactions WHERE id='call-long'") == [(1,)]
    assert query(db_url, "SELECT count(*) FROM outbox WHERE kind='callback'") == [(1,)]
    assert len(receiver.requests) == 1
