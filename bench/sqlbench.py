"""kpispec's generated SQL against hand-written SQL, on one DuckDB warehouse.

Each case is a kpispec query (compiled with the installed CRM catalog) and a
file in ``bench/handwritten/`` that computes the same result the way a person
would write it for speed. Both run on the same DuckDB connection, alternately
(kpispec, hand, kpispec, hand, ...) after one warm-up run each, so a busy
machine slows both alike; the figure is the ratio of the medians. The results
must be equal — same columns, same rows, values equal within a relative
tolerance of 1e-9 — or the benchmark fails.

    python bench/sqlbench.py WAREHOUSE.duckdb [--repeat 5] [--case NAME]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
START, END = "2023-01-01", "2025-01-01"  # the demo warehouse's 24 months

#: The 36 metrics of the CRM catalog (CATALOG.md), in its order.
CATALOG_METRICS = (
    "cac", "cac_payback_months", "marketing_originated_pct", "traffic_to_lead_rate",
    "landing_page_conversion_rate", "clicks_without_conversion", "signups", "marketing_roi",
    "lead_abandonment_rate", "close_rate", "win_rate", "sales_cycle_days", "stage_duration_days",
    "avg_deal_size", "net_new_revenue", "quota_attainment", "calls_made", "sales_per_call",
    "churn_rate", "retention_rate", "renewal_rate", "avg_purchase_value", "purchase_frequency",
    "avg_customer_lifespan_years", "clv", "clv_net", "upsell_rate", "cross_sell_rate",
    "avg_revenue_per_customer", "customer_retention_cost", "nps", "ces", "avg_resolution_hours",
    "logins_per_user", "records_created", "crm_roi",
)


@dataclass(frozen=True)
class Case:
    """One comparison: what kpispec is asked, and the hand-written file."""

    name: str
    title: str
    metrics: tuple[str, ...]
    handwritten: str
    by: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)

    def kpispec_command(self) -> str:
        by = "".join(f" --by {d}" for d in self.by)
        return (f"kpispec compile {' '.join(self.metrics)}{by} --grain month "
                f"--from {START} --to {END} --dialect duckdb")


CASES = (
    Case("eight_by_region", "8 metrics over deals, leads, customers by month and region",
         ("win_rate", "avg_deal_size", "net_new_revenue", "sales_cycle_days",
          "marketing_won_revenue", "upsell_rate", "churn_rate", "marketing_originated_pct"),
         "eight_metrics_by_region.sql", by=("region",)),
    Case("catalog_by_month", "the full catalog (36 metrics) by month", CATALOG_METRICS,
         "catalog_by_month.sql"),
)


def kpispec_sql(case: Case) -> str:
    """The SQL kpispec generates for ``case`` (the CRM pack, from an empty project)."""
    import kpispec

    with tempfile.TemporaryDirectory(prefix="kpispec-bench-") as empty:
        project = kpispec.load_project(empty)
    compiled = project.compile(list(case.metrics), dialect="duckdb", by=list(case.by),
                               grain="month", start=START, end=END)
    return compiled.sql


def handwritten_sql(case: Case) -> str:
    return (HERE / "handwritten" / case.handwritten).read_text()


def _rows(table: Any, keys: Sequence[str]) -> list[dict[str, Any]]:
    rows = table.to_pylist()
    return sorted(rows, key=lambda r: tuple((r[k] is None, r[k] if r[k] is not None else "")
                                            for k in keys))


def _same(a: Any, b: Any, rel: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-9)
    if isinstance(a, dt.datetime) or isinstance(b, dt.datetime):
        return (a.date() if isinstance(a, dt.datetime) else a) == (
            b.date() if isinstance(b, dt.datetime) else b)
    return bool(a == b)


def compare(ours: Any, hand: Any, keys: Sequence[str], rel: float = 1e-9) -> list[str]:
    """Differences between two Arrow tables (empty when equal): columns, rows, values."""
    problems: list[str] = []
    if list(ours.column_names) != list(hand.column_names):
        missing = [c for c in ours.column_names if c not in hand.column_names]
        extra = [c for c in hand.column_names if c not in ours.column_names]
        problems.append(f"columns differ: missing in hand-written {missing}, extra {extra}"
                        if missing or extra else
                        f"column order differs: {ours.column_names} vs {hand.column_names}")
        if missing or extra:
            return problems
    if ours.num_rows != hand.num_rows:
        problems.append(f"row counts differ: kpispec {ours.num_rows}, hand-written {hand.num_rows}")
    a_rows, b_rows = _rows(ours, keys), _rows(hand, keys)
    for a, b in zip(a_rows, b_rows):
        for column in ours.column_names:
            if not _same(a[column], b[column], rel):
                key = ", ".join(f"{k}={a[k]!r}" for k in keys)
                problems.append(f"{key}: {column}: kpispec {a[column]!r}, hand-written {b[column]!r}")
                if len(problems) >= 10:
                    return problems
    return problems


def _run(con: Any, sql: str) -> tuple[float, Any]:
    started = time.perf_counter()
    relation = con.sql(sql)
    table = relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()
    return time.perf_counter() - started, table


def explain(con: Any, sql: str, top: int = 6) -> dict[str, Any]:
    """Where DuckDB spends a query's time: one profiled run, the costliest operators."""
    with tempfile.TemporaryDirectory(prefix="kpispec-bench-profile-") as tmp:
        out = Path(tmp) / "profile.json"
        con.execute("SET enable_profiling = 'json'")
        con.execute(f"SET profiling_output = '{out}'")
        try:
            _run(con, sql)
        finally:
            con.execute("RESET enable_profiling")
        profile = json.loads(out.read_text())

    def walk(node: dict[str, Any]) -> Any:
        yield node
        for child in node.get("children", []):
            yield from walk(child)

    roots = profile.get("operator") or profile.get("children") or []
    nodes = [n for root in (roots if isinstance(roots, list) else [roots]) for n in walk(root)]
    timing = "timing" if any("timing" in n for n in nodes) else "operator_timing"
    total = sum(n.get(timing, 0.0) for n in nodes) or 1.0
    keep = ("Table", "Join Type", "Conditions", "CTE Name", "Groups", "Aggregates")
    operators = []
    for n in sorted(nodes, key=lambda n: -n.get(timing, 0.0))[:top]:
        info = n.get("extra_info", {})
        detail = "; ".join(f"{k}: {v if isinstance(v, str) else ', '.join(map(str, v))}"
                           for k, v in info.items() if k in keep)
        operators.append({"operator": n.get("type") or n.get("operator_type"),
                          "share": n.get(timing, 0.0) / total,
                          "rows": n.get("intermediate_rows", n.get("operator_cardinality")),
                          "detail": detail[:240]})
    system = profile.get("system", {})
    return {"cpu_s": profile.get("query", {}).get("cpu_time", profile.get("cpu_time")),
            "peak_buffer_mib": system.get("peak_buffer_memory", 0) / 2**20,
            "operators": operators}


