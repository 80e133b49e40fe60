"""The ``funnel`` metric type: ordered steps, each reached within a window of the one before.

Registered through the ``kpispec`` entry-point group as ``crm_funnel``::

    metrics:
      - name: visitor_to_won_deal
        type: funnel
        steps:
          - {name: visitors, model: web_sessions, count: visitor_id}
          - {name: leads, model: leads, on: visitor_id, within: 30 days}
          - {name: won_deals, model: deals, on: lead_id, within: 90 days,
             time: closed_at, filter: "stage = 'won'"}

The first step says what is counted (``count``: distinct values of a column,
e.g. visitors) and places it in periods by its time column. Each later step is
a row of its model linked to a row of the step before — ``on: visitor_id``
(the same column name on both sides) or ``on: {previous: lead_id, this:
lead_id}`` — whose time is at or after that row's time and, with ``within``
(days or weeks), before it plus the window; ``filter`` narrows a step's rows.

The metric's own column is the first step's count. For every later step,
``<metric>__<step>`` is how many of the counted entities reached it (through
every step before) and ``<metric>__<step>_pct`` the conversion from the step
before, in percent (NULL when the step before had none).

It lowers to ``count_distinct`` measures on the first step's model whose
filters are chains of :class:`kpispec.RowExists` — correlated EXISTS, so a
visitor with many leads is still one visitor — built as sqlglot expressions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kpispec.errors import SpecError
from kpispec.extensions import AddDays, LowerContext, Lowered, MetricType, RowExists
from kpispec.hookspecs import hookimpl
from sqlglot import exp

__all__ = ["FUNNEL", "lower_funnel", "register_metric_types"]

_WINDOW = re.compile(r"^\s*([0-9]+)\s+(day|week)s?\s*$")
_IDENTIFIER = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}


def _days(text: str, step: str) -> int:
    match = _WINDOW.match(text)
    if match is None:  # the schema's pattern makes this unreachable through a spec file
        raise SpecError(f"step {step!r}: 'within' {text!r} is not a number of days or weeks")
    n = int(match.group(1))
    return n * 7 if match.group(2) == "week" else n


def _link(step: Mapping[str, Any]) -> tuple[str, str]:
    on = step["on"]
    if isinstance(on, str):
        return on, on
    return on["previous"], on["this"]


def _check_column(ctx: LowerContext, step: Mapping[str, Any], column: str, field: str) -> None:
    model = ctx.models.get(step["model"])
    if model is None:
        raise SpecError(f"step {step['name']!r}: unknown model {step['model']!r}")
    if model.columns is not None and column not in model.columns:
        raise SpecError(f"step {step['name']!r}: unknown column {column!r} of model "
                        f"{step['model']!r} in '{field}'")


def _time(ctx: LowerContext, step: Mapping[str, Any]) -> str:
    model = ctx.models.get(step["model"])
    time = step.get("time") or (model.time if model is not None else None)
    if time is None:
        raise SpecError(f"step {step['name']!r}: model {step['model']!r} has no time column",
                        hint="Give the step a 'time'")
    _check_column(ctx, step, time, "time")
    return str(time)


def _qualified(tree: exp.Expr, alias: str) -> exp.Expr:
    """A step filter's columns, qualified with the step's alias."""
    tree = tree.copy()
    for column in tree.find_all(exp.Column):
        if column.table:
            raise SpecError(f"step {alias!r}: a step filter may use only its own model's columns, "
                            f"not {column.sql()!r}")
        column.set("table", exp.to_identifier(alias))
    return tree


def _reaches(steps: Sequence[Mapping[str, Any]], index: int, upto: int, ctx: LowerContext,
             aliases: Sequence[str]) -> exp.Expr:
    """EXISTS a row of steps[index] linked to the row of steps[index - 1] (and onwards)."""
    step, before = steps[index], steps[index - 1]
    alias, outer = aliases[index], aliases[index - 1]
    previous_col, this_col = _link(step)
    _check_column(ctx, before, previous_col, "on")
    _check_column(ctx, step, this_col, "on")
    time, outer_time = _time(ctx, step), _time(ctx, before)
    here = exp.column(time, table=alias)
    there = exp.column(outer_time, table=outer)
    conditions: list[exp.Expr] = [
        exp.EQ(this=exp.column(this_col, table=alias), expression=exp.column(previous_col, table=outer)),
        exp.GTE(this=here.copy(), expression=there.copy()),
    ]
    if step.get("within"):
        days = _days(step["within"], step["name"])
        conditions.append(exp.LT(this=here.copy(),
                                 expression=AddDays(this=there.copy(), days=exp.Literal.number(days))))
    if step.get("filter"):
        conditions.append(_qualified(ctx.parse(step["filter"]), alias))
    if index < upto:
        conditions.append(_reaches(steps, index + 1, upto, ctx, aliases))
    return RowExists(this=exp.to_identifier(step["model"]), alias=exp.to_identifier(alias),
                     expression=exp.and_(*conditions))


def lower_funnel(spec: Mapping[str, Any], ctx: LowerContext) -> Lowered:
    """First step's distinct count, and per later step the count that reached it."""
    steps: list[Mapping[str, Any]] = list(spec["steps"])
    names = [s["name"] for s in steps]
    if len(set(names)) != len(names):
        raise SpecError("funnel step names must be unique")
    first = steps[0]
    if "on" in first or "within" in first:
        raise SpecError(f"step {first['name']!r}: the first step has no 'on' or 'within'")
    for step in steps[1:]:
        if "on" not in step:
            raise SpecError(f"step {step['name']!r}: a later step needs 'on' (how it links to the "
                            "step before)")
        if "count" in step:
            raise SpecError(f"step {step['name']!r}: only the first step says what is counted")
    if "count" not in first:
        raise SpecError(f"step {first['name']!r}: the first step needs 'count', the column whose "
                        "distinct values the funnel counts (e.g. visitor_id)")
    counted = first["count"]
    _check_column(ctx, first, counted, "count")
    start_time = _time(ctx, first)
    # The first step is the scan itself (aliased by its model's name); later steps get
    # their own names as aliases, so a model may appear twice in a funnel.
    aliases = [first["model"], *[f"{s['name']}_step" for s in steps[1:]]]
    base_filter = ctx.parse(first["filter"]) if first.get("filter") else None
    measures: dict[str, dict[str, Any]] = {}
    columns: dict[str, exp.Expr] = {}
    formats: dict[str, str] = {}
    for i, step in enumerate(steps):
        condition = None if i == 0 else _reaches(steps, 1, i, ctx, aliases)
        parts = [p for p in (base_filter.copy() if base_filter else None, condition) if p is not None]
        measure: dict[str, Any] = {"model": first["model"], "agg": "count_distinct",
                                   "expr": exp.column(counted), "time": start_time}
        if parts:
            measure["filter"] = exp.and_(*parts)
        measures[step["name"]] = measure
        if i:
            columns[step["name"]] = exp.column(step["name"])
            columns[f"{step['name']}_pct"] = exp.Div(
                this=exp.Mul(this=exp.Literal.number(100), expression=exp.column(step["name"])),
                expression=exp.column(steps[i - 1]["name"]))
            formats[f"{step['name']}_pct"] = "percent"
            formats[step["name"]] = "integer"
    return Lowered(measures=measures, expr=exp.column(first["name"]), columns=columns,
                   column_formats=formats)


