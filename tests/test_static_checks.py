"""Static checks as tests, so CI runs them: ruff on core, plugins and bench, mypy --strict on core
and the first-party plugins."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_ruff_is_clean() -> None:
    if shutil.which("ruff") is None:
        pytest.fail("ruff is not installed: it comes with the test extra")
    done = _run("ruff", "check", "core", "plugins", "bench")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_is_clean_on_core_and_plugins() -> None:
    # configured in pyproject.toml: strict, files = core/kpispec and plugins/kpispec_{builtins,crm}
    done = _run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr
