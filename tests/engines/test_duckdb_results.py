"""kpispec's numbers on DuckDB equal an independent plain-Python computation.

Each test runs a query with ``project.run(...)`` on a DuckDB file written from
Python row lists (see conftest.py), and compares the whole result — every
row, in order — with the same query computed in Python over those lists
(``run`` fixture → :meth:`Reference.check`). Some tests also spell out a few
values literally, both to say what the test is about and to check the Python
reference itself.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from .conftest import (
    TYPES,
    Derived,
    M,
    Query,
    Ratio,
    Reference,
    Simple,
    aggregate,
    col,
    div,
    period_start,
    quantile_cont,
    write_tables,
)

D = dt.date
T = dt.datetime

H1 = {"start": D(2024, 1, 1), "end": D(2024, 7, 1)}  # first half of 2024
Y2024 = {"start": D(2024, 1, 1), "end": D(2025, 1, 1)}
NOT_APAC = ("region <> 'APAC'", lambda model, r: None if r["region"] is None else r["region"] != "APAC")

SIMPLE = ["sales_count", "won_sales_created", "priced_sales", "active_reps", "sales_amount",
          "avg_amount", "min_amount", "max_amount", "median_amount", "p90_amount"]


def by_period(rows: list[dict[str, Any]], **dims: Any) -> dict[dt.date, dict[str, Any]]:
    return {r["period"]: r for r in rows if all(r[k] == v for k, v in dims.items())}


# ---------------------------------------------------------------------------------
# The Python reference itself
# ---------------------------------------------------------------------------------


def test_reference_helpers() -> None:
    assert quantile_cont([10, 20, 30, 40, 100], 0.9) == pytest.approx(76.0)  # 40 + 0.6 × 60
    assert quantile_cont([1, 2], 0.5) == 1.5
    assert quantile_cont([7], 0.9) == 7
    assert aggregate("median", [3, None, 1, 2, 10]) == 2.5
    assert aggregate("sum", [None, None]) == 0 and aggregate("avg", [None]) is None
    assert aggregate("count", [1, None, 1]) == 2 and aggregate("count_distinct", [2, 2, None, 3]) == 2
    assert period_start(T(2024, 1, 3, 5), "week") == D(2024, 1, 1)  # Monday
    assert period_start(T(2024, 1, 7, 23), "week") == D(2024, 1, 1)  # Sunday
    assert period_start(T(2024, 11, 30), "quarter") == D(2024, 10, 1)


def test_data_has_the_edge_cases(data: dict[str, list[dict[str, Any]]]) -> None:
    """Guard the dataset's design, which the other tests rely on."""
    every_time = [r[c] for t, cols in (("sales", ("created_at", "closed_at")),
                                       ("sale_items", ("added_at",)),
                                       ("prospects", ("created_at",)),
                                       ("budgets", ("budget_month",)),
                                       ("accounts", ("signed_up_at",)))
                  for r in data[t] for c in cols if r[c] is not None]
    assert not [v for v in every_time if (v.year, v.month) == (2024, 5)]  # the gap month
    assert min(v.isoformat() for v in every_time) >= "2023-01"
    assert max(v.isoformat() for v in every_time) < "2025"
    assert not [p for p in data["prospects"]
                if p["created_at"] and (p["created_at"].year, p["created_at"].month) == (2024, 9)]
    assert [s for s in data["sales"] if s["stage"] == "won" and s["closed_at"]
            and (s["closed_at"].year, s["closed_at"].month) == (2024, 9)]
    assert [s for s in data["sales"] if s["region"] is None]
    assert [s for s in data["sales"] if s["created_at"] is None]
    assert [s for s in data["sales"] if s["amount"] is None]
    counts: dict[int, int] = {}
    for item in data["sale_items"]:
        counts[item["sale_id"]] = counts.get(item["sale_id"], 0) + 1
    assert max(counts.values()) >= 3  # several child rows per parent: fan-out bait


# ---------------------------------------------------------------------------------
# Measures
# ---------------------------------------------------------------------------------


def test_simple_measures_by_month(run: Any) -> None:
    rows = run(SIMPLE, **H1)
    assert [r["period"] for r in rows] == [D(2024, m, 1) for m in range(1, 7)]
    may = by_period(rows)[D(2024, 5, 1)]
    assert may == {"period": D(2024, 5, 1), "sales_count": 0, "won_sales_created": 0,
                   "priced_sales": 0, "active_reps": 0, "sales_amount": 0, "avg_amount": None,
                   "min_amount": None, "max_amount": None, "median_amount": None,
                   "p90_amount": None}


