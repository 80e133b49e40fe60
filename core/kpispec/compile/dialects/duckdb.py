"""DuckDB: sqlglot's spelling, an exact PERCENTILE_CONT aggregate and its zone database."""

from __future__ import annotations

from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.generators.duckdb import DuckDBGenerator

from kpispec.compile import nodes
from kpispec.compile.dialects._base import Spelling, spelled

__all__ = ["DIALECT", "KpispecDuckDB"]


class KpispecDuckDB(DuckDB, Spelling):
    NAME = SQLGLOT = "duckdb"
    TO_LOCAL: ClassVar[str | None] = "(__x AT TIME ZONE 'UTC') AT TIME ZONE __z"

    def percentile(self, node: nodes.Percentile) -> exp.Expr:
        return exp.PercentileCont(this=node.this, expression=node.expression)

    class Generator(DuckDBGenerator):
        TRANSFORMS = spelled(DuckDBGenerator.TRANSFORMS)


DIALECT = KpispecDuckDB
