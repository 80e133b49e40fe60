"""How many periods a period spine can hold: every one the query needs, or a clear refusal.

The spine is generated from a table of the ten digits joined with itself once
per decimal digit of the period count (``ones × tens × hundreds …``). It used
to stop at five digits, so ``--grain day --from 1750-01-01 --to 2025-01-01``
(100,439 days) silently lost its last 439 periods. Now:

- a range with both ends gets exactly the digits its period count needs, up to
  :data:`MAX_PERIODS`; a longer one is refused, naming the count, the limit and
  the coarser grains that fit;
- a range open at either end (its periods come from the data) gets a spine of
  :data:`OPEN_RANGE_DIGITS` digits: a million days (2,737 years), 100,000
  weeks (1,917 years), 100,000 months, 10,000 quarters or years — kept that
  small because the digit tables are joined in full before the range filters
  them (a seven-digit spine costs SQLite 8 s). Give ``--from``/``--to`` for a
  longer span.
"""

from __future__ import annotations

import datetime as dt

from kpispec.calendar import GRAIN_MONTHS, Calendar
from kpispec.errors import QueryError

__all__ = ["DIGIT_NAMES", "MAX_PERIODS", "OPEN_RANGE_DIGITS", "bounded_digits", "count_periods",
           "open_digits"]

#: The most periods a range with both ends may have (2,737 years of days).
MAX_PERIODS = 1_000_000
#: The aliases of the digit tables, one per decimal digit of the period number.
DIGIT_NAMES = ("ones", "tens", "hundreds", "thousands", "ten_thousands", "hundred_thousands",
               "millions")
#: Digits of a spine whose range comes from the data, per grain.
OPEN_RANGE_DIGITS = {"day": 6, "week": 5, "month": 5, "quarter": 4, "year": 4,
                     "fiscal_quarter": 4, "fiscal_year": 4}
_COARSER = ("week", "month", "quarter", "year")


def count_periods(first: dt.date, end: dt.date, grain: str, calendar: Calendar) -> int:
    """How many ``grain`` periods start on or after the period start ``first`` and before
    ``end`` — by arithmetic, not by listing them (3,651,694 days take no time).

    >>> c = Calendar()
    >>> [count_periods(dt.date(2024, 1, 1), dt.date(2024, 3, d), "month", c) for d in (1, 2)]
    [2, 3]
    >>> count_periods(dt.date(1750, 1, 1), dt.date(2025, 1, 1), "day", c)
    100442
    """
    if end <= first:
        return 0
    if grain == "day":
        return (end - first).days
    if grain == "week":
        return -(-(end - first).days // 7)
    months = GRAIN_MONTHS.get(grain)
    if months is None:  # a grain of a calendar table: list them
        return len(calendar.periods(first, end, grain))
    last = end.year * 12 + end.month - 1 - (0 if end.day > 1 else 1)
    return max(0, (last - (first.year * 12 + first.month - 1)) // months + 1)


def bounded_digits(count: int, start: dt.date, end: dt.date, grain: str,
                   calendar: Calendar) -> int:
    """Digits of a spine of ``count`` periods (``start``..``end`` at ``grain``).

    Raises:
        QueryError: more than :data:`MAX_PERIODS` periods.
    """
    if count > MAX_PERIODS:
        fits = []
        for coarser in _COARSER:
            n = count_periods(calendar.period_start(start, coarser), end, coarser, calendar)
            if coarser != grain and n <= MAX_PERIODS:
                fits.append(f"--grain {coarser} ({n:,} periods)")
        raise QueryError(
            f"--from {start} --to {end} at --grain {grain} is {count:,} periods; kpispec "
            f"computes at most {MAX_PERIODS:,}",
            hint=f"Use {' or '.join(fits[:2]) or 'a coarser --grain'}, or a shorter range")
    return max(1, len(str(max(count - 1, 0))))


def open_digits(grain: str) -> int:
    """Digits of a spine whose range comes from the data (see :data:`OPEN_RANGE_DIGITS`)."""
    return OPEN_RANGE_DIGITS.get(grain, 5)
