"""Next action and support needed, from the rep's commitments.

The next action is the rep's earliest concrete commitment toward the customer ("明天上午10点前把
返点政策发您"), with its resolved due. Commitments that ask colleagues for help ("我让法务过一遍",
"找陈总批", "报给大区") are internal: they become support requests, not the action. When the rep
commits to nothing, a request the customer makes of the rep ("请于1月20日前提供…") is the action.
When the rep's words leave the object implicit ("好的，今天下午发您"), the action text adds what
the customer asked for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.record_fields.documents import documents_in
from pipelines.record_fields.lexicons import FieldLexicons, normalise_person
from pipelines.record_fields.text import Analysis, Clause, Due, TurnView
from pipelines.record_fields.types import NextAction, SupportRequest

__all__ = ["Commitment", "find_commitments", "extract_next_action", "extract_support"]

# Verbs that move something toward the customer.
_STRONG = re.compile(
    r"发(?!票|现|展|生|布|货款)|寄|传给|提供|回复|答复|回电|回您|回你|打电话|打给|电话给|联系您|联系你|上门|拜访|演示|"
    r"给您|给你|给各位|给大家|发各位|带您|带你|过去|过来|到您|到你|到贵|准时到|送到|送过去|出样|交付|出稿|给到|签合同|见面|去一次|再去|"
    r"过去一趟|过来一趟|跑一趟|来一趟|谈下来|等您|等你|接您|陪您|见您|帮(?:您|你们?)|当面|面谈|面聊|登门|"
    r"[来到去](?:学校|公司|现场|贵司|您这|你们这|厂里|店里|工地|医院|项目部)"
)
_WEAK = re.compile(r"整理|准备|做好|安排|处理|跟进|问问|确认|约|换|调|送|到|去|出|填|签|寄回|核|改|补|跟您|给")
_FIRST_PERSON = re.compile(r"我|咱们|咱|我们|本人")
_DONE = re.compile(r"(?:见面|拜访|开会|沟通|通话|打电话|聊|碰面)(?:的)?(?:时|时候)|今天(?:主要|是来|来是|过来是|就是)|^(?:今天|这次)(?:给|跟|向)(?:大家|各位)|已经(?![^您你我他她的，。\s]{1,4}的)|已(?!经)(?![^您你我他她的，。\s]{1,3}的)|刚刚?|上周|昨天|^之前|前天|上次|去年|刚才|早就|(?:发|给|寄|送|开|做|交)(?:您|你)?(?:邮箱|微信|群里)?了$|"
                   r"(?:拜访|去|见|发|谈|聊|打|送|寄|给|问|查|看)了(?!解)")
_ASKS_CUSTOMER = re.compile(r"请您|麻烦您|您把|您先|(?<![发给帮])您看|您拍|您这边|发我|给我|告诉我|您方便|您帮|帮忙引荐|您直接|(?<!给)您确认|"
                            r"找我|问我|^(?:您|你)(?!放心)|我是|我这边是")
_GENERIC = re.compile(r"随时|一般|通常|平时|^以后|以后(?:有|需要|随时)|每次|每个月|每年|都可以|可以推荐|如果|要是|一直|向来|都是")
_INTERNAL_VERB = re.compile(
    r"申请(?![书表单])|争取|请示|汇报|报给|报到|找|让|催|跟.{0,10}(?:商量|确认|测算|核|沟通|要|申请|争取)|和.{0,8}(?:一起|商量)|"
    r"协调|请.{0,12}(?:批|确认|核|出|支持|帮)|批|核一下|过一遍|需要.{0,8}出"
)
_INTERNAL_PARTY = re.compile(r"领导|老板|公司|总部|财务|法务|技术|质量|品质|产品|供应链|实施|设计|客服|售后|商务|研发|工厂|"
                             r"大区|区域|总监|同事|[\u4e00-\u9fff]总|供应商|仓库|厂家")
_TO_CUSTOMER = re.compile(r"您|你|贵司|贵方|贵院|贵校|客户")
_ONLY_TIME = re.compile(r"^(?:好的?|嗯|行|可以|没问题|那)?[，, ]*$")

# A request the customer makes of the rep.
_CUSTOMER_REQUEST = re.compile(
    r"(?<![申邀])请(?:您|你们?|贵司)?(?:于|在)?.{0,30}?(?:提供|发|回复|答复|递交|提交|确认|回函|回传|传|寄|签回|盖章|反馈|给|联系|安排|报|处理|说法|结清|支付|付清|完成|整改|补充|补齐|补交|补发|出具|更新|送达|送到|送货|交货|到货|发货)|"
    r"麻烦(?:你们?|您)?.{0,20}?(?:发|提供|给|寄|安排|过来|出一?[份个]|写一?[份个]|做一?[份个]|准备|整理|补)|"
    r"(?:贵司|你们|你方|您)(?:需|须|需要|必须|务必|应|应当)(?:在|于)?.{0,20}?(?:完成|提交|提供|注册|办理|补齐|补交|签署|寄回|上传|报名|备案|回复|确认)|"
    r"你们?(?:先|尽快|赶紧)?把.{1,40}?(?:发|给|寄|填|整理|送|带)|"
    r"(?:最好|务必|尽快|抓紧).{0,14}?(?:给|发|提供|回复|到)|"
    r"可以(?:关掉|停掉|取消|注销|关闭)了|给个说法|"
    r"(?:来|过来).{0,6}(?:签|对一下|谈)|"
    r"你们.{0,12}(?:给个|给我个?|出个|发个|排一下)|"
    r"建议(?:你们|贵司|您)?.{0,16}?(?:联系|找|提供|发|准备|申请|报名|参加|对接)"
)
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
_PURPOSE = re.compile(r"确认|看看|商量|沟通|讨论|核对|对一下|把.{1,10}(?:定|敲定)|顺便|一起|说明|介绍|演示|讲")
# "如有疑问，请联系何老师": contact boilerplate, not a request.
_CONTACT = re.compile(r"如有(?:疑问|问题|需要|任何)|有问题随时|联系电话|联系方式")


@dataclass(frozen=True, slots=True)
class Commitment:
    clause: Clause
    text: str
    due: Due | None
    internal: bool


def _is_internal(text: str) -> bool:
    m = _INTERNAL_VERB.search(text)
    if not m:
        return False
    if re.search(r"申请|争取|请示|汇报|报给|催", m.group(0)):
        return True
    return bool(_INTERNAL_PARTY.search(text)) and not re.search(r"(?:给|发|跟|到)(?:您|你)", text)


def _is_commitment(c: Clause) -> bool:
    t = c.text
    if len(t) < 3 or _DONE.search(t) or _ASKS_CUSTOMER.search(t) or _GENERIC.search(t):
        return False
    if re.search(r"[吗？?]$|吗[？?]?$|要不要|是不是|什么|哪[个位些里]|多少|怎么|^(?:看)?能不能|^可不可以|^看能否", t) and not c.times:
        return False
    if _STRONG.search(t):
        return bool(_FIRST_PERSON.search(t) or c.times or not re.search(r"你们|您们", t))
    if _WEAK.search(t) and _FIRST_PERSON.search(t):
        # "我们先把资质和业绩材料准备好": undated, but concrete (it names what).
        return bool(c.times) or bool(re.search(r"把.{2,24}(?:整理|准备|做|填|改)好?", t))
    return False


def _pick_due(times: Sequence[Due]) -> Due | None:
    if not times:
        return None
    deadlines = [d for d in times if d.deadline]
    return min(deadlines or times, key=lambda d: d.sort_key)


def _due_for(view: TurnView, i: int) -> Due | None:
    """The clause's own time, or one said just before it in the same sentence ("明天上午，我把…")."""
    c = view.clauses[i]
    if c.times:
        return _pick_due(c.times)
    if i > 0:
        prev = view.clauses[i - 1]
        # "这样 后天下午三点前 我把方案发您": unpunctuated speech cuts sentences at spaces, so a
        # clause that is only a time, separated by a space, still belongs to the next one.
        only_time = bool(prev.times) and len(prev.text) - sum(len(d.text) for d in prev.times) <= 3 \
            and not view.turn.text[prev.end:c.start].strip()
        if (prev.sentence == c.sentence or only_time) and prev.times and not _STRONG.search(prev.text) \
                and not _INTERNAL_VERB.search(prev.text):
            return _pick_due(prev.times)
    if i + 1 < len(view.clauses):
        nxt = view.clauses[i + 1]
        if nxt.sentence == c.sentence and nxt.times and len(nxt.text) <= len(nxt.times[0].text) + 3:
            return _pick_due(nxt.times)
    return None


