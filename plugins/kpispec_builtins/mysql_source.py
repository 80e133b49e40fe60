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
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from kpispec.errors import ExecutionError, register_secret
from kpispec.extensions import SourceType, SourceURL
from kpispec.hookspecs import hookimpl

from kpispec_builtins._mysql_arrow import arrow_schema
from kpispec_builtins._mysql_stream import ResultStream, defuse, import_pymysql, kill_query
from kpispec_builtins._source_base import SourceConnection, stop_watchers
from kpispec_builtins._timeout import OnInterrupt, Watchdog

if TYPE_CHECKING:
    import pyarrow as pa
    from pymysql.connections import Connection as PyMySQLConnection

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
#: Server error codes of a statement stopped by a time limit or by KILL QUERY.
_TIMEOUT_CODES = frozenset({1969, 3024})  # MariaDB max_statement_time, MySQL max_execution_time


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


class MySQLConnection(SourceConnection["PyMySQLConnection"]):
    """An open MySQL/MariaDB connection satisfying :class:`kpispec.Connection`.

    Args:
        con: the PyMySQL connection to wrap (closed by :meth:`close`).
        label: how messages name the server, ``str(url)`` (password masked).
        kill_params: keyword arguments of ``pymysql.connect`` for the second
            connection that kills a query on timeout.
        secret: the password, scrubbed from any driver message.
    """

    dialect = DIALECT
    engine = "MySQL"

    def __init__(self, con: PyMySQLConnection, label: str,
                 kill_params: dict[str, Any] | None = None, secret: str | None = None) -> None:
        super().__init__(con, label, secret)
        self._kill_params = dict(kill_params or {})
        self._stream: ResultStream | None = None
        self._limit: float | None = None  # the server-side time limit now set on the session
        info = con.get_server_info() or ""
        self.mariadb = "mariadb" in info.lower()
        self.server_version = _version(info)

    @property
    def pymysql(self) -> PyMySQLConnection:
        """The underlying PyMySQL connection."""
        return self._open()

    def _run(self, con: PyMySQLConnection, sql: str,
             timeout: float | None) -> pa.RecordBatchReader:
        """Run the query in a read-only transaction and stream its rows; a value with no
        Arrow equivalent is an error. The clock runs until the reader is exhausted."""
        pymysql = import_pymysql()
        import pyarrow as pa
        from pymysql.cursors import SSCursor

        self._end_stream()  # a new query ends any stream still open on this connection
        con = self.pymysql
        watchdog: Watchdog | None = None
        interrupt: OnInterrupt | None = None
        cursor = None
        try:
            self._set_limit(timeout)
            with con.cursor() as plain:
                plain.execute("START TRANSACTION READ ONLY")
            kill = partial(kill_query, con.thread_id(), self._kill_params)
            if timeout is not None:
                watchdog = Watchdog(timeout, kill)
            interrupt = OnInterrupt(kill)
            cursor = con.cursor(SSCursor)
            cursor.execute(sql)
            schema = arrow_schema(cursor)
        except pymysql.MySQLError as exc:
            stop_watchers(watchdog, interrupt)
            if interrupt is not None and interrupt.fired:  # Ctrl-C killed it
                self._discard()
                raise KeyboardInterrupt from None
            error = self.query_error(exc, timeout, watchdog)
            self._rollback()
            raise error from None
        except Exception:
            stop_watchers(watchdog, interrupt)
            self._rollback()
            raise
        except BaseException:  # Ctrl-C mid-call: the connection is mid-protocol
            stop_watchers(watchdog, interrupt)
            self._kill_and_discard(interrupt)
            if cursor is not None:
                defuse(cursor)
            raise
        stream = ResultStream(self, cursor, schema, watchdog, timeout, interrupt, ROWS_PER_BATCH)
        self._stream = stream
        return pa.RecordBatchReader.from_batches(schema, stream.batches())

    def describe(self, table: str) -> list[str] | None:
        """Column names of ``table`` (``name`` or ``database.name``), or None if it does not exist.

        A bare name is looked up in the URL's database.
        """
        pymysql = import_pymysql()
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
            raise self.catalog_failed(exc) from None
        return [r[0] for r in rows] or None

    def _release(self, con: PyMySQLConnection) -> None:
        """A query whose rows are not all read is killed on the server first (``KILL
        QUERY``), and the connection dropped without reading the rest."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.abandon(drain=False)
            self._kill_and_discard(stream.interrupt)
        self._discard()

    @classmethod
    def one_line(cls, exc: BaseException | str, secret: str | None = None) -> str:
        """The driver's message on one line, ``(code) text``, without the password."""
        if not isinstance(exc, str) and len(exc.args) >= 2 and isinstance(exc.args[0], int):
            exc = f"({exc.args[0]}) {exc.args[1]}"
        return super().one_line(exc, secret)

    def query_error(self, exc: BaseException, timeout: float | None,
                    watchdog: Watchdog | None) -> ExecutionError:
        """The error of a failed query: the timeout (the server's limit or the client's
        watchdog), or the failure itself."""
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        fired = watchdog is not None and watchdog.fired
        if timeout is not None and (fired or code in _TIMEOUT_CODES):
            return self.timed_out(timeout)
        return self.failed(exc)

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
        con = self._handle
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
        con = self._handle
        if con is None:
            return
        if interrupt is None or not interrupt.fired:
            try:
                kill_query(con.thread_id(), self._kill_params)
            except Exception:  # the server is gone, or so is the connection
                pass
        self._handle = None
        try:
            con._force_close()
        except Exception:
            pass

    def _discard(self) -> None:
        """Close a connection left in an unknown state."""
        con, self._handle = self._handle, None
        if con is not None:
            try:
                con.close()
            except Exception:
                con._force_close()


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
    pymysql = import_pymysql()
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
        raise ExecutionError(f"cannot connect to MySQL at {label}: {MySQLConnection.one_line(exc, password)}"
                             ) from None
    try:
        with con.cursor() as cursor:  # exact divisions and averages (see the module doc)
            cursor.execute("SET SESSION div_precision_increment = 30")
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
        connection = MySQLConnection(con, label, params, password)
    except pymysql.MySQLError as exc:
        con.close()
        raise ExecutionError(f"cannot set up the MySQL session on {label}: "
                             f"{MySQLConnection.one_line(exc, password)}") from None
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

