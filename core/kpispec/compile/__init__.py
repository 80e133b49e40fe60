"""Compile a query over a project into SQL for one dialect.

The pipeline: :func:`~kpispec.compile.plan.build_plan` (scans and outputs) →
:func:`~kpispec.compile.build.build_select` (one sqlglot SELECT of standard and
kpispec nodes, the same for every dialect) → the dialect's class
(:mod:`kpispec.compile.dialects`) spells kpispec's nodes in standard ones → the
``modify_query`` plugins → identifier quoting → rendering with
``unsupported_level=RAISE``, so a construct a dialect lacks is an error that
names the metric and the dialect, never silently wrong SQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError

from kpispec._notes import Note
from kpispec.compile.build import build_select, target_applies
from kpispec.compile.dialects import DIALECTS, dialect_name, sqlglot_dialect
from kpispec.compile.dialects import dialect as dialect_class
from kpispec.compile.naming import check_lengths
from kpispec.compile.plan import Plan, Query, build_plan
from kpispec.errors import CompileError, PluginError, QueryError, UnsupportedDialectFeature

if TYPE_CHECKING:
    from kpispec.calendar import Calendar
    from kpispec.spec.model import Metric, Model

__all__ = ["BuiltQuery", "CompiledQuery", "Query", "QueryContext", "build_query", "compile_query"]

_SAFE_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class QueryContext:
    """What ``modify_query`` plugins are told about the query."""

    metrics: tuple[str, ...]
    dimensions: tuple[str, ...]
    grain: str
    start: Any
    end: Any
    dialect: str
    calendar: Calendar | None = None  # week start, fiscal year, time zone of the query
    compare: str | None = None  # previous_period | same_period_last_year | baseline


@dataclass(frozen=True)
class CompiledQuery:
    """A compiled query: the SQL text, its tree, and what its columns are."""

    sql: str
    expression: exp.Expr
    dialect: str
    query: Query
    metrics: tuple[Metric, ...]
    columns: tuple[str, ...]
    #: What a user should know about the result (partial periods…), in English; a
    #: :class:`~kpispec._notes.Note` also in the other languages.
    notes: tuple[str, ...] = ()
    targets: Mapping[str, Mapping[dt.date, float]] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.sql

    def missing_targets(self, periods: Iterable[dt.date]) -> list[Note]:
        """Notes for per-period targets whose period is not among ``periods`` (the result's)."""
        seen = set(periods)
        notes = []
        for metric, by_period in self.targets.items():
            missing = sorted(day for day in by_period if day not in seen)
            if missing:
                shown = ", ".join(str(d) for d in missing[:6]) + (" …" if len(missing) > 6 else "")
                notes.append(Note("targets_missing", name=metric, count=len(missing),
                                  shown=shown))
        return notes


@cache
def _reserved(dialect: str) -> frozenset[str]:
    """Words ``dialect`` reserves; where sqlglot lists none, the SQL standard's via DuckDB's list.

    Only reserved words are quoted: quoting a lower-case name changes its meaning
    on engines that fold unquoted names to upper case (Snowflake, Oracle).
    """
    from kpispec.compile._reserved_words import PARSER_KEYWORDS, STANDARD_RESERVED

    words = getattr(sqlglot.Dialect.get_or_raise(sqlglot_dialect(dialect)).generator_class,
                    "RESERVED_KEYWORDS", None) or STANDARD_RESERVED
    return (frozenset(w.lower() for w in words) | dialect_class(dialect).EXTRA_RESERVED
            | PARSER_KEYWORDS.get(dialect, frozenset()))


def _quote_where_needed(tree: exp.Expr, dialect: str) -> exp.Expr:
    """Quote identifiers that are reserved words or not plain lower-case names (``Sales``)."""
    reserved = _reserved(dialect)
    for ident in tree.find_all(exp.Identifier):
        name = ident.name
        if not _SAFE_IDENTIFIER.match(name) or name in reserved:
            ident.set("quoted", True)
    return tree


def _check_dialect(plan: Plan, dialect: str) -> None:
    missing = dialect_class(dialect).UNSUPPORTED_AGGREGATES
    for scan in plan.scans:
        for agg in scan.aggregates:
            if agg.agg in missing:
                raise UnsupportedDialectFeature(metric=agg.metric, dialect=dialect,
                                                construct=f"the {agg.agg} aggregation")


def compile_query(models: Mapping[str, Model], metrics: Mapping[str, Metric], query: Query,
                  dialect: str, *, pretty: bool = True, modify: bool = True) -> CompiledQuery:
    """Compile ``query`` to SQL in ``dialect``.

    Raises:
        QueryError: the query names something unknown or unreachable.
        UnsupportedDialectFeature: the dialect cannot express what a metric needs.
        PluginError: a ``modify_query`` plugin failed.
    """
    from kpispec._gc import gc_paused

    dialect = _known(dialect)
    with gc_paused():
        plan = _plan(models, metrics, query)
        _check_dialect(plan, dialect)
        built = BuiltQuery(query, tuple(metrics[m] for m in query.metrics), plan, build_select(plan))
        return built._render(dialect, pretty=pretty, modify=modify, copy=False)


def build_query(models: Mapping[str, Model], metrics: Mapping[str, Metric],
                query: Query) -> BuiltQuery:
    """Build ``query`` once, for any number of dialects: :meth:`BuiltQuery.render` each.

    Raises:
        QueryError: the query names something unknown or unreachable.
    """
    from kpispec._gc import gc_paused

    with gc_paused():
        plan = _plan(models, metrics, query)
        return BuiltQuery(query, tuple(metrics[m] for m in query.metrics), plan, build_select(plan))


@dataclass(frozen=True)
class BuiltQuery:
    """A query built once: one tree of standard and kpispec nodes, the same for every dialect."""

    query: Query
    metrics: tuple[Metric, ...]
    plan: Plan
    tree: exp.Select

    def render(self, dialect: str, *, pretty: bool = True, modify: bool = True) -> CompiledQuery:
        """The query in ``dialect`` (the tree is copied: render it for as many as you like).

        Raises:
            UnsupportedDialectFeature: the dialect cannot express what a metric needs.
            PluginError: a ``modify_query`` plugin failed.
        """
        from kpispec._gc import gc_paused

        dialect = _known(dialect)
        _check_dialect(self.plan, dialect)
        with gc_paused():
            return self._render(dialect, pretty=pretty, modify=modify, copy=True)

    def _render(self, dialect: str, *, pretty: bool, modify: bool, copy: bool) -> CompiledQuery:
        query, plan = self.query, self.plan
        spelling = dialect_class(dialect)
        tree: exp.Expr = spelling.lower(self.tree.copy() if copy else self.tree)
        assert isinstance(tree, exp.Select)
        columns = tuple(e.alias_or_name for e in tree.expressions)
        check_lengths(columns, dialect, spelling.COLUMN_NAME_LIMIT, spelling.COLUMN_NAME_UNIT)
        if modify:
            tree = _modify(tree, dialect, QueryContext(query.metrics, query.dimensions, query.grain,
                                                       query.start, query.end, dialect,
                                                       query.calendar, query.compare))
        tree = spelling.portable(tree)
        tree = _quote_where_needed(tree, dialect)
        try:
            # copy=False: the tree is ours alone; rendering may apply the dialect's rewrites to it.
            sql = tree.sql(dialect=sqlglot_dialect(dialect), pretty=pretty,
                           unsupported_level=ErrorLevel.RAISE, copy=False)
        except UnsupportedError as exc:
            raise UnsupportedDialectFeature(metric=", ".join(query.metrics), dialect=dialect,
                                            construct=str(exc).splitlines()[0]) from None
        except Exception as exc:  # sqlglot raising anything else is a construct it cannot render
            raise CompileError(f"cannot render the query for dialect {dialect!r}: {exc}") from None
        notes, targets = _notes(plan)
        compiled = CompiledQuery(sql, tree, dialect, query, self.metrics, columns, notes, targets)
        if query.start is not None and query.end is not None:
            periods = query.calendar.periods(query.start, query.end, query.grain)
            compiled = replace(compiled, notes=notes + tuple(compiled.missing_targets(periods)))
        return compiled


def _known(dialect: str) -> str:
    """The canonical name of ``dialect``, which must be one kpispec writes."""
    dialect = dialect_name(dialect)
    if dialect not in DIALECTS:
        raise QueryError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    return dialect


def _plan(models: Mapping[str, Model], metrics: Mapping[str, Metric], query: Query) -> Plan:
    for name in query.metrics:
        if name not in metrics:
            from kpispec.errors import UnknownMetricError
            from kpispec.spec.schema import suggest

            raise UnknownMetricError(f"unknown metric {name!r}", hint=suggest(name, metrics))
    return build_plan(models, metrics, query)


def _number(value: float | None) -> str:
    """A target as written in a spec: 1500000, not 1.5e+06."""
    if value is None:
        return "none"
    return str(int(value)) if float(value).is_integer() else str(value)


def _notes(plan: Plan) -> tuple[tuple[Note, ...], dict[str, dict[dt.date, float]]]:
    """Partial periods at the ends of the range, and how targets apply (English, each a
    :class:`~kpispec._notes.Note` a sink writes in its language)."""
    q = plan.query
    calendar = q.calendar
    notes: list[Note] = []
    if q.start is not None and calendar.period_start(q.start, q.grain) != q.start:
        first = calendar.period_start(q.start, q.grain)
        notes.append(Note("partial_first", grain=q.grain, first=first, start=q.start))
    if q.end is not None and calendar.period_start(q.end, q.grain) != q.end:
        last = calendar.period_start(q.end, q.grain)
        notes.append(Note("partial_last", grain=q.grain, last=last, end=q.end))
    targets: dict[str, dict[dt.date, float]] = {}
    # One note for the metrics without targets, and none about targets per period when no
    # metric has any: notes only where they tell the user something.
    without = [n for n in q.metrics
               if next(o.metric.targets for o in plan.outputs if o.name == n) is None]
    if q.targets and q.dimensions and len(without) < len(q.metrics):
        notes.append(Note("targets_per_period"))
    if q.targets and without:
        notes.append(_without_targets(without, len(q.metrics)))
    if q.targets:
        for name in q.metrics:
            metric_targets = next(o.metric.targets for o in plan.outputs if o.name == name)
            if metric_targets is None:
                continue
            constant, periods = target_applies(plan, name)
            if periods:
                targets[name] = periods
            elif metric_targets.periods:
                notes.append(Note("targets_grain", name=name, target_grain=metric_targets.grain,
                                  grain=q.grain, constant=_number(constant)))
    return tuple(notes), targets


def _without_targets(names: list[str], total: int) -> Note:
    """The one note about metrics that have no targets (at most five named)."""
    if len(names) == 1:
        return Note("no_targets_one", name=names[0])
    if len(names) == total:
        return Note("no_targets_all", total=total)
    if len(names) > 5:
        return Note("no_targets_many", names=", ".join(names[:5]), more=len(names) - 5)
    return Note("no_targets_some", names=", ".join(names))


def _modify(tree: exp.Expr, dialect: str, context: QueryContext) -> exp.Expr:
    from kpispec.plugins import call_impl, get_plugin_manager

    for impl in get_plugin_manager().hook.modify_query.get_hookimpls():
        candidate = tree.copy()
        try:
            result = call_impl(impl, expression=candidate, dialect=dialect, context=context)
        except Exception as exc:
            raise PluginError(f"raised {type(exc).__name__}: {exc}. Fix or upgrade the plugin, or "
                              f"run without it: --no-plugin {impl.plugin_name}",
                              plugin=impl.plugin_name, hook="modify_query") from exc
        if result is None:
            result = candidate
        if not isinstance(result, exp.Query):
            raise PluginError(f"returned {type(result).__name__}, not a sqlglot query expression. "
                              f"Fix or upgrade the plugin, or run without it: --no-plugin "
                              f"{impl.plugin_name}", plugin=impl.plugin_name, hook="modify_query")
        tree = result
    return tree
