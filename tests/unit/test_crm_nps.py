"""The CRM plugin: the ``nps`` metric type (kpispec_crm.nps) and the ``crm`` catalog pack.

Results are checked on a small DuckDB table against NPS computed here in Python.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pytest
from sqlglot import exp

import kpispec
from kpispec import plugins

try:
    import kpispec_crm
    from kpispec_crm import nps as crm_nps
except ImportError:  # the package mapping is not installed (yet): import it from the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))
    import kpispec_crm
    from kpispec_crm import nps as crm_nps

# -- data and expectations ----------------------------------------------------------------

#: (responded_at, score) — January: the catalog's example; February: passives and a NULL
#: score (not a response); March: nothing (NPS NULL); April: one detractor.
ANSWERS: list[tuple[str, int | None]] = [
    *[(f"2024-01-{day:02d} 10:00:00", s) for day, s in enumerate([10, 9, 8, 7, 6, 0, 10], start=1)],
    ("2024-02-01 00:00:00", 7), ("2024-02-14 12:00:00", 8), ("2024-02-29 23:59:59", None),
    ("2024-04-30 23:59:59", 0),
]
#: The same days on a 1-5 survey.
ANSWERS_1_5: list[tuple[str, int | None]] = [
    *[(f"2024-01-{day:02d} 10:00:00", s) for day, s in enumerate([5, 4, 3, 2, 1, 5], start=1)],
    ("2024-02-01 00:00:00", 3), ("2024-02-02 00:00:00", None),
    ("2024-04-01 00:00:00", 1), ("2024-04-02 00:00:00", 2), ("2024-04-03 00:00:00", 4),
]


def expected_nps(scores: Sequence[int | None], promoters: tuple[float, float],
                 detractors: tuple[float, float]) -> float | None:
    answered = [s for s in scores if s is not None]
    if not answered:
        return None
    p = sum(promoters[0] <= s <= promoters[1] for s in answered)
    d = sum(detractors[0] <= s <= detractors[1] for s in answered)
    return 100 * (p - d) / len(answered)


def expected_by_month(answers: Sequence[tuple[str, int | None]], promoters: tuple[float, float],
                      detractors: tuple[float, float]) -> list[tuple[str, float | None]]:
    months: dict[str, list[int | None]] = {}
    for when, score in answers:
        months.setdefault(when[:7] + "-01", []).append(score)
    first, last = min(months), max(months)
    out = []
    year, month = int(first[:4]), int(first[5:7])
    while (period := f"{year:04d}-{month:02d}-01") <= last:
        out.append((period, expected_nps(months.get(period, []), promoters, detractors)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def test_expectations_match_the_catalog_example() -> None:
    assert expected_nps([10, 9, 8, 7, 6, 0, 10], (9, 10), (0, 6)) == 100 * (3 - 2) / 7
    assert expected_nps([None], (9, 10), (0, 6)) is None


# -- fixtures -------------------------------------------------------------------------------

def _register(module: ModuleType, name: str) -> bool:
    """Register ``module`` in-process unless its entry point already loaded it."""
    pm = plugins.get_plugin_manager()
    if pm.get_plugin(name) is not None or pm.is_registered(module):
        return False
    plugins.register_plugin(module, name)
    return True


@pytest.fixture
def nps_plugin(fresh_plugins: None) -> Iterator[ModuleType]:
    registered = _register(crm_nps, "crm_nps")
    try:
        yield crm_nps
    finally:
        if registered:
            plugins.unregister_plugin("crm_nps")


@pytest.fixture
def crm_pack(nps_plugin: ModuleType) -> Iterator[ModuleType]:
    registered = _register(kpispec_crm, "crm")
    try:
        yield kpispec_crm
    finally:
        if registered:
            plugins.unregister_plugin("crm")


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    path = tmp_path / "nps.duckdb"
    con = duckdb.connect(str(path))
    for table, answers in (("nps_responses", ANSWERS), ("survey_1_5", ANSWERS_1_5)):
        con.execute(f"CREATE TABLE {table} (response_id INTEGER, responded_at TIMESTAMP, "
                    "logged_at TIMESTAMP, score INTEGER)")
        con.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)",
                        [(i, when, "2030-01-01 00:00:00", score)
                         for i, (when, score) in enumerate(answers, start=1)])
    con.close()
    return f"duckdb:///{path}"


MODELS = """
models:
  - name: nps_responses
    table: nps_responses
    primary_key: response_id
    time: logged_at
    columns: [response_id, responded_at, logged_at, score]
  - name: survey_1_5
    table: survey_1_5
    primary_key: response_id
    time: responded_at
    columns: [response_id, responded_at, logged_at, score]
