"""The dialect classes (kpispec.compile.dialects): kpispec's nodes spelled per dialect."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

import kpispec
from kpispec.calendar import Calendar
from kpispec.compile import nodes
from kpispec.compile.plan import build_plan
from kpispec.compile.build import build_select
from kpispec.compile.dialects import DIALECTS, dialect, sqlglot_dialect

DEMO = Path(__file__).resolve().parents[2] / "specs" / "examples" / "demo"
OPTIONS = {"grain": "fiscal_quarter", "start": "2024-01-01", "end": "2024-07-01",
           "timezone": "Europe/Paris", "fiscal_year_start_month": 2}


@pytest.fixture(scope="module")
def project() -> kpispec.Project:
    return kpispec.load_project(DEMO)


def test_sqlglot_keeps_its_own_dialects() -> None:
    classes = {name: dialect(name) for name in DIALECTS}
    for name in DIALECTS:
        own = type(Dialect.get_or_raise(sqlglot_dialect(name)))
        assert own.__module__.startswith("sqlglot."), own
        assert type(classes[name]).__name__.startswith("Kpispec")
        assert isinstance(classes[name], own)


def test_the_tree_is_free_of_dialects_until_spelled(project: kpispec.Project) -> None:
    query = project.query(["close_rate"], **OPTIONS)
    tree = build_select(build_plan(project.models, project.metrics, query))
    kinds = {type(node) for node in tree.find_all(nodes.Node)}
    assert {nodes.Truncate, nodes.AddPeriods, nodes.ToLocal, nodes.LabelConcat} <= kinds
    lowered = dialect("oracle").lower(tree.copy())
    assert not list(lowered.find_all(nodes.Node))
    assert "FROM DUAL" in lowered.sql("oracle")  # the literal spine: rows of constants
    assert "ADD_MONTHS" in lowered.sql("oracle")


@pytest.mark.parametrize("name", DIALECTS)
def test_the_generator_spells_kpispec_nodes_as_lowering_does(project: kpispec.Project,
                                                             name: str) -> None:
    """Rendering kpispec's nodes with the dialect class gives what lowering them first gives."""
    query = project.query(["close_rate", "avg_deal_size"], **OPTIONS)
    tree = build_select(build_plan(project.models, project.metrics, query))
    spelling = dialect(name)
    direct = spelling.finish(tree.copy()).sql(dialect=spelling)  # the Generator spells the nodes
    lowered = spelling.lower(tree.copy()).sql(dialect=spelling)
    assert direct == lowered
    assert sqlglot.parse_one(lowered, read=sqlglot_dialect(name)) is not None


def test_each_dialect_holds_its_refusals() -> None:
    assert dialect("sqlite").UNSUPPORTED_AGGREGATES == {"median", "percentile"}
    assert dialect("duckdb").UNSUPPORTED_AGGREGATES == frozenset()
    assert "rownum" in dialect("oracle").EXTRA_RESERVED
    assert "values" in dialect("sqlite").EXTRA_RESERVED
    assert dialect("mariadb") is dialect("mysql")
    with pytest.raises(KeyError):
        dialect("cobol")


def test_modify_query_receives_no_kpispec_nodes() -> None:
    period = nodes.period_of(exp.column("closed_at", table="deals"), "month", Calendar())
    lowered = dialect("sqlite").lower(exp.select(exp.alias_(period, "period")))
    assert not list(lowered.find_all(nodes.Node))
    assert lowered.sql("sqlite") == "SELECT DATE(deals.closed_at, 'start of month') AS period"


def test_the_guard_asks_the_dialect_which_tables_read_files() -> None:
    assert dialect("duckdb").table_refusal("deals.parquet", "") == (
        "a table named like a file ('deals.parquet')")
    assert dialect("databricks").table_refusal("/tmp/x", "delta") == (
        "a table read straight from a file (delta.`/tmp/x`)")
    assert dialect("postgres").table_refusal("deals.parquet", "csv") is None


def test_a_query_built_once_renders_for_every_dialect(project: kpispec.Project) -> None:
    from kpispec.compile import build_query

    query = project.query(["close_rate"], **OPTIONS)
    built = build_query(project.models, project.metrics, query)
    before = built.tree.sql()
    rendered = {name: built.render(name).sql for name in DIALECTS}
    assert built.tree.sql() == before  # rendering copies the shared tree
    for name in ("sqlite", "oracle", "clickhouse"):
        assert rendered[name] == project.compile(["close_rate"], dialect=name, **OPTIONS).sql
    assert "SETTINGS join_use_nulls = 1" in rendered["clickhouse"]
    assert "DUAL" in rendered["oracle"] and "DUAL" not in rendered["sqlite"]
