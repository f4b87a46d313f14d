"""Chinese time expressions: find them in chat text and resolve them against the interaction time.

The CRM record needs ``next_action.due`` and ``support_needed[].due`` as either a full
``YYYY-MM-DDTHH:MM:SS+08:00`` (a clock time was said: "明天上午10点前") or a bare date ("周五下班前",
"月底前"). This module finds every time expression in a message (``find_times``) and resolves it
against a reference datetime (the interaction's ``occurred_at``), with the conventions of
``shared/eval/README.md`` §1.4 (issue 4):

* Monday starts a week. A bare 周X resolves to this week's X, or next week's once X has passed
  (today still counts); 这周X/本周X is always this week's, 下周X the following calendar week,
  上周X the previous one. Past times (上周五, 昨天) resolve to the past; they are just not deadlines.
* A span resolves to its conventional due day and has ``granularity == "period"``: a week (下周,
  本周内, 春节后第一周) its Friday, a month (下个月, 3月份) its last day, 月初 the 5th, 月中 the 15th,
  上旬/中旬 the 10th/20th, a quarter or half year (一季度, 下半年) its last day. 月底/年底 are dates.
  周末前 is the Friday.
* N个工作日内 counts Monday–Friday after the reference date (statutory holidays and make-up
  working days are ignored: the convention of the labelled data). N天内/一周内/N个月内 add
  calendar days/months; N小时内 is a datetime.
* 中午 is 12:00; 上午/下午/下班前 without a clock time give the date only; 24:00 and 晚上12点
  are the midnight ending the day.
* A clock hour without 上午/下午 is read in business hours: 1–6 → 13–18 h, 7–12 as said. Colon
  times (3:00, 15:00) are 24-hour.
* A month/day without a year takes the nearest occurrence unless that lies more than four months
  back (12月29号 said on 7 January is last year's; 9月30日 said in March is this year's); for a
  deadline the window is a month. A bare N号 is the nearest such day unless more than a week
  back (then next month's); a bare N号 deadline is never in the past.
* A bare day or weekday continues the expression before it: 下周二或周三, 周三到周五, 3、4号,
  下周吧，周一 (right after a bare week or month, it falls inside it). A range is one mention
  resolved at its end. A clock time with no day of its own takes the day said earlier in the
  same sentence (明天上午我在，你们9点前到 → tomorrow 09:00); otherwise it is today.
* 年前/春节前 is the eve of the Spring Festival; 年后/节后 is a period ending the Friday of the first
  working week after the holiday (the week holding the first working day, or the next week when
  that day is a Thursday or later). Spring Festival, Dragon Boat and Mid-Autumn dates are
  tabulated for 2020–2035 (lunar dates cannot be computed cheaply); Qingming uses the solar-term
  formula; 正月初N/正月十五/除夕 count from the Spring Festival. Holidays outside the table are not
  resolved (no mention).
* 尽快/马上/改天 carry no date and are *not* mentions (the record builder leaves ``due`` null).
  Other lunar dates (腊月十八), recurring times (每周二), bare durations without 内/后/前 (三天,
  三年的客户) and M.D dates (9.4, too close to prices) are not mentions either.

The scanner is a single alternation regex producing *atoms* (a year, a month, a day, a part of the
day, a clock time, a holiday, a duration); adjacent atoms in the natural order
``year < month < day < part of day < clock`` chain into one mention, and a trailing 前/之前/内/后
marks deadlines. Atoms that are ambiguous on their own (三点, 15日) need a neighbour or a suffix,
which keeps prices ("3个点", "便宜一点") and quantities out.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

__all__ = ["Granularity", "TimeMention", "find_times", "resolve_time", "spring_festival"]

Granularity = Literal["datetime", "date", "period"]


@dataclass(frozen=True, slots=True)
class TimeMention:
    """One resolved time expression.

    Attributes:
        text: the exact substring of the input.
        start: offset of ``text`` in the input (code points).
        end: end offset (exclusive).
        value: the resolved time in the reference's timezone. For ``date`` granularity it is
            00:00 of that day; for a ``period`` it is the period's conventional due day (the
            Friday of a week, the last day of a month).
        granularity: ``datetime`` when a clock time was given, ``date`` for a day, ``period``
            for a span (a week, a month, "after the holiday").
        deadline: the expression is a due-by ("前/之前/以前/内/之内/为止", "下班前", "最迟…").
    """

    text: str
    start: int
    end: int
    value: datetime
    granularity: Granularity
    deadline: bool

    def due(self) -> str:
        """The due as the CRM record wants it: full ISO with offset for clock times, else a date."""
        if self.granularity == "datetime":
            return self.value.isoformat(timespec="seconds")
        return self.value.date().isoformat()


# --- calendars ---------------------------------------------------------------------------------

# Gregorian dates of the first day of the lunar year (春节), 端午 (5/5) and 中秋 (8/15), 2020–2035.
_SPRING_FESTIVAL: dict[int, tuple[int, int]] = {
    2020: (1, 25), 2021: (2, 12), 2022: (2, 1), 2023: (1, 22), 2024: (2, 10), 2025: (1, 29),
    2026: (2, 17), 2027: (2, 6), 2028: (1, 26), 2029: (2, 13), 2030: (2, 3), 2031: (1, 23),
    2032: (2, 11), 2033: (1, 31), 2034: (2, 19), 2035: (2, 8),
}  # fmt: skip
_DRAGON_BOAT: dict[int, tuple[int, int]] = {
    2020: (6, 25), 2021: (6, 14), 2022: (6, 3), 2023: (6, 22), 2024: (6, 10), 2025: (5, 31),
    2026: (6, 19), 2027: (6, 9), 2028: (5, 28), 2029: (6, 16), 2030: (6, 5), 2031: (6, 24),
    2032: (6, 12), 2033: (6, 1), 2034: (6, 20), 2035: (6, 10),
}  # fmt: skip
_MID_AUTUMN: dict[int, tuple[int, int]] = {
    2020: (10, 1), 2021: (9, 21), 2022: (9, 10), 2023: (9, 29), 2024: (9, 17), 2025: (10, 6),
    2026: (9, 25), 2027: (9, 15), 2028: (10, 3), 2029: (9, 22), 2030: (9, 12), 2031: (10, 1),
    2032: (9, 19), 2033: (9, 8), 2034: (9, 27), 2035: (9, 16),
}  # fmt: skip


def spring_festival(year: int) -> date | None:
    """The Gregorian date of the Spring Festival (正月初一) of ``year``, 2020–2035, else None."""
    md = _SPRING_FESTIVAL.get(year)
    return date(year, *md) if md else None


def _qingming(year: int) -> date:
    # Solar-term formula for the 21st century: day = floor(Y*0.2422 + 4.81) - floor(Y/4), Y = year % 100.
    y = year % 100
    return date(year, 4, int(y * 0.2422 + 4.81) - y // 4)


_HOLIDAY_KEYS = {
    "春节": "cny", "过年": "cny", "元旦": "newyear", "清明": "qingming", "清明节": "qingming",
    "五一": "labour", "劳动节": "labour", "端午": "dragon", "端午节": "dragon", "中秋": "midautumn",
    "中秋节": "midautumn", "国庆": "national", "国庆节": "national", "十一": "national",
    "元宵": "lantern", "元宵节": "lantern", "圣诞": "christmas", "圣诞节": "christmas",
}  # fmt: skip


def _holiday(key: str, year: int) -> tuple[date, date] | None:
    """(the holiday's day, the last day off) in ``year``; approximations of the usual schedule."""
    if key == "newyear":
        return date(year, 1, 1), date(year, 1, 1)
    if key == "labour":
        return date(year, 5, 1), date(year, 5, 5)
    if key == "national":
        return date(year, 10, 1), date(year, 10, 7)
    if key == "christmas":
        return date(year, 12, 25), date(year, 12, 25)
    if key == "qingming":
        d = _qingming(year)
        return d, d
    if key in ("cny", "lantern"):
        sf = spring_festival(year)
        if sf is None:
            return None
        if key == "lantern":
            return sf + timedelta(14), sf + timedelta(14)
        return sf, sf + timedelta(6)  # 初一–初六 off (除夕 too); work resumes around 初七/初八
    table = _DRAGON_BOAT if key == "dragon" else _MID_AUTUMN
    md = table.get(year)
    if md is None:
        return None
    d = date(year, *md)
    return d, d


def _next_occurrence(key: str, today: date) -> tuple[date, date] | None:
    """The occurrence of a holiday whose days off have not ended before ``today``."""
    for year in (today.year - 1, today.year, today.year + 1):
        span = _holiday(key, year)
        if span is not None and span[1] >= today:
            return span
    return None


def _first_working_day_after(d: date) -> date:
    d += timedelta(1)
    while d.weekday() >= 5:
        d += timedelta(1)
    return d


def _friday(d: date) -> date:
    return d - timedelta(d.weekday()) + timedelta(4)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, k: int) -> tuple[int, int]:
    n = year * 12 + (month - 1) + k
    return n // 12, n % 12 + 1


