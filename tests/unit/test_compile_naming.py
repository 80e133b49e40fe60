"""kpispec's own names in the SQL (compile/naming.py): never a user's table, short, unique."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import kpispec
import pytest
import sqlglot
from kpispec.compile.naming import MAX_INTERNAL_BYTES, shorten

INTERNAL = ("periods", "digits", "numbers", "bounds", "scanned", "dimension_keys", "lifecycle",
            "m_by_ts", "m_by_ts_1_month_earlier", "m_at_period_end")


def _project(make_project: Callable[..., Path], table: str) -> kpispec.Project:
    return kpispec.load_project(make_project({"s.yaml": f"""
models:
  - name: m
    table: {table}
    primary_key: id
    time: ts
    columns: [id, ts, ends, region]
    dimensions: [region]
    lifecycle: {{start: ts, end: ends}}
metrics:
  - {{name: n, type: simple, measure: {{model: m, agg: count}}}}
  - {{name: n2w, type: simple, measure: {{model: m, agg: count, window: 2 weeks}}}}
  - {{name: alive, type: simple, measure: {{model: m, agg: count, at: period_end}}}}
"""}), packs=False)


@pytest.mark.parametrize("table", INTERNAL)
def test_a_table_named_like_an_internal_relation_is_read(make_project: Callable[..., Path],
                                                         table: str) -> None:
    """Every CTE and subquery kpispec writes (a bounded and an unbounded spine, dimension keys,
    a comparison, a window, a lifecycle) keeps the user's table visible: the counts are its rows."""
    project = _project(make_project, table)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE {table} (id INT, ts TIMESTAMP, ends TIMESTAMP, region VARCHAR)")
    con.execute(f"INSERT INTO {table} VALUES (1, '2024-01-05', NULL, 'a'), "
                "(2, '2024-02-10', '2024-02-20', 'b'), (3, '2024-02-11', NULL, 'a')")
    bounded = project.compile(["n", "n2w", "alive"], by=["region"], start="2024-01-01",
                              end="2024-03-01", compare="previous_period")
    rows = con.execute(bounded.sql).fetchall()
    by_key = {(str(r[0]), r[1]): r[2:] for r in rows}
    # n, its comparison (previous month), change, change_pct; then n2w… and alive…
    assert by_key[("2024-02-01", "a")][0] == 1 and by_key[("2024-02-01", "a")][1] == 1
    assert by_key[("2024-02-01", "b")][0] == 1
    alive = bounded.columns.index("alive") - 2
    assert by_key[("2024-02-01", "a")][alive] == 2 and by_key[("2024-02-01", "b")][alive] == 0
    unbounded = project.compile(["n"], grain="month")
    assert [(str(d), n) for d, n in con.execute(unbounded.sql).fetchall()] == [
        ("2024-01-01", 1), ("2024-02-01", 2)]


def test_internal_names_are_short_and_unique_once_cut(make_project: Callable[..., Path]) -> None:
    model = "customer_subscription_lifecycle_events_with_a_long_name_x"
    project = kpispec.load_project(make_project({"s.yaml": f"""
models:
  - {{name: {model}, table: events, primary_key: id, time: happened_at}}
metrics:
  - {{name: events, type: simple, measure: {{model: {model}, agg: count}}}}
"""}), packs=False)
    sql = project.compile(["events"], dialect="postgres", start="2024-01-01", end="2024-03-01",
                          compare="previous_period").sql
    tree = sqlglot.parse_one(sql, read="postgres")
    names = [cte.alias for cte in tree.find_all(sqlglot.exp.CTE)]
    assert all(len(name.encode()) <= MAX_INTERNAL_BYTES for name in names), names
    assert len({name.encode()[:63] for name in names}) == len(names), names


def test_shorten_keeps_short_names_and_hashes_long_ones() -> None:
    assert shorten("deals_by_closed_at") == "deals_by_closed_at"
    long_a, long_b = "a" * 60 + "_x_1_month_earlier", "a" * 60 + "_x_1_year_earlier"
    assert shorten(long_a) != shorten(long_b)
    assert len(shorten(long_a).encode()) == MAX_INTERNAL_BYTES
    assert shorten(long_a) == shorten(long_a)  # stable: the same SQL every compile
    assert len(shorten("ż" * 40).encode()) <= MAX_INTERNAL_BYTES  # never cut inside a character


def test_a_result_column_longer_than_the_engine_allows_is_refused(
        make_project: Callable[..., Path]) -> None:
    name = "deals_" + "x" * 60  # 66 bytes
    project = kpispec.load_project(make_project({"s.yaml": f"""
models:
  - {{name: deals, table: deals, primary_key: id, time: ts}}
metrics:
  - {{name: {name}, type: simple, measure: {{model: deals, agg: count}}}}
"""}), packs=False)
    assert name in project.compile([name], dialect="duckdb").columns
    assert name in project.compile([name], dialect="mysql").columns
    with pytest.raises(kpispec.QueryError) as info:
        project.compile([name], dialect="postgres")
    assert str(info.value).startswith(f"result column {name!r} is 66 bytes long; postgres names "
                                      "columns of at most 63 bytes")


def test_a_dimension_and_a_metric_named_true_run_on_sqlite(make_project: Callable[..., Path]) -> None:
    """SQLite cannot read a subquery column aliased "true" or "false" back ("no such column"):
    kpispec's own columns get other names, the result keeps the user's."""
    import sqlite3

    project = kpispec.load_project(make_project({"s.yaml": """
models:
  - {name: m, table: t, primary_key: id, time: ts, dimensions: ["true"]}
metrics:
  - {name: "false", type: simple, measure: {model: m, agg: count}}
"""}), packs=False)
    compiled = project.compile(["false"], by=["true"], dialect="sqlite", start="2024-01-01",
                               end="2024-02-01")
    con = sqlite3.connect(":memory:")
    con.execute('CREATE TABLE t (id INT, ts TEXT, "true" TEXT)')
    con.execute("INSERT INTO t VALUES (1, '2024-01-05', 'a'), (2, '2024-01-06', 'a')")
    cursor = con.execute(compiled.sql)
    assert [d[0] for d in cursor.description] == ["period", "true", "false"]
    assert cursor.fetchall() == [("2024-01-01", "a", 2)]
