"""The third-party example plugin (plugins/examples), pip-installed and driven through `kpispec`.

It is installed into a throwaway environment layered on this one
(:class:`tests.plugins.environment.PluginEnv`), never imported from the source
tree, and never installed where the rest of the suite runs: its pack's metrics
would otherwise join every other test's projects.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.plugins.environment import PluginEnv

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "plugins" / "examples"
DISTRIBUTION = "kpispec-example-plugin"

#: The CRM reference schema's deals table (specs/crm/models.yaml), as one CSV file.
DEALS_CSV = """\
deal_id,lead_id,customer_id,owner_id,region,created_at,closed_at,stage,amount,deal_type
1,1,1,10,EMEA,2024-01-03 09:00:00,,open,1000,renewal
2,2,2,11,NA,2024-01-10 09:00:00,,open,500,new
3,3,3,10,NA,2024-01-15 09:00:00,2024-02-01 10:00:00,won,700,upsell
4,4,4,11,EMEA,2024-02-05 09:00:00,,open,400,upsell
5,5,5,12,NA,2024-02-20 09:00:00,,open,300,cross_sell
"""

UNDOCUMENTED = """\
metrics:
  - name: big_open_deals
    description: Open deals over 450, by created_at.
    type: simple
    measure: {model: deals, agg: count, filter: "stage = 'open' AND amount > 450"}
  - name: renewal_pipeline
    type: weighted_pipeline
    model: deals
    weight_by: deal_type
    weights: {renewal: 1}
