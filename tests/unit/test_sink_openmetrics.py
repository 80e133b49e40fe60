"""The OpenMetrics sink: the latest period, parsed back with prometheus_client's strict parser."""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kpispec
import pyarrow as pa
import pytest
from kpispec.extensions import SinkContext
from kpispec.output import write_result
from kpispec_builtins import openmetrics_sink

from tests.unit import sinks_support as support

parser = pytest.importorskip("prometheus_client.openmetrics.parser")


def parse(text: str) -> dict[str, Any]:
    return {family.name: family for family in parser.text_string_to_metric_families(text)}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("om")
    project = kpispec.load_project(support.make_project(root / "project"), packs=False)
    return SimpleNamespace(project=project, url=support.make_database(root / "crm.duckdb"), root=root)


def test_latest_period_read_back_equals_the_result(workspace: SimpleNamespace,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    options = {"by": ["region"], **support.RANGE, "compare": "previous_period"}
    write_result(workspace.project, support.METRICS, source=workspace.url, sinks=["openmetrics:-"],
                 options=options)
    text = capsys.readouterr().out
    assert text.endswith("# EOF\n")
    families = parse(text)
    result = workspace.project.run(support.METRICS, source=workspace.url, **options).to_pylist()
    latest = max(r["period"] for r in result)
    rows = [r for r in result if r["period"] == latest]
    for column in [c for c in result[0] if c not in ("period", "region")]:
        expected = {(r["region"] or ""): r[column] for r in rows if r[column] is not None
                    and math.isfinite(r[column])}
        family = families.get(f"kpispec_{column}")
        if not expected:
            assert family is None, column  # NULLs are left out
            continue
        assert family.type == "gauge"
        got = {s.labels["region"]: s.value for s in family.samples}
        assert got.keys() == expected.keys(), column
        for key, value in expected.items():
            assert math.isclose(got[key], value, rel_tol=1e-12), (column, key)
    assert families["kpispec_revenue"].documentation == "Amount of the deals won in the period."
    start = families["kpispec_period_start_seconds"]
    assert start.unit == "seconds"
    assert start.samples[0].value == dt.datetime(latest.year, latest.month, latest.day,
                                                 tzinfo=dt.timezone.utc).timestamp()
    # the period before the latest is not there
    assert sum(len(f.samples) for n, f in families.items() if n != start.name) == sum(
        1 for r in rows for c in r if c not in ("period", "region") and r[c] is not None
        and math.isfinite(r[c]))


def test_prom_file_is_written_atomically(workspace: SimpleNamespace) -> None:
    target = workspace.root / "kpis.prom"
    target.write_text("old\n")
    write_result(workspace.project, ["deals_won"], source=workspace.url, sinks=[str(target)],
                 options=support.RANGE)
    families = parse(target.read_text())
    assert families["kpispec_deals_won"].samples[0].value == 4
    assert not [p for p in workspace.root.iterdir() if p.name.endswith(".tmp")]


def test_names_labels_and_text_are_escaped() -> None:
    metric = SimpleNamespace(name="deals_total", labels={"en": "All"}, format=None,
                             description='Say "hi"\\ now\nplease')
    table = pa.table({"period": pa.array([dt.date(2024, 1, 1), dt.date(2024, 2, 1)] * 2),
                      "__odd name": ['a"b\\c\nd', None, "x", "y"],
                      "deals_total": [1, 2, float("nan"), None]})
    out = io.StringIO()
    writer = openmetrics_sink.open_openmetrics("openmetrics:-", table.schema,
                                               SinkContext(metrics=(metric,),
                                                           dimensions=("__odd name",), stdout=out))
    for batch in table.to_batches(max_chunksize=1):
        writer.write(batch)
    writer.close()
    families = parse(out.getvalue())
    family = families["kpispec_deals_total_value"]
    assert family.documentation == 'Say "hi"\\ now please'
    assert [(s.labels, s.value) for s in family.samples] == [({"dim__odd_name": ""}, 2.0)]


def test_empty_result_is_just_eof(tmp_path: Path) -> None:
    out = io.StringIO()
    writer = openmetrics_sink.open_openmetrics("-", pa.schema([("period", pa.date32()),
                                                               ("x", pa.float64())]),
                                               SinkContext(stdout=out))
    writer.close()
    assert out.getvalue() == "# EOF\n"
    assert parse(out.getvalue()) == {}