# What makes a rep's e-mail internal: a report, a request for approval, a forward, or the
# customer spoken of in the third person ("客户对我们…意见很大").
_REPORT = re.compile(r"汇报|请示|需要.{0,6}支持|请您(?:批|审|定)|批准|审批|^(?:转发|Fw|FW|Fwd)|下面是|"
                     r"客户(?:对|说|反映|那边|这边|表示|提出|要求|的意思|意见|方面)")
_TO_ADDRESSEE = re.compile(r"(?:发|给|交|报|跟|向|和)(?:您|你)|(?:您|你)(?:过目|审|批|定)")


_SENDS = re.compile(r"发|传|给您|给你")


def internal_addressee(analysis: Analysis) -> str | None:
    """The colleague a rep's internal e-mail is addressed to ("王总：…跟您汇报", "李工：下面是客户
    昨晚发来的邮件…"): an e-mail with only the rep's words that opens with a title and reads as
    a report, a request for support or a forward."""
    conv = analysis.conversation
    if conv.format != "eml" or not analysis.turns or any(v.turn.speaker != "rep" for v in analysis.turns):
        return None
    text = analysis.turns[0].turn.text
    m = _SALUTATION.match(text)
    if m is None or not (_REPORT.search(text) or _REPORT.search(conv.subject or "")):
        return None
    return m.group(1)


