"""Reading SQL text with sqlglot: tokens, then trees, and sqlglot's errors in words.

The snippet and model checks (:mod:`kpispec.spec.snippets`) tokenize a text once,
look at the tokens (semicolons, comments), then parse the same tokens — sqlglot
is not asked to tokenize the text a second time. Each returns the message of a
text it cannot read instead of raising.
"""

from __future__ import annotations

import re
from functools import lru_cache

import sqlglot
from kpispec._dialect_names import sqlglot_dialect
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import Token

__all__ = ["dialect_of", "parse_error", "parse_tokens", "read_tokens"]


@lru_cache(maxsize=64)
def dialect_of(dialect: str) -> sqlglot.Dialect:
    """One sqlglot dialect per name (settings only: each parse makes its own parser)."""
    return sqlglot.Dialect.get_or_raise(sqlglot_dialect(dialect))


def read_tokens(text: str, dialect: str) -> list[Token] | str:
    """The tokens of ``text`` in ``dialect``, or why it cannot be read."""
    try:
        return list(dialect_of(dialect).tokenize(text))
    except (TokenError, ValueError) as exc:
        cause = str(exc.__cause__ or exc)
        missing = re.match(r"Missing (\S+) from", cause)
        if missing:
            return f"cannot read SQL: a quoted string or name is not closed (missing {missing.group(1)})"
        return f"cannot read SQL: {str(exc).splitlines()[0]}"
    except RecursionError:
        return "expression is nested too deeply"
    except Exception as exc:  # sqlglot's tokenizer failing on input it did not foresee
        return f"cannot read SQL ({type(exc).__name__} in sqlglot's tokenizer)"


def parse_tokens(text: str, dialect: str, tokens: list[Token]) -> list[exp.Expr | None] | str:
    """Parse ``text`` from its ``tokens`` (as ``sqlglot.parse`` would, without tokenizing again)."""
    try:
        return list(dialect_of(dialect).parser().parse(tokens, text))
    except ParseError as exc:
        return parse_error(exc, text)
    except TokenError as exc:
        return f"invalid SQL: {str(exc).splitlines()[0]}"
    except RecursionError:
        return "expression is nested too deeply"
    except Exception as exc:  # sqlglot's parser failing on input it did not foresee: VAR_MAP(x)
        return f"invalid SQL (sqlglot's parser failed with {type(exc).__name__})"


def parse_error(exc: ParseError, text: str) -> str:
    """sqlglot's parse error in words: where, and what was expected there (never its node classes)."""
    detail = exc.errors[0] if exc.errors else {}
    description = str(detail.get("description") or "cannot parse")
    token = str(detail.get("highlight") or "")
    line, col = detail.get("line"), detail.get("col")
    where = ""
    if isinstance(line, int) and isinstance(col, int):
        col = max(1, col - len(token) + 1)  # sqlglot gives the token's last character
        where = f" at line {line}, column {col}" if "\n" in text else f" at character {col}"
    missing = re.match(r"Required keyword: '(\w+)' missing for <class '[\w.]*\.(\w+)'>", description)
    if missing and missing.group(2) == "Between":
        what = f"expected AND after {token!r} (BETWEEN low AND high)"
    elif missing or description.startswith("Expected"):
        what = f"expected an expression after {token!r}" if missing else description[0].lower() + description[1:]
    elif description.startswith("Expecting "):
        what = f"expected {description.split(' ', 1)[1]!r} after {token!r}"
    elif description.startswith("Invalid expression") or "<class" in description:
        what = f"unexpected {token!r}"
    else:
        what = description
    return f"invalid SQL{where}: {what}"
