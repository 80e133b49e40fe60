"""kpispec.testing: the helpers plugin authors test with."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import pytest
from click.testing import CliRunner

import kpispec
from kpispec import plugins, testing
from kpispec.cli import main
from kpispec.testing import (
    CapturingSink,
    MemorySource,
    assert_compiles_on_every_dialect,
    assert_plugin_ok,
    capturing_sink,  # noqa: F401 - fixtures, as a plugin's conftest.py imports them
    kpispec_project,  # noqa: F401
    memory_source,  # noqa: F401
    only_plugins,
    registered,
)
from tests.plugins.kitchen_sink import KitchenSink
from tests.unit.conftest import DEALS

ROWS = [
    {"deal_id": 1, "customer_id": 1, "created_at": "2024-01-03", "closed_at": "2024-01-20 10:30",
     "stage": "won", "amount": 100.0, "region": "EMEA"},
    {"deal_id": 2, "customer_id": 1, "created_at": "2024-01-05", "closed_at": "2024-02-02",
     "stage": "won", "amount": 300.0, "region": "NA"},
    {"deal_id": 3, "customer_id": 2, "created_at": "2024-01-09", "closed_at": None,
     "stage": "open", "amount": 50.0, "region": "NA"},
]


def test_public_module() -> None:
    assert testing.__all__ == sorted(testing.__all__)
    for name in testing.__all__:
        assert hasattr(testing, name), name


def test_kpispec_project_builds_a_project_from_yaml_strings(kpispec_project: Any) -> None:
    project = kpispec_project({"deals.yaml": DEALS, "more/extra.yaml": """
        metrics:
          - name: open_deals
            type: simple
            measure: {model: deals, agg: count, filter: "stage = 'open'"}
        """}, packs=False)
    assert isinstance(project, kpispec.Project)
    assert set(project.metrics) == {"deals_won", "revenue", "avg_deal", "open_deals"}
    assert (project.root / "more" / "extra.yaml").is_file()
    with pytest.raises(kpispec.SpecErrors, match="unknown metric 'nope'"):
        kpispec_project({"bad.yaml": DEALS.replace("revenue / deals_won", "nope")}, name="bad")


def test_memory_source_runs_queries_and_records_them(kpispec_project: Any,
                                                     memory_source: Callable[..., MemorySource]) -> None:
    source = memory_source({"deals": ROWS, "customers": {"customer_id": [1, 2],
                                                         "signed_up_at": ["2023-01-01", "2023-05-01"],
                                                         "segment": ["smb", "ent"]}})
    project = kpispec_project({"deals.yaml": DEALS}, packs=False)
    table = project.run(["revenue"], source=source.url, start="2024-01-01", end="2024-03-01",
                        by=["customers.segment"])
    assert table.to_pylist() == [
        {"period": dt.date(2024, 1, 1), "customers__segment": "smb", "revenue": 100.0},
        {"period": dt.date(2024, 2, 1), "customers__segment": "smb", "revenue": 300.0},
    ]
    assert len(source.queries) == 1 and source.queries[0].startswith("WITH ")
    assert source.tables["deals"].schema.field("closed_at").type == pa.timestamp("us")
    connection = source.connect(kpispec.parse_source_url(source.url))
    try:
        assert connection.describe("customers") == ["customer_id", "signed_up_at", "segment"]
        assert connection.describe("nope") is None
    finally:
        connection.close()


def test_memory_source_schema_qualified_tables_and_errors() -> None:
    source = MemorySource({"crm.deals": pa.table({"n": [1, 2]})})
    connection = source.connect(kpispec.parse_source_url("memory://"))
    try:
        assert connection.execute("SELECT SUM(n) AS s FROM crm.deals").read_all().to_pylist() == [{"s": 3}]
        assert connection.describe("crm.deals") == ["n"]
        with pytest.raises(kpispec.ExecutionError, match="the memory source rejected the query"):
            connection.execute("SELECT nope FROM crm.deals")
    finally:
        connection.close()
    with pytest.raises(TypeError, match="a table is a pyarrow.Table, a list of row dicts"):
        MemorySource({"t": 42})


def test_capturing_sink_through_the_cli(kpispec_project: Any, memory_source: Any,
                                        capturing_sink: CapturingSink) -> None:
    source = memory_source({"deals": ROWS})
    project = kpispec_project({"deals.yaml": DEALS}, packs=False)
    result = CliRunner().invoke(main, ["run", "deals_won", "revenue", "-p", str(project.root),
                                       "--source", source.url, "--from", "2024-01-01",
                                       "--to", "2024-02-01", "--sink", capturing_sink.url])
    assert result.exit_code == 0, result.output
    assert capturing_sink.rows == [{"period": dt.date(2024, 1, 1), "deals_won": 1, "revenue": 100.0}]
    assert capturing_sink.closed and not capturing_sink.aborted and capturing_sink.opened == 1
    assert capturing_sink.schema is not None and capturing_sink.schema.names == ["period", "deals_won",
                                                                                  "revenue"]
    assert capturing_sink.context is not None and capturing_sink.context.grain == "month"


def test_capturing_sink_sees_an_abort(kpispec_project: Any, memory_source: Any,
                                      capturing_sink: CapturingSink, tmp_path: Path) -> None:
    source = memory_source({"deals": ROWS})
    project = kpispec_project({"deals.yaml": DEALS}, packs=False)
    # The second sink cannot open its file: the run fails, and the first is told to abort.
    result = CliRunner().invoke(main, ["run", "revenue", "-p", str(project.root), "--source",
                                       source.url, "--sink", capturing_sink.url,
                                       "--sink", str(tmp_path / "missing" / "out.csv")])
    assert result.exit_code == 2, result.output
    assert capturing_sink.opened == 1 and capturing_sink.aborted and not capturing_sink.closed
    broken = memory_source({"deals": [{"deal_id": 1}]}, name="broken", scheme="broken")
    failed = CliRunner().invoke(main, ["run", "revenue", "-p", str(project.root), "--source",
                                       broken.url])
    assert failed.exit_code == 2
    assert "the memory source rejected the query" in failed.output


def test_assert_compiles_on_every_dialect(kpispec_project: Any) -> None:
    project = kpispec_project({"deals.yaml": DEALS}, packs=False)
    sql = assert_compiles_on_every_dialect(project, "revenue", by=["region"], grain="quarter")
    assert set(sql) == {"duckdb", "sqlite", "postgres", "mysql", "snowflake", "bigquery", "redshift",
                        "spark", "databricks", "trino", "clickhouse", "tsql", "oracle", "datafusion"}
    assert "DATE_TRUNC('QUARTER'" in sql["postgres"]
    median = kpispec_project({"deals.yaml": DEALS + """
  - name: median_deal
    type: simple
    measure: {model: deals, agg: median, expr: amount}
