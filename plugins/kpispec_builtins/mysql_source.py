"""The ``mysql`` source: MySQL and MariaDB servers through PyMySQL.

URLs follow the SQLAlchemy convention (``mysql+pymysql://`` works too)::

    mysql://user:password@host:3306/database
    mariadb://user@host/database?charset=utf8mb4

Missing parts come from the MySQL client's environment variables: the password
from ``MYSQL_PWD``, the host from ``MYSQL_HOST``, the port from
``MYSQL_TCP_PORT``, the user from ``MYSQL_USER`` (else the login name). The
password is never shown: messages name the source by ``str(url)``, which masks it.

Every query runs inside ``START TRANSACTION READ ONLY`` (rolled back once its
rows are read), after :func:`kpispec.compile.guard.check_single_select` refused
anything but one SELECT. Rows stream through an unbuffered cursor and become
Arrow record batches typed from the result's column types: DATE → ``date32``,
DATETIME/TIMESTAMP → ``timestamp[us]``, DECIMAL → ``float64``, integers →
``int64``, ``TINYINT(1)`` (BOOLEAN) → ``bool``, text → ``string``.

The session itself is read-only too (``SET SESSION TRANSACTION READ ONLY``), so
even a catalog lookup outside those transactions cannot write.

A ``timeout`` is enforced twice: by the server (``max_statement_time`` on
MariaDB, ``max_execution_time`` on MySQL) and by the client, which kills the
query from a second connection (``KILL QUERY``) when the time is up. Ctrl-C
kills it the same way, at once, and so does closing the connection while a
query is still running or streaming (the connection is then dropped, never
drained): the server never goes on computing a result nobody reads.

The session raises ``div_precision_increment`` to its maximum (30), so a
division or an average of integers keeps full precision instead of MySQL's
default four decimals (a rate of 12 in 57 is 0.210526…, not 0.2105).

PyMySQL and pyarrow are imported on first use only.
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from kpispec.compile import guard
from kpispec.errors import ExecutionError, register_secret
from kpispec.extensions import SourceType, SourceURL
from kpispec.hookspecs import hookimpl

from kpispec_builtins._timeout import OnInterrupt, Watchdog, timed_out

if TYPE_CHECKING:
    import pyarrow as pa
    import pymysql

__all__ = [
    "DIALECT",
    "ROWS_PER_BATCH",
    "MySQLConnection",
    "connect",
    "connect_params",
    "register_sources",
]

#: The sqlglot dialect MySQL and MariaDB speak.
DIALECT = "mysql"
#: Rows per Arrow record batch streamed out of :meth:`MySQLConnection.execute`.
ROWS_PER_BATCH = 50_000
#: URL query parameters passed on to PyMySQL (``connect_timeout`` in seconds).
_QUERY_KEYS = frozenset({"charset", "connect_timeout", "unix_socket", "ssl_ca", "ssl_cert", "ssl_key"})
_INSTALL = "the MySQL source needs PyMySQL: pip install 'kpispec[mysql]'"
#: Server error codes of a statement stopped by a time limit or by KILL QUERY.
_TIMEOUT_CODES = frozenset({1969, 3024})  # MariaDB max_statement_time, MySQL max_execution_time
_BINARY_CHARSET = 63
#: Seconds the second connection that kills a query may take to connect.
_KILL_CONNECT_TIMEOUT = 5


@hookimpl
def register_sources(register: Callable[..., None]) -> None:
    """Register the ``mysql`` source (schemes ``mysql`` and ``mariadb``, dialect ``mysql``)."""
    register(
        SourceType(
            name="mysql",
            schemes=("mysql", "mariadb"),
            dialect=DIALECT,
            connect=connect,
            description="MySQL or MariaDB server through PyMySQL (read-only transactions, "
            "streamed results).",
        )
    )


def _pymysql() -> Any:
    try:
        import pymysql
    except ImportError:
        raise ExecutionError(_INSTALL) from None
    return pymysql


class MySQLConnection:
    """An open MySQL/MariaDB connection satisfying :class:`kpispec.Connection`.

    Args:
        con: the PyMySQL connection to wrap (closed by :meth:`close`).
        label: how messages name the server, ``str(url)`` (password masked).
        kill_params: keyword arguments of ``pymysql.connect`` for the second
            connection that kills a query on timeout.
        secret: the password, scrubbed from any driver message.
    """

    dialect: str = DIALECT

    def __init__(self, con: pymysql.connections.Connection, label: str,
                 kill_params: dict[str, Any] | None = None, secret: str | None = None) -> None:
        self._con: pymysql.connections.Connection | None = con
        self.label = label
        self._kill_params = dict(kill_params or {})
        self._secret = secret or None
        self._stream: _Stream | None = None
        self._limit: float | None = None  # the server-side time limit now set on the session
        info = con.get_server_info() or ""
        self.mariadb = "mariadb" in info.lower()
        self.server_version = _version(info)

    def __repr__(self) -> str:
        state = "closed" if self._con is None else "open"
        return f"<MySQLConnection {self.label} ({state})>"

    def __enter__(self) -> MySQLConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def pymysql(self) -> pymysql.connections.Connection:
        """The underlying PyMySQL connection."""
        if self._con is None:
            raise ExecutionError(f"the MySQL connection to {self.label} is closed")
        return self._con

    def execute(self, sql: str, *, timeout: float | None = None) -> pa.RecordBatchReader:
        """Run one SELECT in a read-only transaction and stream its rows as Arrow batches.

        Args:
            sql: the query, in the MySQL dialect.
            timeout: seconds after which the query is stopped; None waits forever.
                The clock runs until the returned reader is exhausted.

        Returns:
            A ``pyarrow.RecordBatchReader`` of at most :data:`ROWS_PER_BATCH` rows a batch.

        Raises:
            ExecutionError: the query is not one SELECT, the server rejected or failed
                it, it timed out, or a value has no Arrow equivalent.
            ValueError: ``timeout`` is not positive.
        """
        guard.check_single_select(sql, DIALECT)
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        pymysql = _pymysql()
        import pyarrow as pa
        from pymysql.cursors import SSCursor

        self.pymysql  # noqa: B018 (raises when closed)
        self._end_stream()  # a new query ends any stream still open on this connection
        con = self.pymysql
        watchdog: Watchdog | None = None
        interrupt: OnInterrupt | None = None
        cursor = None
        try:
            self._set_limit(timeout)
            with con.cursor() as plain:
                plain.execute("START TRANSACTION READ ONLY")
            kill = partial(_kill_query, con.thread_id(), self._kill_params)
            if timeout is not None:
                watchdog = Watchdog(timeout, kill)
            interrupt = OnInterrupt(kill)
            cursor = con.cursor(SSCursor)
            cursor.execute(sql)
            schema = _schema(cursor)
        except pymysql.MySQLError as exc:
            _stop(watchdog, interrupt)
            if interrupt is not None and interrupt.fired:  # Ctrl-C killed it
                self._discard()
                raise KeyboardInterrupt from None
            error = self._error(exc, timeout, watchdog)
            self._rollback()
            raise error from None
        except Exception:
            _stop(watchdog, interrupt)
            self._rollback()
            raise
        except BaseException:  # Ctrl-C mid-call: the connection is mid-protocol
            _stop(watchdog, interrupt)
            self._kill_and_discard(interrupt)
            if cursor is not None:
                _defuse(cursor)
            raise
        stream = _Stream(self, cursor, schema, watchdog, timeout, interrupt)
        self._stream = stream
        return pa.RecordBatchReader.from_batches(schema, stream.batches())

    def describe(self, table: str) -> list[str] | None:
        """Column names of ``table`` (``name`` or ``database.name``), or None if it does not exist.

        A bare name is looked up in the URL's database.
        """
        pymysql = _pymysql()
        schema, _, name = table.rpartition(".")
        self.pymysql  # noqa: B018 (raises when closed)
        self._end_stream()
        con = self.pymysql
        try:
            with con.cursor() as cursor:
                cursor.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = %s AND table_schema = COALESCE(NULLIF(%s, ''), DATABASE()) "
                    "ORDER BY ordinal_position",
                    (name, schema))
                rows = cursor.fetchall()
        except pymysql.MySQLError as exc:
            raise ExecutionError(f"reading the catalog of {self.label} failed: {self._message(exc)}"
                                 ) from None
        return [r[0] for r in rows] or None

    def close(self) -> None:
        """Stop any pending timeout and close the connection; closing twice is harmless.

        A query whose rows are not all read is killed on the server first (``KILL
        QUERY``), and the connection dropped without reading the rest.
        """
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.abandon(drain=False)
            self._kill_and_discard(stream.interrupt)
        self._discard()

    # -- internals --------------------------------------------------------------------

    def _set_limit(self, timeout: float | None) -> None:
        """Set the server-side time limit of the session's next statements."""
        if timeout == self._limit:
            return
        if self.mariadb:
            if self.server_version < (10, 1):
                return
            variable, value = "max_statement_time", None if timeout is None else float(timeout)
        else:
            if self.server_version < (5, 7, 8):
                return
            variable = "max_execution_time"
            value = None if timeout is None else max(1, round(float(timeout) * 1000))
        with self.pymysql.cursor() as cursor:
            if value is None:  # back to the server's default
                cursor.execute(f"SET SESSION {variable} = @@GLOBAL.{variable}")
            else:
                cursor.execute(f"SET SESSION {variable} = %s", (value,))
        self._limit = timeout

    def _end_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.abandon(drain=True)

    def _rollback(self) -> None:
        """End the read-only transaction; a connection that cannot is closed."""
        con = self._con
        if con is None:
            return
        try:
            with con.cursor() as cursor:
                cursor.execute("ROLLBACK")
        except Exception:
            self._discard()

    def _kill_and_discard(self, interrupt: OnInterrupt | None) -> None:
        """Kill the statement running on this connection (unless Ctrl-C already did) and
        drop the connection without reading anything more from it."""
        con = self._con
        if con is None:
            return
        if interrupt is None or not interrupt.fired:
            try:
                _kill_query(con.thread_id(), self._kill_params)
            except Exception:  # the server is gone, or so is the connection
                pass
        self._con = None
        try:
            con._force_close()
        except Exception:
            pass

    def _discard(self) -> None:
        """Close a connection left in an unknown state."""
        con, self._con = self._con, None
        if con is not None:
            try:
                con.close()
            except Exception:
                con._force_close()

    def _message(self, exc: BaseException) -> str:
        return _one_line(exc, self._secret)

    def _error(self, exc: BaseException, timeout: float | None,
               watchdog: Watchdog | None) -> ExecutionError:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        fired = watchdog is not None and watchdog.fired
        if timeout is not None and (fired or code in _TIMEOUT_CODES):
            return timed_out(timeout, self.label)
        return ExecutionError(f"MySQL query failed on {self.label}: {self._message(exc)}")


