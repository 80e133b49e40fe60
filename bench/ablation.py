"""Which SQL-shape changes close the gap to the hand-written SQL (estimates for core).

Takes kpispec's own SQL for each case of sqlbench.py and rewrites one thing at a
time with sqlglot — the rest of the query stays exactly as kpispec wrote it —
then runs every variant alternately on the same DuckDB warehouse and checks
that each returns kpispec's result:

* ``at: pre-aggregated``   a point-in-time (``at: period_start|period_end``) scan
  first groups the model by (dimensions, period of its lifecycle start and
  end, and whether each falls on a period's first instant) — a few thousand
  rows — and range-joins *that* with the periods, instead of joining every
  period with every row;
* ``join: filtered``       a joined model used only by one filter
  (``leads.source = 'marketing'``) is joined as the filtered subquery, so the
  hash table holds the matching keys only.

    python bench/ablation.py WAREHOUSE.duckdb [--repeat 3] [--case eight_by_region]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sqlbench
import sqlglot
from sqlglot import exp

_GROUPS = """
SELECT {dims}
  CAST(date_trunc('{grain}', signed_up_at) AS DATE) AS start_period,
  signed_up_at = date_trunc('{grain}', signed_up_at) AS start_at_first_instant,
  CAST(date_trunc('{grain}', churned_at) AS DATE) AS end_period,
  churned_at = date_trunc('{grain}', churned_at) AS end_at_first_instant,
  count(*) AS n
FROM customers
GROUP BY ALL
"""
_AT_START = """(g.start_period < periods.period OR (g.start_period = periods.period AND g.start_at_first_instant))
  AND (g.end_period IS NULL OR g.end_period > periods.period
       OR (g.end_period = periods.period AND NOT g.end_at_first_instant))"""
_AT_END = """g.start_period <= periods.period AND (g.end_period IS NULL OR g.end_period > periods.period)"""


def _ctes(tree: exp.Expr) -> dict[str, exp.CTE]:
    return {cte.alias: cte for cte in tree.find_all(exp.CTE)}


def preaggregate_at(tree: exp.Expr) -> exp.Expr:
    """customers_at_period_start / _end over a small pre-aggregate of customers."""
    tree = tree.copy()
    for name, cte in _ctes(tree).items():
        if name not in ("customers_at_period_start", "customers_at_period_end"):
            continue
        select = cte.this
        aliases = [e.alias_or_name for e in select.expressions]
        dims = aliases[1:-1]  # period, dims..., the count
        group_dims = "".join(f"{d}, " for d in dims)
        condition = _AT_START if name.endswith("start") else _AT_END
        body = ("SELECT periods.period AS period, "
                + "".join(f"g.{d} AS {d}, " for d in dims)
                + f"SUM(g.n) AS {aliases[-1]} "
                + f"FROM periods CROSS JOIN ({_GROUPS.format(dims=group_dims, grain='month')}) AS g "
                + f"WHERE {condition} GROUP BY ALL")
        cte.set("this", sqlglot.parse_one(body, read="duckdb"))
    return tree


def filtered_join(tree: exp.Expr) -> exp.Expr:
    """``LEFT JOIN leads`` → ``LEFT JOIN (SELECT lead_id, source FROM leads WHERE source =
    'marketing') AS leads`` where leads is only read by that one filter."""
    tree = tree.copy()
    for join in tree.find_all(exp.Join):
        table = join.this
        if isinstance(table, exp.Table) and table.name == "leads":
            sub = sqlglot.parse_one("(SELECT lead_id, source FROM leads WHERE source = 'marketing')",
                                    read="duckdb")
            join.set("this", exp.alias_(sub, "leads", table=True))
    return tree


VARIANTS: dict[str, Callable[[exp.Expr], exp.Expr]] = {
    "at: pre-aggregated": preaggregate_at,
    "join: filtered": filtered_join,
    "both": lambda t: filtered_join(preaggregate_at(t)),
}


def run(warehouse: str, repeat: int = 3, cases: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    import duckdb

    con = duckdb.connect(warehouse, read_only=True)
    results = []
    try:
        for case in sqlbench.CASES:
            if cases and case.name not in cases:
                continue
            ours = sqlbench.kpispec_sql(case)
            tree = sqlglot.parse_one(ours, read="duckdb")
            queries = {"kpispec": ours, **{name: fn(tree).sql(dialect="duckdb")
                                          for name, fn in VARIANTS.items()},
                       "hand-written": sqlbench.handwritten_sql(case)}
            keys = ["period", *case.by]
            reference = sqlbench._run(con, ours)[1]
            equal = {}
            for name, sql in queries.items():
                equal[name] = not sqlbench.compare(reference, sqlbench._run(con, sql)[1], keys)
            times: dict[str, list[float]] = {name: [] for name in queries}
            for _ in range(repeat):
                for name, sql in queries.items():
                    times[name].append(sqlbench._run(con, sql)[0])
            base = statistics.median(times["kpispec"])
            hand = statistics.median(times["hand-written"])
            for name in queries:
                med = statistics.median(times[name])
                results.append({"case": case.name, "variant": name, "median_s": med,
                                "vs_kpispec": med / base, "vs_hand": med / hand,
                                "equal": equal[name], "runs": times[name]})
                print(f"{case.name:18s} {name:20s} {med:8.3f} s  {med / base:5.2f}x kpispec  "
                      f"{med / hand:5.2f}x hand-written  equal: {equal[name]}", file=sys.stderr,
                      flush=True)
    finally:
        con.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--case", action="append", default=[],
                        choices=[c.name for c in sqlbench.CASES])
    args = parser.parse_args(argv)
    results = run(args.warehouse, args.repeat, tuple(args.case))
    print(json.dumps(results, indent=2))
    return 0 if all(r["equal"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
