"""The ``nps`` metric type: Net Promoter Score over a table of survey answers.

Registered through the ``kpispec`` entry-point group as ``crm_nps``::

    metrics:
      - name: nps
        type: nps
        model: nps_responses
        score: score            # the column holding each answer's score
        time: responded_at      # optional; default: the model's time column
        scale: 0-10             # or 1-5
        promoters: {min: 9, max: 10}   # optional; defaults by scale (below)
        detractors: {min: 0, max: 6}   # optional

NPS = 100 × (promoters − detractors) / responses, where a response is any
non-NULL score, a promoter one inside the promoters range and a detractor one
inside the detractors range (both inclusive); the scores in neither range are
passives. Default ranges: on 0-10 promoters 9–10 and detractors 0–6; on 1-5
promoters 4–5 and detractors 1–2. A range given with only ``min`` or only
``max`` takes the other bound from the default range.

The metric lowers to three ``count`` measures on the model (``promoters``,
``detractors``, ``responses``) whose filters are sqlglot expressions, and the
expression ``100 * (promoters - detractors) / responses``; core makes the
division NULL when there are no responses.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from kpispec.errors import SpecError
from kpispec.extensions import LowerContext, Lowered, MetricType
from kpispec.hookspecs import hookimpl
from sqlglot import exp

__all__ = ["DEFAULT_RANGES", "NPS", "SCALES", "lower_nps", "register_metric_types", "thresholds"]

#: Scale name → (lowest score, highest score).
SCALES: Mapping[str, tuple[int, int]] = {"0-10": (0, 10), "1-5": (1, 5)}

#: Scale name → {"promoters": (min, max), "detractors": (min, max)}.
DEFAULT_RANGES: Mapping[str, Mapping[str, tuple[int, int]]] = {
    "0-10": {"promoters": (9, 10), "detractors": (0, 6)},
    "1-5": {"promoters": (4, 5), "detractors": (1, 2)},
}

_ROLES = ("promoters", "detractors")


def _range_schema(role: str) -> dict[str, Any]:
    defaults = "; ".join(f"{scale}: {lo} to {hi}" for scale, ranges in DEFAULT_RANGES.items()
                         for lo, hi in [ranges[role]])
    return {
        "type": "object",
        "description": (f"Scores counted as {role}: an inclusive range {{min, max}} within the "
                        f"scale. Default by scale — {defaults}. A bound left out is taken from "
                        "the default range. Must not overlap the other group."),
        "properties": {
            "min": {"type": "number", "description": f"Lowest score counted as {role[:-1]} (inclusive)."},
            "max": {"type": "number", "description": f"Highest score counted as {role[:-1]} (inclusive)."},
        },
        "minProperties": 1,
        "additionalProperties": False,
    }


SCHEMA: dict[str, Any] = {
    "description": ("Net Promoter Score: 100 × (promoters − detractors) / responses over a table "
                    "of survey answers (NULL when there are no responses)."),
    "properties": {
        "model": {"$ref": "#/$defs/identifier",
                  "description": "The model holding one row per survey response."},
        "score": {"$ref": "#/$defs/identifier",
                  "description": "The model's column holding the response's score; NULL scores "
                                 "are not responses."},
        "time": {"$ref": "#/$defs/identifier",
                 "description": "The time column that places a response in a period "
                                "(default: the model's `time`)."},
        "scale": {"enum": list(SCALES),
                  "description": "The survey's scale: 0-10 (classic NPS) or 1-5. It sets the "
                                 "default promoter and detractor ranges and bounds custom ones."},
        "promoters": _range_schema("promoters"),
        "detractors": _range_schema("detractors"),
    },
    "required": ["model", "score", "scale"],
}


def _fmt(value: float) -> str:
    return f"{value:g}"


def _bound(role: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"{role}: {key} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise SpecError(f"{role}: {key} must be a finite number, got {value!r}")
    return int(number) if number.is_integer() else number


def thresholds(spec: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """The promoter and detractor ranges of an ``nps`` spec, checked.

    Returns:
        ``{"promoters": (min, max), "detractors": (min, max)}``, inclusive.

    Raises:
        kpispec.SpecError: an unknown scale, a bound that is not a number, a
            range with min > max or reaching outside the scale, or promoter and
            detractor ranges that overlap.
    """
    scale = spec.get("scale")
    if not isinstance(scale, str) or scale not in SCALES:
        raise SpecError(f"scale: {scale!r} is not one of {', '.join(SCALES)}")
    low, high = SCALES[scale]
    ranges: dict[str, tuple[float, float]] = {}
    given: dict[str, bool] = {}
    for role in _ROLES:
        default = DEFAULT_RANGES[scale][role]
        value = spec.get(role)
        given[role] = value is not None
        if value is None:
            ranges[role] = default
            continue
        if not isinstance(value, Mapping):
            raise SpecError(f"{role}: expected a range {{min: , max: }}, got {value!r}")
        lo = _bound(role, "min", value.get("min", default[0]))
        hi = _bound(role, "max", value.get("max", default[1]))
        for key, bound in (("min", lo), ("max", hi)):
            if not low <= bound <= high:
                raise SpecError(f"{role}: {key} {_fmt(bound)} is outside the {scale} scale "
                                f"(scores {low} to {high})")
        if lo > hi:
            raise SpecError(f"{role}: min {_fmt(lo)} is greater than max {_fmt(hi)}")
        ranges[role] = (lo, hi)
    (p_lo, p_hi), (d_lo, d_hi) = ranges["promoters"], ranges["detractors"]
    both_lo, both_hi = max(p_lo, d_lo), min(p_hi, d_hi)
    if both_lo <= both_hi:
        def show(role: str) -> str:
            lo, hi = ranges[role]
            return f"{role} ({_fmt(lo)} to {_fmt(hi)}{'' if given[role] else ', the default'})"

        scores = (f"a score of {_fmt(both_lo)}" if both_lo == both_hi
                  else f"scores {_fmt(both_lo)} to {_fmt(both_hi)}")
        raise SpecError(f"{show('promoters')} and {show('detractors')} overlap: "
                        f"{scores} would count as both")
    return ranges


def _between(column: str, bounds: tuple[float, float]) -> exp.Expr:
    lo, hi = bounds
    return exp.Between(this=exp.column(column), low=exp.Literal.number(lo),
                       high=exp.Literal.number(hi))


def lower_nps(spec: Mapping[str, Any], ctx: LowerContext) -> Lowered:
    """Lower an ``nps`` spec to three count measures and the NPS expression."""
    ranges = thresholds(spec)
    score = spec["score"]
    base: dict[str, Any] = {"model": spec["model"], "agg": "count"}
    if spec.get("time"):
        base["time"] = spec["time"]
    measures = {
        "promoters": {**base, "filter": _between(score, ranges["promoters"])},
        "detractors": {**base, "filter": _between(score, ranges["detractors"])},
        "responses": {**base, "filter": exp.Not(this=exp.Is(this=exp.column(score), expression=exp.Null()))},
    }
    difference = exp.Paren(this=exp.Sub(this=exp.column("promoters"), expression=exp.column("detractors")))
    expr = exp.Div(this=exp.Mul(this=exp.Literal.number(100), expression=difference),
                   expression=exp.column("responses"))
    return Lowered(measures=measures, expr=expr)


NPS = MetricType(
    name="nps",
    schema=SCHEMA,
    lower=lower_nps,
    description="Net Promoter Score: 100 × (promoters − detractors) / responses, on a 0-10 or 1-5 scale.",
)


@hookimpl
def register_metric_types(register: Callable[..., None]) -> None:
    """Register the ``nps`` metric type."""
    register(NPS)
