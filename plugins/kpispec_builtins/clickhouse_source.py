"""The ClickHouse sources: in-process chdb, and a ClickHouse server over HTTP.

URLs follow the SQLAlchemy convention:

* ``chdb://`` or ``chdb:///:memory:`` — an in-process chdb session in memory
  (it can still read files with ClickHouse table functions);
* ``chdb:///relative/dir``, ``chdb:////abs/dir`` — a chdb session directory
  (the data directory of ``clickhouse local``); it must exist;
* ``clickhouse://user:password@host:8123/database`` — a ClickHouse server over
  its HTTP interface (``?secure=true`` for HTTPS, default port 8443 then). The
  user and password default to ``CLICKHOUSE_USER`` / ``CLICKHOUSE_PASSWORD``,
  and go in an ``Authorization`` header, never in the request URL.

Both speak the ``clickhouse`` sqlglot dialect, refuse anything but one SELECT
(:func:`kpispec.compile.guard.check_single_select`), run it with the setting
``readonly = 2`` (reads only; ``2`` rather than ``1`` because the generated SQL
carries its own ``SETTINGS join_use_nulls = 1``, which ``readonly = 1`` forbids)
and enforce a timeout with ``max_execution_time``. Results arrive in the
``ArrowStream`` format and are streamed as record batches with portable types:
every integer (ClickHouse counts are UInt64) → ``int64``, Decimal and Float32 →
``float64``, DateTime64 → ``timestamp[us]`` (the time zone dropped, values as
stored), Date → ``date32``, LowCardinality → its values. A plain ``DateTime``
column (seconds) reaches Arrow as ``uint32`` and cannot be told from a number:
use ``DateTime64`` columns where kpispec should see timestamps.

Stopping a query: over HTTP, every query is sent with
``cancel_http_readonly_queries_on_client_close = 1``, so when the client goes —
Ctrl-C, a timeout, a failed sink closing the run — the server cancels it. An
in-process chdb query cannot be interrupted while it computes (chdb's engine
checks no signal): ``max_execution_time`` (``--timeout``) is what bounds it, and
Ctrl-C takes effect once the current block is done.

The HTTP client uses the standard library only; chdb and pyarrow are imported on
first use.
"""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from kpispec.compile import guard
from kpispec.errors import ExecutionError, register_secret
from kpispec.extensions import SourceType, SourceURL
from kpispec.hookspecs import hookimpl

from kpispec_builtins._timeout import timed_out

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "DIALECT",
    "ChdbConnection",
    "ClickHouseHTTPConnection",
    "connect",
    "connect_chdb",
    "connect_http",
    "register_sources",
]

#: The sqlglot dialect ClickHouse speaks.
DIALECT = "clickhouse"
_INSTALL = "the chdb source needs chdb: pip install 'kpispec[clickhouse]'"
_MEMORY = ("", ":memory:")
#: ClickHouse error codes of a query stopped by max_execution_time (TIMEOUT_EXCEEDED,
#: TOO_SLOW: "estimated query execution time is too long").
_TIMEOUT_CODES = frozenset({159, 160})
#: Seconds the client waits past the server's max_execution_time before giving up itself.
_GRACE = 2.0
_HTTP_KEYS = frozenset({"secure"})
_CATALOG = ("SELECT name FROM system.columns "
            "WHERE database = if({db:String} = '', currentDatabase(), {db:String}) "
            "AND table = {t:String} ORDER BY position")
_SYNC = "SELECT 1 AS __kpispec_sync"


@hookimpl
def register_sources(register: Callable[..., None]) -> None:
    """Register ``chdb`` (scheme ``chdb``) and ``clickhouse`` (scheme ``clickhouse``)."""
    register(
        SourceType(
            name="chdb",
            schemes=("chdb",),
            dialect=DIALECT,
            connect=connect_chdb,
            description="In-process ClickHouse (chdb): in memory, or a session directory.",
        )
    )
    register(
        SourceType(
            name="clickhouse",
            schemes=("clickhouse",),
            dialect=DIALECT,
            connect=connect_http,
            description="ClickHouse server over HTTP (standard library client, ArrowStream).",
        )
    )


