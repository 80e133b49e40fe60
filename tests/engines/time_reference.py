"""Plain-Python reference for tests/engines/test_time.py: time as users mean it.

Nothing here comes from kpispec. Periods, weeks, fiscal years, time zones,
windows, comparisons, baselines and targets are recomputed from the rules the
feature promises, with :mod:`datetime`, :mod:`zoneinfo` and :mod:`calendar`:

* a naive timestamp is a UTC instant; in a query's time zone it is read as the
  wall-clock time there (``zoneinfo``), and a ``date`` column is never converted;
* a period is [its first local midnight, the next period's first local midnight);
  weeks start on the query's weekday, fiscal quarters and years on its month;
* ``--from`` (inclusive) and ``--to`` (exclusive) are local midnights that cut
  plain measures only; the spine is every period the range touches;
* a window for a period covers [end − window, end) with end the next period's
  start (months clamp to the month's end), ``cumulative`` everything before the
  end, ``grain_to_date g`` [start of the g period holding the period's last day,
  end); it reaches back past ``--from`` but never reads past ``--to`` (a partial
  last period's window stops there); ``at: period_start`` counts rows with start <= the period's first instant
  and (no end or end > it), both in local time;
* ``previous_period`` is one period back, ``same_period_last_year`` 12 months back
  for month-based grains and 364 days for days and weeks, the range moved back by
  as much; a baseline is the metric over [A, B) as one period, except that a plain
  count or sum is divided by the number of query periods [A, B) touches (its average
  period; windows and ``at`` measures are not divided);
* counts and sums over no rows are 0; change = value − compare, change_pct =
  100 × change / |compare| (NULL on 0 or NULL); attainment = 100 × value /
  target, or 100 × target / value when lower is better (NULL on a 0 divisor).

:data:`METRICS` mirrors tests/engines/specs_time/metrics.yaml.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

D = dt.date
T = dt.datetime
UTC = dt.timezone.utc

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: West with DST, east with a half-hour offset and no DST, east with southern-hemisphere DST,
#: Central Europe.
ZONES = ("America/New_York", "Asia/Kolkata", "Australia/Sydney", "Europe/Warsaw")
REGIONS = ("AMER", "APAC", "EMEA")
MONTHS = {"month": 1, "quarter": 3, "year": 12, "fiscal_quarter": 3, "fiscal_year": 12}


# ---------------------------------------------------------------------------------
# Calendar arithmetic
# ---------------------------------------------------------------------------------


def add_months(day: dt.date, n: int) -> dt.date:
    """``day`` moved ``n`` calendar months, clamped to the last day of the month reached."""
    year, month0 = divmod(day.year * 12 + (day.month - 1) + n, 12)
    return D(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_midnight_utc(day: dt.date, tz: str | None) -> dt.datetime:
    """The naive UTC instant at which ``day`` starts in ``tz`` (no zone used here skips midnight)."""
    if tz is None:
        return T(day.year, day.month, day.day)
    aware = T(day.year, day.month, day.day, tzinfo=zone(tz))
    return aware.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Cal:
    """A query's calendar."""

    week_start: str = "monday"
    fy_start: int = 1
    fy_label: str = "end"
    tz: str | None = None

    def local(self, t: dt.datetime) -> dt.datetime:
        """Wall-clock time in the zone of the naive UTC instant ``t``."""
        if self.tz is None:
            return t
        return t.replace(tzinfo=UTC).astimezone(zone(self.tz)).replace(tzinfo=None)

    def start_months(self, grain: str) -> set[int]:
        """The months periods of a month-based grain begin in."""
        first = {"month": 1, "quarter": 1, "year": 1,
                 "fiscal_quarter": self.fy_start, "fiscal_year": self.fy_start}[grain]
        return {(first - 1 + k * MONTHS[grain]) % 12 + 1 for k in range(12 // MONTHS[grain])}

    def period_start(self, day: dt.date, grain: str) -> dt.date:
        if grain == "day":
            return day
        if grain == "week":
            while WEEKDAYS[day.weekday()] != self.week_start:
                day -= dt.timedelta(days=1)
            return day
        starts = self.start_months(grain)
        first = D(day.year, day.month, 1)
        while first.month not in starts:
            first = add_months(first, -1)
        return first

    def shift(self, period: dt.date, n: int, grain: str) -> dt.date:
        """The period start ``n`` periods after (before, when negative) ``period``."""
        if grain == "day":
            return period + dt.timedelta(days=n)
        if grain == "week":
            return period + dt.timedelta(weeks=n)
        return add_months(period, n * MONTHS[grain])

    def following(self, period: dt.date, grain: str) -> dt.date:
        return self.shift(period, 1, grain)

    def spine(self, start: dt.date, end: dt.date, grain: str) -> list[dt.date]:
        """Every period touching [start, end)."""
        out = [self.period_start(start, grain)]
        while self.following(out[-1], grain) < end:
            out.append(self.following(out[-1], grain))
        return out

    def label(self, period: dt.date, grain: str) -> str:
        """'FY2025 Q1' / 'FY2025': named by the calendar year the fiscal year ends in
        (``end``) or starts in (``start``)."""
        first = self.period_start(period, "fiscal_year")
        last_day = self.following(first, "fiscal_year") - dt.timedelta(days=1)
        year = first.year if self.fy_label == "start" else last_day.year
        if grain == "fiscal_year":
            return f"FY{year}"
        quarter, p = 1, first
        while add_months(p, 3) <= period:
            p, quarter = add_months(p, 3), quarter + 1
        return f"FY{year} Q{quarter}"


# ---------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    value: float | None = None
    grain: str = "month"
    periods: tuple[tuple[dt.date, float], ...] = ()
    higher_is_better: bool = True


@dataclass(frozen=True)
class Metric:
    """A count or a sum of ``amount`` over a table, placed by ``time`` (None: ``at``)."""

    table: str
    agg: str
    time: str | None
    window: tuple[str, Any] | None = None  # (days|months, n) | (cumulative, None) | (to_date, grain)
    targets: Targets | None = None


METRICS: dict[str, Metric] = {
    "deal_count": Metric("deals", "count", "closed_at", targets=Targets(30)),
    "deal_amount": Metric("deals", "sum", "closed_at", targets=Targets(
        150000, "month", ((D(2023, 12, 1), 120000), (D(2024, 1, 1), 140000), (D(2024, 3, 1), 0),
                          (D(2024, 6, 1), 175000.5), (D(2030, 1, 1), 1)))),
    "quarter_amount": Metric("deals", "sum", "closed_at", targets=Targets(
        None, "quarter", ((D(2024, 1, 1), 400000), (D(2024, 4, 1), 420000), (D(2024, 10, 1), 450000)))),
    "churned_customers": Metric("customers", "count", "churned_at",
                                targets=Targets(4, higher_is_better=False)),
    "signups": Metric("customers", "count", "signed_up_at"),
    "dated_deals": Metric("deals", "count", "close_date"),
    "active_customers": Metric("customers", "count", None),
    "amount_90d": Metric("deals", "sum", "closed_at", ("days", 90)),
    "deals_3m": Metric("deals", "count", "closed_at", ("months", 3)),
    "deals_cumulative": Metric("deals", "count", "closed_at", ("cumulative", None)),
    "amount_mtd": Metric("deals", "sum", "closed_at", ("to_date", "month")),
    "deals_qtd": Metric("deals", "count", "closed_at", ("to_date", "quarter")),
    "amount_ytd": Metric("deals", "sum", "closed_at", ("to_date", "year")),
    "deals_fytd": Metric("deals", "count", "closed_at", ("to_date", "fiscal_year")),
}
#: Columns holding calendar dates: never converted by a time zone.
DATE_COLUMNS = {("deals", "close_date")}


@dataclass(frozen=True)
class Query:
    metrics: tuple[str, ...]
    grain: str = "month"
    start: dt.date | None = None
    end: dt.date | None = None
    by: tuple[str, ...] = ()
    cal: Cal = field(default_factory=Cal)
    compare: str | None = None  # previous_period | same_period_last_year | baseline
    baseline: tuple[dt.date, dt.date] | None = None
    targets: bool = False

    def options(self) -> dict[str, Any]:
        """The same query as keyword options of ``kpispec.Project.run``."""
        out: dict[str, Any] = {"grain": self.grain, "start": self.start, "end": self.end,
                               "by": list(self.by), "week_start": self.cal.week_start,
                               "fiscal_year_start_month": self.cal.fy_start,
                               "fiscal_year_label": self.cal.fy_label, "timezone": self.cal.tz,
                               "targets": self.targets}
        if self.baseline is not None:
            out["baseline"] = f"{self.baseline[0]}:{self.baseline[1]}"
        elif self.compare is not None:
            out["compare"] = self.compare
        return out

    def columns(self) -> list[str]:
        out = ["period"] + (["period_label"] if self.grain.startswith("fiscal_") else []) + list(self.by)
        for name in self.metrics:
            out.append(name)
            if self.compare is not None:
                out += [f"{name}__compare", f"{name}__change", f"{name}__change_pct"]
            if self.targets and METRICS[name].targets is not None:
                out += [f"{name}__target", f"{name}__attainment"]
        return out


def compare_step(compare: str, grain: str) -> tuple[tuple[str, int], int]:
    """((days|months, how far back the range moves), periods back the compared period is)."""
    month_based = grain in MONTHS
    if compare == "previous_period":
        if month_based:
            return ("months", MONTHS[grain]), 1
        return ("days", 1 if grain == "day" else 7), 1
    if month_based:
        return ("months", 12), 12 // MONTHS[grain]
    return ("days", 364), 364 if grain == "day" else 52


def back(day: dt.date | None, step: tuple[str, int]) -> dt.date | None:
    if day is None:
        return None
    unit, n = step
    return day - dt.timedelta(days=n) if unit == "days" else add_months(day, -n)


# ---------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------


def dst_changes(tz: str, year: int) -> list[dt.datetime]:
    """UTC instants (to the second) at which ``tz`` changes its offset during ``year``."""
    out = []
    t = T(year, 1, 1)
    step = dt.timedelta(hours=1)
    while t.year == year:
        nxt = t + step
        a = t.replace(tzinfo=UTC).astimezone(zone(tz)).utcoffset()
        b = nxt.replace(tzinfo=UTC).astimezone(zone(tz)).utcoffset()
        if a != b:
            lo, hi = t, nxt
            while hi - lo > dt.timedelta(seconds=1):
                mid = lo + (hi - lo) // 2
                if mid.replace(tzinfo=UTC).astimezone(zone(tz)).utcoffset() == a:
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
        t = nxt
    return out


def make_data(seed: int = 20240310) -> dict[str, list[dict[str, Any]]]:
    """Deals (closed_at, close_date, region, amount) and customers (signed_up_at,
    churned_at or NULL), with many timestamps right at, or a second or a few hours
    from, local midnights that start months in every zone, DST changes and Feb 29.

    Amounts are multiples of 0.25, so every sum is exact in binary floating point
    whatever the order an engine adds in.
    """
    rng = random.Random(seed)
    deals: list[dict[str, Any]] = []

    def deal(t: dt.datetime) -> None:
        deals.append({"deal_id": len(deals) + 1, "closed_at": t,
                      "close_date": (t + dt.timedelta(hours=rng.choice([0, 0, 7, -9]))).date(),
                      "region": rng.choice(REGIONS), "amount": rng.randrange(40, 40000) / 4})

    span_start, span_days = T(2022, 9, 15), (T(2025, 7, 15) - T(2022, 9, 15)).days
    for _ in range(700):
        deal(span_start + dt.timedelta(days=rng.randrange(span_days), seconds=rng.randrange(86400)))
    month_starts = [add_months(D(2023, 10, 1), k) for k in range(17)]  # 2023-10 … 2025-02
    for first in month_starts:
        for tz in (None, *ZONES):
            u = local_midnight_utc(first, tz)
            deal(u - dt.timedelta(seconds=1))
            deal(u)
        deal(T(first.year, first.month, first.day) + dt.timedelta(minutes=rng.randrange(-720, 720)))
    for tz in ZONES:
        for change in dst_changes(tz, 2024):
            for seconds in (-5400, -1, 0, 1, 1800, 7200):
                deal(change + dt.timedelta(seconds=seconds))
            day = (change.replace(tzinfo=UTC).astimezone(zone(tz))).date()
            for d in (day, day + dt.timedelta(days=1)):
                u = local_midnight_utc(d, tz)
                deal(u - dt.timedelta(seconds=1))
                deal(u)
    for t in (T(2024, 2, 29), T(2024, 2, 29, 12), T(2024, 2, 29, 23, 59, 59, 999999),
              T(2024, 3, 1, 3), T(2024, 2, 28, 20), T(2023, 2, 28, 23), T(2024, 3, 1, 0, 0, 0, 1)):
        deal(t)

    customers: list[dict[str, Any]] = []

    def customer(signed: dt.datetime, churned: dt.datetime | None) -> None:
        customers.append({"customer_id": len(customers) + 1, "signed_up_at": signed,
                          "churned_at": churned})

    c_start, c_days = T(2022, 6, 1), (T(2025, 6, 1) - T(2022, 6, 1)).days
    for _ in range(220):
        signed = c_start + dt.timedelta(days=rng.randrange(c_days), seconds=rng.randrange(86400))
        churned = None
        if rng.random() > 0.35:
            churned = signed + dt.timedelta(hours=rng.randrange(2, 500 * 24), seconds=rng.randrange(3600))
        customer(signed, churned)
    for first in [add_months(D(2024, 1, 1), k) for k in range(12)]:
        for tz in (None, *ZONES):
            u = local_midnight_utc(first, tz)
            customer(u, None)  # alive from exactly the period's first instant
            customer(u - dt.timedelta(days=40), u)  # gone at exactly that instant
            customer(u - dt.timedelta(days=1), u + dt.timedelta(seconds=1))  # still there
            customer(u + dt.timedelta(seconds=1), None)  # one second too late
    return {"deals": deals, "customers": customers}


TYPES = {
    "deals": {"deal_id": "int64", "closed_at": "timestamp", "close_date": "date",
              "region": "string", "amount": "float64"},
    "customers": {"customer_id": "int64", "signed_up_at": "timestamp", "churned_at": "timestamp"},
}


def arrow_tables(data: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    import pyarrow as pa

    kinds = {"int64": pa.int64(), "string": pa.string(), "float64": pa.float64(),
             "timestamp": pa.timestamp("us"), "date": pa.date32()}
    return {name: pa.Table.from_pylist(rows, schema=pa.schema(
        [(c, kinds[t]) for c, t in TYPES[name].items()])) for name, rows in data.items()}


# ---------------------------------------------------------------------------------
# The reference computation
# ---------------------------------------------------------------------------------

_ANY = object()  # no dimension filter


def _div(a: Any, b: Any) -> Any:
    return None if a is None or b is None or b == 0 else a / b


class Reference:
    """Expected results of :class:`Query` over the rows of :func:`make_data`."""

    def __init__(self, data: Mapping[str, list[dict[str, Any]]]) -> None:
        self.data = data
        self._sorted: dict[tuple[str, str, str | None], tuple[list[dt.datetime], list[dict[str, Any]]]] = {}
        self._lifecycles: dict[str | None, list[tuple[dt.datetime, dt.datetime | None]]] = {}
        self._expected: dict[tuple[Query, str], list[dict[str, Any]]] = {}

    # -- rows in local time ------------------------------------------------------------

    def _by_time(self, table: str, column: str, cal: Cal) -> tuple[list[dt.datetime], list[dict[str, Any]]]:
        key = (table, column, cal.tz)
        if key not in self._sorted:
            pairs = []
            for r in self.data[table]:
                v = r[column]
                if v is None:
                    continue
                if (table, column) in DATE_COLUMNS:
                    when = T(v.year, v.month, v.day)
                else:
                    when = cal.local(v)
                pairs.append((when, r))
            pairs.sort(key=lambda p: p[0])
            self._sorted[key] = ([p[0] for p in pairs], [p[1] for p in pairs])
        return self._sorted[key]

    def _between(self, m: Metric, cal: Cal, lo: dt.date | None, hi: dt.date | None,
                 region: Any = _ANY) -> Any:
        """The measure over rows whose local time is in [lo, hi) (local midnights)."""
        assert m.time is not None
        times, rows = self._by_time(m.table, m.time, cal)
        i = 0 if lo is None else bisect.bisect_left(times, T(lo.year, lo.month, lo.day))
        j = len(times) if hi is None else bisect.bisect_left(times, T(hi.year, hi.month, hi.day))
        chosen = [r for r in rows[i:j] if region is _ANY or r["region"] == region]
        if m.agg == "count":
            return len(chosen)
        return float(sum(r["amount"] for r in chosen))

    def _alive(self, cal: Cal, moment: dt.date) -> int:
        if cal.tz not in self._lifecycles:
            self._lifecycles[cal.tz] = [
                (cal.local(c["signed_up_at"]), None if c["churned_at"] is None else cal.local(c["churned_at"]))
                for c in self.data["customers"]]
        t = T(moment.year, moment.month, moment.day)
        return sum(1 for s, e in self._lifecycles[cal.tz] if s <= t and (e is None or e > t))

    def _window_lower(self, m: Metric, cal: Cal, upper: dt.date) -> dt.date | None:
        assert m.window is not None
        kind, n = m.window
        if kind == "days":
            return upper - dt.timedelta(days=n)
        if kind == "months":
            return add_months(upper, -n)
        if kind == "to_date":
            return cal.period_start(upper - dt.timedelta(days=1), n)
        return None  # cumulative

    @staticmethod
    def _clip(lo: dt.date | None, hi: dt.date | None, period: dt.date, nxt: dt.date
              ) -> tuple[dt.date, dt.date]:
        return (period if lo is None else max(lo, period)), (nxt if hi is None else min(hi, nxt))

    # -- one value -----------------------------------------------------------------------

    def value(self, name: str, q: Query, period: dt.date, region: Any = _ANY,
              step: tuple[tuple[str, int], int] | None = None) -> Any:
        """The metric at ``period``; with ``step`` (range move, periods back), its compare."""
        m = METRICS[name]
        cal, grain = q.cal, q.grain
        lo, hi = q.start, q.end
        if step is not None:
            (move, periods) = step
            lo, hi = back(lo, move), back(hi, move)
            period = cal.shift(period, -periods, grain)
        if m.time is None:
            return self._alive(cal, period)
        nxt = cal.following(period, grain)
        if m.window is not None:  # reaches back past --from, but never reads past --to
            upper = nxt if hi is None else min(nxt, hi)
            return self._between(m, cal, self._window_lower(m, cal, nxt), upper, region)
        a, b = self._clip(lo, hi, period, nxt)
        return self._between(m, cal, a, b, region) if a < b else self._between(m, cal, a, a, region)

    def baseline_value(self, name: str, q: Query, region: Any = _ANY) -> Any:
        assert q.baseline is not None
        m = METRICS[name]
        a, b = q.baseline
        if m.time is None:
            return self._alive(q.cal, a)
        if m.window is not None:
            return self._between(m, q.cal, self._window_lower(m, q.cal, b), b, region)
        # A count or a sum is compared per period: over the number of query periods the
        # baseline range touches (one it covers in part counts as one).
        return self._between(m, q.cal, a, b, region) / len(q.cal.spine(a, b, q.grain))

    @staticmethod
    def target(name: str, q: Query, period: dt.date) -> Any:
        t = METRICS[name].targets
        assert t is not None
        if t.grain == q.grain:
            return dict(t.periods).get(period, t.value)
        if t.value is None:
            raise ValueError(f"{name}: no target applies at grain {q.grain}")
        return t.value

    # -- a whole result ------------------------------------------------------------------

    def _keys(self, q: Query, spine: list[dt.date]) -> list[tuple[dt.date, Any]]:
        """(period, region) rows: every region with rows of a by-period scan in the period
        (compared ranges included), or one row with no region."""
        if not q.by:
            return [(p, _ANY) for p in spine]
        assert q.by == ("region",)
        for name in q.metrics:
            m = METRICS[name]
            assert m.table == "deals" and m.time == "closed_at" and m.window is None, name
        steps: list[Any] = [None]
        if q.compare in ("previous_period", "same_period_last_year"):
            steps.append(compare_step(q.compare, q.grain))
        probe = METRICS["deal_count"]
        out = []
        for p in spine:
            regions = set()
            for step in steps:
                lo, hi, period = q.start, q.end, p
                if step is not None:
                    lo, hi = back(lo, step[0]), back(hi, step[0])
                    period = q.cal.shift(p, -step[1], q.grain)
                a, b = self._clip(lo, hi, period, q.cal.following(period, q.grain))
                for region in REGIONS:
                    if a < b and self._between(probe, q.cal, a, b, region):
                        regions.add(region)
            out += [(p, r) for r in sorted(regions)] or [(p, None)]
        return out

    def spine(self, q: Query) -> list[dt.date]:
        if q.start is not None and q.end is not None:
            return q.cal.spine(q.start, q.end, q.grain)
        # Unbounded (plain measures only): from the first to the last period with rows.
        seen = []
        for name in q.metrics:
            m = METRICS[name]
            assert m.time is not None and m.window is None, "unbounded spines: plain measures only"
            times, _ = self._by_time(m.table, m.time, q.cal)
            seen += [times[0].date(), times[-1].date()]
        first = q.cal.period_start(q.start or min(seen), q.grain)
        last = max(seen) if q.end is None else q.end - dt.timedelta(days=1)
        return q.cal.spine(first, last + dt.timedelta(days=1), q.grain)

    def expected(self, q: Query) -> list[dict[str, Any]]:
        key = (q, "rows")
        if key in self._expected:
            return self._expected[key]
        rows = []
        for period, region in self._keys(q, self.spine(q)):
            row: dict[str, Any] = {"period": period}
            if q.grain.startswith("fiscal_"):
                row["period_label"] = q.cal.label(period, q.grain)
            if q.by:
                row["region"] = region
            for name in q.metrics:
                v = self.value(name, q, period, region)
                row[name] = v
                if q.compare is not None:
                    if q.compare == "baseline":
                        c = self.baseline_value(name, q, region)
                    else:
                        c = self.value(name, q, period, region, compare_step(q.compare, q.grain))
                    change = None if v is None or c is None else v - c
                    row[f"{name}__compare"] = c
                    row[f"{name}__change"] = change
                    row[f"{name}__change_pct"] = (None if change is None or not c
                                                  else 100 * change / abs(c))
                t = METRICS[name].targets
                if q.targets and t is not None:
                    target = self.target(name, q, period)
                    row[f"{name}__target"] = target
                    row[f"{name}__attainment"] = (_div(100 * v, target) if t.higher_is_better
                                                  else _div(100 * target, v) if target is not None
                                                  else None)
            rows.append(row)
        self._expected[key] = rows
        return rows


# ---------------------------------------------------------------------------------
# Comparing a result
# ---------------------------------------------------------------------------------


def normalise(value: Any, column: str) -> Any:
    """Engine values as Python ones: ISO text and timestamps to dates in the period column,
    decimals to floats."""
    if value is None:
        return None
    if column == "period":
        if isinstance(value, str):
            return D.fromisoformat(value[:10])
        if isinstance(value, dt.datetime):
            return value.date()
        return value
    if isinstance(value, Decimal):
        return float(value)
    return value


def same(actual: Any, expected: Any) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        if not isinstance(actual, (int, float)) or isinstance(actual, bool):
            return False
        return bool(abs(actual - expected) <= max(1e-9 * max(abs(expected), abs(actual)), 1e-9))
    return bool(actual == expected)


def differences(columns: list[str], actual: list[dict[str, Any]], expected: list[dict[str, Any]],
                columns_expected: list[str]) -> list[str]:
    """Human-readable differences between a result and the expected rows (empty: equal)."""
    if columns != columns_expected:
        return [f"columns {columns} != expected {columns_expected}"]
    out = []
    rows = [{c: normalise(r[c], c) for c in columns} for r in actual]
    if len(rows) != len(expected):
        out.append(f"{len(rows)} rows, expected {len(expected)}: "
                   f"{[(r['period'], r.get('region')) for r in rows]} vs "
                   f"{[(r['period'], r.get('region')) for r in expected]}")
    for got, want in zip(rows, expected):
        bad = [c for c in columns if not same(got[c], want[c])]
        if bad:
            where = f"{want['period']}" + (f" {want['region']}" if "region" in want else "")
            out.append(f"{where}: " + ", ".join(f"{c}={got[c]!r} (expected {want[c]!r})" for c in bad))
    return out
