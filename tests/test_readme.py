"""The README's first screen stays true: its SQL is what kpispec prints today."""

from __future__ import annotations

import re
from pathlib import Path

import kpispec
import pytest
from kpispec._demo_command import demo_project_path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_sql_matches_compiler_output() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)\n```", text, flags=re.S)
    project = kpispec.load_project(demo_project_path(), packs=False)
    for dialect, block in zip(("postgres", "bigquery"), blocks, strict=True):
        sql = project.compile(["close_rate"], dialect=dialect, grain="quarter",
                              start="2024-01-01", end="2024-07-01").sql
        assert block == sql + ";", f"README's {dialect} SQL is stale; paste the new output"


def test_readme_set_up_commands_match_ci() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = 'python -m pip install -e ".[test]" && python -m pytest'
    assert test_command in text and test_command in ci
    assert "python -m pip install . && kpispec demo" in text


def _try_it_yourself() -> list[list[str]]:
    """The commands of the README's "Then try it yourself" block, continuation lines joined."""
    import shlex

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"Then try it yourself:\n\n```bash\n(.*?)\n```", text, flags=re.S)
    assert block, "README has no 'Then try it yourself' commands"
    return [shlex.split(line) for line in block.group(1).replace("\\\n", " ").splitlines()]


def test_readme_try_it_yourself_commands_work(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import csv

    from click.testing import CliRunner
    from kpispec import _demo
    from kpispec.cli import main

    commands = _try_it_yourself()
    assert [c[:2] for c in commands] == [["kpispec", "list"], ["kpispec", "run"]]
    (tmp_path / "specs").symlink_to(ROOT / "specs")  # the commands run in a clone's root
    _demo.write_duckdb(tmp_path / "kpispec-demo.duckdb", 300, seed=7)
    monkeypatch.chdir(tmp_path)
    for command in commands:
        result = CliRunner().invoke(main, command[1:])
        assert result.exit_code == 0, f"{' '.join(command)}\n{result.output}"
    listed = CliRunner().invoke(main, commands[0][1:]).output
    assert "Współczynnik zamknięcia" in listed  # --lang pl labels
    with open(tmp_path / "out.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["period", "source", "close_rate", "win_rate"]
    assert {r["period"] for r in rows} == {f"2024-{m:02d}-01" for m in range(1, 13)}
