"""The built-in ``duckdb`` source plugin (kpispec_builtins.duckdb_source)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from kpispec.errors import ExecutionError
from kpispec.extensions import SourceType, SourceURL
from kpispec_builtins import duckdb_source
from kpispec_builtins.duckdb_source import DuckDBConnection, connect, connect_memory

SLOW_QUERY = (
    "SELECT count(*) FROM range(200000) AS a, range(200000) AS b "
    "WHERE a.range + b.range = 7"
)


def url_for(database: str, query: dict[str, str]) -> SourceURL:
    """The URL ``duckdb:///<database>?<query>`` as kpispec's URL parser would hand it over."""
    raw = f"duckdb:///{database}" + ("?" + urlencode(query) if query else "")
    return SourceURL(raw=raw, scheme="duckdb", database=database, query=query)


def file_url(db_path: Path, **query: str) -> SourceURL:
    return url_for(str(db_path), query)


def memory_url(**query: str) -> SourceURL:
    return url_for(":memory:", query)


@pytest.fixture
def crm_db(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA crm")
    con.execute(
        "CREATE TABLE crm.deals (deal_id INTEGER, amount DOUBLE, stage VARCHAR, created_at DATE)"
    )
    con.execute(
        "INSERT INTO crm.deals VALUES (1, 1200.5, 'won', DATE '2024-01-15'), "
        "(2, 0.1, 'lost', DATE '2024-02-03'), (3, NULL, NULL, DATE '2024-02-28')"
    )
    con.close()
    return path


def read(con: DuckDBConnection, sql: str, **kwargs: Any) -> pa.Table:
    return con.execute(sql, **kwargs).read_all()


# -- registration and module hygiene -----------------------------------------------------------


def test_register_sources_registers_duckdb() -> None:
    registered: list[SourceType] = []
    duckdb_source.register_sources(registered.append)
    [source] = registered
    assert (source.name, source.schemes, source.dialect) == ("duckdb", ("duckdb",), "duckdb")
    assert source.connect is connect


def test_import_does_not_load_heavy_modules() -> None:
    code = (
        "import sys, kpispec; before = set(sys.modules);"
        "import kpispec_builtins.duckdb_source;"
        "heavy = {'duckdb', 'pyarrow', 'sqlglot'} & (set(sys.modules) - before);"
        "assert not heavy, heavy"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


# -- database files ----------------------------------------------------------------------------


def test_file_database_values_and_types(crm_db: Path) -> None:
    with connect(file_url(crm_db)) as con:
        assert con.dialect == "duckdb"
        table = read(con, "SELECT * FROM crm.deals ORDER BY deal_id")
    assert table.schema == pa.schema([
        ("deal_id", pa.int32()), ("amount", pa.float64()),
        ("stage", pa.string()), ("created_at", pa.date32()),
    ])
    assert table.to_pylist() == [
        {"deal_id": 1, "amount": 1200.5, "stage": "won", "created_at": dt.date(2024, 1, 15)},
        {"deal_id": 2, "amount": 0.1, "stage": "lost", "created_at": dt.date(2024, 2, 3)},
        {"deal_id": 3, "amount": None, "stage": None, "created_at": dt.date(2024, 2, 28)},
    ]


def test_relative_path_is_relative_to_working_directory(
    crm_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(crm_db.parent)
    url = SourceURL(raw="duckdb:///warehouse.duckdb", scheme="duckdb", database="warehouse.duckdb")
    with connect(url) as con:
        assert read(con, "SELECT count(*) AS n FROM crm.deals").column("n").to_pylist() == [3]


@pytest.mark.parametrize("statement", [
    "CREATE TABLE crm.other (a INTEGER)",
    "INSERT INTO crm.deals VALUES (4, 1.0, 'won', DATE '2024-03-01')",
    "DELETE FROM crm.deals",
])
def test_file_database_is_read_only(crm_db: Path, statement: str) -> None:
    url = file_url(crm_db)
    with connect(url) as con:
        with pytest.raises(ExecutionError) as info:
            read(con, statement)
        assert str(url) in str(info.value)
        assert "\n" not in str(info.value)
        assert read(con, "SELECT count(*) AS n FROM crm.deals").column("n").to_pylist() == [3]


def test_missing_file_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nope.duckdb"
    with pytest.raises(ExecutionError, match="does not exist") as info:
        connect(file_url(path))
    assert str(path) in str(info.value)
    assert not path.exists()


def test_directory_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(ExecutionError, match="is a directory"):
        connect(file_url(tmp_path))


def test_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.duckdb"
    path.write_text("this is not a database\n")
    with pytest.raises(ExecutionError, match="cannot open DuckDB database") as info:
        connect(file_url(path))
    assert "\n" not in str(info.value)


def test_url_with_a_host_suggests_three_slashes() -> None:
    url = SourceURL(raw="duckdb://crm.duckdb", scheme="duckdb", host="crm.duckdb")
    with pytest.raises(ExecutionError, match="duckdb:///crm.duckdb"):
        connect(url)


def test_unknown_query_parameter(crm_db: Path) -> None:
    with pytest.raises(ExecutionError, match="unknown query parameter 'readonly'"):
        connect(file_url(crm_db, readonly="1"))


# -- queries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("database", ["", ":memory:"])
def test_in_memory_urls(database: str) -> None:
    url = SourceURL(raw="duckdb://" + (f"/{database}" if database else ""), scheme="duckdb",
                    database=database)
    with connect(url) as con:
        table = read(con, "SELECT 1::BIGINT AS one, 'x' AS s, DATE '2024-05-01' AS d")
    assert table.to_pylist() == [{"one": 1, "s": "x", "d": dt.date(2024, 5, 1)}]
    assert table.schema.field("one").type == pa.int64()


def test_results_stream_in_batches() -> None:
    with connect(memory_url()) as con:
        reader = con.execute("SELECT range AS i FROM range(250000) ORDER BY i")
        sizes = [batch.num_rows for batch in reader]
    assert sum(sizes) == 250000
    assert len(sizes) >= 3 and max(sizes) <= duckdb_source.ROWS_PER_BATCH


def test_query_error_is_one_line_and_names_the_url(crm_db: Path) -> None:
    url = file_url(crm_db)
    with connect(url) as con, pytest.raises(ExecutionError) as info:
        read(con, "SELECT nope FROM crm.deals")
    message = str(info.value)
    assert message.startswith(f"DuckDB query failed on {url}: ")
    assert "nope" in message and "\n" not in message


def test_error_while_streaming_is_an_execution_error() -> None:
    with connect(memory_url()) as con:
        with pytest.raises(ExecutionError, match="Could not convert string"):
            read(con, "SELECT CAST(CASE WHEN range < 150000 THEN '1' ELSE 'x' END AS INTEGER) "
                      "AS v FROM range(300000)")
        assert read(con, "SELECT 1 AS a").to_pylist() == [{"a": 1}]


def test_timeout_interrupts_and_connection_survives() -> None:
    with connect(memory_url()) as con:
        started = time.monotonic()
        with pytest.raises(ExecutionError, match=r"query timed out after 0\.3 s"):
            read(con, SLOW_QUERY, timeout=0.3)
        assert time.monotonic() - started < 10
        assert read(con, "SELECT 42 AS answer").to_pylist() == [{"answer": 42}]


def test_finished_query_is_not_interrupted_later() -> None:
    with connect(memory_url()) as con:
        assert read(con, "SELECT 1 AS a", timeout=0.2).to_pylist() == [{"a": 1}]
        time.sleep(0.4)  # the timer of the first query must not hit the next one
        assert read(con, "SELECT count(*) AS n FROM range(1000000)").to_pylist() == [{"n": 1000000}]


def test_timeout_must_be_positive() -> None:
    with connect(memory_url()) as con, pytest.raises(ValueError, match="positive"):
        con.execute("SELECT 1", timeout=0)


def test_closed_connection(crm_db: Path) -> None:
    con = connect(file_url(crm_db))
    con.close()
    con.close()  # harmless
    with pytest.raises(ExecutionError, match="closed"):
        con.execute("SELECT 1")


# -- ?path=DIR: files as views -----------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    pq.write_table(pa.table({"deal_id": pa.array([1, 2], pa.int64()),
                             "amount": [10.5, None]}), data / "deals.parquet")
    (data / "leads.csv").write_text("lead_id,source,created_at\n1,web,2024-01-02\n2,,2024-01-03\n")
    events = data / "events"
    events.mkdir()
    pq.write_table(pa.table({"n": [1, 2]}), events / "part-0.parquet")
    pq.write_table(pa.table({"n": [3]}), events / "part-1.parquet")
    (data / "it's odd.csv").write_text("x\n7\n")
    (data / "notes.txt").write_text("ignored\n")
    (data / "empty").mkdir()
    return data


