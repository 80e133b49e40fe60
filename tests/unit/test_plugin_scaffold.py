"""kpispec._scaffold and the `kpispec new-plugin` command (installing the result and running
its tests is tests/plugins/test_new_plugin.py)."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest
from click.testing import CliRunner

from kpispec import KpispecError, _scaffold
from kpispec.cli import main


def test_names_derive_from_the_one_given() -> None:
    names = _scaffold.plugin_names("Acme-Sales")
    assert names == _scaffold.PluginNames("acme_sales", "kpispec_acme_sales", "kpispec-acme-sales",
                                          "acme_sales_difference")
    assert _scaffold.plugin_names("kpispec_acme") == _scaffold.plugin_names("acme")
    assert doctest.testmod(_scaffold).failed == 0


@pytest.mark.parametrize("name", ["9lives", "acme sales", "", "ac.me", "kpispec-"])
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(KpispecError, match="cannot name a plugin: use lower-case letters"):
        _scaffold.plugin_names(name)


def test_generated_package(tmp_path: Path) -> None:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    written = _scaffold.create_plugin("acme", tmp_path / "acme", author='Ada "the first"')
    assert sorted(str(p.relative_to(tmp_path / "acme")) for p in written) == [
        "README.md", "kpispec_acme/__init__.py", "kpispec_acme/py.typed", "pyproject.toml",
        "tests/conftest.py", "tests/test_kpispec_acme.py"]
    project = tomllib.loads((tmp_path / "acme" / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "kpispec-acme"
    assert project["project"]["authors"] == [{"name": 'Ada "the first"'}]
    assert project["project"]["entry-points"]["kpispec"] == {"acme": "kpispec_acme"}
    assert project["project"]["dependencies"] == ["kpispec>=0.1"]
    for file in written:
        if file.suffix == ".py":
            compile(file.read_text(encoding="utf-8"), str(file), "exec")
    hooks = (tmp_path / "acme" / "kpispec_acme" / "__init__.py").read_text(encoding="utf-8")
    assert 'name="acme_difference"' in hooks and '{"$ref": "#/$defs/measure"' in hooks


def test_refuses_a_taken_name_or_a_non_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(KpispecError, match="plugin name 'duckdb' is already taken by the "
                                           "installed package 'kpispec'; choose another name"):
        _scaffold.create_plugin("duckdb", tmp_path / "x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(KpispecError, match="already exists and is not an empty directory"):
        _scaffold.create_plugin("acme", tmp_path / "full")
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]


def test_new_plugin_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["new-plugin", "acme"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"created {tmp_path / 'kpispec-acme'}:"
    assert (tmp_path / "kpispec-acme" / "tests" / "test_kpispec_acme.py").is_file()
    again = CliRunner().invoke(main, ["new-plugin", "acme"])
    assert again.exit_code == 1
    assert "already exists and is not an empty directory" in again.output
    bad = CliRunner().invoke(main, ["new-plugin", "Bad Name"])
    assert bad.exit_code == 1 and "error: 'Bad Name' cannot name a plugin" in bad.output
