"""Core's metric types — simple, ratio and derived — registered through the same hook a plugin uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlglot import exp

from kpispec.extensions import LowerContext, Lowered, MetricType
from kpispec.hookspecs import hookimpl

_MEASURE = {"$ref": "#/$defs/measure"}
OFFSET_PATTERN = r"^\s*[0-9]+\s+(day|week|month|quarter|year)s?\s*$"


def _lower_simple(spec: Mapping[str, Any], ctx: LowerContext) -> Lowered:
    return Lowered(measures={"value": spec["measure"]}, expr=exp.column("value"))


def _lower_ratio(spec: Mapping[str, Any], ctx: LowerContext) -> Lowered:
    numerator: exp.Expr = exp.column("numerator")
    scale = spec.get("scale")
    if scale is not None and scale != 1:
        numerator = exp.Mul(this=numerator, expression=exp.Literal.number(scale))
    return Lowered(
        measures={"numerator": spec["numerator"], "denominator": spec["denominator"]},
        expr=exp.Div(this=numerator, expression=exp.column("denominator")),
    )


def _lower_derived(spec: Mapping[str, Any], ctx: LowerContext) -> Lowered:
    inputs = {i["name"]: {"metric": i["metric"], "offset": i.get("offset")}
              for i in spec.get("inputs", ())}
    return Lowered(measures={}, expr=ctx.parse(spec["expr"]), inputs=inputs)


TYPES = (
    MetricType(
        name="simple",
        description="One measure.",
        schema={"properties": {"measure": _MEASURE}, "required": ["measure"]},
        lower=_lower_simple,
    ),
    MetricType(
        name="ratio",
        description="numerator / denominator (NULL, never an error, when the denominator is 0), times `scale`.",
        schema={
            "properties": {
                "numerator": _MEASURE,
                "denominator": _MEASURE,
                "scale": {"type": "number", "description": "Multiplier, e.g. 100 for a percentage."},
            },
            "required": ["numerator", "denominator"],
        },
        lower=_lower_ratio,
    ),
    MetricType(
        name="derived",
        description="An expression over other metrics' names.",
        schema={
            "properties": {
                "expr": {"$ref": "#/$defs/snippet",
                         "description": "SQL expression whose names are metrics (or inputs)."},
                "inputs": {
                    "type": "array",
                    "description": "Other metrics under a new name, optionally at an offset "
                                   "(e.g. last year's value of the same period).",
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"$ref": "#/$defs/identifier",
                                     "description": "The name `expr` uses."},
                            "metric": {"$ref": "#/$defs/identifier",
                                       "description": "The metric it stands for."},
                            "offset": {"type": "string",
                                       "pattern": OFFSET_PATTERN,
                                       "description": "How much earlier: '<N> day|week|month|"
                                                      "quarter|year' (plural s allowed)."},
                        },
                        "required": ["name", "metric"],
                        "additionalProperties": False,
                    },
                },
            },
            "required": ["expr"],
        },
        lower=_lower_derived,
    ),
)


@hookimpl
def register_metric_types(register: Callable[[MetricType], None]) -> None:
    for metric_type in TYPES:
        register(metric_type)
