"""The built-in ``postgresql`` source plugin (kpispec_builtins.postgres_source).

Runs against the PostgreSQL server on 127.0.0.1:5432 (database ``test``, user
``postgres``): the demo warehouse (``kpispec._demo.generate(rows=500)``) is loaded
into a fresh schema with ``tests/engines/load_postgres.py`` and into DuckDB with
``_demo.write_duckdb``; the same project then runs on both and the results must
be equal row by row (floats within a relative 1e-9) with the same Arrow types.

The tests that need the server skip only when nothing listens on that port and
the environment variable ``CI`` is not set; in CI a missing server fails them.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from kpispec import _demo, plugins
from kpispec.errors import ExecutionError
from kpispec.extensions import SourceType
from kpispec.project import parse_source_url
from kpispec_builtins import postgres_source
from kpispec_builtins.postgres_source import PostgresConnection, connect

from tests.engines import load_postgres
from tests.unit.sources import assert_same_result

SERVER = f"{load_postgres.HOST}:{load_postgres.PORT}"
BASE_URL = f"postgresql://{load_postgres.USER}@{SERVER}/{load_postgres.DATABASE}"
SECRET = "s3cret-Pa55"  # a password that must never show in a message

MODELS = """
models:
  - name: deals
    table: deals
    primary_key: deal_id
    time: created_at
    columns: [deal_id, lead_id, customer_id, owner_id, region, created_at, closed_at, stage, amount, deal_type]
    dimensions:
      - region
      - stage
      - deal_type
      - {name: rep, expr: owner_id}
    joins:
      - {model: customers, on: customer_id}
  - name: customers
    table: customers
    primary_key: customer_id
    time: signed_up_at
    lifecycle: {start: signed_up_at, end: churned_at}
    columns: [customer_id, signed_up_at, churned_at, region, segment, originated_by]
    dimensions: [segment]
  - name: orders
    table: orders
    primary_key: order_id
    time: ordered_at
    columns: [order_id, customer_id, ordered_at, amount, cost]
    joins:
      - {model: customers, on: customer_id}
  - name: spend
    table: spend
    time: spent_on
    columns: [spent_on, category, channel, amount]
    dimensions: [category, channel]
  - name: web_sessions
    table: web_sessions
    primary_key: session_id
    time: started_at
    columns: [session_id, visitor_id, started_at, landing_page, clicked, converted]
    dimensions: [landing_page, clicked]
metrics:
  - name: deals_created
    type: simple
    measure: {model: deals, agg: count}
  - name: won_revenue
    type: simple
    measure: {model: deals, agg: sum, expr: amount, filter: "stage = 'won'", time: closed_at}
  - name: win_rate
    type: ratio
    numerator: {model: deals, agg: count, filter: "stage = 'won'", time: closed_at}
    denominator: {model: deals, agg: count, filter: "stage IN ('won', 'lost')", time: closed_at}
    scale: 100
  - name: revenue_per_deal
    type: derived
    expr: won_revenue / deals_created
  - name: active_customers
    type: simple
    measure: {model: customers, agg: count, at: period_end}
  - name: new_customers
    type: simple
    measure: {model: customers, agg: count}
  - name: active_reps
    type: simple
    measure: {model: deals, agg: count_distinct, expr: owner_id}
  - name: biggest_deal
    type: simple
    measure: {model: deals, agg: max, expr: amount}
  - name: median_deal
    type: simple
    measure: {model: deals, agg: median, expr: amount}
  - name: p90_deal
    type: simple
    measure: {model: deals, agg: percentile, p: 0.9, expr: amount}
  - name: order_revenue
    type: simple
    measure: {model: orders, agg: sum, expr: amount}
  - name: avg_order_margin
    type: simple
    measure: {model: orders, agg: avg, expr: amount - cost}
  - name: spend_total
    type: simple
    measure: {model: spend, agg: sum, expr: amount}
  - name: sessions
    type: simple
    measure: {model: web_sessions, agg: count}
  - name: click_rate
    type: ratio
    numerator: {model: web_sessions, agg: count, filter: clicked}
    denominator: {model: web_sessions, agg: count}
