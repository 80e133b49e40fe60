"""The plugin manager: every hook, isolation of broken plugins, duplicate names, env controls."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import duckdb
import pytest
from click.testing import CliRunner

import kpispec
from kpispec import hookimpl, plugins
from kpispec.cli import main
from tests.plugins.kitchen_sink import KitchenSink
from tests.unit.conftest import DEALS


@pytest.fixture
def sink_plugin(fresh_plugins: None, tmp_path: Path) -> Any:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "pack.yaml").write_text(
        "metrics:\n  - name: pack_deals\n    type: simple\n"
        "    measure: {model: deals, agg: count}\n", encoding="utf-8")
    plugin = KitchenSink(str(pack))
    plugins.register_plugin(plugin, "kitchen_sink")
    try:
        yield plugin
    finally:
        plugins.unregister_plugin("kitchen_sink")


def _db(tmp_path: Path) -> str:
    path = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE deals (deal_id INT, customer_id INT, created_at TIMESTAMP, "
                "closed_at TIMESTAMP, stage VARCHAR, amount DOUBLE, region VARCHAR)")
    con.execute("CREATE TABLE customers (customer_id INT, signed_up_at TIMESTAMP, segment VARCHAR)")
    con.executemany("INSERT INTO deals VALUES (?, ?, ?, ?, ?, ?, ?)", [
        (1, 1, "2024-01-03", "2024-01-20", "won", 100.0, "EMEA"),
        (2, 1, "2024-01-05", "2024-02-02", "won", 300.0, "NA"),
        (3, 2, "2024-01-09", "2024-02-10", "lost", 50.0, "NA"),
        (4, 2, "2024-02-01", None, "open", 70.0, "EMEA"),
    ])
    con.close()
    return f"duckdb:///{path}"


def test_builtins_come_through_entry_points(fresh_plugins: None) -> None:
    registry = plugins.get_registry()
    assert registry.sources["duckdb"].plugin == "duckdb"
    assert {"table", "csv", "json"} <= set(registry.sinks)
    assert {"simple", "ratio", "derived"} <= set(registry.metric_types)
    assert registry.metric_types["ratio"].plugin == "core_types"
    names = {info.name: info for info in plugins.plugin_infos()}
    assert names["duckdb"].registered == {"source": ["duckdb"]}
    assert names["duckdb"].module == "kpispec_builtins.duckdb_source"


def test_hook_register_metric_types(sink_plugin: KitchenSink, make_project: Callable[..., Path],
                                    tmp_path: Path) -> None:
    root = make_project({"specs.yaml": DEALS + """
  - name: won_share
    type: share
    model: deals
    where: "stage = 'won'"
"""})
    project = kpispec.load_project(root, packs=False)
    rows = project.run(["won_share"], source=_db(tmp_path), grain="month").to_pylist()
    # January: deals 1, 2, 3 created... placed by created_at: Jan has 3 rows, 2 won.
    assert [(r["period"].isoformat(), r["won_share"]) for r in rows] == [
        ("2024-01-01", pytest.approx(200 / 3)), ("2024-02-01", 0.0)]
    assert "metric_share" in kpispec.published_schema()["$defs"]


def test_hook_register_sources(sink_plugin: KitchenSink) -> None:
    source = plugins.get_registry().source_for_scheme("kitchen")
    assert source is not None and source.dialect == "duckdb"


def test_hook_register_sinks(sink_plugin: KitchenSink, make_project: Callable[..., Path],
                             tmp_path: Path) -> None:
    from kpispec.output import write_result

    project = kpispec.load_project(make_project({"s.yaml": DEALS}), packs=False)
    write_result(project, ["revenue"], source=_db(tmp_path), sinks=["capture:"],
                 options={"start": "2024-01-01", "end": "2024-03-01"})
    assert sink_plugin.collected[-1] == "closed"
    assert [(r["period"].isoformat(), r["revenue"]) for r in sink_plugin.collected[:-1]] == [
        ("2024-01-01", 100.0), ("2024-02-01", 300.0)]


def test_hook_register_spec_paths(sink_plugin: KitchenSink, make_project: Callable[..., Path]) -> None:
    assert "pack_deals" not in kpispec.load_project(make_project({"s.yaml": DEALS})).metrics
    project = kpispec.load_project(make_project({"s.yaml": DEALS,
                                                 "kpispec.yaml": "packs: [kitchen_pack]\n"}, "on"))
    assert project.metrics["pack_deals"].origin == "kitchen_pack"
    off = make_project({"s.yaml": DEALS, "kpispec.yaml": "packs: {kitchen_pack: false}\n"}, "off")
    assert "pack_deals" not in kpispec.load_project(off).metrics


def test_project_metric_overrides_pack(sink_plugin: KitchenSink,
                                       make_project: Callable[..., Path]) -> None:
    root = make_project({"s.yaml": DEALS + """
  - name: pack_deals
    type: simple
    measure: {model: deals, agg: count, filter: "stage = 'won'"}
""", "kpispec.yaml": "packs: [kitchen_pack]\n"})
    project = kpispec.load_project(root)
    assert project.metrics["pack_deals"].origin == "project"
    assert project.overrides["pack_deals"] == ["kitchen_pack"]


def test_hook_register_template_context(sink_plugin: KitchenSink,
                                        make_project: Callable[..., Path]) -> None:
    root = make_project({"s.yaml": DEALS.replace("filter: \"stage = 'won'\", time: closed_at}",
                                                 "filter: \"stage = '{{ won_stage }}'\", time: closed_at}")})
    project = kpispec.load_project(root, packs=False)
    assert project.metrics["deals_won"].measures["value"].filter.sql() == "stage = 'won'"


def test_hook_register_lint_rules(sink_plugin: KitchenSink, make_project: Callable[..., Path]) -> None:
    root = make_project({"s.yaml": DEALS + """
  - name: tmp_check
    type: simple
    measure: {model: deals, agg: count}
