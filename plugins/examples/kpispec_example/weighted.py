"""The ``weighted_pipeline`` metric type: deal value weighted by a probability per category.

::

    metrics:
      - name: weighted_pipeline
        type: weighted_pipeline
        model: deals
        amount: amount             # the column holding a deal's value (default: amount)
        weight_by: stage           # the column the weights are keyed on (default: stage)
        weights: {qualification: 0.2, proposal: 0.5, negotiation: 0.8}
        time: created_at           # optional: the time column placing a deal in a period
        filter: "region <> 'test'" # optional, as on every metric

It lowers to one ``sum`` measure: ``amount`` times the weight of the row's
``weight_by`` value, over the rows whose value has a weight. The expression is
built as a sqlglot tree (``CASE … WHEN … THEN … END * amount``); kpispec checks
the columns and spells it for every dialect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kpispec
from sqlglot import exp

__all__ = ["METRIC_TYPE", "SCHEMA", "lower"]

SCHEMA: dict[str, Any] = {
    "description": "Sum of a deal value weighted by a probability per stage (or any category).",
    "properties": {
        "model": {"$ref": "#/$defs/identifier", "description": "The model with one row per deal."},
        "amount": {"$ref": "#/$defs/identifier",
                   "description": "The column holding a deal's value (default: amount)."},
        "weight_by": {"$ref": "#/$defs/identifier",
                      "description": "The column whose value picks the weight (default: stage)."},
        "weights": {
            "type": "object",
            "description": "Value of weight_by → probability between 0 and 1. Rows with any "
                           "other value count 0.",
            "minProperties": 1,
            "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "time": {"$ref": "#/$defs/identifier",
                 "description": "The time column that places a deal in a period "
                                "(default: the model's time column)."},
    },
    "required": ["model", "weights"],
}


def lower(spec: Mapping[str, Any], ctx: kpispec.LowerContext) -> kpispec.Lowered:
    """One sum measure, ``CASE weight_by WHEN value THEN weight … END * amount``."""
    key = exp.column(spec.get("weight_by", "stage"))
    weights = spec["weights"]
    case = exp.Case()
    for value, weight in weights.items():
        case = case.when(exp.EQ(this=key.copy(), expression=exp.Literal.string(value)),
                         exp.Literal.number(weight))
    weighted = exp.Mul(this=exp.Paren(this=case.else_(exp.Literal.number(0))),
                       expression=exp.column(spec.get("amount", "amount")))
    measure: dict[str, Any] = {
        "model": spec["model"],
        "agg": "sum",
        "expr": weighted,
        "filter": exp.In(this=key.copy(),
                         expressions=[exp.Literal.string(value) for value in weights]),
    }
    if "time" in spec:
        measure["time"] = spec["time"]
    return kpispec.Lowered(measures={"weighted": measure}, expr=exp.column("weighted"))


METRIC_TYPE = kpispec.MetricType(
    name="weighted_pipeline",
    schema=SCHEMA,
    lower=lower,
    description="Deal value weighted by a probability per stage (or any category).",
)
