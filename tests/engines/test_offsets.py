"""Derived metrics over another metric at an offset (`inputs: [{metric, offset}]`)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

import kpispec
from kpispec.compile.build import shift_date
from kpispec.spec.model import Offset

SPEC = """
models:
  - {name: orders, table: orders, primary_key: order_id, time: ordered_at,
     columns: [order_id, ordered_at, amount, cost, region], dimensions: [region]}
metrics:
  - {name: gross_profit, type: simple, measure: {model: orders, agg: sum, expr: amount - cost}}
  - name: growth
    type: derived
    inputs: [{name: gp_last_year, metric: gross_profit, offset: 1 year}]
    expr: 100 * (gross_profit - gp_last_year) / gp_last_year
  - name: two_back
    type: derived
    inputs: [{name: gp_prior, metric: growth, offset: 2 months}]
    expr: gp_prior
"""


def _orders() -> list[tuple[int, dt.datetime, float, float, str]]:
    rng = random.Random(3)
    rows = []
    for i in range(400):
        day = dt.datetime(2022, 6, 1) + dt.timedelta(days=rng.randrange(0, 900), hours=rng.randrange(24))
        amount = round(rng.uniform(10, 500), 2)
        rows.append((i, day, amount, round(amount * rng.uniform(0.2, 0.9), 2), rng.choice(["EU", "US"])))
    rows.append((999, dt.datetime(2023, 3, 1, 0, 0, 0), 100.0, 40.0, "EU"))  # exactly on a boundary
    return rows


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[kpispec.Project, str, list]:
    root = tmp_path_factory.mktemp("offsets")
    (root / "p").mkdir()
    (root / "p" / "s.yaml").write_text(SPEC)
    rows = _orders()
    con = duckdb.connect(str(root / "o.duckdb"))
    con.execute("CREATE TABLE orders (order_id INT, ordered_at TIMESTAMP, amount DOUBLE, cost DOUBLE, region VARCHAR)")
    con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", rows)
    con.close()
    return kpispec.load_project(root / "p", packs=False), f"duckdb:///{root / 'o.duckdb'}", rows


def _profit_by(rows: list, key) -> dict:  # type: ignore[no-untyped-def,type-arg]
    out: dict = defaultdict(float)
    for _, t, amount, cost, region in rows:
        out[key(t, region)] += amount - cost
    return out


def _month(t: dt.datetime) -> dt.date:
    return dt.date(t.year, t.month, 1)


def test_same_month_last_year(setup) -> None:  # type: ignore[no-untyped-def]
    project, source, rows = setup
    profit = _profit_by(rows, lambda t, r: _month(t))
    result = project.run(["gross_profit", "growth"], source=source, start="2023-06-01",
                         end="2024-06-01").to_pylist()
    assert len(result) == 12
    for row in result:
        month = row["period"]
        last = profit.get(shift_date(month, Offset(months=12)), 0.0)
        now = profit.get(month, 0.0)
        assert row["gross_profit"] == pytest.approx(now)
        assert row["growth"] == (None if last == 0 else pytest.approx(100 * (now - last) / last))


def test_quarter_grain_by_region_and_nested_offsets(setup) -> None:  # type: ignore[no-untyped-def]
    project, source, rows = setup
    def quarter(t: dt.datetime) -> dt.date:
        return dt.date(t.year, (t.month - 1) // 3 * 3 + 1, 1)
    profit = _profit_by(rows, lambda t, r: (quarter(t), r))
    result = project.run(["growth"], source=source, grain="quarter", by=["region"],
                         start="2023-07-01", end="2024-10-01").to_pylist()
    assert {r["period"] for r in result} == {dt.date(2023, 7, 1), dt.date(2023, 10, 1), dt.date(2024, 1, 1),
                                            dt.date(2024, 4, 1), dt.date(2024, 7, 1)}
    for row in result:
        last = profit.get((shift_date(row["period"], Offset(months=12)), row["region"]), 0.0)
        now = profit.get((row["period"], row["region"]), 0.0)
        assert row["growth"] == (None if last == 0 else pytest.approx(100 * (now - last) / last))
    monthly = project.run(["growth", "two_back"], source=source, start="2024-01-01",
                          end="2024-07-01").to_pylist()
    by_month = {r["period"]: r["growth"] for r in project.run(
        ["growth"], source=source, start="2023-11-01", end="2024-07-01").to_pylist()}
    for row in monthly:
        assert row["two_back"] == by_month[shift_date(row["period"], Offset(months=2))]


def test_offset_must_fit_the_grain(setup) -> None:  # type: ignore[no-untyped-def]
    project, _, _ = setup
    with pytest.raises(kpispec.QueryError) as info:
        project.compile(["growth"], grain="week")
    assert "an offset of 1 year is not a whole number of week periods" in str(info.value)


def test_shift_date_clamps_to_month_end() -> None:
    assert shift_date(dt.date(2024, 3, 31), Offset(months=1)) == dt.date(2024, 2, 29)
    assert shift_date(dt.date(2024, 2, 29), Offset(months=12)) == dt.date(2023, 2, 28)
    assert shift_date(dt.date(2024, 1, 10), Offset(days=14)) == dt.date(2023, 12, 27)