def test_simple_measures_by_region(run: Any) -> None:
    rows = run(SIMPLE, by=["region"], **Y2024)
    assert any(r["region"] is None and r["sales_count"] > 0 for r in rows)  # NULL group kept


def test_simple_measures_by_quarter_and_stage(run: Any) -> None:
    run(SIMPLE, by=["stage"], grain="quarter", start=D(2023, 10, 1), end=D(2025, 1, 1))


def test_literal_values_on_a_tiny_table(tmp_path: Any, project: Any) -> None:
    """Hand-computed numbers: one month, five sales (one with a NULL amount)."""
    data = {
        "accounts": [], "sale_items": [], "prospects": [], "budgets": [],
        "sales": [
            {"sale_id": i + 1, "account_id": None, "owner_id": o, "region": "EMEA",
             "stage": s, "amount": a, "created_at": T(2024, 3, 1 + i, 12), "closed_at": c}
            for i, (o, s, a, c) in enumerate([
                (1, "won", 10.0, T(2024, 3, 20)), (1, "won", 20.0, T(2024, 4, 2)),
                (2, "lost", 30.0, T(2024, 3, 21)), (3, "open", 40.0, None),
                (3, "won", 100.0, T(2024, 3, 31, 23, 59, 59)), (2, "open", None, None)])],
    }
    path = tmp_path / "tiny.duckdb"
    write_tables(path, data, TYPES)
    table = project.run(SIMPLE + ["won_count", "win_rate", "avg_won_amount"],
                        source=f"duckdb:///{path}", start="2024-03-01", end="2024-05-01")
    assert table.to_pylist() == [
        {"period": D(2024, 3, 1), "sales_count": 6, "won_sales_created": 3, "priced_sales": 5,
         "active_reps": 3, "sales_amount": 200.0, "avg_amount": 40.0, "min_amount": 10.0,
         "max_amount": 100.0, "median_amount": 30.0, "p90_amount": pytest.approx(76.0),
         "won_count": 2, "win_rate": pytest.approx(200 / 3), "avg_won_amount": 55.0},
        {"period": D(2024, 4, 1), "sales_count": 0, "won_sales_created": 0, "priced_sales": 0,
         "active_reps": 0, "sales_amount": 0, "avg_amount": None, "min_amount": None,
         "max_amount": None, "median_amount": None, "p90_amount": None,
         "won_count": 1, "win_rate": 100.0, "avg_won_amount": 20.0},
    ]


# ---------------------------------------------------------------------------------
# Ratios and derived metrics
# ---------------------------------------------------------------------------------


def test_ratio_scale_and_null_denominator(run: Any) -> None:
    rows = run(["won_count", "prospects_created", "close_rate", "win_rate"], **Y2024)
    september = by_period(rows)[D(2024, 9, 1)]
    assert september["won_count"] > 0 and september["prospects_created"] == 0
    assert september["close_rate"] is None
    may = by_period(rows)[D(2024, 5, 1)]
    assert (may["won_count"], may["close_rate"], may["win_rate"]) == (0, None, None)


def test_ratio_zero_denominator_by_region(run: Any) -> None:
    rows = run(["budget_amount", "won_amount", "budget_attainment"], by=["region"], **H1)
    march_amer = by_period(rows, region="AMER")[D(2024, 3, 1)]
    assert march_amer["budget_amount"] == 0 and march_amer["won_amount"] > 0
    assert march_amer["budget_attainment"] is None


def test_derived_metrics(run: Any) -> None:
    rows = run(["won_count", "won_amount", "lost_amount", "prospects_created", "avg_won_amount",
                "net_closed_amount", "win_minus_close_rate", "won_amount_per_prospect"], **Y2024)
    september = by_period(rows)[D(2024, 9, 1)]
    assert september["won_amount"] > 0 and september["won_amount_per_prospect"] is None
    assert september["win_minus_close_rate"] is None  # close_rate is NULL
    may = by_period(rows)[D(2024, 5, 1)]
    assert may["avg_won_amount"] is None and may["net_closed_amount"] == 0


def test_derived_metrics_by_region(run: Any) -> None:
    run(["avg_won_amount", "net_closed_amount", "win_minus_close_rate",
         "won_amount_per_prospect"], by=["region"], grain="quarter", start=D(2023, 10, 1),
        end=D(2025, 1, 1))


# ---------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------


