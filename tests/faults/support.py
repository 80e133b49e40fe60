"""Shared by the fault-injection tests: projects, servers, and running ``kpispec`` in a subprocess.

The PostgreSQL (127.0.0.1:5432, user postgres, database test) and MariaDB
(127.0.0.1:3306, root without password, database test) tests skip only when
nothing listens on the port and ``CI`` is not set; in CI a missing server fails.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "run_kpispec.py"
PG_HOST, PG_PORT, PG_USER, PG_DATABASE = "127.0.0.1", 5432, "postgres", "test"
MY_HOST, MY_PORT, MY_USER, MY_DATABASE = "127.0.0.1", 3306, "root", "test"
#: A password that must never show in any output.
SECRET = "Xq7-never-shown-9Zk"

#: The project every fault test runs: revenue per deal label, per year; ``slow_revenue``
#: reads ``slow_deals``, a view each database computes for ten minutes.
SPECS = """
models:
  - name: deals
    table: deals
    primary_key: deal_id
    time: created_at
    columns: [deal_id, created_at, amount, label]
    dimensions: [label]
  - name: slow_deals
    table: slow_deals
    time: created_at
    columns: [deal_id, created_at, amount]
metrics:
  - name: revenue
    type: simple
    measure: {model: deals, agg: sum, expr: amount}
  - name: slow_revenue
    type: simple
    measure: {model: slow_deals, agg: sum, expr: amount}
"""
#: One period: the result has one row per label.
RANGE = ["--from", "2024-01-01", "--to", "2025-01-01", "--grain", "year"]


def make_project(root: Path) -> Path:
    """Write the fault-test project into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "kpispec.yaml").write_text("name: faults\n", encoding="utf-8")
    (root / "specs.yaml").write_text(textwrap.dedent(SPECS), encoding="utf-8")
    return root


def listening(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


def require(host: str, port: int, what: str) -> None:
    """Skip without a server on ``host:port`` — unless CI is set, where that is a failure."""
    if listening(host, port):
        return
    if "CI" in os.environ:
        pytest.fail(f"no {what} server listens on {host}:{port}, and CI is set: the fault "
                    "tests must run against it", pytrace=False)
    pytest.skip(f"no {what} server listens on {host}:{port} (with CI set this fails)")


# -- PostgreSQL --------------------------------------------------------------------------------


def pg_admin() -> Any:
    """An autocommit psycopg connection as the server's superuser (not through kpispec)."""
    import psycopg

    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_DATABASE,
                           autocommit=True, application_name="kpispec-fault-tests",
                           connect_timeout=10)


def pg_schema(rows: int) -> Iterator[str]:
    """A fresh schema holding ``deals`` (``rows`` rows: one per day of 2024 and label, so
    ``--by label --grain day`` gives as many result rows) and the view ``slow_deals`` (one
    row after ten minutes of pg_sleep); yields its name and drops it afterwards."""
    from psycopg import sql

    schema = f"kpispec_fault_{secrets.token_hex(4)}"
    with pg_admin() as con:
        name = sql.Identifier(schema)
        con.execute(sql.SQL("CREATE SCHEMA {}").format(name))
        con.execute(sql.SQL(
            "CREATE TABLE {}.deals AS SELECT g AS deal_id, "
            "TIMESTAMP '2024-01-01' + (g %% 366) * INTERVAL '1 day' AS created_at, "
            "(g %% 1000)::float8 / 4 AS amount, 'deal ' || (g / 366) AS label "
            "FROM generate_series(1, %s) AS g").format(name), (rows,))
        con.execute(sql.SQL(
            "CREATE VIEW {}.slow_deals AS SELECT 1 AS deal_id, TIMESTAMP '2024-03-01' AS "
            "created_at, 1.0::float8 AS amount FROM pg_sleep(600)").format(name))
    try:
        yield schema
    finally:
        with pg_admin() as con:
            stop_pg_queries(con, schema)
            con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def pg_url(schema: str, password: str | None = None) -> str:
    """The source URL of ``schema``; its sessions are named after it (``application_name``)."""
    auth = PG_USER + (f":{password}" if password is not None else "")
    return (f"postgresql://{auth}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}?schema={schema}"
            f"&application_name={schema}")


def pg_queries(con: Any, schema: str) -> list[tuple[int, str, str]]:
    """(pid, state, query) of the kpispec sessions on ``schema`` (see :func:`pg_url`)."""
    rows = con.execute("SELECT pid, state, query FROM pg_stat_activity "
                       "WHERE application_name = %s AND pid <> pg_backend_pid()", (schema,))
    return [(int(pid), str(state), str(query or "")) for pid, state, query in rows.fetchall()]


