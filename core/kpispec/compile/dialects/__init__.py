"""One class per SQL dialect: a sqlglot dialect subclass that spells kpispec's nodes.

Each module here holds one dialect's rules — its spelling of kpispec's nodes
(:mod:`kpispec.compile.nodes`), the aggregates it cannot compute, the words it
reserves that sqlglot does not list — in a subclass of sqlglot's dialect whose
Generator renders those nodes. Adding a dialect is one new module here and its
name in :data:`kpispec._dialect_names.DIALECTS`.

sqlglot registers every dialect subclass under its class name; the classes are
named ``Kpispec<Dialect>`` so that registering them never replaces sqlglot's own
dialects for other users of sqlglot. kpispec finds them by its own names:

>>> dialect("postgresql").NAME, type(dialect("datafusion")).__name__
('postgres', 'KpispecDataFusion')
>>> sorted(dialect("sqlite").UNSUPPORTED_AGGREGATES)
['median', 'percentile']
"""

from __future__ import annotations

import importlib
from functools import cache

from kpispec._dialect_names import DIALECTS, dialect_name, sqlglot_dialect
from kpispec.compile.dialects._base import Spelling

__all__ = ["DIALECTS", "Spelling", "dialect", "dialect_name", "sqlglot_dialect"]


def dialect(name: str) -> Spelling:
    """The dialect class instance for the kpispec dialect ``name`` (aliases allowed)."""
    canonical = dialect_name(name)
    if canonical not in DIALECTS:
        raise KeyError(canonical)
    return _instance(canonical)


@cache
def _instance(canonical: str) -> Spelling:
    module = importlib.import_module(f"{__name__}.{canonical}")
    instance: Spelling = module.DIALECT()
    return instance