class _Stream:
    """The rows of one query, read through an unbuffered cursor into record batches."""

    def __init__(self, owner: MySQLConnection, cursor: Any, schema: pa.Schema,
                 watchdog: Watchdog | None, timeout: float | None,
                 interrupt: OnInterrupt | None = None) -> None:
        self._owner = owner
        self._cursor = cursor
        self._schema = schema
        self._watchdog = watchdog
        self.interrupt = interrupt
        self._timeout = timeout
        self._done = False
        self._abandoned = False

    def batches(self) -> Iterator[pa.RecordBatch]:
        pymysql = _pymysql()
        owner = self._owner
        try:
            while True:
                if self._abandoned:
                    raise ExecutionError(
                        f"the result of a query on {owner.label} was discarded: another query "
                        "ran on the same connection before it was read")
                try:
                    rows = self._cursor.fetchmany(ROWS_PER_BATCH)
                except pymysql.MySQLError as exc:
                    if self.interrupt is not None and self.interrupt.fired:
                        raise KeyboardInterrupt from None  # Ctrl-C killed it
                    raise owner._error(exc, self._timeout, self._watchdog) from None
                if not rows:
                    break
                yield _batch(rows, self._schema, owner.label)
                if len(rows) < ROWS_PER_BATCH:
                    break
            if self.interrupt is not None and self.interrupt.fired:
                raise KeyboardInterrupt  # SLEEP() and a few others end early when killed
            if self._watchdog is not None and self._watchdog.fired and self._timeout is not None:
                # SLEEP() and a few others end early rather than fail when killed
                raise timed_out(self._timeout, owner.label)
        except Exception:
            self.finish()
            raise
        except GeneratorExit:  # the reader was closed early: stop the query, keep the connection
            if not self._done:
                try:
                    _kill_query(owner.pymysql.thread_id(), owner._kill_params)
                except Exception:
                    pass
            self.finish()  # reads the little the server sent before the kill
            raise
        except BaseException:  # Ctrl-C inside the driver: the connection is mid-protocol
            self._done = True
            _stop(self._watchdog, self.interrupt)
            if owner._stream is self:
                owner._stream = None
            owner._kill_and_discard(self.interrupt)
            _defuse(self._cursor)
            raise
        else:
            self.finish()

    def finish(self) -> None:
        """Stop the watchdog, release the cursor and end the transaction (once)."""
        if self._done:
            return
        self._done = True
        _stop(self._watchdog, self.interrupt)
        owner = self._owner
        if owner._stream is self:
            owner._stream = None
        con = owner._con
        if con is None or not con.open:  # the connection broke: nothing left to read
            _defuse(self._cursor)
            owner._discard()
            return
        try:
            self._cursor.close()  # reads what is left of the result, if anything
        except Exception:
            con = owner._con
            if con is None or not con.open:  # the connection itself broke
                _defuse(self._cursor)
                owner._discard()
                return
        owner._rollback()

    def abandon(self, *, drain: bool) -> None:
        """Another query needs the connection (``drain``) or it is closing (not)."""
        self._abandoned = True
        if drain:
            self.finish()
        else:
            self._done = True
            _stop(self._watchdog, self.interrupt)
            _defuse(self._cursor)


