"""One CTE per scan: a GROUP BY over a model by its time column, over the period spine
(a measure at an instant, a window), or by dimensions only (a baseline)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlglot import exp

from kpispec.compile import nodes
from kpispec.compile._tree import (
    _LIFECYCLE,
    _PERIODS,
    PERIOD,
    _aggregate,
    _and_all,
    _as,
    _join,
    _period_of,
    _relation,
    _table,
    _window_lower,
    _window_lower_date,
    _wrap,
    shift_date,
)
from kpispec.compile.local_time import bound, instant_for, local, time_column
from kpispec.compile.naming import internal, public
from kpispec.compile.plan import AT_INSTANT, BASELINE, PER_PERIOD, WINDOW, Plan, Scan

__all__ = ["scan_select"]


def scan_select(scan: Scan, plan: Plan) -> exp.Select:
    """One GROUP BY over a model: by its time column, over the spine for an `at` or a
    windowed scan, or by dimensions only for a baseline (one function per scan kind)."""
    return _BY_KIND[scan.kind](scan, plan)


def _per_period_select(scan: Scan, plan: Plan) -> exp.Select:
    """Rows grouped by the period their time column falls in."""
    assert scan.time is not None
    q = plan.query
    period = _period_of(local(scan.time.copy(), plan), plan)
    if scan.shift:  # a metric input at an offset: report each row `shift` periods later
        period = nodes.add_periods(period, exp.Literal.number(scan.shift), q.grain)
    select = _select_list(scan, period)
    model = scan.model
    select = select.from_(_relation(model), copy=False)
    select = _joins(select, scan, plan)
    conditions: list[exp.Expr] = []
    if q.start is not None:
        start = shift_date(q.start, scan.offset)
        conditions.append(exp.GTE(this=scan.time.copy(),
                                  expression=bound(scan.time, start, plan)))
    if q.end is not None:
        end = shift_date(q.end, scan.offset)
        conditions.append(exp.LT(this=scan.time.copy(),
                                 expression=bound(scan.time, end, plan)))
    if q.start is None and q.end is None:
        conditions.append(exp.Not(this=exp.Is(this=scan.time.copy(), expression=exp.Null())))
    conditions += [c.copy() for c in scan.where]
    select = select.where(_and_all([_wrap(c) for c in conditions]), copy=False)
    group = [period.copy()] + [expr.copy() for _, expr in scan.dimensions]
    return select.group_by(*group, copy=False)


def _select_list(scan: Scan, period: exp.Expr | None) -> exp.Select:
    select = exp.Select(expressions=[_as(period, PERIOD)] if period is not None else [])
    for name, expr in scan.dimensions:
        select.append("expressions", _as(expr.copy(), name))
    for a in scan.aggregates:
        select.append("expressions", _as(_aggregate(a), a.column))
    return select


def _joins(select: exp.Select, scan: Scan, plan: Plan) -> exp.Select:
    """LEFT JOIN the models a scan needs, in the order needed; each is many-to-one.

    A joined model read only under conditions of its own (``leads.source =
    'marketing'`` in a measure's filter) is joined already filtered by them: the
    other rows could only ever give NULL to those conditions, and a many-to-one
    LEFT JOIN keeps every row of the scan either way — but the engine builds its
    join on the few rows instead of the whole table.
    """
    joined = [scan.model.name]
    steps = []
    for name in scan.joins:
        source, join = next((s, j) for s in joined for j in plan.models[s].joins if j.model == name)
        steps.append((source, join, name))
        joined.append(name)
    through = {source for source, _, _ in steps}
    for source, join, name in steps:
        target = plan.models[name]
        on = exp.EQ(this=exp.column(join.on, table=source), expression=exp.column(join.to, table=name))
        relation = _relation(target)
        only = _pushed_filter(scan, name) if name not in through else None
        if only is not None:
            relation = exp.Subquery(
                this=exp.Select(expressions=[exp.Star()]).from_(relation, copy=False).where(only, copy=False),
                alias=exp.TableAlias(this=exp.to_identifier(name)))
        select = _join(select, relation, on)
    return select


#: Comparisons that are never true when an operand is NULL.
_NULL_REJECTING = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Like, exp.ILike,
                   exp.Between)
_PLAIN_OPERANDS = (exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Neg)


def _reads(tree: exp.Expr | None, model: str) -> bool:
    return tree is not None and any(c.table == model for c in tree.find_all(exp.Column))


def _rejects_missing(condition: exp.Expr, model: str) -> bool:
    """True for a comparison of ``model``'s columns with constants (NULL when they are)."""
    condition = condition.unnest()
    if not isinstance(condition, _NULL_REJECTING):
        return False
    columns = list(condition.find_all(exp.Column))
    return bool(columns) and all(c.table == model for c in columns) and all(
        isinstance(node, (*_NULL_REJECTING, *_PLAIN_OPERANDS)) for node in condition.walk()
        if node is not condition)


def _pushed_filter(scan: Scan, model: str) -> exp.Expr | None:
    """What rows of the joined ``model`` the scan can ever use, or None (all of them).

    Every aggregate that reads the model must have, among the conjuncts of its
    condition, comparisons of the model's columns with constants; the model's
    rows are then filtered by the OR, over those aggregates, of their comparisons.
    """
    if any(_reads(e, model) for e in (scan.time, *scan.where, *(x for _, x in scan.dimensions))):
        return None
    alternatives: dict[exp.Expr, exp.Expr] = {}
    for a in scan.aggregates:
        if not (_reads(a.expr, model) or _reads(a.condition, model)):
            continue
        condition = a.condition.unnest() if a.condition is not None else None
        conjuncts = list(condition.flatten()) if isinstance(condition, exp.And) else (
            [condition] if condition is not None else [])
        own = [c.unnest() for c in conjuncts if _rejects_missing(c, model)]
        if not own:
            return None
        both = exp.and_(*[_wrap(c.copy()) for c in own], copy=False)
        alternatives.setdefault(both, both)
    if not alternatives:
        return None
    return exp.or_(*[exp.paren(a, copy=False) if isinstance(a, exp.And) and len(alternatives) > 1
                     else a for a in alternatives.values()], copy=False)


def _evaluated_period(scan: Scan, plan: Plan) -> exp.Expr:
    """The spine period a scan over the spine computes its value at (earlier at an offset)."""
    period = exp.column(PERIOD, table=_PERIODS)
    if scan.shift:
        return nodes.add_periods(period, exp.Literal.number(-scan.shift), plan.query.grain)
    return period


def _alive(scan: Scan, day: exp.Expr, plan: Plan) -> exp.Expr:
    """Rows of a model with a lifecycle alive at the first moment of the DATE ``day``.

    At period start ``day`` is the period's first day, moment t: start <= t and
    (end IS NULL or end > t). At period end it is the next period's first day,
    moment n, exclusive: start < n and (end IS NULL or end >= n) — so a row ending
    exactly at midnight on the 1st is alive at the end of the month before, not at
    the start of its own.
    """
    model = scan.model
    assert model.lifecycle is not None
    start_col, end_col = model.lifecycle
    start = time_column(model, start_col)
    began: exp.Expr
    if scan.at == "period_start":
        began = exp.LTE(this=local(start.copy(), plan), expression=instant_for(start, day, plan))
        alive_op: type[exp.Expr] = exp.GT
    else:
        began = exp.LT(this=local(start.copy(), plan), expression=instant_for(start, day, plan))
        alive_op = exp.GTE
    if not end_col:
        return began
    end = time_column(model, end_col)
    not_ended = exp.Or(this=exp.Is(this=end.copy(), expression=exp.Null()), expression=alive_op(
        this=local(end.copy(), plan), expression=instant_for(end, day.copy(), plan)))
    return exp.And(this=began, expression=exp.paren(not_ended, copy=False))


#: How a per-group partial aggregate is combined over groups (aggregates that decompose).
_COMBINE: dict[str, type[exp.Func]] = {"count": exp.Sum, "sum": exp.Sum, "min": exp.Min,
                                       "max": exp.Max}


def _at_scan_select(scan: Scan, plan: Plan) -> exp.Select:
    """Rows alive at an instant of every period of the spine (a model with a lifecycle)."""
    if all(a.agg in _COMBINE for a in scan.aggregates):
        return _at_scan_by_lifecycle_periods(scan, plan)
    model = scan.model
    evaluated = _evaluated_period(scan, plan)
    day = evaluated if scan.at == "period_start" else nodes.add_periods(
        evaluated, exp.Literal.number(1), plan.query.grain)
    period = exp.column(PERIOD, table=_PERIODS)
    select = _select_list(scan, period.copy()).from_(_table(_PERIODS), copy=False)
    select = _join(select, _relation(model), _alive(scan, day, plan), how="INNER")
    select = _joins(select, scan, plan)
    if scan.where:
        select = select.where(_and_all([_wrap(c.copy()) for c in scan.where]), copy=False)
    group = [period.copy()] + [expr.copy() for _, expr in scan.dimensions]
    return select.group_by(*group, copy=False)


def _at_scan_by_lifecycle_periods(scan: Scan, plan: Plan) -> exp.Select:
    """An `at` scan whose aggregates decompose (count, sum, min, max), in two steps.

    Joining every row with every period it is alive in reads rows × periods (at
    10 million deals, 3 million customers × 24 months). Instead the rows are first
    grouped by the periods their lifecycle starts and ends in (and whether each
    falls exactly on that period's first instant), with the aggregates computed
    per group; the period spine then joins the few groups, and the partial
    aggregates are combined (counts summed). The alive test on groups is exact:

    - at a period's start P (instant t): start <= t and (end is null or end > t)
      ⟺ (start period < P or start period = P and start is on its first instant)
      and (end is null or end period > P or end period = P and end is not on it);
    - at its end (the next period's first instant n): start < n and (end is null
      or end >= n) ⟺ start period <= P and (end is null or end period > P).
    """
    model = scan.model
    assert model.lifecycle is not None
    start_col, end_col = model.lifecycle
    columns = [("start", start_col)] + ([("end", end_col)] if end_col else [])
    inner = exp.Select()
    group: list[exp.Expr] = []
    for role, name in columns:
        column = time_column(model, name)
        wall = local(column.copy(), plan)
        bucket = _period_of(wall, plan)
        inner.append("expressions", _as(bucket, internal(f"{role}_period")))
        group.append(bucket.copy())
        if scan.at == "period_start":
            on_boundary = exp.Case(ifs=[exp.If(this=exp.LTE(this=wall.copy(), expression=instant_for(
                column, bucket.copy(), plan)), true=exp.Literal.number(1))], default=exp.Literal.number(0))
            inner.append("expressions", _as(on_boundary, internal(f"{role}_exact")))
            group.append(on_boundary.copy())
    for name, expr in scan.dimensions:
        inner.append("expressions", _as(expr.copy(), name))
        group.append(expr.copy())
    for a in scan.aggregates:
        inner.append("expressions", _as(_aggregate(a), a.column))
    inner = inner.from_(_relation(model), copy=False)
    inner = _joins(inner, scan, plan)
    if scan.where:
        inner = inner.where(_and_all([_wrap(c.copy()) for c in scan.where]), copy=False)
    inner = inner.group_by(*group, copy=False)

    def col(name: str) -> exp.Column:  # a placeholder, or a role's column (start_period…)
        return exp.column(name if public(name) != name else internal(name), table=_LIFECYCLE)

    evaluated = _evaluated_period(scan, plan)
    one = exp.Literal.number(1)
    if scan.at == "period_start":
        began: exp.Expr = exp.or_(
            exp.LT(this=col("start_period"), expression=evaluated.copy()),
            exp.and_(exp.EQ(this=col("start_period"), expression=evaluated.copy()),
                     exp.EQ(this=col("start_exact"), expression=one.copy()), copy=False),
            copy=False)
        ended_after: exp.Expr = exp.or_(
            exp.GT(this=col("end_period"), expression=evaluated.copy()),
            exp.and_(exp.EQ(this=col("end_period"), expression=evaluated.copy()),
                     exp.EQ(this=col("end_exact"), expression=exp.Literal.number(0)), copy=False),
            copy=False)
    else:
        began = exp.LTE(this=col("start_period"), expression=evaluated.copy())
        ended_after = exp.GT(this=col("end_period"), expression=evaluated.copy())
    alive: exp.Expr = exp.paren(began, copy=False)
    if end_col:
        alive = exp.And(this=alive, expression=exp.paren(exp.Or(
            this=exp.Is(this=col("end_period"), expression=exp.Null()), expression=ended_after)))
    period = exp.column(PERIOD, table=_PERIODS)
    outer = exp.Select(expressions=[_as(period.copy(), PERIOD)])
    for name, _ in scan.dimensions:
        outer.append("expressions", _as(col(name), name))
    for a in scan.aggregates:
        combined: exp.Expr = _COMBINE[a.agg](this=col(a.column))
        if a.agg == "count":  # a count, not the wider type a SUM of counts has
            combined = exp.cast(combined, exp.DataType.Type.BIGINT)
        outer.append("expressions", _as(combined, a.column))
    outer = outer.from_(_table(_PERIODS), copy=False)
    lifecycle = exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(_LIFECYCLE)))
    outer = _join(outer, lifecycle, alive, how="INNER")
    return outer.group_by(period.copy(), *[col(name) for name, _ in scan.dimensions], copy=False)


