"""The CRM plugin's cohort_retention type: a cohort × age table, checked against Python."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

import kpispec

SPEC = """
models:
  - name: customers
    table: customers
    primary_key: customer_id
    time: signed_up_at
    columns: [customer_id, signed_up_at, churned_at, region]
    lifecycle: {start: signed_up_at, end: churned_at}
    dimensions: [region]
metrics:
  - name: retention
    type: cohort_retention
    model: customers
    ages: 4
"""


def _customers() -> list[tuple[int, dt.datetime, dt.datetime | None, str]]:
    rng = random.Random(11)
    rows = []
    for i in range(300):
        start = dt.datetime(2023, 1, 1) + dt.timedelta(days=rng.randrange(0, 360), hours=rng.randrange(24))
        churn = None
        if rng.random() < 0.5:
            churn = start + dt.timedelta(days=rng.randrange(1, 200))
            if rng.random() < 0.2:  # exactly at midnight on the first of a month
                churn = dt.datetime(churn.year, churn.month, 1)
        rows.append((i, start, churn, rng.choice(["EU", "US"])))
    return rows


def _month_start(day: dt.datetime | dt.date, plus: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + plus
    return dt.date(index // 12, index % 12 + 1, 1)


def _expected(rows, by_region: bool):  # type: ignore[no-untyped-def]
    cohorts: dict = defaultdict(list)
    for row in rows:
        cohorts[(_month_start(row[1]), row[3] if by_region else None)].append(row)
    out = {}
    today = dt.date.today()
    for key, members in cohorts.items():
        cells = {"retention": len(members)}
        for age in range(5):
            boundary = _month_start(key[0], age + 1)
            if boundary > today:
                cells[f"retention__age_{age}"] = None
                continue
            alive = [m for m in members if m[2] is None or m[2] >= dt.datetime.combine(boundary, dt.time())]
            cells[f"retention__age_{age}"] = 100 * len(alive) / len(members)
        out[key] = cells
    return out


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("cohort")
    (root / "p").mkdir()
    (root / "p" / "s.yaml").write_text(SPEC)
    rows = _customers()
    con = duckdb.connect(str(root / "c.duckdb"))
    con.execute("CREATE TABLE customers (customer_id INT, signed_up_at TIMESTAMP, churned_at TIMESTAMP, region VARCHAR)")
    con.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", rows)
    con.close()
    return kpispec.load_project(root / "p", packs=False), f"duckdb:///{root / 'c.duckdb'}", rows


@pytest.mark.parametrize("by_region", [False, True])
def test_cohort_table_matches_python(setup, by_region: bool) -> None:  # type: ignore[no-untyped-def]
    project, source, rows = setup
    result = project.run(["retention"], source=source, by=["region"] if by_region else [],
                         start="2023-01-01", end="2024-01-01").to_pylist()
    expected = _expected(rows, by_region)
    assert len(result) == len(expected)
    for row in result:
        want = expected[(row["period"], row.get("region"))]
        for column, value in want.items():
            assert row[column] == (None if value is None else pytest.approx(value)), (row["period"], column)
    assert list(result[0]) == ["period", *(["region"] if by_region else []), "retention",
                               *[f"retention__age_{k}" for k in range(5)]]


def test_sqlite_spelling_gives_the_same_table(setup) -> None:  # type: ignore[no-untyped-def]
    project, _, rows = setup
    sql = project.compile(["retention"], dialect="sqlite", start="2023-01-01", end="2024-01-01").sql
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE customers (customer_id INT, signed_up_at TEXT, churned_at TEXT, region TEXT)")
    con.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)",
                    [(i, s.isoformat(sep=" "), c.isoformat(sep=" ") if c else None, r) for i, s, c, r in rows])
    got = {r[0]: r[1:] for r in con.execute(sql).fetchall()}
    expected = _expected(rows, False)
    for (period, _), cells in expected.items():
        values = list(cells.values())
        assert got[period.isoformat()][0] == values[0]
        for mine, theirs in zip(got[period.isoformat()][1:], values[1:], strict=True):
            assert mine == (None if theirs is None else pytest.approx(theirs))


def test_cohort_needs_a_lifecycle(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SPEC.replace("    lifecycle: {start: signed_up_at, end: churned_at}\n", ""))
    with pytest.raises(kpispec.SpecErrors) as info:
        kpispec.load_project(tmp_path, packs=False)
    assert "s.yaml:10:5: metrics[0]: cohort_retention needs a lifecycle on model 'customers'" in str(info.value)
