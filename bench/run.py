#!/usr/bin/env python
"""kpispec benchmarks: one command, every figure measured side by side in one run.

    python bench/run.py --quick                 # ~5 minutes: 200,000 deals
    python bench/run.py                         # the issue's sizes: 10,000,000 deals
    python bench/run.py --deals 1000000 --baseline-ref HEAD~3 --json out.json

Sections (each is also a script of its own in bench/):

1. compile   a generated project of 1,000 metrics over 20 models (gen_project.py):
             load + validate, then compile every metric for one dialect and for all
             14 (compile_bench.py, in a fresh process);
             against a baseline git ref (same worker, PYTHONPATH = that ref's packages),
             and against mypyc-compiled sqlglot (sqlglotc, ``pip install sqlglot[c]``).
2. cold      ``kpispec compile close_rate --dialect snowflake`` as a new process
             against ``python -c pass`` (coldstart.py), with phases and -X importtime.
3. sql       kpispec's SQL against hand-written single-pass SQL on DuckDB
             (sqlbench.py, handwritten/*.sql); results must be equal.
4. memory    peak RSS of ``kpispec run --all ... --sink out.parquet`` as the result
             grows, against DuckDB's own COPY TO parquet of the same SQL (memory.py).
5. profile   cProfile of load + compile (profile_summary.py).

Nothing here asserts an absolute threshold: the targets of the issue are printed
next to the figures (met / missed), and the ratios are what to compare across runs.
Exit status: 1 when the hand-written results differ from kpispec's or a section
failed, else 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import coldstart  # noqa: E402
import gen_project  # noqa: E402
import memory  # noqa: E402
import profile_summary  # noqa: E402
import sqlbench  # noqa: E402
import warehouse  # noqa: E402
import whatif  # noqa: E402
from _common import child_env  # noqa: E402

SECTIONS = ("compile", "baseline", "fast", "cold", "sql", "memory", "profile")

#: The issue's targets (informational: printed, never asserted).
TARGET_COMPILE_S = 1.0  # load + validate + compile 1,000 metrics, one dialect
TARGET_COLD_S = 0.4  # kpispec compile close_rate --dialect snowflake, total
TARGET_SQL_RATIO = 1.1  # generated / hand-written


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _fmt_s(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _status(ok: bool) -> str:
    return "met" if ok else "MISSED"


class Report:
    """Rows of the summary table, and everything measured (for --json)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.data: dict[str, Any] = {}
        self.failures: list[str] = []

    def row(self, section: str, what: str, value: str, ratio: str = "", target: str = "") -> None:
        self.rows.append((section, what, value, ratio, target))
        print(f"  {what}: {value}" + (f"  [{ratio}]" if ratio else "") +
              (f"  target: {target}" if target else ""), file=sys.stderr, flush=True)

    def markdown(self) -> str:
        lines = ["| section | measurement | value | ratio | target |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {' | '.join(r)} |" for r in self.rows]
        return "\n".join(lines)


# -- environment ------------------------------------------------------------------------


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def _git(*args: str) -> str:
    proc = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                          check=False)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def environment() -> dict[str, Any]:
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in
                    Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "")
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    dirty = _git("status", "--porcelain", "--", "core", "plugins", "specs", "pyproject.toml")
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(), "cpus": os.cpu_count(), "cpu": cpu, "memory": mem,
        "python": platform.python_version(),
        "versions": {d: _version(d) for d in ("kpispec", "sqlglot", "duckdb", "pyarrow", "PyYAML",
                                              "jsonschema", "Jinja2", "pluggy", "click")},
        "git_head": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_files": len(dirty.splitlines()) if dirty else 0,
        "loadavg_start": os.getloadavg(),
    }


# -- 1. compile ---------------------------------------------------------------------------


def _worker(project: Path, env: dict[str, str], *options: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(HERE / "compile_bench.py"), str(project), *options],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"compile_bench.py {' '.join(options)} failed: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _alternate(project: Path, envs: dict[str, dict[str, str]], rounds: int,
               *options: str) -> dict[str, list[dict[str, Any]]]:
    """Run the compile worker once per environment per round, alternating (A B A B ...),
    so that a busy machine slows every side alike."""
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in envs}
    for _ in range(max(1, rounds)):
        for label, env in envs.items():
            runs[label].append(_worker(project, env, *options))
    return runs


