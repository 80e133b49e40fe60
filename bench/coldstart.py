"""Cold start: ``kpispec compile close_rate --dialect snowflake`` as a new process.

Measured against ``python -c pass`` (the interpreter's own start-up) in the
same run, alternately, from an empty directory (so the CRM pack is the whole
project). Also reported, for the lead who makes it faster:

* phases, timed inside one fresh process: importing the CLI, loading the
  project (plugins, pack YAML, schema and semantic checks), compiling;
* which heavy modules each phase imported (DuckDB, pyarrow, Jinja2, drivers…);
* ``python -X importtime``: import time by top-level package and the
  slowest imports.

Children run with bytecode caching on (an installed wheel ships ``.pyc``
files) in a temporary ``PYTHONPYCACHEPREFIX``, and with a project cache of their
own (``KPISPEC_CACHE_DIR``), both warmed by one unmeasured run; the same command
with ``--no-cache`` (every file read and checked again) is measured beside it.

    python bench/coldstart.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import child_env, kpispec_exe

COMMAND = ("compile", "close_rate", "--dialect", "snowflake")

#: Modules that a compile should not need (or that are worth knowing about when it does).
HEAVY = ("duckdb", "pyarrow", "jinja2", "rich", "pandas", "numpy", "psycopg", "pymysql",
         "pyspark", "chdb", "datafusion", "openpyxl", "requests", "urllib3", "jsonschema",
         "referencing", "yaml", "sqlglot", "click", "pluggy", "importlib.metadata", "zoneinfo",
         "sqlglot.optimizer", "sqlglot.executor")

_PHASES = r"""
import json, sys, time
HEAVY = %r
def loaded():
    return sorted(m for m in HEAVY if m in sys.modules)
t0 = time.perf_counter()
import kpispec.cli  # what the console script imports first
t1 = time.perf_counter()
after_import = loaded()
from kpispec.plugins import get_registry
get_registry()
t2 = time.perf_counter()
after_plugins = loaded()
from kpispec.project import load_project
try:  # as the kpispec command loads it: from the project cache when nothing changed
    project = load_project(sys.argv[1], cache=True)
except TypeError:  # a version without the cache
    project = load_project(sys.argv[1])
t3 = time.perf_counter()
after_load = loaded()
compiled = project.compile(["close_rate"], dialect="snowflake")
t4 = time.perf_counter()
print(json.dumps({"import_cli_s": t1 - t0, "plugins_s": t2 - t1, "load_project_s": t3 - t2,
                  "compile_s": t4 - t3, "modules_after_import": after_import,
                  "modules_after_plugins": after_plugins, "modules_after_load": after_load,
                  "modules_after_compile": loaded(), "metrics": len(project.metrics),
                  "files": len(project.files)}))
"""


def _timed(argv: list[str], cwd: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {err.strip()[-1500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def measure(commands: dict[str, list[str]], repeat: int, cwd: str,
            env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Run every command ``repeat`` times, alternating; min and median wall and CPU."""
    for argv in commands.values():  # warm the bytecode cache and the OS file cache
        _timed(argv, cwd, env)
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():
            runs[name].append(_timed(argv, cwd, env))
    return {name: {"wall_s": [w for w, _ in r], "cpu_s": [c for _, c in r],
                   "wall_median_s": statistics.median(w for w, _ in r),
                   "wall_min_s": min(w for w, _ in r),
                   "cpu_median_s": statistics.median(c for _, c in r)}
            for name, r in runs.items()}


def phases(cwd: str, env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", _PHASES % (HEAVY,), cwd], cwd=cwd, env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


def importtime(argv: list[str], cwd: str, env: dict[str, str], top: int = 15) -> dict[str, Any]:
    """``python -X importtime``: microseconds by top-level package, and the slowest imports."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    by_package: dict[str, int] = {}
    entries: list[tuple[str, int, int, int]] = []  # name, self, cumulative, depth
    for line in proc.stderr.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        self_us, cum_us, indent, name = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        by_package[name.split(".")[0]] = by_package.get(name.split(".")[0], 0) + self_us
        entries.append((name, self_us, cum_us, (len(indent) - 1) // 2))
    # Who first imported each module: importtime lists children before their parent.
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for name, _, _, depth in entries:
        while stack and stack[-1][0] > depth:
            parents[stack.pop()[1]] = name
        stack.append((depth, name))
    cumulative = {name: cum for name, _, cum, _ in entries}

    def chain(name: str) -> str:
        out = [name]
        while out[-1] in parents and len(out) < 6:
            out.append(parents[out[-1]])
        return " <- ".join(out)

    heavy = {m: {"cumulative_ms": cumulative[m] / 1000, "imported_by": chain(m)}
             for m in HEAVY if m in cumulative}
    return {
        "total_ms": sum(by_package.values()) / 1000,
        "by_package_ms": {k: v / 1000 for k, v in
                          sorted(by_package.items(), key=lambda kv: -kv[1])[:top]},
        "slowest_cumulative_ms": {name: cum / 1000 for name, _, cum, _ in
                                  sorted(entries, key=lambda e: -e[2])[:top]},
        "imported_by": {name: chain(name) for name, _, _, _ in
                        sorted(entries, key=lambda e: -e[2])[:top]},
        "slowest_self_ms": {name: s / 1000 for name, s, _, _ in
                            sorted(entries, key=lambda e: -e[1])[:top]},
        "heavy": heavy,
    }


def run(repeat: int = 10, *, baseline_path: list[str] | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kpispec-bench-cold-") as tmp:
        project = Path(tmp) / "empty"
        project.mkdir()
        cache = Path(tmp) / "pycache"
        env = child_env(str(cache))
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "kpispec compile close_rate --dialect snowflake": [kpispec_exe(), *COMMAND],
            "kpispec --no-cache compile close_rate --dialect snowflake":
                [kpispec_exe(), "--no-cache", *COMMAND],
            "python -m kpispec compile close_rate --dialect snowflake":
                [sys.executable, "-m", "kpispec", *COMMAND],
            "kpispec --version": [kpispec_exe(), "--version"],
            "python -c 'import kpispec'": [sys.executable, "-c", "import kpispec"],
        }
        result: dict[str, Any] = {"commands": measure(commands, repeat, str(project), env)}
        if baseline_path:  # the same command with a baseline ref's packages (python -m)
            base_env = child_env(str(Path(tmp) / "pycache-baseline"), baseline_path)
            module = [sys.executable, "-m", "kpispec", *COMMAND]
            pair: dict[str, list[tuple[float, float]]] = {"current": [], "baseline": []}
            _timed(module, str(project), env)
            _timed(module, str(project), base_env)
            for _ in range(repeat):
                pair["current"].append(_timed(module, str(project), env))
                pair["baseline"].append(_timed(module, str(project), base_env))
            result["baseline"] = {k: {"wall_median_s": statistics.median(w for w, _ in v),
                                      "cpu_median_s": statistics.median(c for _, c in v)}
                                  for k, v in pair.items()}
        result["phases"] = phases(str(project), env)
        result["importtime"] = importtime(["-m", "kpispec", *COMMAND], str(project), env)
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.repeat), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
