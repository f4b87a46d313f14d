"""Competitors: named competing companies, brands and products, from anyone in the conversation.

A lexicon of well-known brands per industry finds most names; a few patterns ("用的是X",
"X那边报价", "换成X") find names the lexicon lacks. Unnamed ones (另一家, 二供), partners, sales
channels and systems to integrate with are not competitors; names that are also ordinary words
(统一, 小米) need competitor context. The rep's self-introduction ("我是X的小王") and reference
customers ("我们在X做过") do not count.
"""

from __future__ import annotations

import re

from pipelines.record_fields.lexicons import FieldLexicons, dedupe_names
from pipelines.record_fields.text import Analysis

__all__ = ["extract_competitors"]

_NAME = r"[A-Za-z\u4e00-\u9fff][A-Za-z0-9\u4e00-\u9fff+]{1,7}?"
# Context that makes a name a competitor (for ambiguous names, and for discovery).
_BEFORE = r"(?:(?:都|也|改|全|换)(?:在)?上|不如(?:直接)?(?:上|用|买)|用的是|用的|在用|改用|换成|换用|换|切回|切到|转到|选用|选了|选择了|选择|倾向于?|指定了?|比|跟|和|像|对比)"
_AFTER = (r"(?:那边|那家|家的|的报价|的价格|的价|给的|报的|给我报|的业务员|的销售|也在|都是|的产品|的方案|的基础版|便宜|报价|"
          r"的政策|的老板|的同(?:配置|规格|款|型号)|的比|比|也(?:要|在|会|想)?(?:来|去)?(?:投|报|参与|竞标|找过|谈)|在推|来推|来谈)")
