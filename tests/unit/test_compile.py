"""Compiler details: quoting, safe division, unsupported constructs, dialect list."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import sqlglot

import kpispec
from kpispec.compile.dialects import DIALECTS, sqlglot_dialect
from tests.unit.conftest import DEALS


@pytest.fixture
def project(make_project: Callable[..., Path]) -> kpispec.Project:
    return kpispec.load_project(make_project({"s.yaml": DEALS + """
  - name: win_ratio
    type: ratio
    numerator: {model: deals, agg: count, filter: "stage = 'won'", time: closed_at}
    denominator: {model: deals, agg: count, time: closed_at}
"""}), packs=False)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_compiles_and_parses_back(project: kpispec.Project, dialect: str) -> None:
    sql = project.compile(["win_ratio", "avg_deal"], dialect=dialect, by=["segment"],
                          start="2024-01-01", end="2024-04-01").sql
    tree = sqlglot.parse_one(sql, read=sqlglot_dialect(dialect))
    assert tree.find(sqlglot.exp.Select) is not None
    assert "NULLIF" in sql.upper()  # every division is guarded


def test_one_scan_per_model_and_time_column(project: kpispec.Project) -> None:
    sql = project.compile(["deals_won", "revenue", "win_ratio"], dialect="duckdb").sql
    assert sql.count("FROM deals AS deals") == 1
    assert "COUNT(CASE WHEN deals.stage = 'won' THEN 1 END)" in sql  # filters differ → CASE


def test_reserved_and_mixed_case_identifiers_are_quoted(make_project: Callable[..., Path]) -> None:
    root = make_project({"s.yaml": """
models:
  - name: sales
    table: Sales
    time: created_at
    columns: [created_at, order, Amount]
metrics:
  - name: total
    type: simple
    measure: {model: sales, agg: sum, expr: '"Amount"', filter: '"order" > 0'}
"""})
    project = kpispec.load_project(root, packs=False)
    pg = project.compile(["total"], dialect="postgres").sql
    assert 'FROM "Sales" AS sales' in pg and 'sales."order" > 0' in pg and 'sales."Amount"' in pg
    my = project.compile(["total"], dialect="mysql").sql
    assert "FROM `Sales` AS sales" in my and "sales.`order` > 0" in my
    sf = project.compile(["total"], dialect="snowflake").sql
    assert "sales.created_at" in sf  # plain lower-case names stay unquoted (Snowflake folds case)


def test_unknown_dialect_and_grain(project: kpispec.Project) -> None:
    with pytest.raises(kpispec.QueryError, match="unknown dialect 'db2'"):
        project.compile(["revenue"], dialect="db2")
    with pytest.raises(kpispec.QueryError, match="unknown grain 'decade'"):
        project.compile(["revenue"], grain="decade")
    with pytest.raises(kpispec.QueryError, match="--from 2024-02-01 is not before --to 2024-01-01"):
        project.compile(["revenue"], start="2024-02-01", end="2024-01-01")


def test_dimension_that_a_measure_cannot_reach(project: kpispec.Project) -> None:
    with pytest.raises(kpispec.QueryError) as info:
        project.compile(["revenue"], by=["segmnt"])
    assert "cannot reach dimension 'segmnt'" in str(info.value)
    assert "Did you mean 'segment'?" in str(info.value)
    assert str(info.value).endswith("Run 'kpispec dimensions revenue' to see the dimensions it "
                                    "can be grouped by")


def test_where_cannot_inject(project: kpispec.Project) -> None:
    with pytest.raises(kpispec.SpecError, match="--where: ';' is not allowed"):
        project.compile(["revenue"], where="region = 'x'; DROP TABLE deals")
    with pytest.raises(kpispec.SpecError, match="--where: comments are not allowed"):
        project.compile(["revenue"], where="region = 'x' --")
    sql = project.compile(["revenue"], where="region = 'it''s'").sql
    assert "deals.region = 'it''s'" in sql


def test_ambiguous_name_in_filter_is_refused(make_project: Callable[..., Path]) -> None:
    root = make_project({"s.yaml": """
