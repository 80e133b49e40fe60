"""Metrics built on metrics: cycles, deep chains and exponential growth are validation errors
(issue 23, finding 7).

A derived chain of 1,000 metrics passed ``validate`` and then failed at run time with
"internal error: RecursionError … This is a kpispec bug". Each shape below is now one
located message from ``validate`` and ``run`` alike (exit 1), found without recursion.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import kpispec
import pytest
from click.testing import CliRunner
from kpispec.cli import main
from kpispec.compile.dialects import DIALECTS
from kpispec.spec.metric_graph import MAX_DEPTH, MAX_HEIGHT, MAX_NODES

from tests.hostile.small_project import DEALS

HEAD = DEALS + """\
  - name: m0
    type: simple
    measure: {model: deals, agg: sum, expr: amount}
"""


def chain(root: Path, n: int, expr: str, *, cycle: bool = False) -> Path:
    """Metrics m1..m<n>, each ``expr`` over the one before it (``{p}``)."""
    root.mkdir(parents=True, exist_ok=True)
    lines = [HEAD.rstrip("\n")]
    for i in range(1, n + 1):
        lines += [f"  - name: m{i}", "    type: derived",
                  f"    expr: \"{expr.format(p=f'm{i - 1}' if i > 1 or not cycle else f'm{n}')}\""]
    (root / "specs.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "kpispec.yaml").write_text("name: chain\n", encoding="utf-8")
    con = duckdb.connect(str(root / "w.duckdb"))
    con.execute("CREATE OR REPLACE TABLE deals AS SELECT TIMESTAMP '2024-01-02' AS created_at, "
                "2.0 AS amount")
    con.close()
    return root


def line_of(n: int) -> int:
    """The line of m<n>'s expr in the file chain() writes."""
    return 9 + 3 * n


def cli(root: Path, *args: str) -> object:
    return CliRunner().invoke(main, [*args, "-p", str(root)])


@pytest.mark.parametrize(("n", "expr", "bad", "message"), [
    (1000, "{p} + 1", 30, f"metric 'm30' nests 62 levels deep once the metrics it uses are "
                          f"written out; the limit is {MAX_HEIGHT}"),
    (1000, "{p}", MAX_DEPTH + 1, f"metric 'm{MAX_DEPTH + 1}' is built on {MAX_DEPTH + 1} levels of "
                                 f"metrics built on metrics; the limit is {MAX_DEPTH}"),
    (40, "{p} + {p} * 2", 14, f"metric 'm14' grows to 114,683 expression nodes once the metrics "
                              f"it uses are written out; the limit is {MAX_NODES:,}"),
])
def test_too_deep_or_too_big_is_a_located_error(tmp_path: Path, n: int, expr: str, bad: int,
                                                 message: str) -> None:
    root = chain(tmp_path / "p", n, expr)
    for args in (["validate"], ["run", f"m{n}", "--source", f"duckdb:///{root / 'w.duckdb'}"],
                 ["compile", f"m{n}"]):
        result = cli(root, *args)
        assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
        assert "internal error" not in result.output  # type: ignore[attr-defined]
        first = result.stderr.splitlines()[0]  # type: ignore[attr-defined]
        assert first.startswith(f"{root / 'specs.yaml'}:{line_of(bad)}:11: metrics[{bad}].expr: "
                                f"{message}."), first


def test_a_long_cycle_is_found_without_recursion(tmp_path: Path) -> None:
    root = chain(tmp_path / "p", 3000, "{p} + 1", cycle=True)
    started = time.monotonic()
    result = cli(root, "validate")
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    assert "metrics reference each other in a cycle: m1 -> m3000 -> m2999" in \
        result.stderr  # type: ignore[attr-defined]
    assert "RecursionError" not in result.output  # type: ignore[attr-defined]
    assert time.monotonic() - started < 60


def test_the_deepest_chain_allowed_compiles_everywhere_and_runs(tmp_path: Path) -> None:
    """29 levels of ``(prev + 1)`` (height 60): every dialect, and the right value on DuckDB."""
    root = chain(tmp_path / "p", 29, "{p} + 1")
    project = kpispec.load_project(root)
    for dialect in DIALECTS:
        assert project.compile(["m29"], dialect=dialect).sql
    rows = project.run(["m29"], source=f"duckdb:///{root / 'w.duckdb'}", grain="year",
                       start="2024-01-01", end="2025-01-01").to_pylist()
    assert [r["m29"] for r in rows] == [2.0 + 29]
