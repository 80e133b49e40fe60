"""Running generated cases: settings, a scratch project directory, outcome checks, engines.

The property every test here shares: kpispec either succeeds or raises a
:class:`kpispec.KpispecError` with a non-empty message. An :class:`InternalError`
(kpispec's own "this is a bug") or a :class:`PluginError` from a first-party
plugin counts as a failure too, and so does any other exception.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import sqlglot
from hypothesis import HealthCheck, note, settings
from kpispec import InternalError, KpispecError, PluginError
from kpispec.compile.dialects import sqlglot_dialect
from sqlglot import exp

from .exprs import Render
from .gen import Project

T = TypeVar("T")

#: KPISPEC_PROPERTY_SCALE=10 runs ten times the examples (a deeper local hunt).
SCALE = float(os.environ.get("KPISPEC_PROPERTY_SCALE", "1"))


def cases(n: int, *, also_suppress: Sequence[HealthCheck] = ()) -> settings:
    """Reproducible settings: a fixed seed per test (derandomize), no example database.

    ``too_slow`` and ``data_too_large`` are suppressed: a whole project with its rows
    is a large example by design, and each case loads and compiles a project.
    """
    return settings(max_examples=max(1, int(n * SCALE)), derandomize=True, database=None,
                    deadline=None, print_blob=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           *also_suppress])


class Scratch:
    """A directory the cases write their projects to (emptied before each case)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="kpispec_property_"))
        self.count = 0

    def write(self, files: Mapping[str, str | bytes]) -> Path:
        """A fresh project directory with ``files`` (the previous one is removed)."""
        shutil.rmtree(self.root / f"p{self.count}", ignore_errors=True)
        self.count += 1
        project = self.root / f"p{self.count}"
        for name, text in files.items():
            path = project / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text, encoding="utf-8")
        project.mkdir(parents=True, exist_ok=True)
        note("\n".join(f"--- {name}\n{text!r}" if isinstance(text, bytes) else f"--- {name}\n{text}"
                       for name, text in files.items()))
        return project

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def attempt(fn: Callable[[], T]) -> T | KpispecError:
    """Call ``fn``; a KpispecError is an acceptable answer, returned for inspection.

    Anything else propagates (and fails the test). A KpispecError must carry a message,
    and must not be kpispec's InternalError or a first-party plugin's PluginError.
    """
    try:
        return fn()
    except KpispecError as exc:
        message = str(exc)
        assert message.strip(), f"{type(exc).__name__} without a message"
        assert "Traceback (most recent call last)" not in message, message
        assert not isinstance(exc, InternalError), message
        assert not isinstance(exc, PluginError), message
        note(f"refused: {type(exc).__name__}: {message}")
        return exc


def parse_back(sql: str, dialect: str) -> exp.Select:
    """The compiled SQL parses in its dialect as exactly one SELECT."""
    statements = [s for s in sqlglot.parse(sql, read=sqlglot_dialect(dialect)) if s is not None]
    assert len(statements) == 1, f"{len(statements)} statements in {dialect} SQL"
    tree = statements[0]
    assert isinstance(tree, exp.Select), f"{type(tree).__name__}, not a SELECT"
    for node in tree.walk():
        assert not isinstance(node, (exp.DDL, exp.DML, exp.Command)), node.sql()
    return tree


# ---------------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------------


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_ARROW = {"int": "int64", "float": "float64", "text": "string", "bool": "bool_",
          "timestamp": "timestamp", "date": "date32"}


def load_duckdb(project: Project, data: Mapping[str, Sequence[Mapping[str, Any]]],
                database: str = ":memory:") -> Any:
    """A DuckDB (in memory by default) with each model's table and rows, through Arrow."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect(database)
    for model in project.models:
        rows = data[model.name]
        arrays = []
        for c in model.columns:
            kind = _ARROW[c.kind]
            arrow_type = pa.timestamp("us") if kind == "timestamp" else getattr(pa, kind)()
            arrays.append(pa.array([row[c.physical] for row in rows], type=arrow_type))
        table = pa.Table.from_arrays(arrays, names=[c.physical for c in model.columns])
        con.register("__rows", table)
        con.execute(f"CREATE TABLE {_quoted(model.physical_table)} AS SELECT * FROM __rows")
        con.unregister("__rows")
    return con


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


_SQLITE_TYPES = {"int": "BIGINT", "float": "DOUBLE PRECISION", "text": "TEXT",
                 "bool": "BOOLEAN", "timestamp": "TIMESTAMP", "date": "DATE"}


def load_sqlite(project: Project, data: Mapping[str, Sequence[Mapping[str, Any]]]
                ) -> sqlite3.Connection:
    """An in-memory SQLite database, dates and times as ISO text (as kpispec expects)."""
    con = sqlite3.connect(":memory:")
    for model in project.models:
        table = _quoted(model.physical_table)
        cols = ", ".join(f"{_quoted(c.physical)} {_SQLITE_TYPES[c.kind]}" for c in model.columns)
        con.execute(f"CREATE TABLE {table} ({cols})")
        rows = data[model.name]
        if rows:
            marks = ", ".join("?" for _ in model.columns)
            con.executemany(f"INSERT INTO {table} VALUES ({marks})",
                            [[_sqlite_value(row[c.physical]) for c in model.columns]
                             for row in rows])
    return con


def run_sql(con: Any, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = con.execute(sql)
    columns = [d[0] for d in cursor.description]
    return columns, [tuple(r) for r in cursor.fetchall()]


__all__ = ["Render", "Scratch", "attempt", "cases", "load_duckdb", "load_sqlite", "parse_back",
           "run_sql"]