def _medians(runs: list[dict[str, Any]], dialect: str = "duckdb") -> tuple[float, float, float, float]:
    """(load wall, load cpu, compile wall, compile cpu): medians over every run and repeat."""
    loads = [x for r in runs for x in r["load_s"]]
    compiles = [x for r in runs for x in r["compile"][dialect]["seconds"]]
    return (_med([w for w, _ in loads]), _med([c for _, c in loads]),
            _med([w for w, _ in compiles]), _med([c for _, c in compiles]))


def _load_compile(result: dict[str, Any], dialect: str = "duckdb") -> tuple[float, float, float, float]:
    """(load wall, load cpu, compile wall, compile cpu): medians of the steady-state runs."""
    loads = result["load_s"]
    runs = result["compile"][dialect]["seconds"]
    return (_med([w for w, _ in loads]), _med([c for _, c in loads]),
            _med([w for w, _ in runs]), _med([c for _, c in runs]))


def section_compile(args: argparse.Namespace, ctx: dict[str, Any], report: Report) -> None:
    project = ctx["tmp"] / "generated"
    started = time.perf_counter()
    names = gen_project.generate(project, metrics=args.metrics, models=args.models)
    report.data["generate_s"] = time.perf_counter() - started
    ctx["project"] = project
    env = child_env(str(ctx["tmp"] / "pycache"))
    log(f"compile: {len(names)} metrics, {args.models} models, duckdb (x{args.repeat})")
    one = _worker(project, env, "--dialects", "duckdb", "--repeat", str(args.repeat))
    ctx["current_compile"] = one
    sample = args.dialect_sample or len(names)
    log(f"compile: every dialect, {sample} metrics")
    every = _worker(project, env, "--dialects", "all", "--limit", str(sample))
    report.data["compile"] = {"one_dialect": one, "all_dialects": every}
    load_w, load_c, comp_w, comp_c = _load_compile(one)
    n = one["metrics_compiled"]
    section = "1 compile"
    report.row(section, f"generate project ({n} metrics, {one['models']} models)",
               _fmt_s(report.data["generate_s"]))
    report.row(section, "first load_project (plugins, schema, YAML, checks)", _fmt_s(one["first_load_s"][0]))
    report.row(section, "load + validate (steady state)", f"{_fmt_s(load_w)} (CPU {_fmt_s(load_c)})")
    report.row(section, f"compile {n} metrics, duckdb", f"{_fmt_s(comp_w)} (CPU {_fmt_s(comp_c)})",
               f"{comp_w / n * 1000:.1f} ms/metric")
    total = load_w + comp_w
    report.row(section, f"load + validate + compile {n} one by one, one dialect", _fmt_s(total),
               f"{total / TARGET_COMPILE_S:.1f}x the target")
    batch = one.get("batch") or {}
    if batch.get("seconds"):
        batch_w = _med([w for w, _ in batch["seconds"]])
        batch_c = _med([c for _, c in batch["seconds"]])
        report.row(section, f"compile all {n} metrics into one query, duckdb",
                   f"{_fmt_s(batch_w)} (CPU {_fmt_s(batch_c)})",
                   f"{batch['sql_bytes'] / 1024:.0f} KiB of SQL")
        total = load_w + batch_w
        report.row(section, f"load + validate + compile all {n} (one query), one dialect",
                   _fmt_s(total), f"{total / TARGET_COMPILE_S:.2f}x the target",
                   f"< {TARGET_COMPILE_S:.0f} s: {_status(total < TARGET_COMPILE_S)}")
    elif batch.get("error"):
        report.row(section, f"compile all {n} metrics into one query", f"failed: {batch['error']}")
    if one.get("cached_load_s"):
        cached_w = _med([w for w, _ in one["cached_load_s"]])
        report.row(section, "load from the project cache (unchanged files)", _fmt_s(cached_w),
                   f"{cached_w / load_w:.2f}x a full load")
    per = {d: _med([w for w, _ in r["seconds"]]) for d, r in every["compile"].items()}
    failed = {d: r["failed"] for d, r in every["compile"].items() if r["failed"]}
    m = every["metrics_compiled"]
    all_s = sum(per.values())
    report.row(section, f"compile {m} metrics x {len(per)} dialects", _fmt_s(all_s),
               f"{all_s / per['duckdb']:.1f}x one dialect (duckdb {_fmt_s(per['duckdb'])})")
    once = every.get("render_once")
    if once:
        report.row(section, f"compile {m} metrics x {len(per)} dialects, each built once and "
                            "rendered per dialect", _fmt_s(once["seconds"][0]),
                   f"{once['seconds'][0] / all_s:.2f}x building per dialect")
    slowest = sorted(per.items(), key=lambda kv: -kv[1])[:3]
    report.row(section, "slowest dialects (same metrics)",
               ", ".join(f"{d} {_fmt_s(s)}" for d, s in slowest),
               f"fastest {min(per, key=per.get)} {_fmt_s(min(per.values()))}")
    if failed:
        report.row(section, "metrics a dialect cannot compile", json.dumps(failed))
    report.data["compile_estimate_all_1000_x14_s"] = all_s / m * n


