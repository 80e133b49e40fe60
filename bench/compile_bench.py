"""Compile-throughput worker: load a project, then compile every metric.

Run by ``bench/run.py`` in a fresh process, once with the working tree's
kpispec and once with a baseline ref's (``PYTHONPATH`` pointing at a git
worktree), so both sides compile the same generated project in the same way.
It uses only the public API (``kpispec.load_project``, ``Project.compile``)
and imports nothing else from bench/, so it runs against older versions too.

    python bench/compile_bench.py PROJECT_DIR [--dialects duckdb,snowflake,...|all]
        [--limit N] [--repeat R] [--profile OUT.pstats]

Prints one JSON object: the import time, the load (+ validate) times, and per
dialect the compile time of every metric (each time as [wall, cpu] seconds: on
a shared machine the process's CPU time is the steadier figure) (each compiled on its own, with the
default query: month grain, no range), the number of metrics that failed and
the SQL size; then all of them compiled into one query ("batch").
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time


def _compile_all(project, names, dialect):  # type: ignore[no-untyped-def]
    failures: dict[str, str] = {}
    size = 0
    started, cpu = time.perf_counter(), time.process_time()
    for name in names:
        try:
            size += len(project.compile([name], dialect=dialect).sql)
        except Exception as exc:  # a dialect that cannot express a metric is counted, not fatal
            failures[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    return (time.perf_counter() - started, time.process_time() - cpu), failures, size


def _build_once_render_all(project, names, dialects):  # type: ignore[no-untyped-def]
    """Each metric built once and its tree rendered for every dialect (None: a version
    without kpispec.compile.build_query)."""
    try:
        from kpispec.compile import build_query
    except ImportError:
        return None
    failed = 0
    started, cpu = time.perf_counter(), time.process_time()
    for name in names:
        try:
            built = build_query(project.models, project.metrics, project.query([name]))
        except Exception:  # counted, not fatal
            failed += len(dialects)
            continue
        for dialect in dialects:
            try:
                built.render(dialect)
            except Exception:  # a dialect that cannot express a metric is counted, not fatal
                failed += 1
    return {"seconds": (time.perf_counter() - started, time.process_time() - cpu), "failed": failed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("project")
    parser.add_argument("--dialects", default="duckdb",
                        help="comma-separated dialects, or 'all' (every dialect kpispec knows)")
    parser.add_argument("--limit", type=int, default=0,
                        help="compile only the first N metrics (sorted by name); 0: all")
    parser.add_argument("--repeat", type=int, default=1,
                        help="repeat load and the first dialect's compile; report each run")
    parser.add_argument("--profile", metavar="FILE",
                        help="profile one load + first-dialect compile with cProfile into FILE")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    import kpispec

    import_s = time.perf_counter() - started
    from kpispec.compile import dialects as dialect_module

    dialects = (list(dialect_module.DIALECTS) if args.dialects == "all"
                else [d for d in args.dialects.split(",") if d])

    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        project = kpispec.load_project(args.project, packs=False)
        names = sorted(project.metrics)[: args.limit or None]
        _compile_all(project, names, dialects[0])
        profiler.disable()
        profiler.dump_stats(args.profile)
        print(json.dumps({"profile": args.profile, "metrics": len(names)}))
        return 0

    # Warm-up: the first load also builds the plugin registry and the JSON Schema
    # validator; it is reported apart ("first load") from the steady-state loads.
    load_s: list[tuple[float, float]] = []  # (wall, cpu)
    project = None
    for _ in range(max(1, args.repeat) + 1):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        project = kpispec.load_project(args.project, packs=False)
        load_s.append((time.perf_counter() - t0, time.process_time() - c0))
    assert project is not None
    names = sorted(project.metrics)[: args.limit or None]
    # The project cache (what the kpispec command uses): first load fills it, then reads.
    cached_s: list[tuple[float, float]] = []
    import os
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kpispec-bench-cache-") as cache:
        os.environ["KPISPEC_CACHE_DIR"] = cache
        try:
            for _ in range(max(1, args.repeat) + 1):
                gc.collect()
                t0, c0 = time.perf_counter(), time.process_time()
                kpispec.load_project(args.project, packs=False, cache=True)
                cached_s.append((time.perf_counter() - t0, time.process_time() - c0))
        except TypeError:  # a version without the cache
            cached_s = []
    import sqlglot

    try:
        from sqlglot import tokenizer_core
    except ImportError:  # sqlglot before 30
        tokenizer_core = None

    result: dict[str, object] = {
        "kpispec_file": kpispec.__file__,
        "sqlglot_file": sqlglot.__file__,
        "sqlglot_version": getattr(sqlglot, "__version__", "?"),
        # sqlglotc (pip install sqlglot[c]) overlays mypyc-compiled modules on sqlglot's
        "sqlglot_compiled": not str(getattr(tokenizer_core, "__file__", "x.py")).endswith(".py"),
        "import_s": import_s,
        "first_load_s": load_s[0],
        "load_s": load_s[1:],
        "cached_load_s": cached_s[1:],
        "models": len(project.models),
        "metrics_loaded": len(project.metrics),
        "metrics_compiled": len(names),
        "compile": {},
    }
    compile_results: dict[str, object] = {}
    for i, dialect in enumerate(dialects):
        runs = []
        failures: dict[str, str] = {}
        size = 0
        for _ in range(max(1, args.repeat) if i == 0 else 1):
            gc.collect()
            seconds, failures, size = _compile_all(project, names, dialect)
            runs.append(seconds)
        compile_results[dialect] = {"seconds": runs, "failed": len(failures),
                                    "failures": dict(list(failures.items())[:3]),
                                    "sql_bytes": size}
    result["compile"] = compile_results
    if len(dialects) > 1:
        gc.collect()
        result["render_once"] = _build_once_render_all(project, names, dialects)
    # All the metrics in one query (what `kpispec run --all` compiles): one scan per
    # (model, time column) with a conditional aggregate per measure.
    batch: list[tuple[float, float]] = []
    batch_error = ""
    for _ in range(max(1, args.repeat)):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            sql = project.compile(names, dialect=dialects[0]).sql
        except Exception as exc:  # reported, not fatal
            batch_error = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
            break
        batch.append((time.perf_counter() - t0, time.process_time() - c0))
    result["batch"] = {"dialect": dialects[0], "seconds": batch, "error": batch_error,
                       "sql_bytes": len(sql) if batch else 0}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
