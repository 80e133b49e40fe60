"""Ctrl-C (SIGINT) and SIGTERM stop a run: the query is cancelled where it runs, the command
exits 130 (143) with one message, and no output is left half-written.

Each test starts ``kpispec run`` in a subprocess on a query that would run for
minutes (a view computing 10^12 rows in DuckDB or SQLite, ``pg_sleep(600)`` in a
PostgreSQL view, ``SLEEP(600)`` in a MariaDB view), waits until the query has
been sent — and, on the servers, until the server lists it as running — then
sends the signal. The process must end within seconds, and the server must no
longer be running the query (``pg_stat_activity``, the PROCESSLIST): closing the
socket alone would leave both servers sleeping for ten minutes.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from kpispec.cli import main

from tests.faults import support

OLD = "period,revenue\n1999-01-01,1.0\n"  # what out.csv held before the run


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = support.make_project(tmp_path / "project")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "out.csv").write_text(OLD, encoding="utf-8")
    return root


def start_slow(root: Path, source: str, marker: Path, *extra: str,
               faults: str = "") -> support.subprocess.Popen[str]:
    out = root.parent / "out" / "out.csv"
    process = support.start(["run", "slow_revenue", "-p", str(root), "--source", source,
                             *support.RANGE, "--sink", str(out), *extra],
                            cwd=root.parent, faults=faults, KPISPEC_FAULT_ANNOUNCE=str(marker))
    support.wait_until(lambda: marker.exists() or process.poll() is not None, 30,
                       "the query to be sent")
    if process.poll() is not None:
        pytest.fail(f"kpispec ended before the query ran: {process.communicate()}")
    return process


def assert_stopped(code: int, out: str, err: str, seconds: float, root: Path, *,
                   expected: int = 130, message: str = "interrupted") -> None:
    assert code == expected, err
    assert err.splitlines()[-1] == f"error: {message}", err
    assert "Traceback" not in err
    assert seconds < 5, f"took {seconds:.1f} s to stop"
    out = root.parent / "out"
    assert (out / "out.csv").read_text(encoding="utf-8") == OLD
    assert support.leftovers(out) == []


# -- in-process engines ------------------------------------------------------------------------


def test_ctrl_c_interrupts_a_duckdb_query(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "slow.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE VIEW slow_deals AS SELECT x AS deal_id, TIMESTAMP '2024-03-01' AS created_at, "
                "1.0 AS amount FROM range(1000000000000) AS t(x)")
    con.close()
    process = start_slow(project, f"duckdb:///{path}", tmp_path / "sent")
    time.sleep(0.5)  # well inside the engine by now
    assert_stopped(*support.stop_with(process, signal.SIGINT), project)


def test_ctrl_c_interrupts_a_sqlite_query(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "slow.db"
    con = sqlite3.connect(path)
    con.execute("CREATE VIEW slow_deals AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL "
                "SELECT x + 1 FROM n WHERE x < 1000000000000) SELECT x AS deal_id, "
                "'2024-03-01 00:00:00' AS created_at, 1.0 AS amount FROM n")
    con.close()
    process = start_slow(project, f"sqlite:///{path}", tmp_path / "sent")
    time.sleep(0.5)
    assert_stopped(*support.stop_with(process, signal.SIGINT), project)


# -- servers: the query must be gone from the server -------------------------------------------


@pytest.fixture
def pg_schema() -> Iterator[str]:
    support.require(support.PG_HOST, support.PG_PORT, "PostgreSQL")
    yield from support.pg_schema(rows=10)


@pytest.fixture
def my_database() -> Iterator[str]:
    support.require(support.MY_HOST, support.MY_PORT, "MariaDB")
    yield from support.my_database(rows=10)


@pytest.mark.parametrize(("signal_number", "code", "message"), [
    (signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_signal_cancels_the_postgres_query_on_the_server(
        signal_number: int, code: int, message: str, project: Path, tmp_path: Path,
        pg_schema: str) -> None:
    process = start_slow(project, support.pg_url(pg_schema), tmp_path / "sent")
    with support.pg_admin() as admin:
        # A server-side cursor: the running statement is its FETCH.
        running = support.wait_until(
            lambda: [q for q in support.pg_queries(admin, pg_schema) if q[1] == "active"],
            10, "PostgreSQL to run the query")
        assert len(running) == 1
        assert_stopped(*support.stop_with(process, signal_number), project, expected=code,
                       message=message)
        # Gone at once: cancelled, not left to pg_sleep for ten minutes after the client went.
        support.wait_until(lambda: not [q for q in support.pg_queries(admin, pg_schema)
                                        if q[1] == "active"], 3, "the query to be cancelled")


def test_ctrl_c_kills_the_mariadb_query_on_the_server(project: Path, tmp_path: Path,
                                                      my_database: str) -> None:
    process = start_slow(project, support.my_url(my_database), tmp_path / "sent")
    admin = support.my_admin()
    try:
        running = support.wait_until(
            lambda: [q for q in support.my_queries(admin, my_database) if "slow_deals" in q[1]],
            10, "MariaDB to run the query")
        assert len(running) == 1
        assert_stopped(*support.stop_with(process, signal.SIGINT), project)
        support.wait_until(lambda: not support.my_queries(admin, my_database), 3,
                           "the query to be killed")
    finally:
        admin.close()


# -- a signal while the sinks are writing ----------------------------------------------------------


@pytest.mark.parametrize(("name", "code", "message"), [("INT", 130, "interrupted"),
                                                        ("TERM", 143, "terminated")])
def test_signal_mid_write_leaves_outputs_untouched(name: str, code: int, message: str,
                                                   project: Path, tmp_path: Path) -> None:
    """The csv sink has written the first batch into its temporary file when the signal
    comes: the run stops, the old out.csv stays as it was, no temporary file is left."""
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE deals AS SELECT range AS deal_id, TIMESTAMP '2024-01-01' + "
                "INTERVAL (range % 300) DAY AS created_at, 1.5 AS amount, 'deal ' || range AS "
                "label FROM range(5000)")
    con.close()
    out = project.parent / "out"
    done = support.run(["run", "revenue", "-p", str(project), "--source", f"duckdb:///{path}",
                        *support.RANGE, "--by", "label", "--sink", str(out / "out.csv"),
                        "--sink", str(out / "out.parquet"), "--sink", "fault:"],
                       cwd=tmp_path, faults=f"sink:signal:{name}")
    assert done.returncode == code, done.stderr
    assert done.stderr.splitlines()[-1] == f"error: {message}"
    assert (out / "out.csv").read_text(encoding="utf-8") == OLD
    assert not (out / "out.parquet").exists()
    assert support.leftovers(out) == []
    rerun = CliRunner().invoke(main, ["run", "revenue", "-p", str(project), "--source",
                                      f"duckdb:///{path}", *support.RANGE, "--by", "label",
                                      "--sink", str(out / "out.csv")])
    assert rerun.exit_code == 0, rerun.output
    assert len((out / "out.csv").read_text(encoding="utf-8").splitlines()) == 5001
