"""PII redaction for stored text and alerts: mobile numbers, ID-card numbers, bank cards, e-mail
addresses. Masks keep the length of what they replace, so character offsets in a stored record
(risk-signal ``start``/``end``) stay valid against the stored, redacted text.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["redact_text", "redact_result"]

# Mainland mobile numbers, optionally +86 and with spaces/dashes: 138 1234 5678, 138-1234-5678.
_MOBILE = re.compile(r"(?<![\d])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![\d])")
_ID_CARD = re.compile(r"(?<![\dA-Za-z])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])")
_CARD = re.compile(r"(?<![\d])(?:\d[ -]?){15,18}\d(?![\d])")
_EMAIL = re.compile(r"(?<![\w.+-])([A-Za-z0-9._%+-]{1,64})@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _mask_keep(s: str, head: int, tail: int) -> str:
    digits = [i for i, c in enumerate(s) if c.isalnum()]
    keep = set(digits[:head] + (digits[-tail:] if tail else []))
    return "".join(c if (i in keep or not c.isalnum()) else "*" for i, c in enumerate(s))


def _mask_mobile(s: str) -> str:
    digits = [i for i, c in enumerate(s) if c.isdigit()][-11:]  # the number after any +86
    masked = set(digits[3:7])
    return "".join("*" if i in masked else c for i, c in enumerate(s))


def redact_text(text: str) -> str:
    """Mask PII in ``text``; the result has the same length."""
    if not text:
        return text
    text = _ID_CARD.sub(lambda m: _mask_keep(m.group(0), 3, 2), text)
    text = _MOBILE.sub(lambda m: _mask_mobile(m.group(0)), text)

    def card(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return _mask_keep(m.group(0), 4, 4) if _luhn(digits) else m.group(0)

    text = _CARD.sub(card, text)
    return _EMAIL.sub(lambda m: m.group(1)[0] + "*" * (len(m.group(1)) - 1) + "@" + m.group(2), text)


def redact_result(value: Any) -> Any:
    """Redact every string inside a result object (ids and enum-like keys are left alone)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [redact_result(v) for v in value]
    if isinstance(value, dict):
        return {k: (v if k in _KEEP else redact_result(v)) for k, v in value.items()}
    return value


_KEEP = frozenset({"interaction_id", "customer_id", "channel", "occurred_at", "schema_version", "category",
                   "speaker", "level", "due", "at", "kind", "method", "entry_id", "versions", "timings_ms"})
