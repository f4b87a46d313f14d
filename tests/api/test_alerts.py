"""Alerts: rules, dedup, throttling, listing/ack, live stream resume, webhooks that survive outages
and a SIGKILLed service."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from nlp_service.alerts import AlertRules, evaluate_rules, parse_rules, throttled
from nlp_service.errors import NlpServiceError
from nlp_service.outbox import verify_signature
from nlp_service.webhook_formats import render_payload, sign_for_format
from tests.helpers import Receiver, ServiceProcess, wait_until

RISKY = "今年预算已经冻结了，这个项目先停"


def _post(client: Any, ident: str, text: str, *, customer: str = "C-1", speaker: str = "客户", **extra: Any) -> Any:
    body = {"id": ident, "channel": "wechat", "format": "wechat_text", "customer_id": customer,
            "occurred_at": "2026-03-02T10:00:00+08:00",
            "content": f"2026-03-02 10:00:00 李总({speaker}): {text}", **extra}
    resp = client.post("/v1/interactions", json=body)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def _result(signals: list[dict[str, Any]], level: str | None = None, customer: str = "C-1") -> dict[str, Any]:
    return {"customer_id": customer, "record": {"risk_signals": signals,
                                                "blocker": {"level": level, "text": "x"} if level else None}}


SIG_CUSTOMER = {"category": "budget", "quote": "预算冻结", "speaker": "customer", "turn": 0, "severity": 3}
SIG_REP = {"category": "price", "quote": "客户嫌贵", "speaker": "rep", "turn": 1, "severity": 2}


def test_rules_only_customer_signals_alert() -> None:
    got = evaluate_rules(_result([SIG_CUSTOMER, SIG_REP]), AlertRules())
    assert [c.category for c in got] == ["budget"]


def test_rules_routing_and_min_severity() -> None:
    rules = parse_rules({
        "rules": [{"id": "east", "match": {"teams": ["华东"], "min_severity": 3}, "webhooks": ["w"]}],
        "webhooks": [{"id": "w", "url": "https://example.com/hook"}],
    })
    assert evaluate_rules(_result([SIG_CUSTOMER]), rules, team="华北") == []
    (cand,) = evaluate_rules(_result([SIG_CUSTOMER]), rules, team="华东")
    assert cand.webhook_ids == ("w",) and cand.rule_ids == ("east",)
    weak = {**SIG_CUSTOMER, "severity": 2}
    assert evaluate_rules(_result([weak]), rules, team="华东") == []


def test_p0_blocker_always_alerts() -> None:
    rules = parse_rules({"rules": [{"id": "none", "match": {"categories": ["price"]}}],
                         "webhooks": [{"id": "w", "url": "https://example.com/h"}]})
    (cand,) = evaluate_rules(_result([{**SIG_REP, "category": "churn"}], level="P0"), rules)
    assert cand.level == "P0" and cand.webhook_ids == ("w",)


@pytest.mark.parametrize(("data", "words"), [
    ({"rules": [{"id": "a"}, {"id": "a"}]}, "unique"),
    ({"rules": [{"id": "a", "webhooks": ["nope"]}]}, "unknown webhooks"),
    ({"rules": [{"id": "a", "match": {"categories": ["weather"]}}]}, "categories"),
    ({"webhooks": [{"id": "w", "url": "ftp://example.com/x"}]}, "http"),
    ({"dedup_window_s": -1}, "dedup_window_s"),
], ids=["dup-rule", "unknown-webhook", "bad-category", "bad-url", "negative-window"])
def test_rules_validation_errors(data: dict[str, Any], words: str) -> None:
    with pytest.raises(NlpServiceError) as info:
        parse_rules(data)
    assert info.value.code == "invalid-rules" and words in info.value.detail


def test_throttle_counts_the_last_hour_only() -> None:
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    recent = [now - timedelta(minutes=m) for m in (5, 20, 70)]
    assert throttled(recent, now, 2)
    assert not throttled(recent, now, 3)


def test_bot_payloads_and_signatures() -> None:
    alert = {"id": 1, "category": "budget", "quote": "预算冻结", "customer_id": "C-1", "severity": 3, "level": "P1",
             "interaction_id": "i-1", "channel": "wechat"}
    assert render_payload("wecom", alert)["msgtype"] == "markdown"
    assert "预算冻结" in render_payload("dingtalk", alert)["markdown"]["text"]
    assert "预算冻结" in render_payload("feishu", alert)["content"]["text"]
    assert render_payload("json", alert)["alert"]["id"] == 1
    url, _ = sign_for_format("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t", "{}", "k", now=1.0)
    assert "timestamp=1000&sign=" in url
    _, body = sign_for_format("feishu", "https://open.feishu.cn/x", '{"a":1}', "k", now=1.0)
    assert json.loads(body)["timestamp"] == "1" and json.loads(body)["sign"]


# ---------------------------------------------------------------- through the API


def test_alert_raised_deduplicated_listed_and_acked(client: Any) -> None:
    _post(client, "i-1", RISKY)
    _post(client, "i-2", "预算还是冻结状态，没有钱")  # same customer + category within the window
    _post(client, "i-3", "您是不是觉得预算不够？", speaker="销售")  # rep probing: no alert
    items = client.get("/v1/alerts").json()["items"]
    budget = [a for a in items if a["category"] == "budget"]
    assert len(budget) == 1 and budget[0]["count"] == 2
    assert budget[0]["speaker"] == "customer" and budget[0]["interaction_id"] == "i-1"
    acked = client.post(f"/v1/alerts/{budget[0]['id']}/ack", json={"by": "王经理"}).json()
    assert acked["acked_by"] == "王经理" and acked["acked_at"]
    assert client.get("/v1/alerts", params={"acked": "false", "category": "budget"}).json()["items"] == []
    assert client.post("/v1/alerts/99999/ack").status_code == 404


def test_alert_rules_api_validates(client: Any) -> None:
    bad = client.put("/v1/alert-rules", json={"rules": [{"id": "a", "webhooks": ["missing"]}]})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-rules"
    unsafe = client.put("/v1/alert-rules", json={"webhooks": [{"id": "w", "url": "http://127.0.0.1:1/x"}]})
    assert unsafe.status_code == 422 and unsafe.json()["code"] == "unsafe-url"
    ok = client.put("/v1/alert-rules", json={"max_per_customer_per_hour": 1,
                                             "rules": [{"id": "budget-only", "match": {"categories": ["budget"]}}]})
    assert ok.status_code == 200
    _post(client, "i-1", "你们太贵了，报价高得离谱")  # price: no rule matches now
    assert client.get("/v1/alerts").json()["items"] == []
    _post(client, "i-2", RISKY, customer="C-2")
    _post(client, "i-3", "客户这边流程要走招标，预算也冻结了", customer="C-2")
    assert client.get("/v1/alert-rules").json()["rules"][0]["id"] == "budget-only"


def test_websocket_stream_and_resume(client: Any) -> None:
    first = _post(client, "i-1", RISKY, customer="C-1")
    assert first["record"]["risk_signals"]
    alert_id = min(a["id"] for a in client.get("/v1/alerts").json()["items"])
    with client.websocket_connect("/v1/alerts/ws?since=0") as ws:
        replayed = json.loads(ws.receive_text())
        assert replayed["alert"]["id"] == alert_id
        _post(client, "i-2", "你们的价格太贵了，比别家贵三成", customer="C-9")
        live = json.loads(ws.receive_text())
        while live["alert"]["customer_id"] != "C-9":  # the rest of the replay
            live = json.loads(ws.receive_text())
        assert live["alert"]["category"] == "price"


# ---------------------------------------------------------------- real processes


def _env(service_env: dict[str, str]) -> dict[str, str]:
    return {**service_env, "NLP_ALERTS__ALLOW_PRIVATE_URLS": "true", "NLP_JOBS__WORKERS": "0"}


def _configure_webhook(url: str, receiver: Receiver, secret: str = "k3y") -> None:
    resp = httpx.put(url + "/v1/alert-rules", json={
        "webhooks": [{"id": "local", "url": receiver.url, "secret": secret}],
        "rules": [{"id": "all", "webhooks": ["local"]}]}, timeout=10)
    assert resp.status_code == 200, resp.text


def _post_http(url: str, i: int) -> None:
    body = {"id": f"i-{i}", "channel": "wechat", "format": "wechat_text", "customer_id": f"C-{i}",
            "occurred_at": "2026-03-02T10:00:00+08:00",
            "content": f"2026-03-02 10:00:00 李总(客户): {RISKY}"}
    resp = httpx.post(url + "/v1/interactions", json=body, timeout=30)
    assert resp.status_code == 201, resp.text


def _delivered_alert_ids(receiver: Receiver, secret: str = "k3y") -> dict[str, int]:
    """alert id → delivery id, checking every signature; a receiver dedups on the delivery id."""
    seen: dict[str, int] = {}
    for r in receiver.requests:
        assert verify_signature(secret, r["headers"]["x-nlp-timestamp"], r["body"], r["headers"]["x-nlp-signature"])
        seen.setdefault(r["headers"]["x-nlp-delivery-id"], json.loads(r["body"])["alert"]["id"])
    return seen


@pytest.mark.slow
def test_sse_resumes_from_last_event_id(service_env: dict[str, str]) -> None:
    with Receiver() as receiver:
        svc = ServiceProcess(_env(service_env)).start()
        try:
            _configure_webhook(svc.url, receiver)
            for i in range(3):
                _post_http(svc.url, i)
            ids = sorted(a["id"] for a in httpx.get(svc.url + "/v1/alerts").json()["items"])
            got: list[dict[str, Any]] = []
            with httpx.stream("GET", svc.url + "/v1/alerts/stream", headers={"Last-Event-ID": str(ids[0])},
                              timeout=10) as resp:
                assert resp.headers["content-type"].startswith("text/event-stream")
                for line in resp.iter_lines():
                    if line.startswith("data: "):
                        got.append(json.loads(line[6:]))
                        if len(got) == len(ids) - 1:
                            break
            assert [a["id"] for a in got] == ids[1:]
        finally:
            svc.stop()


@pytest.mark.slow
def test_webhook_receiver_down_for_a_while_gets_every_alert(service_env: dict[str, str]) -> None:
    with Receiver() as receiver:
        receiver.up = False
        svc = ServiceProcess(_env(service_env)).start()
        try:
            _configure_webhook(svc.url, receiver)
            for i in range(5):
                _post_http(svc.url, i)
            accepted = {a["id"] for a in httpx.get(svc.url + "/v1/alerts", params={"limit": 100}).json()["items"]}
            assert len(accepted) >= 5
            receiver.up = True
            wait_until(lambda: set(_delivered_alert_ids(receiver).values()) == accepted, 60, 0.2)
        finally:
            svc.stop()
    assert sorted(_delivered_alert_ids(receiver).values()) == sorted(accepted)


@pytest.mark.slow
def test_sigkilled_service_still_delivers_every_accepted_alert_once(service_env: dict[str, str]) -> None:
    env = _env(service_env)
    with Receiver() as receiver:
        svc = ServiceProcess(env).start()
        _configure_webhook(svc.url, receiver)
        receiver.up = False  # deliveries fail and wait in the outbox…
        posts = [threading.Thread(target=_post_http, args=(svc.url, i)) for i in range(8)]
        for t in posts:
            t.start()
        for t in posts:
            t.join()
        accepted = {a["id"] for a in httpx.get(svc.url + "/v1/alerts", params={"limit": 100}).json()["items"]}
        assert len(accepted) >= 8
        svc.kill()  # …when the service dies without a chance to flush anything
        receiver.up = True
        svc2 = ServiceProcess(env).start()
        try:
            wait_until(lambda: set(_delivered_alert_ids(receiver).values()) == accepted, 90, 0.2)
        finally:
            svc2.stop()
    delivered = _delivered_alert_ids(receiver)
    assert sorted(delivered.values()) == sorted(accepted)  # each alert under exactly one delivery id
    assert len(receiver.requests) == len(accepted)  # and, here, not even a retransmission
