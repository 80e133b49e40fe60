"""Publishes a metric type whose JSON Schema fragment is invalid."""

from sqlglot import exp

import kpispec


@kpispec.hookimpl
def register_metric_types(register):
    register(kpispec.MetricType(
        name="broken_score",
        schema={"properties": {"score": {"type": "strin"}}, "required": ["score"]},
        lower=lambda spec, ctx: kpispec.Lowered(measures={}, expr=exp.Literal.number(1)),
    ))
