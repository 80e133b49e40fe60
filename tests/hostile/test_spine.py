"""The period spine holds every period of the range, or the query is refused (issue 23, finding 6).

``--grain day --from 1750-01-01 --to 2025-01-01`` stopped at 100,000 periods (the last
one 2023-10-16) with exit 0 and no warning: the spine's number table had five digits.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import kpispec
import pytest
from kpispec.errors import QueryError

from tests.hostile.small_project import DEALS

SPEC = DEALS + """\
  - name: revenue
    type: simple
    measure: {model: deals, agg: sum, expr: amount}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[kpispec.Project, str]:
    root = tmp_path_factory.mktemp("spine")
    (root / "specs.yaml").write_text(SPEC, encoding="utf-8")
    (root / "kpispec.yaml").write_text("name: spine\n", encoding="utf-8")
    con = duckdb.connect(str(root / "w.duckdb"))
    # a real row in 2000, and one with a far-future sentinel date (as "never" is often written)
    con.execute("CREATE TABLE deals AS SELECT * FROM (VALUES (TIMESTAMP '2000-03-01', 1.0), "
                "(TIMESTAMP '2600-01-01', 2.0)) AS t(created_at, amount)")
    con.close()
    return kpispec.load_project(root), f"duckdb:///{root / 'w.duckdb'}"


def _periods(rows: list[dict[str, object]]) -> list[dt.date]:
    return [r["period"] for r in rows]  # type: ignore[misc]


def test_every_day_from_1750_to_2025(project: tuple[kpispec.Project, str]) -> None:
    loaded, url = project
    rows = loaded.run(["revenue"], source=url, grain="day", start="1750-01-01",
                      end="2025-01-01").to_pylist()
    periods = _periods(rows)
    assert len(periods) == (dt.date(2025, 1, 1) - dt.date(1750, 1, 1)).days == 100_442
    assert periods[0] == dt.date(1750, 1, 1) and periods[-1] == dt.date(2024, 12, 31)
    assert periods == sorted(set(periods))
    assert sum(r["revenue"] or 0 for r in rows) == 1.0  # type: ignore[operator]


def test_a_range_over_the_limit_is_refused_with_what_fits(
        project: tuple[kpispec.Project, str]) -> None:
    loaded, _ = project
    with pytest.raises(QueryError) as info:
        loaded.compile(["revenue"], grain="day", start="0001-01-01", end="9999-01-01")
    assert str(info.value) == (
        "--from 0001-01-01 --to 9999-01-01 at --grain day is 3,651,694 periods; kpispec "
        "computes at most 1,000,000. Use --grain week (521,671 periods) or --grain month "
        "(119,976 periods), or a shorter range")


@pytest.mark.parametrize(("grain", "count"), [
    ("day", (dt.date(2600, 1, 1) - dt.date(2000, 3, 1)).days + 1),  # 219,146: past 100,000
    ("week", 31_299),  # 2000-02-28 to 2599-12-30: past the old 10,000
    ("month", 7_199),
])
def test_an_open_range_gets_every_period_of_the_data(project: tuple[kpispec.Project, str],
                                                     grain: str, count: int) -> None:
    loaded, url = project
    periods = _periods(loaded.run(["revenue"], source=url, grain=grain).to_pylist())
    assert len(periods) == count
    assert periods[-1] >= dt.date(2599, 12, 1)