def _add_working_days(d: date, n: int) -> date:
    while n > 0:
        d += timedelta(1)
        if d.weekday() < 5:
            n -= 1
    return d


# --- numerals ----------------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def _to_int(s: str) -> int:
    """Arabic or Chinese numeral to int; two adjacent digits (两三, 三五) are a range → the larger."""
    if s.isdigit():
        return int(s)
    if len(s) == 2 and s[0] in _CN_DIGITS and s[1] in _CN_DIGITS:
        return max(_CN_DIGITS[s[0]], _CN_DIGITS[s[1]])
    total = current = 0
    for ch in s:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
    return total + current


def _year_to_int(s: str, today: date) -> int:
    y = int(s) if s.isdigit() else int("".join(str(_CN_DIGITS[ch]) for ch in s))
    if len(s) == 2:  # 98年 is 1998, 26年 is 2026
        y += 2000 if 2000 + y <= today.year + 10 else 1900
    return y


# --- the scanner -------------------------------------------------------------------------------

_CN = "零〇一二两三四五六七八九十"
_N_MONTH = r"1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九元]"
_N_DAY = (
    r"3[01]|[12]\d|0?[1-9]|三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九]"
)
_N_HOUR = r"2[0-4]|[01]?\d|二十[一二三四]?|十[一二三四五六七八九]?|[一二两三四五六七八九]"
_N_MIN_CN = r"[一二三四五]十[一二三四五六七八九]?|零[一二三四五六七八九]|十[一二三四五六七八九]?"
_N_COUNT = r"\d{1,3}(?:\s?[-~～到至]\s?\d{1,3})?|[一二两三四五六七八九十半]{1,3}"
_WEEK = r"周|星期|礼拜"
_WEEKDAY = r"[一二三四五六日天1-7]"
_HOLIDAY_NAMES = "春节|过年|元旦|清明节?|劳动节|端午节?|中秋节?|国庆节?|元宵节?|圣诞节?"
_REL = r"前后|之前|以前|前|之后|以后|过后|后|期间"

