"""``kpispec demo``: write the demo warehouse, then compute a few metrics on it."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import click

from kpispec.errors import ExecutionError, QueryError

DEMO_METRICS = ("leads_created", "deals_won", "close_rate", "win_rate", "won_revenue",
                "avg_deal_size")


def demo_project_path() -> Path:
    """The demo project shipped with kpispec (models and metrics over the demo warehouse)."""
    from kpispec_specs import ROOT

    return Path(ROOT) / "examples" / "demo"


def check_demo_target(out: Path) -> None:
    """Refuse an ``--out`` the demo must not write: a directory, a missing directory, a
    special file, or an existing file that is not a kpispec demo warehouse (which it would
    silently replace).

    Raises:
        QueryError: what is wrong with ``--out``, and what to give instead.
    """
    from kpispec import _demo

    shown = str(out)
    if shown.endswith(("/", os.sep)) or out.is_dir():
        raise QueryError(f"--out {shown!r} is a directory",
                         hint=f"Give a file name, e.g. --out {out / 'kpispec-demo.duckdb'}")
    parent = out.absolute().parent
    if not parent.is_dir():
        raise QueryError(f"--out {shown!r}: directory {str(parent)!r} does not exist",
                         hint="Create it first, or give a file in an existing directory")
    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise QueryError(f"--out {shown!r}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode) or not _is_demo_warehouse(out, _demo.TABLES):
        raise QueryError(f"--out {shown!r} exists and is not a kpispec demo warehouse; "
                         "kpispec demo replaces only a database it wrote itself",
                         hint="Give another file name, or delete that file first")


def _is_demo_warehouse(path: Path, tables: tuple[str, ...]) -> bool:
    """A DuckDB file holding exactly the demo's tables (opened read-only, nothing loaded)."""
    import duckdb

    try:
        with open(path, "rb") as file:
            if file.read(12)[8:12] != b"DUCK":  # DuckDB's magic bytes
                return False
        con = duckdb.connect(str(path), read_only=True,
                             config={"enable_external_access": False})
        try:
            found = {row[0] for row in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
        finally:
            con.close()
    except (OSError, duckdb.Error):
        return False
    return found == set(tables)


def run_demo(*, rows: int, out: Path, seed: int) -> None:
    from kpispec import _demo
    from kpispec.output import write_result
    from kpispec.project import load_project

    check_demo_target(out)
    started = time.monotonic()
    total = len(_demo.TABLES)
    try:
        if sys.stderr.isatty():
            from rich.progress import Progress

            with Progress(transient=True) as progress:
                task = progress.add_task(f"Writing demo warehouse ({rows:,} deals)", total=total)
                counts = _demo.write_duckdb(
                    out, rows, seed=seed,
                    progress=lambda table, done, _t: progress.update(task, completed=done))
        else:
            counts = _demo.write_duckdb(out, rows, seed=seed)
    except OSError as exc:
        raise ExecutionError(f"cannot write the demo warehouse to {str(out)!r}: "
                             f"{exc.strerror or exc}") from None
    elapsed = time.monotonic() - started
    click.echo(f"Wrote {out} ({sum(counts.values()):,} rows in {len(counts)} tables, "
               f"{elapsed:.1f} s).", err=True)
    project = load_project(demo_project_path())
    source = "duckdb:///" + str(out)
    click.echo("Monthly sales metrics, computed by: kpispec run "
               f"{' '.join(DEMO_METRICS)} -p {demo_project_path()} --source {source}", err=True)
    write_result(project, DEMO_METRICS, source=source, sinks=["table"])
