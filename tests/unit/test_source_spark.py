"""The built-in ``spark`` source plugin (kpispec_builtins.spark_source).

The demo warehouse (``kpispec._demo.generate(rows=500)``) is written as Parquet
with ``tests/engines/load_spark.py`` and into DuckDB with ``_demo.write_duckdb``;
the same project then runs on both and the results must be equal row by row
(floats within a relative 1e-9) with the same Arrow types.

Starting Spark takes seconds, so the whole module shares ONE local Spark
(``local[2]``), started by the module-scoped ``spark`` fixture and stopped at
the end of the module; every connection of the module runs on it.
"""

from __future__ import annotations

import doctest
import shutil
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from kpispec import _demo, plugins
from kpispec.errors import ExecutionError
from kpispec.extensions import SourceType, SourceURL
from kpispec_builtins import spark_source
from kpispec_builtins.spark_source import SparkConnection, connect, master_url

from tests.engines import load_spark
from tests.unit.sources import assert_same_result

pytest.importorskip("pyspark")

#: Far too slow to finish; Spark's range scan stops promptly once its job is cancelled.
SLOW_QUERY = "SELECT MAX(id) AS m FROM range(1000000000000000)"

PROJECT = """
models:
  - name: deals
    table: deals
    primary_key: deal_id
    time: created_at
    columns: [deal_id, lead_id, customer_id, owner_id, region, created_at, closed_at, stage, amount, deal_type]
    dimensions: [region, stage]
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
metrics:
  - name: won_count
    type: simple
    measure: {model: deals, agg: count, filter: "stage = 'won'", time: closed_at}
  - name: won_amount
    type: simple
    measure: {model: deals, agg: sum, expr: amount, filter: "stage = 'won'", time: closed_at}
  - name: avg_amount
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
  - name: win_rate
    type: ratio
    numerator: {model: deals, agg: count, filter: "stage = 'won'", time: closed_at}
    denominator: {model: deals, agg: count, filter: "stage IN ('won', 'lost')", time: closed_at}
  - name: median_amount
    type: simple
    measure: {model: deals, agg: median, expr: amount}
  - name: p90_amount
    type: simple
    measure: {model: deals, agg: percentile, p: 0.9, expr: amount}
  - name: avg_won_amount
    type: derived
    expr: won_amount / won_count
  - name: cycle_days
    type: simple
    measure:
      model: deals
      agg: avg
      expr: "date_diff('second', created_at, closed_at) / 86400.0"
      filter: "stage = 'won'"
      time: closed_at
"""

#: name → (metrics, query options), each run on Spark and on DuckDB.
QUERIES: dict[str, tuple[list[str], dict[str, Any]]] = {
    "ratio_avg_count_distinct_by_month": (
        ["close_rate", "avg_amount", "active_reps"], {"start": "2023-01-01", "end": "2025-01-01"}),
    "dimension_through_join": (
        ["won_amount", "win_rate", "avg_amount"],
        {"by": ["segment"], "start": "2023-07-01", "end": "2024-07-01"}),
    "week_grain_where_percentiles": (
        ["win_rate", "won_count", "median_amount", "p90_amount"],
        {"grain": "week", "start": "2023-03-01", "end": "2023-06-01", "where": "region = 'EMEA'"}),
    "quarter_grain_derived": (
        ["avg_won_amount", "close_rate"], {"grain": "quarter", "start": "2023-01-01",
                                           "end": "2025-01-01"}),
    "day_grain": (["won_count", "won_amount"], {"grain": "day", "start": "2024-02-25",
                                                "end": "2024-03-05"}),
    # Spark reads 86400.0 as a DECIMAL(6,1) and would divide in DECIMAL(28,7), rounding
    # every value to 7 decimals; kpispec's spark SQL makes such constants DOUBLE.
    "decimal_literal_division": (["cycle_days"], {"start": "2023-01-01", "end": "2025-01-01"}),
    "unbounded_range_quarter_by_dimension": (["won_count", "avg_amount"],
                                             {"by": ["region"], "grain": "quarter"}),
}


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def spark_plugin(_no_packs_by_default: None) -> Iterator[None]:
    """The spark source, registered in-process unless its entry point already did."""
    pm = plugins.get_plugin_manager()
    if pm.is_registered(spark_source) or plugins.get_registry().source_for_scheme("spark"):
        yield
        return
    plugins.register_plugin(spark_source, "spark")
    try:
        yield
    finally:
        plugins.unregister_plugin("spark")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("spark_data")


@pytest.fixture(scope="module")
def spark_url(data_dir: Path) -> str:
    """The loader's URL over the demo tables (rows=500)."""
    return load_spark.load(_demo.generate(rows=500), data_dir)


