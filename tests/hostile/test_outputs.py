"""Hostile values in what kpispec writes: OpenMetrics labels, CSV cells (issue 23, finding 8)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from kpispec.extensions import SinkContext
from kpispec_builtins import openmetrics_sink

parser = pytest.importorskip("prometheus_client.openmetrics.parser")


def test_openmetrics_carriage_returns_in_labels_read_back(tmp_path: Path) -> None:
    """A carriage return in a label value is a line break for every line-based reader
    (Python's universal newlines split there); it is written escaped, as ``\\n``."""
    table = pa.table({"period": [dt.date(2024, 1, 1)] * 3,
                      "region": ["a\rb", "c\r\nd", "e\nf\\"],
                      "deals": [1.0, 2.0, 3.0]})
    target = tmp_path / "kpis.prom"
    writer = openmetrics_sink.open_openmetrics(str(target), table.schema,
                                               SinkContext(dimensions=("region",)))
    writer.write(table.to_batches()[0])
    writer.close()
    text = target.read_text(encoding="utf-8")  # universal newlines, as a reader opens it
    assert "\r" not in target.read_bytes().decode()
    families = {f.name: f for f in parser.text_string_to_metric_families(text)}
    assert sorted((s.labels["region"], s.value) for s in families["kpispec_deals"].samples) == [
        ("a\nb", 1.0), ("c\nd", 2.0), ("e\nf\\", 3.0)]
