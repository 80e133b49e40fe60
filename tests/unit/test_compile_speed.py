"""The shortcuts taken for speed give the same answers as the long way round."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import jsonschema
import kpispec
import pytest
import sqlglot
from kpispec.compile._reserved_words import STANDARD_RESERVED
from kpispec.spec import schema as schema_module
from kpispec.spec.loader import load_yaml

REPO = Path(__file__).resolve().parents[2]
SPEC_DIRS = ["specs", "plugins/kpispec_crm", "plugins/examples", "tests/engines/specs",
             "tests/engines/specs_time", "tests/golden", "tests/spec_errors/cases"]


def test_reserved_words_match_sqlglots_list() -> None:
    """Kept as a constant so compiling for Snowflake does not import DuckDB's generator."""
    words = sqlglot.Dialect.get_or_raise("duckdb").generator_class.RESERVED_KEYWORDS
    assert frozenset(w.lower() for w in words) == STANDARD_RESERVED


def _spec_documents() -> list[tuple[str, Any]]:
    found = []
    for directory in SPEC_DIRS:
        for path in sorted((REPO / directory).rglob("*.yaml")):
            if path.name == "kpispec.yaml":
                continue
            try:
                document = load_yaml(path, context={"var": lambda name, default=None: default})
            except kpispec.SpecError:
                continue  # unreadable on purpose (a spec error case)
            if isinstance(document, dict) and ("metrics" in document or "models" in document):
                found.append((str(path.relative_to(REPO)), document))
    return found


DOCUMENTS = _spec_documents()


def test_there_are_documents_to_compare() -> None:
    assert len(DOCUMENTS) > 50
    assert any("spec_errors" in name for name, _ in DOCUMENTS)