def find_commitments(analysis: Analysis) -> list[Commitment]:
    """Every commitment the rep makes, internal ones flagged (in a report to the rep's manager,
    whatever goes to "您" is internal too)."""
    out: list[Commitment] = []
    to_manager = internal_addressee(analysis) is not None
    turns = analysis.conversation.turns
    for view in analysis.turns:
        if view.turn.speaker != "rep":
            continue
        sent_next = any(t.kind in ("file", "image") and t.speaker == "rep"
                        for t in turns[view.turn.index + 1:view.turn.index + 3])
        for i, c in enumerate(view.clauses):
            if not _is_commitment(c) and not (_is_internal(c.text) and _FIRST_PERSON.search(c.text)):
                continue
            if sent_next and not c.times and i == len(view.clauses) - 1 and _SENDS.search(c.text):
                continue  # "验收单我发群里" + the file itself: already done
            internal = _is_internal(c.text) or (to_manager and bool(_TO_ADDRESSEE.search(c.text)))
            out.append(Commitment(c, c.text, _due_for(view, i), internal))
    return out


_ASKS_FOR = re.compile(r"发我|给我|发过来|发一下|有没有|有吗|的没|(?:要|需要)(?:一[份个张套]|[份个张]|看看?|你们|贵司|提供)|要求提供|提供|带上|[？?]$|把.{1,30}?(?:发|给|寄|传|带|填)|出一?[个份]")


def _requests(analysis: Analysis, before: int, lex: FieldLexicons, lookback: int = 3) -> tuple[list[str], bool]:
    """What the customer asked for in the turns before ``before``: (documents or else request
    clauses, whether they are documents)."""
    docs: list[str] = []
    clauses: list[str] = []
    for view in reversed(analysis.turns[max(0, before - lookback):before]):
        if view.turn.speaker == "rep":
            if docs or clauses:
                break
            continue
        for c in view.clauses:
            asks = _CUSTOMER_REQUEST.search(c.text) or _ASKS_FOR.search(c.text)
            if not asks:
                continue
            found = [d.name for d in documents_in(c.sentence_text, lex, require_context=False)]
            if found:
                docs.extend(found)
            elif _CUSTOMER_REQUEST.search(c.text):
                clauses.append(c.text)
    if docs:
        return list(dict.fromkeys(docs)), True
    return list(dict.fromkeys(clauses)), False


