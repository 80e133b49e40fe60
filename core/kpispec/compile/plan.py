"""The logical plan: which scans a query needs and how metrics combine their measures.

A query's metrics are expanded to leaf measures (derived metrics inline the
metrics they name, carrying their filters down). Measures are grouped by
(model, time column): each group is one :class:`Scan` — one pass over the
table, one GROUP BY, a conditional aggregate per measure — so several metrics
over the same table never cost a subquery each. Scans are joined on period and
dimensions only after aggregation, so measures from different tables never fan
out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from kpispec.calendar import FISCAL_GRAINS, GRAIN_MONTHS, GRAINS, Calendar
from kpispec.compile.local_time import mark_date
from kpispec.compile.naming import internal
from kpispec.errors import CompileError, QueryError
from kpispec.spec.model import NO_OFFSET, Measure, Metric, Model, Offset, Window
from kpispec.spec.resolve import ResolveError, Resolver

__all__ = ["COMPARISONS", "Aggregate", "Plan", "Query", "Scan", "build_plan", "compare_offset"]

#: What ``--compare`` accepts.
COMPARISONS = ("previous_period", "same_period_last_year", "baseline")


@dataclass(frozen=True)
class Query:
    """What the user asked for."""

    metrics: tuple[str, ...]
    dimensions: tuple[str, ...] = ()
    grain: str = "month"
    start: dt.date | None = None  # inclusive
    end: dt.date | None = None  # exclusive
    where: exp.Expr | None = None
    calendar: Calendar = field(default_factory=Calendar)
    compare: str | None = None  # one of COMPARISONS
    baseline: tuple[dt.date, dt.date] | None = None  # [start, end) with compare == "baseline"
    targets: bool = False  # add <metric>__target and <metric>__attainment


@dataclass(frozen=True)
class Aggregate:
    """One aggregate column of a scan."""

    alias: str
    agg: str
    expr: exp.Expr | None  # qualified; None for count(*)
    condition: exp.Expr | None  # qualified; rows it counts (CASE WHEN)
    p: float | None = None
    additive: bool = True
    metric: str = ""  # the metric that first asked for this measure (for messages)

    @property
    def column(self) -> str:
        """The scan column holding it (a placeholder: see :mod:`kpispec.compile.naming`)."""
        return internal(self.alias, "aggregate")


@dataclass(frozen=True)
class Scan:
    """One pass over a model: filter, group by period and dimensions, aggregate.

    Its ``kind`` says how (one of :data:`SCAN_KINDS`); ``at``, ``window`` and
    ``baseline`` are that kind's parameters.
    """

    name: str
    kind: str  # per_period | at_instant | window | baseline
    model: Model
    time: exp.Expr | None  # qualified time column; None for a point-in-time (at) scan
    joins: tuple[str, ...]  # models joined, in order
    dimensions: tuple[tuple[str, exp.Expr], ...]  # (output name, qualified expression)
    where: tuple[exp.Expr, ...]  # qualified conjuncts
    aggregates: tuple[Aggregate, ...]
    at: str | None = None  # period_start | period_end: rows alive at that instant of each period
    shift: int = 0  # periods later that each row's value is reported (metric inputs at an offset)
    offset: Offset = NO_OFFSET  # the calendar offset behind `shift`
    window: Window | None = None  # rolling / cumulative / grain-to-date: computed over the spine
    baseline: tuple[dt.date, dt.date] | None = None  # one value per dimension over this range

    @property
    def over_spine(self) -> bool:
        """True when the scan is computed for each period of the spine (not grouped by time)."""
        return self.kind in (AT_INSTANT, WINDOW)


#: Rows grouped by the period their time column falls in.
PER_PERIOD = "per_period"
#: Rows of a model with a lifecycle alive at an instant (``at``) of each period of the spine.
AT_INSTANT = "at_instant"
#: For each period of the spine, the rows in the ``window`` ending with it.
WINDOW = "window"
#: One value per dimension combination over the ``baseline`` range.
BASELINE = "baseline"
SCAN_KINDS = (PER_PERIOD, AT_INSTANT, WINDOW, BASELINE)


def _scan_kind(at: str | None, window: Window | None, baseline: bool) -> str:
    if baseline:
        return BASELINE
    if at:
        return AT_INSTANT
    return WINDOW if window is not None else PER_PERIOD


@dataclass(frozen=True)
class Output:
    """A result column: a metric and its expression over ``scan.alias`` columns."""

    name: str
    expr: exp.Expr
    metric: Metric
    #: value | compare | change | change_pct | target | attainment (``expr`` is the metric's
    #: value; the SQL builder makes the target's CASE) | column (a metric type's extra column)
    kind: str = "value"


@dataclass(frozen=True)
class Plan:
    """A planned query: its scans, its output columns, and the models they read."""

    query: Query
    scans: tuple[Scan, ...]
    outputs: tuple[Output, ...]
    models: Mapping[str, Model]


def _key(tree: exp.Expr | None) -> exp.Expr | None:
    """What measures and conditions are compared by: the tree itself (sqlglot trees hash
    and compare by structure, with the hash kept on each node — far cheaper than SQL text)."""
    return tree


def _conjuncts(tree: exp.Expr | None) -> list[exp.Expr]:
    if tree is None:
        return []
    return list(tree.flatten()) if isinstance(tree, exp.And) else [tree]


def _and(parts: Sequence[exp.Expr]) -> exp.Expr | None:
    return exp.and_(*[p.copy() for p in parts]) if parts else None


class _Planner:
    def __init__(self, models: Mapping[str, Model], metrics: Mapping[str, Metric],
                 query: Query) -> None:
        self.models = models
        self.metrics = metrics
        self.query = query
        self.resolver = Resolver(models)
        # (model, placement, offset, baseline) -> {measure key -> (alias, Measure, filters, metric)}
        self.groups: dict[tuple[str, str, Offset, bool],
                          dict[Hashable, tuple[str, Measure, tuple[exp.Expr, ...], str]]] = {}
        # A scan's columns: its period, its dimensions, then the aggregates (never the same name).
        self.aliases: set[str] = {"period", "period_label"} | {
            d.replace(".", "__") for d in query.dimensions}

    def _alias(self, wanted: str) -> str:
        alias = re.sub(r"\W", "_", wanted)
        n = 2
        base = alias
        while alias in self.aliases:
            alias = f"{base}_{n}"
            n += 1
        self.aliases.add(alias)
        return alias

    def expand(self, name: str, filters: tuple[exp.Expr, ...], stack: tuple[str, ...],
               offset: Offset = NO_OFFSET, tree: exp.Expr | None = None,
               baseline: bool = False) -> exp.Expr:
        """The metric's expression (or ``tree``, one of its extra columns) with every
        measure replaced by a scan column reference (of the baseline's scans when
        ``baseline``)."""
        metric = self.metrics[name]
        if name in stack:
            raise CompileError(f"metrics reference each other in a cycle: {' -> '.join(stack + (name,))}")
        if metric.filter is not None:
            filters = filters + (metric.filter,)
        replacements: dict[str, exp.Expr] = {}
        for role, measure in metric.measures.items():
            replacements[role] = self.measure_ref(name, role, measure, filters, offset, baseline)
        references = {ref: (ref, offset) for ref in metric.refs}
        references.update({alias: (i.metric, offset + i.offset) for alias, i in metric.inputs.items()})
        for ref, (target, shift) in references.items():
            inner = self.expand(target, filters, stack + (name,), shift, baseline=baseline)
            replacements[ref] = exp.paren(inner) if isinstance(inner, (exp.Binary, exp.Unary)) else inner

        def swap(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Column):
                key = node.sql() if node.table else node.name
                if key in replacements:
                    return replacements[key].copy()
            return node

        return (tree if tree is not None else metric.expr).copy().transform(swap, copy=False)

    def measure_ref(self, metric: str, role: str, measure: Measure,
                    filters: tuple[exp.Expr, ...], offset: Offset = NO_OFFSET,
                    baseline: bool = False) -> exp.Expr:
        window = measure.window
        if window is not None and window.to_date is not None:
            _check_to_date(metric, window.to_date, self.query.grain, self.query.calendar)
        group = self.groups.setdefault((measure.model, measure.placement, offset, baseline), {})
        key = (measure.agg, _key(measure.expr), _key(measure.filter), measure.p,
               frozenset(_key(f) for f in filters))
        if key not in group:
            wanted = f"{metric}__{role}" if role != "value" else metric
            if offset:
                wanted += "__" + str(offset).replace(" ", "_") + "_earlier"
            if baseline:
                wanted += "__baseline"
            group[key] = (self._alias(wanted), measure, filters, metric)
        alias = group[key][0]
        scan = _scan_name(measure.model, measure.placement, offset, baseline)
        ref: exp.Expr = exp.column(internal(alias, "aggregate"), table=scan)
        if measure.additive:
            ref = exp.func("COALESCE", ref, exp.Literal.number(0))
            if baseline and not measure.at and measure.window is None:
                # A flow (a count or sum over the range) is compared per period: the
                # baseline's average period, so a month is not set against a whole year.
                ref = exp.Div(this=ref, expression=exp.Literal.number(self.baseline_periods))
        return ref

    @property
    def baseline_periods(self) -> int:
        """How many query periods the baseline range covers (in whole or in part)."""
        q = self.query
        assert q.baseline is not None
        return max(1, len(q.calendar.periods(q.baseline[0], q.baseline[1], q.grain)))

    def qualify(self, model: str, tree: exp.Expr, names: str, what: str,
                joins: list[str]) -> exp.Expr:
        try:
            resolved = self.resolver.qualify(model, tree, names=names)
        except ResolveError as exc:
            raise QueryError(f"{what}: {exc.message}", hint=exc.hint) from None
        for j in resolved.joins:
            if j not in joins:
                joins.append(j)
        return resolved.expr

    def scans(self) -> tuple[Scan, ...]:
        out = []
        for (model_name, placement, offset, baseline), measures in self.groups.items():
            model = self.models[model_name]
            joins: list[str] = []
            first_metric = next(iter(measures.values()))[3]
            dims = []
            for dim in self.query.dimensions:
                try:
                    resolved = self.resolver.dimension(model_name, dim)
                except ResolveError as exc:
                    raise QueryError(
                        f"--by {dim}: metric {first_metric!r} reads model {model_name!r}, "
                        f"which cannot reach dimension {dim!r}: {exc.message}",
                        hint=(f"{exc.hint} " if exc.hint else "") + f"Run 'kpispec dimensions "
                        f"{first_metric}' to see the dimensions it can be grouped by") from None
                for j in resolved.joins:
                    if j not in joins:
                        joins.append(j)
                dims.append((internal(dim.replace(".", "__"), "dimension"), resolved.expr))
            # Conditions per measure: the measure's filter and the metric filters above it.
            conditions = []
            for alias, measure, filters, _ in measures.values():
                parts = _conjuncts(measure.filter and self.qualify(
                    model_name, measure.filter, "own", f"metric {alias} filter", joins))
                for f in filters:
                    parts += _conjuncts(self.qualify(model_name, f, "all",
                                                     f"metric {alias} filter", joins))
                conditions.append(parts)
            keys = [{_key(c) for c in parts} for parts in conditions]
            common = [c for c in conditions[0] if all(_key(c) in other for other in keys[1:])]
            common_keys = {_key(c) for c in common}
            where: list[exp.Expr] = []
            if self.query.where is not None:
                where += _conjuncts(self.qualify(model_name, self.query.where, "all",
                                                 "--where", joins))
            where += common
            aggregates = []
            for (alias, measure, _, metric), parts in zip(measures.values(), conditions):
                rest = [p for p in parts if _key(p) not in common_keys]
                expr = measure.expr and self.qualify(model_name, measure.expr, "own",
                                                     f"metric {alias} expr", joins)
                aggregates.append(Aggregate(alias, measure.agg, expr, _and(rest), measure.p,
                                            measure.additive, metric))
            at = placement[1:] if placement.startswith("@") else None
            first_measure = next(iter(measures.values()))[1]
            time = None
            if not at:  # a column, or the expression a model defines it as
                time = mark_date(self.qualify(model_name, exp.column(str(first_measure.time)), "columns",
                                              f"metric {first_metric} time", joins), model, str(first_measure.time))
            out.append(Scan(
                name=_scan_name(model_name, placement, offset, baseline),
                kind=_scan_kind(at, first_measure.window, baseline), model=model,
                time=time,
                joins=tuple(joins), dimensions=tuple(dims), where=tuple(where),
                aggregates=tuple(aggregates), at=at,
                shift=0 if baseline else shift_periods(offset, self.query.grain), offset=offset,
                window=first_measure.window,
                baseline=self.query.baseline if baseline else None))
        return tuple(out)


def _scan_name(model: str, placement: str, offset: Offset = NO_OFFSET, baseline: bool = False) -> str:
    name = f"{model}_at_{placement[1:]}" if placement.startswith("@") else f"{model}_by_{placement}"
    name += "_" + str(offset).replace(" ", "_") + "_earlier" if offset else ""
    return internal(name + ("_baseline" if baseline else ""))


def _check_to_date(metric: str, to_date: str, grain: str, calendar: Calendar) -> None:
    """A grain-to-date window must hold whole query periods (month-to-date by day, week or month)."""
    if grain in ("day", "week"):
        if to_date == "day" and grain == "week":
            raise QueryError(f"metric {metric!r}: day-to-date cannot be read by week",
                             hint="Query it by day")
        return
    months = GRAIN_MONTHS.get(to_date)
    if months is None or months % GRAIN_MONTHS[grain] or \
            (calendar.anchor(to_date) - calendar.anchor(grain)) % GRAIN_MONTHS[grain]:
        fits = [g for g in GRAINS if (g in ("day", "week") and to_date != "day") or g == "day" or (
            to_date in GRAIN_MONTHS and GRAIN_MONTHS[to_date] % GRAIN_MONTHS[g] == 0
            and (calendar.anchor(to_date) - calendar.anchor(g)) % GRAIN_MONTHS[g] == 0)]
        raise QueryError(f"metric {metric!r}: {to_date}-to-date does not hold whole {grain} periods",
                         hint=f"Query it by {', '.join(fits)}")


def compare_offset(compare: str, grain: str) -> Offset:
    """How much earlier the period a ``--compare`` reads is.

    The previous period is one period back; the same period last year is twelve months
    back for month-based grains and 52 weeks (364 days: the same weekday) for days and weeks.
    """
    if compare == "previous_period":
        if grain in ("day", "week"):
            return Offset(days=1 if grain == "day" else 7)
        return Offset(months=GRAIN_MONTHS[grain])
    if grain in ("day", "week"):
        return Offset(days=364)
    return Offset(months=12)


def shift_periods(offset: Offset, grain: str) -> int:
    """How many ``grain`` periods ``offset`` is; a QueryError when it is not a whole number."""
    if not offset:
        return 0
    if offset.months and grain in GRAIN_MONTHS and offset.months % GRAIN_MONTHS[grain] == 0:
        return offset.months // GRAIN_MONTHS[grain]
    if offset.days and grain == "day":
        return offset.days
    if offset.days and grain == "week" and offset.days % 7 == 0:
        return offset.days // 7
    raise QueryError(f"an offset of {offset} is not a whole number of {grain} periods",
                     hint="Query at a grain the offset divides (e.g. month for '1 year')")


def build_plan(models: Mapping[str, Model], metrics: Mapping[str, Metric], query: Query) -> Plan:
    """Plan ``query``: its scans and its output expressions.

    Raises:
        QueryError: an unknown grain or dimension, or a filter that does not resolve.
    """
    if query.grain not in GRAINS:
        raise QueryError(f"unknown grain {query.grain!r}; choose one of {', '.join(GRAINS)}")
    if query.start and query.end and query.start >= query.end:
        raise QueryError(f"--from {query.start} is not before --to {query.end}")
    if len(set(query.dimensions)) != len(query.dimensions):
        raise QueryError("a dimension is named twice in --by")
    if query.compare is not None and query.compare not in COMPARISONS:
        raise QueryError(f"unknown comparison {query.compare!r}; choose one of {', '.join(COMPARISONS)}")
    if (query.compare == "baseline") != (query.baseline is not None):
        raise QueryError("a baseline comparison needs its range, and a range needs "
                         "compare='baseline'", hint="Give --baseline START:END")
    if query.baseline is not None and query.baseline[0] >= query.baseline[1]:
        raise QueryError(f"--baseline {query.baseline[0]}:{query.baseline[1]}: the start is not "
                         "before the end")
    planner = _Planner(models, metrics, query)
    outputs: list[Output] = []
    for name in query.metrics:
        value = planner.expand(name, (), ())
        outputs.append(Output(name, value, metrics[name]))
        if query.compare is not None:
            if query.compare == "baseline":
                other = planner.expand(name, (), (), baseline=True)
            else:
                other = planner.expand(name, (), (), compare_offset(query.compare, query.grain))
            change = exp.Sub(this=exp.paren(value.copy()), expression=exp.paren(other.copy()))
            pct = exp.Mul(this=exp.Literal.number(100),
                          expression=exp.Div(this=exp.paren(change.copy()),
                                             expression=exp.func("ABS", other.copy())))
            outputs += [Output(f"{name}__compare", other, metrics[name], "compare"),
                        Output(f"{name}__change", change, metrics[name], "change"),
                        Output(f"{name}__change_pct", pct, metrics[name], "change_pct")]
        if query.targets and metrics[name].targets is not None:
            outputs += [Output(f"{name}__target", value, metrics[name], "target"),
                        Output(f"{name}__attainment", value, metrics[name], "attainment")]
        for key, tree in metrics[name].columns.items():
            outputs.append(Output(f"{name}__{key}", planner.expand(name, (), (), tree=tree),
                                  metrics[name], "column"))
    _check_result_columns(query, outputs)
    return Plan(query, planner.scans(), tuple(outputs), models)


def _check_result_columns(query: Query, outputs: Sequence[Output]) -> None:
    """Every result column has its own name (sinks and Arrow tell columns apart by name)."""
    seen: dict[str, str] = {"period": "the period column"}
    if query.grain in FISCAL_GRAINS:
        seen["period_label"] = "the period label column"
    for dim in query.dimensions:
        name = dim.replace(".", "__")
        if name in seen:
            raise QueryError(f"--by {dim}: the result would have two columns named {name!r} "
                             f"(with {seen[name]})", hint="Query another dimension, or rename it")
        seen[name] = f"dimension {dim!r}"
    for out in outputs:
        if out.name in seen:
            raise QueryError(f"the result would have two columns named {out.name!r}: metric "
                             f"{out.metric.name!r} and {seen[out.name]}",
                             hint="Rename the metric" + (", or leave the dimension out of --by"
                                                         if seen[out.name].startswith("dimension")
                                                         else ""))
        seen[out.name] = f"metric {out.metric.name!r}"
