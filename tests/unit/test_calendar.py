"""kpispec.calendar: week starts, fiscal periods and labels, time zones, relative dates.

Every expected date here is written by hand (from a wall calendar and the tz database's
published transitions), never computed with the code under test.
"""

from __future__ import annotations

import datetime as dt

import pytest
from kpispec.calendar import WEEKDAYS, Calendar, parse_relative_date
from kpispec.errors import QueryError

D = dt.date
T = dt.datetime


# -- weeks ------------------------------------------------------------------------------

# Wednesday 2024-03-06: the week holding it starts on the latest such weekday on or before it.
WEEK_OF_WEDNESDAY_2024_03_06 = {
    "monday": D(2024, 3, 4),
    "tuesday": D(2024, 3, 5),
    "wednesday": D(2024, 3, 6),
    "thursday": D(2024, 2, 29),
    "friday": D(2024, 3, 1),
    "saturday": D(2024, 3, 2),
    "sunday": D(2024, 3, 3),
}


@pytest.mark.parametrize("week_start", WEEKDAYS)
def test_week_start_of_a_wednesday(week_start: str) -> None:
    calendar = Calendar(week_start=week_start)
    assert calendar.period_start(D(2024, 3, 6), "week") == WEEK_OF_WEDNESDAY_2024_03_06[week_start]


@pytest.mark.parametrize("week_start", WEEKDAYS)
def test_every_day_of_a_week_maps_to_its_first_day(week_start: str) -> None:
    calendar = Calendar(week_start=week_start)
    first = WEEK_OF_WEDNESDAY_2024_03_06[week_start]
    assert first.strftime("%A").lower() == week_start
    for n in range(7):
        assert calendar.period_start(first + dt.timedelta(days=n), "week") == first
    assert calendar.period_start(first + dt.timedelta(days=7), "week") == first + dt.timedelta(days=7)
    assert calendar.period_start(first - dt.timedelta(days=1), "week") == first - dt.timedelta(days=7)


def test_week_offset_and_default() -> None:
    assert Calendar().week_start == "monday"
    assert [Calendar(week_start=w).week_offset for w in WEEKDAYS] == [0, 1, 2, 3, 4, 5, 6]


def test_sunday_weeks_across_a_year_end() -> None:
    calendar = Calendar(week_start="sunday")
    # 2024-12-29 is a Sunday; 2025-01-04 the Saturday that ends its week.
    assert calendar.period_start(D(2025, 1, 4), "week") == D(2024, 12, 29)
    assert calendar.period_start(D(2025, 1, 5), "week") == D(2025, 1, 5)


# -- calendar and fiscal months ------------------------------------------------------------


@pytest.mark.parametrize(("day", "grain", "first"), [
    (D(2024, 5, 17), "day", D(2024, 5, 17)),
    (D(2024, 5, 17), "month", D(2024, 5, 1)),
    (D(2024, 5, 17), "quarter", D(2024, 4, 1)),
    (D(2024, 12, 31), "quarter", D(2024, 10, 1)),
    (D(2024, 5, 17), "year", D(2024, 1, 1)),
])
def test_calendar_grains(day: dt.date, grain: str, first: dt.date) -> None:
    # The fiscal year does not move calendar quarters and years.
    assert Calendar().period_start(day, grain) == first
    assert Calendar(fiscal_year_start_month=7).period_start(day, grain) == first