@pytest.mark.parametrize("name, document", DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_compiled_validator_agrees_with_jsonschema(name: str, document: Any) -> None:
    schema = kpispec.published_schema()
    slow = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
    assert schema_module._fast_valid(document, schema, None) == (not slow)


def test_without_jsonschema_rs_the_errors_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = kpispec.published_schema()
    invalid = [(n, d) for n, d in DOCUMENTS if schema_module.schema_errors(d, schema, n)]
    assert invalid, "the spec error cases include schema errors"
    expected = {n: [e.render() for e in schema_module.schema_errors(d, schema, n)] for n, d in invalid}
    real_import = builtins.__import__

    def no_rs(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "jsonschema_rs":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_rs)
    monkeypatch.setattr(schema_module, "_COMPILED", {})
    fresh = kpispec.published_schema()  # a new schema object: nothing compiled for it
    for n, d in invalid:
        assert [e.render() for e in schema_module.schema_errors(d, fresh, n)] == expected[n]
    assert schema_module.check_fragment({"type": "objectx"}) is not None
    assert schema_module.check_fragment({"type": "object"}) is None


def test_published_schema_is_a_copy() -> None:
    schema = kpispec.published_schema()
    schema["$defs"].clear()
    assert kpispec.published_schema()["$defs"]



# -- the SQL shortcuts give the plain join's results ----------------------------------------

_LEADS = [(1, "marketing", 90), (2, "web", 85), (3, "event", 50), (4, "marketing", 10),
          (5, None, 95), (6, "web", None)]
_DEALS = [  # deal_id, lead_id, closed_at, amount, stage
    (1, 1, "2024-01-05 10:00:00", 100.0, "won"), (2, 2, "2024-01-20 00:00:00", 200.0, "won"),
    (3, 3, "2024-02-01 00:00:00", 300.0, "won"), (4, 4, "2024-02-11 09:30:00", 400.0, "lost"),
    (5, None, "2024-02-12 00:00:00", 500.0, "won"), (6, 5, "2024-03-31 23:59:59", 600.0, "won"),
    (7, 6, "2024-03-01 00:00:00", 700.0, "won"), (8, 99, "2024-03-02 00:00:00", 800.0, "won"),
    (9, 1, "2024-04-01 00:00:00", 900.0, "won")]
_CUSTOMERS = [  # signed up, churned: on and off month boundaries, open-ended, NULL start
    (1, "2023-12-15 00:00:00", None), (2, "2024-01-01 00:00:00", "2024-02-01 00:00:00"),
    (3, "2024-01-31 23:59:59", "2024-03-01 00:00:01"), (4, "2024-02-01 00:00:00", None),
    (5, "2024-03-31 12:00:00", "2024-04-01 00:00:00"), (6, None, None),
    (7, "2023-06-01 00:00:00", "2024-01-01 00:00:00")]
_MONTHS = ["2024-01-01", "2024-02-01", "2024-03-01"]


def _expected() -> list[tuple[Any, ...]]:
    import datetime as dt

    leads = {lead: (source, score) for lead, source, score in _LEADS}
    rows = []
    for i, month in enumerate(_MONTHS):
        start = dt.datetime.fromisoformat(month)
        end = dt.datetime.fromisoformat(_MONTHS[i + 1] if i + 1 < len(_MONTHS) else "2024-04-01")
        in_month = [d for d in _DEALS if start <= dt.datetime.fromisoformat(d[2]) < end]
        won = [d for d in in_month if d[4] == "won"]
        marketing = [d for d in won if leads.get(d[1], (None, None))[0] == "marketing"]
        hot = [d for d in in_month if (leads.get(d[1], (None, None))[1] or 0) >= 80
               and leads.get(d[1], (None, None))[0] in ("web", "event")]
        active = sum(1 for _, signed, churned in _CUSTOMERS if signed is not None
                     and dt.datetime.fromisoformat(signed) < end
                     and (churned is None or dt.datetime.fromisoformat(churned) >= end))
        rows.append((month, sum(d[3] for d in won) or None, sum(d[3] for d in marketing) or 0.0,
                     len(hot), active))
    return rows


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"])
def test_pushed_join_filters_and_lifecycle_groups_give_plain_results(engine: str, tmp_path: Path
                                                                    ) -> None:
    import sqlite3

    import duckdb

    spec = REPO / "tests/golden/joined_filter_pushed/metric.yaml"
    (tmp_path / "metric.yaml").write_text(spec.read_text())
    project = kpispec.load_project(tmp_path)
    compiled = project.compile(["won_revenue", "marketing_won_revenue", "hot_lead_deals",
                                "active_customers"], dialect=engine, grain="month",
                               start="2024-01-01", end="2024-04-01")
    assert "FROM leads AS leads\n    WHERE" in compiled.sql  # the join reads filtered leads
    assert "lifecycle" in compiled.sql  # customers grouped by the months they start and end in
    con: Any = duckdb.connect() if engine == "duckdb" else sqlite3.connect(":memory:")
    con.execute("CREATE TABLE leads (lead_id INTEGER, source VARCHAR, score INTEGER, created_at TIMESTAMP)")
    con.execute("CREATE TABLE deals (deal_id INTEGER, lead_id INTEGER, customer_id INTEGER, "
                "closed_at TIMESTAMP, amount DOUBLE, stage VARCHAR)")
    con.execute("CREATE TABLE customers (customer_id INTEGER, signed_up_at TIMESTAMP, churned_at TIMESTAMP)")
    con.executemany("INSERT INTO leads VALUES (?, ?, ?, NULL)", _LEADS)
    con.executemany("INSERT INTO deals VALUES (?, ?, NULL, ?, ?, ?)", _DEALS)
    con.executemany("INSERT INTO customers VALUES (?, ?, ?)", _CUSTOMERS)
    got = [(str(r[0])[:10], r[1], r[2], r[3], r[4]) for r in con.execute(compiled.sql).fetchall()]
    assert got == _expected()


def test_libyaml_path_reads_valid_files_with_the_same_marks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A valid file is read through libyaml alone, into the same values and marks as the
    pure-Python loader gives; the pure-Python loader is only used when there is a problem."""
    from kpispec.spec import loader

    if loader._FastLoader is None:
        pytest.skip("PyYAML was built without libyaml")
    path = REPO / "specs/crm/metrics/marketing.yaml"
    reference = loader._load_reference(path.read_text(), "m.yaml")

    def no_reference(text: str, name: str) -> Any:
        raise AssertionError("a valid file went to the pure-Python loader")

    monkeypatch.setattr(loader, "_load_reference", no_reference)
    fast = loader.load_yaml(path, "m.yaml")
    assert fast == reference

    def marks(a: Any, b: Any) -> None:
        assert getattr(a, "mark", None) == getattr(b, "mark", None)
        if isinstance(a, dict):
            assert (a.key_marks, a.value_marks) == (b.key_marks, b.value_marks)
            for k in a:
                marks(a[k], b[k])
        elif isinstance(a, list):
            assert a.item_marks == b.item_marks
            for x, y in zip(a, b):
                marks(x, y)

    marks(fast, reference)