def connect(url: SourceURL) -> ChdbConnection | ClickHouseHTTPConnection:
    """Open a ``chdb://`` or ``clickhouse://`` URL (see :func:`connect_chdb`, :func:`connect_http`)."""
    if url.scheme == "chdb":
        return connect_chdb(url)
    return connect_http(url)


# -- Arrow types ----------------------------------------------------------------------------


def _target(kind: pa.DataType) -> pa.DataType:
    """The portable Arrow type a ClickHouse column of Arrow type ``kind`` is handed over as."""
    import pyarrow as pa

    t = pa.types
    if t.is_dictionary(kind):
        return _target(kind.value_type)
    if t.is_integer(kind):
        return pa.int64()
    if t.is_floating(kind) or t.is_decimal(kind):
        return pa.float64()
    if t.is_timestamp(kind):
        return pa.timestamp("us")
    if t.is_date(kind):
        return pa.date32()
    if t.is_large_string(kind):
        return pa.string()
    return kind


def _schema(schema: pa.Schema) -> pa.Schema:
    import pyarrow as pa

    return pa.schema([pa.field(f.name, _target(f.type)) for f in schema])


def _convert(batch: pa.RecordBatch, schema: pa.Schema, label: str) -> pa.RecordBatch:
    import pyarrow as pa

    if batch.schema == schema:
        return batch
    arrays = []
    for field, column in zip(schema, batch.columns):
        try:
            arrays.append(column if column.type == field.type else column.cast(field.type))
        except pa.ArrowException as exc:
            raise ExecutionError(f"column {field.name!r} of a query on {label} cannot be read as "
                                 f"{field.type}: {_one_line(exc)}") from None
    return pa.RecordBatch.from_arrays(arrays, schema=schema)




def _code(text: str) -> int | None:
    match = re.search(r"Code: (\d+)\.", text)
    return int(match.group(1)) if match else None


def _one_line(exc: BaseException | str, secret: str | None = None) -> str:
    """ClickHouse's message on one line, without chdb's prefix, the version or a password."""
    text = exc if isinstance(exc, str) else (str(exc) or type(exc).__name__)
    text = text.strip()
    text = re.sub(r"^(Streaming query failed: )+", "", text)
    text = re.sub(r"^Code: \d+\. (?=Code: \d+\.)", "", text)  # chdb repeats the code
    text = re.sub(r"\s*\(version [^)]*\)", "", text)
    text = " ".join(text.split())
    if secret:
        text = text.replace(secret, "***")
    return text


def _check_timeout(timeout: float | None) -> None:
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")


def _seconds(timeout: float) -> str:
    """A validated number of seconds as ClickHouse setting text."""
    value = float(timeout)
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return f"{value:.6f}".rstrip("0").rstrip(".")


# -- chdb ---------------------------------------------------------------------------------


def _chdb_session() -> Any:
    try:
        from chdb import session
    except ImportError:
        raise ExecutionError(_INSTALL) from None
    return session