def _with_object(analysis: Analysis, c: Clause, lex: FieldLexicons) -> str:
    """The action text: the clause, the clauses before it in the turn that name the object, and what
    the customer had asked for when the rep's words leave it out."""
    view = analysis.turns[c.position]
    idx = next(i for i, x in enumerate(view.clauses) if x.start == c.start)
    lo = idx
    while lo > 0:
        prev = view.clauses[lo - 1]
        if _is_commitment(prev) or _is_internal(prev.text) or idx - lo >= 2 \
                or _SENTENCE_END.search(view.turn.text[prev.end:view.clauses[lo].start]):
            break
        lo -= 1
    hi = idx
    if idx + 1 < len(view.clauses):
        # "我周二上午给您打个电话，确认具体的线路安排": the purpose belongs to the action.
        nxt = view.clauses[idx + 1]
        if nxt.sentence == c.sentence and len(nxt.text) <= 16 and not _is_commitment(nxt) \
                and not _is_internal(nxt.text) and not nxt.times and _PURPOSE.match(nxt.text):
            hi = idx + 1
    have = [d.name for d in documents_in(view.turn.text[view.clauses[lo].start:c.end], lex, require_context=False)]
    if not have:
        # "我让技术部出一份迁移方案，后天下午三点前发您": the object sits in an earlier clause.
        for j in range(lo - 1, max(-1, lo - 4), -1):
            if _SENTENCE_END.search(view.turn.text[view.clauses[j].end:view.clauses[j + 1].start]):
                break
            found = [d.name for d in documents_in(view.clauses[j].text, lex, require_context=False)]
            if found:
                lo, have = j, found
                break
    text = view.turn.text[view.clauses[lo].start:view.clauses[hi].end]
    text = re.sub(r"\s*\n\s*", " ", text).strip()
    text = re.sub(r"^(?:好的|好嘞|好|嗯|行|可以的?|没问题|明白了?|收到了?)[，,！!。 ]*", "", text) or text
    wanted, are_docs = _requests(analysis, c.position, lex)
    if not are_docs and (have or len(view.turn.text[view.clauses[lo].start:c.end]) > 14):
        wanted = []  # a request in words only matters when the rep's words name nothing
    if not have and not wanted:
        # "那我做一个公铁联运的方案" … "你们什么时候能给" … "后天上午十点前发您": the rep named it before.
        for prev_view in reversed(analysis.turns[max(0, c.position - 3):c.position]):
            if prev_view.turn.speaker == "rep":
                wanted = [d.name for d in documents_in(prev_view.turn.text, lex)]
                if wanted:
                    break
    missing = [w for w in wanted if not any(w in h or h in w for h in have) and w not in text]
    if missing:
        text += "（" + "、".join(missing[:4]) + "）"
    return text


def _refine_due(analysis: Analysis, c: Clause, due: Due | None) -> Due | None:
    """The customer's answer can pin the time down ("明天上午" -> "你们9点前到"), or set it when the
    rep said none."""
    for view in analysis.turns[c.position + 1: c.position + 3]:
        if view.turn.speaker == "rep":
            continue
        for d in view.times:
            if due is None and d.deadline:
                return d
            if due is not None and due.clock is None and d.clock is not None and d.day == due.day and d.deadline:
                return d
    return due


def _customer_action(analysis: Analysis, lex: FieldLexicons) -> NextAction | None:
    """A request the customer makes of the rep, the one due first (else the first undated one)."""
    best: tuple[tuple[int, object], NextAction] | None = None
    for view in analysis.turns:
        if view.turn.speaker == "rep":
            continue
        for c in view.clauses:
            m = _CUSTOMER_REQUEST.search(c.text)
            if not m or re.search(r"如果|要是|若|的话", c.text[:m.start()]) or _CONTACT.search(c.sentence_text):
                continue
            due = _pick_due(c.times)
            if due is None:  # "请你们把…整理好，下周一上午九点到项目部来对一下"
                due = _pick_due([d for x in view.clauses if x.sentence == c.sentence for d in x.times if d.deadline])
            text = c.sentence_text.strip() if len(c.text) < 12 else c.text.strip()
            if not documents_in(text, lex, require_context=False) \
                    and documents_in(c.sentence_text, lex, require_context=False):
                text = c.sentence_text.strip()
            text = re.sub(r"\s*\n\s*", " ", text)
            docs = [d.name for d in documents_in(view.turn.text, lex) if d.name not in text]
            if docs:  # what the customer asked for earlier in the message
                text += "（" + "、".join(dict.fromkeys(docs[:5])) + "）"
            action = NextAction(text=text, due=due.iso() if due else None, turn=c.turn)
            key = (0, due.sort_key) if due else (1, (c.position, c.start))
            if best is None or key < best[0]:
                best = (key, action)
    return best[1] if best else None