def test_conditional_aggregation_over_one_table(run: Any) -> None:
    """Measures with different filters (and time columns) over sales, in one query."""
    run(["won_count", "lost_count", "won_amount", "lost_amount", "win_rate", "sales_count",
         "won_sales_created", "large_sales", "large_band_sales", "enterprise_won_amount",
         "emea_net_closed_amount"], **Y2024)


def test_conditional_aggregation_by_region_with_where(run: Any) -> None:
    rows = run(["won_count", "lost_count", "won_amount", "win_rate", "large_sales",
                "large_band_sales", "prospects_created", "close_rate"],
               by=["region"], where=NOT_APAC, **H1)
    assert {r["region"] for r in rows} <= {"EMEA", "AMER", None}
    # NULL regions fail "region <> 'APAC'": only the empty May row has a NULL region.
    assert [r["period"] for r in rows if r["region"] is None] == [D(2024, 5, 1)]


def test_metric_filters(run: Any) -> None:
    """Metric-level filters: a column, a dimension reached through a join (plain and
    qualified), and a derived metric's filter reaching both of its measures."""
    run(["large_sales", "enterprise_won_amount", "enterprise_win_rate",
         "emea_net_closed_amount", "net_closed_amount"], by=["segment"], **Y2024)
    run(["emea_net_closed_amount", "net_closed_amount"], by=["region"], **Y2024)


def test_where_on_a_joined_dimension(run: Any, ref: Reference) -> None:
    """--where naming a dimension one join (sales) or two joins (sale_items) away."""
    def enterprise(model: str, r: dict[str, Any]) -> Any:
        segment = ref.dims[model]["segment"](r)
        return None if segment is None else segment == "enterprise"

    run(["sales_count", "won_amount", "item_revenue"], by=["sales.region"],
        where=("segment = 'enterprise'", enterprise), **Y2024)


def test_where_with_or_and_measure_filters(run: Any) -> None:
    where = ("amount > 1000 OR region = 'APAC'",
             lambda model, r: _or(None if r["amount"] is None else r["amount"] > 1000,
                                  None if r["region"] is None else r["region"] == "APAC"))
    run(["won_count", "lost_count", "sales_count", "win_rate"], by=["region"], where=where,
        **Y2024)


def _or(a: Any, b: Any) -> Any:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def test_or_filters_named_dimensions_in_filters_and_nested_derived(run: Any) -> None:
    """OR in a measure filter and in a metric filter (parenthesised when combined), a
    filter naming a dimension (rep = owner_id), a filtered ratio over two tables, and a
    filtered derived metric over a derived metric over ratios."""
    run(["closed_emea_or_unknown", "won_count", "rep3_sales", "sales_count", "emea_close_rate",
         "close_rate", "emea_win_minus_close_rate", "win_minus_close_rate"], **Y2024)
    run(["closed_emea_or_unknown", "rep3_sales", "emea_close_rate", "emea_win_minus_close_rate"],
        by=["region"], **Y2024)


def test_where_on_a_named_dimension(run: Any, ref: Reference) -> None:
    def large(model: str, r: dict[str, Any]) -> bool:
        return ref.dims[model]["size_band"](r) == "large"

    run(["sales_count", "won_count", "lost_amount", "won_median_amount"], by=["rep"],
        where=("size_band = 'large'", large), **H1)


def test_filtered_median_and_percentile_and_integer_division(run: Any) -> None:
    rows = run(["won_median_amount", "won_p25_amount", "won_lost_ratio",
                "half_net_closed_amount", "won_count", "lost_count"], **Y2024)
    assert any(r["won_lost_ratio"] not in (None, int(r["won_lost_ratio"])) for r in rows)


def test_model_over_a_select(run: Any) -> None:
    run(["closed_amount", "closed_avg_amount", "won_amount", "lost_amount"], by=["region"],
        grain="quarter", start=D(2023, 10, 1), end=D(2025, 1, 1))


# ---------------------------------------------------------------------------------
# Dimensions
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dims", [
    ["region"], ["stage"], ["rep"], ["size_band"], ["segment"], ["accounts.segment"],
    ["accounts.region"], ["region", "size_band"], ["segment", "stage"],
])
def test_dimensions(run: Any, dims: list[str]) -> None:
    run(["sales_count", "sales_amount", "avg_amount", "won_count"], by=dims, **H1)


def test_own_dimension_wins_over_a_joined_one(run: Any) -> None:
    """sales.region and accounts.region both exist: plain `region` is the sales' own."""
    own = run(["sales_count"], by=["region"], **Y2024)
    joined = run(["sales_count"], by=["accounts.region"], **Y2024)
    assert [tuple(r.values()) for r in own] != [tuple(r.values()) for r in joined]


