"""What-if estimates behind the recommendations in bench/README.md.

Each candidate optimisation is *simulated* by patching kpispec (or sqlglot) in
this process only — nothing on disk changes — and timed against the
unpatched code, alternately, in CPU time. Where a patch must not change the
result, the SQL (or the loaded documents) are checked to be identical. These
are estimates for deciding what to build first; once an optimisation lands in
core, its line here measures nothing and can go.

    python bench/whatif.py [--metrics 1000] [--limit 200] [--repeat 3]

* spine cache      build the period spine (digits/numbers/periods CTEs) once per
                   (dialect, grain, range, calendar, scans) and copy it
* no re-parsing    memoise sqlglot.parse_one for the strings kpispec hands to
                   builder methods (``from_("periods")``, ``join(name, join_type=
                   "left")`` parses ``FROM _ LEFT JOIN _`` on every call): what
                   building the nodes directly would save
* pretty=False     render without pretty-printing (``kpispec run`` never shows it)
* C YAML           compose with libyaml (``yaml.CSafeLoader``), same constructors
* no JSON Schema   load without schema validation: the upper bound of a faster
                   validator (or of caching validated files)
* pickled pack     the CRM pack's loaded project from a pickle, against loading it
"""

from __future__ import annotations

import argparse
import functools
import json
import pickle
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_project

Patch = Callable[[], Any]


def _bounds(plan: Any) -> Any:
    """The one CTE of an unbounded spine that depends on the query's scans (as build.py builds it)."""
    import datetime as dt

    from kpispec.compile import build, nodes, spine
    from sqlglot import exp

    q = plan.query
    first_lit = q.calendar.period_start(q.start, q.grain) if q.start else None
    last_lit = q.calendar.period_start(q.end - dt.timedelta(days=1), q.grain) if q.end else None
    all_periods = None
    for part in spine.bounds_parts(plan):
        all_periods = part if all_periods is None else exp.union(all_periods, part, distinct=False)
    sub = exp.alias_(exp.Subquery(this=all_periods), "scanned", table=True)
    first_expr = (nodes.date_literal(first_lit) if first_lit
                  else exp.Min(this=exp.column(build.PERIOD)))
    last_expr = (nodes.date_literal(last_lit) if last_lit
                 else exp.Max(this=exp.column(build.PERIOD)))
    return exp.select(exp.alias_(first_expr, "first_period"),
                      exp.alias_(last_expr, "last_period")).from_(sub)


@contextmanager
def spine_cache() -> Iterator[None]:
    """digits / numbers / periods built once per (grain, range, calendar) and copied;
    only an unbounded spine's ``bounds`` CTE (which reads the query's scans) is rebuilt."""
    from kpispec.compile import build

    original = build.spine_ctes
    cache: dict[Any, list[tuple[str, Any]]] = {}

    def cached(plan: Any) -> list[tuple[str, Any]]:
        q = plan.query
        key = (q.grain, q.start, q.end, repr(q.calendar))
        if key not in cache:
            cache[key] = original(plan)
        return [(name, _bounds(plan) if name == "bounds" else tree.copy())
                for name, tree in cache[key]]

    build.spine_ctes = cached
    try:
        yield
    finally:
        build.spine_ctes = original


@contextmanager
def parse_memo() -> Iterator[None]:
    import sqlglot

    original = sqlglot.parse_one
    cache: dict[Any, Any] = {}

    def memo(sql: str, read: Any = None, dialect: Any = None, into: Any = None, **opts: Any) -> Any:
        try:
            key = (sql, read, dialect, into, tuple(sorted(opts.items())))
            hash(key)
        except TypeError:
            return original(sql, read=read, dialect=dialect, into=into, **opts)
        if key not in cache:
            cache[key] = original(sql, read=read, dialect=dialect, into=into, **opts)
        return cache[key].copy()

    sqlglot.parse_one = memo
    try:
        yield
    finally:
        sqlglot.parse_one = original


@contextmanager
def c_yaml() -> Iterator[None]:
    import yaml
    from kpispec.spec import loader

    original = loader._Loader

    class CLoader(yaml.CSafeLoader):  # type: ignore[misc]
        def __init__(self, stream: str, file: str) -> None:
            super().__init__(stream)
            self.file = file
            self.aliases = 0

        construct_spec_mapping = original.construct_spec_mapping
        construct_spec_sequence = original.construct_spec_sequence

    CLoader.yaml_implicit_resolvers = original.yaml_implicit_resolvers
    CLoader.yaml_constructors = dict(original.yaml_constructors)
    loader._Loader = CLoader
    try:
        yield
    finally:
        loader._Loader = original


@contextmanager
def no_schema() -> Iterator[None]:
    from kpispec import _loading, _settings

    modules = (_loading, _settings)  # where spec files and kpispec.yaml are schema-checked
    originals = [module.schema_errors for module in modules]
    for module in modules:
        module.schema_errors = lambda *a, **k: []
    try:
        yield
    finally:
        for module, original in zip(modules, originals):
            module.schema_errors = original


def _cpu(fn: Callable[[], Any]) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


def compare(label: str, plain: Callable[[], Any], patched: Callable[[], Any], repeat: int,
            check: Callable[[Any, Any], bool] | None = None) -> dict[str, Any]:
    """CPU seconds of ``plain`` and ``patched``, alternately after a warm-up; ratio of medians."""
    same = check(plain(), patched()) if check else None
    a, b = [], []
    for _ in range(repeat):
        a.append(_cpu(plain))
        b.append(_cpu(patched))
    p, q = statistics.median(a), statistics.median(b)
    result = {"what": label, "plain_s": p, "patched_s": q, "ratio": q / p, "same_result": same}
    print(f"{label:62s} {p:7.3f} s -> {q:7.3f} s  ({q / p:.2f}x)"
          + ("" if same is None else f"  same result: {same}"), file=sys.stderr, flush=True)
    return result