def run_case(con: Any, case: Case, repeat: int, profile: bool = True) -> dict[str, Any]:
    ours_sql, hand_sql = kpispec_sql(case), handwritten_sql(case)
    _, ours = _run(con, ours_sql)  # warm-up (and the result to compare)
    _, hand = _run(con, hand_sql)
    keys = ["period", *case.by]
    problems = compare(ours, hand, keys)
    ours_s: list[float] = []
    hand_s: list[float] = []
    for _ in range(repeat):
        ours_s.append(_run(con, ours_sql)[0])
        hand_s.append(_run(con, hand_sql)[0])
    ours_med, hand_med = statistics.median(ours_s), statistics.median(hand_s)
    profiles = {}
    if profile:
        try:
            profiles = {"kpispec": explain(con, ours_sql), "hand": explain(con, hand_sql)}
        except Exception as exc:  # profiling output differs between DuckDB versions
            profiles = {"error": f"{type(exc).__name__}: {exc}"}
    return {
        "case": case.name, "title": case.title, "command": case.kpispec_command(),
        "handwritten": f"bench/handwritten/{case.handwritten}",
        "rows": ours.num_rows, "columns": ours.num_columns,
        "equal": not problems, "problems": problems,
        "kpispec_s": ours_s, "hand_s": hand_s,
        "kpispec_median_s": ours_med, "hand_median_s": hand_med,
        "ratio": ours_med / hand_med if hand_med else math.nan,
        "duckdb_profile": profiles,
    }


def run(warehouse: str, repeat: int = 5, cases: Sequence[str] = ()) -> list[dict[str, Any]]:
    import duckdb

    con = duckdb.connect(warehouse, read_only=True)
    try:
        return [run_case(con, case, repeat) for case in CASES if not cases or case.name in cases]
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--case", action="append", default=[], choices=[c.name for c in CASES])
    parser.add_argument("--show-sql", action="store_true", help="print kpispec's SQL and exit")
    args = parser.parse_args(argv)
    if args.show_sql:
        for case in CASES:
            if not args.case or case.name in args.case:
                print(f"-- {case.name}: {case.kpispec_command()}\n{kpispec_sql(case)};\n")
        return 0
    results = run(args.warehouse, args.repeat, args.case)
    print(json.dumps(results, indent=2, default=str))
    return 0 if all(r["equal"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