def _window_select(scan: Scan, plan: Plan) -> exp.Select:
    """A rolling, cumulative or grain-to-date measure: for every period of the spine, the
    rows whose time falls in the window that ends with the period."""
    assert scan.time is not None and scan.window is not None
    q = plan.query
    model = scan.model
    upper = nodes.add_periods(_evaluated_period(scan, plan), exp.Literal.number(1),
                                 q.grain)
    lower = _window_lower(scan.window, upper.copy(), plan)
    time = local(scan.time.copy(), plan)
    within: exp.Expr = exp.LT(this=time, expression=instant_for(scan.time, upper, plan))
    if lower is not None:
        within = exp.And(this=exp.GTE(this=time.copy(), expression=instant_for(scan.time, lower, plan)),
                         expression=within)
    period = exp.column(PERIOD, table=_PERIODS)
    select = _select_list(scan, period.copy()).from_(_table(_PERIODS), copy=False)
    select = _join(select, _relation(model), within, how="INNER")
    select = _joins(select, scan, plan)
    # Rows after --to never count (a partial last period ends there); rows before the
    # first window's start cannot count (a plain bound on the column, for pruning).
    conditions = [c.copy() for c in scan.where]
    calendar = q.calendar
    if q.end is not None:
        conditions.append(exp.LT(this=scan.time.copy(), expression=bound(
            scan.time, shift_date(q.end, scan.offset), plan)))
    if q.start is not None:
        first_end = calendar.add(calendar.period_start(q.start, q.grain), 1 - scan.shift, q.grain)
        first_day = _window_lower_date(scan.window, first_end, calendar)
        if first_day is not None:
            conditions.append(exp.GTE(this=scan.time.copy(),
                                      expression=bound(scan.time, first_day, plan)))
    if conditions:
        select = select.where(_and_all([_wrap(c) for c in conditions]), copy=False)
    group = [period.copy()] + [expr.copy() for _, expr in scan.dimensions]
    return select.group_by(*group, copy=False)


