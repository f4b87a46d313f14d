"""Blocker (text + P0–P3 level) and rejection reason, from the risk signals and the customer's words.

Levels follow the labelling guide:

* P0 — the deal is about to be lost: the customer stops, cancels, does not renew, has chosen a
  competitor, or halts payment.
* P1 — serious: budget frozen or cut, tender / central procurement / supplier admission required,
  a competitor favoured by the decision maker, a large share cut, a conditional stop threat,
  payment pushed back by months or paid in bills of exchange.
* P2 — a normal objection: price, comparing vendors, routine approval or comparison, a payment
  terms request, doubts about us.
* P3 — minor: the customer needs a document, certificate or sample, or worries about a detail.

A signal's category gives its default level; the words of its clause move it up or down
("先别发 等通知" is a hold, P1; "发票不到没法走付款" waits for a document, P3). The blocker text is
the customer's own clauses, most severe first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.record_fields.documents import _spoken_unit
from pipelines.record_fields.lexicons import FieldLexicons
from pipelines.record_fields.text import Analysis, Clause
from pipelines.record_fields.types import LEVELS, Blocker, Level, SignalLike

__all__ = ["signal_level", "extract_blocker", "extract_rejection", "BlockerPart"]

_CONDITIONAL = re.compile(r"如果|要是|若|再这样|不然|否则|没结果|除非|的话|搞不定|解决不了|不降")
_IMMINENT = re.compile(r"今天|明天|马上|立刻|立即|现在就|这周")
_HYPOTHETICAL = re.compile(r"容易|可能会|怕|担心|万一|会不会")
_PARTIAL = re.compile(r"份额|比例|[二三四]七开|二八|一部分|部分|减少|少下|砍掉一|这块|只剩|平台|集采|统一下单")
_HOLD = re.compile(r"先别发|先停|暂停发|等通知|压一压|先放|先缓|暂缓")
_FINAL = re.compile(r"不要了|取消|终止|不做了|不考虑|不续|不需了|不签了|关掉|停掉|不合作|不用了|选用|决定|停发|切回|全部换|"
                    r"全部转|不再|停止|注销|退订|销户|解约|退租|不(?:从|在|跟|找)(?:你们|贵司|你家)|(?:已经|都)(?:换|改|转|切)(?:成|用|到|了)")

_DECIDED = re.compile(r"决定|定了|拍板了|已经定|商量好了|开会定")
_SWITCH = re.compile(r"换|改用|转到|切到|不用")
_PAY_DOC = re.compile(r"发票|票据|单据|收据")
_PAY_HALT = re.compile(r"暂停支付|停止支付|停付|不付|付不了|付不出|没法付|无法支付|拿不出|先压着|压着|冻结|冻着|拒付|扣着|不给钱")
_PAY_REQUEST = re.compile(r"申请|能不能|可不可以|可以吗|行不行|商量|希望|麻烦|分期|一次(?:性)?(?:拿|付)不出")
_PAY_SERIOUS = re.compile(r"承兑|汇票|会票|没钱|资金链|(?:调整|延长|改|推迟|延)(?:为|到|至|成).{0,6}(?:90|120|150|180|九十|一百二十?|一百五十?|一百八十?)天|[两二三四五六]个多?月|(?:推|拖|延|压)(?:到|至|后)?.{0,4}[一二三四五六七八九十\d]+月|几个月|半年|"
                           r"(?:要到|等到)[一二三四五六七八九十\d]+月份?")

_BUDGET_SERIOUS = re.compile(r"冻结|砍|削减|执行完|用完|花完|没有预算|没预算|没钱|先停|停了|取消|没批|批不下来|只剩|暂停|砍了")
_PROC_ROUTINE = re.compile(r"比价|比选|三家|磋商|询价|走个?流程")
_PROC_SERIOUS = re.compile(r"招标|投标|招镖|集采|集中采购|统一采购|政府采购|政采|采购平台|上平台|网上竞价|竞价|电子卖场|入库|"
                           r"合格供方|准入|供应商审核|审计|验厂|审厂|名录|短名单|不在库")
_COMP_LOST = re.compile(r"选用|选了|选择了|决定用|已经定了|签了|最终定")
_COMP_TEMPTED = re.compile(r"动心|心动|更看好|看中了")
_COMP_FAVOURED = re.compile(r"倾向|指定|偏向|打算换|要换|准备换|更认|动心|心动|更看好|更满意|更喜欢|更信任|看中了?")
_LONG_HOLD = re.compile(r"暂停(?:下单|订货|进货|采购|下新单|新单|合作)|停(?:单|货)|(?:一|二|三|四|下个?)季度(?:先)?(?:暂停|不下|停)")
_DECISION_AGAINST = re.compile(r"反对|不同意|不支持|否了")
# Orders or the purchase itself put on hold ("PO我们先不下了", "这期先不采购了"), or the project
# off for the year: serious, not a routine wait for a signature.
_ORDER_HELD = re.compile(r"(?:PO|po|订单|单子|新单|合同|协议|采购|货)[^，。！？；]{0,6}?(?:先|暂时|暂|就)?不(?:下|签|采购|订|买|进)了|"
                         r"(?:先|暂时|暂)不(?:采购|下单|订货|进货|买)了?|今年(?:是|就|肯定)?(?:做不了|上不了|不做|不上)了?")
# A delay named in months ("估计要到4月以后", "推到下半年", "等三四个月"); the month is compared with
# the interaction's month when a reference is given.
_MONTH_DELAY = re.compile(r"(?:要到|等到|推到|拖到|延到|放到|到)([1-9]|1[0-2]|[一二三四五六七八九十]|十[一二])月(?:份)?(?:以后|之后|再|才|底|中|初)?")
_MONTHS_DELAY = re.compile(r"下半年|[两三四五六几]个多?月|半年|明年(?:再|才)")
_CN_MONTH = {c: i for i, c in enumerate("一二三四五六七八九十", 1)} | {"十一": 11, "十二": 12}
# Words that say the customer lacks the money, whatever the detector labelled the signal
# ("没补贴的话他们买不起" read as price): a budget problem.
_NO_MONEY = re.compile(r"买不起|没钱|拿不出钱|资金不够|钱不够|(?:额度|补贴|经费|资金|预算|指标)[^，。！？；]{0,6}?(?:分完|用完|花完|没了|收回|压缩|砍|冻结|取消)")

_SAMPLE_OK = re.compile(r"没问题|通过了?|合格|不错|满意|挺好|很好|可以了|OK|ok|收到了")
_ASKS_IF = re.compile(r"如果|要是|假如|万一|的话")
_WORRY = re.compile(r"担心|顾虑")
_DOC_GATE = re.compile(r"没法|进不了|不能进|进不去|才能|不然|否则|过不了|走不了")
_REQUIRE = re.compile(r"要|需要|必须|得|补|还没|还差|差一[个份张]|没提交|不认|不要你们|(?<!有)没有|缺|发我|给我|发一下|发过来|提供|寄|呢[？?]?$")


def _months_away(text: str, month: int | None) -> bool:
    """True when ``text`` puts something off by months: a named month two or more months after
    ``month`` (the interaction's), or words like 下半年 / 三个月."""
    if _MONTHS_DELAY.search(text):
        return True
    m = _MONTH_DELAY.search(text)
    if m is None or month is None:
        return False
    raw = m.group(1)
    target = int(raw) if raw.isdigit() else _CN_MONTH[raw]
    return (target - month) % 12 >= 2


def signal_level(category: str, quote: str, before: str = "", after: str = "", *, month: int | None = None) -> Level:
    """The P level one signal stands for.

    Args:
        category: the signal's category.
        quote: the signal's words (a few characters after it may be included).
        before: the words just before it, where a condition ("要是任务不降，…") sits.
        after: the words just after it, which may say how bad a budget problem is
            ("要控制费用，所有开支都砍了").
        month: the interaction's month, for reading "要到4月以后" as a delay of months.
    """
    if _ASKS_IF.search(before[-12:] + quote) and re.search(r"[吗？?]", quote + after[:6]):
        return "P2"  # "如果不续费，数据还能导出来吗": a question about a case, not a decision
    if category in ("price", "decision_delay", "trust") and _NO_MONEY.search(quote + after) \
            and not _CONDITIONAL.search(before[-8:]):
        category = "budget"  # "额度分完了，他们买不起": no money, not too dear
    if category == "churn":
        if re.match(r"[，,\s]*改(?:为|成|由|走)", after) or re.search(r"取消[，,\s]*改(?:为|成|由|走)", quote):
            return "P1"  # "直接采购取消，改为公开招标": the process changes, the deal goes on
        context = before + quote
        if _HYPOTHETICAL.search(context):
            return "P2"
        if _FINAL.search(quote) and not _CONDITIONAL.search(context):
            return "P0"
        if _DECIDED.search(before[-12:]) and _SWITCH.search(quote) and not _CONDITIONAL.search(context):
            return "P0"  # "老板决定了，明年换成别家的": the switch is decided
        if _PARTIAL.search(before[-10:] + quote) or _HOLD.search(quote) or _ORDER_HELD.search(quote):
            return "P1"
        if _CONDITIONAL.search(context):
            return "P0" if _IMMINENT.search(context) and _FINAL.search(quote) else "P1"
        return "P1"  # a cut or a partial switch ("量也要往下调")
    if category == "payment":
        if _PAY_DOC.search(quote):
            return "P3"
        if _PAY_REQUEST.search(before[-4:] + quote + after[:12]):
            return "P2"  # asked for, not imposed: "分期付款可以吗 一次拿不出这么多"
        if _PAY_HALT.search(quote):
            return "P0"
        return "P1" if _PAY_SERIOUS.search(quote) or _PAY_SERIOUS.search(after[:20]) else "P2"
    if category == "budget":
        serious = _BUDGET_SERIOUS.search(quote + after) or _PAY_SERIOUS.search(quote + after) or _NO_MONEY.search(quote + after)
        return "P1" if serious else "P2"
    if category == "procurement":
        if _PROC_ROUTINE.search(quote):
            return "P2"
        return "P1" if _PROC_SERIOUS.search(quote) else "P2"
    if category == "competitor":
        if _COMP_LOST.search(quote):
            return "P0"
        return "P1" if _COMP_FAVOURED.search(quote) or _COMP_TEMPTED.search(after) else "P2"
    if category == "decision_delay":
        # "一季度先暂停下新单，等库存降下来再说": orders on hold for a quarter, not a routine wait
        if _DECISION_AGAINST.search(quote) or _LONG_HOLD.search(before[-16:] + quote) \
                or _ORDER_HELD.search(before[-12:] + quote) or _months_away(quote + after, month):
            return "P1"
        return "P2"
    return "P2"  # price, trust and anything new


@dataclass(frozen=True, slots=True)
class BlockerPart:
    level: Level
    turn: int
    start: int
    text: str


def _clause_at(analysis: Analysis, turn: int, start: int) -> Clause | None:
    view = analysis.view(turn)
    if view is None:
        return None
    for c in view.clauses:
        if c.start <= start < c.end:
            return c
    return None


def _part_text(analysis: Analysis, turn: int, start: int, end: int, quote: str) -> str:
    """The signal's clause, with the clause before it when that one gives the reason or topic and
    the one after it when it completes the point ("嘉里给我报的2250 | 比你们便宜200")."""
    view = analysis.view(turn)
    if view is None:
        return quote
    clauses = view.clauses
    idx = [i for i, c in enumerate(clauses) if c.start < max(end, start + 1) and c.end > start]
    if not idx:
        return quote
    lo, hi = idx[0], idx[-1]
    if lo > 0 and len(clauses[lo - 1].text) >= 4 and clauses[lo - 1].sentence >= clauses[lo].sentence - 1:
        lo -= 1
    if hi + 1 < len(clauses) and len(clauses[hi + 1].text) <= 24 \
            and not re.search(r"[。！？!?；;\n]", view.turn.text[clauses[hi].end:clauses[hi + 1].start]):
        hi += 1
    text = view.turn.text[clauses[lo].start:clauses[hi].end]
    return re.sub(r"\s*\n\s*", " ", text).strip()


def _signal_context(analysis: Analysis, s: SignalLike) -> tuple[str, str, str]:
    """(the quote and a few characters after it, the words just before it, the rest of its sentence)."""
    view = analysis.view(s.turn)
    if view is None:
        return s.quote, "", ""
    text = view.turn.text
    tail = re.split(r"[。！？!?；;\n]", text[s.end:s.end + 16], maxsplit=1)[0]
    return text[s.start:min(len(text), s.end + 6)], text[max(0, s.start - 20):s.start], tail


def _p3_parts(analysis: Analysis, lex: FieldLexicons) -> list[BlockerPart]:
    """Customer clauses that require a compliance document or sample, or voice a worry."""
    heads = re.compile("|".join(re.escape(h) for h in lex.compliance_heads)) if lex.compliance_heads else None
    parts: list[BlockerPart] = []
    for c in analysis.by_speaker("customer", "unknown"):
        t = c.text
        view = analysis.view(c.turn)
        nxt = next((x.text for x in view.clauses if x.start >= c.end), "") if view is not None else ""
        # "有没有3C认证？没有的话我们没法进场": the requirement may follow the question
        needs_doc = heads is not None and heads.search(t) and (_REQUIRE.search(t) or _DOC_GATE.search(nxt))
        unit = _spoken_unit(analysis.view(c.turn).turn.text, c.start, c.end) if analysis.view(c.turn) else t  # type: ignore[union-attr]
        needs_sample = lex.sample_pattern is not None and (lex.sample_pattern.search(t) or lex.sample_pattern.search(unit)
                                                           or lex.sample_pattern.search(c.sentence_text)) \
            and not _SAMPLE_OK.search(unit)
        if needs_doc or needs_sample or _WORRY.search(t):
            parts.append(BlockerPart("P3", c.turn, c.start, _part_text(analysis, c.turn, c.start, c.end, t)))
    return parts


# "我们对比过旺旺的同类产品，你们的报价有竞争力，这块没问题": settled in the same sentence.
_SETTLED = re.compile(r"^[^。！？!?；;\n]{0,24}?(?:(?:这块|这个|这方面|这点)(?:都|也|倒)?没问题|有竞争力|(?:完全)?可以接受|"
                      r"不是问题|不是重点|不成问题)")
_CONTRAST = re.compile(r"但|不过|可是|就是|只是|然而")


def _resolved(analysis: Analysis, s: SignalLike) -> bool:
    """True when the words right after the signal settle it in our favour (no "但是" between)."""
    view = analysis.view(s.turn)
    if view is None:
        return False
    tail = view.turn.text[s.end:s.end + 40]
    m = _SETTLED.match(tail)
    return m is not None and not _CONTRAST.search(tail[:m.start(0) + len(m.group(0))])


# The rep's own steps in a report ("我明天下午要给周经理回复") are not the customer's words.
_OWN_STEP = re.compile(r"^(?:我|我们|咱们)|(?:我|我们)(?:明天|今天|下周|会|要|想|来|去|跟|给)")


def _sentence_start(c: Clause) -> int:
    i = c.sentence_text.find(c.text)
    return c.start - i if i >= 0 else c.start


# Words without which a "churn" signal cannot be one ("数量从3000改成3600台", "我们采购部看了"):
# such a signal does not set the blocker.
_CHURN_WORDS = re.compile(r"停|不续|不需|不要|不采购|不买|不下单|不订|不从|不拿|不找|注销|退订|解约|取消|换(?!成我们|我们)|切|转|减|少|砍|撤|下架|不做|不考虑|不用|终止|暂|挪|分|"
                          r"流失|不进|不订|不再|不合作|关|退|别家|其他|另|不上|放弃|算了|结束|到期|不签|先别|压|缓|放一放|降|"
                          r"份额|比例|[二三四]七开|二八|四六开")


def _plausible(analysis: Analysis, s: SignalLike) -> bool:
    if s.category != "churn":
        return True
    view = analysis.view(s.turn)
    text = view.turn.text[s.start:s.end + 4] if view is not None else s.quote
    return bool(_CHURN_WORDS.search(text))


# A named competitor's offer or a comparison with it ("极飞那边还说送一年的保险", "大疆的也差不多这个价
# 人家牌子大"); not a comparison in our favour ("比你们贵", "不如你们").
_OFFER = re.compile(r"便宜|低|价格|这个价|报价|报了|拿货价|送|给我们|给的|牌子|知名度|更好|更认|倾向|在谈|找我们|找过|来过|"
                    r"也在|也报|也要来|优惠|返点|返利|账期|免费")
_IN_OUR_FAVOUR = re.compile(r"比你们贵|没(?:有)?你们好|不如你们|比你们差|还是你们")


def _settled(analysis: Analysis, c: Clause, lex: FieldLexicons) -> bool:
    """True when the clause's whole sentence (to 。！？) says the point is settled ("这块没问题")."""
    if lex.blocker_settled is None:
        return False
    view = analysis.view(c.turn)
    if view is None:
        return bool(lex.blocker_settled.search(c.sentence_text))
    text = view.turn.text
    left = max((m.end() for m in re.finditer(r"[。！？!?\n]", text[:c.start])), default=0)
    m = re.compile(r"[。！？!?\n]").search(text, c.end)
    right = m.start() if m else len(text)
    for s in lex.blocker_settled.finditer(text, left, right):
        # "方案没问题 就是钱要等贷款": a point settled before a "但是/就是" is another point
        if s.end() <= c.start and _CONTRAST.search(text, s.end(), c.start + 2):
            continue
        return True
    return False


def _competitor_parts(analysis: Analysis, signals: Sequence[SignalLike], lex: FieldLexicons,
                      competitors: Sequence[str]) -> list[BlockerPart]:
    if not competitors:
        return []
    names = {n for c in competitors for n in re.split(r"[（）]", c) if n}
    names |= {alias for alias, canon in lex.competitor_aliases.items() if canon in names and len(alias) >= 2}
    rx = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))
    spans = [(s.turn, s.start, s.end) for s in signals]
    parts: list[BlockerPart] = []
    clauses = analysis.by_speaker("customer", "unknown")
    if not clauses and analysis.turns:  # a rep's report or reply relays the customer's words
        clauses = tuple(c for c in analysis.by_speaker("rep") if not _OWN_STEP.search(c.text))
    for c in clauses:
        if any(t == c.turn and a < c.end and b > c.start for t, a, b in spans):
            continue
        unit = c.sentence_text
        m = rx.search(c.text)
        if m is None or not _OFFER.search(unit) or _IN_OUR_FAVOUR.search(unit) or _settled(analysis, c, lex):
            continue
        if lex.blocker_negation is not None and lex.blocker_negation.search(c.text[:m.start()]):
            continue
        parts.append(BlockerPart("P2", c.turn, c.start, _part_text(analysis, c.turn, c.start, c.end, c.text)))
    return parts