"""


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> PluginEnv:
    """An environment with kpispec-example-plugin pip-installed (one per xdist worker)."""
    env = PluginEnv(tmp_path_factory.mktemp("example-env"))
    env.pip_install(EXAMPLE)
    return env


@pytest.fixture(scope="module")
def csv_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("crm-csv")
    (directory / "deals.csv").write_text(DEALS_CSV, encoding="utf-8")
    return directory


def test_kpispec_plugins_lists_what_it_registered(example: PluginEnv) -> None:
    done = example.kpispec("plugins", "--json")
    assert done.returncode == 0, done.stderr
    info = {p["name"]: p for p in json.loads(done.stdout)}["example"]
    assert info == {
        "name": "example",
        "version": "1.0.0",
        "distribution": DISTRIBUTION,
        "module": "kpispec_example",
        "status": "ok",
        "error": "",
        "errors": [],
        "hooks": ["register_lint_rules", "register_metric_types", "register_sinks",
                  "register_sources", "register_spec_paths"],
        "registered": {
            "lint rule": ["metric_description"],
            "metric type": ["weighted_pipeline"],
            "sink": ["markdown"],
            "source": ["csvdir"],
            "spec path": ["example_pipeline"],
        },
    }
    table = example.kpispec("plugins")
    row = next(line for line in table.stdout.splitlines() if line.split()[:1] == ["example"])
    assert row.split()[:4] == ["example", "1.0.0", DISTRIBUTION, "ok"]
    assert ("lint rule: metric_description; metric type: weighted_pipeline; sink: markdown; "
            "source: csvdir; spec path: example_pipeline") in row
    assert "problem" not in table.stdout


def test_pack_metrics_join_an_empty_project(example: PluginEnv) -> None:
    done = example.kpispec("list", "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["name"]: r for r in json.loads(done.stdout)}
    assert {name: (rows[name]["type"], rows[name]["origin"]) for name in
            ("open_pipeline", "weighted_pipeline", "pipeline_confidence")} == {
        "open_pipeline": ("simple", "example_pipeline"),
        "weighted_pipeline": ("weighted_pipeline", "example_pipeline"),
        "pipeline_confidence": ("derived", "example_pipeline"),
    }
    assert "close_rate" in rows  # the CRM pack, whose deals model the example's pack reads
    schema = json.loads(example.kpispec("schema").stdout)
    assert schema["$defs"]["metric_weighted_pipeline"]["required"] == ["model", "name", "type",
                                                                       "weights"]


def test_run_on_the_csvdir_source_into_the_markdown_sink(example: PluginEnv, csv_dir: Path,
                                                        tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    done = example.kpispec("run", "weighted_pipeline", "open_pipeline", "pipeline_confidence",
                           "--source", f"csvdir:///{csv_dir}", "--from", "2024-01-01",
                           "--to", "2024-03-01", "--sink", str(report), "--sink", "md:-")
    assert done.returncode == 0, done.stderr
    expected = textwrap.dedent("""\
        | period | Weighted pipeline | Open pipeline | Pipeline confidence |
        | --- | ---: | ---: | ---: |
        | 2024-01-01 | 900.00 | 1,500.00 | 60.00 |
        | 2024-02-01 | 320.00 | 700.00 | 45.71 |
        """)
    assert report.read_text(encoding="utf-8") == expected
    assert done.stdout == expected


def test_compile_a_project_metric_of_the_plugin_type(example: PluginEnv, tmp_path: Path) -> None:
    (tmp_path / "kpispec.yaml").write_text("packs: [crm]\n", encoding="utf-8")  # its deals model
    (tmp_path / "metrics.yaml").write_text(UNDOCUMENTED.replace(
        "    type: weighted_pipeline", "    description: Renewals' amount.\n"
                                      "    type: weighted_pipeline"), encoding="utf-8")
    done = example.kpispec("compile", "renewal_pipeline", "-p", str(tmp_path), "--dialect",
                           "snowflake", "--grain", "quarter", "--by", "region")
    assert done.returncode == 0, done.stderr
    assert "WHEN deals.deal_type = 'renewal'" in done.stdout
    assert "deals.deal_type IN ('renewal')" in done.stdout


def test_lint_rule_fails_validation_and_can_be_blocked(example: PluginEnv, tmp_path: Path) -> None:
    (tmp_path / "kpispec.yaml").write_text("packs: [crm]\n", encoding="utf-8")  # its deals model
    (tmp_path / "metrics.yaml").write_text(UNDOCUMENTED, encoding="utf-8")
    done = example.kpispec("validate", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.endswith(
        "metrics.yaml:6:5: metrics[1]: metric 'renewal_pipeline' has no description. Add a "
        "'description:' line saying what it counts (lint rule metric_description of "
        "kpispec-example-plugin)\n1 problem found.\n")
    # Blocking the plugin takes its lint rule away -- and its metric type with it.
    blocked = example.kpispec("--no-plugin", "example", "validate", str(tmp_path))
    assert blocked.returncode == 1
    assert "metrics[1].type: 'weighted_pipeline' is not one of" in blocked.stderr
    assert "has no description" not in blocked.stderr


def test_the_example_passes_its_own_tests(example: PluginEnv) -> None:
    """Its tests (written with kpispec.testing) against the installed package, not the source."""
    where = example.run_python("-c", "import kpispec_example; print(kpispec_example.__file__)",
                               cwd=example.work)
    assert Path(where.stdout.strip()).is_relative_to(example.venv)  # installed, not the source
    tests = example.root / f"src-{EXAMPLE.name}" / "tests"
    done = example.run_python("-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests),
                              cwd=example.work, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "skipped" not in done.stdout


def test_uninstalling_it_removes_its_metrics_cleanly(tmp_path: Path) -> None:
    env = PluginEnv(tmp_path)
    env.pip_install(EXAMPLE)
    assert "weighted_pipeline" in env.kpispec("list").stdout
    env.pip_uninstall(DISTRIBUTION)
    listed = env.kpispec("list", "--json")
    assert listed.returncode == 0 and listed.stderr == ""
    names = {r["name"] for r in json.loads(listed.stdout)}
    assert "close_rate" in names
    assert not names & {"open_pipeline", "weighted_pipeline", "pipeline_confidence"}
    plugins = env.kpispec("plugins", "--json")
    assert "example" not in {p["name"] for p in json.loads(plugins.stdout)}
    assert "problem" not in env.kpispec("plugins").stdout
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "metrics.yaml").write_text(UNDOCUMENTED, encoding="utf-8")
    done = env.kpispec("validate", str(tmp_path / "project"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "metrics[1].type: 'weighted_pipeline' is not one of" in done.stderr