"""

#: (metrics, query options) run on both engines.
QUERIES: list[tuple[list[str], dict[str, Any]]] = [
    (["deals_created", "won_revenue", "win_rate", "revenue_per_deal", "active_customers",
      "new_customers", "active_reps", "biggest_deal", "median_deal", "p90_deal",
      "order_revenue", "avg_order_margin", "spend_total", "sessions", "click_rate"], {}),
    (["deals_created", "won_revenue", "win_rate", "active_customers", "order_revenue"],
     {"by": ["segment"], "grain": "quarter"}),
    (["deals_created", "won_revenue", "median_deal"],
     {"by": ["region", "stage"], "where": "region <> 'APAC'", "start": "2023-03-01",
      "end": "2024-03-01"}),
    (["deals_created", "active_customers", "spend_total"],
     {"grain": "week", "start": "2023-06-01", "end": "2023-09-01"}),
    (["deals_created", "won_revenue"], {"grain": "day", "start": "2024-02-25", "end": "2024-03-05"}),
    (["sessions", "click_rate"], {"by": ["clicked", "landing_page"], "grain": "year"}),
]


# -- fixtures --------------------------------------------------------------------------------


def require_server() -> None:
    """Skip without a server on 127.0.0.1:5432 — unless CI is set, where that is a failure."""
    if not load_postgres.server_available():
        if "CI" in os.environ:
            pytest.fail(f"no PostgreSQL server listens on {SERVER}, and CI is set: the PostgreSQL "
                        "tests must run in CI (start the server before running the tests)",
                        pytrace=False)
        pytest.skip(f"no PostgreSQL server listens on {SERVER} (with CI set this fails)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("a PostgreSQL server is up but psycopg is not installed: "
                    "pip install 'kpispec[postgres]'", pytrace=False)


@pytest.fixture(scope="module")
def server() -> None:
    require_server()


@pytest.fixture(autouse=True)
def postgres_plugin(_no_packs_by_default: None) -> Iterator[None]:
    """The postgresql source, registered in-process unless its entry point already did."""
    pm = plugins.get_plugin_manager()
    if pm.is_registered(postgres_source) or plugins.get_registry().source_for_scheme("postgresql"):
        yield
        return
    plugins.register_plugin(postgres_source, "postgresql")
    try:
        yield
    finally:
        plugins.unregister_plugin("postgresql")


@pytest.fixture(scope="module")
def pg_url(server: None, demo_tables: dict[str, pa.Table]) -> Iterator[str]:
    url = load_postgres.load(demo_tables)
    yield url
    load_postgres.drop(url)


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    (root / "kpispec.yaml").write_text("name: sources\npacks: {crm: false}\n", encoding="utf-8")
    (root / "crm.yaml").write_text(textwrap.dedent(MODELS), encoding="utf-8")
    return root


@pytest.fixture
def project(project_dir: Path) -> Any:
    import kpispec

    return kpispec.load_project(project_dir)


@pytest.fixture
def con(pg_url: str) -> Iterator[PostgresConnection]:
    with connect(parse_source_url(pg_url)) as connection:
        yield connection


def read(con: PostgresConnection, sql: str, **kwargs: Any) -> pa.Table:
    return con.execute(sql, **kwargs).read_all()


def one_line_without_secret(message: str) -> None:
    assert "\n" not in message
    assert SECRET not in message
    assert "***" in message


# -- registration and module hygiene (no server needed) ------------------------------------


def test_register_sources_registers_postgresql() -> None:
    registered: list[SourceType] = []
    postgres_source.register_sources(registered.append)
    [source] = registered
    assert source.name == "postgresql"
    assert source.schemes == ("postgresql", "postgres")
    assert source.dialect == "postgres"
    assert source.connect is connect
    registry = plugins.get_registry()
    assert registry.source_for_scheme("postgres").connect is connect
    assert registry.source_for_scheme("postgresql").connect is connect


def test_import_does_not_load_heavy_modules() -> None:
    code = (
        "import sys, kpispec; before = set(sys.modules);"
        "import kpispec_builtins.postgres_source;"
        "heavy = {'pyarrow', 'sqlglot', 'psycopg'} & (set(sys.modules) - before);"
        "assert not heavy, heavy"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_missing_driver_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    with pytest.raises(ExecutionError) as info:
        connect(parse_source_url(f"postgresql://me:{SECRET}@{SERVER}/test"))
    message = str(info.value)
    assert message.startswith(
        "the PostgreSQL source needs psycopg: pip install 'kpispec[postgres]'")
    one_line_without_secret(message)


def test_missing_driver_through_project_run(monkeypatch: pytest.MonkeyPatch, project: Any) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ExecutionError, match=r"pip install 'kpispec\[postgres\]'") as info:
        project.run(["deals_created"], source=f"postgres://me:{SECRET}@{SERVER}/test")
    assert info.value.exit_code == 2
    assert SECRET not in str(info.value)


def test_driver_messages_never_show_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a driver message that echoes the password (libpq does not) is scrubbed."""
    import psycopg

    def refuse(**params: Any) -> None:
        raise psycopg.OperationalError(
            f'connection to server failed: FATAL:  password authentication failed for '
            f'user "me"\n(password was {params["password"]})\n')

    monkeypatch.setattr(psycopg, "connect", refuse)
    with pytest.raises(ExecutionError) as info:
        connect(parse_source_url(f"postgresql://me:{SECRET}@{SERVER}/test"))
    message = str(info.value)
    assert message == (f"cannot connect to PostgreSQL postgresql://me:***@{SERVER}/test: "
                       "connection to server failed: FATAL: password authentication failed for "
                       'user "me" (password was ***)')
    one_line_without_secret(message)


