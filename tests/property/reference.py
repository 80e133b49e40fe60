"""What a query over a generated project and its rows should return, in plain Python.

Independent of kpispec: no SQL, no kpispec calendar. The rules are the ones
docs/spec_language.md and docs/time.md state:

* a row belongs to the period of its measure's time column (converted to the
  query's time zone unless the column is declared ``type: date``); rows with a
  NULL time are never counted; ``--from`` is inclusive, ``--to`` exclusive,
  both local midnights;
* names resolve from a measure's model: declared column, own dimension, (metric
  filters, ``--where`` and ``--by``) a dimension reached through joins, else an
  undeclared column; ``model.name`` names that model's dimension or column;
  joins are LEFT joins (a missing parent gives NULLs);
* ``count``, ``count_distinct`` and ``sum`` over no rows are 0; ``avg``,
  ``min``, ``max`` are NULL; a ratio is ``numerator * scale / denominator``,
  NULL when the denominator is 0 or NULL; ``/`` in a derived metric likewise;
  a metric filter applies to every measure the metric reaches;
* comparisons: the value of the same dimension values in the earlier period
  (previous period, or 52 weeks / 12 months earlier), change and change in
  percent; targets: the period's target and 100 × value / target (or
  target / value when lower is better).

Windowed and point-in-time measures, medians and percentiles, offsets and
baselines are executed but not recomputed (their values are :data:`UNCHECKED`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from .exprs import Expr
from .gen import GRAINS, WEEKDAYS, Measure, Metric, Model, Project, reachable

#: How many values were compared, and how many were not recomputed (for tuning the generators).
STATS: Counter[str] = Counter()


class _Unchecked:
    def __repr__(self) -> str:
        return "UNCHECKED"


#: A value the reference does not recompute.
UNCHECKED: Any = _Unchecked()
UTC = dt.timezone.utc


# ---------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------


def add_months(day: dt.date, n: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + n
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


@dataclass(frozen=True)
class Cal:
    week_start: int = 0  # 0 = Monday
    fiscal_month: int = 1
    timezone: str | None = None

    def period(self, day: dt.date, grain: str) -> dt.date:
        if grain == "day":
            return day
        if grain == "week":
            return day - dt.timedelta(days=(day.weekday() - self.week_start) % 7)
        if grain == "month":
            return day.replace(day=1)
        if grain == "quarter":
            return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        if grain == "year":
            return dt.date(day.year, 1, 1)
        anchor = self.fiscal_month - 1
        span = 3 if grain == "fiscal_quarter" else 12
        index = day.year * 12 + day.month - 1
        start = (index - anchor) // span * span + anchor
        return dt.date(start // 12, start % 12 + 1, 1)

    def next(self, start: dt.date, grain: str, n: int = 1) -> dt.date:
        if grain == "day":
            return start + dt.timedelta(days=n)
        if grain == "week":
            return start + dt.timedelta(days=7 * n)
        months = {"month": 1, "quarter": 3, "fiscal_quarter": 3}.get(grain, 12)
        return add_months(start, months * n)

    def spine(self, start: dt.date, end: dt.date, grain: str) -> list[dt.date]:
        out = []
        day = self.period(start, grain)
        while day < end:
            out.append(day)
            day = self.next(day, grain)
        return out

    def local(self, value: Any, convert: bool) -> dt.datetime | None:
        """A time column's value as a naive local datetime (None for NULL)."""
        if value is None:
            return None
        stamp = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        zone = self.timezone
        if not convert or zone is None or zone.upper() in ("UTC", "ETC/UTC", "Z"):
            return stamp
        return stamp.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


_ANCHORS = {"start_of_day": "day", "start_of_week": "week", "start_of_month": "month",
            "start_of_quarter": "quarter", "start_of_year": "year",
            "start_of_fiscal_quarter": "fiscal_quarter", "start_of_fiscal_year": "fiscal_year"}


