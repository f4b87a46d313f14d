"""Helpers shared by the line-based parsers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import tzinfo

from pipelines.conversation import Speaker

__all__ = ["iter_lines", "role_from_label", "ROLE_LABEL"]

# Labels a CRM or ASR system writes for each side. Anything else is a name, not a role.
_CUSTOMER_LABELS = ("客户", "顾客", "用户", "甲方", "买方", "采购方", "customer", "client")
_REP_LABELS = ("销售", "客服", "业务员", "业务", "客户经理", "销售经理", "顾问", "乙方", "我方", "坐席",
               "rep", "sales", "agent")
ROLE_LABEL = re.compile(
    "(" + "|".join(sorted((re.escape(x) for x in _CUSTOMER_LABELS + _REP_LABELS), key=len, reverse=True)) + ")",
    re.IGNORECASE,
)


def role_from_label(label: str) -> Speaker:
    """Map a speaker label ("客户", "销售经理", "客户A", "Sales") to a role."""
    low = label.strip().lower()
    # Longest first: 客户经理 is the rep, not the customer.
    for word in sorted(_CUSTOMER_LABELS + _REP_LABELS, key=len, reverse=True):
        if word in low:
            return "customer" if word in _CUSTOMER_LABELS else "rep"
    return "unknown"


def iter_lines(content: str) -> Iterator[tuple[int, int, int, str]]:
    """Yield ``(line_no, start, end, text)`` for each line; ``\\r\\n`` and ``\\r`` ends are handled."""
    pos = 0
    n = len(content)
    line_no = 0
    while pos < n:
        line_no += 1
        nl = content.find("\n", pos)
        end = n if nl == -1 else nl
        text_end = end - 1 if end > pos and content[end - 1] == "\r" else end
        yield line_no, pos, text_end, content[pos:text_end]
        pos = end + 1


def local_tz(tz: tzinfo | None) -> tzinfo:
    from datetime import timedelta, timezone

    return tz or timezone(timedelta(hours=8))
