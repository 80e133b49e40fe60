"""The ClickHouse source plugins (kpispec_builtins.clickhouse_source).

chdb (in-process ClickHouse) gives real results; the HTTP client is checked
against a tiny local HTTP server that records each request and answers with an
Arrow stream, an error, or nothing for a while.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pyarrow as pa
import pytest
from kpispec import plugins
from kpispec.compile import guard
from kpispec.errors import ExecutionError
from kpispec.extensions import SourceType
from kpispec.project import parse_source_url
from kpispec_builtins import clickhouse_source
from kpispec_builtins.clickhouse_source import (
    ChdbConnection,
    ClickHouseHTTPConnection,
    connect,
    connect_chdb,
    connect_http,
)

from tests.unit.sources import assert_same_result

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engines import load_clickhouse

SECRET = "pa55-w0rd-never-shown"


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_url(demo_tables: dict[str, pa.Table], tmp_path_factory: pytest.TempPathFactory) -> str:
    return load_clickhouse.load(demo_tables, directory=tmp_path_factory.mktemp("chdb_demo"))


@pytest.fixture(scope="module")
def small_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A session with one table of every column type (NULLs included) and one without NULLs."""
    typed = pa.table({
        "id": pa.array([1, 2, 3], pa.int64()),
        "at": pa.array([dt.datetime(2024, 1, 31, 23, 59, 59, 123456), None,
                        dt.datetime(2024, 2, 29, 0, 0)], pa.timestamp("us")),
        "day": pa.array([dt.date(2024, 2, 29), dt.date(1999, 12, 31), None], pa.date32()),
        "amount": pa.array([1200.5, None, -0.25], pa.float64()),
        "flag": pa.array([True, False, None], pa.bool_()),
        "label": pa.array(["Zürich", None, "won"], pa.string()),
    })
    dense = pa.table({"n": pa.array([1, 2], pa.int64()), "s": pa.array(["a", "b"], pa.string())})
    return load_clickhouse.load({"typed": typed, "dense": dense},
                                directory=tmp_path_factory.mktemp("chdb_small"))


@pytest.fixture
def con(small_url: str) -> Iterator[ChdbConnection]:
    with connect_chdb(parse_source_url(small_url)) as connection:
        yield connection


@pytest.fixture
def clickhouse_plugin() -> Iterator[None]:
    """The plugin registered in-process, unless its entry point already loaded it."""
    pm = plugins.get_plugin_manager()
    if pm.is_registered(clickhouse_source):
        yield
        return
    plugins.register_plugin(clickhouse_source, "clickhouse")
    try:
        yield
    finally:
        plugins.unregister_plugin("clickhouse")


# -- registration, import ---------------------------------------------------------------------


def test_register_sources_registers_chdb_and_clickhouse() -> None:
    registered: list[SourceType] = []
    clickhouse_source.register_sources(registered.append)
    assert [(s.name, s.schemes, s.dialect) for s in registered] == [
        ("chdb", ("chdb",), "clickhouse"), ("clickhouse", ("clickhouse",), "clickhouse")]
    assert registered[0].connect is connect_chdb and registered[1].connect is connect_http


def test_import_does_not_load_the_drivers() -> None:
    code = (
        "import sys, kpispec; before = set(sys.modules);"
        "import kpispec_builtins.clickhouse_source;"
        "heavy = {'chdb', 'pyarrow', 'urllib.request'} & (set(sys.modules) - before);"
        "assert not heavy, heavy"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_missing_chdb_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "chdb", None)  # import chdb -> ImportError
    with pytest.raises(ExecutionError) as info:
        connect_chdb(parse_source_url("chdb://"))
    assert str(info.value) == "the chdb source needs chdb: pip install 'kpispec[clickhouse]'"


def test_connect_dispatches_on_the_scheme(tmp_path: Path) -> None:
    with connect(parse_source_url("chdb://")) as memory:
        assert isinstance(memory, ChdbConnection)
    with connect(parse_source_url("clickhouse://db.example:8123/crm")) as http:
        assert isinstance(http, ClickHouseHTTPConnection)


# -- chdb URLs --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["chdb://", "chdb:///:memory:"])
def test_chdb_in_memory(text: str) -> None:
    with connect_chdb(parse_source_url(text)) as con:
        assert con.dialect == "clickhouse"
        assert con.execute("SELECT 1 AS a").read_all().to_pylist() == [{"a": 1}]
        assert con.describe("deals") is None