def relative_date(text: str | None, cal: Cal, today: dt.date | None) -> dt.date | None:
    """``--from`` / ``--to``: a date, or an anchor and shifts (docs/time.md, Ranges)."""
    if text is None:
        return None
    parts = text.split()
    day: dt.date
    if parts and not parts[0].startswith(("+", "-")):
        head = parts.pop(0)
        if head in _ANCHORS:
            assert today is not None
            day = cal.period(today, _ANCHORS[head])
        elif head in ("today", "yesterday", "tomorrow"):
            assert today is not None
            day = today + dt.timedelta(days={"today": 0, "yesterday": -1, "tomorrow": 1}[head])
        else:
            day = dt.date.fromisoformat(head)
    else:
        assert today is not None
        day = today
    while parts:
        amount, unit = int(parts.pop(0)), parts.pop(0).rstrip("s")
        if unit in ("day", "week"):
            day += dt.timedelta(days=amount * (7 if unit == "week" else 1))
        else:
            day = add_months(day, amount * {"month": 1, "quarter": 3, "year": 12}[unit])
    return day


def calendar_of(project: Project, options: Mapping[str, Any]) -> Cal:
    settings = project.settings
    week = options.get("week_start") or settings.get("week_start", "monday")
    fiscal = options.get("fiscal_year_start_month") or settings.get("fiscal_year_start_month", 1)
    zone = options.get("timezone") or settings.get("timezone")
    return Cal(WEEKDAYS.index(week), int(fiscal), zone)


def comparison_shift(grain: str, compare: str) -> tuple[str, int]:
    """How far back a comparison looks: (unit, count) with unit day or month."""
    if compare == "same_period_last_year":
        return ("day", 364) if grain in ("day", "week") else ("month", 12)
    return {"day": ("day", 1), "week": ("day", 7), "month": ("month", 1), "quarter": ("month", 3),
            "fiscal_quarter": ("month", 3)}.get(grain, ("month", 12))


# ---------------------------------------------------------------------------------
# Rows and names
# ---------------------------------------------------------------------------------

Key = tuple[Any, ...]  # (period, dimension values…)