def _defuse(cursor: Any) -> None:
    """Forget the unread rest of a result whose connection broke, so that PyMySQL does not try
    (and fail, noisily, on standard error) to read it when the objects are collected."""
    result = getattr(cursor, "_result", None)
    if result is not None:
        result.unbuffered_active = False
    cursor._result = None
    cursor.connection = None


def _stop(watchdog: Watchdog | None, interrupt: OnInterrupt | None) -> None:
    if watchdog is not None:
        watchdog.stop()
    if interrupt is not None:
        interrupt.stop()


def _kill_query(thread_id: int, params: dict[str, Any]) -> None:
    """KILL QUERY the statement running on connection ``thread_id``, from a second connection."""
    import pymysql

    params = dict(params)
    params["connect_timeout"] = min(float(params.get("connect_timeout") or _KILL_CONNECT_TIMEOUT),
                                    _KILL_CONNECT_TIMEOUT)
    killer = pymysql.connect(**params)
    try:
        with killer.cursor() as cursor:
            cursor.execute("KILL QUERY %s", (int(thread_id),))
    finally:
        killer.close()


def connect(url: SourceURL) -> MySQLConnection:
    """Open the MySQL or MariaDB database a ``mysql://`` / ``mariadb://`` URL names.

    Args:
        url: the parsed URL: user, password, host, port, database, and the query
            parameters ``charset``, ``connect_timeout``, ``unix_socket``, ``ssl_ca``,
            ``ssl_cert``, ``ssl_key``.

    Returns:
        An open :class:`MySQLConnection`.

    Raises:
        ExecutionError: PyMySQL is missing, the URL is malformed, or the server
            cannot be reached or refuses the login.
    """
    pymysql = _pymysql()
    from pymysql import converters
    from pymysql.constants import FIELD_TYPE

    label = str(url)
    params = connect_params(url)
    password = params["password"]
    register_secret(password)
    conv = dict(converters.conversions)
    conv[FIELD_TYPE.DECIMAL] = conv[FIELD_TYPE.NEWDECIMAL] = float
    try:
        con = pymysql.connect(database=url.database or None, conv=conv, **params)
    except pymysql.MySQLError as exc:
        raise ExecutionError(f"cannot connect to MySQL at {label}: {_one_line(exc, password)}"
                             ) from None
    try:
        with con.cursor() as cursor:  # exact divisions and averages (see the module doc)
            cursor.execute("SET SESSION div_precision_increment = 30")
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
        connection = MySQLConnection(con, label, params, password)
    except pymysql.MySQLError as exc:
        con.close()
        raise ExecutionError(f"cannot set up the MySQL session on {label}: "
                             f"{_one_line(exc, password)}") from None
    return connection


