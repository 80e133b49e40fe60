"""The ``postgresql`` source: PostgreSQL servers through psycopg 3.

URLs follow the SQLAlchemy convention (``postgres://`` works too, and a driver
suffix such as ``postgresql+psycopg://`` is ignored)::

    postgresql://user:password@host:port/database?schema=NAME

Every part is optional: what the URL leaves out comes from libpq's standard
environment variables (``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGPASSWORD``,
``PGDATABASE``, ``PGPASSFILE``…) and defaults, exactly as ``psql`` would use them.
Query parameters:

* ``schema`` — the schema unqualified table names are looked up in (the
  session's ``search_path``);
* ``sslmode``, ``sslrootcert``, ``connect_timeout``, ``application_name`` and
  ``host`` (a socket directory) — passed on to libpq.

The session is read-only (every transaction is ``READ ONLY``, so the server
refuses any write), each query runs under a ``statement_timeout`` when a timeout
is given and is cancelled when the whole stream takes longer, and rows stream
through a server-side cursor. Ctrl-C cancels the running query on the server at
once (a cancel request, as ``psql`` sends), and closing the connection mid-query
does too. Messages name the server by its URL with the password masked, and
never show the password (nor ``PGPASSWORD``'s).

psycopg and pyarrow are imported on first use only; a missing psycopg says
which extra to install.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kpispec.errors import ExecutionError, register_secret
from kpispec.extensions import SourceType, SourceURL
from kpispec.hookspecs import hookimpl

from kpispec_builtins._source_base import SourceConnection, close_quietly

if TYPE_CHECKING:
    import pyarrow as pa
    from psycopg import Connection as PgConnection
    from psycopg import ServerCursor

    from kpispec_builtins._source_base import TimeLimit
    from kpispec_builtins._timeout import OnInterrupt, Watchdog

__all__ = [
    "DIALECT",
    "ROWS_PER_BATCH",
    "PostgresConnection",
    "connect",
    "connect_params",
    "register_sources",
]

#: The sqlglot dialect PostgreSQL speaks.
DIALECT = "postgres"
#: Rows per Arrow record batch streamed out of :meth:`PostgresConnection.execute`.
ROWS_PER_BATCH = 50_000
#: Seconds to wait for the server when neither the URL nor PGCONNECT_TIMEOUT says.
CONNECT_TIMEOUT = 10
#: Query parameters a ``postgresql://`` URL accepts besides ``schema`` (passed to libpq).
_LIBPQ_KEYS = frozenset({"sslmode", "sslrootcert", "connect_timeout", "application_name", "host"})
_QUERY_KEYS = _LIBPQ_KEYS | {"schema"}
_INSTALL = "pip install 'kpispec[postgres]'"
_cursor_names = itertools.count()

# Arrow types of PostgreSQL's built-in types, by type OID.
_OID_TYPES: dict[int, str] = {
    16: "bool",
    20: "int", 21: "int", 23: "int", 26: "int",  # int8, int2, int4, oid
    700: "float", 701: "float", 1700: "float",  # float4, float8, numeric
    1082: "date", 1114: "timestamp", 1184: "timestamptz", 1083: "time", 1186: "interval",
    25: "str", 1043: "str", 1042: "str", 19: "str", 18: "str",  # text, varchar, bpchar, name, char
    114: "str", 3802: "str", 2950: "str",  # json, jsonb, uuid (loaded as text)
    17: "bytes",
}


@hookimpl
def register_sources(register: Callable[..., None]) -> None:
    """Register the ``postgresql`` source (schemes ``postgresql`` and ``postgres``)."""
    register(
        SourceType(
            name="postgresql",
            schemes=("postgresql", "postgres"),
            dialect=DIALECT,
            connect=connect,
            description="PostgreSQL through psycopg 3: read-only session, server-side cursor, "
            "?schema=NAME sets the search_path.",
        )
    )


class PostgresConnection(SourceConnection["PgConnection[Any]"]):
    """An open PostgreSQL connection satisfying :class:`kpispec.Connection`.

    Args:
        con: the psycopg connection to wrap (it is closed by :meth:`close`); it must be
            read-only and not in autocommit mode, as :func:`connect` leaves it.
        label: how error messages name the server, ``str(url)`` with the password masked.
        password: the password, scrubbed from any driver message that might echo it.
    """

    dialect = DIALECT
    engine = "PostgreSQL"
    # The server's excerpt of the query and its hints: noise on one line.
    message_skip = ("LINE ", "HINT:", "DETAIL:", "CONTEXT:", "^")

    def __init__(self, con: PgConnection[Any], label: str, password: str | None = None) -> None:
        super().__init__(con, label, password)
        self._cursor: ServerCursor[Any] | None = None

    @property
    def psycopg(self) -> PgConnection[Any]:
        """The underlying psycopg connection (read-only session; for tests)."""
        return self._open()

    def _run(self, con: PgConnection[Any], sql: str,
             timeout: float | None) -> pa.RecordBatchReader:
        """Run the query through a server-side cursor. Each statement runs under
        ``statement_timeout``, and the clock for the whole stream runs until the
        returned reader is exhausted."""
        import psycopg
        import pyarrow as pa

        self._finish()  # a new query ends any stream still open on this connection
        watchdog, interrupt = self._watch(timeout, _canceller(con))
        with self._starting(psycopg.Error, watchdog, interrupt, self._finish):
            if timeout is not None:
                milliseconds = max(1, round(timeout * 1000))
                con.execute("SELECT set_config('statement_timeout', %s, true)", (str(milliseconds),))
            cursor = con.cursor(name=f"kpispec_{os.getpid()}_{next(_cursor_names)}")
            self._cursor = cursor
            cursor.itersize = ROWS_PER_BATCH
            cursor.execute(sql)  # no parameters: a % in the query is not a placeholder
            schema = pa.schema([(d.name, _arrow_type(d.type_code)) for d in cursor.description or ()])
            first = cursor.fetchmany(ROWS_PER_BATCH)  # errors (and timeouts) surface here
            batch = _to_batch(first, schema) if first else None
        return pa.RecordBatchReader.from_batches(
            schema, self._stream(cursor, batch, schema, watchdog, interrupt))

    def describe(self, table: str) -> list[str] | None:
        """Column names of ``table`` (``name`` or ``schema.name``), or None if it does not exist.

        An unqualified name is looked up along the ``search_path``, like the query
        would; unquoted parts fold to lower case, as PostgreSQL folds identifiers.
        """
        import psycopg

        schema, _, name = table.rpartition(".")
        con = self.psycopg
        self._finish()
        try:
            rows = con.execute(_DESCRIBE, {"schema": _fold(schema) if schema else None,
                                           "name": _fold(name)}).fetchall()
        except psycopg.Error as exc:
            raise self.catalog_failed(exc) from None
        finally:
            self._end_transaction()
        return [r[0] for r in rows] or None

    def _release(self, con: PgConnection[Any]) -> None:
        """A query still running on the server (the run was interrupted) is cancelled first:
        the server would otherwise go on computing it after the socket closed."""
        if _busy(con):
            try:
                _canceller(con)()
            except Exception:  # the connection is gone: so is the query
                pass
        self._finish()
        con.close()

    # -- internals --------------------------------------------------------------------

    def _stream(self, cursor: ServerCursor[Any], first: pa.RecordBatch | None,
                schema: pa.Schema, watchdog: Watchdog | None,
                interrupt: OnInterrupt | None = None) -> Iterator[pa.RecordBatch]:
        import psycopg

        try:
            if first is None:
                return
            yield first
            while True:
                if watchdog is not None and watchdog.fired:  # it fired between two fetches
                    raise psycopg.errors.QueryCanceled("canceling statement due to the timeout")
                rows = cursor.fetchmany(ROWS_PER_BATCH)
                if not rows:
                    return
                yield _to_batch(rows, schema)
        except psycopg.Error as exc:
            raise self._error(exc, watchdog, interrupt) from None
        finally:
            if self._cursor is cursor:
                self._finish()

    def _finish(self) -> None:
        """Stop the watchdogs, close the server-side cursor and end the transaction."""
        self._stop_watchers()
        cursor, self._cursor = self._cursor, None
        close_quietly(cursor)  # the transaction failed or the connection is gone
        self._end_transaction()

    def _end_transaction(self) -> None:
        con = self._handle
        if con is None or con.closed:
            return
        try:
            con.rollback()  # read-only: nothing to keep; ends the statement_timeout too
        except Exception:
            pass

    def _error(self, exc: BaseException, watchdog: TimeLimit | None,
               interrupt: OnInterrupt | None = None) -> BaseException:
        import psycopg

        if interrupt is not None and interrupt.fired:  # Ctrl-C cancelled it, not a timeout
            return KeyboardInterrupt()
        if (watchdog is not None and watchdog.fired) or isinstance(exc, psycopg.errors.QueryCanceled):
            seconds = f" after {watchdog.timeout:g} s" if watchdog is not None else ""
            return ExecutionError(
                f"query timed out{seconds} on {self.label} ({self.message(exc)}); "
                "query a shorter range or fewer metrics, or allow a longer timeout"
            )
        if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
            return ExecutionError(f"PostgreSQL refused a write on {self.label}: the kpispec session "
                                  f"is read-only ({self.message(exc)})")
        return self.failed(exc)


def _canceller(con: PgConnection[Any]) -> Callable[[], object]:
    """The call that cancels the query running on ``con`` (``cancel_safe`` where psycopg has it)."""
    cancel: Callable[[], object] = getattr(con, "cancel_safe", None) or con.cancel
    return cancel


# Columns of a table, the schema given or else the first schema of the search_path
# holding it (as an unqualified name in a query resolves).
_DESCRIBE = """
SELECT c.column_name
FROM information_schema.columns AS c
WHERE c.table_name = %(name)s
  AND c.table_schema = COALESCE(%(schema)s::text, (
      SELECT s.name
      FROM unnest(current_schemas(true)) WITH ORDINALITY AS s(name, position)
      WHERE EXISTS (SELECT 1 FROM information_schema.columns AS i
                    WHERE i.table_schema = s.name AND i.table_name = %(name)s)
      ORDER BY s.position
      LIMIT 1))
