"""Helpers for testing kpispec plugins and projects with pytest.

Plugin authors get test doubles that are themselves plugins, pytest fixtures
and assertions::

    # tests/conftest.py of a plugin
    from kpispec.testing import capturing_sink, kpispec_project, memory_source  # noqa: F401

    # tests/test_plugin.py
    from kpispec.testing import assert_compiles_on_every_dialect, assert_plugin_ok, only_plugins

    def test_registers_cleanly():
        with only_plugins("acme"):
            assert assert_plugin_ok("acme").registered == {"metric type": ["difference"]}

    def test_runs(kpispec_project, memory_source, capturing_sink):
        source = memory_source({"deals": [{"deal_id": 1, "created_at": "2024-01-03"}]})
        project = kpispec_project({"metrics.yaml": SPEC}, packs=False)
        project.run(["deal_count"], source=source.url)            # or through the CLI
        assert_compiles_on_every_dialect(project, ["deal_count"])

* :class:`MemorySource` — an in-memory source (DuckDB underneath) over tables
  given as rows, columns or Arrow tables; it records every query it ran.
* :class:`CapturingSink` — a sink that keeps what it was given (rows, schema,
  context, whether it was closed or aborted).
* Fixtures ``kpispec_project`` (a project from a dict of YAML strings),
  ``memory_source`` and ``capturing_sink`` (registered for one test).
* :func:`only_plugins` and :func:`registered` — which plugins are loaded inside
  a ``with`` block; :func:`assert_plugin_ok` — a plugin loaded without problems.
* :func:`assert_compiles_on_every_dialect` — metrics compile, and the SQL parses
  back, for every dialect kpispec supports.

This module imports pytest; kpispec itself never imports it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import re
import textwrap
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kpispec import plugins
from kpispec.errors import ExecutionError, KpispecError
from kpispec.extensions import SinkContext, SinkType, SourceType, SourceURL
from kpispec.hookspecs import hookimpl

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from kpispec.project import Project

__all__ = [
    "CapturingSink",
    "MemorySource",
    "assert_compiles_on_every_dialect",
    "assert_plugin_ok",
    "capturing_sink",
    "kpispec_project",
    "memory_source",
    "only_plugins",
    "registered",
    "write_project",
]

_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
_names = itertools.count(1)


# -- projects ---------------------------------------------------------------------------


def write_project(files: Mapping[str, str], directory: str | os.PathLike[str]) -> Path:
    """Write ``{relative file name: YAML text}`` (dedented) into ``directory``; return it.

    ``kpispec.yaml`` is the project settings; sub-directories are created.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def kpispec_project(tmp_path: Path) -> Callable[..., Project]:
    """A factory: ``kpispec_project(files, packs=True, vars=None, name="project")`` writes
    ``{file name: YAML text}`` under the test's ``tmp_path`` and returns the loaded
    :class:`kpispec.Project` (its directory is ``project.root``).

    Loading raises :class:`kpispec.SpecErrors` as ``kpispec validate`` would report them.
    """
    from kpispec.project import load_project

    def make(files: Mapping[str, str], *, packs: bool = True,
             vars: Mapping[str, Any] | None = None, name: str = "project") -> Project:
        return load_project(write_project(files, tmp_path / name), packs=packs, vars=vars)

    return make


# -- plugins ----------------------------------------------------------------------------


@contextlib.contextmanager
def registered(plugin: object, name: str | None = None) -> Iterator[str]:
    """Register ``plugin`` (a module or object with ``@kpispec.hookimpl`` functions) in
    process for the ``with`` block; yield the name it is registered under.

    Raises:
        PluginError: the plugin implements a hook kpispec does not have.
    """
    name = name or f"{getattr(plugin, 'name', type(plugin).__name__.lower())}_{next(_names)}"
    plugins.register_plugin(plugin, name)
    try:
        yield name
    finally:
        plugins.unregister_plugin(name)


@contextlib.contextmanager
def only_plugins(*names: str) -> Iterator[None]:
    """Inside the block, load only the named installed plugins (and core's metric types).

    Sets ``KPISPEC_LOAD_PLUGINS`` (so subprocesses see it too), clears
    ``KPISPEC_BLOCK_PLUGINS``, and reloads plugins on entry and exit. Plugins
    registered in process (the ``memory_source`` and ``capturing_sink`` fixtures,
    :func:`registered`) stay registered.

    Raises:
        LookupError: a named plugin is not installed (``pip install -e .`` it first).
    """
    installed = {ep.name for ep in metadata.entry_points(group=plugins.ENTRY_POINT_GROUP)}
    missing = sorted(set(names) - installed - plugins.ESSENTIAL_PLUGINS)
    if missing:
        raise LookupError(f"plugin(s) {', '.join(map(repr, missing))} not installed in this "
                          "environment: run `python -m pip install -e .` in the plugin's directory")
    saved = {var: os.environ.get(var) for var in ("KPISPEC_LOAD_PLUGINS", "KPISPEC_BLOCK_PLUGINS")}
    in_process = plugins.in_process_plugins()
    os.environ["KPISPEC_LOAD_PLUGINS"] = ",".join(names)
    os.environ.pop("KPISPEC_BLOCK_PLUGINS", None)
    _reload(in_process)
    try:
        yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
        _reload(in_process)


