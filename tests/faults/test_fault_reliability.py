"""A run that fails half-way leaves every output complete or untouched, and says so once.

Faults injected, for real: the server kills the session while its rows stream
(PostgreSQL ``pg_terminate_backend``, MariaDB ``KILL CONNECTION``), the disk
fills up under a sink (``RLIMIT_FSIZE``: writes fail with EFBIG, as on a full
disk), a sink or a source plugin raises, a write-back's transaction fails. Each
run must exit 2 with one line on standard error, every file target must be
byte-for-byte what it was (or still absent), no temporary file may be left, a
warehouse table must keep its rows, and the same run must then succeed.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner
from kpispec import testing
from kpispec.cli import main
from kpispec.errors import ExecutionError
from kpispec.extensions import SourceType, SourceURL
from kpispec.project import parse_source_url
from kpispec_builtins import mysql_source

from tests.faults import support
from tests.faults.fault_plugins import FaultSink

OLD = b"period,revenue\n1999-01-01,1.0\n"


def invoke(root: Path, source: str, sinks: Sequence[str], *extra: str) -> Any:
    """``kpispec run revenue --by label`` per day of 2024: as many rows as the table has."""
    args = ["run", "revenue", "-p", str(root), "--source", source, *support.RANGE, "--grain",
            "day", "--by", "label", *extra]
    for sink in sinks:
        args += ["--sink", sink]
    return CliRunner().invoke(main, args)


def one_error_line(result: Any) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return str(lines[0])


@pytest.fixture
def out(tmp_path: Path) -> Path:
    directory = tmp_path / "out"
    directory.mkdir()
    (directory / "old.csv").write_bytes(OLD)
    return directory


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return support.make_project(tmp_path / "project")


def duckdb_source(path: Path, rows: int) -> str:
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE deals AS SELECT range AS deal_id, TIMESTAMP '2024-01-01' + "
                f"INTERVAL (range % 366) DAY AS created_at, (hash(range) % 100000) / 7 AS amount, "
                f"'deal ' || range || ' ' || md5(range::VARCHAR) AS label FROM range({int(rows)})")
    con.close()
    return f"duckdb:///{path}"


# -- the connection dies while rows stream ---------------------------------------------------------


@pytest.fixture
def pg_schema() -> Iterator[str]:
    support.require(support.PG_HOST, support.PG_PORT, "PostgreSQL")
    yield from support.pg_schema(rows=51_000)  # more than one batch of 50 000 rows


def test_postgres_session_terminated_mid_stream(project: Path, out: Path, pg_schema: str) -> None:
    url = support.pg_url(pg_schema)
    table = f"{url}#{pg_schema}.kpis"
    with support.pg_admin() as admin:
        admin.execute(f'CREATE TABLE "{pg_schema}".kpis (period DATE, label TEXT, revenue FLOAT8)')
        admin.execute(f"INSERT INTO \"{pg_schema}\".kpis VALUES ('2024-01-01', 'kept', 1.0)")

        def terminate(batch: pa.RecordBatch, index: int) -> None:
            if index == 0:  # the source has more rows to send
                pids = [pid for pid, _state, _query in support.pg_queries(admin, pg_schema)]
                assert len(pids) == 1
                admin.execute("SELECT pg_terminate_backend(%s)", (pids[0],))

        with testing.registered(FaultSink(on_write=terminate), "fault"):
            result = invoke(project, url, [str(out / "old.csv"), str(out / "new.csv"), table,
                                           "fault:"])
        line = one_error_line(result)
        assert line.startswith(f"error: PostgreSQL query failed on {url}: ")
        assert "terminating connection due to administrator command" in line
        assert (out / "old.csv").read_bytes() == OLD
        assert not (out / "new.csv").exists()
        assert support.leftovers(out) == []
        rows = admin.execute(f'SELECT * FROM "{pg_schema}".kpis').fetchall()
        assert [(str(d), label, value) for d, label, value in rows] == [("2024-01-01", "kept", 1.0)]

        again = invoke(project, url, [str(out / "old.csv"), table])
        assert again.exit_code == 0, again.output
        assert len((out / "old.csv").read_bytes().splitlines()) == 51_001
        count = admin.execute(f'SELECT count(*) FROM "{pg_schema}".kpis').fetchone()
        assert count == (51_000,)  # the period's rows replaced, "kept" among them


@pytest.fixture
def my_database() -> Iterator[str]:
    support.require(support.MY_HOST, support.MY_PORT, "MariaDB")
    name = f"kpispec_fault_{support.secrets.token_hex(4)}"
    con = support.my_admin()
    try:
        with con.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}`")
            # 100 000 rows of ~300 bytes: far more than the socket buffers hold, so the
            # server is still sending when the connection is killed.
            cursor.execute(
                f"CREATE TABLE `{name}`.deals ENGINE=InnoDB AS SELECT seq AS deal_id, "
                "TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (seq % 360) DAY AS created_at, "
                "(seq % 1000) / 4 AS amount, CONCAT('deal ', seq, ' ', REPEAT('x', 300)) AS label "
                f"FROM `{name}`.seq_1_to_100000")
        yield name
    finally:
        with con.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        con.close()


def test_mariadb_connection_killed_mid_stream(my_database: str,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    """At the source: the rows stream through an unbuffered cursor, the server kills the
    connection while it is still sending; reading on is one clear error (no noise from the
    driver's half-read result on standard error), and a new connection works.

    (Through ``kpispec run`` the path past the error is the one the PostgreSQL test above
    takes; MariaDB joins the 10^5-row result of a grouped metric far too slowly for a test.)
    """
    url = support.my_url(my_database)
    admin = support.my_admin()
    try:
        with mysql_source.connect(parse_source_url(url)) as con:
            reader = con.execute("SELECT deal_id, label FROM deals")
            assert reader.read_next_batch().num_rows == mysql_source.ROWS_PER_BATCH
            with admin.cursor() as cursor:
                cursor.execute("SELECT ID, STATE FROM information_schema.PROCESSLIST "
                               "WHERE DB = %s AND COMMAND = 'Query' AND ID <> CONNECTION_ID()",
                               (my_database,))
                (thread, state), = cursor.fetchall()
                assert state == "Writing to net"  # still sending rows
                cursor.execute("KILL CONNECTION %s", (thread,))
            with pytest.raises(ExecutionError) as info:
                while True:
                    reader.read_next_batch()
            assert str(info.value) == (f"MySQL query failed on {url}: (2013) Lost connection to "
                                       "MySQL server during query")
        gc.collect()
        assert capfd.readouterr().err == ""
        with mysql_source.connect(parse_source_url(url)) as con:
            table = con.execute("SELECT count(*) AS n FROM deals").read_all()
            assert table.to_pylist() == [{"n": 100_000}]
    finally:
        admin.close()


# -- a sink or source plugin raises --------------------------------------------------------------


def boom(*_args: Any) -> None:
    raise RuntimeError("disk quota service unreachable")


@pytest.mark.parametrize(("where", "first"), [("write", False), ("close", True)])
def test_sink_plugin_that_raises(where: str, first: bool, project: Path, out: Path,
                                 tmp_path: Path) -> None:
    """The failing sink is listed first when it fails on close: sinks commit in order, so a
    sink listed before it would already have committed its (complete) output."""
    source = duckdb_source(tmp_path / "w.duckdb", 1000)
    sink = FaultSink(on_write=boom if where == "write" else None,
                     on_close=boom if where == "close" else None)
    files = [str(out / "old.csv"), str(out / "new.parquet")]
    with testing.registered(sink, "fault"):
        result = invoke(project, source, ["fault:", *files] if first else [*files, "fault:"])
    assert one_error_line(result) == (
        f"error: plugin 'fault_sink' in hook register_sinks: {where} raised RuntimeError: "
        "disk quota service unreachable")
    assert sink.events[-1] == "abort"
    assert (out / "old.csv").read_bytes() == OLD
    assert not (out / "new.parquet").exists()
    assert support.leftovers(out) == []
    assert invoke(project, source, files).exit_code == 0


class BrokenSource:
    """A source whose stream breaks after its first batch (or whose connect fails)."""

    def __init__(self, fail_connect: bool = False) -> None:
        self.fail_connect = fail_connect
        self.closed = 0

    @testing.hookimpl
    def register_sources(self, register: Callable[..., None]) -> None:
        register(SourceType(name="broken", schemes=("broken",), dialect="duckdb",
                            connect=self.connect))

    def connect(self, url: SourceURL) -> Any:
        if self.fail_connect:
            raise ConnectionRefusedError(f"cannot reach {url.raw}")
        return self

    def execute(self, sql: str, *, timeout: float | None = None) -> pa.RecordBatchReader:
        schema = pa.schema([("period", pa.date32()), ("label", pa.string()),
                            ("revenue", pa.float64())])

        def batches() -> Iterator[pa.RecordBatch]:
            yield pa.RecordBatch.from_pylist([{"period": None, "label": "a", "revenue": 1.0}],
                                             schema=schema)
            raise ConnectionResetError(104, "Connection reset by peer")
        return pa.RecordBatchReader.from_batches(schema, batches())

    def describe(self, table: str) -> None:
        return None

    def close(self) -> None:
        self.closed += 1


def test_source_plugin_whose_stream_breaks(project: Path, out: Path) -> None:
    broken = BrokenSource()
    with testing.registered(broken, "broken"):
        result = invoke(project, "broken://", [str(out / "old.csv"), str(out / "new.json")])
    line = one_error_line(result)
    assert line.startswith("error: reading results failed: ")
    assert "Connection reset by peer" in line
    assert broken.closed >= 1
    assert (out / "old.csv").read_bytes() == OLD and not (out / "new.json").exists()
    assert support.leftovers(out) == []


def test_source_plugin_that_cannot_connect_masks_the_url(project: Path, out: Path) -> None:
    with testing.registered(BrokenSource(fail_connect=True), "broken"):
        result = invoke(project, f"broken://svc:{support.SECRET}@db/crm", [str(out / "old.csv")])
    assert one_error_line(result) == (
        "error: source broken://svc:***@db/crm failed to connect: ConnectionRefusedError: "
        "cannot reach broken://svc:***@db/crm")
    assert support.SECRET not in result.output


# -- the disk fills up -------------------------------------------------------------------------------

FILE_SINKS = ["out.csv", "out.json", "out.jsonl", "out.parquet", "out.xlsx", "out.html", "out.prom"]
LIMIT = 16 * 1024
KINDS = {".csv": "CSV", ".json": "JSON", ".jsonl": "JSON Lines", ".parquet": "Parquet",
         ".xlsx": "xlsx", ".html": "HTML", ".prom": "OpenMetrics"}


def test_full_disk_leaves_every_file_sink_untouched(project: Path, tmp_path: Path) -> None:
    """Every file sink, with the process's file size limit below what it writes: the write
    fails with EFBIG, the command exits 2 naming the file, and a target that existed keeps
    its bytes. Then, without the limit, every sink writes its file."""
    source = duckdb_source(tmp_path / "w.duckdb", 2000)
    out = tmp_path / "out"
    out.mkdir()
    before: dict[str, bytes] = {}
    for i, name in enumerate(FILE_SINKS):
        if i % 2 == 0:  # half the targets exist already
            before[name] = f"previous {name}\n".encode()
            (out / name).write_bytes(before[name])
    # One period (the OpenMetrics sink writes the latest only), 2000 labels.
    commands = [["run", "revenue", "-p", str(project), "--source", source, *support.RANGE,
                 "--by", "label", "--sink", str(out / name)] for name in FILE_SINKS]
    full = support.run(["--each", json.dumps(commands)], cwd=tmp_path,
                       KPISPEC_FAULT_FSIZE=str(LIMIT))
    assert full.returncode == 0, full.stderr
    for name, report in zip(FILE_SINKS, json.loads(full.stdout)):
        assert report["code"] == 2, (name, report["stderr"])
        lines = report["stderr"].splitlines()
        assert len(lines) == 1 and "Traceback" not in report["stderr"], report["stderr"]
        assert "File too large" in lines[0], (name, lines[0])
        assert str(out / name) in lines[0] or name in lines[0], (name, lines[0])
        if name in before:
            assert (out / name).read_bytes() == before[name], name
        else:
            assert not (out / name).exists(), name
    assert support.leftovers(out) == []
    fine = support.run(["--each", json.dumps(commands)], cwd=tmp_path)
    for name, report in zip(FILE_SINKS, json.loads(fine.stdout)):
        assert report["code"] == 0, (name, report["stderr"])
        assert (out / name).stat().st_size > LIMIT, name


# -- a write-back transaction fails ---------------------------------------------------------------


def test_failed_write_back_rolls_back(project: Path, out: Path, tmp_path: Path) -> None:
    """PostgreSQL write-back into a table with a NOT NULL column the result lacks: the COPY
    fails after the period's rows were deleted; the transaction rolls back, they are back."""
    support.require(support.PG_HOST, support.PG_PORT, "PostgreSQL")
    source = duckdb_source(tmp_path / "w.duckdb", 100)
    for schema in support.pg_schema(rows=1):
        url = support.pg_url(schema)
        with support.pg_admin() as admin:
            admin.execute(f'CREATE TABLE "{schema}".kpis (period DATE, label TEXT, revenue FLOAT8, '
                          "owner TEXT NOT NULL)")
            admin.execute(f"INSERT INTO \"{schema}\".kpis VALUES ('2024-01-01', 'kept', 1.0, 'me')")
            result = invoke(project, source, [f"{url}#{schema}.kpis", str(out / "old.csv")])
            line = one_error_line(result)
            assert line.startswith(f"error: sink {url}#{schema}.kpis: writing failed, the table is "
                                   "unchanged: ")
            assert 'null value in column "owner"' in line
            assert admin.execute(f'SELECT label, owner FROM "{schema}".kpis').fetchall() == [
                ("kept", "me")]
            assert (out / "old.csv").read_bytes() == OLD
            assert support.leftovers(out) == []


def test_a_temporary_file_left_open_is_deleted_at_exit(tmp_path: Path) -> None:
    """Clean-up itself interrupted (a second Ctrl-C while aborting): the process still removes
    the temporary file when it exits."""
    import subprocess
    import sys

    script = ("import sys; from kpispec_builtins._files import AtomicFile; "
              f"f = AtomicFile({str(tmp_path / 'out.csv')!r}, 'CSV'); f.stream.write('half'); "
              "f.stream.flush(); print(f.temp_path); raise KeyboardInterrupt")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "KeyboardInterrupt" in done.stderr
    assert done.stdout.strip().endswith(".tmp")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
