"""Record fields: each extractor on hand-built conversations (offline, no models).

The Chinese lines here are written for these tests; they are not taken from any evaluation set.
Signals are built by hand (``_sig``) so the field rules are tested apart from the detector.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipelines.conversation import Conversation, Turn
from pipelines.fields import (
    FieldLexiconError,
    RecordFields,
    extract_fields,
    load_field_lexicons,
)
from pipelines.record_fields.actions import extract_next_action, extract_support
from pipelines.record_fields.blocker import extract_blocker, extract_rejection, signal_level
from pipelines.record_fields.competitors import extract_competitors
from pipelines.record_fields.documents import extract_attachments, find_documents
from pipelines.record_fields.lexicons import dedupe_names, normalise_person
from pipelines.record_fields.questions import extract_questions, is_question
from pipelines.record_fields.text import analyse
from pipelines.timeexpr import find_times

CST = timezone(timedelta(hours=8))
REF = datetime(2026, 1, 12, 9, 30, tzinfo=CST)  # a Monday
LEX = load_field_lexicons()


@dataclass(frozen=True, slots=True)
class _Sig:
    category: str
    quote: str
    speaker: str
    turn: int
    start: int
    end: int
    severity: int = 2


def _conv(*lines: tuple[str, str], fmt: str = "wechat_text", quoted: str = "",
          files: dict[int, str] | None = None) -> Conversation:
    turns = []
    for i, (speaker, text) in enumerate(lines):
        if files and i in files:
            turns.append(Turn(index=i, speaker=speaker, text="", kind="file", attachment=files[i]))  # type: ignore[arg-type]
        else:
            turns.append(Turn(index=i, speaker=speaker, text=text))  # type: ignore[arg-type]
    return Conversation(channel="email" if fmt == "eml" else "wechat", format=fmt,  # type: ignore[arg-type]
                        turns=tuple(turns), started_at=REF, quoted_history=quoted)


def _sig(conv: Conversation, turn: int, quote: str, category: str, speaker: str = "customer") -> _Sig:
    text = conv.turns[turn].text
    start = text.index(quote)
    return _Sig(category, quote, speaker, turn, start, start + len(quote))


def _an(conv: Conversation):  # noqa: ANN202
    return analyse(conv, REF, find_times)


# ---------------------------------------------------------------- lexicons


def test_fields_lexicons_load_with_versions_and_aliases() -> None:
    assert LEX.version.count("+") == 3
    assert LEX.canonical_department("技术支持部") == "技术部"
    assert LEX.canonical_department("技术支持中心") == "技术部"  # not listed: rapidfuzz
    assert LEX.canonical_department("法务") == "法务部"
    assert LEX.canonical_department("董事会") is None
    assert LEX.canonical_competitor("海康") == "海康威视"
    assert "京东" in LEX.non_competitors


def test_fields_lexicons_malformed_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "fields").mkdir()
    (tmp_path / "fields" / "departments.yaml").write_text("departments: [not, a, mapping]\n", encoding="utf-8")
    with pytest.raises(FieldLexiconError, match="departments.yaml"):
        load_field_lexicons(tmp_path)


def test_fields_lexicons_duplicate_alias_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "fields").mkdir()
    (tmp_path / "fields" / "departments.yaml").write_text(
        "departments:\n  技术部: [研发]\n  产品部: [研发]\n", encoding="utf-8")
    with pytest.raises(FieldLexiconError, match="研发"):
        load_field_lexicons(tmp_path)


def test_fields_names_normalise_and_dedupe() -> None:
    assert normalise_person("张工程师") == "张工"
    assert dedupe_names(["张工", "张工程师", "金蝶", "金蝶KIS", "金蝶云星辰"]) == ("张工程师", "金蝶KIS", "金蝶云星辰")
    assert dedupe_names(["报价单", "报价单", "成本分解表"]) == ("报价单", "成本分解表")


# ---------------------------------------------------------------- time analysis


def test_fields_bare_part_of_day_inherits_the_day_said_before() -> None:
    conv = _conv(("rep", "我明天上午先把方案报给经理 下午给您打电话"))
    clauses = _an(conv).turns[0].clauses
    assert [t.iso() for c in clauses for t in c.times] == ["2026-01-13", "2026-01-13"]


def test_fields_clock_time_is_not_cut_at_its_colon() -> None:
    conv = _conv(("customer", "请于2026年1月20日16:30前递交资料。"))
    clauses = _an(conv).turns[0].clauses
    assert len(clauses) == 1
    assert clauses[0].times[0].iso() == "2026-01-20T16:30:00+08:00"


def test_fields_vague_periods_are_not_dues() -> None:
    conv = _conv(("rep", "年后我再来拜访您"))
    assert _an(conv).turns[0].times == ()


# ---------------------------------------------------------------- blocker

# fmt: off
LEVEL_CASES = (
    ("churn", "下个季度开始就不再续约了", "", "P0"),
    ("churn", "这批货先别发了 等通知", "", "P1"),
    ("churn", "我们就换别家了", "要是月底还搞不定 ", "P1"),
    ("churn", "明天不处理好就全部停掉", "", "P0"),
    ("churn", "三月起份额调成四六开", "", "P1"),
    ("churn", "很容易被平台下架", "", "P2"),
    ("churn", "订货量也要往下调", "", "P1"),
    ("churn", "明天再不到货我们就全部停掉", "", "P0"),
    ("payment", "这笔款先压着不付", "", "P0"),
    ("payment", "回款要拖到四月份了", "", "P1"),
    ("payment", "改成半年期的银行承兑", "", "P1"),
    ("payment", "想申请账期延长半个月", "", "P2"),
    ("payment", "发票没到财务付不了款", "", "P3"),
    ("budget", "今年预算被砍了一半", "", "P1"),
    ("budget", "预算就卡在五十万", "", "P2"),
    ("procurement", "这个金额必须走公开招标", "", "P1"),
    ("procurement", "按制度要三家比价", "", "P2"),
    ("procurement", "你们还没进合格供方名录", "", "P1"),
    ("competitor", "我们已经选了另一家的方案", "", "P0"),
    ("competitor", "技术总监倾向用国外品牌", "", "P1"),
    ("competitor", "别家报价低了一成", "", "P2"),
    ("price", "单价还是偏高", "", "P2"),
    ("decision_delay", "老板还没拍板", "", "P2"),
    ("trust", "担心你们售后跟不上", "", "P2"),
)
# fmt: on


@pytest.mark.parametrize(("category", "quote", "before", "level"), LEVEL_CASES,
                         ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(LEVEL_CASES)])
def test_fields_signal_level(category: str, quote: str, before: str, level: str) -> None:
    assert signal_level(category, quote, before) == level


def test_fields_blocker_most_severe_first_in_customer_words() -> None:
    conv = _conv(
        ("customer", "你们这个报价比上次又高了，我们有点吃不消"),
        ("rep", "理解，我去申请一下"),
        ("customer", "另外集团今年统一走集采平台，区域自己定不了"),
    )
    sigs = [_sig(conv, 0, "你们这个报价比上次又高了", "price"), _sig(conv, 2, "集团今年统一走集采平台", "procurement")]
    b = extract_blocker(_an(conv), sigs, LEX)
    assert b is not None and b.level == "P1" and b.turn == 2
    assert b.text.index("集采") < b.text.index("报价")


def test_fields_blocker_rep_restatement_only_without_customer_signals() -> None:
    conv = _conv(("rep", "王总：客户说我们的年费比预期高了两成，希望能打折。"), fmt="eml")
    sigs = [_sig(conv, 0, "我们的年费比预期高了两成", "price", speaker="rep")]
    b = extract_blocker(_an(conv), sigs, LEX)
    assert b is not None and b.level == "P2" and "年费" in b.text


def test_fields_blocker_p3_for_a_required_certificate() -> None:
    conv = _conv(("customer", "我们质量部要你们的ROHS检测报告，没有的话进不了系统"), ("rep", "好的，明天发您"))
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P3" and "检测报告" in b.text


def test_fields_blocker_p3_for_a_sample_first() -> None:
    conv = _conv(("customer", "先寄两个样品过来，我们实验室测一下再说"))
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P3"
    conv = _conv(("customer", "首批样件的交期要求是3月5日"))  # a delivery date, not a sample to test
    assert extract_blocker(_an(conv), [], LEX) is None


def test_fields_blocker_none_for_a_plain_order() -> None:
    conv = _conv(("customer", "老样子，再来二十箱，周三前送到"), ("rep", "好嘞，周二下午送到"))
    assert extract_blocker(_an(conv), [], LEX) is None


def test_fields_final_rejection_is_p0_even_without_a_churn_signal() -> None:
    conv = _conv(("customer", "经过评估，我们决定改用另一套系统，合同到期后不再续签。"), fmt="eml")
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P0"


def test_fields_rejection_reason_with_the_customer_reasons() -> None:
    conv = _conv(
        ("customer", "你们一年八万太贵了"),
        ("customer", "我们最终决定选用用友U8，财务那边一直用的就是它"),
    )
    sigs = [_sig(conv, 0, "你们一年八万太贵了", "price")]
    reason = extract_rejection(_an(conv), sigs)
    assert reason is not None and "用友U8" in reason and "太贵" in reason


def test_fields_conditional_threat_is_not_a_rejection() -> None:
    conv = _conv(("customer", "如果这周还定不下来，我们就不考虑了"))
    assert extract_rejection(_an(conv), []) is None


# ---------------------------------------------------------------- next action and support


def test_fields_next_action_is_the_earliest_dated_commitment() -> None:
    conv = _conv(
        ("customer", "样品和检测报告什么时候能给我"),
        ("rep", "检测报告我今天下午发您邮箱，样品周四寄出"),
        ("rep", "正式合同下周一给您"),
    )
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-12" and "检测报告" in a.text


def test_fields_internal_escalation_goes_to_support_not_action() -> None:
    conv = _conv(
        ("customer", "这个价格还是高"),
        ("rep", "我让法务今天上午先看一遍合同，下午三点前发您新的报价单"),
    )
    an = _an(conv)
    a = extract_next_action(an, LEX)
    assert a is not None and a.due == "2026-01-12T15:00:00+08:00" and "报价单" in a.text
    support = extract_support(an, LEX)
    assert [(s.department, s.person) for s in support] == [("法务部", None)]


def test_fields_customer_pins_the_clock_time() -> None:
    conv = _conv(("rep", "明天上午我带技术部的孙工过去看设备"), ("customer", "好，明天上午我在，你们十点前到"))
    an = _an(conv)
    a = extract_next_action(an, LEX)
    assert a is not None and a.due == "2026-01-13T10:00:00+08:00"
    assert [(s.department, s.person) for s in extract_support(an, LEX)] == [("技术部", "孙工")]


def test_fields_customer_deadline_when_the_rep_commits_to_nothing() -> None:
    conv = _conv(("customer", "周经理：\n\n请于1月16日前提供以下材料：\n1. 资质证书\n2. 售后服务方案\n"), fmt="eml")
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-16" and "资质证书" in a.text


def test_fields_action_names_what_the_customer_asked_for() -> None:
    conv = _conv(("customer", "你把安装手册和质保条款发我一下"), ("rep", "好的，中午前发您"))
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-12T12:00:00+08:00"
    assert "安装手册" in a.text and "质保条款" in a.text


def test_fields_done_things_and_generic_offers_are_not_actions() -> None:
    conv = _conv(("rep", "报价昨天已经发您了"), ("rep", "有问题随时联系我"))
    assert extract_next_action(_an(conv), LEX) is None


def test_fields_undated_action_has_no_due() -> None:
    conv = _conv(("customer", "先这样吧"), ("rep", "好的，那我把新的彩页也发您参考"))
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due is None and "彩页" in a.text


def test_fields_support_managers_and_customer_side() -> None:
    conv = _conv(
        ("customer", "你们财务上次开错票了"),
        ("rep", "这个折扣我做不了主，得李总批"),
        ("rep", "你们财务那边我也会再核对一下"),
        ("rep", "贵公司法务提的条款我看了"),
    )
    support = extract_support(_an(conv), LEX)
    assert [(s.department, s.person) for s in support] == [("销售部", "李总")]


def test_fields_support_addressee_of_an_internal_mail() -> None:
    conv = _conv(("rep", "刘总：\n\n客户要求再降3%。请您批一个特价，另外请质量部本周内出一份改善报告。"), fmt="eml")
    support = extract_support(_an(conv), LEX)
    assert {(s.department, s.person) for s in support} == {("销售部", "刘总"), ("质量部", None)}


# ---------------------------------------------------------------- questions

# fmt: off
QUESTION_CASES = (
    ("这款能做定制颜色吗", True),
    ("你们的交期多久", True),
    ("含不含运费？", True),
    ("质保是三年还是五年", True),
    ("包装有没有中文说明", True),
    ("隔壁好几家都能做", False),       # quantity, not a question
    ("我们用多少付多少", False),
    ("你们这样我怎么敢签", False),     # rhetorical
    ("能不能批下来要看老板", False),   # indirect, a statement
    ("在吗", False),
    ("喂 是小周吗", False),             # a greeting on the phone
    ("我们对服务还是很满意的", False),   # 还是 = still
    ("看能不能进入今年的目录", False),   # a suggestion
)
# fmt: on


@pytest.mark.parametrize(("text", "asks"), QUESTION_CASES, ids=[c[0] for c in QUESTION_CASES])
def test_fields_is_question(text: str, asks: bool) -> None:
    assert is_question(text) is asks


def test_fields_questions_only_the_customer_split_and_restated() -> None:
    conv = _conv(
        ("rep", "您上周问到的能否开增值税专票，我们确认可以开"),
        ("customer", "好的。另外安装要另外收费吗 培训一般几天"),
        ("rep", "您看什么时候方便？"),
    )
    qs = extract_questions(_an(conv))
    assert qs == ("能否开增值税专票", "安装要另外收费吗", "培训一般几天")


def test_fields_question_mark_cut_off_by_the_clause_splitter() -> None:
    conv = _conv(("customer", "好的，那能开专票吧？"))
    assert extract_questions(_an(conv)) == ("能开专票吧",)


def test_fields_elliptic_question_takes_the_reps_topic() -> None:
    conv = _conv(("rep", "您之前问的华南线的运价出来了"), ("customer", "嗯 多少"))
    assert extract_questions(_an(conv)) == ("华南线的运价多少",)


# ---------------------------------------------------------------- competitors


def test_fields_competitors_from_lexicon_and_patterns() -> None:
    conv = _conv(
        ("customer", "我们现在用的是金蝶KIS，另外销售易也来找过我们"),
        ("customer", "隔壁公司用的是云鹊通，说挺好用"),
        ("rep", "我是恒信的小马，我们的数据可以从京东店铺同步"),
    )
    assert extract_competitors(_an(conv), LEX) == ("金蝶KIS", "销售易", "云鹊通")


def test_fields_ambiguous_names_need_competitor_context() -> None:
    conv = _conv(("customer", "今年统一走集采，小米粥的福利也取消了"), ("customer", "统一那边的业务员报价更低"))
    assert extract_competitors(_an(conv), LEX) == ("统一企业",)


def test_fields_own_company_is_not_a_competitor() -> None:
    conv = _conv(("customer", "我们海尔这边采购流程比较长"), ("customer", "之前用的是美的的，售后太慢"))
    assert extract_competitors(_an(conv), LEX) == ("美的",)


def test_fields_unnamed_and_channels_are_not_competitors() -> None:
    conv = _conv(("customer", "另一家给的价格更低，我们主要在天猫和亚马逊上卖"))
    assert extract_competitors(_an(conv), LEX) == ()


# ---------------------------------------------------------------- attachments


def test_fields_document_names_keep_their_modifiers() -> None:
    names = [d.name for d in find_documents("麻烦把新版的产品彩页和三家客户的验收证明发我", LEX)]
    assert names == ["产品彩页", "验收证明"]  # the name after 的: it matches however the modifier is written
    names = [d.name for d in find_documents("下周把V M I方案和年度框架协议发您", LEX)]
    assert names == ["VMI方案", "年度框架协议"]


def test_fields_attachments_files_lists_and_quoted_history() -> None:
    conv = _conv(
        ("customer", "请配合提供以下材料：\n1. 营业执照副本\n2. 近三年的纳税证明\n"),
        ("rep", ""),
        ("rep", "报价这块大家都没问题"),
        fmt="eml", quoted="> 李经理您好，附件是产品选型手册，请查收。", files={1: "售后服务承诺书-2026.pdf"},
    )
    att = extract_attachments(_an(conv), LEX)
    assert att == ("营业执照副本", "纳税证明", "售后服务承诺书-2026", "产品选型手册")


# ---------------------------------------------------------------- the whole record


def _chat() -> tuple[Conversation, list[_Sig]]:
    conv = _conv(
        ("rep", "何总好，上次的方案您看了吗"),
        ("customer", "看了，功能没问题，就是一年十二万超预算了"),
        ("customer", "而且海康那边报了九万，还送三年维保"),
        ("rep", "明白，价格我跟我们区域经理申请一下"),
        ("customer", "你们能不能分两年付"),
        ("rep", "分期可以谈，我明天下午四点前把分期方案和新报价发您"),
        ("customer", "行，另外把你们在医院的案例也发一份"),
        ("rep", "好的，一起发"),
    )
    sigs = [_sig(conv, 1, "一年十二万超预算了", "budget"), _sig(conv, 2, "海康那边报了九万", "competitor")]
    return conv, sigs


def test_fields_extract_fields_whole_record() -> None:
    conv, sigs = _chat()
    f = extract_fields(conv, sigs, reference=REF, lexicons=LEX, find_times=find_times)
    assert isinstance(f, RecordFields)
    assert f.blocker is not None and f.blocker.level == "P2" and "预算" in f.blocker.text
    assert f.next_action is not None and f.next_action.due == "2026-01-13T16:00:00+08:00"
    assert "分期方案" in f.next_action.text
    assert [(s.department, s.person) for s in f.support_needed] == [("销售部", "区域经理")]
    assert f.competitors == ("海康威视",)
    assert f.customer_questions == ("你们能不能分两年付",)
    assert f.rejection_reason is None
    assert set(f.attachments) >= {"分期方案", "医院案例"}
    assert f.needs_review == ()


def test_fields_needs_review_for_action_without_time_and_inferred_roles() -> None:
    conv = _conv(("customer", "报价太高了"), ("rep", "那我把基础版的报价也发您"))
    conv = Conversation(channel=conv.channel, format=conv.format, turns=conv.turns, started_at=REF,
                        roles_inferred=True)
    sigs = [_sig(conv, 0, "报价太高了", "price")]
    f = extract_fields(conv, sigs, reference=REF, lexicons=LEX)
    assert set(f.needs_review) == {"blocker", "next_action"}


def test_fields_empty_conversation() -> None:
    f = extract_fields(_conv(), [], reference=REF, lexicons=LEX)
    assert f == RecordFields(None, None, (), (), (), None, ())


def test_fields_twenty_turn_chat_is_fast() -> None:
    conv, sigs = _chat()
    turns = tuple(Turn(index=i, speaker=t.speaker, text=t.text) for i, t in
                  enumerate(conv.turns + conv.turns + conv.turns[:4]))
    big = Conversation(channel="wechat", format="wechat_text", turns=turns, started_at=REF)
    extract_fields(big, sigs, reference=REF, lexicons=LEX)  # warm regex caches
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        extract_fields(big, sigs, reference=REF, lexicons=LEX)
        runs.append(time.perf_counter() - t0)
    assert sorted(runs)[2] < 0.1  # ~10 ms on one core; generous for a shared CI machine


def test_fields_engineer_sent_by_the_rep_is_technical_support() -> None:
    conv = _conv(("customer", "设备还是报警"), ("rep", "我安排我们的应用工程师小罗明天上午过去处理"))
    support = extract_support(_an(conv), LEX)
    assert [(s.department, s.person) for s in support] == [("技术部", "小罗")]
    conv = _conv(("rep", "我让售后工程师李工下午联系您"))
    assert [(s.department, s.person) for s in extract_support(_an(conv), LEX)] == [("售后部", "李工")]


def test_fields_competitor_found_by_price_comparison() -> None:
    conv = _conv(("customer", "你们的滤网比清风源的贵了一倍"), ("customer", "比去年也贵了"))
    assert extract_competitors(_an(conv), LEX) == ("清风源",)


def test_fields_decided_for_another_vendor_is_a_rejection() -> None:
    conv = _conv(("customer", "跟你说一声，我们决定用蓝鲸的了，他们账期给得长"))
    an = _an(conv)
    reason = extract_rejection(an, [])
    assert reason is not None and "蓝鲸" in reason
    b = extract_blocker(an, [], LEX)
    assert b is not None and b.level == "P0"
    conv = _conv(("customer", "我们决定用你们的方案了"))
    assert extract_rejection(_an(conv), []) is None


def test_fields_support_department_titles_and_unlisted_departments() -> None:
    conv = _conv(("rep", "明天我带我们售后经理过去"), ("rep", "检索报告我让我们知识产权部整理一下"))
    support = extract_support(_an(conv), LEX)
    assert [(s.department, s.person) for s in support] == [("售后部", "售后经理"), ("知识产权部", None)]
    conv = _conv(("rep", "我们的配方是自主研发的"))  # 研发 as a word, not a department
    assert extract_support(_an(conv), LEX) == ()


def test_fields_action_keeps_its_purpose_and_stays_in_its_sentence() -> None:
    conv = _conv(("rep", "运价表见附件。夜间配送可以安排。我周二上午给您打电话，确认一下线路安排。"), fmt="eml")
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.text == "我周二上午给您打电话，确认一下线路安排" and a.due == "2026-01-13"


def test_fields_visit_to_the_customer_is_an_action() -> None:
    conv = _conv(("customer", "需要我们准备什么"), ("rep", "一份学生名单就行，我周四来学校帮你们开通账号"))
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-15" and "账号" in a.text


def test_fields_competitor_that_also_quoted() -> None:
    conv = _conv(("customer", "远景也报了，比你们低一点"))
    assert extract_competitors(_an(conv), LEX) == ("远景",)


# ---------------------------------------------------------------- generalisation round 2 (issue 4)


def test_fields_price_objection_is_not_a_rejection() -> None:
    conv = _conv(("customer", "这次涨得太多了，这个涨幅我们接受不了"))
    assert extract_rejection(_an(conv), []) is None
    conv = _conv(("customer", "你们提的付款条件我们无法接受，这个项目就先这样吧"))
    assert extract_rejection(_an(conv), []) is not None


def test_fields_project_dropped_for_the_year_is_a_final_rejection() -> None:
    conv = _conv(("customer", "领导开会定了，这套系统今年先不上了"), ("customer", "今年不考虑新增软件了"))
    an = _an(conv)
    assert extract_rejection(an, []) is not None
    b = extract_blocker(an, [], LEX)
    assert b is not None and b.level == "P0"
    conv = _conv(("customer", "我们不考虑换了，就用你们的"))  # staying with us
    assert extract_rejection(_an(conv), []) is None


def test_fields_customer_deadline_to_supplement_documents() -> None:
    conv = _conv(("customer", "请贵司于1月16日前补充以下材料：\n1. 产品注册证\n2. 厂家授权书\n"), fmt="eml")
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-16" and "注册证" in a.text


def test_fields_report_to_own_manager_sends_to_you_internally() -> None:
    conv = _conv(("rep", "张总：\n\n客户那边的情况跟您汇报一下。我明天上午把补充协议发您过目。"
                         "另外我周四再去一趟客户工地，把样板带过去。"), fmt="eml")
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-15" and "工地" in a.text


def test_fields_colleague_named_after_their_department() -> None:
    conv = _conv(("rep", "周三我把我们实施的刘工也带上"), ("rep", "回头让售后的小马联系您"))
    support = extract_support(_an(conv), LEX)
    assert [(s.department, s.person) for s in support] == [("实施部", "刘工"), ("售后部", "小马")]


def test_fields_complaints_phrased_as_questions_are_not_questions() -> None:
    assert not is_question("你们仓库到底怎么管的")
    assert not is_question("这是怎么搞的")


def test_fields_generic_nouns_after_used_are_not_competitors() -> None:
    conv = _conv(("customer", "有没有在化工厂用的案例"), ("customer", "我们目前用的是速腾的设备"))
    assert extract_competitors(_an(conv), LEX) == ("速腾",)


def test_fields_document_name_stops_at_yixia() -> None:
    names = [d.name for d in find_documents("请法务审一下补充协议", LEX)]
    assert names == ["补充协议"]


def test_fields_competitor_that_will_also_bid() -> None:
    conv = _conv(("customer", "听说雨虹也要来投，他们价格压得很低"), ("customer", "我们的系统和AI侦测是比海康好的"))
    assert extract_competitors(_an(conv), LEX) == ("东方雨虹", "海康威视")


def test_fields_churn_asked_about_as_a_case_is_not_a_decision() -> None:
    assert signal_level("churn", "如果不续费还能导出来吗", "去年的历史数据，") == "P2"


def test_fields_a_sample_that_passed_is_not_a_blocker() -> None:
    conv = _conv(("customer", "样品测试没问题，我们老板很满意"))
    assert extract_blocker(_an(conv), [], LEX) is None


def test_fields_time_said_alone_before_an_unpunctuated_commitment() -> None:
    conv = _conv(("rep", "这样 后天下午三点前 我把正式方案和报价发您邮箱"), fmt="call_transcript")
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-14T15:00:00+08:00"


def test_fields_a_rule_is_not_a_request_for_a_document() -> None:
    conv = _conv(("customer", "这种外包合同要三家比价的"), ("rep", "好的，我明天把方案发您"))
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and "合同" not in a.text


# fmt: off
REQUEST_NOT_QUESTION = (
    "你们能不能帮我们出一份可行性方案的初稿",
    "能不能先发一份报价",
    "发票还是跟上次一样开普票",
    "但是别家报给我们的还是2.4",
)
# fmt: on


@pytest.mark.parametrize("text", REQUEST_NOT_QUESTION)
def test_fields_requests_and_statements_are_not_questions(text: str) -> None:
    assert not is_question(text)


def test_fields_traditional_chinese_is_read_and_answered_as_written() -> None:
    conv = _conv(
        ("customer", "價格比我們預期高不少，另外有沒有香港的認證？"),
        ("rep", "價格我去跟我們區域經理申請一下，明天上午給您回覆新的報價單"),
    )
    sigs = [_sig(conv, 0, "價格比我們預期高不少", "price")]
    f = extract_fields(conv, sigs, reference=REF, lexicons=LEX, find_times=find_times)
    assert f.next_action is not None and f.next_action.due == "2026-01-13" and "報價單" in f.next_action.text
    assert [(s.department, s.person) for s in f.support_needed] == [("销售部", "區域經理")]
    assert f.customer_questions == ("有沒有香港的認證",)
    assert f.blocker is not None and "價格" in f.blocker.text


def test_fields_integration_platform_is_not_a_competitor() -> None:
    conv = _conv(("customer", "我们客户资料都在企业微信里，你们能跟企业微信打通吗"),
                 ("customer", "另外销售易的人也来找过我们"))
    assert extract_competitors(_an(conv), LEX) == ("销售易",)
    conv = _conv(("customer", "老板想换成钉钉，你们能跟钉钉打通吗"))  # also a substitute: stays
    assert extract_competitors(_an(conv), LEX) == ("钉钉",)


def test_fields_already_produced_is_not_already_done() -> None:
    conv = _conv(("rep", "好的 我今天先让工厂停产 把已生产的数量和金额算出来明天上午发您"))
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-13" and "数量" in a.text


def test_fields_past_days_are_not_dues_and_sent_files_are_done() -> None:
    conv = _conv(("rep", "设备上周已经全部验收完了，验收单我发群里"), ("rep", ""), ("rep", "原件明天寄给您"),
                 files={1: "验收单.pdf"})
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-13" and "原件" in a.text


def test_fields_terms_pushed_to_four_months_are_serious() -> None:
    assert signal_level("payment", "付款账期由月结60天调整为月结120天") == "P1"
    assert signal_level("payment", "财务那边要求月结九十天") == "P2"
    assert signal_level("payment", "这笔款要到3月份才能付") == "P1"
    assert signal_level("budget", "公司这边年底资金比较紧", after="，这笔款要到3月份才能付") == "P1"


def test_fields_support_needs_an_ask_and_keeps_the_named_person() -> None:
    conv = _conv(("rep", "理赔我查了 财务那边这周四之前能打款"),
                 ("rep", "我让我们运营部的老周跟您对接"),
                 ("rep", "价格这块我回去找我们区域总监申请个特价"))
    support = extract_support(_an(conv), LEX)
    assert [(s.department, s.person) for s in support] == [("运营部", "老周"), ("销售部", "区域总监")]


def test_fields_document_requests_and_confirmations() -> None:
    conv = _conv(("customer", "你们那款齿轮油的MSDS和报价中午之前能发我吗"), ("customer", "另外是200升一桶的对吧"),
                 ("customer", "进场费按我们的标准来，你们能接受吧"),
                 ("customer", "请贵司于1月30日前书面确认是否接受"))
    an = _an(conv)
    assert extract_questions(an, LEX) == ("是200升一桶的对吧", "进场费按我们的标准来，你们能接受吧")
    b = extract_blocker(an, [], LEX)
    assert b is not None and b.level == "P3" and "MSDS" in b.text


def test_fields_signed_contract_is_not_an_attachment() -> None:
    conv = _conv(("rep", "合同都签了，样板间也铺了"))
    assert extract_attachments(_an(conv), LEX) == ()


# fmt: off
CUE_CASES = (
    ("三十八万有点超我们预期了", "P2"),
    ("我们这边想做九十天的信用证", "P2"),
    ("这个季度会分百分之三十的量过去", "P1"),
    ("这批的货款我先压着不付了", "P0"),
    ("这个项目上面定了 要走公开招标", "P1"),
    ("不是价格太高的问题", None),        # negated
    ("招标文件下周发您", None),          # neutral talk with a risk word
    ("如果分期的话利息怎么算？", None),   # a question about a case
)
# fmt: on


@pytest.mark.parametrize(("text", "level"), CUE_CASES, ids=[c[0] for c in CUE_CASES])
def test_fields_blocker_cues_catch_what_the_detector_missed(text: str, level: str | None) -> None:
    conv = _conv(("customer", text))
    b = extract_blocker(_an(conv), [], LEX)
    assert (b.level if b else None) == level


def test_fields_blocker_cue_raises_a_milder_signal() -> None:
    conv = _conv(("customer", "焊缝开裂的不良率到了百分之三"), ("customer", "采购那边这个季度会分一半的量给二供"))
    b = extract_blocker(_an(conv), [_sig(conv, 0, "焊缝开裂的不良率到了百分之三", "trust")], LEX)
    assert b is not None and b.level == "P1" and b.turn == 1


def test_fields_signal_settled_in_its_sentence_is_not_a_blocker() -> None:
    conv = _conv(("customer", "价格方面我们对比过旺旺的同类产品，你们的报价有竞争力，这块没问题"))
    sig = _sig(conv, 0, "价格方面我们对比过旺旺的同类产品", "competitor")
    assert extract_blocker(_an(conv), [sig], LEX) is None
    conv = _conv(("customer", "我们对比过旺旺的，但你们贵了一成，这块没问题的话就下单"))
    sig = _sig(conv, 0, "我们对比过旺旺的", "competitor")
    assert extract_blocker(_an(conv), [sig], LEX) is not None


def test_fields_invoice_kind_is_not_an_attachment() -> None:
    conv = _conv(("customer", "发票还是跟上次一样开普票"), ("rep", "好的，我把发票寄给您"))
    assert extract_attachments(_an(conv), LEX) == ("发票",)
    conv = _conv(("customer", "发票还是跟上次一样开普票"))
    assert extract_attachments(_an(conv), LEX) == ()


def test_fields_blocker_cue_lexicon_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "fields").mkdir()
    (tmp_path / "fields" / "blockers.yaml").write_text("cues:\n  P1: ['(unclosed']\n", encoding="utf-8")
    with pytest.raises(FieldLexiconError, match="blockers.yaml"):
        load_field_lexicons(tmp_path)
    (tmp_path / "fields" / "blockers.yaml").write_text("cues:\n  P5: [x]\n", encoding="utf-8")
    with pytest.raises(FieldLexiconError, match="P5"):
        load_field_lexicons(tmp_path)


def test_fields_forward_to_an_engineer_is_internal() -> None:
    text = ("李工：\n\n下面是客户昨晚发来的邮件，客户对我们上个月交付的设备意见很大：开机半小时后数据漂移。"
            "周经理说如果这周解决不了，剩下两台就不要了，尾款也先不付。\n\n"
            "麻烦你明天中午前给我一个初步的原因分析，我明天下午要给周经理回复。")
    conv = _conv(("rep", text), fmt="eml")
    an = _an(conv)
    assert [(s.department, s.person) for s in extract_support(an, LEX)] == [("技术部", "李工")]
    b = extract_blocker(an, [], LEX)
    assert b is not None and b.level == "P1"  # a conditional threat, relayed by the rep
    a = extract_next_action(an, LEX)
    assert a is not None and a.due == "2026-01-13" and "回复" in a.text


def test_fields_agenda_of_a_meeting_is_not_a_commitment() -> None:
    conv = _conv(("rep", "各位领导好 今天主要给大家演示一下我们的排产模块"),
                 ("rep", "好的 那我这周五之前把分期的方案和报价发给各位"))
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-16" and "分期" in a.text


def test_fields_blocker_cues_for_moves_favourites_and_delays() -> None:
    conv = _conv(("customer", "下个月开始我们的海运都交给德迅做了"))
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P1"
    conv = _conv(("customer", "我们科室主任更认可贝克曼的"))
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P1"
    conv = _conv(("customer", "上次的图纸就晚了一个礼拜，耽误了我们吊装"))
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P2"


def test_fields_your_company_is_not_a_competitor() -> None:
    conv = _conv(("customer", "北森的三年总价也比贵司低约15%"))
    assert extract_competitors(_an(conv), LEX) == ("北森",)


def test_fields_documents_in_unpunctuated_requests_and_lists() -> None:
    conv = _conv(("customer", "医院要求你们提供性能验证报告 还有至少三家三甲医院的使用证明"), fmt="call_transcript")
    assert extract_attachments(_an(conv), LEX) == ("性能验证报告", "使用证明")
    conv = _conv(("customer", "资料我们审核了，还缺以下几项，目前没法批准：\n1. 尺寸全检报告；\n2. 材料的IMDS提交截图；\n"),
                 fmt="eml")
    assert extract_attachments(_an(conv), LEX) == ("尺寸全检报告", "IMDS提交截图")


def test_fields_batch5_generalisations() -> None:
    conv = _conv(("rep", "价格这块我去跟我们主管申请"))
    assert [(s.department, s.person) for s in extract_support(_an(conv), LEX)] == [("销售部", "主管")]
    conv = _conv(("customer", "需要对接我们的旺店通ERP"), ("customer", "原厂的比你们贵，参数和对比表也要"),
                 ("customer", "唯一性说明和参数对比我们可以提供"))
    assert extract_competitors(_an(conv), LEX) == ()
    assert signal_level("payment", "材料款现在也付不了") == "P0"
    conv = _conv(("rep", "好的 那下周一我去项目部跟您对一下已经到场的材料数量"))
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-19"


# fmt: off
MORE_QUESTIONS = (
    ("单一来源的话需要什么材料", True),
    ("好 滤芯你们有现货吧", True),
    ("那几台应该可以", False),
    ("什么都行", False),
)
# fmt: on


@pytest.mark.parametrize(("text", "asks"), MORE_QUESTIONS, ids=[c[0] for c in MORE_QUESTIONS])
def test_fields_more_question_forms(text: str, asks: bool) -> None:
    assert is_question(text) is asks


def test_fields_batch6_support_rules() -> None:
    conv = _conv(("rep", "不好意思 财务那边在核 月底前一定发您"),
                 ("rep", "人工费我去跟我们经理申请"),
                 ("rep", "下周二上午十点我带实施顾问过来做需求调研"),
                 ("rep", "发票的事财务那边我去催一下"))
    support = extract_support(_an(conv), LEX)
    assert [(s.department, s.person) for s in support] == [
        ("销售部", "经理"), ("实施部", "实施顾问"), ("财务部", None)]


def test_fields_batch6_actions_and_questions() -> None:
    conv = _conv(("customer", "请于2月3日（周二）中午12点前回传贵司盖章的协议扫描件，原件随后快递即可。请一并回复。"),
                 fmt="eml")
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-02-03T12:00:00+08:00" and "扫描件" in a.text
    conv = _conv(("customer", "这个月的对账单怎么还没发过来"), ("rep", "不好意思 月底前一定发您"),
                 ("customer", "重贴的人工费谁出"))
    an = _an(conv)
    a = extract_next_action(an, LEX)
    assert a is not None and "对账单" in a.text
    assert extract_questions(an, LEX) == ("重贴的人工费谁出",)


def test_fields_batch6_blocker_rules() -> None:
    conv = _conv(("customer", "好 样品多寄两卷 我们要做上机测试"), fmt="call_transcript")
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P3"
    conv = _conv(("customer", "另外预算就是二十万，不能再超了"))
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P2"
    conv = _conv(("customer", "预算没问题，今年的IT预算里已经批了这一块"), ("customer", "福利预算比去年还多一点"))
    assert extract_blocker(_an(conv), [], LEX) is None
    conv = _conv(("customer", "效果图整体可以，但是主色调想换成我们的品牌蓝"))
    sig = _sig(conv, 0, "主色调想换成我们的品牌蓝", "churn")  # a detector slip: no churn words
    assert extract_blocker(_an(conv), [sig], LEX) is None


def test_fields_times_of_day_are_not_competitors() -> None:
    conv = _conv(("customer", "夜配价格会比白天贵吗"))
    assert extract_competitors(_an(conv), LEX) == ()


def test_fields_batch7_competitor_discovery_and_offers() -> None:
    conv = _conv(("customer", "大疆的T40也差不多这个价 人家牌子大"), ("customer", "极飞那边还说给我们合作社送一年的保险"),
                 ("customer", "卫宁的人上个月也来过"), ("customer", "焊接工艺评定那边说性能没问题"))
    an = _an(conv)
    comps = extract_competitors(an, LEX)
    assert comps == ("大疆", "极飞", "卫宁")
    b = extract_blocker(an, [], LEX, comps)
    assert b is not None and b.level == "P2" and "大疆" in b.text
    conv = _conv(("customer", "价格方面我们对比过旺旺的同类产品，你们的报价有竞争力，这块没问题。"))
    an = _an(conv)
    assert extract_blocker(an, [], LEX, extract_competitors(an, LEX)) is None


def test_fields_batch7_holds_deferrals_and_dearer_than_incumbent() -> None:
    assert signal_level("decision_delay", "等库存降下来再说", "老板决定一季度先暂停下新单，") == "P1"
    assert signal_level("decision_delay", "年后再说") == "P2"
    assert signal_level("payment", "货款他们说要等甲方拨款后才能付", after="，大概要到4月份") == "P1"
    conv = _conv(("customer", "四块八啊 我们现在这家是四块三 你们比他贵五毛一套"), fmt="call_transcript")
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P2"
    conv = _conv(("customer", "价格会比白天贵吗"))
    assert extract_blocker(_an(conv), [], LEX) is None


def test_fields_batch7_support_past_meetings_and_echoes() -> None:
    conv = _conv(("rep", "产能我跟我们厂长确认一下"))
    assert [(s.department, s.person) for s in extract_support(_an(conv), LEX)] == [("生产部", "厂长")]
    conv = _conv(("rep", "今天见面时戚总明确说我们的价格高了一成。我计划下周二再约戚总见面，把新报价送过去。"), fmt="eml")
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-20"
    conv = _conv(("rep", "因为供应商延误了 晚了几天"), ("customer", "晚几天 已经晚了一个礼拜了"),
                 ("customer", "给不给机会看你们这批能不能按时到"), ("customer", "喂 小莫吗"))
    assert extract_questions(_an(conv), LEX) == ()


def test_fields_batch8_blocker_rules() -> None:
    conv = _conv(("customer", "今年劳保手套我们已经把三成的量切给霍尼韦尔了"))
    sig = _sig(conv, 0, "今年劳保手套我们已经把三成的量切给霍尼韦尔了", "competitor")
    b = extract_blocker(_an(conv), [sig], LEX)
    assert b is not None and b.level == "P1"  # the share moved, whatever the detector called it
    conv = _conv(("customer", "根据《政府采购竞争性磋商采购方式管理暂行办法》，本项目采用竞争性磋商方式"))
    sig = _sig(conv, 0, "本项目采用竞争性磋商方式", "procurement")
    b = extract_blocker(_an(conv), [sig], LEX)
    assert b is not None and b.level == "P2"  # procurement reads its own level
    conv = _conv(("customer", "按GSP的要求 新的冷链供应商必须先通过我们质量部的审计"), fmt="call_transcript")
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P1"
    conv = _conv(("customer", "我们下个月要接受客户的社会责任审厂"))  # the customer's own audit
    assert extract_blocker(_an(conv), [], LEX) is None
    conv = _conv(("customer", "上次那批瓷砖胶有几包结块了"))
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P2"
    conv = _conv(("customer", "毛经理，那款府绸的色牢度测试报告呢？"))
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P3"
    assert signal_level("payment", "现阶段资金比较紧张", after="，特申请将尾款支付时间延至3月31日") == "P2"


def test_fields_batch8_project_cancelled_is_a_rejection() -> None:
    conv = _conv(("customer", "由于集团今年的培训预算被砍了一半，原定三月份的管理层培训项目取消了。"), fmt="eml")
    assert extract_rejection(_an(conv), []) is not None


def test_fields_batch8_internal_mail_to_a_colleague_by_name() -> None:
    conv = _conv(("rep", "小魏：\n\n客户对我们的标准合同第8条违约责任有意见，客户要求把违约金上限改为合同额的10%。"
                         "麻烦你周四前帮忙看一下能否接受，我周五要去跟客户签约。"), fmt="eml")
    conv = Conversation(channel="email", format="eml", turns=conv.turns, started_at=REF, subject="合同条款请法务帮忙审核")
    an = _an(conv)
    assert [(s.department, s.person) for s in extract_support(an, LEX)] == [("法务部", "小魏")]
    b = extract_blocker(an, [], LEX)
    assert b is not None and b.level == "P2" and "违约" in b.text
    a = extract_next_action(an, LEX)
    assert a is not None and a.due == "2026-01-16" and "签约" in a.text


def test_fields_batch8_competitor_quotes_and_integrations() -> None:
    conv = _conv(("customer", "皇派的报价是含安装的 算下来比你们便宜一成"), ("customer", "这次的报价是含税的吗"),
                 ("customer", "能否对接有赞商城"), ("rep", "有赞商城我们有标准接口"))
    assert extract_competitors(_an(conv), LEX) == ("皇派",)


def test_fields_weakly_found_names_must_not_be_ordinary_words() -> None:
    conv = _conv(("customer", "焊接工艺评定那边给的结论是合格"), ("customer", "夜配会比晚上贵吗"),
                 ("customer", "皇派那边给的价低一成"))
    assert extract_competitors(_an(conv), LEX) == ("皇派",)
    assert "白天" in LEX.common_words and "皇派" not in LEX.common_words


def test_fields_batch9_cues_and_process_changes() -> None:
    for text, level in (("别家给到5个点了 你们才3个点", "P2"), ("款要分三年付 一次性付我们资金压力太大", "P2"),
                        ("返点能不能再加两个点", "P2")):
        conv = _conv(("customer", text))
        b = extract_blocker(_an(conv), [], LEX)
        assert b is not None and b.level == level, text
    conv = _conv(("rep", "王总：\n\n跟您汇报一下。如果我们做不到，下半年的精装项目会全部转给立邦。需要您批一个特价。"), fmt="eml")
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P1"
    assert signal_level("churn", "原定的院内直接采购取消", after="，改为公开招标") == "P1"
    assert not is_question("还是按去年的价格吧")


def test_fields_batch10_rules() -> None:
    conv = _conv(("rep", "明白 我问问我们经理能不能按老价给您 今天下班前回您"),
                 ("rep", "好的 我让维保的师傅明天下午过去检查"))
    support = extract_support(_an(conv), LEX)
    assert [(s.department, s.person) for s in support] == [("销售部", "经理"), ("售后部", None)]
    conv = _conv(("customer", "请于1月20日中午前送达我司行政部，收货人邬敏。"), fmt="eml")
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-20T12:00:00+08:00"
    conv = _conv(("rep", "邱老板 理解 那我下周一过去帮您看看库存 能不能帮您调一部分货走"))
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-19" and "库存" in a.text
    conv = _conv(("customer", "米其林的代理给我们的价都比你们低"), ("customer", "上个月有两次送气晚了 差点停产"))
    an = _an(conv)
    assert extract_competitors(an, LEX) == ("米其林",)
    b = extract_blocker(an, [], LEX)
    assert b is not None and b.level == "P2"
    conv = _conv(("rep", "晏总您好，\n\n您提到目前我们的单票价格比中通高0.3元，这个我们非常理解。明天下午五点前把新报价发您。"), fmt="eml")
    an = _an(conv)
    b = extract_blocker(an, [], LEX, extract_competitors(an, LEX))
    assert b is not None and b.level == "P2" and "中通" in b.text


def test_fields_batch11_rules() -> None:
    assert signal_level("payment", "那台设备分期付款可以吗 一次拿不出这么多") == "P2"
    assert signal_level("payment", "这批的货款我们拿不出") == "P0"
    conv = _conv(("rep", "葛总：\n\n跟您汇报一下。医院明确说所有接入院内网络的系统供应商必须有等保三级的测评证明，我们目前只有二级。"),
                 fmt="eml")
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P1" and "等保三级" in b.text
    assert not is_question("行 方案里写清楚费用怎么算")


def test_fields_batch12_rules() -> None:
    conv = _conv(("rep", "蒋总 抱歉 我让技术今天排查一下 晚上八点前给您反馈"),
                 ("rep", "另外下周我们技术部的吕工过来给工人做一次安装培训"))
    support = extract_support(_an(conv), LEX)
    assert [(s.department, s.person) for s in support] == [("技术部", "吕工")]  # one department, named person kept
    conv = _conv(("customer", "领星的同步就很快 基本是实时的"))
    assert extract_competitors(_an(conv), LEX) == ("领星",)
    for text in ("你们上批的地坪漆颜色不对 跟色卡差很多", "方案没问题 就是钱要等银行贷款下来 大概三月份"):
        conv = _conv(("customer", text))
        b = extract_blocker(_an(conv), [], LEX)
        assert b is not None and b.level == "P2", text
    conv = _conv(("customer", "请在2月10日前寄出两款样品各两台"), ("rep", "施工图我下周一发您"))
    assert extract_attachments(_an(conv), LEX) == ("两款样品", "施工图")


def test_fields_batch13_rules() -> None:
    conv = _conv(("customer", "顾客等不及 都跑去买皇家了"), ("customer", "请提供最新的COA和价格确认"))
    an = _an(conv)
    assert extract_competitors(an, LEX) == ("皇家",)
    assert "COA" in extract_attachments(an, LEX)
    conv = _conv(("customer", "下周三前给我一个正式报价"))
    assert extract_attachments(_an(conv), LEX) == ("正式报价",)  # kept as written
    conv = _conv(("rep", "王总：\n\n对方工程部提出质保要从三年延长到五年，否则这个合同他们不签。请您批准。"), fmt="eml")
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P1"
    conv = _conv(("customer", "去年你们派的人流失率太高了 一个月走了一半"))
    b = extract_blocker(_an(conv), [], LEX)
    assert b is not None and b.level == "P2"
    assert not is_question("学校经费有限 你们看看怎么办")


# ---------------------------------------------------------------- fresh-data round (names, rejections, levels)


def test_fields_competitor_names_cleaned_and_discovered() -> None:
    conv = _conv(("customer", "其中蓝帆的报价是每台九千"))  # a leading word is not part of the name
    assert extract_competitors(_an(conv), LEX) == ("蓝帆",)
    conv = _conv(("customer", "请问你们的胶水用的是哪家的"))  # an interrogative is no name
    assert extract_competitors(_an(conv), LEX) == ()
    conv = _conv(("customer", "贵了这么多 还不如直接上Hobart"))
    assert extract_competitors(_an(conv), LEX) == ("霍巴特（Hobart）",)  # canonical, and as said
    conv = _conv(("customer", "金穗和远峰都已经向我们提交了方案"))
    assert extract_competitors(_an(conv), LEX) == ("金穗", "远峰")
    conv = _conv(("rep", "库存那批我申请一下，看能不能换成加强款"))  # our own product variant
    assert extract_competitors(_an(conv), LEX) == ()
    conv = _conv(("customer", "久保田的代理商前天去过我们那边"))
    assert extract_competitors(_an(conv), LEX) == ("久保田",)


def test_fields_carrier_and_hardware_to_run_on_are_not_competitors() -> None:
    conv = _conv(("rep", "今天下午给您发德邦，后天能到"))
    assert extract_competitors(_an(conv), LEX) == ()
    conv = _conv(("customer", "我们现在的物流都是德邦在做，价格比你们低"))  # the incumbent: a rival
    assert extract_competitors(_an(conv), LEX) == ("德邦",)
    conv = _conv(("customer", "软件能不能装在我们现有的希沃一体机上"), ("rep", "可以，跟希沃的一体机做过适配"))
    assert extract_competitors(_an(conv), LEX) == ()


def test_fields_rejections_of_price_renewal_line_and_proposal() -> None:
    for text in ("一台报一万二，这个价格我们领导肯定不批", "按这个单价合作有困难", "我们打算不续了，下个月到期就停",
                 "那款保温杯下个季度我不进了"):
        assert extract_rejection(_an(_conv(("customer", text))), []) is not None, text
    conv = _conv(("rep", "我们建议把包装改成简装，成本能降一些"), ("customer", "简装的话门店不好卖，这个我们接受不了"))
    assert extract_rejection(_an(conv), []) is not None
    conv = _conv(("customer", "这次涨得太多了，这个涨幅我们接受不了"))  # no proposal before: an objection
    assert extract_rejection(_an(conv), []) is None
    conv = _conv(("customer", "先不进了，等节后看看销量再说"))  # a pause, not a rejection
    assert extract_rejection(_an(conv), []) is None


def test_fields_rejection_reason_takes_the_explanation_that_follows() -> None:
    conv = _conv(("customer", "那个果汁下个月我不进了"), ("customer", "摆了两个月还剩一大半"))
    reason = extract_rejection(_an(conv), [])
    assert reason is not None and "剩一大半" in reason


@pytest.mark.parametrize(("category", "quote", "after", "level"), [
    ("price", "没有补助他们买不起", "", "P1"),  # no money, whatever the label
    ("decision_delay", "订单我们先不下了", "，等试验做完", "P1"),
    ("decision_delay", "这一期先不采购了", "，等计划定了再议", "P1"),
    ("decision_delay", "等领导定了再说", "，估计要到5月以后", "P1"),
    ("decision_delay", "等领导定了再说", "，估计下个月", "P2"),
])
def test_fields_level_words_over_labels(category: str, quote: str, after: str, level: str) -> None:
    assert signal_level(category, quote, "", after, month=1) == level


def test_fields_cues_for_cancelled_projects_and_decision_makers_against() -> None:
    b = extract_blocker(_an(_conv(("customer", "这个项目上个月已经被叫停了"))), [], LEX)
    assert b is not None and b.level == "P0"
    b = extract_blocker(_an(_conv(("customer", "我们刘总不同意现在换系统"))), [], LEX)
    assert b is not None and b.level == "P1"


def test_fields_attachment_names_core_after_de_and_file_lines() -> None:
    conv = _conv(("customer", "请在周五前提交修改后的运输报价"))
    assert extract_attachments(_an(conv), LEX) == ("运输报价",)  # matches with or without 修改后的
    conv = _conv(("customer", "另外他们的报价是每吨四千二"))  # a rival's price, not a document
    assert extract_attachments(_an(conv), LEX) == ()
    conv = _conv(("customer", "麻烦你们出一份说明"), ("rep", "[文件] 门店海报_印刷版.pdf"))
    assert extract_attachments(_an(conv), LEX) == ("说明", "门店海报_印刷版")
    conv = _conv(("customer", "把技术参数整理一份给我"))
    assert extract_attachments(_an(conv), LEX) == ("技术参数",)


def test_fields_document_talked_about_but_not_moved() -> None:
    conv = _conv(("rep", "李总：\n\n我的想法是返利政策可以放到明年再跟他们商量，需要法务先看一下合同，周三前给我。"), fmt="eml")
    assert "返利政策" not in extract_attachments(_an(conv), LEX)


def test_fields_customer_deadline_and_face_to_face_visit() -> None:
    conv = _conv(("customer", "贵司需在2月6日前完成供应商平台的资料上传"))
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-02-06" and "上传" in a.text
    conv = _conv(("rep", "周总：\n\n汇报一下进展。我已经跟王厂长约好，周四下午去厂里当面谈价格。"), fmt="eml")
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-15" and "当面谈" in a.text


def test_fields_support_boss_engineer_and_deadline_in_next_clause() -> None:
    conv = _conv(("rep", "五台一起的话我去跟老板争取一下"))
    assert [(s.department, s.person) for s in extract_support(_an(conv), LEX)] == [("销售部", "老板")]
    conv = _conv(("rep", "我明天安排周工带样件到现场调试"))
    assert [(s.department, s.person) for s in extract_support(_an(conv), LEX)] == [("技术部", "周工")]
    conv = _conv(("rep", "需要财务部核算一下成本，最好周三前给我"))
    s = extract_support(_an(conv), LEX)
    assert [(x.department, x.due) for x in s] == [("财务部", "2026-01-14")]
    conv = _conv(("rep", "张总：\n\n客户要求延长账期，汇报一下。需要您这边批一下。"), fmt="eml")
    assert [(x.department, x.person) for x in extract_support(_an(conv), LEX)] == [("销售部", "张总")]


def test_fields_bare_clock_in_a_reply_takes_the_day_asked_about() -> None:
    conv = _conv(("rep", "我们后天上午派人过来"), ("customer", "后天上午几点？"), ("rep", "九点半到您仓库可以吗"))
    a = extract_next_action(_an(conv), LEX)
    assert a is not None and a.due == "2026-01-14T09:30:00+08:00"


def test_fields_questions_still_and_elliptic_and_relayed() -> None:
    conv = _conv(("customer", "发票还是开公司抬头"))
    assert extract_questions(_an(conv)) == ()
    conv = _conv(("customer", "周三我们要开业 来得及吗"))
    q = extract_questions(_an(conv))
    assert len(q) == 1 and "开业" in q[0]
    conv = _conv(("rep", "陈总：\n\n客户那边王经理问我们能不能先发货后付款，请指示。"), fmt="eml")
    assert extract_questions(_an(conv))[0].startswith("能不能先发货后付款")


def test_fields_more_missed_blockers_by_cue() -> None:
    for text, level in (("你们这次的事太离谱了，合作就到此为止吧", "P0"),
                        ("这款饮料下个月开始只要原来一半的量", "P1"),
                        ("付款方式能不能改成货到四十五天", "P2"),
                        ("整体没问题，还差一份出厂检验报告", "P3"),
                        ("样机能不能先寄一台过来，我们装上测一下", "P3")):
        b = extract_blocker(_an(_conv(("customer", text))), [], LEX)
        assert b is not None and b.level == level, text


def test_fields_decided_switch_is_p0() -> None:
    assert signal_level("churn", "明年换成别家的系统", "我们董事会决定了，") == "P0"
    assert signal_level("churn", "明年换成别家的系统", "要是还这样，") != "P0"


def test_fields_competitor_phrasings_latin_names_and_integrations() -> None:
    cases = (("检测这块之前都找华信做的", ("华信",)), ("宏达报价比你们低五千", ("宏达",)),
             ("集团那边定了用甲骨文", ("Oracle（甲骨文）",)), ("老板觉得Bitrix便宜", ("Bitrix",)),
             ("双汇那边也在找我们谈", ("双汇",)))
    for text, names in cases:
        assert extract_competitors(_an(_conv(("customer", text))), LEX) == names, text
    conv = _conv(("customer", "我们用的是用友的财务系统，你们能对接吗"))
    assert extract_competitors(_an(conv), LEX) == ()
    conv = _conv(("customer", "货走德邦还是顺丰都行"))
    assert extract_competitors(_an(conv), LEX) == ()


def test_fields_support_departments_as_named_and_bosses() -> None:
    conv = _conv(("rep", "我找研发部评估一下，周五前答复您"))
    assert [s.department for s in extract_support(_an(conv), LEX)] == ["技术部（研发部）"]
    conv = _conv(("rep", "价格我得请示一下领导，明天回您"))
    assert [(s.department, s.person) for s in extract_support(_an(conv), LEX)] == [("销售部", "领导")]


def test_fields_rejection_by_approver_and_short_decline_of_a_proposal() -> None:
    conv = _conv(("customer", "方案我们总经理看过了，没通过"))
    assert extract_rejection(_an(conv), []) is not None
    conv = _conv(("rep", "要不先上标准版，明年再加模块"), ("customer", "标准版不够用，不行"))
    assert extract_rejection(_an(conv), []) is not None
    conv = _conv(("customer", "标准版够用吗，不行的话再说"))  # no proposal before: nothing declined
    assert extract_rejection(_an(conv), []) is None


def test_fields_clause_objections_document_gates_and_two_month_delays() -> None:
    b = extract_blocker(_an(_conv(("customer", "合同里的付款条款我们不同意，得改"))), [], LEX)
    assert b is not None and b.level == "P2"
    b = extract_blocker(_an(_conv(("customer", "有没有防爆认证？没有的话进不了车间"))), [], LEX)
    assert b is not None and b.level == "P3"
    assert signal_level("payment", "这批款先付三成", "", "，其余的要拖两个月") == "P1"


def test_fields_support_asking_a_named_manager() -> None:
    conv = _conv(("rep", "我先跟周总申请一下，明天给您新报价"))
    assert [(s.department, s.person) for s in extract_support(_an(conv), LEX)] == [("销售部", "周总")]


def test_fields_choice_question_with_de() -> None:
    assert is_question("运费是你们出的还是我们出")
    assert not is_question("我们的还是老样子")


def test_fields_customer_company_as_our_client_and_month_deadlines() -> None:
    conv = _conv(("customer", "作为海信的合格供应商，贵司每年都要更新资料"))
    assert extract_competitors(_an(conv), LEX) == ()
    conv = _conv(("customer", "请在3月前完成供应商年审资料的提交"))
    assert extract_attachments(_an(conv), LEX) == ("供应商年审资料",)


def test_fields_customer_tempted_by_a_rival_is_p1() -> None:
    assert signal_level("competitor", "另一家答应送一年保养，老板明显有点动心") == "P1"
    assert signal_level("competitor", "另一家答应送一年保养", "", "，老板明显有点动心") == "P1"
    assert signal_level("competitor", "另一家也报了价") == "P2"


def test_fields_p0_refusals_to_pay_signed_elsewhere_and_closing_accounts() -> None:
    for text in ("这笔钱我们不会付的", "尾款先不打了", "我们已经跟别家签了"):
        b = extract_blocker(_an(_conv(("customer", text))), [], LEX)
        assert b is not None and b.level == "P0", text
    assert extract_rejection(_an(_conv(("customer", "不好意思，我们定了别家"))), []) is not None
    assert signal_level("churn", "合同到期帮我们把系统注销") == "P0"
    b = extract_blocker(_an(_conv(("customer", "我们王总不太认可你们"))), [], LEX)
    assert b is not None and b.level == "P1"


def test_fields_discovery_skips_quantities_generic_goods_and_english_words() -> None:
    for text in ("不如直接上两台", "都在上新产品的", "Boss那边报价也高", "老板觉得Word的方案更好"):
        assert extract_competitors(_an(_conv(("customer", text))), LEX) == (), text


def test_fields_short_pauses_and_questions_are_not_rejections() -> None:
    for text in ("这周不进货了，库存还够", "跟你们续约有困难吗"):
        assert extract_rejection(_an(_conv(("customer", text))), []) is None, text


def test_fields_support_when_the_boss_must_approve() -> None:
    conv = _conv(("rep", "这个折扣得领导批，我下午去问"))
    assert [(s.department, s.person) for s in extract_support(_an(conv), LEX)] == [("销售部", "领导")]
    conv = _conv(("rep", "这个价格是我们老板特批的"))  # done already: no request
    assert extract_support(_an(conv), LEX) == ()
