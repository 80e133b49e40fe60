"""Minimal reproducers of the bugs the property tests found, one plain test each.

Each is marked ``xfail(strict=True)`` while the bug is open, so it documents the
bug and turns red (XPASS) the moment the bug is fixed: then remove the mark, and
the matching switch in known_bugs.py so the generators cover that ground again.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import kpispec
import pytest
import sqlglot
from kpispec.compile.dialects import sqlglot_dialect
from kpispec.compile.guard import check_single_select

T = TypeVar("T")


def _project(tmp_path: Path, specs: str, settings: str = "") -> kpispec.Project:
    (tmp_path / "specs.yaml").write_text(textwrap.dedent(specs), encoding="utf-8")
    if settings:
        (tmp_path / "kpispec.yaml").write_text(textwrap.dedent(settings), encoding="utf-8")
    return kpispec.load_project(tmp_path)


def _duckdb(*ddl: str) -> Any:
    con = duckdb.connect(":memory:")
    for statement in ddl:
        con.execute(statement)
    return con


def _must(fn: Callable[[], T]) -> T:
    """Call ``fn``; any exception becomes a one-line AssertionError.

    Keeps the xfail reports short: pytest would otherwise render tracebacks deep into
    sqlglot's parser, which takes seconds per test.
    """
    try:
        return fn()
    except Exception as exc:
        raise AssertionError(f"{type(exc).__name__}: {exc}") from None


def _parses_as_one_select(sql: str, dialect: str) -> bool:
    statements = _must(lambda: sqlglot.parse(sql, read=sqlglot_dialect(dialect)))
    return len(statements) == 1 and isinstance(statements[0], sqlglot.exp.Select)


ONE_MODEL = """
models:
  - name: "{model}"
    table: "{table}"
    primary_key: id
    time: ts
    columns: [id, ts, amount, "{dimension}"]
    dimensions: ["{dimension}"]
metrics:
  - name: "{metric}"
    type: simple
    measure: {{model: "{model}", agg: sum, expr: amount}}
  - name: win_rate
    type: ratio
    numerator: {{model: "{model}", agg: count}}
    denominator: {{model: "{model}", agg: count}}
"""


def _one_model(tmp_path: Path, model: str = "deals", table: str = "deals",
               dimension: str = "region", metric: str = "revenue") -> kpispec.Project:
    return _project(tmp_path, ONE_MODEL.format(model=model, table=table, dimension=dimension,
                                               metric=metric))


# ---------------------------------------------------------------------------------
# Names kpispec writes into the SQL itself
# ---------------------------------------------------------------------------------


def test_metric_named_period_is_refused_with_what_clashes(tmp_path: Path) -> None:
    """Was: the scan's period column and the metric shared a name (DuckDB: 'Cannot mix
    values of type DATE and INTEGER_LITERAL in COALESCE')."""
    project = _one_model(tmp_path, metric="period")
    with pytest.raises(kpispec.QueryError, match="two columns named 'period': metric 'period' "
                                                 "and the period column"):
        project.compile(["period"], start="2024-01-01", end="2024-03-01")


def test_dimension_named_like_an_internal_column(tmp_path: Path) -> None:
    project = _one_model(tmp_path, dimension="win_rate__numerator")
    compiled = project.compile(["win_rate"], by=["win_rate__numerator"], start="2024-01-01",
                               end="2024-03-01")
    con = _duckdb("CREATE TABLE deals (id INT, ts TIMESTAMP, amount DOUBLE, "
                  "win_rate__numerator VARCHAR)")
    _must(lambda: con.execute(compiled.sql).fetchall())


def test_result_columns_are_unique(tmp_path: Path) -> None:
    """Was: --by a dimension named like a metric gave two result columns of one name."""
    project = _one_model(tmp_path, dimension="revenue2", metric="revenue2")
    with pytest.raises(kpispec.QueryError, match="two columns named 'revenue2': metric "
                                                 "'revenue2' and dimension 'revenue2'"):
        project.compile(["revenue2"], by=["revenue2"], start="2024-01-01", end="2024-03-01")


