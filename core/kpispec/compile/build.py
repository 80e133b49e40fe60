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

from kpispec.calendar import FISCAL_GRAINS
from kpispec.compile import nodes
from kpispec.compile._tree import (
    _KEYS,
    _PERIODS,
    PERIOD,
    PERIOD_LABEL,
    _and_all,
    _as,
    _join,
    _period_of,
    _relation,
    _table,
    period_count,
    period_start,
    shift_date,
)
from kpispec.compile.local_time import local
from kpispec.compile.naming import finalize, public
from kpispec.compile.plan import BASELINE, Plan
from kpispec.compile.scans import scan_select
from kpispec.compile.spine import spine_ctes
from kpispec.extensions import AddDays, LocalTime, PeriodStart, RowExists

__all__ = ["build_select", "period_count", "period_start", "shift_date", "target_applies"]


def build_select(plan: Plan) -> exp.Select:
    """The whole query as one sqlglot SELECT of standard and kpispec nodes, the same for every dialect."""
    # Scans by a time column come first (an unbounded spine reads their periods);
    # scans over the spine come after it.
    ctes: list[tuple[str, exp.Expr]] = [(s.name, scan_select(s, plan))
                                         for s in plan.scans if not s.over_spine]
    ctes += spine_ctes(plan)
    ctes += [(s.name, scan_select(s, plan)) for s in plan.scans if s.over_spine]
    dims = [name for name, _ in plan.scans[0].dimensions] if plan.scans else []
    by_period = [s for s in plan.scans if s.kind != BASELINE]
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
        label = nodes.fiscal_label(period_ref.copy(), q.grain, q.calendar)
        select.append("expressions", _as(label, PERIOD_LABEL))
    for d in dims:
        select.append("expressions", _as(exp.column(d, table=key_table), public(d)))
    for out in plan.outputs:
        tree = out.expr
        if out.kind in ("target", "attainment"):
            target, attainment = _target_columns(out.metric.name, out.expr, plan)
            tree = target if out.kind == "target" else attainment
        select.append("expressions", _as(_safe_division(tree), out.name))
    select = select.from_(_table(_PERIODS), copy=False)
    if dims and by_period:
        select = _join(select, _table(key_table), exp.EQ(this=exp.column(PERIOD, table=key_table),
                                                         expression=period_ref.copy()))
    for scan in plan.scans:
        conditions: list[exp.Expr] = [nodes.NullSafeEq(this=exp.column(d, table=scan.name),
                                      expression=exp.column(d, table=key_table)) for d in dims]
        if scan.kind != BASELINE:
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
    spelled = select.transform(lambda node: _metric_type_nodes(node, plan), copy=False)
    assert isinstance(spelled, exp.Select)
    finalize(spelled, plan.models)
    return spelled


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


def _target_columns(name: str, value: exp.Expr, plan: Plan
                    ) -> tuple[exp.Expr, exp.Expr]:
    """``<metric>__target`` (a CASE over the period) and ``<metric>__attainment``."""
    metric = next(o.metric for o in plan.outputs if o.name == name)
    constant, periods = target_applies(plan, name)
    default: exp.Expr = exp.Literal.number(constant) if constant is not None else exp.Null()
    target: exp.Expr = default
    if periods:
        period = exp.column(PERIOD, table=_PERIODS)
        target = exp.Case(ifs=[exp.If(this=exp.EQ(this=period.copy(),
                                                  expression=nodes.date_literal(day)),
                                      true=exp.Literal.number(v))
                               for day, v in sorted(periods.items())], default=default)
    assert metric.targets is not None
    actual = exp.paren(value.copy())
    higher = metric.targets.higher_is_better
    ratio = (exp.Div(this=actual, expression=target.copy()) if higher
             else exp.Div(this=target.copy(), expression=actual))
    attainment = exp.Mul(this=exp.Literal.number(100), expression=ratio)
    return target, attainment


def _metric_type_nodes(node: exp.Expr, plan: Plan) -> exp.Expr:
    """Spell the nodes metric types may use (PeriodStart, LocalTime, AddDays, RowExists)."""
    if isinstance(node, AddDays):
        return node
    if isinstance(node, LocalTime):
        return local(node.this, plan)
    if isinstance(node, RowExists):
        model = plan.models[node.name]
        # transform() does not visit what a replacement holds: spell nested nodes first.
        condition = node.expression.transform(lambda n: _metric_type_nodes(n, plan))
        related = (exp.Select(expressions=[exp.Literal.number(1)])
                   .from_(_relation(model, node.args["alias"].name), copy=False)
                   .where(condition))
        return exp.Exists(this=related)
    if not isinstance(node, PeriodStart):
        return node
    grain = plan.query.grain
    start = _period_of(local(node.this, plan), plan)
    periods = node.args.get("periods")
    if periods is None or (isinstance(periods, exp.Literal) and periods.this == "0"):
        return start
    return nodes.add_periods(start, periods, grain)


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

