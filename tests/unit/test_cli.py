"""The command line, through click's runner and once as a real installed command."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import duckdb
import pytest
from click.testing import CliRunner

from kpispec.cli import main
from tests.unit.conftest import DEALS

COMMANDS = ["validate", "list", "dimensions", "compile", "run", "demo", "plugins", "schema"]


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    return make_project({"specs.yaml": DEALS})


@pytest.fixture
def database(tmp_path: Path) -> str:
    path = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE deals (deal_id INT, customer_id INT, created_at TIMESTAMP, "
                "closed_at TIMESTAMP, stage VARCHAR, amount DOUBLE, region VARCHAR)")
    con.execute("CREATE TABLE customers (customer_id INT, signed_up_at TIMESTAMP, segment VARCHAR)")
    con.executemany("INSERT INTO deals VALUES (?, ?, ?, ?, ?, ?, ?)", [
        (1, 1, "2024-01-03", "2024-01-20", "won", 100.0, "EMEA"),
        (2, 1, "2024-01-05", "2024-03-02", "won", 300.0, "NA"),
        (3, 2, "2024-01-09", "2024-03-10", "won", 50.0, "NA"),
    ])
    con.execute("INSERT INTO customers VALUES (1, '2023-01-01', 'smb'), (2, '2023-02-01', 'ent')")
    con.close()
    return f"duckdb:///{path}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage: main" in result.output or "Usage: kpispec" in result.output
    assert len(result.output.splitlines()) > 3


def test_validate_ok_and_error(project: Path, make_project: Callable[..., Path]) -> None:
    ok = CliRunner().invoke(main, ["validate", str(project)])
    assert ok.exit_code == 0 and "ok: 2 models, 3 metrics" in ok.output
    bad = make_project({"bad.yaml": DEALS.replace("expr: revenue / deals_won",
                                                  "expr: revenue / deals_wonn")}, "bad")
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 1
    assert ":26:11: metrics[2].expr: unknown metric 'deals_wonn'. Did you mean 'deals_won'?" in result.output
    assert "Traceback" not in result.output


def test_list_json(project: Path) -> None:
    result = CliRunner().invoke(main, ["list", str(project), "--json"])
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["avg_deal"]["models"] == "deals"
    assert rows["revenue"]["type"] == "simple"


def test_compile_prints_sql_for_a_dialect(project: Path) -> None:
    result = CliRunner().invoke(main, ["compile", "revenue", "-p", str(project), "--dialect", "tsql",
                                       "--from", "2024-01-01", "--to", "2024-04-01"])
    assert result.exit_code == 0, result.output
    assert "DATEFROMPARTS(YEAR(deals.closed_at), MONTH(deals.closed_at), 1)" in result.output
    assert result.output.rstrip().endswith(";")


def test_compile_unknown_metric_is_exit_1(project: Path) -> None:
    result = CliRunner().invoke(main, ["compile", "revenu", "-p", str(project)])
    assert result.exit_code == 1
    assert result.output.strip() == "error: unknown metric 'revenu'. Did you mean 'revenue'?"


def test_compile_unsupported_dialect_feature(make_project: Callable[..., Path]) -> None:
    root = make_project({"s.yaml": DEALS + """
  - name: median_deal
    type: simple
    measure: {model: deals, agg: median, expr: amount}
