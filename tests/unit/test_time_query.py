"""Time as users mean it, through the API and the CLI: calendars, partial periods,
relative ranges, comparisons, baselines, targets and to-date windows."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import kpispec
import pytest
from click.testing import CliRunner, Result
from kpispec.calendar import Calendar
from kpispec.cli import main
from kpispec.errors import QueryError, SpecErrors

D = dt.date

SPEC = """
models:
  - name: deals
    table: deals
    primary_key: deal_id
    time: closed_at
    columns:
      - deal_id
      - closed_at
      - {name: discounted_on, type: date}
      - stage
      - amount
      - discount
      - region
    dimensions: [region]
metrics:
  - name: revenue
    type: simple
    measure: {model: deals, agg: sum, expr: amount, filter: "stage = 'won'"}
    targets:
      value: 1000
      periods:
        - {period: 2024-01-01, value: 800}
        - {period: 2024-02-01, value: 900}
  - name: deals_quota
    type: simple
    measure: {model: deals, agg: count}
    targets:
      periods:
        - {period: 2024-01-01, value: 10}
  - name: discounts
    type: simple
    measure: {model: deals, agg: sum, expr: discount, time: discounted_on}
    targets: {value: 50, higher_is_better: false}
  - name: deals_won
    type: simple
    measure: {model: deals, agg: count, filter: "stage = 'won'"}
  - name: deals_won_dtd
    type: simple
    measure: {model: deals, agg: count, filter: "stage = 'won'", grain_to_date: day}
  - name: deals_won_wtd
    type: simple
    measure: {model: deals, agg: count, filter: "stage = 'won'", grain_to_date: week}
  - name: deals_won_mtd
    type: simple
    measure: {model: deals, agg: count, filter: "stage = 'won'", grain_to_date: month}
  - name: deals_won_qtd
    type: simple
    measure: {model: deals, agg: count, filter: "stage = 'won'", grain_to_date: quarter}
  - name: fiscal_deals
    type: simple
    grain: fiscal_quarter
    measure: {model: deals, agg: count}
