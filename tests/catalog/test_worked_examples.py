"""The articles' worked examples (end of CATALOG.md) and the "Precise rules"
edge cases, each on a tiny dataset built here and written to a DuckDB file.

Every expected number is written out literally (worked out by hand in the
comments), never computed by kpispec or by reference.py. Each test runs twice:
``[kpispec]`` runs the installed catalog on a DuckDB file holding the dataset,
``[reference]`` runs reference.py on the same rows — so the literal numbers
check kpispec and the Python reference that test_catalog.py relies on. Each
query names its range (--from inclusive, --to exclusive), so the period spine
is exactly the periods asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from . import reference
from .conftest import SKIP_REASON, catalog_metric_names, reference_schemas, write_tables

D = dt.date
T = dt.datetime
H = dt.timedelta(hours=1)
Tables = dict[str, list[dict[str, Any]]]


def approx(value: float) -> Any:
    return pytest.approx(value, rel=1e-12, abs=1e-12)


@pytest.fixture(params=["kpispec", "reference"])
def query(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., list[dict[str, Any]]]:
    """query(tables, metrics, grain=, start=, end=, by=) → result rows, computed by
    kpispec on a DuckDB file holding ``tables`` (the installed catalog, from an
    empty project directory), or by reference.py on the same rows — the literal
    numbers below check both."""
    if request.param == "kpispec":
        names = catalog_metric_names()
        if names is not None and not set(reference.METRICS) & names:
            pytest.skip(SKIP_REASON)
        project = request.getfixturevalue("catalog_project")
        written = iter(range(1_000))

        def run(tables: Tables, metrics: list[str], *, grain: str, start: dt.date,
                end: dt.date, by: list[str] | None = None) -> list[dict[str, Any]]:
            missing = [m for m in metrics if m not in project.metrics]
            assert not missing, f"not in the installed catalog: {missing}"
            source = write_tables(tmp_path / f"data{next(written)}.duckdb", tables)
            table = project.run(metrics, source=source, grain=grain, start=start, end=end,
                                by=by or [])
            assert table.column_names == ["period", *(by or []), *metrics]
            return table.to_pylist()

        return run

    def run_reference(tables: Tables, metrics: list[str], *, grain: str, start: dt.date,
                      end: dt.date, by: list[str] | None = None) -> list[dict[str, Any]]:
        schemas = reference_schemas()
        rows = {name: [{c: r.get(c) for c in schema.names} for r in tables.get(name, [])]
                for name, schema in schemas.items()}
        results = {}
        for m in metrics:
            assert not by or by == [reference.METRICS[m].dim], f"{m}: reference has no {by}"
            results[m] = reference.compute(m, rows, grain, by_dim=bool(by), start=start, end=end)
        keys = sorted({k for r in results.values() for k in r},
                      key=lambda k: (k[0], k[1] is None, k[1] if k[1] is not None else 0))
        return [{"period": k[0], **({by[0]: k[1]} if by else {}),
                 **{m: results[m].get(k, reference.METRICS[m].empty) for m in metrics}}
                for k in keys]

    return run_reference


# ---------------------------------------------------------------------------------
# The articles' worked examples
# ---------------------------------------------------------------------------------


def test_cac_10000_over_10_customers_in_a_quarter(query: Any) -> None:
    """10,000 spent on sales and marketing in a quarter, 10 customers won → 1,000."""
    spend = [
        {"spent_on": D(2024, 4, 1), "category": "marketing", "channel": "paid_search", "amount": 2500.0},
        {"spent_on": D(2024, 5, 10), "category": "marketing", "channel": "events", "amount": 3500.0},
        {"spent_on": D(2024, 6, 30), "category": "sales", "channel": "outbound", "amount": 4000.0},
        # not sales or marketing: not acquisition cost
        {"spent_on": D(2024, 5, 1), "category": "retention", "channel": "email", "amount": 700.0},
        {"spent_on": D(2024, 4, 1), "category": "crm_software", "channel": "tools", "amount": 300.0},
        # outside the quarter
        {"spent_on": D(2024, 3, 31), "category": "marketing", "channel": "social", "amount": 9999.0},
        {"spent_on": D(2024, 7, 1), "category": "sales", "channel": "events", "amount": 9999.0},
    ]
    customers = [{"customer_id": i + 1, "signed_up_at": T(2024, 4, 1) + dt.timedelta(days=9 * i),
                  "region": "EMEA", "segment": "smb", "originated_by": "marketing"}
                 for i in range(10)]  # 1 April .. 21 June
    customers += [
        {"customer_id": 11, "signed_up_at": T(2024, 3, 31, 23, 59, 59), "region": "NA",
         "segment": "smb", "originated_by": "sales"},
        {"customer_id": 12, "signed_up_at": T(2024, 7, 1), "region": "NA", "segment": "smb",
         "originated_by": "sales"},
    ]
    rows = query({"spend": spend, "customers": customers}, ["cac"], grain="quarter", start=D(2024, 4, 1),
               end=D(2024, 7, 1))
    assert rows == [{"period": D(2024, 4, 1), "cac": approx(1000.0)}]


def _clv_tables() -> dict[str, list[dict[str, Any]]]:
    """2024: 500 customers each buy 5 times (30 + 50 + 30 + 50 + 40 = 200), so
    revenue 100,000 over 2,500 purchases; every one of them stays exactly 4
    years (1 July 2020 + k h → 1 July 2024 + k h: 1,461 days = 4 × 365.25)."""
    customers, orders = [], []
    for c in range(1, 501):
        signed = T(2020, 7, 1) + c * H
        customers.append({"customer_id": c, "signed_up_at": signed,
                          "churned_at": T(2024, 7, 1) + c * H, "region": "EMEA",
                          "segment": "smb", "originated_by": "marketing"})
        for j, amount in enumerate([30.0, 50.0, 30.0, 50.0, 40.0]):
            orders.append({"order_id": len(orders) + 1, "customer_id": c,
                           "ordered_at": T(2024, 1, 2) + dt.timedelta(days=30 * j) + c * H,
                           "amount": amount, "cost": amount / 2})
    return {"customers": customers, "orders": orders}


def test_clv_100000_revenue_2500_purchases_500_customers_4_years(query: Any) -> None:
    """Purchase value 40, frequency 5, customer value 200, CLV 800 (year grain)."""
    metrics = ["avg_purchase_value", "purchase_frequency", "avg_revenue_per_customer",
               "avg_customer_lifespan_years", "clv"]
    rows = query(_clv_tables(), metrics, grain="year", start=D(2024, 1, 1),
               end=D(2025, 1, 1))
    assert rows == [{"period": D(2024, 1, 1), "avg_purchase_value": approx(40.0),
                     "purchase_frequency": approx(5.0), "avg_revenue_per_customer": approx(200.0),
                     "avg_customer_lifespan_years": approx(4.0), "clv": approx(800.0)}]


def test_clv_net_3000_profit_2_years_minus_cac_1000(query: Any) -> None:
    """3,000 annual profit per customer × 2 years − CAC 1,000 → 5,000 (year grain).

    2024: customers 1..10 sign up (CAC = 10,000 / 10 = 1,000) and each buys twice
    for 2,500 at a cost of 1,000 (profit 2 × 1,500 = 3,000 each); customers 11
    and 12 churn in 2024 after 1.5 and 2.5 years (547.875 and 913.125 days),
    an average lifespan of 2 years.
    """
    customers, orders = [], []
    for c in range(1, 11):
        customers.append({"customer_id": c, "signed_up_at": T(2024, 1, 5) + c * 24 * H,
                          "region": "EMEA", "segment": "mid_market", "originated_by": "sales"})
        for month in (3, 9):
            orders.append({"order_id": len(orders) + 1, "customer_id": c,
                           "ordered_at": T(2024, month, c, 12), "amount": 2500.0, "cost": 1000.0})
    signed_11, signed_12 = T(2022, 9, 1), T(2021, 12, 1, 6)
    customers += [
        {"customer_id": 11, "signed_up_at": signed_11,
         "churned_at": signed_11 + dt.timedelta(days=547, hours=21),  # 2024-03-01 21:00
         "region": "NA", "segment": "smb", "originated_by": "referral"},
        {"customer_id": 12, "signed_up_at": signed_12,
         "churned_at": signed_12 + dt.timedelta(days=913, hours=3),  # 2024-06-01 09:00
         "region": "NA", "segment": "smb", "originated_by": "referral"},
    ]
    assert customers[-2]["churned_at"] == T(2024, 3, 1, 21)
    assert customers[-1]["churned_at"] == T(2024, 6, 1, 9)
    spend = [
        {"spent_on": D(2024, 2, 1), "category": "marketing", "channel": "social", "amount": 6000.0},
        {"spent_on": D(2024, 8, 1), "category": "sales", "channel": "outbound", "amount": 4000.0},
        {"spent_on": D(2024, 8, 1), "category": "retention", "channel": "email", "amount": 800.0},
    ]
    tables = {"customers": customers, "orders": orders, "spend": spend}
    rows = query(tables, ["cac", "avg_customer_lifespan_years", "clv_net"],
               grain="year", start=D(2024, 1, 1), end=D(2025, 1, 1))
    assert rows == [{"period": D(2024, 1, 1), "cac": approx(1000.0),
                     "avg_customer_lifespan_years": approx(2.0), "clv_net": approx(5000.0)}]


def test_renewal_900_of_1000(query: Any) -> None:
    """1,000 subscribers on one-year contracts, 900 renew → 90 %."""
    subs = []
    for i in range(1000):
        started = T(2023, 1, 1) + 8 * i * H  # 1 Jan .. 2 Dec 2023
        subs.append({"subscription_id": i + 1, "customer_id": i + 1, "started_at": started,
                     "renewal_due_at": started.replace(year=2024), "renewed": i % 10 != 0,
                     "mrr": 100.0})
    # a contract due in 2025 is not due in 2024
    subs.append({"subscription_id": 1001, "customer_id": 1001, "started_at": T(2024, 1, 1),
                 "renewal_due_at": T(2025, 1, 1), "renewed": False, "mrr": 100.0})
    rows = query({"subscriptions": subs}, ["renewal_rate"], grain="year", start=D(2024, 1, 1),
               end=D(2025, 1, 1))
    assert rows == [{"period": D(2024, 1, 1), "renewal_rate": approx(90.0)}]


def _deals_tables() -> dict[str, list[dict[str, Any]]]:
    """March 2024: 100 leads, 30 deals won, 20 lost, 15 still open (NULL closed_at,
    one even with stage 'open' and a huge amount). April: 5 deals won, no lead.
    May: nothing at all. June: 4 leads, no deal closed."""
    leads = [{"lead_id": i + 1, "created_at": T(2024, 3, 1) + 7 * i * H, "source": "marketing",
              "status": "converted" if i < 65 else "abandoned"} for i in range(100)]
    leads += [{"lead_id": 101 + i, "created_at": T(2024, 6, 3 + i), "source": "outbound",
               "status": "open"} for i in range(4)]
    deals: list[dict[str, Any]] = []

    def deal(stage: str, closed: dt.datetime | None, amount: float, created: dt.datetime,
             deal_type: str = "new") -> None:
        deals.append({"deal_id": len(deals) + 1, "lead_id": (len(deals) % 100) + 1,
                      "customer_id": len(deals) + 1, "owner_id": 1 + len(deals) % 3,
                      "region": "EMEA", "created_at": created, "closed_at": closed,
                      "stage": stage, "amount": amount, "deal_type": deal_type})

    for i in range(30):
        deal("won", T(2024, 3, 2) + 17 * i * H, 1000.0 + 100 * (i % 3), T(2024, 2, 1) + i * H)
    for i in range(20):
        deal("lost", T(2024, 3, 3) + 19 * i * H, 5000.0, T(2024, 2, 2) + i * H)
    for i in range(15):
        deal("open", None, 1_000_000.0, T(2024, 3, 5) + i * H)
    for i in range(5):
        deal("won", T(2024, 4, 2 + i), 2000.0, T(2024, 3, 20))
    return {"leads": leads, "deals": deals}


def test_close_rate_30_of_100_and_open_deals_never_won(query: Any) -> None:
    """100 leads, 30 closed → 30 %; the 15 open deals (NULL closed_at) are not won:
    win rate 30 / (30 + 20) = 60 %, average won deal (10×1000 + 10×1100 +
    10×1200) / 30 = 1,100, net new revenue 33,000."""
    rows = query(_deals_tables(),
               ["close_rate", "win_rate", "avg_deal_size", "net_new_revenue"],
               grain="month", start=D(2024, 3, 1), end=D(2024, 4, 1))
    assert rows == [{"period": D(2024, 3, 1), "close_rate": approx(30.0),
                     "win_rate": approx(60.0), "avg_deal_size": approx(1100.0),
                     "net_new_revenue": approx(33000.0)}]


def test_nps_0_to_10_grouping(query: Any) -> None:
    """9–10 promoters, 7–8 passives, 0–6 detractors; 100 × (P − D) / responses.

    January: 25×10, 25×9, 15×8, 15×7, 10×6, 5×3, 5×0 → (50 − 20) / 100 → 30.
    February: only 7s and 8s (passives) → 0. March: four 6s → −100.
    April: one 9 → 100. May: no response → NULL.
    """
    plan = {
        1: [10] * 25 + [9] * 25 + [8] * 15 + [7] * 15 + [6] * 10 + [3] * 5 + [0] * 5,
        2: [7] * 6 + [8] * 4,
        3: [6] * 4,
        4: [9],
    }
    responses = [{"response_id": 0, "customer_id": k + 1,
                  "responded_at": T(2024, month, 1) + k * H, "score": score}
                 for month, scores in plan.items() for k, score in enumerate(scores)]
    for i, r in enumerate(responses, 1):
        r["response_id"] = i
    rows = query({"nps_responses": responses}, ["nps"], grain="month", start=D(2024, 1, 1),
               end=D(2024, 6, 1))
    assert rows == [
        {"period": D(2024, 1, 1), "nps": approx(30.0)},
        {"period": D(2024, 2, 1), "nps": approx(0.0)},
        {"period": D(2024, 3, 1), "nps": approx(-100.0)},
        {"period": D(2024, 4, 1), "nps": approx(100.0)},
        {"period": D(2024, 5, 1), "nps": None},
    ]


# ---------------------------------------------------------------------------------
# Edge cases of the "Precise rules"
# ---------------------------------------------------------------------------------


def test_empty_denominator_is_null_and_empty_sum_is_zero(query: Any) -> None:
    """April: 5 won, no lead → close rate NULL (denominator 0), win rate 100.
    May: no row at all → the period is still there; ratios and averages NULL,
    the sum 0. June: 4 leads, nothing won → close rate 0, win rate NULL."""
    rows = query(_deals_tables(),
               ["close_rate", "win_rate", "avg_deal_size", "net_new_revenue"],
               grain="month", start=D(2024, 4, 1), end=D(2024, 7, 1))
    assert rows == [
        {"period": D(2024, 4, 1), "close_rate": None, "win_rate": approx(100.0),
         "avg_deal_size": approx(2000.0), "net_new_revenue": approx(10000.0)},
        {"period": D(2024, 5, 1), "close_rate": None, "win_rate": None,
         "avg_deal_size": None, "net_new_revenue": 0},
        {"period": D(2024, 6, 1), "close_rate": approx(0.0), "win_rate": None,
         "avg_deal_size": None, "net_new_revenue": 0},
    ]


def _boundary_tables() -> dict[str, list[dict[str, Any]]]:
    """c1 signs up 10 Jan and churns at 00:00:00 on 1 March 2024; c2 signs up
    15 Jan and stays; c3 signs up 20 Feb and stays. c1 buys an upsell in
    February. Retention spend: 300 in February, 200 in March."""
    customers = [
        {"customer_id": 1, "signed_up_at": T(2024, 1, 10, 9), "churned_at": T(2024, 3, 1),
         "region": "EMEA", "segment": "smb", "originated_by": "marketing"},
        {"customer_id": 2, "signed_up_at": T(2024, 1, 15, 14), "churned_at": None,
         "region": "EMEA", "segment": "smb", "originated_by": "sales"},
        {"customer_id": 3, "signed_up_at": T(2024, 2, 20, 8), "churned_at": None,
         "region": "NA", "segment": "mid_market", "originated_by": "referral"},
    ]
    deals = [{"deal_id": 1, "lead_id": None, "customer_id": 1, "owner_id": 4, "region": "EMEA",
              "created_at": T(2024, 2, 1), "closed_at": T(2024, 2, 12), "stage": "won",
              "amount": 500.0, "deal_type": "upsell"}]
    spend = [
        {"spent_on": D(2024, 2, 10), "category": "retention", "channel": "email", "amount": 300.0},
        {"spent_on": D(2024, 3, 5), "category": "retention", "channel": "loyalty", "amount": 200.0},
    ]
    return {"customers": customers, "deals": deals, "spend": spend}


def test_churn_exactly_at_a_period_boundary(query: Any) -> None:
    """c1 churning at 2024-03-01 00:00:00 churns in March, is active at the end of
    February and is not active at the start of March.

    active at start:  Jan 0, Feb 2 (c1 c2), Mar 2 (c2 c3), Apr 2 (c2 c3)
    active at end:    Jan 2 (c1 c2), Feb 3 (c1 c2 c3), Mar 2, Apr 2
    signed up:        Jan 2, Feb 1, Mar 0, Apr 0;  churned: Mar 1

    churn_rate:     Jan NULL, Feb 0/2 = 0, Mar 1/2 = 50, Apr 0/2 = 0
    retention_rate: Jan NULL, Feb (3 − 1)/2 = 100, Mar (2 − 0)/2 = 100, Apr 100
    upsell_rate:    Jan 0/2 = 0, Feb 1/3 = 33.3…, Mar 0, Apr 0
    customer_retention_cost: Jan 0/2 = 0, Feb 300/3 = 100, Mar 200/2 = 100, Apr 0
    """
    metrics = ["churn_rate", "retention_rate", "upsell_rate", "customer_retention_cost"]
    rows = query(_boundary_tables(), metrics, grain="month", start=D(2024, 1, 1),
               end=D(2024, 5, 1))
    assert rows == [
        {"period": D(2024, 1, 1), "churn_rate": None, "retention_rate": None,
         "upsell_rate": approx(0.0), "customer_retention_cost": approx(0.0)},
        {"period": D(2024, 2, 1), "churn_rate": approx(0.0), "retention_rate": approx(100.0),
         "upsell_rate": approx(100 / 3), "customer_retention_cost": approx(100.0)},
        {"period": D(2024, 3, 1), "churn_rate": approx(50.0), "retention_rate": approx(100.0),
         "upsell_rate": approx(0.0), "customer_retention_cost": approx(100.0)},
        {"period": D(2024, 4, 1), "churn_rate": approx(0.0), "retention_rate": approx(100.0),
         "upsell_rate": approx(0.0), "customer_retention_cost": approx(0.0)},
    ]


def test_unresolved_tickets_are_left_out_of_resolution_hours(query: Any) -> None:
    """Agent 1 resolves two March tickets in 2.5 h and 5.5 h (average 4) and has
    one unresolved; agent 2's ticket opened 28 Feb 22:00 and resolved 1 March
    01:00 (27 h, across the leap day) is placed in March by resolved_at; in
    April only an unresolved ticket exists → NULL."""
    tickets = [
        {"ticket_id": 1, "customer_id": 1, "agent_id": 2, "opened_at": T(2024, 2, 28, 22),
         "resolved_at": T(2024, 3, 1, 1)},
        {"ticket_id": 2, "customer_id": 1, "agent_id": 1, "opened_at": T(2024, 3, 4, 10),
         "resolved_at": T(2024, 3, 4, 12, 30)},
        {"ticket_id": 3, "customer_id": 2, "agent_id": 1, "opened_at": T(2024, 3, 5, 9),
         "resolved_at": T(2024, 3, 5, 14, 30)},
        {"ticket_id": 4, "customer_id": 2, "agent_id": 1, "opened_at": T(2024, 3, 6, 9),
         "resolved_at": None},
        {"ticket_id": 5, "customer_id": 3, "agent_id": 2, "opened_at": T(2024, 4, 2, 9),
         "resolved_at": None},
    ]
    rows = query({"tickets": tickets}, ["avg_resolution_hours"], grain="month",
               start=D(2024, 3, 1), end=D(2024, 5, 1))
    assert rows == [{"period": D(2024, 3, 1), "avg_resolution_hours": approx(35 / 3)},  # 27+2.5+5.5
                    {"period": D(2024, 4, 1), "avg_resolution_hours": None}]
    rows = query({"tickets": tickets}, ["avg_resolution_hours"], grain="month",
                 start=D(2024, 3, 1), end=D(2024, 5, 1), by=["agent_id"])
    march = {r["agent_id"]: r["avg_resolution_hours"] for r in rows if r["period"] == D(2024, 3, 1)}
    april = [r for r in rows if r["period"] == D(2024, 4, 1)]
    assert march == {1: approx(4.0), 2: approx(27.0)}
    assert april and all(r["avg_resolution_hours"] is None for r in april)
    assert {r["period"] for r in rows} == {D(2024, 3, 1), D(2024, 4, 1)}


def test_leap_day_events_are_placed_in_february(query: Any) -> None:
    """Events on 29 February 2024 (up to 23:59:59.999999) belong to February;
    durations across the leap day are exact.

    records_created: Feb 3 (1 Feb 00:00, 29 Feb 00:00, 29 Feb 23:59:59.999999),
    Mar 1 (1 Mar 00:00:00).
    sales_cycle_days: Feb — created 28 Feb 12:00, closed 29 Feb 18:00 → 1.25;
    Mar — created 28 Feb 00:00, closed 1 Mar 00:00 → 2 (29 Feb counts).
    cac: Feb 500 spent on 29 Feb / 2 sign-ups (one at 29 Feb 23:59:59) → 250;
    Mar 600 spent on 1 Mar / 1 sign-up (1 Mar 00:00) → 600.
    avg_customer_lifespan_years (year grain): signed up 1 Mar 2023, churned
    1 Mar 2024 → 366 days / 365.25.
    """
    records = [{"record_id": i + 1, "user_id": 1, "created_at": t, "record_type": "note"}
               for i, t in enumerate([T(2024, 2, 1), T(2024, 2, 29),
                                      T(2024, 2, 29, 23, 59, 59, 999999), T(2024, 3, 1)])]
    deals = [
        {"deal_id": 1, "lead_id": None, "customer_id": 1, "owner_id": 1, "region": "EMEA",
         "created_at": T(2024, 2, 28, 12), "closed_at": T(2024, 2, 29, 18), "stage": "won",
         "amount": 100.0, "deal_type": "new"},
        {"deal_id": 2, "lead_id": None, "customer_id": 2, "owner_id": 1, "region": "EMEA",
         "created_at": T(2024, 2, 28), "closed_at": T(2024, 3, 1), "stage": "won",
         "amount": 100.0, "deal_type": "new"},
    ]
    customers = [
        {"customer_id": 1, "signed_up_at": T(2024, 2, 3, 10), "region": "EMEA",
         "segment": "smb", "originated_by": "sales"},
        {"customer_id": 2, "signed_up_at": T(2024, 2, 29, 23, 59, 59), "region": "EMEA",
         "segment": "smb", "originated_by": "sales"},
        {"customer_id": 3, "signed_up_at": T(2024, 3, 1), "region": "EMEA",
         "segment": "smb", "originated_by": "sales"},
        {"customer_id": 4, "signed_up_at": T(2023, 3, 1), "churned_at": T(2024, 3, 1),
         "region": "EMEA", "segment": "smb", "originated_by": "sales"},
    ]
    spend = [
        {"spent_on": D(2024, 2, 29), "category": "marketing", "channel": "social", "amount": 500.0},
        {"spent_on": D(2024, 3, 1), "category": "sales", "channel": "events", "amount": 600.0},
    ]
    tables = {"crm_records": records, "deals": deals, "customers": customers, "spend": spend}
    rows = query(tables, ["records_created", "sales_cycle_days", "cac"], grain="month",
                 start=D(2024, 2, 1), end=D(2024, 4, 1))
    assert rows == [
        {"period": D(2024, 2, 1), "records_created": 3, "sales_cycle_days": approx(1.25),
         "cac": approx(250.0)},
        {"period": D(2024, 3, 1), "records_created": 1, "sales_cycle_days": approx(2.0),
         "cac": approx(600.0)},
    ]
    rows = query(tables, ["avg_customer_lifespan_years"], grain="year",
                 start=D(2024, 1, 1), end=D(2025, 1, 1))
    assert rows == [{"period": D(2024, 1, 1), "avg_customer_lifespan_years": approx(366 / 365.25)}]
