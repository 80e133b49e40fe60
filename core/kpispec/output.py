"""Streaming a query's result from a source into one or more sinks.

Every sink is opened before the first batch, receives every batch, and is
closed (committed) only when the whole result has been read; on any failure
every sink is aborted, so no partial output file is left behind and an
existing one stays untouched.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

from kpispec.errors import ExecutionError, KpispecError, PluginError, QueryError
from kpispec.extensions import SinkContext, SinkType, SinkWriter

__all__ = ["resolve_sink", "write_result"]


def resolve_sink(target: str) -> tuple[SinkType, str]:
    """The sink for a ``--sink`` value, and the target to give it.

    ``out.csv`` picks by extension, ``csv:-`` / ``json:out.txt`` by scheme, a bare
    sink name (``table``) by scheme with an empty target.
    """
    from kpispec.plugins import get_registry

    registry = get_registry()
    scheme, sep, rest = target.partition(":")
    is_scheme = bool(sep) and len(scheme) > 1 and scheme.isidentifier()
    if is_scheme:
        sink = registry.sink_for(scheme.lower(), None)
        if sink is not None:
            return sink, rest[2:] if rest.startswith("//") and "://" in target else rest
    if not sep and target.isidentifier():
        sink = registry.sink_for(target.lower(), None)
        if sink is not None:
            return sink, ""
    suffix = PurePath(target).suffix.lower()
    if suffix:
        sink = registry.sink_for(None, suffix)
        if sink is not None:
            return sink, target
    known = sorted({s for r in registry.sinks.values() for s in r.item.schemes} |
                   {e for r in registry.sinks.values() for e in r.item.extensions})
    raise QueryError(f"--sink {target!r}: no sink plugin handles it",
                     hint=f"Known sink schemes and extensions: {', '.join(known) or 'none'}")


def write_result(project: Any, metrics: Sequence[str], *, source: str | None,
                 sinks: Sequence[str], lang: str = "en", timeout: float | None = None,
                 options: Mapping[str, Any] | None = None) -> int:
    """Run ``metrics`` and stream the rows into every sink; return the row count."""
    from kpispec.project import iter_batches

    resolved = [resolve_sink(s) for s in sinks]  # bad --sink fails before the query runs
    compiled, reader, connection = project.execute(metrics, source=source, timeout=timeout,
                                                   **(options or {}))
    for note in compiled.notes:
        print(f"note: {note}", file=sys.stderr)
    periods: set[Any] = set()
    context = SinkContext(metrics=compiled.metrics,
                          dimensions=tuple(d.replace(".", "__") for d in compiled.query.dimensions),
                          grain=compiled.query.grain, lang=lang, stdout=sys.stdout)
    writers: list[SinkWriter] = []
    rows = 0
    try:
        for sink, target in resolved:
            writers.append(_call(sink, "open", sink.open, target, reader.schema, context))
        for batch in iter_batches(reader):
            rows += batch.num_rows
            if compiled.targets and batch.num_rows:
                periods.update(_dates(batch.column(0).to_pylist()))
            for (sink, _), writer in zip(resolved, writers):
                _call(sink, "write", writer.write, batch)
        for (sink, _), writer in zip(resolved, writers):
            _call(sink, "close", writer.close)
        if compiled.targets and (compiled.query.start is None or compiled.query.end is None):
            for note in compiled.missing_targets(periods):
                print(f"note: {note}", file=sys.stderr)
    except BaseException:
        for writer in writers:
            try:
                writer.abort()
            except Exception:  # the first error is the one worth reporting
                pass
        raise
    finally:
        connection.close()
    return rows


def _dates(values: Sequence[Any]) -> list[Any]:
    """Period values as dates (SQLite returns ISO text, some drivers datetimes)."""
    import datetime as dt

    out = []
    for value in values:
        if isinstance(value, dt.datetime):
            value = value.date()
        elif isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value[:10])
            except ValueError:
                continue
        out.append(value)
    return out


def _call(sink: SinkType, step: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except KpispecError:
        raise
    except OSError as exc:
        raise ExecutionError(f"sink {sink.name!r} failed to {step}: {exc}") from None
    except Exception as exc:
        raise ExecutionError(str(PluginError(f"{step} raised {type(exc).__name__}: {exc}",
                                             plugin=sink.name, hook="register_sinks"))) from None