def test_path_directory_files_become_views(data_dir: Path) -> None:
    with connect(memory_url(path=str(data_dir))) as con:
        views = read(con, "SELECT table_name FROM information_schema.tables "
                          "WHERE table_type = 'VIEW' ORDER BY table_name")
        assert views.column("table_name").to_pylist() == ["deals", "events", "it's odd", "leads"]
        assert read(con, "SELECT * FROM deals ORDER BY deal_id").to_pylist() == [
            {"deal_id": 1, "amount": 10.5}, {"deal_id": 2, "amount": None}]
        leads = read(con, "SELECT * FROM leads ORDER BY lead_id")
        assert leads.to_pylist() == [
            {"lead_id": 1, "source": "web", "created_at": dt.date(2024, 1, 2)},
            {"lead_id": 2, "source": None, "created_at": dt.date(2024, 1, 3)}]
        assert read(con, "SELECT sum(n) AS s FROM events").to_pylist() == [{"s": 6}]
        assert read(con, 'SELECT x FROM "it\'s odd"').to_pylist() == [{"x": 7}]


def test_path_relative_directory(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(data_dir.parent)
    with connect(memory_url(path="data")) as con:
        monkeypatch.chdir("/")  # views keep working: they hold absolute paths
        assert read(con, "SELECT count(*) AS n FROM deals").to_pylist() == [{"n": 2}]


def test_path_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ExecutionError, match="does not exist") as info:
        connect(memory_url(path=str(tmp_path / "missing")))
    assert str(tmp_path / "missing") in str(info.value)


