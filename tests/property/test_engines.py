"""Generated projects with generated rows: the compiled SQL runs, and the numbers are right.

Each case writes a valid project as YAML, loads it, creates its tables with
hypothesis-generated rows in an in-memory DuckDB (and, for a subset, SQLite
through the standard library), compiles a generated query for that engine's
dialect and executes it. The SQL must run without an engine error, and every
value the plain-Python :mod:`~tests.property.reference` recomputes (counts,
sums, distinct counts, averages, minima and maxima; ratios and derived metrics
over them; comparisons over whole periods; targets) must match.
"""

from __future__ import annotations

from collections.abc import Iterator

import kpispec
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from .gen import Project, Query, datasets, projects, queries
from .harness import Scratch, attempt, cases, load_duckdb, load_sqlite, parse_back, run_sql
from .reference import Reference, check


@pytest.fixture(scope="module")
def scratch() -> Iterator[Scratch]:
    s = Scratch()
    yield s
    s.close()


@st.composite
def executable(draw: st.DrawFn) -> tuple[Project, dict, list[Query]]:
    project = draw(projects(strict=True))
    data = draw(datasets(project))
    qs = draw(st.lists(queries(project), min_size=1, max_size=3))
    return project, data, qs


def _run(scratch: Scratch, case: tuple[Project, dict, list[Query]], engine: str) -> None:
    project, data, qs = case
    root = scratch.write(project.files())
    loaded = attempt(lambda: kpispec.load_project(root))
    assert not isinstance(loaded, kpispec.KpispecError), f"a valid project was refused: {loaded}"
    note(f"data: {data!r}")
    con = load_duckdb(project, data) if engine == "duckdb" else load_sqlite(project, data)
    try:
        for query in qs:
            note(f"query: {query.metrics} {query.options}")
            compiled = attempt(lambda q=query: loaded.compile(q.metrics, dialect=engine,
                                                             **q.options))
            if isinstance(compiled, kpispec.KpispecError):
                continue
            parse_back(compiled.sql, engine)
            note(compiled.sql)
            columns, rows = run_sql(con, compiled.sql)
            note(f"result: {columns} {rows[:20]}")
            problems = check(Reference(project, data, query.metrics, query.options, query.where,
                                   engine=engine), columns,
                             rows)
            assert not problems, "\n".join(problems)
    finally:
        con.close()


@cases(200)
@given(case=executable())
def test_duckdb_runs_and_matches_python(scratch: Scratch, case: tuple[Project, dict, list[Query]]
                                        ) -> None:
    _run(scratch, case, "duckdb")


@cases(80)
@given(case=executable())
def test_sqlite_runs_and_matches_python(scratch: Scratch, case: tuple[Project, dict, list[Query]]
                                        ) -> None:
    _run(scratch, case, "sqlite")
