"""The built-in ``sqlite`` source plugin (kpispec_builtins.sqlite_source).

The demo warehouse (``kpispec._demo.generate(rows=500)``) is loaded into a SQLite
file with ``tests/engines/load_sqlite.py`` and into DuckDB with
``_demo.write_duckdb``; the same project then runs on both and the results must
be equal row by row (floats within a relative 1e-9) and have the same Arrow
types — ``period`` included, which SQLite returns as ISO text.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
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
from kpispec.extensions import SourceType, SourceURL
from kpispec.project import parse_source_url
from kpispec_builtins import sqlite_source
from kpispec_builtins.sqlite_source import SQLiteConnection, connect

from tests.engines import load_sqlite
from tests.unit.sources import assert_same_result

SLOW_QUERY = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
    "SELECT count(*) AS n FROM c"
)

# A project over the demo tables (own model names would do too; these shadow nothing,
# since the CRM pack is switched off). No median / percentile: SQLite has neither.
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
  - name: smallest_deal
    type: simple
    measure: {model: deals, agg: min, expr: amount}
  - name: order_revenue
    type: simple
    measure: {model: orders, agg: sum, expr: amount}
  - name: avg_order_margin
    type: simple
    measure: {model: orders, agg: avg, expr: amount - cost}
  - name: spend_total
    type: simple
    measure: {model: spend, agg: sum, expr: amount}
"""

#: (metrics, query options) run on both engines.
QUERIES: list[tuple[list[str], dict[str, Any]]] = [
    (["deals_created", "won_revenue", "win_rate", "revenue_per_deal", "active_customers",
      "new_customers", "active_reps", "biggest_deal", "smallest_deal", "order_revenue",
      "avg_order_margin", "spend_total"], {}),
    (["deals_created", "won_revenue", "win_rate", "active_customers", "order_revenue"],
     {"by": ["segment"], "grain": "quarter"}),
    (["deals_created", "won_revenue", "biggest_deal"],
     {"by": ["region", "stage"], "where": "region <> 'APAC'", "start": "2023-03-01",
      "end": "2024-03-01"}),
    (["deals_created", "active_customers", "spend_total"],
     {"grain": "week", "start": "2023-06-01", "end": "2023-09-01"}),
    (["deals_created", "won_revenue"], {"grain": "day", "start": "2024-02-25", "end": "2024-03-05"}),
    (["spend_total"], {"by": ["category"], "grain": "year"}),
]


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def sqlite_plugin(_no_packs_by_default: None) -> Iterator[None]:
    """The sqlite source, registered in-process unless its entry point already did."""
    pm = plugins.get_plugin_manager()
    if pm.is_registered(sqlite_source) or plugins.get_registry().source_for_scheme("sqlite"):
        yield
        return
    plugins.register_plugin(sqlite_source, "sqlite")
    try:
        yield
    finally:
        plugins.unregister_plugin("sqlite")


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory, demo_tables: dict[str, pa.Table]) -> Iterator[str]:
    url = load_sqlite.load(demo_tables, directory=tmp_path_factory.mktemp("sqlite"))
    yield url
    load_sqlite.drop(url)


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
def con(sqlite_url: str) -> Iterator[SQLiteConnection]:
    with connect(parse_source_url(sqlite_url)) as connection:
        yield connection


def read(con: SQLiteConnection, sql: str, **kwargs: Any) -> pa.Table:
    return con.execute(sql, **kwargs).read_all()


# -- registration and module hygiene -----------------------------------------------------------


def test_register_sources_registers_sqlite() -> None:
    registered: list[SourceType] = []
    sqlite_source.register_sources(registered.append)
    [source] = registered
    assert (source.name, source.schemes, source.dialect) == ("sqlite", ("sqlite",), "sqlite")
    assert source.connect is connect
    assert plugins.get_registry().source_for_scheme("sqlite").connect is connect