def extract_next_action(analysis: Analysis, lex: FieldLexicons,
                        commitments: Sequence[Commitment] | None = None) -> NextAction | None:
    """The rep's earliest concrete commitment toward the customer; else the customer's request."""
    commitments = find_commitments(analysis) if commitments is None else commitments
    toward = [k for k in commitments if not k.internal]
    if not toward:
        action = _customer_action(analysis, lex)
        if action is not None:
            return action
        # Only internal steps ("我跟陈总汇报一下，看能不能免租金"): the rep's next step is still that.
        toward = [k for k in commitments if _FIRST_PERSON.search(k.text)]
    if toward:
        dated = [k for k in toward if k.due is not None]
        if dated:
            chosen = min(dated, key=lambda k: (k.due.sort_key, k.clause.position, k.clause.start))  # type: ignore[union-attr]
        else:
            with_object = [k for k in toward if documents_in(k.text, lex, require_context=False)]
            chosen = (with_object or toward)[0]
        due = _refine_due(analysis, chosen.clause, chosen.due)
        return NextAction(text=_with_object(analysis, chosen.clause, lex), due=due.iso() if due else None,
                          turn=chosen.clause.turn)
    return None


# ---------------------------------------------------------------- support needed

_PERSON_AFTER_DEPT = re.compile(r"^(?:的|那边的|的同事)?((?:小|老)[\u4e00-\u9fff]|[\u4e00-\u9fff]{1,2}(?:工程师|工|总|经理|主管|总监|老师|姐|哥))")
_MANAGER = re.compile(r"(?:找|请示|报给|汇报给?|让|得|要|需要|问问|向|跟我们|和我们|我们)的?([\u4e00-\u9fff]总)(?:批|签|审批|同意|拍板|确认|那边)?|"
                      r"([\u4e00-\u9fff]总)(?:批|审批|签字|同意|拍板)|"
                      r"(?:跟|和|向)([\u4e00-\u9fff]总)(?:申请|请示|汇报|争取|商量|要)")
# Our own factory or warehouse, when the rep turns to it ("我去跟工厂协调一下").
_OWN_SITE = re.compile(r"(?:跟|找|让|问问|催|和|协调|安排)(?:我们|咱们)?的?(工厂|生产线?|车间|仓库|物流)")
# "带我们售后经理过来": a department's manager.
_DEPT_TITLE = re.compile(r"(技术|售前|解决方案|售后|质量|品质|财务|法务|产品|实施|交付|客服|商务|研发|供应链|物流|市场|设计|生产)"
                         r"(经理|主管|总监|负责人|顾问|专家|团队)")
# "我让我们知识产权部整理一下": a department the lexicon does not list.
_ANY_DEPT = re.compile(r"(?:让|找|请|跟|和|问问|协调|安排|需要|得)(?:我们|咱们|公司)的?([\u4e00-\u9fff]{2,6}?(?:部门|部|中心))")
# "我让我们应用工程师小董明天过去": an engineer the rep sends is 技术部.
_ENGINEER = re.compile(r"(?:让|安排|派|请|找|带)(?:我们|咱们)?的?[\u4e00-\u9fff]{0,4}?工程师((?:小|老)[\u4e00-\u9fff]|[\u4e00-\u9fff]工)?")
# "我把我们实施的刘工也带上", "让售后的小马过去": a colleague named after their department.
_DEPT_PERSON = re.compile(r"(?:我们|咱们|公司|让|带|派|安排|叫|请|找|跟|和)(?:我们|咱们)?的?"
                          r"(技术|实施|售后|质量|品质|质检|财务|法务|产品|研发|设计|交付|客服|商务|供应链|物流|生产|工程|售前)"
                          r"(?:部|部门|中心)?的(?:同事)?((?:小|老)[\u4e00-\u9fff]|[\u4e00-\u9fff]{1,2}(?:工程师|工|总|经理|主管|总监|老师))")
