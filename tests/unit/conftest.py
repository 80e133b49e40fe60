from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kpispec import plugins


@pytest.fixture
def fresh_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A plugin manager loaded from scratch for this test, and reset after it."""
    for var in ("KPISPEC_LOAD_PLUGINS", "KPISPEC_TRACE_PLUGINS"):  # BLOCK: see tests/conftest.py
        monkeypatch.delenv(var, raising=False)
    plugins.reset()
    try:
        yield
    finally:
        plugins.reset()


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Write a project from {file name: YAML text} and return its directory."""
    def make(files: dict[str, str], name: str = "project") -> Path:
        root = tmp_path / name
        root.mkdir(exist_ok=True)
        for file, text in files.items():
            (root / file).parent.mkdir(parents=True, exist_ok=True)
            (root / file).write_text(textwrap.dedent(text), encoding="utf-8")
        return root
    return make


DEALS = """
models:
  - name: deals
    table: deals
    primary_key: deal_id
    time: created_at
    columns: [deal_id, customer_id, created_at, closed_at, stage, amount, region]
    dimensions: [region, stage]
    joins:
      - {model: customers, on: customer_id}
  - name: customers
    table: customers
    primary_key: customer_id
    time: signed_up_at
    columns: [customer_id, signed_up_at, segment]
    dimensions: [segment]
metrics:
  - name: deals_won
    type: simple
    measure: {model: deals, agg: count, filter: "stage = 'won'", time: closed_at}
  - name: revenue
    type: simple
    measure: {model: deals, agg: sum, expr: amount, filter: "stage = 'won'", time: closed_at}
  - name: avg_deal
    type: derived
    expr: revenue / deals_won
"""


@pytest.fixture(scope="module")
def demo_tables() -> dict[str, Any]:
    """The demo warehouse's tables (pyarrow), as the source tests load them into an engine."""
    from kpispec import _demo

    from tests.unit.sources import DEMO_ROWS

    return _demo.generate(rows=DEMO_ROWS)


@pytest.fixture(scope="module")
def duckdb_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The same demo warehouse in DuckDB: what every other source is compared with."""
    from kpispec import _demo

    from tests.unit.sources import DEMO_ROWS

    path = tmp_path_factory.mktemp("duckdb") / "demo.duckdb"
    _demo.write_duckdb(path, rows=DEMO_ROWS)
    return f"duckdb:///{path}"
