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
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Generic, TypeVar

import pluggy

from kpispec import hookspecs
from kpispec._hookcall import call_impl, tracing
from kpispec._plugin_checks import (
    NAME,
    Malformed,
    guarded_check,
    one_line,
    pack_dialect,
    what_to_do,
)
from kpispec._plugin_checks import validate as validate_item
from kpispec.errors import PluginError
from kpispec.extensions import LintRule, MetricType, SinkType, SourceType

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
_DOCS = "docs/plugin-hooks.md"

T = TypeVar("T")


@dataclass
class PluginInfo:
    """One plugin as ``kpispec plugins`` shows it."""

    name: str
    version: str = ""
    module: str = ""
    distribution: str = ""
    blocked: bool = False
    load_error: str = ""
    hook_errors: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)
    hooks: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``blocked``, ``broken`` (failed to load or a hook failed) or ``ok``."""
        if self.blocked:
            return "blocked"
        return "broken" if self.load_error or self.hook_errors else "ok"

    @property
    def error(self) -> str:
        return "; ".join(filter(None, [self.load_error, *self.hook_errors]))

    @property
    def errors(self) -> list[str]:
        """Every problem of the plugin, one message each."""
        return [e for e in [self.load_error, *self.hook_errors] if e]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "distribution": self.distribution,
            "module": self.module,
            "status": self.status,
            "error": self.error,
            "errors": self.errors,
            "hooks": sorted(self.hooks),
            "registered": {k: sorted(v) for k, v in sorted(self.registered.items())},
        }


@dataclass(frozen=True)
class Registered(Generic[T]):
    """A registered item and the plugin that registered it."""

    item: T
    plugin: str


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
                f"see {_DOCS}, then {what_to_do(name)}")
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
            f"hook. Rename the function (the hooks are listed in {_DOCS}), "
            f"or block the plugin with --no-plugin {name}")


def _hook_names_of(module: object) -> list[str]:
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return sorted(n for n in dir(module) if getattr(getattr(module, n), marker, None) is not None)


def _hook_names(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    return sorted(caller.name for caller in pm.get_hookcallers(plugin) or ())


class Registry:
    """Everything the loaded plugins registered, by kind and name.

    A name registered twice is kept out of use: looking it up raises a
    :class:`PluginError` that names both plugins.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.metric_types: dict[str, Registered[MetricType]] = {}
        self.sources: dict[str, Registered[SourceType]] = {}
        self.sinks: dict[str, Registered[SinkType]] = {}
        self.lint_rules: dict[str, Registered[LintRule]] = {}
        self.template_context: dict[str, Registered[Any]] = {}
        self.packs: dict[str, Registered[tuple[str, ...]]] = {}  # pack name -> directories
        self.spec_dialects: dict[str, str] = {}  # pack directory -> dialect of its snippets
        self.problems: list[PluginError] = [*_env_problems, *_load_problems]
        self.probed = False
        self._conflicts: dict[tuple[str, str], tuple[str, str]] = {}
        self._conflicted: dict[str, list[Registered[Any]]] = {}  # kind -> items kept out of use
        for info in _infos.values():
            info.registered = {}
            info.hook_errors = []
        self._collect(pm, "register_metric_types", "metric type", MetricType, self.metric_types)
        self._collect(pm, "register_sources", "source", SourceType, self.sources)
        self._collect(pm, "register_sinks", "sink", SinkType, self.sinks)
        self._collect(pm, "register_lint_rules", "lint rule", LintRule, self.lint_rules)
        self._collect_template_context(pm)
        self._collect_spec_paths(pm)

    @property
    def spec_paths(self) -> list[tuple[str, str, str]]:
        """Every usable metric pack as (directory, pack name, plugin), in registration order."""
        return [(directory, pack, r.plugin) for pack, r in self.packs.items() for directory in r.item]

    # -- collection -----------------------------------------------------------------

    def _impls(self, pm: pluggy.PluginManager, hook: str) -> Iterator[tuple[str, pluggy.HookImpl]]:
        for impl in getattr(pm.hook, hook).get_hookimpls():
            yield impl.plugin_name, impl

    def _broken(self, plugin: str, hook: str, message: str) -> None:
        error = PluginError(message, plugin=plugin, hook=hook)
        self.problems.append(error)
        _infos.setdefault(plugin, PluginInfo(plugin)).hook_errors.append(str(error))

    def _add(self, table: dict[str, Registered[Any]], kind: str, name: str, item: Any,
             plugin: str, hook: str) -> None:
        if name in table or (kind, name) in self._conflicts:
            if name in table:
                earlier = table.pop(name)
                self._conflicted.setdefault(kind, []).append(earlier)
                first = earlier.plugin
                registered = _infos[first].registered
                if name in registered.get(kind, []):
                    registered[kind].remove(name)
                    if not registered[kind]:
                        del registered[kind]
            else:
                first = self._conflicts[(kind, name)][0]
            self._conflicts[(kind, name)] = (first, plugin)
            self._conflicted.setdefault(kind, []).append(Registered(item, plugin))
            culprit = plugin
            if first == plugin:
                message = (f"{kind} {name!r} is registered twice by {plugin!r}; neither is used. "
                           f"Fix or upgrade the plugin, or block it with --no-plugin {plugin}")
            else:
                # Suggest blocking a third-party plugin before one of kpispec's own.
                order = sorted((first, plugin), key=lambda p: _infos[p].distribution == "kpispec"
                               if p in _infos else False)
                message = (f"{kind} {name!r} is registered by both {first!r} and {plugin!r}; "
                           f"neither is used until one of them is uninstalled or blocked "
                           f"(--no-plugin {order[0]} or --no-plugin {order[1]})")
                culprit = order[0]
            error = PluginError(message, plugin=culprit, hook=hook)
            self.problems.append(error)
            for who in dict.fromkeys((first, plugin)):
                _infos.setdefault(who, PluginInfo(who)).hook_errors.append(str(error))
            return
        table[name] = Registered(item, plugin)
        _infos.setdefault(plugin, PluginInfo(plugin)).registered.setdefault(kind, []).append(name)

    def _run(self, plugin: str, hook: str, impl: pluggy.HookImpl,
             validate: Callable[..., tuple[str, Any]],
             commit: Callable[[str, Any], None]) -> None:
        """Call one implementation; commit what it registered only if it did not raise."""
        pending: list[tuple[str, Any]] = []

        def register(*args: Any, **kwargs: Any) -> None:
            try:
                pending.append(validate(*args, **kwargs))
            except Malformed as exc:
                self._broken(plugin, hook, f"{exc}; it is not used. Fix or upgrade the plugin "
                                           f"(see {_DOCS}), or block it with --no-plugin {plugin}")
            except TypeError as exc:  # wrong arguments to register()
                self._broken(plugin, hook, f"called register() wrongly ({exc}); it is not used. "
                                           f"Fix or upgrade the plugin (see {_DOCS}), or block it "
                                           f"with --no-plugin {plugin}")

        try:
            returned = call_impl(impl, register=register)
        except Exception as exc:
            self._broken(plugin, hook, f"raised {one_line(exc)}; nothing it registers there is "
                                       f"used. Fix or upgrade the plugin, or block it with "
                                       f"--no-plugin {plugin}")
            return
        if returned is not None:
            self._broken(plugin, hook, f"returned a {type(returned).__name__} instead of calling "
                                       f"register(); "
                                       f"what it returned is not used. Call register(...) once "
                                       f"per item and return nothing, or block the plugin with "
                                       f"--no-plugin {plugin}")
        for name, item in pending:
            commit(name, item)

    def _collect(self, pm: pluggy.PluginManager, hook: str, kind: str, cls: type,
                 table: dict[str, Registered[Any]]) -> None:
        for plugin, impl in self._impls(pm, hook):
            def validate(item: Any, *, _plugin: str = plugin) -> tuple[str, Any]:
                item = validate_item(kind, cls, item)
                if isinstance(item, LintRule):
                    item = dataclasses.replace(item, check=guarded_check(item, _plugin))
                return item.name, item

            def commit(name: str, item: Any, _plugin: str = plugin) -> None:
                self._add(table, kind, name, item, _plugin, hook)

            self._run(plugin, hook, impl, validate, commit)

    def _collect_template_context(self, pm: pluggy.PluginManager) -> None:
        hook = "register_template_context"
        for plugin, impl in self._impls(pm, hook):
            def validate(name: str, value: Any) -> tuple[str, Any]:
                if not isinstance(name, str) or not NAME.match(name):
                    raise Malformed(f"registered the template name {name!r}; a name is letters, "
                                     "digits and underscores, not starting with a digit")
                if name == "var":
                    raise Malformed("registered the template name 'var', which is kpispec's "
                                     "own var() function; choose another name")
                return name, value

            def commit(name: str, value: Any, _plugin: str = plugin) -> None:
                self._add(self.template_context, "template name", name, value, _plugin, hook)

            self._run(plugin, hook, impl, validate, commit)

    def _collect_spec_paths(self, pm: pluggy.PluginManager) -> None:
        hook = "register_spec_paths"
        for plugin, impl in self._impls(pm, hook):
            def validate(path: Any, name: str | None = None, dialect: str = "duckdb", *,
                         _plugin: str = plugin) -> tuple[str, Any]:
                try:
                    directory = os.fspath(path)
                except TypeError:
                    raise Malformed(f"registered the spec path {path!r}, which is not a "
                                     "path") from None
                if not os.path.isdir(directory):
                    raise Malformed(f"registered the spec path {directory!r}, which is not a "
                                     "directory (is it shipped as package data?)")
                pack = _plugin if name is None else name
                if not isinstance(pack, str) or not NAME.match(pack):
                    raise Malformed(f"registered the pack name {pack!r}; a name is letters, "
                                     "digits and underscores, not starting with a digit")
                return pack, (directory, pack_dialect(pack, dialect))

            def commit(pack: str, entry: Any, _plugin: str = plugin) -> None:
                directory, dialect = entry
                self.spec_dialects[directory] = dialect
                earlier = self.packs.get(pack)
                if earlier is not None and earlier.plugin == _plugin:  # one pack, several directories
                    self.packs[pack] = Registered((*earlier.item, directory), _plugin)
                else:
                    self._add(self.packs, "spec path", pack, (directory,), _plugin, hook)

            self._run(plugin, hook, impl, validate, commit)

    # -- lookup ---------------------------------------------------------------------

    def _get(self, table: dict[str, Registered[T]], kind: str, name: str) -> T | None:
        if (kind, name) in self._conflicts:
            first, second = self._conflicts[(kind, name)]
            raise PluginError(
                f"{kind} {name!r} is registered by both {first!r} and {second!r}; "
                f"uninstall one or block it with --no-plugin", plugin=second)
        entry = table.get(name)
        return entry.item if entry else None

    def metric_type(self, name: str) -> MetricType | None:
        return self._get(self.metric_types, "metric type", name)

    def source_for_scheme(self, scheme: str) -> SourceType | None:
        def answers(r: Registered[Any]) -> bool:
            return scheme in r.item.schemes

        matches = [r for r in self.sources.values() if answers(r)]
        return self._unique(matches, "source", f"scheme {scheme!r}", answers)

    def sink_for(self, scheme: str | None, extension: str | None) -> SinkType | None:
        def answers(r: Registered[Any]) -> bool:
            return bool((scheme and scheme in r.item.schemes) or
                        (not scheme and extension and extension in r.item.extensions))

        matches = [r for r in self.sinks.values() if answers(r)]
        return self._unique(matches, "sink",
                            f"scheme {scheme!r}" if scheme else f"extension {extension!r}", answers)

    def _unique(self, matches: list[Registered[T]], kind: str, what: str,
                answers: Callable[[Registered[Any]], bool]) -> T | None:
        if not matches:
            # Nothing usable: if a name collision kept the answer out of use, say so.
            for r in self._conflicted.get(kind, []):
                if answers(r):
                    first, second = self._conflicts[(kind, r.item.name)]
                    raise PluginError(
                        f"the {kind} for {what} is {r.item.name!r}, registered by both "
                        f"{first!r} and {second!r}; uninstall one or block it with --no-plugin",
                        plugin=second)
        if len(matches) > 1:
            names = " and ".join(repr(m.plugin) for m in matches)
            raise PluginError(f"{kind} for {what} is registered by both {names}; "
                              "uninstall one or block it with --no-plugin", plugin=matches[-1].plugin)
        return matches[0].item if matches else None


def get_registry() -> Registry:
    """Return what every loaded plugin registered (built once, on first use)."""
    global _registry
    if _registry is None:
        _registry = Registry(get_plugin_manager())
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
