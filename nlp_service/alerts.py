"""Alert rules: from an interaction's customer-spoken risk signals to manager alerts.

Rules are configuration (a YAML file or ``PUT /v1/alert-rules``), validated with pydantic. An
alert is raised for a customer-spoken signal that a rule matches (team / region / customer /
category and a minimum severity); a P0 blocker always alerts. The same category for the same
customer within the dedup window is one alert with a counter, and a per-customer hourly cap
throttles pushes (throttled alerts are stored and listed, but not pushed). Rule evaluation is a
pure function of the result, the rules, and the recent alerts, with an injectable clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from nlp_service.errors import NlpServiceError

__all__ = [
    "CATEGORIES",
    "RuleMatch",
    "AlertRule",
    "WebhookConfig",
    "AlertRules",
    "AlertCandidate",
    "load_rules",
    "parse_rules",
    "evaluate_rules",
    "DEFAULT_RULES",
]

CATEGORIES = ("price", "budget", "procurement", "decision_delay", "competitor", "churn", "trust", "payment")
Category = Literal["price", "budget", "procurement", "decision_delay", "competitor", "churn", "trust", "payment"]
WebhookFormat = Literal["json", "wecom", "dingtalk", "feishu"]


class RuleMatch(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    teams: list[str] = Field(default_factory=list, description="empty = any team")
    regions: list[str] = Field(default_factory=list)
    customers: list[str] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)
    min_severity: int = Field(1, ge=1, le=3)


class AlertRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(min_length=1, max_length=100)
    match: RuleMatch = Field(default_factory=RuleMatch)
    webhooks: list[str] = Field(default_factory=list, description="ids of webhooks this rule pushes to")
    enabled: bool = True


class WebhookConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=8, max_length=2000)
    format: WebhookFormat = "json"
    secret: str | None = Field(None, max_length=200, description="HMAC-SHA256 key (X-Nlp-Signature)")

    @field_validator("url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return v


class AlertRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: int = 1
    dedup_window_s: float = Field(3600.0, ge=0, le=30 * 86400)
    max_per_customer_per_hour: int = Field(10, ge=1, le=10000)
    rules: list[AlertRule] = Field(default_factory=lambda: [AlertRule(id="all-customer-risks")])
    webhooks: list[WebhookConfig] = Field(default_factory=list)

    @field_validator("rules")
    @classmethod
    def _unique_rules(cls, v: list[AlertRule]) -> list[AlertRule]:
        ids = [r.id for r in v]
        if len(ids) != len(set(ids)):
            raise ValueError("rule ids must be unique")
        return v

    def model_post_init(self, _context: Any) -> None:
        known = {w.id for w in self.webhooks}
        if len(known) != len(self.webhooks):
            raise ValueError("webhook ids must be unique")
        for r in self.rules:
            missing = [w for w in r.webhooks if w not in known]
            if missing:
                raise ValueError(f"rule {r.id!r} names unknown webhooks {missing}")


DEFAULT_RULES = AlertRules()


def parse_rules(data: Any, *, source: str = "rules") -> AlertRules:
    """Validate rules; errors name the failing field."""
    try:
        return AlertRules.model_validate(data)
    except (ValidationError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            msgs = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()[:6])
        else:
            msgs = str(exc)
        raise NlpServiceError("invalid-rules", f"{source}: {msgs}") from None


def load_rules(path: Path | None) -> AlertRules:
    if path is None:
        return DEFAULT_RULES
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise NlpServiceError("invalid-rules", f"{path}: {exc}") from None
    return parse_rules(data or {}, source=str(path))


@dataclass(frozen=True, slots=True)
class AlertCandidate:
    """An alert the rules decided to raise (before dedup against stored alerts)."""

    category: str
    severity: int
    quote: str
    turn: int
    level: str | None
    rule_ids: tuple[str, ...]
    webhook_ids: tuple[str, ...]
    kind: Literal["risk_signal", "p0_blocker"] = "risk_signal"
    extra: dict[str, Any] = field(default_factory=dict)


def _matches(m: RuleMatch, *, team: str | None, region: str | None, customer_id: str, category: str,
             severity: int) -> bool:
    if m.teams and team not in m.teams:
        return False
    if m.regions and region not in m.regions:
        return False
    if m.customers and customer_id not in m.customers:
        return False
    if m.categories and category not in m.categories:
        return False
    return severity >= m.min_severity


def evaluate_rules(result: dict[str, Any], rules: AlertRules, *, team: str | None = None,
                   region: str | None = None) -> list[AlertCandidate]:
    """Alerts one stored result raises: one per category (its strongest customer signal)."""
    record = result.get("record") or {}
    customer_id = str(result.get("customer_id", ""))
    best: dict[str, dict[str, Any]] = {}
    for s in record.get("risk_signals") or []:
        if s.get("speaker") != "customer":
            continue  # only what the customer said alerts; a rep's restatement stays in the record
        cat = s.get("category")
        sev = int(s.get("severity") or 2)
        if cat not in best or sev > int(best[cat].get("severity") or 2):
            best[cat] = s
    blocker = record.get("blocker") or {}
    level = blocker.get("level")
    out: list[AlertCandidate] = []
    for cat, s in best.items():
        sev = int(s.get("severity") or 2)
        matched = [r for r in rules.rules if r.enabled and _matches(r.match, team=team, region=region,
                                                                    customer_id=customer_id, category=cat,
                                                                    severity=sev)]
        if not matched and level != "P0":
            continue
        hooks = tuple(dict.fromkeys(w for r in matched for w in r.webhooks))
        out.append(AlertCandidate(category=cat, severity=sev, quote=str(s.get("quote", "")), turn=int(s.get("turn", 0)),
                                  level=level, rule_ids=tuple(r.id for r in matched), webhook_ids=hooks))
    if level == "P0" and not out:
        # P0 always alerts, even when the blocker rests on a rep's report or matched no rule.
        out.append(AlertCandidate(category="churn", severity=3, quote=str(blocker.get("text", "")), turn=0,
                                  level="P0", rule_ids=(), webhook_ids=tuple(w.id for w in rules.webhooks),
                                  kind="p0_blocker"))
    elif level == "P0":
        all_hooks = tuple(w.id for w in rules.webhooks)
        out = [AlertCandidate(c.category, c.severity, c.quote, c.turn, c.level, c.rule_ids,
                              tuple(dict.fromkeys((*c.webhook_ids, *all_hooks))), c.kind) for c in out]
    return out


def dedup_key(tenant: str, customer_id: str, category: str) -> str:
    return f"{tenant}|{customer_id}|{category}"


def within(ts: datetime, now: datetime, window_s: float) -> bool:
    return now - ts <= timedelta(seconds=window_s)


def throttled(recent_pushes: Sequence[datetime], now: datetime, cap: int) -> bool:
    hour_ago = now - timedelta(hours=1)
    return sum(1 for t in recent_pushes if t >= hour_ago) >= cap
