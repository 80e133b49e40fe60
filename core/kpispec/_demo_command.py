"""``kpispec demo``: write the demo warehouse, then compute a few metrics on it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

DEMO_METRICS = ("leads_created", "deals_won", "close_rate", "win_rate", "won_revenue",
                "avg_deal_size")


def demo_project_path() -> Path:
    """The demo project shipped with kpispec (models and metrics over the demo warehouse)."""
    from kpispec_specs import ROOT

    return Path(ROOT) / "examples" / "demo"


def run_demo(*, rows: int, out: Path, seed: int) -> None:
    from kpispec import _demo
    from kpispec.output import write_result
    from kpispec.project import load_project

    started = time.monotonic()
    total = len(_demo.TABLES)
    if sys.stderr.isatty():
        from rich.progress import Progress

        with Progress(transient=True) as progress:
            task = progress.add_task(f"Writing demo warehouse ({rows:,} deals)", total=total)
            counts = _demo.write_duckdb(out, rows, seed=seed,
                                        progress=lambda table, done, _t: progress.update(task, completed=done))
    else:
        counts = _demo.write_duckdb(out, rows, seed=seed)
    elapsed = time.monotonic() - started
    click.echo(f"Wrote {out} ({sum(counts.values()):,} rows in {len(counts)} tables, "
               f"{elapsed:.1f} s).", err=True)
    project = load_project(demo_project_path())
    source = "duckdb:///" + str(out)
    click.echo("Monthly sales metrics, computed by: kpispec run "
               f"{' '.join(DEMO_METRICS)} -p {demo_project_path()} --source {source}", err=True)
    write_result(project, DEMO_METRICS, source=source, sinks=["table"])