"""})
    with pytest.raises(kpispec.SpecErrors) as info:
        kpispec.load_project(root, packs=False)
    assert "s.yaml:28:5: metrics[3]: metric 'tmp_check' looks temporary. Rename it" in str(info.value)


def test_hook_modify_query(sink_plugin: KitchenSink, make_project: Callable[..., Path]) -> None:
    project = kpispec.load_project(make_project({"s.yaml": DEALS}), packs=False)
    sql = project.compile(["revenue"], dialect="postgres").sql
    assert sql.rstrip().endswith("LIMIT 1000")
    assert "modify_query" in sink_plugin.calls


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch, extra: list[metadata.EntryPoint]) -> None:
    real = metadata.entry_points

    def entry_points(**kwargs: Any) -> Any:
        found = list(real(**kwargs))
        return found + extra if kwargs.get("group") == "kpispec" else found

    monkeypatch.setattr(plugins.metadata, "entry_points", entry_points)


def test_plugin_that_fails_to_import_is_named_and_others_work(
        fresh_plugins: None, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_entry_points(monkeypatch, [metadata.EntryPoint(
        name="broken_pack", value="kpispec_no_such_module_xyz", group="kpispec")])
    registry = plugins.get_registry()
    assert "duckdb" in registry.sources  # the others keep working
    messages = [str(p) for p in registry.problems]
    assert messages == [
        "plugin 'broken_pack': failed to import 'kpispec_no_such_module_xyz' (ModuleNotFoundError: "
        "No module named 'kpispec_no_such_module_xyz'); kpispec goes on without it. Reinstall or "
        "upgrade the package that provides it, or block it with --no-plugin broken_pack"]
    info = {i.name: i for i in plugins.plugin_infos()}["broken_pack"]
    assert info.status == "broken"


class _RaisingPlugin:
    @hookimpl
    def register_sinks(self, register: Callable[..., None]) -> None:
        raise RuntimeError("config file missing")


class _DuplicateSource:
    @hookimpl
    def register_sources(self, register: Callable[..., None]) -> None:
        register(kpispec.SourceType(name="duckdb", schemes=("duckdb2",), dialect="duckdb",
                                    connect=lambda url: None))  # type: ignore[arg-type,return-value]


def test_hook_that_raises_is_isolated(fresh_plugins: None) -> None:
    plugins.register_plugin(_RaisingPlugin(), "raiser")
    registry = plugins.get_registry()
    assert [str(p) for p in registry.problems] == [
        "plugin 'raiser' in hook register_sinks: raised RuntimeError: config file missing; nothing "
        "it registers there is used. Fix or upgrade the plugin, or block it with --no-plugin raiser"]
    assert "csv" in registry.sinks


def test_duplicate_name_names_both_plugins(fresh_plugins: None) -> None:
    plugins.register_plugin(_DuplicateSource(), "other_duckdb")
    registry = plugins.get_registry()
    assert [str(p) for p in registry.problems] == [
        "plugin 'other_duckdb' in hook register_sources: source 'duckdb' is registered by both "
        "'duckdb' and 'other_duckdb'; neither is used until one of them is uninstalled or "
        "blocked (--no-plugin other_duckdb or --no-plugin duckdb)"]
    assert "duckdb" not in registry.sources


def test_load_plugins_env_limits_and_no_plugin_blocks(fresh_plugins: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPISPEC_LOAD_PLUGINS", "duckdb,csv")
    registry = plugins.get_registry()
    assert set(registry.sinks) == {"csv"}
    plugins.reset()
    monkeypatch.delenv("KPISPEC_LOAD_PLUGINS")
    result = CliRunner().invoke(main, ["--no-plugin", "json", "plugins", "--json"])
    assert result.exit_code == 0, result.output
    status = {p["name"]: p["status"] for p in json.loads(result.output)}
    assert status["json"] == "blocked" and status["csv"] == "ok"
    plugins.reset()
    monkeypatch.delenv("KPISPEC_BLOCK_PLUGINS", raising=False)
    refused = CliRunner().invoke(main, ["--no-plugin", "core_types", "plugins"])
    assert refused.exit_code == 1 and "kpispec cannot work without it" in refused.output


def test_trace_plugins_logs_hook_calls(fresh_plugins: None, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KPISPEC_TRACE_PLUGINS", "1")
    plugins.get_registry()  # registration calls each implementation through call_impl
    assert "[kpispec plugins] register_sinks -> csv" in capsys.readouterr().err


def test_conflicting_source_is_named_when_used(fresh_plugins: None) -> None:
    plugins.register_plugin(_DuplicateSource(), "other_duckdb")
    registry = plugins.get_registry()
    with pytest.raises(kpispec.PluginError) as info:
        registry.source_for_scheme("duckdb")
    assert ("the source for scheme 'duckdb' is 'duckdb', registered by both 'duckdb' and "
            "'other_duckdb'") in str(info.value)
    status = {i.name: i for i in plugins.plugin_infos()}
    assert status["duckdb"].status == "broken" and status["other_duckdb"].status == "broken"
    assert "source" not in status["duckdb"].registered
