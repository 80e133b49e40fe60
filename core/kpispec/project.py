"""The Python API: load a project, compile queries, run them.

>>> import kpispec
>>> project = kpispec.load_project("examples/")             # doctest: +SKIP
>>> print(project.compile(["close_rate"], dialect="snowflake").sql)  # doctest: +SKIP
>>> table = project.run(["close_rate"], source="duckdb:///crm.duckdb")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sqlglot import exp

from kpispec._env_policy import env_var_allowed, looks_secret, safe_value
from kpispec._packs import (
    Source,
    build_leaving_out,
    included_packs,
    item_path,
    pack_problem,
    pack_sources,
)
from kpispec.compile import CompiledQuery, Query, compile_query
from kpispec.compile.dialects import sqlglot_dialect
from kpispec.compile.guard import check_query
from kpispec.errors import ExecutionError, KpispecError, Location, QueryError, SpecError, SpecErrors
from kpispec.extensions import SourceType, SourceURL
from kpispec.spec.loader import load_yaml
from kpispec.spec.model import Metric, Model, Settings
from kpispec.spec.rules import Document, build
from kpispec.spec.schema import build_schema, schema_errors, suggest
from kpispec.spec.snippets import parse_snippet

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Project", "load_project", "parse_source_url", "published_schema"]

SETTINGS_FILE = "kpispec.yaml"
_SKIP_DIRS = {"node_modules", "venv", ".venv", "__pycache__", "build", "dist", "target"}
_MISSING = object()


def published_schema() -> dict[str, Any]:
    """The JSON Schema of spec files, with every registered metric type merged in."""
    import copy

    from kpispec.plugins import get_registry

    return copy.deepcopy(_schema(get_registry()))  # the loader's own copy stays untouched


def _schema(registry: Any) -> dict[str, Any]:
    types = registry.metric_types
    return build_schema({name: r.item.schema for name, r in types.items()},
                        {name: r.item.description for name, r in types.items()})


def parse_source_url(text: str) -> SourceURL:
    """Parse a ``--source`` URL (SQLAlchemy convention).

    >>> parse_source_url("duckdb:///crm.duckdb").database
    'crm.duckdb'
    >>> str(parse_source_url("postgresql://me:secret@db:5432/crm"))
    'postgresql://me:***@db:5432/crm'
    """
    from kpispec.errors import is_credential_name, mask_secrets, register_secret

    if "://" not in text:
        raise QueryError(f"--source {mask_secrets(text)!r} is not a URL",
                         hint="Write e.g. duckdb:///path/to/file.duckdb or postgresql://user@host/db")
    try:
        parts = urlsplit(text)
    except ValueError:  # spark://local[4]: brackets that are not an IPv6 literal
        parts = urlsplit(text.replace("[", "%5B").replace("]", "%5D"))
    scheme = parts.scheme.lower().split("+", 1)[0]
    path = parts.path.removeprefix("/")
    host: str | None
    if parts.password:
        register_secret(unquote(parts.password))
        register_secret(parts.password)
    for name, value in parse_qsl(parts.query):  # ?sslpassword=…: masked wherever it shows
        if is_credential_name(name):
            register_secret(value)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise QueryError(f"--source has an invalid port: {mask_secrets(text)!r}") from None
    if host and "%5B" in host.upper():
        host, port = unquote(parts.netloc.rpartition("@")[2]), None
    return SourceURL(raw=text, scheme=scheme,
                     username=unquote(parts.username) if parts.username else None,
                     password=unquote(parts.password) if parts.password is not None else None,
                     host=host, port=port, database=unquote(path),
                     query=dict(parse_qsl(parts.query)))


def _display(path: Path) -> str:
    """A file name for messages: relative to the working directory when below it."""
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def _spec_files(root: Path, paths: Sequence[str] | None) -> list[Path]:
    if root.is_file():
        return [root]
    bases = [root / p for p in paths] if paths else [root]
    found: list[Path] = []
    for base in bases:
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS)
            for name in sorted(filenames):
                if name.endswith((".yaml", ".yml")) and not name.startswith(".") and not (
                        Path(dirpath) == root and name == SETTINGS_FILE):
                    found.append(Path(dirpath) / name)
    return found


@dataclass(frozen=True)
class Project:
    """A loaded, validated project: settings, models and metrics (packs included)."""

    root: Path
    settings: Settings
    models: Mapping[str, Model]
    metrics: Mapping[str, Metric]
    files: tuple[str, ...] = ()
    overrides: Mapping[str, Sequence[str]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    # -- queries --------------------------------------------------------------------

    def query(self, metrics: Sequence[str], *, by: Sequence[str] = (), grain: str | None = None,
              start: str | dt.date | None = None, end: str | dt.date | None = None,
              where: str | None = None, week_start: str | None = None,
              fiscal_year_start_month: int | None = None, fiscal_year_label: str | None = None,
              timezone: str | None = None, compare: str | None = None,
              baseline: str | tuple[str | dt.date, str | dt.date] | None = None,
              targets: bool = False, partial: str = "keep",
              as_of: str | dt.date | None = None) -> Query:
        """Check and normalise query options into a :class:`Query`.

        Args:
            start, end: ``--from`` (inclusive) and ``--to`` (exclusive): dates, or relative
                forms counted from ``as_of`` (default: today in the query's time zone) —
                ``-12 months``, ``start_of_quarter``, ``start_of_month -1 month``.
            week_start, fiscal_year_start_month, fiscal_year_label, timezone: override the
                project's calendar for this query.
            compare: ``previous_period``, ``same_period_last_year`` or ``baseline``
                (implied by ``baseline``, a range ``START:END``).
            targets: add ``<metric>__target`` and ``<metric>__attainment``.
            partial: ``keep`` periods the range covers only in part (they are reported), or
                ``drop`` them: the range shrinks to whole periods.
        """
        names = tuple(metrics)
        if not names:
            raise QueryError("name at least one metric (or use --all)")
        for name in names:
            if name not in self.metrics:
                from kpispec.errors import UnknownMetricError

                raise UnknownMetricError(f"unknown metric {name!r}",
                                         hint=suggest(name, self.metrics) or
                                         "Run 'kpispec list' to see the metrics")
        if len(set(names)) != len(names):
            raise QueryError("a metric is named twice")
        if grain is None:
            grains = {g for n in names if (g := self.metrics[n].grain) is not None}
            grain = grains.pop() if len(grains) == 1 else "month"
        from kpispec.calendar import GRAINS, Calendar, parse_relative_date

        if grain not in GRAINS:
            raise QueryError(f"unknown grain {grain!r}", hint=suggest(grain, GRAINS) or
                             f"Choose one of {', '.join(GRAINS)}")
        settings = self.settings
        calendar = Calendar(
            week_start=(week_start or settings.week_start).lower(),
            fiscal_year_start_month=int(settings.fiscal_year_start_month
                                        if fiscal_year_start_month is None else fiscal_year_start_month),
            fiscal_year_label=fiscal_year_label or settings.fiscal_year_label,
            timezone=timezone if timezone is not None else settings.timezone)
        today = _date(as_of, "--as-of") or calendar.today()

        def when(value: str | dt.date | None, option: str) -> dt.date | None:
            if value is None or isinstance(value, dt.date):
                return value
            return parse_relative_date(value, option, calendar, today)

        first, last = when(start, "--from"), when(end, "--to")
        if partial not in ("keep", "drop"):
            raise QueryError(f"--partial {partial!r}: choose keep or drop")
        if partial == "drop":
            if first is not None and calendar.period_start(first, grain) != first:
                first = calendar.add(calendar.period_start(first, grain), 1, grain)
            if last is not None:
                last = calendar.period_start(last, grain)
            if first is not None and last is not None and first >= last:
                raise QueryError(f"--partial drop: no whole {grain} period lies between "
                                 f"{start} and {end}")
        window = None
        if baseline is not None:
            if compare not in (None, "baseline"):
                raise QueryError(f"--baseline and --compare {compare} do not go together",
                                 hint="A baseline is a comparison of its own: drop --compare")
            compare = "baseline"
            if isinstance(baseline, str):
                left, sep, right = baseline.partition(":")
                if not sep:
                    raise QueryError(f"--baseline {baseline!r} is not START:END",
                                     hint="Write e.g. --baseline 2023-01-01:2024-01-01")
                pair: tuple[str | dt.date, str | dt.date] = (left, right)
            else:
                pair = baseline
            a, b = when(pair[0], "--baseline start"), when(pair[1], "--baseline end")
            assert a is not None and b is not None
            window = (a, b)
        elif compare == "baseline":
            raise QueryError("--compare baseline needs --baseline START:END")
        where_tree = None
        if where:
            where_tree = parse_snippet(where, self.settings.dialect, Location("--where"))
        return Query(names, tuple(by), grain, first, last, where_tree, calendar=calendar,
                     compare=compare, baseline=window, targets=targets)

    def compile(self, metrics: Sequence[str], *, dialect: str | None = None,
                pretty: bool = True, **options: Any) -> CompiledQuery:
        """Compile metrics to SQL; ``options`` are those of :meth:`query`.

        >>> print(project.compile(["close_rate"], grain="quarter").sql)  # doctest: +SKIP
        """
        try:
            query = self.query(metrics, **options)
            return compile_query(self.models, self.metrics, query,
                                 dialect or self.settings.dialect, pretty=pretty)
        except (OverflowError, ValueError) as exc:
            if not isinstance(exc, OverflowError) and "out of range" not in str(exc):
                raise
            # A range, --as-of or relative date at the ends of the calendar (year 1 or 9999),
            # moved past them by a time zone, a period start or a comparison.
            raise QueryError(f"a date of this query falls outside the years 1 to 9999 ({exc})",
                             hint="Query a range well inside the calendar") from None

    def execute(self, metrics: Sequence[str], *, source: str | None = None,
                timeout: float | None = None,
                on_step: Callable[[str, str], None] | None = None, **options: Any,
                ) -> tuple[CompiledQuery, pa.RecordBatchReader, Any]:
        """Compile for the source's dialect and start the query.

        Returns the compiled query, a reader of Arrow record batches and the
        open connection (close it when the reader is exhausted). ``on_step(step,
        detail)`` hears ``"compiled"`` once the SQL is built and ``"querying"``
        (with the source URL, password masked) when the query is sent.

        The final SQL — after every ``modify_query`` plugin — must pass
        :func:`kpispec.compile.guard.check_query` before any connection is made:
        one SELECT that only reads; a refusal names the plugin that made it so.

        Raises:
            ExecutionError: the query is refused, a ``modify_query`` plugin failed,
                or the source failed to connect or to start the query (exit code 2).
                No message shows a password.
        """
        from kpispec.errors import PluginError, mask_secrets

        url = parse_source_url(source or self.settings.source or "duckdb:///:memory:")
        source_type = _source_type(url)
        try:
            compiled = self.compile(metrics, dialect=source_type.dialect, **options)
        except PluginError as exc:  # a modify_query plugin failed on this run's query
            raise ExecutionError(mask_secrets(str(exc))) from None
        # The SQL exactly as it will be sent, checked before any connection is made.
        _check_final_sql(self, compiled, source_type.dialect)
        if on_step is not None:
            on_step("compiled", "")
        try:
            connection = source_type.connect(url)
        except KpispecError as exc:
            if isinstance(exc, ExecutionError):
                raise ExecutionError(mask_secrets(str(exc))) from None
            raise
        except Exception as exc:
            raise ExecutionError(mask_secrets(f"source {url} failed to connect: "
                                              f"{type(exc).__name__}: {exc}")) from None
        if on_step is not None:
            on_step("querying", mask_secrets(str(url)))
        try:
            reader = connection.execute(compiled.sql, timeout=timeout)
        except KpispecError as exc:  # the source's own message already names the URL
            connection.close()
            raise ExecutionError(mask_secrets(f"metrics {', '.join(compiled.query.metrics)}: "
                                              f"{exc}")) from None
        except Exception as exc:
            connection.close()
            raise ExecutionError(mask_secrets(f"metrics {', '.join(compiled.query.metrics)} on "
                                              f"{url}: {type(exc).__name__}: {exc}")) from None
        except BaseException:  # Ctrl-C: the source stopped the query; let go of the connection
            connection.close()
            raise
        return compiled, reader, connection

    def check_source(self, source: str | None = None) -> tuple[list[SpecError], list[str]]:
        """Check every model's table and declared columns against a live source's catalog.

        Returns the problems of the project's own models (errors, located at the model)
        and of installed packs' models (warnings: a pack may cover tables you do not have).
        """
        url = parse_source_url(source or self.settings.source or "duckdb:///:memory:")
        source_type = _source_type(url)
        try:
            connection = source_type.connect(url)
        except KpispecError:
            raise
        except Exception as exc:
            raise ExecutionError(f"source {url} failed to connect: {type(exc).__name__}: {exc}") from None
        errors: list[SpecError] = []
        warnings: list[str] = []
        try:
            for model in sorted(self.models.values(), key=lambda m: m.name):
                if not isinstance(model.relation, exp.Table):
                    continue  # a model's own SELECT: the source checks it when it runs
                table = model.relation.sql(dialect=sqlglot_dialect(source_type.dialect))
                found = connection.describe(".".join(p.name for p in model.relation.parts))
                problems: list[str] = []
                if found is None:
                    problems.append(f"table {table!r} of model {model.name!r} does not exist on {url}")
                else:
                    live = {c.lower() for c in found}
                    needed = [c for c in model.columns or () if c not in model.column_exprs]
                    needed += [col.name for e in model.column_exprs.values()
                               for col in e.find_all(exp.Column)]
                    missing = sorted({c for c in needed if c.lower() not in live})
                    if missing:
                        problems.append(f"table {table!r} of model {model.name!r} on {url} has no "
                                        f"column {', '.join(map(repr, missing))}")
                for problem in problems:
                    if model.origin == "project":
                        errors.append(SpecError(problem, model.location))
                    else:
                        warnings.append(f"pack {model.origin!r}: {problem}")
        finally:
            connection.close()
        return errors, warnings

    def run(self, metrics: Sequence[str], *, source: str | None = None,
            timeout: float | None = None, **options: Any) -> pa.Table:
        """Run metrics on a source and return the result as an Arrow table.

        Raises:
            ExecutionError: the query was refused (see :meth:`execute`), or the source
                failed to connect, run it or stream its rows (the connection is closed).
            KeyboardInterrupt: Ctrl-C; built-in sources cancel the query on the server.
        """
        _, reader, connection = self.execute(metrics, source=source, timeout=timeout,
                                                    **options)
        try:
            return pa_table(iter_batches(reader), reader.schema)
        finally:
            connection.close()


def _check_final_sql(project: Project, compiled: CompiledQuery, dialect: str) -> None:
    """Refuse the query unless it is one SELECT that only reads; name the plugin that broke it."""
    try:
        check_query(compiled.sql, dialect)
    except ExecutionError as refused:
        metrics = ", ".join(compiled.query.metrics)
        culprit = _modify_query_culprit(project, compiled, dialect)
        if culprit is None:
            raise ExecutionError(f"metrics {metrics}: {refused}") from None
        from kpispec.errors import PluginError

        plugin, reason = culprit
        raise ExecutionError(str(PluginError(
            f"made the query of {metrics} one kpispec will not run ({reason}). Fix or upgrade "
            f"the plugin, or run without it: --no-plugin {plugin}",
            plugin=plugin, hook="modify_query"))) from None


def _modify_query_culprit(project: Project, compiled: CompiledQuery,
                          dialect: str) -> tuple[str, str] | None:
    """The first ``modify_query`` plugin whose rewrite fails :func:`check_query`, and why.

    None when the query is refused without any plugin (a model's ``sql:``), or the
    plugins cannot be replayed one by one.
    """
    from kpispec.compile import QueryContext
    from kpispec.plugins import call_impl, get_plugin_manager

    impls = get_plugin_manager().hook.modify_query.get_hookimpls()
    if not impls:
        return None
    try:
        base = compile_query(project.models, project.metrics, compiled.query, dialect,
                             pretty=False, modify=False)
        check_query(base.sql, dialect)
    except KpispecError:
        return None  # refused before any plugin touched it
    query = compiled.query
    context = QueryContext(metrics=query.metrics, dimensions=query.dimensions, grain=query.grain,
                           start=query.start, end=query.end, dialect=dialect,
                           calendar=query.calendar, compare=query.compare)
    tree = base.expression
    for impl in impls:
        candidate = tree.copy()
        try:
            result = call_impl(impl, expression=candidate, dialect=dialect, context=context)
            result = candidate if result is None else result
            check_query(result.sql(dialect=sqlglot_dialect(dialect)), dialect)
        except ExecutionError as exc:
            return impl.plugin_name, str(exc)
        except Exception:
            return None
        tree = result
    return None


def _date(value: str | dt.date | None, option: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{option} {value!r} is not a date", hint="Write YYYY-MM-DD") from None


def _source_type(url: SourceURL) -> SourceType:
    from kpispec.plugins import get_registry

    registry = get_registry()
    source = registry.source_for_scheme(url.scheme)
    if source is None:
        schemes = sorted({s for r in registry.sources.values() for s in r.item.schemes})
        raise QueryError(f"no source plugin handles {url.scheme!r} URLs ({url})",
                         hint=suggest(url.scheme, schemes) or
                         f"Installed schemes: {', '.join(schemes) or 'none'}")
    return source


def _settings(root: Path) -> tuple[Settings, str | None]:
    file = (root if root.is_dir() else root.parent) / SETTINGS_FILE
    if not file.exists():
        return Settings(), None
    display = _display(file)
    doc = load_yaml(file, display)
    if doc is None:
        return Settings(), display
    from kpispec.plugins import get_registry

    schema = _schema(get_registry())
    errors = schema_errors(doc, schema, display, subschema="settings")
    if errors:
        raise SpecErrors(errors)
    from kpispec.compile.dialects import DIALECTS, dialect_name

    dialect = dialect_name(doc.get("dialect", "duckdb"))
    if dialect not in DIALECTS:
        from kpispec.spec.loader import locate

        raise SpecErrors([SpecError(
            f"unknown dialect {doc['dialect']!r}", locate(doc, ("dialect",), display),
            suggest(dialect, DIALECTS) or f"Choose one of {', '.join(DIALECTS)}")])
    for i, name in enumerate(doc.get("env_vars") or ()):
        if not all(c.isalnum() or c in "_*?" for c in name) or not name.isascii():
            from kpispec.spec.loader import locate

            raise SpecErrors([SpecError(
                f"{name!r} is not an environment variable name or pattern",
                locate(doc, ("env_vars", i), display),
                "Write names such as KPISPEC_SCHEMA, or patterns with * and ? such as KPISPEC_*")])
    from kpispec._packs import read_packs

    packs, listed = read_packs(doc, display, get_registry().packs)
    timezone = doc.get("timezone")
    if timezone is not None:
        from kpispec.calendar import Calendar
        from kpispec.spec.loader import locate

        try:
            Calendar(timezone=timezone)
        except QueryError as exc:
            raise SpecErrors([SpecError(exc.message, locate(doc, ("timezone",), display),
                                        exc.hint)]) from None
    return Settings(dialect=dialect, week_start=doc.get("week_start", "monday"),
                    fiscal_year_start_month=doc.get("fiscal_year_start_month", 1),
                    fiscal_year_label=doc.get("fiscal_year_label", "end"), timezone=timezone,
                    vars=dict(doc.get("vars") or {}), packs=packs, packs_listed=listed,
                    source=doc.get("source"), name=doc.get("name", ""),
                    paths=tuple(doc.get("paths") or ()),
                    currency=doc.get("currency", ""),
                    env_vars=tuple(doc.get("env_vars") or ())), display


def _template_context(settings: Settings, variables: Mapping[str, Any]) -> dict[str, Any]:
    """What spec templates can call: ``var``, ``env_var`` and what plugins register.

    Nothing else reaches the sandbox: no file, no environment variable the project's
    ``env_vars`` setting does not list.
    """
    from kpispec.plugins import get_registry

    values = {**settings.vars, **variables}

    def var(name: str, default: Any = _MISSING) -> Any:
        if name in values:
            return values[name]
        if default is _MISSING:
            raise LookupError(f"undefined var {name!r}: set it under 'vars:' in kpispec.yaml "
                              f"or pass --var {name}=VALUE")
        return default

    def env_var(name: str, default: Any = _MISSING) -> Any:
        if not isinstance(name, str) or not name:
            raise LookupError(f"env_var() takes the name of an environment variable, not {name!r}")
        if not env_var_allowed(name, settings.env_vars):
            why = (" (a name that looks like a secret must be listed exactly, a pattern does "
                   "not match it)" if looks_secret(name) and settings.env_vars else "")
            raise LookupError(f"env_var({name!r}) is not allowed: add {name!r} to 'env_vars:' in "
                              f"kpispec.yaml{why}")
        value = os.environ.get(name)
        if value is None:
            if default is _MISSING:
                raise LookupError(f"environment variable {name!r} is not set: set it, or give "
                                  f"env_var() a default: env_var({name!r}, 'value')")
            return default
        return safe_value(name, value)  # a URL's password masked: it goes into reports

    context: dict[str, Any] = {name: r.item for name, r in get_registry().template_context.items()}
    context["var"] = var
    context["env_var"] = env_var  # kpispec's own, whatever a plugin registered under the name
    return context


def load_project(path: str | os.PathLike[str] = ".", *, vars: Mapping[str, Any] | None = None,
                 packs: bool = True, cache: bool = False) -> Project:
    """Load, template, validate and build a project directory (or a single spec file).

    Args:
        path: the project directory (with an optional kpispec.yaml) or one spec file.
        vars: values for ``{{ var('name') }}``, overriding kpispec.yaml's ``vars``.
        packs: False leaves every installed metric pack out, whatever kpispec.yaml says.
        cache: reuse the project built by an earlier load of the very same files, code
            and variables (see :mod:`kpispec._cache`; the ``kpispec`` command does).

    Raises:
        SpecErrors: every problem found, each with file:line:col.
    """
    from kpispec.plugins import get_registry

    root = Path(path)
    if not root.exists():
        raise SpecError(f"no such project directory or file: {os.fspath(path)!r}")
    settings, settings_file = _settings(root)
    registry = get_registry()
    own = _spec_files(root, settings.paths or None)
    included = included_packs(registry.packs, settings, bool(own), packs)
    sources = pack_sources(registry.spec_paths, registry.spec_dialects, included,
                           lambda directory: _spec_files(directory, None))
    sources += [(file, _display(file), "project", None) for file in own]
    key = _cache_key(root, sources, settings_file, vars or {}, packs) if cache else None
    from kpispec._gc import gc_paused

    if key is not None:
        from kpispec import _cache

        with gc_paused():
            hit = _cache.read(key)
        if isinstance(hit, Project):
            return replace(hit, root=root, warnings=tuple(str(p) for p in registry.problems)
                           + hit.warnings)
    environment: list[tuple[str, str | None]] = []
    cacheable = [True]
    context = _recording(_template_context(settings, vars or {}), environment, cacheable)
    with gc_paused():
        project = _build_project(root, settings, settings_file, sources, context, registry,
                                 included)
    if key is not None and cacheable[0]:
        from kpispec import _cache

        registry_warnings = len(registry.problems)
        _cache.write(key, replace(project, warnings=project.warnings[registry_warnings:]),
                     environment)
    return project


def _cache_key(root: Path, sources: Sequence[Source], settings_file: str | None,
               variables: Mapping[str, Any], packs: bool) -> str | None:
    from kpispec import _cache
    from kpispec.plugins import get_plugin_manager, plugin_infos

    if not _cache.enabled():
        return None
    files = [(file, display) for file, display, _, _ in sources]
    if settings_file is not None:
        files.append(((root if root.is_dir() else root.parent) / SETTINGS_FILE, settings_file))
    try:
        plugins = get_plugin_manager().list_name_plugin()
        versions = {info.name: f"{info.distribution} {info.version}" for info in plugin_infos()}
        return _cache.fingerprint(root, files, variables, packs, plugins, versions)
    except (OSError, TypeError, ValueError):
        return None


def _recording(context: dict[str, Any], environment: list[tuple[str, str | None]],
               cacheable: list[bool]) -> dict[str, Any]:
    """Template functions that note what a cached project depends on.

    ``var`` depends only on the variables (part of the cache key); ``env_var``
    on the environment (recorded, checked when the cache is read); any other
    function a plugin provides may depend on anything: its use turns the cache off.
    """
    def wrap(name: str, fn: Any) -> Any:
        def called(*args: Any, **kwargs: Any) -> Any:
            if name == "env_var" and args and isinstance(args[0], str):
                environment.append((args[0], os.environ.get(args[0])))
            else:
                cacheable[0] = False
            return fn(*args, **kwargs)
        return called

    return {name: (wrap(name, value) if callable(value) and name != "var" else value)
            for name, value in context.items()}


def _build_project(root: Path, settings: Settings, settings_file: str | None,
                   sources: list[Source], context: Mapping[str, Any], registry: Any,
                   included: Mapping[str, bool]) -> Project:
    schema = _schema(registry)
    documents: list[Document] = []
    errors: list[SpecError] = []
    skip: set[tuple[str, tuple[Any, ...]]] = set()
    pack_warnings: list[str] = []
    for file, display, origin, dialect in sources:
        try:
            root_node = load_yaml(file, display, context)
        except SpecError as exc:
            (pack_problem(pack_warnings, origin, exc) if origin != "project" else errors.append(exc))
            continue
        if root_node is None:
            continue
        found = schema_errors(root_node, schema, display)
        for err in found:
            item = item_path(err)
            skip.add((display, item[:2] if len(item) >= 2 else ()))
            (pack_problem(pack_warnings, origin, err) if origin != "project" else errors.append(err))
        if (display, ()) not in skip:
            documents.append(Document(display, root_node, origin, dialect))
    metric_types = {name: (r.item, r.plugin) for name, r in registry.metric_types.items()}
    built = build_leaving_out(
        lambda docs, skipped: build(docs, settings, metric_types, skipped, included),
        documents, skip, pack_warnings)
    models, metrics = built.models, built.metrics
    errors += built.errors
    if not errors:
        errors += _lint(registry, models, metrics)
    if errors:
        raise SpecErrors(errors)
    for pack, note in built.notes:
        pack_problem(pack_warnings, pack, note)
    warnings = tuple(str(p) for p in registry.problems) + tuple(pack_warnings)
    files = tuple(d.file for d in documents) + ((settings_file,) if settings_file else ())
    return Project(root=root, settings=settings, models=models, metrics=metrics, files=files,
                   overrides=built.overrides, warnings=warnings)


def _lint(registry: Any, models: Mapping[str, Model], metrics: Mapping[str, Metric]
          ) -> list[SpecError]:
    found: list[SpecError] = []
    view = _LintView(models, metrics)
    for name, entry in sorted(registry.lint_rules.items()):
        try:
            for problem in entry.item.check(view) or ():
                if isinstance(problem, SpecError):
                    found.append(problem)
                else:
                    found.append(SpecError(f"lint rule {name!r}: {problem}"))
        except Exception as exc:
            found.append(SpecError(f"lint rule {name!r} (plugin {entry.plugin!r}) failed while "
                                   f"checking the project: {type(exc).__name__}: {exc}"))
    return found


@dataclass(frozen=True)
class _LintView:
    models: Mapping[str, Model]
    metrics: Mapping[str, Metric]


def pa_table(batches: Iterator[pa.RecordBatch], schema: pa.Schema) -> pa.Table:
    """Collect batches into one Arrow table."""
    import pyarrow as pa

    return pa.Table.from_batches(list(batches), schema=schema)


def iter_batches(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """Record batches from a reader, driver errors turned into ExecutionError."""
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except KpispecError:
            raise
        except Exception as exc:
            raise ExecutionError(f"reading results failed: {type(exc).__name__}: {exc}") from None
        yield batch
