"""The hostile-input corpus (cases.yaml), through the CLI and the Python API, on DuckDB and PostgreSQL.

Each case is an attack a user (or a spec file from a pack, a pull request, a
generator) can type: injection strings in every snippet position and query
option, template escapes, YAML bombs, malformed files. For each one:

* the command ends with the case's exit code and message (one clear line with
  file:line:col for spec files, never a traceback), and the Python API raises a
  :class:`~kpispec.errors.KpispecError` with the same message;
* a refused input reaches no engine: not one statement is sent;
* an accepted input (``accept: true``) sends exactly one statement besides the
  source's session setup — the SELECT kpispec compiled — as witnessed by the
  wrapped drivers and, on PostgreSQL, by the server's own statement log;
* the data is untouched afterwards.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kpispec
import pytest
import yaml
from click.testing import CliRunner
from kpispec.cli import main
from kpispec.errors import KpispecError

from tests.hostile.conftest import Engine, write_project
from tests.hostile.recorder import StatementLog, classify

HERE = Path(__file__).parent
#: Every query of the corpus covers the same three months, so the SQL stays small.
RANGE = {"start": "2024-01-01", "end": "2024-04-01"}
RANGE_ARGS = ["--from", RANGE["start"], "--to", RANGE["end"]]


# -- generated files -------------------------------------------------------------------

def _billion_laughs() -> bytes:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 9):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


def _chain(n: int, expr: str) -> bytes:
    """Metrics m0 (simple) … m<n>, each ``expr`` over the one before (issue 23, finding 7)."""
    lines = ["metrics:", "  - name: m0", "    type: simple",
             "    measure: {model: deals, agg: sum, expr: amount}"]
    for i in range(1, n + 1):
        lines += [f"  - name: m{i}", "    type: derived", f"    expr: \"{expr.format(p=f'm{i - 1}')}\""]
    return ("\n".join(lines) + "\n").encode()


GENERATORS: dict[str, Callable[[], bytes]] = {
    "billion_laughs": _billion_laughs,
    "alias_flood": lambda: b"a: &a 1\nb: [" + b", ".join([b"*a"] * 250) + b"]\n",
    "recursive_alias": lambda: b"x: &loop [1, *loop]\n",
    "deep_flow": lambda: b"x: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "deep_block": lambda: "".join("  " * i + f"k{i}:\n" for i in range(200)).encode()
    + b"  " * 200 + b"leaf: 1\n",
    "python_object": lambda: b"vars: !!python/object/apply:os.system ['touch /tmp/h9a_owned']\n",
    "python_name": lambda: b"x: !!python/name:os.system\n",
    "binary_tag": lambda: b"x: !!binary aGVsbG8=\n",
    "include_tag": lambda: b"metrics: !include /etc/passwd\n",
    "nul_bytes": lambda: b"\x00\x01\x02metrics: []\n\x7fELF",
    "latin1": lambda: "metrics: []\n# caf\u00e9\n".encode("latin-1"),
    "control_character": lambda: b"metrics: []\nx: a\x07b\n",
    "huge": lambda: b"#" * (5 * 1024 * 1024 + 1),
    "unclosed_flow": lambda: b"metrics: [{name: a, type: simple\n",
    "derived_chain": lambda: _chain(1000, "{p} + 1"),
    "derived_doubling": lambda: _chain(40, "{p} + {p} * 2"),
}


# -- the cases -------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    expect: str = ""
    at: str = ""
    code: int = 1
    accept: bool = False
    where: str | None = None
    dialect: str | None = None
    args: tuple[str, ...] = ()
    api: dict[str, Any] = field(default_factory=dict)
    command: str = "run"
    metrics: tuple[str, ...] = ("deals_won",)
    file: str | None = None
    settings: str | None = None
    generate: str | None = None
    target: str = "hostile"

    @property
    def compile_only(self) -> bool:
        return self.command == "compile"

    def files(self) -> tuple[bytes | str | None, bytes | str | None]:
        """(hostile.yaml, kpispec.yaml) of the case's project."""
        settings: bytes | str | None = self.settings
        if self.dialect is not None:
            settings = f"dialect: {self.dialect}\n"
        hostile: bytes | str | None = self.file
        if self.generate is not None:
            content = GENERATORS[self.generate]()
            if self.target == "settings":
                settings = content
            else:
                hostile = content
        return hostile, settings

    def cli_options(self) -> list[str]:
        options = list(RANGE_ARGS)
        if self.where is not None:
            options += ["--where", self.where]
        return options + list(self.args)

    def api_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {**RANGE}
        if self.where is not None:
            options["where"] = self.where
        return {**options, **self.api}