"""


def _project(make_project: Callable[..., Path], metrics: str) -> kpispec.Project:
    root = make_project({"models.yaml": MODELS, "metrics.yaml": "metrics:\n" + metrics})
    return kpispec.load_project(root, packs=False)


def _run(project: kpispec.Project, metric: str, source: str) -> list[tuple[str, Any]]:
    rows = project.run([metric], source=source, grain="month").to_pylist()
    return [(r["period"].isoformat(), r[metric]) for r in rows]


def _assert_rows(got: list[tuple[str, Any]], want: list[tuple[str, float | None]]) -> None:
    assert [p for p, _ in got] == [p for p, _ in want]
    for (period, value), (_, expected) in zip(got, want):
        if expected is None:
            assert value is None, period
        else:
            assert value == pytest.approx(expected, abs=1e-12), period


# -- results -------------------------------------------------------------------------------

def test_nps_0_10_defaults(nps_plugin: ModuleType, make_project: Callable[..., Path],
                           warehouse: str) -> None:
    project = _project(make_project, """
  - name: nps
    type: nps
    model: nps_responses
    score: score
    time: responded_at
    scale: 0-10
""")
    got = _run(project, "nps", warehouse)
    _assert_rows(got, expected_by_month(ANSWERS, (9, 10), (0, 6)))
    assert got[0] == ("2024-01-01", pytest.approx(100 * (3 - 2) / 7))
    assert got[1] == ("2024-02-01", 0.0)          # two passives; the NULL score is no response
    assert got[2] == ("2024-03-01", None)         # no responses: NULL, not an error
    assert got[3] == ("2024-04-01", -100.0)


def test_nps_1_5_defaults(nps_plugin: ModuleType, make_project: Callable[..., Path],
                          warehouse: str) -> None:
    project = _project(make_project, """
  - name: nps_short
    type: nps
    model: survey_1_5
    score: score
    scale: 1-5
""")
    got = _run(project, "nps_short", warehouse)
    _assert_rows(got, expected_by_month(ANSWERS_1_5, (4, 5), (1, 2)))
    assert got[0] == ("2024-01-01", pytest.approx(100 * (3 - 2) / 6))


def test_time_defaults_to_the_models_time(nps_plugin: ModuleType, make_project: Callable[..., Path],
                                          warehouse: str) -> None:
    project = _project(make_project, """
  - name: nps_logged
    type: nps
    model: nps_responses
    score: score
    scale: 0-10
""")
    # nps_responses' own time column is logged_at: every answer falls in January 2030.
    everything = [s for _, s in ANSWERS]
    assert _run(project, "nps_logged", warehouse) == [
        ("2030-01-01", pytest.approx(expected_nps(everything, (9, 10), (0, 6))))]


@pytest.mark.parametrize(("ranges", "promoters", "detractors"), [
    ("promoters: {min: 8, max: 10}\n    detractors: {min: 0, max: 5}", (8, 10), (0, 5)),
    ("promoters: {min: 7}", (7, 10), (0, 6)),                    # max from the default range
    ("detractors: {max: 4}", (9, 10), (0, 4)),                   # min from the default range
    ("promoters: {min: 10, max: 10}\n    detractors: {min: 0, max: 0}", (10, 10), (0, 0)),
])
def test_custom_thresholds_0_10(nps_plugin: ModuleType, make_project: Callable[..., Path],
                                warehouse: str, ranges: str, promoters: tuple[int, int],
                                detractors: tuple[int, int]) -> None:
    project = _project(make_project, f"""
  - name: nps_custom
    type: nps
    model: nps_responses
    score: score
    time: responded_at
    scale: 0-10
    {ranges}
