"""The engine's catalog and server variables never reach it (issue 23, findings 3 and 4).

A model's ``sql:`` read ``pg_catalog.pg_settings``, ``pg_authid``, MariaDB's
``mysql.user`` and ``information_schema.global_variables``, DuckDB's
``pg_catalog.pg_settings``; and ``SELECT @@global.secure_file_priv, @@hostname``
ran from a model's ``sql:``. Each is refused at validation with a located
message (exit 1), on DuckDB, PostgreSQL and MariaDB, before any connection
executes anything; and a ``modify_query`` plugin that puts one into the final
query is refused by the guard (exit 2, naming the plugin).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from kpispec import testing
from kpispec.cli import main
from kpispec.hookspecs import hookimpl
from kpispec_builtins import duckdb_source, mysql_source, postgres_source
from sqlglot import exp

from tests.faults import support

CATALOG = ("is one of the database's own catalog tables; a model reads the project's tables, "
           "never the engine's catalog")
#: (dialect, model body, expected message after "models.yaml:5:")
MODELS = [
    ("postgres", 'sql: "SELECT name AS id, setting AS created_at FROM pg_catalog.pg_settings"',
     f"10: models[0].sql: 'pg_catalog.pg_settings' {CATALOG}"),
    ("postgres", 'sql: "SELECT rolname AS id, rolpassword AS created_at FROM pg_authid"',
     f"10: models[0].sql: 'pg_authid' {CATALOG}"),
    ("postgres", "table: pg_catalog.pg_authid",
     f"12: models[0].table: 'pg_catalog.pg_authid' {CATALOG}"),
    ("mysql", 'sql: "SELECT user AS id, authentication_string AS created_at FROM mysql.user"',
     f"10: models[0].sql: 'mysql.user' {CATALOG}"),
    ("mysql", 'sql: "SELECT variable_value AS id, variable_name AS created_at FROM '
              'information_schema.global_variables"',
     f"10: models[0].sql: 'information_schema.global_variables' {CATALOG}"),
    ("mysql", 'sql: "SELECT @@global.secure_file_priv AS id, @@hostname AS created_at, '
              '@@datadir AS d"',
     "10: models[0].sql: session variables such as '@@global.secure_file_priv' are not allowed "
     "in a model's sql"),
    ("mysql", "table: mysql.user", f"12: models[0].table: 'mysql.user' {CATALOG}"),
    ("duckdb", 'sql: "SELECT name AS id, setting AS created_at FROM pg_catalog.pg_settings"',
     f"10: models[0].sql: 'pg_catalog.pg_settings' {CATALOG}"),
    ("duckdb", 'sql: "SELECT * FROM (SUMMARIZE deals)"',
     "10: models[0].sql: a model's sql may nest only SELECTs, not 'SUMMARIZE deals'"),
    ("duckdb", 'sql: "SELECT * FROM (DESCRIBE deals)"',
     "10: models[0].sql: a model's sql may nest only SELECTs, not 'DESCRIBE deals'"),
    ("duckdb", "table: information_schema.tables",
     f"12: models[0].table: 'information_schema.tables' {CATALOG}"),
]


def project(root: Path, dialect: str, body: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "kpispec.yaml").write_text(f"dialect: {dialect}\n", encoding="utf-8")
    (root / "models.yaml").write_text(textwrap.dedent(f"""\
        models:
          - name: leaky
            primary_key: id
            time: created_at
            {body}
        metrics:
          - name: revenue
            type: simple
            measure: {{model: leaky, agg: count}}
        """), encoding="utf-8")
    return root


@pytest.fixture
def executed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL text any DuckDB, PostgreSQL or MariaDB connection is asked to run."""
    seen: list[str] = []
    for cls in (duckdb_source.DuckDBConnection, postgres_source.PostgresConnection,
                mysql_source.MySQLConnection):
        original = cls.execute

        def recording(self: Any, sql: str, _original: Any = original, **kwargs: Any) -> Any:
            seen.append(sql)
            return _original(self, sql, **kwargs)

        monkeypatch.setattr(cls, "execute", recording)
    return seen


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    path = tmp_path_factory.mktemp("catalogs") / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE deals AS SELECT range AS deal_id, TIMESTAMP '2024-01-01' AS "
                "created_at, 1.0 AS amount, 'x' AS label FROM range(3)")
    con.close()
    urls = {"duckdb": f"duckdb:///{path}"}
    schema = database = None
    if support.listening(support.PG_HOST, support.PG_PORT):
        schema = support.pg_schema(rows=5)
        urls["postgres"] = support.pg_url(next(schema))
    if support.listening(support.MY_HOST, support.MY_PORT):
        database = support.my_database(rows=5)
        urls["mysql"] = support.my_url(next(database))
    yield urls
    for generator in (schema, database):
        if generator is not None:
            generator.close()


def _source(sources: dict[str, str], engine: str) -> str:
    if engine not in sources:
        support.require(*((support.PG_HOST, support.PG_PORT, "PostgreSQL") if engine == "postgres"
                          else (support.MY_HOST, support.MY_PORT, "MariaDB")))
    return sources[engine]


@pytest.mark.parametrize(("dialect", "body", "message"), MODELS)
@pytest.mark.parametrize("engine", ["duckdb", "postgres", "mysql"])
def test_refused_at_validation_on_every_engine(dialect: str, body: str, message: str, engine: str,
                                               tmp_path: Path, sources: dict[str, str],
                                               executed: list[str]) -> None:
    source = _source(sources, engine)
    root = project(tmp_path / "p", dialect, body)
    for args in (["run", "revenue", "-p", str(root), "--source", source, *support.RANGE],
                 ["validate", "-p", str(root), "--source", source]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert f"models.yaml:5:{message}" in result.stderr, result.stderr
    assert executed == []


class CatalogQuery:
    """A ``modify_query`` plugin that reads the catalog or a server variable instead."""

    def __init__(self, table: str | None = None, variable: str | None = None) -> None:
        self.table, self.variable = table, variable

    @hookimpl
    def modify_query(self, expression: exp.Expr, dialect: str) -> exp.Expr:
        if self.variable is not None:
            return exp.select(exp.SessionParameter(this=exp.var(self.variable)).as_("period"))
        assert self.table is not None
        return exp.select("*").from_(exp.to_table(self.table))


@pytest.mark.parametrize(("engine", "plugin", "refusal"), [
    ("duckdb", CatalogQuery("pg_catalog.pg_settings"), "the database's own catalog "
                                                        "('pg_catalog.pg_settings')"),
    ("duckdb", CatalogQuery("duckdb_secrets"), "the database's own catalog ('duckdb_secrets')"),
    ("postgres", CatalogQuery("pg_authid"), "the database's own catalog ('pg_authid')"),
    ("mysql", CatalogQuery("mysql.user"), "the database's own catalog ('mysql.user')"),
    ("mysql", CatalogQuery(variable="hostname"), "a server variable (@@hostname)"),
])
def test_the_final_query_guard_refuses_them_too(engine: str, plugin: CatalogQuery, refusal: str,
                                                tmp_path: Path, sources: dict[str, str],
                                                executed: list[str]) -> None:
    source = _source(sources, engine)
    root = support.make_project(tmp_path / "project")
    with testing.registered(plugin, "hostile"):
        result = CliRunner().invoke(main, ["run", "revenue", "-p", str(root), "--source", source,
                                           *support.RANGE])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        "error: plugin 'hostile' in hook modify_query: made the query of revenue one kpispec "
        f"will not run (refusing to run a query reading {refusal})"), result.stderr
    assert executed == []