# "财务那边我去催一下": the rep's own ask after the department.
_SELF_ASKS = re.compile(r"(?:我|我们)(?:这边|回去|马上|今天|明天)?(?:再|去|来)?(?:催|问|申请|协调|确认|沟通|商量|找|请示|汇报|安排)")
# "我们技术部的吕工下周过来做培训": a colleague the rep sends to the customer.
_COLLEAGUE_COMES = re.compile(r"^(?:的|那边的?)?(?:同事|[\u4e00-\u9fff]{1,3}?(?:工|总|经理|主管|老师)|小[\u4e00-\u9fff])?"
                              r"(?:会|也会|下周|明天|今天|后天|周[一二三四五六日])?(?:一起)?(?:过来|过去|上门|到现场|来一趟|去一趟|跟您对接|联系您|给您)")
# "我让技术今天排查一下": a department named bare, then what it should do.
_BARE_DEPT_ASK = re.compile(r"(?:让|找|请|叫|安排)(?:我们|咱们)?的?(技术|售后|财务|法务|质检|品质|实施|设计|客服|物流|仓库)(?!部)"
                            r"(?:那边|同事)?(?:今天|明天|马上|尽快|这边|先)?(?:排查|看|查|处理|评估|确认|出|做|跟进|联系|核|审|过|修)")
# "人工费我去跟我们经理申请": an unnamed manager of the rep.
_OWN_MANAGER = re.compile(r"(?:(?:跟|找|向|请|问|让|和)(?:我们|咱们|我)的?(经理|领导|上级|主管|部门经理|销售经理)"
                          r"(?:申请|批|请示|汇报|确认|商量|沟通|特批|审批|同意|能不能|可不可以|看能不能|看看)|"
                          r"(?:问问|问一下|请示|请示一下)(?:我们|咱们)的?(经理|领导|上级|主管|部门经理|销售经理))")
# "我去跟老板争取一下": the rep's own boss, asked alone (not "跟财务和老板申请").
_OWN_BOSS = re.compile(r"(?:我|我们)(?:这边)?(?:去|来|再|回去|先|得|要)?(?:跟|找|向|问问?|请示)(?:一下)?(?:我们)?(老板|领导)(?:争取|申请|请示|汇报|商量|批|确认|特批|要|$)|"
                       r"(?:请示|问问|问一下)(?:一下)?(?:我们)?(老板|领导)|"
                       r"(?:得|要|需要|还得)(?:我们)?(老板|领导)(?:批|签字|同意|点头|拍板|特批)")
# "安排宋工带新刀片到现场": an engineer (X工) the rep sends is 技术部.
_SENDS_ENGINEER = re.compile(r"(?:让|安排|派|请|叫)(?:我们|咱们)?的?([\u4e00-\u9fff]工)(?=带|过|去|来|到|上门|远程|跟|给|做|出|帮|现场|明天|今天|后天|下午|上午)")
# "…，最好周三前给我": the deadline of a request to a colleague, said in the next clause.
_ASK_DEADLINE = re.compile(r"^(?:最好|务必|尽量|请|争取|麻烦|希望)?.{0,10}(?:前|之前|以前)(?:给我|发我|回我|给到我|出来|反馈|答复|确认)")
# "我让维保的师傅明天下午过去检查": staff named by their trade.
_DEPT_STAFF = re.compile(r"(?:让|派|安排|叫|请|带)(?:我们|咱们)?的?(维保|维修|安装|售后|技术|实施|质检|品质|设计)(?:部|部门)?的?"
                         r"(?:师傅|同事|工程师|人员|团队|人)")
_STAFF_DEPT = {"维保": "售后部", "维修": "售后部", "安装": "售后部", "售后": "售后部", "技术": "技术部", "实施": "实施部",
               "质检": "质量部", "品质": "质量部", "设计": "设计部"}
# What a rep says when turning to a colleague.
_ASKS_COLLEAGUE = re.compile(r"让|找|请|跟|和|同|问|申请|协调|安排|需要|汇报|报给|报到|催|确认|商量|沟通|联系|带|叫|派|"
                             r"拉上|转给|交给|提交|审|批|出一?[份个版]|核|评估|测算|支持|帮")
