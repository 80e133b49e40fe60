"""The ``csvdir`` source: a directory of CSV files, queried with DuckDB.

``--source csvdir:///relative/dir`` or ``csvdir:////absolute/dir``: every
``*.csv`` file in the directory is a table named after the file's stem
(``deals.csv`` → ``deals``), and every ``*.csv`` file one sub-directory down a
table in a schema (``crm/deals.csv`` → ``crm.deals``). Column types are detected
by DuckDB's CSV reader; an empty field is NULL. Files are read when a query
runs, never copied.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import kpispec
from sqlglot import exp

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

__all__ = ["SOURCE", "CsvDirConnection", "connect", "tables"]

ROWS_PER_BATCH = 100_000


def tables(directory: Path) -> dict[tuple[str, str], Path]:
    """(schema, table) → CSV file, for a directory laid out as described above."""
    found: dict[tuple[str, str], Path] = {}
    for file in sorted(directory.glob("*.csv")):
        found[("", file.stem)] = file
    for file in sorted(directory.glob("*/*.csv")):
        found[(file.parent.name, file.stem)] = file
    return found


def connect(url: kpispec.SourceURL) -> CsvDirConnection:
    """Open an in-memory DuckDB database with one view per CSV file of the URL's directory."""
    directory = Path(url.database or ".")
    if not directory.is_dir():
        raise kpispec.ExecutionError(
            f"csvdir: {str(directory)!r} is not a directory (from {url}); write "
            "csvdir:///relative/dir or csvdir:////absolute/dir")
    found = tables(directory)
    if not found:
        raise kpispec.ExecutionError(f"csvdir: no *.csv files in {str(directory)!r}")
    return CsvDirConnection(found, str(url))


class CsvDirConnection:
    """A :class:`kpispec.Connection` over views of CSV files."""

    dialect = "duckdb"

    def __init__(self, files: dict[tuple[str, str], Path], label: str) -> None:
        import duckdb

        self.label = label
        self._con: duckdb.DuckDBPyConnection = duckdb.connect(":memory:")
        for schema in sorted({schema for schema, _ in files if schema}):
            create = exp.Create(this=exp.to_identifier(schema), kind="SCHEMA", exists=True)
            self._con.execute(create.sql(dialect="duckdb", identify=True))
        for (schema, name), file in files.items():
            reader = exp.Anonymous(this="read_csv_auto",
                                   expressions=[exp.Literal.string(str(file.resolve()))])
            view = exp.Create(this=exp.table_(name, db=schema or None), kind="VIEW",
                              expression=exp.select(exp.Star()).from_(reader))
            self._con.execute(view.sql(dialect="duckdb", identify=True))

    def execute(self, sql: str, *, timeout: float | None = None) -> pa.RecordBatchReader:
        """Run one query and stream its rows as Arrow record batches."""
        import duckdb
        import pyarrow as pa

        timer = threading.Timer(timeout, self._con.interrupt) if timeout else None
        if timer:
            timer.daemon = True
            timer.start()
        try:
            relation = self._con.sql(sql)
            to_reader = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
            reader = to_reader(ROWS_PER_BATCH)
        except duckdb.Error as exc:
            if timer:
                timer.cancel()
            raise kpispec.ExecutionError(f"csvdir: the query failed on {self.label}: {exc}") from None

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                yield from reader
            finally:
                if timer:
                    timer.cancel()

        return pa.RecordBatchReader.from_batches(reader.schema, batches())

    def describe(self, table: str) -> Sequence[str] | None:
        """The columns of ``table`` (``name`` or ``schema.name``), or None if there is no such file."""
        import duckdb

        try:
            return list(self._con.table(table).columns)
        except duckdb.Error:
            return None

    def close(self) -> None:
        self._con.close()


SOURCE = kpispec.SourceType(
    name="csvdir",
    schemes=("csvdir",),
    dialect="duckdb",
    connect=connect,
    description="A directory of CSV files, one table per file (sub-directories are schemas).",
)
