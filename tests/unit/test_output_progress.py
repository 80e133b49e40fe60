"""``kpispec run`` progress: compiling, the query and rows written on a terminal; silence when piped.

Checked three ways: write_result drawing on a forced-terminal rich console, the CLI
through click's runner (standard error is not a terminal: nothing is drawn), and the
installed command on a real pseudo-terminal.
"""

from __future__ import annotations

import io
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import kpispec
import pytest
from click.testing import CliRunner
from kpispec._progress import RunProgress, wants_progress
from kpispec.cli import main
from kpispec.output import write_result
from rich.console import Console

from tests.unit import sinks_support as support


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("progress")
    project_dir = support.make_project(root / "project")
    return SimpleNamespace(project_dir=project_dir, url=support.make_database(root / "crm.duckdb"),
                           project=kpispec.load_project(project_dir, packs=False), root=root)


def test_progress_shows_each_step_on_a_terminal(workspace: SimpleNamespace, tmp_path: Path) -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120, color_system=None)
    rows = write_result(workspace.project, support.METRICS, source=workspace.url,
                        sinks=[str(tmp_path / "k.csv")], options={"by": ["region"], **support.RANGE},
                        progress=True, progress_console=console)
    shown = screen.getvalue()
    assert "compiled 3 metrics" in shown and "3/3" in shown
    assert "query ran on duckdb://" in shown
    assert "rows written" in shown and f"{rows:,}" in shown


def test_progress_is_off_when_piped(workspace: SimpleNamespace) -> None:
    assert wants_progress(None, io.StringIO()) is False
    assert wants_progress(True, io.StringIO()) is True
    result = CliRunner().invoke(main, ["run", "--all", "-p", str(workspace.project_dir),
                                       "--source", workspace.url, "--sink", "csv:-",
                                       "--from", "2024-01-01", "--to", "2024-04-01"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # nothing but the CSV
    assert result.stdout.startswith("period,deals_won,revenue,win_rate\n")


def test_disabled_progress_does_nothing() -> None:
    steps = RunProgress(False)
    steps.compiling(3)
    steps.compiled()
    steps.querying("x")
    steps.rows(10)
    steps.stop()
    steps.stop()


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_run_all_on_a_real_terminal_draws_progress_on_stderr_only(workspace: SimpleNamespace) -> None:
    import pty

    kpispec_command = shutil.which("kpispec")
    if kpispec_command is None:
        pytest.skip("the kpispec command is not installed")
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    process = subprocess.Popen(
        [kpispec_command, "run", "--all", "-p", str(workspace.project_dir), "--source",
         workspace.url, "--from", "2024-01-01", "--to", "2024-04-01", "--sink", "csv:-"],
        stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL, env=env)
    os.close(follower)
    drawn = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the command ended and closed the terminal
                break
            if not chunk:
                break
            drawn += chunk
        elif process.poll() is not None:
            break
    out, _ = process.communicate(timeout=60)
    os.close(leader)
    assert process.returncode == 0, drawn.decode(errors="replace")
    text = drawn.decode(errors="replace")
    assert "metrics" in text and "rows written" in text, text
    assert out.decode().startswith("period,deals_won,revenue,win_rate\n")  # stdout stays clean
    assert "\x1b" not in out.decode()
