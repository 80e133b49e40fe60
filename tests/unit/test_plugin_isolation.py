"""Failure isolation: every way a plugin can break is one message naming the plugin and the
hook and saying what to do; the rest of kpispec keeps working; `kpispec plugins` shows it broken.

(The same, for plugins pip-installed and seen through the CLI: tests/plugins/test_broken_plugins.py.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlglot import exp

import kpispec
from kpispec import hookimpl, plugins
from kpispec.cli import main
from tests.unit.conftest import DEALS

FIX = "Fix or upgrade the plugin (see docs/plugin-hooks.md), or block it with --no-plugin bad"


def _source(**fields: Any) -> kpispec.SourceType:
    values: dict[str, Any] = {"name": "mine", "schemes": ("mine",), "dialect": "duckdb",
                              "connect": lambda url: None}
    return kpispec.SourceType(**{**values, **fields})


def _sink(**fields: Any) -> kpispec.SinkType:
    values: dict[str, Any] = {"name": "mine", "schemes": ("mine",), "open": lambda *a: None}
    return kpispec.SinkType(**{**values, **fields})


def _metric_type(schema: Any) -> kpispec.MetricType:
    return kpispec.MetricType(name="mine", schema=schema,
                              lower=lambda spec, ctx: kpispec.Lowered({}, exp.column("x")))


class _Registers:
    """A plugin whose one registration hook registers the given items."""

    def __init__(self, hook: str, *calls: tuple[Any, ...]) -> None:
        def implementation(register: Callable[..., None]) -> None:
            for args in calls:
                register(*args)

        setattr(self, hook, hookimpl(implementation, specname=hook))


def _problems(plugin: object) -> list[str]:
    plugins.register_plugin(plugin, "bad")
    registry = plugins.get_registry()
    return [str(p) for p in registry.problems if p.plugin == "bad"]


MALFORMED = [
    ("register_sources", ("postgresql://x",),
     "registered 'postgresql://x' (a str) where a kpispec.SourceType is expected"),
    ("register_sources", (_source(name="my-db"),),
     "registered a source named 'my-db'; a name is letters, digits and underscores, not starting "
     "with a digit"),
    ("register_sources", (_source(schemes="mine"),),
     "source 'mine' has schemes='mine'; give a tuple of strings"),
    ("register_sources", (_source(schemes=("Mine",)),),
     "source 'mine' has schemes=('Mine',); write them in lower case (kpispec matches them "
     "lower-cased)"),
    ("register_sources", (_source(schemes=()),),
     "source 'mine' has no URL schemes; give at least one, e.g. schemes=('mydb',)"),
    ("register_sources", (_source(dialect="hive"),),
     "source 'mine' has dialect='hive', which kpispec does not compile for (it does for duckdb, "),
    ("register_sources", (_source(connect="connect"),),
     "source 'mine' has connect='connect', which is not callable"),
    ("register_sinks", (_sink(schemes=()),),
     "sink 'mine' answers no scheme and no file extension; give schemes=(...) or "
     "extensions=('.ext',)"),
    ("register_sinks", (_sink(extensions=("md",)),),
     "sink 'mine' has extensions ['md'] without a leading dot; write e.g. '.md'"),
    ("register_lint_rules", (kpispec.LintRule(name="mine", check=None),),  # type: ignore[arg-type]
     "lint rule 'mine' has check=None, which is not callable"),
    ("register_metric_types", (_metric_type(["not", "a", "dict"]),),
     "metric type 'mine' has schema=['not', 'a', 'dict']; give a JSON Schema object (a dict)"),
    ("register_metric_types", (_metric_type({"properties": {"x": {"type": "strin"}}}),),
     "metric type 'mine' publishes an invalid schema fragment: 'strin' is not valid under any of "
     "the given schemas (at properties.x.type)"),
    ("register_metric_types", (_metric_type({"properties": {"x": {"$ref": "#/$defs/measur"}}}),),
     "metric type 'mine' publishes a schema fragment that refers to '#/$defs/measur', which the "
     "published schema does not define (use one of #/$defs/column, "),
    ("register_template_context", ("var", 1),
     "registered the template name 'var', which is kpispec's own var() function; choose another name"),
    ("register_template_context", ("has space", 1),
     "registered the template name 'has space'; a name is letters, digits and underscores"),
    ("register_spec_paths", ("/no/such/kpispec/dir",),
     "registered the spec path '/no/such/kpispec/dir', which is not a directory (is it shipped as "
     "package data?)"),
    ("register_sinks", (_sink(), "extra"),
     "called register() wrongly (",),
]


@pytest.mark.parametrize("hook, args, message", MALFORMED, ids=[m[2][:40] for m in MALFORMED])
def test_malformed_registration_is_named_and_skipped(fresh_plugins: None, hook: str,
                                                     args: tuple[Any, ...], message: str) -> None:
    problems = _problems(_Registers(hook, args))
    assert len(problems) == 1
    assert problems[0].startswith(f"plugin 'bad' in hook {hook}: {message}")
    if "wrongly" not in message:
        assert problems[0].endswith(f"; it is not used. {FIX}")
    assert plugins.get_registry().source_for_scheme("duckdb") is not None  # the rest works
    assert {i.name: i.status for i in plugins.plugin_infos()}["bad"] == "broken"
    assert "metric_mine" not in kpispec.published_schema()["$defs"]


def test_a_valid_item_next_to_a_malformed_one_is_kept(fresh_plugins: None) -> None:
    plugin = _Registers("register_sinks", (_sink(name="good", schemes=("good",)),),
                        (_sink(extensions=("md",)),))
    assert len(_problems(plugin)) == 1
    assert plugins.get_registry().sink_for("good", None) is not None


def test_hook_that_raises_registers_nothing(fresh_plugins: None) -> None:
    class HalfDone:
        @hookimpl
        def register_sinks(self, register: Callable[..., None]) -> None:
            register(_sink(name="half", schemes=("half",)))
            raise OSError("disk full")

    assert _problems(HalfDone()) == [
        "plugin 'bad' in hook register_sinks: raised OSError: disk full; nothing it registers "
        "there is used. Fix or upgrade the plugin, or block it with --no-plugin bad"]
    assert plugins.get_registry().sink_for("half", None) is None


def test_registration_hook_that_returns_a_list(fresh_plugins: None) -> None:
    class Returns:
        @hookimpl
        def register_sinks(self) -> list[kpispec.SinkType]:
            return [_sink()]

    assert _problems(Returns()) == [
        "plugin 'bad' in hook register_sinks: returned a list instead of calling register(); what "
        "it returned is not used. Call register(...) once per item and return nothing, or block "
        "the plugin with --no-plugin bad"]
    assert plugins.get_registry().sink_for("mine", None) is None


def test_same_name_twice_from_one_plugin(fresh_plugins: None) -> None:
    plugin = _Registers("register_lint_rules",
                        (kpispec.LintRule(name="mine", check=lambda p: ()),),
                        (kpispec.LintRule(name="mine", check=lambda p: ()),))
    assert _problems(plugin) == [
        "plugin 'bad' in hook register_lint_rules: lint rule 'mine' is registered twice by 'bad'; "
        "neither is used. Fix or upgrade the plugin, or block it with --no-plugin bad"]
    assert "mine" not in plugins.get_registry().lint_rules


def test_packs_one_plugin_several_directories_two_plugins_one_name(
        fresh_plugins: None, tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    plugins.register_plugin(_Registers("register_spec_paths", (tmp_path / "a", "shared"),
                                       (tmp_path / "b", "shared")), "first")
    assert [(Path(p).name, pack) for p, pack, _ in plugins.get_registry().spec_paths] == [
        ("a", "shared"), ("b", "shared")]
    plugins.register_plugin(_Registers("register_spec_paths", (tmp_path / "c", "shared")), "second")
    registry = plugins.get_registry()
    assert registry.spec_paths == []
    assert [str(p) for p in registry.problems] == [
        "plugin 'first' in hook register_spec_paths: spec path 'shared' is registered by both "
        "'first' and 'second'; neither is used until one of them is uninstalled or blocked "
        "(--no-plugin first or --no-plugin second)"]


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch, *extra: metadata.EntryPoint) -> None:
    real = metadata.entry_points

    def entry_points(**kwargs: Any) -> Any:
        found = list(real(**kwargs))
        return found + list(extra) if kwargs.get("group") == "kpispec" else found

    monkeypatch.setattr(plugins.metadata, "entry_points", entry_points)


class _Typo:
    @hookimpl
    def register_sink(self, register: Callable[..., None]) -> None:
        """Misspelt: kpispec's hook is register_sinks."""


