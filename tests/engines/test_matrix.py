"""The whole CRM catalog on every engine: every value equals DuckDB's and the Python reference.

One reference dataset (the demo generator's) is loaded into each engine by the
``load_<engine>`` helpers beside this file. Each catalog metric then runs at its
natural grain and dimension (tests/catalog/reference.py) and is compared, row by
row, with the independent Python computation and with DuckDB's own result.

Floating tolerance: rel 1e-9 / abs 1e-9 (engines sum doubles in different orders).
An engine is skipped only when its driver is missing outside CI; in CI (CI set) a
missing driver or server fails.
"""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kpispec
import pytest
from kpispec import _demo

from tests.catalog import reference
from tests.catalog import test_catalog as catalog

ROWS = 1000
METRICS = list(reference.METRICS)


def _sqlite(tables: Any, tmp: Path) -> tuple[str, Callable[[], None]]:
    from tests.engines import load_sqlite

    url = load_sqlite.load(tables, directory=tmp)
    return url, lambda: None


def _postgres(tables: Any, tmp: Path) -> tuple[str, Callable[[], None]]:
    from tests.engines import load_postgres

    url = load_postgres.load(tables, schema=f"kpispec_matrix_{uuid.uuid4().hex[:8]}")
    return url, lambda: load_postgres.drop(url)


def _mysql(tables: Any, tmp: Path) -> tuple[str, Callable[[], None]]:
    from tests.engines import load_mysql

    url = load_mysql.load(tables)
    return url, lambda: load_mysql.drop(url)


def _chdb(tables: Any, tmp: Path) -> tuple[str, Callable[[], None]]:
    from tests.engines import load_clickhouse

    return load_clickhouse.load(tables, directory=tmp), lambda: None


def _spark(tables: Any, tmp: Path) -> tuple[str, Callable[[], None]]:
    from tests.engines import load_spark

    return load_spark.load(tables, tmp), lambda: None


def _datafusion(tables: Any, tmp: Path) -> tuple[str, Callable[[], None]]:
    from tests.engines import load_datafusion

    return load_datafusion.load(tables, tmp), lambda: None


# engine -> (driver module, loader)
ENGINES: dict[str, tuple[str, Callable[[Any, Path], tuple[str, Callable[[], None]]]]] = {
    "sqlite": ("sqlite3", _sqlite),
    "postgres": ("psycopg", _postgres),
    "mysql": ("pymysql", _mysql),
    "chdb": ("chdb", _chdb),
    "spark": ("pyspark", _spark),
    "datafusion": ("datafusion", _datafusion),
}


@pytest.fixture(scope="session")
def demo_tables() -> dict[str, Any]:
    return _demo.generate(ROWS)


@pytest.fixture(scope="session")
def demo_rows(demo_tables: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {name: table.to_pylist() for name, table in demo_tables.items()}


@pytest.fixture(scope="session")
def catalog_project(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.catalog.conftest import load_catalog

    return load_catalog(tmp_path_factory.mktemp("empty_project"))


@pytest.fixture(scope="session")
def duckdb_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("matrix_duckdb") / "crm.duckdb"
    _demo.write_duckdb(path, ROWS)
    return f"duckdb:///{path}"


@pytest.fixture(scope="session", params=list(ENGINES))
def engine(request: pytest.FixtureRequest, demo_tables: dict[str, Any],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    name = request.param
    driver, loader = ENGINES[name]
    try:
        importlib.import_module(driver)
        importlib.import_module(f"tests.engines.load_{'clickhouse' if name == 'chdb' else name}")
    except ImportError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{name}: {exc} — CI installs every driver with the test extra")
        pytest.skip(f"{name}: {exc}")
    url, cleanup = loader(demo_tables, tmp_path_factory.mktemp(f"matrix_{name}"))
    try:
        yield name, url
    finally:
        cleanup()


@pytest.fixture(scope="session")
def duckdb_results(catalog_project: Any, duckdb_url: str) -> dict[str, Any]:
    """Every metric's result on DuckDB, computed once."""
    out = {}
    for name in METRICS:
        metric = reference.METRICS[name]
        out[name] = catalog_project.run([name], source=duckdb_url, grain=metric.grain,
                                        by=[metric.dim] if metric.dim else [])
    return out


@pytest.mark.parametrize("name", METRICS)
def test_catalog_metric_on_engine(name: str, engine: tuple[str, str], catalog_project: Any,
                                  demo_rows: dict[str, Any], duckdb_results: dict[str, Any],
                                  crm_pack: None) -> None:
    engine_name, url = engine
    metric = reference.METRICS[name]
    table = catalog_project.run([name], source=url, grain=metric.grain,
                                by=[metric.dim] if metric.dim else [])
    actual = catalog.result_mapping(table, name, metric.dim)
    problems = catalog.compare(name, actual, reference.compute(name, demo_rows), metric.empty)
    duck = catalog.result_mapping(duckdb_results[name], name, metric.dim)
    problems += [f"vs DuckDB: {p}" for p in catalog.compare(name, actual, duck, metric.empty)]
    if problems:
        shown = "\n  ".join(problems[:20])
        pytest.fail(f"{name} on {engine_name} ({url}): {len(problems)} disagreement(s):\n  {shown}",
                    pytrace=False)


def test_every_engine_is_listed_as_a_source(crm_pack: None) -> None:
    from kpispec.plugins import get_registry

    schemes = {s for r in get_registry().sources.values() for s in r.item.schemes}
    assert {"duckdb", "sqlite", "postgresql", "mysql", "chdb", "spark", "datafusion"} <= schemes
    assert kpispec.parse_source_url("postgresql://u:secret@h/db").password == "secret"


GRAIN_METRICS = ["close_rate", "win_rate", "avg_deal_size", "churn_rate", "crm_roi",
                 "avg_resolution_hours", "purchase_frequency"]


@pytest.mark.parametrize("grain, start, end", [
    ("day", "2024-02-20", "2024-03-05"),      # across a leap day and a month boundary
    ("week", "2023-12-18", "2024-02-05"),     # Monday weeks across a year boundary
    ("quarter", "2023-02-15", "2024-11-15"),  # partial first and last quarters
    ("year", None, None),
])
def test_grains_and_ranges_on_engine(grain: str, start: str | None, end: str | None,
                                     engine: tuple[str, str], catalog_project: Any,
                                     duckdb_url: str, crm_pack: None) -> None:
    engine_name, url = engine
    options = {"grain": grain, "start": start, "end": end}
    # crm_roi compares with a year earlier: not a whole number of days or weeks
    metrics = [m for m in GRAIN_METRICS if not (m == "crm_roi" and grain in ("day", "week"))]
    got = catalog_project.run(metrics, source=url, **options).to_pylist()
    want = catalog_project.run(metrics, source=duckdb_url, **options).to_pylist()
    assert [r["period"] for r in got] == [r["period"] for r in want]
    assert want, "the range holds no periods"
    for mine, theirs in zip(got, want, strict=True):
        for name in metrics:
            expected = theirs[name]
            assert mine[name] == (None if expected is None else pytest.approx(expected, rel=1e-9, abs=1e-9)), \
                (engine_name, grain, mine["period"], name)
