"""Streaming a query's result from a source into one or more sinks.

Every sink is opened before the first batch, receives every batch, and is
closed (committed) only when the whole result has been read; on any failure
every sink is aborted, so no partial output file is left behind and an
existing one stays untouched.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePath
from typing import Any

from kpispec.errors import ExecutionError, KpispecError, PluginError, QueryError
from kpispec.extensions import SinkContext, SinkType, SinkWriter

__all__ = ["resolve_sink", "sink_context", "write_result"]


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
                 options: Mapping[str, Any] | None = None, currency: str | None = None,
                 progress: bool | None = None, progress_console: Any = None,
                 csv_safe: bool = True) -> int:
    """Run ``metrics`` and stream the rows into every sink; return the row count.

    Args:
        currency: the symbol ``format: currency`` values are shown with (default: the
            project's ``currency`` setting, else none).
        progress: show compiling, the query and rows written on standard error; None
            (the default) shows them only when standard error is a terminal.
        progress_console: a rich console to draw the progress on (tests).
        csv_safe: let spreadsheet sinks (CSV) escape text cells that would run as formulas.

    Raises:
        kpispec.errors.QueryError: ``lang`` is a language no label or report text has,
            or a ``--sink`` no sink plugin handles.
    """
    from kpispec._execution import iter_batches
    from kpispec._i18n import check_lang
    from kpispec._progress import RunProgress, wants_progress

    check_lang(lang, project)  # before the query runs, like a bad --sink
    resolved = [resolve_sink(s) for s in sinks]  # bad --sink fails before the query runs
    steps = RunProgress(wants_progress(progress), progress_console)
    steps.compiling(len(metrics))

    def on_step(step: str, detail: str = "") -> None:
        if step == "compiled":
            steps.compiled()
        elif step == "querying":
            steps.querying(detail)

    try:
        compiled, reader, connection = project.execute(metrics, source=source, timeout=timeout,
                                                       on_step=on_step, **(options or {}))
    except BaseException:
        steps.stop()
        raise
    _print_notes(compiled.notes, lang)
    periods: set[Any] = set()
    context = sink_context(project, compiled, lang=lang, source=source, currency=currency,
                           csv_safe=csv_safe)
    writers: list[SinkWriter] = []
    rows = 0
    source_open = True
    try:
        for sink, target in resolved:
            writers.append(_call(sink, "open", sink.open, target, reader.schema, context))
        for batch in iter_batches(reader):
            steps.query_done()
            rows += batch.num_rows
            if compiled.targets and batch.num_rows:
                periods.update(_dates(batch.column(0).to_pylist()))
            for (sink, _), writer in zip(resolved, writers):
                _call(sink, "write", writer.write, batch)
            steps.rows(batch.num_rows)
        steps.stop()
        # Every row is read: let go of the source before committing, so a sink may write
        # to the very database the result came from (a DuckDB file allows one writer).
        _close_reader(reader)
        source_open = False
        connection.close()
        for (sink, _), writer in zip(resolved, writers):
            _call(sink, "close", writer.close)
        if compiled.targets and (compiled.query.start is None or compiled.query.end is None):
            _print_notes(compiled.missing_targets(periods), lang)
    except BaseException:
        steps.stop()
        for writer in writers:
            try:
                writer.abort()
            except Exception:  # the first error is the one worth reporting
                pass
        raise
    finally:
        # A reader left open (the run failed) would keep the query's result, and with it
        # the database, alive for as long as the error's traceback is kept.
        _close_reader(reader)
        del reader  # an error's traceback keeps this frame, and would keep the stream
        if source_open:  # a third-party source need not take closing twice
            connection.close()
    return rows


def _print_notes(notes: Iterable[str], lang: str) -> None:
    """The compiler's notes on standard error, in the run's language (``uwaga: …``)."""
    from kpispec._notes import note_label, note_text

    for note in notes:
        print(f"{note_label(lang)}: {note_text(note, lang)}", file=sys.stderr)


def _close_reader(reader: Any) -> None:
    close = getattr(reader, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # closing is best effort: the rows are read or discarded
            pass


def sink_context(project: Any, compiled: Any, *, lang: str = "en", source: str | None = None,
                 currency: str | None = None, stdout: Any = None,
                 csv_safe: bool = True) -> SinkContext:
    """The :class:`SinkContext` of a compiled query's result: metrics, SQL, range, formulas…"""
    from kpispec._formula import metric_formula
    from kpispec._notes import note_text

    settings = getattr(project, "settings", None)
    dialect = getattr(settings, "dialect", "duckdb")
    query = compiled.query
    shown_source = source or getattr(settings, "source", None) or "duckdb:///:memory:"
    try:
        from kpispec.project import parse_source_url

        shown_source = str(parse_source_url(shown_source))
    except Exception:  # only for display: the query already ran on it
        pass
    if currency is None:
        currency = getattr(settings, "currency", "") or ""
    return SinkContext(
        metrics=compiled.metrics,
        dimensions=tuple(d.replace(".", "__") for d in query.dimensions),
        grain=query.grain, lang=lang, stdout=stdout if stdout is not None else sys.stdout,
        sql=compiled.sql, dialect=compiled.dialect, source=shown_source,
        start=query.start, end=query.end, compare=query.compare, baseline=query.baseline,
        formulas={m.name: metric_formula(m, dialect, lang) for m in compiled.metrics},
        dimension_labels=_dimension_labels(project, compiled),
        currency=currency, project=getattr(settings, "name", "") or "",
        notes=tuple(note_text(n, lang) for n in compiled.notes), csv_safe=csv_safe)


def _dimension_labels(project: Any, compiled: Any) -> dict[str, Mapping[str, str]]:
    """Labels of the query's dimensions, from the model that declares each one."""
    models: Mapping[str, Any] = getattr(project, "models", {}) or {}
    own = [model for metric in compiled.metrics for model in getattr(metric, "models", ())]
    labels: dict[str, Mapping[str, str]] = {}
    for name in compiled.query.dimensions:
        owner, _, dim = name.rpartition(".")
        candidates = [owner] if owner else [*own, *sorted(models)]
        for model in candidates:
            found = getattr(models.get(model), "dimensions", {}).get(dim)
            if found is not None:
                if found.labels:
                    labels[name.replace(".", "__")] = dict(found.labels)
                break
    return labels


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
