"""The result of one MySQL or MariaDB query, streamed, and how a query is stopped.

:class:`ResultStream` reads the rows of an unbuffered cursor into record batches
and ends the read-only transaction once they are read. A query is stopped with
``KILL QUERY`` from a second connection (:func:`kill_query`): on a timeout, on
Ctrl-C, and when the reader or the connection is closed before the rows are all
read — the server never goes on computing a result nobody reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kpispec.errors import ExecutionError

from kpispec_builtins._mysql_arrow import to_batch
from kpispec_builtins._source_base import stop_watchers

if TYPE_CHECKING:
    import pyarrow as pa

    from kpispec_builtins._timeout import OnInterrupt, Watchdog
    from kpispec_builtins.mysql_source import MySQLConnection

__all__ = ["ResultStream", "defuse", "import_pymysql", "kill_query"]

_INSTALL = "the MySQL source needs PyMySQL: pip install 'kpispec[mysql]'"
#: Seconds the second connection that kills a query may take to connect.
_KILL_CONNECT_TIMEOUT = 5


def import_pymysql() -> Any:
    """The pymysql module; a missing one says which extra to install."""
    try:
        import pymysql
    except ImportError:
        raise ExecutionError(_INSTALL) from None
    return pymysql


class ResultStream:
    """The rows of one query, read through an unbuffered cursor into record batches."""

    def __init__(self, owner: MySQLConnection, cursor: Any, schema: pa.Schema,
                 watchdog: Watchdog | None, timeout: float | None,
                 interrupt: OnInterrupt | None, rows_per_batch: int) -> None:
        self._owner = owner
        self._rows = rows_per_batch
        self._cursor = cursor
        self._schema = schema
        self._watchdog = watchdog
        self.interrupt = interrupt
        self._timeout = timeout
        self._done = False
        self._abandoned = False

    def batches(self) -> Iterator[pa.RecordBatch]:
        pymysql = import_pymysql()
        owner = self._owner
        try:
            while True:
                if self._abandoned:
                    raise ExecutionError(
                        f"the result of a query on {owner.label} was discarded: another query "
                        "ran on the same connection before it was read")
                try:
                    rows = self._cursor.fetchmany(self._rows)
                except pymysql.MySQLError as exc:
                    if self.interrupt is not None and self.interrupt.fired:
                        raise KeyboardInterrupt from None  # Ctrl-C killed it
                    raise owner.query_error(exc, self._timeout, self._watchdog) from None
                if not rows:
                    break
                yield to_batch(rows, self._schema, owner.label)
                if len(rows) < self._rows:
                    break
            if self.interrupt is not None and self.interrupt.fired:
                raise KeyboardInterrupt  # SLEEP() and a few others end early when killed
            if self._watchdog is not None and self._watchdog.fired and self._timeout is not None:
                # SLEEP() and a few others end early rather than fail when killed
                raise owner.timed_out(self._timeout)
        except Exception:
            self.finish()
            raise
        except GeneratorExit:  # the reader was closed early: stop the query, keep the connection
            if not self._done:
                try:
                    kill_query(owner.pymysql.thread_id(), owner._kill_params)
                except Exception:
                    pass
            self.finish()  # reads the little the server sent before the kill
            raise
        except BaseException:  # Ctrl-C inside the driver: the connection is mid-protocol
            self._done = True
            stop_watchers(self._watchdog, self.interrupt)
            if owner._stream is self:
                owner._stream = None
            owner._kill_and_discard(self.interrupt)
            defuse(self._cursor)
            raise
        else:
            self.finish()

    def finish(self) -> None:
        """Stop the watchdog, release the cursor and end the transaction (once)."""
        if self._done:
            return
        self._done = True
        stop_watchers(self._watchdog, self.interrupt)
        owner = self._owner
        if owner._stream is self:
            owner._stream = None
        con = owner._handle
        if con is None or not con.open:  # the connection broke: nothing left to read
            defuse(self._cursor)
            owner._discard()
            return
        try:
            self._cursor.close()  # reads what is left of the result, if anything
        except Exception:
            con = owner._handle
            if con is None or not con.open:  # the connection itself broke
                defuse(self._cursor)
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
            stop_watchers(self._watchdog, self.interrupt)
            defuse(self._cursor)


def defuse(cursor: Any) -> None:
    """Forget the unread rest of a result whose connection broke, so that PyMySQL does not try
    (and fail, noisily, on standard error) to read it when the objects are collected."""
    result = getattr(cursor, "_result", None)
    if result is not None:
        result.unbuffered_active = False
    cursor._result = None
    cursor.connection = None


def kill_query(thread_id: int, params: dict[str, Any]) -> None:
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
