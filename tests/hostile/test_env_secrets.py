"""Credentials in the environment stay out of specs, reports and the cache (issue 23, 5 and 8).

``env_vars: ["MYSQL_*", "DATABASE_*", "*_DSN"]`` plus ``{{ env_var('MYSQL_PWD') }}`` in a
description put MYSQL_PWD, DATABASE_URL (with its password) and a DSN into the HTML
report; and a project whose templates read a secret, or whose ``source:`` holds a
password, was pickled with it in plain text in the project cache.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import kpispec
import pytest
from click.testing import CliRunner
from kpispec.cli import main
from kpispec.errors import SpecError

from tests.hostile.small_project import DEALS

SECRET = "Zr8-env-secret-never-shown"
SPEC = DEALS.replace("{", "{{").replace("}", "}}") + """\
  - name: revenue
    type: simple
    description: "{description}"
    measure: {{model: deals, agg: sum, expr: amount}}
"""
PATTERNS = 'env_vars: ["MYSQL_*", "DATABASE_*", "*_DSN", "*_CONN", "APP_*"]\n'


def project(root: Path, description: str, settings: str) -> Path:
    root.mkdir(exist_ok=True)
    (root / "m.yaml").write_text(SPEC.format(description=description), encoding="utf-8")
    (root / "kpispec.yaml").write_text(settings, encoding="utf-8")
    con = duckdb.connect(str(root / "w.duckdb"))
    con.execute("CREATE OR REPLACE TABLE deals AS SELECT TIMESTAMP '2024-01-02' AS created_at, "
                "1.5 AS amount")
    con.close()
    return root


@pytest.mark.parametrize("name", ["MYSQL_PWD", "DATABASE_URL", "CRM_DSN", "WAREHOUSE_CONN",
                                  "APP_PASS", "APP_URI", "APP_AUTH_HEADER"])
def test_credential_names_are_not_matched_by_patterns(tmp_path: Path, name: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, f"mysql://root:{SECRET}@db/crm")
    root = project(tmp_path / "p", f"{{{{ env_var('{name}') }}}}", PATTERNS)
    with pytest.raises(SpecError) as info:
        kpispec.load_project(root)
    message = str(info.value)
    assert f"template error: env_var('{name}') is not allowed: add '{name}' to 'env_vars:' in " \
           "kpispec.yaml (a name that looks like a secret must be listed exactly, a pattern " \
           "does not match it)" in message
    assert SECRET not in message


def test_a_url_with_a_password_is_masked_in_what_a_spec_says(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """Listed exactly, DATABASE_URL is read — with its password masked, so the report, the
    docs site and the cache never get it; a value without credentials is unchanged."""
    monkeypatch.setenv("DATABASE_URL", f"postgresql://me:{SECRET}@db:5432/crm?sslpassword={SECRET}")
    monkeypatch.setenv("APP_REGION", "EMEA")
    root = project(tmp_path / "p", "from {{ env_var('DATABASE_URL') }} in "
                                   "{{ env_var('APP_REGION') }}",
                   'env_vars: [DATABASE_URL, "APP_*"]\n')
    loaded = kpispec.load_project(root)
    assert loaded.metrics["revenue"].description == (
        "from postgresql://me:***@db:5432/crm?sslpassword=*** in EMEA")
    report = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["run", "revenue", "-p", str(root), "--source",
                                       f"duckdb:///{root / 'w.duckdb'}", "--grain", "year",
                                       "--sink", str(report), "--sink", str(tmp_path / "o.json")])
    assert result.exit_code == 0, result.output
    assert "postgresql://me:***@db:5432/crm" in report.read_text(encoding="utf-8")
    assert SECRET not in report.read_text(encoding="utf-8") + result.output


def _cache_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*")) if directory.exists() else []


@pytest.mark.parametrize(("description", "settings"), [
    ("{{ env_var('MYSQL_PWD') }}", "env_vars: [MYSQL_PWD]\n"),
    ("{{ env_var('APP_TOKEN') }}", "env_vars: [APP_TOKEN]\n"),
    ("plain", f"source: postgresql://me:{SECRET}@127.0.0.1:1/none\n"),
    ("plain", f"source: postgresql://127.0.0.1:1/none?sslpassword={SECRET}\n"),
])
def test_projects_holding_secrets_are_not_cached(tmp_path: Path, description: str, settings: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("KPISPEC_CACHE_DIR", str(cache))
    monkeypatch.delenv("KPISPEC_NO_CACHE", raising=False)
    monkeypatch.setenv("MYSQL_PWD", SECRET)
    monkeypatch.setenv("APP_TOKEN", SECRET)
    root = project(tmp_path / "p", description, settings)
    for _ in range(2):
        kpispec.load_project(root, cache=True)
    assert not [p for p in _cache_files(cache) if p.is_file()]


def test_projects_without_secrets_are_still_cached(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("KPISPEC_CACHE_DIR", str(cache))
    monkeypatch.delenv("KPISPEC_NO_CACHE", raising=False)
    monkeypatch.setenv("APP_REGION", "EMEA")
    root = project(tmp_path / "p", "{{ env_var('APP_REGION') }}",
                   'env_vars: ["APP_*"]\nsource: duckdb:///w.duckdb\n')
    kpispec.load_project(root, cache=True)
    (entry,) = [p for p in _cache_files(cache) if p.is_file()]
    assert b"EMEA" in entry.read_bytes()
