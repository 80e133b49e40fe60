"""What the loaded plugins registered: :class:`Registry`, and :class:`PluginInfo` per plugin.

The registry calls each registration hook one implementation at a time
(:func:`kpispec._hookcall.call_impl`), checks every item (:mod:`kpispec._plugin_checks`),
and keeps a name two plugins registered out of use, naming both. Whatever a plugin
broke is recorded on its :class:`PluginInfo` and in :attr:`Registry.problems`;
everything else keeps working. :mod:`kpispec.plugins` builds it once, on first use.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pluggy

from kpispec._hookcall import call_impl
from kpispec._plugin_checks import (
    HOOKS_DOCS,
    NAME,
    Malformed,
    guarded_check,
    one_line,
    pack_dialect,
)
from kpispec._plugin_checks import validate as validate_item
from kpispec.errors import PluginError
from kpispec.extensions import LintRule, MetricType, SinkType, SourceType

__all__ = ["PluginInfo", "Registered", "Registry"]

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


class Registry:
    """Everything the loaded plugins registered, by kind and name.

    A name registered twice is kept out of use: looking it up raises a
    :class:`PluginError` that names both plugins.
    """

    def __init__(self, pm: pluggy.PluginManager, infos: dict[str, PluginInfo],
                 problems: Iterable[PluginError] = ()) -> None:
        """Call every registration hook of ``pm``, one implementation at a time.

        Args:
            infos: the plugins by name, updated with what each registered or broke.
            problems: what loading the plugins found already (kept in :attr:`problems`).
        """
        self._infos = infos
        self.metric_types: dict[str, Registered[MetricType]] = {}
        self.sources: dict[str, Registered[SourceType]] = {}
        self.sinks: dict[str, Registered[SinkType]] = {}
        self.lint_rules: dict[str, Registered[LintRule]] = {}
        self.template_context: dict[str, Registered[Any]] = {}
        self.packs: dict[str, Registered[tuple[str, ...]]] = {}  # pack name -> directories
        self.spec_dialects: dict[str, str] = {}  # pack directory -> dialect of its snippets
        self.problems: list[PluginError] = list(problems)
        self.probed = False
        self._conflicts: dict[tuple[str, str], tuple[str, str]] = {}
        self._conflicted: dict[str, list[Registered[Any]]] = {}  # kind -> items kept out of use
        for info in self._infos.values():
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
        self._infos.setdefault(plugin, PluginInfo(plugin)).hook_errors.append(str(error))

    def _add(self, table: dict[str, Registered[Any]], kind: str, name: str, item: Any,
             plugin: str, hook: str) -> None:
        if name in table or (kind, name) in self._conflicts:
            if name in table:
                earlier = table.pop(name)
                self._conflicted.setdefault(kind, []).append(earlier)
                first = earlier.plugin
                registered = self._infos[first].registered
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
                order = sorted((first, plugin), key=lambda p: self._infos[p].distribution == "kpispec"
                               if p in self._infos else False)
                message = (f"{kind} {name!r} is registered by both {first!r} and {plugin!r}; "
                           f"neither is used until one of them is uninstalled or blocked "
                           f"(--no-plugin {order[0]} or --no-plugin {order[1]})")
                culprit = order[0]
            error = PluginError(message, plugin=culprit, hook=hook)
            self.problems.append(error)
            for who in dict.fromkeys((first, plugin)):
                self._infos.setdefault(who, PluginInfo(who)).hook_errors.append(str(error))
            return
        table[name] = Registered(item, plugin)
        self._infos.setdefault(plugin, PluginInfo(plugin)).registered.setdefault(kind, []).append(name)

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
                                           f"(see {HOOKS_DOCS}), or block it with --no-plugin {plugin}")
            except TypeError as exc:  # wrong arguments to register()
                self._broken(plugin, hook, f"called register() wrongly ({exc}); it is not used. "
                                           f"Fix or upgrade the plugin (see {HOOKS_DOCS}), or block it "
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
