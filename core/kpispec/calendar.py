"""The calendar a query's periods follow: week start, fiscal year, time zone.

Everything here is plain Python over :class:`datetime.date`: the compiler uses
it for what it knows at compile time (the literal period spine, range bounds,
the offsets of a time zone), and tests use it as the independent reference of
what a period is. The SQL side of the same rules is in kpispec's nodes
(:mod:`kpispec.compile.nodes`) and their spelling per dialect
(:mod:`kpispec.compile.dialects`).

>>> fy = Calendar(fiscal_year_start_month=7)
>>> fy.period_start(dt.date(2024, 9, 15), "fiscal_quarter")
datetime.date(2024, 7, 1)
>>> fy.label(dt.date(2024, 7, 1), "fiscal_quarter")
'FY2025 Q1'
>>> Calendar(week_start="sunday").period_start(dt.date(2024, 3, 6), "week")
datetime.date(2024, 3, 3)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from kpispec.errors import QueryError

__all__ = ["FISCAL_GRAINS", "GRAINS", "GRAIN_MONTHS", "WEEKDAYS", "Calendar", "parse_relative_date"]

GRAINS = ("day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year")
FISCAL_GRAINS = ("fiscal_quarter", "fiscal_year")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: How many months a period of a month-based grain spans.
GRAIN_MONTHS = {"month": 1, "quarter": 3, "year": 12, "fiscal_quarter": 3, "fiscal_year": 12}
#: Time zone offsets are listed for this span when a query has no bounded range.
_ZONE_SPAN = (dt.date(1970, 1, 1), dt.date(2100, 1, 1))


@dataclass(frozen=True)
class Calendar:
    """How days fall into periods.

    Attributes:
        week_start: the weekday weeks start on (``monday`` … ``sunday``).
        fiscal_year_start_month: the month (1–12) fiscal years start in.
        fiscal_year_label: ``end`` names a fiscal year by the calendar year it ends in
            (FY2025 starts 2024-07-01 when fiscal years start in July); ``start`` by the
            year it starts in.
        timezone: the IANA time zone periods are read in; ``None`` is UTC. Naive
            timestamps in the data are taken as UTC.
    """

    week_start: str = "monday"
    fiscal_year_start_month: int = 1
    fiscal_year_label: str = "end"
    timezone: str | None = None

    def __post_init__(self) -> None:
        if self.week_start not in WEEKDAYS:
            raise QueryError(f"week_start {self.week_start!r} is not a weekday",
                             hint=f"Choose one of {', '.join(WEEKDAYS)}")
        if not 1 <= self.fiscal_year_start_month <= 12:
            raise QueryError(f"fiscal_year_start_month {self.fiscal_year_start_month!r} is not a "
                             "month number", hint="Give 1 (January) to 12 (December)")
        if self.fiscal_year_label not in ("start", "end"):
            raise QueryError(f"fiscal_year_label {self.fiscal_year_label!r} is not start or end")
        if self.timezone is not None and not self.is_utc:
            zone(self.timezone)  # fails early, with the message users need

    @property
    def week_offset(self) -> int:
        """Days from Monday to the first day of a week (0 for Monday, 6 for Sunday)."""
        return WEEKDAYS.index(self.week_start)

    @property
    def is_utc(self) -> bool:
        """True when periods are read in UTC (no time zone conversion at all)."""
        return self.timezone is None or self.timezone.upper() in ("UTC", "ETC/UTC", "Z")

    def anchor(self, grain: str) -> int:
        """The month (0-based, from January) periods of a month-based ``grain`` are aligned to."""
        if grain in FISCAL_GRAINS:
            shift = self.fiscal_year_start_month - 1
            return shift % 3 if grain == "fiscal_quarter" else shift
        return 0

    # -- periods --------------------------------------------------------------------

    def period_start(self, day: dt.date, grain: str) -> dt.date:
        """The first day of the ``grain`` period holding ``day``."""
        if grain == "day":
            return day
        if grain == "week":
            return day - dt.timedelta(days=(day.weekday() - self.week_offset) % 7)
        months = GRAIN_MONTHS[grain]
        index = day.year * 12 + day.month - 1
        shift = self.anchor(grain)
        start = (index - shift) // months * months + shift
        return dt.date(start // 12, start % 12 + 1, 1)

    def add(self, start: dt.date, count: int, grain: str) -> dt.date:
        """The period start ``count`` periods after the period start ``start``."""
        if grain in ("day", "week"):
            return start + dt.timedelta(days=count * (1 if grain == "day" else 7))
        return add_months(start, count * GRAIN_MONTHS[grain])

    def periods(self, start: dt.date, end: dt.date, grain: str) -> list[dt.date]:
        """Every period start of the periods that overlap [start, end)."""
        out = []
        day = self.period_start(start, grain)
        while day < end:
            out.append(day)
            day = self.add(day, 1, grain)
        return out

    def fiscal_year(self, day: dt.date) -> int:
        """The number of the fiscal year holding ``day``, as labels show it."""
        start = self.period_start(day, "fiscal_year")
        bump = 1 if self.fiscal_year_label == "end" and self.fiscal_year_start_month != 1 else 0
        return start.year + bump

    def label(self, period: dt.date, grain: str) -> str:
        """How finance names a fiscal period: ``FY2025 Q1``, ``FY2025``."""
        year = f"FY{self.fiscal_year(period)}"
        if grain == "fiscal_year":
            return year
        first = self.period_start(period, "fiscal_year")
        quarter = ((period.year - first.year) * 12 + period.month - first.month) // 3 + 1
        return f"{year} Q{quarter}"

    # -- time zones -----------------------------------------------------------------

    def utc_instant(self, day: dt.date) -> dt.datetime:
        """Midnight at the start of ``day`` in the calendar's zone, as a naive UTC datetime.

        Where midnight does not exist (a DST jump at midnight) it is the first instant of
        the day that does.
        """
        midnight = dt.datetime(day.year, day.month, day.day)
        if self.is_utc:
            return midnight
        assert self.timezone is not None
        tz = zone(self.timezone)
        utc = midnight.replace(tzinfo=tz).astimezone(dt.timezone.utc).replace(tzinfo=None)
        if to_local(utc, tz) < midnight:  # skipped over: the day starts when the clock jumps
            utc += dt.timedelta(hours=1)
            while to_local(utc, tz) < midnight:
                utc += dt.timedelta(minutes=15)
        return utc

    def offsets(self, start: dt.date | None = None, end: dt.date | None = None
                ) -> tuple[tuple[dt.datetime, int], ...]:
        """The zone's UTC offsets (seconds) over [start, end): the offset before the first
        change, then (UTC instant of a change, offset from then on) for every change.

        The first entry's instant is ``datetime.min``. Without a bounded span the offsets
        of 1970–2100 are listed.
        """
        if self.is_utc:
            return ((dt.datetime.min, 0),)
        assert self.timezone is not None
        if start is None or end is None:
            start, end = _ZONE_SPAN
        return _offsets(self.timezone, start, end)

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """Today's date in the calendar's zone."""
        current = now or dt.datetime.now(dt.timezone.utc)
        if current.tzinfo is None:
            current = current.replace(tzinfo=dt.timezone.utc)
        if self.is_utc:
            return current.astimezone(dt.timezone.utc).date()
        assert self.timezone is not None
        return current.astimezone(zone(self.timezone)).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved ``months`` later (earlier when negative), clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    next_first = dt.date(year + (month0 + 1) // 12, (month0 + 1) % 12 + 1, 1)
    last = (next_first - dt.timedelta(days=1)).day
    return dt.date(year, month0 + 1, min(day.day, last))


@lru_cache(maxsize=64)
def zone(name: str) -> dt.tzinfo:
    """The IANA time zone ``name``; a QueryError naming it when it does not exist."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QueryError(f"unknown time zone {name!r}",
                         hint="Use an IANA name such as Europe/Warsaw or America/New_York "
                              "(pip install tzdata where the system has no zone database)"
                         ) from None


