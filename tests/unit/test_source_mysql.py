"""The ``mysql`` source plugin (kpispec_builtins.mysql_source) on a real MariaDB/MySQL.

The server is the local one (127.0.0.1:3306, root without password). These tests
skip only when nothing listens there and ``CI`` is unset; in CI a missing server
fails them.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from kpispec import plugins
from kpispec.compile import guard
from kpispec.errors import ExecutionError
from kpispec.extensions import SourceType
from kpispec.project import parse_source_url
from kpispec_builtins import mysql_source
from kpispec_builtins.mysql_source import MySQLConnection, connect

from tests.unit.sources import assert_same_result

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engines import load_mysql

HOST, PORT = "127.0.0.1", 3306
SECRET = "pa55-w0rd-never-shown"


def _listening(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


needs_server = pytest.mark.skipif(
    not _listening(HOST, PORT) and not os.environ.get("CI"),
    reason=f"no MySQL/MariaDB listening on {HOST}:{PORT} (with CI set this fails instead)",
)


def url_of(text: str) -> Any:
    return parse_source_url(text)


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_url(demo_tables: dict[str, pa.Table]) -> Iterator[str]:
    url = load_mysql.load(demo_tables)
    try:
        yield url
    finally:
        load_mysql.drop(url)


@pytest.fixture(scope="module")
def small_url() -> Iterator[str]:
    """A database with one table of every column type, NULLs included, and a table of 400 numbers."""
    typed = pa.table({
        "id": pa.array([1, 2, 3], pa.int64()),
        "at": pa.array([dt.datetime(2024, 1, 31, 23, 59, 59, 123456), None,
                        dt.datetime(2024, 2, 29, 0, 0)], pa.timestamp("us")),
        "day": pa.array([dt.date(2024, 2, 29), dt.date(1999, 12, 31), None], pa.date32()),
        "amount": pa.array([1200.5, None, -0.25], pa.float64()),
        "flag": pa.array([True, False, None], pa.bool_()),
        "label": pa.array(["Zürich", None, "won"], pa.string()),
    })
    numbers = pa.table({"n": pa.array(range(400), pa.int64())})
    url = load_mysql.load({"typed": typed, "numbers": numbers})
    try:
        yield url
    finally:
        load_mysql.drop(url)


@pytest.fixture
def con(small_url: str) -> Iterator[MySQLConnection]:
    with connect(url_of(small_url)) as connection:
        yield connection


@pytest.fixture
def mysql_plugin() -> Iterator[None]:
    """The plugin registered in-process, unless its entry point already loaded it."""
    pm = plugins.get_plugin_manager()
    if pm.is_registered(mysql_source):
        yield
        return
    plugins.register_plugin(mysql_source, "mysql")
    try:
        yield
    finally:
        plugins.unregister_plugin("mysql")


# -- registration, import, URL -----------------------------------------------------------------


def test_register_sources_registers_mysql_and_mariadb() -> None:
    registered: list[SourceType] = []
    mysql_source.register_sources(registered.append)
    [source] = registered
    assert (source.name, source.schemes, source.dialect) == ("mysql", ("mysql", "mariadb"), "mysql")
    assert source.connect is connect


def test_import_does_not_load_the_driver() -> None:
    code = (
        "import sys, kpispec; before = set(sys.modules);"
        "import kpispec_builtins.mysql_source;"
        "heavy = {'pymysql', 'pyarrow'} & (set(sys.modules) - before);"
        "assert not heavy, heavy"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_missing_pymysql_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pymysql", None)  # import pymysql -> ImportError
    with pytest.raises(ExecutionError) as info:
        connect(url_of(f"mysql://root@{HOST}:{PORT}/test"))
    assert str(info.value) == "the MySQL source needs PyMySQL: pip install 'kpispec[mysql]'"


def test_unknown_query_parameter() -> None:
    with pytest.raises(ExecutionError, match=r"unknown query parameter 'schema'.*accepts only charset"):
        connect(url_of(f"mysql://root@{HOST}:{PORT}/test?schema=x"))


def test_path_must_be_one_database() -> None:
    with pytest.raises(ExecutionError, match="one database name"):
        connect(url_of(f"mysql://root@{HOST}:{PORT}/a/b"))


def test_unreachable_server_message_is_one_line_without_password() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    with pytest.raises(ExecutionError) as info:
        connect(url_of(f"mysql://root:{SECRET}@{HOST}:{port}/test?connect_timeout=2"))
    message = str(info.value)
    assert message.startswith(f"cannot connect to MySQL at mysql://root:***@{HOST}:{port}/test")
    assert SECRET not in message and "\n" not in message


# -- the same numbers as DuckDB ----------------------------------------------------------------

PROJECT = {
    "models.yaml": """
        models:
          - name: deals
            table: deals
            primary_key: deal_id
            time: created_at
            columns: [deal_id, lead_id, customer_id, owner_id, region, created_at, closed_at,
                      stage, amount, deal_type]
            dimensions:
              - {name: rep, expr: owner_id}
              - region
              - stage
            joins:
              - {model: customers, on: customer_id}
          - name: customers
            table: customers
            primary_key: customer_id
            time: signed_up_at
            columns: [customer_id, signed_up_at, churned_at, region, segment, originated_by]
            dimensions: [segment]
          - name: leads
            table: leads
            primary_key: lead_id
            time: created_at
            columns: [lead_id, created_at, source, status, converted_at, visitor_id]
            dimensions: [source]
          - name: web_sessions
            table: web_sessions
            primary_key: session_id
            time: started_at
            columns: [session_id, visitor_id, started_at, landing_page, clicked, converted]
            dimensions: [landing_page, clicked]
          - name: spend
            table: spend
            time: spent_on
            columns: [spent_on, category, channel, amount]
            dimensions: [category, channel]
    """,
    "metrics.yaml": """
        metrics:
          - name: deals_created
            type: simple
            measure: {model: deals, agg: count}
          - name: deals_won
            type: simple
            measure: {model: deals, agg: count, filter: "stage = 'won'", time: closed_at}
          - name: won_revenue
            type: simple
            measure: {model: deals, agg: sum, expr: amount, filter: "stage = 'won'", time: closed_at}
          - name: avg_deal
            type: simple
            measure: {model: deals, agg: avg, expr: amount}
          - name: active_reps
            type: simple
            measure: {model: deals, agg: count_distinct, expr: owner_id}
          - name: close_rate
            type: ratio
            numerator: {model: deals, agg: count, filter: "stage = 'won'", time: closed_at}
            denominator: {model: leads, agg: count}
            scale: 100
          - name: avg_won
            type: derived
            expr: won_revenue / deals_won
          - name: click_sessions
            type: simple
            measure: {model: web_sessions, agg: count, filter: "clicked"}
          - name: spend_total
            type: simple
            measure: {model: spend, agg: sum, expr: amount}
    """,
}

#: (metrics, query options): ratio, avg, count_distinct, derived, a dimension through a
#: join, NULL dimension values, a boolean dimension, DATE time columns, week / quarter /
#: month / day / year grains, a --from/--to range.
QUERIES = [
    pytest.param(["deals_created", "won_revenue", "avg_deal", "active_reps", "avg_won"],
                 {"by": ["segment"], "grain": "quarter"}, id="quarter-by-joined-segment"),
    pytest.param(["deals_created", "close_rate", "spend_total", "click_sessions"],
                 {"grain": "week"}, id="week-ratio-date-column"),
    pytest.param(["deals_created", "won_revenue", "avg_deal"], {"by": ["region"], "grain": "month"},
                 id="month-by-region-with-nulls"),
    pytest.param(["click_sessions"], {"by": ["clicked"], "grain": "month"}, id="boolean-dimension"),
    pytest.param(["deals_created", "won_revenue"],
                 {"grain": "day", "start": "2023-03-01", "end": "2023-04-01"}, id="day-range"),
    pytest.param(["close_rate", "avg_won"], {"grain": "year"}, id="year"),
]


def write_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in PROJECT.items():
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@needs_server
@pytest.mark.parametrize(("metrics", "options"), QUERIES)
def test_results_equal_duckdb(metrics: list[str], options: dict[str, Any], demo_url: str,
                              duckdb_url: str, tmp_path: Path, mysql_plugin: None) -> None:
    import kpispec

    project = kpispec.load_project(write_project(tmp_path / "project"))
    expected = project.run(metrics, source=duckdb_url, **options)
    actual = project.run(metrics, source=demo_url, **options)
    assert expected.num_rows > 1
    assert actual.schema.field("period").type == pa.date32()
    assert_same_result(actual, expected)


@needs_server
def test_run_with_timeout_through_the_project(demo_url: str, tmp_path: Path,
                                              mysql_plugin: None) -> None:
    import kpispec

    project = kpispec.load_project(write_project(tmp_path / "project"))
    table = project.run(["deals_created"], source=demo_url, grain="year", timeout=30)
    assert sum(table.column("deals_created").to_pylist()) == 500


# -- values, types, streaming --------------------------------------------------------------------


@needs_server
def test_values_and_types_round_trip(con: MySQLConnection) -> None:
    assert con.dialect == "mysql"
    table = con.execute("SELECT * FROM typed ORDER BY id").read_all()
    assert table.schema == pa.schema([
        ("id", pa.int64()), ("at", pa.timestamp("us")), ("day", pa.date32()),
        ("amount", pa.float64()), ("flag", pa.bool_()), ("label", pa.string()),
    ])
    assert table.to_pylist() == [
        {"id": 1, "at": dt.datetime(2024, 1, 31, 23, 59, 59, 123456), "day": dt.date(2024, 2, 29),
         "amount": 1200.5, "flag": True, "label": "Zürich"},
        {"id": 2, "at": None, "day": dt.date(1999, 12, 31), "amount": None, "flag": False,
         "label": None},
        {"id": 3, "at": dt.datetime(2024, 2, 29), "day": None, "amount": -0.25, "flag": None,
         "label": "won"},
    ]


@needs_server
def test_expression_types(con: MySQLConnection) -> None:
    table = con.execute(
        "SELECT CAST('2024-03-01' AS DATE) AS period, COUNT(*) AS n, AVG(id) AS mean, "
        "CAST(1.25 AS DECIMAL(10, 2)) AS price, SUM(amount) AS total, 12 * 100 / 57 AS pct, "
        "NULL AS nothing FROM typed").read_all()
    assert table.schema == pa.schema([
        ("period", pa.date32()), ("n", pa.int64()), ("mean", pa.float64()),
        ("price", pa.float64()), ("total", pa.float64()), ("pct", pa.float64()),
        ("nothing", pa.null()),
    ])
    row = table.to_pylist()[0]
    assert row["period"] == dt.date(2024, 3, 1) and row["n"] == 3
    assert row["mean"] == 2.0 and row["price"] == 1.25 and row["total"] == 1200.25
    assert row["pct"] == pytest.approx(1200 / 57, rel=1e-12)  # not MySQL's 4 default decimals


@needs_server
def test_results_stream_in_batches(con: MySQLConnection) -> None:
    reader = con.execute("SELECT a.n * 400 + b.n AS v FROM numbers AS a CROSS JOIN numbers AS b")
    sizes = [batch.num_rows for batch in reader]
    assert sum(sizes) == 160_000
    assert max(sizes) == mysql_source.ROWS_PER_BATCH and len(sizes) == 4


@needs_server
def test_a_new_query_discards_an_unread_stream(con: MySQLConnection) -> None:
    first = con.execute("SELECT a.n FROM numbers AS a CROSS JOIN numbers AS b")
    next(iter(first))
    assert con.execute("SELECT 7 AS seven").read_all().to_pylist() == [{"seven": 7}]
    with pytest.raises(ExecutionError, match="was discarded"):
        first.read_all()
    assert con.execute("SELECT 8 AS eight").read_all().to_pylist() == [{"eight": 8}]


# -- catalog ------------------------------------------------------------------------------------


@needs_server
def test_describe(con: MySQLConnection, small_url: str) -> None:
    database = url_of(small_url).database
    assert con.describe("typed") == ["id", "at", "day", "amount", "flag", "label"]
    assert con.describe(f"{database}.numbers") == ["n"]
    assert con.describe("nope") is None
    assert con.describe("mysql_no_such_db.typed") is None
    assert con.describe("x' OR '1'='1") is None  # a parameter, never pasted


# -- read-only, guard ------------------------------------------------------------------------------


@needs_server
@pytest.mark.parametrize("statement", [
    "DROP TABLE typed",
    "DELETE FROM typed",
    "SELECT 1; DROP TABLE typed",
    "CREATE TABLE t2 AS SELECT * FROM typed",
])
def test_guard_refuses_writes(con: MySQLConnection, statement: str) -> None:
    with pytest.raises(ExecutionError, match="refusing to run"):
        con.execute(statement)
    assert con.execute("SELECT COUNT(*) AS n FROM typed").read_all().to_pylist() == [{"n": 3}]


@needs_server
def test_read_only_transaction_stops_a_write_past_the_guard(
        con: MySQLConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "check_single_select", lambda sql, dialect: None)
    with pytest.raises(ExecutionError, match=r"\(1792\) Cannot execute statement in a READ ONLY"):
        con.execute("INSERT INTO typed (id) VALUES (99)")
    monkeypatch.undo()
    assert con.execute("SELECT COUNT(*) AS n FROM typed").read_all().to_pylist() == [{"n": 3}]


# -- timeouts --------------------------------------------------------------------------------------


@needs_server
def test_timeout_stops_the_query_and_connection_survives(con: MySQLConnection) -> None:
    started = time.monotonic()
    with pytest.raises(ExecutionError) as info:
        con.execute("SELECT SLEEP(5)", timeout=0.5).read_all()
    assert time.monotonic() - started < 3
    assert str(info.value).startswith("query timed out after 0.5 s on mysql://root@")
    assert con.execute("SELECT 42 AS answer").read_all().to_pylist() == [{"answer": 42}]


@needs_server
def test_client_kills_the_query_when_the_server_limit_is_missing(
        con: MySQLConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MySQLConnection, "_set_limit", lambda self, timeout: None)
    started = time.monotonic()
    with pytest.raises(ExecutionError, match=r"query timed out after 0\.5 s"):
        con.execute("SELECT SLEEP(5)", timeout=0.5).read_all()
    assert time.monotonic() - started < 3
    assert con.execute("SELECT 1 AS a").read_all().to_pylist() == [{"a": 1}]


@needs_server
def test_finished_query_is_not_killed_later(con: MySQLConnection) -> None:
    assert con.execute("SELECT 1 AS a", timeout=0.3).read_all().to_pylist() == [{"a": 1}]
    time.sleep(0.5)  # the first query's timer must not hit the next one
    assert con.execute("SELECT SLEEP(0.3) AS s").read_all().to_pylist() == [{"s": 0}]


@needs_server
def test_unread_stream_that_timed_out_does_not_break_the_connection(con: MySQLConnection) -> None:
    con.execute("SELECT SLEEP(2) AS s", timeout=0.3)  # never read
    time.sleep(0.6)
    assert con.execute("SELECT 5 AS five").read_all().to_pylist() == [{"five": 5}]


@needs_server
def test_timeout_must_be_positive(con: MySQLConnection) -> None:
    with pytest.raises(ValueError, match="positive"):
        con.execute("SELECT 1", timeout=0)


# -- errors ----------------------------------------------------------------------------------------


@needs_server
def test_query_error_is_one_line_and_names_the_url(con: MySQLConnection, small_url: str) -> None:
    with pytest.raises(ExecutionError) as info:
        con.execute("SELECT nope FROM typed")
    message = str(info.value)
    assert message.startswith(f"MySQL query failed on {small_url}: (1054) Unknown column 'nope'")
    assert "\n" not in message
    assert con.execute("SELECT 1 AS a").read_all().to_pylist() == [{"a": 1}]


@needs_server
def test_wrong_password_is_masked() -> None:
    with pytest.raises(ExecutionError) as info:
        connect(url_of(f"mysql://kpispec_nobody:{SECRET}@{HOST}:{PORT}/test"))
    message = str(info.value)
    assert message.startswith(f"cannot connect to MySQL at mysql://kpispec_nobody:***@{HOST}:{PORT}/test: ")
    assert "Access denied for user" in message
    assert SECRET not in message and "\n" not in message
    assert SECRET not in repr(info.value)


@needs_server
def test_zero_date_is_a_clear_error(con: MySQLConnection) -> None:
    with pytest.raises(ExecutionError, match=r"column 'd' .* holds '0000-00-00'"):
        con.execute("SELECT CAST('0000-00-00' AS DATE) AS d").read_all()


@needs_server
def test_mariadb_scheme(small_url: str) -> None:
    with connect(url_of(small_url.replace("mysql://", "mariadb://", 1))) as con:
        assert con.dialect == "mysql"
        assert con.execute("SELECT COUNT(*) AS n FROM typed").read_all().to_pylist() == [{"n": 3}]


@needs_server
def test_closed_connection(small_url: str) -> None:
    con = connect(url_of(small_url))
    assert "open" in repr(con)
    con.close()
    con.close()
    assert "closed" in repr(con)
    with pytest.raises(ExecutionError, match="is closed"):
        con.execute("SELECT 1")
    with pytest.raises(ExecutionError, match="is closed"):
        con.describe("typed")


def test_result_comparison_is_approximate_for_floats_only() -> None:
    period = pa.array([dt.date(2024, 1, 1), dt.date(2024, 2, 1)], pa.date32())
    a = pa.table({"period": period, "x": [1.0, None], "y": ["a", "b"]})
    assert_same_result(a, pa.table({"period": period, "x": [1.0 + 1e-12, None], "y": ["a", "b"]}))
    with pytest.raises(AssertionError):
        assert_same_result(a, pa.table({"period": period, "x": [1.0 + 1e-6, None], "y": ["a", "b"]}))
    with pytest.raises(AssertionError):
        assert_same_result(a, pa.table({"period": period, "x": [1.0, None], "y": ["a", "c"]}))
