"""The names of the SQL dialects kpispec writes, shared by the spec layer and the compiler.

The spec layer parses users' snippets in a source's dialect and the compiler
renders queries in it; both need the same canonical names (``postgresql`` is
``postgres``) and the sqlglot dialect that parses each one. This module holds
only names, so neither layer imports the other for them. What a dialect spells
differently lives in its class under :mod:`kpispec.compile.dialects`.
"""

from __future__ import annotations

__all__ = ["DIALECTS", "dialect_name", "sqlglot_dialect"]

#: Output dialects kpispec supports and tests (golden SQL for each).
DIALECTS = (
    "duckdb", "sqlite", "postgres", "mysql", "snowflake", "bigquery", "redshift",
    "spark", "databricks", "trino", "clickhouse", "tsql", "oracle", "datafusion",
)
_ALIASES = {"postgresql": "postgres", "mariadb": "mysql", "sqlserver": "tsql", "mssql": "tsql",
            "spark2": "spark", "presto": "trino"}
#: kpispec dialects that sqlglot has no dialect of its own for: parsed and rendered by
#: the sqlglot dialect named here (kpispec's own spellings live in the dialect's class).
_RENDERED_AS = {"datafusion": "postgres"}


def dialect_name(dialect: str) -> str:
    """The canonical kpispec name of ``dialect`` (``postgresql`` → ``postgres``).

    >>> dialect_name("PostgreSQL"), dialect_name("mariadb")
    ('postgres', 'mysql')
    """
    name = dialect.lower()
    return _ALIASES.get(name, name)


def sqlglot_dialect(dialect: str) -> str:
    """The sqlglot dialect that parses and renders kpispec's ``dialect``.

    >>> sqlglot_dialect("datafusion"), sqlglot_dialect("snowflake")
    ('postgres', 'snowflake')
    """
    return _RENDERED_AS.get(dialect, dialect)