def _load_cases() -> list[Case]:
    raw = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))
    cases = []
    for entry in raw:
        entry = dict(entry)
        repeat = entry.pop("where_repeat", None)
        if repeat is not None:
            head, times, tail = repeat
            entry["where"] = head * times + tail
        for key in ("args", "metrics"):
            if key in entry:
                entry[key] = tuple(entry[key])
        cases.append(Case(**entry))
    return cases


CASES = _load_cases()
IDS = [c.id for c in CASES]
RUNNABLE = [c for c in CASES if not c.compile_only]


def test_corpus_is_big_and_well_formed() -> None:
    assert len(CASES) >= 60, len(CASES)
    assert len(set(IDS)) == len(IDS), "duplicate case ids"
    kinds = {c.kind for c in CASES}
    assert kinds == {"where", "option", "metric", "spec", "file"}, kinds
    for case in CASES:
        assert case.accept or case.expect, f"{case.id}: a refused case needs its message"
        assert case.generate is None or case.generate in GENERATORS, case.id
    # every snippet position and option is attacked
    text = (HERE / "cases.yaml").read_text(encoding="utf-8")
    for position in ("measure.filter", "measure.expr", "metrics[0].filter", "metrics[0].expr",
                     "dimensions[0].expr", "columns[2].expr", "models[0].sql", "models[0].table",
                     "--by", "--grain", "--from", "--to", "--dialect", "env_var", "billion"):
        assert position in text, position


# -- running one case -----------------------------------------------------------------

@dataclass
class Outcome:
    code: int
    output: str
    statements: list[str]
    exception: BaseException | None = None


def _project(case: Case, tmp_path: Path) -> Path:
    hostile, settings = case.files()
    return write_project(tmp_path / "project", hostile, settings)


def _run_cli(case: Case, root: Path, engine: Engine | None, monkeypatch: pytest.MonkeyPatch
             ) -> Outcome:
    monkeypatch.chdir(root)
    args = [case.command, *case.metrics, "-p", "."]
    if engine is not None:
        args += ["--source", engine.url]
    args += case.cli_options()
    log = StatementLog()
    with log.installed(monkeypatch):
        result = CliRunner().invoke(main, args)
    output = result.output
    try:
        output += result.stderr if result.stderr not in output else ""
    except ValueError:
        pass
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return Outcome(result.exit_code, output, log.sql(), exception)


def _run_api(case: Case, root: Path, engine: Engine | None, monkeypatch: pytest.MonkeyPatch
             ) -> Outcome:
    monkeypatch.chdir(root)
    log = StatementLog()
    options = case.api_options()
    with log.installed(monkeypatch):
        try:
            project = kpispec.load_project(".")
            if case.compile_only:
                project.compile(list(case.metrics), **options)
            else:
                assert engine is not None
                project.run(list(case.metrics), source=engine.url, **options)
        except KpispecError as exc:
            return Outcome(exc.exit_code, str(exc), log.sql())
        except BaseException as exc:  # reported by the assertions below
            return Outcome(99, f"{type(exc).__name__}: {exc}", log.sql(), exc)
    return Outcome(0, "", log.sql())