def patched(work: Callable[[], Any], *patches: Callable[[], Any]) -> Callable[[], Any]:
    """``work`` run under ``patches`` (each patch's caches persist between calls)."""
    def run() -> Any:
        with _combined(*patches):
            return work()
    return run


def compile_phases(project: Any, names: list[str], dialect: str) -> dict[str, float]:
    """Where unprofiled compile time goes: seconds (CPU) inside each step of compile_query,
    measured by wrapping the step functions (the rest is rendering with ``tree.sql``)."""
    import kpispec.compile as compile_module
    from kpispec.compile import build
    from kpispec.compile.dialects import Spelling

    spent: dict[str, float] = {}
    targets = [(compile_module, "build_plan", "plan"), (compile_module, "build_select", "build_select"),
               (build, "spine_ctes", "  of which the period spine"),
               (Spelling, "lower", "spell kpispec's nodes"), (Spelling, "portable", "portable"),
               (compile_module, "_quote_where_needed", "quote identifiers"),
               (compile_module, "_modify", "modify_query plugins")]
    originals = [(module, attr, getattr(module, attr)) for module, attr, _ in targets]

    def timed(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.process_time() - started
        return wrapper

    for module, attr, label in targets:
        setattr(module, attr, timed(getattr(module, attr), label))
    try:
        started = time.process_time()
        for name in names:
            project.compile([name], dialect=dialect)
        total = time.process_time() - started
    finally:
        for module, attr, fn in originals:
            setattr(module, attr, fn)
    steps = sum(v for k, v in spent.items() if not k.startswith("  "))
    return {"total": total, **spent, "render (tree.sql) and the rest": total - steps}


def _marks(value: Any) -> Any:
    """A loaded document with its marks, for comparing two loaders."""
    if isinstance(value, dict):
        return ({k: _marks(v) for k, v in value.items()}, getattr(value, "mark", None),
                getattr(value, "key_marks", None), getattr(value, "value_marks", None))
    if isinstance(value, list):
        return ([_marks(v) for v in value], getattr(value, "mark", None),
                getattr(value, "item_marks", None))
    return value


def run(metrics: int = 1000, limit: int = 200, repeat: int = 3) -> list[dict[str, Any]]:
    import kpispec
    from kpispec.spec.loader import load_yaml

    results = []
    with tempfile.TemporaryDirectory(prefix="kpispec-bench-whatif-") as tmp:
        root = Path(tmp) / "generated"
        gen_project.generate(root, metrics=metrics)
        project = kpispec.load_project(root, packs=False)
        names = sorted(project.metrics)[:limit]

        def same(a: Any, b: Any) -> bool:
            return bool(a == b)

        for dialect in ("duckdb", "snowflake"):
            compile_phases(project, names[:20], dialect)  # warm
            phases = compile_phases(project, names, dialect)
            total = phases["total"]
            print(f"compile {len(names)} metrics, {dialect}, CPU by step: " + ", ".join(
                f"{k.strip()} {v:.2f} s ({v / total * 100:.0f}%)" for k, v in phases.items()),
                file=sys.stderr, flush=True)
            results.append({"what": f"compile {len(names)} metrics, {dialect}: CPU by step",
                            "phases_s": phases})

        for dialect in ("duckdb", "snowflake"):
            def compile_all(d: str = dialect, pretty: bool = True) -> list[str]:
                return [project.compile([n], dialect=d, pretty=pretty).sql for n in names]

            what = f"compile {len(names)} metrics, {dialect}"
            results.append(compare(f"{what}: spine cache", compile_all,
                                   patched(compile_all, spine_cache), repeat, same))
            results.append(compare(f"{what}: no re-parsing", compile_all,
                                   patched(compile_all, parse_memo), repeat, same))
            results.append(compare(f"{what}: spine cache + no re-parsing", compile_all,
                                   patched(compile_all, spine_cache, parse_memo), repeat, same))
            results.append(compare(f"{what}: pretty=False", compile_all,
                                   functools.partial(compile_all, dialect, False), repeat))

        files = sorted(root.glob("*.yaml"))

        def load_docs() -> list[Any]:
            return [_marks(load_yaml(f, f.name, {})) for f in files]

        results.append(compare(f"load_yaml of the {len(files)} generated files: C YAML", load_docs,
                               patched(load_docs, c_yaml), repeat, same))

        def load() -> Any:
            return kpispec.load_project(root, packs=False)

        results.append(compare(f"load_project ({metrics} metrics): C YAML", load,
                               patched(load, c_yaml), repeat))
        results.append(compare(f"load_project ({metrics} metrics): no JSON Schema (upper bound)",
                               load, patched(load, no_schema), repeat))
        results.append(compare(f"load_project ({metrics} metrics): C YAML + no JSON Schema",
                               load, patched(load, c_yaml, no_schema), repeat))

        empty = Path(tmp) / "empty"
        empty.mkdir()
        pack = kpispec.load_project(empty)
        try:
            blob = pickle.dumps(pack)
        except Exception as exc:
            results.append({"what": "pickled pack", "error": f"{type(exc).__name__}: {exc}"})
        else:
            results.append(compare("CRM pack: load_project vs pickle.loads of its result",
                                   lambda: kpispec.load_project(empty), lambda: pickle.loads(blob),
                                   repeat))
            results[-1]["bytes"] = len(blob)
    return results


@contextmanager
def _combined(*patches: Callable[[], Any]) -> Iterator[None]:
    from contextlib import ExitStack

    with ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch())
        yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metrics", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=200, help="metrics compiled per measurement")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.metrics, args.limit, args.repeat), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