def _cue_parts(analysis: Analysis, signals: Sequence[SignalLike], lex: FieldLexicons,
               levels: Sequence[Level] = ()) -> list[BlockerPart]:
    """Customer clauses that voice a sticking point (``lex.blocker_cues``) in which the detector
    found nothing: a safety net for its misses. A negation before the cue cancels it; a condition
    makes a P0 act a P1 threat. In a conversation without a customer turn (a rep's internal
    report or forward), the rep's relayed words are read instead."""
    if not lex.blocker_cues:
        return []
    # Categories whose level already reads its own severity words: a cue does not overrule them.
    own_levels = ("procurement", "budget", "payment", "churn")
    spans = [(s.turn, s.start, s.end, -1 if s.category in own_levels else LEVELS.index(lv))
             for s, lv in zip(signals, levels or ["P3"] * len(signals), strict=True)]
    parts: list[BlockerPart] = []
    clauses = analysis.by_speaker("customer", "unknown")
    if not clauses and analysis.turns:
        clauses = tuple(c for c in analysis.by_speaker("rep") if not _OWN_STEP.search(c.text))
    for c in clauses:
        # A clause the detector read counts only with a more severe cue ("三成的量切给霍尼韦尔了"
        # read as competitor only is still a share cut).
        covered = [lv for t, a, b, lv in spans if t == c.turn and a < c.end and b > c.start]
        for level, rx in lex.blocker_cues:
            if covered and LEVELS.index(level) >= min(covered):
                continue  # (-1: never overruled)
            m = rx.search(c.text)
            if m is None:
                continue
            if lex.blocker_negation is not None and lex.blocker_negation.search(c.text[:m.start()]):
                continue
            if c.text.rfind("《", 0, m.start()) > c.text.rfind("》", 0, m.start()):
                continue  # inside a title: "根据《政府采购…办法》"
            if _settled(analysis, c, lex) or re.search(r"吗[？?]?$", c.text.strip()):
                continue  # "预算没问题", "价格会比白天贵吗"
            if _ASKS_IF.search(c.text[:m.start()]) and re.search(r"[吗？?]", c.sentence_text):
                continue  # "如果分期的话利息怎么算": a question about a case
            if level == "P0" and lex.blocker_conditional is not None \
                    and lex.blocker_conditional.search(c.sentence_text[:max(0, c.start - _sentence_start(c)) + m.start()]):
                level = "P1"
            parts.append(BlockerPart(level, c.turn, c.start,  # type: ignore[arg-type]
                                     _part_text(analysis, c.turn, c.start, c.end, c.text)))
            break
    return parts


