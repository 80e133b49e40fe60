"""MySQL and MariaDB: no DATE_TRUNC, no zone database to rely on, no exact percentile."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.mysql import MySQL
from sqlglot.generators.mysql import MySQLGenerator

from kpispec.compile import snippet_functions as snippets
from kpispec.compile.dialects._base import Spelling, spelled

__all__ = ["DIALECT", "KpispecMySQL"]


class KpispecMySQL(MySQL, Spelling):
    NAME = SQLGLOT = "mysql"
    COLUMN_NAME_LIMIT = 256
    UNSUPPORTED_AGGREGATES: ClassVar[frozenset[str]] = frozenset({"median", "percentile"})
    TRUNCATE: ClassVar[Mapping[str, str]] = {
        "day": "DATE(__x)",
        "week": "DATE_SUB(DATE(__x), INTERVAL WEEKDAY(__x) DAY)",
        "month": "DATE_SUB(DATE(__x), INTERVAL (DAYOFMONTH(__x) - 1) DAY)",
        "quarter": "MAKEDATE(YEAR(__x), 1) + INTERVAL (QUARTER(__x) - 1) QUARTER",
        "year": "MAKEDATE(YEAR(__x), 1)",
    }
    #: Its zone tables must be loaded by hand: local time uses the zone's offsets.
    ADD_SECONDS: ClassVar[str | None] = "DATE_ADD(__x, INTERVAL __n SECOND)"
    CONCAT: ClassVar[str] = "CONCAT(__a, CAST(__b AS CHAR), __c)"

    def portable(self, tree: exp.Expr) -> exp.Expr:  # its DATEDIFF counts days
        return snippets.seconds_between(tree, self.SQLGLOT, "TIMESTAMPDIFF(SECOND, __a, __b)")

    class Generator(MySQLGenerator):
        TRANSFORMS = spelled(MySQLGenerator.TRANSFORMS)


DIALECT = KpispecMySQL
