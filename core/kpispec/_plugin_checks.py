"""What kpispec checks about what plugins register, and how it contains their failures.

Used by :mod:`kpispec.plugins`: :func:`validate` checks one registered item (its
class, name and fields; a metric type's JSON Schema fragment), :func:`guarded_check`
turns a lint rule's crash into a finding (:mod:`kpispec._plugin_probe` tries each
``modify_query`` once). Every message names what is wrong and what to do.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from kpispec.errors import PluginError, SpecError
from kpispec.extensions import LintRule, MetricType, SinkType, SourceType

__all__ = ["HOOKS_DOCS", "NAME", "Malformed", "guarded_check", "one_line", "pack_dialect", "validate",
           "what_to_do"]

#: Where plugin authors read about the hooks; messages point there.
HOOKS_DOCS = "docs/plugin-hooks.md"
#: Names of registered things: what a spec or a ``--source``/``--sink`` can refer to.
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def what_to_do(plugin: str) -> str:
    return f"fix or upgrade the plugin, or block it with --no-plugin {plugin}"


def one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return f"{type(exc).__name__}: {text}" + (" …" if len(lines) > 1 else "")


class Malformed(Exception):
    """Something a plugin registered is not what the hook asks for."""


def _scheme_names(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise Malformed(f"has {what}={value!r}; give a tuple of strings")
    items = tuple(value)
    if not all(isinstance(v, str) and v for v in items):
        raise Malformed(f"has {what}={value!r}; give a tuple of non-empty strings")
    if any(v != v.lower() for v in items):
        raise Malformed(f"has {what}={value!r}; write them in lower case (kpispec matches "
                         "them lower-cased)")
    return items


def _callable(item: Any, attribute: str) -> None:
    if not callable(getattr(item, attribute, None)):
        raise Malformed(f"has {attribute}={getattr(item, attribute, None)!r}, which is not callable")


def _check_schema_fragment(fragment: Any) -> None:
    from kpispec.spec.schema import check_fragment

    if not isinstance(fragment, Mapping):
        raise Malformed(f"has schema={fragment!r}; give a JSON Schema object (a dict)")
    problem = check_fragment(fragment)
    if problem is not None:
        raise Malformed(f"publishes an invalid schema fragment: {problem}")
    defs = _core_definitions()
    for ref in _refs(fragment):
        if not ref.startswith("#/$defs/") or ref.removeprefix("#/$defs/") not in defs:
            raise Malformed(f"publishes a schema fragment that refers to {ref!r}, which the published "
                             f"schema does not define (use one of "
                             f"{', '.join(f'#/$defs/{d}' for d in sorted(defs) if not d.startswith('metric'))})")


@functools.lru_cache(maxsize=1)
def _core_definitions() -> frozenset[str]:
    from kpispec.spec.schema import build_schema

    return frozenset(build_schema({})["$defs"])


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def validate(kind: str, cls: type, item: Any) -> Any:
    """Check one registered item; return it (possibly normalised) or raise Malformed."""
    if not isinstance(item, cls):
        raise Malformed(f"registered {item!r} (a {type(item).__name__}) where a "
                         f"kpispec.{cls.__name__} is expected")
    name = getattr(item, "name", None)
    if not isinstance(name, str) or not NAME.match(name):
        raise Malformed(f"registered a {kind} named {name!r}; a name is letters, digits and "
                         "underscores, not starting with a digit")
    try:
        return _validate_fields(item)
    except Malformed as exc:
        raise Malformed(f"{kind} {name!r} {exc}") from None


def _validate_fields(item: Any) -> Any:
    if isinstance(item, MetricType):
        _check_schema_fragment(item.schema)
        _callable(item, "lower")
    elif isinstance(item, SourceType):
        schemes = _scheme_names(item.schemes, "schemes")
        if not schemes:
            raise Malformed("has no URL schemes; give at least one, e.g. schemes=('mydb',)")
        from kpispec._dialect_names import DIALECTS, dialect_name

        if not isinstance(item.dialect, str) or dialect_name(item.dialect) not in DIALECTS:
            raise Malformed(f"has dialect={item.dialect!r}, which kpispec does not compile for "
                             f"(it does for {', '.join(DIALECTS)})")
        _callable(item, "connect")
        item = dataclasses.replace(item, schemes=schemes, dialect=dialect_name(item.dialect))
    elif isinstance(item, SinkType):
        schemes = _scheme_names(item.schemes, "schemes")
        extensions = _scheme_names(item.extensions, "extensions")
        if not schemes and not extensions:
            raise Malformed("answers no scheme and no file extension; give schemes=(...) "
                             "or extensions=('.ext',)")
        bad = [e for e in extensions if not e.startswith(".")]
        if bad:
            raise Malformed(f"has extensions {bad!r} without a leading dot; write e.g. '.md'")
        _callable(item, "open")
        item = dataclasses.replace(item, schemes=schemes, extensions=extensions)
    elif isinstance(item, LintRule):
        _callable(item, "check")
    return item


def pack_dialect(pack: str, dialect: Any) -> str:
    """The sqlglot dialect a pack's snippets are written in, checked."""
    from kpispec._dialect_names import DIALECTS, dialect_name

    if not isinstance(dialect, str) or dialect_name(dialect) not in DIALECTS:
        raise Malformed(f"registered the pack {pack!r} with dialect={dialect!r}, which kpispec "
                         f"does not read (it reads {', '.join(DIALECTS)})")
    return dialect_name(dialect)


def guarded_check(rule: LintRule, plugin: str) -> Callable[[Any], Iterator[SpecError]]:
    """``rule.check`` whose crash or malformed finding becomes a finding naming the plugin."""
    check = rule.check
    hook = "register_lint_rules"

    def guarded(project: Any) -> Iterator[SpecError]:
        try:
            for problem in check(project) or ():
                if isinstance(problem, SpecError):
                    yield problem
                elif isinstance(problem, str):
                    yield SpecError(f"lint rule {rule.name!r}: {problem}")
                else:
                    yield SpecError(str(PluginError(
                        f"lint rule {rule.name!r} yielded {problem!r}, not a kpispec.SpecError; "
                        f"{what_to_do(plugin)}", plugin=plugin, hook=hook)))
        except Exception as exc:
            yield SpecError(str(PluginError(
                f"lint rule {rule.name!r} raised {one_line(exc)} while checking the project "
                f"(its other findings are kept); {what_to_do(plugin)}", plugin=plugin, hook=hook)))

    return guarded
