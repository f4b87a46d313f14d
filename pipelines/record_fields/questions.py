"""Customer questions: the concrete questions the customer asks, as short paraphrases.

A clause of a customer turn is a question when it ends with a question mark or carries a
question form (吗, A不A, 多少, 什么时候, 能否 …), minus quantities (好几家, 十几箱), rhetorical
forms (怎么敢) and indirect questions that are statements ("能不能批下来看公司"). A question the
rep restates ("您问到的能否对接PMS") counts as the customer's. Short elliptic questions ("多少",
"这个能做吗") take the clause or the rep's topic they refer to.
"""

from __future__ import annotations

import re

from pipelines.record_fields.documents import find_documents
from pipelines.record_fields.lexicons import FieldLexicons, dedupe_names
from pipelines.record_fields.text import Analysis, Clause

__all__ = ["extract_questions", "is_question"]

_Q_FORM = re.compile(
    r"吗|[么呢没嘛][？?]?$|(?:对|是|没错)吧[？?]?$|(?:能|可以|没问题|行|应该|有|(?<!还)是|会|含|包)[^，,。]{0,6}吧[？?]?$|(?:需要|要|有|是|用|走|交)什么(?!都|也)|有没有|能不能|可不可以|需不需要|是不是|会不会|要不要|(?<![现正存实所自])在不在|行不行|好不好|"
    r"谁(?!都|也)|对不对|认不认|包不包|用不用|签不签|来不来|够不够|能否|是否|多少|多久|多长时间|"
    r"几[个天年家台套次号点周月]|怎么|什么时候|什么价|什么标准|什么区间|什么优势|什么区别|哪[个家里些儿天位种]|为什么|如何|"
    r"(?<!的)还是(?![很挺都比不要会得可没也跟和按照老像\d])[^，,。]{1,8}(?<![的了])$|"
    r"(?<![但还就可也不要于总凡])是[^，,。]{1,8}的还是(?![\d很挺都比不要会得可没也老])[^，,。]{1,10}$"  # "安装费是另算的还是含在里面"
)
_QUANTITY = re.compile(r"[这那]几|好几|十几|几十|几百|几千|几万|没几|几乎|多少钱都|多少都|多少.{0,3}多少")
_RHETORICAL = re.compile(r"(?:你们|您)?看看?(?:怎么办|怎么处理|怎么弄|咋办)|怎么办吧|怎么还(?:没|不)|怎么又|到底怎么|怎么(?:搞|管|做事|弄)的|搞什么|怎么回事|怎么敢|怎么可能|哪有|难道|哪能|怎么好意思|凭什么|有什么用|怎么说呢|万一|谁知道|不知道怎么")
_INDIRECT = re.compile(r"(?:能不能|是否|会不会|行不行|给不给|要不要|用不用|签不签|续不续|[能批]下来).{0,8}(?:要?看|得看|取决于|不一定|不好说|说不准)|"
                       r"^(?:请|烦请|麻烦|务必).{0,24}(?:确认|告知|回复|答复|说明|反馈|回函).{0,6}(?:是否|能否|有没有|可否)|"
                       r"(?:写清楚|写明|说明|注明|列出|标明|讲清楚|列清楚).{0,10}(?:怎么|多少|几|哪|什么|是否)|"
                       r"^(?:看看?|试试|建议.{0,8}看)(?:能不能|是否|有没有|可不可以|能否)")
_CHATTER = re.compile(r"^(?:(?:喂\s*)?(?:请问)?是?[\u4e00-\u9fff]{0,2}(?:小[\u4e00-\u9fff]|经理|总|工|老师|主任|主管|姐|哥)吗|在吗|是吗|好吗|对吗|行吗|是吧|对吧|好吧|真的吗|怎么了|怎么样|你说呢|明白吗|收到吗|可以吗|懂吗)[？?]?$")
_LEAD = re.compile(
    r"^(?:[，,、\s]|另外|还有|对了|那么?|哦+|嗯+|啊|好+|我就|问一下|想问一下|想问下|请问|我想问|顺便问下|再问一下|"
    r"还有一个问题|一个问题|一是|二是|三是|[1-9一二三四五][.、．）)]|想确认一下|想确认|确认一下|就是)+"
)
_INTRO = re.compile(r"问一下|想问|请问|想确认|确认一下|想了解|^(?:我就|就|还有)?[一两几三]个问题$")
_RESTATED = re.compile(r"(?:您|你)(?:上次|上周|之前|前面|刚才|刚刚|昨天)?(?:问|提)到?的([^，。；！？,.;!?\n]{2,40})")
# A rep relaying what the customer asked ("刘社长问我们能不能做分期，…"): the customer's question.
_RELAYED = re.compile(r"(?:客户|对方|[\u4e00-\u9fff]{1,3}(?:总|社长|经理|老师|工|主任|院长|校长|老板|姐|哥))(?:还|也|又)?问(?:我们|我|咱们)?"
                      r"((?:能不能|能否|是否|可不可以|可否|有没有|什么时候|多少|怎么|会不会|要不要)[^。！？!?\n]{2,40})")
_REFERS_BACK = re.compile(r"^(?:这个|那个|这|那|你们那边|你们|它)")


def _strip(text: str) -> str:
    text = _LEAD.sub("", text.strip())
    return text.rstrip("？?。.!！ ~～").strip()


