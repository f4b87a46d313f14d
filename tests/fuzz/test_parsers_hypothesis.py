"""Property tests of the parsers and the text stages on arbitrary input (issue 7, part 4).

Two kinds of property:

* **No crash.** Any content either parses or raises ``IngestError``; ``normalize`` and
  ``find_times`` take any string; the detector takes any turns. Strategies mix random Unicode
  with the characters each format is made of (stamps, brackets, colons, JSON, MIME headers), so
  hypothesis reaches the parsers' edge cases rather than failing on line one.
* **Round trip.** Well-formed input built from random parts parses back into those parts, and
  every turn text, quote and time mention is an exact substring of what it points into.

Examples are bounded and derandomized (the same inputs every run, well under a minute).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipelines.conversation import CHANNELS, FORMATS, Conversation, Turn
from pipelines.ingest import IngestError, parse_content

# FUZZ_EXAMPLES=5000 FUZZ_RANDOM=1 turns this into a long random hunt.
_N = int(os.environ.get("FUZZ_EXAMPLES", "120"))
_SETTINGS = settings(max_examples=_N, deadline=None, derandomize=not os.environ.get("FUZZ_RANDOM"), database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
_FEW = settings(_SETTINGS, max_examples=max(1, _N // 2))

CST = timezone(timedelta(hours=8))

# fmt: off
# Characters the formats are built from, and everyday sales-chat vocabulary (made up here).
_SYNTAX = list("[]【】()（）:：,，.。!！?？;；/-_@<>\"'{}\\ \t\r\n\u3000\xa0\ufeff0123456789")
_WORDS = [
    "客户", "销售", "经理", "李总", "王工", "采购", "你好", "报价", "价格", "太贵", "便宜", "预算", "冻结",
    "明年", "下周三", "明天下午3点", "月底前", "3月5日", "十点半", "春节后", "合同", "付款", "招标", "流程",
    "换一家", "供应商", "竞品", "不", "没", "不是", "再说", "考虑", "领导", "审批", "發票", "價格太貴",
    "ＡＢＣ", "１２３", "😂", "[图片]", "[文件: 方案.pdf]", "说话人1", "2026-03-02 10:00:05 ", "[00:01:02] ",
    "From: ", "Subject: ", "> ", "-- ", "在 2026年1月5日 写道：", "-----原始邮件-----", "发件人:",
]
# fmt: on
_piece = st.one_of(st.sampled_from(_WORDS), st.sampled_from(_SYNTAX), st.text(max_size=4))
messy_text = st.lists(_piece, max_size=40).map("".join)
safe_cjk = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=8)
datetimes = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 12, 31),
                         timezones=st.sampled_from([CST, UTC, timezone(timedelta(hours=-5))]))


def _check_offsets(conv: Conversation, content: str | bytes) -> None:
    """Every text turn is an exact substring of the text its offsets index into."""
    assert isinstance(conv, Conversation)
    for i, turn in enumerate(conv.turns):
        assert turn.index == i
        assert turn.speaker in ("rep", "customer", "unknown")
        if turn.kind != "text":
            continue
        if turn.source == "content":
            assert isinstance(content, str)
            assert content[turn.source_start:turn.source_end] == turn.text
        elif turn.source == "body":
            assert conv.body[turn.source_start:turn.source_end] == turn.text
        else:
            assert turn.source == "message" and (turn.source_start, turn.source_end) == (0, len(turn.text))


def _parse_or_reject(fmt: str, content: str | bytes, **kw: Any) -> Conversation | None:
    try:
        conv = parse_content(fmt, content, channel=kw.pop("channel", "other"), **kw)
    except IngestError as exc:
        assert exc.code in ("unparseable-content", "empty-content", "unsupported-charset", "unsupported-format")
        assert exc.detail
        return None
    if isinstance(content, bytes) and fmt != "eml":  # what parse_content decoded
        content = content.decode("utf-8") if _utf8(content) else content.decode("gb18030")
    _check_offsets(conv, content)
    return conv


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# ------------------------------------------------------------------ any input: parse or IngestError


@_SETTINGS
@given(fmt=st.sampled_from(FORMATS), content=messy_text, channel=st.sampled_from(CHANNELS),
       started=st.none() | datetimes)
def test_parse_content_any_text_parses_or_raises_ingest_error(fmt: str, content: str, channel: str,
                                                              started: datetime | None) -> None:
    conv = _parse_or_reject(fmt, content, channel=channel, started_at=started)
    if conv is not None and fmt != "eml":
        assert conv.format == fmt and conv.channel == channel


@_FEW
@given(fmt=st.sampled_from(FORMATS), content=st.binary(max_size=300))
def test_parse_content_any_bytes_parses_or_raises_ingest_error(fmt: str, content: bytes) -> None:
    _parse_or_reject(fmt, content)


_json_scalar = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | messy_text
_archive_obj = st.fixed_dictionaries(
    {},
    optional={
        "msgid": _json_scalar, "action": st.sampled_from(["send", "recall", "switch"]) | _json_scalar,
        "from": _json_scalar, "msgtime": _json_scalar | st.integers(-10**16, 10**16),
        "msgtype": st.sampled_from(["text", "markdown", "file", "image", "revoke", "mixed", "voice", "weird"]),
        "text": st.fixed_dictionaries({}, optional={"content": _json_scalar}) | _json_scalar,
        "markdown": st.fixed_dictionaries({}, optional={"content": _json_scalar}),
        "file": st.fixed_dictionaries({}, optional={"filename": _json_scalar}) | _json_scalar,
        "revoke": st.fixed_dictionaries({}, optional={"pre_msgid": _json_scalar}) | _json_scalar,
        "mixed": st.fixed_dictionaries({}, optional={"item": st.lists(st.fixed_dictionaries(
            {"type": st.sampled_from(["text", "image"])},
            optional={"content": _json_scalar | st.builds(lambda c: json.dumps({"content": c}), messy_text)}),
            max_size=3) | _json_scalar}),
    },
)


@_SETTINGS
@given(lines=st.lists(_archive_obj.map(lambda o: json.dumps(o, ensure_ascii=False)) | messy_text, max_size=6),
       participants=st.none() | st.dictionaries(messy_text, st.fixed_dictionaries(
           {}, optional={"role": st.sampled_from(["rep", "customer", "sales", "客户", "x"]) | messy_text,
                         "name": st.none() | messy_text}), max_size=3))
def test_parse_wechat_archive_any_lines_parse_or_raise(lines: list[str], participants: Any) -> None:
    _parse_or_reject("wechat_archive_jsonl", "\n".join(lines), participants=participants, channel="wechat")


_header_value = st.lists(st.sampled_from(["=?utf-8?b?5L2g5aW9?=", "=?gb2312?q?=C4=E3?=", "<a@b.cn>", "李总",
                                          "\"x\" <y@z.com>", ",", ";", "\udcff"]) | messy_text, max_size=5
                         ).map("".join)


@_SETTINGS
@given(headers=st.lists(st.tuples(st.sampled_from(["From", "To", "Cc", "Subject", "Date", "Content-Type",
                                                   "Content-Transfer-Encoding", "MIME-Version", "X-Mailer"]),
                                  _header_value), max_size=6),
       body=messy_text,
       ctype=st.sampled_from(["text/plain", "text/html", "multipart/mixed; boundary=b1", "application/pdf"]),
       charset=st.sampled_from(["utf-8", "gb2312", "gbk", "big5", "iso-8859-1", "x-unknown", ""]),
       cte=st.sampled_from(["8bit", "base64", "quoted-printable", "7bit"]))
def test_parse_eml_any_message_parses_or_raises(headers: list[tuple[str, str]], body: str, ctype: str,
                                                charset: str, cte: str) -> None:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers if "\n" not in v and "\r" not in v)
    cs = f"; charset={charset}" if charset and ctype.startswith("text/") else ""
    raw = (head + f"Content-Type: {ctype}{cs}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n").encode(
        "utf-8", "surrogateescape") + body.encode("utf-8", "replace")
    _parse_or_reject("eml", raw, channel="email", participants={"b.cn": {"role": "customer"}},
                     our_domains=("z.com",))


# ------------------------------------------------------------------ well-formed input round-trips

_label = st.sampled_from(["客户", "销售", "客户经理", "采购方", "客服", "Sales", "Customer"])
_msg_text = st.lists(st.sampled_from(_WORDS[:36]) | safe_cjk | st.sampled_from(list("，。！？ 123abc:：")),
                     min_size=1, max_size=12).map("".join).filter(lambda t: t.strip() == t and t != "")


@_SETTINGS
@given(messages=st.lists(st.tuples(datetimes, safe_cjk, _label, _msg_text), min_size=1, max_size=8),
       crlf=st.booleans(), sep=st.sampled_from([":", "："]))
def test_parse_wechat_text_round_trips(messages: list[tuple[datetime, str, str, str]], crlf: bool,
                                       sep: str) -> None:
    from pipelines.ingest.common import role_from_label

    nl = "\r\n" if crlf else "\n"
    content = nl.join(f"{at:%Y-%m-%d %H:%M:%S} {name}({label}){sep} {text}" for at, name, label, text in messages)
    conv = parse_content("wechat_text", content, channel="wechat")
    _check_offsets(conv, content)
    assert [t.text for t in conv.turns] == [m[3] for m in messages]
    assert [t.name for t in conv.turns] == [m[1] for m in messages]
    assert [t.speaker for t in conv.turns] == [role_from_label(m[2]) for m in messages]
    assert [t.at.replace(tzinfo=None) for t in conv.turns if t.at] == [m[0].replace(tzinfo=None, microsecond=0)
                                                                      for m in messages]


@_SETTINGS
@given(utterances=st.lists(st.tuples(st.integers(0, 5 * 3600 - 1), st.sampled_from(["客户", "销售", "客户经理"]),
                                     _msg_text), min_size=1, max_size=8),
       bracket=st.sampled_from([("[", "]"), ("【", "】")]), started=st.none() | datetimes)
def test_parse_call_transcript_round_trips(utterances: list[tuple[int, str, str]], bracket: tuple[str, str],
                                           started: datetime | None) -> None:
    from pipelines.ingest.common import role_from_label

    lines = [f"{bracket[0]}{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}{bracket[1]} {label}: {text}"
             for s, label, text in utterances]
    content = "\n".join(lines)
    conv = parse_content("call_transcript", content, channel="call", started_at=started)
    _check_offsets(conv, content)
    assert [t.text for t in conv.turns] == [u[2] for u in utterances]
    assert [t.speaker for t in conv.turns] == [role_from_label(u[1]) for u in utterances]
    if started is not None:
        assert [t.at for t in conv.turns] == [started + timedelta(seconds=u[0]) for u in utterances]


@_SETTINGS
@given(messages=st.lists(st.tuples(st.sampled_from(["zhangsan", "wmAbCdEfGhIjKlMn01", "wo0123456789abc"]),
                                   st.integers(1_600_000_000_000, 2_000_000_000_000), st.text(max_size=30)),
                         min_size=1, max_size=8))
def test_parse_wechat_archive_round_trips(messages: list[tuple[str, int, str]]) -> None:
    lines = [json.dumps({"msgid": f"m{i}", "action": "send", "from": sender, "tolist": ["x"], "msgtime": ms,
                         "msgtype": "text", "text": {"content": text}}, ensure_ascii=bool(i % 2))
             for i, (sender, ms, text) in enumerate(messages)]
    content = "\n".join(lines)
    conv = parse_content("wechat_archive_jsonl", content, channel="wechat",
                         participants={"zhangsan": {"name": "张三", "role": "rep"}})
    _check_offsets(conv, content)
    ordered = sorted(messages, key=lambda m: m[1])  # by msgtime, stable
    assert [t.text for t in conv.turns] == [m[2] for m in ordered]
    assert [t.speaker for t in conv.turns] == ["rep" if m[0] == "zhangsan" else "customer" for m in ordered]


@_SETTINGS
@given(content=messy_text, speaker=st.sampled_from(["rep", "customer"]))
def test_parse_plain_round_trips(content: str, speaker: str) -> None:
    if not content.strip():
        with pytest.raises(IngestError):
            parse_content("plain", content, channel="other", speaker=speaker)  # type: ignore[arg-type]
        return
    conv = parse_content("plain", content, channel="other", speaker=speaker)  # type: ignore[arg-type]
    _check_offsets(conv, content)
    (turn,) = conv.turns
    assert turn.text == content.strip() and turn.speaker == speaker


@_SETTINGS
@given(paragraphs=st.lists(_msg_text.map(lambda t: t + "。"), min_size=1, max_size=5),
       quoted=st.lists(_msg_text, max_size=3), charset=st.sampled_from(["utf-8", "gb18030", "big5"]),
       html=st.booleans())
def test_parse_eml_new_text_is_a_substring_of_the_body(paragraphs: list[str], quoted: list[str], charset: str,
                                                        html: bool) -> None:
    text = "\n\n".join(paragraphs)
    if quoted:
        text += "\n\n在 2026年3月1日 星期日 10:00，张三 写道：\n" + "\n".join("> " + q for q in quoted)
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        assume(False)
    msg = EmailMessage()
    msg["From"] = "李总 <li@buyer.cn>"
    msg["To"] = "zhang@seller.com"
    msg["Subject"] = "回复：报价"
    msg["Date"] = "Mon, 02 Mar 2026 10:00:00 +0800"
    if html:
        msg.set_content("<p>" + text.replace("\n", "<br>") + "</p>", subtype="html", charset=charset)
    else:
        msg.set_content(text, charset=charset)
    conv = parse_content("eml", msg.as_bytes(), channel="email", our_domains=("seller.com",))
    _check_offsets(conv, b"")
    new = conv.turns[0]
    assert new.speaker == "customer" and new.source == "body"
    assert paragraphs[0] in new.text  # a sentence is never taken for history or a signature
    assert not any(line.lstrip().startswith(">") for line in new.text.splitlines())  # nor history for new text


# ------------------------------------------------------------------ text stages


@_SETTINGS
@given(text=messy_text | st.text(max_size=60), drop=st.booleans(), fold=st.booleans(), data=st.data())
def test_normalize_offsets_map_back_into_the_original(text: str, drop: bool, fold: bool, data: Any) -> None:
    from pipelines.textnorm import normalize

    norm = normalize(text, drop_symbols=drop, fold_repeats=fold)
    assert norm.original == text
    assert len(norm.offsets) == len(norm.text) + 1 and norm.offsets[-1] == len(text)
    assert all(0 <= o < len(text) for o in norm.offsets[:-1])
    assert list(norm.offsets) == sorted(norm.offsets)
    start = data.draw(st.integers(0, len(norm.text)))
    end = data.draw(st.integers(start, len(norm.text)))
    a, b = norm.to_original(start, end)
    assert 0 <= a <= b <= len(text)
    with pytest.raises(ValueError):
        norm.to_original(0, len(norm.text) + 1)


_time_words = st.sampled_from([
    "今天", "明天", "后天", "大后天", "下周", "下下周", "本周五", "周三", "星期天", "这个月底", "下个月", "月底前",
    "年底", "明年", "Q3", "第三季度", "3月5日", "3/5", "2026-04-01", "5号", "十五号", "上午", "下午", "晚上",
    "3点", "十点半", "15:30", "两点一刻", "前", "之前", "以内", "三天内", "两周后", "春节后", "国庆前", "元旦",
    "中秋", "端午节后", "清明", "初八", "正月十五", "下班前", "尽快", "马上", "最迟", "号", "月", "日", "点",
])
_time_text = st.lists(_time_words | _piece, max_size=20).map("".join)


@_SETTINGS
@given(text=_time_text, reference=datetimes)
def test_find_times_mentions_are_exact_ordered_substrings(text: str, reference: datetime) -> None:
    from pipelines.timeexpr import find_times

    mentions = find_times(text, reference)
    previous_end = 0
    for m in mentions:
        assert text[m.start:m.end] == m.text and m.text
        assert m.start >= previous_end  # non-overlapping, in text order
        previous_end = m.end
        assert m.value.utcoffset() == reference.utcoffset()
        assert m.granularity in ("datetime", "date", "period")
        assert m.due()


@pytest.fixture(scope="module")
def detector() -> Any:
    from pipelines.keywords import PhraseDetector, load_lexicon

    return PhraseDetector(load_lexicon())


_risk_words = st.sampled_from([
    "太贵了", "价格", "贵", "预算", "冻结", "没钱", "不够", "招标", "流程", "走流程", "领导", "再考虑", "等等",
    "换供应商", "别家", "便宜", "竞品", "不续", "取消", "不满意", "投诉", "担心", "延期", "付款", "账期",
    "不", "没有", "不是", "倒不至于", "已经解决", "吗", "？", "嗎", "太 贵", "太太太贵", "預算凍結", "zhao biao",
])
_turn_text = st.lists(_risk_words | _piece, max_size=25).map("".join)


@_FEW
@given(turns=st.lists(st.tuples(st.sampled_from(["customer", "rep", "unknown"]), _turn_text), min_size=1,
                      max_size=6),
       pinyin=st.booleans())
def test_detector_quotes_are_exact_substrings_of_their_turn(detector: Any, turns: list[tuple[str, str]],
                                                            pinyin: bool) -> None:
    from pipelines.keywords import CATEGORIES, DetectorOptions

    built = tuple(Turn(index=i, speaker=sp, text=text) for i, (sp, text) in enumerate(turns))  # type: ignore[arg-type]
    signals = detector.detect(built, DetectorOptions(pinyin=pinyin))
    for s in signals:
        turn = built[s.turn]
        assert 0 <= s.start < s.end <= len(turn.text)
        assert turn.text[s.start:s.end] == s.quote
        assert s.category in CATEGORIES and s.speaker in ("customer", "rep")
        assert 0.0 <= s.confidence <= 1.0 and 1 <= s.severity <= 3


# ------------------------------------------------------------------ the whole text pipeline


@_FEW
@given(fmt=st.sampled_from(FORMATS), content=st.one_of(messy_text, _time_text, _turn_text),
       channel=st.sampled_from(CHANNELS), occurred=datetimes, speaker=st.sampled_from(["rep", "customer"]))
def test_enrich_any_content_returns_a_record_or_raises_ingest_error(pipeline: Any, fmt: str, content: str,
                                                                    channel: str, occurred: datetime,
                                                                    speaker: str) -> None:
    """Parsing, detection, record fields, summary and keywords together never crash."""
    from nlp_service.enrichment import InteractionInput

    item = InteractionInput(id="fuzz", channel=channel, format=fmt, customer_id="c", occurred_at=occurred,  # type: ignore[arg-type]
                            content=content, speaker=speaker)  # type: ignore[arg-type]
    try:
        enrichment = pipeline.enrich(item)
    except IngestError:
        return
    texts = {t.index: t.text for t in enrichment.conversation.turns}
    for s in enrichment.signals:
        assert texts[s.turn][s.start:s.end] == s.quote
