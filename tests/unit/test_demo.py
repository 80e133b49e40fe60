"""Tests for kpispec._demo: the deterministic CRM reference data."""

from __future__ import annotations

import collections
import datetime as dt
import importlib.util
import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from kpispec import _demo

START = dt.date(2023, 1, 1)
END = dt.date(2025, 1, 1)  # default range: 24 months
LEAP_DAY = dt.date(2024, 2, 29)

TS, ID, STR, F64, BOOL, DATE = (pa.timestamp("us"), pa.int64(), pa.string(), pa.float64(),
                                 pa.bool_(), pa.date32())
EXPECTED_SCHEMA: dict[str, list[tuple[str, Any]]] = {
    "leads": [("lead_id", ID), ("created_at", TS), ("source", STR), ("status", STR),
              ("converted_at", TS), ("visitor_id", ID)],
    "web_sessions": [("session_id", ID), ("visitor_id", ID), ("started_at", TS),
                     ("landing_page", STR), ("clicked", BOOL), ("converted", BOOL)],
    "deals": [("deal_id", ID), ("lead_id", ID), ("customer_id", ID), ("owner_id", ID),
              ("region", STR), ("created_at", TS), ("closed_at", TS), ("stage", STR),
              ("amount", F64), ("deal_type", STR)],
    "deal_stage_history": [("deal_id", ID), ("stage", STR), ("entered_at", TS),
                           ("exited_at", TS)],
    "customers": [("customer_id", ID), ("signed_up_at", TS), ("churned_at", TS),
                  ("region", STR), ("segment", STR), ("originated_by", STR)],
    "orders": [("order_id", ID), ("customer_id", ID), ("ordered_at", TS), ("amount", F64),
               ("cost", F64)],
    "subscriptions": [("subscription_id", ID), ("customer_id", ID), ("started_at", TS),
                      ("renewal_due_at", TS), ("renewed", BOOL), ("mrr", F64)],
    "spend": [("spent_on", DATE), ("category", STR), ("channel", STR), ("amount", F64)],
    "nps_responses": [("response_id", ID), ("customer_id", ID), ("responded_at", TS),
                      ("score", ID)],
    "ces_responses": [("response_id", ID), ("customer_id", ID), ("responded_at", TS),
                      ("score", ID)],
    "tickets": [("ticket_id", ID), ("customer_id", ID), ("agent_id", ID), ("opened_at", TS),
                ("resolved_at", TS)],
    "calls": [("call_id", ID), ("rep_id", ID), ("called_at", TS), ("direction", STR),
              ("deal_id", ID)],
    "quotas": [("rep_id", ID), ("period_start", DATE), ("amount", F64)],
    "crm_logins": [("user_id", ID), ("logged_in_at", TS)],
    "crm_records": [("record_id", ID), ("user_id", ID), ("created_at", TS),
                    ("record_type", STR)],
}
# Every time column holds events inside [start, end), except future renewal dates and
# quota quarters (the quarter holding `start` begins on or before it).
EVENT_COLUMNS = [(t, c) for t, cols in EXPECTED_SCHEMA.items() for c, typ in cols
                 if typ in (TS, DATE) and c not in ("renewal_due_at", "period_start")]
STAGES = ("qualification", "proposal", "negotiation")

Tables = dict[str, Any]
Rows = list[dict[str, Any]]


@pytest.fixture(scope="module")
def tables() -> Tables:
    return dict(_demo.generate())


def rows(tables: Tables, name: str) -> Rows:
    return tables[name].to_pylist()  # type: ignore[no-any-return]


def by_id(tables: Tables, name: str, key: str) -> dict[int, dict[str, Any]]:
    return {r[key]: r for r in rows(tables, name)}


def month_first(t: dt.datetime) -> bool:
    return t.day == 1 and t.time() == dt.time(0)


def plus_one_year(t: dt.datetime) -> dt.datetime:
    try:
        return t.replace(year=t.year + 1)
    except ValueError:  # 29 February
        return t.replace(year=t.year + 1, day=28)


# -- shape and determinism ----------------------------------------------------

def test_tables_in_catalog_order() -> None:
    assert tuple(EXPECTED_SCHEMA) == _demo.TABLES
    assert len(_demo.TABLES) == 15
    assert {name: list(cols) for name, cols in _demo.COLUMNS.items()} == {
        name: [c for c, _ in cols] for name, cols in EXPECTED_SCHEMA.items()}


