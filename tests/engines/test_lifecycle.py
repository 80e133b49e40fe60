"""Point-in-time measures (`at: period_start / period_end`) over a model's lifecycle."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

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
  - name: churned
    type: simple
    measure: {model: customers, agg: count, time: churned_at}
  - name: active_at_start
    type: simple
    measure: {model: customers, agg: count, at: period_start}
  - name: active_at_end
    type: simple
    measure: {model: customers, agg: count, at: period_end}
  - name: churn_rate
    type: ratio
    numerator: {model: customers, agg: count, time: churned_at}
    denominator: {model: customers, agg: count, at: period_start}
    scale: 100
"""

T = dt.datetime
CUSTOMERS = [  # id, signed_up_at, churned_at, region
    (1, T(2024, 1, 10), None, "EU"),
    (2, T(2024, 1, 1, 0, 0, 0), T(2024, 3, 1, 0, 0, 0), "EU"),   # churns exactly at 1 March 00:00
    (3, T(2024, 2, 1, 0, 0, 0), T(2024, 2, 20), "US"),           # signs up exactly at 1 Feb 00:00
    (4, T(2023, 12, 31, 23, 59, 59), T(2024, 4, 15), None),
    (5, T(2024, 3, 31, 23, 59, 59), None, "US"),
]


def _alive_at(t: dt.datetime, c: tuple[Any, ...]) -> bool:
    return c[1] <= t and (c[2] is None or c[2] > t)


def _alive_at_end(next_start: dt.datetime, c: tuple[Any, ...]) -> bool:
    return c[1] < next_start and (c[2] is None or c[2] >= next_start)


@pytest.fixture
def project(tmp_path: Path) -> tuple[kpispec.Project, str]:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "s.yaml").write_text(SPEC)
    db = tmp_path / "c.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE customers (customer_id INT, signed_up_at TIMESTAMP, "
                "churned_at TIMESTAMP, region VARCHAR)")
    con.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", CUSTOMERS)
    con.close()
    return kpispec.load_project(tmp_path / "p", packs=False), f"duckdb:///{db}"


def test_active_at_start_and_end_by_month(project: tuple[kpispec.Project, str]) -> None:
    proj, source = project
    months = [dt.date(2024, m, 1) for m in range(1, 6)]
    rows = proj.run(["churned", "active_at_start", "active_at_end", "churn_rate"], source=source,
                    start="2024-01-01", end="2024-06-01").to_pylist()
    expected = []
    for i, month in enumerate(months):
        start = T(month.year, month.month, 1)
        nxt = T(2024, month.month + 1, 1)
        churned = sum(1 for c in CUSTOMERS if c[2] is not None and start <= c[2] < nxt)
        at_start = sum(_alive_at(start, c) for c in CUSTOMERS)
        at_end = sum(_alive_at_end(nxt, c) for c in CUSTOMERS)
        expected.append({"period": month, "churned": churned, "active_at_start": at_start,
                         "active_at_end": at_end,
                         "churn_rate": None if at_start == 0 else 100 * churned / at_start})
    assert rows == [{**r, "churn_rate": pytest.approx(r["churn_rate"])} if r["churn_rate"] is not None
                    else r for r in expected]
    # the boundary cases, spelled out: customer 2 churns at 1 March 00:00
    march = rows[2]
    assert march["churned"] == 1  # customer 2 counts as churned in March
    assert rows[1]["active_at_end"] == 3  # active at the end of February: 1, 2 and 4
    assert march["active_at_start"] == 2  # not active at the start of March: 1 and 4 only


def test_at_measures_by_dimension_and_unbounded_spine(project: tuple[kpispec.Project, str]) -> None:
    proj, source = project
    rows = proj.run(["active_at_start"], source=source, by=["region"]).to_pylist()
    periods = sorted({r["period"] for r in rows})
    # the spine spans the lifecycle: from December 2023 (first sign-up) to April 2024 (last churn)
    assert periods == [dt.date(2023, 12, 1)] + [dt.date(2024, m, 1) for m in range(1, 5)]
    got = {(r["period"], r["region"]): r["active_at_start"] for r in rows if r["region"] or r["active_at_start"]}
    for period in periods:
        t = T(period.year, period.month, 1)
        for region in ("EU", "US", None):
            want = sum(_alive_at(t, c) for c in CUSTOMERS if c[3] == region)
            assert got.get((period, region), 0) == want, (period, region)


def test_at_needs_a_lifecycle(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SPEC.replace("    lifecycle: {start: signed_up_at, end: churned_at}\n", ""))
    with pytest.raises(kpispec.SpecErrors) as info:
        kpispec.load_project(tmp_path, packs=False)
    assert "'at: period_start' needs a lifecycle on model 'customers'" in str(info.value)
