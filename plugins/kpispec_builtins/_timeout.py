"""Query timeouts shared by the built-in sources: a watchdog and the message it leads to."""

from __future__ import annotations

import threading
from collections.abc import Callable

from kpispec.errors import ExecutionError

__all__ = ["Watchdog", "timed_out"]


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