class Rows:
    """The generated rows of each model, as the model (not the table) sees them."""

    def __init__(self, project: Project, data: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self.project = project
        self.rows: dict[str, list[Mapping[str, Any]]] = {}
        self.by_key: dict[tuple[str, str], dict[Any, Mapping[str, Any]]] = {}
        for model in project.models:
            rows = list(data[model.name])
            if model.sql_filter is not None:
                flt = model.sql_filter
                rows = [r for r in rows if flt.eval(lambda n, _r=r: _r[n]) is True]  # type: ignore[misc]
            self.rows[model.name] = rows

    def parent(self, model: Model, row: Mapping[str, Any], target: str) -> Mapping[str, Any] | None:
        """The row of ``target`` that ``row`` joins to (LEFT JOIN: None when none)."""
        on, to = next((on, to) for t, on, to in model.joins if t == target)
        value = row[model.column(on).physical]  # type: ignore[union-attr]
        if value is None:
            return None
        other = self.project.model(target)
        index = self.by_key.get((target, to))
        if index is None:
            col = other.column(to).physical  # type: ignore[union-attr]
            index = {r[col]: r for r in self.rows[target] if r[col] is not None}
            self.by_key[(target, to)] = index
        return index.get(value)

    def follow(self, model: Model, row: Mapping[str, Any] | None, target: str
               ) -> Mapping[str, Any] | None:
        path = reachable(self.project, model)[target]
        current = model
        for step in path:
            if row is None:
                return None
            row = self.parent(current, row, step)
            current = self.project.model(step)
        return row

    # -- name resolution ----------------------------------------------------------------

    def column_value(self, model: Model, row: Mapping[str, Any] | None, name: str) -> Any:
        if row is None:
            return None
        col = model.column(name)
        assert col is not None, (model.name, name)
        return row[col.physical]

    def dimension_value(self, model: Model, row: Mapping[str, Any] | None, name: str) -> Any:
        # a row a LEFT JOIN did not find still evaluates the expression, over NULLs
        dim = model.dimension(name)
        assert dim is not None, (model.name, name)
        return dim.expr.eval(lambda n: self.column_value(model, row, n))

    def value(self, model: Model, row: Mapping[str, Any], name: str, level: str) -> Any:
        """What ``name`` means in a snippet read from ``model`` (level own or all)."""
        owner, _, plain = name.rpartition(".")
        if owner:
            target = self.project.model(owner)
            target_row = row if owner == model.name else self.follow(model, row, owner)
            if target.dimension(plain) is not None and (
                    not target.declare_columns or target.column(plain) is None):
                return self.dimension_value(target, target_row, plain)
            return self.column_value(target, target_row, plain)
        if model.declare_columns and model.column(plain) is not None:
            return self.column_value(model, row, plain)
        if model.dimension(plain) is not None:
            return self.dimension_value(model, row, plain)
        if level == "all":
            for other in reachable(self.project, model):
                if other != model.name and self.project.model(other).dimension(plain) is not None:
                    return self.dimension_value(self.project.model(other),
                                                self.follow(model, row, other), plain)
        return self.column_value(model, row, plain)

    def by_value(self, model: Model, row: Mapping[str, Any], name: str) -> Any:
        """The value of a ``--by`` dimension for a row of ``model``."""
        owner, _, plain = name.rpartition(".")
        if owner:
            target_row = row if owner == model.name else self.follow(model, row, owner)
            return self.dimension_value(self.project.model(owner), target_row, plain)
        if model.dimension(plain) is not None:
            return self.dimension_value(model, row, plain)
        for other in reachable(self.project, model):
            if other != model.name and self.project.model(other).dimension(plain) is not None:
                return self.dimension_value(self.project.model(other),
                                            self.follow(model, row, other), plain)
        raise AssertionError(f"--by {name} does not resolve from {model.name}")


# ---------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------


def normalize(value: Any) -> Any:
    """Comparable Python values: bools as ints, Decimals as floats."""
    if isinstance(value, bool):
        return int(value)
    if value is not None and type(value).__name__ == "Decimal":
        return float(value)
    return value


@dataclass
class Aggregated:
    """One measure under a set of filters: which values count for a key (period, dims…)."""

    agg: str
    by_key: dict[Key, list[Any]]  # plain measures: values by the period their row is in
    checked: bool
    window: Callable[[Key], list[Any]] | None = None  # windowed measures: values for a key
    divide: int = 1  # a baseline's counts and sums are per period of the query

    def values(self, key: Key) -> list[Any]:
        return list(self.by_key.get(key, ())) if self.window is None else self.window(key)

    def value(self, key: Key) -> Any:
        if not self.checked:
            return UNCHECKED
        values = [v for v in self.values(key) if v is not None]
        if self.agg in ("count",):
            return len(values) / self.divide if self.divide != 1 else len(values)
        if self.agg == "count_distinct":
            return len(set(values)) if self.divide == 1 else UNCHECKED
        if self.agg == "sum":
            total = sum(values) if values else 0
            return total / self.divide if self.divide != 1 else total
        if not values:
            return None
        if self.agg == "avg":
            return sum(values) / len(values)
        if self.agg == "min":
            return min(values)
        if self.agg == "max":
            return max(values)
        return UNCHECKED


class Reference:
    """Expected results of one query (see the module doc)."""

    def __init__(self, project: Project, data: Mapping[str, Sequence[Mapping[str, Any]]],
                 metrics: Sequence[str], options: Mapping[str, Any],
                 where: Expr | None = None, *, engine: str = "duckdb") -> None:
        self.project = project
        self.rows = Rows(project, data)
        self.metrics = list(metrics)
        self.options = dict(options)
        self.cal = calendar_of(project, options)
        self.grain = options.get("grain") or self._default_grain()
        self.by = list(options.get("by") or ())
        self.where = where
        today = dt.date.fromisoformat(options["as_of"]) if options.get("as_of") else None
        self.start = relative_date(options.get("start"), self.cal, today)
        self.end = relative_date(options.get("end"), self.cal, today)
        if options.get("partial") == "drop":
            if self.start is not None and self.cal.period(self.start, self.grain) != self.start:
                self.start = self.cal.next(self.cal.period(self.start, self.grain), self.grain)
            if self.end is not None:
                self.end = self.cal.period(self.end, self.grain)
        self._cache: dict[Any, Aggregated] = {}
        self.engine = engine

    def _default_grain(self) -> str:
        grains = {g for n in self.metrics if (g := self.project.metric(n).grain) is not None}
        return grains.pop() if len(grains) == 1 else "month"

    # -- measures -----------------------------------------------------------------------

    def aggregate(self, measure: Measure, filters: tuple[Expr, ...], *, bounded: bool = True,
                  span: tuple[dt.date, dt.date] | None = None) -> Aggregated:
        """A measure's values under ``filters``: in the query's range (``bounded``), in no
        range (comparisons), or over ``span`` as one period (a baseline, key period = start)."""
        cache_key = (id(measure), tuple(id(f) for f in filters), bounded, span)
        if cache_key in self._cache:
            return self._cache[cache_key]
        model = self.project.model(measure.model)
        checked = measure.agg not in ("median", "percentile")
        if span is not None and measure.windowed:
            checked = False
        time_col = model.column(measure.time or model.time or "")
        lo = dt.datetime.combine(self.start, dt.time()) if bounded and self.start else None
        hi = dt.datetime.combine(self.end, dt.time()) if bounded and self.end else None
        if span is not None:
            lo, hi = (dt.datetime.combine(d, dt.time()) for d in span)
        if measure.windowed:
            lo = None  # a window reaches back past --from (docs/time.md, Windows)
        by_key: dict[Key, list[Any]] = {}
        entries: list[tuple[Any, Any, tuple[Any, ...], Any]] = []  # (time, end, dims, value)
        time_name = measure.time or model.time
        if measure.at is not None:
            assert model.lifecycle is not None
            time_name = model.lifecycle[0]
        time_col = model.column(time_name) if time_name else None
        for row in self.rows.rows[model.name] if time_col is not None else []:
            assert time_col is not None
            local = self._local(model, row, time_col.name)
            if local is None:
                continue
            if lo is not None and local < lo and measure.at is None:
                continue
            if hi is not None and local >= hi and not measure.windowed:
                continue
            env_own = lambda n, _r=row: self.rows.value(model, _r, n, "own")  # noqa: E731
            env_all = lambda n, _r=row: self.rows.value(model, _r, n, "all")  # noqa: E731
            if measure.filter is not None and measure.filter.eval(env_own) is not True:
                continue
            if any(f.eval(env_all) is not True for f in filters):
                continue
            if self.where is not None and self.where.eval(env_all) is not True:
                continue
            dims = tuple(normalize(self.rows.by_value(model, row, d)) for d in self.by)
            value = normalize(1 if measure.expr is None else measure.expr.eval(env_own))
            if measure.windowed:
                end = None
                if measure.at is not None and model.lifecycle and model.lifecycle[1]:
                    end = self._local(model, row, model.lifecycle[1])
                entries.append((local, end, dims, value))
                continue
            period = span[0] if span is not None else self.cal.period(local.date(), self.grain)
            by_key.setdefault((period, *dims), []).append(value)
        window = self._window(measure, entries, hi if bounded else None) if measure.windowed \
            else None
        divide = 1
        if span is not None and measure.agg in ("count", "sum", "count_distinct"):
            # (a distinct count over the range, divided or not: the docs do not say, so
            # Aggregated.value leaves it unchecked unless the range is one period)
            divide = max(1, len(self.cal.spine(span[0], span[1], self.grain)))
        result = Aggregated(measure.agg, by_key, checked, window, divide)
        self._cache[cache_key] = result
        return result

    def _local(self, model: Model, row: Mapping[str, Any], column: str) -> dt.datetime | None:
        col = model.column(column)
        assert col is not None
        return self.cal.local(row[col.physical], not (col.typed and col.kind == "date"))

    def _window(self, measure: Measure, entries: list[tuple[Any, Any, tuple[Any, ...], Any]],
                limit: dt.datetime | None) -> Callable[[Key], list[Any]]:
        """The values that count for a period of a windowed or point-in-time measure."""
        def values(key: Key) -> list[Any]:
            period, dims = key[0], tuple(key[1:])
            # the window is [period end - window, period end), cut short at --to
            # ("Windowed measures are cut short at --to too", docs/time.md)
            full = dt.datetime.combine(self.cal.next(period, self.grain), dt.time())
            end = full if limit is None else min(full, limit)
            if measure.at is not None:
                instant = dt.datetime.combine(period, dt.time()) if measure.at == "period_start" \
                    else full
                if measure.at == "period_start":
                    alive = [v for s, e, d, v in entries
                             if d == dims and s <= instant and (e is None or e > instant)]
                else:
                    alive = [v for s, e, d, v in entries
                             if d == dims and s < instant and (e is None or e >= instant)]
                return alive
            if measure.cumulative:
                start = None
            elif measure.grain_to_date is not None:
                last = (full - dt.timedelta(days=1)).date()
                start = dt.datetime.combine(self.cal.period(last, measure.grain_to_date),
                                            dt.time())
            else:
                assert measure.window is not None
                amount, unit = measure.window.split()
                unit = unit.rstrip("s")
                if unit in ("day", "week"):
                    start = full - dt.timedelta(days=int(amount) * (7 if unit == "week" else 1))
                else:
                    months = int(amount) * {"month": 1, "quarter": 3, "year": 12}[unit]
                    start = dt.datetime.combine(add_months(full.date(), -months), dt.time())
            return [v for t, _, d, v in entries
                    if d == dims and (start is None or t >= start) and t < end]
        return values

    def _filters(self, metric: Metric, outer: tuple[Expr, ...]) -> tuple[Expr, ...]:
        own = (metric.filter,) if metric.filter is not None else ()
        return outer + own

    def parts(self, name: str, outer: tuple[Expr, ...] = (), *, bounded: bool = True
              ) -> list[Aggregated]:
        """Every measure a metric reads, aggregated under its filters."""
        metric = self.project.metric(name)
        filters = self._filters(metric, outer)
        if metric.type == "derived":
            out: list[Aggregated] = []
            refs = metric.expr.names() if metric.expr is not None else set()
            inputs = {n: m for n, m, _ in metric.inputs}
            for ref in sorted(refs):
                out += self.parts(inputs.get(ref, ref), filters, bounded=bounded)
            return out
        return [self.aggregate(m, filters, bounded=bounded) for m in metric.measures()]

    def value(self, name: str, key: Key, outer: tuple[Expr, ...] = (), *, bounded: bool = True,
              span: tuple[dt.date, dt.date] | None = None) -> Any:
        metric = self.project.metric(name)
        filters = self._filters(metric, outer)
        if metric.type == "simple":
            assert metric.measure is not None
            return self.aggregate(metric.measure, filters, bounded=bounded, span=span).value(key)
        if metric.type == "ratio":
            assert metric.numerator is not None and metric.denominator is not None
            num = self.aggregate(metric.numerator, filters, bounded=bounded, span=span).value(key)
            den = self.aggregate(metric.denominator, filters, bounded=bounded, span=span).value(key)
            if num is UNCHECKED or den is UNCHECKED:
                return UNCHECKED
            if num is None or den is None or den == 0:
                return None
            return num * (metric.scale if metric.scale is not None else 1) / den
        assert metric.type == "derived" and metric.expr is not None
        if span is not None:
            return UNCHECKED
        inputs = {n: (m, o) for n, m, o in metric.inputs}
        parts: dict[str, Any] = {}
        for ref in metric.expr.names():
            base, offset = inputs.get(ref, (ref, None))
            if offset is None:
                parts[ref] = self.value(base, key, filters, bounded=bounded)
            elif not self.aligned():
                return UNCHECKED  # the range moved back by an offset cuts periods in part
            else:  # the metric in the period that much earlier (docs: Metrics at an offset)
                amount, unit = offset.split()
                unit = unit.rstrip("s")
                earlier = (key[0] - dt.timedelta(days=int(amount) * (7 if unit == "week" else 1))
                           if unit in ("day", "week") else
                           add_months(key[0], -int(amount) * {"month": 1, "quarter": 3,
                                                               "year": 12}[unit]))
                parts[ref] = self.value(base, (earlier, *key[1:]), filters, bounded=False)
        if any(v is UNCHECKED for v in parts.values()):
            return UNCHECKED
        return metric.expr.eval(parts.__getitem__)

    def aligned(self) -> bool:
        """The range starts and ends on period boundaries (or is open)."""
        return all(d is None or self.cal.period(d, self.grain) == d for d in (self.start, self.end))

    def keys_with_rows(self, *, bounded: bool = True) -> set[Key]:
        keys: set[Key] = set()
        for name in self.metrics:
            for part in self.parts(name, bounded=bounded):
                if part.window is None:  # a windowed measure's rows count in other periods
                    keys |= set(part.by_key)
        return keys

    def windowed(self) -> bool:
        return any(m.windowed for n in self.metrics for m in self._measures(n))

    def _measures(self, name: str) -> list[Measure]:
        metric = self.project.metric(name)
        if metric.type != "derived":
            return metric.measures()
        inputs = {n: m for n, m, _ in metric.inputs}
        refs = metric.expr.names() if metric.expr is not None else set()
        return [m for ref in sorted(refs) for m in self._measures(inputs.get(ref, ref))]


# ---------------------------------------------------------------------------------
# Checking a result
# ---------------------------------------------------------------------------------


def close(actual: Any, expected: Any) -> bool:
    if expected is UNCHECKED:
        return True
    actual, expected = normalize(actual), normalize(expected)
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        if math.isnan(actual) or math.isinf(actual):
            return False
        return math.isclose(actual, expected, rel_tol=1e-6, abs_tol=1e-6)
    return bool(actual == expected)


def as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def by_column(name: str) -> str:
    return name.replace(".", "__")


def check(ref: Reference, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """Differences between a result (column names, rows) and the reference; [] when equal."""
    problems: list[str] = []
    names = list(columns)
    if len(set(names)) != len(names):
        return []  # duplicate result column names (reported elsewhere): values cannot be mapped
    if names[:1] != ["period"]:
        return [f"the first column is {names[:1]}, not period"]
    index = {n: i for i, n in enumerate(names)}
    by_cols = [by_column(d) for d in ref.by]
    missing = [c for c in by_cols + ref.metrics if c not in index]
    if missing:
        return [f"result has no column {missing}: {names}"]
    if ref.grain in ("fiscal_quarter", "fiscal_year") and "period_label" not in index:
        problems.append("a fiscal grain without a period_label column")
    seen: dict[Key, Sequence[Any]] = {}
    for row in rows:
        key = (as_date(row[0]), *(normalize(row[index[c]]) for c in by_cols))
        if key in seen:
            problems.append(f"two rows for {key}")
        seen[key] = row
    windowed = ref.windowed()
    with_rows = ref.keys_with_rows()
    if ref.start is not None and ref.end is not None:
        spine = set(ref.cal.spine(ref.start, ref.end, ref.grain))
        periods = {k[0] for k in seen}
        if periods != spine:
            problems.append(f"periods {sorted(periods - spine)[:3]} not in the range, "
                            f"{sorted(spine - periods)[:3]} missing")
        with_rows = {k for k in with_rows if k[0] in spine}
    elif not windowed and seen:
        periods = sorted({k[0] for k in seen})
        expected = ref.cal.spine(periods[0], ref.cal.next(periods[-1], ref.grain), ref.grain)
        if periods != expected:
            problems.append(f"the periods are not contiguous: {periods[:6]}")
    for key in sorted(with_rows - set(seen), key=repr)[:3]:
        problems.append(f"no row for {key}, which has rows")
    compare = ref.options.get("compare")
    aligned = (ref.start is not None and ref.end is not None
               and ref.cal.period(ref.start, ref.grain) == ref.start
               and ref.cal.period(ref.end, ref.grain) == ref.end)
    checked_before = STATS["checked_value"]
    for key, row in sorted(seen.items(), key=lambda kv: repr(kv[0])):
        for name in ref.metrics:
            expected = ref.value(name, key)
            actual = row[index[name]]
            STATS["unchecked" if expected is UNCHECKED else
                  "checked_zero_or_null" if not expected else "checked_value"] += 1
            if not close(actual, expected):
                problems.append(f"{name} at {key}: got {actual!r}, expected {expected!r}")
            if compare in ("previous_period", "same_period_last_year") and aligned:
                unit, n = comparison_shift(ref.grain, compare)
                earlier = (key[0] - dt.timedelta(days=n) if unit == "day"
                           else add_months(key[0], -n))
                before = ref.value(name, (earlier, *key[1:]), bounded=False)
                for suffix, want in _comparison_columns(expected, before).items():
                    column = f"{name}__{suffix}"
                    if column in index and not close(row[index[column]], want):
                        problems.append(f"{column} at {key}: got {row[index[column]]!r}, "
                                        f"expected {want!r}")
            if ref.options.get("baseline") and ":" in str(ref.options["baseline"]):
                problems += _check_baseline(ref, name, key, row, index, expected)
            if ref.options.get("targets"):
                problems += _check_targets(ref, name, key, row, index, expected)
    if STATS["checked_value"] > checked_before:
        STATS["queries_with_values"] += 1
    elif not seen:
        STATS["queries_empty"] += 1
    elif all(ref.value(n, k) is UNCHECKED for n in ref.metrics for k in seen):
        STATS["queries_unchecked"] += 1
    else:
        STATS["queries_all_zero_or_null"] += 1
    return problems[:8]


def _comparison_columns(value: Any, before: Any) -> dict[str, Any]:
    if value is UNCHECKED or before is UNCHECKED:
        return {"compare": UNCHECKED, "change": UNCHECKED, "change_pct": UNCHECKED}
    change = None if value is None or before is None else value - before
    pct = None if change is None or not before else 100 * change / abs(before)
    return {"compare": before, "change": change, "change_pct": pct}


def _check_baseline(ref: Reference, name: str, key: Key, row: Sequence[Any],
                    index: Mapping[str, int], value: Any) -> list[str]:
    """--baseline A:B: each period against the metric over [A, B) as one period."""
    today = dt.date.fromisoformat(ref.options["as_of"]) if ref.options.get("as_of") else None
    a, b = (relative_date(part, ref.cal, today) for part in ref.options["baseline"].split(":"))
    assert a is not None and b is not None
    before = ref.value(name, (a, *key[1:]), span=(a, b))
    problems = []
    for suffix, want in _comparison_columns(value, before).items():
        column = f"{name}__{suffix}"
        if column in index and not close(row[index[column]], want):
            problems.append(f"{column} at {key} (baseline {a}:{b}): got {row[index[column]]!r}, "
                            f"expected {want!r}")
    return problems


def _check_targets(ref: Reference, name: str, key: Key, row: Sequence[Any],
                   index: Mapping[str, int], value: Any) -> list[str]:
    targets = ref.project.metric(name).targets
    column = f"{name}__target"
    if targets is None or column not in index:
        return []
    metric = ref.project.metric(name)
    tgrain = targets.get("grain") or metric.grain or "month"
    periods = {as_date(p["period"]): float(p["value"]) for p in targets.get("periods") or ()}
    constant = targets.get("value")
    target = periods.get(key[0], constant) if tgrain == ref.grain else constant
    problems = []
    if not close(row[index[column]], None if target is None else float(target)):
        problems.append(f"{column} at {key}: got {row[index[column]]!r}, expected {target!r}")
    attainment = f"{name}__attainment"
    if attainment in index and value is not UNCHECKED:
        higher = targets.get("higher_is_better", True)
        num, den = (value, target) if higher else (target, value)
        want = None if num is None or den is None or den == 0 else 100 * num / den
        if not close(row[index[attainment]], want):
            problems.append(f"{attainment} at {key}: got {row[index[attainment]]!r}, "
                            f"expected {want!r}")
    return problems


__all__ = ["GRAINS", "UNCHECKED", "Cal", "Reference", "Rows", "calendar_of", "check"]