""")
    _assert_rows(_run(project, "nps_custom", warehouse),
                 expected_by_month(ANSWERS, promoters, detractors))


def test_custom_thresholds_1_5(nps_plugin: ModuleType, make_project: Callable[..., Path],
                               warehouse: str) -> None:
    project = _project(make_project, """
  - name: nps_strict
    type: nps
    model: survey_1_5
    score: score
    scale: 1-5
    promoters: {min: 5, max: 5}
    detractors: {min: 1, max: 3}
""")
    got = _run(project, "nps_strict", warehouse)
    _assert_rows(got, expected_by_month(ANSWERS_1_5, (5, 5), (1, 3)))
    assert got[0] == ("2024-01-01", pytest.approx(100 * (2 - 3) / 6))


def test_metric_filter_reaches_every_measure(nps_plugin: ModuleType, make_project: Callable[..., Path],
                                             warehouse: str) -> None:
    project = _project(make_project, """
  - name: nps_first_week
    type: nps
    model: nps_responses
    score: score
    time: responded_at
    scale: 0-10
    filter: "response_id <= 4"
""")
    got = _run(project, "nps_first_week", warehouse)
    assert got[0] == ("2024-01-01", pytest.approx(expected_nps([10, 9, 8, 7], (9, 10), (0, 6))))


# -- lowering --------------------------------------------------------------------------------

def _ctx() -> kpispec.LowerContext:
    return kpispec.LowerContext(dialect="duckdb", metric="nps",
                                parse=lambda text: exp.column("unused"))


def test_lowering_builds_sqlglot_trees() -> None:
    lowered = crm_nps.lower_nps({"name": "nps", "type": "nps", "model": "nps_responses",
                                 "score": "score", "time": "responded_at", "scale": "0-10"}, _ctx())
    assert set(lowered.measures) == {"promoters", "detractors", "responses"}
    for role, measure in lowered.measures.items():
        assert measure["model"] == "nps_responses" and measure["agg"] == "count", role
        assert measure["time"] == "responded_at", role
        assert isinstance(measure["filter"], exp.Expr), role
    promoters, detractors = lowered.measures["promoters"], lowered.measures["detractors"]
    assert isinstance(promoters["filter"], exp.Between)
    assert promoters["filter"].sql("duckdb") == "score BETWEEN 9 AND 10"
    assert detractors["filter"].sql("duckdb") == "score BETWEEN 0 AND 6"
    assert lowered.measures["responses"]["filter"].sql("duckdb") == "NOT score IS NULL"
    assert lowered.expr.sql("duckdb") == "100 * (promoters - detractors) / responses"


def test_lowering_without_time_leaves_it_to_the_model() -> None:
    lowered = crm_nps.lower_nps({"model": "m", "score": "s", "scale": "1-5"}, _ctx())
    assert all("time" not in m for m in lowered.measures.values())
    assert lowered.measures["promoters"]["filter"].sql("duckdb") == "s BETWEEN 4 AND 5"
    assert lowered.measures["detractors"]["filter"].sql("duckdb") == "s BETWEEN 1 AND 2"


def test_compiles_for_other_dialects(nps_plugin: ModuleType, make_project: Callable[..., Path]) -> None:
    project = _project(make_project, """
  - name: nps
    type: nps
    model: nps_responses
    score: score
    time: responded_at
    scale: 0-10
