"""Peak memory of ``kpispec run ... --sink out.parquet`` as the result grows.

Every run is a new process; its peak resident set size comes from
``os.wait4`` (the kernel's ``ru_maxrss`` of that one child), taken by a tiny
launcher process (see ``_SHIM``) so that the figure is the child's own.
Two families:

* ``run --all`` over the CRM catalog (every metric of the pack, by month):
  the command the issue names; its result is small (one row a month).
* a small project over the same warehouse (``deals`` and ``orders``, 8 metrics,
  written by this module) run with ``--all`` at growing result sizes: by
  month; by day and rep; by month and customer (millions of rows at 10 million
  deals). If kpispec streams Arrow batches from DuckDB into the Parquet writer,
  its peak RSS follows DuckDB's own working memory, not the result's size.

Each size is also run as DuckDB alone — ``COPY (<the same SQL>) TO 'x.parquet'``
in a fresh Python process — which is the floor kpispec's figure is compared with.

    python bench/memory.py WAREHOUSE.duckdb [--sizes catalog,month,day_region,month_customer]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import child_env, kpispec_exe

_PROJECT = """\
# Written by bench/memory.py: 8 metrics over deals and orders that every
# dimension below reaches, so `run --all --by ...` works for any of them.
packs: {crm: false}
"""
_MODELS = """\
models:
  - name: customers
    table: customers
    primary_key: customer_id
    time: signed_up_at
    dimensions: [region, segment, {name: customer, expr: customer_id}]
  - name: deals
    table: deals
    primary_key: deal_id
    time: closed_at
    dimensions: [region, deal_type, {name: rep, expr: owner_id}, {name: customer, expr: customer_id}]
  - name: orders
    table: orders
    primary_key: order_id
    time: ordered_at
    dimensions: [{name: customer, expr: customer_id}]
    joins: [{model: customers, on: customer_id}]
metrics:
  - {name: deals_won, type: simple, measure: {model: deals, agg: count, filter: "stage = 'won'"}}
  - {name: won_revenue, type: simple, measure: {model: deals, agg: sum, expr: amount, filter: "stage = 'won'"}}
  - {name: avg_deal_size, type: simple, measure: {model: deals, agg: avg, expr: amount, filter: "stage = 'won'"}}
  - name: win_rate
    type: ratio
    numerator: {model: deals, agg: count, filter: "stage = 'won'"}
    denominator: {model: deals, agg: count, filter: "stage IN ('won', 'lost')"}
    scale: 100
  - {name: orders_placed, type: simple, measure: {model: orders, agg: count}}
  - {name: order_revenue, type: simple, measure: {model: orders, agg: sum, expr: amount}}
  - {name: gross_profit, type: simple, measure: {model: orders, agg: sum, expr: amount - cost}}
  - name: avg_order_value
    type: ratio
    numerator: {model: orders, agg: sum, expr: amount}
    denominator: {model: orders, agg: count}
"""

#: name -> (project: "catalog" | "growth", extra CLI options, description). The catalog's
#: DuckDB-alone floor is not measured by default (at 10M deals the query alone runs for
#: minutes; the growth family is what shows kpispec's overhead over the engine).
SIZES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "catalog": ("catalog", ("--grain", "month"), "run --all, CRM catalog, by month"),
    "month": ("growth", ("--grain", "month"), "8 metrics by month"),
    "day_region": ("growth", ("--grain", "day", "--by", "region"), "8 metrics by day and region"),
    "month_customer": ("growth", ("--grain", "month", "--by", "customer"),
                       "8 metrics by month and customer"),
    "day_customer": ("growth", ("--grain", "day", "--by", "customer"),
                     "8 metrics by day and customer"),
}
DEFAULT_SIZES = ("catalog", "month", "day_region", "month_customer")

_COPY = """\
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
sql = open(sys.argv[2]).read()
con.execute("COPY (" + sql + ") TO '" + sys.argv[3].replace("'", "''") + "' (FORMAT parquet)")
"""


#: Runs a command and writes its rusage as JSON to a file. Measuring through this small
#: process matters: Linux records the pre-exec address space in a child's ru_maxrss, so a
#: child forked straight from a big parent (this one, after pyarrow) would inherit its RSS.
_SHIM = """\
import json, os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"exit": os.waitstatus_to_exitcode(status), "maxrss_kib": usage.ru_maxrss,
               "cpu_s": usage.ru_utime + usage.ru_stime}, out)
