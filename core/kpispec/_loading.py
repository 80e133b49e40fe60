"""Loading a project: spec files found and templated, packs included, checked, built, cached.

:func:`load` is :func:`kpispec.load_project`: read kpispec.yaml
(:mod:`kpispec._settings`), find the project's spec files and the included packs'
(:mod:`kpispec._packs`), reuse the project cache when nothing it depends on changed
(:mod:`kpispec._cache`), else load each file with the template functions (``var``,
``env_var`` under :mod:`kpispec._env_policy`, and what plugins register), check it
against the JSON Schema, build the models and metrics (:mod:`kpispec.spec.rules`)
and run the plugins' lint rules. Every problem is collected into one
:class:`~kpispec.errors.SpecErrors`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kpispec._env_policy import env_var_allowed, looks_secret, safe_value
from kpispec._packs import (
    Source,
    build_leaving_out,
    included_packs,
    item_path,
    pack_problem,
    pack_sources,
)
from kpispec._settings import SETTINGS_FILE, display_name, read_settings, spec_schema
from kpispec.errors import SpecError, SpecErrors
from kpispec.spec.loader import load_yaml
from kpispec.spec.model import Metric, Model, Settings
from kpispec.spec.rules import Document, build
from kpispec.spec.schema import schema_errors

if TYPE_CHECKING:
    from kpispec.project import Project

__all__ = ["load", "spec_files"]

P = TypeVar("P", bound="Project")

_SKIP_DIRS = {"node_modules", "venv", ".venv", "__pycache__", "build", "dist", "target"}
_MISSING = object()


def load(path: str | os.PathLike[str], *, vars: Mapping[str, Any] | None, packs: bool,
         cache: bool, project_type: type[P]) -> P:
    """:func:`kpispec.load_project`, building a ``project_type`` (:class:`kpispec.Project`)."""
    from kpispec.plugins import get_registry

    root = Path(path)
    if not root.exists():
        raise SpecError(f"no such project directory or file: {os.fspath(path)!r}")
    settings, settings_file = read_settings(root)
    registry = get_registry()
    own = spec_files(root, settings.paths or None)
    included = included_packs(registry.packs, settings, bool(own), packs)
    sources = pack_sources(registry.spec_paths, registry.spec_dialects, included,
                           lambda directory: spec_files(directory, None))
    sources += [(file, display_name(file), "project", None) for file in own]
    key = _cache_key(root, sources, settings_file, vars or {}, packs) if cache else None
    from kpispec._gc import gc_paused

    if key is not None:
        from kpispec import _cache

        with gc_paused():
            hit = _cache.read(key)
        if isinstance(hit, project_type):
            return replace(hit, root=root, warnings=tuple(str(p) for p in registry.problems)
                           + hit.warnings)
    environment: list[tuple[str, str | None]] = []
    cacheable = [True]
    context = _recording(_template_context(settings, vars or {}), environment, cacheable)
    with gc_paused():
        project = _build_project(root, settings, settings_file, sources, context, registry,
                                 included, project_type)
    if key is not None and cacheable[0]:
        from kpispec import _cache

        registry_warnings = len(registry.problems)
        _cache.write(key, replace(project, warnings=project.warnings[registry_warnings:]),
                     environment)
    return project


def spec_files(root: Path, paths: Sequence[str] | None) -> list[Path]:
    """The spec files under ``root`` (or its ``paths:``), sorted; hidden and tool directories
    and kpispec.yaml itself skipped. ``root`` may be one spec file."""
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


def _build_project(root: Path, settings: Settings, settings_file: str | None,
                   sources: list[Source], context: Mapping[str, Any], registry: Any,
                   included: Mapping[str, bool], project_type: type[P]) -> P:
    schema = spec_schema(registry)
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
    return project_type(root=root, settings=settings, models=models, metrics=metrics, files=files,
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
