"""The ``chdb`` source: ClickHouse in process (see :mod:`kpispec_builtins.clickhouse_source`).

A chdb query cannot be interrupted while it computes (chdb's engine checks no
signal): ``max_execution_time`` (``--timeout``) is what bounds it, and Ctrl-C
takes effect once the current block is done. After a failed query chdb may hand
its leftovers to the next one, so the session is drained (:meth:`ChdbConnection._resync`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from kpispec.errors import ExecutionError
from kpispec.extensions import SourceURL

from kpispec_builtins._clickhouse_common import CATALOG, ClickHouseConnection, arrow_schema, convert, seconds
from kpispec_builtins._source_base import check_no_host, close_quietly

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ChdbConnection", "connect_chdb"]

_INSTALL = "the chdb source needs chdb: pip install 'kpispec[clickhouse]'"
_MEMORY = ("", ":memory:")
_SYNC = "SELECT 1 AS __kpispec_sync"


class ArrowBytes(Protocol):
    """A chdb query result (or one chunk of a streamed one)."""

    def bytes(self) -> bytes:
        """The result in the format asked for (ArrowStream here)."""


class StreamingResult(Protocol):
    """What ``Session.send_query`` returns: the result, chunk by chunk."""

    def fetch(self) -> ArrowBytes | None:
        """The next chunk, or None once the result is read."""

    def close(self) -> None:
        """Stop reading (chdb cancels the rest)."""


class ChdbSession(Protocol):
    """The part of ``chdb.session.Session`` this source uses."""

    def query(self, sql: str, fmt: str = ..., *, params: dict[str, str] | None = ...) -> ArrowBytes:
        """Run ``sql`` and return the whole result."""

    def send_query(self, sql: str, fmt: str = ...) -> StreamingResult:
        """Start ``sql`` and return its result as a stream."""

    def close(self) -> None:
        """Close the session."""


def _chdb_session() -> Any:
    try:
        from chdb import session
    except ImportError:
        raise ExecutionError(_INSTALL) from None
    return session


class ChdbConnection(ClickHouseConnection[ChdbSession]):
    """An in-process chdb session satisfying :class:`kpispec.Connection`.

    Args:
        session: the ``chdb.session.Session`` to wrap (closed by :meth:`close`).
        label: how messages name it, usually ``str(url)``.
    """

    def __init__(self, session: ChdbSession, label: str) -> None:
        super().__init__(session, label)
        self._stream: _ChdbStream | None = None
        self._limit: float | None = None

    @property
    def session(self) -> ChdbSession:
        """The underlying ``chdb.session.Session``."""
        return self._open()

    def _closed_message(self) -> str:
        return f"the chdb session {self.label} is closed"

    def _run(self, session: ChdbSession, sql: str, timeout: float | None) -> pa.RecordBatchReader:
        """Stream the blocks ClickHouse produces; ClickHouse stops the query after
        ``timeout`` seconds (``max_execution_time``)."""
        import pyarrow as pa

        self._end_stream()
        try:
            self._set_limit(timeout)
            result = session.send_query(sql, "ArrowStream")
        except Exception as exc:
            raise self.query_error(exc, timeout) from None
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
        assert stream.schema is not None  # set by the first chunk
        return pa.RecordBatchReader.from_batches(stream.schema, stream.batches(first))

    def describe(self, table: str) -> list[str] | None:
        """Column names of ``table`` (``name`` or ``database.name``), or None if it does not exist."""
        import pyarrow as pa

        database, _, name = table.rpartition(".")
        session = self.session
        self._end_stream()
        try:
            data = session.query(CATALOG, "ArrowStream", params={"db": database, "t": name}).bytes()
        except Exception as exc:
            self._resync()
            raise self.catalog_failed(exc) from None
        if not data:
            return None
        names = pa.ipc.open_stream(data).read_all().column(0).to_pylist()
        return [str(n) for n in names] or None

    def _release(self, session: ChdbSession) -> None:
        self._end_stream()
        close_quietly(session)

    def query_error(self, exc: BaseException | str, timeout: float | None) -> ExecutionError:
        self._resync()
        return super().query_error(exc, timeout)

    # -- internals --------------------------------------------------------------------

    def _set_limit(self, timeout: float | None) -> None:
        if timeout == self._limit:
            return
        value = "0" if timeout is None else seconds(timeout)
        self.session.query(f"SET max_execution_time = {value}", "CSV")
        self._limit = timeout

    def _empty_schema(self, sql: str, timeout: float | None) -> pa.Schema:
        """The schema of a query without rows (the non-streaming call sends it)."""
        import pyarrow as pa

        try:
            data = self.session.query(sql, "ArrowStream").bytes()
        except Exception as exc:
            raise self.query_error(exc, timeout) from None
        if not data:
            return pa.schema([])
        return arrow_schema(pa.ipc.open_stream(data).schema)

    def _end_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.abandon()

    def _resync(self) -> None:
        """After a failed query chdb may hand its leftovers to the next one: drain them."""
        import pyarrow as pa

        session = self._handle
        if session is None:
            return
        for _ in range(4):
            try:
                data = session.query(_SYNC, "ArrowStream").bytes()
                if data and pa.ipc.open_stream(data).schema.names == ["__kpispec_sync"]:
                    return
            except Exception:
                pass
        self._handle = None  # still out of step: unusable
        close_quietly(session)


class _ChdbStream:
    """The chunks of one chdb streaming query, as record batches."""

    def __init__(self, owner: ChdbConnection, result: StreamingResult, timeout: float | None) -> None:
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
                raise self._owner.query_error(exc, self._timeout) from None
            if chunk is None:
                return None
            data = chunk.bytes()
            if data:
                reader = pa.ipc.open_stream(data)
                if self.schema is None:
                    self.schema = arrow_schema(reader.schema)
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
                    yield convert(batch, self.schema, owner.label)
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
    check_no_host(url, relative="directory", absolute="abs/dir")
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
        raise ExecutionError(f"cannot open chdb session {label}: {ChdbConnection.one_line(exc)}") from None
    try:
        session.query("SET readonly = 2", "CSV")  # reads only (settings may still change)
    except Exception as exc:
        session.close()
        raise ExecutionError(f"cannot make chdb session {label} read-only: {ChdbConnection.one_line(exc)}"
                             ) from None
    return ChdbConnection(session, label)