"""})
    result = CliRunner().invoke(main, ["compile", "median_deal", "-p", str(root), "-d", "sqlite"])
    assert result.exit_code == 1
    assert "metric 'median_deal' cannot be compiled for dialect 'sqlite': the median aggregation" in result.output


def test_run_writes_several_sinks(project: Path, database: str, tmp_path: Path) -> None:
    out_csv, out_json = tmp_path / "out.csv", tmp_path / "out.json"
    result = CliRunner().invoke(main, [
        "run", "deals_won", "revenue", "-p", str(project), "--source", database,
        "--from", "2024-01-01", "--to", "2024-04-01", "--sink", str(out_csv), "--sink", str(out_json)])
    assert result.exit_code == 0, result.output
    with open(out_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["period"], r["deals_won"], r["revenue"]) for r in rows] == [
        ("2024-01-01", "1", "100.0"), ("2024-02-01", "0", "0.0"), ("2024-03-01", "2", "350.0")]
    assert json.loads(out_json.read_text())[2] == {"period": "2024-03-01", "deals_won": 2,
                                                   "revenue": 350.0}


def test_run_by_joined_dimension_table_sink(project: Path, database: str) -> None:
    result = CliRunner().invoke(main, ["run", "revenue", "-p", str(project), "--source", database,
                                       "--by", "segment", "--grain", "quarter"])
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.splitlines()[2:]]
    assert lines == [["2024-01-01", "ent", "50"], ["2024-01-01", "smb", "400"]]


def test_run_source_failure_is_exit_2_and_leaves_no_file(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("previous\n")
    result = CliRunner().invoke(main, ["run", "revenue", "-p", str(project), "--source",
                                       f"duckdb:///{tmp_path / 'missing.duckdb'}", "--sink", str(out)])
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output
    assert out.read_text() == "previous\n"


def test_run_query_error_after_sink_opened_aborts(project: Path, database: str,
                                                  tmp_path: Path) -> None:
    con = duckdb.connect(database.removeprefix("duckdb:///"))
    con.execute("DROP TABLE customers")
    con.close()
    out = tmp_path / "out.json"
    result = CliRunner().invoke(main, ["run", "revenue", "-p", str(project), "--source", database,
                                       "--by", "segment", "--sink", str(out)])
    assert result.exit_code == 2, result.output
    assert "customers" in result.output
    assert not out.exists() and not list(tmp_path.glob(".out.json*"))


def test_bad_sink_is_exit_1(project: Path, database: str) -> None:
    result = CliRunner().invoke(main, ["run", "revenue", "-p", str(project), "--source", database,
                                       "--sink", "out.xyz"])
    assert result.exit_code == 1
    assert "--sink 'out.xyz': no sink plugin handles it" in result.output


def test_usage_errors_are_exit_1(project: Path) -> None:
    result = CliRunner().invoke(main, ["compile", "revenue", "-p", str(project), "--grain", "decade"])
    assert result.exit_code == 1 and "Invalid value for '--grain'" in result.output
    missing = CliRunner().invoke(main, ["run", "revenue", "-p", str(project)])
    assert missing.exit_code == 1 and "--source is required" in missing.output
    assert CliRunner().invoke(main, ["--help"]).exit_code == 0


def test_derived_expr_may_not_aggregate(make_project: Callable[..., Path]) -> None:
    root = make_project({"s.yaml": DEALS.replace("expr: revenue / deals_won", "expr: sum(revenue)")})
    result = CliRunner().invoke(main, ["validate", str(root)])
    assert result.exit_code == 1
    assert ":26:11: metrics[2].expr: aggregate 'SUM(revenue)' is not allowed here" in result.output


def test_schema_is_valid_json_schema() -> None:
    import jsonschema

    result = CliRunner().invoke(main, ["schema"])
    document = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(document)
    assert set(document["$defs"]["metric"]["properties"]["type"]["enum"]) >= {"simple", "ratio", "derived"}
    settings = json.loads(CliRunner().invoke(main, ["schema", "--settings"]).output)
    assert {"fiscal_year_start_month", "timezone", "dialect"} <= set(settings["properties"])


def test_demo_writes_warehouse_and_prints_metrics(tmp_path: Path) -> None:
    out = tmp_path / "demo.duckdb"
    result = CliRunner().invoke(main, ["demo", "--rows", "300", "--out", str(out)])
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(out), read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    won_jan = con.execute("SELECT count(*) FROM deals WHERE stage = 'won' AND closed_at >= '2024-01-01' "
                          "AND closed_at < '2024-02-01'").fetchone()[0]
    con.close()
    assert len(tables) == 15
    jan = next(line for line in result.output.splitlines() if line.startswith("2024-01-01"))
    assert jan.split()[2] == str(won_jan)


def test_installed_command_runs_as_a_subprocess(project: Path, database: str) -> None:
    exe = shutil.which("kpispec")
    if exe is None:
        pytest.fail("the kpispec console script is not installed: run pip install -e '.[test]'")
    done = subprocess.run([exe, "run", "deals_won", "-p", str(project), "--source", database,
                           "--sink", "json:-", "--from", "2024-03-01", "--to", "2024-04-01"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"period": "2024-03-01", "deals_won": 2}]
    bad = subprocess.run([sys.executable, "-m", "kpispec", "compile", "nope", "-p", str(project)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and bad.stderr.startswith("error: unknown metric 'nope'")


def test_source_url_masks_the_password_as_written() -> None:
    from kpispec import parse_source_url

    assert str(parse_source_url("postgresql://me:p%40ss@db:5432/crm?schema=x")) == \
        "postgresql://me:***@db:5432/crm?schema=x"
    assert str(parse_source_url("mysql://root@127.0.0.1/test")) == "mysql://root@127.0.0.1/test"
