"""Load Arrow tables into a chdb session directory for the cross-engine tests.

``load(tables, directory=DIR)`` creates (replacing) one MergeTree table per
Arrow table in the chdb session stored in ``DIR``, inserts the rows as an Arrow
stream, closes the session and returns the ``chdb:///DIR`` URL.

Column types: timestamp → DateTime64(6, 'UTC') (naive values kept as they are),
date → Date, float → Float64, integer → Int64, bool → Bool, string → String;
``Nullable(…)`` where the column holds a NULL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

__all__ = ["load", "quote_name", "sql_type"]


def quote_name(name: str) -> str:
    """A ClickHouse identifier in backticks (backslash and backtick escaped)."""
    if not name or "\x00" in name:
        raise ValueError(f"bad identifier {name!r}")
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def sql_type(kind: pa.DataType, nullable: bool) -> str:
    """The ClickHouse column type holding values of the Arrow type ``kind``."""
    if pa.types.is_timestamp(kind):
        base = "DateTime64(6, 'UTC')"
    elif pa.types.is_date(kind):
        base = "Date"
    elif pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        base = "Float64"
    elif pa.types.is_boolean(kind):
        base = "Bool"
    elif pa.types.is_integer(kind):
        base = "Int64"
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        base = "String"
    else:
        raise TypeError(f"no ClickHouse column type for Arrow type {kind}")
    return f"Nullable({base})" if nullable else base


def load(tables: Mapping[str, pa.Table], *, directory: str | os.PathLike[str]) -> str:
    """Create ``tables`` in the chdb session directory ``directory``; return its URL."""
    from chdb import session

    path = Path(directory).resolve()
    path.mkdir(parents=True, exist_ok=True)
    sess = session.Session(str(path))
    try:
        for name, table in tables.items():
            _create(sess, name, table)
    finally:
        sess.close()
    return f"chdb:///{path}"


def _create(sess: object, name: str, table: pa.Table) -> None:
    target = quote_name(name)
    query = sess.query  # type: ignore[attr-defined]
    query(f"DROP TABLE IF EXISTS {target}", "CSV")
    columns = ", ".join(
        f"{quote_name(f.name)} {sql_type(f.type, table.column(i).null_count > 0)}"
        for i, f in enumerate(table.schema))
    query(f"CREATE TABLE {target} ({columns}) ENGINE = MergeTree ORDER BY tuple()", "CSV")
    if not table.num_rows:
        return
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    names = ", ".join(quote_name(f.name) for f in table.schema)
    inserter = sess.send_insert(f"INSERT INTO {target} ({names})", "ArrowStream")  # type: ignore[attr-defined]
    inserter.append(sink.getvalue().to_pybytes())
    inserter.finish()
