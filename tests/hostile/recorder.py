"""Who ran what: statement recorders for the hostile-input corpus.

Two independent witnesses of the statements kpispec sends to an engine:

* :class:`StatementLog` wraps the drivers in this process — every
  ``execute``/``sql``/``query`` of a DuckDB connection (``duckdb.connect`` is
  replaced by one that returns a recording proxy) and every
  ``execute``/``executemany``/``copy``/``stream`` of a psycopg cursor, server-side
  cursors included;
* :class:`ServerLog` reads PostgreSQL's own statement log for one login role
  whose sessions run with ``log_statement = 'all'`` (set on the role by the
  fixture), so it sees everything the server was asked to do, the
  transaction statements psycopg issues itself included.

:func:`classify` sorts what was recorded into the query kpispec compiled and the
session setup a source issues (SET, BEGIN READ ONLY, catalog lookups…);
anything else is a violation the tests report.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

__all__ = ["ServerLog", "StatementLog", "classify", "normalise"]


@dataclass
class StatementLog:
    """Statements the in-process drivers were asked to run, in order."""

    statements: list[tuple[str, str]] = field(default_factory=list)  # (engine, sql)

    def add(self, engine: str, query: Any, connection: Any = None) -> None:
        text = query
        if not isinstance(query, str):
            as_string = getattr(query, "as_string", None)
            try:
                text = as_string(connection) if as_string is not None else str(query)
            except Exception:
                text = str(query)
        self.statements.append((engine, str(text)))

    def sql(self, engine: str | None = None) -> list[str]:
        return [s for e, s in self.statements if engine is None or e == engine]

    @contextmanager
    def installed(self, monkeypatch: Any) -> Iterator[StatementLog]:
        """Record every statement of DuckDB and psycopg connections opened meanwhile."""
        _patch_duckdb(self, monkeypatch)
        _patch_psycopg(self, monkeypatch)
        yield self


class _RecordingDuckDB:
    """A DuckDB connection that notes each statement before running it."""

    def __init__(self, con: Any, log: StatementLog) -> None:
        self._con = con
        self._log = log

    def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        self._log.add("duckdb", query)
        return self._con.execute(query, *args, **kwargs)

    def executemany(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        self._log.add("duckdb", query)
        return self._con.executemany(query, *args, **kwargs)

    def sql(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        self._log.add("duckdb", query)
        return self._con.sql(query, *args, **kwargs)

    query = sql

    def cursor(self) -> _RecordingDuckDB:
        return _RecordingDuckDB(self._con.cursor(), self._log)

    def __enter__(self) -> _RecordingDuckDB:
        self._con.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        return self._con.__exit__(*exc_info)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _patch_duckdb(log: StatementLog, monkeypatch: Any) -> None:
    import duckdb

    real_connect = duckdb.connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        return _RecordingDuckDB(real_connect(*args, **kwargs), log)

    monkeypatch.setattr(duckdb, "connect", connect)


def _patch_psycopg(log: StatementLog, monkeypatch: Any) -> None:
    try:
        import psycopg
    except ImportError:  # the PostgreSQL cases skip then
        return

    def wrap(cls: type, name: str) -> None:
        real: Callable[..., Any] = getattr(cls, name)

        def recorded(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            log.add("postgres", query, getattr(self, "connection", None))
            return real(self, query, *args, **kwargs)

        monkeypatch.setattr(cls, name, recorded)

    for cls, names in ((psycopg.Cursor, ("execute", "executemany", "copy", "stream")),
                       (psycopg.ServerCursor, ("execute",))):
        for name in names:
            wrap(cls, name)


# -- the PostgreSQL server's statement log ----------------------------------------------

_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\] (?P<who>\S*) "
                    r"(?P<level>[A-Z0-9]+):  (?P<message>.*)$")
_STATEMENT = re.compile(r"^(?:statement|execute [^:]*): (?P<sql>.*)$", re.DOTALL)


@dataclass
class ServerLog:
    """The statements one role's sessions sent, read from the server's log file."""

    path: Path
    role: str
    database: str
    offset: int = 0

    def mark(self) -> None:
        """Forget what is in the log so far."""
        self.offset = self.path.stat().st_size

    def statements(self, sentinel: str | None = None, timeout: float = 5.0) -> list[str]:
        """The role's statements logged since :meth:`mark` (waiting for ``sentinel`` first)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._read()
            if sentinel is None or any(sentinel in s for s in found) or time.monotonic() > deadline:
                return [s for s in found if sentinel is None or sentinel not in s]
            time.sleep(0.05)

    def _read(self) -> list[str]:
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            text = fh.read().decode("utf-8", "replace")
        who = f"{self.role}@{self.database}"
        entries: list[tuple[str, str, list[str]]] = []
        for line in text.splitlines():
            match = _ENTRY.match(line)
            if match:
                entries.append((match["who"], match["level"], [match["message"]]))
            elif entries:  # a multi-line statement goes on without the prefix
                entries[-1][2].append(line.removeprefix("\t"))
        statements = []
        for name, level, lines in entries:
            if name != who or level != "LOG":
                continue
            statement = _STATEMENT.match("\n".join(lines))
            if statement:
                statements.append(statement["sql"].strip())
        return statements