# -- baseline ref -------------------------------------------------------------------------


def export_ref(ref: str, into: Path) -> list[str]:
    """The ref's core/, plugins/ and specs/ via ``git archive`` (no worktree, no index change);
    returns the PYTHONPATH entries that mirror pyproject's package-dir mapping."""
    commit = _git("rev-parse", "--verify", f"{ref}^{{commit}}")
    if not commit:
        raise RuntimeError(f"--baseline-ref {ref!r} is not a commit of {REPO}")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit,
                              "core", "plugins", "specs"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(into, filter="data")  # our own repository's tree
        else:
            tar.extractall(into)
    # package-dir: kpispec = core/kpispec, kpispec_builtins / kpispec_crm = plugins/...,
    # kpispec_specs = specs (a directory of another name: linked under its package name).
    shim = into / "_packages"
    shim.mkdir()
    (shim / "kpispec_specs").symlink_to(into / "specs", target_is_directory=True)
    return [str(into / "core"), str(into / "plugins"), str(shim)]


def section_baseline(args: argparse.Namespace, ctx: dict[str, Any], report: Report) -> None:
    if "project" not in ctx:
        raise RuntimeError("needs the compile section")
    into = ctx["tmp"] / "baseline"
    into.mkdir()
    paths = export_ref(args.baseline_ref, into)
    ctx["baseline_path"] = paths
    commit = _git("rev-parse", "--short", args.baseline_ref)
    limit = str(args.compare_limit)
    env_base = child_env(str(ctx["tmp"] / "pycache-baseline"), paths)
    env_cur = child_env(str(ctx["tmp"] / "pycache"))
    log(f"baseline: {args.baseline_ref} ({commit}) vs working tree, {limit or 'all'} metrics, "
        f"{args.compare_rounds} alternating rounds")
    runs = _alternate(ctx["project"], {"baseline": env_base, "current": env_cur},
                      args.compare_rounds, "--dialects", "duckdb", "--limit", limit)
    base, cur = runs["baseline"][0], runs["current"][0]
    if not str(base["kpispec_file"]).startswith(str(into)):
        raise RuntimeError(f"the baseline imported {base['kpispec_file']}, not the exported ref")
    report.data["baseline"] = {"ref": args.baseline_ref, "commit": commit, "runs": runs}
    bl, blc, bc, bcc = _medians(runs["baseline"])
    cl, clc, cc, ccc = _medians(runs["current"])
    n = cur["metrics_compiled"]
    section = f"vs {args.baseline_ref} ({commit})"
    report.row(section, "load + validate: working tree / baseline", f"{_fmt_s(cl)} / {_fmt_s(bl)}",
               f"{cl / bl:.2f}x (CPU {clc / blc:.2f}x)")
    report.row(section, f"compile {n} metrics (duckdb): working tree / baseline",
               f"{_fmt_s(cc)} / {_fmt_s(bc)}", f"{cc / bc:.2f}x (CPU {ccc / bcc:.2f}x)")


# -- sqlglotc -------------------------------------------------------------------------------


