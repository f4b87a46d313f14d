"""「同步最新沟通」 sync, the customer timeline, and record lint."""

from __future__ import annotations

from typing import Any

from nlp_service.sync import merge_results


def _chat(ident: str, day: int, lines: list[str], customer: str = "C-S") -> dict[str, Any]:
    content = "\n".join(f"2026-03-{day:02d} 10:{i:02d}:00 {line}" for i, line in enumerate(lines))
    return {"id": ident, "channel": "wechat", "format": "wechat_text", "customer_id": customer,
            "occurred_at": f"2026-03-{day:02d}T10:00:00+08:00", "content": content}


FIRST = _chat("s-1", 2, ["李总(客户): 你们的报价太贵了，比别家高两成", "张三(销售): 我明天上午10点前把新的报价单发您"])
SECOND = _chat("s-2", 4, ["李总(客户): 另外我们要走三家比价的流程", "张三(销售): 好的，我周五前把资质证书发您"])


def test_sync_merges_new_interactions_and_moves_the_sync_point(client: Any) -> None:
    resp = client.post("/v1/customers/C-S/sync", json={"interactions": [FIRST, SECOND]})
    assert resp.status_code == 200, resp.text
    draft = resp.json()
    assert draft["new_interactions"] == 2 and draft["interactions"] == ["s-1", "s-2"]
    record, sources = draft["record"], draft["sources"]
    # Newest facts win: the next action comes from the newer interaction.
    assert sources["next_action"] == "s-2"
    assert record["next_action"]["due"] == "2026-03-06"
    cats = {s["category"] for s in record["risk_signals"]}
    assert {"price", "procurement"} <= cats
    assert all(s["interaction_id"] in ("s-1", "s-2") for s in record["risk_signals"])
    assert set(draft["fill"]) == {"filled", "empty", "needs_review", "ratio"}

    again = client.post("/v1/customers/C-S/sync").json()
    assert again["new_interactions"] == 0 and again["record"] == record  # nothing new: the last draft

    third = _chat("s-3", 6, ["李总(客户): 领导说这个月先不签了，等下个季度预算"])
    newer = client.post("/v1/customers/C-S/sync", json={"interactions": [third]}).json()
    assert newer["new_interactions"] == 1 and newer["interactions"] == ["s-3"]
    assert newer["record"]["risk_signals"]
    assert {s["interaction_id"] for s in newer["record"]["risk_signals"]} == {"s-3"}


def test_sync_uses_stored_interactions_when_the_body_is_empty(client: Any) -> None:
    assert client.post("/v1/interactions", json=FIRST).status_code == 201
    draft = client.post("/v1/customers/C-S/sync").json()
    assert draft["interactions"] == ["s-1"]


def test_sync_errors(client: Any) -> None:
    resp = client.post("/v1/customers/C-NONE/sync")
    assert resp.status_code == 404 and resp.json()["code"] == "not-found"
    resp = client.post("/v1/customers/C-OTHER/sync", json={"interactions": [FIRST]})
    assert resp.status_code == 422 and resp.json()["code"] == "invalid-input"


def test_timeline_is_oldest_first(client: Any) -> None:
    client.post("/v1/interactions", json=SECOND)
    client.post("/v1/interactions", json=FIRST)
    items = client.get("/v1/customers/C-S/timeline").json()["items"]
    assert [i["interaction_id"] for i in items] == ["s-1", "s-2"]
    assert items[0]["channel"] == "wechat" and items[0]["risk_signals"]


def test_merge_newest_wins_and_lists_union() -> None:
    older = {"interaction_id": "a", "occurred_at": "2026-03-01T10:00:00+08:00",
             "record": {"blocker": {"text": "价格高", "level": "P2"}, "competitors": ["甲公司"], "summary": "旧"}}
    newer = {"interaction_id": "b", "occurred_at": "2026-03-03T10:00:00+08:00",
             "record": {"blocker": None, "competitors": ["乙公司", "甲公司"], "summary": "新"}}
    merged = merge_results([newer, older])
    assert merged["record"]["blocker"]["text"] == "价格高" and merged["sources"]["blocker"] == "a"
    assert merged["record"]["competitors"] == ["乙公司", "甲公司"]
    assert merged["record"]["summary"].startswith("新")


def test_lint_endpoint(client: Any) -> None:
    bad = {"record": {"blocker": {"text": "有意向", "level": "P2"}, "next_action": {"text": "再沟通", "due": None},
                      "support_needed": [{"department": "技术部", "person": None, "request": "出方案"}]}}
    out = client.post("/v1/records/lint", json=bad).json()
    codes = {p["code"] for p in out["problems"]}
    assert not out["ok"]
    assert {"vague-blocker", "action-without-time", "support-without-person"} <= codes
    good = {"blocker": {"text": "客户预算冻结到4月，需等新财年", "level": "P1"},
            "next_action": {"text": "3月5日10点前邮件发送参数对比表", "due": "2026-03-05T10:00:00+08:00"},
            "support_needed": [{"department": "技术部", "person": "张工", "request": "出参数对比"}]}
    assert client.post("/v1/records/lint", json=good).json() == {"ok": True, "problems": []}