def test_import_does_not_load_heavy_modules() -> None:
    code = (
        "import sys, kpispec; before = set(sys.modules);"
        "import kpispec_builtins.sqlite_source;"
        "heavy = {'pyarrow', 'sqlglot', 'sqlite3'} & (set(sys.modules) - before);"
        "assert not heavy, heavy"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


# -- the same numbers as DuckDB ----------------------------------------------------------------


@pytest.mark.parametrize(("metrics", "options"), QUERIES,
                         ids=[f"{len(m)}-metrics-{'-'.join(map(str, o.values())) or 'all'}"
                              for m, o in QUERIES])
def test_results_equal_duckdb(project: Any, sqlite_url: str, duckdb_url: str,
                              metrics: list[str], options: dict[str, Any]) -> None:
    expected = project.run(metrics, source=duckdb_url, **options)
    actual = project.run(metrics, source=sqlite_url, **options)
    assert_same_result(actual, expected)


def test_period_comes_back_as_date32(project: Any, sqlite_url: str) -> None:
    table = project.run(["deals_created", "won_revenue"], source=sqlite_url,
                        start="2023-01-01", end="2023-04-01")
    assert table.schema.field("period").type == pa.date32()
    assert table.schema.field("deals_created").type == pa.int64()
    assert table.schema.field("won_revenue").type == pa.float64()
    assert table.column("period").to_pylist() == [dt.date(2023, 1, 1), dt.date(2023, 2, 1),
                                                  dt.date(2023, 3, 1)]
    # The reference numbers of the demo data (also what DuckDB returns).
    assert table.column("deals_created").to_pylist() == [12, 12, 10]
    assert table.column("won_revenue").to_pylist() == pytest.approx([4524.35, 39851.17, 170302.74])


def test_timeout_on_a_query_that_finishes_in_time(project: Any, sqlite_url: str,
                                                  duckdb_url: str) -> None:
    expected = project.run(["deals_created"], source=duckdb_url)
    assert_same_result(project.run(["deals_created"], source=sqlite_url, timeout=30), expected)


# -- reading -----------------------------------------------------------------------------------


def test_values_and_inferred_types(con: SQLiteConnection) -> None:
    table = read(con, "SELECT 1 AS i, 2.5 AS f, 'x' AS s, NULL AS n, '2024-02-29' AS period, "
                      "'2024-02-29' AS day_text, x'00ff' AS b, 3 AS whole")
    assert table.schema == pa.schema([
        ("i", pa.int64()), ("f", pa.float64()), ("s", pa.string()), ("n", pa.null()),
        ("period", pa.date32()), ("day_text", pa.string()), ("b", pa.binary()),
        ("whole", pa.int64()),
    ])
    assert table.to_pylist() == [{"i": 1, "f": 2.5, "s": "x", "n": None,
                                  "period": dt.date(2024, 2, 29), "day_text": "2024-02-29",
                                  "b": b"\x00\xff", "whole": 3}]


def test_mixed_values_widen(con: SQLiteConnection) -> None:
    table = read(con, "SELECT 1 AS num, 'a' AS txt, NULL AS period UNION ALL "
                      "SELECT 2.5, 7, NULL UNION ALL SELECT NULL, NULL, NULL")
    assert table.schema == pa.schema([("num", pa.float64()), ("txt", pa.string()),
                                      ("period", pa.date32())])
    assert table.to_pylist() == [{"num": 1.0, "txt": "a", "period": None},
                                 {"num": 2.5, "txt": "7", "period": None},
                                 {"num": None, "txt": None, "period": None}]


def test_empty_result_keeps_its_columns(con: SQLiteConnection) -> None:
    table = read(con, "SELECT deal_id, DATE(created_at) AS period FROM deals WHERE 0")
    assert table.num_rows == 0
    assert table.schema == pa.schema([("deal_id", pa.null()), ("period", pa.date32())])


def test_rows_stream_in_batches(con: SQLiteConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_source, "ROWS_PER_BATCH", 100)
    reader = con.execute("SELECT session_id, started_at FROM web_sessions ORDER BY session_id "
                         "LIMIT 250")
    sizes = [batch.num_rows for batch in reader]
    assert sizes == [100, 100, 50]


def test_types_settle_on_the_first_value_seen(con: SQLiteConnection,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A column NULL in the first batches is typed by the first batch that has a value."""
    monkeypatch.setattr(sqlite_source, "ROWS_PER_BATCH", 10)
    table = read(con, "SELECT session_id, CASE WHEN session_id > 25 THEN session_id * 0.5 END AS half "
                      "FROM web_sessions ORDER BY session_id LIMIT 40")
    assert table.schema.field("half").type == pa.float64()
    assert table.column("half").to_pylist() == [None] * 25 + [i * 0.5 for i in range(26, 41)]


def test_a_type_change_after_the_first_batch_is_an_error(
        con: SQLiteConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_source, "ROWS_PER_BATCH", 10)
    reader = con.execute("SELECT CASE WHEN session_id > 15 THEN session_id + 0.5 ELSE session_id END "
                         "AS x FROM web_sessions ORDER BY session_id LIMIT 20")
    assert reader.schema.field("x").type == pa.int64()
    with pytest.raises(ExecutionError, match=r"column .x. .* holds reals after rows that made it int64"):
        reader.read_all()


def test_query_error_is_one_line_with_the_url(con: SQLiteConnection, sqlite_url: str) -> None:
    with pytest.raises(ExecutionError) as info:
        con.execute("SELECT nope FROM deals")
    message = str(info.value)
    assert message == f"SQLite query failed on {sqlite_url}: no such column: nope"


def test_relative_path_is_relative_to_working_directory(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = load_sqlite.path_of(sqlite_url)
    monkeypatch.chdir(path.parent)
    with connect(parse_source_url(f"sqlite:///{path.name}")) as con:
        assert read(con, "SELECT count(*) AS n FROM deals").column("n").to_pylist() == [500]


def test_in_memory_database() -> None:
    for raw in ("sqlite://", "sqlite:///:memory:"):
        with connect(parse_source_url(raw)) as con:
            assert read(con, "SELECT 1 + 1 AS two").to_pylist() == [{"two": 2}]


# -- describe ----------------------------------------------------------------------------------


def test_describe(con: SQLiteConnection) -> None:
    assert con.describe("deals") == list(_demo.COLUMNS["deals"])
    assert con.describe("main.spend") == ["spent_on", "category", "channel", "amount"]
    assert con.describe("DEALS") == list(_demo.COLUMNS["deals"])  # SQLite names ignore case
    assert con.describe("nope") is None
    assert con.describe("crm.deals") is None  # no database attached as crm
    assert con.describe("deals'; DROP TABLE deals; --") is None  # a parameter, not SQL
    assert con.describe("deals") is not None


# -- read-only ---------------------------------------------------------------------------------


@pytest.mark.parametrize("statement", [
    "INSERT INTO deals (deal_id) VALUES (99999)",
    "DELETE FROM deals",
    "UPDATE deals SET amount = 0",
    "DROP TABLE deals",
    "CREATE TABLE other (a INTEGER)",
    "PRAGMA query_only = OFF",
    "ATTACH DATABASE 'other.db' AS other",
    "SELECT 1; DELETE FROM deals",
])
def test_anything_but_one_select_is_refused(con: SQLiteConnection, statement: str) -> None:
    with pytest.raises(ExecutionError, match="refusing"):
        con.execute(statement)
    assert read(con, "SELECT count(*) AS n FROM deals").column("n").to_pylist() == [500]


def test_the_file_is_opened_read_only(con: SQLiteConnection, sqlite_url: str) -> None:
    """Even past the guard, the raw connection cannot write: the file is opened mode=ro."""
    path = load_sqlite.path_of(sqlite_url)
    before = path.read_bytes()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        con.sqlite.execute("DELETE FROM deals")
    with pytest.raises(sqlite3.OperationalError):
        con.sqlite.execute("CREATE TABLE other (a INTEGER)")
    assert path.read_bytes() == before


# -- timeout -----------------------------------------------------------------------------------


def test_timeout_interrupts_a_slow_query(con: SQLiteConnection, sqlite_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(ExecutionError) as info:
        con.execute(SLOW_QUERY, timeout=0.3).read_all()
    assert time.monotonic() - started < 10
    message = str(info.value)
    assert message.startswith(f"query timed out after 0.3 s on {sqlite_url}")
    assert "\n" not in message
    # The connection is still usable, and the next query is not interrupted.
    assert read(con, "SELECT count(*) AS n FROM deals", timeout=5).column("n").to_pylist() == [500]


def test_watchdog_does_not_outlive_its_query(con: SQLiteConnection) -> None:
    read(con, "SELECT 1 AS x", timeout=0.2)
    time.sleep(0.4)  # the first query's timer would have fired by now
    assert read(con, "SELECT count(*) AS n FROM web_sessions").column("n").to_pylist() == [3000]


def test_timeout_covers_a_slow_reader(con: SQLiteConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock runs until the reader is exhausted, not only while SQLite works."""
    monkeypatch.setattr(sqlite_source, "ROWS_PER_BATCH", 10)
    reader = con.execute("SELECT session_id FROM web_sessions LIMIT 50", timeout=0.3)
    assert reader.read_next_batch().num_rows == 10
    time.sleep(0.5)
    with pytest.raises(ExecutionError, match=r"query timed out after 0\.3 s"):
        reader.read_all()


@pytest.mark.parametrize("timeout", [0, -1.0])
def test_timeout_must_be_positive(con: SQLiteConnection, timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        con.execute("SELECT 1 AS x", timeout=timeout)


# -- bad URLs and files ------------------------------------------------------------------------


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(ExecutionError) as info:
        connect(parse_source_url(f"sqlite:///{missing}"))
    message = str(info.value)
    assert repr(str(missing)) in message and "does not exist" in message
    assert "\n" not in message
    assert not missing.exists()  # not created as a new empty database


def test_missing_file_through_project_run(project: Any, tmp_path: Path) -> None:
    with pytest.raises(ExecutionError, match="does not exist") as info:
        project.run(["deals_created"], source=f"sqlite:///{tmp_path / 'nope.db'}")
    assert info.value.exit_code == 2


def test_relative_missing_file_shows_the_absolute_path(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExecutionError, match=repr(str(tmp_path / "crm.db"))):
        connect(parse_source_url("sqlite:///crm.db"))


def test_directory_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(ExecutionError, match="is a directory"):
        connect(parse_source_url(f"sqlite:///{tmp_path}"))


def test_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database " * 100, encoding="utf-8")
    with pytest.raises(ExecutionError, match="file is not a database"):
        connect(parse_source_url(f"sqlite:///{path}"))


def test_host_in_url_is_an_error() -> None:
    with pytest.raises(ExecutionError, match="three slashes"):
        connect(parse_source_url("sqlite://data/crm.db"))


def test_query_parameters_are_refused(sqlite_url: str) -> None:
    with pytest.raises(ExecutionError, match="unknown query parameter 'mode'"):
        connect(parse_source_url(f"{sqlite_url}?mode=rw"))


def test_close_is_idempotent_and_final(sqlite_url: str) -> None:
    con = connect(parse_source_url(sqlite_url))
    assert "open" in repr(con)
    con.close()
    con.close()
    assert "closed" in repr(con)
    with pytest.raises(ExecutionError, match="is closed"):
        con.execute("SELECT 1 AS x")
    with pytest.raises(ExecutionError, match="is closed"):
        con.describe("deals")


def test_connection_protocol(sqlite_url: str) -> None:
    url = SourceURL(raw=sqlite_url, scheme="sqlite",
                    database=parse_source_url(sqlite_url).database)
    with connect(url) as con:
        assert con.dialect == "sqlite"
        assert isinstance(con.execute("SELECT 1 AS x"), pa.RecordBatchReader)


# -- the loader --------------------------------------------------------------------------------


def test_loader_stores_iso_text_and_replaces_tables(tmp_path: Path) -> None:
    table = pa.table({
        "id": pa.array([1, 2], pa.int64()),
        "at": pa.array([dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 29, 23, 59, 59, 5)],
                       pa.timestamp("us")),
        "on": pa.array([dt.date(2024, 1, 1), None], pa.date32()),
        "ok": pa.array([True, False]),
        "amount": pa.array([1.5, None], pa.float64()),
        "name": pa.array(["a", 'b"c'], pa.string()),
    })
    url = load_sqlite.load({"t": table}, directory=tmp_path)
    assert url == f"sqlite:///{tmp_path.resolve() / load_sqlite.DEFAULT_FILE}"
    path = load_sqlite.path_of(url)
    raw = sqlite3.connect(path)
    try:
        rows = raw.execute('SELECT * FROM "t" ORDER BY id').fetchall()
        declared = [r[2] for r in raw.execute("SELECT * FROM pragma_table_info('t')")]
    finally:
        raw.close()
    assert rows == [(1, "2024-01-01 00:00:00", "2024-01-01", 1, 1.5, "a"),
                    (2, "2024-02-29 23:59:59.000005", None, 0, None, 'b"c')]
    assert declared == ["BIGINT", "TIMESTAMP", "DATE", "BOOLEAN", "DOUBLE PRECISION", "TEXT"]
    load_sqlite.load({"t": table.slice(0, 1)}, directory=tmp_path)  # replaces the table
    with connect(parse_source_url(url)) as con:
        assert read(con, "SELECT count(*) AS n FROM t").column("n").to_pylist() == [1]
    load_sqlite.drop(url)
    assert not path.exists()
