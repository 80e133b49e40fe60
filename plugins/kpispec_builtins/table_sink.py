"""The ``table`` sink: the result as a table on the terminal (the default sink).

Metric columns are headed by the metric's label in the requested language
(falling back to English, then to the metric's name) and formatted by the
metric's ``format``; ``<metric>__<suffix>`` columns (comparisons, targets) are
headed ``Label (suffix)``, the suffix in the same language; the change of a
``percent`` metric is in percentage points (``+13.1 pp``); ``currency`` values
carry the run's currency symbol (``--currency`` or kpispec.yaml's ``currency``).
Dimension columns are headed by the dimension's label where the model gives one.
NULL metric values show as ``—``, NULL dimension values as a word
(``(none)``, ``(brak)`` in Polish…).

On a terminal, a table wider than the window is printed as several tables,
each with the period and dimension columns followed by as many metric columns
as fit (long text folds within its column). When standard output is not a
terminal the table is rendered without colour and without a width limit, so
piped output is stable and never truncated. rich is imported only when the
table is printed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from kpispec.extensions import SinkContext, SinkType
from kpispec.hookspecs import hookimpl

if TYPE_CHECKING:
    import pyarrow as pa
    from rich.console import Console
    from rich.table import Table

__all__ = [
    "NULL_DIMENSION",
    "NULL_METRIC",
    "TableWriter",
    "column_blocks",
    "column_format",
    "column_header",
    "comparison_text",
    "dimension_label",
    "format_metric",
    "metric_label",
    "null_dimension",
    "open_table",
    "register_sinks",
]

#: Shown for a NULL metric value.
NULL_METRIC = "—"
#: Shown for a NULL dimension value in English (:func:`null_dimension` in other languages).
NULL_DIMENSION = "(none)"
#: Suffixes of derived columns whose values are percentages whatever the metric's format.
_PERCENT_SUFFIXES = frozenset({"change_pct", "attainment"})
#: Suffixes kpispec names itself: their headers are words in the run's language.
_SUFFIXES = frozenset({"compare", "change", "change_pct", "target", "attainment"})
_DURATIONS = frozenset({"days", "hours", "years"})
#: Console width for piped output: wide enough that rich never wraps or truncates.
_UNBOUNDED_WIDTH = 1_000_000


@hookimpl
def register_sinks(register: Callable[..., None]) -> None:
    """Register the ``table`` sink (scheme ``table``)."""
    register(SinkType(name="table", schemes=("table",), open=open_table,
                      description="A formatted table on the terminal (the default)."))


def open_table(target: str, schema: pa.Schema, context: SinkContext) -> TableWriter:
    """Open a terminal table writer; ``target`` is ignored, output goes to ``context.stdout``."""
    return TableWriter(schema, context)


def metric_label(metric: Any, lang: str) -> str:
    """A metric's label in ``lang``, else in English, else its name.

    >>> from types import SimpleNamespace as NS
    >>> metric_label(NS(name="close_rate", labels={"en": "Close rate", "pl": "Współczynnik"}), "it")
    'Close rate'
    """
    name = str(getattr(metric, "name", metric))
    labels = getattr(metric, "labels", None) or {}
    if isinstance(labels, str):
        return labels
    for key in (lang, "en"):
        label = labels.get(key)
        if label:
            return str(label)
    return name


def format_metric(value: Any, fmt: str | None, currency: str = "") -> str:
    """A metric value as the table shows it.

    ``percent`` values are already scaled (``30.0`` is 30 %); ``pp`` (percentage
    points: the change of a percentage) is signed; ``number`` and no format use
    thousands separators and at most two decimals; ``currency`` shows ``currency`` —
    one character before the number, a longer one after it.

    >>> [format_metric(v, f) for v, f in [(30, "percent"), (1234.5, "currency"), (12.34, "days"),
    ...                                  (1234567, None), (1234.5678, "number"), (None, "number")]]
    ['30.0 %', '1,234.50', '12.3', '1,234,567', '1,234.57', '—']
    >>> format_metric(13.08, "pp"), format_metric(-2.5, "pp"), format_metric(0.01, "pp")
    ('+13.1 pp', '-2.5 pp', '0.0 pp')
    >>> format_metric(-1234.5, "currency", "$"), format_metric(1234.5, "currency", "zł")
    ('-$1,234.50', '1,234.50 zł')
    """
    if value is None:
        return NULL_METRIC
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("∞" if value > 0 else "-∞")
    if fmt == "percent":
        text = f"{value:,.1f} %"
    elif fmt == "pp":
        text = f"{value:+,.1f} pp"
    elif fmt == "currency":
        text = f"{value:,.2f}"
    elif fmt in _DURATIONS:
        text = f"{value:,.1f}"
    elif isinstance(value, int):
        return f"{value:,d}"
    else:
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    if text[:1] in "+-" and not text.strip("+-0.,% p"):
        text = text[1:]  # a value rounding to 0 shows as "0.0", never "-0.0" or "+0.0"
    if fmt == "currency" and currency:
        sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
        text = f"{sign}{currency}{digits}" if len(currency) == 1 else f"{text} {currency}"
    return text


def column_format(name: str, context: SinkContext) -> tuple[str | None, bool]:
    """The display format of result column ``name`` and whether it holds metric values.

    ``<metric>__change_pct`` and ``__attainment`` are percentages whatever the metric's
    format; ``<metric>__change`` of a ``percent`` metric is in percentage points (``pp``);
    other ``<metric>__<suffix>`` columns take the metric's (or the metric type's
    ``column_formats``).
    """
    metrics: Mapping[str, Any] = {str(getattr(m, "name", m)): m for m in context.metrics}
    if name in metrics:
        return getattr(metrics[name], "format", None), True
    base, sep, suffix = name.partition("__")
    if sep and base in metrics:
        metric = metrics[base]
        fmt = (getattr(metric, "column_formats", None) or {}).get(suffix) or (
            "percent" if suffix in _PERCENT_SUFFIXES else getattr(metric, "format", None))
        if suffix == "change" and fmt == "percent":
            fmt = "pp"
        return fmt, True
    return None, False


def column_header(suffix: str, lang: str) -> str:
    """The words for a ``<metric>__<suffix>`` column: ``change`` → ``zmiana`` in Polish."""
    from kpispec._i18n import text

    return text(suffix, lang) if suffix in _SUFFIXES else suffix.replace("_", " ")


def comparison_text(context: SinkContext) -> str:
    """The run's comparison in words in its language (empty: none): ``previous period``,
    ``baseline 2024-01-01 to 2024-04-01``."""
    from kpispec._i18n import text

    compare = getattr(context, "compare", None) or ""
    baseline = getattr(context, "baseline", None)
    if compare == "baseline" and baseline:
        return text("baseline", context.lang, start=baseline[0], end=baseline[1])
    if compare in ("previous_period", "same_period_last_year"):
        return text(compare, context.lang)
    return compare.replace("_", " ")


def null_dimension(lang: str) -> str:
    """What a NULL dimension value is shown as in ``lang``: ``(none)``, ``(brak)``…"""
    from kpispec._i18n import text

    return text("null", lang)


def dimension_label(name: str, context: SinkContext) -> str:
    """A dimension column's header: its label in the context's language, else its name
    (``customers__segment`` shown as ``customers.segment``)."""
    labels = (getattr(context, "dimension_labels", None) or {}).get(name) or {}
    for key in (context.lang, "en"):
        if labels.get(key):
            return str(labels[key])
    return name.replace("__", ".")


@dataclass(frozen=True)
class _Column:
    name: str
    header: str
    kind: str  # "period", "dimension", "metric" or "other"
    fmt: str | None = None
    numeric: bool = False


class TableWriter:
    """Collects result batches and prints them as one table on :meth:`close`."""

    def __init__(self, schema: pa.Schema, context: SinkContext) -> None:
        self.schema = schema
        self.context = context
        self._batches: list[pa.RecordBatch] = []
        self._done = False

    def write(self, batch: pa.RecordBatch) -> None:
        """Keep one batch for printing."""
        if not self._done:
            self._batches.append(batch)

    def close(self) -> None:
        """Print the table (or ``(no rows)``) to ``context.stdout``."""
        if self._done:
            return
        self._done = True
        out = self.context.stdout if self.context.stdout is not None else sys.stdout
        rows = [row for batch in self._batches for row in _rows(batch)]
        self._batches = []
        if not rows:
            out.write("(no rows)\n")
            out.flush()
            return
        columns = _columns(self.schema, self.context)
        currency = getattr(self.context, "currency", "") or ""
        null = null_dimension(self.context.lang)
        cells = [[_cell(column, value, currency, null) for column, value in zip(columns, row)]
                 for row in rows]
        if _is_terminal(out):
            console = _console(out, terminal=True)
            for number, block in enumerate(column_blocks(columns, cells, console.width)):
                if number:
                    console.print()
                console.print(_table([columns[i] for i in block],
                                     [[row[i] for i in block] for row in cells], console))
        else:  # plain text, no width limit, no trailing blanks: stable when piped
            buffer = io.StringIO()
            console = _console(buffer, terminal=False)
            console.print(_table(columns, cells, console))
            out.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))
        out.flush()

    def abort(self) -> None:
        """Drop the collected rows; nothing is printed."""
        self._done = True
        self._batches = []


def _rows(batch: pa.RecordBatch) -> list[tuple[Any, ...]]:
    return list(zip(*(column.to_pylist() for column in batch.columns)))


def _columns(schema: pa.Schema, context: SinkContext) -> list[_Column]:
    import pyarrow as pa
    from kpispec._i18n import text

    metrics: Mapping[str, Any] = {str(getattr(m, "name", m)): m for m in context.metrics}
    dimensions = set(context.dimensions)
    columns = []
    for field in schema:
        name = field.name
        numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type) \
            or pa.types.is_decimal(field.type)
        if name in ("period", "period_label"):
            columns.append(_Column(name, text(name, context.lang), "period"))
        elif name in dimensions:
            columns.append(_Column(name, dimension_label(name, context), "dimension"))
        elif name in metrics:
            metric = metrics[name]
            columns.append(_Column(name, metric_label(metric, context.lang), "metric",
                                   getattr(metric, "format", None), True))
        elif "__" in name and name.split("__", 1)[0] in metrics:
            base, suffix = name.split("__", 1)
            header = (f"{metric_label(metrics[base], context.lang)} "
                      f"({column_header(suffix, context.lang)})")
            columns.append(_Column(name, header, "metric", column_format(name, context)[0], True))
        elif numeric and not context.metrics:  # no metadata: treat numbers as metrics
            columns.append(_Column(name, name, "metric", None, True))
        else:
            columns.append(_Column(name, name, "other", None, numeric))
    return columns


def _is_terminal(out: TextIO) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _console(out: TextIO, *, terminal: bool) -> Console:
    from rich.console import Console

    if terminal:
        return Console(file=out, highlight=False, markup=False, emoji=False)
    return Console(file=out, width=_UNBOUNDED_WIDTH, color_system=None, no_color=True,
                   force_terminal=False, force_jupyter=False, force_interactive=False,
                   highlight=False, markup=False, emoji=False, soft_wrap=True)


#: Columns between two columns of the table (rich's padding).
_GAP = 2


def column_blocks(columns: list[_Column], cells: list[list[Any]], width: int) -> list[list[int]]:
    """Split a table wider than ``width`` into blocks of columns that each fit.

    Every block repeats the key columns (period, period_label, dimensions), so each
    printed block reads on its own; the other columns keep their order. A column
    too wide to fit even alone gets a block of its own (rich folds its text).
    """
    def natural(index: int) -> int:
        from rich.cells import cell_len

        widest = max((cell_len(str(row[index])) for row in cells), default=0)
        return max(widest, max(cell_len(word) for word in columns[index].header.split() or [""]))

    keys = [i for i, c in enumerate(columns) if c.kind in ("period", "dimension")]
    rest = [i for i in range(len(columns)) if i not in keys]
    sizes = {i: natural(i) for i in range(len(columns))}
    used = sum(sizes[i] for i in keys) + _GAP * max(len(keys) - 1, 0)
    if used + sum(sizes[i] + _GAP for i in rest) <= width or not rest:
        return [list(range(len(columns)))]
    blocks: list[list[int]] = []
    current: list[int] = []
    taken = used
    for i in rest:
        extra = sizes[i] + (_GAP if keys or current else 0)
        if current and taken + extra > width:
            blocks.append(sorted(keys + current))
            current, taken = [], used
            extra = sizes[i] + (_GAP if keys else 0)
        current.append(i)
        taken += extra
    blocks.append(sorted(keys + current))
    return blocks


def _table(columns: list[_Column], rows: list[list[Any]], console: Console) -> Table:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(Text(column.header, style="bold"),
                         justify="right" if column.numeric else "left",
                         no_wrap=column.numeric or not console.is_terminal,
                         overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _cell(column: _Column, value: Any, currency: str = "", null: str = NULL_DIMENSION) -> Any:
    from rich.text import Text

    if column.kind == "metric" or (column.numeric and value is not None):
        text = format_metric(value, column.fmt, currency)
        return Text(text, style="dim") if value is None else Text(text)
    if value is None:
        return Text(null, style="dim")
    if column.kind == "period" and isinstance(value, dt.datetime):
        return Text(value.date().isoformat() if value.time() == dt.time() else value.isoformat(" "))
    if isinstance(value, (dt.date, dt.time)):
        return Text(value.isoformat())
    return Text(str(value))
