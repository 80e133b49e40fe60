"""DataFusion, rendered by sqlglot's PostgreSQL dialect: intervals from text (it cannot
multiply an interval by a number), no zone database to rely on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqlglot.dialects.postgres import Postgres
from sqlglot.generators.postgres import PostgresGenerator

from kpispec.compile.dialects._base import Spelling, spelled

__all__ = ["DIALECT", "KpispecDataFusion"]

class KpispecDataFusion(Postgres, Spelling):
    NAME = "datafusion"
    SQLGLOT = "postgres"
    ADD: ClassVar[Mapping[str, str]] = {
        "day": "__x + CAST(CONCAT(CAST(__n AS VARCHAR), ' days') AS INTERVAL)",
        "month": "__x + CAST(CONCAT(CAST(__n AS VARCHAR), ' months') AS INTERVAL)",
    }
    ADD_DAYS: ClassVar[str | None] = "__x + CAST(CONCAT(CAST(__n AS VARCHAR), ' days') AS INTERVAL)"
    ADD_SECONDS: ClassVar[str | None] = "__x + CAST(CONCAT(CAST(__n AS VARCHAR), ' seconds') AS INTERVAL)"

    class Generator(PostgresGenerator):
        TRANSFORMS = spelled(PostgresGenerator.TRANSFORMS)


DIALECT = KpispecDataFusion