# (pattern, weak): a name found only by a weak pattern must not be made of ordinary words.
_DISCOVER: tuple[tuple[re.Pattern[str], bool], ...] = (
    (re.compile(r"(?:(?:现在|一直|都在|还在|目前|我们|我|原来|以前|之前|[^\u4e00-\u9fff])(?:都|也|还)?(?:在)?用的是?|用的是|改用|换成|切回|选用|"
                r"决定用|最终选了?|倾向于(?:后面)?换)(?!是)(" + _NAME
                + r")(?=的|了|那|，|。|,|\s|$|也|都|吧)"), False),
    (re.compile(r"(?<![A-Za-z0-9\u4e00-\u9fff])(" + _NAME + r")(?=那边(?:也|还)?(?:说)?(?:给|报|的报价|的价|送|答应|开价|可以给|能给))"), True),
    # "X那边也在找我们谈", "X一直在联系我们"
    (re.compile(r"(?<![A-Za-z0-9\u4e00-\u9fff])(" + _NAME + r")(?=(?:那边|的人)?(?:也|还|一直)(?:在)?(?:找我们|找过我们|联系我们|来找|在谈|跟我们谈|约我们))"),
     True),
    # "伟达报价比你们低三千", "X给的价才九折"
    (re.compile(r"(?<![A-Za-z0-9\u4e00-\u9fff])(" + _NAME + r")(?=(?:那边|那家|家)?(?:的)?(?:报价|报的|给的价|开价|价格)(?:比你们|比贵司|才|只要|只有|低|便宜|更低))"),
     True),
    # "检测一直找X做的", "之前都交给X来做"
    (re.compile(r"(?:一直|都是|都|现在|之前|原来|目前|以前)(?:是|在)?(?:找|交给|让)(" + _NAME + r")(?=做|来做|弄|合作|的|家)"), True),
    # "集团那边定了用X"
    (re.compile(r"(?:定了|定下来|已经定)(?:要|就)?(?:用|选|上)(" + _NAME + r")(?=的|了|吧|，|。|,|\s|$)"), False),
    # A Latin-letter brand next to competitor words ("老板觉得Zoho便宜")
    (re.compile(r"(?<![A-Za-z0-9])([A-Z][a-z][A-Za-z0-9&\-]{1,14})(?=[^A-Za-z0-9，。]{0,2}(?:便宜|报价|报的|给的|也在|也报|更好|的价|的方案|"
                r"的产品|的系统|的设备|的报价))"), False),
    # "皇派的报价是含安装的"
    (re.compile(r"(?<![A-Za-z0-9\u4e00-\u9fff])(" + _NAME + r")的(?:报价|价格|拿货价|出厂价|方案)(?=是|也|比|更|才|只|就|都|还|要)"), True),
    # "米其林的代理给我们的价都比你们低"
    (re.compile(r"(?<![A-Za-z0-9\u4e00-\u9fff])(" + _NAME + r")的(?:代理|经销商|业务员?|销售|人)(?=给|报|送|开价|说可以)"), True),
    # "领星的同步就很快": a rival's feature praised
    (re.compile(r"(?<![A-Za-z0-9\u4e00-\u9fff])(" + _NAME + r")的[\u4e00-\u9fff]{1,4}?(?:就|都|也|倒)(?:很|挺|更|比较|特别)?"
                r"(?:快|好|稳|便宜|方便|好用|实时)"), True),
    # "卫宁的人上个月也来过", "极米的业务员找过我们"
    (re.compile(r"(?<![A-Za-z0-9\u4e00-\u9fff])(" + _NAME + r")的(?:人|销售|业务员?|代理商?|经销商|区域经理|客户经理)"
                r"(?=.{0,8}(?:来过|去过|来找|找过|也来|来谈|联系过|来拜访|拜访过|上门|跑过))"),
     False),
    # "差这点钱不如直接上X", "还不如买X": the customer would rather take a rival
    (re.compile(r"不如(?:直接|干脆)?(?:上|用|买|换|选|找)(" + _NAME + r")(?=的|了|吧|算了|$|，|。|,|\s)"), False),
    # "夜宵店现在都上X的白啤": the market is turning to a rival's product
    (re.compile(r"(?:都|也|全|改|已经)(?:在)?(?:上|进|卖|铺)(" + _NAME + r")的"), True),
    # "X和Y都已向我们提交了方案", "X、Y也都报了价": several rivals that quoted
    (re.compile(r"(?<![A-Za-z0-9\u4e00-\u9fff])(" + _NAME + r")(?:和|、|跟|与)" + _NAME
                + r"(?=(?:都|也)(?:已经?)?(?:向我们|给我们)?(?:提交|报|投|出|发)(?:了|过)?(?:方案|报价|价|标|标书))"), False),
    (re.compile(r"(?<![A-Za-z0-9\u4e00-\u9fff])" + _NAME + r"(?:和|、|跟|与)(" + _NAME
                + r")(?=(?:都|也)(?:已经?)?(?:向我们|给我们)?(?:提交|报|投|出|发)(?:了|过)?(?:方案|报价|价|标|标书))"), False),
    (re.compile(r"做(" + _NAME + r")的(?:老板|经销商|代理)"), False),
    # "顾客都跑去买皇家了"
    (re.compile(r"(?:跑去|都去|转去|改去|去别家)(?:买|用|进|找)(" + _NAME + r")(?=了|的|吧|$|，|。|,|\s)"), False),
    # "价格比沁园的贵了三成", "比他们便宜" (pronouns are filtered below)
    (re.compile(r"比(" + _NAME + r")(?:的|家的?|那边的?)?(?=贵|便宜|低|高|好|差|快|慢)"), True),
    # "卫宁也报了", "萤石也在找我们谈"
    (re.compile(r"(?<![A-Za-z0-9\u4e00-\u9fff])(" + _NAME + r")(?=也(?:报了|在报|来报|报价|给了?报价|在谈|来找|找过))"), False),
    # "跟石头的比有什么优势", "和蓝鲸比起来"
    (re.compile(r"(?:跟|和)(" + _NAME + r")(?:的|家的?|那边的?)?(?:比|对比|相比)"), True),
)
_NOT_A_NAME = re.compile(
    r"^(?:哪家|哪个|哪些|哪种|什么|谁家|啥|这次|那次|本次|首次|最新|最终|正式|含税|单台|每台|整体|第三方|现在这家|这家|那家|原来那家|他|人家|白天|晚上|夜里|平时|平常|上个月|上月|同期|旺季|淡季|市场|行业|零售|批发|官网|网店|门店|贵司|贵方|贵公司|你司|您们|咱们|原厂|厂家|原装|官方|参数|性能|功能|质量|价格|服务|配置|指标|数据|效果|别家|别的|别人|另一家|另外一家|另外|其他|其它|他们|她们|人家|同行|竞品|友商|厂家|工厂|供应商|公司|系统|平台|软件|"
    r"我们|你们|自己|老的|新的|以前的|国产|进口|这个|那个|这家|那家|一家|两家|几家|集团|总部|客户|甲方|总包|这边|那边|"
    r"现在|之前|原来|老系统|单机版|表格|微信|电话|邮件|二供|一供|隔壁|本地|外地|线上|线下|手工|纸质|人工|现金|代理|"
    r"经销商|省平台|这种|那种|同款|同类|一样|便宜|大厂|小厂|去年|上次|以前|原来|预期|想象|市场价|行情|"
    r"标准|目标价|同行|平均|网上|线上|线下|预算|我们想|想的|案例|方案|产品|设备|机器|版本|型号|材料|原料|进口件|"
    r"国产件|免费版|基础版|标准版|老款|新款|模式|办法|方式).*"
)
# Words that lead into a name but are not part of it ("其中外企德科的报价…").
_LEAD = re.compile(r"^(?:其中|另外|而且|还有|包括|比如|例如|就是|像是?|尤其是?|特别是)(?=[A-Za-z\u4e00-\u9fff]{2})")
# A product variant or pack, not a company ("换成经典款", "上罐装"): names ending like these.
_VARIANT = re.compile(r"(?:款|版|型|装|系列|套餐|规格|型号|配置|口味|产品|设备|机器|东西|货)$|^[一二两三四五六七八九十几百千万\d]+[个台套件箱吨只批次条张份]?$|"
                      r"^[一二两三四五六七八九十几\d]+[个台套件箱吨只批次条张份]")