def test_chdb_missing_directory_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ExecutionError, match=r"chdb session directory .*nope' does not exist"):
        connect_chdb(parse_source_url(f"chdb:///{missing}"))
    assert not missing.exists()


def test_chdb_file_is_not_a_directory(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(ExecutionError, match="is a file, not a directory"):
        connect_chdb(parse_source_url(f"chdb:///{file}"))


def test_chdb_url_with_a_host_suggests_slashes() -> None:
    with pytest.raises(ExecutionError, match=r"no host; write chdb:///data/ch"):
        connect_chdb(parse_source_url("chdb://data/ch"))


def test_chdb_url_takes_no_query_parameters() -> None:
    with pytest.raises(ExecutionError, match="unknown query parameter 'mode'"):
        connect_chdb(parse_source_url("chdb://?mode=rw"))


def test_chdb_relative_directory(small_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = Path(parse_source_url(small_url).database)
    monkeypatch.chdir(directory.parent)
    with connect_chdb(parse_source_url(f"chdb:///{directory.name}")) as con:
        assert con.describe("dense") == ["n", "s"]


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


@pytest.mark.parametrize(("metrics", "options"), QUERIES)
def test_results_equal_duckdb(metrics: list[str], options: dict[str, Any], demo_url: str,
                              duckdb_url: str, tmp_path: Path, clickhouse_plugin: None) -> None:
    import kpispec

    project = kpispec.load_project(write_project(tmp_path / "project"))
    expected = project.run(metrics, source=duckdb_url, **options)
    actual = project.run(metrics, source=demo_url, **options)
    assert expected.num_rows > 1
    assert_same_result(actual, expected)


def test_demo_tables_round_trip(demo_url: str, demo_tables: dict[str, pa.Table]) -> None:
    """Every demo table comes back from chdb with the values and Arrow types it went in with."""
    with connect_chdb(parse_source_url(demo_url)) as con:
        for name, table in demo_tables.items():
            keys = [(column, "ascending") for column in table.column_names]
            back = con.execute(f"SELECT * FROM `{name}`").read_all()
            assert back.schema == table.schema, name
            assert back.sort_by(keys).equals(table.sort_by(keys)), name


def test_compiled_query_runs_on_chdb(demo_url: str, tmp_path: Path, clickhouse_plugin: None) -> None:
    """kpispec's SQL runs; the numbers per period (matched by date) are DuckDB's."""
    import kpispec

    project = kpispec.load_project(write_project(tmp_path / "project"))
    table = project.run(["deals_created", "close_rate"], source=demo_url, grain="month")
    period = table.column_names[0]  # 'periods.period' until the compiler aliases it
    assert table.schema.field(period).type == pa.date32()
    rows = {r[period]: r for r in table.to_pylist() if r["deals_created"]}
    assert sum(r["deals_created"] for r in rows.values()) == 500
    assert len(rows) == 24 and min(rows) == dt.date(2023, 1, 1)


# -- values, types, streaming --------------------------------------------------------------------


def test_values_and_types_round_trip(con: ChdbConnection) -> None:
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


def test_clickhouse_types_become_portable_arrow_types(con: ChdbConnection) -> None:
    table = con.execute(
        "SELECT count() AS n, toUInt8(7) AS small, toDecimal64(1.25, 2) AS price, "
        "toFloat32(0.5) AS half, toDateTime64('2024-01-01 10:00:00.5', 3, 'Asia/Tokyo') AS at, "
        "toDate('2024-02-29') AS day, toLowCardinality('x') AS lc, CAST(NULL AS Nullable(Int32)) AS "
        "nothing, true AS yes FROM dense").read_all()
    assert table.schema == pa.schema([
        ("n", pa.int64()), ("small", pa.int64()), ("price", pa.float64()), ("half", pa.float64()),
        ("at", pa.timestamp("us")), ("day", pa.date32()), ("lc", pa.string()),
        ("nothing", pa.int64()), ("yes", pa.bool_()),
    ])
    assert table.to_pylist() == [{
        "n": 2, "small": 7, "price": 1.25, "half": 0.5,
        "at": dt.datetime(2024, 1, 1, 1, 0, 0, 500000),  # stored instant, in UTC
        "day": dt.date(2024, 2, 29), "lc": "x", "nothing": None, "yes": True,
    }]


def test_results_stream_in_batches(con: ChdbConnection) -> None:
    reader = con.execute("SELECT number AS n FROM numbers(300000)")
    sizes = [batch.num_rows for batch in reader]
    assert sum(sizes) == 300_000 and len(sizes) > 1


def test_empty_result_keeps_its_schema(con: ChdbConnection) -> None:
    table = con.execute("SELECT number AS n, toString(number) AS s FROM numbers(10) "
                        "WHERE number > 100").read_all()
    assert table.schema == pa.schema([("n", pa.int64()), ("s", pa.string())])
    assert table.num_rows == 0


def test_a_new_query_discards_an_unread_stream(con: ChdbConnection) -> None:
    first = con.execute("SELECT number FROM numbers(3000000)")
    next(iter(first))
    assert con.execute("SELECT 7 AS seven").read_all().to_pylist() == [{"seven": 7}]
    with pytest.raises(ExecutionError, match="was discarded"):
        first.read_all()
    assert con.execute("SELECT 8 AS eight").read_all().to_pylist() == [{"eight": 8}]


def test_describe(con: ChdbConnection) -> None:
    assert con.describe("typed") == ["id", "at", "day", "amount", "flag", "label"]
    assert con.describe("default.dense") == ["n", "s"]
    assert con.describe("nope") is None
    assert con.describe("no_such_db.typed") is None
    assert con.describe("x' OR '1'='1") is None  # a parameter, never pasted


# -- read-only, guard ------------------------------------------------------------------------------


@pytest.mark.parametrize("statement", [
    "DROP TABLE typed",
    "INSERT INTO typed (id) VALUES (9)",
    "SELECT 1; DROP TABLE typed",
    "TRUNCATE TABLE typed",
])
def test_guard_refuses_writes(con: ChdbConnection, statement: str) -> None:
    with pytest.raises(ExecutionError, match="refusing to run"):
        con.execute(statement)
    assert con.execute("SELECT count() AS n FROM typed").read_all().to_pylist() == [{"n": 3}]


def test_session_is_read_only_past_the_guard(con: ChdbConnection,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(Exception, match=r"Code: 164.*readonly mode"):
        con.session.query("INSERT INTO typed (id) VALUES (9)", "CSV")
    monkeypatch.setattr(guard, "check_single_select", lambda sql, dialect: None)
    with pytest.raises(ExecutionError, match=r"Code: 164.*Cannot modify 'readonly'"):
        con.execute("SELECT 1 SETTINGS readonly = 0").read_all()
    monkeypatch.undo()
    assert con.execute("SELECT count() AS n FROM typed").read_all().to_pylist() == [{"n": 3}]


# -- timeouts, errors ------------------------------------------------------------------------------


def test_timeout_stops_the_query_and_session_survives(con: ChdbConnection) -> None:
    started = time.monotonic()
    with pytest.raises(ExecutionError) as info:
        con.execute("SELECT count() FROM numbers(100000000000)", timeout=0.5).read_all()
    assert time.monotonic() - started < 10
    assert str(info.value).startswith("query timed out after 0.5 s on chdb:///")
    # chdb hands a failed query's leftovers to the next query unless they are drained
    assert con.execute("SELECT 42 AS answer").read_all().to_pylist() == [{"answer": 42}]
    assert con.execute("SELECT count() AS n FROM numbers(1000000)").read_all().to_pylist() == [
        {"n": 1000000}]  # and the limit is gone again


def test_timeout_must_be_positive(con: ChdbConnection) -> None:
    with pytest.raises(ValueError, match="positive"):
        con.execute("SELECT 1", timeout=0)


def test_query_error_is_one_line_and_names_the_url(con: ChdbConnection, small_url: str) -> None:
    with pytest.raises(ExecutionError) as info:
        con.execute("SELECT nope FROM typed")
    message = str(info.value)
    assert message.startswith(f"ClickHouse query failed on {small_url}: Code: 47. ")
    assert "nope" in message and "\n" not in message and "(version" not in message
    assert con.execute("SELECT 1 AS a").read_all().to_pylist() == [{"a": 1}]


def test_error_while_streaming_leaves_the_session_usable(con: ChdbConnection) -> None:
    with pytest.raises(ExecutionError, match=r"Code: 395.*boom"):
        con.execute("SELECT throwIf(number = 200000, 'boom') AS x FROM numbers(500000)").read_all()
    assert con.execute("SELECT 3 AS three").read_all().to_pylist() == [{"three": 3}]


def test_closed_connection(small_url: str) -> None:
    con = connect_chdb(parse_source_url(small_url))
    con.close()
    con.close()
    assert "closed" in repr(con)
    with pytest.raises(ExecutionError, match="is closed"):
        con.execute("SELECT 1")
    with pytest.raises(ExecutionError, match="is closed"):
        con.describe("typed")


# -- ClickHouse over HTTP, against a local stand-in server -----------------------------------------


def arrow_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


class FakeClickHouse:
    """Records POSTs; ``respond(request) -> (status, body bytes)`` answers them."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.respond: Callable[[dict[str, Any]], tuple[int, bytes]] = lambda request: (
            200, arrow_stream(pa.table({"a": pa.array([1], pa.uint8())})))
        self.delay = 0.0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = urlsplit(self.path)
                request = {"path": parts.path, "params": dict(parse_qsl(parts.query, keep_blank_values=True)),
                           "raw_path": self.path, "headers": dict(self.headers),
                           "body": body.decode("utf-8")}
                owner.requests.append(request)
                if owner.delay:
                    time.sleep(owner.delay)
                status, payload = owner.respond(request)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, auth: str = f"alice:{SECRET}@", path: str = "/crm", query: str = "") -> str:
        return f"clickhouse://{auth}127.0.0.1:{self.port}{path}{query}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake() -> Iterator[FakeClickHouse]:
    server = FakeClickHouse()
    try:
        yield server
    finally:
        server.close()


def test_http_request_carries_query_settings_and_auth_header(fake: FakeClickHouse) -> None:
    fake.respond = lambda request: (200, arrow_stream(pa.table({
        "n": pa.array([3], pa.uint64()),
        "period": pa.array([dt.date(2024, 1, 1)], pa.date32()),
        "at": pa.array([dt.datetime(2024, 1, 1, 12)], pa.timestamp("ms", tz="UTC")),
        "name": pa.array(["x"], pa.large_string()),
    })))
    url = fake.url()
    with connect_http(parse_source_url(url)) as con:
        assert con.dialect == "clickhouse"
        table = con.execute("SELECT count() AS n FROM deals  ;\n", timeout=2.5).read_all()
    assert table.schema == pa.schema([("n", pa.int64()), ("period", pa.date32()),
                                      ("at", pa.timestamp("us")), ("name", pa.string())])
    assert table.to_pylist() == [{"n": 3, "period": dt.date(2024, 1, 1),
                                  "at": dt.datetime(2024, 1, 1, 12), "name": "x"}]
    [request] = fake.requests
    assert request["path"] == "/"
    assert request["body"] == "SELECT count() AS n FROM deals\nFORMAT ArrowStream"
    assert request["params"] == {
        "database": "crm", "readonly": "2", "max_execution_time": "2.5",
        "cancel_http_readonly_queries_on_client_close": "1",
        "output_format_arrow_string_as_string": "1",
    }
    token = base64.b64encode(f"alice:{SECRET}".encode()).decode()
    assert request["headers"]["Authorization"] == f"Basic {token}"
    assert SECRET not in request["raw_path"]


def test_http_without_timeout_sends_no_limit(fake: FakeClickHouse) -> None:
    with connect_http(parse_source_url(fake.url(auth="", path=""))) as con:
        assert con.execute("SELECT 1 AS a").read_all().to_pylist() == [{"a": 1}]
    [request] = fake.requests
    assert "max_execution_time" not in request["params"] and "database" not in request["params"]
    default = base64.b64encode(b"default:").decode()
    assert request["headers"]["Authorization"] == f"Basic {default}"


def test_http_credentials_from_the_environment(fake: FakeClickHouse,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKHOUSE_USER", "bob")
    monkeypatch.setenv("CLICKHOUSE_PASSWORD", SECRET)
    with connect_http(parse_source_url(fake.url(auth=""))) as con:
        con.execute("SELECT 1 AS a").read_all()
    token = base64.b64encode(f"bob:{SECRET}".encode()).decode()
    assert fake.requests[0]["headers"]["Authorization"] == f"Basic {token}"


def test_http_guard_refuses_writes_before_sending(fake: FakeClickHouse) -> None:
    with connect_http(parse_source_url(fake.url())) as con, \
            pytest.raises(ExecutionError, match="refusing to run"):
        con.execute("DROP TABLE deals")
    assert fake.requests == []


def test_http_server_error_is_one_line_without_password(fake: FakeClickHouse) -> None:
    fake.respond = lambda request: (500, (
        "Code: 62. DB::Exception: Syntax error: failed at position 1 ('SELEC'): SELEC 1 "
        f"\nFORMAT ArrowStream. Expected one of: ... (password {SECRET}). "
        "(SYNTAX_ERROR) (version 24.3.2.23 (official build))\n").encode())
    url = fake.url()
    with connect_http(parse_source_url(url)) as con, pytest.raises(ExecutionError) as info:
        con.execute("SELECT 1 AS a")
    message = str(info.value)
    assert message.startswith(
        f"ClickHouse query failed on clickhouse://alice:***@127.0.0.1:{fake.port}/crm: "
        "Code: 62. DB::Exception: Syntax error")
    assert "\n" not in message and SECRET not in message and "(version" not in message


def test_http_server_timeout_is_a_timeout(fake: FakeClickHouse) -> None:
    fake.respond = lambda request: (500, b"Code: 159. DB::Exception: Timeout exceeded: elapsed "
                                         b"1.000 sec., maximum: 1. (TIMEOUT_EXCEEDED)\n")
    with connect_http(parse_source_url(fake.url())) as con, \
            pytest.raises(ExecutionError, match=r"^query timed out after 1 s on clickhouse://alice:\*\*\*@"):
        con.execute("SELECT 1 AS a", timeout=1)


def test_http_client_gives_up_when_the_server_does_not_answer(
        fake: FakeClickHouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clickhouse_source, "_GRACE", 0.2)
    fake.delay = 3
    started = time.monotonic()
    with connect_http(parse_source_url(fake.url())) as con, \
            pytest.raises(ExecutionError, match=r"query timed out after 0\.3 s"):
        con.execute("SELECT 1 AS a", timeout=0.3).read_all()
    assert time.monotonic() - started < 2


def test_http_exception_after_some_rows(fake: FakeClickHouse) -> None:
    good = arrow_stream(pa.table({"a": pa.array(range(5), pa.int64())}))
    partial = good[:-8]  # schema and batch, without the end-of-stream marker
    fake.respond = lambda request: (200, partial + b"Code: 241. DB::Exception: Memory limit "
                                                  b"(total) exceeded. (MEMORY_LIMIT_EXCEEDED)\n")
    with connect_http(parse_source_url(fake.url())) as con, \
            pytest.raises(ExecutionError, match=r"failed on .*: Code: 241\. .*Memory limit"):
        con.execute("SELECT a FROM t").read_all()


def test_http_unreachable_server(fake: FakeClickHouse) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"clickhouse://alice:{SECRET}@127.0.0.1:{port}/crm"
    with connect_http(parse_source_url(url)) as con, pytest.raises(ExecutionError) as info:
        con.execute("SELECT 1 AS a")
    message = str(info.value)
    assert message.startswith(f"cannot reach ClickHouse at clickhouse://alice:***@127.0.0.1:{port}/crm: ")
    assert SECRET not in message and "\n" not in message


def test_http_describe_is_parameterised(fake: FakeClickHouse) -> None:
    def respond(request: dict[str, Any]) -> tuple[int, bytes]:
        found = request["params"]["param_t"] == "deals"
        names = ["deal_id", "amount"] if found else []
        return 200, arrow_stream(pa.table({"name": pa.array(names, pa.string())}))

    fake.respond = respond
    with connect_http(parse_source_url(fake.url())) as con:
        assert con.describe("crm.deals") == ["deal_id", "amount"]
        assert con.describe("x' OR '1'='1") is None
    first, second = fake.requests
    assert "{db:String}" in first["body"] and "{t:String}" in first["body"]
    assert first["body"].endswith("\nFORMAT ArrowStream")
    assert (first["params"]["param_db"], first["params"]["param_t"]) == ("crm", "deals")
    assert (second["params"]["param_db"], second["params"]["param_t"]) == ("", "x' OR '1'='1")
    assert "x' OR" not in second["body"]


@pytest.mark.parametrize(("text", "error"), [
    ("clickhouse:///crm", "needs a host"),
    ("clickhouse://h:8123/crm?max_threads=4", "unknown query parameter 'max_threads'"),
    ("clickhouse://h:8123/crm?secure=maybe", "secure must be true or false"),
    ("clickhouse://h:8123/a/b", "one database name"),
])
def test_http_url_errors(text: str, error: str) -> None:
    with pytest.raises(ExecutionError, match=error):
        connect_http(parse_source_url(text))


def test_http_secure_url() -> None:
    con = connect_http(parse_source_url("clickhouse://u@ch.example/crm?secure=true"))
    assert con.endpoint == "https://ch.example:8443/"
    assert con.request_url({}).startswith("https://ch.example:8443/?readonly=2&")


def test_http_closed_connection(fake: FakeClickHouse) -> None:
    con = connect_http(parse_source_url(fake.url()))
    con.close()
    with pytest.raises(ExecutionError, match="is closed"):
        con.execute("SELECT 1")