_ATOMS = [
    # 2026-01-20, 2026/1/20, 2026.01.20 with an optional time.
    r"(?P<iso>(?<![\dA-Za-z])(?P<iso_y>(?:19|20)\d\d)(?P<iso_sep>[-/.])(?P<iso_m>1[0-2]|0?[1-9])(?P=iso_sep)"
    r"(?P<iso_d>3[01]|[12]\d|0?[1-9])(?!\d)(?:(?:T|\s{1,2})(?P<iso_h>[01]?\d|2[0-3])[:：](?P<iso_mi>[0-5]\d)"
    r"(?:[:：](?P<iso_s>[0-5]\d))?(?!\d))?)",
    # Spans after a holiday: 春节后第一周, 年后上班第一周, 节后第一天; and 年前/年后/节前/节后/过完年.
    rf"(?P<hol>(?:(?P<hol_name>{_HOLIDAY_NAMES})(?:假期|长假|放假)?|(?P<hol_guarded>五一|十一)(?=假期|长假|放假|{_REL}|节)"
    rf"(?:假期|长假|放假)?|(?P<hol_year>(?<![\d{_CN}几多半百千万去今明前后每新当同])年)(?=前|后)|(?P<hol_any>(?<![\d{_CN}几多半百千万每人亲师童女阳夕恩棍购物礼])节)(?=前|后)"
    rf"|(?P<hol_after>过完年|过了年|开年(?!会))"
    r"|(?P<hol_lunar>(?:大年|正月)初(?P<lun_d>十|[一二三四五六七八九])|正月(?P<lun_d2>十五|十[一二三四六七八九]|二十)|除夕|大年三十))"
    rf"(?P<hol_rel>{_REL})?(?:(?:上班|开工|复工|回来)?的?第(?P<hol_n>[一二三四1-4])个?(?P<hol_unit>周|星期|礼拜|天|个工作日))?)",
    # 年底/年初/年末 after an optional year.
    r"(?P<ypart>(?<![\d一二三四五六七八九十几多半百千万])年(?P<ypart_p>底|初|末))",
    rf"(?P<yrel>(?<![\d{_CN}几多半])(?P<yrel_w>今|明|去|前|后|上(?=年[底初末度]))年(?P<yrel_p>底|初|末)?)",
    rf"(?P<yabs>(?<![\dA-Za-z])(?P<yabs_y>(?:19|20)\d\d|[一二][〇零一二三四五六七八九]{{3}}|(?:\d\d|[零〇一二三四五六七八九]{{2}})(?=年\s?(?:{_N_MONTH})月))"
    r"\s?年(?P<yabs_p>底|初|末)?)",
    # Quarters and half years: 一季度, 第三季度末, Q2, 下个季度, 下半年.
    r"(?P<qtr>(?:(?P<qtr_rel>下下个?|下一?个?|这一?个?|本|上一?个?)季度|(?<![\dA-Za-z一二三四五六七八九十])(?:第?(?P<qtr_n>[一二三四1-4])季度"
    r"|[Qq](?P<qtr_q>[1-4])(?!\d))|(?<![\d一二三四五六七八九十])(?P<half>上|下)半年)(?P<qtr_p>末|底|初)?)",
    # Months: 下个月, 本月底, 3月15日, 十二月初, 1月下旬.
    rf"(?P<mon>(?:(?P<mon_rel>这一?个?|本|当|同|下下一?个?|下一?个?|上上一?个?|上一?个?)|(?<![\d个几两{_CN}])(?P<mon_n>{_N_MONTH}))\s?月份?"
    rf"(?:(?P<mon_p>上旬|中旬|下旬|底|初|中|末)|的?第(?P<mon_wn>[一二三四五1-5])个?(?:周|星期|礼拜)(?P<mon_wd>[一二三四五六日天])?|(?P<mon_last>的?最后一(?:周|个星期|个礼拜))|(?P<mon_d>{_N_DAY})\s?[日号](?![线楼栋门院房室厅柜仓库机台位店车道口馆桌座床箱包件厂区站场码字人员])"
    rf"|(?P<mon_dd>[12]\d|3[01]|0?[1-9])(?![\d个万千百元块角毛%.．件台套箱吨斤米克只瓶人次倍]))?)",
    r"(?P<mpart>(?<![\d个几两一二三四五六七八九十])月(?P<mpart_p>底|初|中|末))",
    r"(?P<xun>(?P<xun_p>上|中|下)旬)",
    # 1/20 (fractions like 1/3 are kept out by needing a day above 4 or a time word after).
    r"(?P<slash>(?<![\d/.A-Za-z])(?P<sl_m>1[0-2]|0?[1-9])/(?P<sl_d>3[01]|[12]\d|0?[5-9]|0?[1-4](?=前|之前|号|日|上午|下午|周|星期))"
    r"(?![\d/%]|的))",
    # Durations: 3个工作日内, 一周内, 两三天后, 半个月内, 3-5个工作日, 30日内, 2小时内.
    rf"(?P<dur>(?<![\d{_CN}第])(?P<dur_n>{_N_COUNT})\s?(?P<dur_unit>个?工作日|个?小时|个?钟头|个?星期|个?礼拜|周|个月|个半月|个半小时|个半钟头|天|日(?=之内|以内|内))"
    r"(?P<dur_rel>之内|以内|内|之后|以后|后|之前|以前|前)?)",
    # A bare day of the month: 15号, 二十号前, 20日之前.
    rf"(?P<dday>(?<![\d{_CN}型编单账批第号#A-Za-z月.．路街道巷弄村镇县市区栋楼座室层门])(?P<dday_n>{_N_DAY})(?:\s?(?P<dday_u>号|日)"
    r"(?![线楼栋门院房室厅柜仓库机台位店车道口馆桌座床箱包件厂区站场码字人员方案电])"
    rf"|(?=(?:[、和或]|或者)\s?(?:{_N_DAY})\s?号(?![线楼栋门院房室厅柜仓库机台位店车道口馆桌座床箱包件厂区站场码字人员方案]))))",
    # 今天, 明早, 大后天, 第二天 …
    r"(?P<rday>(?P<rday_w>大大后天|大后天|大前天|明后天|后天|前天|明天|明日|明儿个|明儿|明个|今天|今日|今儿个|今儿|本日|当天|当日|当晚|昨天|昨日|昨儿|次日|翌日|第二天|隔天"
    r"|今晚|明晚|昨晚|今早|明早|今晨|明晨|今夜|明夜|这两天))",
    # Weekdays and weeks: 下周三, 本周五, 星期天, 周末, 下下周, 本周.
    rf"(?P<wk>(?:(?P<wk_pre>下下下|下下个?|下一?个?|这一?个?|本|上上个?|上一?个?)|(?<![\d{_CN}第])|(?<=[周期拜][一二三四五六日天]))(?:{_WEEK})"
    rf"(?:的?(?:{_WEEK})(?={_WEEKDAY}))?(?P<wk_d>{_WEEKDAY}|末)?)",
    # Parts of the day; 下班前 carries its own deadline.
    r"(?P<eod>(?P<eod_w>下班|收工|上班)(?P<eod_r>之前|以前|前|之后|以后|后))",
    r"(?P<dpart>(?P<dpart_w>凌晨|清晨|早晨|早上|一大早|一早|上午|中午|午后|下午|傍晚|晚上|晚间|夜里|夜间|半夜|深夜)(?!好))",
    # Clock times: 15:00, 10点半, 三点一刻, 3点15, 9点钟, 3时1刻.
    r"(?P<hm>(?<![\d:：.])(?P<hm_h>[01]?\d|2[0-4])[:：](?P<hm_m>[0-5]\d)(?:[:：](?P<hm_s>[0-5]\d))?(?![\d:：])(?:时(?![间候期段]))?)",
    rf"(?P<clk>(?<![\d.第个返让降扣提加涨跌差低高多少税息价{_CN}])(?P<clk_h>{_N_HOUR})(?:点|點|(?<=\d)时)(?P<clk_z>钟|整)?"
    rf"(?:(?P<clk_half>半)|(?P<clk_q>[一三13])刻|(?P<clk_m>\d{{1,2}}|[{_CN}]{{1,3}})分|(?P<clk_m2>[0-5]\d)(?!\d)|(?P<clk_m3>{_N_MIN_CN})(?![{_CN}]))?(?:(?P<clk_s>\d{{1,2}}|[{_CN}]{{1,3}})秒)?"
    r"(?!点|个|[0-9]|儿|多))",
]
# Every atom starts with one of these; the lookahead lets the scan skip other positions fast.
_STARTS = (
    "[0-9零〇一二两三四五六七八九十半明后前今昨当这本下上去周星礼年月节凌早午晚夜]|中[午秋旬]|大[后前年大]|同月|国庆"
    "|开年|正月|清[明晨]|过[完了年]|春节|元[旦宵月]|劳动|端午|圣诞|除夕|收工|深夜|傍晚|次日|翌日|隔天|第二天"
    "|第[一二三四1-4]季|[Qq][1-4]"
)
_SCANNER = re.compile(f"(?=(?:{_STARTS}))(?:" + "|".join(_ATOMS) + ")")