# "你们能不能帮我们出一份可行性方案": a request for a document, phrased politely as a question.
_DOC_REQUEST = re.compile(r"^(?:那|另外|还有)?(?:你们?|贵司|您)?(?:能不能|能否|可不可以|可否|麻烦)(?:先)?(?:帮(?:我们|我|忙)?)?"
                          r"(?:出|发|给|提供|做|寄|准备|整理|补)(?:我们|我)?(?:一)?[份个套张下]")


# "发票还是开公司抬头", "地址还是送老仓库": a two-character topic, then 还是 and a verb (no
# alternative before it): "as before", not a choice.
_STILL = re.compile(r"^(?:[^\u4e00-\u9fffA-Za-z0-9]*\s)?[\u4e00-\u9fff]{2,3}还是(?:开|用|走|发|送|寄|放|做|按|老|原来|之前)[^还]{0,10}$")


def is_question(text: str) -> bool:
    """True when a clause asks something (not rhetorical, not a quantity, not an indirect statement,
    not a polite request for a document)."""
    t = text.strip()
    if not t or _CHATTER.match(t) or _RHETORICAL.search(t) or _INDIRECT.search(t) or _DOC_REQUEST.match(t):
        return False
    if re.search(r"一样|照旧|老规矩|跟上次", t) and not re.search(r"[吗？?]|是不是|能不能|还是.{1,6}还是", t):
        return False  # "发票还是跟上次一样开普票": 还是 = as before
    if t.endswith(("？", "?", "吧？", "吧?")):
        return True
    if _STILL.search(t):
        return False  # "发票还是开公司抬头": 还是 = still, an instruction
    return bool(_Q_FORM.search(_QUANTITY.sub("", t)))


def _topic_from_rep(analysis: Analysis, clause: Clause) -> str | None:
    """The topic the rep said the customer asked about, in the turns just before this one."""
    for view in reversed(analysis.turns[max(0, clause.position - 3): clause.position]):
        if view.turn.speaker != "rep":
            continue
        m = _RESTATED.search(view.turn.text)
        if m:
            return re.split(r"我|这边|已经|出来", m.group(1))[0].strip()
    return None


# "MSDS和报价中午之前能发我吗": asks for documents to be sent, a request rather than a question.
_SEND_TO_ME = re.compile(r"(?:发|给|寄|传|提供)(?:我|我们|一下|过来|一份|一个|给我)")


def _echoes(analysis: Analysis, position: int, text: str) -> bool:
    """"晚几天" after the rep's "晚了几天": a short echo of the rep's words, not a question."""
    q = _strip(text).rstrip("吗啊呀")
    if not q or len(q) > 4 or position == 0:
        return False
    before = analysis.turns[position - 1].turn
    return before.speaker == "rep" and all(ch in before.text for ch in q)


def _asks_for_documents(text: str, lex: FieldLexicons | None) -> bool:
    return lex is not None and bool(_SEND_TO_ME.search(text)) and bool(find_documents(text, lex))


def extract_questions(analysis: Analysis, lex: FieldLexicons | None = None) -> tuple[str, ...]:
    """The customer's questions, in order, de-duplicated (without requests to send documents when
    ``lex`` is given)."""
    out: list[str] = []
    for view in analysis.turns:
        turn = view.turn
        if turn.speaker == "rep":
            for m in _RESTATED.finditer(turn.text):
                topic = m.group(1).strip()
                if _Q_FORM.search(topic):
                    out.append(_strip(topic))
            for m in _RELAYED.finditer(turn.text):
                out.append(_strip(m.group(1)))
            continue
        intro_sentence = -1
        previous: Clause | None = None
        for clause in view.clauses:
            text = clause.text
            asks = is_question(text)
            # the clause cutter drops the question mark: "能开专票吧？"
            sent = clause.sentence_text.rstrip()
            if not asks and sent.endswith(("？", "?")) and sent.rstrip("？? ").endswith(text) \
                    and not _CHATTER.match(text + "？") and not _RHETORICAL.search(text) and not _INDIRECT.search(text) \
                    and not _DOC_REQUEST.match(text.strip()):
                asks = True
            # "我就问一下，发票开专票还是普票": what follows an intro is asked even without 吗.
            if not asks and intro_sentence == clause.sentence and len(_strip(text)) >= 4 \
                    and not _RHETORICAL.search(text) and not _INTRO.search(text):
                asks = True
            if _INTRO.search(text) and len(text) <= 12:
                intro_sentence = clause.sentence
            if asks and _asks_for_documents(text, lex):
                asks = False
            if asks and _echoes(analysis, view.position, text):
                asks = False
            if asks:
                q = _strip(text)
                if len(q) <= 6 and (_REFERS_BACK.match(q) or len(q.rstrip("吗呢啊")) <= 3):
                    before = _strip(previous.text) if previous is not None else ""
                    # "下周一有两台手术 能赶上吗": unpunctuated speech cuts the context off at a space
                    same = previous is not None and (previous.sentence == clause.sentence or (
                        previous.sentence == clause.sentence - 1 and not turn.text[previous.end:clause.start].strip()))
                    if previous is not None and same and len(before) >= 3 \
                            and not is_question(previous.text):
                        q = before + "，" + q
                    else:
                        topic = _topic_from_rep(analysis, clause)
                        if topic:
                            q = topic + q
                if len(q) >= 2:
                    out.append(q)
            previous = clause
    return dedupe_names(out, threshold=90.0)
