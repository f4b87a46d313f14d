"""Resolution tables for pipelines.timeexpr (issue 4).

References are chosen to cross week, month and year ends: a Monday, a Thursday, the last Friday
of January, 30 December, a leap-year February and the run-up to the Spring Festival.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.timeexpr import TimeMention, find_times, resolve_time, spring_festival

CST = timezone(timedelta(hours=8))
MON = datetime(2026, 1, 12, 9, 30, tzinfo=CST)  # Monday
THU = datetime(2026, 1, 22, 15, 0, tzinfo=CST)  # Thursday
JAN30 = datetime(2026, 1, 30, 17, 0, tzinfo=CST)  # Friday, last working day of January
DEC30 = datetime(2025, 12, 30, 10, 0, tzinfo=CST)  # Tuesday before New Year
LEAP = datetime(2028, 2, 25, 11, 0, tzinfo=CST)  # Friday, February of a leap year
PRE_CNY = datetime(2027, 1, 20, 10, 0, tzinfo=CST)  # Wednesday, Spring Festival 2027 is 6 February
IN_CNY = datetime(2026, 2, 20, 10, 0, tzinfo=CST)  # Friday inside the 2026 holiday

# fmt: off
# (expression, reference, due, granularity, deadline)
RESOLUTION = (
    # relative days and clock times
    ("明天上午10点前", MON, "2026-01-13T10:00:00+08:00", "datetime", True),
    ("后天下午三点", MON, "2026-01-14T15:00:00+08:00", "datetime", False),
    ("大后天", MON, "2026-01-15", "date", False),
    ("今晚八点半", MON, "2026-01-12T20:30:00+08:00", "datetime", False),
    ("明早九点", MON, "2026-01-13T09:00:00+08:00", "datetime", False),
    ("十点半", MON, "2026-01-12T10:30:00+08:00", "datetime", False),
    ("三点一刻", MON, "2026-01-12T15:15:00+08:00", "datetime", False),
    ("3点15", MON, "2026-01-12T15:15:00+08:00", "datetime", False),
    ("下午4点半前", MON, "2026-01-12T16:30:00+08:00", "datetime", True),
    ("15:00前", MON, "2026-01-12T15:00:00+08:00", "datetime", True),
    ("两点前", MON, "2026-01-12T14:00:00+08:00", "datetime", True),
    ("中午之前", MON, "2026-01-12T12:00:00+08:00", "datetime", True),
    ("明天中午", MON, "2026-01-13T12:00:00+08:00", "datetime", False),
    ("凌晨两点", MON, "2026-01-12T02:00:00+08:00", "datetime", False),
    ("晚上之前", MON, "2026-01-12", "date", True),
    ("今天之内", MON, "2026-01-12", "date", True),
    ("今天下班前", MON, "2026-01-12", "date", True),
    ("明天上午", MON, "2026-01-13", "date", False),
    ("48小时内", MON, "2026-01-14T09:30:00+08:00", "datetime", True),
    ("3:00", MON, "2026-01-12T03:00:00+08:00", "datetime", False),  # colon times are 24-hour
    ("两三天内", MON, "2026-01-15", "date", True),
    ("一周内", MON, "2026-01-19", "date", True),
    ("半个月内", MON, "2026-01-27", "date", True),
    # weekdays and weeks (Monday starts a week)
    ("周三", MON, "2026-01-14", "date", False),
    ("星期天", MON, "2026-01-18", "date", False),
    ("礼拜五下午", MON, "2026-01-16", "date", False),
    ("周五下班前", MON, "2026-01-16", "date", True),
    ("下周三", MON, "2026-01-21", "date", False),
    ("下个星期一", MON, "2026-01-19", "date", False),
    ("下下周一", MON, "2026-01-26", "date", False),
    ("上周五", MON, "2026-01-09", "date", False),
    ("本周内", MON, "2026-01-16", "period", True),
    ("下周", MON, "2026-01-23", "period", False),
    ("周二", THU, "2026-01-27", "date", False),  # already passed this week → next one
    ("这周二", THU, "2026-01-20", "date", False),
    ("周四前", THU, "2026-01-22", "date", True),  # today still counts
    ("周五下午五点前", THU, "2026-01-23T17:00:00+08:00", "datetime", True),
    ("下周一上午九点", THU, "2026-01-26T09:00:00+08:00", "datetime", False),
    ("下周一之前", THU, "2026-01-26", "date", True),
    ("下周内", THU, "2026-01-30", "period", True),
    ("三天后", THU, "2026-01-25", "date", False),
    # month ends
    ("月底前", MON, "2026-01-31", "date", True),
    ("下个月十号", MON, "2026-02-10", "date", False),
    ("本月25号前", MON, "2026-01-25", "date", True),
    ("这个月底前", MON, "2026-01-31", "date", True),
    ("1月下旬", MON, "2026-01-31", "period", False),
    ("下个季度", MON, "2026-06-30", "period", False),
    ("Q3", MON, "2026-09-30", "period", False),
    ("明年一季度", MON, "2027-03-31", "period", False),
    ("下半年", MON, "2026-12-31", "period", False),
    ("一个月内", JAN30, "2026-02-28", "date", True),
    ("下月初", MON, "2026-02-05", "period", False),
    ("3月第一周", MON, "2026-03-06", "period", False),
    ("明天", JAN30, "2026-01-31", "date", False),
    ("后天", JAN30, "2026-02-01", "date", False),
    ("下周一", JAN30, "2026-02-02", "date", False),
    ("3个工作日内", JAN30, "2026-02-04", "date", True),
    ("下个月底", JAN30, "2026-02-28", "date", False),
    ("月初", JAN30, "2026-02-05", "period", False),
    ("10号前", JAN30, "2026-02-10", "date", True),
    ("20号之前", MON, "2026-01-20", "date", True),
    ("5号之前", MON, "2026-02-05", "date", True),  # a bare day deadline is never in the past
    # year end
    ("3个工作日内", DEC30, "2026-01-02", "date", True),  # Mon–Fri count, holidays ignored (§1.4)
    ("后天", DEC30, "2026-01-01", "date", False),
    ("下周三", DEC30, "2026-01-07", "date", False),
    ("元旦后第一周", DEC30, "2026-01-09", "period", False),
    ("年底前", DEC30, "2025-12-31", "date", True),
    ("1月5号", DEC30, "2026-01-05", "date", False),
    ("12月29号", DEC30, "2025-12-29", "date", False),
    ("明年3月", DEC30, "2026-03-31", "period", False),
    ("下个月", DEC30, "2026-01-31", "period", False),
    ("年前", DEC30, "2026-02-16", "date", True),
    ("春节前", DEC30, "2026-02-16", "date", True),
    ("2月1日", DEC30, "2026-02-01", "date", False),
    # leap year
    ("月底前", LEAP, "2028-02-29", "date", True),
    ("2月底", LEAP, "2028-02-29", "date", False),
    ("下周二", LEAP, "2028-02-29", "date", False),
    ("下周三", LEAP, "2028-03-01", "date", False),
    ("3个工作日内", LEAP, "2028-03-01", "date", True),
    ("2028年2月29日", LEAP, "2028-02-29", "date", False),
    # Spring Festival and other holidays
    ("春节后第一周", MON, "2026-02-27", "period", False),
    ("年后上班第一周", MON, "2026-02-27", "period", False),
    ("元宵节", MON, "2026-03-03", "date", False),
    ("国庆前", MON, "2026-09-30", "date", True),
    ("春节后第一周", PRE_CNY, "2027-02-19", "period", False),  # holiday ends on a weekend
    ("年前", PRE_CNY, "2027-02-05", "date", True),
    ("正月十五", PRE_CNY, "2027-02-20", "date", False),
    ("节后", IN_CNY, "2026-02-27", "period", False),
    # absolute forms
    ("2026-01-20", MON, "2026-01-20", "date", False),
    ("1/20", MON, "2026-01-20", "date", False),
    ("2026年1月23日17:00前", MON, "2026-01-23T17:00:00+08:00", "datetime", True),
    ("二〇二六年三月五日", MON, "2026-03-05", "date", False),
    ("三月十五号", MON, "2026-03-15", "date", False),
    ("元月20号", DEC30, "2026-01-20", "date", False),
    ("周末之前", MON, "2026-01-16", "date", True),  # by the end of the working week
    ("这个周末", MON, "2026-01-17", "period", False),
    ("明儿个一大早", MON, "2026-01-13", "date", False),
    ("下礼拜三", MON, "2026-01-21", "date", False),
)
# fmt: on


@pytest.mark.parametrize(
    ("expression", "reference", "due", "granularity", "deadline"),
    RESOLUTION,
    ids=[f"{r[0]}@{r[1]:%m-%d}" for r in RESOLUTION],
)
def test_timeexpr_resolves(
    expression: str, reference: datetime, due: str, granularity: str, deadline: bool
) -> None:
    mention = resolve_time(expression, reference)
    assert mention is not None
    assert mention.text == expression
    assert (mention.due(), mention.granularity, mention.deadline) == (due, granularity, deadline)
    assert mention.value.tzinfo is reference.tzinfo


# fmt: off
# Prices, quantities, numbers and vague words that must not become times.
NEGATIVES = (
    "返点最多给到3个点",
    "这批按5块一个算",
    "报价20万左右",
    "一次要8万套",
    "利润三七开",
    "电话13912345678",
    "型号X3-200的机器",
    "毛利率15%",
    "麻烦您看一下",
    "再便宜一点吧",
    "我们是合作三年的客户",
    "有1/3的货有问题",
    "差两点就过线了",
    "3号线地铁口见",
    "二号楼仓库",
    "尽快给我回复",
    "马上发您",
    "每周二开例会",
    "好几年前装的系统",
    "三年前就用你们的了",
    "1、2号线换乘",
    "愚人节前一天",
    "这里四季如春",
    "地址：文三路18号",
    "5号电池两箱",
)
# fmt: on


@pytest.mark.parametrize("text", NEGATIVES)
def test_timeexpr_ignores_non_times(text: str) -> None:
    assert find_times(text, MON) == ()


# fmt: off
# (text, reference, [(mention text, due, deadline)])
IN_TEXT = (
    ("好的王总，我明天下午三点前把报价单发您邮箱", MON,
     [("明天下午三点前", "2026-01-13T15:00:00+08:00", True)]),
    ("样品周四寄出，下周一应该能到", MON,
     [("周四", "2026-01-15", False), ("下周一", "2026-01-19", False)]),
    ("合同最迟月底要签掉", MON, [("月底", "2026-01-31", True)]),
    ("发票下午开好，3个工作日内到账", MON,
     [("下午", "2026-01-12", False), ("3个工作日内", "2026-01-15", True)]),
    ("1月20日（周二）上午十点在贵司碰一下", MON,
     [("1月20日（周二）上午十点", "2026-01-20T10:00:00+08:00", False)]),
    ("下周二或周三都行", MON, [("下周二", "2026-01-20", False), ("周三", "2026-01-21", False)]),
    ("周二、周三我都在", MON, [("周二", "2026-01-13", False), ("周三", "2026-01-14", False)]),
    ("周三到周五给您答复", MON, [("周三到周五", "2026-01-16", False)]),
    ("明天下午3点到5点方便", MON, [("明天下午3点到5点", "2026-01-13T17:00:00+08:00", False)]),
    ("春节前肯定发不了，过完年再说", MON,
     [("春节前", "2026-02-16", True), ("过完年", "2026-02-27", False)]),
    ("便宜一点的话今天就能定", MON, [("今天", "2026-01-12", False)]),
    ("预计3-5个工作日到货", MON, [("3-5个工作日", "2026-01-19", False)]),
    ("最晚后天给您消息", MON, [("后天", "2026-01-14", True)]),
    ("后天上午仓库有人，司机十点前到就行", MON,
     [("后天上午", "2026-01-14", False), ("十点前", "2026-01-14T10:00:00+08:00", True)]),
    ("明天给初稿，下午4点前定稿", MON,
     [("明天", "2026-01-13", False), ("下午4点前", "2026-01-13T16:00:00+08:00", True)]),
    ("周三开会。两点前把材料给我", MON,  # a new sentence does not inherit the day
     [("周三", "2026-01-14", False), ("两点前", "2026-01-12T14:00:00+08:00", True)]),
    ("下周吧，周一或周二都行", MON,
     [("下周", "2026-01-23", False), ("周一", "2026-01-19", False), ("周二", "2026-01-20", False)]),
    ("下个月吧，11、12号都可以", MON,
     [("下个月", "2026-02-28", False), ("11", "2026-02-11", False), ("12号", "2026-02-12", False)]),
    ("请于2月28日24:00之前提交", MON, [("2月28日24:00之前", "2026-03-01T00:00:00+08:00", True)]),
    ("9月27日前完成安装", MON, [("9月27日前", "2026-09-27", True)]),  # deadlines look ahead
    ("9月27日到的货", MON, [("9月27日", "2025-09-27", False)]),
    ("月底前报价，下周二去拜访", MON,
     [("月底前", "2026-01-31", True), ("下周二", "2026-01-20", False)]),
)
# fmt: on


@pytest.mark.parametrize(("text", "reference", "expected"), IN_TEXT, ids=[c[0][:12] for c in IN_TEXT])
def test_timeexpr_finds_in_text(
    text: str, reference: datetime, expected: list[tuple[str, str, bool]]
) -> None:
    mentions = find_times(text, reference)
    assert [(m.text, m.due(), m.deadline) for m in mentions] == expected
    for m in mentions:
        assert text[m.start : m.end] == m.text


def test_timeexpr_invalid_date_is_not_a_mention() -> None:
    assert find_times("2027年2月29日", LEAP) == ()


def test_timeexpr_resolve_time_none_without_time() -> None:
    assert resolve_time("尽快", MON) is None
    assert resolve_time("", MON) is None


def test_timeexpr_due_formats() -> None:
    at = datetime(2026, 1, 13, 10, 0, tzinfo=CST)
    assert TimeMention("x", 0, 1, at, "datetime", True).due() == "2026-01-13T10:00:00+08:00"
    assert TimeMention("x", 0, 1, at, "date", True).due() == "2026-01-13"
    assert TimeMention("x", 0, 1, at, "period", False).due() == "2026-01-13"


def test_timeexpr_spring_festival_table() -> None:
    # The first lunar day always falls between 21 January and 20 February.
    for year in range(2020, 2036):
        sf = spring_festival(year)
        assert sf is not None
        assert date(year, 1, 21) <= sf <= date(year, 2, 20)
    assert spring_festival(2026) == date(2026, 2, 17)
    assert spring_festival(2019) is None


@given(st.text(alphabet="今明后天下上周一二三四五六日月号点半前内个工作年节春午晚中10:25-/，的", max_size=24))
@settings(max_examples=200, deadline=None)
def test_timeexpr_mentions_are_ordered_slices(text: str) -> None:
    mentions = find_times(text, MON)
    last_end = 0
    for m in mentions:
        assert m.start >= last_end
        assert text[m.start : m.end] == m.text
        assert m.value.tzinfo is MON.tzinfo
        last_end = m.end