#: (start month, day) -> (first day of its fiscal quarter, first day of its fiscal year)
FISCAL = {
    # January: fiscal periods are calendar ones.
    (1, D(2024, 1, 1)): (D(2024, 1, 1), D(2024, 1, 1)),
    (1, D(2024, 5, 17)): (D(2024, 4, 1), D(2024, 1, 1)),
    (1, D(2024, 12, 31)): (D(2024, 10, 1), D(2024, 1, 1)),
    # February: quarters Feb–Apr, May–Jul, Aug–Oct, Nov–Jan.
    (2, D(2024, 1, 15)): (D(2023, 11, 1), D(2023, 2, 1)),
    (2, D(2024, 1, 31)): (D(2023, 11, 1), D(2023, 2, 1)),
    (2, D(2024, 2, 1)): (D(2024, 2, 1), D(2024, 2, 1)),
    (2, D(2024, 4, 30)): (D(2024, 2, 1), D(2024, 2, 1)),
    (2, D(2024, 5, 1)): (D(2024, 5, 1), D(2024, 2, 1)),
    (2, D(2024, 11, 30)): (D(2024, 11, 1), D(2024, 2, 1)),
    # April (UK, India, Japan): quarters Apr–Jun, Jul–Sep, Oct–Dec, Jan–Mar.
    (4, D(2024, 3, 31)): (D(2024, 1, 1), D(2023, 4, 1)),
    (4, D(2024, 4, 1)): (D(2024, 4, 1), D(2024, 4, 1)),
    (4, D(2024, 8, 15)): (D(2024, 7, 1), D(2024, 4, 1)),
    (4, D(2025, 2, 28)): (D(2025, 1, 1), D(2024, 4, 1)),
    # July (US federal is October; Australia, many universities July).
    (7, D(2024, 6, 30)): (D(2024, 4, 1), D(2023, 7, 1)),
    (7, D(2024, 7, 1)): (D(2024, 7, 1), D(2024, 7, 1)),
    (7, D(2024, 9, 15)): (D(2024, 7, 1), D(2024, 7, 1)),
    (7, D(2025, 1, 10)): (D(2025, 1, 1), D(2024, 7, 1)),
    # December: quarters Dec–Feb, Mar–May, Jun–Aug, Sep–Nov.
    (12, D(2024, 11, 30)): (D(2024, 9, 1), D(2023, 12, 1)),
    (12, D(2024, 12, 1)): (D(2024, 12, 1), D(2024, 12, 1)),
    (12, D(2025, 2, 28)): (D(2024, 12, 1), D(2024, 12, 1)),
    (12, D(2025, 3, 1)): (D(2025, 3, 1), D(2024, 12, 1)),
}


@pytest.mark.parametrize(("month", "day"), list(FISCAL))
def test_fiscal_quarter_and_year_start(month: int, day: dt.date) -> None:
    calendar = Calendar(fiscal_year_start_month=month)
    quarter, year = FISCAL[month, day]
    assert calendar.period_start(day, "fiscal_quarter") == quarter
    assert calendar.period_start(day, "fiscal_year") == year


@pytest.mark.parametrize(("month", "anchors"), [
    (1, (0, 0)), (2, (1, 1)), (4, (0, 3)), (7, (0, 6)), (12, (2, 11)),
])
def test_anchor(month: int, anchors: tuple[int, int]) -> None:
    calendar = Calendar(fiscal_year_start_month=month)
    assert (calendar.anchor("fiscal_quarter"), calendar.anchor("fiscal_year")) == anchors
    assert calendar.anchor("quarter") == calendar.anchor("month") == 0


# -- labels -------------------------------------------------------------------------------


@pytest.mark.parametrize(("month", "label", "period", "grain", "text"), [
    # A fiscal year starting 2024-07-01 ends in 2025: FY2025 by its end, FY2024 by its start.
    (7, "end", D(2024, 7, 1), "fiscal_year", "FY2025"),
    (7, "start", D(2024, 7, 1), "fiscal_year", "FY2024"),
    (7, "end", D(2024, 7, 1), "fiscal_quarter", "FY2025 Q1"),
    (7, "end", D(2024, 10, 1), "fiscal_quarter", "FY2025 Q2"),
    (7, "end", D(2025, 1, 1), "fiscal_quarter", "FY2025 Q3"),
    (7, "end", D(2025, 4, 1), "fiscal_quarter", "FY2025 Q4"),
    (7, "start", D(2025, 4, 1), "fiscal_quarter", "FY2024 Q4"),
    (7, "end", D(2024, 4, 1), "fiscal_quarter", "FY2024 Q4"),
    # Starting in January the fiscal year is the calendar year, whichever naming.
    (1, "end", D(2024, 1, 1), "fiscal_year", "FY2024"),
    (1, "start", D(2024, 1, 1), "fiscal_year", "FY2024"),
    (1, "end", D(2024, 10, 1), "fiscal_quarter", "FY2024 Q4"),
    (1, "start", D(2024, 4, 1), "fiscal_quarter", "FY2024 Q2"),
    # February (retail): the year from 2024-02-01 to 2025-01-31.
    (2, "end", D(2024, 2, 1), "fiscal_year", "FY2025"),
    (2, "start", D(2024, 2, 1), "fiscal_year", "FY2024"),
    (2, "start", D(2024, 11, 1), "fiscal_quarter", "FY2024 Q4"),
    (2, "end", D(2023, 11, 1), "fiscal_quarter", "FY2024 Q4"),
    # April: 2024-04-01 to 2025-03-31.
    (4, "end", D(2025, 1, 1), "fiscal_quarter", "FY2025 Q4"),
    (4, "start", D(2025, 1, 1), "fiscal_quarter", "FY2024 Q4"),
    (4, "start", D(2024, 4, 1), "fiscal_year", "FY2024"),
    # December: 2024-12-01 to 2025-11-30.
    (12, "end", D(2024, 12, 1), "fiscal_year", "FY2025"),
    (12, "start", D(2024, 12, 1), "fiscal_year", "FY2024"),
    (12, "end", D(2024, 12, 1), "fiscal_quarter", "FY2025 Q1"),
    (12, "end", D(2025, 9, 1), "fiscal_quarter", "FY2025 Q4"),
    (12, "end", D(2024, 9, 1), "fiscal_quarter", "FY2024 Q4"),
])
def test_labels(month: int, label: str, period: dt.date, grain: str, text: str) -> None:
    calendar = Calendar(fiscal_year_start_month=month, fiscal_year_label=label)
    assert calendar.label(period, grain) == text