def _join(parts: Sequence[BlockerPart], limit: int = 3) -> str:
    texts: list[str] = []
    for p in parts:
        t = p.text.strip(" ，。；")
        if any(t in x or x in t for x in texts):
            continue
        texts.append(t)
        if len(texts) == limit:
            break
    return "；".join(texts)


def extract_blocker(analysis: Analysis, signals: Sequence[SignalLike], lex: FieldLexicons,
                    competitors: Sequence[str] = ()) -> Blocker | None:
    """The blocker: the most severe signal level; text from the customer's clauses, most severe first.

    Customer signals count first; the rep's restatements only when there are none (an internal
    report e-mail, a rep e-mail that restates the objection). Customer clauses the detector
    missed count through the cue lexicon, and a named competitor's offer or comparison
    (``competitors``, as found by ``extract_competitors``) is a P2. Without any of these, a
    required compliance document or a voiced worry is a P3 blocker.
    """
    usable = [s for s in signals if not _resolved(analysis, s) and _plausible(analysis, s)]
    customer = [s for s in usable if s.speaker in ("customer", "unknown")]
    chosen = customer or [s for s in usable if s.speaker == "rep"]
    parts = [
        BlockerPart(signal_level(s.category, *_signal_context(analysis, s), month=analysis.reference.month),
                    s.turn, s.start,
                    _part_text(analysis, s.turn, s.start, s.end, s.quote))
        for s in chosen
    ]
    cues = _cue_parts(analysis, chosen, lex, [p.level for p in parts]) \
        + _competitor_parts(analysis, chosen, lex, competitors)
    if not parts:
        parts = cues or _p3_parts(analysis, lex)
    elif cues:
        # The detector's signals lead; a missed cue only counts when it is more severe.
        best = min(LEVELS.index(p.level) for p in parts)
        parts += [p for p in cues if LEVELS.index(p.level) < best]
    final = _final_rejection(analysis)
    if final is not None and not any(p.level == "P0" for p in parts):
        parts.append(final)
    if not parts:
        return None
    parts.sort(key=lambda p: (LEVELS.index(p.level), p.turn, p.start))
    return Blocker(text=_join(parts), level=parts[0].level, turn=parts[0].turn)