def connect_params(url: SourceURL) -> dict[str, Any]:
    """PyMySQL connection parameters of a ``mysql://`` URL (autocommit on; no database).

    Raises:
        ExecutionError: an unknown query parameter, a path that is not one database
            name, or a port or connect_timeout that is not a number.
    """
    label = str(url)
    unknown = sorted(set(url.query) - _QUERY_KEYS)
    if unknown:
        raise ExecutionError(
            f"{label}: unknown query parameter {unknown[0]!r}; "
            f"a mysql:// URL accepts only {', '.join(sorted(_QUERY_KEYS))}"
        )
    if "/" in url.database:
        raise ExecutionError(f"{label}: the path must be one database name, "
                             f"not {url.database!r}")
    password = url.password if url.password is not None else os.environ.get("MYSQL_PWD", "")
    params: dict[str, Any] = {
        "host": url.host or os.environ.get("MYSQL_HOST") or "localhost",
        "user": url.username or os.environ.get("MYSQL_USER") or _login(),
        "password": password,
        "charset": url.query.get("charset", "utf8mb4"),
        "connect_timeout": 10,
        "autocommit": True,
    }
    try:
        port = url.port or int(os.environ.get("MYSQL_TCP_PORT") or 3306)
        if "connect_timeout" in url.query:
            params["connect_timeout"] = float(url.query["connect_timeout"])
    except ValueError:
        raise ExecutionError(f"{label}: the port and connect_timeout must be numbers") from None
    params["port"] = port
    for key in ("unix_socket", "ssl_ca", "ssl_cert", "ssl_key"):
        if key in url.query:
            params[key] = url.query[key]
    return params


