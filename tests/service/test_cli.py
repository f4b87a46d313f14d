"""The CLI contract the evaluation relies on: one JSON line per input, errors as objects, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import AUDIO, ROOT


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nlp_service.cli", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def test_enrich_jsonl_keeps_every_line_and_reports_bad_ones(tmp_path: Path) -> None:
    good = {"id": "ok-1", "channel": "wechat", "format": "wechat_text", "customer_id": "C",
            "occurred_at": "2026-03-02T10:00:00+08:00", "content": "2026-03-02 10:00:00 李总(客户): 太贵了"}
    lines = [json.dumps(good, ensure_ascii=False), '{"id": "broken-1", "channel": ', "",
             json.dumps({**good, "id": "bad-format", "format": "fax"}),
             json.dumps({**good, "id": "bad-content", "content": "no stamps here"}),
             json.dumps({**good, "id": "ok-2"}, ensure_ascii=False)]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    proc = _run("enrich", "--jsonl", str(path))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [o["interaction_id"] for o in out] == ["ok-1", "broken-1", "bad-format", "bad-content", "ok-2"]
    assert out[0]["record"]["risk_signals"][0]["category"] == "price"
    assert out[1]["error"]["code"] == "malformed-json"
    assert out[2]["error"]["code"] == "invalid-input"
    assert out[3]["error"]["code"] == "unparseable-content" and "line 1" in out[3]["error"]["detail"]
    assert "record" in out[4]


def test_enrich_one_eml_file(tmp_path: Path) -> None:
    eml = tmp_path / "m.eml"
    eml.write_bytes("From: a@buyer.cn\nTo: b@seller.com\nDate: Tue, 03 Mar 2026 09:15:00 +0800\n"
                    "Content-Type: text/plain; charset=utf-8\n\n我们要走公开招标流程。\n".encode())
    proc = _run("enrich", str(eml), "--format", "eml", "--customer-id", "C-9")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["customer_id"] == "C-9" and out["occurred_at"].startswith("2026-03-03T09:15:00")
    assert out["record"]["risk_signals"][0]["category"] == "procurement"


def test_detect_jsonl_from_stdin() -> None:
    rows = [{"id": "a", "text": "预算被砍了一半", "speaker": "customer"}, {"id": "b", "text": "价格不贵", "speaker": "customer"}]
    proc = _run("detect", "--jsonl", "-", stdin="\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b"]
    assert out[0]["risk_signals"][0]["category"] == "budget" and out[1]["risk_signals"] == []


def test_transcribe_error_paths(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"not audio at all" * 20)
    proc = _run("transcribe", str(tmp_path / "missing.wav"), str(bad))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [Path(o["path"]).name for o in out] == ["missing.wav", "bad.mp3"]
    assert all("error" in o and o["error"]["code"] for o in out)


@pytest.mark.model
def test_transcribe_prints_one_line_per_file() -> None:
    proc = _run("transcribe", str(AUDIO / "funasr_asr_example.wav"))
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.splitlines()
    out = json.loads(line)
    assert {"path", "text", "segments", "language", "duration_s"} <= set(out)
    assert "语音识别" in out["text"]