_REJECT = re.compile(
    r"先不考虑了?|不考虑了|不考虑你们|决定.{0,8}(?:选用|选择|采用|改用|换成|不再|不续|不签|不合作|不采购|终止|停止|取消)|"
    r"项目(?:就|只能|也)?(?:先)?(?:取消了|不做了|砍掉了)|决定(?:用|选|找|跟)(?!你们|贵司|您)|"
    r"最终(?:选|定|决定)|选(?:了|择了)别家|不选你们|不合作了|终止.{0,12}合作|停止.{0,8}合作|不(?:打算|准备|再)(?:续|合作|采购|订)|"
    r"差距(?:较大|太大|很大)|没有商量(?:的)?空间|(?:方案|条件|提议|条款|合同)(?:我们|我司)?(?:实在|确实)?(?:无法接受|接受不了)|"
    r"(?:今年|暂时|先|就)不上了|不考虑(?:新增|新上|引入|采购|上|做|买)[^，。；！？]{0,8}了|"
    # the decision maker turns the price down: "这个价我们老板肯定不批"
    r"(?:这个价|这价|这个价格|这个报价|这个费率|这个单价|这样的价格?)[^。！？；]{0,10}?(?:肯定|绝对|不可能|是)?(?:不批|不会批|批不了|不会同意|通不过|过不了)|"
    # a renewal or deal that cannot go on at these terms: "这个费率续约有困难"
    r"(?:续约|续签|续费|合作|签约|签合同)(?:上)?(?:会)?(?:有困难|有难度|很困难|比较困难|不太可能)(?![吗么？?])|"
    # no renewal, no more orders of a line: "我们打算不续了", "这款下个月我不进了"
    r"(?:打算|准备|决定|已经|就|也)不(?:续|再续)(?:了|费|约|签)|(?<![先暂])不续了|(?<!这个月)(?<!这周)(?<!本周)(?<!今天)(?<!暂时)(?<![先暂])不(?:再)?进(?:货)?了(?![，,\s]*等)|"
    # the decision maker turned our quote or plan down: "报价领导看了，没通过"
    r"(?:报价|方案|价格|合同|提案)[^。！？；]{0,12}(?:没通过|没有通过|没批|被否|否了|否掉了|驳回|打回来了)|"
    r"(?:签|定|选)了?(?:别家|别人家?|另一家|另外一家|其他家)|(?:跟|和)(?:别家|另一家|其他家)(?:签了|定了)"
)
# A customer turning down the rep's proposal or suggestion in the turn before ("降速的话节拍就上去了，
# 这个我们接受不了").
_DECLINE = re.compile(r"(?:这个|这样|这种|这方案|那样)?(?:我们|我)?(?:实在|确实|肯定)?(?:接受不了|不能接受|无法接受|不接受|做不到|没法接受)|"
                      r"^(?:这样|那样|这个|那)?(?:肯定|恐怕|还是|真)?(?:不行|不合适|行不通|不太现实)(?:的|啊|吧)?$")
