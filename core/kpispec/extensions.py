"""What plugins register: metric types, sources, sinks and lint rules.

These are the shapes a third-party plugin builds and hands to the ``register``
callback of a registration hook (see :mod:`kpispec.hookspecs`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TextIO

from sqlglot import exp

if TYPE_CHECKING:
    import pyarrow as pa

    from kpispec.errors import SpecError

__all__ = [
    "AddDays",
    "Connection",
    "LintRule",
    "LocalTime",
    "LowerContext",
    "Lowered",
    "MetricInfo",
    "MetricType",
    "PeriodStart",
    "RowExists",
    "SinkContext",
    "SinkType",
    "SinkWriter",
    "SourceType",
    "SourceURL",
]


class PeriodStart(exp.Expression, exp.Func):
    """The first day of the query-grain period holding ``this``, ``periods`` periods later.

    For metric types' measure filters, e.g. "still active at the end of the period
    three periods after the one a customer signed up in"::

        exp.GTE(this=exp.column("churned_at"),
                expression=PeriodStart(this=exp.column("signed_up_at"),
                                       periods=exp.Literal.number(4)))

    The compiler spells it per dialect, for the grain of each query.
    """

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "periods": False}


class LocalTime(exp.Expression, exp.Func):
    """The time column ``this`` as wall-clock time in the query's time zone.

    Period placement already reads time columns in the query's zone; a metric type
    that compares a time column with a :class:`PeriodStart` itself wraps the column
    in ``LocalTime`` so both sides are local. Naive timestamps are taken as UTC;
    columns the model declares ``type: date`` are left as they are.
    """

    arg_types: ClassVar[dict[str, bool]] = {"this": True}


class RowExists(exp.Expression, exp.Func):
    """True when the model ``this`` has a row, seen as ``alias``, where ``expression`` holds.

    For metric types that relate a row to rows of another model without a many-to-one
    join (a visitor who later became a lead…). ``expression`` qualifies that model's
    columns with ``alias`` and the outer row's with its own model's name; it may hold
    further :class:`RowExists` for chains. Rendered as a correlated
    ``EXISTS (SELECT 1 FROM <model> AS <alias> WHERE …)``.
    """

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "alias": True, "expression": True}


class AddDays(exp.Expression, exp.Func):
    """The timestamp ``this`` plus ``days`` days (a time window), spelled per dialect."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "days": True}


@dataclass(frozen=True)
class Lowered:
    """A metric lowered to core terms.

    ``measures`` maps a role name (``numerator``, ``promoters``…) to a measure
    mapping with the fields of a spec measure (``model``, ``agg``, ``expr``,
    ``filter``, ``time``, ``p``, ``at``); ``expr`` and ``filter`` may be sqlglot
    expressions or SQL text in the metric's dialect (``LowerContext.dialect``).
    ``expr`` is a sqlglot expression whose column references name those roles, other
    metrics, or
    ``inputs`` (other metrics at an offset).
    Every division in it is made NULL-safe (NULL when the divisor is 0).
    """

    measures: Mapping[str, Mapping[str, Any]]
    expr: exp.Expr
    #: Extra names usable in ``expr``: name → {"metric": NAME, "offset": "1 year"} —
    #: that metric's value ``offset`` earlier.
    inputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Further result columns, named ``<metric>__<key>``, each an expression like ``expr``
    #: (step counts of a funnel, the ages of a cohort table…).
    columns: Mapping[str, exp.Expr] = field(default_factory=dict)
    #: Display format of an extra column (``percent``…), when it is not the metric's own.
    column_formats: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricType:
    """A metric type: its name, the JSON Schema of its own fields, how it lowers.

    ``schema`` is a JSON Schema object describing the type's fields (``properties``
    and ``required``); the common metric fields (name, label, description,
    format, filter, grain…) are added by kpispec. ``lower(spec, context)`` gets
    the metric's spec mapping and returns a :class:`Lowered`.
    """

    name: str
    schema: Mapping[str, Any]
    lower: Callable[[Mapping[str, Any], LowerContext], Lowered]
    description: str = ""