def test_fiscal_year_number() -> None:
    assert Calendar(fiscal_year_start_month=7).fiscal_year(D(2024, 6, 30)) == 2024
    assert Calendar(fiscal_year_start_month=7).fiscal_year(D(2024, 7, 1)) == 2025
    assert Calendar(fiscal_year_start_month=7, fiscal_year_label="start").fiscal_year(
        D(2024, 6, 30)) == 2023
    assert Calendar(fiscal_year_label="start").fiscal_year(D(2024, 6, 30)) == 2024


# -- add and periods ------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "count", "grain", "result"), [
    (D(2024, 2, 28), 1, "day", D(2024, 2, 29)),
    (D(2024, 3, 1), -1, "day", D(2024, 2, 29)),
    (D(2024, 12, 30), 1, "week", D(2025, 1, 6)),
    (D(2024, 3, 3), -2, "week", D(2024, 2, 18)),
    (D(2024, 11, 1), 2, "month", D(2025, 1, 1)),
    (D(2024, 1, 1), -1, "month", D(2023, 12, 1)),
    (D(2024, 10, 1), 1, "quarter", D(2025, 1, 1)),
    (D(2024, 2, 1), -1, "fiscal_quarter", D(2023, 11, 1)),
    (D(2024, 7, 1), 1, "fiscal_year", D(2025, 7, 1)),
    (D(2024, 1, 1), -3, "year", D(2021, 1, 1)),
    (D(2024, 5, 1), 0, "month", D(2024, 5, 1)),
])
def test_add(start: dt.date, count: int, grain: str, result: dt.date) -> None:
    assert Calendar().add(start, count, grain) == result


def test_periods_overlapping_a_range() -> None:
    calendar = Calendar()
    # [2024-01-15, 2024-04-01): the partial January, February and March.
    assert calendar.periods(D(2024, 1, 15), D(2024, 4, 1), "month") == [
        D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1)]
    # The end is exclusive, but a period it cuts into is still listed.
    assert calendar.periods(D(2024, 1, 1), D(2024, 3, 2), "month") == [
        D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1)]
    assert Calendar(week_start="sunday").periods(D(2024, 3, 6), D(2024, 3, 31), "week") == [
        D(2024, 3, 3), D(2024, 3, 10), D(2024, 3, 17), D(2024, 3, 24)]
    assert Calendar(fiscal_year_start_month=7).periods(
        D(2024, 1, 1), D(2025, 1, 1), "fiscal_year") == [D(2023, 7, 1), D(2024, 7, 1)]
    assert Calendar(fiscal_year_start_month=2).periods(
        D(2024, 1, 1), D(2024, 6, 1), "fiscal_quarter") == [
        D(2023, 11, 1), D(2024, 2, 1), D(2024, 5, 1)]
    assert calendar.periods(D(2024, 1, 1), D(2024, 1, 1), "day") == []