_PROPOSAL = re.compile(r"建议|要不|不如|试试|可以(?:先|考虑|改|换|调)|改成|换成|调整为|改为|方案是|我们的方案")
# Rejections that end the deal (a P0 even when the detector missed the churn signal).
_FINAL_REJECT = re.compile(
    r"先不考虑了?|不考虑了|决定.{0,8}(?:选用|选择|采用|改用|换成|不再|不续|不签|不合作|终止|停止|取消)|最终(?:选|定)|"
    r"决定(?:用|选|找|跟)(?!你们|贵司|您)|终止.{0,12}合作|停止.{0,8}合作|不(?:打算|准备|再)(?:续|合作)|"
    r"(?:今年|暂时|先|就)不上了|不考虑(?:新增|新上|引入|采购|上|做|买)[^，。；！？]{0,8}了"
)
_REASON_CATEGORIES = ("price", "competitor", "trust", "budget")


def _final_rejection(analysis: Analysis) -> BlockerPart | None:
    for c in analysis.by_speaker("customer", "unknown"):
        m = _FINAL_REJECT.search(c.text)
        if m and not _CONDITIONAL.search(c.sentence_text):
            return BlockerPart("P0", c.turn, c.start, _part_text(analysis, c.turn, c.start, c.end, c.text))
    return None