models:
  - name: deals
    table: deals
    time: created_at
    joins:
      - {model: customers, on: customer_id}
      - {model: reps, on: rep_id}
  - {name: customers, table: customers, primary_key: customer_id, dimensions: [region]}
  - {name: reps, table: reps, primary_key: rep_id, dimensions: [region]}
metrics:
  - name: n
    type: simple
    measure: {model: deals, agg: count}
"""})
    project = kpispec.load_project(root, packs=False)
    with pytest.raises(kpispec.QueryError) as info:
        project.compile(["n"], where="region = 'EU'")
    assert "dimension 'region' is ambiguous from model 'deals'" in str(info.value)
    assert "Write one of customers.region, reps.region" in str(info.value)
    assert "reps.region = 'EU'" in project.compile(["n"], where="reps.region = 'EU'").sql


@pytest.mark.parametrize("dialect, expected", [
    ("duckdb", "QUANTILE_CONT(deals.amount, 0.9)"),
    ("postgres", "PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY deals.amount)"),
    ("snowflake", "PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY deals.amount)"),
    ("oracle", "PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY deals.amount)"),
    ("redshift", "PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY deals.amount)"),
    ("spark", "PERCENTILE(deals.amount, CAST(0.9 AS DOUBLE))"),
    ("databricks", "PERCENTILE(deals.amount, CAST(0.9 AS DOUBLE))"),
])
def test_exact_percentile_per_dialect(make_project: Callable[..., Path], dialect: str,
                                      expected: str) -> None:
    root = make_project({"s.yaml": DEALS + """
  - name: p90
    type: simple
    measure: {model: deals, agg: percentile, p: 0.9, expr: amount}
"""})
    sql = kpispec.load_project(root, packs=False).compile(["p90"], dialect=dialect, pretty=False).sql
    assert f"{expected} AS p90" in sql


@pytest.mark.parametrize("dialect", ["sqlite", "mysql", "bigquery", "tsql", "trino", "clickhouse"])
def test_percentile_refused_where_no_exact_aggregate(make_project: Callable[..., Path],
                                                     dialect: str) -> None:
    root = make_project({"s.yaml": DEALS + """
  - name: p50
    type: simple
    measure: {model: deals, agg: median, expr: amount}
"""})
    with pytest.raises(kpispec.UnsupportedDialectFeature) as info:
        kpispec.load_project(root, packs=False).compile(["p50"], dialect=dialect)
    assert str(info.value).startswith(f"metric 'p50' cannot be compiled for dialect {dialect!r}")


@pytest.mark.parametrize("dialect, expected", [
    ("mysql", "TIMESTAMPDIFF(SECOND, deals.created_at, deals.closed_at) / 86400.0"),
    ("bigquery", "DATETIME_DIFF(deals.closed_at, deals.created_at, SECOND) / 86400.0"),
    ("oracle", "((CAST(deals.closed_at AS DATE) - CAST(deals.created_at AS DATE)) * 86400) / 86400.0"),
    ("clickhouse", "dateDiff('second', deals.created_at, deals.closed_at) / 86400.0"),
    ("sqlite", "CAST(STRFTIME('%s', deals.closed_at) AS INTEGER) - CAST(STRFTIME('%s', deals.created_at) AS INTEGER)"),
    ("duckdb", "DATE_DIFF('SECOND', deals.created_at, deals.closed_at) / 86400.0"),
])
def test_seconds_between_timestamps_per_dialect(make_project: Callable[..., Path], dialect: str,
                                                expected: str) -> None:
    root = make_project({"s.yaml": DEALS + """
  - name: cycle_days
    type: simple
    measure: {model: deals, agg: avg, expr: "date_diff('second', created_at, closed_at) / 86400.0",
              time: closed_at}
"""})
    sql = kpispec.load_project(root, packs=False).compile(["cycle_days"], dialect=dialect, pretty=False).sql
    assert expected in sql
