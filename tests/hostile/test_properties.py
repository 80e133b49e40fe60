"""Property-based tests of the compile side: whatever is typed, kpispec answers with SQL or a SpecError.

Generated ``--where`` values (SQL-ish token soup with quotes, comments,
semicolons, function calls, dollar quotes and backslashes), templates and YAML
documents. A snippet that is accepted compiles, for every dialect, to one
SELECT that calls only allowed functions; anything else is refused with a
:class:`~kpispec.errors.SpecError` — never another exception.
"""

from __future__ import annotations

from pathlib import Path

import kpispec
import pytest
from kpispec.compile.dialects import DIALECTS
from kpispec.compile.guard import check_single_select
from kpispec.errors import KpispecError, Location, SpecError
from kpispec.spec.loader import load_yaml, render_template
from kpispec.spec.snippets import AGGREGATE_FUNCTIONS, ANONYMOUS_FUNCTIONS, SCALAR_FUNCTIONS, parse_snippet
from sqlglot import exp

from tests.hostile.conftest import write_project

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SETTINGS = settings(max_examples=1500, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])

TOKENS = [
    "stage", "region", "amount", "deals.stage", '"stage"', '"a""b"', "`x`", "[x]", "'won'", "'it''s'",
    "'a\\'", "''", "1", "0.5", "-2", "1e9", "NULL", "TRUE", "=", "<>", "!=", "<", ">=", "+", "-", "*",
    "/", "%", "||", "AND", "OR", "NOT", "IN", "(", ")", ",", "BETWEEN", "LIKE", "ILIKE", "IS", "CASE",
    "WHEN", "THEN", "ELSE", "END", "CAST", "AS", "INTEGER", "DATE", "INTERVAL", "'1 day'", ";", "--",
    "/*", "*/", "$$", "$1", "?", ":x", "@@version", "E'", "U&'", "\\", "\u2019", "\u2028", "SELECT",
    "FROM", "UNION", "DROP", "TABLE", "deals", "read_csv", "pg_read_file", "pg_sleep", "LOWER",
    "COALESCE", "DATE_TRUNC", "'month'", "EXTRACT", "YEAR", "current_setting", "getenv", "SUM",
    "COUNT", "OVER", "->>", "::", "[1]", "{", "}", "#", "\t", "\n",
]
DIALECT_CHOICES = ["duckdb", "postgres", "mysql", "snowflake", "bigquery", "tsql", "clickhouse"]
snippets = st.one_of(
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14).map(" ".join),
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14).map("".join),
    st.text(max_size=60),
)


def _only_allowed_functions(tree: exp.Expr) -> None:
    for node in tree.walk():
        if isinstance(node, exp.Anonymous):
            assert node.name.lower() in ANONYMOUS_FUNCTIONS, node.name
        elif isinstance(node, exp.Func):
            assert type(node) in SCALAR_FUNCTIONS | AGGREGATE_FUNCTIONS, type(node).__name__
        assert not isinstance(node, (exp.Query, exp.Subquery, exp.Command, exp.DDL, exp.DML,
                                     exp.Window, exp.Placeholder, exp.Parameter, exp.Dot))


@SETTINGS
@given(text=snippets, dialect=st.sampled_from(DIALECT_CHOICES))
def test_a_snippet_is_a_checked_tree_or_a_spec_error(text: str, dialect: str) -> None:
    try:
        tree = parse_snippet(text, dialect, Location("--where"))
    except SpecError as exc:
        assert str(exc).startswith("--where: ")
        return
    _only_allowed_functions(tree)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> kpispec.Project:
    return kpispec.load_project(write_project(tmp_path_factory.mktemp("h9a_prop") / "project"))


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=snippets, dialect=st.sampled_from(DIALECTS))
def test_an_accepted_where_compiles_to_one_select(project: kpispec.Project, text: str,
                                                  dialect: str) -> None:
    try:
        compiled = project.compile(["deals_won"], dialect=dialect, where=text, start="2024-01-01",
                                   end="2024-02-01")
    except KpispecError as exc:
        assert exc.exit_code == 1, exc
        return
    check_single_select(compiled.sql, dialect)


JINJA = ["{{", "}}", "{%", "%}", "{#", "#}", "for", "in", "endfor", "if", "endif", "set", "endset",
         "macro", "endmacro", "x", "=", "'a'", "1", "10", "**", "*", "~", "+", "%", "|", "upper",
         "join", "replace", "(", ")", "[", "]", ",", ".", "__class__", "var", "env_var", "'HOME'",
         "range", "loop", "self", "cycler", "lipsum", "include", "'/etc/passwd'", ":", "\n"]


@SETTINGS
@given(parts=st.lists(st.sampled_from(JINJA), max_size=20))
def test_a_template_renders_or_is_a_spec_error(parts: list[str]) -> None:
    def env_var(name: str, default: object = None) -> object:
        raise LookupError(f"env_var({name!r}) is not allowed")

    text = " ".join(parts)
    try:
        result = render_template(text, "t.yaml", {"var": lambda n, d=None: d, "env_var": env_var})
    except SpecError as exc:
        assert str(exc).startswith("t.yaml")
        return
    assert isinstance(result, str)


YAML = ["a", ":", " ", "\n", "  ", "- ", "[", "]", "{", "}", ",", "&x", "*x", "!!str", "!!python/name:os.system",
        "!tag", "'", '"', "|", ">", "#", "---", "...", "<<", "? ", "\t", "\x07", "%YAML 1.1", "1", "true",
        "null", "~", "\\u0000", "@", "`"]


@SETTINGS
@given(parts=st.lists(st.sampled_from(YAML), max_size=30))
def test_yaml_loads_or_is_a_spec_error(parts: list[str]) -> None:
    try:
        load_yaml("f.yaml", text="".join(parts))
    except SpecError as exc:
        assert str(exc).startswith("f.yaml")


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_binary_files_load_or_are_a_spec_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(data)
    try:
        load_yaml(path, "f.yaml")
    except SpecError as exc:
        assert str(exc).startswith("f.yaml")
