"""The ``cohort_retention`` metric type: a cohort × age table of retention.

Registered through the ``kpispec`` entry-point group as ``crm_cohort``::

    metrics:
      - name: customer_retention_cohorts
        type: cohort_retention
        model: customers        # a model with a lifecycle: {start: signed_up_at, end: churned_at}
        ages: 12                # columns for ages 0..12 (default 12)

Rows are cohorts: the customers whose lifecycle starts in a period (the row's
``period``, at the query's grain). The metric's own column is the cohort's
size; ``<metric>__age_<k>`` is the percentage of the cohort still active at the
end of the period ``k`` periods after the cohort's — by the catalog's rule for
"active at period end": not ended before the next period starts. So age 0 is
the share still active at the end of the signup period. An age whose period
has not ended yet (on the day the query runs) is NULL, not a guess.

It lowers to ``count`` measures on the model, placed by the lifecycle start,
whose filters compare the lifecycle end with :class:`kpispec.PeriodStart` of the
start — sqlglot expressions, no SQL text — so the whole table is one scan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kpispec.errors import SpecError
from kpispec.extensions import LocalTime, LowerContext, Lowered, MetricType, PeriodStart
from kpispec.hookspecs import hookimpl
from sqlglot import exp

__all__ = ["COHORT_RETENTION", "lower_cohort_retention", "register_metric_types"]

DEFAULT_AGES = 12
MAX_AGES = 120


def lower_cohort_retention(spec: Mapping[str, Any], ctx: LowerContext) -> Lowered:
    """Cohort size, and per age the cohort members whose age period has ended and who were
    still active at its end."""
    model_name = spec["model"]
    model = ctx.models.get(model_name)
    if model is None:
        raise SpecError(f"unknown model {model_name!r}")
    if model.lifecycle is None:
        raise SpecError(f"cohort_retention needs a lifecycle on model {model_name!r}",
                        hint=f"Give {model_name!r} a lifecycle: {{start: <column>, end: <column>}}")
    start_col, end_col = model.lifecycle
    if end_col is None:
        raise SpecError(f"cohort_retention needs the lifecycle of {model_name!r} to have an 'end'")
    ages = int(spec.get("ages", DEFAULT_AGES))
    start = exp.column(start_col)
    measures: dict[str, dict[str, Any]] = {
        "size": {"model": model_name, "agg": "count", "time": start_col},
    }
    columns: dict[str, exp.Expr] = {}
    for age in range(ages + 1):
        # The first instant after the age-`age` period: its end.
        boundary = PeriodStart(this=start.copy(), periods=exp.Literal.number(age + 1))
        ended = exp.LTE(this=boundary.copy(), expression=exp.CurrentDate())
        active = exp.or_(exp.Is(this=exp.column(end_col), expression=exp.Null()),
                         exp.GTE(this=LocalTime(this=exp.column(end_col)), expression=boundary.copy()))
        measures[f"ended_{age}"] = {"model": model_name, "agg": "count", "time": start_col,
                                    "filter": ended}
        measures[f"retained_{age}"] = {"model": model_name, "agg": "count", "time": start_col,
                                       "filter": exp.and_(ended.copy(), exp.paren(active))}
        columns[f"age_{age}"] = exp.Div(
            this=exp.Mul(this=exp.Literal.number(100), expression=exp.column(f"retained_{age}")),
            expression=exp.column(f"ended_{age}"))
    return Lowered(measures=measures, expr=exp.column("size"), columns=columns,
                   column_formats=dict.fromkeys(columns, "percent"))


COHORT_RETENTION = MetricType(
    name="cohort_retention",
    description="A cohort table: per cohort (period of the lifecycle start), its size and the "
                "percentage still active at the end of each later period (<metric>__age_<k>).",
    schema={
        "properties": {
            "model": {"type": "string", "description": "A model with a lifecycle (start and end)."},
            "ages": {"type": "integer", "minimum": 0, "maximum": MAX_AGES, "default": DEFAULT_AGES,
                     "description": "The oldest age reported: columns age_0 … age_N."},
        },
        "required": ["model"],
    },
    lower=lower_cohort_retention,
)


@hookimpl
def register_metric_types(register: Callable[[MetricType], None]) -> None:
    """Register ``cohort_retention``."""
    register(COHORT_RETENTION)