# A cheap pre-check: every expression contains one of these; most messages without a time don't.
_PRECHECK = re.compile(
    r"[天日号周期拜月年点點时午晚早晨夜凌班节旦今明昨:：/\-秋庆宵诞夕旬季]|五一|十一|\d{4}[./]\d|[Qq][1-4]"
)

_SUFFIX = re.compile(
    r"\s?(?P<s>前后|之前|以前|前|之内|以内|内|为止|之后|以后|后|左右)(?![台期端续面部容存置勤天年])"
)
_DEADLINE_PREFIX = re.compile(r"(?:最迟|最晚|截止|截至|不晚于|不迟于|务必|必须)(?:到|在|于|是)?\s?$")
_RECURRING = re.compile(r"每(?:天|日|周|星期|礼拜|月|年|晚)?$")
_ALTERNATIVE = re.compile(r"\s?(?:或者|或是|还是|或|、|和|跟|以及|)\s?")
_SAME_SENTENCE = re.compile(r"[^。！？!?\n；;\d]{1,12}")
_SHORT_GAP = re.compile(r"[^。！？!?\n\d]{1,4}")
_RANGE = re.compile(r"\s?(?:到|至|[-~～—－])\s?")
_STRONG_AFTER = re.compile(r"(?:开会|过来|出发|准时|见|到)")

_DEADLINE_SUFFIXES = frozenset({"之前", "以前", "前", "之内", "以内", "内", "为止"})

_DAYPARTS = {
    "凌晨": "dawn", "清晨": "morning", "早晨": "morning", "早上": "morning", "一早": "morning", "一大早": "morning",
    "上午": "morning", "中午": "noon", "午后": "afternoon", "下午": "afternoon", "傍晚": "evening",
    "晚上": "evening", "晚间": "evening", "夜里": "night", "夜间": "night", "半夜": "night", "深夜": "night",
}  # fmt: skip
_RELDAYS = {
    "大后天": (3, None), "大前天": (-3, None), "明后天": (2, None), "后天": (2, None), "前天": (-2, None),
    "明天": (1, None), "明日": (1, None), "明儿个": (1, None), "今儿个": (0, None), "明儿": (1, None), "明个": (1, None), "今天": (0, None),
    "今日": (0, None), "今儿": (0, None), "当天": (0, None), "当日": (0, None), "昨天": (-1, None),
    "昨日": (-1, None), "昨儿": (-1, None), "次日": (1, None), "翌日": (1, None), "第二天": (1, None),
    "隔天": (1, None), "今晚": (0, "evening"), "明晚": (1, "evening"), "昨晚": (-1, "evening"),
    "今早": (0, "morning"), "明早": (1, "morning"), "今晨": (0, "morning"), "明晨": (1, "morning"),
    "今夜": (0, "night"), "明夜": (1, "night"), "这两天": (1, None),
    "大大后天": (4, None), "本日": (0, None), "当晚": (0, "evening"),
}  # fmt: skip
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_WEEKDAYS.update({str(i + 1): i for i in range(7)})
_WEEK_SHIFT = {"下下下": 3, "下下": 2, "下": 1, "这": 0, "本": 0, "上上": -2, "上": -1}
_MONTH_SHIFT = {"这": 0, "本": 0, "当": 0, "同": 0, "下下": 2, "下": 1, "上上": -2, "上": -1}
_YEAR_SHIFT = {"今": 0, "明": 1, "去": -1, "上": -1, "前": -2, "后": 2}


@dataclass(frozen=True, slots=True)
class _Atom:
    kind: str
    start: int
    end: int
    lo: int  # slot range it fills: 0 year, 1 month, 2 day, 3 part of day, 4 clock, 5 suffix
    hi: int
    m: re.Match[str]
    weak: bool = False


def _atom(m: re.Match[str]) -> _Atom | None:
    kind = m.lastgroup
    assert kind is not None
    g = m.group
    s, e = m.span()
    if kind == "iso":
        return _Atom(kind, s, e, 0, 4 if g("iso_h") else 2, m)
    if kind == "hol":
        closed = g("hol_rel") is not None or g("hol_n") is not None or g("hol_after") is not None
        if g("hol_year") is not None or g("hol_any") is not None:
            if g("hol_rel") is None:
                return None
            closed = True
        named = g("hol_name") is not None or g("hol_guarded") is not None or g("hol_lunar") is not None
        return _Atom(kind, s, e, 1 if named else 0, 5 if closed else 2, m)  # 去年春节: a year may lead
    if kind == "ypart":
        return _Atom(kind, s, e, 1, 2, m)
    if kind == "yrel":
        return _Atom(kind, s, e, 0, 2 if g("yrel_p") else 0, m)
    if kind == "yabs":
        return _Atom(kind, s, e, 0, 2 if g("yabs_p") else 0, m)
    if kind == "mon":
        lo = 0 if g("mon_rel") is not None else 1
        hi = 2 if (g("mon_p") or g("mon_d") or g("mon_dd") or g("mon_wn") or g("mon_last")) else 1
        return _Atom(kind, s, e, lo, hi, m)
    if kind == "qtr":
        return _Atom(kind, s, e, 0 if g("qtr_rel") is not None else 1, 2, m)
    if kind == "mpart":
        return _Atom(kind, s, e, 2, 2, m)
    if kind == "xun":
        return _Atom(kind, s, e, 2, 2, m)
    if kind == "slash":
        return _Atom(kind, s, e, 1, 2, m)
    if kind == "dur":
        unit, rel = g("dur_unit"), g("dur_rel")
        if rel is None and "工作日" not in unit:
            return None  # a bare length of time (三天, 两周) is not a point in time
        hi = 5 if rel in (None, "之内", "以内", "内") else 2
        return _Atom(kind, s, e, 0, hi, m)
    if kind == "dday":
        return _Atom(kind, s, e, 2, 2, m, weak=g("dday_u") == "日")
    if kind == "rday":
        return _Atom(kind, s, e, 0, 3 if _RELDAYS[g("rday_w")][1] else 2, m)
    if kind == "wk":
        if g("wk_pre") is None and g("wk_d") is None:
            return None
        return _Atom(kind, s, e, 0, 2, m)
    if kind == "eod":
        return _Atom(kind, s, e, 4, 5, m)
    if kind == "dpart":
        return _Atom(kind, s, e, 3, 3, m)
    if kind == "hm":
        return _Atom(kind, s, e, 4, 4, m)
    # clk
    strong = any(g(k) is not None for k in ("clk_z", "clk_half", "clk_q", "clk_m", "clk_m2", "clk_m3"))
    return _Atom(kind, s, e, 4, 4, m, weak=not strong)