# A carrier used to ship our goods ("明天给您发顺丰", "走德邦物流", "顺丰到付"): a logistics name in
# this use is a partner, not a rival (unless the seller is in logistics and the customer moves).
_CARRIER_BEFORE = re.compile(r"(?<!开)(?:发|走|寄)(?:[\u4e00-\u9fff]{2,4}(?:还是|或者?|或是|跟|和))?$")
_CARRIER_AFTER = re.compile(r"^(?:快递|物流|快运)?(?:到付|单号|寄(?:给|过|到)|发(?:给|过|到))")

# Latin acronyms that name a kind of system, document or unit, not a brand.
_ACRONYM = re.compile(r"^(?:ERP|CRM|OA|PMS|SKU|SPU|PO|PI|ISO|CE|API|APP|App|PDF|PPT|SaaS|VIP|ID|IT|AI|HR|CEO|CTO|CFO|GPS|MES|WMS|TMS|"
                      r"BOM|SLA|KPI|POS|SCRM|BI|IoT|PLC|CNC|LED|USB|SD|OEM|ODM|FOB|CIF|EXW|DDP|MOQ|QC|QA|PP|PE|PVC|ABS|B2B|B2C|"
                      r"Boss|BOSS|boss|Hello|Hi|OK|Ok|Word|Excel|PPT|Email|Sorry|Thanks|Team|Leader|Sales|Demo|Case)$")

