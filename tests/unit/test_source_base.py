"""The base every built-in source's connection is built on (kpispec_builtins._source_base)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pytest
from kpispec.errors import ExecutionError
from kpispec.project import parse_source_url
from kpispec_builtins import (
    clickhouse_source,
    datafusion_source,
    duckdb_source,
    mysql_source,
    postgres_source,
    spark_source,
    sqlite_source,
)
from kpispec_builtins._source_base import (
    SourceConnection,
    check_no_host,
    check_timeout,
    close_quietly,
    one_line,
)
from kpispec_builtins._timeout import OnInterrupt


class _Handle:
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


class _Toy(SourceConnection[_Handle]):
    """A source whose engine returns the query's text as its one row."""

    dialect = "duckdb"
    engine = "Toy"
    message_until = ("LINE ",)

    def _run(self, handle: _Handle, sql: str, timeout: float | None) -> pa.RecordBatchReader:
        table = pa.table({"sql": [sql], "timeout": [timeout]})
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())

    def describe(self, table: str) -> Sequence[str] | None:
        return None

    def _release(self, handle: _Handle) -> None:
        handle.close()


def test_every_builtin_connection_is_built_on_the_base() -> None:
    classes = [duckdb_source.DuckDBConnection, sqlite_source.SQLiteConnection,
               postgres_source.PostgresConnection, mysql_source.MySQLConnection,
               clickhouse_source.ChdbConnection, clickhouse_source.ClickHouseHTTPConnection,
               spark_source.SparkConnection, datafusion_source.DataFusionConnection]
    assert all(issubclass(cls, SourceConnection) for cls in classes)
    assert sorted(cls.engine for cls in classes) == [
        "ClickHouse", "ClickHouse", "DataFusion", "DuckDB", "MySQL", "PostgreSQL", "SQLite",
        "Spark"]


def test_lifecycle_execute_and_wording() -> None:
    handle = _Handle()
    with _Toy(handle, "toy://db", secret="s3cret") as con:
        assert repr(con) == "<_Toy toy://db (open)>"
        assert con.execute("SELECT 1 AS x", timeout=2.5).read_all().to_pylist() == [
            {"sql": "SELECT 1 AS x", "timeout": 2.5}]
        with pytest.raises(ExecutionError, match=r"^refusing to run anything but one SELECT"):
            con.execute("DELETE FROM t")
        failure = RuntimeError("bad  thing\nwith s3cret\nLINE 1: SELECT x")
        assert str(con.failed(failure)) == "Toy query failed on toy://db: bad thing with ***"
        assert str(con.catalog_failed(failure)) == (
            "reading the catalog of toy://db failed: bad thing with ***")
        assert str(con.timed_out(1.5)).startswith("query timed out after 1.5 s on toy://db; ")
    assert handle.closed == 1
    con.close()  # twice: harmless
    assert handle.closed == 1 and con.closed
    assert repr(con) == "<_Toy toy://db (closed)>"
    with pytest.raises(ExecutionError, match=r"^the Toy connection to toy://db is closed$"):
        con.execute("SELECT 1")


@pytest.mark.parametrize("timeout", [0, -1, math.nan, math.inf])
def test_a_timeout_must_be_positive_and_finite(timeout: float) -> None:
    with pytest.raises(ValueError, match=r"^timeout must be a positive number of seconds, got "):
        check_timeout(timeout)
    with pytest.raises(ValueError, match=r"timeout must be a positive"):
        _Toy(_Handle(), "toy://").execute("SELECT 1", timeout=timeout)
    check_timeout(None)
    check_timeout(0.001)


def test_one_line() -> None:
    assert one_line(ValueError("a\n\n  b   c\nHINT: x\nd"), skip=("HINT:",)) == "a b c d"
    assert one_line(ValueError("a\nLINE 3: x\nb"), until=("LINE ",)) == "a"
    assert one_line(KeyError()) == "KeyError"  # no message: the exception's type
    assert one_line("") == ""
    assert one_line("user bob:pw failed", "pw") == "user bob:*** failed"


def test_check_no_host() -> None:
    check_no_host(parse_source_url("sqlite:///data/x.db"), relative="path", absolute="abs/x.db")
    with pytest.raises(ExecutionError) as info:
        check_no_host(parse_source_url("sqlite://data/x.db"), relative="path", absolute="abs/x.db")
    assert str(info.value) == ("sqlite://data/x.db: a sqlite:// URL has no host; write "
                               "sqlite:///data/x.db (three slashes) for a relative path or "
                               "sqlite:////abs/x.db")


def test_close_quietly() -> None:
    class Broken:
        def close(self) -> None:
            raise OSError("gone")

    close_quietly(Broken())
    close_quietly(None)
    handle = _Handle()
    close_quietly(handle)
    assert handle.closed == 1


def test_starting_words_a_driver_error_and_keeps_a_signal_as_it_came() -> None:
    con = _Toy(_Handle(), "toy://db")
    ended: list[str] = []

    def starting(name: str) -> Any:
        return con._starting(LookupError, None, OnInterrupt(lambda: None),
                             lambda: ended.append(name))

    with pytest.raises(ExecutionError, match=r"^Toy query failed on toy://db: boom$"), \
            starting("driver"):
        raise LookupError("boom")
    with pytest.raises(KeyboardInterrupt) as info, starting("signal"):
        raise KeyboardInterrupt("terminated")  # the CLI's SIGTERM handler says so
    assert str(info.value) == "terminated"
    with pytest.raises(ZeroDivisionError), starting("other"):
        raise ZeroDivisionError
    assert ended == ["driver", "signal", "other"]
