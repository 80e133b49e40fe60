"""DuckDB: sqlglot's spelling, an exact PERCENTILE_CONT aggregate and its zone database."""

from __future__ import annotations

from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.generators.duckdb import DuckDBGenerator

from kpispec.compile import nodes
from kpispec.compile.dialects._base import Spelling, spelled

__all__ = ["DIALECT", "KpispecDuckDB"]

#: Table names DuckDB would read as a file when no table of that name exists.
_FILE_SUFFIXES = (".csv", ".tsv", ".parquet", ".json", ".jsonl", ".ndjson", ".txt", ".xlsx",
                  ".gz", ".zst", ".arrow", ".db", ".duckdb", ".sqlite")


class KpispecDuckDB(DuckDB, Spelling):
    NAME = SQLGLOT = "duckdb"
    TO_LOCAL: ClassVar[str | None] = "(__x AT TIME ZONE 'UTC') AT TIME ZONE __z"

    def percentile(self, node: nodes.Percentile) -> exp.Expr:
        return exp.PercentileCont(this=node.this, expression=node.expression)

    def table_refusal(self, table: str, db: str) -> str | None:
        if table.lower().endswith(_FILE_SUFFIXES):
            return f"a table named like a file ({table!r})"
        return None

    class Generator(DuckDBGenerator):
        TRANSFORMS = spelled(DuckDBGenerator.TRANSFORMS)


DIALECT = KpispecDuckDB
