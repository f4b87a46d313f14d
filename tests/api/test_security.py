"""Tenant isolation, API keys, PII redaction, outbound URL checks, metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nlp_service.errors import NlpServiceError
from nlp_service.redact import redact_result, redact_text
from nlp_service.urls import check_outbound_url

RISKY = "2026-03-02 10:00:00 李总(客户): 今年预算冻结了，项目先停，你们报价也太贵了"


def _body(ident: str, customer: str = "C-A") -> dict[str, Any]:
    return {"id": ident, "channel": "wechat", "format": "wechat_text", "customer_id": customer,
            "occurred_at": "2026-03-02T10:00:00+08:00", "content": RISKY}


@pytest.fixture
def secured(settings: Any) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    from nlp_service.main import create_app
    from nlp_service.tenants import create_key

    s = settings.model_copy(update={"security": settings.security.model_copy(update={"require_api_key": True})})
    app = create_app(s, configure_logs=False, preload=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        a = {"Authorization": f"Bearer {create_key(app.state.store, 'tenant-a')}"}
        b = {"Authorization": f"Bearer {create_key(app.state.store, 'tenant-b')}"}
        yield client, a, b


def test_requests_without_a_valid_key_are_refused(secured: Any) -> None:
    client, _a, _b = secured
    for headers in ({}, {"Authorization": "Bearer nlp_nope_nope"}, {"Authorization": "Basic x"}):
        resp = client.get("/v1/alerts", headers=headers)
        assert resp.status_code == 401 and resp.json()["code"] == "unauthorized"
        assert resp.headers["www-authenticate"] == "Bearer"
    assert client.get("/healthz").status_code == 200  # liveness stays open


def test_tenant_b_cannot_read_list_sync_or_stream_tenant_a(secured: Any) -> None:
    client, a, b = secured
    assert client.post("/v1/interactions", json=_body("i-1"), headers=a).status_code == 201
    assert client.get("/v1/interactions/i-1", headers=a).status_code == 200
    assert client.get("/v1/alerts", headers=a).json()["items"]

    assert client.get("/v1/interactions/i-1", headers=b).status_code == 404
    assert client.get("/v1/customers/C-A/interactions", headers=b).json()["total"] == 0
    assert client.post("/v1/customers/C-A/sync", headers=b).status_code == 404
    assert client.get("/v1/customers/C-A/timeline", headers=b).json()["items"] == []
    assert client.get("/v1/alerts", headers=b).json()["items"] == []
    alert_id = client.get("/v1/alerts", headers=a).json()["items"][0]["id"]
    assert client.post(f"/v1/alerts/{alert_id}/ack", headers=b).status_code == 404

    # The same id is a different interaction in another tenant (no collision, no leak).
    other = client.post("/v1/interactions", json=_body("i-1", customer="C-B"), headers=b)
    assert other.status_code == 201 and other.json()["customer_id"] == "C-B"

    # Streams: B replays nothing of A's and receives its own alert first.
    with client.websocket_connect("/v1/alerts/ws?since=0", headers=b) as ws:
        client.post("/v1/interactions", json=_body("i-2", customer="C-A2"), headers=a)
        client.post("/v1/interactions", json=_body("i-3", customer="C-B2"), headers=b)
        got = [json.loads(ws.receive_text())["alert"] for _ in range(1)]
    first_b = [x for x in got if x["customer_id"] == "C-B"] or got
    assert all(x["tenant"] == "tenant-b" for x in got), first_b


def test_websocket_without_key_is_closed(secured: Any) -> None:
    from starlette.websockets import WebSocketDisconnect

    client, _a, _b = secured
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/v1/alerts/ws") as ws:
        ws.receive_text()
    assert info.value.code == 4401


def test_keys_are_stored_hashed(secured: Any) -> None:
    client, a, _b = secured
    store = client.app.state.store  # type: ignore[attr-defined]
    from nlp_service.tenants import ApiKeyRow

    key = a["Authorization"].split()[1]
    with store.session() as s:
        rows = s.query(ApiKeyRow).all()
    assert rows and all(key not in (r.key_hash, r.key_id) and len(r.key_hash) == 64 for r in rows)


# fmt: off
PII = (
    ("手机13812345678请回电", "手机138****5678请回电"),
    ("电话 +86 139-1234-5678", "电话 +86 139-****-5678"),
    ("身份证110101199003074518", "身份证110*************18"),
    ("卡号6222 0200 0000 0000 006", None),  # not Luhn-valid: left alone
    ("卡号4111 1111 1111 1111", "卡号4111 **** **** 1111"),
    ("邮箱 zhang.san@example.com", "邮箱 z********@example.com"),
)
# fmt: on


@pytest.mark.parametrize(("text", "expected"), PII, ids=["mobile", "mobile-formatted", "id-card", "not-luhn",
                                                         "bank-card", "email"])
def test_redaction_masks_pii_and_keeps_length(text: str, expected: str | None) -> None:
    out = redact_text(text)
    assert out == (expected or text)
    assert len(out) == len(text)


def test_redaction_before_storage_and_in_alerts(settings: Any) -> None:
    from nlp_service.main import create_app

    s = settings.model_copy(update={"security": settings.security.model_copy(update={"redact_pii": True})})
    app = create_app(s, configure_logs=False, preload=False)
    content = "2026-03-02 10:00:00 李总(客户): 预算冻结了，有事打我手机13812345678"
    with TestClient(app) as client:
        out = client.post("/v1/interactions", json={**_body("p-1"), "content": content}).json()
        dumped = json.dumps(out, ensure_ascii=False)
        assert "13812345678" not in dumped and "138****5678" in dumped
        from nlp_service.store import InteractionRow

        with app.state.store.session() as sess:
            row = sess.get(InteractionRow, ("default", "p-1"))
            assert row is not None and "13812345678" not in row.content
        assert all("13812345678" not in a["quote"] for a in client.get("/v1/alerts").json()["items"])
    assert redact_result({"customer_id": "13812345678", "x": ["13812345678"]}) == \
        {"customer_id": "13812345678", "x": ["138****5678"]}


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://localhost:8080/", "http://10.1.2.3/",
                                 "http://192.168.0.10/", "http://[::1]/", "http://169.254.169.254/latest",
                                 "ftp://example.com/", "not a url"])
def test_outbound_urls_to_private_networks_are_refused(url: str) -> None:
    with pytest.raises(NlpServiceError) as info:
        check_outbound_url(url)
    assert info.value.code == "unsafe-url"
    if url.startswith("http"):
        check_outbound_url(url, allow_private=True)  # explicitly allowed for on-prem receivers


def test_metrics_endpoint(client: Any) -> None:
    client.post("/v1/interactions", json=_body("m-1"))
    text = client.get("/metrics").text
    assert 'nlp_http_requests_total{method="POST",route="/v1/interactions",status="201"} 1.0' in text
    assert "nlp_jobs_queue_depth" in text and "nlp_alerts_total" in text
    assert 'nlp_interactions_total{channel="wechat"} 1.0' in text


def test_streams_take_the_key_as_a_query_parameter_only(secured: Any) -> None:
    client, a, _b = secured
    key = a["Authorization"].split()[1]
    assert client.get("/v1/alerts", params={"api_key": key}).status_code == 401  # not on ordinary routes
    with client.websocket_connect(f"/v1/alerts/ws?api_key={key}&since=0") as ws:
        client.post("/v1/interactions", json=_body("q-1"), headers=a)
        assert json.loads(ws.receive_text())["alert"]["tenant"] == "tenant-a"