# -- what the statements were ---------------------------------------------------------

#: Session setup a source may issue besides the query: settings, transaction control,
#: cursor handling and catalog lookups.
_SETUP = re.compile(
    r"^\s*(SET\s|RESET\s|SHOW\s|BEGIN\b|START TRANSACTION\b|COMMIT\b|ROLLBACK\b|END\b|"
    r"CLOSE\s|FETCH\s|MOVE\s|DISCARD\s|"
    r"SELECT\s+set_config\(|SELECT\s+1\s+FROM\s+pg_namespace\b|SELECT\s+current_setting\(|"
    r"SELECT\s+pg_backend_pid\(\)|SELECT\s+version\(\))",
    re.IGNORECASE)
_DECLARE = re.compile(r'^\s*DECLARE\s+("[^"]+"|\S+)\s+(?:[A-Z ]+\s+)?CURSOR\s+(?:WITH(?:OUT)?\s+HOLD\s+)?'
                      r"FOR\s+(?P<query>.*)$", re.IGNORECASE | re.DOTALL)


def normalise(sql: str) -> str:
    """``sql`` with whitespace runs folded and any final ``;`` dropped."""
    return " ".join(sql.split()).rstrip(";").strip()


def classify(statements: list[str], query: str | None, dialect: str) -> tuple[int, list[str]]:
    """Count the runs of ``query`` among ``statements``; return (count, violations).

    A violation is any statement that is neither ``query`` (as such or as the body of
    a ``DECLARE … CURSOR FOR``) nor session setup.
    """
    wanted = normalise(query) if query else None
    runs = 0
    violations = []
    for statement in statements:
        body = statement
        declare = _DECLARE.match(statement)
        if declare:
            body = declare["query"]
        if wanted is not None and normalise(body) == wanted:
            runs += 1
            continue
        if _SETUP.match(statement) and _read_only(statement, dialect):
            continue
        violations.append(statement)
    return runs, violations


def _read_only(statement: str, dialect: str) -> bool:
    """A setup statement parses as one statement and writes nothing."""
    try:
        trees = [t for t in sqlglot.parse(statement, read=dialect) if t is not None]
    except Exception:
        return statement.strip().upper().split()[0] in {"BEGIN", "COMMIT", "ROLLBACK", "CLOSE",
                                                        "FETCH", "DISCARD", "END", "MOVE"}
    if len(trees) != 1:
        return False
    writes = (exp.DDL, exp.DML, exp.Drop, exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Copy)
    return not any(isinstance(node, writes) for node in trees[0].walk())
