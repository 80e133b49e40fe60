"""The CRM plugin's funnel type, checked against Python on the demo data (DuckDB and SQLite)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest

import kpispec
from kpispec import _demo

SPEC = """
models:
  - {name: web_sessions, table: web_sessions, primary_key: session_id, time: started_at,
     columns: [session_id, visitor_id, started_at, landing_page, clicked, converted],
     dimensions: [landing_page]}
  - {name: leads, table: leads, primary_key: lead_id, time: created_at,
     columns: [lead_id, created_at, source, status, converted_at, visitor_id]}
  - {name: deals, table: deals, primary_key: deal_id, time: created_at,
     columns: [deal_id, lead_id, customer_id, owner_id, region, created_at, closed_at, stage,
               amount, deal_type]}
metrics:
  - name: visitor_to_won_deal
    type: funnel
    steps:
      - {name: visitors, model: web_sessions, count: visitor_id}
      - {name: leads, model: leads, on: visitor_id, within: 30 days}
      - {name: won_deals, model: deals, on: lead_id, within: 90 days, time: closed_at,
         filter: "stage = 'won'"}
"""
ROWS = 1500


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("funnel")
    (root / "p").mkdir()
    (root / "p" / "s.yaml").write_text(SPEC)
    _demo.write_duckdb(root / "crm.duckdb", ROWS)
    tables = {name: t.to_pylist() for name, t in _demo.generate(ROWS).items()
              if name in ("web_sessions", "leads", "deals")}
    return kpispec.load_project(root / "p", packs=False), f"duckdb:///{root / 'crm.duckdb'}", tables


def _expected(tables, landing: bool):  # type: ignore[no-untyped-def]
    leads_by_visitor = defaultdict(list)
    for lead in tables["leads"]:
        if lead["visitor_id"] is not None:
            leads_by_visitor[lead["visitor_id"]].append(lead)
    won_by_lead = defaultdict(list)
    for deal in tables["deals"]:
        if deal["stage"] == "won" and deal["lead_id"] is not None and deal["closed_at"] is not None:
            won_by_lead[deal["lead_id"]].append(deal)
    sets: dict = defaultdict(lambda: (set(), set(), set()))
    for s in tables["web_sessions"]:
        key = (dt.date(s["started_at"].year, s["started_at"].month, 1),
               s["landing_page"] if landing else None)
        visitors, leads, won = sets[key]
        if s["visitor_id"] is None:
            continue
        visitors.add(s["visitor_id"])
        t0 = s["started_at"]
        reached = [lead for lead in leads_by_visitor[s["visitor_id"]]
                   if t0 <= lead["created_at"] < t0 + dt.timedelta(days=30)]
        if reached:
            leads.add(s["visitor_id"])
        if any(lead["created_at"] <= d["closed_at"] < lead["created_at"] + dt.timedelta(days=90)
               for lead in reached for d in won_by_lead[lead["lead_id"]]):
            won.add(s["visitor_id"])
    out = {}
    for key, (visitors, leads, won) in sets.items():
        out[key] = {"visitor_to_won_deal": len(visitors),
                    "visitor_to_won_deal__leads": len(leads),
                    "visitor_to_won_deal__leads_pct": 100 * len(leads) / len(visitors) if visitors else None,
                    "visitor_to_won_deal__won_deals": len(won),
                    "visitor_to_won_deal__won_deals_pct": 100 * len(won) / len(leads) if leads else None}
    return out


@pytest.mark.parametrize("landing", [False, True])
def test_funnel_matches_python(setup, landing: bool) -> None:  # type: ignore[no-untyped-def]
    project, source, tables = setup
    result = project.run(["visitor_to_won_deal"], source=source,
                         by=["landing_page"] if landing else []).to_pylist()
    expected = _expected(tables, landing)
    assert {(r["period"], r.get("landing_page")) for r in result} == set(expected)
    for row in result:
        want = expected[(row["period"], row.get("landing_page"))]
        for column, value in want.items():
            assert row[column] == (None if value is None else pytest.approx(value)), (row["period"], column)
    assert sum(r["visitor_to_won_deal__won_deals"] for r in result) > 0  # the data exercises every step


def test_funnel_sqlite_spelling_matches(setup) -> None:  # type: ignore[no-untyped-def]
    project, _, tables = setup
    con = sqlite3.connect(":memory:")
    for name, rows in tables.items():
        columns = list(rows[0])
        con.execute(f"CREATE TABLE {name} ({', '.join(columns)})")  # test fixture, not product SQL
        con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(columns))})",
                        [[v.isoformat(sep=' ') if isinstance(v, dt.datetime) else v for v in r.values()]
                         for r in rows])
    sql = project.compile(["visitor_to_won_deal"], dialect="sqlite").sql
    got = {r[0]: r[1:] for r in con.execute(sql).fetchall()}
    for (period, _), cells in _expected(tables, False).items():
        row = got[period.isoformat()]
        for mine, theirs in zip(row, cells.values(), strict=True):
            assert mine == (None if theirs is None else pytest.approx(theirs))


@pytest.mark.parametrize("change, message", [
    ("      - {name: visitors, model: web_sessions, count: visitor_id}",
     "step 'visitors': the first step needs 'count'"),
    ("      - {name: leads, model: leads, on: visitor_id, within: 30 days}",
     "step 'leads': unknown column 'visitorid' of model 'leads' in 'on'"),
])
def test_funnel_spec_errors(tmp_path: Path, change: str, message: str) -> None:
    broken = change.replace(", count: visitor_id", "") if "count" in change else change.replace(
        "on: visitor_id", "on: {previous: visitor_id, this: visitorid}")
    (tmp_path / "s.yaml").write_text(SPEC.replace(change, broken))
    with pytest.raises(kpispec.SpecErrors) as info:
        kpispec.load_project(tmp_path, packs=False)
    assert f"s.yaml:12:5: metrics[0]: {message}" in str(info.value)
