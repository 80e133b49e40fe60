"""SQLite's DATE() and DATETIME() in a snippet, as trees every dialect can spell.

In SQLite ``DATE(x, modifier…)`` and ``DATETIME(x, modifier…)`` read a time value
and move it by each modifier in turn. sqlglot keeps most of these calls as
unknown functions, which kpispec's allow-list refuses and other dialects could
not run. A snippet written in SQLite has them rewritten, once, when it is parsed:

- ``DATETIME(x)`` → ``CAST(x AS TIMESTAMP)``; ``DATE(x)`` → ``CAST(x AS DATE)``;
- ``'now'`` → ``CURRENT_TIMESTAMP``;
- ``'start of day|month|year'`` → truncation to that unit;
- ``'±N day|hour|minute|second|month|year[s]'`` → adding N of that unit.

Each dialect then spells the result its own way (SQLite as ``DATETIME(x, 'start of
month')`` again: :meth:`kpispec.compile.dialects.Spelling.portable`). Any other modifier
(``weekday N``, ``localtime``, ``unixepoch``…) is refused with what to write instead.
"""

from __future__ import annotations

import re

from sqlglot import exp

__all__ = ["translate"]

_ADD = re.compile(r"\s*([+-]?\d+)\s+(day|hour|minute|second|month|year)s?\s*", re.IGNORECASE)
_START = re.compile(r"\s*start\s+of\s+(day|month|year)\s*", re.IGNORECASE)
_HINT = ("Write CAST(x AS DATE), DATE_TRUNC('month', x) or DATE(x, 'start of month'), "
         "DATETIME(x, '+1 day'); SQLite's other modifiers have no equivalent elsewhere")


def _moved(value: exp.Expr, modifier: exp.Expr, function: str) -> exp.Expr | str:
    if not (isinstance(modifier, exp.Literal) and modifier.is_string):
        return f"{function}() takes constant modifiers ('+1 day', 'start of month')"
    start = _START.fullmatch(modifier.this)
    if start:
        return exp.TimestampTrunc(this=value, unit=exp.var(start.group(1).upper()))
    add = _ADD.fullmatch(modifier.this)
    if add:
        return exp.DateAdd(this=value, expression=exp.Literal.number(int(add.group(1))),
                           unit=exp.var(add.group(2).upper()))
    return f"SQLite's {function}() modifier {modifier.this!r} has no equivalent in other dialects"


def _rewrite(node: exp.Expr) -> exp.Expr | str:
    if isinstance(node, exp.Date) and not node.expressions:
        args = [node.this]
    elif isinstance(node, exp.Anonymous) and str(node.name).upper() in ("DATE", "DATETIME"):
        args = list(node.expressions)
    else:
        return node
    function = "DATE" if isinstance(node, exp.Date) else str(node.name).upper()
    if not args:
        return f"{function}() needs a value"
    first = args[0]
    value: exp.Expr | str = exp.CurrentTimestamp() if (
        isinstance(first, exp.Literal) and first.is_string and first.this.lower() == "now") \
        else exp.cast(first, exp.DataType.Type.TIMESTAMP)
    for modifier in args[1:]:
        assert isinstance(value, exp.Expr)
        value = _moved(value, modifier, function)
        if isinstance(value, str):
            return value
    assert isinstance(value, exp.Expr)
    if function == "DATE":
        inner = value.this if isinstance(value, exp.Cast) else value  # CAST(CAST(x…)): one
        return exp.cast(inner, exp.DataType.Type.DATE)
    return value


def translate(tree: exp.Expr) -> exp.Expr | tuple[str, str]:
    """``tree`` (parsed as SQLite) with DATE()/DATETIME() rewritten, or (why not, a hint)."""
    problems: list[str] = []

    def visit(node: exp.Expr) -> exp.Expr:
        result = _rewrite(node)
        if isinstance(result, str):
            problems.append(result)
            return node
        return result

    out = tree.transform(visit, copy=False)
    return (problems[0], _HINT) if problems else out