def _after_proposal(analysis: Analysis, c: Clause) -> bool:
    """True when the last rep turn before the clause's turn (within two turns) proposes something."""
    for view in reversed(analysis.turns[max(0, c.position - 2):c.position]):
        if view.turn.speaker == "rep":
            return bool(_PROPOSAL.search(view.turn.text))
    return False


def extract_rejection(analysis: Analysis, signals: Sequence[SignalLike],
                      competitors: Sequence[str] = ()) -> str | None:
    """Why the customer rejected our quote/proposal/renewal, when they said they did.

    The rejection must be the customer's, unconditional ("如果…就不考虑了" is a threat, not a
    rejection). The reason is the rejecting sentence, the customer's next message when it follows
    at once (the explanation: "压在仓库里动都不动"), and the customer's price/competitor/trust clauses
    and clauses naming a competitor.
    """
    hit: Clause | None = None
    for c in analysis.by_speaker("customer", "unknown"):
        m = _REJECT.search(c.sentence_text)
        at = c.sentence_text.find(c.text)
        ends_here = m is not None and at >= 0 and at <= m.end() - 1 < at + len(c.text)  # "报价领导看了，没通过"
        if m and not _CONDITIONAL.search(c.sentence_text[:m.start()]) and (_REJECT.search(c.text) or ends_here):
            hit = c
            break
        d = _DECLINE.search(c.text)
        if d and not _CONDITIONAL.search(c.text[:d.start()]) and _after_proposal(analysis, c):
            hit = c
            break
    if hit is None:
        return None
    reasons: list[str] = []
    for s in signals:
        if s.speaker in ("customer", "unknown") and s.category in _REASON_CATEGORIES:
            reasons.append(_part_text(analysis, s.turn, s.start, s.end, s.quote))
    names = [n for n in competitors if len(n) >= 2]
    for c in analysis.by_speaker("customer", "unknown"):
        if names and any(n in c.text for n in names) and not any(c.text in r for r in reasons):
            reasons.append(c.text)
    sentence = hit.sentence_text.strip()
    view = analysis.view(hit.turn)
    if view is not None:
        # "…决定选用X。主要考虑是…": the sentence after the decision gives the reason.
        later = [c for c in view.clauses if c.sentence == hit.sentence + 1]
        if later and re.match(r"主要|因为|原因|考虑", later[0].sentence_text):
            sentence += later[0].sentence_text.strip()
        elif not later and hit.position + 1 < len(analysis.turns):
            nxt = analysis.turns[hit.position + 1]
            if nxt.turn.speaker == hit.speaker and nxt.clauses:  # the explanation in the next message
                sentence += "，" + nxt.clauses[0].sentence_text.strip()
    texts = [sentence] + [r for r in reasons if r not in sentence]
    return "；".join(dict.fromkeys(t.strip(" ，。；") for t in texts))[:200]