def _chains(text: str) -> list[list[_Atom]]:
    """Group adjacent atoms that fill increasing slots (明天 + 下午 + 三点) into chains."""
    chains: list[list[_Atom]] = []
    current: list[_Atom] = []
    for m in _SCANNER.finditer(text):
        atom = _atom(m)
        if atom is None:
            continue
        if current:
            last = current[-1]
            gap = text[last.end : atom.start]
            after_echo = (
                last.kind == "wk" and len(current) > 1 and re.fullmatch(r"\s*[)）]\s*", gap) is not None
            )
            fits = atom.lo > max(a.hi for a in current) and (gap in ("", " ", "的") or after_echo)
            # A weekday echoing an explicit date: 1月20日（周二）, 2026-01-20 星期二.
            echo = (
                atom.kind == "wk"
                and m.group("wk_pre") is None
                and last.kind in ("iso", "mon", "slash")
                and last.hi >= 2
                and re.fullmatch(r"\s*[（(]?\s*", gap) is not None
            )
            if fits or echo:
                current.append(atom)
                continue
            chains.append(current)
        current = [atom]
    if current:
        chains.append(current)
    return chains


@dataclass(frozen=True, slots=True)
class _Resolved:
    day: date
    clock: time | None
    granularity: Granularity


def _resolve_chain(
    chain: list[_Atom], today: date, suffix: str | None, anchor: date | None
) -> _Resolved | None:
    """Resolve a chain of atoms (already known to be a time) to a day and optional clock.

    ``anchor`` is the day of the expression this one continues (周三 in 下周二到周三): a bare day
    or weekday then counts from it rather than from ``today``.
    """
    deadline = suffix in _DEADLINE_SUFFIXES
    year: int | None = None
    month: int | None = None
    day: date | None = None
    granularity: Granularity = "date"
    part: str | None = None
    clock: time | None = None
    midnight = False
    for atom in chain:
        g = atom.m.group
        k = atom.kind
        if k == "iso":
            try:
                day = date(int(g("iso_y")), int(g("iso_m")), int(g("iso_d")))
            except ValueError:
                return None
            if g("iso_h"):
                clock = time(int(g("iso_h")), int(g("iso_mi")), int(g("iso_s") or 0))
        elif k in ("yrel", "yabs"):
            year = today.year + _YEAR_SHIFT[g("yrel_w")] if k == "yrel" else _year_to_int(g("yabs_y"), today)
            p = g("yrel_p") if k == "yrel" else g("yabs_p")
            if p:
                day, granularity = _year_part(year, p)
        elif k == "ypart":
            day, granularity = _year_part(year if year is not None else today.year, g("ypart_p"))
        elif k == "mon":
            rel = g("mon_rel")
            if rel is not None:
                base_year = year if year is not None else today.year
                year, month = _add_months(
                    base_year, today.month, _MONTH_SHIFT[rel.replace("个", "").replace("一", "")]
                )
            else:
                month = 1 if g("mon_n") == "元" else _to_int(g("mon_n"))  # 元月 is January
            d_txt = g("mon_d") or g("mon_dd")
            if d_txt:
                d = _to_int(d_txt)
                if year is None:
                    year = _nearest_year(today, month, d, 30 if deadline else 120)
                try:
                    day = date(year, month, d)
                except ValueError:
                    return None
            elif g("mon_wn") or g("mon_last"):
                if year is None:
                    year = _nearest_year(today, month, 15)
                n = _to_int(g("mon_wn")) if g("mon_wn") else 0
                if g("mon_wd"):
                    day, granularity = _nth_weekday(year, month, n, _WEEKDAYS[g("mon_wd")]), "date"
                else:
                    day, granularity = _month_week(year, month, n), "period"
            elif g("mon_p"):
                if year is None:
                    year = _nearest_year(today, month, 15)
                day, granularity = _month_part(year, month, g("mon_p"))
            else:
                if year is None:
                    year = _nearest_year(today, month, 15)
                day, granularity = _month_end(year, month), "period"
        elif k == "qtr":
            day = _resolve_quarter(atom.m, today, year)
            granularity = "period"
        elif k in ("mpart", "xun"):
            p = g("mpart_p") if k == "mpart" else g("xun_p") + "旬"
            if month is None:
                y, mo = today.year, today.month
                if p in ("初", "上旬") and today.day > 10 or p in ("中", "中旬") and today.day > 20:
                    y, mo = _add_months(y, mo, 1)  # 月初 said late in a month means the next one
            else:
                y, mo = (year if year is not None else today.year), month
            day, granularity = _month_part(y, mo, p)
        elif k == "dday":
            d = _to_int(g("dday_n"))
            if month is not None:
                y = year if year is not None else _nearest_year(today, month, d)
                candidates = [(y, month)]
            elif anchor is not None:
                candidates = [_add_months(anchor.year, anchor.month, shift) for shift in (0, 1)]
                candidates = candidates if d >= anchor.day else candidates[1:]
            else:
                candidates = [_add_months(today.year, today.month, shift) for shift in (-1, 0, 1, 2)]
            days = []
            for y, mo in candidates:
                try:
                    days.append(date(y, mo, d))
                except ValueError:
                    continue
            if not days:
                return None
            if deadline and month is None:
                day = min((x for x in days if x >= today), default=days[-1])
            else:
                # The nearest such day, but a day more than a week back is more likely next month's.
                near = [x for x in days if (today - x).days <= 7]
                day = min(near or days, key=lambda x: (abs((x - today).days), x < today))
        elif k == "slash":
            month, d = int(g("sl_m")), int(g("sl_d"))
            year = year if year is not None else _nearest_year(today, month, d, 30 if deadline else 120)
            try:
                day = date(year, month, d)
            except ValueError:
                return None
        elif k == "hol":
            resolved = _resolve_holiday(atom.m, today, year)
            if resolved is None:
                return None
            day, granularity = resolved
        elif k == "dur":
            resolved_dur = _resolve_duration(atom.m, today)
            if resolved_dur is None:
                return None
            day, clock, granularity = resolved_dur
        elif k == "rday":
            offset, part = _RELDAYS[g("rday_w")]
            day = today + timedelta(offset)
            if g("rday_w") == "这两天":
                granularity = "period"
        elif k == "wk":
            base = anchor if anchor is not None and g("wk_pre") is None else today
            day, granularity = _resolve_week(g("wk_pre"), g("wk_d"), base, day)
            if g("wk_d") == "末" and deadline:
                day, granularity = day - timedelta(1), "date"  # 周末前: by Friday
        elif k == "dpart":
            part = _DAYPARTS[g("dpart_w")]
        elif k == "eod":
            part = part or "eod"
        elif k == "hm":
            h = int(g("hm_h"))
            clock = _clock(h, int(g("hm_m")), int(g("hm_s") or 0), part, business_hours=False)
            midnight = h == 24 or (h == 12 and part in ("evening", "night"))
        elif k == "clk":
            h = _to_int(g("clk_h"))
            if g("clk_half"):
                mi = 30
            elif g("clk_q"):
                mi = 15 if g("clk_q") in ("一", "1") else 45
            else:
                mi_txt = g("clk_m") or g("clk_m2") or g("clk_m3")
                mi = _to_int(mi_txt) if mi_txt else 0
            if mi > 59 or (g("clk_s") and _to_int(g("clk_s")) > 59):
                return None
            clock = _clock(h, mi, _to_int(g("clk_s")) if g("clk_s") else 0, part)
            midnight = h == 24 or (h == 12 and part in ("evening", "night"))
    if day is None and anchor is not None and year is None and month is None:
        day = anchor
    if day is None:
        if year is not None and month is None:
            day, granularity = date(year, 12, 31), "period"
        else:
            day = today
    if clock is None and part == "noon":
        clock = time(12, 0)
    if midnight:
        day += timedelta(1)  # 24:00 / 晚上12点 is the midnight at the end of the day
    return _Resolved(day, clock, "datetime" if clock is not None else granularity)


