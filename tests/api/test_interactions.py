"""The HTTP API end to end: a real app (TestClient runs the lifespan), real SQLite, real pipeline."""

from __future__ import annotations

import json
from typing import Any

import pytest

CHAT = (
    "2026-03-02 10:00:05 李总(客户): 你们这次报价比去年涨了不少，太贵了\n"
    "2026-03-02 10:01:10 张三(销售): 李总，我去申请一下折扣，明天上午10点前把新报价单发您\n"
    "2026-03-02 10:02:00 李总(客户): 行，另外老板说要三家比价\n"
)


def _body(**over: Any) -> dict[str, Any]:
    body = {"id": "chat-1", "channel": "wechat", "format": "wechat_text", "customer_id": "C-1",
            "occurred_at": "2026-03-02T10:00:05+08:00", "content": CHAT}
    body.update(over)
    return body


def _assert_problem(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["code"] == code and body["status"] == status
    assert body["type"] == f"urn:nlp-service:problem:{code}"
    assert body["detail"] and body["title"]
    assert body["request_id"] == resp.headers["x-request-id"]
    return body


def test_post_interaction_returns_full_record(client: Any) -> None:
    resp = client.post("/v1/interactions", json=_body())
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert out["interaction_id"] == "chat-1" and out["schema_version"] == "1"
    record = out["record"]
    for key in ("summary", "key_statements", "blocker", "next_action", "support_needed", "risk_signals",
                "competitors", "customer_questions", "rejection_reason", "attachments"):
        assert key in record
    cats = {s["category"] for s in record["risk_signals"] if s["speaker"] == "customer"}
    assert {"price", "procurement"} <= cats
    for s in record["risk_signals"]:
        turn = out["conversation"]["turns"][s["turn"]]
        assert turn["text"][s["start"]:s["end"]] == s["quote"]
    assert record["next_action"]["due"] == "2026-03-03T10:00:00+08:00"
    assert set(out["fill"]) == {"filled", "empty", "needs_review", "ratio"}
    assert 0 < out["fill"]["ratio"] <= 1
    assert out["timings_ms"]["total"] > 0


def test_post_is_idempotent_and_readable(client: Any) -> None:
    first = client.post("/v1/interactions", json=_body())
    again = client.post("/v1/interactions", json=_body())
    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == again.json()
    got = client.get("/v1/interactions/chat-1")
    assert got.status_code == 200 and got.json() == first.json()
    page = client.get("/v1/customers/C-1/interactions").json()
    assert page["total"] == 1 and len(page["items"]) == 1


def test_same_id_with_other_content_conflicts(client: Any) -> None:
    client.post("/v1/interactions", json=_body())
    resp = client.post("/v1/interactions", json=_body(content=CHAT + "2026-03-02 10:05:00 李总(客户): 好\n"))
    _assert_problem(resp, 409, "conflict")


def test_customer_listing_is_newest_first_and_paginated(client: Any) -> None:
    for i in range(5):
        body = _body(id=f"c-{i}", occurred_at=f"2026-03-0{i + 1}T10:00:00+08:00",
                     content=f"2026-03-0{i + 1} 10:00:00 李总(客户): 第{i}次沟通")
        assert client.post("/v1/interactions", json=body).status_code == 201
    page1 = client.get("/v1/customers/C-1/interactions", params={"limit": 2}).json()
    assert [x["interaction_id"] for x in page1["items"]] == ["c-4", "c-3"] and page1["total"] == 5
    page2 = client.get("/v1/customers/C-1/interactions", params={"limit": 2, "cursor": page1["next_cursor"]}).json()
    assert [x["interaction_id"] for x in page2["items"]] == ["c-2", "c-1"]
    page3 = client.get("/v1/customers/C-1/interactions", params={"limit": 2, "cursor": page2["next_cursor"]}).json()
    assert [x["interaction_id"] for x in page3["items"]] == ["c-0"] and page3["next_cursor"] is None
    _assert_problem(client.get("/v1/customers/C-1/interactions", params={"cursor": "@@"}), 422, "invalid-input")


def test_upload_eml(client: Any) -> None:
    eml = ("From: 孙磊 <sunlei@buyer.cn>\nTo: 何芳 <hefang@seller.com>\nSubject: 报价\n"
           "Date: Tue, 03 Mar 2026 09:15:00 +0800\nContent-Type: text/plain; charset=gbk\n"
           "Content-Transfer-Encoding: 8bit\n\n").encode() + "今年预算已经冻结了，项目先暂停。\n".encode("gbk")
    resp = client.post("/v1/interactions/upload", files={"file": ("mail.eml", eml, "message/rfc822")},
                       data={"customer_id": "C-9"})
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert out["channel"] == "email" and out["occurred_at"].startswith("2026-03-03T09:15:00")
    assert any(s["category"] == "budget" for s in out["record"]["risk_signals"])
    assert client.get("/v1/interactions/mail.eml").status_code == 200


def test_healthz_and_openapi(client: Any) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert "/v1/interactions" in spec["paths"]
    assert client.get("/docs").status_code == 200


# ---------------------------------------------------------------- every error code

def test_malformed_json(client: Any) -> None:
    resp = client.post("/v1/interactions", content=b'{"id": "x", ', headers={"content-type": "application/json"})
    _assert_problem(resp, 400, "malformed-json")


@pytest.mark.parametrize(("over", "status", "code"), [
    ({"channel": "fax"}, 422, "unknown-channel"),
    ({"format": "docx"}, 422, "unsupported-format"),
    ({"occurred_at": "yesterday"}, 422, "invalid-timestamp"),
    ({"content": ""}, 422, "empty-content"),
    ({"content": "this is not a chat export"}, 422, "unparseable-content"),
    ({"customer_id": " "}, 422, "invalid-input"),
    ({"unexpected": 1}, 422, "invalid-input"),
], ids=["channel", "format", "timestamp", "empty", "unparseable", "blank-customer", "extra-field"])
def test_bad_input_codes(client: Any, over: dict[str, Any], status: int, code: str) -> None:
    body = _assert_problem(client.post("/v1/interactions", json=_body(**over)), status, code)
    if code == "unparseable-content":
        assert body["line"] == 1
    assert client.get("/v1/interactions/chat-1").status_code == 404  # nothing stored


def test_unparseable_archive_names_the_line(client: Any) -> None:
    content = json.dumps({"msgid": "1", "from": "a", "msgtime": 1, "msgtype": "text", "text": {"content": "好"}})
    body = _assert_problem(client.post("/v1/interactions", json=_body(
        format="wechat_archive_jsonl", content=content + "\n{broken")), 422, "unparseable-content")
    assert body["line"] == 2 and "line 2" in body["detail"]


def test_unsupported_charset(client: Any) -> None:
    eml = b"From: a@b.cn\nTo: c@d.com\nContent-Type: text/plain; charset=x-klingon\n\n\xff\xfe\xfa"
    resp = client.post("/v1/interactions/upload", files={"file": ("m.eml", eml)}, data={"customer_id": "C"})
    _assert_problem(resp, 415, "unsupported-charset")


def test_payload_too_large(settings: Any) -> None:
    from fastapi.testclient import TestClient

    from nlp_service.main import create_app

    small = settings.model_copy(update={"max_request_bytes": 2048})
    with TestClient(create_app(small, configure_logs=False, preload=False)) as c:
        resp = c.post("/v1/interactions", json=_body(content=CHAT * 40))
        _assert_problem(resp, 413, "payload-too-large")
        # Chunked bodies without Content-Length are counted while streaming.
        data = json.dumps(_body(content=CHAT * 40)).encode()
        resp = c.post("/v1/interactions", content=iter([data[:1000], data[1000:]]),
                      headers={"content-type": "application/json"})
        _assert_problem(resp, 413, "payload-too-large")


def test_not_found_and_method_not_allowed(client: Any) -> None:
    _assert_problem(client.get("/v1/interactions/nope"), 404, "not-found")
    _assert_problem(client.get("/v1/nothing-here"), 404, "not-found")
    _assert_problem(client.delete("/v1/interactions"), 405, "method-not-allowed")


def test_upload_without_format_hint(client: Any) -> None:
    resp = client.post("/v1/interactions/upload", files={"file": ("notes.bin", b"abc")}, data={"customer_id": "C"})
    _assert_problem(resp, 422, "unsupported-format")


def test_every_error_code_renders_as_problem_json() -> None:
    from typing import get_args

    from nlp_service.api.problems import problem_response
    from nlp_service.errors import ERROR_STATUS, ErrorCode, NlpServiceError

    assert set(get_args(ErrorCode)) == set(ERROR_STATUS)
    for code in get_args(ErrorCode):
        exc = NlpServiceError(code, "do this")
        resp = problem_response(None, exc.code, exc.status, exc.detail)
        body = json.loads(resp.body)
        assert resp.status_code == ERROR_STATUS[code] and body["code"] == code
        assert resp.media_type == "application/problem+json"
