"""kpispec: CRM metrics declared in YAML, compiled through sqlglot to SQL for any warehouse.

>>> import kpispec
>>> project = kpispec.load_project("my_project/")                  # doctest: +SKIP
>>> print(project.compile(["close_rate"], dialect="snowflake"))     # doctest: +SKIP
>>> table = project.run(["close_rate"], source="duckdb:///crm.duckdb", by=["region"])  # doctest: +SKIP

Plugins import their building blocks from here too: ``hookimpl``,
``MetricType``, ``SourceType``, ``SinkType``, ``LintRule``…; their tests use
:mod:`kpispec.testing` (fixtures, an in-memory source, a capturing sink).
"""

from __future__ import annotations

from kpispec.compile import CompiledQuery, Query, QueryContext
from kpispec.errors import (
    CompileError,
    ExecutionError,
    InternalError,
    KpispecError,
    Location,
    PluginError,
    QueryError,
    SpecError,
    SpecErrors,
    UnknownMetricError,
    UnsupportedDialectFeature,
)
from kpispec.extensions import (
    AddDays,
    Connection,
    LintRule,
    LocalTime,
    LowerContext,
    Lowered,
    MetricInfo,
    MetricType,
    PeriodStart,
    RowExists,
    SinkContext,
    SinkType,
    SinkWriter,
    SourceType,
    SourceURL,
)
from kpispec.hookspecs import hookimpl
from kpispec.project import Project, load_project, parse_source_url, published_schema

__all__ = [
    "AddDays",
    "CompileError",
    "CompiledQuery",
    "Connection",
    "ExecutionError",
    "InternalError",
    "KpispecError",
    "LintRule",
    "LocalTime",
    "Location",
    "LowerContext",
    "Lowered",
    "MetricInfo",
    "MetricType",
    "PeriodStart",
    "PluginError",
    "Project",
    "Query",
    "QueryContext",
    "QueryError",
    "RowExists",
    "SinkContext",
    "SinkType",
    "SinkWriter",
    "SourceType",
    "SourceURL",
    "SpecError",
    "SpecErrors",
    "UnknownMetricError",
    "UnsupportedDialectFeature",
    "hookimpl",
    "load_project",
    "parse_source_url",
    "published_schema",
]