def _clock(h: int, mi: int, s: int, part: str | None, *, business_hours: bool = True) -> time | None:
    if h > 24:
        return None
    if part in ("afternoon", "evening") and h < 12:
        h += 12
    elif part == "noon" and h <= 3:
        h += 12
    elif part == "night" and 6 <= h < 12:
        h += 12
    elif part in ("evening", "night") and h == 12:
        h = 0
    elif part is None and business_hours and 1 <= h <= 6:
        h += 12  # business hours: 三点前 in a sales chat is 15:00 (15:00 written with a colon is 24-hour)
    if h == 24:
        h = 0
    return time(h, mi, s)


def _nearest_year(today: date, month: int, day: int, past_days: int = 120) -> int:
    """The year for a month/day said without one: the nearest occurrence, unless that lies more
    than ``past_days`` back (then the next one): 12月29号 said on 7 January is last year's, 9月30日
    said in March is this year's. Deadlines pass a shorter window."""
    dates = []
    for y in (today.year - 1, today.year, today.year + 1):
        dates.append(date(y, month, min(day, calendar.monthrange(y, month)[1])))
    future = min(d for d in dates if d >= today)
    past = max((d for d in dates if d < today), default=None)
    if past is not None and (today - past).days < (future - today).days and (today - past).days <= past_days:
        return past.year
    return future.year


def _month_week(year: int, month: int, n: int) -> date:
    """Friday of the n-th week of a month (0: the last); week 1 holds the month's first working day."""
    if n == 0:
        return _friday(_month_end(year, month) - timedelta(max(0, _month_end(year, month).weekday() - 4)))
    first = date(year, month, 1)
    while first.weekday() >= 5:
        first += timedelta(1)
    return _friday(first) + timedelta(7 * (n - 1))


def _resolve_quarter(m: re.Match[str], today: date, year: int | None) -> date:
    """The last day of a quarter or half year (the first month's last day for 季度初)."""
    g = m.group
    if g("half") is not None:
        first_month, months = (1 if g("half") == "上" else 7), 6
    else:
        months = 3
        if g("qtr_rel") is not None:
            shift = _MONTH_SHIFT[g("qtr_rel").replace("个", "").replace("一", "")]
            y, first_month = _add_months(today.year, today.month - (today.month - 1) % 3, 3 * shift)
            year = y
        else:
            first_month = 3 * (_to_int(g("qtr_n") or g("qtr_q")) - 1) + 1
    last_month = first_month + (0 if g("qtr_p") == "初" else months - 1)
    if year is None:
        year = _nearest_year(today, first_month, 1)  # 下半年 said in January is this year's
    return _month_end(year, last_month)


def _nth_weekday(year: int, month: int, n: int, weekday: int) -> date:
    first = date(year, month, 1)
    first += timedelta((weekday - first.weekday()) % 7)
    return first + timedelta(7 * (n - 1))


def _year_part(year: int, p: str) -> tuple[date, Granularity]:
    if p in ("底", "末"):
        return date(year, 12, 31), "date"
    return date(year, 1, 31), "period"  # 年初: early in the year, due by the end of January


def _month_part(year: int, month: int, p: str) -> tuple[date, Granularity]:
    if p in ("底", "末", "下旬"):
        return _month_end(year, month), "date" if p != "下旬" else "period"
    if p == "初":
        return date(year, month, 5), "period"
    if p == "上旬":
        return date(year, month, 10), "period"
    if p == "中":
        return date(year, month, 15), "period"
    return date(year, month, 20), "period"  # 中旬


def _resolve_week(
    pre: str | None, wd: str | None, today: date, explicit: date | None
) -> tuple[date, Granularity]:
    if explicit is not None and pre is None:
        return explicit, "date"  # a weekday echoing an explicit date
    monday = today - timedelta(today.weekday())
    if pre is None:
        assert wd is not None
        target = _WEEKDAYS[wd]
        shift = 0 if target >= today.weekday() or wd == "末" else 1
        return monday + timedelta(7 * shift + target), "period" if wd == "末" else "date"
    shift = _WEEK_SHIFT[pre.replace("个", "").replace("一", "")]
    if wd is None:
        return monday + timedelta(7 * shift + 4), "period"
    return monday + timedelta(7 * shift + _WEEKDAYS[wd]), "period" if wd == "末" else "date"