# Characters a brand name practically never contains but a clause does.
_FUNCTION_CHARS = re.compile(r"[是们我你您他她吗呢吧很就还说都也要会能想让被把给]")
_SELF_INTRO = re.compile(r"我是|我这边是|我们是|我$")
_REFERENCE = re.compile(r"我们在$|给$|帮$|服务过?$")
_OWN_COMPANY = re.compile(r"(?:我司|本公司|我们公司|我们集团|我们)$")


def _ordinary(name: str, common: frozenset[str]) -> bool:
    """True when ``name`` splits wholly into ordinary words (greedy longest match, 2–4 characters)."""
    if not common:
        return False
    i = 0
    while i < len(name):
        for n in (4, 3, 2):
            if name[i:i + n] in common:
                i += n
                break
        else:
            return False
    return True


def _ok_context(text: str, start: int, end: int) -> bool:
    before, after = text[max(0, start - 6):start], text[end:end + 6]
    return bool(re.search(_BEFORE + r"$", before) or re.match(_AFTER, after))


def _extend(text: str, end: int) -> int:
    """"金蝶" + "KIS" / "用友" + "T+": a product line written right after the brand."""
    m = re.match(r"[A-Za-z0-9+]{1,8}(?![A-Za-z])", text[end:])
    return end + m.end() if m else end


# "能跟企业微信打通吗", "我们是钉钉的服务商": a platform to integrate with, not a competitor.
_INTEGRATION_BEFORE = re.compile(r"(?:跟|和|与|同|接入|对接|打通|集成|嵌入|基于|在|适配|兼容)(?:我们|你们|贵司|我司)?的?"
                                 r"(?:(?:现有|现在|目前|原有|已有)的?)?$")
_INTEGRATION_AFTER = re.compile(r"^(?:商城|系统|平台|ERP|CRM|APP|小程序|后台|大屏|屏|一体机|白板|设备|硬件|终端|服务器|机器)?(?:的)?"
                                r"(?:打通|对接|集成|同步|互通|接口|的服务商|服务商|生态|适配|兼容|"
                                r"里面?|上面?|账号|群|我们有(?:标准)?接口|有(?:标准)?接口)|"
                                r"^的?(?:大屏|屏|一体机|白板|设备|硬件|终端|服务器|机器|系统)(?:上|里)?(?:跑|运行|安装|装|用|兼容)?|"
                                r"^的?(?:大屏|屏|一体机|白板|设备|硬件|终端|服务器|系统)?(?:做过|做了|已经|都)?(?:适配|兼容)")


_SYSTEM_TO_LINK = re.compile(r"^的?[\u4e00-\u9fff]{0,4}(?:系统|软件|平台|ERP|CRM|OA)[^。！？!?]{0,12}(?:对接|打通|集成|接口|兼容|适配|同步)")


def _integration_only(mentions: list[tuple[str, int, int]]) -> bool:
    """True when every mention of a name sits in an integration context and at least one is
    explicitly an integration ("打通", "对接", "服务商")."""
    explicit = False
    for text, start, end in mentions:
        before, after = text[max(0, start - 8):start], text[end:end + 10]
        if _SYSTEM_TO_LINK.match(text[end:end + 24]):  # "用的是金蝶的财务系统，你们能对接吗"
            explicit = True
            continue
        if not (_INTEGRATION_BEFORE.search(before) or _INTEGRATION_AFTER.match(after)):
            return False
        explicit = explicit or bool(re.match(r"^(?:的)?(?:打通|对接|集成|同步|互通|接口|的?服务商)", after)) \
            or bool(re.search(r"(?:打通|对接|集成|接入)(?:我们|你们|贵司|我司)?的?(?:现有的?)?$", before)) \
            or bool(re.search(r"适配|兼容|(?:上|里)(?:跑|运行)", after))
    return explicit