def test_table_named_periods_is_shadowed_by_the_spine(tmp_path: Path) -> None:
    project = _project(tmp_path, """
        models:
          - {name: m, table: periods, primary_key: id, time: ts}
        metrics:
          - name: n
            type: simple
            measure: {model: m, agg: count, window: 2 weeks}
        """)
    compiled = project.compile(["n"], start="2024-01-01", end="2024-03-01")
    con = _duckdb("CREATE TABLE periods (id INT, ts TIMESTAMP)")
    _must(lambda: con.execute(compiled.sql).fetchall())


def test_table_named_like_an_internal_cte(tmp_path: Path) -> None:
    project = _one_model(tmp_path, model="m1", table="m1_by_ts")
    compiled = project.compile(["revenue"], compare="previous_period", start="2024-01-01",
                               end="2024-03-01")
    con = _duckdb("CREATE TABLE m1_by_ts (id INT, ts TIMESTAMP, amount DOUBLE, region VARCHAR)")
    _must(lambda: con.execute(compiled.sql).fetchall())


# ---------------------------------------------------------------------------------
# Quoting
# ---------------------------------------------------------------------------------


def test_quoted_metric_name_in_derived_expr(tmp_path: Path) -> None:
    project = _must(lambda: _project(tmp_path, """
        models:
          - {name: deals, table: deals, primary_key: id, time: ts}
        metrics:
          - name: Sales
            type: simple
            measure: {model: deals, agg: count}
          - name: double_sales
            type: derived
            expr: '"Sales" * 2 + "order"'
          - name: order
            type: simple
            measure: {model: deals, agg: count}
        """))
    compiled = project.compile(["double_sales"], grain="year", start="2024-01-01",
                               end="2025-01-01")
    con = _duckdb("CREATE TABLE deals (id INT, ts TIMESTAMP)",
                  "INSERT INTO deals VALUES (1, '2024-01-01'), (2, '2024-02-01')")
    assert [row[1] for row in con.execute(compiled.sql).fetchall()] == [6]


def test_model_named_values_with_a_time_zone(tmp_path: Path) -> None:
    project = _project(tmp_path, """
        models:
          - {name: values, table: t1, primary_key: id, time: ts}
        metrics:
          - name: n
            type: simple
            measure: {model: values, agg: count}
        """)
    compiled = project.compile(["n"], timezone="America/New_York")
    _must(lambda: check_single_select(compiled.sql, "duckdb"))


@pytest.mark.parametrize("word", ["drop", "between", "insert", "regexp"])
def test_model_named_like_a_keyword_cannot_run(tmp_path: Path, word: str) -> None:
    project = _project(tmp_path, f"""
        models:
          - {{name: {word}, table: t1, primary_key: id, time: ts}}
        metrics:
          - name: n
            type: simple
            measure: {{model: {word}, agg: count}}
        """)
    compiled = project.compile(["n"], start="2024-01-01", end="2024-02-01")
    _must(lambda: check_single_select(compiled.sql, "duckdb"))


@pytest.mark.parametrize(("word", "dialect"), [
    ("fetch", "trino"), ("returning", "bigquery"), ("values", "spark"), ("qualify", "mysql"),
    ("lateral", "redshift"), ("grant", "trino"),
])
def test_reserved_word_identifiers_are_quoted(tmp_path: Path, word: str, dialect: str) -> None:
    project = _one_model(tmp_path, model=word, dimension="region")
    compiled = project.compile(["revenue"], dialect=dialect, by=["region"], start="2024-01-01",
                               end="2024-03-01")
    assert _parses_as_one_select(compiled.sql, dialect), compiled.sql


def test_metric_named_true_on_sqlite(tmp_path: Path) -> None:
    import sqlite3

    project = _one_model(tmp_path, metric="true")
    compiled = project.compile(["true"], dialect="sqlite", start="2024-01-01", end="2024-03-01")
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE deals (id INT, ts TIMESTAMP, amount DOUBLE, region TEXT)")
    _must(lambda: con.execute(compiled.sql).fetchall())