def test_conformed_dimension_across_tables(run: Any) -> None:
    rows = run(["sales_count", "prospects_created", "budget_amount", "close_rate",
                "budget_attainment"], by=["region"], **Y2024)
    assert {r["region"] for r in rows} == {"EMEA", "APAC", "AMER", None}


def test_no_fan_out_through_a_many_to_one_join(run: Any, data: Any) -> None:
    """sale_items has several rows per sale; the sales sums must not be multiplied."""
    for by in ([], ["segment"], ["sales.region"], ["accounts.segment"]):
        rows = run(["sales_amount", "sales_count", "item_revenue", "item_count"], by=by, **H1)
        total = sum(s["amount"] or 0 for s in data["sales"]
                    if s["created_at"] and T(2024, 1, 1) <= s["created_at"] < T(2024, 7, 1))
        assert sum(r["sales_amount"] for r in rows) == pytest.approx(total)


# ---------------------------------------------------------------------------------
# Grains and the period spine
# ---------------------------------------------------------------------------------

GRAIN_METRICS = ["sales_count", "sales_amount", "avg_amount", "won_count", "close_rate",
                 "budget_amount"]


@pytest.mark.parametrize("grain,start,end", [
    ("day", D(2024, 2, 26), D(2024, 3, 5)),  # across 29 February
    ("week", D(2024, 1, 3), D(2024, 3, 1)),  # starts on a Wednesday
    ("week", None, None),
    ("month", D(2023, 12, 15), D(2024, 4, 20)),  # partial first and last months
    ("quarter", D(2023, 11, 15), D(2025, 1, 1)),
    ("year", None, None),
    ("year", D(2023, 1, 1), D(2026, 1, 1)),
])
def test_grains(run: Any, grain: str, start: Any, end: Any) -> None:
    rows = run(GRAIN_METRICS, grain=grain, start=start, end=end)
    assert all(period_start(r["period"], grain) == r["period"] for r in rows)
    if grain == "week":
        assert {r["period"].weekday() for r in rows} == {0}


def test_week_grain_by_region(run: Any) -> None:
    run(["sales_count", "won_amount"], by=["region"], grain="week", start=D(2024, 8, 1),
        end=D(2024, 10, 1))


def test_day_grain_literal_boundaries(run: Any) -> None:
    rows = run(["sales_count", "won_count"], grain="day", start=D(2024, 6, 29), end=D(2024, 7, 2))
    days = by_period(rows)
    assert list(days) == [D(2024, 6, 29), D(2024, 6, 30), D(2024, 7, 1)]
    assert days[D(2024, 7, 1)]["won_count"] >= 1  # closed 2024-07-01 00:00:00 and 00:00:01


def test_spine_with_range(run: Any) -> None:
    """Periods before the first row and after the last row, and an empty month inside."""
    rows = run(["sales_count", "won_amount", "avg_amount", "close_rate", "prospects_created",
                "budget_amount", "item_count"], start=D(2023, 9, 1), end=D(2025, 3, 1))
    assert len(rows) == 18
    empty = {"sales_count": 0, "won_amount": 0, "avg_amount": None, "close_rate": None,
             "prospects_created": 0, "budget_amount": 0, "item_count": 0}
    for month in (D(2023, 9, 1), D(2023, 10, 1), D(2024, 5, 1), D(2025, 1, 1), D(2025, 2, 1)):
        assert by_period(rows)[month] == {"period": month, **empty}


def test_spine_with_range_and_dimensions(run: Any) -> None:
    rows = run(["sales_count", "avg_amount", "prospects_created"], by=["region"],
               start=D(2023, 9, 1), end=D(2025, 3, 1))
    assert by_period(rows)[D(2024, 5, 1)] == {"period": D(2024, 5, 1), "region": None,
                                               "sales_count": 0, "avg_amount": None,
                                               "prospects_created": 0}


def test_spine_without_range(run: Any, data: Any) -> None:
    """From the first to the last period holding data, the empty month filled in."""
    rows = run(["sales_count", "avg_amount", "prospects_created"])
    created = [s["created_at"] for s in data["sales"] if s["created_at"]] + \
        [p["created_at"] for p in data["prospects"] if p["created_at"]]
    assert rows[0]["period"] == period_start(min(created), "month") == D(2023, 11, 1)
    assert rows[-1]["period"] == period_start(max(created), "month") == D(2024, 12, 1)
    assert len(rows) == 14 and by_period(rows)[D(2024, 5, 1)]["sales_count"] == 0


