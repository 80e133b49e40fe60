"""Databricks: Spark SQL's rules (:mod:`kpispec.compile.dialects.spark`)."""

from __future__ import annotations

from sqlglot.dialects.databricks import Databricks
from sqlglot.generators.databricks import DatabricksGenerator

from kpispec.compile.dialects._base import spelled
from kpispec.compile.dialects.spark import SparkRules

__all__ = ["DIALECT", "KpispecDatabricks"]


class KpispecDatabricks(Databricks, SparkRules):
    NAME = SQLGLOT = "databricks"

    class Generator(DatabricksGenerator):
        TRANSFORMS = spelled(DatabricksGenerator.TRANSFORMS)


DIALECT = KpispecDatabricks