def test_sqlite_windows_over_a_date_column(tmp_path: Path) -> None:
    import sqlite3

    project = _project(tmp_path, """
        models:
          - name: deals
            table: deals
            primary_key: id
            time: closed_on
            columns: [id, {name: closed_on, type: date}]
        metrics:
          - name: closed_to_date
            type: simple
            measure: {model: deals, agg: count, cumulative: true}
          - name: closed_2d
            type: simple
            measure: {model: deals, agg: count, window: 2 days}
        """)
    compiled = project.compile(["closed_to_date", "closed_2d"], dialect="sqlite", grain="day",
                               start="2024-01-01", end="2024-01-04")
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE deals (id INT, closed_on DATE)")
    con.execute("INSERT INTO deals VALUES (1, '2024-01-02')")
    rows = con.execute(compiled.sql).fetchall()
    assert rows == [("2024-01-01", 0, 0), ("2024-01-02", 1, 1), ("2024-01-03", 1, 1)], rows


# ---------------------------------------------------------------------------------
# Renamed columns (columns: [{name, expr}])
# ---------------------------------------------------------------------------------


def test_lifecycle_column_with_expr(tmp_path: Path) -> None:
    project = _project(tmp_path, """
        models:
          - name: m
            table: customers
            primary_key: id
            time: signup
            columns:
              - id
              - {name: signup, expr: '"signup date"'}
            lifecycle: {start: signup}
        metrics:
          - name: active
            type: simple
            measure: {model: m, agg: count, at: period_end}
        """)
    compiled = project.compile(["active"], start="2024-01-01", end="2024-03-01")
    con = _duckdb('CREATE TABLE customers (id INT, "signup date" TIMESTAMP)')
    _must(lambda: con.execute(compiled.sql).fetchall())


# ---------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("options", [
    {"start": "-99999999 years"},
    {"end": "2024-01-01 +999999 months"},
    {"start": "9999-12-31 +1 day"},
    {"start": "9999-11-01", "end": "9999-12-31"},
    {"start": "0001-01-01", "end": "0001-03-01", "compare": "previous_period"},
    {"end": "tomorrow", "as_of": "9999-12-31"},
    {"start": "0001-01-01", "end": "0001-02-01", "timezone": "America/New_York"},
], ids=str)
def test_dates_at_the_ends_of_the_calendar(tmp_path: Path, options: dict[str, str]) -> None:
    project = _one_model(tmp_path)
    try:
        project.compile(["revenue"], **options)
    except kpispec.KpispecError:
        pass  # refusing is fine
    except Exception as exc:
        raise AssertionError(f"{type(exc).__name__}: {exc}") from None


# ---------------------------------------------------------------------------------
# Metric packs
# ---------------------------------------------------------------------------------


def test_refined_pack_model_inherits_a_join_to_a_left_out_model(tmp_path: Path,
                                                                crm_pack: None) -> None:
    """The project's 'leads' has another key, so the pack's 'deals' (joined to it) no longer
    fits and is left out; the refined 'deal_stage_history' inherits the pack's join to
    'deals': it goes too, with a note - not "unknown model 'deals'" at the user's own join."""
    project = _must(lambda: _project(tmp_path, """
        models:
          - name: leads
            replace: true
            table: my_leads
            primary_key: id
            time: created_at
            columns: [id, created_at]
          - name: deal_stage_history
            refine: crm.deal_stage_history
            table: my_history
            primary_key: id
            time: entered_at
            columns: [id, entered_at]
            joins:
              - {model: leads, on: id}
        metrics:
          - name: entries
            type: simple
            measure: {model: deal_stage_history, agg: count}
        """, "packs: [crm]\n"))
    assert "deals" not in project.models
    assert [j.model for j in project.models["deal_stage_history"].joins] == ["leads"]
    assert any("specs.yaml:10:13: models[1].refine: joins[0] inherited from crm:models.yaml:"
               in w and "the pack's join to model 'deals', which is not part of this project" in w
               for w in project.warnings), project.warnings


def test_inherited_join_error_points_at_the_inherited_join(tmp_path: Path,
                                                           crm_pack: None) -> None:
    with pytest.raises(kpispec.SpecErrors) as info:
        _project(tmp_path, """
            models:
              - name: deals
                table: my_deals
                primary_key: id
                time: created_at
                columns: [id, created_at]
                replace: true
              - name: calls
                table: my_calls
                primary_key: id
                time: called_at
                columns: [id, called_at]
                replace: true
              - name: deal_stage_history
                refine: crm.deal_stage_history
                table: my_history
                primary_key: id
                time: entered_at
                columns: [id, entered_at, call_id]
                joins:
                  - {model: calls, on: call_id, to: id}
            metrics: []
            """, "packs: [crm]\n")
    message = str(info.value)
    assert "join to 'deals'" in message, message
    line = int(message.split(":")[1])
    assert "calls" not in (tmp_path / "specs.yaml").read_text().splitlines()[line - 1], message
    assert "inherited from crm:models.yaml:" in message, message


