"""Write-back table names that look like driver placeholders (issue 23, finding 8).

``--sink 'postgresql://…#schema.%s%s'`` reached psycopg's placeholder parser,
which knows nothing of quoted names: the run failed with "the query has 3
placeholders but 1 parameters were passed". A ``%`` in a name is a character of
the name on every write-back sink.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from kpispec.cli import main

from tests.faults import support

NAMES = ["%s%s", "a%(x)s", "t%%", "%"]


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, str]:
    root = support.make_project(tmp_path / "project")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE deals AS SELECT range AS deal_id, TIMESTAMP '2024-03-01' AS "
                "created_at, (range + 1) * 10.0 AS amount, 'x' AS label FROM range(3)")
    con.close()
    return root, f"duckdb:///{tmp_path / 'w.duckdb'}"


def write_twice(source: tuple[Path, str], sink: str) -> None:
    """The second run takes the path that deletes the periods it replaces."""
    root, url = source
    for _ in range(2):
        result = CliRunner().invoke(main, ["run", "revenue", "-p", str(root), "--source", url,
                                           *support.RANGE, "--sink", sink])
        assert result.exit_code == 0, result.output


def test_postgres_table_names_with_percent(source: tuple[Path, str]) -> None:
    support.require(support.PG_HOST, support.PG_PORT, "PostgreSQL")
    from psycopg import sql

    schema = f"kpispec_pct%s_{secrets.token_hex(3)}"
    url = f"postgresql://{support.PG_USER}@{support.PG_HOST}:{support.PG_PORT}/{support.PG_DATABASE}"
    try:
        for table in NAMES:
            write_twice(source, f"{url}#{schema}.{table}")
        with support.pg_admin() as admin:
            for table in NAMES:
                rows = admin.execute(sql.SQL("SELECT period::text, revenue FROM {}").format(
                    sql.Identifier(schema, table))).fetchall()
                assert rows == [("2024-01-01", 60.0)], table
    finally:
        with support.pg_admin() as admin:
            admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))


def test_mariadb_table_names_with_percent(source: tuple[Path, str]) -> None:
    support.require(support.MY_HOST, support.MY_PORT, "MariaDB")
    database = f"kpispec_pct%s_{secrets.token_hex(3)}"
    url = f"mysql://{support.MY_USER}@{support.MY_HOST}:{support.MY_PORT}/{support.MY_DATABASE}"
    con = support.my_admin()
    try:
        for table in NAMES:
            write_twice(source, f"{url}#{database}.{table}")
        with con.cursor() as cursor:
            for table in NAMES:
                cursor.execute(f"SELECT CAST(period AS CHAR), revenue FROM `{database}`.`{table}`")
                assert list(cursor.fetchall()) == [("2024-01-01", 60.0)], table
    finally:
        with con.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
        con.close()
