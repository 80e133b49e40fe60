"""The ``modify_query`` probe: each implementation tried once on a small query.

A ``modify_query`` plugin that raises, or returns something that is not a sqlglot
query, breaks every compilation while it is installed; ``kpispec plugins`` (and
:func:`kpispec.testing.assert_plugin_ok`) find it out up front by calling each
implementation once on a probe query, and list the plugin as broken.

The probe gives plugins a :class:`kpispec.compile.QueryContext`, so it sits above
both the compiler and :mod:`kpispec.plugins` (the compiler calls the plugins; the
plugin manager never imports the compiler).
"""

from __future__ import annotations

import pluggy

from kpispec._hookcall import call_impl
from kpispec._plugin_checks import one_line, what_to_do
from kpispec.errors import PluginError
from kpispec.plugins import PluginInfo, add_hook_error, get_plugin_manager, get_registry, plugin_infos

__all__ = ["probe_modify_query", "probed_plugin_infos"]


def probed_plugin_infos() -> list[PluginInfo]:
    """:func:`kpispec.plugins.plugin_infos`, with what the probe found (probed once)."""
    registry = get_registry()
    if not registry.probed:
        registry.probed = True
        for error in probe_modify_query(get_plugin_manager()):
            add_hook_error(error)
    return plugin_infos()


def probe_modify_query(pm: pluggy.PluginManager) -> list[PluginError]:
    """Call each ``modify_query`` implementation once on a small probe query; return the
    problems of those that raise or return something that is not a sqlglot query."""
    from sqlglot import exp

    from kpispec.calendar import Calendar
    from kpispec.compile import QueryContext

    scan = (exp.select(exp.alias_(exp.Count(this=exp.Star()), "deals_won"))
            .from_(exp.table_("deals", alias="deals")))
    probe = (exp.select(exp.column("deals_won", table="deals_by_created_at"))
             .from_(exp.table_("deals_by_created_at"))
             .with_("deals_by_created_at", as_=scan))
    context = QueryContext(metrics=("deals_won",), dimensions=(), grain="month", start=None,
                           end=None, dialect="duckdb", calendar=Calendar())
    errors = []
    for impl in pm.hook.modify_query.get_hookimpls():
        plugin = impl.plugin_name
        what = "on a probe query (SELECT COUNT(*) FROM deals by month)"
        try:
            result = call_impl(impl, expression=probe.copy(), dialect="duckdb", context=context)
        except Exception as exc:
            problem = f"raised {one_line(exc)} {what}"
        else:
            if result is None or isinstance(result, exp.Query):
                continue
            problem = f"returned {type(result).__name__} {what}, not a sqlglot query expression"
        errors.append(PluginError(f"{problem}, so every compilation fails while it is installed; "
                                  f"{what_to_do(plugin)}", plugin=plugin, hook="modify_query"))
    return errors
