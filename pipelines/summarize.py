"""Conversation summaries: the customer's key statements and a short third-person summary.

Why extractive by default: no PyPI package ships a Chinese summariser, and the service must run
offline (see MODELS.md), so the default backend ranks the conversation's own sentences and
rewrites the chosen ones into short third-person clauses ("客户询问…。销售表示…。"), which is how
CRM notes (and customer-service summary corpora such as CSDS) are written. Ranking is TextRank
over character bigrams (an optional sentence ``Embedder`` replaces the bigram similarity), plus
boosts for questions, requests and whatever the caller marks (risk signals, commitments), with MMR
against repeats. Each chosen customer point is followed by the rep's reply to it.

The abstractive backend (issue 4, part 3) runs a transformers seq2seq or causal LM when one is
configured. Following the transformers pipeline rule it has three phases: pure ``_chunk``,
model-only ``TransformersGenerator.generate`` (under ``torch.inference_mode()``) and pure
``_merge``. transformers/torch are imported lazily, only on that path.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from pipelines.conversation import Speaker, Turn

if TYPE_CHECKING:
    from pipelines.semantic import Embedder

__all__ = [
    "KeyStatement",
    "Summary",
    "SummarizeOptions",
    "Summarizer",
    "TextGenerator",
    "TransformersGenerator",
    "EXTRACTIVE_MODEL_ID",
]

EXTRACTIVE_MODEL_ID = "extractive-textrank-v1"

# Summary length: CRM notes (and CSDS references) are short; the target grows with the number of
# informative sentences and may overshoot by the slack factor to keep a whole point.
_BUDGET_BASE = 30
_BUDGET_PER_UNIT = 4
_BUDGET_SLACK = 1.25
_MIN_ISSUE = 4  # content characters a customer sentence needs to become a summary point
# Relevance weights (tuned on the first 200 CSDS dialogues with shared/tools/evaluate.py summaries;
# the score is flat around these values).
_W_CENTRAL = 0.5
_INFO_CAP = 24
_W_CUSTOMER = 0.5
_W_QUESTION = 0.6
_W_WANT = 0.3
_W_CONCERN = 0.3
_W_COMMITMENT = 0.3
_W_POSITION = 0.01
_KEEP_COMMITMENT = 1.3
_MMR_TRADE_OFF = 0.6
_MERGE_STATEMENTS = True
_ANSWER_WINDOW = 6  # sentences after a customer point searched for the rep's reply
_ANSWER_CHARS = 36  # consecutive rep sentences joined into one reply up to this length
_DUPLICATE = 0.8
_GRAPH_WINDOW = 120  # sentences compared with each other (long meetings stay linear)  # bigram cosine above which two sentences say the same


# ---------------------------------------------------------------------------- public types


@dataclass(frozen=True, slots=True)
class KeyStatement:
    """A customer sentence worth quoting.

    Attributes:
        speaker: who said it (``customer`` unless the conversation has no customer text).
        text: an exact substring of ``turns[turn].text``.
        turn: the ``Turn.index`` it comes from.
    """

    speaker: Speaker
    text: str
    turn: int


@dataclass(frozen=True, slots=True)
class Summary:
    """Result of :meth:`Summarizer.summarize`.

    Attributes:
        text: the short third-person summary (empty when there is nothing to summarise).
        key_statements: the customer's most informative sentences, in conversation order.
        model_id: ``EXTRACTIVE_MODEL_ID`` or the generator's model id.
        truncated: True when content had to be dropped to fit ``max_chars`` or the model's
            input budget.
    """

    text: str
    key_statements: tuple[KeyStatement, ...]
    model_id: str
    truncated: bool


@dataclass(frozen=True, slots=True)
class SummarizeOptions:
    """Per-call knobs.

    Attributes:
        max_sentences: how many key statements to return.
        max_chars: hard cap on the summary length (characters). The extractive backend also
            aims at a shorter length that grows with the conversation (CRM notes are short).
        backend: ``extractive`` (default, offline) or ``transformers`` (needs a model).
        max_input_tokens: the model's input budget per chunk (transformers backend).
        max_chunks: at most this many chunks go through the model; the rest is dropped and the
            summary marked ``truncated``.
    """

    max_sentences: int = 3
    max_chars: int = 160
    backend: Literal["extractive", "transformers"] = "extractive"
    max_input_tokens: int = 1024
    max_chunks: int = 8


class TextGenerator(Protocol):
    """A loaded text-to-text model (the abstractive backend's middle phase)."""

    @property
    def model_id(self) -> str: ...

    def count_tokens(self, text: str) -> int:
        """Number of model tokens in ``text``."""
        ...

    def generate(self, chunks: Sequence[str]) -> list[str]:
        """One summary per chunk, in order."""
        ...


# ---------------------------------------------------------------------------- text cleaning

# Data placeholders (masked numbers, addresses…) carry information and stay in summaries; other
# bracketed tags are WeChat emoticons/media markers ([捂脸], [图片]) and go.
_PLACEHOLDERS = frozenset(
    "数字 地址 邮箱 电话 姓名 金额 日期 时间 订单编号 链接 站点 组织机构 身份证号 手机号".split()
)
_URL = re.compile(r"(?:https?://|www\.)[\w./?=&%#:~+-]*", re.IGNORECASE)
_BRACKET_TAG = re.compile(r"\[([^\[\]]{1,8})\]")
# Export/system notes standing in for media: 【收到不支持的消息类型】, [该消息类型暂不支持].
_SYSTEM_NOTE = re.compile(r"[【\[][^】\]]{0,20}(?:消息|图片|表情|文件|语音|视频|链接|卡片|不支持|撤回)[^】\]]{0,20}[】\]]")
_DANGLING_BRACKET = re.compile(r"\[[^\]]*$")
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]"
    r"|O\(∩_∩\)O|\^_\^|\(\^_\^\)|[~～]+|[＾^][_＿]?[＾^]|[:：]\)|/:[a-z]+"
)
_SPACES = re.compile(r"[ \t\u3000]+")

