"""The plugin manager: entry-point loading, registration, isolation of broken plugins.

Plugins load lazily, on the first call to :func:`get_plugin_manager` or
:func:`get_registry`, never at import time. Every plugin — kpispec's own
built-ins included — arrives through the ``kpispec`` entry-point group, except
core's metric types (:mod:`kpispec._core_types`), which core registers itself.

A broken plugin never takes kpispec down: a plugin that fails to import,
implements a hook that does not exist, raises in a hook, registers something
malformed (or a name another plugin registered too) is reported as one
:class:`~kpispec.errors.PluginError` naming the plugin and the hook, kept in
:attr:`Registry.problems`, shown as ``broken`` by ``kpispec plugins``, and
everything else keeps working.

Environment:

* ``KPISPEC_LOAD_PLUGINS=a,b`` loads only the named entry-point plugins
  (an empty value loads none).
* ``KPISPEC_BLOCK_PLUGINS=a,b`` (what ``--no-plugin`` sets) blocks plugins by name.
* ``KPISPEC_TRACE_PLUGINS=1`` logs every hook call to standard error.

What the plugins registered is kept in a :class:`~kpispec._plugin_registry.Registry`
(built once, by :func:`get_registry`).
"""

from __future__ import annotations

import difflib
import os
import sys
from importlib import metadata

import pluggy

from kpispec import hookspecs
from kpispec._hookcall import call_impl, tracing
from kpispec._plugin_checks import HOOKS_DOCS, one_line, what_to_do
from kpispec._plugin_registry import PluginInfo, Registered, Registry
from kpispec.errors import PluginError

__all__ = [
    "ESSENTIAL_PLUGINS",
    "PluginInfo",
    "Registered",
    "Registry",
    "add_hook_error",
    "call_impl",
    "environment_problems",
    "get_plugin_manager",
    "get_registry",
    "in_process_plugins",
    "plugin_infos",
    "register_plugin",
    "reset",
    "unregister_plugin",
]

ENTRY_POINT_GROUP = "kpispec"
#: Plugins kpispec cannot work without; ``--no-plugin`` refuses to block them.
ESSENTIAL_PLUGINS = frozenset({"core_types"})

_pm: pluggy.PluginManager | None = None
_infos: dict[str, PluginInfo] = {}
_env_problems: list[PluginError] = []
_load_problems: list[PluginError] = []
_in_process: dict[str, object] = {}  # name -> plugin, from register_plugin()
_registry: Registry | None = None


def _env_names(variable: str) -> set[str] | None:
    value = os.environ.get(variable)
    if value is None:
        return None
    return {n.strip() for n in value.split(",") if n.strip()}


def get_plugin_manager() -> pluggy.PluginManager:
    """Return the process-wide plugin manager, loading plugins on first use."""
    global _pm
    if _pm is not None:
        return _pm
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    from kpispec import _core_types

    pm.register(_core_types, name="core_types")
    _infos["core_types"] = PluginInfo("core_types", _own_version(), _core_types.__name__, "kpispec")
    _infos["core_types"].hooks = _hook_names(pm, _core_types)
    _load_entry_points(pm)
    pm.check_pending()  # every plugin with an unknown hook was turned away above
    if tracing():
        pm.trace.root.setwriter(lambda text: sys.stderr.write(f"[kpispec plugins] {text}"))
        pm.enable_tracing()
    _pm = pm
    return pm


def _own_version() -> str:
    try:
        return metadata.version("kpispec")
    except metadata.PackageNotFoundError:
        return ""


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    allowed = _env_names("KPISPEC_LOAD_PLUGINS")
    blocked = _env_names("KPISPEC_BLOCK_PLUGINS") or set()
    entry_points = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
    _env_problems.clear()
    _load_problems.clear()
    known = {ep.name for ep in entry_points} | set(ESSENTIAL_PLUGINS)
    for variable, names in (("KPISPEC_LOAD_PLUGINS", allowed),
                            ("--no-plugin (or KPISPEC_BLOCK_PLUGINS)", blocked)):
        for name in sorted((names or set()) - known):
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "'kpispec plugins' lists the installed ones"
            _env_problems.append(PluginError(
                f"{variable} names it, but no installed plugin is called {name!r}; {hint}",
                plugin=name))
    for ep in entry_points:
        dist = getattr(ep, "dist", None)
        info = PluginInfo(ep.name, dist.version if dist else "", ep.value,
                          dist.metadata["Name"] if dist else "")
        if ep.name in _infos:
            _load_failed(info, (
                f"plugin name {ep.name!r} is used by two entry points "
                f"({_infos[ep.name].module} and {ep.value}); the second is not loaded. "
                f"Uninstall one of the packages, or ask its author to rename the entry point"))
            _infos[f"{ep.name} ({ep.value})"] = info
            continue
        _infos[ep.name] = info
        if ep.name in blocked or (allowed is not None and ep.name not in allowed):
            info.blocked = True
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # any import-time failure is the plugin's, not ours
            package = f"{info.distribution} {info.version}".strip() or "the package that provides it"
            _load_failed(info, (
                f"failed to import {ep.value!r} ({one_line(exc)}); kpispec goes on without it. "
                f"Reinstall or upgrade {package}, or block it with --no-plugin {ep.name}"))
            continue
        problem = _register(pm, plugin, ep.name)
        if problem:
            _load_failed(info, problem)
        else:
            info.hooks = _hook_names(pm, plugin)


