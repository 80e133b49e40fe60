"""Spec items, and a project model that refines a pack's model: explicit, merged part by part.

A project model named like a model of a pack in the project says what it means:
``refine: <pack>.<model>`` keeps the pack's model and changes what it gives, or
``replace: true`` makes it a model of its own; a shared name alone is an error. A
refinement's fields replace the pack's; ``columns``, ``dimensions`` and ``joins`` are
merged by name; ``leave_out`` drops pack columns and dimensions its table lacks, and
with them the pack's dimensions and joins that read those columns (one note each).

Every part of a merged model remembers where it was written, so each snippet is parsed
in its own dialect (the pack's, or the project's for the user's own parts) and a problem
with an inherited part is reported at the refinement, naming the pack's line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kpispec.errors import Location, SpecError
from kpispec.spec.loader import json_path, locate
from kpispec.spec.schema import suggest
from sqlglot import exp

__all__ = ["Document", "Item", "claim"]

#: Fields merged entry by entry, and the key naming an entry.
_LISTS = {"columns": "name", "dimensions": "name", "joins": "model"}


@dataclass(frozen=True)
class Document:
    """One loaded spec file: its display name, parsed root, origin and snippet dialect."""

    file: str
    root: Any
    origin: str = "project"  # "project" or the name of the pack
    dialect: str | None = None  # a pack's dialect; None: the project's


@dataclass
class Item:
    """A model or metric spec, where it was written and, for a refinement, its parts' sources."""

    kind: str  # "model" | "metric"
    name: str
    spec: Mapping[str, Any]
    doc: Document
    path: tuple[Any, ...]
    #: A merged part, ``(field,)`` or ``(field, index)``, -> the item and sub-path it came from.
    parts: dict[tuple[Any, ...], tuple[Item, tuple[Any, ...]]] = field(default_factory=dict)

    def source(self, *sub: Any) -> tuple[Item, tuple[Any, ...]]:
        """The unmerged item that wrote ``sub``, and its path there."""
        for n in (2, 1):
            hit = self.parts.get(tuple(sub[:n]))
            if hit is not None:
                return hit[0], hit[1] + tuple(sub[n:])
        return self, tuple(sub)

    def inherited(self, *sub: Any) -> bool:
        """Whether ``sub`` was written in a pack this refinement inherits from."""
        return self.source(*sub)[0].doc.origin != self.doc.origin

    def loc(self, *sub: Any) -> Location:
        """Where ``sub`` was written; an inherited part is reported at the ``refine`` line."""
        item, there = self.source(*sub)
        if item is not self:
            if item.doc.origin == self.doc.origin:
                return item.loc(*there)
            pack = item.loc(*there)
            here = locate(self.doc.root, (*self.path, "refine"), self.doc.file)
            return replace(here, path=f"{here.path}: {json_path(there) or 'the model'} inherited "
                                      f"from {pack.file}:{pack.line}:{pack.column}")
        return locate(self.doc.root, self.path + tuple(sub), self.doc.file)

    def dialect(self, project: str, *sub: Any) -> str:
        """The dialect ``sub``'s snippet is written in (``project``: the project's)."""
        return self.source(*sub)[0].doc.dialect or project


def _name_of(entry: Any, key: str) -> Any:
    return entry if isinstance(entry, str) else entry.get(key)


def claim(item: Item, prior: Item | None, packs: Mapping[str, bool],
          ) -> tuple[Item | None, list[SpecError], list[tuple[str, SpecError]]]:
    """What a project model named ``item.name`` becomes, given the pack model ``prior``.

    Returns the item to use (None: refused), the errors, and the pack parts left out as
    (pack, why).
    """
    spec = item.spec
    target = spec.get("refine")
    if target is None:
        if "leave_out" in spec:
            return None, [SpecError("'leave_out' is for a model that refines a pack's model",
                                    item.loc("leave_out"),
                                    "Add refine: <pack>.<model>, or drop leave_out")], []
        if prior is not None and not spec.get("replace", False):
            where = prior.loc("name")
            return None, [SpecError(
                f"model {item.name!r} is named like the model of pack {prior.doc.origin!r} "
                f"({where.file}:{where.line})", item.loc("name"),
                f"Write refine: {prior.doc.origin}.{item.name} to refine the pack's model, "
                f"replace: true to use yours instead, or give yours another name")], []
        return item, [], []
    pack, _, model = str(target).partition(".")
    where = item.loc("refine")
    if spec.get("replace", False):
        return None, [SpecError("a model either refines a pack's model or replaces it", where,
                                "Drop refine: or replace: true")], []
    if pack not in packs or not packs[pack]:
        installed = sorted(packs)
        hint = (f"List it in kpispec.yaml: packs: [{pack}]" if pack in packs else
                suggest(pack, installed) or f"Installed packs: {', '.join(installed) or 'none'}")
        what = "is not part of this project" if pack in packs else "is not installed"
        return None, [SpecError(f"refines {target!r}, but pack {pack!r} {what}", where, hint)], []
    if model != item.name:
        return None, [SpecError(f"refines {target!r} but is named {item.name!r}", where,
                                f"A refinement keeps the pack model's name: name it {model!r}")], []
    if prior is None or prior.doc.origin != pack:
        return None, [SpecError(f"pack {pack!r} has no model {model!r}", where)], []
    return _merge(prior, item)


