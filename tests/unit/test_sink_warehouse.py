"""Write-back sinks on DuckDB, and on the real PostgreSQL and MariaDB servers of the test setup.

Each engine: the table is created and holds the result; a rerun gives the same table
(nothing duplicated); a run over another range replaces only its own periods, and
every row of those periods (a dimension value gone from the data goes too); a failure
inside the transaction leaves the old rows. PostgreSQL and MariaDB skip only when
nothing listens on their port outside CI (with CI set, that fails), like
tests/engines/test_matrix.py.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kpispec
import pytest
from kpispec.errors import ExecutionError
from kpispec.output import write_result

from tests.engines import load_postgres
from tests.unit import sinks_support as support

PG = f"postgresql://{load_postgres.USER}@{load_postgres.HOST}:{load_postgres.PORT}/{load_postgres.DATABASE}"
MYSQL = "mysql://root@127.0.0.1:3306/test"
COLUMNS = ["period", "region", "deals_won", "revenue", "win_rate"]


@dataclass
class Engine:
    name: str
    target: str  # the --sink value
    execute: Callable[[str], None]  # run one fixed statement on the target's schema
    read: Callable[[], list[dict[str, Any]] | None]  # the table's rows, None when missing
    qualified: str  # the table's name in `execute` statements


def _require(port: int, what: str) -> None:
    if not load_postgres.server_available(port=port):
        if "CI" in os.environ:
            pytest.fail(f"no {what} server listens on 127.0.0.1:{port}, and CI is set",
                        pytrace=False)
        pytest.skip(f"no {what} server listens on 127.0.0.1:{port} (with CI set this fails)")


def _rows(cursor_rows: list[tuple[Any, ...]], names: list[str]) -> list[dict[str, Any]]:
    out = []
    for row in cursor_rows:
        record = dict(zip(names, row))
        if isinstance(record.get("period"), dt.datetime):
            record["period"] = record["period"].date()
        out.append(record)
    return sorted(out, key=lambda r: (r["period"], r["region"] is None, r["region"] or ""))


@pytest.fixture
def duckdb_engine(tmp_path: Path) -> Iterator[Engine]:
    import duckdb

    path = tmp_path / "warehouse.duckdb"

    def execute(statement: str) -> None:
        con = duckdb.connect(str(path))
        try:
            con.execute(statement)
        finally:
            con.close()

    def read() -> list[dict[str, Any]] | None:
        if not path.exists():
            return None
        con = duckdb.connect(str(path), read_only=True)
        try:
            cursor = con.execute("SELECT * FROM metrics.monthly")
        except duckdb.CatalogException:
            return None
        finally:
            pass
        names = [d[0] for d in cursor.description]
        rows = _rows(cursor.fetchall(), names)
        con.close()
        return rows

    yield Engine("duckdb", f"duckdb:///{path}#metrics.monthly", execute, read, "metrics.monthly")


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    _require(load_postgres.PORT, "PostgreSQL")
    import psycopg
    from psycopg import sql

    schema = f"kpispec_sink_{uuid.uuid4().hex[:10]}"
    dsn = {"host": load_postgres.HOST, "port": load_postgres.PORT, "user": load_postgres.USER,
           "dbname": load_postgres.DATABASE, "autocommit": True}

    def execute(statement: str) -> None:
        with psycopg.connect(**dsn) as con:
            con.execute(statement.encode())

    def read() -> list[dict[str, Any]] | None:
        with psycopg.connect(**dsn) as con:
            if con.execute("SELECT to_regclass(%s)", (f"{schema}.monthly",)).fetchone()[0] is None:
                return None
            cursor = con.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, "monthly")))
            names = [d.name for d in cursor.description or ()]
            return _rows(cursor.fetchall(), names)

    yield Engine("postgres", f"{PG}#{schema}.monthly", execute, read, f"{schema}.monthly")
    with psycopg.connect(**dsn) as con:
        con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def mysql_engine() -> Iterator[Engine]:
    _require(3306, "MariaDB")
    import pymysql

    database = f"kpispec_sink_{uuid.uuid4().hex[:10]}"
    params = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": "", "autocommit": True}

    def execute(statement: str) -> None:
        con = pymysql.connect(**params)
        try:
            with con.cursor() as cursor:
                cursor.execute(statement)
        finally:
            con.close()

    def read() -> list[dict[str, Any]] | None:
        con = pymysql.connect(**params)
        try:
            with con.cursor() as cursor:
                cursor.execute("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                               "AND TABLE_NAME = 'monthly'", (database,))
                if cursor.fetchone() is None:
                    return None
                cursor.execute(f"SELECT * FROM `{database}`.monthly")
                names = [d[0] for d in cursor.description]
                return _rows(list(cursor.fetchall()), names)
        finally:
            con.close()

    yield Engine("mysql", f"{MYSQL}#{database}.monthly", execute, read, f"{database}.monthly")
    execute(f"DROP DATABASE IF EXISTS `{database}`")


@pytest.fixture(params=["duckdb", "postgres", "mysql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    root = tmp_path_factory.mktemp("writeback")
    project = kpispec.load_project(support.make_project(root / "project"), packs=False)
    return project, support.make_database(root / "crm.duckdb")


def run(workspace: tuple[Any, str], target: str, *, metrics: list[str] | None = None,
        start: str = "2024-01-01", end: str = "2024-04-01") -> list[dict[str, Any]]:
    project, url = workspace
    names = metrics or support.METRICS
    options = {"by": ["region"], "start": start, "end": end}
    write_result(project, names, source=url, sinks=[target], options=options)
    return _rows([tuple(r.values()) for r in project.run(names, source=url, **options).to_pylist()],
                 ["period", "region", *names])


def test_creates_the_table_and_reruns_are_idempotent(engine: Engine,
                                                     workspace: tuple[Any, str]) -> None:
    assert engine.read() is None
    expected = run(workspace, engine.target)
    first = engine.read()
    assert first is not None
    support.assert_same_rows(first, expected)
    run(workspace, engine.target)
    run(workspace, engine.target)
    assert engine.read() == first  # the same table: nothing duplicated


def test_replaces_only_the_periods_it_recomputes(engine: Engine, workspace: tuple[Any, str]) -> None:
    run(workspace, engine.target)
    # an old period outside the next run, and a dimension value that no longer exists
    engine.execute(f"INSERT INTO {engine.qualified} (period, region, deals_won) "
                   "VALUES ('2023-06-01', 'OLD', 7), ('2024-03-01', 'GONE', 9)")
    march = run(workspace, engine.target, start="2024-03-01", end="2024-04-01")
    rows = engine.read()
    assert rows is not None
    assert [r for r in rows if r["period"] == dt.date(2024, 3, 1)] == march
    assert any(r["region"] == "OLD" and r["deals_won"] == 7 for r in rows)
    assert not any(r["region"] == "GONE" for r in rows)
    earlier = [r for r in rows if dt.date(2024, 1, 1) <= r["period"] < dt.date(2024, 3, 1)]
    assert len(earlier) == 2  # January and February of the first run, untouched


def test_failure_inside_the_transaction_keeps_the_old_rows(engine: Engine,
                                                          workspace: tuple[Any, str]) -> None:
    schema = engine.qualified.split(".")[0]
    if engine.name == "postgres":
        engine.execute(f'CREATE SCHEMA "{schema}"')
    elif engine.name == "mysql":
        engine.execute(f"CREATE DATABASE `{schema}`")
    else:
        engine.execute(f'CREATE SCHEMA "{schema}"')
    number = "DOUBLE PRECISION" if engine.name == "postgres" else "DOUBLE"
    engine.execute(f"CREATE TABLE {engine.qualified} (period DATE, region VARCHAR(100), "
                   f"deals_won BIGINT, revenue {number} CHECK (revenue < 200), win_rate {number})")
    engine.execute(f"INSERT INTO {engine.qualified} VALUES ('2024-01-01', 'EMEA', 5, 1.5, 10.0), "
                   "('2024-03-01', 'KEEP', 1, 2.5, 20.0)")
    before = engine.read()
    # The run deletes January to March, then inserts revenue 250.5: the CHECK fails.
    with pytest.raises(ExecutionError) as info:
        run(workspace, engine.target)
    message = str(info.value)
    assert "\n" not in message and "the table is unchanged" in message
    assert message.startswith(f"sink {engine.target.split('#')[0]}")
    assert engine.read() == before


def test_adds_missing_columns_and_keeps_the_others(engine: Engine,
                                                   workspace: tuple[Any, str]) -> None:
    run(workspace, engine.target, metrics=["deals_won"])
    expected = run(workspace, engine.target)
    rows = engine.read()
    assert rows is not None and list(rows[0]) == COLUMNS
    support.assert_same_rows(rows, expected)


def test_writes_back_into_the_source_duckdb_file(workspace: tuple[Any, str]) -> None:
    project, url = workspace
    target = f"{url}#metrics.monthly"
    run(workspace, target)
    again = kpispec.load_project(project.root, packs=False)
    assert again.run(["deals_won"], source=url, **support.RANGE).num_rows == 3  # still readable
    import duckdb

    con = duckdb.connect(url.removeprefix("duckdb:///"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM metrics.monthly").fetchone() == (6,)
    finally:
        con.close()


def test_mysql_refuses_a_table_that_cannot_roll_back(mysql_engine: Engine,
                                                     workspace: tuple[Any, str]) -> None:
    schema = mysql_engine.qualified.split(".")[0]
    mysql_engine.execute(f"CREATE DATABASE `{schema}`")
    mysql_engine.execute(f"CREATE TABLE {mysql_engine.qualified} (period DATE) ENGINE=MyISAM")
    with pytest.raises(ExecutionError, match="storage engine 'MyISAM' cannot roll back"):
        run(workspace, mysql_engine.target)
    assert mysql_engine.read() == []


@pytest.mark.parametrize(("target", "message"), [
    ("duckdb:///x.duckdb", "name the table to write after '#'"),
    ("duckdb:///x.duckdb#", "name the table to write after '#'"),
    ("duckdb:///x.duckdb#.t", "is not [schema.]table"),
    ("duckdb:///:memory:#t", "an in-memory database vanishes"),
    ("duckdb:///no/such/dir/x.duckdb#t", "does not exist; create it first"),
    ("postgresql://kp:s3cret-Pa55@127.0.0.1:1/test#t", "cannot connect"),
])
def test_target_errors_are_one_line(workspace: tuple[Any, str], target: str, message: str,
                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExecutionError) as info:
        run(workspace, target)
    text = str(info.value)
    assert message in text and "\n" not in text and "s3cret" not in text
    assert text.startswith("sink ")
