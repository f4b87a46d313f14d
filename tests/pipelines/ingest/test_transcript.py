from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipelines.ingest import IngestError, parse_content
from pipelines.ingest.transcript import parse_call_transcript
from pipelines.roles import cue_score, infer_roles

CST = timezone(timedelta(hours=8))
START = datetime(2026, 3, 2, 14, 0, tzinfo=CST)


def test_transcript_labels_offsets_and_times() -> None:
    content = "[00:00:02] 销售: 周总您好，我是启明软件的小陈\n[00:00:07] 客户: 你好，说吧\n[00:01:15] 客户经理: 报价我晚点发您"
    conv = parse_call_transcript(content, started_at=START)
    assert [t.speaker for t in conv.turns] == ["rep", "customer", "rep"]  # 客户经理 is the rep
    assert conv.turns[1].text == "你好，说吧"
    assert conv.turns[2].at == START + timedelta(minutes=1, seconds=15)
    for t in conv.turns:
        assert content[t.source_start:t.source_end] == t.text
    assert not conv.roles_inferred


def test_transcript_continuation_lines_join_the_previous_utterance() -> None:
    content = "[00:00:02] 客户: 第一句\n接着说的第二行\n[00:00:09] 销售: 明白"
    conv = parse_call_transcript(content, started_at=START)
    assert conv.turns[0].text == "第一句\n接着说的第二行"


def test_transcript_without_labels_infers_alternating_roles() -> None:
    content = (
        "[00:00:01] 喂 张经理您好 我是顺达物流的小刘 您要的报价出来了\n"
        "[00:00:08] 哦 多少钱\n"
        "[00:00:11] 整柜是一万二 含报关\n"
        "[00:00:16] 你们比别家贵了快一千\n"
        "[00:00:22] 我回去跟公司申请一下 明天上午给您回电话\n"
        "[00:00:30] 行\n"
    )
    conv = parse_call_transcript(content, started_at=START)
    assert [t.speaker for t in conv.turns] == ["rep", "customer", "rep", "customer", "rep", "customer"]
    assert conv.roles_inferred and all(t.role_inferred for t in conv.turns)


def test_transcript_diarised_labels_get_one_role_per_speaker() -> None:
    content = (
        "[00:00:01] 说话人1: 您好 我是华信的小周 给您介绍下新方案\n"
        "[00:00:06] 说话人2: 你们价格多少\n"
        "[00:00:09] 说话人1: 我把报价单发您邮箱\n"
        "[00:00:15] 说话人2: 好\n"
    )
    conv = parse_call_transcript(content, started_at=START)
    assert [t.speaker for t in conv.turns] == ["rep", "customer", "rep", "customer"]
    assert conv.turns[0].name == "说话人1"


@pytest.mark.parametrize(("content", "line"), [
    ("客户: 没有时间戳", 1),
    ("[00:00:01] 客户: 好\n[00:61:00] 销售: 时间不对", 2),
], ids=["no-stamps", "bad-stamp"])
def test_transcript_broken(content: str, line: int) -> None:
    with pytest.raises(IngestError) as info:
        parse_call_transcript(content, started_at=START)
    assert info.value.line == line


def test_plain_is_one_turn_of_the_given_speaker() -> None:
    conv = parse_content("plain", "  预算被砍了  ", channel="other", speaker="customer")
    (turn,) = conv.turns
    assert turn.text == "预算被砍了" and turn.speaker == "customer" and turn.source_start == 2


def test_roles_cue_scores_have_the_right_sign() -> None:
    assert cue_score("您好，我是恒通科技的小李，给您发一下资料") > 0
    assert cue_score("你们的报价比别家高") < 0
    assert infer_roles([]) == ()
    assert infer_roles(["好的"], first="customer") == ("customer",)


def test_roles_follow_continuations_and_a_calling_customer() -> None:
    # The customer calls the vendor, and speaks twice in a row ("另外…").
    texts = [
        "喂 是华安空调的吗 我是东方商场的工程部经理",
        "您好 我是华安的小杜 您说",
        "你们上周装的那台外机噪音太大 我们租户投诉了",
        "另外保修卡也没给我们",
        "实在抱歉 我明天上午带售后的师傅过去看一下",
        "行",
    ]
    assert infer_roles(texts) == ("customer", "rep", "customer", "customer", "rep", "customer")


def test_mail_roles_do_not_weigh_polite_pronouns() -> None:
    formal_customer = "何经理：您好！贵司的报价我们已收到，您看能否在本周五前提供检测报告。"
    assert cue_score(formal_customer, speech=False) <= cue_score(formal_customer)
