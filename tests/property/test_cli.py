"""The CLI over generated (and mutated) projects and options, through click's CliRunner.

``kpispec validate``, ``list`` and ``compile`` exit 0, or 1 with one ``error:``
message (several lines for a list of spec problems) — never a traceback, never
kpispec's "internal error" (exit 2: these commands touch no source or sink).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from hypothesis import given, note
from hypothesis import strategies as st
from kpispec.cli import main

from .gen import Project, Query, datasets, projects, queries
from .harness import Scratch, cases, load_duckdb
from .test_compile import ALL_DIALECTS
from .test_mutations import _files
from .test_snippets import soup


@pytest.fixture(scope="module")
def scratch() -> Iterator[Scratch]:
    s = Scratch()
    yield s
    s.close()


def invoke(args: list[str], codes: tuple[int, ...] = (0, 1)) -> None:
    note(f"kpispec {' '.join(args)}")
    result = CliRunner().invoke(main, args, catch_exceptions=True)
    output = result.output
    note(f"exit {result.exit_code}: {output[-2000:]}")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"unhandled {type(result.exception).__name__}: "
                             f"{result.exception}") from result.exception
    assert result.exit_code in codes, f"exit code {result.exit_code}: {output[-500:]}"
    assert "Traceback (most recent call last)" not in output, output
    assert "internal error" not in output, output
    if result.exit_code == 1:
        assert output.strip(), "exit 1 without a message"


@cases(100)
@given(project=projects(strict=False, max_models=3, max_metrics=4), data=st.data())
def test_cli_never_shows_a_traceback(scratch: Scratch, project: Project,
                                     data: st.DataObject) -> None:
    files = data.draw(st.one_of(st.just(None), st.composite(
        lambda draw: _files(project, draw))()), label="mutated files") or project.files()
    root = str(scratch.write(files))
    command = data.draw(st.sampled_from(("validate", "list", "compile", "compile", "compile")),
                        label="command")
    if command == "validate":
        invoke(["validate", root])
    elif command == "list":
        extra = data.draw(st.sampled_from(([], ["--json"], ["--lang", "pl"])), label="list")
        invoke(["list", "-p", root, *extra])
    else:
        query = data.draw(queries(project, strict=False), label="query")
        args = ["compile", *query.cli_args(), "-p", root,
                "--dialect", data.draw(st.sampled_from(ALL_DIALECTS + ("nosuch",)))]
        if data.draw(st.booleans(), label="soup"):
            args += [data.draw(st.sampled_from(("--where", "--by", "--from", "--grain",
                                                "--timezone", "--var"))), data.draw(soup())]
        invoke(args)


SINKS = ("csv:-", "table", "out.csv", "out.json", "out.jsonl", "out.parquet", "out.xlsx",
         "report.html", "out.prom")


@st.composite
def runnable(draw: st.DrawFn) -> tuple[Project, dict, Query, list[str]]:
    project = draw(projects(strict=True, max_models=2, max_metrics=4))
    sinks = draw(st.lists(st.sampled_from(SINKS), min_size=1, max_size=2, unique=True))
    return project, draw(datasets(project, max_rows=12)), draw(queries(project)), sinks


@cases(40)
@given(case=runnable())
def test_cli_run_on_duckdb(scratch: Scratch, case: tuple[Project, dict, Query, list[str]]) -> None:
    """`kpispec run` against a DuckDB file of generated rows, into every kind of file sink.

    The tables exist and hold what the models say, so a failing source (exit 2) is a
    bug: exit 0, or 1 when the query itself is refused.
    """
    project, data, query, sinks = case
    root = scratch.write(project.files())
    database = root / "data.duckdb"
    load_duckdb(project, data, str(database)).close()
    args = ["run", *query.cli_args(), "-p", str(root), "--source", f"duckdb:///{database}"]
    for sink in sinks:
        args += ["--sink", sink if ":" in sink or sink == "table" else str(root / sink)]
    invoke(args)