""")
    for dialect in ("snowflake", "bigquery", "postgres", "tsql"):
        sql = project.compile(["nps"], dialect=dialect).sql
        assert "score BETWEEN 9 AND 10" in sql and "score BETWEEN 0 AND 6" in sql, dialect


# -- invalid thresholds ------------------------------------------------------------------------

INVALID = [
    ("0-10", "promoters: {min: 9, max: 11}",
     "promoters: max 11 is outside the 0-10 scale (scores 0 to 10)"),
    ("0-10", "detractors: {min: -1, max: 6}",
     "detractors: min -1 is outside the 0-10 scale (scores 0 to 10)"),
    ("1-5", "detractors: {min: 0, max: 2}",
     "detractors: min 0 is outside the 1-5 scale (scores 1 to 5)"),
    ("1-5", "promoters: {min: 9}",
     "promoters: min 9 is outside the 1-5 scale (scores 1 to 5)"),
    ("0-10", "promoters: {min: 10, max: 9}",
     "promoters: min 10 is greater than max 9"),
    ("1-5", "detractors: {min: 2, max: 1}",
     "detractors: min 2 is greater than max 1"),
    ("0-10", "promoters: {max: 5}",                       # min 9 (default) > max 5
     "promoters: min 9 is greater than max 5"),
    ("0-10", "promoters: {min: 6}",
     "promoters (6 to 10) and detractors (0 to 6, the default) overlap: "
     "a score of 6 would count as both"),
    ("0-10", "detractors: {min: 0, max: 9.5}",
     "promoters (9 to 10, the default) and detractors (0 to 9.5) overlap: "
     "scores 9 to 9.5 would count as both"),
    ("1-5", "promoters: {min: 3, max: 5}\n    detractors: {min: 1, max: 4}",
     "promoters (3 to 5) and detractors (1 to 4) overlap: scores 3 to 4 would count as both"),
]


@pytest.mark.parametrize(("scale", "ranges", "message"), INVALID)
def test_invalid_thresholds_are_spec_errors(nps_plugin: ModuleType, make_project: Callable[..., Path],
                                            scale: str, ranges: str, message: str) -> None:
    with pytest.raises(kpispec.SpecErrors) as info:
        _project(make_project, f"""
  - name: nps_bad
    type: nps
    model: nps_responses
    score: score
    scale: {scale}
    {ranges}
""")
    [error] = info.value.errors
    assert error.message == message
    # core adds where: the metric's file, line and column
    assert error.location is not None
    assert (Path(error.location.file).name, error.location.line, error.location.column) == ("metrics.yaml", 3, 5)
    assert str(error).endswith(f"metrics.yaml:3:5: metrics[0]: {message}")


@pytest.mark.parametrize(("scale", "ranges", "message"), INVALID)
def test_thresholds_raise_the_same_messages_directly(scale: str, ranges: str, message: str) -> None:
    import yaml

    spec = {"scale": scale, **yaml.safe_load(ranges.replace("\n    ", "\n"))}
    with pytest.raises(kpispec.SpecError) as info:
        crm_nps.thresholds(spec)
    assert info.value.message == message


def test_thresholds_reject_non_numbers_and_unknown_scales() -> None:
    with pytest.raises(kpispec.SpecError) as info:
        crm_nps.thresholds({"scale": "0-10", "promoters": {"min": True}})
    assert info.value.message == "promoters: min must be a number, got True"
    with pytest.raises(kpispec.SpecError) as info:
        crm_nps.thresholds({"scale": "0-100"})
    assert info.value.message == "scale: '0-100' is not one of 0-10, 1-5"


def test_valid_thresholds() -> None:
    assert crm_nps.thresholds({"scale": "0-10"}) == {"promoters": (9, 10), "detractors": (0, 6)}
    assert crm_nps.thresholds({"scale": "1-5"}) == {"promoters": (4, 5), "detractors": (1, 2)}
    assert crm_nps.thresholds({"scale": "0-10", "promoters": {"min": 7}, "detractors": {"max": 6.5}}) == {
        "promoters": (7, 10), "detractors": (0, 6.5)}


@pytest.mark.parametrize(("fields", "fragment"), [
    ("scale: 0-100", "'0-100' is not one of 0-10, 1-5"),
    ("scale: 0-10\n    promoters: {min: nine}", "expected a number, got 'nine'"),
    ("scale: 0-10\n    promoters: {low: 9}", "unknown field 'low'"),
    ("scale: 0-10\n    promoters: {}", "metrics[0].promoters: "),
    ("score_column: score", "missing required field 'scale'"),
])
def test_schema_refuses_malformed_fields(nps_plugin: ModuleType, make_project: Callable[..., Path],
                                         fields: str, fragment: str) -> None:
    with pytest.raises(kpispec.SpecErrors) as info:
        _project(make_project, f"""
  - name: nps_bad
    type: nps
    model: nps_responses
    score: score
    {fields}
