"""Deliberately broken plugins (tests/plugins/broken), pip-installed: each is named in one
clear message, shown as broken by `kpispec plugins`, and kpispec works on without it."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.plugins.environment import PluginEnv
from tests.unit.conftest import DEALS

BROKEN = Path(__file__).resolve().parent / "broken"

MESSAGES = {
    "broken_duplicate": [
        "plugin 'broken_duplicate' in hook register_sinks: sink 'csv' is registered by both "
        "'broken_duplicate' and 'csv'; neither is used until one of them is uninstalled or blocked "
        "(--no-plugin broken_duplicate or --no-plugin csv)"],
    "broken_hook": [
        "plugin 'broken_hook' in hook register_sinks: raised RuntimeError: cannot read "
        "~/.kpispec-broken.toml; nothing it registers there is used. Fix or upgrade the plugin, "
        "or block it with --no-plugin broken_hook"],
    "broken_import": [
        "plugin 'broken_import': failed to import 'kpispec_broken.import_error' "
        "(ModuleNotFoundError: No module named 'kpispec_this_module_does_not_exist'); kpispec "
        "goes on without it. Reinstall or upgrade kpispec-broken-plugins 0.1.0, or block it with "
        "--no-plugin broken_import"],
    "broken_malformed": [
        "plugin 'broken_malformed' in hook register_sources: registered 'postgresql://warehouse' "
        "(a str) where a kpispec.SourceType is expected; it is not used. Fix or upgrade the "
        "plugin (see docs/plugin-hooks.md), or block it with --no-plugin broken_malformed",
        "plugin 'broken_malformed' in hook register_sources: returned a list instead of calling "
        "register(); what it returned is not used. Call register(...) once per item and return "
        "nothing, or block the plugin with --no-plugin broken_malformed"],
    "broken_query": [
        "plugin 'broken_query' in hook modify_query: raised KeyError: 'tenant_id' on a probe "
        "query (SELECT COUNT(*) FROM deals by month), so every compilation fails while it is "
        "installed; fix or upgrade the plugin, or block it with --no-plugin broken_query"],
    "broken_schema": [
        "plugin 'broken_schema' in hook register_metric_types: metric type 'broken_score' "
        "publishes an invalid schema fragment: 'strin' is not valid under any of the given "
        "schemas (at properties.score.type); it is not used. Fix or upgrade the plugin (see "
        "docs/plugin-hooks.md), or block it with --no-plugin broken_schema"],
    "broken_typo": [
        "plugin 'broken_typo': not loaded: it implements 'register_source' (did you mean "
        "'register_sources'?), which is not a kpispec hook. Rename the function (the hooks are "
        "listed in docs/plugin-hooks.md), or block the plugin with --no-plugin broken_typo"],
}
#: What a project command warns about: everything but modify_query (only seen when compiling).
WARNINGS = [m for name, ms in sorted(MESSAGES.items()) if name != "broken_query" for m in ms]


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> PluginEnv:
    env = PluginEnv(tmp_path_factory.mktemp("broken-env"))
    env.pip_install(BROKEN)
    return env


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("project")
    (root / "specs.yaml").write_text(DEALS, encoding="utf-8")
    (root / "kpispec.yaml").write_text("packs: {crm: false}\n", encoding="utf-8")
    path = root / "crm.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE deals (deal_id INT, customer_id INT, created_at TIMESTAMP, "
                "closed_at TIMESTAMP, stage VARCHAR, amount DOUBLE, region VARCHAR)")
    con.execute("CREATE TABLE customers (customer_id INT, signed_up_at TIMESTAMP, segment VARCHAR)")
    con.execute("INSERT INTO deals VALUES (1, 1, '2024-01-03', '2024-01-20', 'won', 100.0, 'EMEA')")
    con.close()
    return root, f"duckdb:///{path}"


def test_kpispec_plugins_names_each_broken_plugin(broken: PluginEnv) -> None:
    done = broken.kpispec("plugins", "--json")
    assert done.returncode == 0, done.stderr
    infos = {p["name"]: p for p in json.loads(done.stdout)}
    for name, messages in MESSAGES.items():
        assert infos[name]["status"] == "broken", name
        assert infos[name]["errors"] == messages
        assert infos[name]["distribution"] == "kpispec-broken-plugins"
    assert infos["csv"]["status"] == "broken"  # its name is taken twice: neither sink is used
    assert infos["csv"]["errors"] == MESSAGES["broken_duplicate"]
    assert {name for name, info in infos.items() if info["status"] == "ok"} >= {
        "core_types", "duckdb", "json", "table", "crm", "crm_nps"}
    table = broken.kpispec("plugins")
    problems = table.stdout.split("\n\n", 1)[1]
    assert problems.splitlines() == [
        "8 problems:", *(f"- {m}" for name in sorted(MESSAGES) for m in MESSAGES[name])]


def test_project_commands_warn_and_work_on(broken: PluginEnv, project: tuple[Path, str]) -> None:
    root, _ = project
    done = broken.kpispec("validate", str(root))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: 2 models, 3 metrics")
    assert sorted(done.stderr.splitlines()) == [f"warning: {m}" for m in WARNINGS]


def test_failing_modify_query_is_named_when_compiling(broken: PluginEnv,
                                                      project: tuple[Path, str]) -> None:
    root, _ = project
    done = broken.kpispec("compile", "revenue", "-p", str(root))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "error: plugin 'broken_query' in hook modify_query: raised KeyError: 'tenant_id'. "
        "Fix or upgrade the plugin, or run without it: --no-plugin broken_query")
    assert "Traceback" not in done.stderr
    unblocked = broken.kpispec("--no-plugin", "broken_query", "compile", "revenue", "-p", str(root))
    assert unblocked.returncode == 0, unblocked.stderr
    assert unblocked.stdout.startswith("WITH deals_by_closed_at AS")


def test_duplicate_sink_name_is_refused_until_one_is_blocked(
        broken: PluginEnv, project: tuple[Path, str], tmp_path: Path) -> None:
    root, source = project
    args = ["run", "revenue", "-p", str(root), "--source", source, "--from", "2024-01-01",
            "--to", "2024-02-01"]
    done = broken.kpispec("--no-plugin", "broken_query", *args, "--sink", str(tmp_path / "a.csv"))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "error: plugin 'csv': the sink for extension '.csv' is 'csv', registered by both "
        "'broken_duplicate' and 'csv'; uninstall one or block it with --no-plugin")
    ok = broken.kpispec("--no-plugin", "broken_query", "--no-plugin", "broken_duplicate", *args,
                        "--sink", str(tmp_path / "b.csv"))
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "b.csv").read_text(encoding="utf-8") == "period,revenue\n2024-01-01,100.0\n"