@pytest.fixture(scope="module")
def spark(spark_url: str) -> Iterator[SparkConnection]:
    """ONE local Spark for the whole module, stopped at its end; this is its first connection."""
    connection = connect(SourceURL(raw=spark_url, scheme="spark"))
    try:
        yield connection
    finally:
        connection.close()
        spark_source.stop_sessions()


@pytest.fixture
def con(spark: SparkConnection, spark_url: str) -> Iterator[SparkConnection]:
    """A fresh connection on the shared Spark."""
    with connect(SourceURL(raw=spark_url, scheme="spark")) as connection:
        yield connection


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    (root / "crm.yaml").write_text(textwrap.dedent(PROJECT), encoding="utf-8")
    return root


@pytest.fixture
def project(project_dir: Path) -> Any:
    import kpispec

    return kpispec.load_project(project_dir, packs=False)


def read(con: SparkConnection, sql: str, **kwargs: Any) -> pa.Table:
    return con.execute(sql, **kwargs).read_all()


# -- registration, URLs and module hygiene (no Spark needed) --------------------------------


def test_register_sources_registers_spark() -> None:
    registered: list[SourceType] = []
    spark_source.register_sources(registered.append)
    [source] = registered
    assert (source.name, source.schemes, source.dialect) == ("spark", ("spark", "sc"), "spark")
    assert source.connect is connect


def test_import_does_not_load_heavy_modules() -> None:
    code = (
        "import sys, kpispec; before = set(sys.modules);"
        "import kpispec_builtins.spark_source;"
        "heavy = {'pyspark', 'py4j', 'pyarrow'} & (set(sys.modules) - before);"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(("raw", "master"), [
    ("spark://local", "local[*]"),
    ("spark://local[4]?path=/data", "local[4]"),
    ("spark://local[*]/crm", "local[*]"),
    ("spark://LOCAL[2]", "local[2]"),
    ("spark://master.example.com", "spark://master.example.com:7077"),
    ("spark://10.0.0.5:7078/crm?path=/x", "spark://10.0.0.5:7078"),
    ("sc://connect:15002", "sc://connect:15002"),
    ("sc://connect:15002/;user_id=me", "sc://connect:15002/;user_id=me"),
])
def test_master_url(raw: str, master: str) -> None:
    assert master_url(SourceURL(raw=raw, scheme=raw.partition(":")[0])) == master


@pytest.mark.parametrize("raw", ["spark://", "spark://local[0]", "spark://host:port", "sc://"])
def test_bad_master_is_a_clear_error(raw: str) -> None:
    with pytest.raises(ExecutionError, match=r"name the Spark (master|Connect server)"):
        master_url(SourceURL(raw=raw, scheme=raw.partition(":")[0]))


def test_master_with_credentials_is_refused_without_showing_them() -> None:
    url = SourceURL(raw="spark://me:pw@host:7077", scheme="spark", username="me", password="pw",
                    host="host", port=7077)
    with pytest.raises(ExecutionError, match="takes no user name or password") as info:
        master_url(url)
    assert ":pw@" not in str(info.value) and "***" in str(info.value)


def test_doctests() -> None:
    for module in (spark_source, load_spark):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_loader_writes_one_parquet_file_per_table(tmp_path: Path) -> None:
    tables = {"deals": pa.table({"deal_id": pa.array([1, 2], pa.int64()),
                                 "closed_at": pa.array([None, 0], pa.timestamp("us"))}),
              "leads": pa.table({"lead_id": pa.array([7], pa.int64())})}
    url = load_spark.load(tables, tmp_path / "with space")
    assert url == f"spark://local[2]?path={tmp_path}/with%20space"
    assert sorted(p.name for p in (tmp_path / "with space").iterdir()) == ["deals.parquet",
                                                                          "leads.parquet"]
    assert pq.read_table(tmp_path / "with space" / "deals.parquet").equals(tables["deals"])


def test_unknown_query_parameter() -> None:
    with pytest.raises(ExecutionError, match=r"unknown query parameter 'schema'.* accepts only path"):
        connect(SourceURL(raw="spark://local[2]?schema=crm", scheme="spark"))


def test_missing_pyspark_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_source, "_sessions", {})  # as if no Spark had started yet
    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark raises ImportError
    with pytest.raises(ExecutionError) as info:
        connect(SourceURL(raw="spark://local[2]", scheme="spark"))
    assert str(info.value) == "the Spark source needs pyspark: pip install 'kpispec[spark]'"


