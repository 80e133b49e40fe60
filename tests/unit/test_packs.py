"""Metric packs: a project refines a pack's model without copying it; pack items that do not
fit the project are left out with a warning instead of breaking it."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import duckdb
import pytest
from click.testing import CliRunner

import kpispec
from kpispec import hookimpl, plugins
from kpispec.cli import main

PACK = """
models:
  - name: deals
    table: deals
    primary_key: deal_id
    time: created_at
    columns: [deal_id, created_at, closed_at, stage, amount, owner_id]
    dimensions:
      - {name: rep, expr: owner_id}
      - stage
metrics:
  - name: won_amount
    type: simple
    measure: {model: deals, agg: sum, expr: amount, filter: "stage = 'won'", time: closed_at}
  - name: deals_created
    type: simple
    measure: {model: deals, agg: count}
  - name: avg_won
    type: derived
    expr: won_amount / deals_created
"""


class _Pack:
    def __init__(self, path: Path) -> None:
        self.path = path

    @hookimpl
    def register_spec_paths(self, register: Callable[..., None]) -> None:
        register(self.path, name="sales_pack")


@pytest.fixture
def pack(fresh_plugins: None, tmp_path: Path) -> Iterator[None]:
    directory = tmp_path / "pack"
    directory.mkdir()
    (directory / "sales.yaml").write_text(PACK)
    plugins.register_plugin(_Pack(directory), "sales_pack_plugin")
    try:
        yield
    finally:
        plugins.unregister_plugin("sales_pack_plugin")


def test_project_refines_pack_model_with_own_table_and_column_names(
        pack: None, make_project: Callable[..., Path], tmp_path: Path) -> None:
    root = make_project({"kpispec.yaml": "", "ours.yaml": """
models:
  - name: deals                      # same name as the pack's model: refines it
    table: crm_opportunities
    columns:
      - {name: amount, expr: value_eur}
      - {name: stage, expr: "CASE WHEN is_won THEN 'won' ELSE 'other' END"}
      - salesperson
    dimensions:
      - {name: rep, expr: salesperson}
"""})
    db = tmp_path / "ours.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE crm_opportunities (deal_id INT, created_at TIMESTAMP, closed_at TIMESTAMP, "
                "is_won BOOLEAN, value_eur DOUBLE, owner_id INT, salesperson VARCHAR)")
    con.executemany("INSERT INTO crm_opportunities VALUES (?, ?, ?, ?, ?, ?, ?)", [
        (1, "2024-01-02", "2024-01-20", True, 100.0, 7, "ana"),
        (2, "2024-01-03", "2024-01-25", False, 900.0, 7, "ana"),
        (3, "2024-01-05", "2024-01-28", True, 50.0, 8, "bo"),
    ])
    con.close()
    project = kpispec.load_project(root)
    assert project.models["deals"].origin == "project"
    rows = project.run(["won_amount", "avg_won"], source=f"duckdb:///{db}", by=["rep"]).to_pylist()
    assert rows == [
        {"period": __import__("datetime").date(2024, 1, 1), "rep": "ana", "won_amount": 100.0, "avg_won": 50.0},
        {"period": __import__("datetime").date(2024, 1, 1), "rep": "bo", "won_amount": 50.0, "avg_won": 50.0},
    ]
    sql = project.compile(["won_amount"], by=["rep"]).sql
    assert "FROM crm_opportunities AS deals" in sql and "SUM(deals.value_eur)" in sql


def test_pack_items_that_do_not_fit_are_left_out_with_a_warning(
        pack: None, make_project: Callable[..., Path]) -> None:
    root = make_project({"ours.yaml": """
models:
  - name: deals                      # a whole model of our own, without closed_at or amount
    replace: true
    table: deals
    time: created_at
    primary_key: deal_id
    columns: [deal_id, created_at, stage]
"""})
    project = kpispec.load_project(root)
    assert set(project.metrics) >= {"deals_created"}
    assert "won_amount" not in project.metrics and "avg_won" not in project.metrics
    notes = [w for w in project.warnings if w.startswith("pack 'sales_pack'")]
    assert any("unknown column 'amount' of model 'deals'" in n for n in notes)
    assert any("uses metric 'won_amount', which was left out" in n for n in notes)
    result = CliRunner().invoke(main, ["validate", str(root)])
    assert result.exit_code == 0, result.output
    assert "warning: pack 'sales_pack': left out:" in result.output
    listed = CliRunner().invoke(main, ["list", str(root), "--json"])
    assert "2 pack item(s) left out" in listed.output


def test_pack_switched_off(pack: None, make_project: Callable[..., Path]) -> None:
    root = make_project({"kpispec.yaml": "packs: {sales_pack: false}\n"})
    assert kpispec.load_project(root).metrics == {}




def test_pack_file_whose_template_fails_is_left_out(fresh_plugins: None, tmp_path: Path,
                                                    make_project: Callable[..., Path]) -> None:
    directory = tmp_path / "pack2"
    directory.mkdir()
    (directory / "money.yaml").write_text(PACK.replace("expr: amount,", "expr: amount * {{ var('fx') }},"))
    plugins.register_plugin(_Pack(directory), "templated_pack")
    try:
        project = kpispec.load_project(make_project({}, "empty"))
        assert project.metrics == {}
        assert any("undefined var 'fx'" in w for w in project.warnings)
        root = make_project({"kpispec.yaml": "vars: {fx: 1.1}\n"}, "with_var")
        sql = kpispec.load_project(root).compile(["won_amount"]).sql
        assert "deals.amount * 1.1" in sql
    finally:
        plugins.unregister_plugin("templated_pack")
