"""Hostile arguments to the commands that write files: new-plugin and demo (issue 23, finding 8).

Each ended in "internal error" (a 300-character plugin name, ``demo --out`` into a
missing directory or onto a directory), or silently replaced a file that was not
kpispec's (``demo --out precious.txt``). Each is now one message, exit 1, and
nothing written.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from kpispec.cli import main


def cli(cwd: Path, *args: str) -> object:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        os.chdir(old)


def test_new_plugin_with_a_300_character_name(tmp_path: Path) -> None:
    result = cli(tmp_path, "new-plugin", "a" * 300)
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    assert result.stderr == (  # type: ignore[attr-defined]
        "error: a plugin name is at most 64 characters; 'aaaaaaaaaaaaaaaaaaaa'... has 300. "
        "Choose a shorter name, e.g. 'kpispec new-plugin acme-sales'\n")
    assert list(tmp_path.iterdir()) == []


def test_new_plugin_into_a_directory_that_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    result = cli(tmp_path, "new-plugin", "acme", "--dir", str(tmp_path / "file" / "sub"))
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    assert result.stderr == (  # type: ignore[attr-defined]
        f"error: cannot create the plugin in {str(tmp_path / 'file' / 'sub')!r}: Not a "
        "directory; nothing was left there\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize(("out", "message"), [
    ("missing/x.duckdb", "error: --out 'missing/x.duckdb': directory '{root}/missing' does not "
                         "exist. Create it first, or give a file in an existing directory"),
    ("adir", "error: --out 'adir' is a directory. Give a file name, e.g. --out "
             "adir/kpispec-demo.duckdb"),
    ("precious.txt", "error: --out 'precious.txt' exists and is not a kpispec demo warehouse; "
                     "kpispec demo replaces only a database it wrote itself. Give another file "
                     "name, or delete that file first"),
    ("other.duckdb", "error: --out 'other.duckdb' exists and is not a kpispec demo warehouse; "
                     "kpispec demo replaces only a database it wrote itself. Give another file "
                     "name, or delete that file first"),
    ("fifo", "error: --out 'fifo' exists and is not a kpispec demo warehouse; kpispec demo "
             "replaces only a database it wrote itself. Give another file name, or delete that "
             "file first"),
])
def test_demo_out_that_it_must_not_write(tmp_path: Path, out: str, message: str) -> None:
    (tmp_path / "adir").mkdir()
    (tmp_path / "precious.txt").write_bytes(b"my thesis\n")
    con = duckdb.connect(str(tmp_path / "other.duckdb"))
    con.execute("CREATE TABLE mine AS SELECT 42 AS answer")
    con.close()
    os.mkfifo(tmp_path / "fifo")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    result = cli(tmp_path, "demo", "--rows", "10", "--out", out)
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    assert result.stderr == message.format(root=tmp_path) + "\n"  # type: ignore[attr-defined]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "adir", "fifo", "other.duckdb", "precious.txt"]


def test_demo_replaces_its_own_warehouse(tmp_path: Path) -> None:
    for _ in range(2):
        result = cli(tmp_path, "demo", "--rows", "10", "--out", "w.duckdb")
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM deals").fetchone() == (10,)
    con.close()