ORDER BY c.ordinal_position
"""


def connect(url: SourceURL) -> PostgresConnection:
    """Open a read-only session on the server a ``postgresql://`` URL names.

    Args:
        url: the parsed URL. Only the parts it gives are passed to libpq; the rest
            comes from the PG* environment variables and libpq's defaults.

    Returns:
        An open :class:`PostgresConnection`.

    Raises:
        ExecutionError: psycopg is not installed, the URL is malformed, the server
            cannot be reached or refuses the login, or ``?schema=`` does not exist.
    """
    label = _label(url)
    register_secret(url.password)
    register_secret(os.environ.get("PGPASSWORD"))
    try:
        import psycopg
        from psycopg import sql
        from psycopg.types.numeric import FloatLoader
        from psycopg.types.string import TextLoader
    except ImportError:
        raise ExecutionError(f"the PostgreSQL source needs psycopg: {_INSTALL} "
                             f"(to read {label})") from None
    params = connect_params(url)
    try:
        con = psycopg.connect(autocommit=True, **params)
    except psycopg.Error as exc:
        raise ExecutionError(f"cannot connect to PostgreSQL {label}: "
                             f"{PostgresConnection.one_line(exc, url.password)}") from None
    try:
        schema = url.query.get("schema")
        if schema is not None:
            if not con.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone():
                raise ExecutionError(f"schema {schema!r} does not exist in PostgreSQL {label}; "
                                     "check ?schema= (names are case-sensitive here)")
            con.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        con.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        con.autocommit = False
        con.read_only = True  # psycopg starts every transaction with BEGIN READ ONLY
        # Numbers come out as float64 (NUMERIC too); JSON and UUIDs as text.
        con.adapters.register_loader("numeric", FloatLoader)
        for name in ("json", "jsonb", "uuid"):
            con.adapters.register_loader(name, TextLoader)
    except psycopg.Error as exc:
        con.close()
        raise ExecutionError(f"cannot set up the PostgreSQL session on {label}: "
                             f"{PostgresConnection.one_line(exc, url.password)}") from None
    except BaseException:
        con.close()
        raise
    return PostgresConnection(con, label, url.password)


def connect_params(url: SourceURL) -> dict[str, Any]:
    """psycopg connection parameters of a ``postgresql://`` URL (what it leaves out, libpq decides).

    Raises:
        ExecutionError: the URL has a query parameter this source does not know.
    """
    unknown = sorted(set(url.query) - _QUERY_KEYS)
    if unknown:
        raise ExecutionError(f"{_label(url)}: unknown query parameter {unknown[0]!r}; a "
                             f"postgresql:// URL accepts only {', '.join(sorted(_QUERY_KEYS))}")
    params: dict[str, Any] = {key: url.query[key] for key in _LIBPQ_KEYS if key in url.query}
    if url.host:
        params["host"] = url.host
    if url.port is not None:
        params["port"] = url.port
    if url.username:
        params["user"] = url.username
    if url.password is not None:
        params["password"] = url.password
    if url.database:
        params["dbname"] = url.database
    if "connect_timeout" not in params and not os.environ.get("PGCONNECT_TIMEOUT"):
        params["connect_timeout"] = CONNECT_TIMEOUT
    params.setdefault("application_name", "kpispec")
    return params


def _label(url: SourceURL) -> str:
    """``str(url)``, also masking a password written percent-encoded in the URL."""
    label = str(url)
    if url.password:
        for spelling in {url.password, quote(url.password, safe=""), quote(url.password)}:
            label = label.replace(f":{spelling}@", ":***@")
    return label


def _busy(con: PgConnection[Any]) -> bool:
    """Whether a statement is running on the connection (libpq's ACTIVE state)."""
    try:
        from psycopg.pq import TransactionStatus

        return bool(not con.closed and con.pgconn.transaction_status == TransactionStatus.ACTIVE)
    except Exception:
        return False


def _fold(part: str) -> str:
    """A name part as PostgreSQL resolves it: quoted kept as written, unquoted lower-cased."""
    if len(part) >= 2 and part.startswith('"') and part.endswith('"'):
        return part[1:-1].replace('""', '"')
    return part.lower()


# -- rows to Arrow --------------------------------------------------------------------------


def _arrow_type(oid: int) -> pa.DataType:
    import pyarrow as pa

    kind = _OID_TYPES.get(oid)
    return {
        "bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(), "date": pa.date32(),
        "timestamp": pa.timestamp("us"), "timestamptz": pa.timestamp("us", tz="UTC"),
        "time": pa.time64("us"), "interval": pa.duration("us"), "str": pa.string(),
        "bytes": pa.binary(),
    }.get(kind or "", pa.string())  # anything else (arrays, enums, ranges…) as its text


def _to_batch(rows: Sequence[tuple[Any, ...]], schema: pa.Schema) -> pa.RecordBatch:
    import pyarrow as pa

    arrays = []
    for i, field in enumerate(schema):
        values = [row[i] for row in rows]
        if pa.types.is_string(field.type):
            values = [v if v is None or isinstance(v, str) else str(v) for v in values]
        arrays.append(pa.array(values, type=field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)

