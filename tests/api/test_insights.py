"""Questions of the week, the 「今日必看」 summary and the dashboard routes (issue 6, parts 3–4)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from nlp_service.alert_engine import AlertRow
from nlp_service.insights import (
    LatestAction,
    QuestionAsked,
    customers_to_call,
    group_questions,
    normalize_question,
    overdue_followups,
    question_insights,
    question_similarity,
    question_topic,
    red_alert_groups,
    today_summary,
)
from nlp_service.store import Store, utcnow

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # 10:00 on Wednesday 4 March in Shanghai


# ----------------------------------------------------------------------------- normalisation

# fmt: off
_NORMALIZE = (
    ("请问你们能不能开专票？", "能开专票", "a-not-a"),
    ("請問能否開專票呢", "能开专票", "traditional-formal"),
    ("想问一下，有没有ISO认证啊", "有iso认证", "opener-ascii"),
    ("那个 质保是不是三年的", "质保是三年", "filler-final-de"),
    ("你们这边可不可以按季度付款吗？？", "可以按季度付款", "stacked-openers"),
    ("好的，那付款能分期吗", "付款能分期", "ok-then"),
    ("交期多久", "交期多久", "unchanged"),
    ("吗？", "吗", "nothing-left"),  # nothing left to fold: keep what there is
)
# fmt: on


@pytest.mark.parametrize(("text", "expected"), [c[:2] for c in _NORMALIZE], ids=[c[2] for c in _NORMALIZE])
def test_insights_normalize_question(text: str, expected: str) -> None:
    assert normalize_question(text) == expected


# fmt: off
_TOPIC = (
    ("发票是专票还是普票", "invoice", "invoice"),
    ("有没有CE认证", "certification", "certificate"),
    ("接口能不能和用友打通", "integration", "integration"),
    ("旧系统里的客户资料能迁过来吗", "data_migration", "migration"),
    ("保修期多长", "warranty", "warranty"),
    ("最快什么时候能到货", "delivery", "delivery"),
    ("能不能月结", "payment_terms", "payment-terms"),
    ("对接要另外收费吗", "integration", "object-beats-price"),  # the object wins over "how much"
    ("一年服务费多少钱", "pricing", "pricing"),
    ("离职员工的交接怎么办", None, "no-topic"),
)
# fmt: on


@pytest.mark.parametrize(("text", "topic"), [c[:2] for c in _TOPIC], ids=[c[2] for c in _TOPIC])
def test_insights_question_topic(text: str, topic: str | None) -> None:
    assert question_topic(normalize_question(text)) == topic


def test_insights_similarity_is_symmetric_and_bounded() -> None:
    a, b = normalize_question("离职交接怎么办"), normalize_question("员工离职了交接怎么处理")
    assert question_similarity(a, b) == question_similarity(b, a)
    assert question_similarity(a, b) >= 0.5  # the short one is contained in the long one
    assert question_similarity(a, a) == 1.0
    assert question_similarity(a, normalize_question("账号怎么开通")) < 0.3  # only "怎么" in common
    assert question_similarity("", a) == 0.0


# ----------------------------------------------------------------------------- grouping


def _asked(rows: Sequence[tuple[str, str, str]], start: datetime = NOW) -> list[QuestionAsked]:
    return [QuestionAsked(text, iid, cid, start - timedelta(hours=len(rows) - i))
            for i, (text, iid, cid) in enumerate(rows)]


def test_insights_group_questions_counts_interactions_and_customers() -> None:
    asked = _asked((
        ("能开专票吗", "i1", "C1"),
        ("发票开专票还是普票？", "i2", "C2"),
        ("能不能开专票", "i3", "C3"),
        ("能开专票吗", "i3", "C3"),  # asked twice in one chat: one interaction
        ("能开专票吗", "i4", "C1"),  # the same customer again, another chat
        ("质保几年", "i5", "C4"),
        ("员工离职了交接怎么处理", "i6", "C5"),
        ("离职交接怎么办", "i7", "C6"),
        ("你们的logo能印在外箱上吗", "i8", "C7"),
    ))
    groups = group_questions(asked)
    top = groups[0]
    assert top.topic == "invoice"
    assert (top.interactions, top.customers, top.asks) == (4, 3, 5)
    assert top.question == "能开专票吗"  # the most asked wording represents the group
    assert "发票开专票还是普票" in top.variants
    assert top.customer_ids[0] == "C1"  # most recent first
    handover = next(g for g in groups if g.topic is None)
    assert handover.interactions == 2 and set(handover.customer_ids) == {"C5", "C6"}
    assert sum(g.interactions for g in groups) == 4 + 1 + 2 + 1
    assert [g.interactions for g in groups] == sorted((g.interactions for g in groups), reverse=True)


def test_insights_group_questions_limit_and_empty() -> None:
    words = ("苹果", "桌子", "河流", "山峰", "天空", "大海", "书包", "电灯")
    asked = _asked(tuple((f"{w}怎么样", f"i{i}", f"C{i}") for i, w in enumerate(words)))
    assert len(group_questions(asked, limit=100)) == len(words)
    assert len(group_questions(asked, limit=5)) == 5
    assert group_questions([]) == ()
    assert group_questions(_asked((("  ", "i1", "C1"),))) == ()


def test_insights_group_questions_unrelated_stay_apart() -> None:
    groups = group_questions(_asked((
        ("离职交接怎么办", "i1", "C1"),
        ("账号怎么开通", "i2", "C2"),
        ("年会的场地定了没有", "i3", "C3"),
    )))
    assert len(groups) == 3


def test_insights_group_questions_with_an_embedder() -> None:
    # A fake embedder: two wordings with no characters in common are one meaning.
    vectors = {"账号怎么开通": [1.0, 0.0], "如何注册登录名": [1.0, 0.0], "年会的场地定了没": [0.0, 1.0]}

    def embed(texts: Sequence[str]) -> Any:
        import numpy as np

        return np.array([vectors.get(t, [0.0, 1.0]) for t in texts])

    asked = _asked((("账号怎么开通", "i1", "C1"), ("如何注册登录名", "i2", "C2"), ("年会的场地定了没", "i3", "C3")))
    assert len(group_questions(asked)) == 3
    merged = group_questions(asked, embed=embed)
    assert [g.interactions for g in merged] == [2, 1]


# ----------------------------------------------------------------------------- overdue follow-ups


def _latest(cid: str, text: str | None, due: str | None, region: str | None = "华东区") -> LatestAction:
    return LatestAction(cid, f"i-{cid}", NOW - timedelta(days=3), region, "一组", text, due)


def test_insights_overdue_followups() -> None:
    latest = [
        _latest("C1", "周一前把报价单发给客户", "2026-03-02"),  # a bare date: overdue since Tuesday 00:00
        _latest("C2", "今天下班前回电话", "2026-03-04"),  # due today: not yet
        _latest("C3", "明早9点前发方案", "2026-03-04T09:00:00+08:00"),  # 09:00 today has passed (10:00 now)
        _latest("C4", "下周再联系", "2026-03-09"),
        _latest("C5", "跟进一下", None),
        _latest("C6", "去年的报价", "2025-10-01"),  # older than the lookback: a dead lead, not today's work
        _latest("C7", "回访", "not-a-date"),
    ]
    got = overdue_followups(latest, now=NOW, tz=CST, max_overdue_days=60)
    assert [(o.customer_id, o.kind, o.overdue_days) for o in got] == [("C1", "quote", 2), ("C3", "quote", 0)]


def test_insights_overdue_uses_the_service_time_zone() -> None:
    # 2026-03-03T17:00Z is already 01:00 on 4 March in Shanghai: a due of 3 March has passed there.
    now = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)
    got = overdue_followups([_latest("C1", "回电话", "2026-03-03")], now=now, tz=CST)
    assert [o.customer_id for o in got] == ["C1"]
    assert overdue_followups([_latest("C1", "回电话", "2026-03-03")], now=now, tz=UTC) == []


# ----------------------------------------------------------------------------- alert summaries


def _alert(i: int, cid: str, category: str, *, severity: int = 2, level: str | None = None,
           region: str | None = "华东区", team: str | None = "一组", acked: bool = False) -> dict[str, Any]:
    at = (NOW - timedelta(minutes=100 - i)).isoformat()
    return {"id": i, "customer_id": cid, "interaction_id": f"i{i}", "category": category, "severity": severity,
            "level": level, "quote": "预算冻结了", "region": region, "team": team, "channel": "wechat",
            "count": 1, "first_at": at, "last_at": at, "acked_at": at if acked else None}


def test_insights_red_alert_groups_count_customers_per_region_and_category() -> None:
    alerts = [
        _alert(1, "C1", "budget", severity=3),
        _alert(2, "C2", "budget"),
        _alert(3, "C2", "budget"),  # the same customer twice: one 家
        _alert(4, "C3", "budget", region="华南区"),
        _alert(5, "C4", "price", severity=1),  # too weak for a red card
        _alert(6, "C5", "price", severity=1, level="P1"),  # ... unless it carries a P1 blocker
        _alert(7, "C6", "churn", acked=True),
        _alert(8, "C7", "trust", region=None, team=None),
    ]
    groups = red_alert_groups(alerts)
    heads = [g["headline"] for g in groups]
    assert heads[0] == "华东区 预算问题 2 家"  # severity 3 first
    assert set(heads) == {"华东区 预算问题 2 家", "华南区 预算问题 1 家", "华东区 价格异议 1 家", "未分区 信任问题 1 家"}
    for g in groups:
        assert g["meaning"] and g["todo"]
        assert str(g["customers"]) in g["meaning"]


def test_insights_customers_to_call() -> None:
    alerts = [
        _alert(1, "C1", "budget", severity=3),
        _alert(2, "C2", "churn", severity=3, level="P0"),
        _alert(3, "C3", "price", severity=2),  # not serious enough
        _alert(4, "C4", "competitor", severity=2, level="P1"),
        _alert(5, "C1", "payment", severity=3, level="P1"),  # C1's most serious alert
        _alert(6, "C5", "churn", severity=3, level="P0", acked=True),
    ]
    got = customers_to_call(alerts)
    assert [(c["customer_id"], c["level"]) for c in got] == [("C2", "P0"), ("C1", "P1"), ("C4", "P1")]
    assert got[1]["category"] == "payment"
    assert all(c["meaning"] and c["todo"] for c in got)


# ----------------------------------------------------------------------------- store readers


def _put(store: Store, ident: str, customer_id: str, occurred_at: datetime, *, questions: Sequence[str] = (),
         action: dict[str, Any] | None = None, region: str | None = "华东区", tenant: str = "default") -> None:
    result = {"interaction_id": ident, "customer_id": customer_id,
              "record": {"customer_questions": list(questions), "next_action": action, "risk_signals": []}}
    store.put_interaction(tenant, ident=ident, customer_id=customer_id, channel="wechat", fmt="wechat_text",
                          occurred_at=occurred_at, content=ident, digest=ident, team="一组", region=region,
                          result=result)


def _put_alert(store: Store, customer_id: str, category: str, *, at: datetime, severity: int = 3,
               level: str | None = None, region: str = "华东区", tenant: str = "default") -> None:
    with store.session() as s:
        s.add(AlertRow(tenant=tenant, customer_id=customer_id, interaction_id=f"i-{customer_id}", category=category,
                       severity=severity, level=level, quote="今年预算冻结了", team="一组", region=region,
                       channel="wechat", occurred_at=at, count=1, first_at=at, last_at=at, rule_ids=[]))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'insights.sqlite3'}")


def test_insights_question_insights_reads_this_week(store: Store) -> None:
    _put(store, "i1", "C1", NOW - timedelta(days=1), questions=["能开专票吗", "交期多久"])
    _put(store, "i2", "C2", NOW - timedelta(days=2), questions=["发票能开专票吗"])
    _put(store, "i3", "C3", NOW - timedelta(days=9), questions=["能开专票吗"])  # last week
    _put(store, "i4", "C4", NOW - timedelta(days=1), questions=["能开专票吗"], tenant="other")
    body = question_insights(store, "default", now=NOW, days=7)
    assert body["interactions"] == 2 and body["questions"] == 3
    top = body["groups"][0]
    assert (top["question"], top["count"], top["customers"], top["topic_label"]) == ("能开专票吗", 2, 2, "发票开具")
    assert "2 家客户" in top["meaning"] and top["todo"].startswith("建议")
    assert question_insights(store, "default", now=NOW, days=14)["groups"][0]["count"] == 3


def test_insights_today_summary(store: Store) -> None:
    # Overdue: C1's latest chat promised a quote for Monday; C2 promised one too, then was contacted again.
    _put(store, "c1-a", "C1", NOW - timedelta(days=4), action={"text": "周一前发报价", "due": "2026-03-02"})
    _put(store, "c2-a", "C2", NOW - timedelta(days=4), action={"text": "周一前发报价", "due": "2026-03-02"})
    _put(store, "c2-b", "C2", NOW - timedelta(days=1), action=None)
    _put(store, "c3-a", "C3", NOW - timedelta(days=4), action={"text": "周一回电话", "due": "2026-03-02"},
         region="华南区")
    _put_alert(store, "C7", "budget", at=NOW - timedelta(hours=2))
    _put_alert(store, "C8", "budget", at=NOW - timedelta(hours=3), severity=2)
    _put_alert(store, "C9", "churn", at=NOW - timedelta(hours=48), level="P0")  # too old for red, fine for a call
    _put_alert(store, "C9", "churn", at=NOW - timedelta(hours=1), level="P0", tenant="other")
    body = today_summary(store, "default", now=NOW, tz=CST)
    heads = [g["headline"] for g in body["red_alerts"]]
    assert heads == ["华东区 预算问题 2 家", "华东区 报价超期客户 1 家", "华南区 跟进超期客户 1 家"]
    assert body["totals"] == {"risk_customers": 2, "overdue_customers": 2, "call_today": 2}
    assert [c["customer_id"] for c in body["call_today"]] == ["C9", "C7"]
    assert body["last_alert_id"] == 3  # this tenant's newest alert id, where the stream resumes
    assert [s["key"] for s in body["summary"]] == ["risk_customers", "overdue_customers", "call_today"]
    assert all(s["meaning"] and s["todo"] for s in body["summary"])
    assert set(body["categories"]) >= {"budget", "churn", "price"}
    only_south = today_summary(store, "default", now=NOW, tz=CST, region="华南区")
    assert [g["headline"] for g in only_south["red_alerts"]] == ["华南区 跟进超期客户 1 家"]


# ----------------------------------------------------------------------------- HTTP


def test_insights_api_routes(client: Any) -> None:
    store = client.app.state.store
    now = utcnow()
    _put(store, "i1", "C1", now - timedelta(hours=5), questions=["能开专票吗"])
    _put(store, "i2", "C2", now - timedelta(hours=4), questions=["請問能不能開專票？"])
    _put_alert(store, "C2", "payment", at=now - timedelta(minutes=5), level="P0")
    q = client.get("/v1/insights/questions", params={"days": 7, "limit": 5})
    assert q.status_code == 200, q.text
    assert q.json()["groups"][0]["count"] == 2
    today = client.get("/v1/insights/today")
    assert today.status_code == 200, today.text
    assert today.json()["call_today"][0]["customer_id"] == "C2"
    assert client.get("/v1/insights/questions", params={"days": 0}).status_code == 422


def test_insights_dashboard_is_served(client: Any) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "今日必看" in page.text and "/dashboard/static/dashboard.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # offline: no CDN
    js = client.get("/dashboard/static/dashboard.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert "EventSource" in js.text and "/v1/alerts/stream" in js.text
    assert client.get("/dashboard/static/dashboard.css").status_code == 200
    missing = client.get("/dashboard/static/..%2Fmain.py")
    assert missing.status_code == 404


@pytest.mark.slow  # loads the real text pipeline (about 5 s)
def test_insights_after_a_real_post(client: Any) -> None:
    """End to end through the real pipeline: a risky chat shows up in today's summary and questions."""
    chat = ("2026-03-02 10:00:05 李总(客户): 今年预算冻结了，合同先不签了\n"
            "2026-03-02 10:01:00 小王(销售): 明白，我周五前把新方案发您\n"
            "2026-03-02 10:02:00 李总(客户): 另外你们能开专票吗？\n")
    occurred = utcnow().astimezone(CST).replace(microsecond=0)
    resp = client.post("/v1/interactions", json={
        "id": "chat-risky", "channel": "wechat", "format": "wechat_text", "customer_id": "C-42",
        "occurred_at": occurred.isoformat(), "content": chat, "region": "华东区", "team": "华东一组"})
    assert resp.status_code == 201, resp.text
    today = client.get("/v1/insights/today").json()
    assert any(g["kind"] == "risk" and "C-42" in g["customer_ids"] for g in today["red_alerts"])
    assert today["call_today"] and today["call_today"][0]["customer_id"] == "C-42"
    groups = client.get("/v1/insights/questions").json()["groups"]
    assert groups and groups[0]["topic"] == "invoice"
