"""The ``duckdb`` source: embedded DuckDB databases, files on disk or in memory.

URLs follow the SQLAlchemy convention:

* ``duckdb://`` or ``duckdb:///:memory:`` — an empty in-memory database;
* ``duckdb:///relative.duckdb`` — a file relative to the working directory;
* ``duckdb:////abs/path.duckdb`` — an absolute path;
* ``duckdb:///:memory:?path=DIR`` — in memory, with one view per ``*.parquet`` /
  ``*.csv`` file (or sub-directory of Parquet files) in ``DIR``, named after
  the file's stem.

Database files are opened read-only, and a missing file is an error rather
than a new empty database. Every connection then switches DuckDB's external
access off (``enable_external_access = false``): no query can read or write a
file, attach another database, load an extension or reach the network — only
the ``?path=`` directory stays readable, for its views (``allowed_directories``).
An in-memory database is writable, but it is private to the run and vanishes
with it. Queries are refused unless they are one SELECT
(:func:`kpispec.compile.guard.check_single_select`); a timeout interrupts the
query, and so does Ctrl-C, at once. duckdb and pyarrow are imported on first use
only.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from kpispec.errors import ExecutionError
from kpispec.extensions import SourceType, SourceURL
from kpispec.hookspecs import hookimpl

from kpispec_builtins import _duckdb_limits
from kpispec_builtins._data_dir import DataFile, data_files
from kpispec_builtins._source_base import SourceConnection, check_no_host, stop_watchers

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    from duckdb import DuckDBPyConnection
    from sqlglot import exp

    from kpispec_builtins._source_base import TimeLimit
    from kpispec_builtins._timeout import OnInterrupt, Watchdog

__all__ = [
    "DIALECT",
    "ROWS_PER_BATCH",
    "DuckDBConnection",
    "connect",
    "connect_memory",
    "register_sources",
]

#: The sqlglot dialect DuckDB speaks.
DIALECT = "duckdb"
#: Rows per Arrow record batch streamed out of :meth:`DuckDBConnection.execute`.
ROWS_PER_BATCH = 100_000
#: Query parameters a ``duckdb://`` URL accepts.
_QUERY_KEYS = frozenset({"path", "memory_limit"})
_MEMORY = ("", ":memory:")
_temp_names = itertools.count()


@hookimpl
def register_sources(register: Callable[..., None]) -> None:
    """Register the ``duckdb`` source (scheme ``duckdb``, sqlglot dialect ``duckdb``)."""
    register(
        SourceType(
            name="duckdb",
            schemes=("duckdb",),
            dialect=DIALECT,
            connect=connect,
            description="Embedded DuckDB: a database file (opened read-only), or in memory "
            "with ?path=DIR exposing Parquet/CSV files as views.",
        )
    )


class DuckDBConnection(SourceConnection["DuckDBPyConnection"]):
    """An open DuckDB connection satisfying :class:`kpispec.Connection`.

    Args:
        con: the DuckDB connection to wrap (it is closed by :meth:`close`).
        label: how error messages name the database, usually ``str(url)``.
    """

    dialect = DIALECT
    engine = "DuckDB"
    message_until = ("LINE ",)  # DuckDB's excerpt of the query

    @property
    def duckdb(self) -> DuckDBPyConnection:
        """The underlying DuckDB connection (for tests and for loading data)."""
        return self._open()

    def _run(self, con: DuckDBPyConnection, sql: str,
             timeout: float | None) -> pa.RecordBatchReader:
        """Run the query; the timeout's clock runs until the returned reader is exhausted."""
        import duckdb
        import pyarrow as pa

        self._stop_watchers()  # a new query ends any stream still open on this connection
        watchdog, interrupt = self._watch(timeout, con.interrupt)
        # DuckDB may report Ctrl-C as a RuntimeError: _interrupted tells
        with self._starting(duckdb.Error, watchdog, interrupt, self._stop_watchers):
            relation = con.sql(sql)
            if relation is None:  # DuckDB < 2 returns None for statements without rows
                reader = pa.RecordBatchReader.from_batches(pa.schema([]), [])
            else:
                reader = _arrow_reader(relation, ROWS_PER_BATCH)
        return pa.RecordBatchReader.from_batches(reader.schema,
                                                 self._stream(reader, watchdog, interrupt))

    def describe(self, table: str) -> list[str] | None:
        """Column names of ``table`` (``name`` or ``schema.name``), or None if it does not exist."""
        import duckdb

        schema, _, name = table.rpartition(".")
        con = self.duckdb
        try:
            rows = con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = ? AND (? = '' OR table_schema = ?) ORDER BY ordinal_position",
                [name, schema, schema]).fetchall()
        except duckdb.Error as exc:
            raise self.catalog_failed(exc) from None
        return [r[0] for r in rows] or None

    def _release(self, con: DuckDBPyConnection) -> None:
        con.close()

    # -- internals --------------------------------------------------------------------

    def _stream(self, reader: pa.RecordBatchReader, watchdog: Watchdog | None,
                interrupt: OnInterrupt) -> Iterator[pa.RecordBatch]:
        import duckdb
        import pyarrow as pa

        try:
            yield from reader
        except (duckdb.Error, pa.ArrowException, OSError) as exc:  # errors mid-stream: OSError
            raise self._error(exc, watchdog, interrupt) from None
        except Exception as exc:
            if self._interrupted(exc, watchdog, interrupt):  # DuckDB may say RuntimeError
                raise KeyboardInterrupt from None
            raise
        finally:
            stop_watchers(watchdog, interrupt)

    def _check(self, con: DuckDBPyConnection, sql: str) -> None:
        """Refuse anything but one SELECT: DuckDB's own parser says what the text is, and
        :func:`~kpispec.compile.guard.check_single_select` looks inside it."""
        import duckdb
        from kpispec.compile.guard import check_single_select

        try:
            statements = con.extract_statements(sql)
        except duckdb.Error as exc:
            raise self.failed(exc) from None
        kinds = [str(getattr(s.type, "name", s.type)).upper() for s in statements]
        if len(kinds) != 1:
            raise ExecutionError(f"refusing to run anything but one SELECT on {self.label}: "
                                 f"{len(kinds)} statements")
        if kinds[0] != "SELECT":
            raise ExecutionError(f"refusing to run anything but one SELECT on {self.label}: "
                                 f"got {kinds[0]}")
        try:
            check_single_select(sql, DIALECT, unparsed_ok=True)
        except ExecutionError as exc:
            raise ExecutionError(f"{exc} (on {self.label})") from None

    def _interrupted(self, exc: BaseException, watchdog: TimeLimit | None,
                     interrupt: OnInterrupt) -> bool:
        """Whether ``exc`` ends a query Ctrl-C stopped (not the timeout): DuckDB checks for
        Ctrl-C itself, and may report it before the watcher thread got to it."""
        try:
            if isinstance(exc, KeyboardInterrupt):
                return True
            if watchdog is not None and watchdog.fired:
                return False
            looks_interrupted = "interrupt" in str(exc).lower()
            return interrupt.interrupted(wait=0.5 if looks_interrupted else 0.0)
        finally:
            interrupt.stop()


