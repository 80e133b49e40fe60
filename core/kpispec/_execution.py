"""Running a query on a source: the connection, the final-SQL guard, reading the rows.

:func:`execute` compiles for the source's dialect, checks the SQL exactly as it will
be sent (one SELECT that only reads, :func:`kpispec.compile.guard.check_query`) before
any connection is made — replaying the ``modify_query`` plugins one by one to name
the one that made it unsafe — then connects and starts the query. Every failure is an
:class:`~kpispec.errors.ExecutionError` with passwords masked. :func:`check_source`
looks the models' tables and columns up on a live source (``kpispec validate --source``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from kpispec._dialect_names import sqlglot_dialect
from kpispec._source_url import parse_source_url, source_type
from kpispec.compile import CompiledQuery, compile_query
from kpispec.compile.guard import check_query
from kpispec.errors import ExecutionError, KpispecError, SpecError

if TYPE_CHECKING:
    import pyarrow as pa

    from kpispec.project import Project

__all__ = ["check_source", "execute", "iter_batches", "pa_table", "run"]


def execute(project: Project, metrics: Sequence[str], *, source: str | None = None,
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

    url = parse_source_url(source or project.settings.source or "duckdb:///:memory:")
    plugin = source_type(url)
    try:
        compiled = project.compile(metrics, dialect=plugin.dialect, **options)
    except PluginError as exc:  # a modify_query plugin failed on this run's query
        raise ExecutionError(mask_secrets(str(exc))) from None
    # The SQL exactly as it will be sent, checked before any connection is made.
    _check_final_sql(project, compiled, plugin.dialect)
    if on_step is not None:
        on_step("compiled", "")
    try:
        connection = plugin.connect(url)
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


def check_source(project: Project, source: str | None = None,
                 ) -> tuple[list[SpecError], list[str]]:
    """Check every model's table and declared columns against a live source's catalog.

    Returns the problems of the project's own models (errors, located at the model)
    and of installed packs' models (warnings: a pack may cover tables you do not have).
    """
    url = parse_source_url(source or project.settings.source or "duckdb:///:memory:")
    plugin = source_type(url)
    try:
        connection = plugin.connect(url)
    except KpispecError:
        raise
    except Exception as exc:
        raise ExecutionError(f"source {url} failed to connect: {type(exc).__name__}: {exc}") from None
    errors: list[SpecError] = []
    warnings: list[str] = []
    try:
        for model in sorted(project.models.values(), key=lambda m: m.name):
            if not isinstance(model.relation, exp.Table):
                continue  # a model's own SELECT: the source checks it when it runs
            table = model.relation.sql(dialect=sqlglot_dialect(plugin.dialect))
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


def run(project: Project, metrics: Sequence[str], *, source: str | None = None,
        timeout: float | None = None, **options: Any) -> pa.Table:
    """Run metrics on a source and return the result as an Arrow table.

    Raises:
        ExecutionError: the query was refused (see :meth:`execute`), or the source
            failed to connect, run it or stream its rows (the connection is closed).
        KeyboardInterrupt: Ctrl-C; built-in sources cancel the query on the server.
    """
    _, reader, connection = project.execute(metrics, source=source, timeout=timeout, **options)
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
