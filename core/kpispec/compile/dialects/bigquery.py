"""BigQuery: naive timestamps are DATETIMEs; Monday weeks are WEEK(MONDAY)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.bigquery import BigQuery
from sqlglot.generators.bigquery import BigQueryGenerator

from kpispec.compile import nodes
from kpispec.compile import snippet_functions as snippets
from kpispec.compile.dialects._base import Spelling, spelled

__all__ = ["DIALECT", "KpispecBigQuery"]


class KpispecBigQuery(BigQuery, Spelling):
    NAME = SQLGLOT = "bigquery"
    COLUMN_NAME_LIMIT = 300
    UNSUPPORTED_AGGREGATES: ClassVar[frozenset[str]] = frozenset({"median", "percentile"})
    TRUNCATE: ClassVar[Mapping[str, str]] = {
        "day": "CAST(__x AS DATE)",
        "week": "DATE_TRUNC(CAST(__x AS DATE), WEEK(MONDAY))",
        "month": "DATE_TRUNC(CAST(__x AS DATE), MONTH)",
        "quarter": "DATE_TRUNC(CAST(__x AS DATE), QUARTER)",
        "year": "DATE_TRUNC(CAST(__x AS DATE), YEAR)",
    }
    ADD_DAYS: ClassVar[str | None] = "DATETIME_ADD(__x, INTERVAL __n DAY)"
    TO_LOCAL: ClassVar[str | None] = "DATETIME(TIMESTAMP(__x), __z)"
    CONCAT: ClassVar[str] = "CONCAT(__a, CAST(__b AS STRING), __c)"

    def timestamp_literal(self, node: nodes.TimestampLiteral) -> exp.Expr:
        text: exp.Expr = node.this  # an untyped string takes the column's type (DATETIME or TIMESTAMP)
        return text

    def instant(self, node: nodes.Instant) -> exp.Expr:
        return exp.cast(node.this, exp.DataType.Type.DATETIME)

    def portable(self, tree: exp.Expr) -> exp.Expr:  # naive timestamps are DATETIMEs
        return snippets.seconds_between(snippets.datetime_truncation(tree), self.SQLGLOT,
                                        "DATETIME_DIFF(__b, __a, SECOND)")

    class Generator(BigQueryGenerator):
        TRANSFORMS = spelled(BigQueryGenerator.TRANSFORMS)


DIALECT = KpispecBigQuery
