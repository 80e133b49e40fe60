"""The plugin manager: entry-point loading, registration, isolation of broken plugins.

Plugins load lazily, on the first call to :func:`get_plugin_manager` or
:func:`get_registry`, never at import time. Every plugin — kpispec's own
built-ins included — arrives through the ``kpispec`` entry-point group, except
core's metric types (:mod:`kpispec._core_types`), which core registers itself.

Environment:

* ``KPISPEC_LOAD_PLUGINS=a,b`` loads only the named entry-point plugins
  (an empty value loads none).
* ``KPISPEC_BLOCK_PLUGINS=a,b`` (what ``--no-plugin`` sets) blocks plugins by name.
* ``KPISPEC_TRACE_PLUGINS=1`` logs every hook call to standard error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Generic, TypeVar

import pluggy

from kpispec import hookspecs
from kpispec.errors import PluginError
from kpispec.extensions import LintRule, MetricType, SinkType, SourceType

__all__ = [
    "PluginInfo",
    "Registry",
    "call_impl",
    "get_plugin_manager",
    "get_registry",
    "reset",
]

ENTRY_POINT_GROUP = "kpispec"
#: Plugins kpispec cannot work without; ``--no-plugin`` refuses to block them.
ESSENTIAL_PLUGINS = frozenset({"core_types"})

T = TypeVar("T")


@dataclass
class PluginInfo:
    """One plugin as ``kpispec plugins`` shows it."""

    name: str
    version: str = ""
    module: str = ""
    blocked: bool = False
    load_error: str = ""
    hook_errors: list[str] = field(default_factory=list)
    registered: dict[str, list[str]] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """``blocked``, ``broken`` (failed to load or a hook failed) or ``ok``."""
        if self.blocked:
            return "blocked"
        return "broken" if self.load_error or self.hook_errors else "ok"

    @property
    def error(self) -> str:
        return "; ".join(filter(None, [self.load_error, *self.hook_errors]))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "module": self.module,
            "status": self.status,
            "error": self.error,
            "registered": {k: sorted(v) for k, v in sorted(self.registered.items())},
        }


@dataclass(frozen=True)
class Registered(Generic[T]):
    """A registered item and the plugin that registered it."""

    item: T
    plugin: str


_pm: pluggy.PluginManager | None = None
_infos: dict[str, PluginInfo] = {}
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
    _infos["core_types"] = PluginInfo("core_types", _own_version(), _core_types.__name__)
    _load_entry_points(pm)
    pm.check_pending()
    if os.environ.get("KPISPEC_TRACE_PLUGINS") not in (None, "", "0"):
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
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        info = PluginInfo(ep.name, dist.version if dist else "", ep.value)
        if ep.name in _infos:
            info.load_error = (
                f"plugin name {ep.name!r} is used by two entry points "
                f"({_infos[ep.name].module} and {ep.value}); the second is skipped"
            )
            _infos[f"{ep.name} ({ep.value})"] = info
            continue
        _infos[ep.name] = info
        if ep.name in blocked or (allowed is not None and ep.name not in allowed):
            info.blocked = True
            continue
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # any import-time failure is the plugin's, not ours
            info.load_error = f"failed to load ({type(exc).__name__}: {exc})"


def call_impl(impl: pluggy.HookImpl, **kwargs: Any) -> Any:
    """Call one hook implementation with the subset of ``kwargs`` it accepts.

    Logged to standard error when ``KPISPEC_TRACE_PLUGINS`` is set, like pluggy's
    own tracing of whole hook calls.
    """
    if os.environ.get("KPISPEC_TRACE_PLUGINS") not in (None, "", "0"):
        sys.stderr.write(f"[kpispec plugins] {impl.function.__name__} -> {impl.plugin_name}\n")
    return impl.function(*[kwargs[name] for name in impl.argnames])


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
        self.spec_paths: list[tuple[str, str, str]] = []  # (path, pack name, plugin)
        self.problems: list[PluginError] = []
        self._conflicts: dict[tuple[str, str], tuple[str, str]] = {}
        self._conflicted: dict[str, list[Registered[Any]]] = {}  # kind -> items kept out of use
        for info in _infos.values():
            info.registered = {}
            info.hook_errors = []
        for info in _infos.values():
            if info.load_error:
                self.problems.append(PluginError(info.load_error, plugin=info.name))
        self._collect(pm, "register_metric_types", MetricType, self.metric_types)
        self._collect(pm, "register_sources", SourceType, self.sources)
        self._collect(pm, "register_sinks", SinkType, self.sinks)
        self._collect(pm, "register_lint_rules", LintRule, self.lint_rules)
        self._collect_template_context(pm)
        self._collect_spec_paths(pm)

    # -- collection -----------------------------------------------------------------

    def _impls(self, pm: pluggy.PluginManager, hook: str) -> Iterator[tuple[str, pluggy.HookImpl]]:
        for impl in getattr(pm.hook, hook).get_hookimpls():
            yield impl.plugin_name, impl

    def _broken(self, plugin: str, hook: str, message: str) -> None:
        error = PluginError(message, plugin=plugin, hook=hook)
        self.problems.append(error)
        _infos.setdefault(plugin, PluginInfo(plugin)).hook_errors.append(f"{hook}: {message}")

    def _add(self, table: dict[str, Registered[Any]], kind: str, name: str, item: Any,
             plugin: str, hook: str) -> None:
        if not isinstance(name, str) or not name:
            self._broken(plugin, hook, f"registered a {kind} without a name: {item!r}")
            return
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
            message = (f"{kind} {name!r} is registered by both {first!r} and {plugin!r}; "
                       f"neither is used until one of them is uninstalled or blocked "
                       f"(--no-plugin {plugin})")
            self.problems.append(PluginError(message, plugin=plugin, hook=hook))
            for who in (first, plugin):
                _infos.setdefault(who, PluginInfo(who)).hook_errors.append(f"{hook}: {message}")
            return
        table[name] = Registered(item, plugin)
        _infos.setdefault(plugin, PluginInfo(plugin)).registered.setdefault(kind, []).append(name)

    def _collect(self, pm: pluggy.PluginManager, hook: str, cls: type,
                 table: dict[str, Registered[Any]]) -> None:
        kind = hook.removeprefix("register_").rstrip("s").replace("_", " ")
        for plugin, impl in self._impls(pm, hook):
            def register(item: Any, _plugin: str = plugin) -> None:
                if not isinstance(item, cls):
                    raise TypeError(f"expected a kpispec.{cls.__name__}, got {item!r}")
                self._add(table, kind, getattr(item, "name", ""), item, _plugin, hook)

            self._run(plugin, hook, impl, register)

    def _collect_template_context(self, pm: pluggy.PluginManager) -> None:
        hook = "register_template_context"
        for plugin, impl in self._impls(pm, hook):
            def register(name: str, value: Any, _plugin: str = plugin) -> None:
                self._add(self.template_context, "template name", name, value, _plugin, hook)

            self._run(plugin, hook, impl, register)

    def _collect_spec_paths(self, pm: pluggy.PluginManager) -> None:
        hook = "register_spec_paths"
        for plugin, impl in self._impls(pm, hook):
            def register(path: Any, name: str | None = None, _plugin: str = plugin) -> None:
                pack = name or _plugin
                self.spec_paths.append((os.fspath(path), pack, _plugin))
                _infos.setdefault(_plugin, PluginInfo(_plugin)).registered.setdefault(
                    "spec path", []).append(pack)

            self._run(plugin, hook, impl, register)

    def _run(self, plugin: str, hook: str, impl: pluggy.HookImpl,
             register: Callable[..., None]) -> None:
        try:
            call_impl(impl, register=register)
        except Exception as exc:
            self._broken(plugin, hook, f"raised {type(exc).__name__}: {exc}")

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
    """Every plugin kpispec knows of, loaded, broken or blocked, by name."""
    get_registry()
    return sorted(_infos.values(), key=lambda i: i.name)


def reset() -> None:
    """Forget the plugin manager and registry; the next use loads plugins again."""
    global _pm, _registry
    _pm = None
    _registry = None
    _infos.clear()


def register_plugin(plugin: object, name: str) -> None:
    """Register an in-process plugin object (tests, notebooks) and rebuild the registry."""
    global _registry
    pm = get_plugin_manager()
    pm.register(plugin, name=name)
    _infos[name] = PluginInfo(name, module=getattr(plugin, "__name__", type(plugin).__name__))
    _registry = None


def unregister_plugin(name: str) -> None:
    """Undo :func:`register_plugin`."""
    global _registry
    pm = get_plugin_manager()
    plugin = pm.get_plugin(name)
    if plugin is not None:
        pm.unregister(plugin)
    _infos.pop(name, None)
    _registry = None
