"""Every hook kpispec calls, with the ``hookspec`` / ``hookimpl`` markers.

A plugin is a module (or any object) with functions marked ``@hookimpl`` whose
names are hook names below. Implementations may accept any subset of a
hook's parameters. Registration hooks receive a ``register`` callback instead
of returning lists, so kpispec can reject a duplicate name at the moment it
is registered and say which two plugins collide.

No hook is firstresult: kpispec calls every implementation. A registration hook
runs once per plugin, in isolation: if it raises, nothing it registered is used;
an item that is malformed (wrong class, bad name, invalid schema fragment…) or
whose name another plugin registered too is left out. Each such problem is one
:class:`kpispec.PluginError` naming the plugin and the hook, printed as a warning
by project commands and shown by ``kpispec plugins``; everything else keeps
working. docs/plugin-hooks.md has one section per hook with a runnable example;
:mod:`kpispec.testing` has what plugin tests need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from sqlglot import exp

PROJECT_NAME = "kpispec"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_metric_types(register: Callable[..., None]) -> None:
    """Contribute metric types (core's own simple, ratio and derived come through it too).

    Called once, when the plugin manager is first used.

    :param register: call ``register(kpispec.MetricType(name=..., schema=..., lower=...))``
        once per type. ``schema`` is the JSON Schema fragment of the type's own
        fields (merged into the published schema); ``lower(spec, ctx)`` turns a
        validated spec of that type into core measures and an expression. The
        type's name must be unique among installed plugins; an invalid schema
        fragment keeps the type out of use.
    :return: nothing (a returned value is reported as a mistake). Not firstresult.
    """


@hookspec
def register_sources(register: Callable[..., None]) -> None:
    """Contribute data sources, chosen by the scheme of a ``--source`` URL.

    Called once, when the plugin manager is first used.

    :param register: call ``register(kpispec.SourceType(name=..., schemes=(...),
        dialect=..., connect=...))`` once per source. ``connect(url)`` returns a
        :class:`kpispec.Connection` whose ``execute(sql, timeout=...)`` returns a
        ``pyarrow.RecordBatchReader``. ``dialect`` must be one kpispec compiles for;
        schemes are lower case and answered by one source only.
    :return: nothing (a returned value is reported as a mistake). Not firstresult.
    """


@hookspec
def register_sinks(register: Callable[..., None]) -> None:
    """Contribute output sinks, chosen by a ``--sink`` URL's scheme or file extension.

    Called once, when the plugin manager is first used.

    :param register: call ``register(kpispec.SinkType(name=..., schemes=(...),
        extensions=(...), open=...))`` once per sink. ``open(target, schema,
        context)`` returns a :class:`kpispec.SinkWriter`. Give at least one scheme
        or extension (extensions start with a dot: ``.md``).
    :return: nothing (a returned value is reported as a mistake). Not firstresult.
    """


@hookspec
def register_spec_paths(register: Callable[..., None]) -> None:
    """Contribute directories of YAML specs (metric packs).

    Called when a project is loaded. In a directory with no spec files of its own the
    installed packs are the project; a project with its own specs includes a pack only
    when ``kpispec.yaml`` lists it (``packs: [name]``).

    :param register: call ``register(path, name=None, dialect="duckdb")`` with a
        directory; every ``*.yaml`` file below it is loaded before the project's own
        files. ``name`` (default: the plugin's name) is what ``packs:`` in
        ``kpispec.yaml`` and ``refine: <name>.<model>`` use. ``dialect`` is the sqlglot
        dialect the pack's SQL snippets are written in: they are always parsed in it,
        whatever the project's ``dialect:``. A path that is not a directory, or a
        dialect kpispec does not read, is reported (ship the YAML files as package data).
    :return: nothing (a returned value is reported as a mistake). Not firstresult.
    """


@hookspec
def register_template_context(register: Callable[..., None]) -> None:
    """Contribute functions and variables to spec templating (``{{ name(...) }}``).

    Called when a project's files are rendered, before YAML parsing.

    :param register: call ``register(name, value)``; ``value`` may be a plain
        value or a callable. Names are global: a duplicate is an error naming
        both plugins; ``var`` is kpispec's own and cannot be registered.
    :return: nothing (a returned value is reported as a mistake). Not firstresult.
    """


@hookspec
def register_lint_rules(register: Callable[..., None]) -> None:
    """Contribute validation rules run over every loaded project.

    Called when a project is validated.

    :param register: call ``register(kpispec.LintRule(name=..., check=...))``;
        ``check(project)`` yields :class:`kpispec.SpecError` (or subclasses) for
        each problem. A rule that raises, or yields something else, is reported
        as a problem naming the rule, its plugin and this hook, never as a traceback.
    :return: nothing (a returned value is reported as a mistake). Not firstresult.
    """


@hookspec
def modify_query(expression: exp.Expr, dialect: str, context: Any) -> exp.Expr | None:
    """Rewrite the final query expression before it is rendered.

    Called once per compiled query, after the compiler has built the sqlglot tree.
    Every implementation runs, in turn, on the result of the previous one.

    :param expression: the query, a ``sqlglot.exp.Select`` (a copy: mutate or replace it).
    :param dialect: the sqlglot dialect name the query will be rendered in.
    :param context: a :class:`kpispec.QueryContext` with the metrics, dimensions,
        grain and range of the query, its calendar (week start, fiscal year, time
        zone) and its comparison.
    :return: a replacement expression, or None to keep ``expression`` (with any
        in-place edits). Not firstresult. Raising, or returning something that is
        not a sqlglot query, fails the compilation with a PluginError naming the
        plugin; ``kpispec plugins`` tries each implementation on a probe query.
    """