"""


def _measure(command: list[str], cwd: str, env: dict[str, str]) -> dict[str, Any]:
    """Run ``command``; its wall time, exit code, CPU time and peak RSS (MiB)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r", suffix=".json") as usage:
        proc = subprocess.run([sys.executable, "-S", "-c", _SHIM, usage.name, *command], cwd=cwd,
                              env=env, stdout=subprocess.DEVNULL, stderr=err, check=False)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
        measured = json.loads(usage.read() or "{}")
    if not measured:
        raise RuntimeError(f"could not measure {command[:3]}: {stderr.strip()[-800:]}")
    result = {"seconds": time.perf_counter() - started, "exit": measured["exit"],
              "peak_rss_mib": measured["maxrss_kib"] / 1024, "cpu_s": measured["cpu_s"]}
    if measured["exit"] != 0 or proc.returncode != 0:
        result["stderr"] = stderr.strip()[-1500:]
    return result


def _parquet_rows(path: Path) -> tuple[int, int, int]:
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    return meta.num_rows, meta.num_columns, path.stat().st_size


def run(warehouse: str, sizes: tuple[str, ...] = DEFAULT_SIZES,
        floors: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Measure each size; ``floors``: the sizes also run as DuckDB alone (default: all but
    the catalog)."""
    floors = tuple(s for s in sizes if s != "catalog") if floors is None else floors
    warehouse = str(Path(warehouse).resolve())
    source = "duckdb:///" + warehouse
    results = []
    with tempfile.TemporaryDirectory(prefix="kpispec-bench-memory-") as tmp:
        work = Path(tmp)
        env = child_env(str(work / "pycache"))
        kpispec = kpispec_exe()
        catalog = work / "catalog"  # an empty project: the CRM pack only
        growth = work / "growth"
        catalog.mkdir()
        growth.mkdir()
        (growth / "kpispec.yaml").write_text(_PROJECT)
        (growth / "models.yaml").write_text(_MODELS)
        for name in sizes:
            which, options, title = SIZES[name]
            project = catalog if which == "catalog" else growth
            out = work / f"{name}.parquet"
            # Listing the metrics also warms the bytecode cache before the measured run.
            listed = subprocess.run([kpispec, "list", "--json", str(project)], capture_output=True,
                                    text=True, check=True, cwd=tmp, env=env)
            metrics = [m["name"] for m in json.loads(listed.stdout)]
            command = [kpispec, "run", "--all", "-p", str(project), "--source", source,
                       *options, "--sink", str(out), "--no-progress"]
            ours = _measure(command, tmp, env)
            entry: dict[str, Any] = {"size": name, "title": title, "metrics": len(metrics),
                                     "command": " ".join(["kpispec", "run", "--all", *options,
                                                          "--sink", "out.parquet"]),
                                     "kpispec": ours}
            if ours["exit"] == 0:
                rows, cols, size = _parquet_rows(out)
                entry.update(rows=rows, columns=cols, parquet_bytes=size)
                out.unlink()
            if ours["exit"] == 0 and name in floors:
                # The same SQL, DuckDB alone: COPY ... TO parquet in a fresh process.
                compiled = subprocess.run([kpispec, "compile", *metrics, "-p", str(project),
                                           "--dialect", "duckdb", *options],
                                          capture_output=True, text=True, check=True, cwd=tmp,
                                          env=env)
                sql_file = work / f"{name}.sql"
                sql_file.write_text(compiled.stdout.strip().rstrip(";"))
                entry["duckdb_copy"] = _measure(
                    [sys.executable, "-c", _COPY, warehouse, str(sql_file), str(out)], tmp, env)
                if out.exists():
                    out.unlink()
            results.append(entry)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse")
    parser.add_argument("--sizes", default=",".join(DEFAULT_SIZES),
                        help=f"comma-separated, of: {', '.join(SIZES)}")
    args = parser.parse_args(argv)
    sizes = tuple(s for s in args.sizes.split(",") if s)
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {unknown}; choose from {', '.join(SIZES)}")
    results = run(args.warehouse, sizes)
    for r in results:
        ours = r["kpispec"]
        floor = r.get("duckdb_copy", {})
        print(f"{r['size']:<16} rows={r.get('rows', '-'):>10}  kpispec peak RSS "
              f"{ours['peak_rss_mib']:8.1f} MiB ({ours['seconds']:.1f} s)  DuckDB COPY "
              f"{floor.get('peak_rss_mib', float('nan')):8.1f} MiB")
    print(json.dumps(results, indent=2))
    return 0 if all(r["kpispec"]["exit"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