"""

TZ_HINT = ("Use an IANA name such as Europe/Warsaw or America/New_York "
           "(pip install tzdata where the system has no zone database)")


@pytest.fixture
def root(make_project: Callable[..., Path]) -> Path:
    return make_project({"specs.yaml": SPEC})


@pytest.fixture
def project(root: Path) -> kpispec.Project:
    return kpispec.load_project(root, packs=False)


@pytest.fixture
def database(tmp_path: Path) -> str:
    path = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE deals (deal_id INT, closed_at TIMESTAMP, discounted_on DATE, "
                "stage VARCHAR, amount DOUBLE, discount DOUBLE, region VARCHAR)")
    con.executemany("INSERT INTO deals VALUES (?, ?, ?, ?, ?, ?, ?)", [
        (1, "2024-01-10 10:00:00", "2024-01-10", "won", 100.0, 20.0, "EMEA"),
        (2, "2024-01-20 12:00:00", "2024-01-20", "won", 300.0, 30.0, "NA"),
        (3, "2024-02-05 09:00:00", "2024-02-05", "won", 450.0, 100.0, "NA"),
        (4, "2024-02-06 09:00:00", "2024-02-06", "lost", 999.0, 0.0, "NA"),
        # 23:30 UTC on 31 March is 01:30 on 1 April in Warsaw (CEST, +2).
        (5, "2024-03-31 23:30:00", "2024-03-31", "won", 1200.0, 25.0, "EMEA"),
    ])
    con.close()
    return f"duckdb:///{path}"


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def one_line(sql: str) -> str:
    return " ".join(sql.split())


# -- partial periods -----------------------------------------------------------------------


def test_partial_periods_at_both_ends_are_noted(project: kpispec.Project) -> None:
    compiled = project.compile(["revenue"], start="2024-01-15", end="2024-03-10")
    assert compiled.notes == (
        "the first month period (2024-01-01) is partial: it starts before --from 2024-01-15, "
        "so only its days from 2024-01-15 on are counted (--partial drop leaves it out)",
        "the last month period (2024-03-01) is partial: it ends after --to 2024-03-10, "
        "so only its days before 2024-03-10 are counted (--partial drop leaves it out)",
    )
    # kept: the range is not moved, the spine still lists the partial periods
    assert (compiled.query.start, compiled.query.end) == (D(2024, 1, 15), D(2024, 3, 10))
    sql = one_line(compiled.sql)
    assert "deals.closed_at >= CAST('2024-01-15 00:00:00' AS TIMESTAMP)" in sql
    assert "deals.closed_at < CAST('2024-03-10 00:00:00' AS TIMESTAMP)" in sql
    assert "CAST('2024-01-01' AS DATE) AS period" in sql
    assert "CAST('2024-03-01' AS DATE) AS period" in sql


def test_whole_periods_have_no_notes(project: kpispec.Project) -> None:
    assert project.compile(["revenue"], start="2024-01-01", end="2024-04-01").notes == ()
    assert project.compile(["revenue"]).notes == ()  # unbounded
    sunday = project.compile(["revenue"], grain="week", week_start="sunday",
                             start="2024-03-03", end="2024-03-31")
    assert sunday.notes == ()
    monday = project.compile(["revenue"], grain="week", start="2024-03-03", end="2024-03-31")
    assert monday.notes == (
        "the first week period (2024-02-26) is partial: it starts before --from 2024-03-03, so "
        "only its days from 2024-03-03 on are counted (--partial drop leaves it out)",
        "the last week period (2024-03-25) is partial: it ends after --to 2024-03-31, so only "
        "its days before 2024-03-31 are counted (--partial drop leaves it out)",
    )


def test_partial_drop_snaps_the_range_to_whole_periods(project: kpispec.Project) -> None:
    compiled = project.compile(["revenue"], start="2024-01-15", end="2024-03-10", partial="drop",
                               pretty=False)
    assert (compiled.query.start, compiled.query.end) == (D(2024, 2, 1), D(2024, 3, 1))
    assert compiled.notes == ()
    sql = compiled.sql
    assert "deals.closed_at >= CAST('2024-02-01 00:00:00' AS TIMESTAMP)" in sql
    assert "deals.closed_at < CAST('2024-03-01 00:00:00' AS TIMESTAMP)" in sql
    assert "periods AS (SELECT CAST('2024-02-01' AS DATE) AS period) SELECT" in sql


@pytest.mark.parametrize(("options", "start", "end"), [
    # Whole ends stay where they are.
    ({"start": "2024-01-01", "end": "2024-03-10"}, D(2024, 1, 1), D(2024, 3, 1)),
    ({"start": "2024-01-15", "end": "2024-04-01"}, D(2024, 2, 1), D(2024, 4, 1)),
    ({"start": "2024-01-15"}, D(2024, 2, 1), None),
    ({"end": "2024-03-10"}, None, D(2024, 3, 1)),
    # Weeks from Sunday: Wednesday 2024-03-06 → Sunday 2024-03-10; Thursday 03-28 → Sunday 03-24.
    ({"start": "2024-03-06", "end": "2024-03-28", "grain": "week", "week_start": "sunday"},
     D(2024, 3, 10), D(2024, 3, 24)),
    # Fiscal quarters from February: 2024-03-15 → 2024-05-01; 2024-12-01 → 2024-11-01.
    ({"start": "2024-03-15", "end": "2024-12-01", "grain": "fiscal_quarter",
      "fiscal_year_start_month": 2}, D(2024, 5, 1), D(2024, 11, 1)),
])
def test_partial_drop(project: kpispec.Project, options: dict[str, Any],
                      start: dt.date | None, end: dt.date | None) -> None:
    query = project.query(["revenue"], partial="drop", **options)
    assert (query.start, query.end) == (start, end)


def test_partial_drop_with_no_whole_period_left(project: kpispec.Project) -> None:
    with pytest.raises(QueryError) as info:
        project.query(["revenue"], start="2024-01-15", end="2024-02-10", partial="drop")
    assert str(info.value) == ("--partial drop: no whole month period lies between 2024-01-15 "
                               "and 2024-02-10")


def test_partial_must_be_keep_or_drop(project: kpispec.Project) -> None:
    with pytest.raises(QueryError, match=r"^--partial 'trim': choose keep or drop$"):
        project.query(["revenue"], partial="trim")


def test_cli_prints_notes_on_stderr_and_sql_on_stdout(root: Path) -> None:
    result = cli("compile", "revenue", "-p", str(root), "--from", "2024-01-15", "--to", "2024-03-10")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "note: the first month period (2024-01-01) is partial: it starts before --from "
        "2024-01-15, so only its days from 2024-01-15 on are counted (--partial drop leaves it out)",
        "note: the last month period (2024-03-01) is partial: it ends after --to 2024-03-10, so "
        "only its days before 2024-03-10 are counted (--partial drop leaves it out)",
    ]
    assert "note:" not in result.stdout
    assert result.stdout.startswith("WITH deals_by_closed_at AS (")
    assert result.stdout.rstrip().endswith(";")


def test_cli_partial_drop(root: Path) -> None:
    result = cli("compile", "revenue", "-p", str(root), "--from", "2024-01-15", "--to", "2024-03-10",
                 "--partial", "drop")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    sql = one_line(result.stdout)
    assert "deals.closed_at >= CAST('2024-02-01 00:00:00' AS TIMESTAMP)" in sql
    assert "deals.closed_at < CAST('2024-03-01 00:00:00' AS TIMESTAMP)" in sql
    bad = cli("compile", "revenue", "-p", str(root), "--partial", "trim")
    assert bad.exit_code == 1 and "Invalid value for '--partial'" in bad.output


# -- relative ranges -------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "first", "last"), [
    ("-3 months", "start_of_month", D(2024, 2, 17), D(2024, 5, 1)),
    ("start_of_quarter -1 quarter", "start_of_quarter", D(2024, 1, 1), D(2024, 4, 1)),
    ("start_of_month -12 months", "start_of_month", D(2023, 5, 1), D(2024, 5, 1)),
    ("start_of_year", "tomorrow", D(2024, 1, 1), D(2024, 5, 18)),
    ("-7 days", "today", D(2024, 5, 10), D(2024, 5, 17)),
    ("2024-01-01", "start_of_week", D(2024, 1, 1), D(2024, 5, 13)),
])
def test_relative_range_counts_from_as_of(project: kpispec.Project, start: str, end: str,
                                          first: dt.date, last: dt.date) -> None:
    for as_of in ("2024-05-17", D(2024, 5, 17)):
        query = project.query(["revenue"], start=start, end=end, as_of=as_of)
        assert (query.start, query.end) == (first, last)


def test_relative_range_follows_the_query_calendar(project: kpispec.Project) -> None:
    query = project.query(["revenue"], start="start_of_fiscal_year", end="start_of_week",
                          as_of="2024-05-17", fiscal_year_start_month=7, week_start="sunday")
    assert (query.start, query.end) == (D(2023, 7, 1), D(2024, 5, 12))


def test_relative_range_with_partial_drop(project: kpispec.Project) -> None:
    query = project.query(["revenue"], start="-3 months", end="today", as_of="2024-05-17",
                          partial="drop")
    assert (query.start, query.end) == (D(2024, 3, 1), D(2024, 5, 1))


def test_bad_as_of(project: kpispec.Project) -> None:
    with pytest.raises(QueryError) as info:
        project.query(["revenue"], start="-1 month", as_of="yesterday")
    assert str(info.value) == "--as-of 'yesterday' is not a date. Write YYYY-MM-DD"


def test_bad_relative_from(project: kpispec.Project) -> None:
    with pytest.raises(QueryError) as info:
        project.query(["revenue"], start="last quarter", as_of="2024-05-17")
    assert info.value.message == "--from 'last quarter' is not a date or a relative date"


def test_cli_relative_range_with_as_of(root: Path) -> None:
    result = cli("compile", "revenue", "-p", str(root), "--from", "start_of_month -2 months",
                 "--to", "start_of_month", "--as-of", "2024-05-17")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    sql = one_line(result.stdout)
    assert "deals.closed_at >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)" in sql
    assert "deals.closed_at < CAST('2024-05-01 00:00:00' AS TIMESTAMP)" in sql
    bad = cli("compile", "revenue", "-p", str(root), "--to", "soon")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: --to 'soon' is not a date or a relative date. Write a date")
    assert len(bad.stderr.splitlines()) == 1


# -- comparisons and baselines ----------------------------------------------------------------


def test_baseline_range(project: kpispec.Project) -> None:
    query = project.query(["revenue"], baseline="2023-01-01:2024-01-01")
    assert (query.compare, query.baseline) == ("baseline", (D(2023, 1, 1), D(2024, 1, 1)))
    pair = project.query(["revenue"], baseline=(D(2023, 1, 1), "2023-07-01"), compare="baseline")
    assert (pair.compare, pair.baseline) == ("baseline", (D(2023, 1, 1), D(2023, 7, 1)))
    relative = project.query(["revenue"], baseline="start_of_year -1 year:start_of_year",
                             as_of="2024-05-17")
    assert relative.baseline == (D(2023, 1, 1), D(2024, 1, 1))


@pytest.mark.parametrize(("options", "message"), [
    ({"baseline": "2023-01-01"},
     "--baseline '2023-01-01' is not START:END. Write e.g. --baseline 2023-01-01:2024-01-01"),
    ({"baseline": "2024-01-01:2023-01-01"},
     "--baseline 2024-01-01:2023-01-01: the start is not before the end"),
    ({"baseline": "2023-01-01:2023-01-01"},
     "--baseline 2023-01-01:2023-01-01: the start is not before the end"),
    ({"baseline": "2023-01-01:later"},
     "--baseline end 'later' is not a date or a relative date. Write a date (YYYY-MM-DD), today, "
     "yesterday, start_of_week|month|quarter|year|fiscal_quarter|fiscal_year, optionally "
     "followed by shifts such as '-12 months' or '+1 week'"),
    ({"baseline": "2023-13-01:2024-01-01"},
     "--baseline start '2023-13-01': 2023-13-01 is not a date"),
    ({"baseline": "2023-01-01:2024-01-01", "compare": "previous_period"},
     "--baseline and --compare previous_period do not go together. A baseline is a comparison "
     "of its own: drop --compare"),
    ({"compare": "baseline"}, "--compare baseline needs --baseline START:END"),
])
def test_baseline_errors(project: kpispec.Project, options: dict[str, Any], message: str) -> None:
    with pytest.raises(QueryError) as info:
        project.compile(["revenue"], **options)
    assert str(info.value) == message


def test_unknown_comparison(project: kpispec.Project) -> None:
    with pytest.raises(QueryError) as info:
        project.compile(["revenue"], compare="last_week")
    assert str(info.value) == ("unknown comparison 'last_week'; choose one of previous_period, "
                               "same_period_last_year, baseline")


@pytest.mark.parametrize(("args", "stderr"), [
    (["--baseline", "2023"],
     "error: --baseline '2023' is not START:END. Write e.g. --baseline 2023-01-01:2024-01-01\n"),
    (["--baseline", "2023-01-01:2024-01-01", "--compare", "same_period_last_year"],
     "error: --baseline and --compare same_period_last_year do not go together. A baseline is "
     "a comparison of its own: drop --compare\n"),
])
def test_cli_baseline_errors(root: Path, args: list[str], stderr: str) -> None:
    result = cli("compile", "revenue", "-p", str(root), *args)
    assert result.exit_code == 1
    assert result.stderr == stderr
    assert result.stdout == ""


def test_compare_offsets_in_sql(project: kpispec.Project) -> None:
    sql = project.compile(["revenue"], start="2024-01-01", end="2024-04-01",
                          compare="previous_period", pretty=False).sql
    # The compared scan reads the month before and reports each row a month later.
    assert "deals_by_closed_at_1_month_earlier AS (SELECT CAST(CAST(DATE_TRUNC('MONTH', " \
           "deals.closed_at) AS DATE) + INTERVAL 1 MONTH AS DATE) AS period" in sql
    assert "deals.closed_at >= CAST('2023-12-01 00:00:00' AS TIMESTAMP) " \
           "AND deals.closed_at < CAST('2024-03-01 00:00:00' AS TIMESTAMP)" in sql
    weekly = project.compile(["revenue"], grain="week", start="2024-01-01", end="2024-01-15",
                             compare="same_period_last_year", pretty=False).sql
    # The same week last year: 52 weeks (364 days) back, the same weekday.
    assert "deals_by_closed_at_52_week_earlier" in weekly
    assert "deals.closed_at >= CAST('2023-01-02 00:00:00' AS TIMESTAMP)" in weekly


# -- grain-to-date windows ----------------------------------------------------------------------


@pytest.mark.parametrize(("metric", "grain"), [
    ("deals_won_mtd", "day"), ("deals_won_mtd", "week"), ("deals_won_mtd", "month"),
    ("deals_won_qtd", "month"), ("deals_won_qtd", "quarter"), ("deals_won_wtd", "day"),
    ("deals_won_wtd", "week"), ("deals_won_dtd", "day"),
])
def test_to_date_at_a_grain_it_holds(project: kpispec.Project, metric: str, grain: str) -> None:
    compiled = project.compile([metric], grain=grain, start="2024-01-01", end="2024-01-15")
    assert compiled.columns == ("period", metric)


def test_to_date_coarser_query_grain_is_an_error(project: kpispec.Project) -> None:
    with pytest.raises(QueryError) as info:
        project.compile(["deals_won_mtd"], grain="quarter")
    assert str(info.value) == ("metric 'deals_won_mtd': month-to-date does not hold whole quarter "
                               "periods. Query it by day, week, month")
    with pytest.raises(QueryError) as info:
        project.compile(["deals_won_dtd"], grain="week")
    assert str(info.value) == ("metric 'deals_won_dtd': day-to-date cannot be read by week. "
                               "Query it by day")


@pytest.mark.parametrize(("metric", "grain"), [
    ("deals_won_mtd", "quarter"),
    ("deals_won_mtd", "year"),
    ("deals_won_qtd", "year"),
    ("deals_won_dtd", "month"),
    ("deals_won_wtd", "month"),
    ("deals_won_wtd", "quarter"),
])
def test_to_date_error_hint_names_only_grains_that_work(project: kpispec.Project, metric: str,
                                                        grain: str) -> None:
    with pytest.raises(QueryError) as info:
        project.compile([metric], grain=grain)
    assert info.value.message.startswith(f"metric {metric!r}: ")
    named = re.findall(r"\b(day|week|month|quarter|year)\b", info.value.hint)
    assert named, info.value.hint
    for suggested in named:  # never the grain that just failed, nor another that fails
        try:
            project.compile([metric], grain=suggested)
        except QueryError as exc:
            pytest.fail(f"the hint {info.value.hint!r} names --grain {suggested}, which fails "
                        f"too: {exc}")


def test_quarter_to_date_by_fiscal_quarter(project: kpispec.Project) -> None:
    # Fiscal quarters from July coincide with calendar quarters: a QTD holds them.
    project.compile(["deals_won_qtd"], grain="fiscal_quarter", fiscal_year_start_month=7)
    with pytest.raises(QueryError) as info:
        project.compile(["deals_won_qtd"], grain="fiscal_quarter", fiscal_year_start_month=2)
    assert info.value.message == ("metric 'deals_won_qtd': quarter-to-date does not hold whole "
                                  "fiscal_quarter periods")


def test_to_date_error_through_the_cli(root: Path) -> None:
    result = cli("compile", "deals_won_mtd", "-p", str(root), "--grain", "year")
    assert result.exit_code == 1
    assert result.stderr == ("error: metric 'deals_won_mtd': month-to-date does not hold whole "
                             "year periods. Query it by day, week, month\n")


# -- targets -------------------------------------------------------------------------------------


def test_per_period_targets_at_their_grain(project: kpispec.Project) -> None:
    compiled = project.compile(["revenue"], start="2024-01-01", end="2024-04-01", targets=True,
                               pretty=False)
    assert compiled.notes == ()
    assert compiled.targets == {"revenue": {D(2024, 1, 1): 800.0, D(2024, 2, 1): 900.0}}
    target = ("CASE WHEN periods.period = CAST('2024-01-01' AS DATE) THEN 800.0 "
              "WHEN periods.period = CAST('2024-02-01' AS DATE) THEN 900.0 ELSE 1000.0 END")
    assert f"{target} AS revenue__target" in compiled.sql
    assert (f"100 * (COALESCE(deals_by_closed_at.revenue, 0)) / NULLIF({target}, 0) "
            "AS revenue__attainment") in compiled.sql


def test_lower_is_better_attainment_is_target_over_value(project: kpispec.Project) -> None:
    sql = project.compile(["discounts"], start="2024-01-01", end="2024-04-01", targets=True,
                          pretty=False).sql
    assert "50.0 AS discounts__target" in sql
    assert ("100 * 50.0 / NULLIF((COALESCE(deals_by_discounted_on.discounts, 0)), 0) "
            "AS discounts__attainment") in sql


def test_per_period_targets_at_another_grain_without_a_constant(project: kpispec.Project) -> None:
    with pytest.raises(QueryError) as info:
        project.compile(["deals_quota"], grain="quarter", targets=True)
    assert str(info.value) == ("--targets: the targets of 'deals_quota' are per month period; "
                               "this query is by quarter. Query at --grain month")
    # Without --targets the grain does not matter.
    project.compile(["deals_quota"], grain="quarter")


def test_per_period_targets_at_another_grain_with_a_constant(project: kpispec.Project) -> None:
    compiled = project.compile(["revenue"], grain="quarter", targets=True, pretty=False)
    assert compiled.notes == ("revenue: its targets per month period do not apply by quarter; "
                              "its constant target 1000 does",)
    assert compiled.targets == {}
    assert "1000.0 AS revenue__target" in compiled.sql
    assert "CASE WHEN periods.period" not in compiled.sql


def test_targets_on_a_metric_without_targets(project: kpispec.Project) -> None:
    compiled = project.compile(["deals_won", "revenue"], start="2024-01-01", end="2024-04-01",
                               targets=True)
    assert compiled.notes == ("deals_won has no targets: no deals_won__target column",)
    assert compiled.columns == ("period", "deals_won", "revenue", "revenue__target",
                                "revenue__attainment")


def test_target_periods_outside_the_range_are_noted(project: kpispec.Project) -> None:
    compiled = project.compile(["revenue"], start="2024-02-01", end="2024-04-01", targets=True)
    assert compiled.notes == ("revenue: 1 target period(s) not in the result, so their targets "
                              "were not compared: 2024-01-01",)


def test_cli_targets_notes(root: Path) -> None:
    result = cli("compile", "deals_won", "revenue", "-p", str(root), "--targets", "--grain",
                 "quarter", "--from", "2024-01-01", "--to", "2025-01-01")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "note: deals_won has no targets: no deals_won__target column",
        "note: revenue: its targets per month period do not apply by quarter; its constant "
        "target 1000 does",
    ]
    assert "AS revenue__attainment" in result.stdout
    error = cli("compile", "deals_quota", "-p", str(root), "--targets", "--grain", "week")
    assert error.exit_code == 1
    assert error.stderr == ("error: --targets: the targets of 'deals_quota' are per month "
                            "period; this query is by week. Query at --grain month\n")


# -- result columns --------------------------------------------------------------------------------


def test_columns_of_comparisons_and_targets(project: kpispec.Project) -> None:
    compiled = project.compile(["revenue", "deals_won", "discounts"], by=["region"],
                               compare="previous_period", targets=True,
                               start="2024-01-01", end="2024-04-01")
    assert compiled.columns == (
        "period", "region",
        "revenue", "revenue__compare", "revenue__change", "revenue__change_pct",
        "revenue__target", "revenue__attainment",
        "deals_won", "deals_won__compare", "deals_won__change", "deals_won__change_pct",
        "discounts", "discounts__compare", "discounts__change", "discounts__change_pct",
        "discounts__target", "discounts__attainment",
    )


def test_baseline_columns_are_the_comparison_columns(project: kpispec.Project) -> None:
    compiled = project.compile(["revenue"], baseline="2023-01-01:2024-01-01")
    assert compiled.columns == ("period", "revenue", "revenue__compare", "revenue__change",
                                "revenue__change_pct")


@pytest.mark.parametrize("grain", ["fiscal_quarter", "fiscal_year"])
def test_fiscal_grains_add_period_label_second(project: kpispec.Project, grain: str) -> None:
    compiled = project.compile(["revenue"], grain=grain, by=["region"], targets=True,
                               fiscal_year_start_month=4, start="2024-04-01", end="2025-04-01")
    assert compiled.columns == ("period", "period_label", "region", "revenue", "revenue__target",
                                "revenue__attainment")
    for plain in ("quarter", "year", "month", "week", "day"):
        assert "period_label" not in project.compile(["revenue"], grain=plain).columns


def test_metric_grain_fiscal_quarter_is_the_default(project: kpispec.Project) -> None:
    compiled = project.compile(["fiscal_deals"], fiscal_year_start_month=7,
                               start="2024-07-01", end="2025-07-01")
    assert compiled.query.grain == "fiscal_quarter"
    assert compiled.columns == ("period", "period_label", "fiscal_deals")


# -- project settings ------------------------------------------------------------------------------

SETTINGS = """\
week_start: sunday
fiscal_year_start_month: 7
fiscal_year_label: start
timezone: Europe/Warsaw
"""


@pytest.fixture
def calendar_root(make_project: Callable[..., Path]) -> Path:
    return make_project({"specs.yaml": SPEC, "kpispec.yaml": SETTINGS}, "calendar")


def test_settings_calendar_is_the_default(calendar_root: Path) -> None:
    project = kpispec.load_project(calendar_root, packs=False)
    assert project.settings.calendar == Calendar("sunday", 7, "start", "Europe/Warsaw")
    query = project.query(["revenue"], grain="week", start="2024-03-06", end="2024-03-31",
                          partial="drop")
    assert query.calendar == Calendar("sunday", 7, "start", "Europe/Warsaw")
    assert (query.start, query.end) == (D(2024, 3, 10), D(2024, 3, 31))
    sql = project.compile(["revenue"], grain="week", start="2024-03-03", end="2024-03-31",
                          pretty=False).sql
    # Warsaw midnights: CET (+1) on 3 March and on 31 March (summer time starts at 02:00).
    assert "deals.closed_at >= CAST('2024-03-02 23:00:00' AS TIMESTAMP)" in sql
    assert "deals.closed_at < CAST('2024-03-30 23:00:00' AS TIMESTAMP)" in sql
    april = one_line(project.compile(["revenue"], start="2024-04-01", end="2024-05-01").sql)
    assert "deals.closed_at >= CAST('2024-03-31 22:00:00' AS TIMESTAMP)" in april  # CEST, +2
    assert "(deals.closed_at AT TIME ZONE 'UTC') AT TIME ZONE 'Europe/Warsaw'" in sql
    assert "INTERVAL (-6) DAY" in sql  # Sunday weeks
    fiscal = project.compile(["revenue"], grain="fiscal_year", start="2024-07-01",
                             end="2025-07-01")
    assert fiscal.notes == ()
    assert "CAST('2024-07-01' AS DATE) AS period" in one_line(fiscal.sql)


def test_settings_calendar_is_overridden_per_query(calendar_root: Path) -> None:
    project = kpispec.load_project(calendar_root, packs=False)
    query = project.query(["revenue"], week_start="monday", fiscal_year_start_month=1,
                          fiscal_year_label="end", timezone="UTC")
    assert query.calendar == Calendar("monday", 1, "end", "UTC")
    sql = one_line(project.compile(["revenue"], timezone="UTC", week_start="monday",
                                   grain="week", start="2024-03-04", end="2024-04-01").sql)
    assert "AT TIME ZONE" not in sql
    assert "deals.closed_at >= CAST('2024-03-04 00:00:00' AS TIMESTAMP)" in sql
    assert "CAST(DATE_TRUNC('WEEK', deals.closed_at) AS DATE) AS period" in sql
    ny = project.query(["revenue"], timezone="America/New_York")
    assert ny.calendar == Calendar("sunday", 7, "start", "America/New_York")


def test_cli_calendar_options_override_settings(calendar_root: Path) -> None:
    result = cli("compile", "revenue", "-p", str(calendar_root), "--grain", "fiscal_quarter",
                 "--fiscal-year-start-month", "2", "--week-start", "monday",
                 "--timezone", "Asia/Kolkata", "--from", "2024-02-01", "--to", "2024-05-01")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    sql = one_line(result.stdout)
    assert "AT TIME ZONE 'Asia/Kolkata'" in sql
    assert "deals.closed_at >= CAST('2024-01-31 18:30:00' AS TIMESTAMP)" in sql
    assert "CAST('2024-02-01' AS DATE) AS period" in sql
    # Labelled by the start year (kpispec.yaml): months before February belong to last year.
    assert "IN (1) THEN 1 ELSE 0 END" in sql


def test_date_columns_are_not_converted(calendar_root: Path) -> None:
    project = kpispec.load_project(calendar_root, packs=False)
    sql = one_line(project.compile(["discounts"], start="2024-03-01", end="2024-04-01").sql)
    assert "deals.discounted_on >= CAST('2024-03-01 00:00:00' AS TIMESTAMP)" in sql
    assert "CAST(DATE_TRUNC('MONTH', deals.discounted_on) AS DATE) AS period" in sql
    assert "AT TIME ZONE" not in sql


def test_fiscal_year_start_month_zero_is_an_error(project: kpispec.Project) -> None:
    with pytest.raises(QueryError) as info:
        project.query(["revenue"], fiscal_year_start_month=0)
    assert str(info.value) == ("fiscal_year_start_month 0 is not a month number. "
                               "Give 1 (January) to 12 (December)")


def test_bad_week_start_option(project: kpispec.Project, root: Path) -> None:
    with pytest.raises(QueryError, match=r"^week_start 'funday' is not a weekday\. Choose one"):
        project.query(["revenue"], week_start="funday")
    result = cli("compile", "revenue", "-p", str(root), "--week-start", "funday")
    assert result.exit_code == 1 and "Invalid value for '--week-start'" in result.output
    month = cli("compile", "revenue", "-p", str(root), "--fiscal-year-start-month", "13")
    assert month.exit_code == 1 and "Invalid value for '--fiscal-year-start-month'" in month.output


def test_unknown_timezone_option(project: kpispec.Project, root: Path) -> None:
    with pytest.raises(QueryError) as info:
        project.query(["revenue"], timezone="Mars/Olympus_Mons")
    assert str(info.value) == f"unknown time zone 'Mars/Olympus_Mons'. {TZ_HINT}"
    result = cli("compile", "revenue", "-p", str(root), "--timezone", "Mars/Olympus_Mons")
    assert result.exit_code == 1
    assert result.stderr == f"error: unknown time zone 'Mars/Olympus_Mons'. {TZ_HINT}\n"
    assert result.stdout == ""


@pytest.mark.parametrize("command", [["validate", "."], ["compile", "revenue"]])
def test_bad_timezone_in_settings_is_located(make_project: Callable[..., Path],
                                             monkeypatch: pytest.MonkeyPatch,
                                             command: Sequence[str]) -> None:
    root = make_project({"specs.yaml": SPEC,
                         "kpispec.yaml": "dialect: duckdb\ntimezone: Mars/Olympus_Mons\n"}, "bad")
    monkeypatch.chdir(root)
    result = cli(*command)
    assert result.exit_code == 1
    assert result.output == (f"kpispec.yaml:2:11: timezone: unknown time zone 'Mars/Olympus_Mons'. "
                             f"{TZ_HINT}\n1 problem found.\n")
    with pytest.raises(SpecErrors) as info:
        kpispec.load_project(root, packs=False)
    [error] = info.value.errors
    assert (error.location.file, error.location.line, error.location.column) == (
        "kpispec.yaml", 2, 11)


# -- end to end on DuckDB ------------------------------------------------------------------------


def run_json(*args: str) -> tuple[list[dict[str, Any]], list[str]]:
    result = cli("run", *args, "--sink", "json:-")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr.splitlines()


def test_run_targets_and_previous_period(root: Path, database: str) -> None:
    rows, notes = run_json("revenue", "-p", str(root), "--source", database, "--targets",
                           "--compare", "previous_period", "--from", "2024-01-01",
                           "--to", "2024-04-01")
    assert notes == []
    assert [(r["period"], r["revenue"], r["revenue__compare"], r["revenue__change"],
             r["revenue__target"], r["revenue__attainment"]) for r in rows] == [
        ("2024-01-01", 400.0, 0.0, 400.0, 800.0, 50.0),
        ("2024-02-01", 450.0, 400.0, 50.0, 900.0, 50.0),
        ("2024-03-01", 1200.0, 450.0, 750.0, 1000.0, 120.0),
    ]
    assert [r["revenue__change_pct"] for r in rows][:2] == [None, 12.5]
    assert rows[2]["revenue__change_pct"] == pytest.approx(166.6666667)


def test_run_lower_is_better_and_date_column(root: Path, database: str) -> None:
    rows, _ = run_json("discounts", "-p", str(root), "--source", database, "--targets",
                       "--from", "2024-01-01", "--to", "2024-04-01", "--timezone", "Asia/Tokyo")
    assert [(r["period"], r["discounts"], r["discounts__attainment"]) for r in rows] == [
        ("2024-01-01", 50.0, 100.0), ("2024-02-01", 100.0, 50.0), ("2024-03-01", 25.0, 200.0)]


def test_run_in_a_time_zone_moves_rows_across_midnight(root: Path, database: str) -> None:
    utc, _ = run_json("revenue", "-p", str(root), "--source", database,
                      "--from", "2024-03-01", "--to", "2024-05-01")
    assert [(r["period"], r["revenue"]) for r in utc] == [("2024-03-01", 1200.0),
                                                          ("2024-04-01", 0.0)]
    warsaw, _ = run_json("revenue", "-p", str(root), "--source", database,
                         "--from", "2024-03-01", "--to", "2024-05-01", "--timezone", "Europe/Warsaw")
    assert [(r["period"], r["revenue"]) for r in warsaw] == [("2024-03-01", 0.0),
                                                             ("2024-04-01", 1200.0)]


def test_run_baseline_partial_notes_and_month_to_date(root: Path, database: str) -> None:
    rows, notes = run_json("revenue", "-p", str(root), "--source", database,
                           "--baseline", "2024-01-01:2024-02-01", "--from", "2024-02-01",
                           "--to", "2024-03-15")
    assert notes == [
        "note: the last month period (2024-03-01) is partial: it ends after --to 2024-03-15, so "
        "only its days before 2024-03-15 are counted (--partial drop leaves it out)"]
    assert [(r["period"], r["revenue"], r["revenue__compare"], r["revenue__change"])
            for r in rows] == [("2024-02-01", 450.0, 400.0, 50.0), ("2024-03-01", 0.0, 400.0, -400.0)]
    mtd, _ = run_json("deals_won_mtd", "-p", str(root), "--source", database, "--grain", "week",
                      "--from", "2024-01-08", "--to", "2024-02-12")
    # Month-to-date at the end of each week (weeks from Monday).
    assert [(r["period"], r["deals_won_mtd"]) for r in mtd] == [
        ("2024-01-08", 1), ("2024-01-15", 2), ("2024-01-22", 2),
        ("2024-01-29", 0),  # ends Sunday 4 February: nothing won in February before the 5th
        ("2024-02-05", 1)]
