"""Test-only plugins that inject faults.

Registered in process by the tests (``kpispec.testing.registered``) or, in a
``kpispec`` subprocess, by ``run_kpispec.py`` from the ``KPISPEC_FAULTS``
environment variable (comma-separated):

* ``query:MODE`` — a ``modify_query`` plugin named ``hostile`` rewriting every query
  (see :class:`HostileQuery` for the modes);
* ``sink:signal:NAME`` — a sink ``fault:`` that sends itself the signal NAME (``INT``,
  ``TERM``) while writing its first batch, i.e. while the other sinks are mid-write;
* ``plugins:leaky`` — a plugin whose ``register_sources`` fails with a message that
  holds a database URL with its password.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

import pyarrow as pa
from kpispec.extensions import SinkContext, SinkType
from kpispec.hookspecs import hookimpl
from sqlglot import exp

__all__ = ["FaultSink", "HostileQuery", "LeakyPlugin", "from_environment"]

#: What a HostileQuery rewrite returns, by mode.
MODES = ("drop", "insert", "injected", "delete_after", "read_csv", "pg_read_file", "into",
         "for_update", "raise", "load_file")


class HostileQuery:
    """A ``modify_query`` plugin that turns the query into something kpispec must refuse."""

    def __init__(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.calls = 0

    @hookimpl
    def modify_query(self, expression: exp.Expr, dialect: str) -> exp.Expr:
        self.calls += 1
        mode = self.mode
        if mode == "drop":
            return exp.Drop(this=exp.to_table("deals"), kind="TABLE")
        if mode == "insert":
            return exp.insert("SELECT 1", "deals")
        if mode == "injected":  # raw text smuggled into the tree: renders as 3 statements
            assert isinstance(expression, exp.Select)
            return expression.where(exp.Var(this="1 = 1; DROP TABLE deals; SELECT 1"))
        if mode == "delete_after":  # "SELECT … LIMIT 1000000; DELETE FROM deals"
            assert isinstance(expression, exp.Select)
            return expression.limit(exp.Var(this="1000000; DELETE FROM deals"))
        if mode == "read_csv":
            return exp.select("*").from_(exp.func("read_csv", exp.Literal.string("/etc/passwd")))
        if mode == "pg_read_file":
            return exp.select(exp.func("pg_read_file", exp.Literal.string("/etc/passwd"))
                              .as_("period"))
        if mode == "load_file":
            return exp.select(exp.func("LOAD_FILE", exp.Literal.string("/etc/passwd"))
                              .as_("period"))
        if mode == "into":
            assert isinstance(expression, exp.Select)
            expression.set("into", exp.Into(this=exp.to_table("stolen")))
            return expression
        if mode == "for_update":
            assert isinstance(expression, exp.Select)
            return expression.lock(update=True)
        raise RuntimeError("tenant filter unavailable: postgresql://svc:hunter2-secret@db/crm")


class FaultSink:
    """A sink (scheme ``fault``) whose writer calls ``on_write(batch, index)`` per batch and
    ``on_close()`` when committing; it keeps nothing."""

    def __init__(self, on_write: Callable[[pa.RecordBatch, int], None] | None = None,
                 on_close: Callable[[], None] | None = None, *, scheme: str = "fault") -> None:
        self.on_write = on_write
        self.on_close = on_close
        self.scheme = scheme
        self.events: list[str] = []

    @hookimpl
    def register_sinks(self, register: Callable[..., None]) -> None:
        register(SinkType(name=f"{self.scheme}_sink", schemes=(self.scheme,), open=self.open,
                          description="Injects faults (tests only)."))

    def open(self, target: str, schema: pa.Schema, context: SinkContext) -> _Writer:
        self.events.append("open")
        return _Writer(self)


class _Writer:
    def __init__(self, sink: FaultSink) -> None:
        self.sink = sink
        self.batches = 0

    def write(self, batch: pa.RecordBatch) -> None:
        self.sink.events.append("write")
        if self.sink.on_write is not None:
            self.sink.on_write(batch, self.batches)
        self.batches += 1

    def close(self) -> None:
        self.sink.events.append("close")
        if self.sink.on_close is not None:
            self.sink.on_close()

    def abort(self) -> None:
        self.sink.events.append("abort")


class LeakyPlugin:
    """A plugin that fails to register, echoing a connection URL with its password."""

    @hookimpl
    def register_sources(self, register: Callable[..., None]) -> None:
        raise ConnectionError("cannot reach the license server at "
                              "postgresql://licensing:hunter2-secret@10.0.0.9/licenses")


def _send_signal(name: str) -> Callable[[pa.RecordBatch, int], None]:
    number = getattr(signal, f"SIG{name}")

    def send(batch: pa.RecordBatch, index: int) -> None:
        if index == 0:
            os.kill(os.getpid(), number)
    return send


def from_environment(text: str | None = None) -> list[tuple[str, Any]]:
    """The (name, plugin) pairs ``KPISPEC_FAULTS`` asks for."""
    text = os.environ.get("KPISPEC_FAULTS", "") if text is None else text
    found: list[tuple[str, Any]] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        kind, _, rest = item.partition(":")
        if kind == "query":
            found.append(("hostile", HostileQuery(rest)))
        elif kind == "sink" and rest.startswith("signal:"):
            found.append(("fault", FaultSink(on_write=_send_signal(rest.split(":", 1)[1]))))
        elif kind == "plugins" and rest == "leaky":
            found.append(("leaky", LeakyPlugin()))
        else:
            raise ValueError(f"KPISPEC_FAULTS: unknown fault {item!r}")
    return found
