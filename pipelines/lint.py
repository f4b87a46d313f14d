"""Record lint: the rules a daily interaction record must meet.

A record is useful only when its blocker says what the customer's problem is in plain words
(never "有意向", "再沟通"), its next action carries an exact time, and each support request names a
department and a person. The auto-fill marks fields that break these rules for review;
``POST /v1/records/lint`` applies the same checks to a record a rep wrote.

Vagueness is judged by what is left of a text once the stock phrases that say nothing
(有意向, 再沟通, 持续跟进, 等通知 …), filler words and time words are removed: "下周再沟通" leaves
nothing, "明天把报价单发给客户" leaves "报价单发给".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

__all__ = ["LintProblem", "is_vague", "lint_record", "LINT_CODES"]

LINT_CODES = (
    "missing-level",
    "bad-level",
    "empty-blocker",
    "p0-without-reason",
    "vague-blocker",
    "vague-action",
    "action-without-time",
    "bad-due",
    "due-in-past",
    "support-without-department",
    "support-without-person",
    "vague-support",
    "unnamed-competitor",
)


@dataclass(frozen=True, slots=True)
class LintProblem:
    field: str
    code: str
    message: str


# Stock phrases that fill a field without saying anything.
_VAGUE_PHRASES = re.compile(
    r"有意向|意向(?:较强|强烈|一般|不错|明确|较大)?|有兴趣|感兴趣|有需求|需求待确认|再沟通|继续沟通|保持沟通|进一步沟通|"
    r"深入沟通|沟通中|持续跟进|继续跟进|跟进中|待跟进|保持跟进|保持联系|保持关注|再联系|继续联系|电话联系|联系客户|"
    r"回访|跟进|推进中|推进|待定|再说|再议|后续再议|考虑中|在考虑|考虑一下|还在考虑|看情况|视情况|看看|再看看|"
    r"了解一下|了解情况|等通知|等消息|等回复|等客户回复|等客户反馈|等待反馈|等待回复|客户反馈|反馈|尽快|近期|择期|"
    r"适时|正常|良好|一般|无|暂无|没有|无异常|顺利|ok|OK|好的|可以|维护关系|维护客户|关系维护|拜访客户|约见客户|"
    r"做好服务|积极争取|争取|加强沟通|促成合作|促进成交|推动签约"
)
# Words that carry no content on their own.
_FILLER = re.compile(
    r"客户|对方|我们|我方|我|他们|她们|继续|进一步|进行|一下|一些|相关|事宜|事项|问题|情况|方面|工作|后续|下一步|再|等|"
    r"的|了|着|和|与|及|并|中|在|将|会|要|需|需要|已|已经|目前|暂时|计划|准备|安排|尽量|方面|项目|合作|业务|"
    r"今天|明天|后天|本周|下周|这周|周[一二三四五六日天]|月底|月初|年前|年后|近日|日内|之后|以后|之前|前|后|上午|下午|晚上|"
    r"\d+[月日号点:：]?|[，。、；：！？,.;:!?\s…~～()（）\-—/]"
)


def is_vague(text: str | None) -> bool:
    """True when a blocker/action text says nothing concrete (or nothing at all).

    Examples: "有意向", "下周再沟通", "持续跟进中", "客户考虑中" are vague; "预算冻结到3月",
    "明天10点前发参数对比表" are not.
    """
    if not text or not text.strip():
        return True
    rest = _VAGUE_PHRASES.sub("", text)
    if rest == text and len(text.strip()) >= 4:
        return False  # no stock phrase at all: concrete enough
    rest = _FILLER.sub("", rest)
    return len(rest) < 2


_LEVELS = ("P0", "P1", "P2", "P3")
_DUE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?(?:[+-]\d{2}:?\d{2}|Z)?)?$")
_UNNAMED = re.compile(r"^(?:另一家|另外一家|别家|别的厂家?|其他(?:厂家|供应商|品牌|公司)?|同行|友商|竞品|竞争对手|一家|"
                      r"二供|一供|某.{0,4}|[一两三几]家.{0,6})$")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _due_day(value: str) -> date | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date() if "T" in value else date.fromisoformat(value)
    except ValueError:
        return None


def _check_due(field: str, due: Any, reference: date | None, problems: list[LintProblem]) -> None:
    if due in (None, ""):
        return
    if not isinstance(due, str) or not _DUE.match(due) or _due_day(due) is None:
        problems.append(LintProblem(field, "bad-due", f"'{due}' is not a date: write YYYY-MM-DD or "
                                                      "YYYY-MM-DDTHH:MM:SS+08:00."))
        return
    day = _due_day(due)
    if reference is not None and day is not None and day < reference:
        problems.append(LintProblem(field, "due-in-past", f"{due} is before the interaction ({reference})."))


def lint_record(record: Mapping[str, Any], *, reference: date | datetime | None = None) -> tuple[LintProblem, ...]:
    """Check a record (the ``record`` object of the schema) and list its problems.

    Args:
        record: a CRM interaction record (blocker, next_action, support_needed, competitors …).
        reference: the interaction's date; when given, dues before it are flagged.

    Returns:
        The problems, in field order; empty when the record meets the rules.
    """
    ref = reference.date() if isinstance(reference, datetime) else reference
    problems: list[LintProblem] = []
    blocker = record.get("blocker")
    if isinstance(blocker, Mapping):
        text = _text(blocker.get("text"))
        level = blocker.get("level")
        if level in (None, ""):
            problems.append(LintProblem("blocker.level", "missing-level", "Give the blocker a level P0–P3."))
        elif level not in _LEVELS:
            problems.append(LintProblem("blocker.level", "bad-level", f"'{level}' is not a level: use P0, P1, P2 or P3."))
        if not text.strip():
            code = "p0-without-reason" if level == "P0" else "empty-blocker"
            problems.append(LintProblem("blocker.text", code,
                                        "Say in plain words what stops the deal" +
                                        (" — a P0 needs its reason." if level == "P0" else ".")))
        elif is_vague(text):
            problems.append(LintProblem("blocker.text", "vague-blocker",
                                        f"'{text}' is vague; write the customer's actual sticking point "
                                        "(e.g. 预算冻结到3月, 要求三家比价)."))
    action = record.get("next_action")
    if isinstance(action, Mapping):
        text = _text(action.get("text"))
        if not text.strip() or is_vague(text):
            problems.append(LintProblem("next_action.text", "vague-action",
                                        "Write a concrete step toward the customer (what, to whom), e.g. "
                                        "邮件发送参数对比表."))
        if not action.get("due"):
            problems.append(LintProblem("next_action.due", "action-without-time",
                                        "Give the next action an exact time (e.g. 2026-02-03 10:00前)."))
        else:
            _check_due("next_action.due", action.get("due"), ref, problems)
    for i, item in enumerate(record.get("support_needed") or []):
        if not isinstance(item, Mapping):
            continue
        if not item.get("department"):
            problems.append(LintProblem(f"support_needed[{i}].department", "support-without-department",
                                        "Name the department asked for help (技术部, 法务部, …)."))
        if not item.get("person"):
            problems.append(LintProblem(f"support_needed[{i}].person", "support-without-person",
                                        "Name the person asked for help (张工, 陈总, …)."))
        request = item.get("request")
        if isinstance(request, str) and request.strip() and is_vague(request):
            problems.append(LintProblem(f"support_needed[{i}].request", "vague-support",
                                        f"'{request}' is vague; say what the colleague should do and by when."))
        _check_due(f"support_needed[{i}].due", item.get("due"), ref, problems)
    for i, name in enumerate(record.get("competitors") or []):
        if isinstance(name, str) and _UNNAMED.match(name.strip()):
            problems.append(LintProblem(f"competitors[{i}]", "unnamed-competitor",
                                        f"'{name}' is not a name; write the competitor's brand or company."))
    return tuple(problems)
