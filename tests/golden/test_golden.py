"""Golden SQL: every case compiled for every dialect, compared with the reviewed file.

A case is a directory ``tests/golden/<case>/`` with

* ``metric.yaml`` — models (with ``columns:``) and metrics;
* ``query.yaml`` — ``metrics``, and optionally ``by``, ``grain``, ``from``, ``to``, ``where``,
  and the calendar and comparison options of :meth:`kpispec.Project.query`: ``week_start``,
  ``fiscal_year_start_month``, ``fiscal_year_label``, ``timezone``, ``compare``,
  ``baseline`` (``START:END`` or a two-item list), ``targets``, ``partial``, ``as_of``;
* ``expected/<dialect>.sql`` — the pretty-printed SQL for each dialect in
  :data:`kpispec.compile.dialects.DIALECTS`.

``pytest --update-golden`` rewrites the expected files from the compiler's
current output; reviewers read the diff. Every expected file must also parse
back with sqlglot in its dialect and be a fixed point of parse → render →
parse, and the duckdb and sqlite files must run on empty tables.
"""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
from pathlib import Path
from typing import Any

import kpispec
import pytest
import sqlglot
import yaml
from kpispec.compile import BuiltQuery, build_query
from kpispec.compile.dialects import DIALECTS, sqlglot_dialect
from sqlglot import exp

HERE = Path(__file__).parent
CASES = sorted(p.name for p in HERE.iterdir() if (p / "query.yaml").is_file())
QUERY_KEYS = {"metrics", "by", "grain", "from", "to", "where", "compare", "baseline", "targets",
              "week_start", "fiscal_year_start_month", "fiscal_year_label", "timezone", "partial",
              "as_of"}
#: query.yaml keys passed to ``Project.compile`` under the same name when present.
_PASSED_AS_IS = ("compare", "targets", "week_start", "fiscal_year_start_month",
                 "fiscal_year_label", "timezone", "partial", "as_of")
UPDATE_HINT = "run `pytest --update-golden` to write it, then review the new file"


# -- helpers -------------------------------------------------------------------------


def load_query(case: str) -> dict[str, Any]:
    """The case's query.yaml as keyword arguments of ``Project.compile``."""
    query = yaml.safe_load((HERE / case / "query.yaml").read_text(encoding="utf-8"))
    unknown = set(query) - QUERY_KEYS
    assert not unknown, f"{case}/query.yaml: unknown keys {sorted(unknown)}"
    options: dict[str, Any] = {
        "metrics": list(query["metrics"]),
        "by": list(query.get("by") or ()),
        "grain": query.get("grain"),
        "start": query.get("from"),
        "end": query.get("to"),
        "where": query.get("where"),
    }
    options.update({key: query[key] for key in _PASSED_AS_IS if key in query})
    baseline = query.get("baseline")
    if isinstance(baseline, list):  # [START, END]; a string is passed on as START:END
        assert len(baseline) == 2, f"{case}/query.yaml: baseline is not [START, END]"
        baseline = tuple(baseline)
    if baseline is not None:
        options["baseline"] = baseline
    return options


def load_case(case: str) -> kpispec.Project:
    # query.yaml sits next to metric.yaml, so load the one spec file, not the directory.
    return kpispec.load_project(HERE / case / "metric.yaml", packs=False)


@functools.cache
def built_case(case: str) -> BuiltQuery:
    """The case's query built once; each dialect renders the same tree."""
    query = load_query(case)
    project = load_case(case)
    return build_query(project.models, project.metrics, project.query(query.pop("metrics"), **query))


def compile_case(case: str, dialect: str) -> str:
    return built_case(case).render(dialect).sql


def expected_path(case: str, dialect: str) -> Path:
    return HERE / case / "expected" / f"{dialect}.sql"


def check_golden(actual: str, path: Path, update: bool) -> None:
    """Compare ``actual`` with the golden file at ``path``, or rewrite it when ``update``."""
    text = actual.rstrip("\n") + "\n"
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"golden file {path} is missing: {UPDATE_HINT}", pytrace=False)
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (
        f"compiled SQL differs from {path}; if the change is intended, "
        "run `pytest --update-golden` and review the diff")


def read_expected(case: str, dialect: str) -> str:
    path = expected_path(case, dialect)
    if not path.exists():
        pytest.fail(f"golden file {path} is missing: {UPDATE_HINT}", pytrace=False)
    return path.read_text(encoding="utf-8")


# -- compiled SQL == expected file ---------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", CASES)
def test_compiled_sql_matches_golden_file(case: str, dialect: str, update_golden: bool) -> None:
    check_golden(compile_case(case, dialect), expected_path(case, dialect), update_golden)


