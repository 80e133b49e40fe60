"""Oracle: TRUNC and ADD_MONTHS, constants formatted whatever NLS_DATE_FORMAT says, SELECT
FROM DUAL, no IS NOT DISTINCT FROM, many reserved words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.oracle import Oracle
from sqlglot.generators.oracle import OracleGenerator

from kpispec.compile import nodes
from kpispec.compile import snippet_functions as snippets
from kpispec.compile.dialects._base import Spelling, null_safe_eq_spelled_out, spelled

__all__ = ["DIALECT", "KpispecOracle"]


class KpispecOracle(Oracle, Spelling):
    NAME = SQLGLOT = "oracle"
    COLUMN_NAME_LIMIT = 128
    EXTRA_RESERVED: ClassVar[frozenset[str]] = frozenset({
        "access", "audit", "cluster", "comment", "compress", "date", "exclusive", "file",
        "identified", "immediate", "increment", "index", "initial", "level", "lock", "long",
        "maxextents", "minus", "mlslabel", "mode", "modify", "noaudit", "nocompress", "nowait",
        "number", "offline", "online", "pctfree", "prior", "raw", "rename", "resource", "row",
        "rowid", "rownum", "rows", "session", "share", "size", "start", "successful", "synonym",
        "sysdate", "uid", "validate", "varchar", "varchar2", "view", "whenever"})
    TRUNCATE: ClassVar[Mapping[str, str]] = {
        "day": "TRUNC(__x, 'DD')",
        "week": "TRUNC(__x, 'IW')",
        "month": "TRUNC(__x, 'MM')",
        "quarter": "TRUNC(__x, 'Q')",
        "year": "TRUNC(__x, 'YYYY')",
    }
    ADD: ClassVar[Mapping[str, str]] = {"day": "__x + __n", "month": "ADD_MONTHS(__x, __n)"}
    ADD_DAYS: ClassVar[str | None] = "__x + NUMTODSINTERVAL(__n, 'DAY')"
    TO_LOCAL: ClassVar[str | None] = (
        "CAST(FROM_TZ(CAST(__x AS TIMESTAMP), 'UTC') AT TIME ZONE __z AS TIMESTAMP)")
    CONCAT: ClassVar[str] = "__a || TO_CHAR(__b) || __c"

    def date_literal(self, node: nodes.DateLiteral) -> exp.Expr:
        # CAST('…' AS DATE) would depend on NLS_DATE_FORMAT
        return self.fill("TO_DATE(__x, 'YYYY-MM-DD')", x=node.this)

    def timestamp_literal(self, node: nodes.TimestampLiteral) -> exp.Expr:
        return self.fill("TO_TIMESTAMP(__x, 'YYYY-MM-DD HH24:MI:SS')", x=node.this)

    def add_months_clamped(self, node: nodes.AddMonthsClamped) -> exp.Expr:
        # ADD_MONTHS keeps a month's last day last (02-29 plus a month is 03-31).
        return self.fill("LEAST(ADD_MONTHS(TRUNC(__x, 'MM'), __n) + (EXTRACT(DAY FROM __x) - 1), "
                         "LAST_DAY(ADD_MONTHS(TRUNC(__x, 'MM'), __n)))", x=node.this, n=node.expression)

    def null_safe_eq(self, node: nodes.NullSafeEq) -> exp.Expr:
        return null_safe_eq_spelled_out(node)

    def finish(self, tree: exp.Expr) -> exp.Expr:
        """A row of constants is selected FROM DUAL."""
        for select in tree.find_all(exp.Select):
            if nodes.is_constant_row(select):
                select.from_("DUAL", copy=False)
        return tree

    def portable(self, tree: exp.Expr) -> exp.Expr:  # no DATEDIFF
        return snippets.seconds_between(snippets.trunc_truncation(tree, self.SQLGLOT), self.SQLGLOT,
                                        "(CAST(__b AS DATE) - CAST(__a AS DATE)) * 86400")

    class Generator(OracleGenerator):
        TRANSFORMS = spelled(OracleGenerator.TRANSFORMS)


DIALECT = KpispecOracle