def _compiled_sql(case: Case, root: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(root)
    return kpispec.load_project(".").compile(list(case.metrics), dialect=engine.dialect,
                                             **case.api_options()).sql


def _check(case: Case, outcome: Outcome, how: str) -> None:
    where = f"{case.id} ({how})"
    assert outcome.exception is None, f"{where}: raised {outcome.exception!r}\n{outcome.output}"
    assert "Traceback" not in outcome.output, f"{where}: a traceback:\n{outcome.output}"
    if case.accept:
        assert outcome.code == 0, f"{where}: exit code {outcome.code}:\n{outcome.output}"
        return
    assert outcome.code == case.code, f"{where}: exit code {outcome.code}:\n{outcome.output}"
    assert re.search(case.expect, outcome.output), (
        f"{where}: expected /{case.expect}/ in:\n{outcome.output}")
    if case.at:
        assert case.at in outcome.output, f"{where}: expected {case.at!r} in:\n{outcome.output}"
    assert outcome.statements == [], f"{where}: refused, yet sent {outcome.statements}"


def _check_statements(case: Case, statements: list[str], compiled: str, engine: Engine,
                      witness: str) -> None:
    runs, violations = classify(statements, compiled, engine.dialect)
    assert violations == [], f"{case.id}: {witness} saw statements besides the query: {violations}"
    assert runs == 1, f"{case.id}: {witness} saw the query {runs} times in {statements}"


def _server_statements(engine: Engine) -> list[str]:
    assert engine.server_log is not None
    sentinel = f"kpispec-hostile-sentinel-{secrets.token_hex(4)}"
    import psycopg

    with psycopg.connect(engine.url.split("?", 1)[0], autocommit=True) as con:
        con.execute(f"SELECT '{sentinel}'")  # a constant of this test: the barrier in the log
    return engine.server_log.statements(sentinel)


def _engines() -> list[Any]:
    return [pytest.param("duckdb", id="duckdb"), pytest.param("postgres", id="postgres")]


@pytest.fixture
def engine_of(request: pytest.FixtureRequest) -> Callable[[str], Engine]:
    def get(name: str) -> Engine:
        return request.getfixturevalue(f"{name}_engine")  # type: ignore[no-any-return]
    return get


@pytest.mark.parametrize("engine_name", _engines())
@pytest.mark.parametrize("case", RUNNABLE, ids=[c.id for c in RUNNABLE])
def test_cli(case: Case, engine_name: str, engine_of: Callable[[str], Engine], tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> None:
    engine = engine_of(engine_name)
    root = _project(case, tmp_path)
    before = engine.fingerprint()
    if engine.server_log is not None:
        engine.server_log.mark()
    outcome = _run_cli(case, root, engine, monkeypatch)
    _check(case, outcome, f"kpispec {case.command} on {engine.name}")
    if case.accept:
        compiled = _compiled_sql(case, root, engine, monkeypatch)
        _check_statements(case, outcome.statements, compiled, engine, "the wrapped driver")
    if engine.server_log is not None:
        server = _server_statements(engine)
        if case.accept:
            _check_statements(case, server, compiled, engine, "the server log")
        else:
            assert server == [], f"{case.id}: the server ran {server}"
    assert engine.fingerprint() == before, f"{case.id}: the data changed"


@pytest.mark.parametrize("engine_name", _engines())
@pytest.mark.parametrize("case", RUNNABLE, ids=[c.id for c in RUNNABLE])
def test_api(case: Case, engine_name: str, engine_of: Callable[[str], Engine], tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> None:
    engine = engine_of(engine_name)
    root = _project(case, tmp_path)
    outcome = _run_api(case, root, engine, monkeypatch)
    _check(case, outcome, f"Project.run on {engine.name}")
    if case.accept:
        compiled = _compiled_sql(case, root, engine, monkeypatch)
        _check_statements(case, outcome.statements, compiled, engine, "the wrapped driver")


@pytest.mark.parametrize("case", [c for c in CASES if c.compile_only],
                         ids=[c.id for c in CASES if c.compile_only])
def test_compile_only_options(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(case, tmp_path)
    _check(case, _run_cli(case, root, None, monkeypatch), "kpispec compile")
    _check(case, _run_api(case, root, None, monkeypatch), "Project.compile")


def test_postgres_statement_log_is_read(postgres_engine: Engine) -> None:
    """The server-log witness is on (skipped, with the reason, where the log cannot be read)."""
    if postgres_engine.server_log is None:
        pytest.skip("the PostgreSQL server log is not readable here (set KPISPEC_TEST_PG_LOG); "
                    "the wrapped driver still witnesses every case")
    postgres_engine.server_log.mark()
    statements = _server_statements(postgres_engine)
    assert statements == []


SUBPROCESS_CASES = ["where_literal_holding_injection", "where_mysql_backslash_quote",
                    "where_stacked_drop_table", "where_pg_read_file", "measure_filter_read_csv",
                    "yaml_billion_laughs", "template_class_mro"]


@pytest.mark.parametrize("case_id", SUBPROCESS_CASES)
def test_installed_command_on_postgres(case_id: str, postgres_engine: Engine, tmp_path: Path) -> None:
    """The real ``kpispec`` process: its messages, and what the server log says it ran."""
    case = next(c for c in CASES if c.id == case_id)
    root = _project(case, tmp_path)
    before = postgres_engine.fingerprint()
    if postgres_engine.server_log is not None:
        postgres_engine.server_log.mark()
    done = subprocess.run(
        [sys.executable, "-m", "kpispec", case.command, *case.metrics, "-p", ".", "--source",
         postgres_engine.url, *case.cli_options()],
        cwd=root, capture_output=True, text=True, timeout=120)
    outcome = Outcome(done.returncode, done.stdout + done.stderr, [])
    _check(case, outcome, "kpispec subprocess on postgres")
    if postgres_engine.server_log is not None:
        server = _server_statements(postgres_engine)
        if case.accept:
            import os

            cwd = os.getcwd()
            try:
                os.chdir(root)
                compiled = kpispec.load_project(".").compile(
                    list(case.metrics), dialect="postgres", **case.api_options()).sql
            finally:
                os.chdir(cwd)
            _check_statements(case, server, compiled, postgres_engine, "the server log")
        else:
            assert server == [], f"{case.id}: the server ran {server}"
    assert postgres_engine.fingerprint() == before
