"""The words kpispec quotes per dialect (compile/_reserved_words.py) still match sqlglot.

A word sqlglot's parser cannot read back as a name must be quoted, or kpispec's SQL for a
model, table, column or metric of that name does not parse back (and kpispec's own
pre-execution guard refuses to run it).
"""

from __future__ import annotations

import re
from functools import cache

import pytest
import sqlglot
from kpispec.compile import _reserved
from kpispec.compile._reserved_words import PARSER_KEYWORDS
from kpispec.compile.dialects import DIALECTS, sqlglot_dialect
from sqlglot import exp

#: Where kpispec writes a name: table alias, qualifier, CTE name, column, column alias.
SHAPES = ("SELECT {w}.a AS {w} FROM t AS {w} WHERE {w}.a = 1 GROUP BY {w}.a ORDER BY {w}.a",
          "WITH {w} AS (SELECT 1 AS a) SELECT a, {w} FROM {w} LEFT JOIN u ON u.x = {w}.a",
          "SELECT ({w}.ts + 1) * 2 AS x, MIN({w}) AS {w} FROM {w}")


def _reads_back(word: str, dialect: str) -> bool:
    for shape in SHAPES:
        try:
            statements = sqlglot.parse(shape.format(w=word), read=dialect)
        except Exception:
            return False
        if len(statements) != 1 or not isinstance(statements[0], exp.Select):
            return False
    return True


@cache
def _keywords(dialect: str) -> frozenset[str]:
    tokenizer = sqlglot.Dialect.get_or_raise(dialect).tokenizer_class
    return frozenset(k.lower() for k in tokenizer.KEYWORDS if re.fullmatch(r"[A-Z][A-Z0-9_]*", k))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_keyword_sqlglot_cannot_read_as_a_name_is_quoted(dialect: str) -> None:
    name = sqlglot_dialect(dialect)
    unreadable = {w for w in _keywords(name) if not _reads_back(w, name)}
    assert unreadable <= _reserved(dialect), sorted(unreadable - _reserved(dialect))
    needless = {w for w in PARSER_KEYWORDS[dialect] if _reads_back(w, name)}
    assert not needless, f"sqlglot now reads these as names: {sorted(needless)}"