class _ExtraParameter:
    @hookimpl
    def register_sinks(self, register: Callable[..., None], config: Any) -> None:
        """Takes a parameter the hook does not give."""


def test_unknown_hook_is_refused_and_the_rest_loads(fresh_plugins: None,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "kpispec_test_typo", _Typo())
    _fake_entry_points(monkeypatch, metadata.EntryPoint("typo", "kpispec_test_typo", "kpispec"))
    registry = plugins.get_registry()
    assert [str(p) for p in registry.problems] == [
        "plugin 'typo': not loaded: it implements 'register_sink' (did you mean "
        "'register_sinks'?), which is not a kpispec hook. Rename the function (the hooks are "
        "listed in docs/plugin-hooks.md), or block the plugin with --no-plugin typo"]
    assert "csv" in registry.sinks
    with pytest.raises(kpispec.PluginError, match="plugin 'typo2': not loaded: it implements "
                                                  "'register_sink'"):
        plugins.register_plugin(_Typo(), "typo2")


class _Wrapper:
    @hookimpl(wrapper=True)
    def modify_query(self, expression: exp.Expr) -> Any:
        return (yield)


def test_hook_wrappers_are_refused(fresh_plugins: None) -> None:
    with pytest.raises(kpispec.PluginError) as info:
        plugins.register_plugin(_Wrapper(), "wrapping")
    assert str(info.value) == (
        "plugin 'wrapping': not loaded: it implements modify_query as a hook wrapper, which "
        "kpispec does not support. Drop hookwrapper/wrapper from its @hookimpl, or block the "
        "plugin with --no-plugin wrapping")
    assert plugins.get_plugin_manager().hook.modify_query.get_hookimpls() == []


