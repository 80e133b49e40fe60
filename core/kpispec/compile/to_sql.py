"""Plan → one sqlglot SELECT: a CTE per scan, a period spine, the metrics on top.

The shape, for readers of the generated SQL::

    WITH deals_by_closed_at AS (...one GROUP BY per (model, time column)...),
         leads_by_created_at AS (...),
         digits AS (SELECT 0 AS d UNION ALL ... SELECT 9),
         numbers AS (SELECT ones.d + 10 * tens.d ... AS n FROM digits AS ones CROSS JOIN ...),
         periods AS (SELECT <first period + n periods> AS period FROM numbers WHERE ...),
         [dimension_keys AS (SELECT period, dims FROM scan UNION SELECT ...)]
    SELECT periods.period, dims, <metric expressions> AS <metric> FROM periods LEFT JOIN ...
    ORDER BY period, dims
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from kpispec.calendar import FISCAL_GRAINS, Calendar, add_months
from kpispec.compile import dialects
from kpispec.compile.local_time import bound, instant_for, local, time_column
from kpispec.compile.naming import finalize, internal, public
from kpispec.compile.plan import Aggregate, Plan, Scan
from kpispec.compile.spine_size import DIGIT_NAMES, bounded_digits, count_periods, open_digits
from kpispec.extensions import AddDays, LocalTime, PeriodStart, RowExists
from kpispec.spec.model import Model, Offset, Window

__all__ = ["build_select", "period_count", "period_start"]

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


# -- tree builders ------------------------------------------------------------------------
# sqlglot's fluent builders (select.join("t"), exp.union, exp.alias_, with_) copy their
# arguments and parse strings; a compile builds thousands of nodes, so the nodes are
# made directly here, from parts that are already fresh copies.


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


def _aggregate(a: Aggregate, dialect: str) -> exp.Expr:
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
        return _percentile(value, 0.5 if a.agg == "median" else a.p, dialect)
    cls = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[a.agg]
    return cls(this=value)


def _percentile(value: exp.Expr, p: float | None, dialect: str) -> exp.Expr:
    """The exact, linearly interpolated percentile (PERCENTILE_CONT) as an aggregate."""
    fraction = exp.Literal.number(p)
    if dialect == "duckdb":
        return exp.PercentileCont(this=value, expression=fraction)
    if dialect in ("spark", "databricks"):  # sqlglot would write the approximate function
        return exp.Anonymous(this="PERCENTILE", expressions=[value, fraction])
    return exp.WithinGroup(this=exp.PercentileCont(this=fraction),
                           expression=exp.Order(expressions=[exp.Ordered(this=value)]))


def _period_of(value: exp.Expr, plan: Plan, dialect: str, grain: str | None = None) -> exp.Expr:
    return dialects.period_of(value, grain or plan.query.grain, plan.query.calendar, dialect)


def _window_lower_date(window: Window, upper: dt.date, calendar: Calendar) -> dt.date | None:
    """Python twin of :func:`_window_lower`: the first day a window ending at ``upper`` reads."""
    if window.length is not None:
        return shift_date(upper, window.length)
    if window.to_date is not None:
        return calendar.period_start(upper - dt.timedelta(days=1), window.to_date)
    return None


def _window_lower(window: Window, upper: exp.Expr, plan: Plan, dialect: str) -> exp.Expr | None:
    """The first day (a DATE) a window ending at the DATE ``upper`` (exclusive) reads."""
    length = window.length
    if length is not None:
        if length.days:
            return dialects.add_periods(upper, exp.Literal.number(-length.days), "day", dialect)
        if plan.query.grain in ("day", "week"):  # upper may be any day of a month
            return dialects.add_months_clamped(upper, -length.months, dialect)
        return dialects.add_periods(upper, exp.Literal.number(-length.months), "month", dialect)
    if window.to_date is not None:
        last_day = dialects.add_periods(upper, exp.Literal.number(-1), "day", dialect)
        return _period_of(last_day, plan, dialect, window.to_date)
    return None


# -- scans --------------------------------------------------------------------------------


def _scan_select(scan: Scan, plan: Plan, dialect: str) -> exp.Select:
    """One GROUP BY over a model: by its time column, over the spine for an `at` or a
    windowed scan, or by dimensions only for a baseline."""
    if scan.baseline is not None:
        return _baseline_select(scan, plan, dialect)
    if scan.at:
        return _at_scan_select(scan, plan, dialect)
    if scan.window is not None:
        return _window_select(scan, plan, dialect)
    assert scan.time is not None
    q = plan.query
    period = _period_of(local(scan.time.copy(), plan, dialect), plan, dialect)
    if scan.shift:  # a metric input at an offset: report each row `shift` periods later
        period = dialects.add_periods(period, exp.Literal.number(scan.shift), q.grain, dialect)
    select = _select_list(scan, period, dialect)
    model = scan.model
    select = select.from_(_relation(model), copy=False)
    select = _joins(select, scan, plan)
    conditions: list[exp.Expr] = []
    if q.start is not None:
        start = shift_date(q.start, scan.offset)
        conditions.append(exp.GTE(this=scan.time.copy(),
                                  expression=bound(scan.time, start, plan, dialect)))
    if q.end is not None:
        end = shift_date(q.end, scan.offset)
        conditions.append(exp.LT(this=scan.time.copy(),
                                 expression=bound(scan.time, end, plan, dialect)))
    if q.start is None and q.end is None:
        conditions.append(exp.Not(this=exp.Is(this=scan.time.copy(), expression=exp.Null())))
    conditions += [c.copy() for c in scan.where]
    select = select.where(_and_all([_wrap(c) for c in conditions]), copy=False)
    group = [period.copy()] + [expr.copy() for _, expr in scan.dimensions]
    return select.group_by(*group, copy=False)


def _select_list(scan: Scan, period: exp.Expr | None, dialect: str) -> exp.Select:
    select = exp.Select(expressions=[_as(period, PERIOD)] if period is not None else [])
    for name, expr in scan.dimensions:
        select.append("expressions", _as(expr.copy(), name))
    for a in scan.aggregates:
        select.append("expressions", _as(_aggregate(a, dialect), a.column))
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


def _evaluated_period(scan: Scan, plan: Plan, dialect: str) -> exp.Expr:
    """The spine period a scan over the spine computes its value at (earlier at an offset)."""
    period = exp.column(PERIOD, table=_PERIODS)
    if scan.shift:
        return dialects.add_periods(period, exp.Literal.number(-scan.shift), plan.query.grain, dialect)
    return period


def _alive(scan: Scan, day: exp.Expr, plan: Plan, dialect: str) -> exp.Expr:
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
        began = exp.LTE(this=local(start.copy(), plan, dialect), expression=instant_for(start, day, plan, dialect))
        alive_op: type[exp.Expr] = exp.GT
    else:
        began = exp.LT(this=local(start.copy(), plan, dialect), expression=instant_for(start, day, plan, dialect))
        alive_op = exp.GTE
    if not end_col:
        return began
    end = time_column(model, end_col)
    not_ended = exp.Or(this=exp.Is(this=end.copy(), expression=exp.Null()), expression=alive_op(
        this=local(end.copy(), plan, dialect), expression=instant_for(end, day.copy(), plan, dialect)))
    return exp.And(this=began, expression=exp.paren(not_ended, copy=False))


#: How a per-group partial aggregate is combined over groups (aggregates that decompose).
_COMBINE: dict[str, type[exp.Func]] = {"count": exp.Sum, "sum": exp.Sum, "min": exp.Min,
                                       "max": exp.Max}


def _at_scan_select(scan: Scan, plan: Plan, dialect: str) -> exp.Select:
    """Rows alive at an instant of every period of the spine (a model with a lifecycle)."""
    if all(a.agg in _COMBINE for a in scan.aggregates):
        return _at_scan_by_lifecycle_periods(scan, plan, dialect)
    model = scan.model
    evaluated = _evaluated_period(scan, plan, dialect)
    day = evaluated if scan.at == "period_start" else dialects.add_periods(
        evaluated, exp.Literal.number(1), plan.query.grain, dialect)
    period = exp.column(PERIOD, table=_PERIODS)
    select = _select_list(scan, period.copy(), dialect).from_(_table(_PERIODS), copy=False)
    select = _join(select, _relation(model), _alive(scan, day, plan, dialect), how="INNER")
    select = _joins(select, scan, plan)
    if scan.where:
        select = select.where(_and_all([_wrap(c.copy()) for c in scan.where]), copy=False)
    group = [period.copy()] + [expr.copy() for _, expr in scan.dimensions]
    return select.group_by(*group, copy=False)


def _at_scan_by_lifecycle_periods(scan: Scan, plan: Plan, dialect: str) -> exp.Select:
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
        wall = local(column.copy(), plan, dialect)
        bucket = _period_of(wall, plan, dialect)
        inner.append("expressions", _as(bucket, internal(f"{role}_period")))
        group.append(bucket.copy())
        if scan.at == "period_start":
            on_boundary = exp.Case(ifs=[exp.If(this=exp.LTE(this=wall.copy(), expression=instant_for(
                column, bucket.copy(), plan, dialect)), true=exp.Literal.number(1))], default=exp.Literal.number(0))
            inner.append("expressions", _as(on_boundary, internal(f"{role}_exact")))
            group.append(on_boundary.copy())
    for name, expr in scan.dimensions:
        inner.append("expressions", _as(expr.copy(), name))
        group.append(expr.copy())
    for a in scan.aggregates:
        inner.append("expressions", _as(_aggregate(a, dialect), a.column))
    inner = inner.from_(_relation(model), copy=False)
    inner = _joins(inner, scan, plan)
    if scan.where:
        inner = inner.where(_and_all([_wrap(c.copy()) for c in scan.where]), copy=False)
    inner = inner.group_by(*group, copy=False)

    def col(name: str) -> exp.Column:  # a placeholder, or a role's column (start_period…)
        return exp.column(name if public(name) != name else internal(name), table=_LIFECYCLE)

    evaluated = _evaluated_period(scan, plan, dialect)
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


def _window_select(scan: Scan, plan: Plan, dialect: str) -> exp.Select:
    """A rolling, cumulative or grain-to-date measure: for every period of the spine, the
    rows whose time falls in the window that ends with the period."""
    assert scan.time is not None and scan.window is not None
    q = plan.query
    model = scan.model
    upper = dialects.add_periods(_evaluated_period(scan, plan, dialect), exp.Literal.number(1),
                                 q.grain, dialect)
    lower = _window_lower(scan.window, upper.copy(), plan, dialect)
    time = local(scan.time.copy(), plan, dialect)
    within: exp.Expr = exp.LT(this=time, expression=instant_for(scan.time, upper, plan, dialect))
    if lower is not None:
        within = exp.And(this=exp.GTE(this=time.copy(), expression=instant_for(scan.time, lower, plan, dialect)),
                         expression=within)
    period = exp.column(PERIOD, table=_PERIODS)
    select = _select_list(scan, period.copy(), dialect).from_(_table(_PERIODS), copy=False)
    select = _join(select, _relation(model), within, how="INNER")
    select = _joins(select, scan, plan)
    # Rows after --to never count (a partial last period ends there); rows before the
    # first window's start cannot count (a plain bound on the column, for pruning).
    conditions = [c.copy() for c in scan.where]
    calendar = q.calendar
    if q.end is not None:
        conditions.append(exp.LT(this=scan.time.copy(), expression=bound(
            scan.time, shift_date(q.end, scan.offset), plan, dialect)))
    if q.start is not None:
        first_end = calendar.add(calendar.period_start(q.start, q.grain), 1 - scan.shift, q.grain)
        first_day = _window_lower_date(scan.window, first_end, calendar)
        if first_day is not None:
            conditions.append(exp.GTE(this=scan.time.copy(),
                                      expression=bound(scan.time, first_day, plan, dialect)))
    if conditions:
        select = select.where(_and_all([_wrap(c) for c in conditions]), copy=False)
    group = [period.copy()] + [expr.copy() for _, expr in scan.dimensions]
    return select.group_by(*group, copy=False)


def _baseline_select(scan: Scan, plan: Plan, dialect: str) -> exp.Select:
    """One value per dimension combination over the baseline range, read as one period."""
    assert scan.baseline is not None
    calendar = plan.query.calendar
    first, end = (shift_date(day, scan.offset) for day in scan.baseline)
    model = scan.model
    select = _select_list(scan, None, dialect)
    select = select.from_(_relation(model), copy=False)
    select = _joins(select, scan, plan)
    conditions: list[exp.Expr] = []
    if scan.at:
        day = dialects.date_literal(first if scan.at == "period_start" else end, dialect)
        conditions.append(_alive(scan, day, plan, dialect))
    else:
        assert scan.time is not None
        lower: dt.date | None = first
        if scan.window is not None:
            lower = _window_lower_date(scan.window, end, calendar)
        if lower is not None:
            conditions.append(exp.GTE(this=scan.time.copy(),
                                      expression=bound(scan.time, lower, plan, dialect)))
        conditions.append(exp.LT(this=scan.time.copy(), expression=bound(scan.time, end, plan, dialect)))
    conditions += [c.copy() for c in scan.where]
    select = select.where(_and_all([_wrap(c) for c in conditions]), copy=False)
    if scan.dimensions:
        select = select.group_by(*[expr.copy() for _, expr in scan.dimensions], copy=False)
    return select


def _wrap(condition: exp.Expr) -> exp.Expr:
    return exp.paren(condition) if isinstance(condition, exp.Or) else condition


# -- the period spine ---------------------------------------------------------------------


def _literal_periods(days: list[dt.date], dialect: str) -> exp.Expr:
    """The periods of a short bounded range, listed one by one."""
    rows = [dialects.select_constant(dialects.date_literal(day, dialect), PERIOD, dialect)
            for day in days]
    return _union(rows)


def _bounds_parts(plan: Plan, dialect: str) -> list[exp.Select]:
    """What an unbounded spine spans: every scan's periods; for an `at` scan (which is
    computed over the spine itself) the periods its lifecycle starts and ends in."""
    parts: list[exp.Select] = []
    lifecycles: set[str] = set()
    current = [s for s in plan.scans if s.baseline is None]
    primary = [s for s in current if not s.offset] or current
    for scan in primary:  # inputs at an offset reach past the data: they do not extend it
        if not scan.at and scan.window is None:
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
            period = _period_of(local(ref.copy(), plan, dialect), plan, dialect)
            parts.append(exp.Select(expressions=[_as(period, PERIOD)])
                         .from_(_relation(model), copy=False)
                         .where(exp.Not(this=exp.Is(this=ref.copy(), expression=exp.Null()))))
    return parts


def _spine(plan: Plan, dialect: str) -> list[tuple[str, exp.Expr]]:
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
            return [(_PERIODS, _literal_periods(calendar.periods(first_lit, q.end, grain), dialect))]
        digits = bounded_digits(count, first_lit, q.end, grain, calendar)  # or refuses
    else:
        count = None
        digits = open_digits(grain)
    rows = [dialects.select_constant(exp.Literal.number(i), "d", dialect) for i in range(10)]
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
        first: exp.Expr = dialects.date_literal(first_lit, dialect)
        period = dialects.add_periods(first, nref, grain, dialect)
        periods = (exp.Select(expressions=[_as(period, PERIOD)]).from_(_table(_NUMBERS), copy=False)
                   .where(exp.LT(this=nref.copy(), expression=exp.Literal.number(count)), copy=False))
    else:
        all_periods: exp.Expr | None = None
        for part in _bounds_parts(plan, dialect):
            all_periods = part if all_periods is None else exp.Union(this=all_periods, expression=part,
                                                                     distinct=False)
        assert all_periods is not None
        sub = exp.Subquery(this=all_periods, alias=exp.TableAlias(this=exp.to_identifier(_SCANNED)))
        first_expr = (dialects.date_literal(first_lit, dialect) if first_lit
                      else exp.Min(this=exp.column(PERIOD)))
        last_expr = (dialects.date_literal(last_lit, dialect) if last_lit
                     else exp.Max(this=exp.column(PERIOD)))
        bounds = exp.Select(expressions=[_as(first_expr, "first_period"),
                                         _as(last_expr, "last_period")]).from_(sub, copy=False)
        ctes.append((_BOUNDS, bounds))
        period = dialects.add_periods(exp.column("first_period", table=_BOUNDS), nref, grain, dialect)
        periods = _join(exp.Select(expressions=[_as(period, PERIOD)]).from_(_table(_BOUNDS), copy=False),
                        _table(_NUMBERS), how="CROSS")
        periods = periods.where(exp.LTE(this=period.copy(),
                                        expression=exp.column("last_period", table=_BOUNDS)), copy=False)
    ctes.append((_PERIODS, periods))
    return ctes


# -- the whole query ----------------------------------------------------------------------


def build_select(plan: Plan, dialect: str) -> exp.Select:
    """The whole query as one sqlglot SELECT in ``dialect``'s constructs."""
    # Scans by a time column come first (an unbounded spine reads their periods);
    # scans over the spine come after it.
    ctes: list[tuple[str, exp.Expr]] = [(s.name, _scan_select(s, plan, dialect))
                                         for s in plan.scans if not s.over_spine]
    ctes += _spine(plan, dialect)
    ctes += [(s.name, _scan_select(s, plan, dialect)) for s in plan.scans if s.over_spine]
    dims = [name for name, _ in plan.scans[0].dimensions] if plan.scans else []
    by_period = [s for s in plan.scans if s.baseline is None]
    key_table = _PERIODS
    if dims and by_period:
        keys: exp.Expr | None = None
        for scan in by_period:
            part = exp.Select(expressions=[exp.column(c) for c in (PERIOD, *dims)]).from_(
                _table(scan.name), copy=False)
            keys = part if keys is None else exp.Union(this=keys, expression=part, distinct=True)
        assert keys is not None
        ctes.append((_KEYS, keys))
        key_table = _KEYS
    # Every result column is aliased: some engines (ClickHouse) would otherwise name a
    # qualified column "periods.period".
    period_ref = exp.column(PERIOD, table=_PERIODS)
    select = exp.Select(expressions=[_as(period_ref.copy(), PERIOD)])
    q = plan.query
    if q.grain in FISCAL_GRAINS:
        label = dialects.fiscal_label(period_ref.copy(), q.grain, q.calendar, dialect)
        select.append("expressions", _as(label, PERIOD_LABEL))
    for d in dims:
        select.append("expressions", _as(exp.column(d, table=key_table), public(d)))
    for out in plan.outputs:
        tree = out.expr
        if out.kind in ("target", "attainment"):
            target, attainment = _target_columns(out.metric.name, out.expr, plan, dialect)
            tree = target if out.kind == "target" else attainment
        select.append("expressions", _as(_safe_division(tree), out.name))
    select = select.from_(_table(_PERIODS), copy=False)
    if dims and by_period:
        select = _join(select, _table(key_table), exp.EQ(this=exp.column(PERIOD, table=key_table),
                                                         expression=period_ref.copy()))
    for scan in plan.scans:
        conditions = [dialects.null_safe_eq(exp.column(d, table=scan.name),
                                            exp.column(d, table=key_table), dialect) for d in dims]
        if scan.baseline is None:
            conditions.insert(0, exp.EQ(this=exp.column(PERIOD, table=scan.name),
                                        expression=period_ref.copy()))
        if conditions:
            select = _join(select, _table(scan.name), _and_all(conditions))
        else:  # a baseline without dimensions: exactly one row
            select = _join(select, _table(scan.name), how="CROSS")
    order = [period_ref.copy()] + [exp.column(d, table=key_table) for d in dims]
    select = select.order_by(*[exp.Ordered(this=o, nulls_first=False) for o in order], copy=False)
    if ctes:
        select.set("with_", exp.With(expressions=[
            exp.CTE(this=body, alias=exp.TableAlias(this=exp.to_identifier(name))) for name, body in ctes]))
    spelled = select.transform(lambda node: _metric_type_nodes(node, plan, dialect), copy=False)
    assert isinstance(spelled, exp.Select)
    finalize(spelled, plan.models)
    return dialects.query_settings(spelled, dialect)


