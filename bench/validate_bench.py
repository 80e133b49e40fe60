"""Validation of one large spec file: time and peak memory as the metric count grows.

Issue 23 (finding 7) measured 199 s and 904 MB to validate one 5 MiB file of
56,011 metrics, on every ``--no-cache`` run. This writes one file of N metrics
(half simple with a filter, half derived from the one before, as ``gen_file``
makes them) for each N, runs ``kpispec --no-cache validate`` on it in a fresh
process, and prints seconds, CPU seconds and peak RSS per N — and the CPU time
per metric, which stays flat when validation is linear.

    python bench/validate_bench.py [--sizes 10000,25000,50000]

Target: 50,000 metrics validated in under 10 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import child_env, kpispec_exe

TARGET_METRICS, TARGET_SECONDS = 50_000, 10.0


def gen_file(root: Path, metrics: int) -> Path:
    """A project of one model and ``metrics`` metrics in one spec file."""
    root.mkdir(parents=True, exist_ok=True)
    lines = ["models:", "  - name: deals", "    table: deals", "    time: created_at",
             "    columns: [created_at, amount, stage, region]", "    dimensions: [stage, region]",
             "metrics:"]
    for i in range(metrics):
        if i % 2 == 0:
            lines += [f"  - name: m{i}", "    type: simple",
                      "    measure: {model: deals, agg: sum, expr: amount, "
                      f"filter: \"stage = 'won' AND amount > {i}\"}}"]
        else:
            lines += [f"  - name: m{i}", "    type: derived", f"    expr: m{i - 1} * 2"]
    (root / "specs.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "kpispec.yaml").write_text("name: bench\n", encoding="utf-8")
    return root


def measure(root: Path, env: dict[str, str]) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([kpispec_exe(), "--no-cache", "validate", "-p", str(root)],
                          capture_output=True, text=True, env=env, timeout=3600)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"validate failed:\n{done.stderr}")
    return {"seconds": round(seconds, 2),
            "cpu_seconds": round(after.ru_utime + after.ru_stime - before.ru_utime
                                 - before.ru_stime, 2),
            "peak_rss_mb": round(after.ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,25000,50000",
                        help="metric counts, comma-separated")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        env = child_env(str(Path(tmp) / "pycache"))
        for n in (int(s) for s in args.sizes.split(",")):
            root = gen_file(Path(tmp) / f"p{n}", n)
            row = {"metrics": n, "bytes": (root / "specs.yaml").stat().st_size,
                   **measure(root, env)}
            row["cpu_ms_per_metric"] = round(1000 * row["cpu_seconds"] / n, 3)
            results.append(row)
            print(f"{n:>8,} metrics {row['bytes'] / 2**20:6.1f} MiB  {row['seconds']:7.2f} s  "
                  f"cpu {row['cpu_seconds']:7.2f} s ({row['cpu_ms_per_metric']:.3f} ms/metric)  "
                  f"peak RSS (max so far) {row['peak_rss_mb']} MB", file=sys.stderr)
    at_target = [r for r in results if r["metrics"] == TARGET_METRICS]
    if at_target:
        met = at_target[0]["seconds"] < TARGET_SECONDS
        print(f"target {TARGET_METRICS:,} metrics < {TARGET_SECONDS:g} s: "
              f"{'met' if met else 'MISSED'}", file=sys.stderr)
    print(json.dumps({"validate": results}))


if __name__ == "__main__":
    main()
