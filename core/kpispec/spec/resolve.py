"""Name resolution: what a column or dimension name in a snippet means for a model.

Used by validation (to report unknown names with file:line:col) and by the
compiler (to qualify every column with its table alias and to know which
joins a scan needs), so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kpispec.extensions import RowExists
from kpispec.spec.model import Join, Model
from kpispec.spec.schema import suggest
from sqlglot import exp

__all__ = ["Resolved", "Resolver"]


@dataclass(frozen=True)
class Resolved:
    """An expression with columns qualified by model alias, and the joins it needs (in order)."""

    expr: exp.Expr
    joins: tuple[str, ...] = ()


class ResolveError(Exception):
    """A name that does not resolve; the message says why and the hint what to do."""

    def __init__(self, message: str, hint: str = "", *, ambiguous: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.ambiguous = ambiguous


class Resolver:
    """Resolves names against a fixed set of models."""

    def __init__(self, models: Mapping[str, Model]) -> None:
        self.models = models
        self._paths: dict[str, dict[str, tuple[Join, ...] | None]] = {}

    # -- joins ----------------------------------------------------------------------

    def paths(self, model: str) -> dict[str, tuple[Join, ...] | None]:
        """Models reachable from ``model`` through joins: name → join path (None if ambiguous)."""
        if model not in self._paths:
            found: dict[str, tuple[Join, ...] | None] = {model: ()}
            frontier = [model]
            while frontier:
                level: dict[str, tuple[Join, ...] | None] = {}
                for name in frontier:
                    path = found[name]
                    for join in self.models[name].joins if name in self.models else ():
                        if join.model in found or join.model not in self.models:
                            continue
                        new = None if path is None else path + (join,)
                        level[join.model] = None if join.model in level else new
                found.update(level)
                frontier = list(level)
            self._paths[model] = found
        return self._paths[model]

    def join_path(self, model: str, target: str) -> tuple[Join, ...]:
        paths = self.paths(model)
        if target not in paths:
            if target in self.models:
                raise ResolveError(f"model {target!r} is not joined to {model!r}",
                                   f"Add a join from {model!r} to {target!r}")
            raise ResolveError(f"unknown model {target!r}", suggest(target, self.models))
        path = paths[target]
        if path is None:
            raise ResolveError(f"model {target!r} is reached from {model!r} by more than one "
                               "join path")
        return path

    def _joins_for(self, model: str, target: str) -> tuple[str, ...]:
        return tuple(j.model for j in self.join_path(model, target))

    # -- columns and dimensions ------------------------------------------------------

    def column(self, model: str, name: str) -> Resolved:
        """A physical column of ``model`` (declared, or any name if it declares none)."""
        m = self.models[model]
        if m.columns is not None and name not in m.columns:
            raise ResolveError(f"unknown column {name!r} of model {model!r}",
                               suggest(name, m.columns) or
                               "Declare it under the model's columns")
        if name in m.column_exprs:  # a column renamed or computed: over the table's own columns
            physical = m.column_exprs[name].copy()
            for col in physical.find_all(exp.Column):
                col.set("table", exp.to_identifier(model))
            return Resolved(physical)
        return Resolved(exp.column(name, table=model))

    def dimension(self, model: str, name: str, *, through_joins: bool = True) -> Resolved:
        """The dimension ``name`` (or ``other_model.name``) as seen from ``model``."""
        owner, _, dim = name.rpartition(".")
        if owner:
            joins = self._joins_for(model, owner)
            inner = self._own_dimension(owner, dim)
            if inner is None:
                raise ResolveError(f"model {owner!r} has no dimension {dim!r}",
                                   suggest(dim, self.models[owner].dimensions))
            return Resolved(inner.expr, joins + inner.joins)
        own = self._own_dimension(model, name)
        if own is not None:
            return own
        if through_joins:
            hits = [(other, path) for other, path in self.paths(model).items()
                    if other != model and name in self.models[other].dimensions]
            if len(hits) > 1:
                names = ", ".join(f"{o}.{name}" for o, _ in sorted(hits))
                raise ResolveError(f"dimension {name!r} is ambiguous from model {model!r}",
                                   f"Write one of {names}", ambiguous=True)
            if hits:
                other = hits[0][0]
                joins = self._joins_for(model, other)
                inner = self._own_dimension(other, name)
                assert inner is not None
                return Resolved(inner.expr, joins + inner.joins)
        reachable = [d for o in self.paths(model) if o in self.models
                     for d in self.models[o].dimensions]
        raise ResolveError(f"model {model!r} has no dimension {name!r}",
                           suggest(name, reachable) or
                           (f"Its dimensions: {', '.join(sorted(reachable))}" if reachable else ""))

    def _own_dimension(self, model: str, name: str) -> Resolved | None:
        dim = self.models[model].dimensions.get(name)
        if dim is None:
            return None
        return self.qualify(model, dim.expr, names="columns")

    def qualify(self, model: str, tree: exp.Expr, *, names: str = "all") -> Resolved:
        """Qualify every column of ``tree`` (a copy) as seen from ``model``.

        Args:
            names: ``columns`` — only physical columns (dimension expressions);
                ``own`` — columns, then the model's own dimensions (measure snippets);
                ``all`` — also dimensions reached through joins (metric filters, --where).
        """
        joins: list[str] = []

        def visit(node: exp.Expr) -> exp.Expr:
            resolved = self._resolve_node(model, node, names)
            if resolved is None:
                return node
            for j in resolved.joins:
                if j not in joins:
                    joins.append(j)
            return resolved.expr.copy()

        out = tree.copy().transform(visit, copy=False)
        return Resolved(out, tuple(joins))

    def check(self, model: str, tree: exp.Expr, *, names: str = "all") -> None:
        """Raise the ResolveError :meth:`qualify` would raise, without copying ``tree``
        (the columns are met in the same order, so the first problem is the same)."""
        for node in tree.dfs():
            self._resolve_node(model, node, names)

    def _resolve_node(self, model: str, node: exp.Expr, names: str) -> Resolved | None:
        """What column ``node`` stands for (None when ``node`` is not a column to qualify)."""
        if not isinstance(node, exp.Column) or isinstance(node.this, exp.Star):
            return None
        if node.find_ancestor(RowExists) is not None:
            return None  # qualified by the metric type that built it
        return self._column_ref(model, node, names)

    def _column_ref(self, model: str, node: exp.Column, names: str) -> Resolved:
        name = node.name
        qualifier = node.table
        if node.args.get("db") or node.args.get("catalog"):
            raise ResolveError(f"column {node.sql()!r} has too many qualifiers")
        if qualifier:
            if qualifier not in self.models:
                raise ResolveError(f"unknown model {qualifier!r} in {node.sql()!r}",
                                   suggest(qualifier, self.models))
            joins = () if qualifier == model else self._joins_for(model, qualifier)
            target = self.models[qualifier]
            if names != "columns" and name in target.dimensions and (
                    target.columns is None or name not in target.columns):
                inner = self._own_dimension(qualifier, name)
                assert inner is not None
                return Resolved(inner.expr, joins + inner.joins)
            col = self.column(qualifier, name)
            return Resolved(col.expr, joins)
        m = self.models[model]
        if m.columns is not None and name in m.columns:
            return self.column(model, name)
        if names != "columns" and name in m.dimensions:
            own = self._own_dimension(model, name)
            assert own is not None
            return own
        if names == "all":
            try:
                return self.dimension(model, name)
            except ResolveError as exc:
                if exc.ambiguous:  # never guess between two joined models
                    raise
        if m.columns is None:
            return self.column(model, name)
        hint_pool = list(m.columns) + (list(m.dimensions) if names != "columns" else [])
        raise ResolveError(f"unknown column {name!r} of model {model!r}",
                           suggest(name, hint_pool) or "Declare it under the model's columns")