def test_column_names_and_arrow_types(tables: Tables) -> None:
    assert list(tables) == list(_demo.TABLES)
    for name, cols in EXPECTED_SCHEMA.items():
        assert tables[name].schema == pa.schema(cols), name
        assert tables[name].schema.field(cols[0][0]).type == cols[0][1]


def test_timestamps_are_naive_microseconds(tables: Tables) -> None:
    for name, col in EVENT_COLUMNS:
        typ = tables[name].schema.field(col).type
        assert typ in (DATE, TS) and getattr(typ, "tz", None) is None


def _ipc_bytes(table: Any) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def test_same_seed_gives_byte_identical_tables() -> None:
    first = _demo.generate(400, seed=3)
    second = _demo.generate(400, seed=3)
    for name in _demo.TABLES:
        assert first[name].equals(second[name]), name
        assert _ipc_bytes(first[name]) == _ipc_bytes(second[name]), name


def test_default_arguments_are_documented_values() -> None:
    assert _demo.generate(300)["deals"].equals(
        _demo.generate(300, seed=7, start=START, months=24)["deals"])


def test_different_seed_gives_different_tables() -> None:
    first = _demo.generate(400, seed=3)
    other = _demo.generate(400, seed=4)
    for name in ("leads", "deals", "customers", "orders", "tickets", "web_sessions"):
        assert not first[name].equals(other[name]), name