"""}, packs=False, name="median")
    with pytest.raises(AssertionError) as info:
        assert_compiles_on_every_dialect(median, ["median_deal"], dialects=["duckdb", "sqlite"])
    assert str(info.value).startswith("median_deal did not compile on 1 of 2 dialects:\n  sqlite: ")
    assert assert_compiles_on_every_dialect(project.root, ["revenue"], dialects=["duckdb"])


def test_only_plugins_and_assert_plugin_ok(fresh_plugins: None) -> None:
    with only_plugins("duckdb", "csv"):
        info = assert_plugin_ok("duckdb")
        assert info.registered == {"source": ["duckdb"]}
        assert set(plugins.get_registry().sinks) == {"csv"}
        with pytest.raises(AssertionError, match="plugin 'json' is blocked"):
            assert_plugin_ok("json")
    assert "json" in plugins.get_registry().sinks  # restored on the way out
    with pytest.raises(LookupError, match=r"plugin\(s\) 'kpispec_nope' not installed in this "
                                          r"environment: run `python -m pip install -e \.`"):
        with only_plugins("kpispec_nope"):
            pass
    with pytest.raises(AssertionError, match="plugin 'nope' is not loaded; loaded: "):
        assert_plugin_ok("nope")


def test_only_plugins_keeps_in_process_plugins(fresh_plugins: None,
                                               capturing_sink: CapturingSink) -> None:
    with only_plugins("csv"):
        assert set(plugins.get_registry().sinks) == {"csv", "capture"}
    assert {"capture", "json"} <= set(plugins.get_registry().sinks)


def test_registered_plugin_object(fresh_plugins: None, tmp_path: Path) -> None:
    sink = KitchenSink()
    with registered(sink, "kitchen") as name:
        assert name == "kitchen"
        assert assert_plugin_ok("kitchen").registered["metric type"] == ["share"]
    assert "kitchen" not in {i.name for i in plugins.plugin_infos()}
    with registered(CapturingSink()) as generated:
        assert generated.startswith("capture_")
        assert plugins.get_registry().sink_for("capture", None) is not None
