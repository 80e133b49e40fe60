"""The ``sqlite`` source: SQLite database files through the standard library's sqlite3.

URLs follow the SQLAlchemy convention:

* ``sqlite:///relative.db`` — a file relative to the working directory;
* ``sqlite:////abs/path.db`` — an absolute path;
* ``sqlite://`` or ``sqlite:///:memory:`` — an empty in-memory database (handy for
  queries that read no table).

Files are opened read-only (a ``file:…?mode=ro`` URI, plus ``PRAGMA query_only``),
and a missing file is an error rather than a new empty database; extensions
cannot be loaded and ``ATTACH`` is refused with the rest of every statement that
is not one SELECT. A timeout interrupts the query (``sqlite3_interrupt``), and
so does Ctrl-C, at once.

SQLite has no column types in a result: a value is an integer, a real, text, a
blob or NULL, row by row. :meth:`SQLiteConnection.execute` therefore infers each
result column's Arrow type from its values — integers give ``int64``, numbers with
any real among them ``float64``, text ``string``, blobs ``binary`` — and reads a
column named ``period`` that holds ISO dates (``YYYY-MM-DD``, how kpispec's SQLite
SQL spells a period start) as ``date32``, so results match the other engines.
The types are fixed by the first batch in which each column has a value; a column
with no value at all is ``null`` (``date32`` for ``period``).

pyarrow is imported on first use only.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from kpispec.errors import ExecutionError
from kpispec.extensions import SourceType, SourceURL
from kpispec.hookspecs import hookimpl

from kpispec_builtins._source_base import SourceConnection, check_no_host, close_quietly, one_line, stop_watchers

if TYPE_CHECKING:
    import sqlite3

    import pyarrow as pa

    from kpispec_builtins._timeout import OnInterrupt, Watchdog

__all__ = [
    "DIALECT",
    "ROWS_PER_BATCH",
    "SQLiteConnection",
    "connect",
    "register_sources",
]

#: The sqlglot dialect SQLite speaks.
DIALECT = "sqlite"
#: Rows per Arrow record batch streamed out of :meth:`SQLiteConnection.execute`.
ROWS_PER_BATCH = 50_000
#: The result column read as a DATE when it holds ISO date text.
PERIOD_COLUMN = "period"
_MEMORY = ("", ":memory:")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


@hookimpl
def register_sources(register: Callable[..., None]) -> None:
    """Register the ``sqlite`` source (scheme ``sqlite``, sqlglot dialect ``sqlite``)."""
    register(
        SourceType(
            name="sqlite",
            schemes=("sqlite",),
            dialect=DIALECT,
            connect=connect,
            description="SQLite database files (stdlib sqlite3), opened read-only.",
        )
    )


class SQLiteConnection(SourceConnection["sqlite3.Connection"]):
    """An open SQLite connection satisfying :class:`kpispec.Connection`.

    Args:
        con: the sqlite3 connection to wrap (it is closed by :meth:`close`).
        label: how error messages name the database, usually ``str(url)``.
    """

    dialect = DIALECT
    engine = "SQLite"

    def __init__(self, con: sqlite3.Connection, label: str) -> None:
        super().__init__(con, label)
        self._cursor: sqlite3.Cursor | None = None

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The underlying sqlite3 connection (read-only; for tests)."""
        return self._open()

    def _run(self, con: sqlite3.Connection, sql: str, timeout: float | None) -> pa.RecordBatchReader:
        """Run the query; each column's Arrow type comes from its values (see the module doc).
        The timeout's clock runs until the returned reader is exhausted."""
        import sqlite3

        import pyarrow as pa

        self._finish()  # a new query ends any stream still open on this connection
        watchdog, interrupt = self._watch(timeout, con.interrupt)
        with self._starting(sqlite3.Error, watchdog, interrupt, self._finish):
            cursor = con.cursor()
            self._cursor = cursor
            cursor.execute(sql)
            names = [d[0] for d in cursor.description or ()]
            batches = _batches(cursor, ROWS_PER_BATCH)
            # Read ahead until every column has shown a value (or the rows ran out).
            ahead: list[list[tuple[Any, ...]]] = []
            kinds: list[str | None] = [None] * len(names)
            for rows in batches:
                ahead.append(rows)
                _refine(kinds, names, rows)
                if None not in kinds:
                    break
            schema = pa.schema([(name, _arrow_type(kind, name)) for name, kind in zip(names, kinds)])
            first = [_to_batch(rows, schema, kinds, self.label) for rows in ahead]
        return pa.RecordBatchReader.from_batches(
            schema, self._stream(first, batches, schema, kinds, watchdog, interrupt))

    def describe(self, table: str) -> list[str] | None:
        """Column names of ``table`` (``name`` or ``schema.name``), or None if it does not exist."""
        import sqlite3

        schema, _, name = table.rpartition(".")
        con = self.sqlite
        try:
            if schema:
                rows = con.execute("SELECT name FROM pragma_table_info(?, ?) ORDER BY cid",
                                   (name, schema)).fetchall()
            else:
                rows = con.execute("SELECT name FROM pragma_table_info(?) ORDER BY cid",
                                   (name,)).fetchall()
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.OperationalError) and "unknown database" in str(exc):
                return None
            raise self.catalog_failed(exc) from None
        return [r[0] for r in rows] or None

    def _release(self, con: sqlite3.Connection) -> None:
        self._finish()
        con.close()

    # -- internals --------------------------------------------------------------------

    def _stream(self, first: list[pa.RecordBatch], rest: Iterator[list[tuple[Any, ...]]],
                schema: pa.Schema, kinds: Sequence[str | None],
                watchdog: Watchdog | None, interrupt: OnInterrupt) -> Iterator[pa.RecordBatch]:
        import sqlite3

        try:
            yield from first
            for rows in rest:
                if watchdog is not None and watchdog.fired:  # it fired between two fetches
                    raise sqlite3.OperationalError("interrupted")
                yield _to_batch(rows, schema, kinds, self.label)
        except sqlite3.Error as exc:
            raise self._error(exc, watchdog, interrupt) from None
        finally:
            stop_watchers(watchdog, interrupt)

    def _finish(self) -> None:
        self._stop_watchers()
        cursor, self._cursor = self._cursor, None
        close_quietly(cursor)  # a cursor of a closed connection raises


