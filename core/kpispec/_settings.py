"""kpispec.yaml: the project settings, read and checked; the JSON Schema they are checked by.

The settings file sits in the project directory (or beside a single spec file). It is
checked against the ``settings`` part of the published schema, then for what a schema
cannot say: a dialect kpispec compiles for, ``env_vars`` entries that are names or
glob patterns, packs that are installed, a time zone that exists. Every problem is a
:class:`~kpispec.errors.SpecError` located in the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kpispec.errors import QueryError, SpecError, SpecErrors
from kpispec.spec.loader import load_yaml
from kpispec.spec.model import Settings
from kpispec.spec.schema import build_schema, schema_errors, suggest

__all__ = ["SETTINGS_FILE", "display_name", "read_settings", "spec_schema"]

SETTINGS_FILE = "kpispec.yaml"


def spec_schema(registry: Any) -> dict[str, Any]:
    """The JSON Schema of spec files (and of kpispec.yaml), the registry's metric types merged in."""
    types = registry.metric_types
    return build_schema({name: r.item.schema for name, r in types.items()},
                        {name: r.item.description for name, r in types.items()})


def display_name(path: Path) -> str:
    """A file name for messages: relative to the working directory when below it."""
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def read_settings(root: Path) -> tuple[Settings, str | None]:
    """The settings of the project at ``root`` (a directory or one spec file), and the
    settings file's name for messages (None when there is none).

    Raises:
        SpecErrors: kpispec.yaml does not fit its schema, names an unknown dialect, an
            ``env_vars`` entry that is not a name or pattern, a pack that is not
            installed, or a time zone that does not exist.
    """
    file = (root if root.is_dir() else root.parent) / SETTINGS_FILE
    if not file.exists():
        return Settings(), None
    display = display_name(file)
    doc = load_yaml(file, display)
    if doc is None:
        return Settings(), display
    from kpispec.plugins import get_registry

    schema = spec_schema(get_registry())
    errors = schema_errors(doc, schema, display, subschema="settings")
    if errors:
        raise SpecErrors(errors)
    from kpispec._dialect_names import DIALECTS, dialect_name

    dialect = dialect_name(doc.get("dialect", "duckdb"))
    if dialect not in DIALECTS:
        from kpispec.spec.loader import locate

        raise SpecErrors([SpecError(
            f"unknown dialect {doc['dialect']!r}", locate(doc, ("dialect",), display),
            suggest(dialect, DIALECTS) or f"Choose one of {', '.join(DIALECTS)}")])
    for i, name in enumerate(doc.get("env_vars") or ()):
        if not all(c.isalnum() or c in "_*?" for c in name) or not name.isascii():
            from kpispec.spec.loader import locate

            raise SpecErrors([SpecError(
                f"{name!r} is not an environment variable name or pattern",
                locate(doc, ("env_vars", i), display),
                "Write names such as KPISPEC_SCHEMA, or patterns with * and ? such as KPISPEC_*")])
    from kpispec._packs import read_packs

    packs, listed = read_packs(doc, display, get_registry().packs)
    timezone = doc.get("timezone")
    if timezone is not None:
        from kpispec.calendar import Calendar
        from kpispec.spec.loader import locate

        try:
            Calendar(timezone=timezone)
        except QueryError as exc:
            raise SpecErrors([SpecError(exc.message, locate(doc, ("timezone",), display),
                                        exc.hint)]) from None
    return Settings(dialect=dialect, week_start=doc.get("week_start", "monday"),
                    fiscal_year_start_month=doc.get("fiscal_year_start_month", 1),
                    fiscal_year_label=doc.get("fiscal_year_label", "end"), timezone=timezone,
                    vars=dict(doc.get("vars") or {}), packs=packs, packs_listed=listed,
                    source=doc.get("source"), name=doc.get("name", ""),
                    paths=tuple(doc.get("paths") or ()),
                    currency=doc.get("currency", ""),
                    env_vars=tuple(doc.get("env_vars") or ())), display
