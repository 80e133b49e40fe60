"""Stopping queries, shared by the built-in sources: timeouts and Ctrl-C.

* :class:`Watchdog` calls a source's cancel function once a timeout passes;
  :func:`timed_out` is the one message every source gives then.
* :class:`OnInterrupt` calls it the moment the user presses Ctrl-C (SIGINT), so
  the query stops on the server too, not only in this process.

Why Ctrl-C needs help: Python runs its SIGINT handler (which raises
``KeyboardInterrupt``) only between bytecodes of the main thread, and a thread
blocked in a driver call (DuckDB or SQLite computing, a socket waiting for the
server's first row) runs none until the call returns — for a long query that is
when it is done. So while a query runs, a pipe is registered with
:func:`signal.set_wakeup_fd`: the C-level signal handler writes the signal number
to it at once, a watcher thread reads it and calls every running query's cancel
function (``interrupt()``, ``cancel()``, ``KILL QUERY``…). The driver call then
returns with an error, Python's own handler raises ``KeyboardInterrupt``, and the
CLI exits 130 with ``interrupted``.

Only signals whose Python handler raises ``KeyboardInterrupt`` cancel queries:
SIGINT with Python's default handler, or any signal whose handler has a true
``cancels_queries`` attribute (the CLI's SIGTERM handler). A program that
installed its own SIGINT handler, or uses the wakeup file descriptor itself
(asyncio), is left alone. Queries started outside the main thread are not
watched: signals only ever interrupt the main thread.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import Any

from kpispec.errors import ExecutionError

__all__ = ["OnInterrupt", "Watchdog", "timed_out"]


class Watchdog:
    """Calls ``cancel`` once ``timeout`` seconds pass, unless :meth:`stop` came first.

    ``stop`` waits for a cancellation in progress, so a cancel never reaches a query
    that started after the one it was meant for. ``fired`` tells whether it ran.
    """

    def __init__(self, timeout: float, cancel: Callable[[], object]) -> None:
        self.timeout = timeout
        self.fired = False
        self._cancel = cancel
        self._lock = threading.Lock()
        self._stopped = False
        self._timer = threading.Timer(timeout, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self.fired = True
            try:
                self._cancel()
            except Exception:  # the connection closed meanwhile; the server limit still holds
                pass

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
        self._timer.cancel()


def timed_out(timeout: float, label: str) -> ExecutionError:
    """The one message every source gives when a query runs out of time."""
    return ExecutionError(f"query timed out after {timeout:g} s on {label}; "
                          "query a shorter range or fewer metrics, or allow a longer timeout")


class OnInterrupt:
    """Calls ``cancel`` (from a watcher thread) if Ctrl-C is pressed before :meth:`stop`.

    Create it right before the query is sent and stop it once its rows are read
    (or it failed). ``fired`` tells whether it ran: the source then knows the error
    its driver reports is the interruption (Python raises ``KeyboardInterrupt``
    right after). ``watching`` is False where Ctrl-C cannot be watched (not the
    main thread, SIGINT ignored or handled by the program, the wakeup descriptor
    in use): the object is then inert.
    """

    def __init__(self, cancel: Callable[[], object]) -> None:
        self.fired = False
        self._cancel = cancel
        self._lock = threading.Lock()
        self._stopped = False
        self._done = threading.Event()
        self.watching = _watcher.add(self)

    def fire(self) -> None:
        """Cancel the query now (the watcher thread calls this); errors are ignored."""
        with self._lock:
            if self._stopped or self.fired:
                return
            self.fired = True
            try:
                self._cancel()
            except Exception:  # the connection is gone: so is the query
                pass
            finally:
                self._done.set()

    def interrupted(self, wait: float = 0.0) -> bool:
        """Whether Ctrl-C stopped the query, waiting up to ``wait`` seconds for the watcher.

        An engine that checks for Ctrl-C itself (DuckDB does) can report the interruption
        before the watcher thread got to it: a source that sees an "interrupted" error
        asks with a short ``wait``.
        """
        if not self.fired and wait > 0 and self.watching:
            self._done.wait(wait)
        return self.fired

    def stop(self) -> None:
        """Stop watching; waits for a cancellation in progress. Safe to repeat."""
        with self._lock:
            self._stopped = True
        _watcher.discard(self)


def _cancels_queries(handler: Any) -> bool:
    """Whether a signal with this Python handler interrupts kpispec (raises KeyboardInterrupt)."""
    return handler is signal.default_int_handler or bool(getattr(handler, "cancels_queries", False))


class _Watcher:
    """The process's wakeup pipe and the thread that reads it (started on first use)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[int, OnInterrupt] = {}
        self._pid = 0
        self._read = self._write = -1

    def add(self, guard: OnInterrupt) -> bool:
        if threading.current_thread() is not threading.main_thread():
            return False
        try:
            if not _cancels_queries(signal.getsignal(signal.SIGINT)):
                return False
            with self._lock:
                if self._pid != os.getpid():  # first use, or a forked child
                    self._start()
                previous = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
                if previous not in (-1, self._write):  # someone else's (asyncio): leave it be
                    signal.set_wakeup_fd(previous)
                    return False
                self._active[id(guard)] = guard
        except (OSError, ValueError, RuntimeError):  # no pipes or threads here
            return False
        return True

    def discard(self, guard: OnInterrupt) -> None:
        with self._lock:
            self._active.pop(id(guard), None)

    def _start(self) -> None:
        read, write = os.pipe()
        os.set_blocking(write, False)  # set_wakeup_fd requires it
        for fd in (read, write):
            os.set_inheritable(fd, False)
        thread = threading.Thread(target=self._run, args=(read,), name="kpispec-interrupt",
                                  daemon=True)
        thread.start()
        self._read, self._write, self._pid = read, write, os.getpid()

    def _run(self, read: int) -> None:
        while True:
            try:
                data = os.read(read, 64)
            except OSError:
                return
            if not data:
                return
            if any(_cancels_queries(_handler(number)) for number in set(data)):
                self._fire_all()

    def _fire_all(self) -> None:
        # A function of its own: the guards (and the connections they hold) must not stay
        # referenced from this thread's frame while it waits for the next signal.
        with self._lock:
            guards = list(self._active.values())
        for guard in guards:
            guard.fire()


def _handler(number: int) -> Any:
    try:
        return signal.getsignal(number)
    except (ValueError, OSError):
        return None


_watcher = _Watcher()
