"""Shell completion (click's): metric names and --by dimensions come from the project given by
-p or the current directory, and a project that does not load completes nothing, silently."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from kpispec.cli import main

from tests.unit.conftest import DEALS


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    return make_project({"specs.yaml": DEALS})


def complete(words: str, shell: str = "bash") -> tuple[list[str], str]:
    """Ask for completions of the last word of ``words`` as the shell would; (items, stderr)."""
    parts = words.split(" ")
    env = {"_KPISPEC_COMPLETE": f"{shell}_complete", "COMP_WORDS": words,
           "COMP_CWORD": str(len(parts) - 1)}
    result = CliRunner().invoke(main, [], env=env, prog_name="kpispec")
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines(), result.stderr


def test_metric_names_complete_from_dash_p(project: Path) -> None:
    items, err = complete(f"kpispec run -p {project} re")
    assert items == ["plain,revenue"] and err == ""
    items, _ = complete(f"kpispec compile -p {project} ")
    assert items == ["plain,avg_deal", "plain,deals_won", "plain,revenue"]
    items, _ = complete(f"kpispec dimensions revenue -p {project} ")  # given ones left out
    assert items == ["plain,avg_deal", "plain,deals_won"]


def test_zsh_gets_the_label_as_help(make_project: Callable[..., Path]) -> None:
    root = make_project({"specs.yaml": DEALS.replace(
        "  - name: revenue\n", "  - name: revenue\n    label: {en: Won revenue}\n")})
    items, _ = complete(f"kpispec run -p {root} rev", shell="zsh")
    assert items == ["plain", "revenue", "Won revenue"]


def test_dimensions_complete_for_the_metrics_given(project: Path) -> None:
    items, _ = complete(f"kpispec run revenue -p {project} --by ")
    assert items == ["plain,region", "plain,stage", "plain,segment"]
    items, _ = complete(f"kpispec run revenue -p {project} --by region --by s")
    assert items == ["plain,stage", "plain,segment"]
    # Before any metric: every dimension of every model, plain and qualified.
    items, _ = complete(f"kpispec compile -p {project} --by ")
    assert items == [f"plain,{n}" for n in ("region", "segment", "stage", "customers.segment",
                                            "deals.region", "deals.stage")]


def test_the_current_directory_is_the_default_project(project: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    items, _ = complete("kpispec run deals")
    assert items == ["plain,deals_won"]


def test_a_broken_project_completes_nothing_and_says_nothing(make_project: Callable[..., Path]
                                                             ) -> None:
    broken = make_project({"specs.yaml": "metrics: [\n"}, "broken")
    for words in (f"kpispec run -p {broken} re", f"kpispec run -p {broken} --by ",
                  "kpispec run -p /no/such/project re"):
        items, err = complete(words)
        assert items in ([], [""]) and err == ""  # click prints an empty line for no items


def test_the_installed_command_completes(project: Path) -> None:
    env = {**os.environ, "_KPISPEC_COMPLETE": "bash_complete",
           "COMP_WORDS": f"kpispec run -p {project} deals_", "COMP_CWORD": "4"}
    result = subprocess.run(["kpispec"], env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, "plain,deals_won\n", "")
    script = subprocess.run(["kpispec"], env={**os.environ, "_KPISPEC_COMPLETE": "bash_source"},
                            capture_output=True, text=True, timeout=60, check=False)
    assert "_kpispec_completion()" in script.stdout and "complete -o nosort" in script.stdout
