"""PostgreSQL: sqlglot's spelling, and its zone database for local time."""

from __future__ import annotations

from typing import ClassVar

from sqlglot.dialects.postgres import Postgres
from sqlglot.generators.postgres import PostgresGenerator

from kpispec.compile.dialects._base import Spelling, spelled

__all__ = ["DIALECT", "KpispecPostgres"]


class KpispecPostgres(Postgres, Spelling):
    NAME = SQLGLOT = "postgres"
    COLUMN_NAME_LIMIT = 63
    COLUMN_NAME_UNIT = "bytes"
    TO_LOCAL: ClassVar[str | None] = "(__x AT TIME ZONE 'UTC') AT TIME ZONE __z"

    class Generator(PostgresGenerator):
        TRANSFORMS = spelled(PostgresGenerator.TRANSFORMS)


DIALECT = KpispecPostgres