@pytest.mark.parametrize("n", [300, 3_000])
def test_tables_scale_with_rows(n: int) -> None:
    counts = {name: t.num_rows for name, t in _demo.generate(n, seed=11).items()}
    assert counts["deals"] == n
    assert counts["leads"] == 2 * n
    assert counts["web_sessions"] == 6 * n
    assert counts["orders"] == 2 * n
    assert 0.3 * n <= counts["customers"] <= 0.4 * n
    assert counts["deal_stage_history"] > 2 * n
    assert counts["tickets"] == n // 2
    assert counts["nps_responses"] == counts["ces_responses"] == n // 5
    assert counts["quotas"] == 12 * 8 - 1  # 12 reps x 8 quarters, one quota missing
    small = _demo.generate(n // 2, seed=11)
    for name in ("leads", "web_sessions", "deals", "customers", "orders", "calls"):
        assert small[name].num_rows < counts[name], name


@pytest.mark.parametrize("bad", [0, -5, 2.5, True])
def test_rows_must_be_positive_integer(bad: Any) -> None:
    with pytest.raises(ValueError, match="rows"):
        _demo.generate(bad)


def test_months_must_be_positive() -> None:
    with pytest.raises(ValueError, match="months"):
        _demo.generate(10, months=0)


def test_import_does_not_load_pyarrow_or_duckdb() -> None:
    path = Path(_demo.__file__)
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('demo_probe', {str(path)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert len(module.TABLES) == 15\n"
        "loaded = {'pyarrow', 'duckdb'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert importlib.util.find_spec("kpispec._demo") is not None


# -- invariants, checked on several configurations --------------------------------

def check_invariants(t: Tables, start: dt.date, end: dt.date) -> None:
    lo, hi = dt.datetime.combine(start, dt.time()), dt.datetime.combine(end, dt.time())

    # Every event lies in [start, end); dates likewise.
    for name, col in EVENT_COLUMNS:
        values = [v for v in t[name].column(col).to_pylist() if v is not None]
        if isinstance(values[0] if values else None, dt.datetime):
            assert all(lo <= v < hi for v in values), (name, col)
        else:
            assert all(start <= v < end for v in values), (name, col)

    # Ids are unique 1..n.
    for name, cols in EXPECTED_SCHEMA.items():
        key = cols[0][0]
        if key.endswith("_id") and name not in ("deal_stage_history", "quotas", "crm_logins"):
            assert t[name].column(key).to_pylist() == list(range(1, t[name].num_rows + 1))

    leads = by_id(t, "leads", "lead_id")
    sessions = rows(t, "web_sessions")
    deals = by_id(t, "deals", "deal_id")
    customers = by_id(t, "customers", "customer_id")
    history = rows(t, "deal_stage_history")

    # leads
    for lead in leads.values():
        assert lead["source"] in ("marketing", "outbound", "referral", "partner")
        assert lead["status"] in ("open", "converted", "abandoned")
        assert (lead["converted_at"] is not None) == (lead["status"] == "converted")
        if lead["converted_at"] is not None:
            assert lead["converted_at"] > lead["created_at"]
        if lead["source"] == "outbound":
            assert lead["visitor_id"] is None
    converting = collections.defaultdict(list)
    for s in sessions:
        if s["converted"]:
            converting[s["visitor_id"]].append(s["started_at"])
    visitors = {s["visitor_id"] for s in sessions}
    lead_visitors = [r["visitor_id"] for r in leads.values() if r["visitor_id"] is not None]
    assert len(lead_visitors) == len(set(lead_visitors)) == sum(map(len, converting.values()))
    for lead in leads.values():
        if lead["visitor_id"] is not None:
            assert lead["visitor_id"] in visitors
            assert min(converting[lead["visitor_id"]]) <= lead["created_at"]

    # web_sessions
    assert len(visitors) < len(sessions)
    assert len({s["landing_page"] for s in sessions}) <= 8

    # deals
    reps = set(range(1, 13))
    new_deal_of_lead: dict[int, int] = {}
    for deal_id, d in deals.items():
        assert d["stage"] in ("open", "won", "lost")
        assert d["deal_type"] in ("new", "upsell", "cross_sell", "renewal")
        assert d["region"] in ("EMEA", "NA", "APAC", "LATAM", None)
        assert d["owner_id"] in reps
        assert d["amount"] > 0 and round(d["amount"], 2) == d["amount"]
        assert (d["closed_at"] is None) == (d["stage"] == "open")
        if d["closed_at"] is not None:
            assert d["closed_at"] > d["created_at"]
        if d["lead_id"] is not None:
            lead = leads[d["lead_id"]]
            assert lead["status"] == "converted" and lead["converted_at"] == d["created_at"]
            assert d["lead_id"] not in new_deal_of_lead
            new_deal_of_lead[d["lead_id"]] = deal_id
        if d["deal_type"] == "new":
            assert d["lead_id"] is not None
            assert (d["customer_id"] is not None) == (d["stage"] == "won")
            if d["stage"] == "won":
                assert customers[d["customer_id"]]["signed_up_at"] == d["closed_at"]
        else:  # expansion: the customer already exists
            assert d["lead_id"] is None
            c = customers[d["customer_id"]]
            assert c["signed_up_at"] <= d["created_at"]
            if d["stage"] == "won" and c["churned_at"] is not None:
                assert d["closed_at"] <= c["churned_at"]
    assert set(new_deal_of_lead) == {i for i, r in leads.items() if r["status"] == "converted"}
    created = [d["created_at"] for d in deals.values()]
    assert created == sorted(created)

    # deal_stage_history
    per_deal = collections.defaultdict(list)
    for h in history:
        assert h["deal_id"] in deals
        if h["exited_at"] is not None:
            assert h["entered_at"] < h["exited_at"]
        per_deal[h["deal_id"]].append(h)
    assert set(per_deal) == set(deals)
    for deal_id, steps in per_deal.items():
        d = deals[deal_id]
        assert [s["exited_at"] is None for s in steps] == [False] * (len(steps) - 1) + [True]
        for a, b in itertools.pairwise(steps):
            assert a["exited_at"] == b["entered_at"]
        assert steps[0]["entered_at"] == d["created_at"]
        names = [s["stage"] for s in steps]
        if d["stage"] == "open":
            assert names == list(STAGES[: len(names)])
        else:
            assert names[:-1] == list(STAGES[: len(names) - 1]) and names[-1] == d["stage"]
            assert steps[-1]["entered_at"] == d["closed_at"]
            if d["stage"] == "won":
                assert names == [*STAGES, "won"]

    # customers
    for c in customers.values():
        assert c["segment"] in ("smb", "mid_market", "enterprise")
        assert c["originated_by"] in ("marketing", "sales", "referral")
        assert c["region"] in ("EMEA", "NA", "APAC", "LATAM")
        if c["churned_at"] is not None:
            assert c["churned_at"] > c["signed_up_at"]

    def active(customer_id: int, at: dt.datetime) -> bool:
        c = customers[customer_id]
        return c["signed_up_at"] <= at and (c["churned_at"] is None or at < c["churned_at"])

    # customer activity happens while the customer is active
    for name, col in (("orders", "ordered_at"), ("nps_responses", "responded_at"),
                      ("ces_responses", "responded_at"), ("tickets", "opened_at")):
        for r in rows(t, name):
            assert active(r["customer_id"], r[col]), (name, r)
    for o in rows(t, "orders"):
        assert o["amount"] > o["cost"] > 0
    assert all(0 <= r["score"] <= 10 for r in rows(t, "nps_responses"))
    assert all(1 <= r["score"] <= 7 for r in rows(t, "ces_responses"))
    for r in rows(t, "tickets"):
        assert r["agent_id"] in range(1, 9)
        assert r["resolved_at"] is None or r["resolved_at"] > r["opened_at"]

    # subscriptions: yearly chains; a lapsed renewal churns the customer at the due date
    subs = rows(t, "subscriptions")
    assert {s["customer_id"] for s in subs} == set(customers)
    for s in subs:
        c = customers[s["customer_id"]]
        assert s["renewal_due_at"] == plus_one_year(s["started_at"])
        assert s["started_at"] >= c["signed_up_at"] and s["mrr"] > 0
        if s["renewed"]:
            assert s["renewal_due_at"] < hi
            assert c["churned_at"] is None or c["churned_at"] > s["renewal_due_at"]

    # calls
    for r in rows(t, "calls"):
        assert r["direction"] in ("inbound", "outbound") and r["rep_id"] in reps
        if r["deal_id"] is not None:
            d = deals[r["deal_id"]]
            assert d["stage"] == "won" and r["rep_id"] == d["owner_id"]
            assert d["created_at"] <= r["called_at"] <= d["closed_at"]

    # quotas: one row per rep per quarter
    quotas = rows(t, "quotas")
    pairs = [(q["rep_id"], q["period_start"]) for q in quotas]
    assert len(pairs) == len(set(pairs))
    for q in quotas:
        assert q["rep_id"] in reps and q["amount"] >= 0
        assert q["period_start"].day == 1 and q["period_start"].month in (1, 4, 7, 10)
        assert q["period_start"] < end and _demo._add_months(q["period_start"], 3) > start

    # spend: every month has every category
    months = {(r["spent_on"].year, r["spent_on"].month, r["category"]) for r in rows(t, "spend")}
    m = start.replace(day=1)
    while m < end:
        for category in ("marketing", "sales", "retention", "crm_software"):
            assert (m.year, m.month, category) in months, (m, category)
        m = (m + dt.timedelta(days=32)).replace(day=1)
    assert all(r["amount"] > 0 for r in rows(t, "spend"))

    assert {r["record_type"] for r in rows(t, "crm_records")} <= {
        "contact", "company", "deal", "note", "task"}


def test_invariants_default(tables: Tables) -> None:
    check_invariants(tables, START, END)


@pytest.mark.parametrize(
    ("n", "seed", "start", "months"),
    [
        (1, 1, START, 24),
        (7, 2, dt.date(2023, 2, 15), 5),
        (40, 4, dt.date(2022, 6, 1), 1),
        (250, 3, dt.date(2024, 1, 31), 13),
        (600, 5, dt.date(2021, 11, 30), 40),
    ],
)
def test_invariants_other_configurations(n: int, seed: int, start: dt.date, months: int) -> None:
    end = _demo._add_months(start, months)
    t = _demo.generate(n, seed=seed, start=start, months=months)
    assert t["deals"].num_rows == n
    check_invariants(t, start, end)


# -- realism: the data exercises every metric -----------------------------------

def test_data_exercises_every_metric(tables: Tables) -> None:
    t = tables
    deals = rows(t, "deals")
    sessions = rows(t, "web_sessions")
    leads = rows(t, "leads")
    assert collections.Counter(d["stage"] for d in deals).keys() == {"open", "won", "lost"}
    assert {d["deal_type"] for d in deals if d["stage"] == "won"} == {
        "new", "upsell", "cross_sell", "renewal"}
    regions = [d["region"] for d in deals]
    assert 0 < regions.count(None) < 0.05 * len(deals)
    assert len({d["owner_id"] for d in deals}) == 12
    assert {lead["status"] for lead in leads} == {"open", "converted", "abandoned"}
    with_visitor = sum(lead["visitor_id"] is not None for lead in leads)
    assert 0.5 * len(leads) < with_visitor < len(leads)
    assert any(s["clicked"] and not s["converted"] for s in sessions)
    conv = [s for s in sessions if s["converted"]]
    assert 0 < sum(not s["clicked"] for s in conv) < 0.1 * len(conv)
    assert {lead["source"] for lead in leads} == {"marketing", "outbound", "referral", "partner"}
    won_sources = {leads[d["lead_id"] - 1]["source"]
                   for d in deals if d["stage"] == "won" and d["lead_id"]}
    assert "marketing" in won_sources

    customers = rows(t, "customers")
    churned = [c for c in customers if c["churned_at"] is not None]
    assert 0 < len(churned) < 0.5 * len(customers)
    assert {c["originated_by"] for c in customers} == {"marketing", "sales", "referral"}
    assert {c["segment"] for c in customers} == {"smb", "mid_market", "enterprise"}

    subs = rows(t, "subscriptions")
    due_in_range = [s for s in subs if s["renewal_due_at"] < dt.datetime(2025, 1, 1)]
    assert {s["renewed"] for s in due_in_range} == {True, False}

    nps = [r["score"] for r in rows(t, "nps_responses")]
    assert any(s >= 9 for s in nps) and any(7 <= s <= 8 for s in nps) and any(s <= 6 for s in nps)
    assert {r["score"] for r in rows(t, "ces_responses")} == set(range(1, 8))

    calls = rows(t, "calls")
    assert {c["direction"] for c in calls} == {"inbound", "outbound"}
    assert 0 < sum(c["deal_id"] is not None for c in calls) < len(calls)
    assert len({c["rep_id"] for c in calls}) == 12

    spend = rows(t, "spend")
    assert {s["category"] for s in spend} == {"marketing", "sales", "retention", "crm_software"}
    assert {"paid_search", "social", "events", "email", "tools"} <= {s["channel"] for s in spend}
    assert len({r["user_id"] for r in rows(t, "crm_logins")}) > 12
    assert len({r["record_type"] for r in rows(t, "crm_records")}) == 5
    assert len({r["agent_id"] for r in rows(t, "tickets")}) == 8


# -- edge cases --------------------------------------------------------------------

def test_churn_at_midnight_on_first_of_month(tables: Tables) -> None:
    at_midnight = [c for c in rows(tables, "customers")
                   if c["churned_at"] is not None and month_first(c["churned_at"])]
    assert at_midnight
    assert any(month_first(s["started_at"]) for s in rows(tables, "subscriptions"))
    assert any(month_first(d["closed_at"]) for d in rows(tables, "deals") if d["closed_at"])
    for name, col in (("orders", "ordered_at"), ("crm_logins", "logged_in_at"),
                      ("calls", "called_at")):
        assert any(month_first(v) for v in tables[name].column(col).to_pylist()), name


@pytest.mark.parametrize(("start", "months"),
                         [(dt.date(2023, 6, 15), 3), (dt.date(2022, 1, 10), 1)])
def test_midnight_churn_even_in_short_ranges(start: dt.date, months: int) -> None:
    # Needs a first-of-month instant strictly after the first sign-up.
    t = _demo.generate(30, seed=9, start=start, months=months)
    assert any(c["churned_at"] is not None and month_first(c["churned_at"])
               for c in rows(t, "customers"))


def test_leap_day_events(tables: Tables) -> None:
    def on_leap(name: str, col: str) -> list[dict[str, Any]]:
        return [r for r in rows(tables, name) if r[col] and r[col].date() == LEAP_DAY]

    for name, col in (("orders", "ordered_at"), ("tickets", "opened_at"),
                      ("leads", "created_at"), ("calls", "called_at"),
                      ("crm_logins", "logged_in_at"), ("customers", "signed_up_at")):
        assert on_leap(name, col), name
    assert any(r["created_at"].time() == dt.time(23, 59, 59)
               for r in on_leap("leads", "created_at"))
    signup = on_leap("customers", "signed_up_at")
    leap_subs = [s for s in rows(tables, "subscriptions") if s["started_at"].date() == LEAP_DAY]
    assert leap_subs and {s["customer_id"] for s in leap_subs} <= {c["customer_id"] for c in signup}
    assert all(s["renewal_due_at"].date() == dt.date(2025, 2, 28) for s in leap_subs)


def test_no_leap_day_outside_range() -> None:
    t = _demo.generate(50, seed=1, start=dt.date(2022, 3, 1), months=12)
    ordered = t["orders"].column("ordered_at").to_pylist()
    assert not any(v.month == 2 and v.day == 29 for v in ordered)


def test_zero_and_missing_quota(tables: Tables) -> None:
    quotas = rows(tables, "quotas")
    quarters = sorted({q["period_start"] for q in quotas})
    assert quarters[0] == START and len(quarters) == 8
    zero = [q for q in quotas if q["amount"] == 0]
    assert len(zero) == 1
    present = {(q["rep_id"], q["period_start"]) for q in quotas}
    missing = [(r, p) for r in range(1, 13) for p in quarters if (r, p) not in present]
    assert len(missing) == 1
    rep, period = missing[0]
    assert sum(r == rep for r, _ in present) == 7  # the rep has quotas in other quarters
    quarter_end = dt.datetime.combine(_demo._add_months(period, 3), dt.time())
    assert any(d["owner_id"] == rep and d["stage"] == "won"
               and dt.datetime.combine(period, dt.time()) <= d["closed_at"] < quarter_end
               for d in rows(tables, "deals"))  # so its quota attainment is really NULL


def test_unresolved_tickets_and_open_deal_stages(tables: Tables) -> None:
    tickets = rows(tables, "tickets")
    assert any(r["resolved_at"] is None for r in tickets)
    assert any(r["resolved_at"] is not None for r in tickets)
    open_deals = {d["deal_id"] for d in rows(tables, "deals") if d["stage"] == "open"}
    current = [h for h in rows(tables, "deal_stage_history")
               if h["deal_id"] in open_deals and h["exited_at"] is None]
    assert len(current) == len(open_deals) and {h["stage"] for h in current} == set(STAGES)


def test_tiny_generation_still_has_an_unresolved_ticket() -> None:
    t = _demo.generate(2, seed=5)
    assert t["tickets"].column("resolved_at").null_count >= 1


# -- write_duckdb --------------------------------------------------------------------

def test_write_duckdb_writes_every_table(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    path = tmp_path / "demo.duckdb"
    counts = _demo.write_duckdb(path, 300, seed=2,
                                progress=lambda *a: calls.append(a))
    assert list(counts) == list(_demo.TABLES)
    assert calls == [(name, i, 15) for i, name in enumerate(_demo.TABLES, 1)]
    expected = _demo.generate(300, seed=2)
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = {r[0] for r in con.execute(
            "select table_name from information_schema.tables").fetchall()}
        assert names == set(_demo.TABLES)
        for name in _demo.TABLES:
            got = con.table(name).arrow()
            got = got.read_all() if hasattr(got, "read_all") else got
            assert got.num_rows == counts[name] == expected[name].num_rows
            assert got.column_names == list(_demo.COLUMNS[name])
            assert got.cast(expected[name].schema).equals(expected[name]), name
        types = dict(con.execute("select column_name, data_type from information_schema.columns "
                                 "where table_name = 'deals'").fetchall())
        assert types["closed_at"] == "TIMESTAMP" and types["amount"] == "DOUBLE"
        spent_on = con.execute("select data_type from information_schema.columns "
                               "where table_name = 'spend' and column_name = 'spent_on'")
        assert spent_on.fetchone() == ("DATE",)
    finally:
        con.close()
    assert sorted(os.listdir(tmp_path)) == ["demo.duckdb"]


def test_write_duckdb_replaces_existing_database(tmp_path: Path) -> None:
    path = tmp_path / "demo.duckdb"
    _demo.write_duckdb(str(path), 200, seed=1)
    counts = _demo.write_duckdb(path, 100, seed=1)
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("select count(*) from deals").fetchone() == (100,)
        assert counts["deals"] == 100
    finally:
        con.close()
    assert sorted(os.listdir(tmp_path)) == ["demo.duckdb"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failed_write_leaves_existing_file_untouched(tmp_path: Path,
                                                    error: type[BaseException]) -> None:
    path = tmp_path / "demo.duckdb"
    path.write_bytes(b"previous contents")
    seen: list[str] = []

    def progress(table: str, done: int, total: int) -> None:
        seen.append(table)
        if done == 3:
            raise error("boom")

    with pytest.raises(error):
        _demo.write_duckdb(path, 200, seed=1, progress=progress)
    assert seen == list(_demo.TABLES[:3])
    assert path.read_bytes() == b"previous contents"
    assert sorted(os.listdir(tmp_path)) == ["demo.duckdb"]  # no temporary file left


def test_failed_write_creates_nothing(tmp_path: Path) -> None:
    def progress(table: str, done: int, total: int) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        _demo.write_duckdb(tmp_path / "new.duckdb", 50, progress=progress)
    assert os.listdir(tmp_path) == []


def test_write_duckdb_into_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        _demo.write_duckdb(tmp_path / "nope" / "demo.duckdb", 20)
    assert os.listdir(tmp_path) == []


def test_write_duckdb_removes_stale_wal(tmp_path: Path) -> None:
    path = tmp_path / "demo.duckdb"
    (tmp_path / "demo.duckdb.wal").write_bytes(b"stale")
    _demo.write_duckdb(path, 30)
    assert sorted(os.listdir(tmp_path)) == ["demo.duckdb"]
