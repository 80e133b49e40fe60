"""Fixtures for the catalog tests: the demo warehouse, the catalog project, and a
writer of tiny hand-made datasets with the reference schema's column types."""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from . import reference

DEMO_ROWS = 3000
SKIP_REASON = "CRM pack not installed yet"


@contextlib.contextmanager
def packs_unblocked() -> Iterator[None]:
    """Plugins as installed: tests/conftest.py blocks the CRM pack (through
    KPISPEC_BLOCK_PLUGINS) for every test that does not ask for ``crm_pack``."""
    from kpispec import plugins

    saved = os.environ.pop("KPISPEC_BLOCK_PLUGINS", None)
    plugins.reset()
    try:
        yield
    finally:
        if saved is not None:
            os.environ["KPISPEC_BLOCK_PLUGINS"] = saved
        plugins.reset()


@pytest.fixture(autouse=True)
def _catalog_pack(crm_pack: None) -> None:
    """Every test here runs with the CRM pack loaded."""


def load_catalog(directory: str | os.PathLike[str]) -> object:
    """The project of an EMPTY directory: every metric comes from the installed packs."""
    import kpispec

    with packs_unblocked():
        return kpispec.load_project(directory)


@functools.lru_cache(maxsize=1)
def catalog_metric_names() -> frozenset[str] | None:
    """The metrics of a project loaded from an empty directory (the installed packs
    only), or None when loading fails (the fixture then reports the error)."""
    with tempfile.TemporaryDirectory() as empty:
        try:
            return frozenset(load_catalog(empty).metrics)  # type: ignore[attr-defined]
        except Exception:
            return None


def skip_if_no_pack() -> None:
    """Skip the calling module when no catalog metric is listed yet."""
    names = catalog_metric_names()
    if names is not None and not set(reference.METRICS) & names:
        pytest.skip(SKIP_REASON, allow_module_level=True)


@pytest.fixture(scope="session")
def catalog_project(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The project of an EMPTY directory: every metric comes from the CRM pack."""
    empty = tmp_path_factory.mktemp("empty_project")
    project = load_catalog(empty)
    assert not any(empty.iterdir())
    return project


@pytest.fixture(scope="session")
def demo_tables() -> dict[str, list[dict[str, Any]]]:
    """The demo tables (same defaults as write_duckdb) as lists of row dicts."""
    from kpispec import _demo

    return reference.to_rows(_demo.generate(rows=DEMO_ROWS))


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory: pytest.TempPathFactory) -> str:
    from kpispec import _demo

    path = tmp_path_factory.mktemp("catalog_demo") / "demo.duckdb"
    _demo.write_duckdb(path, rows=DEMO_ROWS)
    return f"duckdb:///{path}"


@functools.lru_cache(maxsize=1)
def reference_schemas() -> dict[str, Any]:
    """The pyarrow schema of each reference table, as the demo generator types it."""
    from kpispec import _demo

    return {name: table.schema for name, table in _demo.generate(rows=1).items()}


def write_tables(path: Path, tables: Mapping[str, list[dict[str, Any]]]) -> str:
    """Write every reference table (empty unless given) into a new DuckDB file and
    return its --source URL. Rows may leave columns out (they are NULL)."""
    import duckdb
    import pyarrow as pa

    schemas = reference_schemas()
    unknown = set(tables) - set(schemas)
    assert not unknown, f"not reference tables: {unknown}"
    con = duckdb.connect(str(path))
    try:
        for name, schema in schemas.items():
            rows = [{c: r.get(c) for c in schema.names} for r in tables.get(name, [])]
            for r in tables.get(name, []):
                assert set(r) <= set(schema.names), f"{name}: unknown columns {set(r) - set(schema.names)}"
            arrow = pa.Table.from_pylist(rows, schema=schema)
            con.from_arrow(arrow).create(name)
    finally:
        con.close()
    return f"duckdb:///{path}"
