"""Trino: sqlglot's spelling, its zone functions; no exact percentile as a GROUP BY aggregate."""

from __future__ import annotations

from typing import ClassVar

from sqlglot.dialects.trino import Trino
from sqlglot.generators.trino import TrinoGenerator

from kpispec.compile.dialects._base import Spelling, spelled

__all__ = ["DIALECT", "KpispecTrino"]


class KpispecTrino(Trino, Spelling):
    NAME = SQLGLOT = "trino"
    UNSUPPORTED_AGGREGATES: ClassVar[frozenset[str]] = frozenset({"median", "percentile"})
    TO_LOCAL: ClassVar[str | None] = "CAST(AT_TIMEZONE(WITH_TIMEZONE(__x, 'UTC'), __z) AS TIMESTAMP)"

    class Generator(TrinoGenerator):
        TRANSFORMS = spelled(TrinoGenerator.TRANSFORMS)


DIALECT = KpispecTrino