# -- time zones ------------------------------------------------------------------------------


@pytest.mark.parametrize(("zone", "day", "instant"), [
    # New York: EST (-5) until 2024-03-10 02:00, EDT (-4) until 2024-11-03 02:00.
    ("America/New_York", D(2024, 3, 9), T(2024, 3, 9, 5)),
    ("America/New_York", D(2024, 3, 10), T(2024, 3, 10, 5)),
    ("America/New_York", D(2024, 3, 11), T(2024, 3, 11, 4)),
    ("America/New_York", D(2024, 11, 3), T(2024, 11, 3, 4)),
    ("America/New_York", D(2024, 11, 4), T(2024, 11, 4, 5)),
    # Warsaw: CET (+1), CEST (+2) from 2024-03-31 02:00 to 2024-10-27 03:00.
    ("Europe/Warsaw", D(2024, 3, 31), T(2024, 3, 30, 23)),
    ("Europe/Warsaw", D(2024, 4, 1), T(2024, 3, 31, 22)),
    ("Europe/Warsaw", D(2024, 10, 27), T(2024, 10, 26, 22)),
    ("Europe/Warsaw", D(2024, 10, 28), T(2024, 10, 27, 23)),
    # Sydney: AEDT (+11) until 2024-04-07 03:00, AEST (+10) until 2024-10-06 02:00.
    ("Australia/Sydney", D(2024, 4, 7), T(2024, 4, 6, 13)),
    ("Australia/Sydney", D(2024, 4, 8), T(2024, 4, 7, 14)),
    ("Australia/Sydney", D(2024, 10, 6), T(2024, 10, 5, 14)),
    ("Australia/Sydney", D(2024, 10, 7), T(2024, 10, 6, 13)),
    # Kolkata: +5:30 all year.
    ("Asia/Kolkata", D(2024, 1, 1), T(2023, 12, 31, 18, 30)),
    ("Asia/Kolkata", D(2024, 7, 1), T(2024, 6, 30, 18, 30)),
    # Santiago jumps from 00:00 to 01:00 on 2024-09-08: the day starts at 01:00 (-3).
    ("America/Santiago", D(2024, 9, 8), T(2024, 9, 8, 4)),
    ("America/Santiago", D(2024, 9, 9), T(2024, 9, 9, 3)),
])
def test_utc_instant_of_local_midnight(zone: str, day: dt.date, instant: dt.datetime) -> None:
    assert Calendar(timezone=zone).utc_instant(day) == instant


@pytest.mark.parametrize("zone", [None, "UTC", "Etc/UTC"])
def test_utc_calendars_do_not_convert(zone: str | None) -> None:
    calendar = Calendar(timezone=zone)
    assert calendar.is_utc
    assert calendar.utc_instant(D(2024, 3, 10)) == T(2024, 3, 10)
    assert calendar.offsets() == ((dt.datetime.min, 0),)


def test_offsets_new_york_2024() -> None:
    # US daylight saving time 2024: from 2024-03-10 07:00 UTC to 2024-11-03 06:00 UTC.
    assert Calendar(timezone="America/New_York").offsets(D(2024, 1, 1), D(2025, 1, 1)) == (
        (dt.datetime.min, -5 * 3600),
        (T(2024, 3, 10, 7), -4 * 3600),
        (T(2024, 11, 3, 6), -5 * 3600),
    )


def test_offsets_europe_and_australia_2024() -> None:
    # EU summer time: the last Sundays of March and October, both at 01:00 UTC.
    assert Calendar(timezone="Europe/Warsaw").offsets(D(2024, 1, 1), D(2025, 1, 1)) == (
        (dt.datetime.min, 3600),
        (T(2024, 3, 31, 1), 7200),
        (T(2024, 10, 27, 1), 3600),
    )
    # Sydney: summer time ends 2024-04-07 03:00 AEDT and starts 2024-10-06 02:00 AEST.
    assert Calendar(timezone="Australia/Sydney").offsets(D(2024, 1, 1), D(2025, 1, 1)) == (
        (dt.datetime.min, 11 * 3600),
        (T(2024, 4, 6, 16), 10 * 3600),
        (T(2024, 10, 5, 16), 11 * 3600),
    )


