"""Shared by the sink tests: a small project and warehouse, the result it gives, and readers
that load each sink's output back as rows to compare with that result."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

SPECS = """
models:
  - name: deals
    table: deals
    primary_key: deal_id
    time: created_at
    columns: [deal_id, created_at, closed_at, stage, amount, region]
    dimensions:
      - name: region
        label: {en: Sales region, pl: Region sprzedaży}
metrics:
  - name: deals_won
    label: {en: Deals won, pl: Wygrane transakcje}
    description: Deals closed as won in the period.
    type: simple
    measure: {model: deals, agg: count, filter: "stage = 'won'", time: closed_at}
    format: integer
  - name: revenue
    label: {en: Won revenue}
    description: Amount of the deals won in the period.
    type: simple
    measure: {model: deals, agg: sum, expr: amount, filter: "stage = 'won'", time: closed_at}
    format: currency
    targets: {value: 300}
  - name: win_rate
    label: {en: Win rate}
    description: Deals won over deals won or lost.
    type: ratio
    numerator: {model: deals, agg: count, filter: "stage = 'won'", time: closed_at}
    denominator: {model: deals, agg: count, filter: "stage IN ('won', 'lost')", time: closed_at}
    scale: 100
    format: percent
"""

DEALS = [  # deal_id, created_at, closed_at, stage, amount, region
    (1, "2024-01-03", "2024-01-20", "won", 100.0, "EMEA"),
    (2, "2024-01-05", "2024-01-25", "lost", 80.0, "EMEA"),
    (3, "2024-01-09", "2024-02-10", "won", 250.5, "NA"),
    (4, "2024-02-01", "2024-03-02", "won", 300.0, "NA"),
    (5, "2024-02-11", "2024-03-05", "won", 50.25, "EMEA"),
    (6, "2024-02-12", "2024-03-09", "lost", 10.0, "NA"),
    (7, "2024-03-01", "2024-03-15", "won", 75.0, None),
    (8, "2024-03-01", "2024-03-20", "won", 20.0, 'Łódź "<b>x</b>"'),
]
METRICS = ["deals_won", "revenue", "win_rate"]
RANGE = {"start": "2024-01-01", "end": "2024-04-01"}


def make_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "kpispec.yaml").write_text("name: Sink test project\ncurrency: $\n", encoding="utf-8")
    (root / "specs.yaml").write_text(textwrap.dedent(SPECS), encoding="utf-8")
    return root


def make_database(path: Path) -> str:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE deals (deal_id INT, created_at TIMESTAMP, closed_at TIMESTAMP, "
                "stage VARCHAR, amount DOUBLE, region VARCHAR)")
    con.executemany("INSERT INTO deals VALUES (?, ?, ?, ?, ?, ?)", DEALS)
    con.close()
    return f"duckdb:///{path}"


def project_and_warehouse(root: Path) -> tuple[Any, str]:
    """The test project (without the installed packs) under ``root`` and its warehouse's URL."""
    import kpispec

    url = make_database(root / "crm.duckdb")
    return kpispec.load_project(make_project(root / "project"), packs=False), url


# -- reading outputs back ----------------------------------------------------------------------


def rows_of(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


def _typed(value: str, kind: pa.DataType) -> Any:
    if value == "":
        return None
    if pa.types.is_date(kind):
        return dt.date.fromisoformat(value)
    if pa.types.is_integer(kind):
        return int(value)
    if pa.types.is_floating(kind):
        return float(value)
    return value


def read_csv(text: str, schema: pa.Schema) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert reader.fieldnames == schema.names
    return [{f.name: _typed(row[f.name], f.type) for f in schema} for row in reader]


def _dates(rows: list[dict[str, Any]], schema: pa.Schema) -> list[dict[str, Any]]:
    for row in rows:
        for f in schema:
            if pa.types.is_date(f.type) and isinstance(row[f.name], str):
                row[f.name] = dt.date.fromisoformat(row[f.name])
    return rows


def read_json(text: str, schema: pa.Schema) -> list[dict[str, Any]]:
    return _dates(json.loads(text), schema)


def read_jsonl(text: str, schema: pa.Schema) -> list[dict[str, Any]]:
    assert text.endswith("\n")
    return _dates([json.loads(line) for line in text.splitlines()], schema)


def read_parquet(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def read_xlsx(path: Path) -> list[dict[str, Any]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book["result"].iter_rows(values_only=True))
    header = list(rows[0])
    out = []
    for row in rows[1:]:
        record = {}
        for name, value in zip(header, row):
            if isinstance(value, dt.datetime) and value.time() == dt.time():
                value = value.date()
            record[name] = value
        out.append(record)
    book.close()
    return out


def assert_same_rows(actual: Sequence[Mapping[str, Any]], expected: Sequence[Mapping[str, Any]],
                     *, ints_as_floats: bool = False) -> None:
    """Row by row, key by key; floats within 1e-12 relative (Excel keeps doubles exactly too)."""
    assert len(actual) == len(expected), (len(actual), len(expected))
    for a, e in zip(actual, expected):
        assert list(a) == list(e), (list(a), list(e))
        for key in e:
            x, y = a[key], e[key]
            if isinstance(y, float) or (ints_as_floats and isinstance(y, int) and
                                        not isinstance(y, bool)):
                assert x is not None and math.isclose(float(x), float(y), rel_tol=1e-12,
                                                      abs_tol=1e-12), (key, x, y)
            else:
                assert x == y, (key, x, y)
