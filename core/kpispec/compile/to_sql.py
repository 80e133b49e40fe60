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

from kpispec.compile import dialects
from kpispec.compile.plan import Aggregate, Plan, Scan
from kpispec.extensions import AddDays, PeriodStart, RowExists
from kpispec.spec.model import Offset

__all__ = ["build_select", "period_count", "period_start"]

PERIOD = "period"
#: A bounded range of at most this many periods lists them literally instead of
#: generating them from a digits × digits… number table.
LITERAL_SPINE_MAX = 24


def period_start(day: dt.date, grain: str) -> dt.date:
    """The first day of the ``grain`` period holding ``day`` (weeks start Monday)."""
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return dt.date(day.year, 1, 1)


def shift_date(day: dt.date, offset: Offset) -> dt.date:
    """``day`` moved ``offset`` earlier (months keep the day, clamped to the month's end)."""
    if offset.days:
        return day - dt.timedelta(days=offset.days)
    if not offset.months:
        return day
    index = day.year * 12 + day.month - 1 - offset.months
    year, month = divmod(index, 12)
    first_next = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    last_day = (first_next - dt.timedelta(days=1)).day
    return dt.date(year, month + 1, min(day.day, last_day))


def period_count(first: dt.date, end: dt.date, grain: str) -> int:
    """How many ``grain`` periods start on or after ``first`` and before ``end``."""
    if end <= first:
        return 0
    if grain in ("day", "week"):
        step = 1 if grain == "day" else 7
        return ((end - first).days + step - 1) // step
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    span = (end.year - first.year) * 12 + end.month - first.month
    count = span // months
    # A period starting before `end` (on a later day of its first month) still counts.
    last = first.month - 1 + count * months
    if dt.date(first.year + last // 12, last % 12 + 1, 1) < end:
        count += 1
    return count


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


def _scan_select(scan: Scan, plan: Plan, dialect: str) -> exp.Select:
    """One GROUP BY over a model: by its time column, or over the spine for an `at` scan."""
    if scan.at:
        return _at_scan_select(scan, plan, dialect)
    assert scan.time is not None
    q = plan.query
    period = dialects.truncate(scan.time.copy(), q.grain, dialect)
    if scan.shift:  # a metric input at an offset: report each row `shift` periods later
        period = dialects.add_periods(period, exp.Literal.number(scan.shift), q.grain, dialect)
    select = _select_list(scan, period, dialect)
    model = scan.model
    select = select.from_(exp.alias_(model.relation.copy(), model.name, table=True), copy=False)
    select = _joins(select, scan, plan)
    conditions: list[exp.Expr] = []
    if q.start is not None:
        start = shift_date(q.start, scan.offset)
        conditions.append(exp.GTE(this=scan.time.copy(),
                                  expression=dialects.timestamp_literal(start, dialect)))
    if q.end is not None:
        end = shift_date(q.end, scan.offset)
        conditions.append(exp.LT(this=scan.time.copy(),
                                 expression=dialects.timestamp_literal(end, dialect)))
    if q.start is None and q.end is None:
        conditions.append(exp.Not(this=exp.Is(this=scan.time.copy(), expression=exp.Null())))
    conditions += [c.copy() for c in scan.where]
    select = select.where(exp.and_(*[_wrap(c) for c in conditions]), copy=False)
    group = [period.copy()] + [expr.copy() for _, expr in scan.dimensions]
    return select.group_by(*group, copy=False)


def _select_list(scan: Scan, period: exp.Expr, dialect: str) -> exp.Select:
    select = exp.select(exp.alias_(period, PERIOD))
    for name, expr in scan.dimensions:
        select = select.select(exp.alias_(expr.copy(), name), copy=False)
    for a in scan.aggregates:
        select = select.select(exp.alias_(_aggregate(a, dialect), a.alias), copy=False)
    return select


def _joins(select: exp.Select, scan: Scan, plan: Plan) -> exp.Select:
    """LEFT JOIN the models a scan needs, in the order needed; each is many-to-one."""
    joined = [scan.model.name]
    for name in scan.joins:
        source, join = next((s, j) for s in joined for j in plan.models[s].joins if j.model == name)
        target = plan.models[name]
        on = exp.EQ(this=exp.column(join.on, table=source), expression=exp.column(join.to, table=name))
        select = select.join(exp.alias_(target.relation.copy(), name, table=True), on=on,
                             join_type="left", copy=False)
        joined.append(name)
    return select


def _at_scan_select(scan: Scan, plan: Plan, dialect: str) -> exp.Select:
    """Rows alive at an instant of every period of the spine (a model with a lifecycle).

    At period start the instant is the period's first moment t: start <= t and
    (end IS NULL or end > t). At period end it is the next period's first moment
    n, exclusive: start < n and (end IS NULL or end >= n) — so a row ending exactly
    at midnight on the 1st is alive at the end of the month before, not at the
    start of its own.
    """
    model = scan.model
    assert model.lifecycle is not None
    start_col, end_col = model.lifecycle
    period = exp.column(PERIOD, table="periods")
    if scan.at == "period_start":
        instant = dialects.instant(period.copy(), dialect)
        began: exp.Expr = exp.LTE(this=exp.column(start_col, table=model.name), expression=instant)
        alive_op: type[exp.Expr] = exp.GT
    else:
        next_period = dialects.add_periods(period.copy(), exp.Literal.number(1), plan.query.grain, dialect)
        instant = dialects.instant(next_period, dialect)
        began = exp.LT(this=exp.column(start_col, table=model.name), expression=instant)
        alive_op = exp.GTE
    active = began
    if end_col:
        end = exp.column(end_col, table=model.name)
        not_ended = exp.or_(exp.Is(this=end.copy(), expression=exp.Null()),
                            alive_op(this=end, expression=instant.copy()))
        active = exp.and_(began, exp.paren(not_ended))
    select = _select_list(scan, period.copy(), dialect).from_("periods", copy=False)
    select = select.join(exp.alias_(model.relation.copy(), model.name, table=True), on=active,
                         join_type="inner", copy=False)
    select = _joins(select, scan, plan)
    if scan.where:
        select = select.where(exp.and_(*[_wrap(c.copy()) for c in scan.where]), copy=False)
    group = [period.copy()] + [expr.copy() for _, expr in scan.dimensions]
    return select.group_by(*group, copy=False)


def _wrap(condition: exp.Expr) -> exp.Expr:
    return exp.paren(condition) if isinstance(condition, exp.Or) else condition


def _literal_periods(first: dt.date, count: int, grain: str, dialect: str) -> exp.Expr:
    """The periods of a short bounded range, listed one by one."""
    rows = []
    day = first
    for _ in range(count):
        rows.append(dialects.select_constant(dialects.date_literal(day, dialect), PERIOD, dialect))
        day = _next_period(day, grain)
    union: exp.Expr = rows[0]
    for row in rows[1:]:
        union = exp.union(union, row, distinct=False)
    return union


def _next_period(day: dt.date, grain: str) -> dt.date:
    if grain in ("day", "week"):
        return day + dt.timedelta(days=1 if grain == "day" else 7)
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _bounds_parts(plan: Plan, dialect: str) -> list[exp.Select]:
    """What an unbounded spine spans: every scan's periods; for an `at` scan (which is
    computed over the spine itself) the periods its lifecycle starts and ends in."""
    parts: list[exp.Select] = []
    lifecycles: set[str] = set()
    primary = [s for s in plan.scans if not s.offset] or list(plan.scans)
    for scan in primary:  # inputs at an offset reach past the data: they do not extend it
        if not scan.at:
            parts.append(exp.select(PERIOD).from_(scan.name))
            continue
        if scan.model.name in lifecycles:
            continue
        lifecycles.add(scan.model.name)
        model = scan.model
        assert model.lifecycle is not None
        for column in filter(None, model.lifecycle):
            ref = exp.column(column, table=model.name)
            period = dialects.truncate(ref.copy(), plan.query.grain, dialect)
            parts.append(exp.select(exp.alias_(period, PERIOD))
                         .from_(exp.alias_(model.relation.copy(), model.name, table=True))
                         .where(exp.Not(this=exp.Is(this=ref, expression=exp.Null()))))
    return parts


def _spine(plan: Plan, dialect: str) -> list[tuple[str, exp.Expr]]:
    """CTEs for the period spine: digits, numbers, [bounds,] periods."""
    q = plan.query
    grain = q.grain
    ctes: list[tuple[str, exp.Expr]] = []
    first_lit = period_start(q.start, grain) if q.start else None
    last_lit = period_start(q.end - dt.timedelta(days=1), grain) if q.end else None
    if first_lit and q.end:
        count = period_count(first_lit, q.end, grain)
        if count <= LITERAL_SPINE_MAX:
            return [("periods", _literal_periods(first_lit, count, grain, dialect))]
        digits = max(1, len(str(max(count - 1, 0))))
    else:
        count = None
        digits = 5 if grain == "day" else 4
    rows = [dialects.select_constant(exp.Literal.number(i), "d", dialect) for i in range(10)]
    union: exp.Expr = rows[0]
    for row in rows[1:]:
        union = exp.union(union, row, distinct=False)
    ctes.append(("digits", union))
    names = ["ones", "tens", "hundreds", "thousands", "ten_thousands"][:digits]
    n: exp.Expr = exp.column("d", table=names[0])
    for i, name in enumerate(names[1:], start=1):
        n = exp.Add(this=n, expression=exp.Mul(this=exp.Literal.number(10 ** i),
                                               expression=exp.column("d", table=name)))
    numbers = exp.select(exp.alias_(n, "n")).from_(exp.alias_(exp.to_table("digits"), names[0], table=True))
    for name in names[1:]:
        numbers = numbers.join(exp.alias_(exp.to_table("digits"), name, table=True), join_type="cross")
    ctes.append(("numbers", numbers))
    nref = exp.column("n", table="numbers")
    if count is not None and first_lit is not None:
        first: exp.Expr = dialects.date_literal(first_lit, dialect)
        period = dialects.add_periods(first, nref, grain, dialect)
        periods = (exp.select(exp.alias_(period, PERIOD)).from_("numbers")
                   .where(exp.LT(this=nref.copy(), expression=exp.Literal.number(count))))
    else:
        all_periods: exp.Expr | None = None
        for part in _bounds_parts(plan, dialect):
            all_periods = part if all_periods is None else exp.union(all_periods, part, distinct=False)
        assert all_periods is not None
        sub = exp.alias_(exp.Subquery(this=all_periods), "scanned", table=True)
        first_expr = (dialects.date_literal(first_lit, dialect) if first_lit
                      else exp.Min(this=exp.column(PERIOD)))
        last_expr = (dialects.date_literal(last_lit, dialect) if last_lit
                     else exp.Max(this=exp.column(PERIOD)))
        bounds = exp.select(exp.alias_(first_expr, "first_period"),
                            exp.alias_(last_expr, "last_period")).from_(sub)
        ctes.append(("bounds", bounds))
        period = dialects.add_periods(exp.column("first_period", table="bounds"), nref, grain, dialect)
        periods = (exp.select(exp.alias_(period, PERIOD))
                   .from_("bounds").join("numbers", join_type="cross")
                   .where(exp.LTE(this=period.copy(),
                                  expression=exp.column("last_period", table="bounds"))))
    ctes.append(("periods", periods))
    return ctes


def build_select(plan: Plan, dialect: str) -> exp.Select:
    """The whole query as one sqlglot SELECT in ``dialect``'s constructs."""
    # Scans by a time column come first (an unbounded spine reads their periods);
    # point-in-time scans come after the spine they are computed over.
    ctes: list[tuple[str, exp.Expr]] = [(s.name, _scan_select(s, plan, dialect))
                                         for s in plan.scans if not s.at]
    ctes += _spine(plan, dialect)
    ctes += [(s.name, _scan_select(s, plan, dialect)) for s in plan.scans if s.at]
    dims = [name for name, _ in plan.scans[0].dimensions] if plan.scans else []
    key_table = "periods"
    if dims:
        keys: exp.Expr | None = None
        for scan in plan.scans:
            part = exp.select(PERIOD, *dims).from_(scan.name)
            keys = part if keys is None else exp.union(keys, part, distinct=True)
        assert keys is not None
        ctes.append(("dimension_keys", keys))
        key_table = "dimension_keys"
    # Every result column is aliased: some engines (ClickHouse) would otherwise name a
    # qualified column "periods.period".
    select = exp.select(exp.alias_(exp.column(PERIOD, table="periods"), PERIOD))
    for d in dims:
        select = select.select(exp.alias_(exp.column(d, table=key_table), d), copy=False)
    for out in plan.outputs:
        select = select.select(exp.alias_(_safe_division(out.expr), out.name), copy=False)
    select = select.from_("periods", copy=False)
    if dims:
        select = select.join(key_table, on=exp.EQ(this=exp.column(PERIOD, table=key_table),
                                                  expression=exp.column(PERIOD, table="periods")),
                             join_type="left", copy=False)
    for scan in plan.scans:
        on: exp.Expr = exp.EQ(this=exp.column(PERIOD, table=scan.name),
                                    expression=exp.column(PERIOD, table="periods"))
        for d in dims:
            on = exp.and_(on, dialects.null_safe_eq(exp.column(d, table=scan.name),
                                                    exp.column(d, table=key_table), dialect))
        select = select.join(scan.name, on=on, join_type="left", copy=False)
    order = [exp.column(PERIOD, table="periods")] + [exp.column(d, table=key_table) for d in dims]
    select = select.order_by(*[exp.Ordered(this=o, nulls_first=False) for o in order], copy=False)
    for name, body in ctes:
        select = select.with_(name, as_=body, copy=False)
    spelled = select.transform(lambda node: _metric_type_nodes(node, plan, dialect), copy=False)
    assert isinstance(spelled, exp.Select)
    return dialects.query_settings(spelled, dialect)


def _metric_type_nodes(node: exp.Expr, plan: Plan, dialect: str) -> exp.Expr:
    """Spell the nodes metric types may use (PeriodStart, AddDays, RowExists)."""
    if isinstance(node, AddDays):
        return dialects.add_days(node.this, node.args["days"], dialect)
    if isinstance(node, RowExists):
        model = plan.models[node.name]
        # transform() does not visit what a replacement holds: spell nested nodes first.
        condition = node.expression.transform(lambda n: _metric_type_nodes(n, plan, dialect))
        related = (exp.select(exp.Literal.number(1))
                   .from_(exp.alias_(model.relation.copy(), node.args["alias"].name, table=True))
                   .where(condition))
        return exp.Exists(this=related)
    if not isinstance(node, PeriodStart):
        return node
    grain = plan.query.grain
    start = dialects.truncate(node.this, grain, dialect)
    periods = node.args.get("periods")
    if periods is None or (isinstance(periods, exp.Literal) and periods.this == "0"):
        return start
    return dialects.add_periods(start, periods, grain, dialect)


def _safe_division(tree: exp.Expr) -> exp.Expr:
    """Every division NULL (never an error) when its divisor is 0, and never integer division."""
    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Div):
            divisor = exp.func("NULLIF", node.expression, exp.Literal.number(0))
            return exp.Div(this=node.this, expression=divisor, typed=False, safe=False)
        return node

    return tree.copy().transform(fix, copy=False)