def target_applies(plan: Plan, metric: str) -> tuple[float | None, dict[dt.date, float]]:
    """The constant target and the per-period targets of ``metric`` a query at its grain uses."""
    from kpispec.errors import QueryError

    targets = next(o.metric.targets for o in plan.outputs if o.name == metric)
    if targets is None:
        return None, {}
    q = plan.query
    if targets.grain == q.grain:
        return targets.value, dict(targets.periods)
    if targets.value is None:
        raise QueryError(f"--targets: the targets of {metric!r} are per {targets.grain} period; "
                         f"this query is by {q.grain}", hint=f"Query at --grain {targets.grain}")
    return targets.value, {}


def _target_columns(name: str, value: exp.Expr, plan: Plan, dialect: str
                    ) -> tuple[exp.Expr, exp.Expr]:
    """``<metric>__target`` (a CASE over the period) and ``<metric>__attainment``."""
    metric = next(o.metric for o in plan.outputs if o.name == name)
    constant, periods = target_applies(plan, name)
    default: exp.Expr = exp.Literal.number(constant) if constant is not None else exp.Null()
    target: exp.Expr = default
    if periods:
        period = exp.column(PERIOD, table=_PERIODS)
        target = exp.Case(ifs=[exp.If(this=exp.EQ(this=period.copy(),
                                                  expression=dialects.date_literal(day, dialect)),
                                      true=exp.Literal.number(v))
                               for day, v in sorted(periods.items())], default=default)
    assert metric.targets is not None
    actual = exp.paren(value.copy())
    higher = metric.targets.higher_is_better
    ratio = (exp.Div(this=actual, expression=target.copy()) if higher
             else exp.Div(this=target.copy(), expression=actual))
    attainment = exp.Mul(this=exp.Literal.number(100), expression=ratio)
    return target, attainment


