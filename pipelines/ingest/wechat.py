"""WeChat: Enterprise-WeChat (企业微信) archive JSONL and plain-text chat exports.

Archive messages follow the session-archive API ("会话内容存档"): one JSON object per line with
``msgid``, ``action`` (send / recall / switch), ``from``, ``tolist``, ``roomid`` (group chats),
``msgtime`` in epoch milliseconds and a ``msgtype``-named payload. Text messages become turns
whose text is exactly ``text.content`` (quotes index into it); ``file`` messages name an
attachment; images, stickers and voice become typed non-text turns; a ``revoke`` message removes
the message it recalls. Roles come from the ``participants`` map; an unmapped sender whose id
looks like an external contact (``wm``/``wo`` prefix) is taken for the customer, marked inferred.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime

from pipelines.conversation import Channel, Conversation, Speaker, Turn, TurnKind
from pipelines.ingest.common import iter_lines, local_tz, role_from_label
from pipelines.ingest.errors import IngestError
from pipelines.roles import infer_roles

__all__ = ["parse_wechat_archive", "parse_wechat_text"]

_KINDS: dict[str, TurnKind] = {
    "text": "text", "markdown": "text", "file": "file", "image": "image", "emotion": "emotion",
    "voice": "voice", "meeting_voice_call": "voice", "video": "video", "link": "link", "weapp": "link",
    "revoke": "revoke",
}
_EXTERNAL_ID = re.compile(r"^(wm|wo)[A-Za-z0-9_-]{10,}$")


def _role_of(sender: str, participants: Mapping[str, Mapping[str, object]]) -> tuple[Speaker, str | None, bool]:
    info = participants.get(sender)
    if info is not None:
        role = str(info.get("role", "")).lower()
        name = info.get("name")
        speaker: Speaker = "rep" if role in ("rep", "sales", "agent", "staff") else \
            "customer" if role in ("customer", "client") else role_from_label(role)
        return speaker, str(name) if name else None, speaker == "unknown"
    # WeCom gives external contacts ids starting wm/wo; staff ids are the company's own.
    if _EXTERNAL_ID.match(sender):
        return "customer", None, True
    return "rep", None, True


def parse_wechat_archive(
    content: str,
    *,
    participants: Mapping[str, Mapping[str, object]] | None = None,
    channel: Channel = "wechat",
    started_at: datetime | None = None,
) -> Conversation:
    """Parse Enterprise-WeChat archive JSONL.

    Raises:
        IngestError: a line that is not a JSON object, lacks ``from``/``msgtime``/``msgtype``, or
            a text message without ``text.content`` (the error names the line).
    """
    participants = participants or {}
    tz = local_tz(started_at.tzinfo if started_at else None)
    raw: list[dict] = []
    revoked: set[str] = set()
    warnings: list[str] = []
    for line_no, _start, _end, line in iter_lines(content):
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IngestError(f"not valid JSON ({exc.msg} at column {exc.colno}); each line must be one "
                              "archive message object", line=line_no) from None
        if not isinstance(msg, dict):
            raise IngestError("each line must be a JSON object (one archive message)", line=line_no)
        if msg.get("action") == "switch":
            continue  # an enterprise-switch event, not a message
        missing = [k for k in ("from", "msgtime", "msgtype") if k not in msg]
        if missing:
            raise IngestError(f"archive message lacks {', '.join(missing)}", line=line_no)
        try:
            ms = int(msg["msgtime"])
            at = datetime.fromtimestamp(ms / 1000, tz)
        except (TypeError, ValueError, OverflowError, OSError):
            raise IngestError(f"msgtime {msg['msgtime']!r} is not epoch milliseconds", line=line_no) from None
        msgtype = str(msg["msgtype"])
        if msgtype == "revoke" or msg.get("action") == "recall":
            pre = (msg.get("revoke") or {}).get("pre_msgid") if isinstance(msg.get("revoke"), dict) else None
            if pre:
                revoked.add(str(pre))
            continue
        payload = msg.get(msgtype)
        text = ""
        attachment = None
        media: tuple[str, ...] = ()
        kind: TurnKind = _KINDS.get(msgtype, "other")
        if msgtype in ("text", "markdown"):
            if not isinstance(payload, dict) or not isinstance(payload.get("content"), str):
                raise IngestError(f"{msgtype} message without {msgtype}.content", line=line_no)
            text = payload["content"]
        elif msgtype == "file":
            if isinstance(payload, dict) and payload.get("filename"):
                attachment = str(payload["filename"])
        elif msgtype == "mixed":
            # A message of several parts: keep its first text part (quotes must index one string).
            items = (payload or {}).get("item", []) if isinstance(payload, dict) else []
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and item.get("type") == "text":
                    inner = item.get("content")
                    try:
                        inner = json.loads(inner) if isinstance(inner, str) else inner
                    except json.JSONDecodeError:
                        inner = None
                    if isinstance(inner, dict) and isinstance(inner.get("content"), str):
                        text, kind = inner["content"], "text"
                        break
        elif kind == "voice" and isinstance(payload, dict):
            keys = [str(msg.get("msgid") or "")] + [str(payload.get(k) or "") for k in ("sdkfileid", "md5sum")]
            attachment = None
            media = tuple(k for k in keys if k)
        elif kind == "other":
            warnings.append(f"line {line_no}: message type {msgtype!r} kept as a non-text turn")
        raw.append({"msg": msg, "at": at, "text": text, "kind": kind, "attachment": attachment, "line": line_no,
                    "ms": ms, "media": media})
    if not raw:
        raise IngestError("no archive messages found", code="empty-content")

    raw.sort(key=lambda r: r["ms"])  # archives are pulled by seq, not always by time
    turns: list[Turn] = []
    inferred_any = False
    for r in raw:
        msg = r["msg"]
        if str(msg.get("msgid")) in revoked:
            continue
        speaker, name, inferred = _role_of(str(msg["from"]), participants)
        inferred_any |= inferred
        turns.append(Turn(
            index=len(turns), speaker=speaker, text=r["text"], name=name, at=r["at"], source="message",
            source_start=0, source_end=len(r["text"]), role_inferred=inferred, kind=r["kind"],
            attachment=r["attachment"], message_id=str(msg.get("msgid")) if msg.get("msgid") else None,
            media_keys=r["media"],
        ))
    return Conversation(channel=channel, format="wechat_archive_jsonl", turns=tuple(turns),
                        started_at=started_at or (turns[0].at if turns else None),
                        roles_inferred=inferred_any, warnings=tuple(warnings))


# 2026-01-12 09:41:40 王建国(客户): 内容   (also full-width brackets/colon, no seconds, "/" dates)
_TEXT_LINE = re.compile(
    r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+"
    r"(?P<who>[^\n:：]{1,40}?)\s*[:：]\s?"
)
_WHO_ROLE = re.compile(r"^(?P<name>.*?)\s*[(（](?P<role>[^()（）]{1,10})[)）]\s*$")
# Inline non-text markers of exports: [图片] [文件: 报价单.pdf] [语音] and sticker names [捂脸].
_FILE_MARK = re.compile(r"^\[(?:文件|附件|File)[:：]\s*(.+?)\]$")
_MEDIA_MARK = {"[图片]": "image", "[语音]": "voice", "[视频]": "video", "[动画表情]": "emotion", "[表情]": "emotion"}


def parse_wechat_text(
    content: str,
    *,
    participants: Mapping[str, Mapping[str, object]] | None = None,
    channel: Channel = "wechat",
    started_at: datetime | None = None,
) -> Conversation:
    """Parse a plain-text export: ``YYYY-MM-DD HH:MM:SS 名字(客户): 内容`` per message.

    Lines without a stamp continue the previous message (multi-line messages). Roles come from
    the bracketed label, else from ``participants`` by name, else from content (inferred).

    Raises:
        IngestError: when the first non-empty line is not a message line, or a date is invalid.
    """
    participants = participants or {}
    by_name = {str(v.get("name")): str(v.get("role", "")) for v in participants.values() if v.get("name")}
    tz = local_tz(started_at.tzinfo if started_at else None)
    msgs: list[dict] = []
    for line_no, start, end, line in iter_lines(content):
        if not line.strip():
            continue
        m = _TEXT_LINE.match(line)
        if not m:
            if not msgs:
                raise IngestError("expected 'YYYY-MM-DD HH:MM:SS 名字(客户): 内容'", line=line_no)
            msgs[-1]["end"] = end
            continue
        y, mo, d, h, mi, se = (int(g) if g else 0 for g in m.groups()[:6])
        try:
            at = datetime(y, mo, d, h, mi, se, tzinfo=tz)
        except ValueError as exc:
            raise IngestError(f"invalid date/time ({exc})", line=line_no) from None
        who = m.group("who").strip()
        wr = _WHO_ROLE.match(who)
        name, label = (wr.group("name").strip() or None, wr.group("role")) if wr else (who, "")
        speaker = role_from_label(label) if label else "unknown"
        if speaker == "unknown" and name in by_name:
            speaker = role_from_label(by_name[name]) if by_name[name] not in ("rep", "customer") else \
                ("rep" if by_name[name] == "rep" else "customer")
        msgs.append({"at": at, "name": name, "speaker": speaker, "start": start + m.end(), "end": end})
    if not msgs:
        raise IngestError("no chat messages found", code="empty-content")

    unknown_names = {m["name"] for m in msgs if m["speaker"] == "unknown"}
    inferred = bool(unknown_names)
    if unknown_names:
        texts = [content[m["start"]:m["end"]] for m in msgs]
        roles = infer_roles(texts)
        votes: dict[str | None, int] = {}
        for m, r in zip(msgs, roles, strict=True):
            votes[m["name"]] = votes.get(m["name"], 0) + (1 if r == "rep" else -1)
        for m in msgs:
            if m["speaker"] == "unknown":
                m["speaker"] = "rep" if votes[m["name"]] > 0 else "customer"
                m["inferred"] = True

    turns = []
    for m in msgs:
        text = content[m["start"]:m["end"]].rstrip()
        kind: TurnKind = "text"
        attachment = None
        fm = _FILE_MARK.match(text.strip())
        if fm:
            kind, attachment = "file", fm.group(1).strip()
        elif text.strip() in _MEDIA_MARK:
            kind = _MEDIA_MARK[text.strip()]  # type: ignore[assignment]
        turns.append(Turn(
            index=len(turns), speaker=m["speaker"], text=text, name=m["name"], at=m["at"], source="content",
            source_start=m["start"], source_end=m["start"] + len(text), role_inferred=m.get("inferred", False),
            kind=kind, attachment=attachment,
        ))
    return Conversation(channel=channel, format="wechat_text", turns=tuple(turns),
                        started_at=started_at or turns[0].at, roles_inferred=inferred)