""")
    assert fragment in str(info.value)


# -- schema and registration -----------------------------------------------------------------

def test_published_schema_has_metric_nps(nps_plugin: ModuleType) -> None:
    schema = kpispec.published_schema()
    definition = schema["$defs"]["metric_nps"]
    assert "nps" in schema["$defs"]["metric"]["properties"]["type"]["enum"]
    assert {"model", "score", "time", "scale", "promoters", "detractors"} <= set(definition["properties"])
    assert {"name", "type", "model", "score", "scale"} <= set(definition["required"])
    assert "time" not in definition["required"]
    assert definition["properties"]["scale"]["enum"] == ["0-10", "1-5"]
    for role in ("promoters", "detractors"):
        prop = definition["properties"][role]
        assert set(prop["properties"]) == {"min", "max"}
        assert prop["additionalProperties"] is False
    for name, prop in definition["properties"].items():
        assert prop.get("description") or name in ("type",), name
    assert "Net Promoter Score" in definition["description"]


def test_registered_by_the_crm_nps_plugin(nps_plugin: ModuleType) -> None:
    registry = plugins.get_registry()
    assert registry.metric_types["nps"].plugin == "crm_nps"
    assert registry.metric_type("nps") is crm_nps.NPS


def test_crm_pack_brings_the_catalog(crm_pack: ModuleType, tmp_path: Path) -> None:
    registry = plugins.get_registry()
    [(path, pack, plugin)] = [s for s in registry.spec_paths if s[1] == "crm"]
    assert (pack, plugin) == ("crm", "crm")
    assert Path(path).name == "crm" and (Path(path) / "models.yaml").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    project = kpispec.load_project(empty)
    assert project.warnings == ()
    assert project.metrics["nps"].type == "nps"
    assert project.metrics["nps"].origin == "crm"
    assert len(project.models) == 15
    catalog = [m for m in project.metrics.values()
               if not m.meta.get("helper") and not m.meta.get("extra")]
    assert len(catalog) == 36
    assert project.metrics["customer_retention_cohorts"].type == "cohort_retention"
    assert project.metrics["visitor_to_won_deal_funnel"].type == "funnel"
    for metric in project.metrics.values():
        assert set(metric.labels) == {"en", "ro", "pl", "it", "zh", "ru"}, metric.name
        assert metric.description and metric.format, metric.name


def test_crm_pack_can_be_switched_off(crm_pack: ModuleType, tmp_path: Path) -> None:
    root = tmp_path / "no_pack"
    root.mkdir()
    (root / "kpispec.yaml").write_text("packs: {crm: false}\n", encoding="utf-8")
    assert "nps" not in kpispec.load_project(root).metrics


def test_nps_on_the_demo_warehouse_matches_python(crm_pack: ModuleType, tmp_path: Path) -> None:
    from kpispec._demo import write_duckdb

    path = tmp_path / "demo.duckdb"
    write_duckdb(str(path), rows=300)
    con = duckdb.connect(str(path), read_only=True)
    answers = con.execute("SELECT responded_at, score FROM nps_responses").fetchall()
    con.close()
    by_month: dict[dt.date, list[int]] = {}
    for when, score in answers:
        by_month.setdefault(when.date().replace(day=1), []).append(score)
    empty = tmp_path / "empty"
    empty.mkdir()
    rows = kpispec.load_project(empty).run(["nps"], source=f"duckdb:///{path}").to_pylist()
    assert rows
    for row in rows:
        want = expected_nps(by_month.get(row["period"], []), (9, 10), (0, 6))
        assert row["nps"] == (None if want is None else pytest.approx(want)), row["period"]
