"""Load Arrow tables into a SQLite database file, for the cross-engine tests.

``load(tables, directory=tmp_path)`` writes ``tables`` into ``<directory>/kpispec.sqlite``
(dropping tables of the same names first) and returns the ``sqlite:///`` URL of the
file; ``drop(url)`` deletes the file.

SQLite keeps dates and times as ISO text, as kpispec's SQLite SQL expects:
timestamps as ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (naive, UTC), dates as
``YYYY-MM-DD``; booleans as 0 / 1. The declared column types say what a column
holds (``TIMESTAMP``, ``DATE``, ``DOUBLE PRECISION``, ``BIGINT``, ``BOOLEAN``,
``TEXT``). Rows go in through parameterised ``executemany``; names are quoted.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

__all__ = ["DEFAULT_FILE", "drop", "load", "path_of"]

#: The database file ``load`` writes in its directory unless told another name.
DEFAULT_FILE = "kpispec.sqlite"


def quote(name: str) -> str:
    """A SQLite identifier, double-quoted."""
    return '"' + name.replace('"', '""') + '"'


def column_type(arrow: pa.DataType) -> tuple[str, Callable[[Any], Any]]:
    """The declared SQLite type of an Arrow type, and how a Python value is stored."""
    if pa.types.is_timestamp(arrow):
        return "TIMESTAMP", _timestamp_text
    if pa.types.is_date(arrow):
        return "DATE", _date_text
    if pa.types.is_boolean(arrow):
        return "BOOLEAN", _bool_int
    if pa.types.is_integer(arrow):
        return "BIGINT", _same
    if pa.types.is_floating(arrow) or pa.types.is_decimal(arrow):
        return "DOUBLE PRECISION", _float
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return "TEXT", _same
    raise TypeError(f"no SQLite column type for Arrow type {arrow}")


def load(tables: Mapping[str, pa.Table], *, directory: str | os.PathLike[str],
         name: str = DEFAULT_FILE) -> str:
    """Create (or replace) each table in ``<directory>/<name>`` and return its URL.

    Args:
        tables: table name → Arrow table (timestamp, date, bool, integer, float and
            string columns).
        directory: where the database file lives (created if missing).
        name: the file name.

    Returns:
        ``sqlite:////absolute/path/to/<name>``.
    """
    path = Path(directory).resolve() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        with con:
            for table_name, table in tables.items():
                types = [column_type(field.type) for field in table.schema]
                columns = ", ".join(f"{quote(field.name)} {sql_type}"
                                    for field, (sql_type, _) in zip(table.schema, types))
                con.execute(f"DROP TABLE IF EXISTS {quote(table_name)}")
                con.execute(f"CREATE TABLE {quote(table_name)} ({columns})")
                converters = [convert for _, convert in types]
                values = [[None if v is None else convert(v) for v in table.column(i).to_pylist()]
                          for i, convert in enumerate(converters)]
                placeholders = ", ".join("?" * table.num_columns)
                con.executemany(f"INSERT INTO {quote(table_name)} VALUES ({placeholders})",
                                zip(*values))
    finally:
        con.close()
    return f"sqlite:///{path}"


def path_of(url: str) -> Path:
    """The database file of a ``sqlite:///`` URL that :func:`load` returned."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a sqlite:/// URL: {url!r}")
    return Path(url.removeprefix("sqlite:///"))


def drop(url: str) -> None:
    """Delete the database file of ``url`` (a URL :func:`load` returned); missing is fine."""
    path_of(url).unlink(missing_ok=True)


def _timestamp_text(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.isoformat(sep=" ")  # .ffffff only when there are microseconds


def _date_text(value: dt.date) -> str:
    return value.isoformat()


def _bool_int(value: bool) -> int:
    return int(value)


def _float(value: Any) -> float:
    return float(value)


def _same(value: Any) -> Any:
    return value
