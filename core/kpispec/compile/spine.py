"""The period spine: every period of the query, listed or generated from a number table."""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from kpispec.compile import nodes
from kpispec.compile._tree import (
    _BOUNDS,
    _DIGITS,
    _NUMBERS,
    _PERIODS,
    _SCANNED,
    LITERAL_SPINE_MAX,
    PERIOD,
    _aliased_table,
    _as,
    _join,
    _period_of,
    _relation,
    _table,
    _union,
)
from kpispec.compile.local_time import local, time_column
from kpispec.compile.plan import BASELINE, PER_PERIOD, Plan
from kpispec.compile.spine_size import DIGIT_NAMES, bounded_digits, count_periods, open_digits

__all__ = ["bounds_parts", "spine_ctes"]


def _literal_periods(days: list[dt.date]) -> exp.Expr:
    """The periods of a short bounded range, listed one by one."""
    rows = [nodes.constant_row(nodes.date_literal(day), PERIOD)
            for day in days]
    return _union(rows)


def bounds_parts(plan: Plan) -> list[exp.Select]:
    """What an unbounded spine spans: every scan's periods; for an `at` scan (which is
    computed over the spine itself) the periods its lifecycle starts and ends in."""
    parts: list[exp.Select] = []
    lifecycles: set[str] = set()
    current = [s for s in plan.scans if s.kind != BASELINE]
    primary = [s for s in current if not s.offset] or current
    for scan in primary:  # inputs at an offset reach past the data: they do not extend it
        if scan.kind == PER_PERIOD:
            parts.append(exp.Select(expressions=[exp.column(PERIOD)]).from_(_table(scan.name), copy=False))
            continue
        model = scan.model
        columns = [scan.time] if scan.time is not None else [
            time_column(model, c) for c in filter(None, model.lifecycle or ())]
        key = f"{model.name}:{','.join(c.sql() for c in columns)}"
        if key in lifecycles:
            continue
        lifecycles.add(key)
        for ref in columns:
            period = _period_of(local(ref.copy(), plan), plan)
            parts.append(exp.Select(expressions=[_as(period, PERIOD)])
                         .from_(_relation(model), copy=False)
                         .where(exp.Not(this=exp.Is(this=ref.copy(), expression=exp.Null()))))
    return parts


def spine_ctes(plan: Plan) -> list[tuple[str, exp.Expr]]:
    """CTEs for the period spine: digits, numbers, [bounds,] periods."""
    q = plan.query
    grain = q.grain
    calendar = q.calendar
    ctes: list[tuple[str, exp.Expr]] = []
    first_lit = calendar.period_start(q.start, grain) if q.start else None
    last_lit = calendar.period_start(q.end - dt.timedelta(days=1), grain) if q.end else None
    if first_lit and q.end:
        count = count_periods(first_lit, q.end, grain, calendar)
        if count <= LITERAL_SPINE_MAX:
            return [(_PERIODS, _literal_periods(calendar.periods(first_lit, q.end, grain)))]
        digits = bounded_digits(count, first_lit, q.end, grain, calendar)  # or refuses
    else:
        count = None
        digits = open_digits(grain)
    rows = [nodes.constant_row(exp.Literal.number(i), "d") for i in range(10)]
    ctes.append((_DIGITS, _union(rows)))
    names = list(DIGIT_NAMES[:digits])
    n: exp.Expr = exp.column("d", table=names[0])
    for i, name in enumerate(names[1:], start=1):
        n = exp.Add(this=n, expression=exp.Mul(this=exp.Literal.number(10 ** i),
                                               expression=exp.column("d", table=name)))
    numbers = exp.Select(expressions=[_as(n, "n")]).from_(_aliased_table(_DIGITS, names[0]), copy=False)
    for name in names[1:]:
        numbers = _join(numbers, _aliased_table(_DIGITS, name), how="CROSS")
    ctes.append((_NUMBERS, numbers))
    nref = exp.column("n", table=_NUMBERS)
    if count is not None and first_lit is not None:
        first: exp.Expr = nodes.date_literal(first_lit)
        period = nodes.add_periods(first, nref, grain)
        periods = (exp.Select(expressions=[_as(period, PERIOD)]).from_(_table(_NUMBERS), copy=False)
                   .where(exp.LT(this=nref.copy(), expression=exp.Literal.number(count)), copy=False))
    else:
        all_periods: exp.Expr | None = None
        for part in bounds_parts(plan):
            all_periods = part if all_periods is None else exp.Union(this=all_periods, expression=part,
                                                                     distinct=False)
        assert all_periods is not None
        sub = exp.Subquery(this=all_periods, alias=exp.TableAlias(this=exp.to_identifier(_SCANNED)))
        first_expr = (nodes.date_literal(first_lit) if first_lit
                      else exp.Min(this=exp.column(PERIOD)))
        last_expr = (nodes.date_literal(last_lit) if last_lit
                     else exp.Max(this=exp.column(PERIOD)))
        bounds = exp.Select(expressions=[_as(first_expr, "first_period"),
                                         _as(last_expr, "last_period")]).from_(sub, copy=False)
        ctes.append((_BOUNDS, bounds))
        period = nodes.add_periods(exp.column("first_period", table=_BOUNDS), nref, grain)
        periods = _join(exp.Select(expressions=[_as(period, PERIOD)]).from_(_table(_BOUNDS), copy=False),
                        _table(_NUMBERS), how="CROSS")
        periods = periods.where(exp.LTE(this=period.copy(),
                                        expression=exp.column("last_period", table=_BOUNDS)), copy=False)
    ctes.append((_PERIODS, periods))
    return ctes