# Greetings, acknowledgements and discourse fillers dropped at the start of a clause. Short words
# that also begin content words (对方, 是否, 行业, 好像) only count when a separator follows.
_SURNAMES = (
    "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高梁郑谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁于余叶蒋杜苏魏程吕丁"
    "沈任姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严赖覃"
    "洪武莫孔汤向常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉"
    "缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑"
    "郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_SEP = r"[\s，,、。.!！~～:：]"
_TITLES = "总|工|经理|老师|姐|哥|主任|院长|科长|处长|校长|局长|部长|小姐|先生|女士|老板|师傅|总监|主管|医生|教授"
_LEAD_FILLER = re.compile(
    r"^(?:(?:您好|你好|(?:新年|早上|上午|下午|晚上)好|早安|大家好|各位好|朋友们好|亲爱的|亲亲|hi|hello|哈喽|在吗|在的|嗯嗯|哦哦|噢|喔|额|呃|唉|哎|诶|"
    r"好的|好滴|好嘞|okay|然后|就是说|对了|哈哈+|呵呵|不好意思|抱歉|"
    r"请问(?:一下|下)?|麻烦(?:您|你)?(?:问|咨询)(?:一下|下)?|"
    r"(?:我|我们)?(?:想|要)(?:请)?(?:问|咨询|请教)(?:一下|下)?|(?:我|我们)?(?:请)?(?:问|咨询|请教)(?:一下|下|个事|个问题)|"
    rf"跟(?:您|你)商量个事){_SEP}*"
    # Vocatives ("孙科长，" "小刘 ") and bare acknowledgements need a separator (or a greeting) after them.
    rf"|(?:[{_SURNAMES}]{{1,2}}(?:{_TITLES})|[小老][{_SURNAMES}])(?:{_SEP}+|(?=(?:您|你|新年|早上|上午|下午|晚上)?好|早))"
    rf"|(?:[亲好嗯哦啊噢对是行哈]+|好吧|行吧|ok|对的|是的|"
    rf"那个|这个|明白|了解|理解|收到|谢谢|感谢|可以|麻烦了|没问题){_SEP}+)",
    re.IGNORECASE,
)
_TRAILING_VOCATIVE = re.compile(rf"(?:^|(?<=[，,\s]))(?:[{_SURNAMES}]{{1,2}}(?:{_TITLES})|[小老][{_SURNAMES}])$")
_FILLER_CLAUSE = re.compile(
    rf"^(?:(?:非常|十分|真的|实在|确实)?(?:很)?(?:抱歉|不好意思|对不起|sorry)(?:了|啊|呀)?|没关系(?:的)?|没事(?:的|儿)?|"
    r"(?:给|让)(?:您|你)(?:添麻烦|久等|费心)了?|(?:辛苦|麻烦)(?:您|你)了|(?:我|小妹|妹子)?(?:非常|很|十分)?理解(?:您|你)的(?:心情|感受|着急)|"
    r"(?:请|还请)?(?:您|你)?(?:放心|别急|不要着急|别着急)|在(?:看|查)(?:的|呢)?|"
    rf"(?:谢谢|感谢)(?:您|你|[{_SURNAMES}]{{1,2}}(?:{_TITLES}))?(?:的)?(?:理解|支持|耐心|配合|信任|关照)?|"
    r"(?:请|还请|辛苦)?(?:您|你)?(?:再)?耐心(?:等待|等)(?:下|一下)?|(?:请|还请|麻烦)?(?:您|你)?稍(?:等|候)(?:一下|下|片刻)?|等一下|"
    r"(?:我|这边|小妹|妹子)?(?:先|再)?(?:帮|为|给)(?:您|你)(?:查询|查看|核实|查|看)(?:一)?下?)$",
    re.IGNORECASE,
)
# Discourse connectives at the start of a clause; dropped when the clause becomes a summary point.
_LEAD_CONNECTIVE = re.compile(
    r"^(?:另外|还有(?:一个|一点|个事|就是)?|而且|并且|不过|但是|可是|所以|因此|其实|说实话|先说实话|老实说|"
    r"我就(?:两|一|几)个问题|那就|那|就)[\s，,、:：]*"
)
# List numbering in e-mails: "1. " "2、" "（3）" "一、".
_LIST_MARK = re.compile(r"^(?:\d{1,2}[.、)）]|[（(]\d{1,2}[)）]|[一二三四五六七八九十][、.]|[-*•·])\s*")
# Rep acknowledgements that say nothing on their own ("明白的", "理解", "收到").
_ACK_ONLY = re.compile(
    r"^(?:(?:明白|理解|了解|收到|知道|好的|好嘞|好|嗯|行|没问题|放心|当然|懂|谢谢|感谢)(?:了|的|啦|哈|您|你)*[，,]?)+"
    rf"(?:[{_SURNAMES}]{{1,2}}(?:{_TITLES}))?$|^(?:您|你)(?:说|讲|看)$"
)
# Modal particles at the end of a clause.
_TAIL_PARTICLE = re.compile(r"(?:[呢哦哈啊呀吧啦哟嘛哇呐噢喔咯么滴]|亲亲|亲爱的|亲)+(?=[，,。.!！?？…]*$)")
_INNER_PARTICLE = re.compile(r"(?:[呢哦哈啊呀啦哟哇噢喔]|亲亲|亲爱的)+(?=[，,])")
_EDGE_PUNCT = re.compile(r"^[\s，,、。.!！?？;；:：…\-—~～·\"'“”‘’/#*]+|[\s，,、。.!！?？;；:：…\-—~～·\"'“”‘’/#*]+$")
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")
_CJK_OR_ALNUM = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
_PLACEHOLDER_TOKEN = re.compile(r"\[(?:" + "|".join(sorted(_PLACEHOLDERS)) + r")\]")

# Closings, waiting notes, thanks and rating requests: never informative, either side.
_BOILERPLATE = re.compile(
    r"还有(?:其他|别的|什么)?(?:问题|需要|事情)?[^，,。]{0,8}(?:帮|效劳|服务|协助)|"
    r"有什么(?:问题|需要|事情)?[^，,。]{0,6}(?:帮|效劳|服务|协助)|"
    r"(?:感谢|谢谢)(?:您|你)?(?:对|的)(?:[^，,。]{0,8})(?:支持|信任|理解|耐心|配合)|祝(?:您|你)[^，,。]{0,10}(?:愉快|顺利|快乐|开心)|"
    r"(?:给|打|做出|做个)(?:个|一个)?(?:好评|评价|五星)|(?:服务|满意度)评价|打个分|点击表情|"
    r"^(?:我|这边|小妹|妹子)?(?:先|再)?(?:给|为|帮)?(?:您|你)?(?:查|看|核实)(?:询|看|下|一下)?$|"
    r"(?:正在|马上|这就|这边|现在)(?:为您|帮您|给您|为你|帮你|给你)?(?:查询|核实|查看|查一下|看一下|查下|看下)|"
    r"不客气|客气了|应该做的|见谅|带来(?:的)?不便|久等|^(?:收到|感谢|谢谢)(?:您|你)的(?:回复|邮件|来信|反馈)|"
    r"再见|拜拜|^没(?:有)?(?:其他|别的)?(?:问题|事)?了$|^(?:没有|没了)$"
)

# "Please wait" sentences go whole unless they also carry a dated promise ("稍等，我明天发您").
_WAITING = re.compile(r"稍等|稍候|等一下|等下")
_DATED = re.compile(r"今天|明天|后天|下周|周[一二三四五六日天]|月底|[点号日]前|之前|以内|内给")
_QUESTION = re.compile(
    r"[?？]|(?:吗|(?<![这那怎什多])么|嘛)[\s。.!！]*$|哪(?!怕)|怎么|怎样|咋|如何|为什么|为何|为啥|干嘛|什么(?!都)|多少|多久|多长|(?<![好十几])几(?![十百千万])[个天号点时次台件箱年月周]|"
    r"能不能|可不可以|可以不|行不行|是不是|有没有|能否|是否|可否|要不要|会不会|对不对|需不需要"
)
_EMBEDDING_VERB = re.compile(r"(?:考虑|确定|决定|知道|商量|研究|评估|讨论|看看|犹豫|纠结)$")
_YES_NO_TAIL = re.compile(r"[吗么嘛][\s。.!！?？]*$|[?？]+$")
_REPORTED_ALT = {
    "能不能": "是否能", "可不可以": "是否可以", "是不是": "是否", "有没有": "是否有", "会不会": "是否会",
    "要不要": "是否要", "需不需要": "是否需要", "行不行": "是否可行", "对不对": "是否正确",
}
_MODAL_ALT = re.compile("|".join(_REPORTED_ALT))
_WH = re.compile(r"怎么|怎样|咋|如何|为什么|为何|为啥|什么|多少|多久|多长|几|哪|是否|能否|可否|还是")
_PRONOUN_START = re.compile(r"[你您我他她它这那咱]")
_TRAILING_MODAL = re.compile(r"(?:可以|能|有|支持|行)$")
_MODAL = re.compile(r"能够|可以|能|会|需要|要|有|(?<!就|还|也|都|不)是|支持|包|含|还")
# A message that is only an id, order number or link label ("订单号:[订单编号]", "ID:52680").
_ID_WORDS = re.compile(r"(?:咨询)?(?:订单|运单|快递|物流)?(?:编号|单号|号码|号)|商品|ID|SKU|编码|型号|链接", re.IGNORECASE)
_ID_TOKEN = re.compile(r"\[[^\[\]]*\]|[A-Za-z0-9:：#_\-./]+")
_WANT = re.compile(r"^(?:我|我们|我这边|我们这边)?(?:想要|想|要|需要|希望|打算|准备|申请)")
# What a customer objects to or worries about, in the words B2B buyers use (generic cues; the
# service adds the risk detector's findings through ``boosts``).
_CONCERN = re.compile(
    r"太贵|太高|偏高|贵了|涨价|涨了|便宜|降价|折扣|优惠|返点|预算|没钱|资金|付款|账期|回款|招标|集采|比价|审批|"
    r"批不了|领导|老板|不行|不能|不了|没法|无法|问题|担心|顾虑|不放心|不满意|投诉|差评|质量|不良|退货|退款|"
    r"换掉|换成|暂停|停了|先停|取消|延期|推迟|再说|考虑|竞品|对比|别家|其他家|还没|没有收到|没到|坏了|损坏"
)
# What a rep promises: a time or a concrete delivery to the customer.
_COMMITMENT = re.compile(
    r"明天|今天|后天|下周|周[一二三四五六日天]|月底|之前|以内|内给|马上|尽快|稍后|回头|安排|申请|"
    r"发(?:给)?(?:您|你)|给(?:您|你)(?:发|回|答复|回复|处理|补)|为(?:您|你)(?:处理|反馈|申请|登记|补发)|联系(?:您|你)|回电"
)
# A first-person promise with a time ("我明天上午把方案发您"), rendered "销售承诺…".
_PROMISE = re.compile(
    r"^(?:我|我们|我这边|这边|我们这边)?(?:会|将|马上|尽快|这就|今天|明天|后天|下周|周[一二三四五六日天]|月底)"
    r"[^，,]{0,12}(?:发|给|送|安排|提供|联系|回复|答复|过来|过去|到)"
)
# The rep's "I" before a verb phrase, dropped in third person: "周五前我一定回复" -> "周五前一定回复".
_REP_SELF = re.compile(r"(?<=[，,\u4e00-\u9fff])(?:我们|我)(?:这边)?(?=一定|会|先|再|马上|今天|明天|后天|下午|上午|晚上|把|来|去|给|跟|找|帮)")
_FIRST_PERSON = re.compile(r"^(?:我们这边|我这边|我们的|我的|我们|我)(?:这边)?")
_SECOND_PERSON = re.compile(r"您们|您|你们|你")


def _strip_tags(text: str) -> str:
    text = _URL.sub("", _SYSTEM_NOTE.sub("", text))
    text = _DANGLING_BRACKET.sub("", text)
    text = _BRACKET_TAG.sub(lambda m: m.group(0) if m.group(1) in _PLACEHOLDERS else "", text)
    text = _EMOJI.sub("", text)
    return _SPACES.sub(" ", text).strip()


def _compress(text: str) -> str:
    """Drop greetings, fillers, particles, emoticons and links from one sentence (pure)."""
    text = _strip_tags(text)
    prev = None
    while prev != text:
        prev = text
        text = _EDGE_PUNCT.sub("", text)
        text = _LIST_MARK.sub("", _LEAD_FILLER.sub("", text))
        text = _TAIL_PARTICLE.sub("", _EDGE_PUNCT.sub("", text))
    text = re.sub(r"\s*[，,]\s*", "，", text)
    # WeChat users and ASR separate clauses with spaces: "进价太高了 超市不愿意压货".
    text = re.sub(r"(?<=[\u4e00-\u9fff\]])\s+(?=[\u4e00-\u9fff\[])", "，", text)
    text = _INNER_PARTICLE.sub("", text)
    text = _TRAILING_VOCATIVE.sub("", text)
    # Whole clauses of apology, empathy or thanks carry nothing: "非常抱歉，…" "给您添麻烦了".
    text = "，".join(c for c in text.split("，") if not _FILLER_CLAUSE.match(c))
    text = re.sub(r"，{2,}", "，", text)
    return _EDGE_PUNCT.sub("", text)


def _content_len(text: str) -> int:
    return len(_CJK_OR_ALNUM.findall(_PLACEHOLDER_TOKEN.sub("", text)))


def _is_question(raw: str) -> bool:
    """A direct question: a question mark, a final 吗, or a question word that is not embedded
    under a verb of deliberation ("还在考虑要不要做")."""
    return any(not _EMBEDDING_VERB.search(raw, max(0, m.start() - 4), m.start()) for m in _QUESTION.finditer(raw))


def _is_id_only(text: str) -> bool:
    """True for messages that carry only ids/numbers/links, not words."""
    rest = _ID_TOKEN.sub("", _ID_WORDS.sub("", text))
    return len(_CJK_OR_ALNUM.findall(rest)) < 2


def _as_reported_question(text: str) -> str:
    """Turn a direct yes/no question into an indirect one: "自提可以吗" -> "自提是否可以"."""
    core = _EDGE_PUNCT.sub("", _YES_NO_TAIL.sub("", text))
    if _MODAL_ALT.search(core):
        return _MODAL_ALT.sub(lambda m: _REPORTED_ALT[m.group(0)], core, count=1)
    if not _YES_NO_TAIL.search(text) or _WH.search(core) or "难道" in core:
        return core
    head, sep, last = core.rpartition("，")
    # A trailing modal moves to the front: "CCS证书有" -> "是否有CCS证书", "自提可以" -> "是否可以自提".
    m = _TRAILING_MODAL.search(last)
    if m and _content_len(last[: m.start()]) >= 2 and not _PRONOUN_START.match(last):
        return f"{head}{sep}是否{m.group(0)}{last[: m.start()]}"
    # Otherwise "是否" goes before the last clause's modal verb, else in front of that clause.
    m = _MODAL.search(last)
    at = m.start() if m and m.start() <= 6 else 0
    return f"{head}{sep}{last[:at]}是否{last[at:]}"


# ---------------------------------------------------------------------------- units


@dataclass(frozen=True, slots=True)
class _Unit:
    """One sentence of one turn, with its cleaned form."""

    turn: int  # Turn.index
    position: int  # order in the conversation
    speaker: Speaker
    start: int  # offsets into the turn text
    end: int
    raw: str
    clean: str
    question: bool
    bigrams: frozenset[str] = field(default_factory=frozenset)


def _bigrams(text: str) -> frozenset[str]:
    chars = _CJK_OR_ALNUM.findall(_PLACEHOLDER_TOKEN.sub("|", text))
    return frozenset(a + b for a, b in zip(chars, chars[1:], strict=False))


def _units(turns: Sequence[Turn], *, min_chars: int = 2) -> list[_Unit]:
    """Split text turns into sentences, clean them, drop the uninformative ones (pure)."""
    units: list[_Unit] = []
    for turn in turns:
        if turn.kind != "text" or not turn.text.strip():
            continue
        for m in _SENTENCE.finditer(turn.text):
            raw = m.group(0)
            if _BOILERPLATE.search(_strip_tags(raw)) or (_WAITING.search(raw) and not _DATED.search(raw)):
                continue
            clean = _compress(raw)
            if _content_len(clean) < min_chars or _BOILERPLATE.search(clean) or _is_id_only(clean):
                continue
            if turn.speaker == "rep" and _ACK_ONLY.match(clean):
                continue
            start = m.start() + (len(raw) - len(raw.lstrip()))
            end = m.start() + len(raw.rstrip())
            units.append(
                _Unit(
                    turn=turn.index,
                    position=len(units),
                    speaker=turn.speaker,
                    start=start,
                    end=end,
                    raw=turn.text[start:end],
                    clean=clean,
                    # "…吗？还是…": the alternative continues the question.
                    question=_is_question(raw)
                    or (clean.startswith("还是") and bool(units) and units[-1].turn == turn.index and units[-1].question),
                    bigrams=_bigrams(clean),
                )
            )
    return units


# ---------------------------------------------------------------------------- ranking


def _similarities(bigrams: Sequence[frozenset[str]], *, window: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sentence graph weights and redundancy on character bigrams (pure).

    Only sentences at most ``window`` positions apart are compared, which keeps hour-long meeting
    transcripts linear; chats and e-mails are shorter than the window and get the full graph.

    Returns:
        TextRank's overlap similarity ``|A∩B| / (log|A| + log|B|)`` for the graph, and the cosine
        ``|A∩B| / sqrt(|A||B|)`` (in [0, 1]) for MMR.
    """
    n = len(bigrams)
    reach = _GRAPH_WINDOW if window is None else window
    graph, overlap = np.zeros((n, n), dtype=np.float32), np.eye(n, dtype=np.float32)
    logs = [math.log(len(b) + 1) for b in bigrams]
    for i in range(n):
        a = bigrams[i]
        if not a:
            continue
        for j in range(i + 1, min(n, i + 1 + reach)):
            b = bigrams[j]
            common = len(a & b) if b else 0
            if common:
                graph[i, j] = graph[j, i] = common / (logs[i] + logs[j])
                overlap[i, j] = overlap[j, i] = common / math.sqrt(len(a) * len(b))
    return graph, overlap


def _textrank(sim: np.ndarray, *, damping: float = 0.85, iterations: int = 30) -> np.ndarray:
    """PageRank over a symmetric similarity matrix; scores have mean 1 (pure)."""
    n = sim.shape[0]
    if n <= 1:  # a single message (the real-time path): nothing to rank
        return np.ones(n)
    w = np.array(sim, dtype=np.float64)
    np.fill_diagonal(w, 0.0)
    out = w.sum(axis=1, keepdims=True)
    w = np.divide(w, out, out=np.zeros_like(w), where=out > 0)
    wt = np.ascontiguousarray(w.T)
    scores = np.ones(n)
    for _ in range(iterations):
        updated = (1 - damping) + damping * (wt @ scores)
        converged = float(np.abs(updated - scores).max()) < 1e-6
        scores = updated
        if converged:
            break
    normalised: np.ndarray = scores / scores.mean()
    return normalised


def _mmr(
    relevance: Sequence[float],
    sim: np.ndarray,
    k: int,
    *,
    trade_off: float | None = None,
    candidates: Sequence[int] | None = None,
) -> list[int]:
    """Maximal marginal relevance: pick ``k`` indices, each relevant and unlike those picked (pure)."""
    lam = _MMR_TRADE_OFF if trade_off is None else trade_off
    if len(relevance if candidates is None else candidates) <= _MMR_SMALL:
        return _mmr_small(relevance, sim, k, lam, range(len(relevance)) if candidates is None else candidates)
    pool = np.arange(len(relevance)) if candidates is None else np.asarray(candidates, dtype=np.intp)
    gain = lam * np.asarray(relevance, dtype=np.float64)[pool]
    redundancy = np.zeros(len(pool))  # max similarity to anything picked so far
    picked: list[int] = []
    for _ in range(min(k, len(pool))):
        scores = gain - (1 - lam) * redundancy
        best = int(np.argmax(scores))  # first of equals: earlier sentences win ties
        picked.append(int(pool[best]))
        gain[best] = -np.inf
        redundancy = np.maximum(redundancy, sim[pool, pool[best]])
    return picked


# Below this many candidates plain Python beats numpy's per-call overhead (a single message has
# one to three sentences; numpy's argmax/maximum were ~4% of a worker's CPU at 200 posts/s).
_MMR_SMALL = 12


def _mmr_small(relevance: Sequence[float], sim: np.ndarray, k: int, lam: float, pool: Sequence[int]) -> list[int]:
    """``_mmr`` for a few candidates: the same picks in the same order, without numpy calls."""
    pool = [int(i) for i in pool]
    gain = [lam * float(relevance[i]) for i in pool]
    redundancy = [0.0] * len(pool)
    sub = sim[np.ix_(pool, pool)].tolist() if pool else []
    picked: list[int] = []
    for _ in range(min(k, len(pool))):
        best, best_score = 0, -math.inf
        for j, g in enumerate(gain):
            score = g - (1 - lam) * redundancy[j]
            if score > best_score:  # first of equals, as np.argmax
                best, best_score = j, score
        if best_score == -math.inf:  # every remaining score is -inf: argmax takes the first
            best = next(j for j, g in enumerate(gain) if g == -math.inf)
        chosen = pool[best]
        picked.append(chosen)
        gain[best] = -math.inf
        redundancy = [max(r, row[best]) for r, row in zip(redundancy, sub, strict=True)]
    return picked


# ---------------------------------------------------------------------------- rendering


def _render(unit: _Unit, *, answers: bool = False) -> str:
    """One third-person clause for a unit: "客户询问…" / "客户表示…" / "销售表示…"."""
    text = _LEAD_CONNECTIVE.sub("", unit.clean) or unit.clean
    if unit.speaker == "rep":
        text = _REP_SELF.sub("", _FIRST_PERSON.sub("", text))
        text = re.sub(r"(?<=[发交寄送传])(?=您|你)", "给", text)  # "发您" -> "发给客户"
        text = _SECOND_PERSON.sub("客户", text)
        text = _EDGE_PUNCT.sub("", text)
        verb = "回答" if answers else "承诺" if _PROMISE.search(unit.clean) else "表示"
        return f"销售{verb}{text}"
    who = "客户" if unit.speaker == "customer" else "对方"
    if unit.question:
        body = _as_reported_question(_FIRST_PERSON.sub("", text) if not _WANT.match(text) else text)
        return f"{who}询问{_EDGE_PUNCT.sub('', body)}"
    want = _WANT.match(text)
    if want:
        return who + _EDGE_PUNCT.sub("", _FIRST_PERSON.sub("", text))
    return f"{who}表示{_EDGE_PUNCT.sub('', text)}"


def _join_clauses(units: Sequence[_Unit], chosen: Mapping[int, bool]) -> str:
    """Render chosen units in order; consecutive rep sentences share one "销售表示…" clause."""
    parts: list[str] = []
    prev = -2
    for j in sorted(chosen):
        u = units[j]
        clause = _render(u, answers=chosen[j])
        same = j == prev + 1 and u.speaker == units[prev].speaker
        if same and (u.speaker == "rep" or (_MERGE_STATEMENTS and clause.startswith("客户表示") and not units[prev].question)):
            parts[-1] += "，" + clause[4:]  # one "销售表示…" / "客户表示…" for consecutive sentences
        else:
            parts.append(clause)
        prev = j
    return "".join(p + "。" for p in parts)


def _key_text(unit: _Unit) -> tuple[int, int]:
    """Offsets of the unit's core in its turn: leading fillers and edge punctuation trimmed."""
    raw = unit.raw
    lo, hi = 0, len(raw)
    prev = -1
    while prev != lo:
        prev = lo
        m = _EDGE_PUNCT.match(raw, lo)
        if m and m.end() > lo:
            lo = m.end()
        m = _LEAD_FILLER.match(raw[lo:hi])
        if m and m.end() > 0:
            lo += m.end()
    while hi > lo and raw[hi - 1] in "，,、。.!！~～ \t;；:：…":
        hi -= 1
    if _content_len(raw[lo:hi]) < 2:
        lo, hi = 0, len(raw)
    return unit.start + lo, unit.start + hi


# ---------------------------------------------------------------------------- abstractive phases


def _chunk(text: str, max_tokens: int, *, count_tokens: Callable[[str], int] = len) -> tuple[str, ...]:
    """Split a transcript into chunks of at most ``max_tokens`` tokens (pure).

    Cuts at line ends, then sentence ends, then hard at the token budget, so no chunk exceeds
    the budget and no text is lost.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be >= 1")
    pieces: list[tuple[str, bool]] = []  # (text, starts a line)
    for line in text.splitlines():
        if not line.strip():
            continue
        if count_tokens(line) <= max_tokens:
            pieces.append((line, True))
            continue
        first = True
        for sent in _SENTENCE.findall(line) or [line]:
            while count_tokens(sent) > max_tokens:
                # Longest prefix within budget (binary search: count_tokens is monotone enough).
                lo, hi = 1, len(sent)
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    if count_tokens(sent[:mid]) <= max_tokens:
                        lo = mid
                    else:
                        hi = mid - 1
                pieces.append((sent[:lo], first))
                sent, first = sent[lo:], False
            if sent:
                pieces.append((sent, first))
                first = False
    chunks: list[str] = []
    current = ""
    for piece, new_line in pieces:
        candidate = current + ("\n" if new_line else "") + piece if current else piece
        if current and count_tokens(candidate) > max_tokens:
            chunks.append(current)
            current = piece
        else:
            current = candidate
    if current:
        chunks.append(current)
    return tuple(chunks)


def _merge(outputs: Sequence[str], max_chars: int) -> tuple[str, bool]:
    """Join per-chunk summaries: drop empty and repeated sentences, cap the length (pure).

    Returns:
        The merged text and whether it had to be cut at ``max_chars``.
    """
    seen: set[str] = set()
    sentences: list[str] = []
    for out in outputs:
        # Character-level Chinese vocabularies decode with a space between tokens.
        out = _CJK_GAP.sub("", out.strip())
        for sent in _SENTENCE.findall(out):
            sent = sent.strip()
            key = re.sub(r"\W", "", sent)
            if not key or key in seen:
                continue
            seen.add(key)
            sentences.append(sent if sent[-1] in "。！？!?；;" else sent + "。")
    text = "".join(sentences)
    if len(text) <= max_chars:
        return text, False
    cut = text[:max_chars]
    last = max(cut.rfind(p) for p in "。！？!?；;")
    if last >= max_chars // 2:
        return cut[: last + 1], True
    return cut.rstrip("，,、") + "…", True


_CJK_GAP = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])")


def _transcript(turns: Sequence[Turn]) -> str:
    labels = {"customer": "客户", "rep": "销售", "unknown": "对方"}
    return "\n".join(
        f"{labels[t.speaker]}：{_strip_tags(t.text)}"
        for t in turns
        if t.kind == "text" and _strip_tags(t.text)
    )


_CAUSAL_PROMPT = (
    "下面是一段销售和客户的对话。请用中文写一段简短的第三人称摘要，"
    "说明客户询问或表示了什么、销售回答或承诺了什么。\n\n{dialogue}\n\n摘要："
)


class TransformersGenerator:
    """A transformers seq2seq or causal LM used as the abstractive backend.

    The model loads lazily on first use. A local directory loads with ``local_files_only=True``
    so nothing is fetched at request time; a hub name uses the local cache (set
    ``HF_HUB_OFFLINE=1`` in production).
    """

    def __init__(self, model: str, *, max_new_tokens: int = 128, device: str = "cpu") -> None:
        self._name = model
        self._max_new_tokens = max_new_tokens
        self._device = device
        self._tokenizer: Any = None
        self._model: Any = None
        self._seq2seq = True
        self._lock = threading.Lock()  # requests may race to the first load

    @property
    def model_id(self) -> str:
        return self._name

    def _load(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._load_locked()

    def _load_locked(self) -> None:
        from pathlib import Path

        from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

        local = Path(self._name).exists()
        config = AutoConfig.from_pretrained(self._name, local_files_only=local)
        self._seq2seq = bool(getattr(config, "is_encoder_decoder", False))
        self._tokenizer = AutoTokenizer.from_pretrained(self._name, local_files_only=local)
        cls = AutoModelForSeq2SeqLM if self._seq2seq else AutoModelForCausalLM
        model: Any = cls.from_pretrained(self._name, local_files_only=local)
        self._model = model.to(self._device).eval()

    def count_tokens(self, text: str) -> int:
        """Model input tokens ``text`` takes, the causal prompt and special tokens included."""
        self._load()
        return len(self._tokenizer(self.prompt(text))["input_ids"])

    def prompt(self, chunk: str) -> str:
        """The model input for one chunk (seq2seq models get the chunk as is)."""
        self._load()
        return chunk if self._seq2seq else _CAUSAL_PROMPT.format(dialogue=chunk)

    def generate(self, chunks: Sequence[str]) -> list[str]:
        """Summarise each chunk (the only phase that touches the model)."""
        import torch

        self._load()
        tok, model = self._tokenizer, self._model
        outputs: list[str] = []
        with torch.inference_mode():
            for chunk in chunks:
                enc = tok(self.prompt(chunk), return_tensors="pt").to(self._device)
                pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
                ids = model.generate(
                    **enc, max_new_tokens=self._max_new_tokens, do_sample=False, num_beams=1, pad_token_id=pad
                )
                if not self._seq2seq:
                    ids = ids[:, enc["input_ids"].shape[1] :]
                outputs.append(tok.decode(ids[0], skip_special_tokens=True).strip())
        return outputs


# ---------------------------------------------------------------------------- the stage


class Summarizer:
    """Summarises a conversation: key customer statements plus a short summary.

    Args:
        options: per-call knobs (length, backend).
        model: hub name or local path of a transformers model; needed for the ``transformers``
            backend unless ``generator`` is given.
        embedder: optional sentence embedder; replaces bigram similarity in ranking.
        generator: an already built ``TextGenerator`` (tests, shared model slots).
    """

    def __init__(
        self,
        options: SummarizeOptions = SummarizeOptions(),  # noqa: B008 - frozen, safe to share
        *,
        model: str | None = None,
        embedder: Embedder | None = None,
        generator: TextGenerator | None = None,
    ) -> None:
        if options.backend == "transformers" and generator is None:
            if not model:
                raise ValueError("the transformers backend needs a model (hub name or local path)")
            generator = TransformersGenerator(model)
        self.options = options
        self._embedder = embedder
        self._generator = generator

    @property
    def model_id(self) -> str:
        if self.options.backend == "transformers" and self._generator is not None:
            return self._generator.model_id
        return EXTRACTIVE_MODEL_ID

    def summarize(self, turns: Sequence[Turn], *, boosts: Mapping[int, float] | None = None) -> Summary:
        """Summarise ``turns``.

        Args:
            turns: the conversation's turns in order.
            boosts: ``Turn.index`` -> extra weight (risk signals, questions, commitments).

        Returns:
            The summary; key statements are exact substrings of their turns.
        """
        units = _units(turns)
        graph, overlap = self._similarities(units)
        relevance = self._relevance(units, graph, boosts or {})
        keys = self._key_statements(units, overlap, relevance)
        model_id = self.model_id
        text, truncated = "", False
        if self.options.backend == "transformers" and self._generator is not None:
            text, truncated = self._abstractive(turns)
        if not text:  # extractive backend, or the model produced nothing usable
            text, truncated = self._extractive(units, overlap, relevance)
            model_id = EXTRACTIVE_MODEL_ID
        return Summary(text=text, key_statements=keys, model_id=model_id, truncated=truncated)

    # -- ranking

    def _similarities(self, units: Sequence[_Unit]) -> tuple[np.ndarray, np.ndarray]:
        """(graph weights, redundancy): embedding cosine when an embedder is set, else bigrams."""
        if self._embedder is not None and units:
            vectors = np.asarray(self._embedder.embed([u.clean for u in units]), dtype=np.float64)
            cosine = np.clip(vectors @ vectors.T, 0.0, 1.0)
            return cosine, cosine
        return _similarities([u.bigrams for u in units])

    @staticmethod
    def _relevance(units: Sequence[_Unit], graph: np.ndarray, boosts: Mapping[int, float]) -> list[float]:
        centrality = _textrank(graph)
        scores = []
        for u, c in zip(units, centrality, strict=True):
            s = _W_CENTRAL * c + min(_content_len(u.clean), _INFO_CAP) / _INFO_CAP
            if u.speaker != "rep":
                s += _W_CUSTOMER
                if u.question:
                    s += _W_QUESTION
                if _WANT.match(u.clean):
                    s += _W_WANT
                if _CONCERN.search(u.clean):
                    s += _W_CONCERN
            elif _COMMITMENT.search(u.clean):
                s += _W_COMMITMENT
            s += boosts.get(u.turn, 0.0)
            s -= _W_POSITION * u.position  # the opening issue is usually the main one
            scores.append(s)
        return scores

    def _key_statements(
        self, units: Sequence[_Unit], sim: np.ndarray, relevance: Sequence[float]
    ) -> tuple[KeyStatement, ...]:
        customer = [i for i, u in enumerate(units) if u.speaker == "customer"]
        pool = customer or [i for i, u in enumerate(units) if u.speaker != "rep"] or list(range(len(units)))
        picked = sorted(_mmr(relevance, sim, self.options.max_sentences, candidates=pool))
        keys = []
        for i in picked:
            u = units[i]
            start, end = _key_text(u)
            keys.append(KeyStatement(speaker=u.speaker, text=_turn_text(u, start, end), turn=u.turn))
        return tuple(keys)

    # -- extractive summary

    def _extractive(
        self, units: Sequence[_Unit], overlap: np.ndarray, relevance: Sequence[float]
    ) -> tuple[str, bool]:
        if not units:
            return "", False
        budget = min(self.options.max_chars, _BUDGET_BASE + _BUDGET_PER_UNIT * len(units))
        issues = [i for i, u in enumerate(units) if u.speaker != "rep" and _content_len(u.clean) >= _MIN_ISSUE]
        if not issues:  # a rep-only message (e-mail, broadcast): summarise the rep's points
            issues = [i for i, u in enumerate(units) if _content_len(u.clean) >= _MIN_ISSUE] or [0]
        order = _mmr(relevance, overlap, len(issues), candidates=issues)
        chosen: dict[int, bool] = {}  # unit -> rendered as an answer to a question
        length = 0
        for i in order:
            if length >= budget:
                break
            if any(overlap[i, j] >= _DUPLICATE for j in chosen):  # the customer repeating a point
                continue
            add = {i: False}
            if units[i].speaker != "rep":
                for j in _answer_to(units, i):
                    add.setdefault(j, units[i].question)
            new = [j for j in add if j not in chosen]
            cost = sum(len(_render(units[j], answers=add[j])) + 1 for j in new)
            if length and length + cost > budget * _BUDGET_SLACK:
                continue
            chosen.update({j: add[j] for j in new})
            length += cost
        # The rep's commitment is what the CRM follow-up hangs on: keep the strongest one.
        promises = [j for j, u in enumerate(units) if u.speaker == "rep" and not u.question and _COMMITMENT.search(u.clean)]
        if _KEEP_COMMITMENT and promises and not any(j in chosen for j in promises):
            best = max(promises, key=lambda j: relevance[j])
            if length + len(_render(units[best])) + 1 <= budget * _BUDGET_SLACK * _KEEP_COMMITMENT:
                chosen[best] = False
        text = _join_clauses(units, chosen)
        if len(text) > self.options.max_chars:
            text, _ = _merge([text], self.options.max_chars)
            return text, True
        return text, False

    # -- abstractive summary

    def _abstractive(self, turns: Sequence[Turn]) -> tuple[str, bool]:
        assert self._generator is not None
        chunks = _chunk(_transcript(turns), self.options.max_input_tokens, count_tokens=self._generator.count_tokens)
        truncated = len(chunks) > self.options.max_chunks
        outputs = self._generate(chunks[: self.options.max_chunks])
        text, cut = _merge(outputs, self.options.max_chars)
        return text, truncated or cut

    def _generate(self, chunks: Sequence[str]) -> list[str]:
        assert self._generator is not None
        return self._generator.generate(chunks) if chunks else []


def _turn_text(unit: _Unit, start: int, end: int) -> str:
    # unit.raw is turn.text[unit.start:unit.end]; slice it with offsets relative to the turn.
    return unit.raw[start - unit.start : end - unit.start]


def _answer_to(units: Sequence[_Unit], i: int) -> tuple[int, ...]:
    """The rep's reply to unit ``i``: the first rep statements after it, before the customer
    moves on to a new question (pure). Rep questions ("订单号多少？") are not answers."""
    picked: list[int] = []
    size = 0
    max_chars = _ANSWER_CHARS
    for j in range(i + 1, min(len(units), i + 1 + _ANSWER_WINDOW)):
        u = units[j]
        if u.speaker != "rep":
            if picked or (u.question and u.turn != units[i].turn):
                break
            continue
        if u.question:
            continue
        if picked and (size + len(u.clean) > max_chars or u.position != units[picked[-1]].position + 1):
            break
        picked.append(j)
        size += len(u.clean)
    return tuple(picked)