# -- results as Arrow --------------------------------------------------------------------


def _schema(cursor: Any) -> pa.Schema:
    """The Arrow schema of the cursor's result, from the MySQL column types."""
    import pyarrow as pa
    from pymysql.constants import FIELD_TYPE as T

    fields = getattr(getattr(cursor, "_result", None), "fields", None) or []
    out = []
    for i, (name, code, _, length, *_rest) in enumerate(cursor.description or ()):
        binary = i < len(fields) and getattr(fields[i], "charsetnr", None) == _BINARY_CHARSET
        if code == T.TINY and length == 1:
            kind = pa.bool_()
        elif code in (T.TINY, T.SHORT, T.LONG, T.INT24, T.LONGLONG, T.YEAR):
            kind = pa.int64()
        elif code in (T.DECIMAL, T.NEWDECIMAL, T.FLOAT, T.DOUBLE):
            kind = pa.float64()
        elif code in (T.DATE, T.NEWDATE):
            kind = pa.date32()
        elif code in (T.DATETIME, T.TIMESTAMP):
            kind = pa.timestamp("us")
        elif code == T.TIME:
            kind = pa.duration("us")
        elif code == T.NULL:
            kind = pa.null()
        elif code in (T.BIT, T.GEOMETRY) or binary:
            kind = pa.binary()
        else:  # VARCHAR, CHAR, TEXT, ENUM, SET, JSON
            kind = pa.string()
        out.append(pa.field(name, kind))
    return pa.schema(out)


def _batch(rows: Sequence[tuple[Any, ...]], schema: pa.Schema, label: str) -> pa.RecordBatch:
    import pyarrow as pa

    columns = list(zip(*rows)) if rows else [() for _ in schema]
    arrays = []
    for field, values in zip(schema, columns):
        if pa.types.is_boolean(field.type):  # TINYINT(1) arrives as 0/1
            values = [None if v is None else bool(v) for v in values]
        try:
            arrays.append(pa.array(values, type=field.type))
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            bad = next((v for v in values if _unconvertible(v, field.type)), None)
            raise ExecutionError(
                f"column {field.name!r} of a query on {label} holds {bad!r}, which is not a "
                f"valid {field.type} (MySQL zero dates and out-of-range values have no Arrow "
                "equivalent)") from None
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _unconvertible(value: Any, kind: pa.DataType) -> bool:
    import pyarrow as pa

    if value is None:
        return False
    try:
        pa.array([value], type=kind)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return True
    return False


def _login() -> str:
    """The login name, the MySQL client's default user."""
    try:
        return getpass.getuser()
    except Exception:
        return ""


def _version(info: str) -> tuple[int, ...]:
    """(10, 11, 6) from '10.11.6-MariaDB-…' or '5.5.5-10.11.6-MariaDB' (MariaDB's old prefix)."""
    info = re.sub(r"^5\.5\.5-", "", info)
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", info)
    return tuple(int(p) for p in match.groups()) if match else (0,)


def _one_line(exc: BaseException, secret: str | None = None) -> str:
    """The driver's message on one line, without the password."""
    args = exc.args
    if len(args) >= 2 and isinstance(args[0], int):
        text = f"({args[0]}) {args[1]}"
    else:
        text = str(exc) or type(exc).__name__
    text = " ".join(text.split())
    if secret:
        text = text.replace(secret, "***")
    return text
