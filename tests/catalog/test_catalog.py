"""Every catalog metric, run by kpispec on the demo warehouse, equals the
independent Python implementation in reference.py — every row.

The project is loaded from an EMPTY directory, so the metrics come from the
installed CRM pack. Each metric is asked at its natural grain and dimension
(listed at the top of reference.py) with no --from/--to; the result must:

* hold every period of the spine (first to last period with rows), and no other;
* hold every (period, dimension value) pair the reference has, with the same
  value (floats to rel 1e-9 / abs 1e-9, NULL = NULL) — except that a pair may be
  left out when its reference value is 0 or NULL (CATALOG.md: "a (period,
  dimension value) pair with no rows may be left out");
* hold no pair the reference lacks, unless it carries the value of no rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from . import reference
from .conftest import skip_if_no_pack

skip_if_no_pack()

NAMES = list(reference.METRICS)
MAX_SHOWN = 40


def _same(actual: Any, expected: Any) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual == expected
    return bool(actual == pytest.approx(expected, rel=1e-9, abs=1e-9))


def _period(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        assert value.time() == dt.time(), f"period {value} is not a period start"
        return value.date()
    assert isinstance(value, dt.date), f"period {value!r} is not a date"
    return value


def result_mapping(table: Any, name: str, dim: str | None) -> dict[reference.Key, Any]:
    columns = ["period", *([dim] if dim else []), name]
    assert table.column_names == columns, f"columns {table.column_names}, expected {columns}"
    out: dict[reference.Key, Any] = {}
    for row in table.to_pylist():
        key = (_period(row["period"]), row[dim] if dim else None)
        assert key not in out, f"the pair {key} appears twice"
        out[key] = row[name]
    return out


def compare(name: str, actual: dict[reference.Key, Any], expected: dict[reference.Key, Any],
            empty: Any) -> list[str]:
    """Every disagreement, one line each (empty when kpispec is right)."""
    problems: list[str] = []
    got_periods = {k[0] for k in actual}
    want_periods = {k[0] for k in expected}
    missing = sorted(want_periods - got_periods)
    extra = sorted(got_periods - want_periods)
    if missing:
        problems.append(f"periods of the spine missing from kpispec: {[str(p) for p in missing]}")
    if extra:
        problems.append(f"periods kpispec has outside the reference spine: "
                        f"{[(str(p), [actual[k] for k in actual if k[0] == p]) for p in extra]}")
    for key in sorted(set(actual) | set(expected),
                      key=lambda k: (k[0], k[1] is None, str(k[1]))):
        if key[0] in extra or key[0] in missing:
            continue
        if key in expected and key in actual:
            if not _same(actual[key], expected[key]):
                problems.append(f"{key[0]} dim={key[1]!r}: reference {expected[key]!r}, "
                                f"kpispec {actual[key]!r}")
        elif key in expected:  # left out by kpispec: only allowed for a pair of no value
            if expected[key] is not None and expected[key] != 0:
                problems.append(f"{key[0]} dim={key[1]!r}: reference {expected[key]!r}, "
                                f"kpispec left the pair out")
        elif not _same(actual[key], empty):
            problems.append(f"{key[0]} dim={key[1]!r}: no rows in the reference (value "
                            f"{empty!r}), kpispec {actual[key]!r}")
    return problems


@pytest.mark.parametrize("name", NAMES)
def test_metric_matches_reference(name: str, catalog_project: Any, demo_source: str,
                                  demo_tables: Any) -> None:
    metric = reference.METRICS[name]
    assert name in catalog_project.metrics, f"{name} is not in the installed catalog"
    table = catalog_project.run([name], source=demo_source, grain=metric.grain,
                                by=[metric.dim] if metric.dim else [])
    actual = result_mapping(table, name, metric.dim)
    expected = reference.compute(name, demo_tables)
    assert expected, "the reference computed nothing"
    problems = compare(name, actual, expected, metric.empty)
    if problems:
        shown = "\n  ".join(problems[:MAX_SHOWN])
        more = f"\n  ... and {len(problems) - MAX_SHOWN} more" if len(problems) > MAX_SHOWN else ""
        pytest.fail(f"{name} ({metric.grain}, by {metric.dim or '-'}): {len(problems)} "
                    f"disagreement(s) with the reference:\n  {shown}{more}", pytrace=False)