def _reload(in_process: Mapping[str, object]) -> None:
    plugins.reset()
    for name, plugin in in_process.items():
        plugins.register_plugin(plugin, name)


def assert_plugin_ok(name: str) -> plugins.PluginInfo:
    """Assert that plugin ``name`` is loaded and nothing about it is broken; return its info.

    The info tells what it registered (``info.registered``, e.g.
    ``{"metric type": ["difference"]}``) and which hooks it implements (``info.hooks``).
    """
    from kpispec._plugin_probe import probed_plugin_infos

    infos = {info.name: info for info in probed_plugin_infos()}
    if name not in infos:
        raise AssertionError(f"plugin {name!r} is not loaded; loaded: {', '.join(sorted(infos))}")
    info = infos[name]
    if info.status != "ok":
        raise AssertionError(f"plugin {name!r} is {info.status}: {info.error or 'blocked'}")
    return info


# -- an in-memory source ----------------------------------------------------------------


class MemorySource:
    """A source plugin over in-memory tables, queried with DuckDB (dialect ``duckdb``).

    ``tables`` maps a table name as models write it (``deals`` or ``crm.deals``) to a
    ``pyarrow.Table``, a list of row dicts, or a dict of column lists. In rows and
    columns, strings that look like ISO dates or times (``2024-01-31``,
    ``2024-01-31 09:30``) become timestamps; pass a ``pyarrow.Table`` to choose types
    yourself. Register it (the ``memory_source`` fixture does) and run on :attr:`url`.

    Attributes:
        queries: every SQL text run through it, in order (what ``modify_query`` hooks did
            shows here).
    """

    def __init__(self, tables: Mapping[str, Any] | None = None, *, name: str = "memory",
                 scheme: str = "memory") -> None:
        self.name = name
        self.scheme = scheme
        self.tables: dict[str, pa.Table] = {}
        self.queries: list[str] = []
        for table, data in (tables or {}).items():
            self.add_table(table, data)

    @property
    def url(self) -> str:
        """The ``--source`` URL that picks this source."""
        return f"{self.scheme}://"

    def add_table(self, name: str, data: Any) -> None:
        """Add (or replace) a table; see the class docstring for the forms of ``data``."""
        self.tables[name] = _arrow_table(data)

    @hookimpl
    def register_sources(self, register: Callable[..., None]) -> None:
        register(SourceType(name=self.name, schemes=(self.scheme,), dialect="duckdb",
                            connect=self.connect,
                            description="In-memory tables for tests (kpispec.testing)."))

    def connect(self, url: SourceURL) -> MemoryConnection:
        """Open a fresh DuckDB database holding the tables (a :class:`kpispec.Connection`)."""
        return MemoryConnection(self)


class MemoryConnection:
    """A :class:`kpispec.Connection` over a :class:`MemorySource`'s tables."""

    dialect = "duckdb"

    def __init__(self, source: MemorySource) -> None:
        import duckdb
        from sqlglot import exp

        self._source = source
        self._con: duckdb.DuckDBPyConnection = duckdb.connect(":memory:")
        for i, (name, table) in enumerate(source.tables.items()):
            schema, _, bare = name.rpartition(".")
            temp = f"kpispec_testing_table_{i}"
            self._con.register(temp, table)
            if schema:
                create_schema = exp.Create(this=exp.to_identifier(schema), kind="SCHEMA", exists=True)
                self._con.execute(create_schema.sql(dialect="duckdb", identify=True))
            view = exp.Create(this=exp.table_(bare, db=schema or None), kind="VIEW",
                              expression=exp.select(exp.Star()).from_(exp.table_(temp)))
            self._con.execute(view.sql(dialect="duckdb", identify=True))

    def execute(self, sql: str, *, timeout: float | None = None) -> pa.RecordBatchReader:
        """Run ``sql`` and return its rows (all read at once: test data is small)."""
        import duckdb

        self._source.queries.append(sql)
        timer = threading.Timer(timeout, self._con.interrupt) if timeout else None
        if timer:
            timer.start()
        try:
            table = self._con.sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            raise ExecutionError(f"the memory source rejected the query: {exc}") from None
        finally:
            if timer:
                timer.cancel()
        return table.to_reader()

    def describe(self, table: str) -> Sequence[str] | None:
        """Column names of ``table``, or None when there is no such table."""
        import duckdb

        try:
            return list(self._con.table(table).columns)
        except duckdb.Error:
            return None

    def close(self) -> None:
        self._con.close()


def _arrow_table(data: Any) -> pa.Table:
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, Mapping):
        columns = {str(k): [_value(v) for v in values] for k, values in data.items()}
        return pa.table(columns)
    if isinstance(data, Iterable) and not isinstance(data, (str, bytes)):
        rows = [{str(k): _value(v) for k, v in dict(row).items()} for row in data]
        return pa.Table.from_pylist(rows)
    raise TypeError(f"a table is a pyarrow.Table, a list of row dicts or a dict of columns, "
                    f"not {type(data).__name__}")


