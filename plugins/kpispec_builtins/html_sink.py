"""The ``html`` sink: a self-contained HTML report with a chart per metric, written atomically.

Targets: ``report.html`` (or ``.htm``), ``html:report.txt``, ``html://out/report.html``,
or ``html:-`` for standard output.

One file, nothing fetched: the styles are inline, the charts are inline SVG
drawn by kpispec (no JavaScript at all), and a Content-Security-Policy forbids
the page any request, so it opens offline, from a mail attachment or a file
share alike. For each metric, a section with its label (in ``--lang``),
description and formula; a chart over the periods — a line per dimension value
(the 12 largest; the table has every row), or grouped bars for a single period
— with a dashed target line where the metric has targets and a dotted line
for the comparison value when there is one series; and a table of the values,
formatted by the metric's format, with the comparison and target columns when
the run asked for them. The SQL that ran closes the report. It prints on A4
or Letter: no navigation, one section per page where it fits.

Templates are Jinja2 files shipped in ``kpispec_builtins/templates`` (autoescaped:
labels and dimension values are text, never markup).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kpispec.extensions import SinkContext, SinkType
from kpispec.hookspecs import hookimpl

from kpispec_builtins._files import TextSinkWriter
from kpispec_builtins.table_sink import (
    column_format,
    column_header,
    comparison_text,
    dimension_label,
    format_metric,
    metric_label,
    null_dimension,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from kpispec_builtins._charts import Chart

__all__ = ["MAX_SERIES", "MAX_TABLE_ROWS", "HtmlReportWriter", "open_html", "register_sinks",
           "render_report"]

#: Lines a chart draws at most (the largest series by mean absolute value).
MAX_SERIES = 12
#: Rows a metric's table shows at most (the report says when it shows fewer).
MAX_TABLE_ROWS = 1000


@hookimpl
def register_sinks(register: Callable[..., None]) -> None:
    """Register the ``html`` sink (scheme ``html``, extensions ``.html``, ``.htm``)."""
    register(SinkType(name="html", schemes=("html",), extensions=(".html", ".htm"),
                      open=open_html,
                      description="Self-contained HTML report: a chart, table and formula per "
                      "metric, and the SQL (atomic write; works offline)."))


def open_html(target: str, schema: pa.Schema, context: SinkContext) -> HtmlReportWriter:
    """Open a report writer on ``target`` (a path, ``html:path``, ``html://path`` or ``html:-``).

    Raises:
        kpispec.errors.ExecutionError: the target's directory does not exist or
            is not writable.
    """
    return HtmlReportWriter(target, schema, context)


class HtmlReportWriter(TextSinkWriter):
    """Collects the result and writes the report on close (a :class:`kpispec.SinkWriter`)."""

    kind = "HTML"
    scheme = "html"
    example = "report.html"

    def begin(self) -> None:
        self._columns: dict[str, list[Any]] = {name: [] for name in self.columns}

    def write_batch(self, batch: pa.RecordBatch) -> None:
        for name, column in zip(self.columns, batch.columns):
            self._columns[name].extend(column.to_pylist())

    def end(self) -> None:
        self.out.stream.write(render_report(self._columns, self.context))


# -- the report's view model ---------------------------------------------------------------


@dataclass
class _Table:
    headers: list[str]
    numeric: list[bool]
    rows: list[list[str]]
    total: int


@dataclass
class _Section:
    name: str
    label: str
    description: str
    formula: str
    format: str | None
    chart: Chart | None
    legend: list[tuple[str, str, str]]  # (name, colour, kind)
    table: _Table
    notes: list[str] = field(default_factory=list)


def render_report(columns: Mapping[str, list[Any]], context: SinkContext,
                  generated: dt.datetime | None = None) -> str:
    """The report's HTML for a result given as {column: values}."""
    import jinja2
    from kpispec._i18n import grain_text, text

    lang = context.lang
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("kpispec_builtins", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined)
    rows = len(next(iter(columns.values()), []))
    generated = generated or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    names = list(columns)
    sections = [_section(metric, names, columns, rows, context) for metric in context.metrics]
    if not context.metrics:  # no metadata: one section per numeric column
        sections = [_section(_Bare(name), names, columns, rows, context) for name in names
                    if name not in context.dimensions and name not in ("period", "period_label")
                    and any(isinstance(v, (int, float)) and not isinstance(v, bool)
                            for v in columns[name])]
    start, end = getattr(context, "start", None), getattr(context, "end", None)
    title = getattr(context, "project", "") or text("title", lang)

    def words(key: str, **values: Any) -> str:
        return text(key, lang, **values)

    return environment.get_template("report.html.j2").render(
        title=title, lang=lang, t=words, sections=sections, rows=rows,
        grain=grain_text(context.grain, lang),
        start=start.isoformat() if start else None, end=end.isoformat() if end else None,
        dimensions=[dimension_label(d, context) for d in context.dimensions],
        compare=comparison_text(context), source=getattr(context, "source", ""),
        sql=getattr(context, "sql", ""), dialect=getattr(context, "dialect", ""),
        notes=list(getattr(context, "notes", ()) or ()), generated=generated.isoformat(" "),
    )


@dataclass
class _Bare:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    format: str | None = None
    description: str = ""


def _section(metric: Any, names: list[str], columns: Mapping[str, list[Any]], rows: int,
             context: SinkContext) -> _Section:
    from kpispec._i18n import text

    from kpispec_builtins._charts import PALETTE, Series, build_chart, compact_number, period_text

    lang = context.lang
    null = null_dimension(lang)
    name = metric.name
    fmt = getattr(metric, "format", None)
    currency = getattr(context, "currency", "") or ""
    keys = [n for n in names if n in ("period", "period_label") or n in context.dimensions]
    dims = [n for n in names if n in context.dimensions]
    own = [n for n in names if n == name or n.startswith(name + "__")]
    notes: list[str] = []

    # Periods in order, and one series per combination of dimension values.
    period_values = columns.get("period", [None] * rows)
    order: list[Any] = sorted({_key(p) for p in period_values}, key=_sortable)
    labels_of: dict[Any, str] = {}
    if "period_label" in columns:
        for p, label in zip(period_values, columns["period_label"]):
            labels_of.setdefault(_key(p), str(label))
    x_labels = [labels_of.get(p) or period_text(p, context.grain, lang) for p in order]
    index = {p: i for i, p in enumerate(order)}
    series: dict[tuple[Any, ...], list[float | None]] = {}
    compare: dict[tuple[Any, ...], list[float | None]] = {}
    targets: list[float | None] = [None] * len(order)
    for r in range(rows):
        combo = tuple(columns[d][r] for d in dims)
        slot = index[_key(period_values[r])]
        series.setdefault(combo, [None] * len(order))[slot] = _float(columns.get(name, [None] * rows)[r])
        if f"{name}__compare" in columns:
            compare.setdefault(combo, [None] * len(order))[slot] = _float(columns[f"{name}__compare"][r])
        if f"{name}__target" in columns and targets[slot] is None:
            targets[slot] = _float(columns[f"{name}__target"][r])
    if f"{name}__target" not in columns:
        targets = _spec_targets(metric, order, context.grain)

    def size(values: list[float | None]) -> float:
        present = [abs(v) for v in values if v is not None]
        return sum(present) / len(present) if present else -1.0

    ranked = sorted(series, key=lambda c: -size(series[c]))
    if len(ranked) > MAX_SERIES:
        notes.append(text("chart_some", lang, shown=MAX_SERIES, total=len(ranked)))
        ranked = ranked[:MAX_SERIES]
    chart_series = []
    for k, combo in enumerate(sorted(ranked, key=lambda c: tuple(_sortable(v) for v in c))):
        shown = " / ".join(null if v is None else str(v) for v in combo) or \
            metric_label(metric, lang)
        chart_series.append(Series(shown, series[combo], PALETTE[k % len(PALETTE)]))
    if len(series) == 1 and compare:
        what = comparison_text(context) or text("comparison", lang)
        chart_series.append(Series(text("compare_series", lang, what=what),
                                   next(iter(compare.values())), "#6b7280", "compare"))
    if any(t is not None for t in targets):
        chart_series.append(Series(text("target", lang), targets, "#b91c1c", "target"))

    def tick(value: float) -> str:
        return compact_number(value, fmt, currency)

    chart = None
    if order and any(v is not None for s in chart_series for v in s.values):
        chart = build_chart(x_labels, chart_series, label=tick, bar=len(order) == 1)
    elif rows:
        notes.append(text("no_values", lang))

    # The metric's table: keys, then its own columns.
    shown_columns = keys + own
    headers = []
    numeric = []
    for column in shown_columns:
        if column in context.dimensions:
            headers.append(dimension_label(column, context))
            numeric.append(False)
        elif column == name:
            headers.append(metric_label(metric, context.lang))
            numeric.append(True)
        elif column in own:
            suffix = column[len(name) + 2:]
            headers.append(column_header(suffix, lang))
            numeric.append(True)
        else:
            headers.append(text(column, lang) if column in ("period", "period_label") else column)
            numeric.append(False)
    formats = [column_format(c, context)[0] if c in own else None for c in shown_columns]
    table_rows = []
    for r in range(min(rows, MAX_TABLE_ROWS)):
        cells = []
        for column, is_number, cell_fmt in zip(shown_columns, numeric, formats):
            value = columns[column][r]
            if is_number:
                cells.append(format_metric(value, cell_fmt, currency))
            elif value is None:
                cells.append(null)
            elif isinstance(value, dt.datetime) and value.time() == dt.time():
                cells.append(value.date().isoformat())
            elif isinstance(value, (dt.date, dt.time)):
                cells.append(value.isoformat())
            else:
                cells.append(str(value))
        table_rows.append(cells)
    if rows > MAX_TABLE_ROWS:
        notes.append(text("table_rows", lang, shown=f"{MAX_TABLE_ROWS:,}", total=f"{rows:,}"))
    legend = [(s.name, s.color, s.kind) for s in chart_series] if chart is not None else []
    return _Section(name=name, label=metric_label(metric, context.lang),
                    description=getattr(metric, "description", "") or "",
                    formula=(getattr(context, "formulas", {}) or {}).get(name, ""),
                    format=fmt, chart=chart, legend=legend,
                    table=_Table(headers, numeric, table_rows, rows), notes=notes)


def _spec_targets(metric: Any, order: list[Any], grain: str) -> list[float | None]:
    """Targets from the metric's spec when the run did not add ``__target`` columns."""
    targets = getattr(metric, "targets", None)
    if targets is None:
        return [None] * len(order)
    periods: Mapping[Any, float] = getattr(targets, "periods", {}) or {}
    at_grain = getattr(targets, "grain", None) in (None, grain)
    constant = getattr(targets, "value", None)
    out: list[float | None] = []
    for p in order:
        value = periods.get(p) if at_grain and periods else None
        out.append(_float(value if value is not None else constant))
    return out


def _key(value: Any) -> Any:
    return value.date() if isinstance(value, dt.datetime) and value.time() == dt.time() else value


def _sortable(value: Any) -> tuple[bool, Any]:
    """Sort key: NULL last, everything else by its own order (a column holds one type)."""
    return (value is None, 0 if value is None else value)


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
