from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from pipelines.ingest import IngestError, parse_content
from pipelines.ingest.wechat import parse_wechat_archive, parse_wechat_text

CST = timezone(timedelta(hours=8))
START = datetime(2026, 3, 2, 10, 0, tzinfo=CST)
PARTICIPANTS = {
    "zhangsan": {"name": "张三", "role": "rep"},
    "wmAbCdEfGhIjKlMn01": {"name": "李总", "role": "customer"},
    "wmOpQrStUvWxYz0002": {"name": "赵工", "role": "customer"},
}


def _msg(msgid: str, sender: str, ms: int, msgtype: str, payload: dict | None = None, roomid: str = "") -> str:
    obj = {"msgid": msgid, "action": "send", "from": sender, "tolist": ["x"], "roomid": roomid,
           "msgtime": ms, "msgtype": msgtype}
    if payload is not None:
        obj[msgtype] = payload
    return json.dumps(obj, ensure_ascii=False)


BASE_MS = int(START.timestamp() * 1000)


def test_wechat_archive_text_file_image_and_roles() -> None:
    lines = [
        _msg("m1", "wmAbCdEfGhIjKlMn01", BASE_MS, "text", {"content": "合同条款我们法务还在看"}),
        _msg("m2", "zhangsan", BASE_MS + 60_000, "file", {"filename": "服务协议v3.docx", "filesize": 1000}),
        _msg("m3", "zhangsan", BASE_MS + 61_000, "image", {"md5sum": "x"}),
        _msg("m4", "wmOpQrStUvWxYz0002", BASE_MS + 120_000, "text", {"content": "接口文档也发一份"}, roomid="r1"),
    ]
    conv = parse_wechat_archive("\n".join(lines), participants=PARTICIPANTS, started_at=START)
    assert [t.kind for t in conv.turns] == ["text", "file", "image", "text"]
    assert [t.speaker for t in conv.turns] == ["customer", "rep", "rep", "customer"]
    assert conv.turns[0].text == "合同条款我们法务还在看"
    assert conv.turns[0].source == "message" and conv.turns[0].source_end == len(conv.turns[0].text)
    assert conv.turns[1].attachment == "服务协议v3.docx"
    assert conv.attachments == ("服务协议v3.docx",)
    assert conv.turns[3].at == START + timedelta(minutes=2)
    assert [t.speaker for t in conv.text_turns] == ["customer", "customer"]
    assert not conv.roles_inferred


def test_wechat_archive_revoke_removes_the_recalled_message() -> None:
    lines = [
        _msg("m1", "wmAbCdEfGhIjKlMn01", BASE_MS, "text", {"content": "发错了"}),
        _msg("m2", "wmAbCdEfGhIjKlMn01", BASE_MS + 1000, "revoke", {"pre_msgid": "m1"}),
        _msg("m3", "wmAbCdEfGhIjKlMn01", BASE_MS + 2000, "text", {"content": "下周再约"}),
    ]
    conv = parse_wechat_archive("\n".join(lines), participants=PARTICIPANTS, started_at=START)
    assert [t.text for t in conv.turns] == ["下周再约"]


def test_wechat_archive_unmapped_external_sender_is_an_inferred_customer() -> None:
    lines = [_msg("m1", "wmZZZZZZZZZZZZZZZZ", BASE_MS, "text", {"content": "在吗"}),
             _msg("m2", "wangwu", BASE_MS + 1, "text", {"content": "在的"})]
    conv = parse_wechat_archive("\n".join(lines), participants={}, started_at=START)
    assert [t.speaker for t in conv.turns] == ["customer", "rep"]
    assert conv.roles_inferred and all(t.role_inferred for t in conv.turns)


def test_wechat_archive_orders_by_msgtime() -> None:
    lines = [_msg("b", "zhangsan", BASE_MS + 5000, "text", {"content": "第二"}),
             _msg("a", "zhangsan", BASE_MS, "text", {"content": "第一"})]
    conv = parse_wechat_archive("\n".join(lines), participants=PARTICIPANTS, started_at=START)
    assert [t.text for t in conv.turns] == ["第一", "第二"]


# fmt: off
BROKEN_ARCHIVES = (
    ('{"msgid": "m1", "from": "a"', 1, "not valid JSON"),
    ('[1, 2]', 1, "JSON object"),
    (_msg("m1", "a", BASE_MS, "text", {"content": "ok"}) + '\n{"msgid": "m2", "from": "a", "msgtype": "text"}', 2, "msgtime"),
    (_msg("m1", "a", BASE_MS, "text", {"nope": 1}), 1, "text.content"),
    (json.dumps({"msgid": "m", "from": "a", "msgtime": "yesterday", "msgtype": "text", "text": {"content": "x"}}), 1, "epoch"),
)
# fmt: on


@pytest.mark.parametrize(("content", "line", "words"), BROKEN_ARCHIVES,
                         ids=["truncated-json", "not-object", "missing-msgtime", "no-content", "bad-msgtime"])
def test_wechat_archive_broken_lines_name_the_line(content: str, line: int, words: str) -> None:
    with pytest.raises(IngestError) as info:
        parse_wechat_archive(content, participants=PARTICIPANTS, started_at=START)
    assert info.value.line == line
    assert words in str(info.value)
    assert info.value.code == "unparseable-content"


def test_wechat_text_labels_continuations_and_inline_markers() -> None:
    content = (
        "2026-03-02 10:00:05 李总(客户): 你们这个月能发货吗\n"
        "2026-03-02 10:01:10 张三(销售): 可以的，库存充足\n"
        "第二行补充：周三前到\n"
        "2026-03-02 10:02:00 李总(客户): [图片]\n"
        "2026-03-02 10:03:00 李总（客户）：好[捂脸]\n"
    )
    conv = parse_wechat_text(content, started_at=START)
    assert [t.speaker for t in conv.turns] == ["customer", "rep", "customer", "customer"]
    assert conv.turns[1].text == "可以的，库存充足\n第二行补充：周三前到"
    assert conv.turns[2].kind == "image"
    assert conv.turns[3].text == "好[捂脸]"
    for t in conv.turns:
        assert content[t.source_start:t.source_end] == t.text
    assert conv.turns[0].at == datetime(2026, 3, 2, 10, 0, 5, tzinfo=CST)


def test_wechat_text_without_labels_infers_roles_per_name() -> None:
    content = (
        "2026-03-02 10:00:05 小王: 刘总您好，我是云帆科技的小王，给您发一下报价\n"
        "2026-03-02 10:01:10 刘总: 你们的价格比别家高不少\n"
        "2026-03-02 10:02:10 小王: 我去跟公司申请一下折扣，明天给您回复\n"
    )
    conv = parse_wechat_text(content, started_at=START)
    assert [t.speaker for t in conv.turns] == ["rep", "customer", "rep"]
    assert conv.roles_inferred


@pytest.mark.parametrize("content", ["hello there", "2026-13-45 10:00:00 李总(客户): 日期不对"],
                         ids=["no-stamp", "bad-date"])
def test_wechat_text_broken(content: str) -> None:
    with pytest.raises(IngestError) as info:
        parse_wechat_text(content, started_at=START)
    assert info.value.line == 1


def test_parse_content_rejects_unknown_format_and_empty() -> None:
    with pytest.raises(IngestError) as info:
        parse_content("fax", "x", channel="other")
    assert info.value.code == "unsupported-format"
    with pytest.raises(IngestError) as info:
        parse_content("wechat_text", "  \n ", channel="wechat")
    assert info.value.code == "empty-content"
