"""The published JSON Schema: the base document plus every registered metric type.

``specs/schema/metric.schema.json`` is the one definition of the spec's shape;
each metric type (core's and plugins') contributes the schema of its own
fields, merged in here under ``$defs/metric_<type>``.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from kpispec.errors import Location, PluginError, SpecError
from kpispec.spec.loader import locate

__all__ = ["build_schema", "check_fragment", "schema_errors", "suggest"]


@lru_cache(maxsize=1)
def _base() -> dict[str, Any]:
    from kpispec_specs import SCHEMA_PATH

    with open(SCHEMA_PATH, encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


#: The last schema built, by the JSON text of its inputs (a project load builds it once,
#: a process loading many projects reuses it; its validator is compiled once too).
_BUILT: dict[str, dict[str, Any]] = {}


def build_schema(metric_types: Mapping[str, Mapping[str, Any]],
                 descriptions: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The published schema with the given metric types' fragments merged in.

    The result is shared between calls with the same inputs: do not modify it.

    Args:
        metric_types: type name → the JSON Schema fragment of its own fields.
        descriptions: type name → what the type computes (``MetricType.description``).

    Raises:
        PluginError: a fragment is not a valid JSON Schema object.
    """
    try:
        key = json.dumps([metric_types, descriptions], sort_keys=True, default=repr)
    except (TypeError, ValueError):
        key = ""
    built = _BUILT.get(key) if key else None
    if built is None:
        built = _build_schema(metric_types, descriptions)
        if key:
            _BUILT.clear()
            _BUILT[key] = built
    return built


def check_fragment(fragment: Mapping[str, Any]) -> str | None:
    """Why ``fragment`` is not a valid JSON Schema (draft 2020-12), or None."""
    try:
        import jsonschema_rs

        if jsonschema_rs.meta.is_valid(dict(fragment)):
            return None
    except Exception:  # not installed, or a value it cannot read: jsonschema decides
        pass
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(dict(fragment))
    except jsonschema.SchemaError as exc:
        where = ".".join(str(p) for p in exc.absolute_path)
        return str(exc.message) + (f" (at {where})" if where else "")
    return None