def section_fast(args: argparse.Namespace, ctx: dict[str, Any], report: Report) -> None:
    if "project" not in ctx:
        raise RuntimeError("needs the compile section")
    version = _version("sqlglot")
    target = ctx["tmp"] / "sqlglotc"
    log(f"fast: pip install --target <tmp> sqlglot=={version} sqlglotc=={version}")
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--disable-pip-version-check", "--target", str(target),
                           f"sqlglot=={version}", f"sqlglotc=={version}"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"sqlglotc=={version} is not installable here: {proc.stderr.strip()[-800:]}")
    limit = str(args.compare_limit)
    env_fast = child_env(str(ctx["tmp"] / "pycache-fast"), [str(target)])
    env_plain = child_env(str(ctx["tmp"] / "pycache"))
    runs = _alternate(ctx["project"], {"sqlglotc": env_fast, "plain": env_plain},
                      args.compare_rounds, "--dialects", "duckdb", "--limit", limit)
    fast, plain = runs["sqlglotc"][0], runs["plain"][0]
    if not fast["sqlglot_compiled"]:
        raise RuntimeError(f"sqlglotc did not load (sqlglot from {fast['sqlglot_file']})")
    # Cold start with and without it, alternately.
    module = [sys.executable, "-m", "kpispec", *coldstart.COMMAND]
    empty = ctx["tmp"] / "empty-fast"
    empty.mkdir()
    for env in (env_plain, env_fast):
        coldstart._timed(module, str(empty), env)
    cold: dict[str, list[float]] = {"plain": [], "sqlglotc": []}
    for _ in range(args.cold_repeat):
        cold["plain"].append(coldstart._timed(module, str(empty), env_plain)[0])
        cold["sqlglotc"].append(coldstart._timed(module, str(empty), env_fast)[0])
    report.data["fast"] = {"sqlglotc": version, "runs": runs, "cold": cold}
    fl, flc, fc, fcc = _medians(runs["sqlglotc"])
    pl, plc, pc, pcc = _medians(runs["plain"])
    n = plain["metrics_compiled"]
    section = f"sqlglotc {version}"
    report.row(section, "load + validate: sqlglotc / plain sqlglot", f"{_fmt_s(fl)} / {_fmt_s(pl)}",
               f"{fl / pl:.2f}x (CPU {flc / plc:.2f}x)")
    report.row(section, f"compile {n} metrics (duckdb): sqlglotc / plain", f"{_fmt_s(fc)} / {_fmt_s(pc)}",
               f"{fc / pc:.2f}x (CPU {fcc / pcc:.2f}x)")
    cs, cp = _med(cold["sqlglotc"]), _med(cold["plain"])
    report.row(section, "cold start (python -m kpispec compile ...): sqlglotc / plain",
               f"{_fmt_s(cs)} / {_fmt_s(cp)}", f"{cs / cp:.2f}x")


# -- 2. cold start ----------------------------------------------------------------------------


def section_cold(args: argparse.Namespace, ctx: dict[str, Any], report: Report) -> None:
    log(f"cold start: {args.cold_repeat} runs each, alternating")
    result = coldstart.run(args.cold_repeat, baseline_path=ctx.get("baseline_path"))
    report.data["cold"] = result
    commands = result["commands"]
    base = commands["python -c pass"]["wall_median_s"]
    ours = commands["kpispec compile close_rate --dialect snowflake"]["wall_median_s"]
    section = "2 cold start"
    report.row(section, "python -c pass", _fmt_s(base))
    report.row(section, "kpispec compile close_rate --dialect snowflake", _fmt_s(ours),
               f"{ours / base:.1f}x python -c pass; +{_fmt_s(ours - base)}",
               f"< {TARGET_COLD_S} s: {_status(ours < TARGET_COLD_S)}")
    nocache = commands.get("kpispec --no-cache compile close_rate --dialect snowflake")
    if nocache:
        report.row(section, "kpispec --no-cache compile close_rate --dialect snowflake",
                   _fmt_s(nocache["wall_median_s"]),
                   f"{nocache['wall_median_s'] / base:.1f}x python -c pass (every pack file read and checked)")
    for name in ("python -m kpispec compile close_rate --dialect snowflake", "kpispec --version",
                 "python -c 'import kpispec'"):
        if name in commands:
            report.row(section, name, _fmt_s(commands[name]["wall_median_s"]))
    p = result["phases"]
    report.row(section, "phases in one process: import CLI / plugins / load pack / compile",
               " / ".join(_fmt_s(p[k]) for k in ("import_cli_s", "plugins_s", "load_project_s",
                                                  "compile_s")))
    heavy = [m for m in p["modules_after_compile"] if m in ("duckdb", "pyarrow", "jinja2", "rich",
                                                           "pandas", "numpy", "psycopg", "pymysql",
                                                           "pyspark", "chdb", "datafusion", "openpyxl")]
    report.row(section, "heavy modules a compile imports", ", ".join(heavy) or "none",
               "", "no DuckDB/Jinja2/driver: " + _status(not heavy))
    it = result["importtime"]
    top = ", ".join(f"{k} {v:.0f}" for k, v in list(it["by_package_ms"].items())[:6])
    report.row(section, "-X importtime by package (ms)", f"total {it['total_ms']:.0f}: {top}")
    if "baseline" in result:
        b = result["baseline"]
        report.row(section, f"python -m kpispec compile ...: working tree / {args.baseline_ref}",
                   f"{_fmt_s(b['current']['wall_median_s'])} / {_fmt_s(b['baseline']['wall_median_s'])}",
                   f"{b['current']['wall_median_s'] / b['baseline']['wall_median_s']:.2f}x")


