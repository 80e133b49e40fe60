"""Past the guard, the engine itself refuses to write: sessions and transactions are read-only.

The guard only sees the query's text. A view or a function can hide a write the
text does not show — so each source also runs in the engine's read-only mode,
and these tests get a write past the guard (through a function or a view, or
straight on the driver's connection) to show the engine refusing it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from kpispec.cli import main
from kpispec.compile import guard
from kpispec.errors import ExecutionError
from kpispec.project import parse_source_url
from kpispec_builtins import datafusion_source, duckdb_source, mysql_source, postgres_source, sqlite_source

from tests.faults import support

WRITING_MODEL = """
models:
  - name: audited
    table: audited_deals
    time: created_at
    columns: [created_at, amount]
metrics:
  - name: audited_revenue
    type: simple
    measure: {model: audited, agg: sum, expr: amount}
"""


def project_with_writing_view(tmp_path: Path) -> Path:
    root = support.make_project(tmp_path / "project")
    (root / "audited.yaml").write_text(WRITING_MODEL, encoding="utf-8")
    return root


# -- PostgreSQL --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_schema() -> Iterator[str]:
    support.require(support.PG_HOST, support.PG_PORT, "PostgreSQL")
    for schema in support.pg_schema(rows=10):
        with support.pg_admin() as admin:
            admin.execute(f'CREATE TABLE "{schema}".audit (n INT)')
            admin.execute(f'CREATE FUNCTION "{schema}".audit_write() RETURNS INT LANGUAGE sql '
                          f'VOLATILE AS $$ INSERT INTO "{schema}".audit VALUES (1) RETURNING 1 $$')
            admin.execute(f'CREATE VIEW "{schema}".audited_deals AS SELECT created_at, amount '
                          f'FROM "{schema}".deals WHERE "{schema}".audit_write() = 1')
        yield schema


def pg_audit(schema: str) -> int:
    with support.pg_admin() as admin:
        row = admin.execute(f'SELECT count(*) FROM "{schema}".audit').fetchone()
        return int(row[0]) if row else -1


def test_postgres_refuses_a_write_hidden_in_a_view(tmp_path: Path, pg_schema: str) -> None:
    url = support.pg_url(pg_schema)
    result = CliRunner().invoke(main, ["run", "audited_revenue", "-p",
                                       str(project_with_writing_view(tmp_path)), "--source", url])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: metrics audited_revenue: PostgreSQL refused a write on {url}: the kpispec "
        "session is read-only (cannot execute INSERT in a read-only transaction)\n")
    assert pg_audit(pg_schema) == 0


def test_postgres_session_refuses_writes_on_the_raw_connection(pg_schema: str) -> None:
    with postgres_source.connect(parse_source_url(support.pg_url(pg_schema))) as con:
        with pytest.raises(ExecutionError, match="the kpispec session is read-only"):
            con.execute(f'SELECT "{pg_schema}".audit_write() AS n').read_all()
        raw = con.psycopg
        import psycopg

        for statement in (f'INSERT INTO "{pg_schema}".audit VALUES (2)',
                          f'CREATE TABLE "{pg_schema}".stolen (n INT)'):
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                raw.execute(statement)
            raw.rollback()
        assert con.execute("SELECT 1 AS ok").read_all().to_pylist() == [{"ok": 1}]
    assert pg_audit(pg_schema) == 0


# -- MariaDB -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def my_database() -> Iterator[str]:
    support.require(support.MY_HOST, support.MY_PORT, "MariaDB")
    for name in support.my_database(rows=10):
        con = support.my_admin()
        try:
            with con.cursor() as cursor:
                cursor.execute(f"CREATE TABLE `{name}`.audit (n INT) ENGINE=InnoDB")
                cursor.execute(f"CREATE FUNCTION `{name}`.audit_write() RETURNS INT MODIFIES SQL "
                               f"DATA BEGIN INSERT INTO `{name}`.audit VALUES (1); RETURN 1; END")
                cursor.execute(f"CREATE VIEW `{name}`.audited_deals AS SELECT created_at, amount "
                               f"FROM `{name}`.deals WHERE `{name}`.audit_write() = 1")
        finally:
            con.close()
        yield name


def my_audit(database: str) -> int:
    con = support.my_admin()
    try:
        with con.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM `{database}`.audit")
            return int(cursor.fetchone()[0])
    finally:
        con.close()


def test_mariadb_refuses_a_write_hidden_in_a_view(tmp_path: Path, my_database: str) -> None:
    url = support.my_url(my_database)
    result = CliRunner().invoke(main, ["run", "audited_revenue", "-p",
                                       str(project_with_writing_view(tmp_path)), "--source", url])
    assert result.exit_code == 2
    assert result.stderr == (f"error: metrics audited_revenue: MySQL query failed on {url}: (1792) "
                             "Cannot execute statement in a READ ONLY transaction\n")
    assert my_audit(my_database) == 0


def test_mariadb_session_refuses_writes_on_the_raw_connection(my_database: str) -> None:
    import pymysql

    with mysql_source.connect(parse_source_url(support.my_url(my_database))) as con:
        with con.pymysql.cursor() as cursor:  # autocommit, outside kpispec's transactions
            for statement in ("INSERT INTO audit VALUES (2)", "SELECT audit_write()"):
                with pytest.raises(pymysql.err.OperationalError) as info:
                    cursor.execute(statement)
                assert info.value.args[0] == 1792
        assert con.execute("SELECT 1 AS ok").read_all().to_pylist() == [{"ok": 1}]
    assert my_audit(my_database) == 0


# -- in-process engines --------------------------------------------------------------------------


def test_sqlite_refuses_writes_on_the_raw_connection(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "w.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE audit (n INTEGER)")
    raw.commit()
    raw.close()
    for url, statements in ((f"sqlite:///{path}", ["INSERT INTO audit VALUES (1)",
                                                    "CREATE TABLE stolen (n INTEGER)"]),
                            ("sqlite://", ["CREATE TABLE stolen (n INTEGER)"])):
        with sqlite_source.connect(parse_source_url(url)) as con:
            for statement in statements:
                with pytest.raises(sqlite3.OperationalError, match="readonly database"):
                    con.sqlite.execute(statement)
            with pytest.raises(sqlite3.OperationalError, match="not authorized"):
                con.sqlite.execute("SELECT load_extension('/tmp/evil.so')")


def test_duckdb_has_no_external_access(tmp_path: Path) -> None:
    """No file outside the ``?path=`` directory, no COPY, no ATTACH — on the raw connection."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "deals.csv").write_text("deal_id,amount\n1,2.5\n", encoding="utf-8")
    (tmp_path / "secret.csv").write_text("password\nhunter2\n", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    for url in (f"duckdb:///{db}", "duckdb:///:memory:", f"duckdb:///:memory:?path={data}"):
        with duckdb_source.connect(parse_source_url(url)) as con:
            raw = con.duckdb
            for statement in (f"SELECT * FROM read_csv('{tmp_path / 'secret.csv'}')",
                              f"COPY (SELECT 1) TO '{tmp_path / 'leak.csv'}'",
                              f"ATTACH '{tmp_path / 'other.duckdb'}' AS other"):
                with pytest.raises(duckdb.Error, match="disabled by configuration"):
                    raw.execute(statement)
            with pytest.raises(duckdb.Error):
                raw.execute("SET enable_external_access = true")
            if "path=" in url:
                rows = con.execute("SELECT amount FROM deals").read_all().to_pylist()
                assert rows == [{"amount": 2.5}]
    assert not (tmp_path / "leak.csv").exists() and not (tmp_path / "other.duckdb").exists()


@pytest.mark.parametrize("statement", [
    "CREATE TABLE stolen AS SELECT 1 AS n",
    "COPY (SELECT 1) TO '{leak}'",
    "SET datafusion.execution.batch_size = 1",
])
def test_datafusion_refuses_statements_past_the_guard(statement: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("datafusion")
    monkeypatch.setattr(guard, "check_single_select", lambda *args, **kwargs: None)
    with datafusion_source.connect(parse_source_url("datafusion://")) as con, \
            pytest.raises(ExecutionError, match="not supported"):
        con.execute(statement.format(leak=tmp_path / "leak.csv"))
    assert not (tmp_path / "leak.csv").exists()
