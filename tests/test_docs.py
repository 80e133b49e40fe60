"""The docs cannot rot: generated pages are current, hooks and commands are documented,
every complete YAML example validates, and every example plugin registers cleanly."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import kpispec
import pytest
from kpispec import hookspecs, plugins

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))


def _load_gen_reference() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("kpispec_docs_gen_reference",
                                                  DOCS / "gen_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


gen = _load_gen_reference()


@pytest.fixture
def first_party_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only kpispec's own plugins, whatever else is installed; restored afterwards."""
    from importlib import metadata

    names = sorted(ep.name for ep in metadata.distribution("kpispec").entry_points
                   if ep.group == "kpispec")
    monkeypatch.setenv("KPISPEC_LOAD_PLUGINS", ",".join(names))
    monkeypatch.delenv("KPISPEC_BLOCK_PLUGINS", raising=False)
    monkeypatch.delenv("KPISPEC_TRACE_PLUGINS", raising=False)
    plugins.reset()
    yield
    plugins.reset()


# (1) generated pages are up to date ------------------------------------------------------


def test_generated_pages_are_up_to_date() -> None:
    result = subprocess.run([sys.executable, str(DOCS / "gen_reference.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT, timeout=300,
                            check=False)
    assert result.returncode == 0, (
        "docs are stale; run `python docs/gen_reference.py` and review the diff\n"
        f"{result.stdout}\n{result.stderr}")


def test_spec_reference_has_every_definition(first_party_plugins: None) -> None:
    text = (DOCS / "spec_reference.md").read_text(encoding="utf-8")
    schema = kpispec.published_schema()
    for name in schema["$defs"]:
        assert re.search(rf"^## {re.escape(name)}$", text, re.MULTILINE), f"no section for $defs/{name}"
    assert any(name.startswith("metric_") for name in schema["$defs"])


# (2) every hookspec is documented with its exact signature -------------------------------


def _hookspecs() -> dict[str, list[str]]:
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    found = {}
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        if getattr(fn, marker, None) is not None:
            found[name] = list(inspect.signature(fn).parameters)
    return found


def test_every_hook_has_a_section_with_its_signature() -> None:
    specs = _hookspecs()
    assert len(specs) >= 7, specs
    text = (DOCS / "plugin-hooks.md").read_text(encoding="utf-8")
    headings = {m.group(1): m.group(2) for m in
                re.finditer(r"^## (\w+)\(([^)]*)\)\s*$", text, re.MULTILINE)}
    for name, parameters in specs.items():
        assert name in headings, f"plugin-hooks.md has no '## {name}(...)' section"
        documented = [p.strip() for p in headings[name].split(",") if p.strip()]
        assert documented == parameters, (
            f"'## {name}({headings[name]})' does not match the hookspec "
            f"{name}({', '.join(parameters)})")
    unknown = sorted(set(headings) - set(specs))
    assert not unknown, f"plugin-hooks.md documents hooks that do not exist: {unknown}"


# (3) every CLI command is documented and has help ----------------------------------------


def test_every_command_is_in_the_cli_reference_with_help() -> None:
    text = (DOCS / "cli_reference.md").read_text(encoding="utf-8")
    commands = gen.commands()
    assert commands
    for path, command in commands:
        title = " ".join(path)
        assert re.search(rf"^## kpispec {re.escape(title)}$", text, re.MULTILINE), (
            f"cli_reference.md has no section for 'kpispec {title}'")
        assert (command.help or "").strip(), f"'kpispec {title}' has no help text"
        assert (command.get_short_help_str() or "").strip()
        for param in command.params:
            if isinstance(param, click.Option) and "--help" not in param.opts:
                assert (param.help or "").strip(), (
                    f"option {'/'.join(param.opts)} of 'kpispec {title}' has no help text")


# (4) every complete YAML example validates ----------------------------------------------


def _complete_projects() -> list[tuple[str, list[Any]]]:
    found = []
    for page in PAGES:
        for blocks in gen.example_projects(page).values():
            found.append((f"{page.name}:{blocks[0].line}", blocks))
    return found


COMPLETE = _complete_projects()


def test_examples_are_marked() -> None:
    assert len(COMPLETE) >= 8, "the docs should keep their complete, tested YAML examples"
    for page in PAGES:
        for example in gen.examples(page):
            assert example.kind in ("complete", "plugin"), (
                f"{page.name}:{example.line}: unknown example kind {example.kind!r}")


@pytest.mark.parametrize("where, blocks", COMPLETE, ids=[w for w, _ in COMPLETE])
def test_complete_yaml_example_validates(where: str, blocks: list[Any], tmp_path: Path,
                                         first_party_plugins: None) -> None:
    project_dir = gen.write_project(blocks, tmp_path / "project")
    try:
        project = kpispec.load_project(project_dir)  # packs only where the example lists them
    except kpispec.SpecError as exc:
        pytest.fail(f"docs example at {where} does not validate:\n{exc}")
    if any("metrics:" in b.text or "models:" in b.text for b in blocks):
        assert project.models or project.metrics, f"{where}: the example defines nothing"


# (4b) every example plugin registers cleanly ---------------------------------------------


def _plugin_examples() -> list[tuple[str, str]]:
    pattern = re.compile(r"^```python\n(# example: plugin\n.*?)^```", re.MULTILINE | re.DOTALL)
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{page.name}:{line}", match.group(1)))
    return found


PLUGINS = _plugin_examples()


def test_every_hook_has_an_example_plugin() -> None:
    for name in _hookspecs():
        assert any(re.search(rf"^def {name}\(", code, re.MULTILINE) for _, code in PLUGINS), (
            f"no '# example: plugin' block implements {name}")


@pytest.mark.parametrize("where, code", PLUGINS, ids=[w for w, _ in PLUGINS])
def test_example_plugin_registers_cleanly(where: str, code: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPISPEC_LOAD_PLUGINS", "")  # core's metric types only
    monkeypatch.delenv("KPISPEC_BLOCK_PLUGINS", raising=False)
    plugins.reset()
    name = "docs_example"
    module = types.ModuleType(name)
    module.__file__ = str(tmp_path / "docs_example.py")
    (tmp_path / "specs").mkdir()  # a pack's directory next to the module, as a package ships it
    try:
        exec(compile(code, where, "exec"), module.__dict__)  # noqa: S102 - the docs' own code
        plugins.register_plugin(module, name)
        registry = plugins.get_registry()
        problems = [str(p) for p in registry.problems if getattr(p, "plugin", "") == name]
        assert not problems, f"{where}: {problems}"
        info = next(i for i in plugins.plugin_infos() if i.name == name)
        assert info.status == "ok", f"{where}: {info.error}"
        if "def modify_query(" in code:
            import sqlglot

            impl = next(i for i in plugins.get_plugin_manager().hook.modify_query.get_hookimpls()
                        if i.plugin_name == name)
            tree = sqlglot.parse_one("SELECT COUNT(*) AS n FROM deals AS deals")
            context = kpispec.QueryContext(("deals_won",), (), "month", None, None, "duckdb")
            result = plugins.call_impl(impl, expression=tree, dialect="duckdb", context=context)
            assert isinstance(result if result is not None else tree, sqlglot.exp.Query)
        else:
            assert info.registered, f"{where}: the example plugin registered nothing"
    finally:
        plugins.reset()


# (5) the public API ----------------------------------------------------------------------


def test_public_api_is_sorted_and_importable() -> None:
    names = list(kpispec.__all__)
    assert names == sorted(names), "kpispec.__all__ is not sorted"
    assert len(names) == len(set(names)), "kpispec.__all__ names something twice"
    fresh = importlib.import_module("kpispec")
    for name in names:
        assert hasattr(fresh, name), f"kpispec.{name} is in __all__ but not importable"
        namespace: dict[str, Any] = {}
        exec(f"from kpispec import {name}", namespace)  # noqa: S102 - fixed names only
        assert namespace[name] is getattr(fresh, name)


# (6) shown output is real output --------------------------------------------------------


def test_getting_started_demo_output_is_what_the_demo_prints(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """The page's `kpispec demo` output (its first rows, up to the `…`) is what the demo prints."""
    from click.testing import CliRunner
    from kpispec.cli import main

    text = (DOCS / "getting_started.md").read_text(encoding="utf-8")
    block = re.search(r"```console\n\$ kpispec demo\n```\n.*?```text\n(.*?)\n```", text, re.S)
    assert block, "getting_started.md has no output block after `$ kpispec demo`"
    shown = block.group(1).splitlines()
    assert shown[-1] == "…"
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    printed = [re.sub(r", [\d.]+ s\)", ", 1.2 s)", line) for line in result.stderr.splitlines()]
    printed = [line.replace(str(Path(ROOT, "specs", "examples", "demo")),
                            "…/specs/examples/demo") for line in printed]
    printed += result.stdout.splitlines()
    assert shown[:-1] == printed[:len(shown) - 1]


def test_getting_started_says_fourteen_dialects() -> None:
    from kpispec.compile import dialects

    text = (DOCS / "getting_started.md").read_text(encoding="utf-8")
    counts = {int(n) for n in re.findall(r"\[(\d+) dialects\]", text)}
    assert counts == {len(dialects.DIALECTS)} == {14}