def connect(url: SourceURL) -> DuckDBConnection:
    """Open the DuckDB database a ``duckdb://`` URL names.

    Args:
        url: the parsed URL; ``url.database`` is the path after the third slash.

    Returns:
        An open :class:`DuckDBConnection`.

    Raises:
        ExecutionError: the URL is malformed, the file does not exist, DuckDB
            cannot open it, or a ``?path=`` file cannot be read.
    """
    import duckdb

    label = str(url)
    unknown = sorted(set(url.query) - _QUERY_KEYS)
    if unknown:
        raise ExecutionError(
            f"{label}: unknown query parameter {unknown[0]!r}; "
            f"a duckdb:// URL accepts only {', '.join(sorted(_QUERY_KEYS))}"
        )
    check_no_host(url, relative="path", absolute="abs/path.duckdb")
    database = url.database
    views_dir = url.query.get("path")
    if database in _MEMORY:
        try:
            con = duckdb.connect(":memory:", config=_duckdb_limits.config(url))
        except duckdb.Error as exc:
            raise ExecutionError(f"cannot open DuckDB database {label}: {DuckDBConnection.one_line(exc)}") from None
        connection = DuckDBConnection(con, label)
        try:
            root = _create_file_views(connection, views_dir) if views_dir is not None else None
            _lock_down(connection, root)
        except BaseException:
            connection.close()
            raise
        return connection
    if views_dir is not None:
        raise ExecutionError(
            f"{label}: ?path= works only on an in-memory database (duckdb:///:memory:?path=DIR); "
            "database files are opened read-only"
        )
    path = os.path.expanduser(database)
    if not os.path.exists(path):
        raise ExecutionError(
            f"DuckDB database file {path!r} does not exist ({label}); check the path "
            "(duckdb:///relative.duckdb or duckdb:////absolute/path.duckdb)"
        )
    if os.path.isdir(path):
        raise ExecutionError(f"DuckDB database {path!r} is a directory, not a file ({label})")
    try:
        con = duckdb.connect(path, read_only=True, config=_duckdb_limits.config(url))
    except duckdb.Error as exc:
        raise ExecutionError(f"cannot open DuckDB database {label}: {DuckDBConnection.one_line(exc)}") from None
    connection = DuckDBConnection(con, label)
    try:
        _lock_down(connection, None)
    except BaseException:
        connection.close()
        raise
    return connection


