"""bench/ stays runnable, and its hand-written SQL keeps giving kpispec's results.

No timing is asserted here: the benchmark prints ratios; these tests run its
pieces at a tiny size and check what they compute.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import gen_project  # noqa: E402
import sqlbench  # noqa: E402


@pytest.fixture(autouse=True)
def _crm_pack(crm_pack: None) -> None:
    """The benchmark compiles the CRM catalog from an empty project."""


def test_generated_project_compiles_one_by_one_and_in_one_query(tmp_path: Path) -> None:
    project = tmp_path / "generated"
    names = gen_project.generate(project, metrics=60, models=5)
    assert len(names) == 60
    proc = subprocess.run([sys.executable, str(BENCH / "compile_bench.py"), str(project),
                           "--dialects", "duckdb,snowflake", "--limit", "20"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["metrics_loaded"] == 60 and result["models"] == 5
    assert result["metrics_compiled"] == 20
    assert {d: r["failed"] for d, r in result["compile"].items()} == {"duckdb": 0, "snowflake": 0}
    assert result["batch"]["error"] == "" and result["batch"]["sql_bytes"] > 0
    assert len(result["cached_load_s"]) == 1


def test_handwritten_sql_gives_kpispecs_results(tmp_path: Path) -> None:
    from kpispec import _demo

    warehouse = tmp_path / "crm.duckdb"
    _demo.write_duckdb(warehouse, rows=3_000)
    results = sqlbench.run(str(warehouse), repeat=1)
    assert {r["case"] for r in results} == {c.name for c in sqlbench.CASES}
    for r in results:
        assert r["equal"], (r["case"], r["problems"][:5])
        assert r["rows"] == (24 if r["case"] == "catalog_by_month" else r["rows"]) and r["rows"] > 0


def test_validate_bench_runs_and_reports_per_metric_cost(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(BENCH / "validate_bench.py"), "--sizes", "200,400"],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout.strip().splitlines()[-1])["validate"]
    assert [r["metrics"] for r in rows] == [200, 400]
    assert all(r["seconds"] > 0 and r["cpu_ms_per_metric"] > 0 for r in rows)