def connect(url: SourceURL) -> SQLiteConnection:
    """Open the SQLite database a ``sqlite://`` URL names, read-only.

    Args:
        url: the parsed URL; ``url.database`` is the path after the third slash.

    Returns:
        An open :class:`SQLiteConnection`.

    Raises:
        ExecutionError: the URL is malformed, the file does not exist, or it is not
            a SQLite database.
    """
    import sqlite3

    label = str(url)
    if url.query:
        raise ExecutionError(f"{label}: unknown query parameter {sorted(url.query)[0]!r}; "
                             "a sqlite:// URL takes none")
    check_no_host(url, relative="path", absolute="abs/path.db")
    if url.database in _MEMORY:
        target, uri = ":memory:", False
    else:
        path = os.path.abspath(os.path.expanduser(url.database))
        if not os.path.exists(path):
            raise ExecutionError(
                f"SQLite database file {path!r} does not exist ({label}); check the path "
                "(sqlite:///relative.db or sqlite:////absolute/path.db)"
            )
        if os.path.isdir(path):
            raise ExecutionError(f"SQLite database {path!r} is a directory, not a file ({label})")
        target, uri = f"file:{urllib.parse.quote(path)}?mode=ro", True
    try:
        # check_same_thread=False: the reader may be drained on another thread; the
        # connection is used by one query at a time.
        con = sqlite3.connect(target, uri=uri, check_same_thread=False)
    except sqlite3.Error as exc:
        raise ExecutionError(f"cannot open SQLite database {label}: {one_line(exc)}") from None
    try:
        con.execute("PRAGMA query_only = ON")
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()  # "file is not a database"
    except sqlite3.Error as exc:
        con.close()
        raise ExecutionError(f"cannot open SQLite database {label}: {one_line(exc)}") from None
    return SQLiteConnection(con, label)


# -- rows to Arrow --------------------------------------------------------------------------


def _batches(cursor: sqlite3.Cursor, size: int) -> Iterator[list[tuple[Any, ...]]]:
    while True:
        rows = cursor.fetchmany(size)
        if not rows:
            return
        yield rows


_RANK = {"int": 0, "float": 1}


def _kind(value: Any) -> str:
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "bytes"


def _refine(kinds: list[str | None], names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Widen each column's kind (None: no value seen yet) by the values of ``rows``."""
    for i, known in enumerate(kinds):
        kind = known
        period = names[i].lower() == PERIOD_COLUMN
        for row in rows:
            value = row[i]
            if value is None:
                continue
            new = _kind(value)
            if new == "str" and period and _ISO_DATE.match(value):
                new = "date"
            if kind is None or kind == new:
                kind = new
            elif kind in _RANK and new in _RANK:
                kind = "float"
            else:  # text and numbers (or blobs) mixed: SQLite's dynamic typing
                kind = "str"
        kinds[i] = kind


def _arrow_type(kind: str | None, name: str) -> pa.DataType:
    import pyarrow as pa

    if kind is None:
        return pa.date32() if name.lower() == PERIOD_COLUMN else pa.null()
    return {"int": pa.int64(), "float": pa.float64(), "str": pa.string(),
            "bytes": pa.binary(), "date": pa.date32()}[kind]


def _to_batch(rows: Sequence[tuple[Any, ...]], schema: pa.Schema, kinds: Sequence[str | None],
              label: str) -> pa.RecordBatch:
    """``rows`` as a record batch of ``schema``, whose columns hold values of ``kinds``."""
    import datetime as dt

    import pyarrow as pa

    seen: list[str | None] = [None] * len(kinds)
    _refine(seen, schema.names, rows)
    arrays = []
    for i, (field, kind) in enumerate(zip(schema, kinds)):
        found = seen[i]
        if not (found is None or found == kind or kind == "str" or (kind, found) == ("float", "int")):
            raise ExecutionError(
                f"SQLite result column {field.name!r} on {label} holds {_KIND_NAMES[found]} "
                f"after rows that made it {field.type}; cast it in the query to keep one type"
            )
        values = [row[i] for row in rows]
        if kind == "date":
            values = [None if v is None else dt.date.fromisoformat(v) for v in values]
        elif kind == "str":
            values = [v if v is None or isinstance(v, str) else _text(v) for v in values]
        arrays.append(pa.array(values, type=field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


_KIND_NAMES = {"int": "integers", "float": "reals", "str": "text", "bytes": "blobs",
               "date": "ISO dates"}


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)