def extract_competitors(analysis: Analysis, lex: FieldLexicons) -> tuple[str, ...]:
    found: list[str] = []
    mentions: dict[str, list[tuple[str, int, int]]] = {}
    pattern = lex.competitor_re
    for view in analysis.turns:
        text = view.turn.text
        rep = view.turn.speaker == "rep"
        if pattern is not None:
            for m in pattern.finditer(text):
                start, end = m.start(), m.end()
                raw = m.group(0)
                if raw.isascii():
                    if (start and text[start - 1].isalnum() and text[start - 1].isascii()) or \
                            (end < len(text) and text[end].isascii() and text[end].isalpha()):
                        continue
                name = lex.canonical_competitor(raw)
                if raw.lower() in lex.non_competitors or name.lower() in lex.non_competitors:
                    continue

                prefix = text[max(0, start - 4):start]
                if name in lex.carriers and _CARRIER_BEFORE.search(text[max(0, start - 9):start]):
                    continue  # "走德邦还是顺丰": both carriers
                if name in lex.carriers and (_CARRIER_BEFORE.search(prefix) or _CARRIER_AFTER.match(text[end:end + 6])):
                    continue  # "明天给您发顺丰": the carrier of our goods
                if _SELF_INTRO.search(prefix) or (rep and _REFERENCE.search(prefix)):
                    continue
                if re.search(r"(?:作为|成为|进入|是|做|当)$", prefix) and \
                        re.match(r"[\u4e00-\u9fff]{0,4}?的(?:合格|指定|战略|核心|一级)?(?:供应商|供方|服务商|承包商)", text[end:end + 12]):
                    continue  # "作为格力电器的合格供应商": the customer itself
                if _OWN_COMPANY.search(prefix) and (re.match(r"集团|公司|这边|内部|总部", text[end:end + 2])
                                                    or re.search(r"我司|本公司|我们公司|我们集团$", prefix)):
                    continue  # the speaker's own company ("我们海尔这边…")
                if (raw in lex.ambiguous_competitors or name in lex.ambiguous_competitors) and \
                        not _ok_context(text, start, end):
                    continue
                ext = _extend(text, end)
                if ext > end and not text[end:ext].isdigit():
                    name = lex.canonical_competitor(text[start:ext])
                said = text[start:ext]
                if name != said and said.lower() not in name.lower() and name.lower() not in said.lower():
                    name = f"{name}（{said}）"  # "SAP（思爱普）": the canonical name and the one said
                found.append(name)
                mentions.setdefault(name, []).append((text, start, ext))
        for rx, weak in _DISCOVER:
            for m in rx.finditer(text):
                cand = _LEAD.sub("", m.group(1))
                cand = re.split(r"觉得|认为|感觉|听说|说是", cand)[-1]  # "老板觉得Zoho…": the name follows
                if "的" in cand[2:]:
                    cand = cand[:cand.index("的", 2)]  # "销售易的人也来找过": the name ends at 的
                if _NOT_A_NAME.match(cand) or cand.lower() in lex.non_competitors or len(cand) < 2:
                    continue
                if cand[-1] in "的了吧呢吗啊":
                    cand = cand[:-1]
                if _FUNCTION_CHARS.search(cand) or _VARIANT.search(cand) or _NOT_A_NAME.match(cand) or _ACRONYM.match(cand):
                    continue  # "AI侦测是比海康好": a clause, not a name
                if weak and _ordinary(cand, lex.common_words):
                    continue  # "比白天贵", "和参数对比": ordinary words, not a brand
                known = pattern.search(cand) if pattern is not None else None
                if known is not None and (known.start() > 0 or known.end() == len(cand)):
                    continue  # the lexicon pass has it, spelled canonically
                # else a longer name that starts with a known one ("清风源" vs 清风): dedupe keeps it
                if len(cand) >= 2:
                    found.append(lex.canonical_competitor(cand))
    found = [n for n in found if n not in mentions or not _integration_only(mentions[n])]
    return dedupe_names(found, threshold=95.0)
