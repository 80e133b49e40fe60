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
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from kpispec.errors import ExecutionError, register_secret
from kpispec.extensions import SourceType, SourceURL
from kpispec.hookspecs import hookimpl

from kpispec_builtins._chdb import ChdbConnection, connect_chdb
from kpispec_builtins._clickhouse_common import (
    CATALOG,
    DIALECT,
    ClickHouseConnection,
    arrow_schema,
    convert,
    error_code,
    seconds,
)
from kpispec_builtins._source_base import close_quietly

if TYPE_CHECKING:
    import http.client

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

#: Seconds the client waits past the server's max_execution_time before giving up itself.
_GRACE = 2.0
_HTTP_KEYS = frozenset({"secure"})


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


# -- ClickHouse over HTTP -------------------------------------------------------------------


class ClickHouseHTTPConnection(ClickHouseConnection[str]):
    """A ClickHouse server reached over HTTP, satisfying :class:`kpispec.Connection`.

    Nothing is held open between queries; each :meth:`execute` is one POST.

    Args:
        endpoint: ``http(s)://host:port/``.
        database: the database of unqualified table names ('' for the user's default).
        user, password: sent in a Basic ``Authorization`` header.
        label: how messages name the server, ``str(url)`` (password masked).
    """

    def __init__(self, endpoint: str, database: str, user: str, password: str, label: str) -> None:
        super().__init__(endpoint, label, password)
        self.endpoint = endpoint
        self.database = database
        self._user = user
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self._headers = {"Authorization": f"Basic {token}",
                         "Content-Type": "text/plain; charset=utf-8",
                         "User-Agent": "kpispec"}
        self._response: _Recording | None = None

    def _run(self, endpoint: str, sql: str, timeout: float | None) -> pa.RecordBatchReader:
        """POST the query (``FORMAT ArrowStream``) and stream the answer. The server may run
        it ``timeout`` seconds (``max_execution_time``); the client gives up :data:`_GRACE`
        seconds later."""
        import pyarrow as pa

        self._end_response()
        settings = {} if timeout is None else {"max_execution_time": seconds(timeout)}
        body = sql.rstrip().rstrip(";").rstrip() + "\nFORMAT ArrowStream"
        deadline = None if timeout is None else time.monotonic() + timeout + _GRACE
        response = _Recording(self._post(body, settings, timeout))
        self._response = response
        try:
            reader = pa.ipc.open_stream(response)
        except (pa.ArrowException, OSError) as exc:
            self._end_response()
            raise self._broken_stream(exc, response, timeout) from None
        schema = arrow_schema(reader.schema)
        return pa.RecordBatchReader.from_batches(
            schema, self._batches(reader, response, schema, timeout, deadline))

    def describe(self, table: str) -> list[str] | None:
        """Column names of ``table`` (``name`` or ``database.name``), or None if it does not exist.

        The catalog query is parameterised (``{db:String}``, ``{t:String}``).
        """
        import pyarrow as pa

        self._open()
        self._end_response()
        database, _, name = table.rpartition(".")
        response = self._post(CATALOG + "\nFORMAT ArrowStream",
                              {"param_db": database, "param_t": name}, None)
        try:
            data = response.read()
        finally:
            response.close()
        if not data:
            return None
        names = pa.ipc.open_stream(data).read_all().column(0).to_pylist()
        return [str(n) for n in names] or None

    def _release(self, endpoint: str) -> None:
        self._end_response()

    # -- internals --------------------------------------------------------------------

    def _end_response(self) -> None:
        response, self._response = self._response, None
        close_quietly(response)

    def request_url(self, settings: Mapping[str, str]) -> str:
        """The URL a query is POSTed to: the database and the settings, never a credential."""
        params = {"readonly": "2", "cancel_http_readonly_queries_on_client_close": "1",
                  "output_format_arrow_string_as_string": "1"}
        if self.database:
            params["database"] = self.database
        params.update(settings)
        return f"{self.endpoint}?{urlencode(params)}"

    def _post(self, body: str, settings: Mapping[str, str],
              timeout: float | None) -> http.client.HTTPResponse:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(self.request_url(settings), data=body.encode("utf-8"),
                                         headers=self._headers, method="POST")
        try:
            response: http.client.HTTPResponse = urllib.request.urlopen(
                request, timeout=None if timeout is None else timeout + _GRACE)
            return response
        except urllib.error.HTTPError as exc:
            try:
                text = exc.read(65536).decode("utf-8", "replace")
            except Exception:
                text = ""
            finally:
                exc.close()
            raise self.query_error(text or f"HTTP {exc.code} {exc.reason}", timeout) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) and timeout is not None:
                raise self.timed_out(timeout) from None
            raise ExecutionError(f"cannot reach ClickHouse at {self.label}: "
                                 f"{self.message(str(reason))}") from None

    def _broken_stream(self, exc: BaseException, response: _Recording,
                       timeout: float | None) -> ExecutionError:
        """An answer that stopped being Arrow: usually an exception the server appended."""
        if isinstance(exc, TimeoutError) and timeout is not None:
            return self.timed_out(timeout)
        try:
            rest = response.read(65536)
        except Exception:
            rest = b""
        text = (response.tail + rest).decode("utf-8", "replace")
        if error_code(text) is not None:
            return self.query_error(text[text.find("Code: "):], timeout)
        return ExecutionError(f"ClickHouse at {self.label} sent a broken Arrow stream: "
                              f"{self.message(exc)}")

    def _batches(self, reader: pa.RecordBatchReader, response: _Recording, schema: pa.Schema,
                 timeout: float | None, deadline: float | None) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        try:
            while True:
                if deadline is not None and timeout is not None and time.monotonic() > deadline:
                    raise self.timed_out(timeout)
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                except (pa.ArrowException, OSError) as exc:
                    raise self._broken_stream(exc, response, timeout) from None
                yield convert(batch, schema, self.label)
        finally:
            close_quietly(response)
            if self._response is response:
                self._response = None


class _Recording:
    """A response body as a file for pyarrow, keeping its last bytes: when ClickHouse fails
    mid-stream it appends the exception text, which pyarrow has partly read by then."""

    KEEP = 65536

    def __init__(self, response: http.client.HTTPResponse) -> None:
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