@dataclass(frozen=True)
class LowerContext:
    """What a metric type's ``lower`` may use besides the spec itself.

    ``parse(text)`` parses and checks a SQL expression in ``dialect`` — the dialect the
    metric is written in: its pack's for a pack's metric, else the project's
    (aggregates allowed); column references in the result name measure roles
    or other metrics.
    """

    dialect: str
    metric: str
    parse: Callable[[str], exp.Expr]
    settings: Any = None
    #: The project's models by name (:class:`kpispec.spec.model.Model`: ``lifecycle``,
    #: ``time``, ``columns``…), for types that derive measures from a model's shape.
    models: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceURL:
    """A parsed ``--source`` URL (SQLAlchemy convention). ``str()`` masks the password."""

    raw: str
    scheme: str
    username: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    database: str = ""
    query: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        from kpispec.errors import mask_url_parameters  # errors imports nothing of ours

        if self.password is None:
            return mask_url_parameters(self.raw)  # ?sslpassword=…
        # Mask what the URL says, as written (it may be percent-encoded).
        scheme, sep, rest = self.raw.partition("://")
        authority, slash, path = rest.partition("/")
        # The last @ of the authority ends the user info: a password may hold an unencoded @.
        userinfo, at, host = authority.rpartition("@")
        user = userinfo.split(":", 1)[0]
        masked = f"{scheme}{sep}{user}:***{at}{host}{slash}{path}" if at else self.raw
        return mask_url_parameters(masked)


class Connection(Protocol):
    """An open connection to a source."""

    dialect: str

    def execute(self, sql: str, *, timeout: float | None = None) -> pa.RecordBatchReader:
        """Run one read-only SELECT and stream its rows as Arrow record batches."""

    def close(self) -> None:
        """Release the connection."""

    def describe(self, table: str) -> Sequence[str] | None:
        """The column names of ``table`` (``[schema.]name`` as a model's ``table``), from the
        source's catalog (information schema or equivalent); None when it does not exist."""


@dataclass(frozen=True)
class SourceType:
    """A data source: URL schemes it answers, the sqlglot dialect it speaks, how to connect."""

    name: str
    schemes: tuple[str, ...]
    dialect: str
    connect: Callable[[SourceURL], Connection]
    description: str = ""


class MetricInfo(Protocol):
    """What a sink sees of each metric of the result (a :class:`kpispec.spec.model.Metric`)."""

    name: str
    labels: Mapping[str, str]
    format: str | None
    description: str


@dataclass(frozen=True)
class SinkContext:
    """What a sink may want to know about the result it writes.

    ``stdout`` is the stream terminal output goes to. Every field has a default,
    and fields are only ever added, so a sink written for an older kpispec keeps
    working (read new ones with ``getattr(context, name, default)`` to support
    older ones too).
    """

    metrics: tuple[MetricInfo, ...] = ()
    dimensions: tuple[str, ...] = ()
    grain: str = "month"
    lang: str = "en"
    stdout: TextIO | None = None
    #: The SQL that produced the result, as it ran (in ``dialect``).
    sql: str = ""
    #: The sqlglot dialect of ``sql`` (the source's).
    dialect: str = ""
    #: The source the result came from: its URL with any password masked.
    source: str = ""
    #: The query's range: first day (inclusive) and last day (exclusive); None when open.
    start: dt.date | None = None
    end: dt.date | None = None
    #: The comparison asked for: ``previous_period``, ``same_period_last_year``, ``baseline``.
    compare: str | None = None
    #: The baseline range [start, end) when ``compare`` is ``baseline``.
    baseline: tuple[dt.date, dt.date] | None = None
    #: Per metric name: what it computes, as one readable line (from its spec), in ``lang``.
    formulas: Mapping[str, str] = field(default_factory=dict)
    #: Per dimension column: its labels by language (``{"en": "Region"}``), where the model gives them.
    dimension_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: The symbol shown with ``format: currency`` values (``$``, ``€``, ``zł``); empty: none.
    currency: str = ""
    #: The project's name (``name:`` in kpispec.yaml), for titles.
    project: str = ""
    #: Notes about the result (partial periods, targets that did not apply…), in ``lang``.
    notes: tuple[str, ...] = ()
    #: Sinks meant for spreadsheets (CSV) escape text cells a spreadsheet would run as a
    #: formula (``=``, ``+``, ``-``, ``@``…); ``--no-csv-safe`` turns it off.
    csv_safe: bool = True


class SinkWriter(Protocol):
    """A sink opened on one target: batches go in, ``close`` commits, ``abort`` undoes."""

    def write(self, batch: pa.RecordBatch) -> None:
        """Accept one batch of result rows."""

    def close(self) -> None:
        """Finish writing and make the output visible (e.g. rename the temporary file)."""

    def abort(self) -> None:
        """Discard everything written; leave any previous output untouched."""


@dataclass(frozen=True)
class SinkType:
    """An output sink: the URL schemes and file extensions it answers, and how to open one."""

    name: str
    open: Callable[[str, pa.Schema, SinkContext], SinkWriter]
    schemes: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class LintRule:
    """An extra validation rule: ``check(project)`` yields :class:`kpispec.SpecError` s."""

    name: str
    check: Callable[[Any], Iterable[SpecError]]
    description: str = ""