def test_offsets_of_a_zone_without_changes() -> None:
    assert Calendar(timezone="Asia/Kolkata").offsets(D(2024, 1, 1), D(2025, 1, 1)) == (
        (dt.datetime.min, 5 * 3600 + 30 * 60),)


def test_offsets_span_only_the_dates_asked_for() -> None:
    summer = Calendar(timezone="America/New_York").offsets(D(2024, 4, 1), D(2024, 10, 1))
    assert summer == ((dt.datetime.min, -4 * 3600),)
    spring = Calendar(timezone="America/New_York").offsets(D(2024, 3, 1), D(2024, 4, 1))
    assert spring == ((dt.datetime.min, -5 * 3600), (T(2024, 3, 10, 7), -4 * 3600))


def test_offsets_without_a_span_cover_1970_to_2100() -> None:
    offsets = Calendar(timezone="America/New_York").offsets()
    assert offsets[0] == (dt.datetime.min, -5 * 3600)
    assert (T(2024, 3, 10, 7), -4 * 3600) in offsets
    assert T(1970, 1, 1) <= offsets[1][0] < T(1971, 1, 1)
    assert T(2099, 1, 1) <= offsets[-1][0] < T(2100, 1, 1)


def test_today_in_the_zone() -> None:
    evening = T(2024, 1, 1, 20, 0, tzinfo=dt.timezone.utc)
    assert Calendar().today(evening) == D(2024, 1, 1)
    assert Calendar(timezone="Asia/Kolkata").today(evening) == D(2024, 1, 2)  # 01:30 there
    assert Calendar(timezone="America/New_York").today(T(2024, 1, 2, 3, 0)) == D(2024, 1, 1)
    assert Calendar(timezone="Australia/Sydney").today(T(2024, 1, 1, 12, 59)) == D(2024, 1, 1)
    assert Calendar(timezone="Australia/Sydney").today(T(2024, 1, 1, 13, 0)) == D(2024, 1, 2)


# -- invalid calendars -----------------------------------------------------------------------


def test_invalid_week_start() -> None:
    with pytest.raises(QueryError) as info:
        Calendar(week_start="sundae")
    assert str(info.value) == ("week_start 'sundae' is not a weekday. Choose one of monday, "
                               "tuesday, wednesday, thursday, friday, saturday, sunday")


@pytest.mark.parametrize("month", [0, 13, -1])
def test_invalid_fiscal_year_start_month(month: int) -> None:
    with pytest.raises(QueryError) as info:
        Calendar(fiscal_year_start_month=month)
    assert str(info.value) == (f"fiscal_year_start_month {month!r} is not a month number. "
                               "Give 1 (January) to 12 (December)")


def test_invalid_fiscal_year_label() -> None:
    with pytest.raises(QueryError, match=r"^fiscal_year_label 'middle' is not start or end$"):
        Calendar(fiscal_year_label="middle")


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "America/NewYork", "EST5EDT/x", ""])
def test_unknown_time_zone(zone: str) -> None:
    with pytest.raises(QueryError) as info:
        Calendar(timezone=zone)
    assert info.value.message == f"unknown time zone {zone!r}"
    assert info.value.hint.startswith("Use an IANA name such as Europe/Warsaw or America/New_York")


# -- relative dates ----------------------------------------------------------------------------

FRIDAY = D(2024, 5, 17)


