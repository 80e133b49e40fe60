"""Every command that reads a project takes it as ``-p/--project PATH`` (default: the current
directory); ``validate`` and ``list`` also keep the positional ``PATH``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from kpispec.cli import main

from tests.unit.conftest import DEALS

READS_A_PROJECT = ["validate", "list", "dimensions", "compile", "run"]


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    return make_project({"specs.yaml": DEALS})


@pytest.mark.parametrize("command", READS_A_PROJECT)
def test_every_project_command_takes_dash_p(command: str) -> None:
    params = {p.name: p for p in main.commands[command].params}
    option = params["path"]
    assert isinstance(option, click.Option)
    assert option.opts == ["--project", "-p"] and option.default == "."


@pytest.mark.parametrize("args", [["validate", "-p"], ["validate", "--project"], ["validate"]])
def test_validate_takes_the_project_either_way(project: Path, args: list[str]) -> None:
    result = CliRunner().invoke(main, [*args, str(project)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 2 models, 3 metrics in 1 files")


def test_list_dash_p_with_lang(project: Path) -> None:
    # The README's `kpispec list -p specs/examples/demo --lang pl` failed: No such option '-p'.
    by_option = CliRunner().invoke(main, ["list", "-p", str(project), "--lang", "pl", "--json"])
    by_argument = CliRunner().invoke(main, ["list", str(project), "--lang", "pl", "--json"])
    assert by_option.exit_code == 0, by_option.output
    assert by_option.output == by_argument.output
    assert [r["name"] for r in json.loads(by_option.output)] == ["avg_deal", "deals_won", "revenue"]


def test_project_defaults_to_the_current_directory(project: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["dimensions", "revenue"])
    assert result.exit_code == 0, result.output
    assert [line.split()[1] for line in result.output.splitlines()[1:]] == [
        "region", "stage", "segment"]


def test_two_different_projects_are_refused(project: Path, make_project: Callable[..., Path]
                                            ) -> None:
    other = make_project({"specs.yaml": DEALS}, "other")
    result = CliRunner().invoke(main, ["list", str(project), "-p", str(other)])
    assert result.exit_code == 1
    assert f"the project is given twice: -p {other} and {project}; give it once, as -p PATH" \
        in result.output
    same = CliRunner().invoke(main, ["validate", str(project), "-p", str(project)])
    assert same.exit_code == 0, same.output
