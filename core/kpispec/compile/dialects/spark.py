"""Spark SQL (and Databricks, which shares its rules): TRUNC knows no 'DAY', DATE_ADD
returns a DATE, PERCENTILE is the exact percentile."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.generators.spark import SparkGenerator

from kpispec.compile import nodes
from kpispec.compile import snippet_functions as snippets
from kpispec.compile.dialects._base import Spelling, spelled
from kpispec.extensions import AddDays

__all__ = ["DIALECT", "KpispecSpark", "SparkRules"]

#: Spark's ``format.`path``` table references read files directly.
_FILE_FORMATS = frozenset({"csv", "parquet", "json", "orc", "text", "avro", "delta",
                           "binaryfile", "jdbc", "xml", "iceberg", "hive"})


class SparkRules(Spelling):
    """What Spark and Databricks spell alike."""

    TRUNCATE: ClassVar[Mapping[str, str]] = {"day": "CAST(__x AS DATE)"}  # TRUNC(x, 'DAY') is NULL
    TO_LOCAL: ClassVar[str | None] = "FROM_UTC_TIMESTAMP(__x, __z)"
    CONCAT: ClassVar[str] = "CONCAT(__a, CAST(__b AS STRING), __c)"

    def add_days(self, node: AddDays) -> exp.Expr:  # DATE_ADD would return a DATE
        return exp.Anonymous(this="TIMESTAMPADD",
                             expressions=[exp.var("DAY"), node.args["days"], node.this])

    def percentile(self, node: nodes.Percentile) -> exp.Expr:  # sqlglot writes the approximate one
        return exp.Anonymous(this="PERCENTILE", expressions=[node.this, node.expression])

    def portable(self, tree: exp.Expr) -> exp.Expr:
        return snippets.decimal_constants_as_doubles(tree)

    def table_refusal(self, table: str, db: str) -> str | None:
        if db in _FILE_FORMATS:
            return f"a table read straight from a file ({db}.`{table}`)"
        return None


class KpispecSpark(Spark, SparkRules):
    NAME = SQLGLOT = "spark"

    class Generator(SparkGenerator):
        TRANSFORMS = spelled(SparkGenerator.TRANSFORMS)


DIALECT = KpispecSpark