# ---------------------------------------------------------------------------------
# Identifier length
# ---------------------------------------------------------------------------------


def test_long_names_collide_on_postgres(tmp_path: Path) -> None:
    from .test_compile import identifier_problems

    model = "customer_subscription_lifecycle_events_with_a_long_name_x"
    project = _project(tmp_path, f"""
        models:
          - {{name: {model}, table: events, primary_key: id, time: happened_at}}
        metrics:
          - name: events
            type: simple
            measure: {{model: {model}, agg: count}}
        """)
    for dialect in ("postgres", "mysql"):
        compiled = project.compile(["events"], dialect=dialect, start="2024-01-01",
                                   end="2024-03-01", compare="previous_period")
        assert not identifier_problems(compiled.expression, dialect), \
            identifier_problems(compiled.expression, dialect)



def test_date_column_with_expr_is_not_converted(tmp_path: Path) -> None:
    project = _project(tmp_path, """
        models:
          - name: deals
            table: deals
            primary_key: id
            time: closed_on
            columns:
              - id
              - {name: closed_on, type: date, expr: close_date}
        metrics:
          - name: closed
            type: simple
            measure: {model: deals, agg: count}
        """)
    compiled = project.compile(["closed"], grain="day", start="2024-05-22", end="2024-05-24",
                               timezone="America/New_York")
    con = _duckdb("CREATE TABLE deals (id INT, close_date DATE)",
                  "INSERT INTO deals VALUES (1, '2024-05-23')")
    rows = [(str(day), n) for day, n in con.execute(compiled.sql).fetchall()]
    assert rows == [("2024-05-22", 0), ("2024-05-23", 1)], rows


@pytest.mark.parametrize("word", ["update", "delete", "escape"])
def test_model_named_like_a_sqlite_keyword(tmp_path: Path, word: str) -> None:
    import sqlite3

    project = _project(tmp_path, f"""
        models:
          - {{name: {word}, table: t1, primary_key: id, time: ts}}
        metrics:
          - name: n
            type: simple
            measure: {{model: {word}, agg: count}}
        """)
    compiled = project.compile(["n"], dialect="sqlite", start="2024-01-01", end="2024-02-01")
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t1 (id INT, ts TIMESTAMP)")
    _must(lambda: con.execute(compiled.sql).fetchall())


def test_dotted_quoted_identifier_in_bigquery(tmp_path: Path) -> None:
    """Was: BigQuery's `a.b` (column b of a) was qualified to the model instead, and DuckDB
    failed with "Cannot extract field 'b' from expression deals". Now validation refuses
    the unknown qualifier where it is written."""
    (tmp_path / "kpispec.yaml").write_text("dialect: bigquery\n")
    with pytest.raises(kpispec.SpecErrors) as info:
        _project(tmp_path, """
            models:
              - name: deals
                table: deals
                primary_key: id
                time: ts
                columns: [id, ts, {name: odd, expr: '`a.b`'}]
                dimensions: [odd]
            metrics:
              - {name: n, type: simple, measure: {model: deals, agg: count}}
            """)
    assert "specs.yaml:7:41: models[0].columns[2].expr: unknown qualifier 'a' of column 'b'" \
        in str(info.value), str(info.value)


# ---------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["columns: [id, ts, {name: 5, type: text}]",
                                   "dimensions: [{name: 5}]",
                                   "label: {en: 5}"])
def test_schema_message_names_the_real_problem(tmp_path: Path, where: str) -> None:
    with pytest.raises(kpispec.SpecErrors) as info:
        _project(tmp_path, f"""
            models:
              - name: deals
                table: deals
                primary_key: id
                time: ts
                {where}
            metrics: []
            """)
    assert "a model needs" not in str(info.value), str(info.value)
    assert "expected a string, got 5" in str(info.value), str(info.value)
