"""Validation of one large spec file: time and peak memory as the metric count grows.

Issue 23 (finding 7) measured 199 s and 904 MB to validate one 5 MiB file of
56,011 metrics, on every ``--no-cache`` run. This writes one file of N metrics
(half simple with a filter, half derived from the one before, as ``gen_file``
makes them) for each N, runs ``kpispec --no-cache validate`` on it in a fresh
process, and prints seconds, CPU seconds and peak RSS of that process per N — and the CPU time
per metric, which stays flat when validation is linear.

    python bench/validate_bench.py [--sizes 10000,25000,50000] [--baseline-ref REF]

With ``--baseline-ref`` each size is also validated by that git ref's kpispec
(exported as ``run.py --baseline-ref`` does: PYTHONPATH = the ref's packages),
alternating with the working tree, and the ratio is printed.

Target: 50,000 metrics validated in under 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import child_env
from run import export_ref

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


def imported_from(env: dict[str, str]) -> str:
    """The kpispec package a child process with ``env`` imports."""
    return subprocess.run([sys.executable, "-c", "import kpispec; print(kpispec.__file__)"],
                          capture_output=True, text=True, env=env, check=True).stdout.strip()


def measure(root: Path, env: dict[str, str]) -> dict[str, float]:
    """Wall time, CPU time and peak RSS of one ``validate`` process (its own rusage)."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "kpispec", "--no-cache", "validate",
                                 "-p", str(root)], stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"validate failed:\n{err.read().decode(errors='replace')}")
    return {"seconds": round(seconds, 2), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,25000,50000",
                        help="metric counts, comma-separated")
    parser.add_argument("--baseline-ref", help="also validate with this git ref's kpispec")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        sides = {"": child_env(str(Path(tmp) / "pycache"))}
        if args.baseline_ref:
            paths = export_ref(args.baseline_ref, Path(tmp) / "baseline")
            sides["baseline"] = child_env(str(Path(tmp) / "pycache-baseline"), paths)
            if not imported_from(sides["baseline"]).startswith(str(Path(tmp) / "baseline")):
                raise SystemExit("the baseline does not import the exported ref's kpispec")
        warm = gen_file(Path(tmp) / "warm", 10)
        for env in sides.values():  # each side's bytecode compiled before anything is timed
            measure(warm, env)
        for n in (int(s) for s in args.sizes.split(",")):
            root = gen_file(Path(tmp) / f"p{n}", n)
            for side, env in sides.items():  # the working tree, then the baseline
                row = {"metrics": n, "bytes": (root / "specs.yaml").stat().st_size,
                       **({"side": f"baseline {args.baseline_ref}"} if side else {}),
                       **measure(root, env)}
                row["cpu_ms_per_metric"] = round(1000 * row["cpu_seconds"] / n, 3)
                results.append(row)
                print(f"{n:>8,} metrics {row['bytes'] / 2**20:6.1f} MiB  {row['seconds']:7.2f} s  "
                      f"cpu {row['cpu_seconds']:7.2f} s ({row['cpu_ms_per_metric']:.3f} ms/metric)  "
                      f"peak RSS {row['peak_rss_mb']} MB"
                      f"{'  ' + row['side'] if side else ''}", file=sys.stderr)
            if args.baseline_ref:
                cur, base = results[-2], results[-1]
                print(f"{n:>8,} metrics: working tree / {args.baseline_ref} CPU "
                      f"{cur['cpu_seconds'] / base['cpu_seconds']:.2f}x", file=sys.stderr)
    at_target = [r for r in results if r["metrics"] == TARGET_METRICS and "side" not in r]
    if at_target:
        met = at_target[0]["seconds"] < TARGET_SECONDS
        print(f"target {TARGET_METRICS:,} metrics < {TARGET_SECONDS:g} s: "
              f"{'met' if met else 'MISSED'}", file=sys.stderr)
    print(json.dumps({"validate": results}))


if __name__ == "__main__":
    main()
