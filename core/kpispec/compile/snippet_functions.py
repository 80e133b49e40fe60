"""Functions of users' snippets whose sqlglot spelling is wrong in a dialect, spelled right.

Part of the dialect code (:meth:`kpispec.compile.dialects.Spelling.portable` calls it):
seconds between two timestamps, timestamp truncation and adding units (SQLite's
``DATETIME(x, 'start of month')``, Oracle's ``TRUNC``, BigQuery's ``DATETIME_TRUNC``),
Spark's decimal constants.
"""

from __future__ import annotations

from sqlglot import exp

from kpispec.compile._templates import fill

__all__ = ["snippet_functions"]

#: Seconds between two timestamps where sqlglot's spelling of a seconds difference is
#: wrong or inexact (MySQL's DATEDIFF counts days; Oracle has no DATEDIFF; BigQuery's
#: naive timestamps are DATETIMEs; ClickHouse wants the unit quoted; SQLite below).
_SECONDS_BETWEEN = {
    # SQLite: julianday differences lose a second to floating error; epoch seconds are exact
    # and, like DuckDB's date_diff, count whole-second boundaries.
    "sqlite": "CAST(STRFTIME('%s', __b) AS INTEGER) - CAST(STRFTIME('%s', __a) AS INTEGER)",
    "mysql": "TIMESTAMPDIFF(SECOND, __a, __b)",
    "bigquery": "DATETIME_DIFF(__b, __a, SECOND)",
    "oracle": "(CAST(__b AS DATE) - CAST(__a AS DATE)) * 86400",
}


_ORACLE_UNITS = {"day": "DD", "week": "IW", "month": "MM", "quarter": "Q", "year": "YYYY"}


def _truncation(node: exp.Expr, dialect: str) -> exp.Expr:
    """A timestamp truncation where sqlglot's spelling does not run: Oracle's TRUNC(x, 'MM');
    BigQuery's DATETIME_TRUNC (kpispec's naive timestamps are DATETIMEs there)."""
    if not isinstance(node, exp.TimestampTrunc):
        return node
    unit = node.args.get("unit")
    name = unit.name.lower() if isinstance(unit, exp.Expr) else ""
    if dialect == "bigquery":
        return exp.DatetimeTrunc(this=node.this, unit=unit)
    if name in _ORACLE_UNITS:
        return fill("oracle", "TRUNC(__x, __u)", x=node.this, u=exp.Literal.string(_ORACLE_UNITS[name]))
    return node


def _sqlite_time(node: exp.Expr) -> exp.Expr:
    """Truncation to a day, month or year and adding units, as SQLite's DATETIME modifiers
    (sqlglot writes TIMESTAMP_TRUNC, DATE_TRUNC and a DATE() that drops the time)."""
    unit = node.args.get("unit")
    name = unit.name.lower() if isinstance(unit, exp.Expr) else ""
    if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)) and name in ("day", "month", "year"):
        return fill("sqlite", "DATETIME(__x, __m)", x=node.this.transform(_sqlite_time),
                    m=exp.Literal.string(f"start of {name}"))
    if isinstance(node, exp.DateAdd) and name in ("day", "hour", "minute", "second", "month", "year"):
        return fill("sqlite", "DATETIME(__x, __n || __u)", x=node.this.transform(_sqlite_time),
                    n=node.expression, u=exp.Literal.string(f" {name}s"))
    return node


def snippet_functions(tree: exp.Expr, dialect: str) -> exp.Expr:
    """``tree`` with the constructs of users' snippets that sqlglot spells wrongly in ``dialect``
    rewritten (in place)."""
    if dialect == "sqlite":
        tree = tree.transform(_sqlite_time, copy=False)
    if dialect in ("oracle", "bigquery"):
        tree = tree.transform(lambda node: _truncation(node, dialect), copy=False)
    if dialect in ("spark", "databricks"):
        # 3600.0 is a DECIMAL in Spark SQL, and decimal division keeps a fixed scale:
        # a fractional constant is meant as a double, as in every other engine.
        def doubles(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Literal) and node.is_number and "." in node.this \
                    and not isinstance(node.parent, exp.Cast):
                return exp.cast(node.copy(), exp.DataType.Type.DOUBLE)
            return node

        tree = tree.transform(doubles, copy=False)
    template = _SECONDS_BETWEEN.get(dialect)
    if template is None and dialect != "clickhouse":
        return tree

    def fix(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, (exp.DateDiff, exp.TimestampDiff, exp.DatetimeDiff)):
            return node
        unit = node.args.get("unit")
        if unit is None or unit.name.upper() != "SECOND":
            return node
        later, earlier = node.this, node.expression
        if dialect == "clickhouse":
            return exp.Anonymous(this="dateDiff",
                                 expressions=[exp.Literal.string("second"), earlier, later])
        assert template is not None
        seconds = fill(dialect, template, a=earlier, b=later)
        return exp.paren(seconds) if isinstance(seconds, exp.Binary) else seconds

    return tree.transform(fix, copy=False)