def _baseline_select(scan: Scan, plan: Plan) -> exp.Select:
    """One value per dimension combination over the baseline range, read as one period."""
    assert scan.kind == BASELINE and scan.baseline is not None
    calendar = plan.query.calendar
    first, end = (shift_date(day, scan.offset) for day in scan.baseline)
    model = scan.model
    select = _select_list(scan, None)
    select = select.from_(_relation(model), copy=False)
    select = _joins(select, scan, plan)
    conditions: list[exp.Expr] = []
    if scan.at:
        day = nodes.date_literal(first if scan.at == "period_start" else end)
        conditions.append(_alive(scan, day, plan))
    else:
        assert scan.time is not None
        lower: dt.date | None = first
        if scan.window is not None:
            lower = _window_lower_date(scan.window, end, calendar)
        if lower is not None:
            conditions.append(exp.GTE(this=scan.time.copy(),
                                      expression=bound(scan.time, lower, plan)))
        conditions.append(exp.LT(this=scan.time.copy(), expression=bound(scan.time, end, plan)))
    conditions += [c.copy() for c in scan.where]
    select = select.where(_and_all([_wrap(c) for c in conditions]), copy=False)
    if scan.dimensions:
        select = select.group_by(*[expr.copy() for _, expr in scan.dimensions], copy=False)
    return select


_BY_KIND: dict[str, Callable[[Scan, Plan], exp.Select]] = {
    PER_PERIOD: _per_period_select, AT_INSTANT: _at_scan_select, WINDOW: _window_select,
    BASELINE: _baseline_select,
}