def to_local(utc: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A naive UTC datetime as the naive wall-clock time in ``tz``."""
    return utc.replace(tzinfo=dt.timezone.utc).astimezone(tz).replace(tzinfo=None)


def _offset(utc: dt.datetime, tz: dt.tzinfo) -> int:
    delta = utc.replace(tzinfo=dt.timezone.utc).astimezone(tz).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


@lru_cache(maxsize=64)
def _offsets(name: str, start: dt.date, end: dt.date) -> tuple[tuple[dt.datetime, int], ...]:
    tz = zone(name)
    step = dt.timedelta(days=1)  # no zone changes its offset twice within a day
    t = dt.datetime(start.year, start.month, start.day)
    stop = dt.datetime(end.year, end.month, end.day)
    current = _offset(t, tz)
    out: list[tuple[dt.datetime, int]] = [(dt.datetime.min, current)]
    while t < stop:
        nxt = t + step
        value = _offset(nxt, tz)
        if value != current:
            lo, hi = t, nxt  # the change is in (lo, hi]: bisect to the second
            while hi - lo > dt.timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if _offset(mid, tz) == current:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, value))
            current = value
        t = nxt
    return tuple(out)


_RELATIVE_UNIT = r"(day|week|month|quarter|year)s?"
_SHIFT = re.compile(rf"([+-])\s*(\d+)\s*{_RELATIVE_UNIT}\b", re.IGNORECASE)
_ANCHOR = re.compile(r"^(today|yesterday|tomorrow|start_of_(?:day|week|month|quarter|year|"
                     r"fiscal_quarter|fiscal_year)|\d{4}-\d{2}-\d{2})\b", re.IGNORECASE)
RELATIVE_HELP = ("a date (YYYY-MM-DD), today, yesterday, start_of_week|month|quarter|year|"
                 "fiscal_quarter|fiscal_year, optionally followed by shifts such as "
                 "'-12 months' or '+1 week'")


def parse_relative_date(text: str, option: str, calendar: Calendar, today: dt.date) -> dt.date:
    """A ``--from``/``--to`` value: a date, or a relative form counted from ``today``.

    >>> cal = Calendar()
    >>> parse_relative_date("-12 months", "--from", cal, dt.date(2024, 5, 17))
    datetime.date(2023, 5, 17)
    >>> parse_relative_date("start_of_quarter -1 quarter", "--from", cal, dt.date(2024, 5, 17))
    datetime.date(2024, 1, 1)
    """
    rest = text.strip()
    day = today
    match = _ANCHOR.match(rest)
    if match:
        anchor = match.group(1).lower()
        rest = rest[match.end():].strip()
        if anchor[0].isdigit():
            try:
                day = dt.date.fromisoformat(anchor)
            except ValueError:
                raise QueryError(f"{option} {text!r}: {anchor} is not a date") from None
        elif anchor == "yesterday":
            day = today - dt.timedelta(days=1)
        elif anchor == "tomorrow":
            day = today + dt.timedelta(days=1)
        elif anchor.startswith("start_of_"):
            day = calendar.period_start(today, anchor.removeprefix("start_of_"))
    elif not _SHIFT.match(rest):
        raise QueryError(f"{option} {text!r} is not a date or a relative date",
                         hint=f"Write {RELATIVE_HELP}")
    while rest:
        shift = _SHIFT.match(rest)
        if not shift:
            raise QueryError(f"{option} {text!r}: cannot read {rest!r}",
                             hint=f"Write {RELATIVE_HELP}")
        n = int(shift.group(2)) * (-1 if shift.group(1) == "-" else 1)
        unit = shift.group(3).lower()
        if unit in ("day", "week"):
            day += dt.timedelta(days=n * (7 if unit == "week" else 1))
        else:
            day = add_months(day, n * GRAIN_MONTHS[unit])
        rest = rest[shift.end():].strip()
    return day
