"""Functions of users' snippets whose sqlglot spelling is wrong in a dialect, spelled right.

Each dialect's class (:mod:`kpispec.compile.dialects`) picks the rewrites it needs
in its ``portable``: seconds between two timestamps, timestamp truncation and
adding units (SQLite's ``DATETIME(x, 'start of month')``, Oracle's ``TRUNC``,
BigQuery's ``DATETIME_TRUNC``), Spark's decimal constants. Every function here
rewrites the tree in place and returns it; none names a dialect except by the
template it is given.
"""

from __future__ import annotations

from sqlglot import exp

from kpispec.compile._templates import fill

__all__ = ["datetime_truncation", "decimal_constants_as_doubles", "seconds_between",
           "sqlite_time", "trunc_truncation"]

_ORACLE_UNITS = {"day": "DD", "week": "IW", "month": "MM", "quarter": "Q", "year": "YYYY"}


def _unit(node: exp.Expr) -> str:
    unit = node.args.get("unit")
    return unit.name.lower() if isinstance(unit, exp.Expr) else ""


def datetime_truncation(tree: exp.Expr) -> exp.Expr:
    """A timestamp truncation as DATETIME_TRUNC (naive timestamps are BigQuery DATETIMEs)."""
    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.TimestampTrunc):
            return exp.DatetimeTrunc(this=node.this, unit=node.args.get("unit"))
        return node

    return tree.transform(fix, copy=False)


def trunc_truncation(tree: exp.Expr, dialect: str) -> exp.Expr:
    """A timestamp truncation as ``TRUNC(x, 'MM')`` (Oracle)."""
    def fix(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.TimestampTrunc) and _unit(node) in _ORACLE_UNITS:
            return fill(dialect, "TRUNC(__x, __u)", x=node.this,
                        u=exp.Literal.string(_ORACLE_UNITS[_unit(node)]))
        return node

    return tree.transform(fix, copy=False)


def _sqlite_time(node: exp.Expr) -> exp.Expr:
    name = _unit(node)
    if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)) and name in ("day", "month", "year"):
        return fill("sqlite", "DATETIME(__x, __m)", x=node.this.transform(_sqlite_time),
                    m=exp.Literal.string(f"start of {name}"))
    if isinstance(node, exp.DateAdd) and name in ("day", "hour", "minute", "second", "month", "year"):
        return fill("sqlite", "DATETIME(__x, __n || __u)", x=node.this.transform(_sqlite_time),
                    n=node.expression, u=exp.Literal.string(f" {name}s"))
    return node


def sqlite_time(tree: exp.Expr) -> exp.Expr:
    """Truncation to a day, month or year and adding units, as SQLite's DATETIME modifiers
    (sqlglot writes TIMESTAMP_TRUNC, DATE_TRUNC and a DATE() that drops the time)."""
    return tree.transform(_sqlite_time, copy=False)


def decimal_constants_as_doubles(tree: exp.Expr) -> exp.Expr:
    """3600.0 is a DECIMAL in Spark SQL, and decimal division keeps a fixed scale: a
    fractional constant is meant as a double, as in every other engine."""
    def doubles(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Literal) and node.is_number and "." in node.this \
                and not isinstance(node.parent, exp.Cast):
            return exp.cast(node.copy(), exp.DataType.Type.DOUBLE)
        return node

    return tree.transform(doubles, copy=False)


def seconds_between(tree: exp.Expr, dialect: str, template: str | None) -> exp.Expr:
    """Seconds between two timestamps spelled by ``template`` (``__a``: the earlier, ``__b``:
    the later), or (``template`` None) as ClickHouse's ``dateDiff('second', a, b)``."""
    def fix(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, (exp.DateDiff, exp.TimestampDiff, exp.DatetimeDiff)):
            return node
        unit = node.args.get("unit")
        if unit is None or unit.name.upper() != "SECOND":
            return node
        later, earlier = node.this, node.expression
        if template is None:
            return exp.Anonymous(this="dateDiff",
                                 expressions=[exp.Literal.string("second"), earlier, later])
        seconds = fill(dialect, template, a=earlier, b=later)
        return exp.paren(seconds) if isinstance(seconds, exp.Binary) else seconds

    return tree.transform(fix, copy=False)