def test_spine_without_range_by_dimension(run: Any) -> None:
    run(["won_count", "win_rate", "won_amount"], by=["region"], grain="quarter")
    run(["won_count", "win_rate", "won_amount"], by=["region"])


def test_spine_with_only_one_bound(run: Any) -> None:
    run(["sales_count", "avg_amount"], start=D(2024, 3, 10))
    run(["sales_count", "avg_amount"], end=D(2024, 3, 10))
    run(["sales_count", "won_count"], by=["region"], start=D(2023, 6, 1))


# ---------------------------------------------------------------------------------
# Time: half-open ranges, NULL times, a measure's own time column, DATE columns
# ---------------------------------------------------------------------------------


def test_half_open_range(run: Any, data: Any) -> None:
    rows = run(["sales_count", "prospects_created", "won_count"], **H1)
    january, june = by_period(rows)[D(2024, 1, 1)], by_period(rows)[D(2024, 6, 1)]
    # The sale created at 2024-01-01 00:00:00 counts; the one at 2023-12-31 23:59:59 does not.
    jan_sales = [s for s in data["sales"] if s["created_at"]
                 and T(2024, 1, 1) <= s["created_at"] < T(2024, 2, 1)]
    assert any(s["created_at"] == T(2024, 1, 1) for s in jan_sales)
    assert january["sales_count"] == len(jan_sales)
    # 2024-06-30 23:59:59.999999 is in, 2024-07-01 00:00:00 (== --to) is out.
    assert D(2024, 7, 1) not in by_period(rows)
    assert june["sales_count"] == len([s for s in data["sales"] if s["created_at"]
                                       and T(2024, 6, 1) <= s["created_at"] < T(2024, 7, 1)])


def test_a_row_exactly_at_end_is_excluded(run: Any) -> None:
    before = run(["sales_count", "prospects_created"], grain="day", start=D(2024, 6, 30),
                 end=D(2024, 7, 1))
    after = run(["sales_count", "prospects_created"], grain="day", start=D(2024, 7, 1),
                end=D(2024, 7, 2))
    assert before[0]["sales_count"] >= 1  # 23:59:59.999999
    assert after[0]["sales_count"] >= 1 and after[0]["prospects_created"] >= 1  # 00:00:00


def test_null_times_are_never_counted(run: Any, data: Any) -> None:
    rows = run(["sales_count", "won_count", "item_count", "prospects_created"])
    assert sum(r["sales_count"] for r in rows) == len([s for s in data["sales"] if s["created_at"]])
    assert sum(r["won_count"] for r in rows) == len(
        [s for s in data["sales"] if s["stage"] == "won" and s["closed_at"]])
    assert sum(r["item_count"] for r in rows) == len(
        [i for i in data["sale_items"] if i["added_at"]])
    assert sum(r["prospects_created"] for r in rows) == len(
        [p for p in data["prospects"] if p["created_at"]])


def test_measure_time_differs_from_model_time(run: Any) -> None:
    """won_count is placed by closed_at, won_sales_created by the model's created_at."""
    rows = run(["won_count", "won_sales_created", "won_amount"], by=["region"], **Y2024)
    assert any(r["won_count"] != r["won_sales_created"] for r in rows)


def test_date_time_column(run: Any) -> None:
    run(["budget_amount"], by=["region"], grain="quarter", start=D(2024, 2, 1), end=D(2024, 11, 1))
    run(["budget_amount"], grain="week", start=D(2024, 2, 26), end=D(2024, 4, 8))


# ---------------------------------------------------------------------------------
# The demo warehouse (kpispec._demo) with the demo project
# ---------------------------------------------------------------------------------

