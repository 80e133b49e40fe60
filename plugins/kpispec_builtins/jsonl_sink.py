"""The ``jsonl`` sink: the result as JSON Lines (one JSON object per row), written atomically.

Targets: ``kpis.jsonl`` or ``kpis.ndjson``, ``jsonl:kpis.txt``, ``ndjson:kpis.txt``,
or ``-`` / ``jsonl:-`` for standard output. Each line is one row object, keys in
column order; values follow the ``json`` sink: dates and times as ISO 8601
strings, NULL (and NaN or infinities, not valid JSON) as ``null``, floats with
Python's shortest round-trip ``repr``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from kpispec.extensions import SinkContext, SinkType
from kpispec.hookspecs import hookimpl

from kpispec_builtins._files import TextSinkWriter, strip_scheme
from kpispec_builtins.json_sink import json_value

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["JsonLinesWriter", "open_jsonl", "register_sinks"]


@hookimpl
def register_sinks(register: Callable[..., None]) -> None:
    """Register the ``jsonl`` sink (schemes ``jsonl``, ``ndjson``; ``.jsonl``, ``.ndjson``)."""
    register(SinkType(name="jsonl", schemes=("jsonl", "ndjson"), extensions=(".jsonl", ".ndjson"),
                      open=open_jsonl,
                      description="JSON Lines, one object per row (atomic write), or standard "
                      "output with '-'."))


def open_jsonl(target: str, schema: pa.Schema, context: SinkContext) -> JsonLinesWriter:
    """Open a JSON Lines writer on ``target`` (a path, ``jsonl:path``, ``ndjson:path`` or ``-``).

    Raises:
        kpispec.errors.ExecutionError: the target's directory does not exist or
            is not writable.
    """
    return JsonLinesWriter(strip_scheme(target, "ndjson"), schema, context)


class JsonLinesWriter(TextSinkWriter):
    """Writes result batches as JSON Lines (a :class:`kpispec.SinkWriter`)."""

    kind = "JSON Lines"
    scheme = "jsonl"
    example = "out.jsonl"

    def write_batch(self, batch: pa.RecordBatch) -> None:
        columns = [column.to_pylist() for column in batch.columns]
        stream = self.out.stream
        for row in zip(*columns):
            record = {name: json_value(value) for name, value in zip(self.columns, row)}
            stream.write(json.dumps(record, ensure_ascii=False, allow_nan=False))
            stream.write("\n")
