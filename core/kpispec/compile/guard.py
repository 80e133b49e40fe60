"""The last check before a query reaches a source: one read-only SELECT, nothing else.

kpispec only ever sends the query it generated, but ``modify_query`` plugins and
sources sit between the compiler and the server; this check runs on the parsed
text right before execution, so whatever happened on the way, a statement that
writes, a second statement or a command never reaches the server.

Two levels. :func:`check_single_select` (every built-in source runs it inside
``Connection.execute``, under the engine's own read-only mode): exactly one
query, no statement that writes, no ``SELECT … INTO``. :func:`check_query`
(what :meth:`kpispec.Project.execute` runs on the final SQL, after the
``modify_query`` plugins) refuses, besides, what a SELECT can do beyond reading
the tables it names: locking reads (``FOR UPDATE``), functions that read or
write files, reach the network, sleep, take locks or administer the server
(``read_csv``, ``pg_read_file``, ``LOAD_FILE``, ``lo_export``, ``dblink``,
``pg_terminate_backend``, ``SLEEP``, ClickHouse's ``file``/``url``/``s3`` table
functions…), tables named by a file path (DuckDB's ``FROM 'data.csv'``,
Spark's ``parquet.`/path```), the engine's own catalog tables (``pg_catalog.*``,
``information_schema.*``, ``mysql.user``, ``sqlite_master``… — see
:mod:`kpispec.spec.system_objects`) and server variables (``@@hostname``).
Sources add the engine's own read-only mode on top (see docs/sources.md).
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from kpispec.compile.dialects import DIALECTS, dialect_name, sqlglot_dialect
from kpispec.compile.dialects import dialect as kpispec_dialect
from kpispec.errors import ExecutionError
from kpispec.spec.system_objects import system_table

__all__ = ["REFUSED_FUNCTIONS", "check_query", "check_single_select"]

_WRITES: tuple[type[exp.Expr], ...] = (
    exp.DDL, exp.DML, exp.Command, exp.Drop, exp.TruncateTable, exp.Alter, exp.Create,
    exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Set, exp.Pragma, exp.Use,
    exp.Transaction, exp.Commit, exp.Rollback, exp.Copy,
)

#: Functions a metric query never needs, which read or write files, reach other
#: servers, wait, lock, or act on the server or its sessions (lower case, every dialect).
REFUSED_FUNCTIONS: frozenset[str] = frozenset({
    # files and other databases (DuckDB)
    "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto",
    "read_json_objects", "read_json_objects_auto", "read_ndjson", "read_ndjson_auto",
    "read_ndjson_objects", "read_text", "read_blob", "read_xlsx", "csv_scan", "json_scan",
    "sniff_csv", "glob", "parquet_metadata", "parquet_schema", "parquet_file_metadata",
    "parquet_kv_metadata", "iceberg_scan", "iceberg_metadata", "delta_scan", "sqlite_scan",
    "sqlite_attach", "postgres_scan", "postgres_query", "postgres_execute", "postgres_attach",
    "mysql_query", "mysql_execute", "query_table", "getenv", "read_file",
    # PostgreSQL: server files, large objects, other servers, sessions, administration
    "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_ls_logdir",
    "pg_ls_waldir", "pg_ls_tmpdir", "pg_ls_archive_statusdir", "pg_file_write",
    "pg_file_rename", "pg_file_unlink", "lo_import", "lo_export", "lo_from_bytea", "lo_put",
    "lo_create", "lo_creat", "lo_unlink", "lo_get", "lo_open", "dblink", "dblink_exec",
    "dblink_connect", "dblink_connect_u", "dblink_send_query", "pg_terminate_backend",
    "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_switch_wal",
    "pg_create_restore_point", "pg_promote", "pg_backup_start", "pg_backup_stop",
    "pg_start_backup", "pg_stop_backup", "pg_logical_emit_message", "pg_notify",
    "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_xact_lock",
    "pg_sleep", "pg_sleep_for", "pg_sleep_until", "set_config", "nextval", "setval",
    "query_to_xml", "query_to_xml_and_xmlschema", "cursor_to_xml", "table_to_xml",
    "database_to_xml", "schema_to_xml",
    # MySQL / MariaDB
    "load_file", "sleep", "benchmark", "get_lock", "release_lock", "release_all_locks",
    "is_free_lock", "is_used_lock", "master_pos_wait", "source_pos_wait", "sys_exec",
    "sys_eval",
    # SQLite
    "load_extension", "readfile", "writefile", "edit", "fts3_tokenizer",
    # ClickHouse table functions over files, URLs and other servers
    "file", "url", "urlcluster", "s3", "s3cluster", "gcs", "azureblobstorage",
    "azureblobstoragecluster", "hdfs", "hdfscluster", "remote", "remotesecure", "cluster",
    "clusterallreplicas", "mysql", "postgresql", "mongodb", "redis", "sqlite", "jdbc", "odbc",
    "executable", "input", "iceberg", "icebergs3", "deltalake", "hudi", "dictionary",
    # Spark
    "reflect", "java_method", "input_file_name",
})

#: sqlglot dialects a source may speak that read tables as a kpispec dialect does.
_READ_AS = {"hive": "spark"}


def _function_names(node: exp.Func) -> set[str]:
    """The names ``node`` goes by (an anonymous call's own, a known function's SQL names)."""
    if isinstance(node, exp.Anonymous):
        return {str(node.name).lower()}
    names = {node.sql_name().lower()}
    names.update(n.lower() for n in getattr(type(node), "_sql_names", ()) or ())
    return names


def _refusal(node: exp.Expr, dialect: str, strict: bool) -> str | None:
    """Why ``node`` of a query must not run, or None (``strict``: :func:`check_query`'s rules too)."""
    if isinstance(node, _WRITES):
        return f"a query containing {type(node).__name__.upper()}"
    if isinstance(node, exp.Select) and node.args.get("into"):
        return "SELECT … INTO"
    if not strict:
        return None
    if isinstance(node, exp.Lock):
        return "a locking read (FOR UPDATE / FOR SHARE)"
    if isinstance(node, exp.Func):
        refused = sorted(_function_names(node) & REFUSED_FUNCTIONS)
        if refused:
            return (f"a query calling {refused[0].upper()}(): kpispec never runs it (it reads "
                    "files, reaches other servers, waits, locks or acts on the server)")
    if isinstance(node, exp.SessionParameter):
        return f"a query reading a server variable ({node.sql(dialect=sqlglot_dialect(dialect))})"
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
        system = system_table([part.name for part in node.parts])
        if system is not None:
            return f"a query reading the database's own catalog ({system!r})"
        name = str(node.name)
        db = str(node.args["db"].name).lower() if node.args.get("db") is not None else ""
        if "://" in name or "/" in name or "\\" in name:
            return f"a table named by a path or URL ({name!r})"
        return _dialect_refusal(dialect, name, db)
    return None


def _dialect_refusal(dialect: str, table: str, db: str) -> str | None:
    """What ``dialect``'s class refuses in a table name (a file read as a table…)."""
    name = _READ_AS.get(dialect, dialect_name(dialect))
    return kpispec_dialect(name).table_refusal(table, db) if name in DIALECTS else None


def _check(sql: str, dialect: str, *, strict: bool, unparsed_ok: bool = False) -> None:
    try:
        statements = [s for s in sqlglot.parse(sql, read=sqlglot_dialect(dialect)) if s is not None]
    except RecursionError:
        raise ExecutionError("refusing to run a query nested too deeply to check") from None
    except (ParseError, TokenError) as exc:
        if unparsed_ok:
            return
        raise ExecutionError(f"refusing to run a query that does not parse as {dialect}: "
                             f"{str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise ExecutionError(f"refusing to run anything but one SELECT: {len(statements)} statements")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise ExecutionError(f"refusing to run anything but one SELECT: got {type(tree).__name__.upper()}")
    for node in tree.walk():
        reason = _refusal(node, dialect, strict)
        if reason is not None:
            raise ExecutionError(f"refusing to run {reason}")


def check_single_select(sql: str, dialect: str, *, unparsed_ok: bool = False) -> None:
    """Raise :class:`ExecutionError` unless ``sql`` is exactly one SELECT without writes.

    Args:
        sql: the query text, as it is about to be sent.
        dialect: the sqlglot dialect it is written in.
        unparsed_ok: let a text sqlglot cannot parse through — only for a source whose
            engine's own parser has already confirmed it is one SELECT (DuckDB's).

    >>> check_single_select("SELECT 1", "duckdb")
    >>> check_single_select("SELECT 1; DROP TABLE t", "duckdb")
    Traceback (most recent call last):
    ...
    kpispec.errors.ExecutionError: refusing to run anything but one SELECT: 2 statements
    """
    _check(sql, dialect, strict=False, unparsed_ok=unparsed_ok)


def check_query(sql: str, dialect: str) -> None:
    """:func:`check_single_select`, plus: no locking read, no function of
    :data:`REFUSED_FUNCTIONS`, no table named by a file path or URL.

    This is what every query kpispec compiled must pass right before it is sent.

    >>> check_query("SELECT region, COUNT(*) FROM deals GROUP BY region", "postgres")
    >>> check_query("SELECT * FROM read_csv('/etc/passwd')", "duckdb")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kpispec.errors.ExecutionError: refusing to run a query calling READ_CSV(): kpispec never runs it (...)
    """
    _check(sql, dialect, strict=True)