def _load_failed(info: PluginInfo, message: str) -> None:
    error = PluginError(message, plugin=info.name)
    info.load_error = str(error)
    _load_problems.append(error)


def _register(pm: pluggy.PluginManager, plugin: object, name: str) -> str:
    """Register ``plugin``; return why it was turned away, or ``""``."""
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        detail = " ".join(str(exc).split())
        return (f"not loaded: its hook implementation does not match kpispec's hooks "
                f"({detail}). An implementation may take only the hook's parameters; "
                f"see {HOOKS_DOCS}, then {what_to_do(name)}")
    except ValueError as exc:  # already registered under another name, or the name is taken
        return f"not loaded: {exc}"
    unknown: list[str] = []
    wrappers: list[str] = []
    for caller in pm.get_hookcallers(plugin) or ():
        impls = [i for i in caller.get_hookimpls() if i.plugin is plugin]
        if not caller.has_spec() and any(not i.optionalhook for i in impls):
            unknown.append(caller.name)
        elif any(i.hookwrapper or i.wrapper for i in impls):
            wrappers.append(caller.name)
    if not unknown and not wrappers:
        return ""
    pm.unregister(plugin)
    if not unknown:
        return (f"not loaded: it implements {', '.join(wrappers)} as a hook wrapper, which "
                f"kpispec does not support. Drop hookwrapper/wrapper from its @hookimpl, or "
                f"block the plugin with --no-plugin {name}")
    names = _hook_names_of(hookspecs)
    described = []
    for hook in unknown:
        close = difflib.get_close_matches(hook, names, n=1)
        described.append(f"{hook!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return (f"not loaded: it implements {', '.join(described)}, which is not a kpispec "
            f"hook. Rename the function (the hooks are listed in {HOOKS_DOCS}), "
            f"or block the plugin with --no-plugin {name}")


def _hook_names_of(module: object) -> list[str]:
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return sorted(n for n in dir(module) if getattr(getattr(module, n), marker, None) is not None)


def _hook_names(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    return sorted(caller.name for caller in pm.get_hookcallers(plugin) or ())


def get_registry() -> Registry:
    """Return what every loaded plugin registered (built once, on first use)."""
    global _registry
    if _registry is None:
        _registry = Registry(get_plugin_manager(), _infos, [*_env_problems, *_load_problems])
    return _registry


def plugin_infos() -> list[PluginInfo]:
    """Every plugin kpispec knows of, loaded, broken or blocked, by name.

    A plugin whose ``modify_query`` failed the probe query shows as broken once the
    probe has run (:func:`kpispec._plugin_probe.probed_plugin_infos`, which ``kpispec
    plugins`` uses): the probe needs the compiler, which this module stays below.
    """
    get_registry()
    return sorted(_infos.values(), key=lambda i: i.name)


def add_hook_error(error: PluginError) -> None:
    """Record a problem found by calling a plugin's hook outside registration (the
    ``modify_query`` probe): :func:`plugin_infos` shows the plugin as broken."""
    _infos.setdefault(error.plugin, PluginInfo(error.plugin)).hook_errors.append(str(error))


def environment_problems() -> list[PluginError]:
    """Names in ``KPISPEC_LOAD_PLUGINS`` / ``KPISPEC_BLOCK_PLUGINS`` (``--no-plugin``) that
    no installed plugin has."""
    get_plugin_manager()
    return list(_env_problems)


def reset() -> None:
    """Forget the plugin manager and registry; the next use loads plugins again."""
    global _pm, _registry
    _pm = None
    _registry = None
    _infos.clear()
    _env_problems.clear()
    _load_problems.clear()
    _in_process.clear()


def register_plugin(plugin: object, name: str) -> None:
    """Register an in-process plugin object (tests, notebooks) and rebuild the registry.

    Raises:
        PluginError: ``plugin`` implements a hook kpispec does not have, or takes a
            parameter its hook does not give, or ``name`` is taken.
    """
    global _registry
    pm = get_plugin_manager()
    problem = _register(pm, plugin, name)
    if problem:
        raise PluginError(problem, plugin=name)
    module = getattr(plugin, "__name__", None) or type(plugin).__qualname__
    _infos[name] = PluginInfo(name, module=module, hooks=_hook_names(pm, plugin))
    _in_process[name] = plugin
    _registry = None


def in_process_plugins() -> dict[str, object]:
    """The plugins registered with :func:`register_plugin` (and not unregistered), by name."""
    return dict(_in_process)


def unregister_plugin(name: str) -> None:
    """Undo :func:`register_plugin`."""
    global _registry
    pm = get_plugin_manager()
    plugin = pm.get_plugin(name)
    if plugin is not None:
        pm.unregister(plugin)
    _infos.pop(name, None)
    _in_process.pop(name, None)
    _registry = None