def _build_schema(metric_types: Mapping[str, Mapping[str, Any]],
                  descriptions: Mapping[str, str] | None = None) -> dict[str, Any]:

    schema = copy.deepcopy(_base())
    defs = schema["$defs"]
    common = defs["metric_common"]
    branches = []
    for name in sorted(metric_types):
        fragment = dict(metric_types[name])
        problem = check_fragment(fragment)
        if problem is not None:
            raise PluginError(f"metric type {name!r} publishes an invalid schema fragment: "
                              f"{problem.split(' (at ')[0]}", plugin=name,
                              hook="register_metric_types")
        properties = {**common["properties"], **fragment.get("properties", {})}
        properties["type"] = {"const": name}
        definition: dict[str, Any] = {
            "type": "object",
            "description": fragment.get("description") or (descriptions or {}).get(name)
            or f"A metric of type {name}.",
            "properties": properties,
            "required": sorted(set(common["required"]) | set(fragment.get("required", []))),
            "additionalProperties": False,
        }
        for key in ("allOf", "anyOf", "oneOf", "dependentRequired", "not"):
            if key in fragment:
                definition[key] = fragment[key]
        defs[f"metric_{name}"] = definition
        branches.append({"if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                         "then": {"$ref": f"#/$defs/metric_{name}"}})
    defs["metric"]["properties"]["type"] = {"enum": sorted(metric_types)}
    defs["metric"]["allOf"] = branches
    return schema


_SUGGESTION_CUTOFF = 0.6


def suggest(name: str, candidates: Iterable[str]) -> str:
    """A ``Did you mean 'x'?`` hint, or an empty string."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=_SUGGESTION_CUTOFF)
    return f"Did you mean {close[0]!r}?" if close else ""


def _describe(error: Any) -> tuple[str, str]:
    """A readable message and hint for one jsonschema error."""
    validator = error.validator
    instance = error.instance
    if validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extras = [k for k in instance if k not in allowed] if isinstance(instance, dict) else []
        if extras:
            extra = sorted(extras)[0]
            hint = suggest(extra, allowed) or f"Allowed fields: {', '.join(sorted(allowed))}"
            return f"unknown field {extra!r}", hint
    if validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return f"missing required field {missing[0]!r}" if missing else error.message, ""
    if validator == "enum":
        options = [str(o) for o in error.validator_value]
        hint = suggest(str(instance), options) if isinstance(instance, str) else ""
        return f"{instance!r} is not one of {', '.join(options)}", hint
    if validator == "const":
        return f"{instance!r} must be {error.validator_value!r}", ""
    if validator == "type" and not error.absolute_path:
        return ("a spec file must be a mapping with 'models:' and/or 'metrics:', "
                f"got {_kind(instance)}"), ""
    if validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {'an' if expected[0] in 'aeiou' else 'a'} {expected}, got {_short(instance)}", ""
    if validator == "pattern" and "week" in error.validator_value:
        return (f"{instance!r} is not an offset",
                "Write '<N> day|week|month|quarter|year', e.g. '1 year'")
    if validator == "pattern" and list(error.absolute_path)[-1:] == ["refine"]:
        return f"{instance!r} is not <pack>.<model>", "Write e.g. refine: crm.deals"
    if validator == "pattern":
        return f"{instance!r} is not a valid name (letters, digits and underscores, not starting with a digit)", ""
    if validator == "not" and isinstance(instance, dict) and \
            list(error.validator_value) == ["required"] and len(error.validator_value["required"]) == 2:
        first, second = error.validator_value["required"]
        return f"give either {first!r} or {second!r}, not both", ""
    if validator == "anyOf" and all(list(branch) == ["required"] for branch in error.validator_value):
        names = [branch["required"][0] for branch in error.validator_value]
        if names == ["value", "periods"]:
            return ("targets need a 'value' or 'periods'",
                    "Give 'value' (the target of every period) and/or 'periods' (a target per "
                    "period start)")
        return f"give {' or '.join(repr(n) for n in names)}", ""
    if validator in ("oneOf", "anyOf") and error.context and all(
            e.validator == "type" and not e.relative_path for e in error.context):
        expected = sorted({str(e.validator_value) for e in error.context})
        shapes = " or ".join(f"{'an' if t[0] in 'aeiou' else 'a'} {t}" for t in expected)
        return f"expected {shapes}, got {_short(instance)}", ""
    return error.message, ""


def _kind(value: Any) -> str:
    for kind, name in ((bool, "a boolean"), (str, "a string"), (list, "a list"),
                       (dict, "a mapping"), ((int, float), "a number")):
        if isinstance(value, kind):
            return name
    return "nothing" if value is None else type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{_kind(value)} ({text[:40]}…)"


def _leaf_errors(error: Any) -> list[Any]:
    """Descend into oneOf/anyOf/if-then to the error that explains the failure best."""
    import jsonschema

    if error.validator in ("oneOf", "anyOf") and error.context and not all(
            e.validator == "required" for e in error.context):
        # Prefer the branch whose type matches the instance (e.g. the object form).
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None and best.validator != "type":
            return _leaf_errors(best)
        # An error inside the instance comes from the branch of its shape (a mapping).
        inside = [e for e in error.context if e.relative_path]
        if inside:
            return _leaf_errors(jsonschema.exceptions.best_match(inside))
        typed = [e for e in error.context if e.validator != "type"]
        if typed:
            return _leaf_errors(jsonschema.exceptions.best_match(typed))
    return [error]


#: Compiled validators (jsonschema-rs) by (id of the schema, subschema); the schema is kept
#: with its validator so that its id is not reused.
_COMPILED: dict[tuple[int, str | None], tuple[Mapping[str, Any], Any]] = {}


def _fast_valid(document: Any, schema: Mapping[str, Any], subschema: str | None) -> bool:
    """True when the compiled validator accepts ``document`` (False: unknown or invalid).

    jsonschema-rs (a dependency; optional at run time) checks a valid document a
    hundred times faster than jsonschema; the located messages of an invalid one
    still come from jsonschema, so they read the same either way.
    """
    key = (id(schema), subschema)
    entry = _COMPILED.get(key)
    if entry is None or entry[0] is not schema:
        try:
            import jsonschema_rs
        except ImportError:
            return False
        target = dict(schema) if not subschema else {"$ref": f"#/$defs/{subschema}",
                                                     "$defs": schema["$defs"]}
        try:
            validator = jsonschema_rs.validator_for(target)
        except Exception:  # a schema it cannot compile: jsonschema decides
            return False
        if len(_COMPILED) > 64:
            _COMPILED.clear()
        entry = _COMPILED[key] = (schema, validator)
    try:
        return bool(entry[1].is_valid(document))
    except Exception:  # e.g. a value it cannot convert: jsonschema decides
        return False


def schema_errors(document: Any, schema: Mapping[str, Any], file: str,
                  subschema: str | None = None) -> list[SpecError]:
    """Every schema violation in ``document`` as a located :class:`SpecError`."""
    if _fast_valid(document, schema, subschema):
        return []
    import jsonschema

    target: Mapping[str, Any] = schema
    if subschema:
        target = {"$ref": f"#/$defs/{subschema}", "$defs": schema["$defs"]}
    validator = jsonschema.Draft202012Validator(target)
    found: dict[tuple[Any, ...], SpecError] = {}
    for top in validator.iter_errors(document):
        for error in _leaf_errors(top):
            path = tuple(error.absolute_path)
            message, hint = _describe(error)
            if error.validator == "additionalProperties" and isinstance(error.instance, dict):
                extras = sorted(k for k in error.instance
                                if k not in error.schema.get("properties", {}))
                if extras:
                    path = path + (extras[0],)
            location = locate(document, path, file)
            if error.validator == "additionalProperties":
                location = _key_location(document, path, file) or location
            key = (path, message)
            if key not in found:
                found[key] = SpecError(message, location, hint)
    # A misspelt field shows up twice: as unknown, and its right name as missing.
    # Keep the unknown-field error, whose hint names the right spelling.
    hints = {(p[:-1], e.hint) for (p, _), e in found.items() if e.message.startswith("unknown field")}
    return [e for (p, m), e in found.items()
            if not (m.startswith("missing required field") and
                    (p, f"Did you mean {m.split(' ', 3)[3]}?") in hints)]


def _key_location(document: Any, path: tuple[Any, ...], file: str) -> Location | None:
    """Point at an unknown key itself rather than at its value."""
    parent = locate(document, path[:-1], file)
    node: Any = document
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    marks = getattr(node, "key_marks", {})
    if path and path[-1] in marks:
        line, col = marks[path[-1]]
        return Location(file, line, col, locate(document, path, file).path)
    return parent
