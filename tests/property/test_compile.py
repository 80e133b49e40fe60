"""Generated projects and queries, compiled for every dialect kpispec supports.

* A valid project (``strict``) always loads; each query either compiles or is
  refused with a KpispecError. Compiled SQL parses back in its dialect as exactly
  one SELECT, and every division in it has a divisor guarded against 0 (docs:
  "Any division is NULL when the divisor is 0, never an error").
* Any project (``strict=False``: every dialect, reserved words, SQL functions in
  snippets, joins in any direction, plugin metric types, nonsense query options)
  loads or is refused; whatever loads compiles or is refused; whatever compiles
  parses back as one SELECT.
"""

from __future__ import annotations

from collections.abc import Iterator

import kpispec
import pytest
from hypothesis import HealthCheck, given, note
from hypothesis import strategies as st
from kpispec.compile.dialects import DIALECTS
from sqlglot import exp

from .gen import DIALECT_ALIASES, Project, projects, queries
from .harness import Scratch, attempt, cases, parse_back

ALL_DIALECTS = DIALECTS + DIALECT_ALIASES


@pytest.fixture(scope="module")
def scratch() -> Iterator[Scratch]:
    s = Scratch()
    yield s
    s.close()


def unguarded_divisions(tree: exp.Expr) -> list[str]:
    """Divisions whose divisor could be 0: not NULLIF(…, 0) and not a non-zero number."""
    found = []
    for div in tree.find_all(exp.Div, exp.IntDiv):
        divisor = div.expression
        while isinstance(divisor, (exp.Paren, exp.Cast)):
            divisor = divisor.this
        if isinstance(divisor, exp.Nullif):
            continue
        if isinstance(divisor, exp.Literal) and divisor.is_number and float(divisor.name) != 0:
            continue
        found.append(div.sql())
    return found


#: How long a CTE name and a column alias may be, and what happens to a longer one:
#: PostgreSQL cuts it to 63 bytes (so two long names can become one), the others refuse it.
IDENTIFIER_LIMITS = {"postgres": (63, 63, "truncated"), "mysql": (64, 256, "refused"),
                     "oracle": (128, 128, "refused"), "tsql": (128, 128, "refused")}


def identifier_problems(tree: exp.Expr, dialect: str) -> list[str]:
    """Identifiers the dialect would refuse, or that collide once cut to its limit."""
    if dialect not in IDENTIFIER_LIMITS:
        return []
    cte_limit, alias_limit, what = IDENTIFIER_LIMITS[dialect]
    problems = []
    scopes = [(cte_limit, [cte.alias for cte in tree.find_all(exp.CTE)])]
    scopes += [(alias_limit, [e.alias for e in select.expressions if e.alias])
               for select in tree.find_all(exp.Select)]
    for limit, names in scopes:
        seen: dict[bytes, str] = {}
        for name in names:
            if len(name.encode()) > limit and what == "refused":
                problems.append(f"{name!r} is longer than {limit} bytes")
            cut = name.encode()[:limit]
            if what == "truncated" and cut in seen and seen[cut] != name:
                problems.append(f"{seen[cut]!r} and {name!r} are one name once cut to {limit}")
            seen.setdefault(cut, name)
    return problems


def _compile_all(loaded: kpispec.Project, project: Project, data: st.DataObject, strict: bool,
                 n: int = 3) -> None:
    for _ in range(n):
        query = data.draw(queries(project, strict=strict), label="query")
        dialect = data.draw(st.sampled_from(ALL_DIALECTS), label="dialect")
        compiled = attempt(lambda q=query, d=dialect: loaded.compile(q.metrics, dialect=d,
                                                                      **q.options))
        if isinstance(compiled, kpispec.KpispecError):
            continue
        tree = parse_back(compiled.sql, compiled.dialect)
        if strict:
            assert not unguarded_divisions(tree), unguarded_divisions(tree)
            assert not identifier_problems(tree, compiled.dialect), \
                identifier_problems(tree, compiled.dialect)
        note(f"compiled for {compiled.dialect}: {len(compiled.sql)} characters")


@cases(200)
@given(project=projects(strict=True), data=st.data())
def test_valid_projects_load_and_compile_in_every_dialect(scratch: Scratch, project: Project,
                                                          data: st.DataObject) -> None:
    root = scratch.write(project.files())
    loaded = attempt(lambda: kpispec.load_project(root))
    assert not isinstance(loaded, kpispec.KpispecError), f"a valid project was refused: {loaded}"
    _compile_all(loaded, project, data, strict=True)


@cases(200)
@given(project=projects(strict=False, max_models=4, max_metrics=7), data=st.data())
def test_any_project_compiles_or_is_refused(scratch: Scratch, project: Project,
                                            data: st.DataObject) -> None:
    root = scratch.write(project.files())
    loaded = attempt(lambda: kpispec.load_project(root))
    if isinstance(loaded, kpispec.KpispecError):
        return
    _compile_all(loaded, project, data, strict=False)


# crm_pack is function-scoped, and is meant to hold for every example of the test: it only
# unblocks the pack plugin (tests/conftest.py), which nothing in an example changes.
@cases(60, also_suppress=[HealthCheck.function_scoped_fixture])
@given(project=projects(strict=True, pack=True), data=st.data())
def test_projects_over_the_crm_pack(scratch: Scratch, crm_pack: None, project: Project,
                                    data: st.DataObject) -> None:
    """Model and metric names of the installed CRM pack: the project's own override them."""
    root = scratch.write(project.files())
    loaded = attempt(lambda: kpispec.load_project(root))
    assert not isinstance(loaded, kpispec.KpispecError), f"a valid project was refused: {loaded}"
    _compile_all(loaded, project, data, strict=True, n=2)