def test_percent_encoded_password_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    seen: dict[str, Any] = {}

    def refuse(**params: Any) -> None:
        seen.update(params)
        raise psycopg.OperationalError("password authentication failed")

    monkeypatch.setattr(psycopg, "connect", refuse)
    with pytest.raises(ExecutionError) as info:
        connect(parse_source_url(f"postgresql://me:p%40ss%2Fw0rd@{SERVER}/test"))
    assert seen["password"] == "p@ss/w0rd"  # decoded for libpq
    message = str(info.value)
    assert "p%40ss" not in message and "p@ss" not in message
    assert f"postgresql://me:***@{SERVER}/test" in message


def test_only_what_the_url_gives_goes_to_libpq(monkeypatch: pytest.MonkeyPatch) -> None:
    """User, password, host, port and database left out of the URL come from PG* variables."""
    import psycopg

    seen: dict[str, Any] = {}

    def capture(**params: Any) -> None:
        seen.update(params)
        raise psycopg.OperationalError("stop here")

    monkeypatch.setattr(psycopg, "connect", capture)
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    with pytest.raises(ExecutionError):
        connect(parse_source_url("postgresql://"))
    assert seen == {"autocommit": True, "connect_timeout": postgres_source.CONNECT_TIMEOUT,
                    "application_name": "kpispec"}
    seen.clear()
    with pytest.raises(ExecutionError):
        connect(parse_source_url("postgresql://u@h:6543/db?sslmode=require&schema=crm"))
    assert seen == {"autocommit": True, "connect_timeout": postgres_source.CONNECT_TIMEOUT,
                    "application_name": "kpispec", "host": "h", "port": 6543, "user": "u",
                    "dbname": "db", "sslmode": "require"}


def test_unknown_query_parameter() -> None:
    with pytest.raises(ExecutionError, match="unknown query parameter 'options'"):
        connect(parse_source_url(f"{BASE_URL}?options=-c%20default_transaction_read_only%3Doff"))


# -- the same numbers as DuckDB ----------------------------------------------------------------


@pytest.mark.parametrize(("metrics", "options"), QUERIES,
                         ids=[f"{len(m)}-metrics-{'-'.join(map(str, o.values())) or 'all'}"
                              for m, o in QUERIES])
def test_results_equal_duckdb(project: Any, pg_url: str, duckdb_url: str,
                              metrics: list[str], options: dict[str, Any]) -> None:
    expected = project.run(metrics, source=duckdb_url, **options)
    actual = project.run(metrics, source=pg_url, **options)
    assert_same_result(actual, expected)


def test_postgres_scheme_and_timeout_that_is_not_reached(project: Any, pg_url: str,
                                                         duckdb_url: str) -> None:
    expected = project.run(["deals_created", "won_revenue"], source=duckdb_url)
    alias = pg_url.replace("postgresql://", "postgres://", 1)
    assert_same_result(project.run(["deals_created", "won_revenue"], source=alias, timeout=30),
                       expected)


def test_period_and_values(project: Any, pg_url: str) -> None:
    table = project.run(["deals_created", "won_revenue"], source=pg_url,
                        start="2023-01-01", end="2023-04-01")
    assert table.schema.field("period").type == pa.date32()
    assert table.column("period").to_pylist() == [dt.date(2023, 1, 1), dt.date(2023, 2, 1),
                                                  dt.date(2023, 3, 1)]
    assert table.column("deals_created").to_pylist() == [12, 12, 10]
    assert table.column("won_revenue").to_pylist() == pytest.approx([4524.35, 39851.17, 170302.74])


