"""Fixtures of the hostile-input corpus: a small CRM warehouse on DuckDB and PostgreSQL.

The PostgreSQL copy lives in a fresh schema and is read through a login role
made for this run (``kpispec_hostile_<hex>``) that may only read that schema
and whose sessions log every statement (``ALTER ROLE … SET log_statement =
'all'``), so the server's own log says what kpispec asked it to do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.engines import load_postgres
from tests.hostile.recorder import ServerLog

#: The project every case starts from (a case adds hostile.yaml and may replace kpispec.yaml).
BASE_SPEC = """\
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
"""


def _tables() -> dict[str, pa.Table]:
    t = dt.datetime
    return {
        "deals": pa.table({
            "deal_id": pa.array([1, 2, 3, 4], pa.int64()),
            "customer_id": pa.array([1, 1, 2, 2], pa.int64()),
            "created_at": pa.array([t(2024, 1, 3), t(2024, 1, 5), t(2024, 2, 9), t(2024, 3, 1)],
                                   pa.timestamp("us")),
            "closed_at": pa.array([t(2024, 1, 20), t(2024, 3, 2), t(2024, 3, 10), None],
                                  pa.timestamp("us")),
            "stage": pa.array(["won", "won", "lost", "open"]),
            "amount": pa.array([100.0, 300.0, 50.0, 20.0]),
            "region": pa.array(["EMEA", "NA", "NA", "EMEA"]),
        }),
        "customers": pa.table({
            "customer_id": pa.array([1, 2], pa.int64()),
            "signed_up_at": pa.array([t(2023, 1, 1), t(2023, 2, 1)], pa.timestamp("us")),
            "segment": pa.array(["smb", "ent"]),
        }),
    }


TABLES = _tables()


@dataclass(frozen=True)
class Engine:
    """A source the corpus runs on."""

    name: str               # duckdb | postgres
    url: str                # what kpispec is given
    dialect: str            # the sqlglot dialect the statements are in
    server_log: ServerLog | None = None

    def fingerprint(self) -> Any:
        """Something that changes when the data does (tables, their rows)."""
        if self.name == "duckdb":
            path = self.url.removeprefix("duckdb:///")
            return hashlib.sha256(Path(path).read_bytes()).hexdigest()
        return _pg_fingerprint(self.url)


@pytest.fixture(scope="session")
def duckdb_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    import duckdb

    path = tmp_path_factory.mktemp("h9a_duckdb") / "crm.duckdb"
    con = duckdb.connect(str(path))
    for name, table in TABLES.items():
        con.register("incoming", table)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming")  # test data, fixed names
        con.unregister("incoming")
    con.close()
    return Engine("duckdb", f"duckdb:///{path}", "duckdb")


def _superuser() -> Any:
    import psycopg

    return psycopg.connect(host=load_postgres.HOST, port=load_postgres.PORT,
                           user=load_postgres.USER, dbname=load_postgres.DATABASE,
                           autocommit=True, connect_timeout=10)


def _pg_fingerprint(url: str) -> Any:
    from urllib.parse import parse_qsl, urlsplit

    schema = dict(parse_qsl(urlsplit(url).query))["schema"]
    with _superuser() as con:
        tables = con.execute("SELECT table_name FROM information_schema.tables "
                             "WHERE table_schema = %s ORDER BY table_name", (schema,)).fetchall()
        from psycopg import sql

        counts = [con.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(schema, name))).fetchone() for (name,) in tables]
    return tables, counts


def _log_path() -> Path | None:
    """The file the server's statement log goes to, if this process may read it."""
    configured = os.environ.get("KPISPEC_TEST_PG_LOG")
    candidates = [Path(configured)] if configured else []
    try:
        with _superuser() as con:
            current = con.execute("SELECT pg_current_logfile()").fetchone()[0]
            data = con.execute("SELECT current_setting('data_directory')").fetchone()[0]
            major = con.execute("SELECT current_setting('server_version_num')").fetchone()[0][:2]
    except Exception:
        return None
    if current:
        candidates.append(Path(current) if os.path.isabs(current) else Path(data) / current)
    candidates.append(Path(f"/var/log/postgresql/postgresql-{major}-main.log"))
    for path in candidates:
        try:
            with path.open("rb"):
                return path
        except OSError:
            continue
    return None


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    if not load_postgres.server_available():
        if "CI" in os.environ:
            pytest.fail("no PostgreSQL server on 127.0.0.1:5432, and CI is set")
        pytest.skip("no PostgreSQL server listens on 127.0.0.1:5432 (with CI set this fails)")

    import psycopg
    from psycopg import sql

    admin_url = load_postgres.load(TABLES)
    schema = admin_url.rsplit("schema=", 1)[1]
    role = f"kpispec_hostile_{secrets.token_hex(4)}"
    url, server_log = admin_url, None
    try:
        with _superuser() as con:
            con.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
            con.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                sql.Identifier(schema), sql.Identifier(role)))
            con.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                sql.Identifier(schema), sql.Identifier(role)))
            con.execute(sql.SQL("ALTER ROLE {} SET log_statement = 'all'").format(
                sql.Identifier(role)))
        url = load_postgres.url_for(schema, user=role)
        path = _log_path()
        server_log = ServerLog(path, role, load_postgres.DATABASE) if path is not None else None
    except psycopg.Error:  # not a superuser here: the wrapped driver is the only witness
        role = ""
    try:
        yield Engine("postgres", url, "postgres", server_log)
    finally:
        load_postgres.drop(admin_url)
        if role:
            with _superuser() as con:
                con.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def write_project(root: Path, hostile: bytes | str | None = None, settings: bytes | str | None = None,
                  ) -> Path:
    """The base project in ``root``, plus hostile.yaml and kpispec.yaml when given."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "crm.yaml").write_text(BASE_SPEC, encoding="utf-8")
    for name, content in (("hostile.yaml", hostile), ("kpispec.yaml", settings)):
        if content is None:
            continue
        if isinstance(content, str):
            content = textwrap.dedent(content).encode("utf-8")
        (root / name).write_bytes(content)
    return root
