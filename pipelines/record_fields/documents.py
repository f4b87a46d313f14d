"""Attachments: documents sent, requested or promised, and archive file messages.

A document name is a head noun from the lexicon (报价单, 证书, 方案, 条款 …) plus the modifiers
in front of it ("年度锁价" + "报价"), found in a clause that moves a document ("发您", "麻烦提供",
"有没有…", "见附件"). File messages count by file name; quoted e-mail history counts only where it
refers to an attachment ("附件是…", "已附上").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pipelines.record_fields.lexicons import FieldLexicons, dedupe_names
from pipelines.record_fields.text import Analysis
from pipelines.segment import split_sentences

__all__ = ["DocMention", "find_documents", "extract_attachments", "MOVE_VERB"]

# A clause that sends, asks for, promises or receives a document.
MOVE_VERB = re.compile(
    r"发|寄|送|传|给|提供|附|补|提交|递交|交|带上|整理|准备|出|做好|做一?[份个]|填|需要|要求|要有|要个|要份|要一份|"
    r"(?:我们|我|部|你们|客户|还|先|都)要|收到|看了|看到|"
    r"见附件|附件|签|盖|改好|有没有|有吗|的没|有的|通知|出来|更新|重开|开具|开一?张|核对|缺|还差|审核"
)
# Characters that may follow a head noun: a head followed by anything else is part of a longer
# word ("信息安全", "数据流向", "方案校长…").
_AFTER_HEAD = set(
    "和与及、，。；：！？,.;:!?()（）《》「」『』[]【】 \n\t\u3000"
    "发给我你您他她也都一还要有的在里上吗呢吧了过出来去等已见是最先再就请麻整寄送盖签填没不能可会这那们核改附做带到"
    "中时内外今明后下周月日号前草原副复模文电扫初终盖让怎什为啥谁哪几多咋各"
)
# Characters that end the modifiers in front of a head (function words, verbs, pronouns).
_STOP = set("把将和与及或跟给请您你我他她们这那个份些一新旧也都就还再先已了着过在是有要发寄送传提附补填看收带做出用含见按从到每各该此其等如开重今明昨来而且种供去条")
_STOP_STR = set(" \t\n\u3000，。、；：！？,.;:!?（）()《》「」【】\"'“”‘’…~～-—/")
# Two-character words that start or end with a stop character but belong to a name.
_KEEP = {"发货", "送货", "收货", "提货", "出库", "出厂", "出口", "进口", "付款", "收款", "还款", "使用", "试用",
         "用户", "应用", "新品", "新版", "补充", "附加", "一年", "个人", "过程", "在线", "要求", "含税", "对比",
         "对账", "出货", "送检", "提单", "发运", "一期", "二期", "三期", "一次", "新能", "新增", "年度", "用量",
         "导出", "导入", "输出", "产出", "开票", "开发", "开工", "重点", "明细", "交付", "提交", "出具",
         "验收", "收据", "到货", "传真", "回收", "接收", "签收", "税收", "补货", "提案", "出入", "适用",
         "通用", "专用", "费用", "信用", "备用", "品种", "种类", "供应", "供货", "供方", "去年", "去除", "条码", "条形", "条例", "条件", "条款", "检验", "质检", "来料", "来样", "来函", "往来", "未来"}
# Heads that mean nothing without a modifier ("方案", "资料"); other heads stand alone (注册证, 合同).
_NEEDS_MODIFIER = {"承诺", "方案", "资料", "文件", "文档", "数据", "信息", "说明", "政策", "条件", "计划", "报告", "证书", "证明",
                   "认证", "资质", "协议", "清单", "明细", "表", "表格", "函", "模板", "图纸", "详图", "案例", "手册",
                   "介绍", "条款", "新闻", "参数", "轨迹", "问卷", "视频", "周报", "月报", "目录", "工法", "效果图", "样板", "截图"}
_SUFFIX = re.compile(r"的?(副本|复印件|原件|扫描件|模板|电子版|盖章版|草稿|文本|初稿|终稿|最新版|版本)")
_MAX_MODIFIER = 12
_TITLE = re.compile(r"《([^《》\n]{2,30})》")
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.、．)）]|[（(]\d{1,2}[)）]|[-•·*])\s*")
_ASKS_FOR_DOCS = re.compile(r"(?:什么|哪些)(?:材料|资料|文件|证书|证明|手续)")
_QUOTED_REF = re.compile(r"附件|附上|已附|随信|附在|见附")
_FILE_EXT = re.compile(r"\.(?:pdf|docx?|xlsx?|pptx?|zip|rar|7z|png|jpe?g|txt|csv|dwg|wps)$", re.IGNORECASE)
_SPACED_LETTERS = re.compile(r"(?<=[A-Za-z]) (?=[A-Za-z](?:\b|[^A-Za-z]))")


@dataclass(frozen=True, slots=True)
class DocMention:
    name: str
    start: int
    end: int


def _head_re(lex: FieldLexicons) -> re.Pattern[str]:
    heads = lex.document_heads or ("报价单", "报价", "合同", "发票")
    return re.compile("|".join(re.escape(h) for h in sorted(heads, key=len, reverse=True)), re.IGNORECASE)


_HEAD_CACHE: dict[tuple[str, ...], re.Pattern[str]] = {}


def _heads(lex: FieldLexicons) -> re.Pattern[str]:
    key = lex.document_heads
    pat = _HEAD_CACHE.get(key)
    if pat is None:
        pat = _HEAD_CACHE[key] = _head_re(lex)
    return pat


def _extend_left(text: str, pos: int) -> int:
    """Start of the modifiers in front of ``text[pos:]``; one 的 may sit inside them."""
    start = pos
    used_de = False
    while start > 0 and pos - start < _MAX_MODIFIER:
        ch = text[start - 1]
        if ch in _STOP_STR:
            break
        if ch == "的":
            if used_de or start - 1 == 0 or text[start - 2] in _STOP_STR or text[start - 2] in _STOP:
                break
            used_de = True
            start -= 1
            continue
        if ch == " " or (ch in _STOP and text[start - 1:start + 1] not in _KEEP
                         and text[max(0, start - 2):start] not in _KEEP):
            break
        if ch == "下" and start >= 2 and text[start - 2] in "一看审核查发过签":
            break  # "审一下补充协议": 一下 ends the modifiers
        if ch == "前" and start >= 2 and text[start - 2] in "班日号底天周午点月":
            break  # "19日下班前提交调整后方案": a deadline ends the modifiers
        start -= 1
    # A leading 的 (nothing in front of it survived) is not part of the name.
    while start < pos and text[start] == "的":
        start += 1
    return start


def find_documents(text: str, lex: FieldLexicons) -> list[DocMention]:
    """Document names in ``text`` (no context check), left to right."""
    out: list[DocMention] = []
    text_sp = _SPACED_LETTERS.sub("\x00", text)  # "V M I方案": spaced letters are one token
    for m in _heads(lex).finditer(text_sp):
        hs, he = m.start(), m.end()
        # merge heads that follow each other ("8D" + "报告", "PPAP" + "资料")
        nxt = _heads(lex).match(text_sp, he)
        if nxt:
            continue
        if he < len(text_sp) and text_sp[he] not in _AFTER_HEAD and not _SUFFIX.match(text_sp, he):
            continue
        suffix = _SUFFIX.match(text_sp, he)
        end = suffix.end() if suffix else he
        start = _extend_left(text_sp.replace("\x00", "·"), hs)
        while start < hs and text_sp[start] in "·\x00":
            start += 1
        raw = text[start:end]
        name = _clean(raw)
        head = m.group(0)
        if head in _PRICE_HEADS and _PRICE_STATEMENT.match(text, he):
            continue  # "他们的报价是每台九千": a price said, not a document
        if not name or (name == head and head in _NEEDS_MODIFIER and not _ONE_DOC.search(text, 0, hs)):
            continue
        out.append(DocMention(name, start, end))
    return out


_PRICE_HEADS = {"报价", "价格"}
_PRICE_STATEMENT = re.compile(r"(?:是|为|在|才|只有?|就|大概|大约|约|也就|差不多)?(?:每[人台个件吨月年]|一[台个件])?(?:每月|每年)?[\d一二三四五六七八九十两几]")
# "麻烦你们出一份说明", "写个方案给我": a document even without a modifier.
_ONE_DOC = re.compile(r"(?:出|写|做|发|给|提供|准备|整理|补|交)(?:我们|我|您|你们|你)?(?:一)?[份个张套版]$")


_LEAD_WORDS = re.compile(r"^(?:另外|其中|还有|以及|包括|而且|同时|(?:提交|提供|出具|发送|完成|更新|办理)(?=[^的]{3}))")


def _clean(raw: str) -> str:
    name = re.sub(r"(?<=[A-Za-z]) (?=[A-Za-z])", "", raw)
    name = _LEAD_WORDS.sub("", name)
    if "的" in name and len(name) > 3:
        # "调整后的服务费报价": the words after 的 name the document on their own when they are more
        # than a bare head; written with or without 的, the name then still matches.
        core = name[name.rindex("的") + 1:]
        name = core if len(core) >= 4 else name.replace("的", "")
    return name.strip(" ·\x00-—_")


# Words whose first or last character is a moving verb but which move nothing ("配送商", "交期").
_NOT_MOVING = re.compile(r"(?:都|已经?|早就?)签(?:了|过|好了)|配送|运送|递送|发展|开发|发生|发现|发布|交期|交通|交流|出现|出差|出问题|出错|出事|给力|供给|送礼")


def _moving(sentence: str) -> bool:
    return bool(MOVE_VERB.search(_NOT_MOVING.sub("", sentence)))


_HARD_BREAK = re.compile(r"[。！？!?；;，,\n]")


def _spoken_unit(text: str, start: int, end: int) -> str:
    """The stretch around ``text[start:end]`` up to the nearest punctuation: unpunctuated speech is
    cut into sentences at its spaces, but "医院要求你们提供性能验证报告 还有…使用证明" is one request."""
    left = max((m.end() for m in _HARD_BREAK.finditer(text, 0, start)), default=0)
    m = _HARD_BREAK.search(text, end)
    return text[left:m.start() if m else len(text)]


def _context_lines(text: str) -> Iterable[tuple[int, str, bool]]:
    """(offset, sentence, in a moving context) for every sentence; list items inherit the context
    of the line that introduces them ("请提供以下材料：" / "1. …")."""
    list_context = False
    for sent in split_sentences(text):
        s = sent.text
        if _LIST_ITEM.match(s):
            yield sent.start, s, list_context or _moving(s)
            continue
        moving = _moving(s) or _moving(_spoken_unit(text, sent.start, sent.start + len(s)))
        # "还缺以下几项，目前没法批准：": the verb may sit earlier in the line that opens the list
        line = text[text.rfind("\n", 0, sent.start) + 1:sent.start + len(s)]
        list_context = (moving or _moving(line)) and s.rstrip().endswith(("：", ":")) \
            or (list_context and not s.strip())
        yield sent.start, s, moving


# A file message in a plain-text chat export: "[文件] 报价单.pdf".
_FILE_LINE = re.compile(r"^\s*\[(?:文件|File|file)\]\s*(\S.{0,80}?)\s*$")


def _file_name(name: str) -> str:
    return _FILE_EXT.sub("", name.strip())


# "发票还是开普票", "能开专票吗": the kind of invoice for an order, not a document sent.
_INVOICE_KIND = re.compile(r"[专普]票")
_SENDS_TO = re.compile(r"(?:发|寄|给|传)(?:您|你|我)|附件|邮箱|重开|补开")


_CLAUSE_BREAK = re.compile(r"[，,；;：:（(]")


def _idle_clause(sentence: str, d: DocMention) -> bool:
    """True when the document's own clause says something else about it at length and moves
    nothing ("分期方案可以跟金融公司谈，…最好周三前给我"): the verb elsewhere in the sentence is
    not about it."""
    left = max((m.end() for m in _CLAUSE_BREAK.finditer(sentence, 0, d.start)), default=0)
    m = _CLAUSE_BREAK.search(sentence, d.end)
    clause = sentence[left:m.start() if m else len(sentence)]
    rest = len(clause) - (d.end - d.start)
    return rest >= 7 and not _moving(clause)


def documents_in(text: str, lex: FieldLexicons, *, require_context: bool = True) -> list[DocMention]:
    out: list[DocMention] = []
    for offset, sentence, moving in _context_lines(text):
        if require_context and not moving:
            continue
        invoice_kind = bool(_INVOICE_KIND.search(sentence)) and not _SENDS_TO.search(sentence)
        for d in find_documents(sentence, lex):
            if invoice_kind and d.name == "发票":
                continue
            if require_context and not _LIST_ITEM.match(sentence) and _idle_clause(sentence, d):
                continue
            out.append(DocMention(d.name, offset + d.start, offset + d.end))
        for t in _TITLE.finditer(sentence):
            out.append(DocMention(t.group(1), offset + t.start(1), offset + t.end(1)))
    return out


def extract_attachments(analysis: Analysis, lex: FieldLexicons) -> tuple[str, ...]:
    """Attachment names, in order of first mention, normalised and de-duplicated."""
    names: list[str] = []
    conv = analysis.conversation
    asked = False
    for turn in conv.turns:
        if turn.attachment:
            names.append(_file_name(turn.attachment))
        elif turn.kind == "text" and _FILE_LINE.match(turn.text):
            names.append(_file_name(_FILE_LINE.match(turn.text).group(1)))  # type: ignore[union-attr]
        elif turn.kind == "text" and turn.text.strip():
            # The answer to "需要准备什么材料" lists documents without a verb of its own.
            names.extend(d.name for d in documents_in(turn.text, lex, require_context=not asked))
            asked = bool(_ASKS_FOR_DOCS.search(turn.text))
    for sent in split_sentences(conv.quoted_history or ""):
        if _QUOTED_REF.search(sent.text):
            names.extend(d.name for d in find_documents(sent.text, lex))
    return dedupe_names(lex.canonical_document(n) for n in names)
