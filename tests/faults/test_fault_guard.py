"""Nothing but one reading SELECT reaches a source — whatever a ``modify_query`` plugin does.

A hostile (or buggy) ``modify_query`` plugin rewrites the query into a DROP, an
INSERT, several statements, a file reader, ``SELECT … INTO``, a locking read…
Each run must end with exit code 2 and one message naming the plugin, and the
source must never see the query: the connection's ``execute`` is never called
(DuckDB), the server never runs it (PostgreSQL, MariaDB: the tables are intact).
Catalog lookups (``validate --source``) pass names as parameters, never as SQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import kpispec
import pytest
from click.testing import CliRunner
from kpispec import testing
from kpispec.cli import main
from kpispec.errors import ExecutionError
from kpispec.project import Project, parse_source_url
from kpispec_builtins import duckdb_source, mysql_source, postgres_source, sqlite_source

from tests.faults import support
from tests.faults.fault_plugins import HostileQuery

PLUGIN_ADVICE = "Fix or upgrade the plugin, or run without it: --no-plugin hostile"
REFUSED = "error: plugin 'hostile' in hook modify_query: made the query of revenue one kpispec will not run"

#: mode → the message's end after REFUSED (None: the compiler's own refusal of a non-query).
EXPECTED: dict[str, str | None] = {
    "drop": None,
    "insert": None,
    "injected": f" (refusing to run anything but one SELECT: 3 statements). {PLUGIN_ADVICE}",
    "delete_after": f" (refusing to run anything but one SELECT: 2 statements). {PLUGIN_ADVICE}",
    "read_csv": f" (refusing to run a query calling READ_CSV(): kpispec never runs it (it reads "
                f"files, reaches other servers, waits, locks or acts on the server)). {PLUGIN_ADVICE}",
    # DuckDB writes SELECT … INTO as CREATE TABLE … AS SELECT
    "into": f" (refusing to run anything but one SELECT: got CREATE). {PLUGIN_ADVICE}",
}


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE deals AS SELECT range AS deal_id, TIMESTAMP '2024-01-01' + "
                "INTERVAL (range) DAY AS created_at, range * 1.5 AS amount, 'deal ' || range AS "
                "label FROM range(20)")
    con.close()
    return f"duckdb:///{path}"


@pytest.fixture
def executed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL text a DuckDB connection is asked to execute."""
    seen: list[str] = []
    original = duckdb_source.DuckDBConnection.execute

    def recording(self: Any, sql: str, **kwargs: Any) -> Any:
        seen.append(sql)
        return original(self, sql, **kwargs)

    monkeypatch.setattr(duckdb_source.DuckDBConnection, "execute", recording)
    return seen


def run(root: Path, source: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["run", "revenue", "-p", str(root), "--source", source,
                                     *support.RANGE, *args])


@pytest.mark.parametrize("mode", sorted(EXPECTED))
def test_hostile_rewrite_never_reaches_duckdb(mode: str, tmp_path: Path, warehouse: str,
                                              executed: list[str]) -> None:
    root = support.make_project(tmp_path / "project")
    plugin = HostileQuery(mode)
    with testing.registered(plugin, "hostile"):
        result = run(root, warehouse, "--sink", str(tmp_path / "out.csv"))
    assert plugin.calls >= 1
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in result.output
    if EXPECTED[mode] is None:
        kind = "Drop" if mode == "drop" else "Insert"
        assert message.startswith(f"error: plugin 'hostile' in hook modify_query: returned {kind}")
        assert message.endswith(PLUGIN_ADVICE)
    else:
        assert message == REFUSED + EXPECTED[mode]
    assert executed == []  # the source never saw it
    assert not (tmp_path / "out.csv").exists()
    con = duckdb.connect(warehouse.removeprefix("duckdb:///"), read_only=True)
    assert con.execute("SELECT count(*) FROM deals").fetchone() == (20,)
    con.close()
    rerun = run(root, warehouse, "--sink", str(tmp_path / "out.csv"))  # without the plugin
    assert rerun.exit_code == 0, rerun.output
    assert executed and (tmp_path / "out.csv").read_text().splitlines() == ["period,revenue", "2024-01-01,285.0"]


def test_plugin_that_raises_exits_2_and_masks_what_it_says(tmp_path: Path, warehouse: str) -> None:
    root = support.make_project(tmp_path / "project")
    with testing.registered(HostileQuery("raise"), "hostile"):
        result = run(root, warehouse)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: plugin 'hostile' in hook modify_query: raised RuntimeError: tenant filter "
        f"unavailable: postgresql://svc:***@db/crm. {PLUGIN_ADVICE}")
    assert "hunter2" not in result.output


class Benign:
    """A modify_query plugin that leaves the query alone."""

    @kpispec.hookimpl
    def modify_query(self, expression: Any) -> None:
        return None