def _metric_type_nodes(node: exp.Expr, plan: Plan, dialect: str) -> exp.Expr:
    """Spell the nodes metric types may use (PeriodStart, LocalTime, AddDays, RowExists)."""
    if isinstance(node, AddDays):
        return dialects.add_days(node.this, node.args["days"], dialect)
    if isinstance(node, LocalTime):
        return local(node.this, plan, dialect)
    if isinstance(node, RowExists):
        model = plan.models[node.name]
        # transform() does not visit what a replacement holds: spell nested nodes first.
        condition = node.expression.transform(lambda n: _metric_type_nodes(n, plan, dialect))
        related = (exp.Select(expressions=[exp.Literal.number(1)])
                   .from_(_relation(model, node.args["alias"].name), copy=False)
                   .where(condition))
        return exp.Exists(this=related)
    if not isinstance(node, PeriodStart):
        return node
    grain = plan.query.grain
    start = _period_of(local(node.this, plan, dialect), plan, dialect)
    periods = node.args.get("periods")
    if periods is None or (isinstance(periods, exp.Literal) and periods.this == "0"):
        return start
    return dialects.add_periods(start, periods, grain, dialect)


def _safe_division(tree: exp.Expr) -> exp.Expr:
    """Every division NULL (never an error) when its divisor is 0, and never integer division."""
    tree = tree.copy()
    for node in list(tree.find_all(exp.Div)):
        divisor = node.expression
        if not (isinstance(divisor, exp.Literal) and divisor.is_number and float(divisor.this)):
            node.set("expression", exp.Nullif(this=divisor, expression=exp.Literal.number(0)))
        node.set("typed", False)
        node.set("safe", False)
    return tree
