"""Record lint: the rules a daily interaction record must meet.

A record is useful only when its blocker says what the customer's problem is in plain words,
its next action carries an exact time, and each support request names a department and a
person. The auto-fill marks fields that break these rules for review; ``POST /v1/records/lint``
applies the same checks to a record a rep wrote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["LintProblem", "is_vague", "lint_record"]


@dataclass(frozen=True, slots=True)
class LintProblem:
    field: str
    code: str
    message: str


# Phrases that fill a field without saying anything.
_VAGUE = re.compile(
    r"^(?:客户)?(?:有意向|意向(?:较强|一般|不错)?|再沟通|继续沟通|保持沟通|保持联系|持续跟进|继续跟进|跟进|"
    r"待定|再说|考虑一下|还在考虑|看情况|看看|了解一下|再看看|等通知|等消息|后续再议|近期联系|尽快|"
    r"推进中|沟通中|有需求|需求待确认|无|暂无|正常|良好|一般|ok|OK)[。.！!…]*$"
)
_VAGUE_PARTS = re.compile(r"(再沟通|继续跟进|保持联系|有意向|待定|看情况|后续再议)")


def is_vague(text: str | None) -> bool:
    """True when a blocker/action text says nothing concrete."""
    if not text or not text.strip():
        return True
    t = re.sub(r"\s+", "", text)
    if _VAGUE.match(t):
        return True
    # Short texts made mostly of a vague phrase ("下周再沟通").
    meaningful = _VAGUE_PARTS.sub("", t)
    return len(t) <= 10 and len(meaningful) <= 4 and meaningful != t


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def lint_record(record: Mapping[str, Any]) -> tuple[LintProblem, ...]:
    """Check a record (the ``record`` object of the schema) and list its problems."""
    problems: list[LintProblem] = []
    blocker = record.get("blocker")
    if isinstance(blocker, Mapping):
        text = _text(blocker.get("text"))
        level = blocker.get("level")
        if level not in ("P0", "P1", "P2", "P3"):
            problems.append(LintProblem("blocker.level", "missing-level", "Give the blocker a level P0–P3."))
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
                                        "Write a concrete step toward the customer (what, to whom)."))
        if not action.get("due"):
            problems.append(LintProblem("next_action.due", "action-without-time",
                                        "Give the next action an exact time (e.g. 2026-02-03 10:00前)."))
    for i, item in enumerate(record.get("support_needed") or []):
        if not isinstance(item, Mapping):
            continue
        if not item.get("department"):
            problems.append(LintProblem(f"support_needed[{i}].department", "support-without-department",
                                        "Name the department asked for help (技术部, 法务部, …)."))
        if not item.get("person"):
            problems.append(LintProblem(f"support_needed[{i}].person", "support-without-person",
                                        "Name the person asked for help (张工, 陈总, …)."))
    return tuple(problems)
