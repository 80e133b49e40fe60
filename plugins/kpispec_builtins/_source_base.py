"""What every built-in source's connection shares.

:class:`SourceConnection` holds the connection lifecycle (``with``, ``close``
twice, the "is closed" error, ``repr``), the template of
:meth:`~SourceConnection.execute` (the timeout checked, the connection open, the
query refused unless it is one SELECT, then the engine's own ``_run``), the
timeout and Ctrl-C watchers (:mod:`kpispec_builtins._timeout`), and the wording
of errors: one line, the password masked, the same sentences on every engine.

A built-in source subclasses it and keeps only what is its engine's: how to
connect (a module-level ``connect(url)``), how to run a statement and stream its
rows (``_run``), how to cancel one, how to read the catalog (``describe``), how
to release the driver (``_release``) and, where the driver's messages carry noise,
which lines to drop (``message_until``, ``message_skip``).

This is a convenience for the built-ins, not a contract: a third-party source
needs only an object satisfying :class:`kpispec.Connection` (see
``docs/plugin-hooks.md``, ``register_sources``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from kpispec.compile import guard
from kpispec.errors import ExecutionError

from kpispec_builtins._timeout import OnInterrupt, Watchdog, timed_out

if TYPE_CHECKING:
    from types import TracebackType

    import pyarrow as pa
    from kpispec.extensions import SourceURL
    from typing_extensions import Self

__all__ = [
    "Closable",
    "SourceConnection",
    "TimeLimit",
    "check_no_host",
    "check_timeout",
    "close_quietly",
    "one_line",
    "stop_watchers",
]

#: The driver object a connection wraps (a DuckDB connection, a psycopg one…).
Handle = TypeVar("Handle")


class TimeLimit(Protocol):
    """What a source needs of a timeout watchdog (:class:`Watchdog`, Spark's job canceller)."""

    timeout: float
    fired: bool

    def stop(self) -> None:
        """Stop watching."""


def check_timeout(timeout: float | None) -> None:
    """Refuse a timeout that is not a positive number of seconds (None: no timeout).

    Raises:
        ValueError: ``timeout`` is zero, negative, infinite or NaN.
    """
    if timeout is not None and not 0 < timeout < float("inf"):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")


def check_no_host(url: SourceURL, *, relative: str, absolute: str) -> None:
    """Refuse a host in the URL of a local source (``sqlite://data/x.db`` meant ``sqlite:///…``).

    Args:
        url: the parsed URL.
        relative: what a path after three slashes names ("path", "directory").
        absolute: an example of an absolute one, after ``scheme:////``.

    Raises:
        ExecutionError: the URL has a host; the message spells the URL it probably meant.
    """
    if url.host:
        scheme = url.scheme
        raise ExecutionError(
            f"{url}: a {scheme}:// URL has no host; write {scheme}:///{url.host}"
            f"{url.database and '/'}{url.database} (three slashes) for a relative {relative} "
            f"or {scheme}:////{absolute}"
        )


def one_line(exc: BaseException | str, secret: str | None = None, *,
             until: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> str:
    """A driver's message on one line.

    Whitespace runs become one space; lines starting with one of ``skip`` are left
    out, and so is everything from the first line starting with one of ``until`` (a
    query excerpt); ``secret`` is replaced by ``***``. An exception with no message
    gives its type's name.

    >>> one_line(ValueError("syntax error\\n  LINE 1: SELEC x\\n  ^"), until=("LINE ",))
    'syntax error'
    >>> one_line("login failed for  bob:hunter2", "hunter2")
    'login failed for bob:***'
    """
    text = exc if isinstance(exc, str) else str(exc)
    lines: list[str] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if until and line.startswith(until):
            break
        if line and not (skip and line.startswith(skip)):
            lines.append(line)
    message = " ".join(lines)
    if not message and not isinstance(exc, str):
        message = type(exc).__name__
    if secret:
        message = message.replace(secret, "***")
    return message


class SourceConnection(ABC, Generic[Handle]):
    """The base of the built-in sources' connections (a :class:`kpispec.Connection`).

    Args:
        handle: the driver object (closed by :meth:`close` through :meth:`_release`).
        label: how messages name the source, ``str(url)`` with the password masked.
        secret: the password, masked in every driver message this connection repeats.
    """

    #: The sqlglot dialect the engine speaks.
    dialect: str
    #: The engine's name in messages: "DuckDB query failed on …".
    engine: ClassVar[str]
    #: Driver message lines from which on the rest is dropped (see :func:`one_line`).
    message_until: ClassVar[tuple[str, ...]] = ()
    #: Driver message lines left out (see :func:`one_line`).
    message_skip: ClassVar[tuple[str, ...]] = ()

    def __init__(self, handle: Handle, label: str, secret: str | None = None) -> None:
        self._handle: Handle | None = handle
        self.label = label
        self.secret = secret or None
        self._watchdog: TimeLimit | None = None
        self._interrupt: OnInterrupt | None = None

    # -- lifecycle --------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (or the connection broke beyond repair)."""
        return self._handle is None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label} ({'closed' if self.closed else 'open'})>"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """End any running query and release the connection; closing twice is harmless."""
        self._stop_watchers()
        handle = self._handle
        if handle is not None:
            self._release(handle)
        self._handle = None

    def _open(self) -> Handle:
        """The driver object; an error once the connection is closed."""
        if self._handle is None:
            raise ExecutionError(self._closed_message())
        return self._handle

    def _closed_message(self) -> str:
        return f"the {self.engine} connection to {self.label} is closed"

    def _release(self, handle: Handle) -> None:
        """Close the driver object (the engine's part of :meth:`close`)."""

    # -- queries ----------------------------------------------------------------------

    def execute(self, sql: str, *, timeout: float | None = None) -> pa.RecordBatchReader:
        """Run one SELECT and stream its rows as Arrow record batches.

        Args:
            sql: the query, in the source's dialect; anything but one SELECT is refused.
            timeout: seconds after which the query is stopped; None waits forever.

        Returns:
            A ``pyarrow.RecordBatchReader``.

        Raises:
            ExecutionError: the connection is closed, the query is not one SELECT, the
                engine rejected or failed it, or it timed out.
            KeyboardInterrupt: Ctrl-C was pressed; the query was stopped.
            ValueError: ``timeout`` is not positive.
        """
        check_timeout(timeout)
        handle = self._open()
        self._check(handle, sql)
        return self._run(handle, sql, timeout)

    def _check(self, handle: Handle, sql: str) -> None:
        """Refuse anything but one SELECT (an engine whose parser can tell adds its own check)."""
        guard.check_single_select(sql, self.dialect)

    @abstractmethod
    def _run(self, handle: Handle, sql: str, timeout: float | None) -> pa.RecordBatchReader:
        """Run the checked query on the engine and stream its rows."""

    @abstractmethod
    def describe(self, table: str) -> Sequence[str] | None:
        """Column names of ``table``, or None if it does not exist."""

    # -- stopping a query -------------------------------------------------------------

    def _watch(self, timeout: float | None,
               cancel: Callable[[], object]) -> tuple[Watchdog | None, OnInterrupt]:
        """Start the timeout watchdog (with a timeout) and the Ctrl-C watcher of a query;
        both call ``cancel``, and :meth:`_stop_watchers` stops them."""
        watchdog = Watchdog(timeout, cancel) if timeout is not None else None
        interrupt = OnInterrupt(cancel)
        self._watchdog, self._interrupt = watchdog, interrupt
        return watchdog, interrupt

    def _stop_watchers(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        interrupt, self._interrupt = self._interrupt, None
        stop_watchers(watchdog, interrupt)

    def _starting(self, errors: type[BaseException] | tuple[type[BaseException], ...],
                  watchdog: TimeLimit | None, interrupt: OnInterrupt,
                  end: Callable[[], None]) -> _Starting:
        """A ``with`` block that starts a query: on an error of the driver's (``errors``) it
        calls ``end`` and raises the one error :meth:`_error` words; on anything else it
        calls ``end`` and lets it through (as ``KeyboardInterrupt`` when Ctrl-C stopped
        the query and the driver said something else)."""
        return _Starting(self, errors, watchdog, interrupt, end)

    def _interrupted(self, exc: BaseException, watchdog: TimeLimit | None,
                     interrupt: OnInterrupt) -> bool:
        """Whether ``exc`` ends a query Ctrl-C stopped (stops watching Ctrl-C)."""
        interrupt.stop()
        return interrupt.fired

    def _error(self, exc: BaseException, watchdog: TimeLimit | None,
               interrupt: OnInterrupt | None = None) -> BaseException:
        """What to raise for a driver error: Ctrl-C, the timeout, or the failure itself."""
        if interrupt is not None and self._interrupted(exc, watchdog, interrupt):
            return KeyboardInterrupt()
        if watchdog is not None and watchdog.fired:
            return self.timed_out(watchdog.timeout)
        return self.failed(exc)

    # -- wording ----------------------------------------------------------------------

    @classmethod
    def one_line(cls, exc: BaseException | str, secret: str | None = None) -> str:
        """The engine's message of ``exc`` on one line, without its noise or ``secret``."""
        return one_line(exc, secret, until=cls.message_until, skip=cls.message_skip)

    def message(self, exc: BaseException | str) -> str:
        """:meth:`one_line` with this connection's password masked."""
        return self.one_line(exc, self.secret)

    def failed(self, exc: BaseException | str) -> ExecutionError:
        """The error of a query the engine rejected or failed."""
        return ExecutionError(f"{self.engine} query failed on {self.label}: {self.message(exc)}")

    def catalog_failed(self, exc: BaseException | str) -> ExecutionError:
        """The error of a catalog lookup (:meth:`describe`) that failed."""
        return ExecutionError(f"reading the catalog of {self.label} failed: {self.message(exc)}")

    def timed_out(self, timeout: float) -> ExecutionError:
        """The error of a query that ran out of time (the same words on every source)."""
        return timed_out(timeout, self.label)


class _Starting:
    """See :meth:`SourceConnection._starting` (a class, not a generator: a signal may
    arrive anywhere, and a generator interrupted in its own machinery says so on stderr)."""

    def __init__(self, connection: SourceConnection[Any],
                 errors: type[BaseException] | tuple[type[BaseException], ...],
                 watchdog: TimeLimit | None, interrupt: OnInterrupt,
                 end: Callable[[], None]) -> None:
        self._connection = connection
        self._errors = errors
        self._watchdog = watchdog
        self._interrupt = interrupt
        self._end = end

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if exc is None:
            return
        connection = self._connection
        if isinstance(exc, self._errors):
            error = connection._error(exc, self._watchdog, self._interrupt)  # before watchers stop
            self._end()
            raise error from None
        stopped = connection._interrupted(exc, self._watchdog, self._interrupt)
        self._end()
        if stopped and not isinstance(exc, KeyboardInterrupt):
            raise KeyboardInterrupt from None


class Closable(Protocol):
    """Anything with a ``close()``: a cursor, a session, an HTTP response."""

    def close(self) -> object:
        """Release it."""


def close_quietly(thing: Closable | None) -> None:
    """Close ``thing`` (None: nothing), ignoring errors: what is being closed is often
    already gone (the connection dropped, the server went away)."""
    if thing is None:
        return
    try:
        thing.close()
    except Exception:
        pass


def stop_watchers(watchdog: TimeLimit | None, interrupt: OnInterrupt | None) -> None:
    """Stop a query's timeout watchdog and Ctrl-C watcher (either may be None)."""
    if watchdog is not None:
        watchdog.stop()
    if interrupt is not None:
        interrupt.stop()