# -- warehouse, 3. SQL, 4. memory -------------------------------------------------------------


def _warehouse(args: argparse.Namespace, ctx: dict[str, Any], report: Report) -> str:
    if "warehouse" in ctx:
        return str(ctx["warehouse"])
    if args.warehouse:
        ctx["warehouse"] = args.warehouse
        report.data["warehouse"] = {"path": args.warehouse, "reused": True}
        report.row("warehouse", "reused", args.warehouse)
        return args.warehouse
    where = Path(args.warehouse_dir) if args.warehouse_dir else ctx["tmp"]
    out = Path(tempfile.mkdtemp(prefix="kpispec-bench-wh-", dir=where)) / "crm.duckdb"
    ctx.setdefault("cleanup", []).append(out.parent)
    log(f"warehouse: {args.deals:,} deals -> {out}")
    info = warehouse.build(out, args.deals, tile_above=args.tile_above)
    report.data["warehouse"] = info
    ctx["warehouse"] = str(out)
    demo = info["demo"]
    report.row("warehouse", f"{demo['command']}",
               f"{_fmt_s(demo['seconds_total'])} ({demo['table_rows']:,} rows; write "
               f"{demo['seconds_write']} s)")
    if "tile" in info:
        t = info["tile"]
        report.row("warehouse", f"tiled {t['copies']}x in DuckDB to {info['deals']:,} deals",
                   f"{_fmt_s(t['seconds'])} ({t['table_rows']:,} rows, {info['bytes'] / 2**30:.2f} GiB)")
    return str(out)


def section_sql(args: argparse.Namespace, ctx: dict[str, Any], report: Report) -> None:
    path = _warehouse(args, ctx, report)
    log(f"sql: generated vs hand-written, {args.sql_repeat} runs each, alternating")
    results = sqlbench.run(path, args.sql_repeat)
    report.data["sql"] = results
    deals = report.data.get("warehouse", {}).get("deals", "?")
    for r in results:
        section = f"3 SQL ({deals:,} deals)" if isinstance(deals, int) else "3 SQL"
        verdict = "equal" if r["equal"] else "DIFFERENT: " + "; ".join(r["problems"][:3])
        report.row(section, f"{r['title']} ({r['rows']} rows): kpispec / hand-written",
                   f"{_fmt_s(r['kpispec_median_s'])} / {_fmt_s(r['hand_median_s'])}; results {verdict}",
                   f"{r['ratio']:.2f}x",
                   f"<= {TARGET_SQL_RATIO}x: {_status(r['ratio'] <= TARGET_SQL_RATIO)}")
        if not r["equal"]:
            report.failures.append(f"sql {r['case']}: results differ")


def section_memory(args: argparse.Namespace, ctx: dict[str, Any], report: Report) -> None:
    path = _warehouse(args, ctx, report)
    sizes = tuple(s for s in args.memory_sizes.split(",") if s)
    log(f"memory: {', '.join(sizes)}")
    results = memory.run(path, sizes)
    report.data["memory"] = results
    for r in results:
        ours = r["kpispec"]
        if ours["exit"] != 0:
            report.row("4 memory", r["title"], "FAILED: " + ours.get("stderr", "")[-300:])
            report.failures.append(f"memory {r['size']}: kpispec run failed")
            continue
        floor = r.get("duckdb_copy")
        what = (f"{r['title']}: {r['rows']:,} rows x {r['columns']} cols "
                f"({r['parquet_bytes'] / 2**20:.1f} MiB parquet)")
        value = f"peak RSS {ours['peak_rss_mib']:.0f} MiB in {_fmt_s(ours['seconds'])}"
        if floor and floor.get("exit") == 0:
            fr = floor["peak_rss_mib"]
            report.row("4 memory", what, f"{value}; DuckDB COPY alone {fr:.0f} MiB",
                       f"+{ours['peak_rss_mib'] - fr:.0f} MiB over DuckDB")
        else:
            report.row("4 memory", what, value)


