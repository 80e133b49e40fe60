"""``kpispec dimensions`` and the dimensions in ``kpispec list --json``: what each metric can be
grouped by, checked by hand and against what the compiler accepts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import kpispec
import pytest
from click.testing import CliRunner
from kpispec._dimensions import metric_dimensions
from kpispec.cli import main

SPECS = """
models:
  - name: deals
    table: deals
    primary_key: deal_id
    time: created_at
    columns: [deal_id, customer_id, owner_id, created_at, closed_at, stage, amount, region]
    dimensions:
      - region
      - {name: rep, expr: owner_id, label: {en: Sales rep, pl: Handlowiec}}
      - {name: closed_at, type: time}
    joins:
      - {model: customers, on: customer_id}
  - name: customers
    table: customers
    primary_key: customer_id
    time: signed_up_at
    columns: [customer_id, signed_up_at, segment, region]
    dimensions: [segment, region]
  - name: tickets
    table: tickets
    primary_key: ticket_id
    time: opened_at
    columns: [ticket_id, customer_id, deal_id, opened_at, priority]
    dimensions: [priority]
    joins:
      - {model: customers, on: customer_id}
      - {model: deals, on: deal_id}
metrics:
  - name: won_revenue
    type: simple
    measure: {model: deals, agg: sum, expr: amount, filter: "stage = 'won'", time: closed_at}
  - name: tickets_opened
    type: simple
    measure: {model: tickets, agg: count}
  - name: deals_per_ticket
    type: ratio
    numerator: {model: deals, agg: count}
    denominator: {model: tickets, agg: count}
  - name: revenue_per_ticket
    type: derived
    expr: won_revenue / tickets_opened
"""

# By hand: deals' own dimensions win over customers' region, so customers' is written
# qualified; from tickets, `region` is ambiguous (customers and deals both have one);
# a metric reading deals and tickets gets what both reach.
BOTH = [("closed_at", ("deals",), "time"), ("deals.region", ("deals",), "categorical"),
        ("rep", ("deals",), "categorical"), ("customers.region", ("customers",), "categorical"),
        ("segment", ("customers",), "categorical")]
EXPECTED = {
    "won_revenue": [("closed_at", ("deals",), "time"), ("region", ("deals",), "categorical"),
                    ("rep", ("deals",), "categorical"),
                    ("customers.region", ("customers",), "categorical"),
                    ("segment", ("customers",), "categorical")],
    "tickets_opened": [("priority", ("tickets",), "categorical"),
                       ("customers.region", ("customers",), "categorical"),
                       ("segment", ("customers",), "categorical"),
                       ("closed_at", ("deals",), "time"),
                       ("deals.region", ("deals",), "categorical"),
                       ("rep", ("deals",), "categorical")],
    "deals_per_ticket": BOTH,
    "revenue_per_ticket": BOTH,
}


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    return make_project({"specs.yaml": SPECS})


@pytest.mark.parametrize("metric", sorted(EXPECTED))
def test_metric_dimensions_by_hand(project: Path, metric: str) -> None:
    loaded = kpispec.load_project(project)
    found = [(d.name, d.models, d.type) for d in metric_dimensions(loaded, metric)]
    assert found == EXPECTED[metric]


def test_listed_dimensions_are_exactly_what_the_compiler_accepts(project: Path) -> None:
    loaded = kpispec.load_project(project)
    every = {d for model in loaded.models.values() for d in model.dimensions}
    every |= {f"{model.name}.{d}" for model in loaded.models.values() for d in model.dimensions}
    for metric in loaded.metrics:
        listed = {d.name for d in metric_dimensions(loaded, metric)}
        for name in sorted(every):
            try:
                loaded.compile([metric], by=[name])
            except kpispec.QueryError:
                assert name not in listed, (metric, name)
            else:  # accepted: listed, or the qualified twin of a listed plain name
                assert name in listed or name.rpartition(".")[2] in listed, (metric, name)


def test_dimensions_command_table(project: Path) -> None:
    result = CliRunner().invoke(main, ["dimensions", "won_revenue", "deals_per_ticket", "-p",
                                       str(project), "--lang", "pl"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()]
    assert rows[0] == ["metric", "dimension", "type", "model", "label"]
    assert rows[1:6] == [["won_revenue", "closed_at", "time", "deals"],
                         ["won_revenue", "region", "categorical", "deals"],
                         ["won_revenue", "rep", "categorical", "deals", "Handlowiec"],
                         ["won_revenue", "customers.region", "categorical", "customers"],
                         ["won_revenue", "segment", "categorical", "customers"]]
    assert result.output.rstrip().endswith(
        "common to all 2: closed_at, rep, customers.region, segment")


def test_dimensions_command_json(project: Path) -> None:
    result = CliRunner().invoke(main, ["dimensions", "deals_per_ticket", "-p", str(project),
                                       "--json"])
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.output)
    assert entry["metric"] == "deals_per_ticket"
    assert [(d["name"], d["models"], d["type"]) for d in entry["dimensions"]] == [
        (n, list(m), t) for n, m, t in BOTH]
    assert entry["dimensions"][2] == {"name": "rep", "models": ["deals"], "type": "categorical",
                                      "label": "Sales rep", "description": ""}


def test_dimensions_unknown_metric_suggests(project: Path) -> None:
    result = CliRunner().invoke(main, ["dimensions", "won_revenu", "-p", str(project)])
    assert result.exit_code == 1
    assert result.output.strip() == ("error: METRIC 'won_revenu': unknown metric. "
                                     "Did you mean 'won_revenue'?")
    none = CliRunner().invoke(main, ["dimensions", "-p", str(project)])
    assert none.exit_code == 1 and "name at least one metric" in none.output


def test_list_json_has_each_metrics_dimensions(project: Path) -> None:
    result = CliRunner().invoke(main, ["list", "-p", str(project), "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert [(d["name"], tuple(d["models"]), d["type"]) for d in rows["tickets_opened"]["dimensions"]
            ] == EXPECTED["tickets_opened"]
