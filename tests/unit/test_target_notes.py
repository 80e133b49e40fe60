"""--targets notes only where they tell the user something: one note for the metrics without
targets, and the per-period note only when some metric has targets (issue 14)."""

from __future__ import annotations

import re
from pathlib import Path

import kpispec
import pytest
from click.testing import CliRunner
from kpispec.cli import main
from kpispec.output import write_result

from tests.unit import sinks_support as support

NONE_HAVE = ("--targets: none of these 2 metrics has targets, so there are no __target columns "
             "(a metric's targets: in its spec gives them)")
PER_PERIOD = ("targets are per period, not per dimension value: every row of a period gets the "
              "same __target")


@pytest.fixture
def project(tmp_path: Path) -> kpispec.Project:
    return kpispec.load_project(support.make_project(tmp_path / "project"), packs=False)


def test_no_metric_with_targets_is_one_note_and_no_per_period_note(
        project: kpispec.Project) -> None:
    compiled = project.compile(["deals_won", "win_rate"], by=["region"], targets=True,
                               **support.RANGE)
    assert compiled.notes == (NONE_HAVE,)


def test_some_metrics_with_targets(project: kpispec.Project) -> None:
    compiled = project.compile(["deals_won", "revenue", "win_rate"], by=["region"],
                               targets=True, **support.RANGE)
    assert compiled.notes == (PER_PERIOD,
                              "deals_won, win_rate have no targets: no __target column for them")
    alone = project.compile(["deals_won", "revenue"], targets=True, **support.RANGE)
    assert alone.notes == ("deals_won has no targets: no deals_won__target column",)
    assert project.compile(["revenue"], by=["region"], targets=True,
                           **support.RANGE).notes == (PER_PERIOD,)


def test_cli_and_report_carry_the_one_note(project: kpispec.Project, tmp_path: Path) -> None:
    url = support.make_database(tmp_path / "crm.duckdb")
    result = CliRunner().invoke(main, ["run", "deals_won", "win_rate", "-p", str(project.root),
                                       "--source", url, "--by", "region", "--targets",
                                       "--from", "2024-01-01", "--to", "2024-04-01"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [f"note: {NONE_HAVE}"]
    report = tmp_path / "report.html"
    write_result(project, ["deals_won", "win_rate"], source=url, sinks=[str(report)],
                 options={"by": ["region"], "targets": True, **support.RANGE})
    header = report.read_text(encoding="utf-8").split("</header>")[0]
    notes = re.findall(r"<li>(.*?)</li>", header.split('<ul class="notes">')[1])
    assert notes == [NONE_HAVE.replace("'", "&#39;")]
