"""E-mail (RFC 822 / MIME): keep only the new message, and say who wrote it.

A sales e-mail carries far more than its news: the quoted thread below it (``> `` lines,
``在 … 写道：``, Outlook ``发件人:/From:`` header blocks, forwarded blocks), the sender's
signature and a legal disclaimer. Those were processed with earlier messages or carry no
customer statement, so only the new text becomes a turn; the history is kept on the
conversation for attachment mentions alone.

Bodies are decoded from their declared charset with the usual Chinese supersets (GB2312/GBK →
GB18030, Big5 → Big5-HKSCS); an undeclared or wrong charset falls back to UTF-8, then GB18030.
HTML-only mail is turned into text (blockquotes are history). The sender's role comes from the
caller's participants map or our own domains; failing those, an internal mail (same domain on
both ends) is the rep's, and otherwise the role is inferred from the text and the signature.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import html
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from email.message import EmailMessage, Message
from html.parser import HTMLParser

from pipelines.conversation import Channel, Conversation, Speaker, Turn
from pipelines.ingest.errors import IngestError
from pipelines.roles import cue_score

__all__ = ["ParsedMail", "parse_eml", "decode_body_bytes", "html_to_text", "split_new_text", "message_date"]


def message_date(raw: bytes) -> datetime | None:
    """The ``Date`` header of a raw message (headers only are read), or None."""
    head = raw[:65536].split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    msg = email.message_from_bytes(head + b"\n\n", policy=email.policy.compat32)
    value = msg.get("Date")
    if not value:
        return None
    try:
        date = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return date if date.tzinfo is not None else None

_CHARSET_SUPERSETS = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "euc-cn": "gb18030",
    "big5": "big5hkscs", "x-big5": "big5hkscs", "cp950": "big5hkscs",
    "us-ascii": "utf-8", "ascii": "utf-8", "iso-8859-1": "utf-8",  # mislabelled 8bit Chinese is common
    "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8",
}


def decode_body_bytes(data: bytes, declared: str | None) -> str:
    """Decode a body with its declared charset, falling back sensibly.

    Raises:
        IngestError: ``unsupported-charset`` when neither the declared charset nor UTF-8/GB18030
            decodes the bytes.
    """
    candidates: list[str] = []
    if declared:
        d = declared.strip().strip('"').lower()
        candidates.append(_CHARSET_SUPERSETS.get(d, d))
    candidates += ["utf-8", "gb18030"]
    unknown = None
    for cs in dict.fromkeys(candidates):
        try:
            return data.decode(cs)
        except LookupError:
            unknown = declared
        except UnicodeDecodeError:
            continue
    if unknown:
        raise IngestError(f"charset {unknown!r} is not supported and the body is not UTF-8 or GB18030; "
                          "re-send it as UTF-8", code="unsupported-charset")
    raise IngestError(f"the body does not decode as {declared or 'UTF-8'} (nor UTF-8/GB18030); "
                      "declare the right charset or re-send it as UTF-8", code="unsupported-charset")


class _HtmlText(HTMLParser):
    """HTML to text: block elements become line breaks; blockquotes are marked as history."""

    _BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._quote = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip += 1
        elif tag == "blockquote":
            self._quote += 1
            self.parts.append("\n")
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag == "blockquote":
            self._quote = max(0, self._quote - 1)
            self.parts.append("\n")
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._quote:
            data = "\n".join("> " + line if line.strip() else line for line in data.split("\n"))
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return html.unescape(text).strip("\n")


# ---------------------------------------------------------------- new text vs history / signature

_HISTORY_LINE = re.compile(
    r"^\s*(?:"
    r"-{2,}\s*(?:原始邮件|原邮件|邮件原件|回复的原邮件|转发的邮件|转发邮件|Original Message|Forwarded message)\s*-{2,}"
    r"|(?:在|于)\s*\S.{2,80}(?:写道|wrote)\s*[:：]?"
    r"|On\s.{4,160}wrote:"
    r"|Begin forwarded message:"
    r")\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*[*]{0,2}(?:发件人|From|寄件者)[*]{0,2}\s*[:：]", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(
    r"^\s*[*]{0,2}(?:发送时间|发送日期|日期|时间|Sent|Date|收件人|To|抄送|Cc|主题|Subject|寄件日期|收件者)[*]{0,2}\s*[:：]",
    re.IGNORECASE,
)
_WROTE_TAIL = re.compile(r"(写道|wrote)\s*[:：]?\s*$", re.IGNORECASE)
_QUOTED = re.compile(r"^\s*(>|＞)")
_SIG_DELIM = re.compile(r"^\s*--\s*$")
_SEPARATOR = re.compile(r"^\s*[-=_*~—·]{3,}\s*$")
_DISCLAIMER = re.compile(
    r"(保密|机密|免责|误收|仅供收件人|仅限于发送给|请立即删除|未经授权|不得.{0,6}(传播|转发|披露)|请勿直接回复|系统(自动)?发出|自动发送|"
    r"confidential|intended (solely|only)|disclaimer|privileged|if you (have )?received this)",
    re.IGNORECASE,
)
_PHONE = re.compile(r"(\+?\d[\d\- ]{6,}\d)")
_CONTACT_PREFIX = re.compile(
    r"^\s*(电话|手机|座机|传真|邮箱|地址|网址|微信|官网|Tel|Mob|Mobile|Phone|Fax|E-?mail|Add|Addr|Web|[TMFE])\s*[:：.]",
    re.IGNORECASE,
)
_ORG_OR_TITLE = re.compile(
    r"(有限公司|股份|集团|公司|科技|实业|贸易|中心|研究院|医院|学校|大学|事业部|大区|区域|分公司|办事处|\||｜|"
    r"经理|总监|主管|科长|处长|主任|工程师|总经理|董事|代表|专员|助理|顾问|采购部|销售部|市场部|"
    r"设计院|研究所|[\u4e00-\u9fff]{1,8}(部|处|科|所|院|室|组)$|[\u4e00-\u9fff]{1,8}(部|处|科|所|院|室)[ ·|｜]|"
    r"Manager|Director|Engineer|Sales|Purchas|Procurement|Ltd|Inc\b|Co\.|GmbH|LLC|Corp|Limited|Bhd|Sdn|Pte|"
    r"Trading|Company|S\.A\.|z o\.o\.|Import|Export)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[。！？!?；;，,]\s*$")


def _history_start(lines: list[str]) -> int:
    """Index of the first line of quoted/forwarded history, or len(lines)."""
    for i, line in enumerate(lines):
        if _HISTORY_LINE.match(line):
            return i
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(x) for x in lines[i + 1:i + 6]):
            # Outlook puts a rule of underscores above the block; take it with the block.
            j = i
            while j > 0 and (not lines[j - 1].strip() or _SEPARATOR.match(lines[j - 1])):
                if _SEPARATOR.match(lines[j - 1]):
                    return j - 1
                j -= 1
            return i
        if _QUOTED.match(line):
            # "在 2026年1月5日 … 写道：" may wrap onto the line before the quote.
            j = i
            while j > 0 and not lines[j - 1].strip():
                j -= 1
            if j > 0 and _WROTE_TAIL.search(lines[j - 1]):
                k = j - 1
                if k > 0 and lines[k - 1].strip() and re.match(r"^\s*(在|于|On)\b", lines[k - 1]):
                    k -= 1
                return k
            return i
    return len(lines)


def _is_signature_line(line: str, sender_names: Iterable[str]) -> bool:
    s = line.strip()
    if not s:
        return True
    if _SEPARATOR.match(s) or _SIG_DELIM.match(s):
        return True
    if _DISCLAIMER.search(s):
        return True
    if len(s) > 48 or _SENTENCE_END.search(s):
        return False
    if _CONTACT_PREFIX.match(s) or _PHONE.search(s) or "@" in s or re.search(r"https?://|www\.", s):
        return True
    if any(n and (s == n or s.startswith(n + " ") or s.startswith(n + "\u3000")) for n in sender_names):
        return True
    if _ORG_OR_TITLE.search(s) and len(s) <= 40:
        return True
    if re.fullmatch(r"\d{4}\s*[年/.-]\s*\d{1,2}\s*[月/.-]\s*\d{1,2}\s*日?", s):
        return True  # a dated sign-off line
    # A bare 2–4 character Chinese name line, or a short Latin-only line (a name, a city).
    return bool(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", s) or re.fullmatch(r"[A-Za-z][A-Za-z .,'&()-]{1,38}", s))


def split_new_text(body: str, sender_names: Iterable[str] = ()) -> tuple[int, int, str, tuple[str, ...]]:
    """Find the new text of a message body.

    Returns:
        ``(start, end, history, stripped)``: the new text is ``body[start:end]``; ``history`` is
        the quoted/forwarded part; ``stripped`` names what was removed.
    """
    names = [n for n in sender_names if n]
    lines = body.split("\n")
    offsets = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    stripped: list[str] = []
    h = _history_start(lines)
    history = "\n".join(lines[h:]) if h < len(lines) else ""
    if history.strip():
        stripped.append("quoted_history")
    new = lines[:h]

    # An explicit "-- " delimiter ends the message.
    cut = len(new)
    for i, line in enumerate(new):
        if _SIG_DELIM.match(line):
            cut = i
            stripped.append("signature")
            break
    # A signature/disclaimer block at the bottom: walk up over signature-like lines.
    end = cut
    while end > 0 and not new[end - 1].strip():
        end -= 1
    top = end
    strong = False
    while top > 0 and _is_signature_line(new[top - 1], names):
        s = new[top - 1].strip()
        if s and not _SEPARATOR.match(s):
            strong |= bool(_DISCLAIMER.search(s) or _PHONE.search(s) or "@" in s or _CONTACT_PREFIX.match(s)
                           or any(n and s.startswith(n) for n in names) or _ORG_OR_TITLE.search(s))
        top -= 1
    if strong and top < end:
        block = "\n".join(new[top:end])
        if _DISCLAIMER.search(block):
            stripped.append("disclaimer")
        if "signature" not in stripped and any(
                x.strip() and not _DISCLAIMER.search(x) and not _SEPARATOR.match(x) for x in new[top:end]):
            stripped.append("signature")
        cut = top
    # Trim blank edges.
    first = 0
    while first < cut and not new[first].strip():
        first += 1
    last = cut
    while last > first and not new[last - 1].strip():
        last -= 1
    if first >= last:
        return 0, 0, history, tuple(stripped)
    start = offsets[first] + (len(new[first]) - len(new[first].lstrip()))
    end_off = offsets[last - 1] + len(new[last - 1].rstrip())
    return start, end_off, history, tuple(stripped)


# ---------------------------------------------------------------- message parsing


class ParsedMail:
    """Headers and the decoded body of one message (the parts ``parse_eml`` needs)."""

    __slots__ = ("sender_name", "sender_addr", "recipients", "subject", "date", "body", "attachments")

    def __init__(self, sender_name: str, sender_addr: str, recipients: list[str], subject: str,
                 date: datetime | None, body: str, attachments: list[str]) -> None:
        self.sender_name = sender_name
        self.sender_addr = sender_addr
        self.recipients = recipients
        self.subject = subject
        self.date = date
        self.body = body
        self.attachments = attachments


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a malformed header must not abort the whole mail
        return ""
    if value is None:
        return ""
    text = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        # Raw 8-bit header bytes (no RFC 2047): recover them as UTF-8, else GB18030.
        data = text.encode("utf-8", "surrogateescape")
        for cs in ("utf-8", "gb18030"):
            try:
                return data.decode(cs)
            except UnicodeDecodeError:
                continue
        return data.decode("utf-8", "replace")
    return text


def _read_message(raw: bytes) -> ParsedMail:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(msg, EmailMessage):  # pragma: no cover - policy.default always gives EmailMessage
        raise IngestError("not an RFC 822 message")
    header_keys = [k.lower() for k in msg.keys()]
    if not any(k in header_keys for k in ("from", "to", "subject", "date", "content-type", "message-id")):
        raise IngestError("no RFC 822 headers (From/To/Subject/Date) found; send the whole .eml file, "
                          "headers included", part="headers")
    sender_name, sender_addr = email.utils.parseaddr(_header(msg, "From"))
    recipients = [addr for _, addr in email.utils.getaddresses([_header(msg, "To"), _header(msg, "Cc")]) if addr]
    date = None
    if _header(msg, "Date"):
        try:
            date = email.utils.parsedate_to_datetime(_header(msg, "Date"))
        except (TypeError, ValueError, IndexError):
            date = None

    plain: Message | None = None
    html_part: Message | None = None
    attachments: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        disposition = (part.get_content_disposition() or "").lower()
        filename = part.get_filename()
        ctype = part.get_content_type()
        if disposition == "attachment" or (filename and not ctype.startswith("text/")):
            if filename:
                attachments.append(filename)
            continue
        if ctype == "text/plain" and plain is None:
            plain = part
        elif ctype == "text/html" and html_part is None:
            html_part = part
    chosen = plain or html_part
    if chosen is None:
        raise IngestError("no text/plain or text/html body found", part="body")
    try:
        payload = chosen.get_payload(decode=True)
    except Exception as exc:  # noqa: BLE001 - broken base64/QP raises assorted errors
        raise IngestError(f"the body's transfer encoding is broken ({type(exc).__name__})", part=chosen.get_content_type()) from None
    if payload is None or not isinstance(payload, bytes):
        payload = str(chosen.get_payload()).encode("utf-8", "surrogateescape")
    text = decode_body_bytes(payload, chosen.get_content_charset())
    if chosen is html_part:
        text = html_to_text(text)
    return ParsedMail(sender_name.strip(), sender_addr.strip().lower(), [r.lower() for r in recipients],
                      _header(msg, "Subject").strip(), date, text, attachments)


def _domain(addr: str) -> str:
    return addr.rsplit("@", 1)[-1].lower() if "@" in addr else ""


def _lookup(participants: Mapping[str, Mapping[str, object]], key: str) -> Speaker | None:
    info = participants.get(key)
    if info is None:
        return None
    role = str(info.get("role", "")).lower()
    return "rep" if role == "rep" else "customer" if role == "customer" else None


# A signature that names a sales function is ours; one that names purchasing is theirs.
_REP_SIGNATURE = re.compile(r"(销售|客户经理|大客户|行业部|业务部|市场部|商务部|Sales|Account Manager)", re.IGNORECASE)
_CUSTOMER_SIGNATURE = re.compile(r"(采购|招标|设备科|财务处|装备中心|Procurement|Purchas|Buyer)", re.IGNORECASE)


def _sender_role(mail: ParsedMail, new_text: str, signature: str,
                 participants: Mapping[str, Mapping[str, object]], our_domains: Iterable[str]) -> tuple[Speaker, bool]:
    ours = {d.lower().lstrip("@") for d in our_domains}
    for key in (mail.sender_addr, _domain(mail.sender_addr), mail.sender_name):
        role = _lookup(participants, key) if key else None
        if role:
            return role, False
    sender_dom = _domain(mail.sender_addr)
    if ours:
        if sender_dom in ours:
            return "rep", False
        if any(_domain(r) in ours for r in mail.recipients):
            return "customer", False
    # Participants may name the other side only.
    for r in mail.recipients:
        for key in (r, _domain(r)):
            role = _lookup(participants, key)
            if role:
                return ("customer" if role == "rep" else "rep"), False
    if mail.recipients and all(_domain(r) == sender_dom for r in mail.recipients):
        return "rep", True  # an internal mail: a rep reporting to colleagues
    score = cue_score(new_text, speech=False)
    if _REP_SIGNATURE.search(signature):
        score += 2.0
    if _CUSTOMER_SIGNATURE.search(signature):
        score -= 2.0
    return ("rep" if score > 0 else "customer"), True


def parse_eml(
    content: bytes | str,
    *,
    participants: Mapping[str, Mapping[str, object]] | None = None,
    our_domains: Iterable[str] = (),
    channel: Channel = "email",
    started_at: datetime | None = None,
) -> Conversation:
    """Parse one RFC 822 message into a one-turn conversation of its new text.

    Args:
        content: the raw message (``str`` is encoded as UTF-8, which keeps 8bit bodies intact).
        participants: address, domain or display name → ``{"role": "rep"|"customer"}``.
        our_domains: the sales side's mail domains.

    Raises:
        IngestError: headers missing, no text body, broken transfer encoding, undecodable charset,
            or no new text at all.
    """
    raw = content.encode("utf-8", "surrogateescape") if isinstance(content, str) else content
    if not raw.strip():
        raise IngestError("the e-mail is empty", code="empty-content")
    mail = _read_message(raw)
    names = [mail.sender_name]
    if mail.sender_name:
        names += [x for x in re.split(r"[\s·]+", mail.sender_name) if len(x) >= 2]
    start, end, history, stripped = split_new_text(mail.body, names)
    new_text = mail.body[start:end]
    if not new_text.strip():
        raise IngestError("the message has no new text above its quoted history", code="empty-content",
                          part="body")
    signature_end = mail.body.find("\n\n", end) if history else len(mail.body)
    signature = mail.body[end:signature_end if signature_end > 0 else len(mail.body)]
    speaker, inferred = _sender_role(mail, new_text, signature, participants or {}, our_domains)
    at = mail.date or started_at
    turns = [Turn(index=0, speaker=speaker, text=new_text, name=mail.sender_name or mail.sender_addr or None, at=at,
                  source="body", source_start=start, source_end=end, role_inferred=inferred)]
    for name in mail.attachments:
        turns.append(Turn(index=len(turns), speaker=speaker, text="", name=turns[0].name, at=at, source="body",
                          kind="file", attachment=name, role_inferred=inferred))
    return Conversation(channel=channel, format="eml", turns=tuple(turns), started_at=started_at or mail.date,
                        roles_inferred=inferred, subject=mail.subject or None, quoted_history=history,
                        stripped=stripped, body=mail.body)
