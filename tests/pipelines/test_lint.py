"""Record lint: vague texts, actions without time, support without department/person."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.lint import LINT_CODES, is_vague, lint_record

# fmt: off
VAGUE = (
    "有意向", "客户有意向，下周再联系", "下周再沟通", "持续跟进中", "客户考虑中", "等客户回复", "跟进", "暂无",
    "尽快", "近期拜访客户", "保持联系", "", "   ", "待定", "看情况再说",
)
CONCRETE = (
    "预算冻结到3月", "要求三家比价", "价格比竞品高8%", "2026-02-03 10:00前邮件发送参数对比表",
    "明天上午带技术部去现场看设备", "下午给您回电话", "老板还没拍板", "知名度一般，怕卖不动",
    "争取本周内签约",
)
# fmt: on


@pytest.mark.parametrize("text", VAGUE)
def test_lint_is_vague(text: str) -> None:
    assert is_vague(text)


@pytest.mark.parametrize("text", CONCRETE)
def test_lint_is_not_vague(text: str) -> None:
    assert not is_vague(text)


def test_lint_is_vague_none() -> None:
    assert is_vague(None)


def _codes(record: dict) -> list[str]:  # type: ignore[type-arg]
    return [p.code for p in lint_record(record)]


def test_lint_good_record_has_no_problems() -> None:
    record = {
        "blocker": {"text": "集团要求走集采，我们不在库里", "level": "P1"},
        "next_action": {"text": "下周二带区域经理拜访招采中心", "due": "2026-02-03"},
        "support_needed": [{"department": "销售部", "person": "区域经理", "request": "一起拜访招采中心", "due": None}],
        "competitors": ["东方雨虹"],
    }
    assert lint_record(record) == ()


def test_lint_vague_blocker_and_action() -> None:
    record = {"blocker": {"text": "客户有意向", "level": "P2"}, "next_action": {"text": "再沟通", "due": None}}
    assert _codes(record) == ["vague-blocker", "vague-action", "action-without-time"]


def test_lint_blocker_levels() -> None:
    assert _codes({"blocker": {"text": "预算砍了三成", "level": None}}) == ["missing-level"]
    assert _codes({"blocker": {"text": "预算砍了三成", "level": "高"}}) == ["bad-level"]
    assert _codes({"blocker": {"text": "", "level": "P0"}}) == ["p0-without-reason"]
    assert _codes({"blocker": {"text": " ", "level": "P2"}}) == ["empty-blocker"]


def test_lint_due_format_and_past() -> None:
    record = {"next_action": {"text": "发报价单", "due": "下周五"}}
    assert _codes(record) == ["bad-due"]
    record = {"next_action": {"text": "发报价单", "due": "2026-01-05"}}
    problems = lint_record(record, reference=date(2026, 1, 12))
    assert [p.code for p in problems] == ["due-in-past"]
    assert lint_record({"next_action": {"text": "发报价单", "due": "2026-01-13T10:00:00+08:00"}},
                       reference=date(2026, 1, 12)) == ()


def test_lint_support_needs_department_and_person() -> None:
    record = {"support_needed": [{"department": None, "person": "陈总", "request": "批特价"},
                                 {"department": "技术部", "person": None, "request": "跟进"}]}
    assert _codes(record) == ["support-without-department", "support-without-person", "vague-support"]
    problems = lint_record(record)
    assert problems[0].field == "support_needed[0].department"


def test_lint_unnamed_competitor() -> None:
    problems = lint_record({"competitors": ["钉钉", "另一家", "二供"]})
    assert [(p.field, p.code) for p in problems] == [("competitors[1]", "unnamed-competitor"),
                                                     ("competitors[2]", "unnamed-competitor")]


def test_lint_codes_are_closed() -> None:
    record = {"blocker": {"text": "", "level": "X"}, "next_action": {"text": "", "due": "bad"},
              "support_needed": [{}], "competitors": ["别家"]}
    assert set(_codes(record)) <= set(LINT_CODES)


def test_lint_ignores_malformed_parts() -> None:
    assert lint_record({"blocker": "预算冻结", "next_action": None, "support_needed": ["x"]}) == ()