@pytest.mark.parametrize(("text", "result"), [
    ("2024-02-29", D(2024, 2, 29)),
    ("today", FRIDAY),
    ("yesterday", D(2024, 5, 16)),
    ("tomorrow", D(2024, 5, 18)),
    ("start_of_day", FRIDAY),
    ("start_of_week", D(2024, 5, 13)),
    ("start_of_month", D(2024, 5, 1)),
    ("start_of_quarter", D(2024, 4, 1)),
    ("start_of_year", D(2024, 1, 1)),
    ("start_of_fiscal_quarter", D(2024, 4, 1)),
    ("start_of_fiscal_year", D(2024, 1, 1)),
    ("-3 days", D(2024, 5, 14)),
    ("+2 weeks", D(2024, 5, 31)),
    ("-1 week", D(2024, 5, 10)),
    ("-12 months", D(2023, 5, 17)),
    ("-1 quarter", D(2024, 2, 17)),
    ("+1 year", D(2025, 5, 17)),
    ("-1 day", D(2024, 5, 16)),
    ("today -7 days", D(2024, 5, 10)),
    ("start_of_month -1 month", D(2024, 4, 1)),
    ("start_of_quarter -1 quarter", D(2024, 1, 1)),
    ("start_of_year -2 years", D(2022, 1, 1)),
    ("start_of_week +1 week", D(2024, 5, 20)),
    ("start_of_month +1 month -1 day", D(2024, 5, 31)),
    ("2024-01-31 +1 month", D(2024, 2, 29)),
    ("2024-02-29 +1 year", D(2025, 2, 28)),
    ("  Start_Of_Month  -1 Months ", D(2024, 4, 1)),
    ("-1month", D(2024, 4, 17)),
])
def test_relative_dates(text: str, result: dt.date) -> None:
    assert parse_relative_date(text, "--from", Calendar(), FRIDAY) == result


def test_relative_dates_follow_the_calendar() -> None:
    sunday_weeks = Calendar(week_start="sunday")
    assert parse_relative_date("start_of_week", "--from", sunday_weeks, FRIDAY) == D(2024, 5, 12)
    july = Calendar(fiscal_year_start_month=7)
    assert parse_relative_date("start_of_fiscal_year", "--from", july, FRIDAY) == D(2023, 7, 1)
    assert parse_relative_date("start_of_fiscal_quarter", "--from", july, FRIDAY) == D(2024, 4, 1)
    february = Calendar(fiscal_year_start_month=2)
    assert parse_relative_date("start_of_fiscal_year", "--from", february, FRIDAY) == D(2024, 2, 1)
    assert parse_relative_date("start_of_fiscal_quarter", "--from", february, FRIDAY) == D(2024, 5, 1)
    assert parse_relative_date("start_of_fiscal_year -1 year", "--to", july, FRIDAY) == D(2022, 7, 1)


@pytest.mark.parametrize(("today", "text", "result"), [
    # Months clamp to the month's last day, counted from the anchor each time.
    (D(2024, 3, 31), "-12 months", D(2023, 3, 31)),
    (D(2024, 3, 31), "-1 month", D(2024, 2, 29)),
    (D(2024, 3, 31), "-13 months", D(2023, 2, 28)),
    (D(2024, 5, 31), "-1 month", D(2024, 4, 30)),
    (D(2024, 5, 31), "-1 quarter", D(2024, 2, 29)),
    (D(2024, 2, 29), "-12 months", D(2023, 2, 28)),
    (D(2024, 2, 29), "-48 months", D(2020, 2, 29)),
    (D(2024, 1, 31), "+1 month +1 month", D(2024, 3, 29)),
])
def test_relative_months_clamp_to_the_month_end(today: dt.date, text: str, result: dt.date) -> None:
    assert parse_relative_date(text, "--from", Calendar(), today) == result


@pytest.mark.parametrize(("text", "message"), [
    ("next tuesday", "--from 'next tuesday' is not a date or a relative date"),
    ("", "--from '' is not a date or a relative date"),
    ("todayish", "--from 'todayish' is not a date or a relative date"),
    ("12 months", "--from '12 months' is not a date or a relative date"),
    ("-12 monthz", "--from '-12 monthz' is not a date or a relative date"),
    ("today + 3 fortnights", "--from 'today + 3 fortnights': cannot read '+ 3 fortnights'"),
    ("start_of_month -1 month later", "--from 'start_of_month -1 month later': cannot read 'later'"),
    ("start_of_decade", "--from 'start_of_decade' is not a date or a relative date"),
])
def test_relative_date_errors_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_relative_date(text, "--from", Calendar(), FRIDAY)
    assert info.value.message == message
    assert info.value.hint == (
        "Write a date (YYYY-MM-DD), today, yesterday, start_of_week|month|quarter|year|"
        "fiscal_quarter|fiscal_year, optionally followed by shifts such as '-12 months' or "
        "'+1 week'")


def test_impossible_date() -> None:
    with pytest.raises(QueryError) as info:
        parse_relative_date("2024-02-30", "--to", Calendar(), FRIDAY)
    assert str(info.value) == "--to '2024-02-30': 2024-02-30 is not a date"
