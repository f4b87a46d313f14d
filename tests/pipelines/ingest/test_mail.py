from __future__ import annotations

import base64
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from pipelines.ingest import IngestError
from pipelines.ingest.mail import decode_body_bytes, html_to_text, parse_eml, split_new_text


def _plain(body: str, *, sender: str = "孙磊 <sunlei@buyer-corp.cn>", to: str = "何芳 <hefang@seller-tech.com>",
           subject: str = "回复：报价", charset: str = "utf-8", cte: str = "8bit", encode_as: str | None = None) -> bytes:
    headers = (
        f"From: {sender}\nTo: {to}\nSubject: {subject}\nDate: Tue, 03 Mar 2026 09:15:00 +0800\n"
        f"MIME-Version: 1.0\nContent-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n"
    ).encode("utf-8")  # raw 8-bit UTF-8 headers occur in the wild
    data = body.encode(encode_as or charset)
    if cte == "base64":
        data = base64.encodebytes(data)
    return headers + data


NEW = "何经理：\n\n报价收到了，贵司的单价比我们的目标价高了一成。\n请周五前再报一次。\n"
SIGNATURE = "\n孙磊\n采购部 | 北辰制造有限公司\n手机：139 0000 1111\n"
DISCLAIMER = "\n本邮件及其附件含有保密信息，仅限于发送给上面地址中列出的个人。\n"


def test_eml_new_text_without_signature_disclaimer_and_history() -> None:
    history = ("\n发件人: 何芳 <hefang@seller-tech.com>\n发送时间: 2026年3月1日 10:00\n收件人: 孙磊\n主题: 报价\n\n"
               "孙经理您好，附件为报价单，单价您觉得贵的话可以再谈。\n")
    conv = parse_eml(_plain(NEW + SIGNATURE + DISCLAIMER + history), our_domains=["seller-tech.com"])
    (turn,) = conv.turns
    assert turn.text == NEW.strip()
    assert turn.speaker == "customer" and not turn.role_inferred
    assert conv.body[turn.source_start:turn.source_end] == turn.text
    assert "单价您觉得贵" in conv.quoted_history and "单价您觉得贵" not in turn.text
    assert set(conv.stripped) >= {"quoted_history", "signature", "disclaimer"}
    assert conv.subject == "回复：报价"


# fmt: off
HISTORY_STYLES = (
    "\n> 孙经理您好\n> 价格可以再谈\n",
    "\n在 2026年3月1日 周日 10:00，何芳 <hefang@seller-tech.com> 写道：\n> 价格可以再谈\n",
    "\nOn Sun, Mar 1, 2026 at 10:00 AM 何芳 <hefang@seller-tech.com> wrote:\n> price is negotiable\n",
    "\n---------- 转发的邮件 ----------\n发件人：何芳\n日期：2026年3月1日\n价格可以再谈\n",
    "\n-----原始邮件-----\n发件人：\"何芳\" <hefang@seller-tech.com>\n发送时间：2026-03-01\n价格可以再谈\n",
    "\n________________________________\nFrom: 何芳 <hefang@seller-tech.com>\nSent: Sunday, March 1, 2026 10:00 AM\nTo: 孙磊\n价格可以再谈\n",
)
# fmt: on


@pytest.mark.parametrize("history", HISTORY_STYLES,
                         ids=["gt-quotes", "xiedao", "on-wrote", "forwarded", "original-message", "outlook-from"])
def test_eml_history_styles_are_stripped(history: str) -> None:
    conv = parse_eml(_plain(NEW + history))
    assert conv.turns[0].text == NEW.strip()
    assert conv.quoted_history.strip()


def test_eml_rfc2047_headers_base64_body() -> None:
    subject = Header("关于年度框架协议", "utf-8").encode()
    sender = f"{Header('孙磊', 'utf-8').encode()} <sunlei@buyer-corp.cn>"
    conv = parse_eml(_plain(NEW, subject=subject, sender=sender, cte="base64"))
    assert conv.subject == "关于年度框架协议"
    assert conv.turns[0].name == "孙磊"
    assert conv.turns[0].text == NEW.strip()


@pytest.mark.parametrize("charset", ["gbk", "gb2312", "gb18030", "big5"])
def test_eml_chinese_charsets(charset: str) -> None:
    body = "報價收到了，價格偏高。\n" if charset == "big5" else "报价收到了，价格偏高，镕铖。\n"
    if charset == "gb2312":
        body = "报价收到了，价格偏高，镕。\n"  # 镕 is GBK-only: mislabelled gb2312 is common
    conv = parse_eml(_plain(body, charset=charset, cte="base64", encode_as="gbk" if charset == "gb2312" else None))
    assert conv.turns[0].text == body.strip()