def test_missing_java_names_java_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import pyspark

    monkeypatch.setattr(spark_source, "_sessions", {})
    monkeypatch.setattr(pyspark.SparkContext, "_active_spark_context", None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ExecutionError, match=r"needs Java 17 or later, and none was found: .*"
                                             r"set JAVA_HOME"):
        connect(SourceURL(raw="spark://local[2]", scheme="spark"))
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(ExecutionError, match=r"JAVA_HOME=.* has no bin/java"):
        connect(SourceURL(raw="spark://local[2]", scheme="spark"))


def test_spark_connect_without_its_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # pyspark: about pandas' version
            import pyspark.sql.connect.session  # noqa: F401
    except (ImportError, SystemExit):
        pass
    else:
        pytest.skip("pyspark's Spark Connect dependencies are installed")
    with pytest.raises(ExecutionError, match=r"pip install 'pyspark\[connect\]'"):
        connect(SourceURL(raw="sc://127.0.0.1:15002", scheme="sc"))


# -- on the shared local Spark ----------------------------------------------------------------


@pytest.mark.parametrize("name", list(QUERIES))
def test_results_equal_duckdb(name: str, project: Any, spark: SparkConnection, spark_url: str,
                              duckdb_url: str) -> None:
    metrics, options = QUERIES[name]
    expected = project.run(metrics, source=duckdb_url, **options)
    actual = project.run(metrics, source=spark_url, **options)
    assert_same_result(actual, expected)


def test_arrow_types(con: SparkConnection) -> None:
    table = read(con, "SELECT CAST(created_at AS DATE) AS d, created_at AS ntz, "
                      "CAST(created_at AS TIMESTAMP) AS ltz, CAST(1 AS INT) AS i, "
                      "CAST(1.5 AS DECIMAL(10, 2)) AS dec, CAST(2.5 AS FLOAT) AS f, region "
                      "FROM deals WHERE deal_id = 1")
    assert table.schema.types == [pa.date32(), pa.timestamp("us"), pa.timestamp("us"),
                                  pa.int64(), pa.float64(), pa.float64(), pa.string()]
    row = table.to_pylist()[0]
    assert row["ntz"] == row["ltz"]  # the session runs in UTC: no shift
    assert (row["i"], row["dec"], row["f"]) == (1, 1.5, 2.5)


def test_describe(con: SparkConnection) -> None:
    assert con.describe("deals") == ["deal_id", "lead_id", "customer_id", "owner_id", "region",
                                     "created_at", "closed_at", "stage", "amount", "deal_type"]
    assert con.describe("DEALS") == con.describe("deals")  # Spark's names ignore case
    assert con.describe("no_such_table") is None
    assert con.describe("default.no_such_table") is None


@pytest.mark.parametrize("statement", [
    "DROP TABLE deals",
    "INSERT INTO deals SELECT * FROM deals",
    "CREATE TABLE copy AS SELECT * FROM deals",
    "SELECT 1 AS x; DROP TABLE deals",
    "CACHE TABLE deals",
])
def test_guard_refuses_anything_but_one_select(con: SparkConnection, statement: str) -> None:
    with pytest.raises(ExecutionError, match="refusing"):
        con.execute(statement)
    assert read(con, "SELECT COUNT(*) AS n FROM deals").column("n").to_pylist() == [500]


def test_query_error_is_one_line_and_names_the_url(con: SparkConnection, spark_url: str) -> None:
    with pytest.raises(ExecutionError) as info:
        con.execute("SELECT no_such_column FROM deals")
    message = str(info.value)
    assert message.startswith(f"Spark query failed on {spark_url}: [UNRESOLVED_COLUMN")
    assert "\n" not in message and "at org.apache" not in message


def test_timeout_cancels_and_connection_survives(con: SparkConnection) -> None:
    started = time.monotonic()
    with pytest.raises(ExecutionError, match=r"query timed out after 1 s on spark://local\[2\]"):
        con.execute(SLOW_QUERY, timeout=1)
    assert time.monotonic() - started < 15
    assert read(con, "SELECT 1 AS x").column("x").to_pylist() == [1]


def test_finished_query_is_not_cancelled_later(con: SparkConnection) -> None:
    read(con, "SELECT 0 AS x")  # warm up: a cold JVM may need longer than the timeout below
    assert read(con, "SELECT 1 AS x", timeout=2).num_rows == 1
    time.sleep(2.2)  # past the timeout: the watchdog must not cancel anything now
    assert read(con, "SELECT 2 AS x").column("x").to_pylist() == [2]


def test_timeout_must_be_positive(con: SparkConnection) -> None:
    with pytest.raises(ValueError, match="positive"):
        con.execute("SELECT 1 AS x", timeout=0)