# -- reading -----------------------------------------------------------------------------------


def test_types(con: PostgresConnection) -> None:
    table = read(con, """
        SELECT 1::int AS i4, 2::bigint AS i8, 1.25::numeric(10, 2) AS n, 0.5::float8 AS f,
               true AS b, 'x'::text AS t, 'y'::varchar(3) AS v,
               DATE '2024-02-29' AS d, TIMESTAMP '2024-02-29 12:30:00.000001' AS ts,
               TIMESTAMPTZ '2024-02-29 12:30:00+02' AS tz, INTERVAL '1 day 2 hours' AS iv,
               '{"a": 1}'::jsonb AS j, NULL::int AS missing
    """)
    assert table.schema == pa.schema([
        ("i4", pa.int64()), ("i8", pa.int64()), ("n", pa.float64()), ("f", pa.float64()),
        ("b", pa.bool_()), ("t", pa.string()), ("v", pa.string()), ("d", pa.date32()),
        ("ts", pa.timestamp("us")), ("tz", pa.timestamp("us", tz="UTC")),
        ("iv", pa.duration("us")), ("j", pa.string()), ("missing", pa.int64()),
    ])
    [row] = table.to_pylist()
    assert row["n"] == 1.25 and row["d"] == dt.date(2024, 2, 29)
    assert row["ts"] == dt.datetime(2024, 2, 29, 12, 30, 0, 1)
    assert row["tz"] == dt.datetime(2024, 2, 29, 10, 30, tzinfo=dt.timezone.utc)
    assert row["iv"] == dt.timedelta(days=1, hours=2)
    assert row["j"] == '{"a": 1}' and row["missing"] is None


def test_percent_signs_are_not_placeholders(con: PostgresConnection) -> None:
    table = read(con, "SELECT 7 % 3 AS m, count(*) AS n FROM deals WHERE region LIKE '%A%'")
    [row] = table.to_pylist()
    assert row["m"] == 1 and row["n"] > 0


def test_rows_stream_in_batches(con: PostgresConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres_source, "ROWS_PER_BATCH", 100)
    reader = con.execute("SELECT session_id FROM web_sessions ORDER BY session_id LIMIT 250")
    assert [batch.num_rows for batch in reader] == [100, 100, 50]
    empty = con.execute("SELECT session_id FROM web_sessions WHERE false").read_all()
    assert empty.num_rows == 0 and empty.schema == pa.schema([("session_id", pa.int64())])


def test_schema_parameter_sets_the_search_path(con: PostgresConnection, pg_url: str) -> None:
    schema = parse_source_url(pg_url).query["schema"]
    assert read(con, "SELECT current_schema() AS s").column("s").to_pylist() == [schema]
    assert read(con, "SELECT count(*) AS n FROM deals").column("n").to_pylist() == [500]


def test_query_error_is_one_line_with_the_url(con: PostgresConnection, pg_url: str) -> None:
    with pytest.raises(ExecutionError) as info:
        con.execute("SELECT nope FROM deals")
    message = str(info.value)
    assert message == f'PostgreSQL query failed on {pg_url}: column "nope" does not exist'
    # The transaction was rolled back: the connection keeps working.
    assert read(con, "SELECT 1 AS x").to_pylist() == [{"x": 1}]