@pytest.mark.parametrize("case", CASES)
def test_one_dialect_compile_renders_what_the_shared_tree_renders(case: str) -> None:
    """``Project.compile`` (built for one dialect) gives what the tree built once gives."""
    query = load_query(case)
    compiled = load_case(case).compile(query.pop("metrics"), dialect="sqlite", **query)
    assert compiled.sql == compile_case(case, "sqlite")


# -- expected file parses back and is a fixed point ----------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", CASES)
def test_golden_sql_round_trips(case: str, dialect: str, update_golden: bool) -> None:
    if update_golden:
        # Make sure the file this run writes is the one checked, whatever the order.
        check_golden(compile_case(case, dialect), expected_path(case, dialect), True)
    text = read_expected(case, dialect)
    engine = sqlglot_dialect(dialect)  # kpispec's datafusion is rendered as postgres
    tree = sqlglot.parse_one(text, read=engine)
    assert isinstance(tree, exp.Query), f"{case}/{dialect}: not a query: {type(tree).__name__}"
    rendered = tree.sql(dialect=engine, pretty=True)
    again = sqlglot.parse_one(rendered, read=engine)
    # The pretty printer is not always idempotent on whitespace: compare trees, not text.
    assert again == tree, f"{case}/{dialect}: parse(render(parse(text))) != parse(text)"
    assert repr(again) == repr(tree), f"{case}/{dialect}: trees differ in detail"


# -- missing expected file -------------------------------------------------------------


def test_missing_golden_file_says_how_to_create_it(tmp_path: Path) -> None:
    missing = tmp_path / "expected" / "duckdb.sql"
    with pytest.raises(pytest.fail.Exception, match=r"pytest --update-golden"):
        check_golden("SELECT 1", missing, update=False)
    assert not missing.exists()


def test_update_golden_writes_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "expected" / "duckdb.sql"
    check_golden("SELECT 1", missing, update=True)
    assert missing.read_text(encoding="utf-8") == "SELECT 1\n"
    check_golden("SELECT 1", missing, update=False)


def test_every_case_has_every_dialect() -> None:
    assert CASES, "no golden cases found"
    for case in CASES:
        present = {p.stem for p in (HERE / case / "expected").glob("*.sql")}
        stale = present - set(DIALECTS)
        assert not stale, f"{case}/expected has files for unknown dialects: {sorted(stale)}"


# -- the duckdb and sqlite SQL runs on empty tables ------------------------------------

_TYPES = {
    "integer": "INTEGER",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "float": "DOUBLE",
    "decimal": "DECIMAL(18, 2)",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "boolean": "BOOLEAN",
    "varchar": "VARCHAR",
    "text": "VARCHAR",
}


def declared_tables(case: str) -> dict[exp.Table, list[tuple[str, str]]]:
    """Table → [(column, SQL type)] from metric.yaml's ``columns:`` (plain names are text)."""
    spec = yaml.safe_load((HERE / case / "metric.yaml").read_text(encoding="utf-8"))
    project = load_case(case)
    tables: dict[exp.Table, list[tuple[str, str]]] = {}
    for model in spec["models"]:
        relation = project.models[model["name"]].relation
        assert isinstance(relation, exp.Table), f"{case}: model {model['name']} is not a table"
        columns = []
        for column in model["columns"]:
            if isinstance(column, str):
                columns.append((column, "VARCHAR"))
            else:
                columns.append((column["name"], _TYPES[column.get("type", "varchar").lower()]))
        tables[relation] = columns
    return tables


def create_tables(case: str, dialect: str, execute: Any) -> None:
    for table, columns in declared_tables(case).items():
        create = exp.Create(
            kind="TABLE",
            this=exp.Schema(
                this=table.copy(),
                expressions=[
                    exp.ColumnDef(this=exp.to_identifier(name, quoted=True),
                                  kind=exp.DataType.build(kind, dialect=dialect))
                    for name, kind in columns
                ],
            ),
        )
        for ident in create.find_all(exp.Identifier):
            ident.set("quoted", True)
        execute(create.sql(dialect=dialect))


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = {"month": 1, "quarter": 3, "year": 12, "fiscal_quarter": 3, "fiscal_year": 12}