def test_path_name_collision(data_dir: Path) -> None:
    (data_dir / "deals.csv").write_text("a\n1\n")
    with pytest.raises(ExecutionError, match="would both become view 'deals'"):
        connect(memory_url(path=str(data_dir)))


def test_path_unreadable_file_names_it(tmp_path: Path) -> None:
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(ExecutionError, match="broken.parquet"):
        connect(memory_url(path=str(tmp_path)))


def test_path_is_only_for_memory_databases(crm_db: Path, data_dir: Path) -> None:
    with pytest.raises(ExecutionError, match="in-memory"):
        connect(file_url(crm_db, path=str(data_dir)))


# -- connect_memory ----------------------------------------------------------------------------


def test_connect_memory_tables() -> None:
    deals = pa.table({
        "deal_id": pa.array([1, 2, 3], pa.int64()),
        "amount": pa.array([100.25, None, 0.1], pa.float64()),
        "closed_at": pa.array([dt.date(2024, 1, 31), None, dt.date(2024, 2, 1)], pa.date32()),
    })
    leads = pa.table({"lead_id": pa.array([7], pa.int32()), "source": ["web"]})
    with connect_memory({"deals": deals, "crm.leads": leads}) as con:
        assert con.dialect == "duckdb"
        back = read(con, "SELECT * FROM deals ORDER BY deal_id")
        assert back.equals(deals)
        assert read(con, "SELECT * FROM crm.leads").equals(leads)
        kinds = read(con, "SELECT table_schema, table_name, table_type FROM "
                          "information_schema.tables ORDER BY table_schema, table_name")
        assert kinds.to_pylist() == [
            {"table_schema": "crm", "table_name": "leads", "table_type": "BASE TABLE"},
            {"table_schema": "main", "table_name": "deals", "table_type": "BASE TABLE"},
        ]


def test_connect_memory_odd_names_are_quoted() -> None:
    with connect_memory({"select": pa.table({"a b": [1]})}) as con:
        assert read(con, 'SELECT "a b" FROM "select"').to_pylist() == [{"a b": 1}]


def test_connect_memory_rejects_bad_names() -> None:
    with pytest.raises(ValueError, match="schema.table"):
        connect_memory({"a.b.c": pa.table({"x": [1]})})