def _merge(pack: Item, over: Item,
           ) -> tuple[Item | None, list[SpecError], list[tuple[str, SpecError]]]:
    base, spec = pack.spec, over.spec
    errors: list[SpecError] = []
    notes: list[tuple[str, SpecError]] = []
    offered = {_name_of(e, "name") for key in ("columns", "dimensions") for e in base.get(key) or ()}
    gone: dict[str, int] = {}
    for i, name in enumerate(spec.get("leave_out") or ()):
        if name not in offered:
            errors.append(SpecError(f"pack model {pack.name!r} has no column or dimension "
                                    f"{name!r} to leave out", over.loc("leave_out", i),
                                    suggest(name, sorted(offered))))
        gone[name] = i
    merged: dict[str, Any] = {}
    parts: dict[tuple[Any, ...], tuple[Item, tuple[Any, ...]]] = {}
    new_relation = "table" in spec or "sql" in spec
    for key, value in base.items():
        if key not in _LISTS and key not in spec and not (new_relation and key in ("table", "sql")):
            merged[key], parts[(key,)] = value, (pack, (key,))
    for key, value in spec.items():
        if key not in _LISTS:
            merged[key], parts[(key,)] = value, (over, (key,))
    for key, ident in _LISTS.items():
        own = {_name_of(e, ident): (i, e) for i, e in enumerate(spec.get(key) or ())}
        out: list[Any] = []
        for i, entry in enumerate(base.get(key) or ()):
            name = _name_of(entry, ident)
            if name in own:
                j, entry = own.pop(name)
                parts[(key, len(out))] = (over, (key, j))
            else:
                if name in gone and key != "joins":  # left out by name
                    continue
                lost = sorted(_reads(key, entry, pack, i) & set(gone))
                if lost:
                    at = pack.loc(key, i)
                    notes.append((pack.doc.origin, SpecError(
                        f"the pack's {key[:-1]} {name!r} ({at.file}:{at.line}) reads "
                        f"{', '.join(map(repr, lost))}, which this refinement leaves out",
                        over.loc("leave_out", gone[lost[0]]))))
                    continue
                parts[(key, len(out))] = (pack, (key, i))
            out.append(entry)
        for j, entry in own.values():
            parts[(key, len(out))] = (over, (key, j))
            out.append(entry)
        if key in base or key in spec:
            merged[key] = out
    for key, column in _key_columns(merged):
        if column in gone and key not in spec:
            errors.append(SpecError(
                f"{column!r} is the pack model's {key.replace('_', ' ')} column, so it cannot be "
                f"left out", over.loc("leave_out", gone[column]),
                f"Give the refinement its own {key}, or keep {column!r}"))
    if errors:
        return None, errors, []
    return Item("model", over.name, merged, over.doc, over.path, parts), [], notes


def _reads(key: str, entry: Any, pack: Item, index: int) -> set[str]:
    """The columns a pack column, dimension or join entry reads."""
    if key == "joins":
        return {str(entry.get("on"))}
    if isinstance(entry, str) or "expr" not in entry:
        return {_name_of(entry, "name")}
    if key == "columns":
        return set()  # computed from the table's own columns, which are not declared
    from kpispec.spec.snippets import parse_snippet

    try:
        tree = parse_snippet(str(entry["expr"]), pack.doc.dialect or "duckdb",
                             pack.loc(key, index, "expr"))
    except SpecError:
        return set()  # reported when the model is built
    return {c.name for c in tree.find_all(exp.Column)}


def _key_columns(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, column) of a model's time, primary key and lifecycle columns."""
    out: list[tuple[str, str]] = []
    if isinstance(spec.get("time"), str):
        out.append(("time", spec["time"]))
    pk = spec.get("primary_key")
    out += [("primary_key", c) for c in ([pk] if isinstance(pk, str) else pk or ())]
    lifecycle = spec.get("lifecycle")
    if isinstance(lifecycle, Mapping):
        out += [("lifecycle", c) for c in (lifecycle.get("start"), lifecycle.get("end")) if c]
    return out
