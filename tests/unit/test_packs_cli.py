"""Packs from the command line, with the CRM catalog installed: a project of one's own is never
mixed with it, and a project ``dialect:`` never changes the catalog's numbers (issue 14)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from kpispec import _demo
from kpispec.cli import main

MODELS = """
models:
  - name: deals                 # named like the catalog's models, but ours alone
    table: deals
    primary_key: deal_id
    time: created_at
    columns: [deal_id, lead_id, created_at, closed_at, stage, amount]
    dimensions: [stage]
    joins:
      - {model: leads, on: lead_id}
  - name: leads
    table: leads
    primary_key: lead_id
    time: created_at
    columns: [lead_id, created_at, source]
    dimensions: [source]
  - name: customers
    table: customers
    primary_key: customer_id
    time: signed_up_at
    columns: [customer_id, signed_up_at, churned_at, plan]
"""

METRICS = """
metrics:
  - {name: deals_created, type: simple, measure: {model: deals, agg: count}}
  - name: deals_won
    type: simple
    measure: {model: deals, agg: count, filter: "stage = 'won'", time: closed_at}
  - name: won_amount
    type: simple
    measure: {model: deals, agg: sum, expr: amount, filter: "stage = 'won'", time: closed_at}
  - name: avg_won_amount
    type: simple
    measure: {model: deals, agg: avg, expr: amount, filter: "stage = 'won'", time: closed_at}
  - {name: leads_created, type: simple, measure: {model: leads, agg: count}}
  - name: lead_to_deal_pct
    type: ratio
    numerator: {model: deals, agg: count}
    denominator: {model: leads, agg: count}
    scale: 100
  - {name: signups, type: simple, measure: {model: customers, agg: count}}
  - name: churned
    type: simple
    measure: {model: customers, agg: count, time: churned_at}
"""

LEADS = [(1, "2024-01-03", "web"), (2, "2024-01-09", "event"), (3, "2024-01-20", "web"),
         (4, "2024-02-02", "web"), (5, "2024-02-14", "partner")]
DEALS = [(1, 1, "2024-01-05", "2024-01-30", "won", 1200.0),
         (2, 2, "2024-01-12", "2024-02-10", "lost", 300.0),
         (3, 3, "2024-01-25", "2024-02-20", "won", 800.0),
         (4, 4, "2024-02-05", None, "open", 500.0)]
CUSTOMERS = [(1, "2024-01-30", None, "pro"), (2, "2024-02-20", "2024-02-27", "basic")]


def _warehouse(path: Path) -> str:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE leads (lead_id INT, created_at TIMESTAMP, source VARCHAR)")
    con.execute("CREATE TABLE deals (deal_id INT, lead_id INT, created_at TIMESTAMP, "
                "closed_at TIMESTAMP, stage VARCHAR, amount DOUBLE)")
    con.execute("CREATE TABLE customers (customer_id INT, signed_up_at TIMESTAMP, "
                "churned_at TIMESTAMP, plan VARCHAR)")
    con.executemany("INSERT INTO leads VALUES (?, ?, ?)", LEADS)
    con.executemany("INSERT INTO deals VALUES (?, ?, ?, ?, ?, ?)", DEALS)
    con.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", CUSTOMERS)
    con.close()
    return f"duckdb:///{path}"


def _month(day: str | None) -> str | None:
    return None if day is None else dt.date.fromisoformat(day).replace(day=1).isoformat()


def _expected() -> dict[str, dict[str, float | None]]:
    """Each metric by month (January and February 2024), computed from the rows above."""
    months = ["2024-01-01", "2024-02-01"]
    created = Counter(_month(d[2]) for d in DEALS)
    won = [d for d in DEALS if d[4] == "won"]
    won_n = Counter(_month(d[3]) for d in won)
    leads = Counter(_month(lead[1]) for lead in LEADS)
    out: dict[str, dict[str, float | None]] = {}
    for m in months:
        amounts = [d[5] for d in won if _month(d[3]) == m]
        out[m] = {
            "deals_created": created[m], "deals_won": won_n[m], "won_amount": sum(amounts),
            "avg_won_amount": sum(amounts) / len(amounts) if amounts else None,
            "leads_created": leads[m], "lead_to_deal_pct": 100 * created[m] / leads[m],
            "signups": sum(1 for c in CUSTOMERS if _month(c[1]) == m),
            "churned": sum(1 for c in CUSTOMERS if _month(c[2]) == m),
        }
    return out


@pytest.fixture
def own_project(crm_pack: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A project of 3 models and 8 metrics, with the CRM catalog installed; cwd inside it."""
    root = tmp_path / "ours"
    root.mkdir()
    (root / "models.yaml").write_text(MODELS, encoding="utf-8")
    (root / "metrics.yaml").write_text(METRICS, encoding="utf-8")
    (root / "kpispec.yaml").write_text("version: 1\ndialect: postgres\n", encoding="utf-8")
    source = _warehouse(tmp_path / "ours.duckdb")
    monkeypatch.chdir(root)
    return source