def test_hook_taking_an_unknown_parameter_is_refused(fresh_plugins: None) -> None:
    with pytest.raises(kpispec.PluginError) as info:
        plugins.register_plugin(_ExtraParameter(), "extra")
    message = str(info.value)
    assert message.startswith("plugin 'extra': not loaded: its hook implementation does not "
                              "match kpispec's hooks (")
    assert "config" in message and message.endswith(
        "An implementation may take only the hook's parameters; see docs/plugin-hooks.md, then "
        "fix or upgrade the plugin, or block it with --no-plugin extra")
    assert "extra" not in {i.name for i in plugins.plugin_infos()}


def test_lint_rule_that_raises_or_yields_garbage(fresh_plugins: None,
                                                 make_project: Callable[..., Path]) -> None:
    def crashes(project: Any) -> Any:
        yield kpispec.SpecError("first finding")
        raise ZeroDivisionError("division by zero")

    plugins.register_plugin(_Registers("register_lint_rules",
                                       (kpispec.LintRule(name="crashes", check=crashes),),
                                       (kpispec.LintRule(name="garbage", check=lambda p: [42]),)),
                            "bad")
    with pytest.raises(kpispec.SpecErrors) as info:
        kpispec.load_project(make_project({"s.yaml": DEALS}), packs=False)
    assert [e.render() for e in info.value.errors] == [
        "first finding",
        "plugin 'bad' in hook register_lint_rules: lint rule 'crashes' raised ZeroDivisionError: "
        "division by zero while checking the project (its other findings are kept); fix or "
        "upgrade the plugin, or block it with --no-plugin bad",
        "plugin 'bad' in hook register_lint_rules: lint rule 'garbage' yielded 42, not a "
        "kpispec.SpecError; fix or upgrade the plugin, or block it with --no-plugin bad",
    ]


class _BadRewrite:
    @hookimpl
    def modify_query(self, expression: exp.Expr) -> Any:
        return "SELECT 1"


def test_kpispec_plugins_probes_modify_query(fresh_plugins: None) -> None:
    plugins.register_plugin(_BadRewrite(), "rewriter")
    result = CliRunner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    info = {p["name"]: p for p in json.loads(result.output)}["rewriter"]
    assert info["status"] == "broken" and info["hooks"] == ["modify_query"]
    assert info["errors"] == [
        "plugin 'rewriter' in hook modify_query: returned str on a probe query (SELECT COUNT(*) "
        "FROM deals by month), not a sqlglot query expression, so every compilation fails while "
        "it is installed; fix or upgrade the plugin, or block it with --no-plugin rewriter"]
    table = CliRunner().invoke(main, ["plugins"])
    assert table.output.endswith(f"\n1 problem:\n- {info['errors'][0]}\n")
    assert "hook: modify_query" in table.output


def test_unknown_names_in_load_and_block_lists_are_warned_about(
        fresh_plugins: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPISPEC_LOAD_PLUGINS", "duckdb,jsno")
    result = CliRunner().invoke(main, ["--no-plugin", "sqllite", "plugins", "--json"])
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "warning: plugin 'jsno': KPISPEC_LOAD_PLUGINS names it, but no installed plugin is called "
        "'jsno'; did you mean 'json'?",
        "warning: plugin 'sqllite': --no-plugin (or KPISPEC_BLOCK_PLUGINS) names it, but no "
        "installed plugin is called 'sqllite'; did you mean 'sqlite'?"]


def test_trace_logs_hook_calls_from_the_command_line(fresh_plugins: None,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     make_project: Callable[..., Path]) -> None:
    monkeypatch.setenv("KPISPEC_TRACE_PLUGINS", "1")
    plugins.register_plugin(_Registers("register_sinks", (_sink(),)), "traced")
    result = CliRunner().invoke(main, ["compile", "revenue", "-p", str(make_project({"s.yaml": DEALS}))])
    assert result.exit_code == 0, result.output
    assert "[kpispec plugins] register_sinks -> traced\n" in result.stderr
    assert "[kpispec plugins] register_metric_types -> core_types\n" in result.stderr
