"""The example plugin's own tests, written with kpispec.testing.

Run them after installing the plugin: ``python -m pip install -e ".[test]"`` then
``python -m pytest``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import kpispec
import pytest
from click.testing import CliRunner
from kpispec.cli import main
from kpispec.testing import (
    CapturingSink,
    assert_compiles_on_every_dialect,
    assert_plugin_ok,
    only_plugins,
)
from kpispec_example import markdown

DEALS = """
models:
  - name: deals
    table: deals
    primary_key: deal_id
    time: created_at
    columns: [deal_id, created_at, stage, deal_type, amount]
    dimensions: [stage, deal_type]
metrics:
  - name: weighted
    description: Open deals weighted by stage.
    type: weighted_pipeline
    model: deals
    weights: {proposal: 0.5, negotiation: 0.75}
"""

ROWS = [
    {"deal_id": 1, "created_at": "2024-01-03", "stage": "proposal", "deal_type": "new", "amount": 100.0},
    {"deal_id": 2, "created_at": "2024-01-09", "stage": "negotiation", "deal_type": "new", "amount": 200.0},
    {"deal_id": 3, "created_at": "2024-01-20", "stage": "won", "deal_type": "new", "amount": 400.0},
    {"deal_id": 4, "created_at": "2024-02-02", "stage": "proposal", "deal_type": "renewal", "amount": 80.0},
]


def test_plugin_registers_one_of_everything() -> None:
    with only_plugins("example"):
        info = assert_plugin_ok("example")
    assert info.registered == {
        "lint rule": ["metric_description"],
        "metric type": ["weighted_pipeline"],
        "sink": ["markdown"],
        "source": ["csvdir"],
        "spec path": ["example_pipeline"],
    }


def test_weighted_pipeline_runs(kpispec_project: Any, memory_source: Any) -> None:
    source = memory_source({"deals": ROWS})
    project = kpispec_project({"deals.yaml": DEALS}, packs=False)
    table = project.run(["weighted"], source=source.url, start="2024-01-01", end="2024-03-01")
    assert table.to_pylist() == [
        {"period": dt.date(2024, 1, 1), "weighted": 0.5 * 100 + 0.75 * 200},
        {"period": dt.date(2024, 2, 1), "weighted": 0.5 * 80},
    ]


def test_weighted_pipeline_compiles_on_every_dialect(kpispec_project: Any) -> None:
    project = kpispec_project({"deals.yaml": DEALS}, packs=False)
    sql = assert_compiles_on_every_dialect(project, ["weighted"], by=["deal_type"])
    assert "WHEN deals.stage = 'proposal'\n          THEN 0.5" in sql["postgres"]


def test_weights_are_validated(kpispec_project: Any) -> None:
    with pytest.raises(kpispec.SpecErrors, match=r"weights\.proposal: 1\.5 is greater than the maximum of 1"):
        kpispec_project({"deals.yaml": DEALS.replace("0.5, negotiation", "1.5, negotiation")},
                        packs=False)


def test_csvdir_source(tmp_path: Path, kpispec_project: Any) -> None:
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "deals.csv").write_text(
        "deal_id,created_at,stage,deal_type,amount\n"
        "1,2024-01-03 10:00:00,proposal,new,100\n"
        "2,2024-02-09 11:00:00,negotiation,new,200\n", encoding="utf-8")
    project = kpispec_project({"deals.yaml": DEALS}, packs=False)
    rows = project.run(["weighted"], source=f"csvdir:///{tmp_path / 'csv'}",
                       start="2024-01-01", end="2024-03-01").to_pylist()
    assert [r["weighted"] for r in rows] == [50.0, 150.0]
    with pytest.raises(kpispec.ExecutionError, match="is not a directory"):
        project.run(["weighted"], source=f"csvdir:///{tmp_path / 'missing'}")


def test_markdown_sink(kpispec_project: Any, memory_source: Any, tmp_path: Path) -> None:
    source = memory_source({"deals": ROWS})
    project = kpispec_project({"deals.yaml": DEALS}, packs=False)
    out = tmp_path / "report.md"
    result = CliRunner().invoke(main, ["run", "weighted", "-p", str(project.root), "--source",
                                       source.url, "--from", "2024-01-01", "--to", "2024-03-01",
                                       "--sink", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == (
        "| period | weighted |\n| --- | ---: |\n| 2024-01-01 | 200.00 |\n| 2024-02-01 | 40.00 |\n")
    assert markdown.cell("a|b") == "a\\|b"


def test_markdown_sink_and_capturing_sink_together(kpispec_project: Any, memory_source: Any,
                                                   capturing_sink: CapturingSink) -> None:
    source = memory_source({"deals": ROWS})
    project = kpispec_project({"deals.yaml": DEALS}, packs=False)
    result = CliRunner().invoke(main, ["run", "weighted", "-p", str(project.root), "--source",
                                       source.url, "--from", "2024-02-01", "--to", "2024-03-01",
                                       "--sink", "md:-", "--sink", capturing_sink.url])
    assert result.exit_code == 0, result.output
    assert "| 2024-02-01 | 40.00 |" in result.stdout
    assert capturing_sink.closed and capturing_sink.rows == [
        {"period": dt.date(2024, 2, 1), "weighted": 40.0}]


def test_lint_rule_wants_descriptions(kpispec_project: Any) -> None:
    undocumented = DEALS.replace("    description: Open deals weighted by stage.\n", "")
    with pytest.raises(kpispec.SpecErrors) as info:
        kpispec_project({"deals.yaml": undocumented}, packs=False)
    assert ("deals.yaml:9:5: metrics[0]: metric 'weighted' has no description. Add a "
            "'description:' line saying what it counts (lint rule metric_description of "
            "kpispec-example-plugin)") in str(info.value)


def test_docstring_examples() -> None:
    import doctest

    assert doctest.testmod(markdown).failed == 0