def _value(value: Any) -> Any:
    if isinstance(value, str) and _ISO_TIME.match(value):
        return dt.datetime.fromisoformat(value)
    return value


@pytest.fixture
def memory_source() -> Iterator[Callable[..., MemorySource]]:
    """A factory: ``memory_source(tables, name="memory", scheme="memory")`` returns a
    :class:`MemorySource` registered for this test; run on ``source.url``."""
    with contextlib.ExitStack() as stack:
        def make(tables: Mapping[str, Any] | None = None, *, name: str = "memory",
                 scheme: str = "memory") -> MemorySource:
            source = MemorySource(tables, name=name, scheme=scheme)
            stack.enter_context(registered(source, f"testing_{name}"))
            return source

        yield make


# -- a capturing sink -------------------------------------------------------------------


class CapturingSink:
    """A sink plugin that keeps what it is given; pick it with ``--sink capture:`` (:attr:`url`).

    After a run: :attr:`rows` (a list of dicts), :attr:`schema`, :attr:`context` (a
    :class:`kpispec.SinkContext`), :attr:`target`, :attr:`closed`, :attr:`aborted`.
    Each run that opens it starts afresh.
    """

    def __init__(self, *, name: str = "capture", scheme: str = "capture") -> None:
        self.name = name
        self.scheme = scheme
        self.batches: list[pa.RecordBatch] = []
        self.schema: pa.Schema | None = None
        self.context: SinkContext | None = None
        self.target: str | None = None
        self.closed = False
        self.aborted = False
        self.opened = 0

    @property
    def url(self) -> str:
        """The ``--sink`` value that picks this sink."""
        return f"{self.scheme}:"

    @property
    def rows(self) -> list[dict[str, Any]]:
        """Every row written in the last run, as dicts."""
        return [row for batch in self.batches for row in batch.to_pylist()]

    @hookimpl
    def register_sinks(self, register: Callable[..., None]) -> None:
        register(SinkType(name=self.name, schemes=(self.scheme,), open=self.open,
                          description="Keeps the rows in memory for tests (kpispec.testing)."))

    def open(self, target: str, schema: pa.Schema, context: SinkContext) -> _CapturingWriter:
        """Start a run (a :class:`kpispec.SinkWriter` writing into this object)."""
        self.batches, self.schema, self.context, self.target = [], schema, context, target
        self.closed = self.aborted = False
        self.opened += 1
        return _CapturingWriter(self)


class _CapturingWriter:
    def __init__(self, sink: CapturingSink) -> None:
        self._sink = sink

    def write(self, batch: pa.RecordBatch) -> None:
        self._sink.batches.append(batch)

    def close(self) -> None:
        self._sink.closed = True

    def abort(self) -> None:
        self._sink.aborted = True


@pytest.fixture
def capturing_sink() -> Iterator[CapturingSink]:
    """A :class:`CapturingSink` registered for this test (``--sink capture:``)."""
    sink = CapturingSink()
    with registered(sink, "testing_capture"):
        yield sink


# -- compiling on every dialect ---------------------------------------------------------


def assert_compiles_on_every_dialect(project: Project | str | os.PathLike[str],
                                     metrics: Sequence[str] | str, *,
                                     dialects: Iterable[str] | None = None,
                                     **options: Any) -> dict[str, str]:
    """Assert that ``metrics`` compile for every dialect and the SQL parses back in it.

    Args:
        project: a loaded :class:`kpispec.Project`, or a project directory.
        metrics: the metric names (one name is fine), e.g. metrics of your metric type.
        dialects: the dialects to try (default: every dialect kpispec supports).
        **options: query options as :meth:`kpispec.Project.compile` takes them
            (``by=["region"]``, ``grain="week"``, ``start="2024-01-01"``…).

    Returns:
        dialect → SQL text, for snapshot tests.

    Raises:
        AssertionError: listing every dialect that failed, with kpispec's message.
    """
    import sqlglot

    from kpispec._dialect_names import DIALECTS
    from kpispec.project import load_project

    loaded: Any = project if hasattr(project, "compile") else load_project(project)
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    wanted = list(DIALECTS if dialects is None else dialects)
    compiled: dict[str, str] = {}
    failures: list[str] = []
    for dialect in wanted:
        try:
            sql = loaded.compile(names, dialect=dialect, **options).sql
        except KpispecError as exc:
            failures.append(f"{dialect}: {exc}")
            continue
        try:
            sqlglot.Dialect.get_or_raise(dialect)
        except ValueError:  # rendered by kpispec through another dialect (datafusion)
            pass
        else:
            try:
                sqlglot.parse_one(sql, read=dialect)
            except sqlglot.errors.ParseError as exc:
                failures.append(f"{dialect}: the SQL does not parse back: {exc}")
                continue
        compiled[dialect] = sql
    if failures:
        listed = "\n  ".join(failures)
        raise AssertionError(f"{', '.join(names)} did not compile on {len(failures)} of "
                             f"{len(wanted)} dialects:\n  {listed}")
    return compiled
