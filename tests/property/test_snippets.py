"""SQL token soup in every snippet position, and in every query option.

A valid generated project gets one snippet — a measure's filter or expr, a metric
filter, a dimension or column expression, a derived metric's expression, a model's
``sql`` — replaced by a string built from SQL tokens, injection attempts, comments,
quotes, template markers and odd unicode (sometimes spliced into the original
snippet). Query options (``--where``, ``--by``, the dates, the zone…) get the same
treatment. kpispec must refuse with a KpispecError or compile SQL that parses back
as one SELECT; and what it accepts never calls a file reader, a sleep or anything
else from the deny list below (issue 9: snippets are scalar expressions from an
allow-list).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import kpispec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlglot import exp

from .gen import Project, Raw, pick, projects, queries
from .harness import Scratch, attempt, cases, parse_back
from .test_compile import ALL_DIALECTS

SOUP = (
    "SELECT", "FROM", "WHERE", ";", "--", "/*", "*/", "'", '"', "`", "(", ")", "*", "?", ":x",
    "$1", "@x", "@@version", "UNION", "ALL", "DROP TABLE deals", "DELETE FROM x", "INSERT INTO x",
    "read_csv('/etc/passwd')", "read_parquet('x')", "pg_read_file('x')", "LOAD_FILE('x')",
    "OVER ()", "sum(", "count(*)", "CASE", "WHEN", "THEN", "ELSE", "END", "IS", "NULL", "NOT",
    "AND", "OR", "IN", "BETWEEN", "LIKE", "AS", ",", "::", "->", "->>", "[", "]", "{", "}", "{{",
    "}}", "{%", "%}", "{#", "#", ":", "\\", "\x00", "\n", "\t", "\r", "INTERVAL", "'1 day'", "DATE",
    "TRUE", "e'\\x27'", "$$", "||", "%", "^", "~", "!", "&", "|", "<<", ">>", "=", "<>", "!=",
    "<", ">=", "1", "0", "-1", "1e308", "0x1F", "'a''b'", "amount", "stage", "region", "x.y",
    "deals.amount", '"weird col"', "COPY", "PRAGMA", "ATTACH 'x' AS y", "INSTALL httpfs", "SET",
    "CALL", "EXEC", "xp_cmdshell('x')", "LATERAL", "WITH", "RECURSIVE", "VALUES", "TABLE",
    "QUALIFY", "PIVOT", "x -> x", "ARRAY[1]", "STRUCT", "MAP", "ROW(1)", "getenv('HOME')",
    "current_setting('x')", "version()", "sleep(10)", "pg_sleep(1)", "BENCHMARK(1, 1)",
    "\u00e9", "\u65e5\u672c", "\u202e", "\ufeff", "\U0001f600", "' OR '1'='1", "'; --",
    "1); DROP TABLE x; --", "{{ var('x') }}", "{{ ''.__class__ }}", "{% for x in y %}",
    "lower(", "upper(stage)", "COALESCE(amount, 0)", "CAST(amount AS INT)", "IF(", "IIF(1, 2, 3)",
)
#: Functions an accepted snippet must never smuggle into the SQL.
DENIED = {"read_csv", "read_csv_auto", "read_parquet", "read_json", "pg_read_file", "load_file",
          "getenv", "current_setting", "sleep", "pg_sleep", "benchmark", "xp_cmdshell", "version",
          "read_text", "read_blob", "glob", "query", "query_table"}


@st.composite
def soup(draw: st.DrawFn, base: str = "") -> str:
    tokens = draw(st.lists(st.one_of(st.sampled_from(SOUP), st.text(max_size=3)), min_size=1,
                           max_size=10))
    text = pick(draw, (" ", "", "  ")).join(tokens)
    if base and draw(st.booleans()):  # splice into a well-formed snippet
        at = draw(st.integers(0, len(base)))
        text = base[:at] + text + base[at:]
    return text


def _denied_calls(tree: exp.Expr) -> list[str]:
    names = []
    for func in tree.find_all(exp.Func):
        name = (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()
        if name in DENIED:
            names.append(name)
    return names


@st.composite
def soupy_projects(draw: st.DrawFn) -> tuple[Project, str]:
    """A valid project with one snippet replaced by soup, and where it went."""
    project = draw(projects(strict=True, max_models=2, max_metrics=4))
    positions: list[tuple[str, Any]] = []
    for metric in project.metrics:
        if metric.filter is not None or metric.type != "derived":
            positions.append(("metric filter", metric))
        if metric.expr is not None:
            positions.append(("derived expr", metric))
        for measure in metric.measures():
            positions += [("measure filter", measure), ("measure expr", measure)]
    for model in project.models:
        positions += [("dimension expr", d) for d in model.dimensions]
        positions += [("column expr", c) for c in model.columns[1:]]
        positions.append(("model sql", model))
    where, target = pick(draw, positions)
    if where == "metric filter":
        base = target.filter.sql(project.render) if target.filter is not None else ""
        target.filter = Raw(draw(soup(base)))
    elif where == "derived expr":
        target.expr = Raw(draw(soup(target.expr.sql(project.render))))
    elif where in ("measure filter", "measure expr"):
        attr = where.split()[1]
        old = getattr(target, attr)
        setattr(target, attr, Raw(draw(soup(old.sql(project.render) if old is not None else ""))))
    elif where == "dimension expr":
        target.expr, target.written = Raw(draw(soup(target.expr.sql(project.render)))), True
    elif where == "column expr":
        target.expr_sql = draw(soup(project.render.ident(target.physical)))
        for model in project.models:
            model.declare_columns = model.declare_columns or target in model.columns
    else:
        target.extra["as_sql"] = True
        target.sql_filter = Raw(draw(soup("amount > 1")))
    return project, where


@pytest.fixture(scope="module")
def scratch() -> Iterator[Scratch]:
    s = Scratch()
    yield s
    s.close()


def _check_compiled(compiled: kpispec.CompiledQuery) -> None:
    tree = parse_back(compiled.sql, compiled.dialect)
    assert not _denied_calls(tree), f"accepted a call to {_denied_calls(tree)}"


@cases(250)
@given(case=soupy_projects(), data=st.data())
def test_soup_in_any_snippet_is_refused_or_compiles(scratch: Scratch, case: tuple[Project, str],
                                                    data: st.DataObject) -> None:
    project, _ = case
    root = scratch.write(project.files())
    loaded = attempt(lambda: kpispec.load_project(root))
    if isinstance(loaded, kpispec.KpispecError):
        return
    for _ in range(2):
        query = data.draw(queries(project), label="query")
        dialect = data.draw(st.sampled_from(ALL_DIALECTS), label="dialect")
        compiled = attempt(lambda q=query, d=dialect: loaded.compile(q.metrics, dialect=d,
                                                                      **q.options))
        if not isinstance(compiled, kpispec.KpispecError):
            _check_compiled(compiled)


OPTION_SOUP = ("where", "by", "grain", "start", "end", "as_of", "baseline", "timezone",
               "week_start", "fiscal_year_label", "compare", "partial")


@cases(200)
@given(project=projects(strict=True, max_models=2, max_metrics=4), data=st.data())
def test_soup_in_query_options_is_refused_or_compiles(scratch: Scratch, project: Project,
                                                      data: st.DataObject) -> None:
    root = scratch.write(project.files())
    loaded = attempt(lambda: kpispec.load_project(root))
    assert not isinstance(loaded, kpispec.KpispecError), f"a valid project was refused: {loaded}"
    for _ in range(3):
        query = data.draw(queries(project), label="query")
        options = dict(query.options)
        for key in data.draw(st.lists(st.sampled_from(OPTION_SOUP), min_size=1, max_size=2,
                                      unique=True), label="options"):
            base = options.get(key)
            value: Any = data.draw(soup(base if isinstance(base, str) else ""), label=key)
            options[key] = [value] if key == "by" else value
        if data.draw(st.booleans(), label="fiscal month"):
            options["fiscal_year_start_month"] = data.draw(st.sampled_from((0, 13, -1, 7)))
        dialect = data.draw(st.sampled_from(ALL_DIALECTS), label="dialect")
        compiled = attempt(lambda o=options, d=dialect, q=query: loaded.compile(
            q.metrics, dialect=d, **o))
        if not isinstance(compiled, kpispec.KpispecError):
            _check_compiled(compiled)