def _resolve_holiday(m: re.Match[str], today: date, year: int | None) -> tuple[date, Granularity] | None:
    g = m.group
    rel = g("hol_rel")
    if g("hol_lunar") is not None:
        return _resolve_lunar(g("hol_lunar"), g("lun_d") or g("lun_d2"), rel, today, year)
    if g("hol_after") is not None:
        key, rel = "cny", rel or "后"
    elif g("hol_year") is not None:
        key = "cny"
    elif g("hol_name") is not None or g("hol_guarded") is not None:
        key = _HOLIDAY_KEYS[g("hol_name") or g("hol_guarded")]
    else:  # 节前/节后: the next holiday
        spans = [
            s for s in (_next_occurrence(k, today) for k in set(_HOLIDAY_KEYS.values())) if s is not None
        ]
        if not spans:
            return None
        first, last = min(spans)
        return _holiday_relative(first, last, rel, g("hol_n"), g("hol_unit"))
    if year is not None:  # 去年春节
        span = _holiday(key, year)
        return None if span is None else _holiday_relative(span[0], span[1], rel, g("hol_n"), g("hol_unit"))
    # The occurrence meant is the first whose resolved day is still ahead: 元旦后第一周 said on
    # 5 January is this January's, 春节前 said after the festival is next year's.
    for year in (today.year - 1, today.year, today.year + 1):
        span = _holiday(key, year)
        if span is None:
            continue
        resolved = _holiday_relative(span[0], span[1], rel, g("hol_n"), g("hol_unit"))
        if resolved[0] >= today or (rel in (None, "前后", "期间") and span[1] >= today):
            return resolved
    return None


def _resolve_lunar(
    word: str, n_txt: str | None, rel: str | None, today: date, year: int | None
) -> tuple[date, Granularity] | None:
    # 正月初N / 正月十五 are N-1 days after the Spring Festival; 除夕/大年三十 the day before
    # (the eve that ends the named lunar year: 2023年除夕 is in February 2024).
    offset = -1 if n_txt is None else _to_int(n_txt) - 1
    if year is not None:
        sf = spring_festival(year + 1 if n_txt is None else year)
        if sf is None:
            return None
        return sf + timedelta(offset - (1 if rel in ("前", "之前", "以前") else 0)), "date"
    for year in (today.year - 1, today.year, today.year + 1):
        sf = spring_festival(year)
        if sf is None:
            continue
        day = sf + timedelta(offset)
        if rel in ("前", "之前", "以前"):
            day -= timedelta(1)
        if day >= today - timedelta(3):
            return day, "date"
    return None


def _holiday_relative(
    first: date, last: date, rel: str | None, nth: str | None, unit: str | None
) -> tuple[date, Granularity]:
    if rel in ("前", "之前", "以前"):
        return first - timedelta(1), "date"
    if rel == "期间":
        return last, "period"
    if rel is None or rel == "前后":
        return first, "date"
    work = _first_working_day_after(last)
    n = _to_int(nth) if nth else 1
    if unit is not None and ("天" in unit or "工作日" in unit):
        return _add_working_days(work, n - 1), "date"
    # The first working week after a holiday: the week it ends in, unless only a day or two remain.
    monday = work - timedelta(work.weekday())
    if work.weekday() >= 3:
        monday += timedelta(7)
    return monday + timedelta(7 * (n - 1) + 4), "period"


def _resolve_duration(m: re.Match[str], today: date) -> tuple[date, time | None, Granularity] | None:
    g = m.group
    n_txt, unit, rel = g("dur_n"), g("dur_unit").lstrip("个"), g("dur_rel")
    bounds = re.split(r"\s?[-~～到至]\s?", n_txt)
    n_half = n_txt == "半"
    n = 0 if n_half else max(_to_int(b) for b in bounds)
    if n <= 0 and not n_half or n > 400:
        return None
    sign = -1 if rel in ("之前", "以前", "前") else 1
    if unit == "工作日":
        if sign < 0:
            return None
        return _add_working_days(today, n), None, "date"
    if unit in ("天", "日"):
        if n_half:
            return None
        return today + timedelta(sign * n), None, "date"
    if unit in ("周", "星期", "礼拜"):
        return today + timedelta(sign * (7 * n if not n_half else 3)), None, "date"
    if unit in ("月", "半月"):
        if n_half:
            return today + timedelta(sign * 15), None, "date"
        y, mo = _add_months(today.year, today.month, sign * n)
        d = date(y, mo, min(today.day, calendar.monthrange(y, mo)[1]))
        if unit == "半月":  # 一个半月
            d += timedelta(sign * 15)
        return d, None, "date"
    return None  # 小时/钟头 are resolved against the full reference in find_times


_HOUR_UNITS = ("小时", "钟头")


def find_times(text: str, reference: datetime) -> tuple[TimeMention, ...]:
    """Find and resolve every time expression in ``text``.

    Args:
        text: a message, an utterance or an e-mail body.
        reference: the interaction's time (``occurred_at``); values keep its timezone.

    Returns:
        Non-overlapping mentions in text order, each the longest expression at its place.
        Expressions without a date (尽快, 马上) are not returned.
    """
    if not _PRECHECK.search(text):
        return ()
    today = reference.date()
    mentions: list[TimeMention] = []
    chains = _chains(text)
    previous: tuple[list[_Atom], int, date] | None = None  # last mention's atoms, end, day
    recurring_end: int | None = None
    i = 0
    while i < len(chains):
        chain = chains[i]
        i += 1
        start, end = chain[0].start, chain[-1].end
        suffix, end = _suffix(text, chain, end)
        context: list[_Atom] = []
        anchor: date | None = None
        # 下周二或周三, 3号、4号: the second inherits the first one's week, month and part of day.
        if (
            previous is not None
            and _ALTERNATIVE.fullmatch(text, previous[1], start)
            and _range_compatible(previous[0], chain)
        ):
            context, anchor = _context(previous[0], chain), previous[2]
        # 下周吧，周三下午可以 / 下个月吧，12号: a bare day right after a week or month falls in it.
        elif (
            previous is not None
            and _period_start(previous[0], previous[2]) is not None
            and _SHORT_GAP.fullmatch(text, previous[1], start)
            and (chain[0].kind == "dday" or (chain[0].kind == "wk" and chain[0].m.group("wk_pre") is None))
        ):
            anchor = _period_start(previous[0], previous[2])
        # 明天上午我在，你们9点前到: a clock time with no day of its own, in the same sentence as a
        # day, is on that day (and in its part of the day unless it names one).
        elif (
            previous is not None
            and all(a.kind in ("clk", "hm", "dpart", "eod") for a in chain)
            and _SAME_SENTENCE.fullmatch(text, previous[1], start)
        ):
            context = _day_context(previous[0], chain)
        # A range (周三到周五, 3点到5点, 1月20日至25日) is one mention, resolved at its end.
        if suffix is None and i < len(chains):
            nxt = chains[i]
            rm = _RANGE.match(text, end)
            if rm is not None and rm.end() == nxt[0].start and _range_compatible(chain, nxt):
                left = _mention(text, start, end, context + chain, None, reference, today, anchor)
                if left is not None:
                    i += 1
                    context, anchor = _context(chain, nxt), left.value.date()
                    chain = nxt
                    suffix, end = _suffix(text, chain, chain[-1].end)
                    if not _RECURRING.search(text, max(0, start - 2), start):
                        mention = _mention(
                            text, start, end, context + chain, suffix, reference, today, anchor
                        )
                        if mention is not None:
                            mentions.append(mention)
                            previous = (context + chain, end, mention.value.date())
                    continue
        if not context and not _is_time(chain, text, end, suffix):
            continue
        if _RECURRING.search(text, max(0, start - 2), start) is not None or (
            recurring_end is not None and _ALTERNATIVE.fullmatch(text, recurring_end, start)
        ):
            recurring_end = end  # recurring (每周二、周四上午九点) is not a point in time
            continue
        mention = _mention(text, start, end, context + chain, suffix, reference, today, anchor)
        if mention is not None:
            mentions.append(mention)
            previous = (context + chain, end, mention.value.date())
    return tuple(mentions)


