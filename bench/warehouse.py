"""The benchmark warehouse: the CRM reference schema in DuckDB at N deals.

Up to ``--tile-above`` deals (500,000 by default) this is exactly
``kpispec demo --rows N --out FILE``, timed. The demo generator is pure
Python and keeps every table in memory before writing (about 850 MB of RSS
and 16 s per 200,000 deals on the 2-core bench machine), so 10 million deals
straight from it would need some 40 GB of memory. Above the threshold the
warehouse is therefore the demo at N / k deals *tiled* k times inside DuckDB:
each copy keeps its timestamps and offsets every key (lead_id, deal_id,
customer_id, visitor_id, ...) by ``copy * 10^d`` past the largest key, so
joins stay many-to-one and every per-period count is k times the base's.
Reps, agents and CRM users stay the same people (their ids are kept), and
the quotas are one row per rep per quarter with k times the amount.

    python bench/warehouse.py OUT.duckdb --deals 10000000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import kpispec_exe

#: Id columns that stay as they are in every copy (people, not rows).
_SHARED_IDS = {"owner_id", "rep_id", "agent_id", "user_id"}
DEFAULT_TILE_ABOVE = 500_000


def run_demo(rows: int, out: Path) -> dict[str, Any]:
    """``kpispec demo --rows N --out FILE``; returns its timings (total, and the write it reports)."""
    started = time.perf_counter()
    proc = subprocess.run([kpispec_exe(), "demo", "--rows", str(rows), "--out", str(out)],
                          capture_output=True, text=True, check=False)
    total = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"kpispec demo --rows {rows} failed ({proc.returncode}): "
                           f"{proc.stderr.strip()[-2000:]}")
    wrote = re.search(r"Wrote .*\(([\d,]+) rows in \d+ tables, ([\d.]+) s\)", proc.stderr)
    return {"command": f"kpispec demo --rows {rows} --out {out.name}", "rows": rows,
            "seconds_total": total,
            "seconds_write": float(wrote.group(2)) if wrote else None,
            "table_rows": int(wrote.group(1).replace(",", "")) if wrote else None}


def tile(base: Path, out: Path, copies: int) -> dict[str, Any]:
    """Write ``out``: every table of ``base`` ``copies`` times, keys offset per copy."""
    import duckdb

    started = time.perf_counter()
    scratch = out.with_name(out.name + ".partial")
    if scratch.exists():
        scratch.unlink()
    con = duckdb.connect(str(scratch))
    try:
        con.execute(f"ATTACH '{base}' AS base (READ_ONLY)")
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'base' "
            "ORDER BY table_name").fetchall()]
        columns = {t: [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'base' "
            "AND table_name = ? ORDER BY ordinal_position", [t]).fetchall()] for t in tables}
        id_columns = {t: [c for c in cols if c.endswith("_id") and c not in _SHARED_IDS]
                      for t, cols in columns.items()}
        largest = 0
        for t, ids in id_columns.items():
            if ids:
                row = con.execute("SELECT " + ", ".join(f"max({c})" for c in ids)
                                  + f" FROM base.{t}").fetchone()
                largest = max([largest, *[v for v in row if v is not None]])
        step = 10 ** len(str(largest))
        counts: dict[str, int] = {}
        for t in tables:
            cols = columns[t]
            if t == "quotas":  # one row per (rep, quarter): scale the amount instead
                select = ", ".join(f"amount * {copies} AS amount" if c == "amount" else c
                                   for c in cols)
                con.execute(f"CREATE TABLE {t} AS SELECT {select} FROM base.{t}")
            else:
                con.execute(f"CREATE TABLE {t} AS SELECT * FROM base.{t} LIMIT 0")
                for k in range(copies):
                    select = ", ".join(f"{c} + {k * step} AS {c}" if c in id_columns[t] else c
                                       for c in cols)
                    con.execute(f"INSERT INTO {t} SELECT {select} FROM base.{t}")
            counts[t] = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        con.execute("DETACH base")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(scratch, out)
    return {"copies": copies, "key_step": step, "seconds": time.perf_counter() - started,
            "table_rows": sum(counts.values()), "counts": counts}


def build(out: str | os.PathLike[str], deals: int, *,
          tile_above: int = DEFAULT_TILE_ABOVE) -> dict[str, Any]:
    """Create the warehouse at ``out`` with ``deals`` deals (rounded down to whole copies)."""
    target = Path(out).resolve()
    info: dict[str, Any] = {"deals_requested": deals, "path": str(target)}
    if deals <= tile_above:
        info["demo"] = run_demo(deals, target)
        info["deals"] = deals
        info["how"] = f"kpispec demo --rows {deals}"
    else:
        copies = math.ceil(deals / tile_above)
        base_rows = deals // copies
        workdir = Path(tempfile.mkdtemp(prefix="kpispec-bench-base-", dir=target.parent))
        try:
            base = workdir / "base.duckdb"
            info["demo"] = run_demo(base_rows, base)
            info["tile"] = tile(base, target, copies)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        info["deals"] = base_rows * copies
        info["how"] = f"kpispec demo --rows {base_rows}, tiled {copies}x in DuckDB"
    info["bytes"] = target.stat().st_size
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--tile-above", type=int, default=DEFAULT_TILE_ABOVE)
    args = parser.parse_args(argv)
    print(json.dumps(build(args.out, args.deals, tile_above=args.tile_above), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
