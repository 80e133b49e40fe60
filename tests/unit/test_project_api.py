"""The Python API and the ``kpispec`` command are one implementation: each command calls the
:class:`kpispec.Project` method of the same job, so both give the same answer."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import kpispec
import pytest
from click.testing import CliRunner
from kpispec import _dimensions, _execution, _metric_list, _query_options
from kpispec._demo_command import demo_project_path
from kpispec.cli import main


@pytest.fixture(scope="module")
def demo() -> kpispec.Project:
    return kpispec.load_project(demo_project_path(), packs=False)


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, [*args, "-p", str(demo_project_path())])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_methods_are_the_shared_functions() -> None:
    assert kpispec.Project.query is _query_options.build_query
    assert kpispec.Project.compile is _query_options.compile_metrics
    assert kpispec.Project.execute is _execution.execute
    assert kpispec.Project.run is _execution.run
    assert kpispec.Project.check_source is _execution.check_source
    assert kpispec.Project.list_metrics is _metric_list.list_metrics
    assert kpispec.Project.dimensions is _dimensions.dimensions_of


def test_list_metrics(demo: kpispec.Project) -> None:
    rows = demo.list_metrics(lang="pl")
    assert [r["name"] for r in rows] == ["avg_deal_size", "close_rate", "deals_won",
                                         "gross_profit", "leads_created",
                                         "revenue_per_won_deal", "win_rate", "won_revenue"]
    assert rows[0] == {"name": "avg_deal_size", "type": "simple",
                       "label": "Średnia wartość transakcji", "models": "deals",
                       "origin": "project", "description": ""}
    assert demo.list_metrics(origin="project") == demo.list_metrics()
    with pytest.raises(kpispec.QueryError, match=r"--origin 'projet': no metric of this project "
                                                 r"comes from it"):
        demo.list_metrics(origin="projet")


def test_list_json_is_list_metrics_with_dimensions(demo: kpispec.Project) -> None:
    assert json.loads(_cli("list", "--json", "--lang", "pl")) == demo.list_metrics(
        lang="pl", dimensions=True)
    close_rate = demo.list_metrics(dimensions=True)[1]
    assert [d["name"] for d in close_rate["dimensions"]] == ["source", "status"]


def test_dimensions_json_is_project_dimensions(demo: kpispec.Project) -> None:
    found = demo.dimensions(["close_rate", "deals_won"])
    assert {name: [d.name for d in dims] for name, dims in found.items()} == {
        "close_rate": ["source", "status"],
        "deals_won": ["deal_type", "region", "rep", "size_band", "stage", "customers.region",
                      "originated_by", "segment", "source", "status"]}
    shown = json.loads(_cli("dimensions", "close_rate", "deals_won", "--json"))
    assert shown == [{"metric": name, "dimensions": [d.as_dict() for d in dims]}
                     for name, dims in found.items()]
    with pytest.raises(kpispec.UnknownMetricError, match="METRIC 'close_rat': unknown metric"):
        demo.dimensions(["close_rat"])


def test_compile_prints_project_compile(demo: kpispec.Project) -> None:
    compiled = demo.compile(["win_rate"], dialect="postgres", grain="quarter", by=["region"])
    assert _cli("compile", "win_rate", "-d", "postgres", "--grain", "quarter",
                "--by", "region") == compiled.sql + ";\n"
    assert compiled.columns == ("period", "region", "win_rate")


def test_run_writes_project_run(demo: kpispec.Project, tmp_path: Path) -> None:
    from kpispec._demo import write_duckdb

    database = tmp_path / "crm.duckdb"
    write_duckdb(database, 200, seed=3)
    source = f"duckdb:///{database}"
    table = demo.run(["deals_won"], source=source, grain="year", by=["region"])
    out = tmp_path / "out.json"
    _cli("run", "deals_won", "--source", source, "--grain", "year", "--by", "region",
         "--sink", str(out))
    rows = table.to_pylist()
    assert json.loads(out.read_text()) == [{**row, "period": str(row["period"])} for row in rows]
    assert rows[:3] == [{"period": dt.date(2023, 1, 1), "region": "APAC", "deals_won": 3},
                        {"period": dt.date(2023, 1, 1), "region": "EMEA", "deals_won": 7},
                        {"period": dt.date(2023, 1, 1), "region": "LATAM", "deals_won": 2}]