def _day_context(previous: list[_Atom], chain: list[_Atom]) -> list[_Atom]:
    if any(a.kind == "iso" and a.hi == 4 for a in previous):
        return []  # a timestamp (2026-01-07 09:25:31) is not what a later clock time refers to
    if not any(a.hi >= 2 and a.kind not in ("clk", "hm", "dpart", "eod", "dur") for a in previous):
        return []
    has_part = any(a.kind == "dpart" for a in chain)
    return [
        a
        for a in previous
        if a.hi < 4 and a.kind not in ("clk", "hm") and not (has_part and a.kind == "dpart")
    ]


def _period_start(atoms: list[_Atom], day: date) -> date | None:
    """The first day of a bare week (下周) or month (下个月) mention, else None."""
    if len(atoms) != 1:
        return None
    g = atoms[0].m.group
    if atoms[0].kind == "wk" and g("wk_pre") is not None and g("wk_d") is None:
        return day - timedelta(day.weekday())
    if atoms[0].kind == "mon" and atoms[0].hi == 1:
        return day.replace(day=1)
    return None


def _suffix(text: str, chain: list[_Atom], end: int) -> tuple[str | None, int]:
    if max(a.hi for a in chain) >= 5:
        return None, end
    sm = _SUFFIX.match(text, end)
    if sm is not None:
        return sm.group("s"), sm.end()
    if chain[-1].kind == "wk" and chain[0].kind != "wk":
        close = re.match(r"\s*[)）]", text[end:])  # 1月20日（周二）
        if close is not None:
            end += close.end()
    return None, end


def _context(left: list[_Atom], right: list[_Atom]) -> list[_Atom]:
    """What the right side of a range or alternative inherits: year, month, part of day."""
    lo = right[0].lo
    keep = [a for a in left if a.hi < lo and a.kind not in ("clk", "hm")]
    if right[0].kind in ("clk", "hm"):
        keep = [a for a in left if a.hi < lo or a.kind == "dpart"]
        keep = [a for a in keep if a.kind not in ("clk", "hm")]
    return keep


def _range_compatible(left: list[_Atom], right: list[_Atom]) -> bool:
    first = right[0]
    if first.kind == "clk":
        return any(a.kind in ("clk", "hm") for a in left)
    return first.lo >= min(a.lo for a in left) and first.kind not in ("dur", "hol")


def _is_time(chain: list[_Atom], text: str, end: int, suffix: str | None) -> bool:
    if len(chain) > 1:
        return True
    atom = chain[0]
    if not atom.weak:
        return True
    if atom.kind == "clk" and atom.m.group("clk_h") == "一":
        return False  # 便宜一点, 快一点
    return suffix is not None or _STRONG_AFTER.match(text, end) is not None


def _mention(
    text: str,
    start: int,
    end: int,
    chain: list[_Atom],
    suffix: str | None,
    reference: datetime,
    today: date,
    anchor: date | None = None,
) -> TimeMention | None:
    deadline = (
        suffix in _DEADLINE_SUFFIXES or _DEADLINE_PREFIX.search(text, max(0, start - 6), start) is not None
    )
    for atom in chain:
        if atom.kind == "eod" and atom.m.group("eod_r") in ("之前", "以前", "前"):
            deadline = True
        if atom.kind == "dur" and atom.m.group("dur_rel") in ("之内", "以内", "内"):
            deadline = True
        if atom.kind == "hol" and atom.m.group("hol_rel") in ("前", "之前", "以前"):
            deadline = True
    dur = next((a for a in chain if a.kind == "dur"), None)
    if dur is not None and dur.m.group("dur_unit").lstrip("个半") in _HOUR_UNITS:
        n_txt = dur.m.group("dur_n")
        hours = 0.5 if n_txt == "半" else max(_to_int(b) for b in re.split(r"\s?[-~～到至]\s?", n_txt))
        if "半" in dur.m.group("dur_unit"):
            hours += 0.5  # 一个半小时
        if not 0 < hours <= 72:
            return None
        sign = -1 if dur.m.group("dur_rel") in ("之前", "以前", "前") else 1
        value = (reference + sign * timedelta(hours=hours)).replace(second=0, microsecond=0)
        return TimeMention(text[start:end], start, end, value, "datetime", deadline)
    try:
        resolved = _resolve_chain(chain, today, suffix, anchor)
    except ValueError:
        return None
    if resolved is None:
        return None
    clock = resolved.clock or time(0, 0)
    value = datetime.combine(resolved.day, clock, tzinfo=reference.tzinfo)
    return TimeMention(text[start:end], start, end, value, resolved.granularity, deadline)


def resolve_time(expression: str, reference: datetime) -> TimeMention | None:
    """Resolve one time expression ("明天上午10点前", "下周三").

    Args:
        expression: the expression, possibly with surrounding words or punctuation.
        reference: the interaction's time.

    Returns:
        The mention when the expression holds exactly one, or one spanning the whole stripped
        expression; None when it holds no time or several unrelated ones.
    """
    mentions = find_times(expression, reference)
    if len(mentions) == 1:
        return mentions[0]
    stripped = expression.strip(" \t\r\n，。,.!！?？")
    for mention in mentions:
        if mention.text == stripped:
            return mention
    return None
