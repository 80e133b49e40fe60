"""Time columns in a query: which are calendar dates, their local time, their bounds.

A naive timestamp column holds UTC; a query in a time zone reads it as wall-clock
time there. A column its model declares ``type: date`` holds calendar dates and is
never converted — whether the spec names it directly or renames a physical column
through ``columns[].expr``; the planner and :func:`time_column` mark such resolved
trees, so the mark survives the renaming. A date is compared with the DATE of a
boundary, never with its first instant: SQLite compares text, and ``'2024-01-02'``
sorts before ``'2024-01-02 00:00:00'``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlglot import exp

from kpispec.compile import nodes

if TYPE_CHECKING:
    from kpispec.compile.plan import Plan
    from kpispec.spec.model import Model

__all__ = ["bound", "instant_for", "is_date", "local", "mark_date", "time_column", "zone_span"]

_DATE = "kpispec_date"


def mark_date(tree: exp.Expr, model: Model, name: str) -> exp.Expr:
    """``tree`` (the resolved column ``name`` of ``model``), marked when it is a date."""
    if model.column_types.get(name) == "date":
        tree.meta[_DATE] = True
    return tree


def time_column(model: Model, name: str) -> exp.Expr:
    """The column ``name`` of ``model`` as the SQL reads it (its ``expr`` when renamed)."""
    physical = model.column_exprs.get(name)
    if physical is None:
        return mark_date(exp.column(name, table=model.name), model, name)
    tree = physical.copy()
    for col in tree.find_all(exp.Column):
        col.set("table", exp.to_identifier(model.name))
    return mark_date(tree, model, name)


def is_date(column: exp.Expr, plan: Plan) -> bool:
    """True for a column its model declares ``type: date`` (calendar dates: never converted)."""
    if column.meta.get(_DATE):
        return True
    if not isinstance(column, exp.Column):
        return False
    model = plan.models.get(column.table)
    return (model is not None and column.name not in model.column_exprs
            and model.column_types.get(column.name) == "date")


def local(column: exp.Expr, plan: Plan) -> exp.Expr:
    """A time column as wall-clock time in the query's zone (naive timestamps are UTC)."""
    calendar = plan.query.calendar
    if calendar.is_utc or is_date(column, plan):
        return column
    return nodes.to_local(column, calendar, zone_span(plan))


def zone_span(plan: Plan) -> tuple[dt.date, dt.date] | None:
    """The dates a query's period boundaries can fall on (None: unbounded)."""
    q = plan.query
    starts = [q.start] + ([q.baseline[0]] if q.baseline else [])
    ends = [q.end] + ([q.baseline[1]] if q.baseline else [])
    if any(d is None for d in starts + ends):
        return None
    back = 370  # a year: grain-to-date windows start up to a (fiscal) year before the period
    for scan in plan.scans:
        reach = scan.offset.days + 31 * scan.offset.months
        if scan.window is not None and scan.window.length is not None:
            reach += scan.window.length.days + 31 * scan.window.length.months
        back = max(back, 370 + reach)
    first = min(d for d in starts if d is not None) - dt.timedelta(days=back)
    last = max(d for d in ends if d is not None) + dt.timedelta(days=370)
    return first, last


def bound(column: exp.Expr, day: dt.date, plan: Plan) -> exp.Expr:
    """The first instant of local ``day``, comparable with the raw (UTC) ``column``."""
    calendar = plan.query.calendar
    if calendar.is_utc or is_date(column, plan):
        return nodes.timestamp_literal(day)
    return nodes.timestamp_literal(calendar.utc_instant(day))


def instant_for(column: exp.Expr, day: exp.Expr, plan: Plan) -> exp.Expr:
    """The DATE ``day`` as ``column`` compares with it: the day itself for a date column,
    else its first instant."""
    return day if is_date(column, plan) else nodes.Instant(this=day)
