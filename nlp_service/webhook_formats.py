"""Ready payloads for chat-bot webhooks (企业微信 WeCom, 钉钉 DingTalk, 飞书 Feishu) and plain JSON.

The bots' own signing schemes (DingTalk's ``timestamp``+``sign`` query, Feishu's ``timestamp``
+``sign`` body fields) are applied at send time by ``sign_for_format``; plain JSON receivers get
our ``X-Nlp-Signature`` HMAC header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import quote_plus

__all__ = ["CATEGORY_LABELS", "render_payload", "alert_text", "sign_for_format"]

CATEGORY_LABELS = {
    "price": "价格异议", "budget": "预算问题", "procurement": "采购流程", "decision_delay": "决策延迟",
    "competitor": "竞品威胁", "churn": "流失风险", "trust": "信任问题", "payment": "回款风险",
}
_SEVERITY = {1: "提示", 2: "关注", 3: "紧急"}


def alert_text(alert: dict[str, Any]) -> tuple[str, str]:
    """A title and a Markdown body a manager can read on a phone."""
    label = CATEGORY_LABELS.get(alert.get("category", ""), alert.get("category", ""))
    level = f"【{alert['level']}】" if alert.get("level") else ""
    title = f"{level}客户风险：{label}"
    lines = [
        f"**{title}**",
        f"> 客户：{alert.get('customer_id')}" + (f"（{alert['team']}）" if alert.get("team") else ""),
        f"> 原话：「{alert.get('quote', '')}」",
        f"> 级别：{_SEVERITY.get(int(alert.get('severity') or 2), '关注')}  渠道：{alert.get('channel') or '-'}",
        f"> 沟通记录：{alert.get('interaction_id')}",
    ]
    return title, "\n".join(lines)


def render_payload(fmt: str, alert: dict[str, Any]) -> dict[str, Any]:
    title, text = alert_text(alert)
    if fmt == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    if fmt == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    if fmt == "feishu":
        return {"msg_type": "text", "content": {"text": text.replace("**", "").replace("> ", "")}}
    return {"event": "alert", "alert": alert}


def sign_for_format(fmt: str | None, url: str, body: str, secret: str | None, now: float | None = None
                    ) -> tuple[str, str]:
    """Apply a bot's own signature: returns the (url, body) to send."""
    if not secret or fmt not in ("dingtalk", "feishu"):
        return url, body
    if fmt == "dingtalk":
        ts = str(int((now or time.time()) * 1000))
        mac = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
        sign = quote_plus(base64.b64encode(mac).decode())
        sep = "&" if "?" in url else "?"
        return f"{url}{sep}timestamp={ts}&sign={sign}", body
    ts = str(int(now or time.time()))
    mac = hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()
    data = json.loads(body)
    data.update({"timestamp": ts, "sign": base64.b64encode(mac).decode()})
    return url, json.dumps(data, ensure_ascii=False, separators=(",", ":"))
