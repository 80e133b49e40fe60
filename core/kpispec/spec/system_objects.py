"""What a model may read: the project's tables, never the engine's own.

A model's ``table:`` or ``sql:`` names tables the engine resolves, and every
engine keeps its own catalog in tables a SELECT can read: PostgreSQL's
``pg_catalog.pg_settings`` and ``pg_authid`` (password hashes), MySQL's
``mysql.user`` and ``information_schema.global_variables``, DuckDB's
``duckdb_settings`` and its ``pg_catalog`` views (secret and extension
directories), SQLite's ``sqlite_master``, ClickHouse's ``system.*``. None of it
is data a metric needs, so a model naming it is refused at validation, in
``table:`` and ``sql:`` alike, and :mod:`kpispec.compile.guard` refuses it
again in the final query. The list is the same whatever the project dialect,
since a spec written for one engine may be compiled for another.

A model's ``sql:`` is held to an allow-list of node types as well: the
snippet constructs, the allowed functions, and the parts of a SELECT
(:data:`QUERY_NODES`). Engine-specific commands that parse inside a subquery —
DuckDB's ``(SUMMARIZE t)``, ``(DESCRIBE t)``, ``(SHOW TABLES)``, ``PIVOT`` — and
session variables (``@@global.secure_file_priv``, ``@@hostname``) are not on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kpispec.errors import Location, SpecError
from kpispec.spec.bounds import BOUND_HINT, text_bound_refusal
from sqlglot import exp

__all__ = ["QUERY_NODES", "SYSTEM_SCHEMAS", "SYSTEM_TABLE_PREFIXES", "check_table",
           "parse_table", "query_node_refusal", "system_table"]

#: Schemas (and databases, catalogs) that hold an engine's own catalog, lower case.
SYSTEM_SCHEMAS: frozenset[str] = frozenset({
    "information_schema", "pg_catalog", "pg_toast",  # SQL standard, PostgreSQL, DuckDB
    "mysql", "performance_schema", "sys",  # MySQL, MariaDB
    "system",  # ClickHouse
    "account_usage", "organization_usage",  # Snowflake's SNOWFLAKE database
})
#: Table (and schema) names that start like an engine's own: ``pg_settings`` (PostgreSQL
#: resolves ``pg_catalog`` first, unqualified), ``pg_temp_3``, ``sqlite_master``,
#: ``sqlite_schema``, ``duckdb_settings``, Redshift's ``stl_``/``stv_``/``svl_``/``svv_``.
SYSTEM_TABLE_PREFIXES: tuple[str, ...] = ("pg_", "sqlite_", "duckdb_", "stl_", "stv_", "svl_",
                                          "svv_")

#: The parts of a SELECT a model's ``sql`` may use, besides the snippet constructs and
#: allowed functions: nothing here reads anything but the tables named.
QUERY_NODES: frozenset[type[exp.Expr]] = frozenset(
    c for n in ("Select", "From", "Join", "Where", "Group", "Having", "Qualify", "Order",
                "Ordered", "Limit", "Offset", "Fetch", "With", "CTE", "TableAlias", "Subquery",
                "Union", "Intersect", "Except", "Window", "WindowSpec", "Alias", "Distinct",
                "Star", "Table", "Tuple", "Values", "Cube", "Rollup", "GroupingSets", "Filter",
                "Column", "Identifier")
    if isinstance(c := getattr(exp, n, None), type))


def system_table(parts: Sequence[str]) -> str | None:
    """The dotted name if ``parts`` (``[catalog, schema, table]``) name an engine's own
    catalog table or schema, else None.

    >>> system_table(["pg_catalog", "pg_settings"]), system_table(["sqlite_master"])
    ('pg_catalog.pg_settings', 'sqlite_master')
    >>> system_table(["MySQL", "user"]), system_table(["crm", "deals"])
    ('MySQL.user', None)
    """
    for i, part in enumerate(parts):
        lower = part.lower()
        schema = i < len(parts) - 1
        if (schema and lower in SYSTEM_SCHEMAS) or lower.startswith(SYSTEM_TABLE_PREFIXES) or (
                lower == "information_schema"):
            return ".".join(parts)
    return None


def _refusal(name: str) -> tuple[str, str]:
    return (f"{name!r} is one of the database's own catalog tables; a model reads the "
            "project's tables, never the engine's catalog (pg_catalog, information_schema, "
            "mysql, performance_schema, sys, system, sqlite_master, duckdb_*…)",
            "Name a table of your data")


def check_table(table: exp.Table) -> tuple[str, str] | None:
    """Why a table a model's ``sql`` reads is refused (message, hint), or None."""
    name = system_table([part.name for part in table.parts])
    return _refusal(name) if name is not None else None


def parse_table(text: str, where: Location) -> exp.Table:
    """A model's ``table:`` (``[catalog.][schema.]table``) as a tree, refusing catalog tables.

    Raises:
        SpecError: the table is one of the engine's own, located at ``where``.
    """
    table = exp.to_table(text)
    refusal = check_table(table)
    if refusal is not None:
        raise SpecError(refusal[0], where, refusal[1])
    return table


def query_node_refusal(node: exp.Expr, scalar_nodes: frozenset[type[exp.Expr]],
                       show: Callable[[exp.Expr], str]) -> tuple[str, str] | None:
    """Why a node of a model's ``sql`` is refused (message with ``{at}`` for its position,
    hint), or None: an engine's catalog table, a command nested as a subquery, a session
    variable, or any node that is neither a part of a SELECT (:data:`QUERY_NODES`) nor one
    of ``scalar_nodes``; for the query itself (the root), text it could build beyond
    :mod:`kpispec.spec.bounds`. Functions are left to the caller's allow-list of functions.
    """
    if node.parent is None and (too_long := text_bound_refusal(node)) is not None:
        return too_long, BOUND_HINT  # the whole query: rpad(x, 1000000000) is memory, not data
    if isinstance(node, exp.Table):
        refusal = check_table(node)
        return (refusal[0] + "{at}", refusal[1]) if refusal is not None else None
    if isinstance(node, exp.Subquery) and not isinstance(node.this, exp.Query):
        return (f"a model's sql may nest only SELECTs, not {show(node.this)!r}{{at}}",
                "DuckDB's SUMMARIZE, DESCRIBE, SHOW and PIVOT statements are commands, not "
                "a table's rows: write the SELECT")
    if type(node) in QUERY_NODES or type(node) in scalar_nodes or isinstance(node, exp.Func):
        return None
    if isinstance(node, exp.SessionParameter):
        return (f"session variables such as {show(node)!r} are not allowed in a model's "
                "sql{at}", "A model reads the columns of tables; server settings are not data")
    return (f"{type(node).__name__} expressions such as {show(node)!r} are not allowed in a "
            "model's sql{at}", "A model's sql is a SELECT of columns, literals, operators and "
            "the allowed functions, over tables, joins, subqueries and CTEs")