def test_eml_wrong_declared_charset_falls_back() -> None:
    raw = _plain("价格偏高", charset="utf-8").replace("价格偏高".encode(), "价格偏高".encode("gbk"))
    assert parse_eml(raw).turns[0].text == "价格偏高"


def test_eml_unknown_charset_that_does_not_decode_is_an_error() -> None:
    raw = _plain("x", charset="x-klingon", encode_as="ascii").replace(b"\n\nx", b"\n\n\xff\xfe\xfa\xfb")
    with pytest.raises(IngestError) as info:
        parse_eml(raw)
    assert info.value.code == "unsupported-charset"


def test_eml_html_only_with_blockquote_history() -> None:
    html = ("<html><body><div>何经理：</div><p>交期太长了，<b>我们</b>等不了两个月。</p>"
            "<blockquote>何芳写道：交期八周</blockquote></body></html>")
    msg = MIMEText(html, "html", "utf-8")
    msg["From"] = "sunlei@buyer-corp.cn"
    msg["To"] = "hefang@seller-tech.com"
    msg["Subject"] = "交期"
    conv = parse_eml(msg.as_bytes())
    assert "交期太长了，我们等不了两个月。" in conv.turns[0].text
    assert "交期八周" not in conv.turns[0].text


def test_eml_multipart_prefers_plain_and_lists_attachments() -> None:
    msg = MIMEMultipart("mixed")
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText("纯文本正文：请提供检测报告。", "plain", "utf-8"))
    alt.attach(MIMEText("<p>HTML正文</p>", "html", "utf-8"))
    msg.attach(alt)
    att = MIMEText("x", "plain", "utf-8")
    att.add_header("Content-Disposition", "attachment", filename="询价单.xlsx")
    msg.attach(att)
    msg["From"] = "sunlei@buyer-corp.cn"
    msg["To"] = "hefang@seller-tech.com"
    conv = parse_eml(msg.as_bytes())
    assert conv.turns[0].text == "纯文本正文：请提供检测报告。"
    assert conv.attachments == ("询价单.xlsx",)


def test_eml_roles_from_participants_internal_and_content() -> None:
    raw = _plain(NEW, sender="何芳 <hefang@seller-tech.com>", to="孙磊 <sunlei@buyer-corp.cn>")
    assert parse_eml(raw, participants={"sunlei@buyer-corp.cn": {"role": "customer"}}).turns[0].speaker == "rep"
    internal = _plain("王总：客户说预算砍了一半，需要您批个特价。\n", sender="何芳 <hefang@seller-tech.com>",
                      to="王强 <wangqiang@seller-tech.com>")
    conv = parse_eml(internal)
    assert conv.turns[0].speaker == "rep" and conv.roles_inferred
    rep_mail = _plain("孙经理您好：\n调整后的报价单见附件，我周四下午给您打电话。\n\n何芳\n华东大区 销售经理\n",
                      sender="何芳 <hefang@seller-tech.com>", to="孙磊 <sunlei@buyer-corp.cn>")
    assert parse_eml(rep_mail).turns[0].speaker == "rep"


@pytest.mark.parametrize(("raw", "code"), [
    (b"", "empty-content"),
    (b"just some words without headers", "unparseable-content"),
    (b"From: a@b.c\nTo: d@e.f\nContent-Type: image/png\n\n\x89PNG", "unparseable-content"),
    (_plain("> only history\n> nothing new\n"), "empty-content"),
], ids=["empty", "no-headers", "no-text-part", "only-history"])
def test_eml_broken(raw: bytes, code: str) -> None:
    with pytest.raises(IngestError) as info:
        parse_eml(raw)
    assert info.value.code == code


def test_split_new_text_keeps_body_lines_that_only_look_short() -> None:
    body = "王总：\n\n好的。\n\n附件是近一年的采购明细。\n\n冯涛\n恒远工业 华东大区\n手机 139 1234 5678\n"
    start, end, history, stripped = split_new_text(body, ["冯涛"])
    assert body[start:end] == "王总：\n\n好的。\n\n附件是近一年的采购明细。"
    assert history == "" and stripped == ("signature",)


def test_html_to_text_and_decode_helpers() -> None:
    assert html_to_text("<p>a&amp;b</p><br>c") == "a&b\n\nc"
    assert decode_body_bytes("中文".encode("big5"), "big5") == "中文"
