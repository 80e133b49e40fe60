"""What a metric computes, as one line a reader can follow (for reports and sinks).

The line is written from the lowered metric: its expression, with each measure
role replaced by what that measure aggregates — ``count of deals where stage =
'won', by closed_at`` — and each input at an offset named with its offset. It
is display text, never SQL that runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlglot import exp

__all__ = ["metric_formula"]


def metric_formula(metric: Any, dialect: str = "duckdb") -> str:
    """One readable line saying what ``metric`` (a :class:`kpispec.spec.model.Metric`) computes.

    >>> import sqlglot
    >>> from types import SimpleNamespace as NS
    >>> count = NS(model="deals", agg="count", expr=None, filter=sqlglot.parse_one("stage = 'won'"),
    ...            time="closed_at", p=None, at=None, window=None)
    >>> leads = NS(model="leads", agg="count", expr=None, filter=None, time="created_at", p=None,
    ...            at=None, window=None)
    >>> m = NS(measures={"numerator": count, "denominator": leads}, inputs={},
    ...        expr=sqlglot.parse_one("numerator * 100 / denominator"))
    >>> metric_formula(m)
    "(count of deals where stage = 'won', by closed_at) * 100 / (count of leads, by created_at)"
    """
    measures: Mapping[str, Any] = getattr(metric, "measures", {}) or {}
    inputs: Mapping[str, Any] = getattr(metric, "inputs", {}) or {}
    tree = getattr(metric, "expr", None)
    if not isinstance(tree, exp.Expr):
        return ""
    alone = isinstance(tree, exp.Column)

    def describe(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table:
            if node.name in measures:
                text = _measure(measures[node.name], dialect)
                return exp.Var(this=text if alone else f"({text})")
            if node.name in inputs:
                source = inputs[node.name]
                offset = getattr(source, "offset", None)
                later = f", {offset} earlier" if offset else ""
                return exp.Var(this=f"({getattr(source, 'metric', node.name)}{later})")
        return node

    try:
        return " ".join(tree.transform(describe).sql(dialect=dialect).split())
    except Exception:  # a metric type's own node no dialect spells: show the tree as written
        return " ".join(tree.sql().split())


def _measure(measure: Any, dialect: str) -> str:
    agg = str(getattr(measure, "agg", ""))
    expr = getattr(measure, "expr", None)
    if agg == "percentile":
        p = getattr(measure, "p", None)
        agg = f"percentile {p:g}" if isinstance(p, (int, float)) else agg
    text = agg if expr is None else f"{agg}({_sql(expr, dialect)})"
    text += f" of {getattr(measure, 'model', '?')}"
    condition = getattr(measure, "filter", None)
    if condition is not None:
        text += f" where {_sql(condition, dialect)}"
    at = getattr(measure, "at", None)
    if at:
        text += f", at {str(at).replace('_', ' ')}"
    elif getattr(measure, "time", None):
        text += f", by {measure.time}"
    window = getattr(measure, "window", None)
    if window is not None:
        length = getattr(window, "length", None)
        to_date = getattr(window, "to_date", None)
        text += (f" over the last {length}" if length is not None
                 else f", {to_date} to date" if to_date else ", cumulative")
    return text


def _sql(tree: Any, dialect: str) -> str:
    if not isinstance(tree, exp.Expr):
        return str(tree)
    try:
        return " ".join(tree.sql(dialect=dialect).split())
    except Exception:
        return " ".join(tree.sql().split())
