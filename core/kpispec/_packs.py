"""Metric packs in a project: which ones it includes, and leaving out what does not fit.

In a directory with no spec files of its own the installed packs are the project (the
demo, "try it in an empty directory"). A project with its own specs includes a pack
only when ``kpispec.yaml`` lists it: ``packs: [crm]``. The older mapping form is still
read: ``packs: {crm: true}`` includes a pack, ``{crm: false}`` leaves it out even where
the packs would be the project.

A pack's own items that do not fit the project (they read a model the project replaced
with other columns…) are left out, one warning each, rather than failing the project.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kpispec.errors import SpecError, SpecErrors
from kpispec.spec.loader import locate
from kpispec.spec.model import Settings
from kpispec.spec.rules import Built, Document
from kpispec.spec.schema import suggest

__all__ = ["build_leaving_out", "included_packs", "item_path", "pack_problem", "pack_sources",
           "read_packs"]

#: One spec file to load: path, display name, origin ("project" or a pack) and the
#: dialect of its snippets (None: the project's).
Source = tuple[Path, str, str, "str | None"]


def read_packs(doc: Mapping[str, Any], file: str, installed: Collection[str],
               ) -> tuple[dict[str, bool], bool]:
    """``packs:`` of kpispec.yaml (schema-checked) as (pack -> include, written as a list).

    Raises:
        SpecErrors: a pack asked for is not installed (a mapping's ``false`` for one that
            is not installed is fine: there is nothing to leave out).
    """
    value = doc.get("packs")
    if value is None:
        return {}, False
    listed = isinstance(value, list)
    choices = {name: True for name in value} if listed else dict(value)
    errors = [SpecError(f"pack {name!r} is not installed",
                        locate(doc, ("packs", i) if listed else ("packs", name), file),
                        suggest(name, installed) or
                        f"Installed packs: {', '.join(sorted(installed)) or 'none'}")
              for i, (name, wanted) in enumerate(choices.items())
              if wanted and name not in installed]
    if errors:
        raise SpecErrors(errors)
    return choices, listed


def included_packs(installed: Iterable[str], settings: Settings, own_specs: bool,
                   enabled: bool = True) -> dict[str, bool]:
    """Every installed pack -> whether it is part of the project (none unless ``enabled``)."""
    default = not own_specs and not settings.packs_listed
    return {pack: enabled and settings.packs.get(pack, default) for pack in installed}


def pack_sources(spec_paths: Sequence[tuple[str, str, str]], dialects: Mapping[str, str],
                 included: Mapping[str, bool],
                 files: Callable[[Path], list[Path]]) -> list[Source]:
    """The spec files of the included packs, shown as ``<pack>:<relative path>``."""
    sources: list[Source] = []
    for directory, pack, _plugin in spec_paths:
        if included.get(pack):
            for file in files(Path(directory)):
                sources.append((file, f"{pack}:{file.relative_to(directory)}", pack,
                                dialects.get(directory, "duckdb")))
    return sources


def build_leaving_out(build: Callable[[list[Document], set[tuple[str, tuple[Any, ...]]]], Built],
                      documents: list[Document], skip: set[tuple[str, tuple[Any, ...]]],
                      warnings: list[str]) -> Built:
    """Build the project, leaving out the pack items (or files) it reports problems in.

    Leaving one out can break others, so this repeats until nothing changes. The user did
    not write a pack item: each one left out is a warning in ``warnings``, not an error.
    """
    pack_files = {d.file: d.origin for d in documents if d.origin != "project"}
    while True:
        built = build(documents, skip)
        from_packs = [e for e in built.errors if e.location and e.location.file in pack_files]
        if not from_packs:
            return built
        for err in from_packs:
            assert err.location is not None
            item = item_path(err)
            if len(item) >= 2:
                skip.add((err.location.file, item[:2]))
            else:  # not about one item: leave the whole file out
                documents = [d for d in documents if d.file != err.location.file]
            pack_problem(warnings, pack_files[err.location.file], err)


def pack_problem(warnings: list[str], pack: str, error: SpecError) -> None:
    """Note that an item of ``pack`` was left out, and why."""
    warnings.append(f"pack {pack!r}: left out: {error.render()}")


def item_path(error: SpecError) -> tuple[Any, ...]:
    """Recover (``metrics``, index) from an error's JSON path."""
    if error.location is None or not error.location.path:
        return ()
    import re

    match = re.match(r"^(models|metrics)\[(\d+)\]", error.location.path)
    return (match.group(1), int(match.group(2))) if match else ()
