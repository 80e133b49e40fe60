"""Snowflake: Monday weeks whatever the session's WEEK_START, CONVERT_TIMEZONE for local time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqlglot.dialects.snowflake import Snowflake
from sqlglot.generators.snowflake import SnowflakeGenerator

from kpispec.compile.dialects._base import Spelling, spelled

__all__ = ["DIALECT", "KpispecSnowflake"]


class KpispecSnowflake(Snowflake, Spelling):
    NAME = SQLGLOT = "snowflake"
    COLUMN_NAME_LIMIT = 255
    TRUNCATE: ClassVar[Mapping[str, str]] = {  # DATE_TRUNC('WEEK') follows the session's WEEK_START
        "week": "DATEADD(DAY, 1 - DAYOFWEEKISO(__x), CAST(__x AS DATE))",
    }
    TO_LOCAL: ClassVar[str | None] = "CONVERT_TIMEZONE('UTC', __z, __x)"

    class Generator(SnowflakeGenerator):
        TRANSFORMS = spelled(SnowflakeGenerator.TRANSFORMS)


DIALECT = KpispecSnowflake
