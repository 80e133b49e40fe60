"""The ``csv`` sink: the result as a CSV file, written atomically, or on standard output.

Targets: ``kpis.csv``, ``csv:kpis.csv``, ``csv://out/kpis.csv``, or ``-`` /
``csv:-`` for standard output. The first row holds the column names; dates
and times are ISO 8601, NULL is an empty field, floats are written with
Python's shortest round-trip ``repr`` (NaN and infinities, which no metric
value can be, are written as NULL), booleans as ``true``/``false``.

A CSV file is opened by spreadsheets, which run a cell starting with ``=``,
``+``, ``-`` or ``@`` as a formula (``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``):
text cells starting so — or with a tab or a carriage return — are written with
a leading ``'``, which spreadsheets show as text (``SinkContext.csv_safe``,
``--no-csv-safe`` to turn it off). Numbers are never changed: -5 stays -5, and
so does text that is just a number.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kpispec.extensions import SinkContext, SinkType
from kpispec.hookspecs import hookimpl

from kpispec_builtins._files import TextSinkWriter

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["CsvWriter", "csv_field", "open_csv", "register_sinks", "spreadsheet_safe"]

#: What a spreadsheet runs as a formula when a cell starts with it.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Text that is just a number: a spreadsheet reads it as that number, never a formula.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


@hookimpl
def register_sinks(register: Callable[..., None]) -> None:
    """Register the ``csv`` sink (scheme ``csv``, extension ``.csv``)."""
    register(SinkType(name="csv", schemes=("csv",), extensions=(".csv",), open=open_csv,
                      description="CSV file (atomic write), or standard output with '-'."))


def open_csv(target: str, schema: pa.Schema, context: SinkContext) -> CsvWriter:
    """Open a CSV writer on ``target`` (a path, ``csv:path``, ``csv://path`` or ``-``).

    Raises:
        kpispec.errors.ExecutionError: the target's directory does not exist or
            is not writable.
    """
    return CsvWriter(target, schema, context)


class CsvWriter(TextSinkWriter):
    """Writes result batches as CSV rows (a :class:`kpispec.SinkWriter`)."""

    kind = "CSV"
    scheme = "csv"

    def begin(self) -> None:
        self._csv = csv.writer(self.out.stream, lineterminator="\n")
        self._csv.writerow(self.columns)

    def write_batch(self, batch: pa.RecordBatch) -> None:
        columns = [column.to_pylist() for column in batch.columns]
        if getattr(self.context, "csv_safe", True):
            self._csv.writerows([spreadsheet_safe(v) for v in row] for row in zip(*columns))
        else:
            self._csv.writerows([csv_field(v) for v in row] for row in zip(*columns))


def spreadsheet_safe(value: Any) -> str:
    """One CSV field that a spreadsheet shows as written: formula-like text gets a ``'``.

    >>> [spreadsheet_safe(v) for v in ("=1+1", "@SUM(A1)", "-5", -5, "+1e3", "- a", "ok")]
    ["'=1+1", "'@SUM(A1)", '-5', '-5', '+1e3', "'- a", 'ok']
    """
    field = csv_field(value)
    if isinstance(value, str) and field.startswith(_FORMULA_START) and not _NUMBER.fullmatch(
            field):
        return "'" + field
    return field


def csv_field(value: Any) -> str:
    """One CSV field.

    >>> [csv_field(v) for v in (None, 0.1, 3, True, dt.date(2024, 1, 31), float("nan"))]
    ['', '0.1', '3', 'true', '2024-01-31', '']
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)
