"""The frozen semantic model a validated project becomes.

Every SQL-bearing field holds a checked sqlglot tree; every node keeps the
:class:`~kpispec.errors.Location` it came from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kpispec.calendar import GRAINS, Calendar
from kpispec.errors import Location
from sqlglot import exp

__all__ = [
    "AGGREGATIONS",
    "GRAINS",
    "NO_OFFSET",
    "Dimension",
    "Join",
    "Measure",
    "Metric",
    "MetricInput",
    "Model",
    "Offset",
    "Settings",
    "Targets",
    "Window",
]

AGGREGATIONS = ("count", "count_distinct", "sum", "avg", "min", "max", "median", "percentile")
#: Aggregations whose value over no rows is 0 rather than NULL.
ADDITIVE = frozenset({"count", "count_distinct", "sum"})


@dataclass(frozen=True)
class Settings:
    """``kpispec.yaml``: project-wide settings."""

    dialect: str = "duckdb"
    week_start: str = "monday"
    fiscal_year_start_month: int = 1
    fiscal_year_label: str = "end"
    timezone: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)
    env_vars: tuple[str, ...] = ()  # names or globs env_var() may read in templates
    #: Packs named in ``packs:``: true to include, false to leave out. When ``packs:`` is a
    #: list (``packs_listed``), a pack it does not name is not part of the project.
    packs: Mapping[str, bool] = field(default_factory=dict)
    packs_listed: bool = False
    source: str | None = None
    name: str = ""
    paths: tuple[str, ...] = ()
    currency: str = ""  # symbol sinks show with format: currency values

    @property
    def calendar(self) -> Calendar:
        """The project's calendar (queries may override any part of it)."""
        return Calendar(self.week_start, self.fiscal_year_start_month, self.fiscal_year_label,
                        self.timezone)


@dataclass(frozen=True)
class Dimension:
    """A name queries group by, and the expression it stands for in its model."""

    name: str
    expr: exp.Expr
    model: str
    type: str = "categorical"
    labels: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Join:
    """A many-to-one join: ``model`` is joined where this model's ``on`` equals its ``to``."""

    model: str
    on: str
    to: str
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Model:
    """A table (or a parsed SELECT) that measures aggregate over."""

    name: str
    relation: exp.Expr  # exp.Table, or exp.Subquery of the model's sql
    primary_key: tuple[str, ...] = ()
    time: str | None = None
    columns: tuple[str, ...] | None = None
    column_exprs: Mapping[str, exp.Expr] = field(default_factory=dict)  # columns defined as expressions
    column_types: Mapping[str, str] = field(default_factory=dict)  # declared `type:` by column
    lifecycle: tuple[str, str | None] | None = None  # (start column, end column or None)
    dimensions: Mapping[str, Dimension] = field(default_factory=dict)
    joins: tuple[Join, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    origin: str = ""
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Measure:
    """One aggregation over one model, placed in periods by one time column."""

    model: str
    agg: str
    expr: exp.Expr | None = None
    filter: exp.Expr | None = None
    time: str | None = None
    p: float | None = None
    at: str | None = None  # period_start | period_end: point-in-time over the lifecycle
    window: Window | None = None  # rolling, cumulative or grain-to-date
    location: Location | None = field(default=None, compare=False)

    @property
    def placement(self) -> str:
        """What places a row in a period: the time column (and its window), or
        ``@period_start`` / ``@period_end`` (never a column name)."""
        if self.at:
            return f"@{self.at}"
        return str(self.time) + (f"__{self.window.slug}" if self.window else "")

    @property
    def additive(self) -> bool:
        """True when the value over no rows is 0 (counts and sums), not NULL."""
        return self.agg in ADDITIVE


@dataclass(frozen=True, order=True)
class Offset:
    """A shift to an earlier period: ``months`` (month, quarter, year) or ``days`` (day, week)."""

    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> Offset:
        """``"1 year"`` → Offset(months=12).

        >>> Offset.parse("2 quarters"), Offset.parse("1 week")
        (Offset(months=6, days=0), Offset(months=0, days=7))
        """
        count, unit = text.split()
        n = int(count)
        unit = unit.lower().rstrip("s")
        months = {"month": 1, "quarter": 3, "year": 12}.get(unit)
        if months is not None:
            return cls(months=n * months)
        return cls(days=n * (7 if unit == "week" else 1))

    def __add__(self, other: Offset) -> Offset:
        return Offset(self.months + other.months, self.days + other.days)

    def __bool__(self) -> bool:
        return bool(self.months or self.days)

    def __str__(self) -> str:
        if self.months:
            return f"{self.months // 12} year" if self.months % 12 == 0 else f"{self.months} month"
        return f"{self.days // 7} week" if self.days % 7 == 0 else f"{self.days} day"


#: No shift (a frozen, shareable default).
NO_OFFSET = Offset()


@dataclass(frozen=True)
class Window:
    """The rows a windowed measure aggregates for a period, all ending with the period:
    the last ``length`` (rolling), everything so far (cumulative), or everything since
    the start of the ``to_date`` period holding it (grain-to-date, e.g. month-to-date)."""

    length: Offset | None = None
    to_date: str | None = None  # a grain

    @property
    def cumulative(self) -> bool:
        """True for a window that reaches back to the first row."""
        return self.length is None and self.to_date is None

    @property
    def slug(self) -> str:
        """A name part for the scan that computes it."""
        if self.length is not None:
            return "last_" + str(self.length).replace(" ", "_") + "s"
        return f"{self.to_date}_to_date" if self.to_date else "cumulative"


@dataclass(frozen=True)
class Targets:
    """What a metric should reach: a value per period at ``grain`` and/or one for every period."""

    value: float | None = None
    periods: Mapping[dt.date, float] = field(default_factory=dict)
    grain: str | None = None
    higher_is_better: bool = True
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class MetricInput:
    """A name a derived metric's expression uses for another metric, maybe at an offset."""

    metric: str
    offset: Offset = NO_OFFSET


@dataclass(frozen=True)
class Metric:
    """A metric lowered to measures (by role) and an expression over roles and metrics."""

    name: str
    type: str
    measures: Mapping[str, Measure]
    expr: exp.Expr
    refs: tuple[str, ...] = ()  # metrics this one depends on (inputs resolved)
    inputs: Mapping[str, MetricInput] = field(default_factory=dict)
    columns: Mapping[str, exp.Expr] = field(default_factory=dict)  # extra <name>__<key> outputs
    column_formats: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    format: str | None = None
    grain: str | None = None
    filter: exp.Expr | None = None
    targets: Targets | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False)
    origin: str = ""
    location: Location | None = field(default=None, compare=False)

    def label(self, lang: str = "en") -> str:
        """The label in ``lang``, else English, else the name."""
        return self.labels.get(lang) or self.labels.get("en") or self.name

    @property
    def models(self) -> tuple[str, ...]:
        """The models this metric's own measures read (derived metrics: none of their own)."""
        return tuple(sorted({m.model for m in self.measures.values()}))