# -- 5. profile -----------------------------------------------------------------------------


def section_profile(args: argparse.Namespace, ctx: dict[str, Any], report: Report) -> None:
    if "project" not in ctx:
        raise RuntimeError("needs the compile section")
    out = ctx["tmp"] / "compile.pstats"
    limit = str(args.profile_limit)
    log(f"profile: load + compile {limit or 'all'} metrics under cProfile")
    _worker(ctx["project"], child_env(str(ctx["tmp"] / "pycache")), "--dialects", "duckdb",
            "--limit", limit, "--profile", str(out))
    summary = profile_summary.summarise(str(out), top=25)
    report.data["profile"] = summary
    total = summary["total_s"]
    top = ", ".join(f"{k} {v['share'] * 100:.0f}%" for k, v in list(summary["areas"].items())[:6])
    report.row("5 profile", f"cProfile, load + compile {limit or 'all'} metrics (self time by area)", top,
               f"{total:.1f} s profiled")
    cum = {f["function"].rsplit(":", 1)[0] if f["function"].count(":") > 1 else f["function"]:
           f["cumulative_s"] for f in summary["top_cumulative"]}
    keys = [k for k in cum if k.startswith("kpispec")][:8]
    report.row("5 profile", "kpispec functions by cumulative time",
               ", ".join(f"{k.split(':')[-1]} {cum[k] / total * 100:.0f}%" for k in keys))
    # Unprofiled: CPU inside each step of compile_query (whatif.compile_phases).
    import kpispec

    project = kpispec.load_project(ctx["project"], packs=False)
    names = sorted(project.metrics)[: min(args.profile_limit or 200, 200)]
    steps = {}
    for dialect in ("duckdb", "snowflake"):
        whatif.compile_phases(project, names[:20], dialect)  # warm
        phases = whatif.compile_phases(project, names, dialect)
        steps[dialect] = phases
        total = phases["total"]
        report.row("5 profile", f"compile {len(names)} metrics, {dialect}: CPU by step (unprofiled)",
                   ", ".join(f"{k.strip()} {v / total * 100:.0f}%" for k, v in phases.items()
                             if k != "total" and v / total >= 0.01), _fmt_s(total))
    report.data["compile_steps"] = steps