def test_unsafe_sql_not_made_by_a_plugin_blames_no_plugin(
        tmp_path: Path, warehouse: str, executed: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The check runs on the exact text to be sent; when no plugin made it unsafe (the
    compiler, say), the message names the metrics and blames no plugin."""
    root = support.make_project(tmp_path / "project")
    compile_ = Project.compile

    def tampered(self: Project, *args: Any, **kwargs: Any) -> Any:
        compiled = compile_(self, *args, **kwargs)
        return dataclasses.replace(compiled, sql=compiled.sql + ";\nCOPY deals TO 'leak.csv'")

    monkeypatch.setattr(Project, "compile", tampered)
    with testing.registered(Benign(), "benign"):
        result = run(root, warehouse)
    assert result.exit_code == 2
    assert result.stderr == ("error: metrics revenue: refusing to run anything but one SELECT: "
                             "2 statements\n")
    assert executed == []


# -- PostgreSQL and MariaDB: the server never runs it ----------------------------------------------


@pytest.fixture(scope="module")
def pg_schema() -> Iterator[str]:
    support.require(support.PG_HOST, support.PG_PORT, "PostgreSQL")
    yield from support.pg_schema(rows=50)


@pytest.fixture(scope="module")
def my_database() -> Iterator[str]:
    support.require(support.MY_HOST, support.MY_PORT, "MariaDB")
    yield from support.my_database(rows=50)


@pytest.mark.parametrize("mode", ["drop", "injected", "delete_after", "pg_read_file", "into",
                                  "for_update"])
def test_hostile_rewrite_never_reaches_postgres(mode: str, tmp_path: Path, pg_schema: str) -> None:
    root = support.make_project(tmp_path / "project")
    with testing.registered(HostileQuery(mode), "hostile"):
        result = run(root, support.pg_url(pg_schema))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: plugin 'hostile' in hook modify_query: ")
    with support.pg_admin() as admin:
        count = admin.execute(f'SELECT count(*) FROM "{pg_schema}".deals').fetchone()
        assert count == (50,)
        assert admin.execute("SELECT to_regclass(%s)", (f'"{pg_schema}".stolen',)).fetchone() == (None,)


@pytest.mark.parametrize("mode", ["injected", "delete_after", "load_file", "into"])
def test_hostile_rewrite_never_reaches_mariadb(mode: str, tmp_path: Path, my_database: str) -> None:
    root = support.make_project(tmp_path / "project")
    with testing.registered(HostileQuery(mode), "hostile"):
        result = run(root, support.my_url(my_database))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: plugin 'hostile' in hook modify_query: ")
    con = support.my_admin()
    try:
        with con.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM `{my_database}`.deals")
            assert cursor.fetchone() == (50,)
    finally:
        con.close()


# -- every Connection.execute refuses unchecked SQL; catalog lookups take parameters ----------------


HOSTILE_NAME = "deals'; DROP TABLE deals; --"


def test_duckdb_connection_refuses_statements(tmp_path: Path, warehouse: str) -> None:
    url = parse_source_url(warehouse)
    with duckdb_source.connect(url) as con:
        for sql, why in [("SELECT 1; DROP TABLE deals", "2 statements"),
                         ("COPY deals TO 'x.csv'", "got COPY"),
                         ("ATTACH 'other.duckdb'", "got ATTACH")]:
            with pytest.raises(ExecutionError) as info:
                con.execute(sql)
            assert str(info.value) == (f"refusing to run anything but one SELECT on {url}: {why}")
        assert con.describe(HOSTILE_NAME) is None
        assert con.execute("SELECT count(*) AS n FROM deals").read_all().to_pylist() == [{"n": 20}]


def test_sqlite_describe_takes_the_name_as_a_parameter(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "w.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE deals (deal_id INTEGER)")
    raw.commit()
    raw.close()
    with sqlite_source.connect(parse_source_url(f"sqlite:///{path}")) as con:
        assert con.describe(HOSTILE_NAME) is None
        assert con.describe("deals") == ["deal_id"]
        with pytest.raises(ExecutionError, match="one SELECT"):
            con.execute("SELECT 1; DROP TABLE deals")


def test_postgres_describe_takes_the_name_as_a_parameter(pg_schema: str) -> None:
    with postgres_source.connect(parse_source_url(support.pg_url(pg_schema))) as con:
        assert con.describe(HOSTILE_NAME) is None
        assert con.describe(f"{pg_schema}.{HOSTILE_NAME}") is None
        assert con.describe("deals") == ["deal_id", "created_at", "amount", "label"]


def test_mariadb_describe_takes_the_name_as_a_parameter(my_database: str) -> None:
    with mysql_source.connect(parse_source_url(support.my_url(my_database))) as con:
        assert con.describe(HOSTILE_NAME) is None
        assert con.describe("deals") == ["deal_id", "created_at", "amount", "label"]
