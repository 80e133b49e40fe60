"""The words kpispec quotes per dialect (compile/_reserved_words.py) still match sqlglot.

A word sqlglot's parser cannot read back as a name must be quoted, or kpispec's SQL for a
model, table, column or metric of that name does not parse back (and kpispec's own
pre-execution guard refuses to run it).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from functools import cache

import duckdb
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


ENGINE_SHAPES = ("SELECT {w}.a AS {w} FROM t AS {w} WHERE {w}.a = 1 GROUP BY {w}.a ORDER BY {w}.a",
                 "WITH {w} AS (SELECT 1 AS a) SELECT a FROM {w}",
                 "SELECT x.{w} FROM (SELECT 1 AS {w}) AS x",
                 "SELECT MIN({w}) FROM (SELECT 1 AS {w}) AS x")
#: SQLite's keywords (https://sqlite.org/lang_keywords.html).
SQLITE_KEYWORDS = """ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH AUTOINCREMENT
BEFORE BEGIN BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT CREATE
CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE DEFERRED
DELETE DESC DETACH DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE EXISTS EXPLAIN
FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL GENERATED GLOB GROUP GROUPS HAVING IF IGNORE
IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD INTERSECT INTO IS ISNULL JOIN KEY LAST
LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL NULL NULLS OF OFFSET ON OR ORDER
OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY RAISE RANGE RECURSIVE REFERENCES
REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING RIGHT ROLLBACK ROW ROWS SAVEPOINT SELECT
SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION TRIGGER UNBOUNDED UNION UNIQUE UPDATE USING
VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT""".lower().split()


def _engine_refuses(execute: Callable[[str], object], word: str) -> bool:
    for shape in ENGINE_SHAPES:
        try:
            execute(shape.format(w=word))
        except Exception:
            return True
    return False


def test_words_sqlite_refuses_as_names_are_quoted() -> None:
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (a INT)")
    refused = {w for w in SQLITE_KEYWORDS
               if _engine_refuses(lambda sql: con.execute(sql).fetchall(), w)}
    assert refused <= _reserved("sqlite"), sorted(refused - _reserved("sqlite"))


def test_words_duckdb_refuses_as_names_are_quoted() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a INT)")
    words = [row[0] for row in con.execute("SELECT keyword_name FROM duckdb_keywords()").fetchall()]
    refused = {w for w in words if _engine_refuses(lambda sql: con.execute(sql).fetchall(), w)}
    assert refused <= _reserved("duckdb"), sorted(refused - _reserved("duckdb"))