DEMO_SPECS = Path(__file__).parents[2] / "specs" / "examples" / "demo"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str, Reference]:
    try:
        from kpispec import _demo
    except ImportError as exc:
        pytest.skip(f"kpispec._demo is not importable yet: {exc}")
    import kpispec

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    _demo.write_duckdb(path, rows=3000)
    tables = {name: t.to_pylist() for name, t in _demo.generate(rows=3000).items()}
    customers = {c["customer_id"]: c for c in tables["customers"]}
    leads = {lead["lead_id"]: lead for lead in tables["leads"]}

    def band(r: dict[str, Any]) -> str:
        a = r["amount"]
        return ("large" if a is not None and a >= 10000 else
                "medium" if a is not None and a >= 2000 else "small")

    cust = lambda r: customers.get(r["customer_id"], {})
    dims = {
        "leads": {"source": col("source"), "status": col("status")},
        "customers": {"region": col("region"), "segment": col("segment")},
        "deals": {"region": col("region"), "stage": col("stage"), "deal_type": col("deal_type"),
                  "rep": col("owner_id"), "size_band": band,
                  "segment": lambda r: cust(r).get("segment"),
                  "customers.region": lambda r: cust(r).get("region"),
                  "source": lambda r: leads.get(r["lead_id"], {}).get("source")},
        "orders": {"segment": lambda r: cust(r).get("segment"),
                   "customers.region": lambda r: cust(r).get("region")},
    }
    amount = col("amount")
    won = lambda model, r: r["stage"] == "won"
    closed = lambda model, r: r["stage"] in ("won", "lost")
    metrics = {
        "leads_created": Simple(M("leads", "count")),
        "deals_won": Simple(M("deals", "count", filter=won, time="closed_at")),
        "won_revenue": Simple(M("deals", "sum", amount, won, "closed_at")),
        "avg_deal_size": Simple(M("deals", "avg", amount, won, "closed_at")),
        "close_rate": Ratio(M("deals", "count", filter=won, time="closed_at"),
                            M("leads", "count"), 100),
        "win_rate": Ratio(M("deals", "count", filter=won, time="closed_at"),
                          M("deals", "count", filter=closed, time="closed_at"), 100),
        "gross_profit": Simple(M("orders", "sum",
                                 lambda r: None if r["amount"] is None or r["cost"] is None
                                 else r["amount"] - r["cost"])),
        "revenue_per_won_deal": Derived(("won_revenue", "deals_won"), div),
    }
    ref = Reference(data=tables, dims=dims, metrics=metrics,
                    times={"leads": "created_at", "customers": "signed_up_at",
                           "deals": "created_at", "orders": "ordered_at"})
    return kpispec.load_project(DEMO_SPECS), f"duckdb:///{path}", ref


def _demo_check(demo: tuple[Any, str, Reference], metrics: list[str], **options: Any) -> list:
    project, source, ref = demo
    where = options.pop("where", None)
    q = Query(tuple(metrics), tuple(options.pop("by", ())), options.pop("grain", "month"),
              options.pop("start", None), options.pop("end", None),
              where[1] if where else None, where[0] if where else None)
    assert not options
    return ref.check(project.run(metrics, source=source, **q.options()), q)


ALL_DEMO = ["leads_created", "deals_won", "won_revenue", "avg_deal_size", "close_rate",
            "win_rate", "gross_profit", "revenue_per_won_deal"]
DEALS_DEMO = ["deals_won", "won_revenue", "avg_deal_size", "win_rate", "revenue_per_won_deal"]


def test_demo_all_metrics_by_month(demo: Any) -> None:
    rows = _demo_check(demo, ALL_DEMO)
    assert len(rows) >= 24 and sum(r["deals_won"] for r in rows) > 100


@pytest.mark.parametrize("grain", ["week", "quarter", "year"])
def test_demo_all_metrics_other_grains(demo: Any, grain: str) -> None:
    _demo_check(demo, ALL_DEMO, grain=grain, start=D(2023, 3, 15), end=D(2024, 10, 1))


@pytest.mark.parametrize("grain", ["day", "week"])
def test_demo_all_metrics_without_range(demo: Any, grain: str) -> None:
    rows = _demo_check(demo, ALL_DEMO, grain=grain)
    assert len(rows) > 100


@pytest.mark.parametrize("by", [["region"], ["size_band"], ["segment"], ["rep"],
                                ["deal_type", "region"], ["source"]])
def test_demo_deal_metrics_by_dimension(demo: Any, by: list[str]) -> None:
    _demo_check(demo, DEALS_DEMO, by=by, grain="quarter", start=D(2023, 1, 1), end=D(2025, 1, 1))


def test_demo_with_where(demo: Any) -> None:
    _demo_check(demo, DEALS_DEMO, by=["region"], start=D(2024, 1, 1), end=D(2024, 7, 1),
                where=("deal_type = 'new'", lambda model, r: r["deal_type"] == "new"))


def test_demo_null_regions_are_their_own_group(demo: Any) -> None:
    rows = _demo_check(demo, ["deals_won", "won_revenue"], by=["region"], grain="year")
    assert any(r["region"] is None and r["deals_won"] > 0 for r in rows)