_SITE_DEPT = {"工厂": "生产部", "生产": "生产部", "生产线": "生产部", "车间": "生产部", "仓库": "供应链部", "物流": "供应链部"}
_CUSTOMER_SIDE = re.compile(r"(?:你们|您们|贵司|贵方|贵|您|你|他们|客户)(?:公司|集团|单位|厂|院|校)?(?:的|那边的?|这边的?)?$")
_SALUTATION = re.compile(r"^\s*([\u4e00-\u9fff]{1,3}(?:总|经理|总监|工)|(?:小|老)[\u4e00-\u9fff]|[\u4e00-\u9fff]{1,2}(?:姐|哥))[：:，,]")
_ASKS_ADDRESSEE = re.compile(r"请您|您批|麻烦您|请领导|请批|麻烦你|请你|你帮|帮我|给我(?:一个|一份|个|份)|"
                             r"(?:需要|得|要)?您(?:这边|那边)?(?:批|审|定|签|帮|确认|支持|拍板|特批)")


def _addressee_department(analysis: Analysis, lex: FieldLexicons, addressee: str) -> str | None:
    """The department of the colleague an internal e-mail is addressed to: named in the subject or
    next to the request ("合同条款请法务帮忙审核"), else read from the title (X工 is technical, X总 or
    a manager is sales management)."""
    if addressee.endswith("工"):
        return lex.canonical_department("技术部") or "技术部"
    if re.search(r"总|经理|总监", addressee):
        return lex.canonical_department("销售部") or "销售部"
    conv = analysis.conversation
    if lex.department_re is not None:
        m = lex.department_re.search(conv.subject or "")
        if m is not None:
            return lex.canonical_department(m.group(0))
        for c in (analysis.turns[0].clauses if analysis.turns else ()):
            m = lex.department_re.search(c.text)
            if m is not None and re.search(r"麻烦你|请你|你帮|帮我", c.text):
                return lex.canonical_department(m.group(0))
    return None


