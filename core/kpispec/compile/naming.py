"""Names kpispec gives what it writes into a query: CTEs, subquery aliases, internal columns.

The SQL builder names its own relations (``periods``, ``digits``, ``<model>_by_<time>``…)
and internal columns (``<metric>__numerator``, ``start_period``…) with placeholders made
by :func:`internal`. :func:`finalize` then gives each placeholder its real name, once the
whole query is known:

- a relation name never equals a table, alias or model name the query reads (a CTE named
  like a user's table would shadow it), compared case-insensitively as engines fold case;
- no name is longer than :data:`MAX_INTERNAL_BYTES` (PostgreSQL cuts identifiers at 63
  bytes, so two long names could become one; MySQL refuses CTE names over 64): a longer
  one is cut and given a short stable hash of the whole name;
- no two placeholders get one name.

Names the user sees — result columns, dimension and metric names — are never changed;
:func:`check_lengths` refuses a query whose result column an engine cannot name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from sqlglot import exp

from kpispec.errors import QueryError

if TYPE_CHECKING:
    from kpispec.spec.model import Model

__all__ = ["MAX_INTERNAL_BYTES", "check_lengths", "finalize", "internal", "public", "shorten"]

#: The longest internal name, in UTF-8 bytes: PostgreSQL's limit, the lowest of the engines.
MAX_INTERNAL_BYTES = 63
#: Column names SQLite cannot read back from a subquery (``x."true"`` is "no such column").
_UNADDRESSABLE = frozenset({"true", "false"})

_MARK = "\x1f"


def internal(name: str, role: str = "") -> str:
    """A placeholder for a name kpispec chooses (``role`` keeps same-named ones apart)."""
    return f"{_MARK}{role}{_MARK}{name}"


def public(name: str) -> str:
    """The name a placeholder stands for (any other name unchanged)."""
    return name.rsplit(_MARK, 1)[1] if name.startswith(_MARK) else name


def shorten(name: str, limit: int = MAX_INTERNAL_BYTES) -> str:
    """``name``, or when longer than ``limit`` bytes its start and a stable 8-digit hash.

    >>> shorten("x" * 70)
    'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx_c71bd109'
    """
    data = name.encode()
    if len(data) <= limit:
        return name
    digest = hashlib.sha256(data).hexdigest()[:8]
    return data[:limit - len(digest) - 1].decode(errors="ignore") + "_" + digest


class _Namer:
    """Gives each placeholder a short name no other placeholder or ``taken`` name has."""

    def __init__(self, taken: Iterable[str]) -> None:
        self.taken = {name.lower() for name in taken}
        self.given: dict[str, str] = {}

    def __call__(self, placeholder: str) -> str:
        name = self.given.get(placeholder)
        if name is None:
            wanted = public(placeholder)
            name, n = shorten(wanted), 2
            while name.lower() in self.taken:
                name, n = shorten(f"{wanted}_{n}"), n + 1
            self.taken.add(name.lower())
            self.given[placeholder] = name
        return name


def read_names(models: Mapping[str, Model]) -> set[str]:
    """Every model name, table name part, table alias and CTE name the models read."""
    names = set(models)
    for model in models.values():
        for node in model.relation.find_all(exp.Table, exp.TableAlias, exp.CTE):
            if isinstance(node, exp.Table):
                names.update(part.name for part in node.parts)
            names.add(node.alias if not isinstance(node, exp.TableAlias) else node.name)
    names.discard("")
    return names


def _is_relation(ident: exp.Identifier) -> bool:
    parent = ident.parent
    return isinstance(parent, (exp.Table, exp.TableAlias)) or (
        isinstance(parent, exp.Column) and ident.arg_key == "table")


def finalize(tree: exp.Expr, models: Mapping[str, Model]) -> exp.Expr:
    """Replace every placeholder of ``tree`` (in place) by its final name."""
    relations = _Namer(read_names(models))
    columns = _Namer({"period", "period_label"} | _UNADDRESSABLE)
    for ident in tree.find_all(exp.Identifier):
        name = ident.this
        if isinstance(name, str) and name.startswith(_MARK):
            ident.set("this", (relations if _is_relation(ident) else columns)(name))
            ident.set("quoted", False)
    return tree


def check_lengths(columns: Iterable[str], dialect: str, limit: int | None, unit: str) -> None:
    """Refuse result column names longer than ``dialect`` can name a column: at most
    ``limit`` UTF-8 ``"bytes"`` or ``"characters"`` (the dialect class's COLUMN_NAME_LIMIT).

    Raises:
        QueryError: naming the column, its length and the engine's limit.
    """
    if limit is None:
        return
    for name in columns:
        size = len(name.encode()) if unit == "bytes" else len(name)
        if size > limit:
            raise QueryError(f"result column {name!r} is {size} {unit} long; {dialect} names "
                             f"columns of at most {limit} {unit}",
                             hint="Give the metric or dimension a shorter name")