# -- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (200,000 deals, 100-metric dialect sample, fewer repeats)")
    parser.add_argument("--deals", type=int, help="deals in the warehouse (default 10,000,000; "
                                                  "--quick 200,000)")
    parser.add_argument("--metrics", type=int, default=1000, help="metrics in the generated project")
    parser.add_argument("--models", type=int, default=20, help="models in the generated project")
    parser.add_argument("--dialect-sample", type=int,
                        help="metrics compiled for every dialect (default: all; --quick 100)")
    parser.add_argument("--compare-limit", type=int,
                        help="metrics compiled in the baseline and sqlglotc comparisons "
                             "(default: all; --quick 300)")
    parser.add_argument("--profile-limit", type=int,
                        help="metrics compiled under cProfile (default 500; --quick 300; 0: all)")
    parser.add_argument("--repeat", type=int, help="repeats of load and one-dialect compile "
                                                   "(default 3; --quick 1)")
    parser.add_argument("--compare-rounds", type=int, default=2,
                        help="alternating rounds of each side in the baseline and sqlglotc comparisons")
    parser.add_argument("--cold-repeat", type=int, help="cold-start runs per command (default 20; --quick 7)")
    parser.add_argument("--sql-repeat", type=int, help="runs per SQL query (default 3; --quick 5)")
    parser.add_argument("--memory-sizes", default=",".join(memory.DEFAULT_SIZES),
                        help=f"result sizes for the memory section, of: {', '.join(memory.SIZES)}")
    parser.add_argument("--baseline-ref", default="HEAD",
                        help="git ref compared with the working tree (default HEAD: the last commit; "
                             "e.g. HEAD~5, a tag); 'none' to skip")
    parser.add_argument("--warehouse", help="use this DuckDB file instead of building one")
    parser.add_argument("--warehouse-dir", help="build the warehouse in a new directory under this one "
                                                "(default: the run's temporary directory)")
    parser.add_argument("--keep-warehouse", action="store_true",
                        help="do not delete the warehouse built by this run (its path is printed)")
    parser.add_argument("--tile-above", type=int, default=warehouse.DEFAULT_TILE_ABOVE,
                        help="above this many deals, tile a smaller demo (see warehouse.py)")
    parser.add_argument("--only", help=f"comma-separated sections, of: {', '.join(SECTIONS)}")
    parser.add_argument("--skip", default="", help="comma-separated sections to leave out")
    parser.add_argument("--json", dest="json_out", help="write every measurement to this file")
    args = parser.parse_args(argv)

    quick = args.quick
    args.deals = args.deals or (200_000 if quick else 10_000_000)
    args.dialect_sample = args.dialect_sample if args.dialect_sample is not None else (100 if quick else 0)
    args.compare_limit = args.compare_limit if args.compare_limit is not None else (300 if quick else 0)
    args.profile_limit = args.profile_limit if args.profile_limit is not None else (300 if quick else 500)
    args.repeat = args.repeat or (1 if quick else 3)
    args.cold_repeat = args.cold_repeat or (7 if quick else 20)
    args.sql_repeat = args.sql_repeat or (5 if quick else 3)
    wanted = [s for s in (args.only.split(",") if args.only else SECTIONS) if s]
    skip = set(filter(None, args.skip.split(",")))
    if args.baseline_ref.lower() == "none":
        skip.add("baseline")
    unknown = [s for s in [*wanted, *skip] if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    sections = [s for s in SECTIONS if s in wanted and s not in skip]

    report = Report()
    env = environment()
    report.data["environment"] = env
    command = "python bench/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    report.data["command"] = command.strip()
    log(f"{command.strip()} on {env['platform']}, {env['cpus']} CPUs, load {env['loadavg_start']}")
    steps: dict[str, Callable[[argparse.Namespace, dict[str, Any], Report], None]] = {
        "compile": section_compile, "baseline": section_baseline, "fast": section_fast,
        "cold": section_cold, "sql": section_sql, "memory": section_memory,
        "profile": section_profile,
    }
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="kpispec-bench-"))
    ctx: dict[str, Any] = {"tmp": tmp}
    try:
        for name in sections:
            t0 = time.perf_counter()
            try:
                steps[name](args, ctx, report)
            except Exception as exc:
                report.failures.append(f"{name}: {type(exc).__name__}: {exc}")
                report.row(name, "FAILED", f"{type(exc).__name__}: {str(exc)[:300]}")
                traceback.print_exc()
            report.data.setdefault("section_seconds", {})[name] = time.perf_counter() - t0
    finally:
        if args.keep_warehouse and "warehouse" in ctx and not args.warehouse:
            keep = Path(ctx["warehouse"])
            ctx["cleanup"] = [p for p in ctx.get("cleanup", []) if p != keep.parent]
            if keep.parent.is_relative_to(tmp):
                moved = Path(tempfile.mkdtemp(prefix="kpispec-bench-wh-")) / keep.name
                shutil.move(str(keep), moved)
                keep = moved
            log(f"kept the warehouse: {keep}")
        for path in ctx.get("cleanup", []):
            shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    env["loadavg_end"] = os.getloadavg()
    report.data["seconds"] = time.perf_counter() - started
    report.data["failures"] = report.failures

    print(f"kpispec bench — {env['date']}")
    print(f"machine: {env['platform']}, {env['cpus']} CPUs ({env['cpu']}), {env['memory']}; "
          f"Python {env['python']}; load average {env['loadavg_start'][0]:.1f} at start, "
          f"{env['loadavg_end'][0]:.1f} at end")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()) +
          f"; git {env['git_head']}" + (f" + {env['uncommitted_files']} uncommitted files"
                                        if env["uncommitted_files"] else ""))
    print(f"command: {report.data['command']} ({report.data['seconds'] / 60:.1f} min)\n")
    print(report.markdown())
    if report.failures:
        print("\nfailures:\n" + "\n".join(f"- {f}" for f in report.failures))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report.data, indent=2, default=str))
        log(f"wrote {args.json_out}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
