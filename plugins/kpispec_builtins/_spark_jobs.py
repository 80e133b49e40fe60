"""Stopping the queries of the ``spark`` source: the Spark jobs of one query cancelled
once its timeout passes (:class:`JobWatchdog`), or everything a session runs (Ctrl-C,
:func:`interrupt_all`)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kpispec_builtins._spark_start import context_of

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["JobWatchdog", "interrupt_all"]

#: Seconds between repeated cancellations once a query timed out (a job that only
#: starts after the first cancellation is cancelled too).
_CANCEL_EVERY = 0.2


class JobWatchdog:
    """Cancels the Spark jobs of the current thread's query once ``timeout`` passes.

    The jobs carry a tag unique to the query (a job tag on classic Spark, an
    operation tag on Spark Connect); once the time is up the tag is cancelled
    every :data:`_CANCEL_EVERY` seconds until the query returns, so that a job
    the query starts after the first cancellation is cancelled as well.
    """

    def __init__(self, session: SparkSession, timeout: float) -> None:
        self.timeout = timeout
        self.fired = False
        self._tag = f"kpispec-{uuid.uuid4().hex}"
        self._done = threading.Event()
        self._context = context_of(session)
        self._session = session
        if self._context is None:  # Spark Connect
            session.addTag(self._tag)
            self._cancel: Callable[[], Any] = lambda: session.interruptTag(self._tag)
        else:
            sc = self._context
            self._interrupt = sc.getLocalProperty("spark.job.interruptOnCancel")
            if hasattr(sc, "addJobTag"):
                sc.addJobTag(self._tag)
                sc.setInterruptOnCancel(True)
                self._cancel = lambda: sc.cancelJobsWithTag(self._tag)
            else:  # pyspark < 3.5
                sc.setJobGroup(self._tag, "kpispec query", interruptOnCancel=True)
                self._cancel = lambda: sc.cancelJobGroup(self._tag)
        self._thread = threading.Thread(target=self._run, name="kpispec-spark-timeout",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if self._done.wait(self.timeout):
            return
        self.fired = True
        while not self._done.is_set():
            try:
                self._cancel()
            except Exception:  # Spark went away: the query fails by itself
                return
            self._done.wait(_CANCEL_EVERY)

    def stop(self) -> None:
        """Stop watching and take the tag off the thread (call it in the query's thread)."""
        self._done.set()
        self._thread.join()
        try:
            if self._context is None:
                self._session.removeTag(self._tag)
            elif hasattr(self._context, "removeJobTag"):
                self._context.removeJobTag(self._tag)
                self._context.setLocalProperty("spark.job.interruptOnCancel", self._interrupt)
            else:
                for key in ("spark.jobGroup.id", "spark.job.description"):
                    self._context.setLocalProperty(key, None)
                self._context.setLocalProperty("spark.job.interruptOnCancel", self._interrupt)
        except Exception:  # Spark went away: nothing left to clean
            pass


def interrupt_all(session: SparkSession) -> None:
    """Stop what this session runs: its operations on Spark Connect, the jobs of a local Spark."""
    context = context_of(session)
    if context is None:
        session.interruptAll()
    else:
        context.cancelAllJobs()