def test_connections_have_their_own_views(con: SparkConnection, spark: SparkConnection) -> None:
    other = connect(SourceURL(raw="spark://local[2]", scheme="spark"))  # no ?path=
    try:
        assert other.describe("deals") is None
        assert con.describe("deals") is not None
    finally:
        other.close()


def test_close_keeps_spark_running(spark_url: str, spark: SparkConnection) -> None:
    connection = connect(SourceURL(raw=spark_url, scheme="spark"))
    assert read(connection, "SELECT COUNT(*) AS n FROM leads").num_rows == 1
    connection.close()
    connection.close()  # twice is harmless
    with pytest.raises(ExecutionError, match="closed"):
        connection.execute("SELECT 1 AS x")
    assert read(spark, "SELECT COUNT(*) AS n FROM deals").column("n").to_pylist() == [500]


def test_a_second_master_is_refused(spark: SparkConnection) -> None:
    with pytest.raises(ExecutionError, match=r"already runs Spark with master local\[2\].*"
                                             r"stop_sessions\(\)"):
        connect(SourceURL(raw="spark://local[3]", scheme="spark"))


def test_database_in_the_path(spark: SparkConnection) -> None:
    with connect(SourceURL(raw="spark://local[2]/default", scheme="spark")) as connection:
        assert read(connection, "SELECT current_database() AS db").column("db").to_pylist() == [
            "default"]
    with pytest.raises(ExecutionError, match="Spark database 'crm' does not exist"):
        connect(SourceURL(raw="spark://local[2]/crm", scheme="spark"))


def test_path_directory_errors(spark: SparkConnection, tmp_path: Path) -> None:
    with pytest.raises(ExecutionError, match="does not exist"):
        connect(SourceURL(raw=f"spark://local[2]?path={tmp_path}/missing", scheme="spark"))
    pq.write_table(pa.table({"x": [1]}), tmp_path / "deals.parquet")
    (tmp_path / "Deals").mkdir()
    pq.write_table(pa.table({"x": [2]}), tmp_path / "Deals" / "part-0.parquet")
    with pytest.raises(ExecutionError, match="would both become view"):
        connect(SourceURL(raw=f"spark://local[2]?path={tmp_path}", scheme="spark"))


def test_path_subdirectories_and_csv_files(spark: SparkConnection, tmp_path: Path) -> None:
    (tmp_path / "orders").mkdir()
    pq.write_table(pa.table({"amount": [1.5]}), tmp_path / "orders" / "part-0.parquet")
    pq.write_table(pa.table({"amount": [2.5]}), tmp_path / "orders" / "part-1.parquet")
    (tmp_path / "targets.csv").write_text("region,target\nEMEA,10\nNA,20\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not data", encoding="utf-8")
    with connect(SourceURL(raw=f"spark://local[2]?path={tmp_path}", scheme="spark")) as c:
        assert read(c, "SELECT SUM(amount) AS s FROM orders").column("s").to_pylist() == [4.0]
        assert read(c, "SELECT SUM(target) AS s FROM targets").column("s").to_pylist() == [30]
        assert c.describe("notes") is None


def test_unreadable_file_names_it(spark: SparkConnection, tmp_path: Path) -> None:
    (tmp_path / "deals.parquet").write_bytes(b"not parquet at all")
    with (connect(SourceURL(raw=f"spark://local[2]?path={tmp_path}", scheme="spark")) as c,
          pytest.raises(ExecutionError, match=r"cannot read '.*deals\.parquet' as view 'deals'")):
        c.execute("SELECT COUNT(*) AS n FROM deals")


def test_spark_local_reuses_the_running_session(project: Any, spark: SparkConnection,
                                                 data_dir: Path) -> None:
    with connect(SourceURL(raw="spark://local", scheme="spark")) as connection:
        assert connection.spark.sparkContext.master == "local[2]"
    table = project.run(["won_count"], source=f"spark://local?path={data_dir}",
                        start="2024-01-01", end="2024-02-01")
    assert table.num_rows == 1
    assert list(spark_source._sessions) == ["local[2]"]


def test_a_spark_already_running_is_adopted(spark: SparkConnection,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_source, "_sessions", {})  # as if a notebook had started Spark
    with pytest.raises(ExecutionError, match=r"already runs Spark with master local\[2\].*"
                                             r"use spark://local\[2\]"):
        connect(SourceURL(raw="spark://local[3]", scheme="spark"))
    with connect(SourceURL(raw="spark://local", scheme="spark")) as connection:
        assert read(connection, "SELECT 1 AS x").column("x").to_pylist() == [1]
    assert list(spark_source._sessions) == ["local[2]"]
