"""SQLite's DATE()/DATETIME() in a SQLite project's snippets: accepted, and compiled for every
dialect to the same values (spec/sqlite_dates.py, dialects.portable)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import duckdb
import kpispec
import pytest
import sqlglot
from kpispec.compile.dialects import DIALECTS, sqlglot_dialect

SPECS = """
models:
  - name: deals
    table: deals
    primary_key: id
    time: created_at
    columns: [id, created_at, closed_at]
    dimensions:
      - {name: close_month, expr: "DATE(closed_at, 'start of month')"}
metrics:
  - name: quick
    type: simple
    measure:
      model: deals
      agg: count
      filter: "DATETIME(closed_at) < DATETIME(created_at, '+1 day', 'start of day', '+7 days')"
"""
ROWS = [(1, "2024-01-03 10:00:00", "2024-01-09 23:00:00"),  # closed within the week: quick
        (2, "2024-01-20 09:00:00", "2024-02-15 08:00:00"),
        (3, "2024-02-01 00:00:00", "2024-02-08 23:59:59")]  # last second of the window


@pytest.fixture
def project(make_project: Callable[..., Path]) -> kpispec.Project:
    return kpispec.load_project(make_project({"kpispec.yaml": "dialect: sqlite\n",
                                              "s.yaml": SPECS}), packs=False)


def _expected() -> dict[tuple[str, str], int]:
    # deal 2 (closed after its week) is filtered out: no row for its close month
    return {("2024-01-01", "2024-01-01"): 1, ("2024-02-01", "2024-02-01"): 1}


def test_sqlite_and_duckdb_give_the_same_rows(project: kpispec.Project) -> None:
    options = {"by": ["close_month"], "start": "2024-01-01", "end": "2024-03-01"}
    lite = sqlite3.connect(":memory:")
    lite.execute("CREATE TABLE deals (id INT, created_at TEXT, closed_at TEXT)")
    lite.executemany("INSERT INTO deals VALUES (?, ?, ?)", ROWS)
    got = {(str(p), str(m)): n for p, m, n in
           lite.execute(project.compile(["quick"], dialect="sqlite", **options).sql).fetchall()}
    assert got == _expected()
    duck = duckdb.connect()
    duck.execute("CREATE TABLE deals (id INT, created_at TIMESTAMP, closed_at TIMESTAMP)")
    duck.executemany("INSERT INTO deals VALUES (?, ?, ?)", ROWS)
    got = {(str(p), str(m)): n for p, m, n in
           duck.execute(project.compile(["quick"], dialect="duckdb", **options).sql).fetchall()}
    assert got == _expected()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_compiles_for_every_dialect(project: kpispec.Project, dialect: str) -> None:
    sql = project.compile(["quick"], dialect=dialect, by=["close_month"]).sql
    assert len(sqlglot.parse(sql, read=sqlglot_dialect(dialect))) == 1
    assert "TIMESTAMP_TRUNC(" not in sql.upper() or dialect == "bigquery"


def test_a_modifier_other_dialects_lack_is_refused(make_project: Callable[..., Path]) -> None:
    root = make_project({"kpispec.yaml": "dialect: sqlite\n", "s.yaml": SPECS.replace(
        "'start of month'", "'weekday 1'")})
    with pytest.raises(kpispec.SpecErrors) as info:
        kpispec.load_project(root, packs=False)
    assert "SQLite's DATE() modifier 'weekday 1' has no equivalent in other dialects" \
        in str(info.value)
    assert "DATE_TRUNC('month', x)" in str(info.value)
