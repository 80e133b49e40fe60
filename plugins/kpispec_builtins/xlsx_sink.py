"""The ``xlsx`` sink: the result as an Excel workbook (openpyxl), written atomically.

Targets: ``kpis.xlsx``, ``xlsx:kpis.bin``, ``xlsx://out/kpis.xlsx``. Needs the
``xlsx`` extra (``pip install 'kpispec[xlsx]'``). Standard output is refused.

The sheet ``result`` holds one row per result row under a header of column
names (frozen, so it stays in view), dates as Excel dates, numbers as numbers
with a number format on every column: the metric's format (``percent`` values
are already scaled, so 30.0 shows as ``30.0 %``; the change of a percentage in
percentage points, ``+13.1 pp``; ``currency`` with the run's currency symbol),
whole numbers without decimals, other numbers with two. Text is always stored
as text — a dimension value such as ``=HYPERLINK(…)`` is never a formula — with
the control characters Excel cannot hold removed; a NULL dimension value is the
word ``(none)`` in the run's language (NULL metric values stay empty cells).
The sheet ``about`` lists, in the run's language, each metric's label,
description and formula, the query's range and source, and the SQL that ran. Excel holds at most 1,048,575 data
rows; a larger result is refused (use Parquet or CSV).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kpispec.errors import ExecutionError
from kpispec.extensions import SinkContext, SinkType
from kpispec.hookspecs import hookimpl

from kpispec_builtins._files import TextSinkWriter
from kpispec_builtins.table_sink import (
    column_format,
    comparison_text,
    metric_label,
    null_dimension,
)

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["MAX_ROWS", "XlsxWriter", "number_format", "open_xlsx", "register_sinks"]

#: Data rows a worksheet holds (Excel's 1,048,576 rows less the header).
MAX_ROWS = 1_048_575
_INSTALL = "the xlsx sink needs openpyxl: pip install 'kpispec[xlsx]'"
#: Characters Excel cannot store in a cell (XML 1.0 control characters).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@hookimpl
def register_sinks(register: Callable[..., None]) -> None:
    """Register the ``xlsx`` sink (scheme ``xlsx``, extension ``.xlsx``)."""
    register(SinkType(name="xlsx", schemes=("xlsx",), extensions=(".xlsx",), open=open_xlsx,
                      description="Excel workbook: the result, formatted, plus what each metric "
                      "means (atomic write; needs kpispec[xlsx])."))


def open_xlsx(target: str, schema: pa.Schema, context: SinkContext) -> XlsxWriter:
    """Open an Excel writer on ``target`` (a path, ``xlsx:path`` or ``xlsx://path``).

    Raises:
        kpispec.errors.ExecutionError: openpyxl is not installed, the target is ``-``,
            or its directory does not exist or is not writable.
    """
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        raise ExecutionError(_INSTALL) from None
    return XlsxWriter(target, schema, context)


def number_format(fmt: str | None, currency: str = "", *, integer: bool = False) -> str:
    """The Excel number format of a metric format (``integer``: the column holds whole numbers).

    >>> number_format("percent"), number_format("currency", "$"), number_format("currency", "zł")
    ('#,##0.0" %"', '"$"#,##0.00', '#,##0.00" zł"')
    >>> number_format("pp"), number_format(None, integer=True), number_format(None)
    ('+#,##0.0" pp";-#,##0.0" pp";0.0" pp"', '#,##0', '#,##0.00')
    """
    if fmt == "percent":
        return '#,##0.0" %"'
    if fmt == "pp":
        return '+#,##0.0" pp";-#,##0.0" pp";0.0" pp"'
    if fmt == "currency":
        symbol = currency.replace('"', "")
        if not symbol:
            return "#,##0.00"
        return f'"{symbol}"#,##0.00' if len(symbol) == 1 else f'#,##0.00" {symbol}"'
    if fmt in ("days", "hours", "years"):
        return "#,##0.0"
    if fmt == "integer" or integer:
        return "#,##0"
    return "#,##0.00"


class XlsxWriter(TextSinkWriter):
    """Streams result rows into an Excel workbook (a :class:`kpispec.SinkWriter`)."""

    kind = "xlsx"
    scheme = "xlsx"
    binary = True
    example = "out.xlsx"

    def begin(self) -> None:
        import pyarrow as pa
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        self._rows = 0
        self._book: Any = Workbook(write_only=True)
        sheet = self._sheet = self._book.create_sheet("result")
        sheet.freeze_panes = "A2"
        currency = getattr(self.context, "currency", "") or ""
        self._formats: list[str | None] = []
        self._nulls: list[str | None] = []  # what a NULL is written as, per column
        null = null_dimension(self.context.lang)
        for index, field in enumerate(self.schema, start=1):
            self._nulls.append(null if field.name in self.context.dimensions else None)
            numeric = (pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
                       or pa.types.is_decimal(field.type))
            fmt, is_metric = column_format(field.name, self.context)
            if pa.types.is_date(field.type) or field.name == "period":
                shown = "yyyy-mm-dd"
            elif pa.types.is_timestamp(field.type):
                shown = "yyyy-mm-dd hh:mm:ss"
            elif numeric and (is_metric or fmt):
                shown = number_format(fmt, currency, integer=pa.types.is_integer(field.type))
            elif pa.types.is_integer(field.type):
                shown = "0"
            elif numeric:
                shown = "General"
            else:
                shown = "@"  # text
            self._formats.append(shown)
            sheet.column_dimensions[get_column_letter(index)].width = max(12, min(48, len(field.name) + 4))
        bold = Font(bold=True)
        header = []
        for name in self.columns:
            cell = WriteOnlyCell(sheet, value=_text(name))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        self._cell = WriteOnlyCell

    def write_batch(self, batch: pa.RecordBatch) -> None:
        if self._rows + batch.num_rows > MAX_ROWS:
            raise ExecutionError(f"xlsx sink: the result has more than {MAX_ROWS:,} rows, more "
                                 "than an Excel sheet holds; write .parquet or .csv instead")
        self._rows += batch.num_rows
        columns = [column.to_pylist() for column in batch.columns]
        sheet = self._sheet
        for row in zip(*columns):
            cells = []
            for value, shown, null in zip(row, self._formats, self._nulls):
                cell = self._cell(sheet, value=None)
                cell_value = _cell_value(value) if value is not None or null is None else null
                if isinstance(cell_value, str):
                    cell.value = cell_value
                    cell.data_type = "s"  # text stays text: never a formula
                    if shown == "@":
                        cell.number_format = shown
                else:
                    cell.value = cell_value
                    if shown and cell_value is not None:
                        cell.number_format = shown
                cells.append(cell)
            sheet.append(cells)

    def end(self) -> None:
        self._about()
        self._book.save(self.out.binary_stream)  # type: ignore[union-attr]

    def abort(self) -> None:
        """Discard the output and openpyxl's own temporary sheet files, quietly."""
        for sheet in getattr(getattr(self, "_book", None), "worksheets", ()):
            writer = getattr(sheet, "_writer", None)
            if writer is None:
                continue
            stream = getattr(writer, "xf", None)
            if stream is not None:
                try:
                    stream.close()  # a half-written sheet: its generator failed mid-write
                except Exception:
                    pass
                writer.xf = None
            try:
                writer.cleanup()  # delete the sheet's temporary file
            except Exception:
                pass
        super().abort()

    def _about(self) -> None:
        from kpispec._i18n import grain_text, text
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        context = self.context
        lang = context.lang
        sheet = self._book.create_sheet("about")
        sheet.column_dimensions["A"].width = 28
        sheet.column_dimensions["B"].width = 40
        sheet.column_dimensions["C"].width = 60
        sheet.column_dimensions["D"].width = 80
        bold = Font(bold=True)

        def row(*values: Any, header: bool = False) -> None:
            cells = []
            for value in values:
                cell = WriteOnlyCell(sheet, value=_text(str(value)) if value is not None else None)
                if value is not None:
                    cell.data_type = "s"
                if header:
                    cell.font = bold
                cells.append(cell)
            sheet.append(cells)

        row(*(text(key, lang).lower() for key in ("metric", "label", "description", "formula")),
            header=True)
        formulas = getattr(context, "formulas", {}) or {}
        for metric in context.metrics:
            row(metric.name, metric_label(metric, context.lang),
                getattr(metric, "description", "") or "", formulas.get(metric.name, ""))
        row()
        start, end = getattr(context, "start", None), getattr(context, "end", None)
        for key, value in (("grain", grain_text(context.grain, lang)),
                           ("from", start.isoformat() if start else text("open", lang)),
                           ("to_exclusive", end.isoformat() if end else text("open", lang)),
                           ("dimensions", ", ".join(context.dimensions) or text("null", lang)),
                           ("comparison", comparison_text(context) or text("null", lang)),
                           ("source", getattr(context, "source", "") or ""),
                           ("rows", f"{self._rows:,}")):
            row(text(key, lang).lower(), value)
        notes = getattr(context, "notes", ()) or ()  # already in the run's language
        if notes:
            row()
            row(text("notes", lang), header=True)
            for note in notes:
                row(note)
        sql = getattr(context, "sql", "")
        if sql:
            row()
            row(text("sql", lang), header=True)
            for line in sql.splitlines():
                row(line)


def _text(value: str) -> str:
    return _ILLEGAL.sub("", value)


def _cell_value(value: Any) -> Any:
    """A value openpyxl stores faithfully: naive datetimes, finite floats, clean text."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:  # Excel has no time zones: store UTC
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value
    if isinstance(value, (dt.date, dt.time)):
        return value
    if isinstance(value, bytes):
        return value.hex()
    return _text(str(value))
