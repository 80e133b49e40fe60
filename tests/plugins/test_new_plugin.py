"""`kpispec new-plugin NAME` scaffolds a package that, pip-installed, passes its own tests."""

from __future__ import annotations

import json
from pathlib import Path

from tests.plugins.environment import PluginEnv


def test_scaffold_installs_and_passes_its_own_tests(tmp_path: Path) -> None:
    env = PluginEnv(tmp_path / "env")
    created = env.kpispec("new-plugin", "acme-sales", "--dir", str(tmp_path / "acme"),
                          "--author", "Ada")
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "acme" / "kpispec_acme_sales" / "__init__.py").is_file()
    env.pip_install(tmp_path / "acme")

    # Its tests, against the installed package (not the directory it was generated in).
    where = env.run_python("-c", "import kpispec_acme_sales; print(kpispec_acme_sales.__file__)",
                           cwd=env.work)
    assert Path(where.stdout.strip()).is_relative_to(env.venv)
    tests = env.run_python("-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(tmp_path / "acme"), cwd=env.work, check=False)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "4 passed" in tests.stdout

    listed = env.kpispec("plugins", "--json")
    info = {p["name"]: p for p in json.loads(listed.stdout)}["acme_sales"]
    assert (info["status"], info["version"], info["distribution"], info["registered"]) == (
        "ok", "0.1.0", "kpispec-acme-sales", {"metric type": ["acme_sales_difference"]})
    lint = env.run_python("-m", "ruff", "check", "--no-cache", str(tmp_path / "acme"), check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
