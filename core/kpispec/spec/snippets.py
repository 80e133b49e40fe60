"""Parsing and checking the SQL snippets of a spec (filter, expr, dimension expr, --where).

A snippet is parsed once with sqlglot in the project dialect and accepted only
as one scalar expression: no statements, semicolons, comments, subqueries,
set operations, stars, window functions or (in row-level positions)
aggregates. The checked tree is what the compiler embeds — never the text.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sqlglot
from kpispec.compile.dialects import sqlglot_dialect
from kpispec.errors import Location, SpecError
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import TokenType

__all__ = ["parse_query", "parse_snippet"]

_FORBIDDEN: tuple[tuple[type[exp.Expr], str], ...] = (
    (exp.Query, "subqueries are not allowed"),
    (exp.Subquery, "subqueries are not allowed"),
    (exp.DDL, "statements are not allowed"),
    (exp.DML, "statements are not allowed"),
    (exp.Command, "statements are not allowed"),
    (exp.Star, "'*' is not allowed"),
    (exp.Window, "window functions are not allowed"),
    (exp.Placeholder, "parameters are not allowed"),
    (exp.Parameter, "parameters are not allowed"),
)


#: Nodes that may appear inside a scalar expression without being conditions themselves.
_PARTS: tuple[type[exp.Expr], ...] = (
    exp.Identifier, exp.DataType, exp.DataTypeParam, exp.Var, exp.Interval, exp.Distinct,
    exp.Star,
)


def _reject(message: str, where: Location, text: str) -> SpecError:
    return SpecError(f"{message} in {text!r}", where)


@lru_cache(maxsize=4096)
def _parse(text: str, dialect: str) -> exp.Expr | str:
    """Parse and check one snippet; return the tree, or the reason it is refused."""
    try:
        tokens = sqlglot.Dialect.get_or_raise(sqlglot_dialect(dialect)).tokenize(text)
    except (TokenError, ValueError) as exc:
        return f"cannot read SQL: {str(exc).splitlines()[0]}"
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            return "';' is not allowed: a snippet is one expression"
        if token.comments:
            return "comments are not allowed"
    if not tokens:
        return "empty expression"
    try:
        statements = sqlglot.parse(text, read=sqlglot_dialect(dialect))
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0]
        return f"invalid SQL: {first}"
    if len(statements) != 1 or statements[0] is None:
        return "a snippet must be exactly one expression"
    tree = statements[0]
    for node in tree.walk():
        if isinstance(node, exp.SetOperation):
            return "set operations (UNION, INTERSECT, EXCEPT) are not allowed"
        for kind, message in _FORBIDDEN:
            if isinstance(node, kind):
                return message
    if isinstance(tree, (exp.Alias, exp.Tuple)):
        return "a snippet must be one expression, without an alias or a list"
    # Allow-list: a scalar expression is made of conditions (columns, literals,
    # operators, functions, CASE, CAST…) and their parts; anything else — a DROP,
    # TRUNCATE, SET, PRAGMA… parsed as some other node — is a statement.
    for node in tree.walk():
        if not isinstance(node, (exp.Condition, *_PARTS)):
            return f"statements are not allowed ({tokens[0].text.upper()})"
    return tree


def parse_snippet(text: str, dialect: str, where: Location, *,
                  allow_aggregates: bool = False,
                  check_column: Callable[[exp.Column], str | None] | None = None) -> exp.Expr:
    """Parse a spec snippet into a checked sqlglot tree (a fresh copy each call).

    Args:
        text: the snippet, e.g. ``stage = 'won'``.
        dialect: the sqlglot dialect it is written in.
        where: the location reported on error.
        allow_aggregates: accept aggregate functions (only derived-metric expressions do).
        check_column: returns a message for a column reference that is not allowed.

    Raises:
        SpecError: naming the snippet and why it is refused.

    >>> parse_snippet("stage = 'won'", "duckdb", Location("x.yaml")).sql()
    "stage = 'won'"
    """
    result = _parse(text.strip(), dialect)
    if isinstance(result, str):
        raise _reject(result, where, text)
    tree = result.copy()
    if not allow_aggregates:
        for node in tree.find_all(exp.AggFunc):
            raise _reject(f"aggregate {node.sql(dialect=sqlglot_dialect(dialect))!r} is not allowed here "
                          "(measures aggregate with 'agg')", where, text)
    if check_column is not None:
        problems = [p for c in tree.find_all(exp.Column) if (p := check_column(c))]
        if problems:
            raise SpecError(problems[0].split(". ", 1)[0] + f" in {text!r}", where,
                            problems[0].split(". ", 1)[1] if ". " in problems[0] else "")
    return tree


def parse_query(text: str, dialect: str, where: Location) -> exp.Query:
    """Parse a model's ``sql:`` (one SELECT, no comments) into a tree."""
    try:
        tokens = sqlglot.Dialect.get_or_raise(sqlglot_dialect(dialect)).tokenize(text)
    except (TokenError, ValueError) as exc:
        raise SpecError(f"cannot read SQL: {str(exc).splitlines()[0]}", where) from None
    if any(t.comments for t in tokens):
        raise SpecError("comments are not allowed in a model's sql", where)
    if sum(t.token_type == TokenType.SEMICOLON for t in tokens) > 0:
        raise SpecError("';' is not allowed: a model's sql is one SELECT", where)
    try:
        statements = sqlglot.parse(text, read=sqlglot_dialect(dialect))
    except (ParseError, TokenError) as exc:
        raise SpecError(f"invalid SQL: {str(exc).splitlines()[0]}", where) from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise SpecError("a model's sql must be one SELECT", where)
    tree = statements[0]
    for node in tree.walk():
        if isinstance(node, (exp.DDL, exp.DML, exp.Command, exp.Placeholder, exp.Parameter)):
            raise SpecError("a model's sql must be a plain SELECT (no statements or parameters)",
                            where)
    return tree
