"""How much text a snippet can build: bounded, so a query cannot exhaust the engine's memory.

``rpad(region, 1000000000, 'xy')`` in a ``--where`` made DuckDB allocate a
gigabyte per row — 23 GB before the kernel stopped it — and no engine checks
for a timeout or Ctrl-C inside one call of a scalar function. ``REPEAT`` and
``SPACE`` are not on the allow-list for that reason; what is on it is bounded
here, statically, before anything runs:

- the length given to ``LPAD``/``RPAD`` must be a number written in the
  snippet, at most :data:`MAX_PAD_LENGTH`;
- the replacement text of ``REPLACE``/``REGEXP_REPLACE`` must be a string
  literal (a column there, or a nested call, lets the output grow with the
  square of the input);
- and the whole expression may build text at most :data:`MAX_GROWTH` times
  longer than the longest value it reads, plus :data:`MAX_CONSTANT_CHARS`:
  each ``REPLACE`` may multiply the length by its replacement's, and nesting
  them multiplies again (``replace(replace(x, 'a', 'aaaaaaaaaa'), 'a', …)``).

The estimate is an upper bound of the form ``growth × longest input +
constant``, worked out from the tree: a column counts 1, a literal its length,
concatenation adds, a replacement multiplies, a pad is its length, anything
else is at most the largest of its arguments.
"""

from __future__ import annotations

from sqlglot import exp

__all__ = ["BOUND_HINT", "MAX_CONSTANT_CHARS", "MAX_GROWTH", "MAX_PAD_LENGTH",
           "text_bound_refusal"]

#: What a refusal suggests.
BOUND_HINT = "The text an expression builds is bounded, so that it fits in memory (see docs/security.md)"

#: The longest LPAD/RPAD result a snippet may ask for.
MAX_PAD_LENGTH = 10_000
#: How many times longer than its longest input a snippet's text may get.
MAX_GROWTH = 1_000
#: The most text a snippet may build from its literals alone.
MAX_CONSTANT_CHARS = 1_000_000
#: What a non-text leaf (a number, a date, a cast) can be written as, at most.
_SCALAR_CHARS = 64

_CONCAT = (exp.Concat, exp.ConcatWs, exp.DPipe)
_REPLACE = tuple(c for c in (getattr(exp, "Replace", None), getattr(exp, "RegexpReplace", None))
                 if isinstance(c, type))


class _TooLong(Exception):
    pass


def text_bound_refusal(tree: exp.Expr) -> str | None:
    """Why the text ``tree`` can build is too long to compute (None: it is bounded).

    >>> from sqlglot import parse_one
    >>> text_bound_refusal(parse_one("rpad(region, 20, '.') <> ''"))
    >>> text_bound_refusal(parse_one("rpad(region, 1000000000, 'xy') <> ''"))
    'RPAD(region, 1000000000, ...) pads to 1000000000 characters; the limit is 10000'
    """
    try:
        growth, constant = _bound(tree)
    except _TooLong as exc:
        return str(exc)
    except RecursionError:
        return "expression is nested too deeply"
    if growth > MAX_GROWTH:
        return (f"this expression can build text {growth:,.0f} times longer than the values it "
                f"reads (REPLACE within REPLACE multiplies); the limit is {MAX_GROWTH:,}")
    if constant > MAX_CONSTANT_CHARS:
        return (f"this expression can build {constant:,.0f} characters of text; the limit is "
                f"{MAX_CONSTANT_CHARS:,}")
    return None


def _bound(node: exp.Expr) -> tuple[float, float]:
    """(growth, constant): the text ``node`` builds is at most growth × longest input + constant."""
    if isinstance(node, exp.Column):
        return 1.0, 0.0
    if isinstance(node, exp.Literal):
        return 0.0, float(len(node.this) if node.is_string else _SCALAR_CHARS)
    if isinstance(node, exp.Pad):
        return 0.0, float(_pad_length(node))
    if isinstance(node, _CONCAT):
        parts = [_bound(arg) for arg in _arguments(node)]
        return sum(g for g, _ in parts), sum(c for _, c in parts)
    if _REPLACE and isinstance(node, _REPLACE):
        growth, constant = _bound(node.this)
        factor = max(1.0, float(_replacement_length(node)))
        return growth * factor, constant * factor
    parts = [_bound(arg) for arg in _arguments(node)]
    if not parts:
        return 0.0, float(_SCALAR_CHARS)
    return max(g for g, _ in parts), max(max(c for _, c in parts), float(_SCALAR_CHARS))


def _arguments(node: exp.Expr) -> list[exp.Expr]:
    return [child for child in node.iter_expressions()
            if not isinstance(child, (exp.DataType, exp.Identifier))]


def _name(node: exp.Expr) -> str:
    return "LPAD" if node.args.get("is_left") else "RPAD"


def _pad_length(node: exp.Pad) -> int:
    length = node.args.get("expression")
    if isinstance(length, exp.Neg):
        return 0
    if not (isinstance(length, exp.Literal) and not length.is_string and length.this.isdigit()):
        raise _TooLong(f"the length {_name(node)} pads to must be a whole number written in the "
                       f"snippet (at most {MAX_PAD_LENGTH:,}), not "
                       f"{length.sql() if isinstance(length, exp.Expr) else length!r}")
    value = int(length.this)
    if value > MAX_PAD_LENGTH:
        raise _TooLong(f"{_name(node)}({node.this.sql()}, {value}, ...) pads to {value} "
                       f"characters; the limit is {MAX_PAD_LENGTH}")
    return value


def _replacement_length(node: exp.Expr) -> int:
    replacement = node.args.get("replacement")
    if replacement is None:
        return 0  # REGEXP_REPLACE(x, pattern) / REPLACE(x, pattern): removes
    if isinstance(replacement, exp.Literal) and replacement.is_string:
        return len(replacement.this)
    name = "REGEXP_REPLACE" if type(node).__name__ == "RegexpReplace" else "REPLACE"
    raise _TooLong(f"the replacement of {name} must be a string written in the snippet, not "
                   f"{replacement.sql()!r} (text replaced by a column grows with the square of "
                   "its length)")
