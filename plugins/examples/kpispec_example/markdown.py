"""The ``markdown`` sink: the result as a Markdown table.

``--sink report.md`` writes a file (atomically: a temporary file renamed over
the target on success, deleted on failure); ``--sink md:-`` or a bare
``--sink md`` prints the table. Metric columns are headed by the metric's label
in the run's language; numbers are right-aligned, floats shown with two
decimals, NULL as an empty cell.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import kpispec

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["SINK", "MarkdownWriter", "cell"]


def cell(value: Any) -> str:
    """One table cell.

    >>> [cell(v) for v in (None, 0.5, decimal.Decimal("1234.5"), 3, dt.date(2024, 1, 1), "a|b")]
    ['', '0.50', '1,234.50', '3', '2024-01-01', 'a\\\\|b']
    """
    if value is None:
        return ""
    if isinstance(value, (float, decimal.Decimal)):
        return f"{value:,.2f}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).replace("|", "\\|")


class MarkdownWriter:
    """A :class:`kpispec.SinkWriter` that renders the whole table on ``close()``."""

    def __init__(self, target: str, schema: pa.Schema, context: kpispec.SinkContext) -> None:
        import pyarrow as pa

        self.target = target
        self.stdout = context.stdout or sys.stdout
        labels = {m.name: m.labels.get(context.lang) or m.labels.get("en") or m.name
                  for m in context.metrics}
        self.header = [labels.get(name, name) for name in schema.names]
        self.numeric = [pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
                        or pa.types.is_decimal(f.type) for f in schema]
        self.rows: list[list[str]] = []

    def write(self, batch: pa.RecordBatch) -> None:
        for row in batch.to_pylist():
            self.rows.append([cell(value) for value in row.values()])

    def render(self) -> str:
        rule = ["---:" if numeric else "---" for numeric in self.numeric]
        lines = [self.header, rule, *self.rows]
        return "".join("| " + " | ".join(line) + " |\n" for line in lines)

    def close(self) -> None:
        text = self.render()
        if self.target in ("", "-"):
            self.stdout.write(text)
            return
        path = Path(self.target)
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def abort(self) -> None:
        self.rows = []  # nothing is written before close(): nothing to undo


def open_markdown(target: str, schema: pa.Schema, context: kpispec.SinkContext) -> MarkdownWriter:
    """Open a writer; ``target`` is a file name, ``-`` or ``""`` (standard output)."""
    return MarkdownWriter(target, schema, context)


SINK = kpispec.SinkType(
    name="markdown",
    schemes=("md", "markdown"),
    extensions=(".md",),
    open=open_markdown,
    description="A Markdown table: --sink report.md, --sink md:- or --sink md.",
)