def test_validate_counts_only_the_projects_own_items(own_project: str) -> None:
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert result.output == "ok: 3 models, 8 metrics in 3 files\n"


def test_list_shows_only_the_projects_metrics(own_project: str) -> None:
    rows = json.loads(CliRunner().invoke(main, ["list", "--json"]).output)
    assert sorted(r["name"] for r in rows) == sorted(
        ["deals_created", "deals_won", "won_amount", "avg_won_amount", "leads_created",
         "lead_to_deal_pct", "signups", "churned"])
    assert {r["origin"] for r in rows} == {"project"}
    refused = CliRunner().invoke(main, ["list", "--origin", "crm"])
    assert refused.exit_code == 1
    assert "--origin 'crm': no metric of this project comes from it" in refused.output


def test_run_all_runs_only_the_projects_metrics(own_project: str, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["run", "--all", "--source", own_project, "--from",
                                       "2024-01-01", "--to", "2024-03-01", "--sink", str(out)])
    assert result.exit_code == 0, result.output
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    expected = _expected()
    assert [r["period"] for r in rows] == list(expected)
    assert set(rows[0]) == {"period", *expected["2024-01-01"]}
    for row in rows:
        for name, value in expected[row["period"]].items():
            got = row[name]
            assert (got == "" if value is None else float(got) == pytest.approx(value)), (name, row)


def test_validate_source_speaks_only_of_the_projects_tables(own_project: str,
                                                            tmp_path: Path) -> None:
    checked = CliRunner().invoke(main, ["validate", "--source", own_project])
    assert checked.exit_code == 0, checked.output
    assert checked.output == f"ok: 3 models, 8 metrics in 3 files, checked on {own_project}\n"
    con = duckdb.connect(str(tmp_path / "ours.duckdb"))
    con.execute("DROP TABLE customers")
    con.close()
    missing = CliRunner().invoke(main, ["validate", "--source", own_project])
    assert missing.exit_code == 1
    lines = missing.output.splitlines()
    assert lines == [f"models.yaml:17:5: models[2]: table 'customers' of model 'customers' does "
                     f"not exist on {own_project}", "1 problem found."], missing.output


def test_listing_the_pack_asks_for_an_explicit_refinement(own_project: str) -> None:
    Path("kpispec.yaml").write_text("packs: [crm]\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "models.yaml:3:11: models[0].name: model 'deals' is named like the model of pack 'crm' "
        "(crm:models.yaml:47). Write refine: crm.deals to refine the pack's model, replace: "
        "true to use yours instead, or give yours another name")
    assert result.output.endswith("3 problems found.\n")


# -- a project dialect never changes the catalog's numbers ---------------------------------


@pytest.fixture
def demo_directory(crm_pack: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty directory but for the demo warehouse (`kpispec demo`), the cwd."""
    _demo.write_duckdb(tmp_path / "kpispec-demo.duckdb", 400, seed=7)
    monkeypatch.chdir(tmp_path)
    return "duckdb:///kpispec-demo.duckdb"


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, ["run", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_sales_cycle_days_is_the_same_in_a_postgres_project(demo_directory: str) -> None:
    """Was: Conversion Error: invalid date field format: "second" (date_diff read as AGE)."""
    query = ("sales_cycle_days", "--source", demo_directory, "--from", "2024-01-01",
             "--to", "2024-07-01")
    plain = _run(*query)
    Path("kpispec.yaml").write_text("version: 1\ndialect: postgres\n", encoding="utf-8")
    assert _run(*query) == plain
    checked = CliRunner().invoke(main, ["validate"])
    assert checked.exit_code == 0 and checked.output.startswith("ok: 15 models"), checked.output


@pytest.mark.parametrize("dialect", ["snowflake", "postgres", "bigquery", "tsql"])
def test_run_all_gives_the_catalogs_numbers_whatever_the_project_dialect(
        demo_directory: str, tmp_path: Path, dialect: str) -> None:
    options = ("--all", "--source", demo_directory, "--from", "2024-01-01", "--to", "2025-01-01")
    _run(*options, "--sink", str(tmp_path / "plain.csv"))
    Path("kpispec.yaml").write_text(f"version: 1\ndialect: {dialect}\n", encoding="utf-8")
    _run(*options, "--sink", str(tmp_path / f"{dialect}.csv"))
    plain = (tmp_path / "plain.csv").read_text(encoding="utf-8")
    assert plain.count("\n") == 13 and plain.count(",") > 13 * 30
    assert (tmp_path / f"{dialect}.csv").read_text(encoding="utf-8") == plain