class ChdbConnection:
    """An in-process chdb session satisfying :class:`kpispec.Connection`.

    Args:
        session: the ``chdb.session.Session`` to wrap (closed by :meth:`close`).
        label: how messages name it, usually ``str(url)``.
    """

    dialect: str = DIALECT

    def __init__(self, session: Any, label: str) -> None:
        self._session: Any = session
        self.label = label
        self._stream: _ChdbStream | None = None
        self._limit: float | None = None

    def __repr__(self) -> str:
        state = "closed" if self._session is None else "open"
        return f"<ChdbConnection {self.label} ({state})>"

    def __enter__(self) -> ChdbConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def session(self) -> Any:
        """The underlying ``chdb.session.Session``."""
        if self._session is None:
            raise ExecutionError(f"the chdb session {self.label} is closed")
        return self._session

    def execute(self, sql: str, *, timeout: float | None = None) -> pa.RecordBatchReader:
        """Run one SELECT and stream its rows as Arrow record batches.

        Args:
            sql: the query, in ClickHouse's dialect.
            timeout: seconds after which ClickHouse stops the query
                (``max_execution_time``); None waits forever.

        Returns:
            A ``pyarrow.RecordBatchReader`` of the blocks ClickHouse produces.

        Raises:
            ExecutionError: the query is not one SELECT, ClickHouse rejected or failed
                it, or it timed out.
            ValueError: ``timeout`` is not positive.
        """
        guard.check_single_select(sql, DIALECT)
        _check_timeout(timeout)
        import pyarrow as pa

        session = self.session
        self._end_stream()
        try:
            self._set_limit(timeout)
            result = session.send_query(sql, "ArrowStream")
        except Exception as exc:
            raise self._error(exc, timeout) from None
        stream = _ChdbStream(self, result, timeout)
        try:
            first = stream.first()
        except BaseException:
            stream.finish()
            raise
        if first is None:  # no rows: chdb's stream says nothing, not even the schema
            stream.finish()
            schema = self._empty_schema(sql, timeout)
            return pa.RecordBatchReader.from_batches(schema, [])
        self._stream = stream
        return pa.RecordBatchReader.from_batches(stream.schema, stream.batches(first))

    def describe(self, table: str) -> list[str] | None:
        """Column names of ``table`` (``name`` or ``database.name``), or None if it does not exist."""
        import pyarrow as pa

        database, _, name = table.rpartition(".")
        session = self.session
        self._end_stream()
        try:
            data = session.query(_CATALOG, "ArrowStream", params={"db": database, "t": name}).bytes()
        except Exception as exc:
            self._resync()
            raise ExecutionError(f"reading the catalog of {self.label} failed: {_one_line(exc)}"
                                 ) from None
        if not data:
            return None
        names = pa.ipc.open_stream(data).read_all().column(0).to_pylist()
        return [str(n) for n in names] or None

    def close(self) -> None:
        """Cancel any open stream and close the session; closing twice is harmless."""
        self._end_stream()
        session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except Exception:
                pass

    # -- internals --------------------------------------------------------------------

    def _set_limit(self, timeout: float | None) -> None:
        if timeout == self._limit:
            return
        value = "0" if timeout is None else _seconds(timeout)
        self.session.query(f"SET max_execution_time = {value}", "CSV")
        self._limit = timeout

    def _empty_schema(self, sql: str, timeout: float | None) -> pa.Schema:
        """The schema of a query without rows (the non-streaming call sends it)."""
        import pyarrow as pa

        try:
            data = self.session.query(sql, "ArrowStream").bytes()
        except Exception as exc:
            raise self._error(exc, timeout) from None
        if not data:
            return pa.schema([])
        return _schema(pa.ipc.open_stream(data).schema)

    def _end_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.abandon()

    def _resync(self) -> None:
        """After a failed query chdb may hand its leftovers to the next one: drain them."""
        import pyarrow as pa

        session = self._session
        if session is None:
            return
        for _ in range(4):
            try:
                data = session.query(_SYNC, "ArrowStream").bytes()
                if data and pa.ipc.open_stream(data).schema.names == ["__kpispec_sync"]:
                    return
            except Exception:
                pass
        self._session = None  # still out of step: unusable
        try:
            session.close()
        except Exception:
            pass

    def _error(self, exc: BaseException, timeout: float | None) -> ExecutionError:
        self._resync()
        message = _one_line(exc)
        if timeout is not None and _code(message) in _TIMEOUT_CODES:
            return timed_out(timeout, self.label)
        return ExecutionError(f"ClickHouse query failed on {self.label}: {message}")