def stop_pg_queries(con: Any, schema: str) -> None:
    for pid, _state, _query in pg_queries(con, schema):
        con.execute("SELECT pg_terminate_backend(%s)", (pid,))


# -- MariaDB -----------------------------------------------------------------------------------


def my_admin() -> Any:
    import pymysql

    return pymysql.connect(host=MY_HOST, port=MY_PORT, user=MY_USER, password="",
                           autocommit=True, connect_timeout=10)


def my_database(rows: int) -> Iterator[str]:
    """A fresh database holding ``deals`` and the view ``slow_deals`` (SLEEP(600)); yields its
    name and drops it afterwards."""
    name = f"kpispec_fault_{secrets.token_hex(4)}"
    con = my_admin()
    try:
        with con.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}`")
            cursor.execute(f"USE `{name}`")
            cursor.execute(
                f"CREATE TABLE `{name}`.deals (deal_id BIGINT, created_at DATETIME, "
                "amount DOUBLE, label VARCHAR(100)) ENGINE=InnoDB")
            cursor.execute(
                f"INSERT INTO `{name}`.deals SELECT seq, TIMESTAMP '2024-01-01 00:00:00' + "
                "INTERVAL (seq % 360) DAY, (seq % 1000) / 4, CONCAT('deal ', seq, ' ', "
                "REPEAT('x', 60)) FROM seq_1_to_" + str(int(rows)))
            cursor.execute(
                f"CREATE VIEW `{name}`.slow_deals AS SELECT 1 AS deal_id, TIMESTAMP "
                "'2024-03-01 00:00:00' AS created_at, 1.0 AS amount FROM DUAL WHERE SLEEP(600) = 0")
    finally:
        con.close()
    try:
        yield name
    finally:
        con = my_admin()
        try:
            for thread_id, _info in my_queries(con, name):
                with con.cursor() as cursor:
                    cursor.execute("KILL %s", (thread_id,))
            with con.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            con.close()


def my_url(database: str, password: str | None = None) -> str:
    auth = MY_USER + (f":{password}" if password is not None else "")
    return f"mysql://{auth}@{MY_HOST}:{MY_PORT}/{database}"


def my_queries(con: Any, database: str) -> list[tuple[int, str]]:
    """(id, query) of the statements running in ``database``, other than this connection's."""
    with con.cursor() as cursor:
        cursor.execute("SELECT ID, INFO FROM information_schema.PROCESSLIST "
                       "WHERE DB = %s AND ID <> CONNECTION_ID() AND COMMAND = 'Query'", (database,))
        return [(int(row[0]), str(row[1] or "")) for row in cursor.fetchall()]


# -- running kpispec ---------------------------------------------------------------------------


def environment(faults: str = "", **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["KPISPEC_FAULTS"] = faults
    env.setdefault("KPISPEC_BLOCK_PLUGINS", "crm")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def start(args: Sequence[str], *, cwd: Path, faults: str = "", address_space: int | None = None,
          **extra: str) -> subprocess.Popen[str]:
    """Start ``kpispec ARGS`` (through run_kpispec.py) with SIGINT handled as in a terminal.

    A test runner started in the background may ignore SIGINT, and children inherit that;
    the child restores the default so Ctrl-C reaches it as it would from a shell.
    ``address_space`` caps the child's memory (``RLIMIT_AS``, bytes).
    """
    def prepare() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if address_space is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    return subprocess.Popen(
        [sys.executable, str(RUNNER), *args], cwd=cwd, env=environment(faults, **extra),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=prepare)


def run(args: Sequence[str], *, cwd: Path, faults: str = "", timeout: float = 60,
        address_space: int | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
    process = start(args, cwd=cwd, faults=faults, address_space=address_space, **extra)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"kpispec {' '.join(args)} did not end within {timeout} s:\n{err}")
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}", pytrace=False)
        time.sleep(0.05)


def stop_with(process: subprocess.Popen[str], number: int, within: float = 10
              ) -> tuple[int, str, str, float]:
    """Send signal ``number``; return the exit code, outputs, and seconds until it ended."""
    sent = time.monotonic()
    process.send_signal(number)
    try:
        out, err = process.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"kpispec did not stop within {within} s of signal {number}:\n{err}")
    return process.returncode, out, err, time.monotonic() - sent


def leftovers(directory: Path) -> list[str]:
    """Temporary files a sink left behind in ``directory``."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))
