"""Redshift: sqlglot's spelling, and CONVERT_TIMEZONE for local time."""

from __future__ import annotations

from typing import ClassVar

from sqlglot.dialects.redshift import Redshift
from sqlglot.generators.redshift import RedshiftGenerator

from kpispec.compile.dialects._base import Spelling, spelled

__all__ = ["DIALECT", "KpispecRedshift"]


class KpispecRedshift(Redshift, Spelling):
    NAME = SQLGLOT = "redshift"
    COLUMN_NAME_LIMIT = 127
    TO_LOCAL: ClassVar[str | None] = "CONVERT_TIMEZONE('UTC', __z, __x)"

    class Generator(RedshiftGenerator):
        TRANSFORMS = spelled(RedshiftGenerator.TRANSFORMS)


DIALECT = KpispecRedshift
