"""The ``parquet`` sink: the result as a Parquet file (pyarrow), written atomically.

Targets: ``kpis.parquet`` (or ``.pq``), ``parquet:kpis.bin``, ``parquet://out/kpis.parquet``.
Column types are the result's Arrow types (``period`` is a DATE); batches are
streamed into row groups, compressed with zstd. The file's schema metadata
holds, under the key ``kpispec``, a JSON document with each metric's label,
description and format, the grain and the dimensions. Standard output is
refused (Parquet is binary): give a file name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kpispec.extensions import SinkContext, SinkType
from kpispec.hookspecs import hookimpl

from kpispec_builtins._files import TextSinkWriter

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ParquetFileWriter", "metadata", "open_parquet", "register_sinks"]


@hookimpl
def register_sinks(register: Callable[..., None]) -> None:
    """Register the ``parquet`` sink (scheme ``parquet``, extensions ``.parquet``, ``.pq``)."""
    register(SinkType(name="parquet", schemes=("parquet",), extensions=(".parquet", ".pq"),
                      open=open_parquet,
                      description="Parquet file with the result's Arrow types (atomic write)."))


def open_parquet(target: str, schema: pa.Schema, context: SinkContext) -> ParquetFileWriter:
    """Open a Parquet writer on ``target`` (a path, ``parquet:path`` or ``parquet://path``).

    Raises:
        kpispec.errors.ExecutionError: the target is ``-``, or its directory does not
            exist or is not writable.
    """
    return ParquetFileWriter(target, schema, context)


def metadata(context: SinkContext) -> dict[str, Any]:
    """What the ``kpispec`` schema metadata key holds: metrics, grain, dimensions, source."""
    return {
        "metrics": [{"name": m.name, "labels": dict(getattr(m, "labels", {}) or {}),
                     "description": getattr(m, "description", "") or "",
                     "format": getattr(m, "format", None)} for m in context.metrics],
        "grain": context.grain,
        "dimensions": list(context.dimensions),
        "start": start.isoformat() if (start := getattr(context, "start", None)) else None,
        "end": end.isoformat() if (end := getattr(context, "end", None)) else None,
    }


class ParquetFileWriter(TextSinkWriter):
    """Streams result batches into a Parquet file (a :class:`kpispec.SinkWriter`)."""

    kind = "Parquet"
    scheme = "parquet"
    binary = True
    example = "out.parquet"

    def begin(self) -> None:
        import pyarrow.parquet as pq

        existing = dict(self.schema.metadata or {})
        existing[b"kpispec"] = json.dumps(metadata(self.context), ensure_ascii=False).encode()
        self._writer: Any = pq.ParquetWriter(self.out.binary_stream,  # type: ignore[union-attr]
                                             self.schema.with_metadata(existing),
                                             compression="zstd")

    def write_batch(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self._writer.write_batch(batch)

    def end(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    def abort(self) -> None:
        writer, self._writer = getattr(self, "_writer", None), None
        if writer is not None:
            try:
                writer.close()
            except Exception:  # the file is discarded anyway
                pass
        super().abort()