def _first_of(day: dt.date, grain: str, week_start: int, fiscal_month: int) -> dt.date:
    """The first day of the period holding ``day`` (written apart from kpispec's Calendar)."""
    if grain == "day":
        return day
    if grain == "week":
        return day - dt.timedelta(days=(day.weekday() - week_start) % 7)
    months = _MONTHS[grain]
    anchor = (fiscal_month - 1) % months if grain.startswith("fiscal_") else 0
    index = day.year * 12 + day.month - 1
    first = (index - anchor) // months * months + anchor
    return dt.date(first // 12, first % 12 + 1, 1)


def _next(day: dt.date, grain: str) -> dt.date:
    if grain in ("day", "week"):
        return day + dt.timedelta(days=1 if grain == "day" else 7)
    index = day.year * 12 + day.month - 1 + _MONTHS[grain]
    return dt.date(index // 12, index % 12 + 1, 1)


def _calendar(case: str) -> tuple[str, int, int, str]:
    """(grain, week start as a weekday number, fiscal start month, fiscal label) of a case."""
    query = load_query(case)
    return (query["grain"] or "month", _WEEKDAYS.index(query.get("week_start", "monday")),
            int(query.get("fiscal_year_start_month", 1)), query.get("fiscal_year_label", "end"))


def expected_periods(case: str) -> list[dt.date] | None:
    """The period starts a bounded query returns; None when unbounded.

    Written independently of the compiler, so a wrong spine shows up here.
    """
    query = load_query(case)
    start, end = query["start"], query["end"]
    grain, week_start, fiscal_month, _ = _calendar(case)
    if start is None or end is None:
        return None
    assert isinstance(start, dt.date) and isinstance(end, dt.date), (
        f"{case}: give golden cases literal dates, so their output does not depend on today")
    day = _first_of(start, grain, week_start, fiscal_month)
    if query.get("partial") == "drop":
        if day != start:
            day = _next(day, grain)
        end = _first_of(end, grain, week_start, fiscal_month)
    periods = []
    while day < end:
        periods.append(day)
        day = _next(day, grain)
    return periods


def expected_label(case: str, period: dt.date) -> str:
    """How a fiscal period is named: FY by the year it ends (or starts) in, then Q1–Q4."""
    grain, _, fiscal_month, label = _calendar(case)
    first_month = dt.date(period.year if period.month >= fiscal_month else period.year - 1,
                          fiscal_month, 1)
    year = first_month.year + (1 if label == "end" and fiscal_month != 1 else 0)
    if grain == "fiscal_year":
        return f"FY{year}"
    quarter = (period.month - fiscal_month) % 12 // 3 + 1
    return f"FY{year} Q{quarter}"


def expected_target(case: str, metric: str, period: dt.date) -> float | None:
    """A metric's target for a period, read straight from metric.yaml."""
    spec = yaml.safe_load((HERE / case / "metric.yaml").read_text(encoding="utf-8"))
    targets = next(m for m in spec["metrics"] if m["name"] == metric)["targets"]
    grain = targets.get("grain") or "month"
    if grain == (load_query(case)["grain"] or "month"):
        for entry in targets.get("periods") or ():
            if dt.date.fromisoformat(str(entry["period"])) == period:
                return float(entry["value"])
    value = targets.get("value")
    return float(value) if value is not None else None


@pytest.mark.parametrize("case", CASES)
def test_duckdb_golden_sql_runs_on_empty_tables(case: str) -> None:
    duckdb = pytest.importorskip("duckdb")
    connection = duckdb.connect(":memory:")
    try:
        create_tables(case, "duckdb", connection.execute)
        cursor = connection.execute(read_expected(case, "duckdb"))
        rows = cursor.fetchall()
        names = [d[0] for d in cursor.description]
    finally:
        connection.close()
    _check_rows(case, names, rows)


@pytest.mark.parametrize("case", CASES)
def test_sqlite_golden_sql_runs_on_empty_tables(case: str) -> None:
    connection = sqlite3.connect(":memory:")
    try:
        create_tables(case, "sqlite", connection.execute)
        cursor = connection.execute(read_expected(case, "sqlite"))
        rows = cursor.fetchall()
        names = [d[0] for d in cursor.description]
    finally:
        connection.close()
    _check_rows(case, names, rows)


def _check_rows(case: str, names: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Over empty tables: no rows when unbounded; else one row per period, its fiscal label,
    NULL dimensions, each target from metric.yaml, and every other value 0 or NULL."""
    want = expected_periods(case)
    if want is None:
        assert rows == [], f"{case}: unbounded query over empty tables returned {rows}"
        return
    got = [str(row[0])[:10] for row in rows]
    assert got == [d.isoformat() for d in want], f"{case}: periods {got}, expected {want}"
    dimensions = {name.replace(".", "__") for name in load_query(case)["by"]}
    for period, row in zip(want, rows):
        for name, value in zip(names[1:], row[1:]):
            if name == "period_label":
                assert value == expected_label(case, period), f"{case}: label in {row}"
            elif name in dimensions:
                assert value is None, f"{case}: dimension value {name}={value!r} in {row}"
            elif name.endswith("__target"):
                target = expected_target(case, name.removesuffix("__target"), period)
                assert value == target, f"{case}: {name}={value!r} for {period}, expected {target}"
            else:
                assert value in (0, None), f"{case}: metric value {name}={value!r} in {row}"
