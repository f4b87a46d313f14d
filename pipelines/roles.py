"""Who is speaking: rep or customer, from content alone.

Used when the format carries no speaker labels (unlabelled call transcripts, mono recordings)
or no usable address (e-mails from unknown domains). Each utterance gets a cue score (a rep
introduces themselves, offers, promises to send; a customer asks the price, objects, speaks of
"你们"), and a two-state Viterbi pass with a strong alternation prior turns scores into roles:
a dialogue mostly alternates, and a cue-less turn ("行", "好的") takes the role that alternation
implies. Every role decided here is reported as inferred.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from pipelines.conversation import Speaker

__all__ = ["cue_score", "infer_roles"]

# fmt: off
# (pattern, weight): positive means the rep says it, negative the customer.
_CUES: tuple[tuple[str, float], ...] = (
    # the rep introduces themselves / their company at the start of a call
    (r"我是.{0,12}(公司|科技|集团|供应链|医疗|智能|物流|的小|销售|经理|顾问)", 2.5),
    (r"^(喂|您好|你好)?.{0,6}(总|经理|科长|主任|老师|工)?(您好|你好).{0,4}我是", 2.0),
    (r"我是.{0,10}的小[\u4e00-\u9fff]", 2.5),  # reps introduce themselves as 小X
    (r"^(喂\s*)?(是|请问是).{1,12}的吗", -3.0),  # the caller asks whether this is the vendor
    (r"我是.{1,12}的.{0,2}(经理|主任|厂长|科长|老师|院长|校长|总)", -1.0),
    (r"(各位|两位)(领导|老师|老总)?好", 1.5),  # the rep opening a meeting
    (r"(汇报|介绍)一下.{0,6}(方案|产品|我们)", 1.5),
    # the rep serves, offers, promises
    (r"(给您|帮您|为您|跟您|向您)", 1.2),
    (r"(发您|发给您|发到您|给您发|给您打电话|给您回电)", 2.0),
    (r"(我这边|我们这边)(先|马上|尽快|去|再|帮|给|申请|安排)", 1.2),
    (r"(我去|我回去|我再去|我跟公司|我跟领导|我向公司)(申请|问|争取|确认|看看|汇报)", 1.6),
    (r"您(看|觉得|那边|这边|一个月|大概|需要|方便)", 0.9),
    (r"(我们|咱们)的(产品|方案|设备|系统|服务|报价)", 0.8),
    (r"(报价单|方案|资料|样品|合同).{0,6}(发|寄|送)(您|给您|过去)", 1.5),
    (r"(请问|请教).{0,8}您", 0.8),
    (r"^(明白|理解|了解|好的好的|没问题)[，,。 ]", 0.6),
    (r"(实在)?抱歉|不好意思|给您添麻烦", 1.2),
    (r"(您|贵司)(昨天|上次|之前|前面)?(问到|提到|咨询|关心)的", 2.0),  # answering the customer's questions
    (r"(答复|回复|说明)如下", 1.0),
    (r"^(您说|您放心|这个您放心)", 2.0),
    (r"(我让|我带|我叫|我请)(我们|咱们)?.{0,6}(部|工|经理|同事|师傅|技术|售后|售前)", 1.8),
    (r"我(明天|后天|今天|下周.|周.|马上|回去|这边).{0,12}(发您|给您|送过去|过去|到现场|回电话|回复|确认|答复)", 1.8),
    # the customer weighs, objects, asks about price and terms
    (r"你们", -1.2),
    (r"(太贵|偏高|贵了|便宜|降价|优惠|折扣|返点).{0,6}", -0.6),
    (r"(多少钱|什么价|报个价|怎么卖|价格多少)", -1.2),
    (r"(我们|我这边).{0,6}(领导|老板|预算|采购|招标|考虑|目标价|内部)", -1.0),
    (r"(别家|其他家|另一家|人家).{0,10}(报价|价格|便宜|给)", -1.5),
    (r"^(行|嗯|哦|好吧|可以)[，,。 ]?(你|就|那)", -0.6),
    (r"(你尽快|你们动作|给我个|你先|你把)", -1.2),
    (r"(我们|公司)(要求|规定|制度)", -0.8),
    (r"(给我|发我|发给我)(一份|一个|个)?", -1.2),
    (r"(什么价|多少价|怎么收费|能接受吗|能做到吗|能保证吗|能送到吗|有网点吗)", -1.0),
    (r"(我们|我这边)(老板|领导|主任|科室|财务|采购|集团|工厂|车间|学校|医院)", -0.8),
    (r"(投诉|不满意|不对|压力很大|没法|受影响|扣款|下架)", -0.8),
    (r"(预算|资金|钱).{0,6}(紧|不够|用完|砍|压力|没批|没到位)", -1.0),
    (r"你(带|尽快|先|把|们)", -0.8),
)
# How a turn opens tells whether the same person goes on (不过…, 另外…) or answers (好的…).
_CONTINUES = re.compile(r"^(不过|还有|另外|而且|因为|所以|但是|但|然后|况且|其实|主要是|就是说|再一个|再说|此外|对了)")
_ANSWERS = re.compile(r"^(好的|好|明白|理解|了解|行|可以|没问题|对|嗯|是的|收到|谢谢|哦)")
_ASKS = re.compile(r"([？?]|吗|呢|么|没有|不行|可以吗|能不能[^，。]*)\s*$")
# fmt: on

_COMPILED = tuple((re.compile(p), w) for p, w in _CUES)
# In speech the rep says 您 and the customer 你; formal written customers say 您 too.
_SPEECH_ONLY = ((re.compile(r"您"), 0.5), (re.compile(r"(?<![您你])你(?![们好])"), -0.5))
_SWITCH = 0.75  # a dialogue mostly alternates


def cue_score(text: str, *, speech: bool = True) -> float:
    """Positive when the text sounds like the rep, negative like the customer.

    Args:
        speech: spoken turns (calls, chats) also weigh 您 against 你; written mail does not.
    """
    cues = _COMPILED + _SPEECH_ONLY if speech else _COMPILED
    return sum(w for rx, w in cues if rx.search(text))


def infer_roles(texts: Sequence[str], *, first: Speaker | None = None) -> tuple[Speaker, ...]:
    """Assign ``rep``/``customer`` to each utterance.

    Args:
        texts: utterances in order.
        first: the known role of the first utterance, if any.

    Returns:
        One role per utterance.
    """
    n = len(texts)
    if n == 0:
        return ()
    states: tuple[Speaker, Speaker] = ("rep", "customer")

    def switch_p(i: int) -> float:
        if _CONTINUES.match(texts[i]):
            return 0.3
        if _ASKS.search(texts[i - 1]) or _ANSWERS.match(texts[i]):
            return 0.88
        return _SWITCH

    def emit(i: int, s: int) -> float:
        score = cue_score(texts[i])
        p_rep = 1.0 / (1.0 + math.exp(-score))
        p = p_rep if s == 0 else 1.0 - p_rep
        return math.log(max(p, 1e-6))

    # A sales call is usually opened by the rep, who placed it.
    prior = (0.0, -math.inf) if first == "rep" else (-math.inf, 0.0) if first == "customer" \
        else (math.log(0.65), math.log(0.35))
    score = [prior[s] + emit(0, s) for s in (0, 1)]
    back: list[tuple[int, int]] = []
    for i in range(1, n):
        new, ptr = [0.0, 0.0], [0, 0]
        p = switch_p(i)
        log_switch, log_stay = math.log(p), math.log(1 - p)
        for s in (0, 1):
            stay = score[s] + log_stay
            switch = score[1 - s] + log_switch
            ptr[s] = s if stay >= switch else 1 - s
            new[s] = max(stay, switch) + emit(i, s)
        back.append((ptr[0], ptr[1]))
        score = new
    state = 0 if score[0] >= score[1] else 1
    path = [state]
    for ptr in reversed(back):
        state = ptr[state]
        path.append(state)
    path.reverse()
    return tuple(states[s] for s in path)