class _ChdbStream:
    """The chunks of one chdb streaming query, as record batches."""

    def __init__(self, owner: ChdbConnection, result: Any, timeout: float | None) -> None:
        self._owner = owner
        self._result = result
        self._timeout = timeout
        self._done = False
        self._abandoned = False
        self.schema: pa.Schema | None = None

    def _next_chunk(self) -> list[pa.RecordBatch] | None:
        import pyarrow as pa

        while True:
            try:
                chunk = self._result.fetch()
            except Exception as exc:
                self._done = True
                raise self._owner._error(exc, self._timeout) from None
            if chunk is None:
                return None
            data = chunk.bytes()
            if data:
                reader = pa.ipc.open_stream(data)
                if self.schema is None:
                    self.schema = _schema(reader.schema)
                return list(reader)

    def first(self) -> list[pa.RecordBatch] | None:
        return self._next_chunk()

    def batches(self, first: list[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        owner = self._owner
        assert self.schema is not None
        try:
            chunk: list[pa.RecordBatch] | None = first
            while chunk is not None:
                for batch in chunk:
                    yield _convert(batch, self.schema, owner.label)
                if self._abandoned:
                    raise ExecutionError(
                        f"the result of a query on {owner.label} was discarded: another query "
                        "ran on the same connection before it was read")
                chunk = self._next_chunk()
        finally:
            self.finish()

    def finish(self) -> None:
        if self._owner._stream is self:
            self._owner._stream = None
        if self._done:
            return
        self._done = True
        try:
            self._result.close()
        except Exception:
            self._owner._resync()

    def abandon(self) -> None:
        self._abandoned = True
        self.finish()


def connect_chdb(url: SourceURL) -> ChdbConnection:
    """Open a chdb session for a ``chdb://`` URL.

    Args:
        url: ``chdb://`` / ``chdb:///:memory:`` for memory, ``chdb:///dir`` (relative)
            or ``chdb:////abs/dir`` for an existing session directory.

    Returns:
        An open :class:`ChdbConnection`.

    Raises:
        ExecutionError: chdb is missing, the URL is malformed, or the directory
            does not exist or cannot be opened.
    """
    session_module = _chdb_session()
    label = str(url)
    if url.query:
        raise ExecutionError(f"{label}: unknown query parameter {sorted(url.query)[0]!r}; "
                             "a chdb:// URL takes none")
    if url.host:
        raise ExecutionError(
            f"{label}: a chdb:// URL has no host; write chdb:///{url.host}{url.database and '/'}"
            f"{url.database} (three slashes) for a relative directory or chdb:////abs/dir"
        )
    if url.database in _MEMORY:
        path = ":memory:"
    else:
        path = os.path.abspath(os.path.expanduser(url.database))
        if not os.path.isdir(path):
            problem = "is a file, not a directory" if os.path.exists(path) else "does not exist"
            raise ExecutionError(f"chdb session directory {path!r} {problem} ({label})")
        if "?" in path:
            raise ExecutionError(f"chdb session directory {path!r} contains '?' ({label})")
    try:
        session = session_module.Session(path)
    except Exception as exc:
        raise ExecutionError(f"cannot open chdb session {label}: {_one_line(exc)}") from None
    try:
        session.query("SET readonly = 2", "CSV")  # reads only (settings may still change)
    except Exception as exc:
        session.close()
        raise ExecutionError(f"cannot make chdb session {label} read-only: {_one_line(exc)}"
                             ) from None
    return ChdbConnection(session, label)


# -- ClickHouse over HTTP -------------------------------------------------------------------


class ClickHouseHTTPConnection:
    """A ClickHouse server reached over HTTP, satisfying :class:`kpispec.Connection`.

    Nothing is held open between queries; each :meth:`execute` is one POST.

    Args:
        endpoint: ``http(s)://host:port/``.
        database: the database of unqualified table names ('' for the user's default).
        user, password: sent in a Basic ``Authorization`` header.
        label: how messages name the server, ``str(url)`` (password masked).
    """

    dialect: str = DIALECT

    def __init__(self, endpoint: str, database: str, user: str, password: str, label: str) -> None:
        self.endpoint = endpoint
        self.database = database
        self.label = label
        self._user = user
        self._secret = password or None
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self._headers = {"Authorization": f"Basic {token}",
                         "Content-Type": "text/plain; charset=utf-8",
                         "User-Agent": "kpispec"}
        self._response: Any = None
        self._closed = False

    def __repr__(self) -> str:
        return f"<ClickHouseHTTPConnection {self.label} ({'closed' if self._closed else 'open'})>"

    def __enter__(self) -> ClickHouseHTTPConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def execute(self, sql: str, *, timeout: float | None = None) -> pa.RecordBatchReader:
        """POST one SELECT (``FORMAT ArrowStream``) and stream the answer as record batches.

        Args:
            sql: the query, in ClickHouse's dialect.
            timeout: seconds the server may run it (``max_execution_time``); the client
                gives up :data:`_GRACE` seconds later. None waits forever.

        Raises:
            ExecutionError: the query is not one SELECT, the server is unreachable,
                rejected or failed the query, or it timed out.
            ValueError: ``timeout`` is not positive.
        """
        guard.check_single_select(sql, DIALECT)
        _check_timeout(timeout)
        import pyarrow as pa

        self._check_open()
        self._end_response()
        settings = {} if timeout is None else {"max_execution_time": _seconds(timeout)}
        body = sql.rstrip().rstrip(";").rstrip() + "\nFORMAT ArrowStream"
        deadline = None if timeout is None else time.monotonic() + timeout + _GRACE
        response = _Recording(self._post(body, settings, timeout))
        self._response = response
        try:
            reader = pa.ipc.open_stream(response)
        except (pa.ArrowException, OSError) as exc:
            self._end_response()
            raise self._broken_stream(exc, response, timeout) from None
        schema = _schema(reader.schema)
        return pa.RecordBatchReader.from_batches(
            schema, self._batches(reader, response, schema, timeout, deadline))

    def describe(self, table: str) -> list[str] | None:
        """Column names of ``table`` (``name`` or ``database.name``), or None if it does not exist.

        The catalog query is parameterised (``{db:String}``, ``{t:String}``).
        """
        import pyarrow as pa

        self._check_open()
        self._end_response()
        database, _, name = table.rpartition(".")
        response = self._post(_CATALOG + "\nFORMAT ArrowStream",
                              {"param_db": database, "param_t": name}, None)
        try:
            data = response.read()
        finally:
            response.close()
        if not data:
            return None
        names = pa.ipc.open_stream(data).read_all().column(0).to_pylist()
        return [str(n) for n in names] or None

    def close(self) -> None:
        """Close any open response; closing twice is harmless."""
        self._end_response()
        self._closed = True

    # -- internals --------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ExecutionError(f"the ClickHouse connection to {self.label} is closed")

    def _end_response(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            try:
                response.close()
            except Exception:
                pass

    def request_url(self, settings: Mapping[str, str]) -> str:
        """The URL a query is POSTed to: the database and the settings, never a credential."""
        params = {"readonly": "2", "cancel_http_readonly_queries_on_client_close": "1",
                  "output_format_arrow_string_as_string": "1"}
        if self.database:
            params["database"] = self.database
        params.update(settings)
        return f"{self.endpoint}?{urlencode(params)}"

    def _post(self, body: str, settings: Mapping[str, str], timeout: float | None) -> Any:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(self.request_url(settings), data=body.encode("utf-8"),
                                         headers=self._headers, method="POST")
        try:
            return urllib.request.urlopen(request, timeout=None if timeout is None
                                          else timeout + _GRACE)
        except urllib.error.HTTPError as exc:
            try:
                text = exc.read(65536).decode("utf-8", "replace")
            except Exception:
                text = ""
            finally:
                exc.close()
            raise self._server_error(text or f"HTTP {exc.code} {exc.reason}", timeout) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) and timeout is not None:
                raise timed_out(timeout, self.label) from None
            raise ExecutionError(f"cannot reach ClickHouse at {self.label}: "
                                 f"{_one_line(str(reason), self._secret)}") from None

    def _server_error(self, text: str, timeout: float | None) -> ExecutionError:
        message = _one_line(text, self._secret)
        if timeout is not None and _code(message) in _TIMEOUT_CODES:
            return timed_out(timeout, self.label)
        return ExecutionError(f"ClickHouse query failed on {self.label}: {message}")

    def _broken_stream(self, exc: BaseException, response: Any,
                       timeout: float | None) -> ExecutionError:
        """An answer that stopped being Arrow: usually an exception the server appended."""
        if isinstance(exc, TimeoutError) and timeout is not None:
            return timed_out(timeout, self.label)
        try:
            rest = response.read(65536)
        except Exception:
            rest = b""
        seen = getattr(response, "tail", b"")
        rest = (seen + rest).decode("utf-8", "replace")
        if _code(rest) is not None:
            return self._server_error(rest[rest.find("Code: "):], timeout)
        return ExecutionError(f"ClickHouse at {self.label} sent a broken Arrow stream: "
                              f"{_one_line(exc, self._secret)}")

    def _batches(self, reader: pa.RecordBatchReader, response: Any, schema: pa.Schema,
                 timeout: float | None, deadline: float | None) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        try:
            while True:
                if deadline is not None and timeout is not None and time.monotonic() > deadline:
                    raise timed_out(timeout, self.label)
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                except (pa.ArrowException, OSError) as exc:
                    raise self._broken_stream(exc, response, timeout) from None
                yield _convert(batch, schema, self.label)
        finally:
            try:
                response.close()
            except Exception:
                pass
            if self._response is response:
                self._response = None


class _Recording:
    """A response body as a file for pyarrow, keeping its last bytes: when ClickHouse fails
    mid-stream it appends the exception text, which pyarrow has partly read by then."""

    KEEP = 65536

    def __init__(self, response: Any) -> None:
        self._response = response
        self.tail = b""
        self._position = 0
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        data = self._response.read(size) if size is not None and size >= 0 else self._response.read()
        self._position += len(data)
        self.tail = (self.tail + data)[-self.KEEP:]
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        self.closed = True
        self._response.close()


def connect_http(url: SourceURL) -> ClickHouseHTTPConnection:
    """Make a connection to the ClickHouse server a ``clickhouse://`` URL names.

    Nothing is sent until the first query.

    Raises:
        ExecutionError: the URL is malformed.
    """
    label = str(url)
    unknown = sorted(set(url.query) - _HTTP_KEYS)
    if unknown:
        raise ExecutionError(f"{label}: unknown query parameter {unknown[0]!r}; "
                             f"a clickhouse:// URL accepts only {', '.join(sorted(_HTTP_KEYS))}")
    secure_text = url.query.get("secure", "false").lower()
    if secure_text not in ("true", "false", "1", "0"):
        raise ExecutionError(f"{label}: secure must be true or false, not {secure_text!r}")
    secure = secure_text in ("true", "1")
    if not url.host:
        raise ExecutionError(f"{label}: a clickhouse:// URL needs a host, "
                             "e.g. clickhouse://user@localhost:8123/default")
    if "/" in url.database:
        raise ExecutionError(f"{label}: the path must be one database name, not {url.database!r}")
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = url.port or (8443 if secure else 8123)
    endpoint = f"{'https' if secure else 'http'}://{host}:{port}/"
    user = url.username or os.environ.get("CLICKHOUSE_USER") or "default"
    password = url.password if url.password is not None else os.environ.get("CLICKHOUSE_PASSWORD", "")
    register_secret(password)
    return ClickHouseHTTPConnection(endpoint, url.database, user, password, label)
