"""The pieces every part of the query tree is made of: names, joins, aggregates, periods.

sqlglot's fluent builders (select.join("t"), exp.union, exp.alias_, with_) copy their
arguments and parse strings; a compile builds thousands of nodes, so the nodes are
made directly here, from parts that are already fresh copies. Nothing here names a
dialect: dates and periods are kpispec's nodes (:mod:`kpispec.compile.nodes`).
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from kpispec.calendar import Calendar, add_months
from kpispec.compile import nodes
from kpispec.compile.naming import internal
from kpispec.compile.plan import Aggregate, Plan
from kpispec.compile.spine_size import count_periods
from kpispec.spec.model import Model, Offset, Window

__all__ = ["PERIOD", "PERIOD_LABEL", "period_count", "period_start", "shift_date"]

PERIOD = "period"
PERIOD_LABEL = "period_label"
# kpispec's own relations: placeholders until naming.finalize names them (never like a table).
_PERIODS, _DIGITS, _NUMBERS, _BOUNDS, _SCANNED, _KEYS, _LIFECYCLE = (internal(name) for name in (
    "periods", "digits", "numbers", "bounds", "scanned", "dimension_keys", "lifecycle"))
#: A bounded range of at most this many periods lists them literally instead of
#: generating them from a digits × digits… number table.
LITERAL_SPINE_MAX = 24


def period_start(day: dt.date, grain: str, calendar: Calendar | None = None) -> dt.date:
    """The first day of the ``grain`` period holding ``day`` (Monday weeks by default)."""
    return (calendar or Calendar()).period_start(day, grain)


def shift_date(day: dt.date, offset: Offset) -> dt.date:
    """``day`` moved ``offset`` earlier (months keep the day, clamped to the month's end)."""
    if offset.days:
        return day - dt.timedelta(days=offset.days)
    return add_months(day, -offset.months) if offset.months else day


def period_count(first: dt.date, end: dt.date, grain: str, calendar: Calendar | None = None) -> int:
    """How many ``grain`` periods start on or after the period start ``first`` and before ``end``."""
    return count_periods(first, end, grain, calendar or Calendar())


def _as(node: exp.Expr, name: str) -> exp.Alias:
    """``node AS name`` (``node`` is used as is, not copied)."""
    return exp.Alias(this=node, alias=exp.to_identifier(name))


def _table(name: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name))


def _aliased_table(name: str, alias: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name), alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _relation(model: Model, alias: str | None = None) -> exp.Expr:
    """A fresh copy of a model's table (or SELECT) under the model's name."""
    relation = model.relation.copy()
    relation.set("alias", exp.TableAlias(this=exp.to_identifier(alias or model.name)))
    return relation


def _join(select: exp.Select, table: exp.Expr, on: exp.Expr | None = None,
          how: str = "LEFT") -> exp.Select:
    """Append ``LEFT JOIN table ON on`` (``how``: ``INNER``, ``CROSS``) to ``select``."""
    join = (exp.Join(this=table, on=on, side=how) if how == "LEFT"
            else exp.Join(this=table, on=on, kind=how))
    select.append("joins", join)
    return select


def _union(parts: list[exp.Select], distinct: bool = False) -> exp.Expr:
    tree: exp.Expr = parts[0]
    for part in parts[1:]:
        tree = exp.Union(this=tree, expression=part, distinct=distinct)
    return tree


def _and_all(conditions: list[exp.Expr]) -> exp.Expr:
    return exp.and_(*conditions, copy=False)


def _aggregate(a: Aggregate) -> exp.Expr:
    if a.agg == "count" and a.expr is None:
        value: exp.Expr = exp.Literal.number(1) if a.condition is not None else exp.Star()
    else:
        value = a.expr.copy() if a.expr is not None else exp.Literal.number(1)
    if a.condition is not None:
        value = exp.Case(ifs=[exp.If(this=a.condition.copy(), true=value)])
    if a.agg == "count":
        return exp.Count(this=value)
    if a.agg == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[value]))
    if a.agg in ("median", "percentile"):
        return _percentile(value, 0.5 if a.agg == "median" else a.p)
    cls = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[a.agg]
    return cls(this=value)


def _percentile(value: exp.Expr, p: float | None) -> exp.Expr:
    """The exact, linearly interpolated percentile (PERCENTILE_CONT) as an aggregate."""
    return nodes.Percentile(this=value, expression=exp.Literal.number(p))


def _period_of(value: exp.Expr, plan: Plan, grain: str | None = None) -> exp.Expr:
    return nodes.period_of(value, grain or plan.query.grain, plan.query.calendar)


def _window_lower_date(window: Window, upper: dt.date, calendar: Calendar) -> dt.date | None:
    """Python twin of :func:`_window_lower`: the first day a window ending at ``upper`` reads."""
    if window.length is not None:
        return shift_date(upper, window.length)
    if window.to_date is not None:
        return calendar.period_start(upper - dt.timedelta(days=1), window.to_date)
    return None


def _window_lower(window: Window, upper: exp.Expr, plan: Plan) -> exp.Expr | None:
    """The first day (a DATE) a window ending at the DATE ``upper`` (exclusive) reads."""
    length = window.length
    if length is not None:
        if length.days:
            return nodes.add_periods(upper, exp.Literal.number(-length.days), "day")
        if plan.query.grain in ("day", "week"):  # upper may be any day of a month
            return nodes.AddMonthsClamped(this=upper, expression=exp.Literal.number(-length.months))
        return nodes.add_periods(upper, exp.Literal.number(-length.months), "month")
    if window.to_date is not None:
        last_day = nodes.add_periods(upper, exp.Literal.number(-1), "day")
        return _period_of(last_day, plan, window.to_date)
    return None


def _wrap(condition: exp.Expr) -> exp.Expr:
    return exp.paren(condition) if isinstance(condition, exp.Or) else condition


