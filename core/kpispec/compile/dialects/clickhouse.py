"""ClickHouse: Date32 (Date wraps past 2149), NULLs from LEFT JOINs, no exact percentile."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.clickhouse import ClickHouse
from sqlglot.generators.clickhouse import ClickHouseGenerator

from kpispec.compile import snippet_functions as snippets
from kpispec.compile.dialects._base import Spelling, spelled

__all__ = ["DIALECT", "KpispecClickHouse"]


class KpispecClickHouse(ClickHouse, Spelling):
    NAME = SQLGLOT = "clickhouse"
    UNSUPPORTED_AGGREGATES: ClassVar[frozenset[str]] = frozenset({"median", "percentile"})
    # Date wraps around silently past 2149: a spine of 10,000 months would come back with
    # dates from 1970. Date32 does not wrap.
    ADD: ClassVar[Mapping[str, str]] = {
        "day": "addDays(toDate32(__x), __n)",
        "month": "addMonths(toDate32(__x), __n)",
    }
    # The instant moved by the zone's offset at that instant: its UTC reading is local time.
    TO_LOCAL: ClassVar[str | None] = "addSeconds(__x, timeZoneOffset(toTimeZone(__x, __z)))"
    CONCAT: ClassVar[str] = "concat(__a, toString(__b), __c)"

    def finish(self, tree: exp.Expr) -> exp.Expr:
        """Unmatched LEFT JOIN columns are type defaults (0, '') unless ``join_use_nulls``
        is on; the spine and dimension joins need NULLs."""
        if isinstance(tree, exp.Select):
            tree.set("settings", [exp.EQ(this=exp.column("join_use_nulls"),
                                         expression=exp.Literal.number(1))])
        return tree

    def portable(self, tree: exp.Expr) -> exp.Expr:  # the unit is quoted: dateDiff('second', …)
        return snippets.seconds_between(tree, self.SQLGLOT, None)

    class Generator(ClickHouseGenerator):
        TRANSFORMS = spelled(ClickHouseGenerator.TRANSFORMS)


DIALECT = KpispecClickHouse
