"""What a fresh machine gets: the dependency ranges, the checker pins and CI's own environment.

A new machine installs the newest release each range allows, so an open-ended range
is an untested one; checkers (mypy, ruff, stub packages) report differently from one
release to the next, so they are pinned exactly and moving them is one edit.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CHECKERS = {"mypy", "ruff"}


def _requirements() -> list[str]:
    project = PYPROJECT["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    return [*project["dependencies"], *extras]


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert match, requirement
    return match.group(0).lower()


def test_checkers_and_stubs_are_pinned_exactly() -> None:
    pinned = {_name(r): r for r in _requirements()
              if _name(r) in CHECKERS or _name(r).startswith("types-")}
    assert CHECKERS <= set(pinned), f"checkers missing from the test extra: {CHECKERS - set(pinned)}"
    loose = [r for r in pinned.values() if not re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", r)]
    assert not loose, f"pin these exactly (name==version): {loose}"


def test_every_other_dependency_has_a_tested_range() -> None:
    """A lower bound and an upper bound (the next major above the release tested)."""
    open_ended = [r for r in _requirements()
                  if not r.startswith("kpispec[") and "==" not in r
                  and not ("<" in r and ">=" in r)]
    assert not open_ended, f"give these a tested range (>=low,<high): {open_ended}"


def test_ci_installs_into_a_fresh_environment_of_its_own() -> None:
    """.ci/run removes and recreates its virtual environment, activates it, and only
    then runs the README's test command, so nothing the machine already has can hide a
    missing install step."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = 'python -m pip install -e ".[test]" && python -m pytest'
    assert command in readme
    lines = [line.strip() for line in ci.splitlines()]
    steps = [next(i for i, line in enumerate(lines) if line.startswith(prefix))
             for prefix in ('rm -rf "$venv"', 'python3 -m venv "$venv"', '. "$venv/bin/activate"',
                            command)]
    assert steps == sorted(steps), "fresh venv, activate, then the README's command"
    assert lines[-1] == command, "the README's command is the last step (its exit code is CI's)"
    assert "set -euo pipefail" in ci


def test_the_suite_runs_on_every_core_by_default() -> None:
    """A bare `python -m pytest` (the README's command) uses the machine's cores."""
    addopts = PYPROJECT["tool"]["pytest"]["ini_options"]["addopts"].split()
    assert "-n" in addopts and addopts[addopts.index("-n") + 1] == "auto"
