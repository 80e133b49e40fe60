"""The ``datafusion`` source: Apache DataFusion, in process, over Parquet and CSV files.

URLs follow the SQLAlchemy convention for paths:

* ``datafusion:///relative/dir`` — a directory relative to the working directory;
* ``datafusion:////abs/dir`` — an absolute path;
* ``datafusion://`` — an empty session (no tables).

Every ``*.parquet`` and ``*.csv`` file of the directory, and every sub-directory
holding Parquet files (a partitioned dataset), becomes a table named after the
file's stem or the sub-directory, with its case kept (``Sales.parquet`` is the
table ``"Sales"``). CSV files need a header row; their column types are inferred.

kpispec compiles for its ``datafusion`` dialect: DataFusion's SQL follows
PostgreSQL, so sqlglot's ``postgres`` dialect writes it, with DataFusion's own
spellings where they differ (period arithmetic: DataFusion cannot multiply an
interval by a number). Results come back as Arrow: strings as ``string`` (not
DataFusion's ``string_view``), integers as ``int64``, floats as ``float64``,
decimals as ``float64``, timestamps as naive ``timestamp[us]`` (UTC), dates as
``date32``.

Queries run with DataFusion's SQL options allowing no DDL, DML or statements
(``SQLOptions``): the engine itself refuses to create, copy, insert or change a
setting, besides the guard (one SELECT). Ctrl-C stops a query at once (the
DataFusion bindings check for it while they wait).

A running DataFusion query cannot be interrupted from another thread. With a
timeout, the query runs in a worker thread and
:meth:`DataFusionConnection.execute` gives up once the timeout passes; the
worker thread then finishes the query in the background (its result is thrown
away) and keeps using CPU until it does — Ctrl-C then ends the wait, not that
background query.

datafusion and pyarrow are imported on first use only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kpispec.errors import ExecutionError
from kpispec.extensions import SourceType, SourceURL
from kpispec.hookspecs import hookimpl

from kpispec_builtins._data_dir import data_files
from kpispec_builtins._source_base import SourceConnection, check_no_host

if TYPE_CHECKING:
    import datafusion
    import pyarrow as pa

__all__ = [
    "DIALECT",
    "DataFusionConnection",
    "connect",
    "register_sources",
]

#: The kpispec dialect of DataFusion (written by sqlglot's postgres dialect, see
#: :func:`kpispec.compile.dialects.sqlglot_dialect`).
DIALECT = "datafusion"
_INSTALL = "the DataFusion source needs the datafusion package: pip install 'kpispec[datafusion]'"


@hookimpl
def register_sources(register: Callable[..., None]) -> None:
    """Register the ``datafusion`` source (scheme ``datafusion``, dialect ``datafusion``)."""
    register(
        SourceType(
            name="datafusion",
            schemes=("datafusion",),
            dialect=DIALECT,
            connect=connect,
            description="Apache DataFusion in process: every Parquet/CSV file (or Parquet "
            "sub-directory) of a directory is a table.",
        )
    )


def _import_datafusion() -> Any:
    try:
        import datafusion
    except ImportError:
        raise ExecutionError(_INSTALL) from None
    return datafusion


class DataFusionConnection(SourceConnection["datafusion.SessionContext"]):
    """A DataFusion session satisfying :class:`kpispec.Connection`.

    Args:
        ctx: the ``datafusion.SessionContext`` to query.
        label: how error messages name the source, usually ``str(url)``.

    Closing forgets the session; a query still running in a background thread after
    a timeout finishes on its own.
    """

    dialect = DIALECT
    engine = "DataFusion"

    @property
    def context(self) -> datafusion.SessionContext:
        """The underlying ``datafusion.SessionContext`` (for tests and for registering data)."""
        return self._open()

    def _run(self, ctx: datafusion.SessionContext, sql: str,
             timeout: float | None) -> pa.RecordBatchReader:
        """Collect the result; with a timeout, give up waiting once it passes (the query
        itself goes on in a background thread until it ends: see the module doc)."""
        import pyarrow as pa

        if timeout is None:
            table = self._collect(ctx, sql)
        else:
            table = self._collect_with_timeout(ctx, sql, timeout)
        table = _normalize(table)
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())

    def describe(self, table: str) -> list[str] | None:
        """Column names of ``table`` (``name`` or ``schema.name``), or None if it does not exist."""
        ctx = self.context
        schema, _, _ = table.rpartition(".")
        reference = ".".join(_quote(part) for part in table.split("."))
        try:
            if schema and "." not in schema and schema not in ctx.catalog().schema_names():
                return None
            if not ctx.table_exist(reference):
                return None
            return list(ctx.table(reference).schema().names)
        except Exception as exc:  # DataFusion raises plain Exception/ValueError
            raise self.catalog_failed(exc) from None

    # -- internals --------------------------------------------------------------------

    def _collect(self, ctx: datafusion.SessionContext, sql: str) -> pa.Table:
        try:
            return ctx.sql_with_options(sql, _read_only_options()).to_arrow_table()
        except Exception as exc:  # DataFusion raises plain Exception/ValueError
            raise self.failed(exc) from None

    def _collect_with_timeout(self, ctx: datafusion.SessionContext, sql: str,
                              timeout: float) -> pa.Table:
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["table"] = self._collect(ctx, sql)
            except BaseException as exc:  # handed to the waiting thread
                outcome["error"] = exc

        worker = threading.Thread(target=work, name="kpispec-datafusion-query", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise ExecutionError(f"{self.timed_out(timeout)} "
                                 "(DataFusion finishes the abandoned query in the background)")
        if "error" in outcome:
            raise outcome["error"]
        table: pa.Table = outcome["table"]
        return table


def _read_only_options() -> Any:
    """DataFusion SQL options that refuse DDL, DML (COPY, INSERT) and statements (SET)."""
    from datafusion import SQLOptions

    return SQLOptions().with_allow_ddl(False).with_allow_dml(False).with_allow_statements(False)


def connect(url: SourceURL) -> DataFusionConnection:
    """Open a DataFusion session over the directory a ``datafusion://`` URL names.

    Args:
        url: the parsed URL; ``url.database`` is the path after the third slash
            (empty for a session without tables).

    Returns:
        An open :class:`DataFusionConnection`.

    Raises:
        ExecutionError: datafusion is not installed, the URL is malformed, the
            directory does not exist, or a file cannot be registered.
    """
    label = str(url)
    if url.query:
        raise ExecutionError(f"{label}: a datafusion:// URL takes no query parameters; "
                             "write datafusion:///path/to/dir")
    check_no_host(url, relative="directory", absolute="abs/dir")
    datafusion = _import_datafusion()
    try:
        ctx = datafusion.SessionContext()
    except Exception as exc:
        raise ExecutionError(f"cannot start DataFusion for {label}: "
                             f"{DataFusionConnection.one_line(exc)}") from None
    connection = DataFusionConnection(ctx, label)
    if url.database:
        _register_directory(connection, url.database)
    return connection


def _register_directory(connection: DataFusionConnection, directory: str) -> None:
    """Register one table per Parquet/CSV file (or Parquet sub-directory) of ``directory``."""
    ctx = connection.context
    _, files = data_files(directory, label=connection.label, where="directory",
                          clash=connection.label, noun="table", fold_case=False)
    for file in files:
        try:
            if file.kind == "csv":
                ctx.register_csv(_quote(file.name), file.path)
            else:
                ctx.register_parquet(_quote(file.name), file.path)
        except Exception as exc:  # DataFusion raises plain Exception/ValueError
            raise ExecutionError(
                f"cannot read {file.path!r} as table {file.name!r} ({connection.label}): "
                f"{connection.message(exc)}"
            ) from None


def _quote(name: str) -> str:
    """``name`` as a quoted identifier, so DataFusion keeps its case."""
    return '"' + name.replace('"', '""') + '"'


def _normalize(table: pa.Table) -> pa.Table:
    """Cast result columns to the types every kpispec source returns (see the module doc)."""
    import pyarrow.types as pt

    for i, field in enumerate(table.schema):
        target = _target_type(field.type)
        if target != field.type:
            # Nanosecond timestamps lose their last digits, as in every other source.
            column = table.column(i).cast(target, safe=not pt.is_timestamp(field.type))
            table = table.set_column(i, field.with_type(target), column)
    return table


def _target_type(t: pa.DataType) -> pa.DataType:
    import pyarrow as pa
    import pyarrow.types as pt

    if pt.is_string_view(t) or pt.is_large_string(t):
        return pa.string()
    if pt.is_binary_view(t) or pt.is_large_binary(t):
        return pa.binary()
    if pt.is_integer(t):
        return pa.int64() if pt.is_signed_integer(t) or t.bit_width < 64 else t
    if pt.is_floating(t) or pt.is_decimal(t):
        return pa.float64()
    if pt.is_timestamp(t):
        return pa.timestamp("us")
    if pt.is_date(t):
        return pa.date32()
    if pt.is_dictionary(t):
        return _target_type(t.value_type)
    return t

