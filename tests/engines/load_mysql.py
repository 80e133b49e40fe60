"""Load Arrow tables into MariaDB/MySQL for the cross-engine tests.

``load(tables)`` creates a fresh database ``kpispec_test_<random>`` on the local
server (127.0.0.1:3306, root without password unless told otherwise), creates
one table per Arrow table with matching column types and inserts the rows with
parameterised statements; it returns the ``mysql://`` URL of that database.
``drop(url)`` removes the database again.

Column types: timestamp → DATETIME(6), date → DATE, float → DOUBLE, integer →
BIGINT, bool → BOOLEAN, string → TEXT with a binary collation (comparisons and
ordering as in DuckDB, not MySQL's case-insensitive default).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import pyarrow as pa

__all__ = ["connect_params", "drop", "load", "quote_name", "sql_type"]

HOST, PORT, USER = "127.0.0.1", 3306, "root"
INSERT_ROWS = 1_000


def quote_name(name: str) -> str:
    """A MySQL identifier in backticks (a backtick inside is doubled)."""
    if not name or "\x00" in name:
        raise ValueError(f"bad identifier {name!r}")
    return "`" + name.replace("`", "``") + "`"


def sql_type(kind: pa.DataType) -> str:
    """The MySQL column type holding values of the Arrow type ``kind``."""
    if pa.types.is_timestamp(kind):
        return "DATETIME(6)"
    if pa.types.is_date(kind):
        return "DATE"
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "DOUBLE"
    if pa.types.is_boolean(kind):
        return "BOOLEAN"
    if pa.types.is_integer(kind):
        return "BIGINT"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    raise TypeError(f"no MySQL column type for Arrow type {kind}")


def connect_params(*, host: str = HOST, port: int = PORT, user: str = USER,
                   password: str = "") -> dict[str, Any]:
    return {"host": host, "port": port, "user": user, "password": password,
            "charset": "utf8mb4", "autocommit": True}


def load(tables: Mapping[str, pa.Table], *, host: str = HOST, port: int = PORT, user: str = USER,
         password: str = "", database: str | None = None) -> str:
    """Create ``database`` (default: a new ``kpispec_test_<random>``) holding ``tables``.

    Existing tables of the same names are dropped first. Returns the source URL.
    """
    import pymysql

    database = database or f"kpispec_test_{secrets.token_hex(4)}"
    con = pymysql.connect(**connect_params(host=host, port=port, user=user, password=password))
    try:
        with con.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS {quote_name(database)} "
                           "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            cursor.execute(f"USE {quote_name(database)}")
            for name, table in tables.items():
                _create(cursor, name, table)
    finally:
        con.close()
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return f"mysql://{auth}@{host}:{port}/{database}"


def _create(cursor: Any, name: str, table: pa.Table) -> None:
    target = quote_name(name)
    cursor.execute(f"DROP TABLE IF EXISTS {target}")
    columns = ", ".join(f"{quote_name(f.name)} {sql_type(f.type)} NULL" for f in table.schema)
    cursor.execute(f"CREATE TABLE {target} ({columns})")
    if not table.num_rows:
        return
    names = ", ".join(quote_name(f.name) for f in table.schema)
    marks = ", ".join(["%s"] * table.num_columns)
    insert = f"INSERT INTO {target} ({names}) VALUES ({marks})"
    for batch in table.to_batches(max_chunksize=INSERT_ROWS):
        columns_ = [column.to_pylist() for column in batch.columns]
        cursor.executemany(insert, list(zip(*columns_)))


def drop(url: str) -> None:
    """Drop the database a :func:`load` URL names."""
    import pymysql
    from kpispec.project import parse_source_url

    parsed = parse_source_url(url)
    con = pymysql.connect(**connect_params(host=parsed.host or HOST, port=parsed.port or PORT,
                                           user=parsed.username or USER,
                                           password=parsed.password or ""))
    try:
        with con.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote_name(parsed.database)}")
    finally:
        con.close()
