"""The ``json`` sink: the result as a JSON array of row objects, written atomically.

Targets: ``kpis.json``, ``json:kpis.json``, ``json://out/kpis.json``, or ``-`` /
``json:-`` for standard output. Each row is one object, keys in column order,
one per line. Dates and times are ISO 8601 strings, NULL is ``null``, floats
round-trip exactly (Python's shortest ``repr``), and NaN or infinities — not
valid JSON — are written as ``null``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kpispec.extensions import SinkContext, SinkType
from kpispec.hookspecs import hookimpl

from kpispec_builtins._files import TextSinkWriter

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["JsonWriter", "json_value", "open_json", "register_sinks"]


@hookimpl
def register_sinks(register: Callable[..., None]) -> None:
    """Register the ``json`` sink (scheme ``json``, extension ``.json``)."""
    register(SinkType(name="json", schemes=("json",), extensions=(".json",), open=open_json,
                      description="JSON array of row objects (atomic write), or standard "
                      "output with '-'."))


def open_json(target: str, schema: pa.Schema, context: SinkContext) -> JsonWriter:
    """Open a JSON writer on ``target`` (a path, ``json:path``, ``json://path`` or ``-``).

    Raises:
        kpispec.errors.ExecutionError: the target's directory does not exist or
            is not writable.
    """
    return JsonWriter(target, schema, context)


class JsonWriter(TextSinkWriter):
    """Writes result batches as a JSON array of objects (a :class:`kpispec.SinkWriter`)."""

    kind = "JSON"
    scheme = "json"

    def begin(self) -> None:
        self._rows = 0
        self.out.stream.write("[")

    def write_batch(self, batch: pa.RecordBatch) -> None:
        columns = [column.to_pylist() for column in batch.columns]
        stream = self.out.stream
        for row in zip(*columns):
            record = {name: json_value(value) for name, value in zip(self.columns, row)}
            stream.write(",\n  " if self._rows else "\n  ")
            stream.write(json.dumps(record, ensure_ascii=False, allow_nan=False))
            self._rows += 1

    def end(self) -> None:
        self.out.stream.write("\n]\n" if self._rows else "]\n")


def json_value(value: Any) -> Any:
    """A value JSON can carry: ISO strings for dates, None for NaN, lists for arrays.

    >>> [json_value(v) for v in (dt.date(2024, 1, 31), float("nan"), 0.1, None)]
    ['2024-01-31', None, 0.1, None]
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int)):  # bool is an int
        return value
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return json_value(float(value))
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