def test_credentials_from_environment(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = parse_source_url(pg_url).query["schema"]
    monkeypatch.setenv("PGUSER", load_postgres.USER)
    monkeypatch.setenv("PGDATABASE", load_postgres.DATABASE)
    monkeypatch.setenv("PGHOST", load_postgres.HOST)
    monkeypatch.setenv("PGPORT", str(load_postgres.PORT))
    with connect(parse_source_url(f"postgresql://?schema={schema}")) as con:
        assert read(con, "SELECT current_user AS u").column("u").to_pylist() == [load_postgres.USER]
        assert read(con, "SELECT count(*) AS n FROM deals").column("n").to_pylist() == [500]


# -- describe ----------------------------------------------------------------------------------


def test_describe(con: PostgresConnection, pg_url: str) -> None:
    schema = parse_source_url(pg_url).query["schema"]
    assert con.describe("deals") == list(_demo.COLUMNS["deals"])
    assert con.describe(f"{schema}.spend") == ["spent_on", "category", "channel", "amount"]
    assert con.describe("DEALS") == list(_demo.COLUMNS["deals"])  # unquoted names fold
    assert con.describe('"DEALS"') is None  # a quoted name is taken as written
    assert con.describe("nope") is None
    assert con.describe("public.deals") is None  # not in that schema
    assert con.describe("deals'; DROP TABLE deals; --") is None  # a parameter, not SQL
    assert con.describe("pg_class")[:2] == ["oid", "relname"]  # pg_catalog is searched too
    assert read(con, "SELECT count(*) AS n FROM deals").column("n").to_pylist() == [500]


# -- read-only ---------------------------------------------------------------------------------


@pytest.mark.parametrize("statement", [
    "INSERT INTO deals (deal_id) VALUES (99999)",
    "DELETE FROM deals",
    "UPDATE deals SET amount = 0",
    "DROP TABLE deals",
    "CREATE TABLE other (a INTEGER)",
    "SET default_transaction_read_only = off",
    "SELECT 1; DELETE FROM deals",
    "COPY deals TO STDOUT",
])
def test_anything_but_one_select_is_refused(con: PostgresConnection, statement: str) -> None:
    with pytest.raises(ExecutionError, match="refusing"):
        con.execute(statement)
    assert read(con, "SELECT count(*) AS n FROM deals").column("n").to_pylist() == [500]


def test_the_session_is_read_only(con: PostgresConnection) -> None:
    """Past the guard, the server itself refuses writes: every transaction is READ ONLY."""
    import psycopg

    raw = con.psycopg
    for statement in ("DELETE FROM deals", "CREATE TABLE other (a int)",
                      "UPDATE deals SET amount = 0"):
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            raw.execute(statement)
        raw.rollback()
    assert read(con, "SELECT count(*) AS n FROM deals").column("n").to_pylist() == [500]


def test_a_select_cannot_switch_the_session_to_read_write(con: PostgresConnection) -> None:
    import psycopg

    with pytest.raises(ExecutionError, match="read-write mode must be set before any query"):
        con.execute("SELECT set_config('transaction_read_only', 'off', true) AS x")
    # A session default changed by a query is undone with the query's transaction …
    assert read(con, "SELECT set_config('default_transaction_read_only', 'off', false) AS x"
                ).to_pylist() == [{"x": "off"}]
    assert read(con, "SELECT current_setting('default_transaction_read_only') AS x"
                ).to_pylist() == [{"x": "on"}]
    # … and every transaction starts READ ONLY anyway.
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        con.psycopg.execute("DELETE FROM deals")
    con.psycopg.rollback()


def test_a_select_that_would_lock_rows_is_refused_by_the_server(con: PostgresConnection) -> None:
    # The guard lets SELECT … FOR UPDATE through; the read-only transaction does not.
    with pytest.raises(ExecutionError, match="read-only"):
        con.execute("SELECT deal_id FROM deals FOR UPDATE")


# -- timeout -----------------------------------------------------------------------------------


def test_timeout_cancels_a_slow_query(con: PostgresConnection, pg_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(ExecutionError) as info:
        con.execute("SELECT pg_sleep(5)", timeout=0.5).read_all()
    assert time.monotonic() - started < 4
    message = str(info.value)
    assert message.startswith(f"query timed out after 0.5 s on {pg_url}")
    assert "\n" not in message
    # The connection is still usable, without the timeout.
    assert read(con, "SELECT 1 AS slept FROM pg_sleep(0.7)").to_pylist() == [{"slept": 1}]


def test_watchdog_cancels_a_stream_that_runs_too_long(con: PostgresConnection,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Every FETCH is fast, but the stream as a whole outlives its timeout."""
    monkeypatch.setattr(postgres_source, "ROWS_PER_BATCH", 1)
    reader = con.execute("SELECT pg_sleep(0.2) AS s FROM generate_series(1, 20)", timeout=1.0)
    with pytest.raises(ExecutionError, match=r"query timed out after 1 s"):
        reader.read_all()
    assert read(con, "SELECT 1 AS x").to_pylist() == [{"x": 1}]


def test_timeout_covers_a_slow_reader(con: PostgresConnection,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock runs until the reader is exhausted, not only while the server works."""
    monkeypatch.setattr(postgres_source, "ROWS_PER_BATCH", 10)
    reader = con.execute("SELECT session_id FROM web_sessions LIMIT 50", timeout=0.3)
    assert reader.read_next_batch().num_rows == 10
    time.sleep(0.5)
    with pytest.raises(ExecutionError, match=r"query timed out after 0\.3 s"):
        reader.read_all()
    assert read(con, "SELECT 1 AS x").to_pylist() == [{"x": 1}]


def test_timeout_through_project_run(project: Any, pg_url: str) -> None:
    with pytest.raises(ExecutionError, match="timed out") as info:
        project.run(["deals_created"], source=pg_url, timeout=1e-6)
    assert info.value.exit_code == 2


@pytest.mark.parametrize("timeout", [0, -1.0])
def test_timeout_must_be_positive(con: PostgresConnection, timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        con.execute("SELECT 1 AS x", timeout=timeout)


# -- connection errors -------------------------------------------------------------------------


def test_wrong_database(server: None) -> None:
    with pytest.raises(ExecutionError) as info:
        connect(parse_source_url(f"postgresql://postgres:{SECRET}@{SERVER}/kpispec_no_such_db"))
    message = str(info.value)
    assert message.startswith(f"cannot connect to PostgreSQL postgresql://postgres:***@{SERVER}/"
                              "kpispec_no_such_db: ")
    assert 'database "kpispec_no_such_db" does not exist' in message
    one_line_without_secret(message)


def test_unknown_user_with_a_password(server: None) -> None:
    with pytest.raises(ExecutionError) as info:
        connect(parse_source_url(f"postgresql://kpispec_nobody:{SECRET}@{SERVER}/test"))
    message = str(info.value)
    assert "kpispec_nobody" in message
    one_line_without_secret(message)


def test_nothing_listening() -> None:
    with pytest.raises(ExecutionError) as info:
        connect(parse_source_url(f"postgresql://me:{SECRET}@127.0.0.1:1/test?connect_timeout=2"))
    message = str(info.value)
    assert message.startswith("cannot connect to PostgreSQL postgresql://me:***@127.0.0.1:1/test")
    one_line_without_secret(message)


def test_missing_schema(server: None) -> None:
    with pytest.raises(ExecutionError, match="schema 'kpispec_no_such_schema' does not exist"):
        connect(parse_source_url(f"{BASE_URL}?schema=kpispec_no_such_schema"))


def test_close_is_idempotent_and_final(pg_url: str) -> None:
    con = connect(parse_source_url(pg_url))
    assert "open" in repr(con)
    con.close()
    con.close()
    assert "closed" in repr(con)
    with pytest.raises(ExecutionError, match="is closed"):
        con.execute("SELECT 1 AS x")
    with pytest.raises(ExecutionError, match="is closed"):
        con.describe("deals")


# -- the loader --------------------------------------------------------------------------------


def test_loader_column_types_and_drop(server: None) -> None:
    import psycopg

    table = pa.table({
        "id": pa.array([1, 2], pa.int64()),
        "at": pa.array([dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 29, 23, 59, 59, 5)],
                       pa.timestamp("us")),
        "on": pa.array([dt.date(2024, 1, 1), None], pa.date32()),
        "ok": pa.array([True, None]),
        "amount": pa.array([1.5, None], pa.float64()),
        "name": pa.array(["a", 'b"c\t\\'], pa.string()),
    })
    url = load_postgres.load({"Mixed Case": table})
    schema = parse_source_url(url).query["schema"]
    assert url == f"{BASE_URL}?schema={schema}" and schema.startswith("kpispec_test_")
    try:
        with psycopg.connect(host=load_postgres.HOST, port=load_postgres.PORT,
                             user=load_postgres.USER, dbname=load_postgres.DATABASE) as raw:
            types = raw.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                (schema, "Mixed Case")).fetchall()
        assert types == [("id", "bigint"), ("at", "timestamp without time zone"), ("on", "date"),
                         ("ok", "boolean"), ("amount", "double precision"), ("name", "text")]
        with connect(parse_source_url(url)) as con:
            assert read(con, 'SELECT * FROM "Mixed Case" ORDER BY id').to_pylist() == table.to_pylist()
            assert con.describe('"Mixed Case"') == table.column_names
        load_postgres.load({"Mixed Case": table.slice(0, 1)}, schema=schema)  # replaces the table
        with connect(parse_source_url(url)) as con:
            assert read(con, 'SELECT count(*) AS n FROM "Mixed Case"').to_pylist() == [{"n": 1}]
    finally:
        load_postgres.drop(url)
    with pytest.raises(ExecutionError, match="does not exist"):
        connect(parse_source_url(url))
