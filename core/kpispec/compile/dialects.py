"""What differs between SQL dialects beyond what sqlglot's generators decide.

sqlglot spells most constructs per dialect by itself. Where its default is
wrong for our meaning — a week that starts on Monday everywhere, a period
start that is a DATE, SQLite and MySQL without DATE_TRUNC, Oracle without
VALUES-less SELECT — the construct is written here, once per dialect, as a
constant template parsed by sqlglot in that dialect with the placeholder
column ``__x`` (and ``__n``) replaced by the real expression tree. User input
never passes through a template's text.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import sqlglot
from sqlglot import exp

__all__ = [
    "DIALECTS",
    "add_days",
    "add_periods",
    "date_literal",
    "dialect_name",
    "instant",
    "null_safe_eq",
    "portable",
    "query_settings",
    "select_constant",
    "sqlglot_dialect",
    "timestamp_literal",
    "truncate",
]

#: Output dialects kpispec supports and tests (golden SQL for each).
DIALECTS = (
    "duckdb", "sqlite", "postgres", "mysql", "snowflake", "bigquery", "redshift",
    "spark", "databricks", "trino", "clickhouse", "tsql", "oracle", "datafusion",
)
#: kpispec dialects that sqlglot has no dialect of its own for: rendered by the sqlglot
#: dialect named here, with kpispec's own spellings where they differ (below).
_RENDERED_AS = {"datafusion": "postgres"}
_ALIASES = {"postgresql": "postgres", "mariadb": "mysql", "sqlserver": "tsql", "mssql": "tsql",
            "spark2": "spark", "presto": "trino"}

# Truncation of a timestamp to the first day of its period, as a DATE. Weeks start on Monday.
_TRUNCATE: dict[str, dict[str, str]] = {
    "sqlite": {
        "day": "DATE(__x)",
        "week": "DATE(__x, '-6 days', 'weekday 1')",
        "month": "DATE(__x, 'start of month')",
        "quarter": "DATE(__x, 'start of month', '-' || ((CAST(STRFTIME('%m', __x) AS INTEGER) - 1) % 3) || ' months')",
        "year": "DATE(__x, 'start of year')",
    },
    "mysql": {
        "day": "DATE(__x)",
        "week": "DATE_SUB(DATE(__x), INTERVAL WEEKDAY(__x) DAY)",
        "month": "DATE_SUB(DATE(__x), INTERVAL (DAYOFMONTH(__x) - 1) DAY)",
        "quarter": "MAKEDATE(YEAR(__x), 1) + INTERVAL (QUARTER(__x) - 1) QUARTER",
        "year": "MAKEDATE(YEAR(__x), 1)",
    },
    "bigquery": {
        "day": "CAST(__x AS DATE)",
        "week": "DATE_TRUNC(CAST(__x AS DATE), WEEK(MONDAY))",
        "month": "DATE_TRUNC(CAST(__x AS DATE), MONTH)",
        "quarter": "DATE_TRUNC(CAST(__x AS DATE), QUARTER)",
        "year": "DATE_TRUNC(CAST(__x AS DATE), YEAR)",
    },
    # Spark's TRUNC knows no 'DAY' (it returns NULL for it).
    "spark": {"day": "CAST(__x AS DATE)"},
    "databricks": {"day": "CAST(__x AS DATE)"},
    "snowflake": {  # DATE_TRUNC('WEEK') would follow the session's WEEK_START
        "week": "DATEADD(DAY, 1 - DAYOFWEEKISO(__x), CAST(__x AS DATE))",
    },
    "tsql": {
        "day": "CAST(__x AS DATE)",
        "week": "CAST(DATEADD(DAY, (DATEDIFF(DAY, 0, __x) / 7) * 7, 0) AS DATE)",
        "month": "DATEFROMPARTS(YEAR(__x), MONTH(__x), 1)",
        "quarter": "DATEFROMPARTS(YEAR(__x), (DATEPART(QUARTER, __x) - 1) * 3 + 1, 1)",
        "year": "DATEFROMPARTS(YEAR(__x), 1, 1)",
    },
    "oracle": {
        "day": "TRUNC(__x, 'DD')",
        "week": "TRUNC(__x, 'IW')",
        "month": "TRUNC(__x, 'MM')",
        "quarter": "TRUNC(__x, 'Q')",
        "year": "TRUNC(__x, 'YYYY')",
    },
}

# Adding n periods to a DATE (only ever a period start, so month ends never overflow).
_ADD: dict[str, dict[str, str]] = {
    "sqlite": {
        "day": "DATE(__x, '+' || __n || ' days')",
        "month": "DATE(__x, '+' || __n || ' months')",
    },
    "oracle": {
        "day": "__x + __n",
        "month": "ADD_MONTHS(__x, __n)",
    },
    # ClickHouse's Date wraps around silently past 2149: a spine of 10,000 months would
    # come back with dates from 1970. Date32 does not wrap.
    "clickhouse": {
        "day": "addDays(toDate32(__x), __n)",
        "month": "addMonths(toDate32(__x), __n)",
    },
    # DataFusion cannot multiply an interval by a number; it casts text to intervals.
    "datafusion": {
        "day": "__x + CAST(CONCAT(CAST(__n AS VARCHAR), ' days') AS INTERVAL)",
        "month": "__x + CAST(CONCAT(CAST(__n AS VARCHAR), ' months') AS INTERVAL)",
    },
}

_STEP = {"day": ("day", 1), "week": ("day", 7), "month": ("month", 1),
         "quarter": ("month", 3), "year": ("month", 12)}


def dialect_name(dialect: str) -> str:
    """The canonical kpispec name of ``dialect`` (``postgresql`` → ``postgres``)."""
    name = dialect.lower()
    return _ALIASES.get(name, name)


def sqlglot_dialect(dialect: str) -> str:
    """The sqlglot dialect that parses and renders kpispec's ``dialect``.

    >>> sqlglot_dialect("datafusion"), sqlglot_dialect("snowflake")
    ('postgres', 'snowflake')
    """
    return _RENDERED_AS.get(dialect, dialect)


@cache
def _template(dialect: str, text: str) -> exp.Expr:
    return sqlglot.parse_one(text, read=sqlglot_dialect(dialect))


def _fill(dialect: str, text: str, **values: exp.Expr) -> exp.Expr:
    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name.startswith("__"):
            value = values[node.name[2:]].copy()
            # Operator precedence differs between dialects (SQLite's || binds tighter
            # than *): an operator expression always goes in parentheses.
            return exp.paren(value) if isinstance(value, (exp.Binary, exp.Unary)) else value
        return node

    return _template(dialect, text).copy().transform(swap, copy=False)


def truncate(value: exp.Expr, grain: str, dialect: str) -> exp.Expr:
    """The first day (a DATE) of the ``grain`` period holding ``value``; weeks start Monday.

    >>> truncate(exp.column("closed_at"), "month", "duckdb").sql("duckdb")
    "CAST(DATE_TRUNC('MONTH', closed_at) AS DATE)"
    """
    template = _TRUNCATE.get(dialect, {}).get(grain)
    if template is not None:
        return _fill(dialect, template, x=value)
    unit = exp.Literal.string(grain.upper())
    trunc = exp.DateTrunc(this=value, unit=unit)  # type: ignore[no-untyped-call]
    return exp.cast(trunc, exp.DataType.Type.DATE)


def add_periods(start: exp.Expr, count: exp.Expr, grain: str,
                dialect: str) -> exp.Expr:
    """``start`` (a period's first day) moved ``count`` periods later, as a DATE."""
    unit, step = _STEP[grain]
    n = count if step == 1 else exp.Mul(this=count, expression=exp.Literal.number(step))
    templates = _ADD.get(dialect)
    if templates is not None:
        return _fill(dialect, templates[unit], x=start, n=n)
    added = exp.DateAdd(this=start, expression=n, unit=exp.var(unit.upper()))
    return exp.cast(added, exp.DataType.Type.DATE)


_ADD_DAYS = {  # to a timestamp, keeping its time of day
    "sqlite": "DATETIME(__x, '+' || __n || ' days')",
    "bigquery": "DATETIME_ADD(__x, INTERVAL __n DAY)",
    "oracle": "__x + NUMTODSINTERVAL(__n, 'DAY')",
    "datafusion": "__x + CAST(CONCAT(CAST(__n AS VARCHAR), ' days') AS INTERVAL)",
}


def add_days(timestamp: exp.Expr, days: exp.Expr, dialect: str) -> exp.Expr:
    """``timestamp`` plus ``days`` days, still a timestamp (time of day kept)."""
    template = _ADD_DAYS.get(dialect)
    if template is not None:
        return _fill(dialect, template, x=timestamp, n=days)
    if dialect in ("spark", "databricks"):  # DATE_ADD would return a DATE there
        return exp.Anonymous(this="TIMESTAMPADD", expressions=[exp.var("DAY"), days, timestamp])
    return exp.DateAdd(this=timestamp, expression=days, unit=exp.var("DAY"))


def date_literal(value: dt.date, dialect: str) -> exp.Expr:
    """A DATE constant, spelled so no session setting can change its meaning."""
    text = exp.Literal.string(value.isoformat())
    if dialect == "sqlite":
        return text  # SQLite keeps dates as ISO text
    if dialect == "oracle":  # CAST('…' AS DATE) would depend on NLS_DATE_FORMAT
        return _fill(dialect, "TO_DATE(__x, 'YYYY-MM-DD')", x=text)
    return exp.cast(text, exp.DataType.Type.DATE)


def timestamp_literal(value: dt.date, dialect: str) -> exp.Expr:
    """A bound compared with a (naive, UTC) timestamp column: midnight of ``value``.

    SQLite compares ISO text, so a date-only string is right whether the column
    holds dates or date-times; BigQuery coerces an untyped string to the column's
    own type (DATETIME or TIMESTAMP); Oracle gets an explicit format.
    """
    if dialect in ("sqlite", "bigquery"):
        return exp.Literal.string(value.isoformat() if dialect == "sqlite"
                                  else f"{value.isoformat()} 00:00:00")
    text = exp.Literal.string(f"{value.isoformat()} 00:00:00")
    if dialect == "oracle":
        return _fill(dialect, "TO_TIMESTAMP(__x, 'YYYY-MM-DD HH24:MI:SS')", x=text)
    return exp.cast(text, exp.DataType.Type.TIMESTAMP)


def instant(day: exp.Expr, dialect: str) -> exp.Expr:
    """The first moment of a DATE, comparable with the (naive) timestamp columns.

    SQLite compares text: DATETIME('2024-03-01') is '2024-03-01 00:00:00', which orders
    correctly against both date-time and date-only text.
    """
    if dialect == "sqlite":
        return exp.func("DATETIME", day)
    if dialect == "bigquery":
        return exp.cast(day, exp.DataType.Type.DATETIME)
    return exp.cast(day, exp.DataType.Type.TIMESTAMP)


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


def portable(tree: exp.Expr, dialect: str) -> exp.Expr:
    """Rewrite constructs of the user's snippets whose sqlglot spelling is wrong in ``dialect``."""
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
        seconds = _fill(dialect, template, a=earlier, b=later)
        return exp.paren(seconds) if isinstance(seconds, exp.Binary) else seconds

    return tree.transform(fix, copy=False)


def query_settings(select: exp.Select, dialect: str) -> exp.Select:
    """Session-independent semantics the whole query relies on.

    ClickHouse fills unmatched LEFT JOIN columns with type defaults (0, '')
    unless ``join_use_nulls`` is on; the spine and dimension joins need NULLs.
    """
    if dialect == "clickhouse":
        select.set("settings", [exp.EQ(this=exp.column("join_use_nulls"),
                                       expression=exp.Literal.number(1))])
    return select


def null_safe_eq(left: exp.Expr, right: exp.Expr, dialect: str) -> exp.Expr:
    """``left`` equals ``right``, where two NULLs are equal."""
    if dialect in ("tsql", "oracle"):
        both_null = exp.and_(exp.Is(this=left.copy(), expression=exp.Null()),
                             exp.Is(this=right.copy(), expression=exp.Null()))
        return exp.paren(exp.or_(exp.EQ(this=left, expression=right), both_null))
    return exp.NullSafeEQ(this=left, expression=right)


def select_constant(value: exp.Expr, alias: str, dialect: str) -> exp.Select:
    """``SELECT value AS alias`` with the FROM clause the dialect needs for that."""
    select = exp.select(exp.alias_(value, alias))
    if dialect == "oracle":
        select = select.from_("DUAL")
    return select
