"""The README's first screen stays true: its SQL is what kpispec prints today."""

from __future__ import annotations

import re
from pathlib import Path

import kpispec
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