_STEP = {
    "type": "object",
    "properties": {
        "name": {**_IDENTIFIER, "description": "The step's name; its result columns use it."},
        "model": {**_IDENTIFIER, "description": "The model whose rows make this step."},
        "count": {**_IDENTIFIER, "description": "First step only: the column whose distinct "
                                                "values are counted (the funnel's entity)."},
        "on": {"description": "Later steps: the column linking to the step before (same name on "
                              "both sides), or {previous, this}.",
               "oneOf": [_IDENTIFIER,
                         {"type": "object",
                          "properties": {"previous": _IDENTIFIER, "this": _IDENTIFIER},
                          "required": ["previous", "this"], "additionalProperties": False}]},
        "time": {**_IDENTIFIER, "description": "The step's time column (default: the model's)."},
        "within": {"type": "string", "pattern": r"^\s*[0-9]+\s+(day|week)s?\s*$",
                   "description": "Later steps: reached within this long after the step before, "
                                  "e.g. '30 days'."},
        "filter": {"type": "string", "minLength": 1,
                   "description": "Only this model's rows where this SQL condition holds."},
    },
    "required": ["name", "model"],
    "additionalProperties": False,
}

FUNNEL = MetricType(
    name="funnel",
    description="Ordered steps over models linked by keys, each within a time window of the one "
                "before: the first step's count, per step how many reached it (<metric>__<step>) "
                "and the conversion from the step before (<metric>__<step>_pct).",
    schema={
        "properties": {"steps": {"type": "array", "items": _STEP, "minItems": 2,
                                 "description": "The steps, in order."}},
        "required": ["steps"],
    },
    lower=lower_funnel,
)


@hookimpl
def register_metric_types(register: Callable[[MetricType], None]) -> None:
    """Register ``funnel``."""
    register(FUNNEL)
