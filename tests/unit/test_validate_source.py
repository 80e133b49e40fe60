"""`kpispec validate --source URL`: models checked against the live catalog of a source."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import duckdb
from click.testing import CliRunner

from kpispec.cli import main


def _db(tmp_path: Path) -> str:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE deals (deal_id INT, created_at TIMESTAMP, stage VARCHAR, amount_eur DOUBLE)")
    con.close()
    return f"duckdb:///{path}"


def test_missing_table_and_columns_are_located(make_project: Callable[..., Path], tmp_path: Path) -> None:
    root = make_project({"m.yaml": """
models:
  - name: deals
    table: deals
    time: created_at
    columns: [deal_id, created_at, stage, owner_id, {name: amount, expr: amount_eur * fx}]
  - name: leads
    table: leads
"""})
    result = CliRunner().invoke(main, ["validate", str(root), "--source", _db(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].endswith(
        "m.yaml:3:5: models[0]: table 'deals' of model 'deals' on duckdb:///"
        f"{tmp_path}/w.duckdb has no column 'fx', 'owner_id'")
    assert lines[1].endswith(f"m.yaml:7:5: models[1]: table 'leads' of model 'leads' does not exist "
                             f"on duckdb:///{tmp_path}/w.duckdb")
    assert lines[2] == "2 problems found."


def test_everything_present_is_ok(make_project: Callable[..., Path], tmp_path: Path) -> None:
    root = make_project({"m.yaml": """
models:
  - name: deals
    table: deals
    columns: [deal_id, created_at, stage, {name: amount, expr: amount_eur}]
"""})
    source = _db(tmp_path)
    result = CliRunner().invoke(main, ["validate", str(root), "--source", source])
    assert result.exit_code == 0, result.output
    assert f"checked on {source}" in result.output


def test_pack_models_missing_on_the_source_are_warnings(crm_pack: None, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["validate", str(empty), "--source", _db(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "warning: pack 'crm': table 'leads' of model 'leads' does not exist" in result.output
    assert "warning: pack 'crm': table 'deals' of model 'deals' on" in result.output