def _lock_down(connection: DuckDBConnection, directory: str | None) -> None:
    """Switch external access off: no file, extension, attached database or network
    reaches a query — except ``directory`` (the ``?path=`` views read it)."""
    import duckdb
    from sqlglot import exp

    con = connection.duckdb
    if directory is not None:
        allowed = exp.Array(expressions=[exp.Literal.string(directory.rstrip(os.sep) + os.sep)])
        try:
            con.execute(exp.Set(expressions=[exp.SetItem(this=exp.EQ(
                this=exp.column("allowed_directories"), expression=allowed))]).sql(dialect=DIALECT))
        except duckdb.Error:  # DuckDB < 1.2 cannot allow one directory: the views need files
            return
    try:
        con.execute("SET enable_external_access = false")
    except duckdb.Error as exc:
        raise ExecutionError(f"cannot make DuckDB database {connection.label} read-only "
                             f"(external access off): {connection.message(exc)}") from None


def connect_memory(tables: Mapping[str, pa.Table]) -> DuckDBConnection:
    """Open an in-memory DuckDB holding a copy of each Arrow table.

    A name with one dot, ``"crm.deals"``, creates table ``deals`` in schema ``crm``.

    Args:
        tables: table name → ``pyarrow.Table`` (anything DuckDB can scan as Arrow works).

    Returns:
        An open :class:`DuckDBConnection`; its ``label`` is ``duckdb:///:memory:``.

    Raises:
        ValueError: a table name is empty or has more than one dot.
        ExecutionError: DuckDB could not load a table.

    >>> import pyarrow as pa
    >>> con = connect_memory({"crm.deals": pa.table({"amount": [1.5, 2.5]})})
    >>> con.execute("SELECT SUM(amount) AS s FROM crm.deals").read_all().column("s").to_pylist()
    [4.0]
    >>> con.close()
    """
    import duckdb
    from sqlglot import exp

    con = DuckDBConnection(duckdb.connect(":memory:"), "duckdb:///:memory:")
    try:
        for name, table in tables.items():
            target = _table_name(name)
            if target.args.get("db") is not None:
                schema = exp.Create(this=exp.Table(this=target.args["db"].copy()),
                                    kind="SCHEMA", exists=True)
                con.duckdb.execute(schema.sql(dialect=DIALECT))
            temp = f"__kpispec_arrow_{next(_temp_names)}"
            con.duckdb.register(temp, table)
            try:
                create = exp.Create(this=target, kind="TABLE",
                                    expression=exp.select(exp.Star()).from_(exp.table_(
                                        exp.to_identifier(temp, quoted=True))))
                con.duckdb.execute(create.sql(dialect=DIALECT))
            except duckdb.Error as exc:
                raise ExecutionError(f"cannot load table {name!r} into DuckDB: {con.message(exc)}"
                                     ) from None
            finally:
                con.duckdb.unregister(temp)
        _lock_down(con, None)
    except BaseException:
        con.close()
        raise
    return con


def _table_name(name: str) -> exp.Table:
    from sqlglot import exp

    parts = name.split(".")
    if not all(parts) or len(parts) > 2:
        raise ValueError(f"table name {name!r} must be 'table' or 'schema.table'")
    table = exp.to_identifier(parts[-1], quoted=True)
    db = exp.to_identifier(parts[0], quoted=True) if len(parts) == 2 else None
    return exp.Table(this=table, db=db)


def _create_file_views(connection: DuckDBConnection, directory: str) -> str:
    """Create one view per Parquet/CSV file (or Parquet sub-directory) in ``directory``;
    return the directory's absolute path."""
    import duckdb
    from sqlglot import exp

    root, files = data_files(directory, label=connection.label, where="?path= directory",
                             clash=f"?path={directory!r}", noun="view",
                             fold_case=True)  # DuckDB names are case-insensitive
    for file in files:
        create = exp.Create(
            this=exp.Table(this=exp.to_identifier(file.name, quoted=True)),
            kind="VIEW",
            expression=exp.select(exp.Star()).from_(_view_source(file)),
        )
        try:
            connection.duckdb.execute(create.sql(dialect=DIALECT))
        except duckdb.Error as exc:
            raise ExecutionError(
                f"cannot read {file.path!r} as view {file.name!r}: {connection.message(exc)}"
            ) from None
    return root


def _view_source(file: DataFile) -> exp.Expr:
    """The table function reading a data file or Parquet directory."""
    from sqlglot import exp

    if file.is_dir:
        pattern = os.path.join(file.path, "**", "*.parquet")
        return exp.func("read_parquet", exp.Literal.string(pattern))
    reader = "read_parquet" if file.kind == "parquet" else "read_csv_auto"
    return exp.func(reader, exp.Literal.string(file.path))


def _arrow_reader(relation: duckdb.DuckDBPyRelation, rows: int) -> pa.RecordBatchReader:
    """Stream a relation as Arrow (``to_arrow_reader`` on DuckDB 2, ``fetch_record_batch`` before)."""
    to_reader = getattr(relation, "to_arrow_reader", None)
    if to_reader is None:
        to_reader = relation.fetch_record_batch
    return to_reader(rows)

