"""The ``openmetrics`` sink: the latest period as OpenMetrics / Prometheus text exposition.

Targets: ``openmetrics:-`` (standard output), ``kpis.prom``, ``openmetrics:path``.
A file is written atomically, as the node_exporter textfile collector wants it.

Only the rows of the latest period in the result are written. Each metric column
becomes a gauge family ``kpispec_<column>`` (``kpispec_close_rate``,
``kpispec_close_rate__change_pct``…) whose HELP is the metric's description (else
its label), with one sample per row: the dimensions are its labels
(``region="EMEA"``; a NULL dimension is an empty label value). NULL, NaN and
infinite values are left out, never written as NaN. A gauge
``kpispec_period_start_seconds`` says which period the values are for (its first
day, as Unix time). The exposition ends with ``# EOF``. Names are made valid
(any other character becomes ``_``), and text is escaped as the format requires.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kpispec.extensions import SinkContext, SinkType
from kpispec.hookspecs import hookimpl

from kpispec_builtins._files import TextSinkWriter
from kpispec_builtins.table_sink import column_format, metric_label

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["PREFIX", "OpenMetricsWriter", "escape", "metric_name", "open_openmetrics",
           "register_sinks"]

#: Every family name starts with it.
PREFIX = "kpispec_"
_INVALID_NAME = re.compile(r"[^a-zA-Z0-9_:]")
_INVALID_LABEL = re.compile(r"[^a-zA-Z0-9_]")
#: Sample-name suffixes OpenMetrics keeps for counters, histograms and summaries.
_RESERVED_SUFFIXES = ("_total", "_created", "_count", "_sum", "_bucket", "_gcount", "_gsum", "_info")


@hookimpl
def register_sinks(register: Callable[..., None]) -> None:
    """Register the ``openmetrics`` sink (schemes ``openmetrics``, ``prometheus``; ``.prom``)."""
    register(SinkType(name="openmetrics", schemes=("openmetrics", "prometheus"),
                      extensions=(".prom",), open=open_openmetrics,
                      description="OpenMetrics text of the latest period, for Prometheus "
                      "(atomic write), or standard output with '-'."))


def open_openmetrics(target: str, schema: pa.Schema, context: SinkContext) -> OpenMetricsWriter:
    """Open an OpenMetrics writer on ``target`` (a path, ``openmetrics:path`` or ``-``).

    Raises:
        kpispec.errors.ExecutionError: the target's directory does not exist or
            is not writable.
    """
    if target.lower().startswith("prometheus:"):
        target = "openmetrics:" + target[len("prometheus:"):]
    return OpenMetricsWriter(target, schema, context)


def metric_name(column: str) -> str:
    """The family name of a result column.

    >>> metric_name("close_rate"), metric_name("deals_total"), metric_name("9lives")
    ('kpispec_close_rate', 'kpispec_deals_total_value', 'kpispec_9lives')
    """
    name = PREFIX + _INVALID_NAME.sub("_", column)
    return name + "_value" if name.endswith(_RESERVED_SUFFIXES) else name


def label_name(column: str) -> str:
    """A label name for a dimension column (``[a-zA-Z_][a-zA-Z0-9_]*``, no leading ``__``).

    >>> label_name("customers__segment"), label_name("__x"), label_name("1st")
    ('customers__segment', 'dim__x', '_1st')
    """
    name = _INVALID_LABEL.sub("_", column) or "_"
    if name.startswith("__"):
        name = "dim" + name
    return "_" + name if name[0].isdigit() else name


def escape(text: str) -> str:
    r"""Text as a label value or HELP string: backslash, double quote and newline escaped.

    The format has no escape for a carriage return, and a reader that splits
    lines (Python's universal newlines, ``prometheus_client``) splits at one:
    ``\r\n`` and a lone ``\r`` are line breaks, written as ``\n``.

    >>> escape('a "b"\\c\nd')
    'a \\"b\\"\\\\c\\nd'
    >>> escape('a\rb\r\nc')
    'a\\nb\\nc'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    return None


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


class OpenMetricsWriter(TextSinkWriter):
    """Keeps the latest period's rows and writes them as OpenMetrics on close."""

    kind = "OpenMetrics"
    scheme = "openmetrics"
    example = "kpis.prom"

    def begin(self) -> None:
        self._latest: Any = None
        self._rows: list[tuple[Any, ...]] = []
        self._period = self.columns.index("period") if "period" in self.columns else None

    def write_batch(self, batch: pa.RecordBatch) -> None:
        columns = [column.to_pylist() for column in batch.columns]
        for row in zip(*columns):
            period = row[self._period] if self._period is not None else None
            key = _day(period) or period
            if self._latest is None or (key is not None and key > self._latest):
                self._latest, self._rows = key, [row]
            elif key == self._latest:
                self._rows.append(row)

    def end(self) -> None:
        context = self.context
        dimensions = [i for i, name in enumerate(self.columns)
                      if name in context.dimensions or name == "period_label"]
        labels = [(i, label_name(self.columns[i])) for i in dimensions]
        metrics = {m.name: m for m in context.metrics}
        stream = self.out.stream
        for index, column in enumerate(self.columns):
            _, is_metric = column_format(column, context)
            if not is_metric and (context.metrics or index in dimensions or index == self._period):
                continue
            samples = []
            for row in self._rows:
                value = _number(row[index])
                if value is None:
                    continue
                pairs = ",".join(f'{name}="{escape("" if row[i] is None else str(row[i]))}"'
                                 for i, name in labels)
                samples.append(f"{{{pairs}}} {value}" if pairs else f" {value}")
            if not samples:
                continue
            name = metric_name(column)
            base, _, suffix = column.partition("__")
            metric = metrics.get(base)
            help_text = ""
            if metric is not None:
                help_text = (getattr(metric, "description", "") or
                             metric_label(metric, context.lang)).strip()
                if suffix:
                    help_text = f"{help_text} ({suffix.replace('_', ' ')})"
            stream.write(f"# TYPE {name} gauge\n")
            if help_text:
                stream.write(f"# HELP {name} {escape(' '.join(help_text.split()))}\n")
            for sample in samples:
                stream.write(f"{name}{sample}\n")
        day = _day(self._latest)
        if day is not None:
            seconds = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())
            name = PREFIX + "period_start_seconds"
            stream.write(f"# TYPE {name} gauge\n# UNIT {name} seconds\n"
                         f"# HELP {name} First day of the period the values are for "
                         f"({context.grain}), as Unix time.\n{name} {seconds}\n")
        stream.write("# EOF\n")