def extract_support(analysis: Analysis, lex: FieldLexicons,
                    commitments: Sequence[Commitment] | None = None) -> tuple[SupportRequest, ...]:
    """Help the rep asks of colleagues: department (normalised), person, request, due."""
    found: dict[str, SupportRequest] = {}
    order: list[str] = []

    def add(dept: str | None, person: str | None, c: Clause, due: Due | None) -> None:
        key = (dept or person or "").split("（")[0]
        if not key:
            return
        person = normalise_person(person) if person else None
        old = found.get(key)
        if old is None:
            found[key] = SupportRequest(dept, person, c.text.strip(), due.iso() if due else None, c.turn)
            order.append(key)
        elif old.person is None and person:
            found[key] = SupportRequest(old.department, person, old.request, old.due or (due.iso() if due else None),
                                        old.turn)

    dept_re = lex.department_re
    addressee = internal_addressee(analysis)  # a rep writing to a colleague or their own manager
    addressee_dept = _addressee_department(analysis, lex, addressee) if addressee else None

    for view in analysis.turns:
        if view.turn.speaker != "rep":
            continue
        for i, c in enumerate(view.clauses):
            text = c.text
            if re.search(r"我是|我这边是", text) or _DONE.search(text):
                continue
            due = _due_for(view, i)
            if due is None and i + 1 < len(view.clauses):
                nxt = view.clauses[i + 1]
                if nxt.sentence == c.sentence and nxt.times and _ASK_DEADLINE.match(nxt.text):
                    due = _pick_due(nxt.times)
            dept_spans: list[tuple[int, int]] = []
            asks_any = bool(_ASKS_COLLEAGUE.search(text))
            if dept_re is not None:
                for m in dept_re.finditer(text):
                    dept_spans.append(m.span())
                    if _CUSTOMER_SIDE.search(text[max(0, m.start() - 6):m.start()]):
                        continue
                    if not (asks_any and (_ASKS_COLLEAGUE.search(text[:m.start()]) or _SELF_ASKS.search(text[m.end():]))) \
                            and not _COLLEAGUE_COMES.match(text[m.end():]):
                        continue  # "财务那边在核", "财务周四前能打款": news about a department, not a request
                    alias = m.group(0)
                    dept = lex.canonical_department(alias)
                    if dept and re.search(r"(?:部|中心)$", alias) and alias not in dept and dept not in alias:
                        dept = f"{dept}（{alias}）"  # "技术部（研发部）": normalised, and as the rep named it
                    person = None
                    pm = _PERSON_AFTER_DEPT.match(text[m.end():])
                    if pm:
                        person = pm.group(1)
                    elif alias in lex.manager_titles:
                        person = alias
                    add(dept, person, c, due)
            for m in _MANAGER.finditer(text):
                name = m.group(1) or m.group(2) or m.group(3)
                if _CUSTOMER_SIDE.search(text[max(0, m.start() - 4):m.start()]):
                    continue
                add(lex.canonical_department("销售部") or "销售部", name, c, due)
            for m in _OWN_MANAGER.finditer(text):
                g = 1 if m.group(1) else 2
                if not any(a <= m.start(g) < b for a, b in dept_spans):
                    add(lex.canonical_department("销售部") or "销售部", m.group(g), c, due)
                    dept_spans.append(m.span(g))
            for m in _BARE_DEPT_ASK.finditer(text):
                if not any(a < m.end(1) and m.start(1) < b for a, b in dept_spans):
                    word = _STAFF_DEPT.get(m.group(1)) or {"财务": "财务部", "法务": "法务部", "客服": "客服部",
                                                           "物流": "供应链部", "仓库": "供应链部"}.get(m.group(1), m.group(1) + "部")
                    add(lex.canonical_department(word) or word, None, c, due)
                    dept_spans.append(m.span(1))
            for m in _DEPT_STAFF.finditer(text):
                if not any(a < m.end(1) and m.start(1) < b for a, b in dept_spans):
                    add(lex.canonical_department(_STAFF_DEPT.get(m.group(1), m.group(1) + "部"))
                        or _STAFF_DEPT.get(m.group(1), m.group(1) + "部"), None, c, due)
                    dept_spans.append(m.span(1))
            for m in _OWN_BOSS.finditer(text):
                g = next(i for i in (1, 2, 3) if m.group(i))
                if not dept_spans and not any(k for k in found if k != "销售部"):
                    add(lex.canonical_department("销售部") or "销售部", m.group(g), c, due)
                    dept_spans.append(m.span(g))
            for m in _SENDS_ENGINEER.finditer(text):
                if not any(a < m.end(1) and m.start(1) < b for a, b in dept_spans):
                    add(lex.canonical_department("技术部") or "技术部", m.group(1), c, due)
                    dept_spans.append(m.span(1))
            for m in _OWN_SITE.finditer(text):
                add(_SITE_DEPT[m.group(1)], None, c, due)
            for m in _DEPT_TITLE.finditer(text):
                if _CUSTOMER_SIDE.search(text[max(0, m.start() - 6):m.start()]):
                    continue
                if not any(a <= m.start() and m.end() <= b for a, b in dept_spans):
                    dept = lex.canonical_department(m.group(1) + "部") or m.group(1) + "部"
                    add(dept, m.group(0), c, due)
                    dept_spans.append(m.span())
            for m in _DEPT_PERSON.finditer(text):
                if _CUSTOMER_SIDE.search(text[max(0, m.start() - 6):m.start()]):
                    continue
                if not any(a < m.end(1) and m.start(1) < b for a, b in dept_spans):
                    word = m.group(1)
                    dept = lex.canonical_department(word + "部") or lex.canonical_department(word) or word + "部"
                    add(dept, m.group(2), c, due)
                    dept_spans.append(m.span())
            for m in _ANY_DEPT.finditer(text):
                if not any(a < m.end(1) and m.start(1) < b for a, b in dept_spans):
                    pm = _PERSON_AFTER_DEPT.match(text[m.end():])
                    add(lex.canonical_department(m.group(1)) or m.group(1), pm.group(1) if pm else None, c, due)
            for m in _ENGINEER.finditer(text):
                if not any(a < m.end() and m.start() < b for a, b in dept_spans):
                    add("技术部", m.group(1), c, due)
            if addressee and addressee_dept and _ASKS_ADDRESSEE.search(text):
                add(addressee_dept, addressee, c, due)
    return tuple(found[k] for k in order)
