"""Constant SQL templates, parsed once per dialect, filled with expression trees.

A template is SQL text written by kpispec (never by a user) with placeholder
columns ``__x``, ``__n``…; :func:`fill` parses it with sqlglot in the dialect and
puts the given trees in the placeholders' places.
"""

from __future__ import annotations

from functools import cache

import sqlglot
from sqlglot import exp

from kpispec._dialect_names import sqlglot_dialect

__all__ = ["fill", "sqlglot_dialect"]


@cache
def _template(dialect: str, text: str) -> exp.Expr:
    return sqlglot.parse_one(text, read=sqlglot_dialect(dialect))


def fill(dialect: str, text: str, **values: exp.Expr) -> exp.Expr:
    """The template ``text`` with ``values`` in its placeholders.

    A value goes in as is where it first appears and as a copy where it appears
    again: pass trees that are no longer part of another tree (the children of
    the node the template replaces).
    """
    used: set[str] = set()

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name.startswith("__"):
            name = node.name[2:]
            value = values[name].copy() if name in used else values[name]
            used.add(name)
            # Operator precedence differs between dialects (SQLite's || binds tighter
            # than *): an operator expression always goes in parentheses.
            return exp.paren(value) if isinstance(value, (exp.Binary, exp.Unary)) else value
        return node

    return _template(dialect, text).copy().transform(swap, copy=False)
