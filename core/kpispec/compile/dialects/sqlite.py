"""SQLite: dates are ISO text, and its date functions are DATE()/DATETIME() with modifiers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.sqlite import SQLite
from sqlglot.generators.sqlite import SQLiteGenerator

from kpispec.compile import nodes
from kpispec.compile import snippet_functions as snippets
from kpispec.compile.dialects._base import Spelling, spelled

__all__ = ["DIALECT", "KpispecSQLite"]


class KpispecSQLite(SQLite, Spelling):
    NAME = SQLGLOT = "sqlite"
    UNSUPPORTED_AGGREGATES: ClassVar[frozenset[str]] = frozenset({"median", "percentile"})
    #: Its keywords it refuses as a table alias, CTE name or column alias.
    EXTRA_RESERVED: ClassVar[frozenset[str]] = frozenset({
        "add", "alter", "autoincrement", "between", "commit", "delete", "drop", "escape",
        "exists", "index", "insert", "nothing", "raise", "recursive", "set", "transaction",
        "update", "values"})
    TRUNCATE: ClassVar[Mapping[str, str]] = {
        "day": "DATE(__x)",
        "week": "DATE(__x, '-6 days', 'weekday 1')",
        "month": "DATE(__x, 'start of month')",
        "quarter": "DATE(__x, 'start of month', '-' || ((CAST(STRFTIME('%m', __x) AS INTEGER) - 1) % 3) || ' months')",
        "year": "DATE(__x, 'start of year')",
    }
    ADD: ClassVar[Mapping[str, str]] = {  # a modifier's sign is optional: '3 days' and '-3 days'
        "day": "DATE(__x, __n || ' days')",
        "month": "DATE(__x, __n || ' months')",
    }
    ADD_DAYS: ClassVar[str | None] = "DATETIME(__x, __n || ' days')"
    ADD_SECONDS: ClassVar[str | None] = "DATETIME(__x, __n || ' seconds')"
    CONCAT: ClassVar[str] = "__a || CAST(__b AS TEXT) || __c"

    def date_literal(self, node: nodes.DateLiteral) -> exp.Expr:
        text: exp.Expr = node.this  # SQLite keeps dates as ISO text
        return text

    def timestamp_literal(self, node: nodes.TimestampLiteral) -> exp.Expr:
        # Text compares as text: a date-only bound is right for date and date-time columns.
        text: exp.Expr = node.args.get("date") or node.this
        return text

    def instant(self, node: nodes.Instant) -> exp.Expr:
        # DATETIME('2024-03-01') is '2024-03-01 00:00:00': it orders against both kinds of text.
        return exp.func("DATETIME", node.this)

    def date_part(self, node: nodes.DatePart) -> exp.Expr:
        fmt = {"YEAR": "%Y", "MONTH": "%m"}[node.args["part"]]
        return exp.cast(exp.func("STRFTIME", exp.Literal.string(fmt), node.this), exp.DataType.Type.INT)

    def add_months_clamped(self, node: nodes.AddMonthsClamped) -> exp.Expr:
        # The date modifier would overflow into the next month (03-31 minus a month is 03-02).
        return self.fill("MIN(DATE(__x, 'start of month', __n || ' months', "
                         "(CAST(STRFTIME('%d', __x) AS INTEGER) - 1) || ' days'), "
                         "DATE(__x, 'start of month', (__n + 1) || ' months', '-1 days'))",
                         x=node.this, n=node.expression)

    def portable(self, tree: exp.Expr) -> exp.Expr:
        # julianday differences lose a second to floating error; epoch seconds are exact
        # and, like DuckDB's date_diff, count whole-second boundaries.
        return snippets.seconds_between(snippets.sqlite_time(tree), self.SQLGLOT, (
            "CAST(STRFTIME('%s', __b) AS INTEGER) - CAST(STRFTIME('%s', __a) AS INTEGER)"))

    class Generator(SQLiteGenerator):
        TRANSFORMS = spelled(SQLiteGenerator.TRANSFORMS)


DIALECT = KpispecSQLite
