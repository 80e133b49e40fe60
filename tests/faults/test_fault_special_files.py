"""File sinks never replace what is not a regular file (issue 23, finding 2).

The atomic rename that keeps a file complete-or-untouched would replace a
FIFO, a symlink or a device with a plain file (as root, ``--sink json:/dev/full``
replaced ``/dev/full``). Pipes and devices are written through; symlinks are
followed and stay links; ``/dev/stdout`` is standard output; block devices and
sockets are refused. No test here writes to a real ``/dev`` file other than
``/dev/null`` through a link in ``tmp_path``: links and nodes live in ``tmp_path``, so
a regression replaces them, never a real device.
"""

from __future__ import annotations

import io
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from kpispec.cli import main

from tests.faults import support

EXPECTED_CSV = "period,revenue\n2024-01-01,60.0\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = support.make_project(tmp_path / "project")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE deals AS SELECT range AS deal_id, TIMESTAMP '2024-03-01' AS "
                "created_at, (range + 1) * 10.0 AS amount, 'x' AS label FROM range(3)")
    con.close()
    return root


def run(project: Path, *sinks: str) -> object:
    args = ["run", "revenue", "-p", str(project), "--source",
            f"duckdb:///{project.parent / 'w.duckdb'}", *support.RANGE]
    for sink in sinks:
        args += ["--sink", sink]
    return CliRunner().invoke(main, args)


def test_fifo_is_written_through_not_replaced(project: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run(project, f"csv:{fifo}")
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert received == [EXPECTED_CSV.encode()]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert support.leftovers(tmp_path) == []


def test_symlink_to_dev_null_stays_a_link_and_dev_null_a_device(project: Path,
                                                                tmp_path: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to("/dev/null")
    for sink in (f"json:{link}", f"csv:{link}", f"parquet:{link}"):
        result = run(project, sink)
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
        assert os.readlink(link) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert os.major(os.stat("/dev/null").st_rdev) == 1
    assert os.minor(os.stat("/dev/null").st_rdev) == 3


def test_symlink_to_a_file_replaces_the_file_and_keeps_the_link(project: Path,
                                                                tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    real = tmp_path / "data" / "kpis.csv"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    result = run(project, str(link))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text(encoding="utf-8") == EXPECTED_CSV
    assert support.leftovers(tmp_path) == [] and support.leftovers(tmp_path / "data") == []


def test_a_char_device_in_tmp_is_written_through(project: Path, tmp_path: Path) -> None:
    """A device node of /dev/full's kind (root only): the write fails, exit 2, one line,
    and the node is still the device it was."""
    node = tmp_path / "full"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 7))
        with open(node, "wb") as probe:  # a nodev mount refuses to open device nodes
            probe.write(b"")
    except OSError:
        pytest.skip("cannot make or open a device node here (not root, or a nodev mount)")
    result = run(project, f"json:{node}")
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert result.stderr == (  # type: ignore[attr-defined]
        f"error: cannot write JSON to {str(node)!r}: No space left on device\n")
    mode = os.lstat(node).st_mode
    assert stat.S_ISCHR(mode) and os.lstat(node).st_rdev == os.makedev(1, 7)


def test_socket_is_refused(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        result = run(project, f"csv:{path}")
    finally:
        server.close()
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert result.stderr == (  # type: ignore[attr-defined]
        f"error: cannot write CSV to {str(path)!r}: it is a socket, not a file, a pipe or a "
        "terminal; kpispec never replaces it. Give a file name\n")
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


def child(project: Path, cwd: Path, *sinks: str) -> subprocess.CompletedProcess[bytes]:
    args = [sys.executable, "-m", "kpispec", "run", "revenue", "-p", str(project), "--source",
            f"duckdb:///{project.parent / 'w.duckdb'}", *support.RANGE]
    for sink in sinks:
        args += ["--sink", sink]
    return subprocess.run(args, cwd=cwd, capture_output=True, timeout=120,
                          env=support.environment())


def test_links_to_standard_output_print_there(project: Path, tmp_path: Path) -> None:
    """A link to ``/dev/stdout`` or to ``/proc/self/fd/1`` prints like ``csv:-`` and stays a
    link; a binary format is written to the pipe. (The links live in tmp_path: a regression
    replaces them, never the real /dev/stdout.)"""
    for name, to in (("a.csv", "/dev/stdout"), ("b.csv", "/proc/self/fd/1")):
        link = tmp_path / name
        link.symlink_to(to)
        done = child(project, tmp_path, f"csv:{link}")
        assert (done.returncode, done.stdout, done.stderr) == (0, EXPECTED_CSV.encode(), b"")
        assert os.readlink(link) == to
    link = tmp_path / "c.parquet"
    link.symlink_to("/proc/self/fd/1")
    done = child(project, tmp_path, f"parquet:{link}")
    assert done.returncode == 0, done.stderr
    assert pq.read_table(io.BytesIO(done.stdout)).column("revenue").to_pylist() == [60.0]
    assert os.readlink(link) == "/proc/self/fd/1"
    assert support.leftovers(tmp_path) == []


def test_dev_stdout_names_standard_output() -> None:
    """Told apart without writing anything to the real /dev/stdout."""
    from kpispec_builtins._files import StdoutBuffer, open_text_target
    from kpispec_builtins._special_files import locate_target

    assert locate_target("/dev/stdout", "CSV").fd == 1
    assert locate_target("/dev/fd/2", "CSV").fd == 2
    assert locate_target(f"/proc/{os.getpid()}/fd/1", "CSV").fd == 1
    target = open_text_target("csv:/dev/stdout", "csv", kind="CSV")
    assert isinstance(target, StdoutBuffer)
    target.discard()


def test_dash_still_means_standard_output(project: Path) -> None:
    result = run(project, "csv:-")
    assert result.exit_code == 0
    assert result.stdout == EXPECTED_CSV  # type: ignore[attr-defined]
