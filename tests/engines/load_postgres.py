"""Load Arrow tables into a PostgreSQL schema, for the cross-engine tests.

``load(tables)`` creates a fresh schema ``kpispec_test_<random>`` in database
``test`` on 127.0.0.1:5432 as user ``postgres`` (each of these can be passed),
creates each table in it (dropping one of the same name first), copies the rows
in with ``COPY … FROM STDIN`` and returns the source URL
``postgresql://postgres@127.0.0.1:5432/test?schema=<schema>``; ``drop(url)``
drops the schema and everything in it.

Column types follow the Arrow types: timestamp → ``TIMESTAMP`` (without time
zone; ``TIMESTAMPTZ`` for zoned ones), date → ``DATE``, float → ``DOUBLE
PRECISION``, integer → ``BIGINT``, bool → ``BOOLEAN``, string → ``TEXT``. All
DDL is composed with :mod:`psycopg.sql` (identifiers quoted by psycopg).

:func:`server_available` says whether anything listens on the server's port, for
tests that skip without a server (outside CI).
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pyarrow as pa

__all__ = ["DATABASE", "HOST", "PORT", "USER", "drop", "load", "server_available"]

HOST = "127.0.0.1"
PORT = 5432
USER = "postgres"
DATABASE = "test"


def server_available(host: str = HOST, port: int = PORT, timeout: float = 1.0) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def column_type(arrow: pa.DataType) -> str:
    """The PostgreSQL column type of an Arrow type."""
    if pa.types.is_timestamp(arrow):
        return "TIMESTAMPTZ" if arrow.tz else "TIMESTAMP"
    if pa.types.is_date(arrow):
        return "DATE"
    if pa.types.is_boolean(arrow):
        return "BOOLEAN"
    if pa.types.is_integer(arrow):
        return "BIGINT"
    if pa.types.is_floating(arrow):
        return "DOUBLE PRECISION"
    if pa.types.is_decimal(arrow):
        return "NUMERIC"
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return "TEXT"
    raise TypeError(f"no PostgreSQL column type for Arrow type {arrow}")


def url_for(schema: str, *, host: str = HOST, port: int = PORT, user: str = USER,
            database: str = DATABASE) -> str:
    """The kpispec source URL of ``schema`` on the server."""
    return (f"postgresql://{quote(user, safe='')}@{host}:{port}/{quote(database, safe='')}"
            f"?schema={quote(schema, safe='')}")


def _connect(host: str, port: int, user: str, database: str) -> Any:
    import psycopg

    return psycopg.connect(host=host, port=port, user=user, dbname=database, autocommit=False,
                           connect_timeout=10)


def load(tables: Mapping[str, pa.Table], *, schema: str | None = None, host: str = HOST,
         port: int = PORT, user: str = USER, database: str = DATABASE) -> str:
    """Create each table in ``schema`` (a fresh random one by default) and return its URL.

    Args:
        tables: table name → Arrow table.
        schema: the schema to create the tables in (created if missing); tables of
            the same names are dropped first. Default ``kpispec_test_<random hex>``.
        host, port, user, database: the server (the password, if any, comes from
            ``PGPASSWORD`` or ``~/.pgpass``).

    Returns:
        ``postgresql://<user>@<host>:<port>/<database>?schema=<schema>``.
    """
    from psycopg import sql

    schema = schema or f"kpispec_test_{secrets.token_hex(6)}"
    with _connect(host, port, user, database) as con:
        con.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        for name, table in tables.items():
            target = sql.Identifier(schema, name)
            columns = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(field.name), sql.SQL(column_type(field.type)))
                for field in table.schema)
            con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
            con.execute(sql.SQL("CREATE TABLE {} ({})").format(target, columns))
            names = sql.SQL(", ").join(sql.Identifier(f) for f in table.column_names)
            with con.cursor() as cur, cur.copy(
                    sql.SQL("COPY {} ({}) FROM STDIN").format(target, names)) as copy:
                for row in zip(*(column.to_pylist() for column in table.columns)):
                    copy.write_row(row)
        con.commit()
    return url_for(schema, host=host, port=port, user=user, database=database)


def drop(url: str) -> None:
    """Drop the schema of ``url`` (a URL :func:`load` returned) with everything in it."""
    from psycopg import sql

    parts = urlsplit(url)
    schema = dict(parse_qsl(parts.query)).get("schema")
    if not schema:
        raise ValueError(f"{url!r} names no ?schema= to drop")
    database = parts.path.removeprefix("/") or DATABASE
    with _connect(parts.hostname or HOST, parts.port or PORT, parts.username or USER,
                  database) as con:
        con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        con.commit()
