"""SQL Server: no DATE_TRUNC before 2022, no IS NOT DISTINCT FROM before 2022, Windows zone
names, no exact percentile as a GROUP BY aggregate, many reserved words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.tsql import TSQL
from sqlglot.generators.tsql import TSQLGenerator

from kpispec.compile import nodes
from kpispec.compile.dialects._base import Spelling, null_safe_eq_spelled_out, spelled

__all__ = ["DIALECT", "KpispecTSQL"]


class KpispecTSQL(TSQL, Spelling):
    NAME = SQLGLOT = "tsql"
    COLUMN_NAME_LIMIT = 128
    UNSUPPORTED_AGGREGATES: ClassVar[frozenset[str]] = frozenset({"median", "percentile"})
    EXTRA_RESERVED: ClassVar[frozenset[str]] = frozenset({
        "backup", "browse", "bulk", "checkpoint", "clustered", "compute", "contains",
        "containstable", "current", "cursor", "database", "dbcc", "deallocate", "deny", "disk",
        "distributed", "dump", "errlvl", "exec", "execute", "exit", "file", "fillfactor",
        "freetext", "freetexttable", "goto", "holdlock", "identity", "identity_insert",
        "identitycol", "index", "key", "kill", "lineno", "load", "merge", "national", "nocheck",
        "nonclustered", "off", "offsets", "open", "opendatasource", "openquery", "openrowset",
        "openxml", "over", "percent", "pivot", "plan", "print", "proc", "procedure", "public",
        "raiserror", "read", "readtext", "reconfigure", "replication", "restore", "restrict",
        "revert", "rowcount", "rowguidcol", "rule", "save", "schema", "securityaudit",
        "semantickeyphrasetable", "session_user", "setuser", "shutdown", "statistics",
        "system_user", "textsize", "top", "tran", "transaction", "trigger", "truncate",
        "try_convert", "tsequal", "unpivot", "updatetext", "use", "user", "waitfor",
        "writetext"})
    TRUNCATE: ClassVar[Mapping[str, str]] = {
        "day": "CAST(__x AS DATE)",
        "week": "CAST(DATEADD(DAY, (DATEDIFF(DAY, 0, __x) / 7) * 7, 0) AS DATE)",
        "month": "DATEFROMPARTS(YEAR(__x), MONTH(__x), 1)",
        "quarter": "DATEFROMPARTS(YEAR(__x), (DATEPART(QUARTER, __x) - 1) * 3 + 1, 1)",
        "year": "DATEFROMPARTS(YEAR(__x), 1, 1)",
    }
    ADD_SECONDS: ClassVar[str | None] = "DATEADD(SECOND, __n, __x)"
    CONCAT: ClassVar[str] = "CONCAT(__a, CAST(__b AS VARCHAR(4)), __c)"

    def null_safe_eq(self, node: nodes.NullSafeEq) -> exp.Expr:
        return null_safe_eq_spelled_out(node)

    class Generator(TSQLGenerator):
        TRANSFORMS = spelled(TSQLGenerator.TRANSFORMS)


DIALECT = KpispecTSQL
