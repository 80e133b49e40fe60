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
import itertools
from typing import TYPE_CHECKING

from sqlglot import exp

from kpispec._dialect_names import DIALECTS, dialect_name, sqlglot_dialect
from kpispec.compile._templates import fill
from kpispec.compile.snippet_functions import snippet_functions

if TYPE_CHECKING:
    from kpispec.calendar import Calendar

__all__ = [
    "DIALECTS",
    "add_days",
    "add_months_clamped",
    "add_periods",
    "date_literal",
    "dialect_name",
    "fiscal_label",
    "instant",
    "null_safe_eq",
    "period_of",
    "portable",
    "query_settings",
    "select_constant",
    "sqlglot_dialect",
    "timestamp_literal",
    "to_local",
    "truncate",
]


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
    "sqlite": {  # a modifier's sign is optional: '3 days' and '-3 days' both work
        "day": "DATE(__x, __n || ' days')",
        "month": "DATE(__x, __n || ' months')",
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
         "quarter": ("month", 3), "year": ("month", 12),
         "fiscal_quarter": ("month", 3), "fiscal_year": ("month", 12)}


def truncate(value: exp.Expr, grain: str, dialect: str) -> exp.Expr:
    """The first day (a DATE) of the ``grain`` period holding ``value``; weeks start Monday.

    >>> truncate(exp.column("closed_at"), "month", "duckdb").sql("duckdb")
    "CAST(DATE_TRUNC('MONTH', closed_at) AS DATE)"
    """
    template = _TRUNCATE.get(dialect, {}).get(grain)
    if template is not None:
        return fill(dialect, template, x=value)
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
        return fill(dialect, templates[unit], x=start, n=n)
    added = exp.DateAdd(this=start, expression=n, unit=exp.var(unit.upper()))
    return exp.cast(added, exp.DataType.Type.DATE)


_ADD_DAYS = {  # to a timestamp, keeping its time of day
    "sqlite": "DATETIME(__x, __n || ' days')",
    "bigquery": "DATETIME_ADD(__x, INTERVAL __n DAY)",
    "oracle": "__x + NUMTODSINTERVAL(__n, 'DAY')",
    "datafusion": "__x + CAST(CONCAT(CAST(__n AS VARCHAR), ' days') AS INTERVAL)",
}


def add_days(timestamp: exp.Expr, days: exp.Expr, dialect: str) -> exp.Expr:
    """``timestamp`` plus ``days`` days, still a timestamp (time of day kept)."""
    template = _ADD_DAYS.get(dialect)
    if template is not None:
        return fill(dialect, template, x=timestamp, n=days)
    if dialect in ("spark", "databricks"):  # DATE_ADD would return a DATE there
        return exp.Anonymous(this="TIMESTAMPADD", expressions=[exp.var("DAY"), days, timestamp])
    return exp.DateAdd(this=timestamp, expression=days, unit=exp.var("DAY"))


def date_literal(value: dt.date, dialect: str) -> exp.Expr:
    """A DATE constant, spelled so no session setting can change its meaning."""
    text = exp.Literal.string(value.isoformat())
    if dialect == "sqlite":
        return text  # SQLite keeps dates as ISO text
    if dialect == "oracle":  # CAST('…' AS DATE) would depend on NLS_DATE_FORMAT
        return fill(dialect, "TO_DATE(__x, 'YYYY-MM-DD')", x=text)
    return exp.cast(text, exp.DataType.Type.DATE)


def timestamp_literal(value: dt.date, dialect: str) -> exp.Expr:
    """A bound compared with a (naive, UTC) timestamp column: midnight of ``value``, or
    ``value`` itself when it is a datetime.

    SQLite compares ISO text, so a date-only string is right whether the column
    holds dates or date-times; BigQuery coerces an untyped string to the column's
    own type (DATETIME or TIMESTAMP); Oracle gets an explicit format.
    """
    moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S")
    if dialect in ("sqlite", "bigquery"):
        if dialect == "sqlite" and moment.time() == dt.time():
            return exp.Literal.string(moment.date().isoformat())
        return exp.Literal.string(stamp)
    text = exp.Literal.string(stamp)
    if dialect == "oracle":
        return fill(dialect, "TO_TIMESTAMP(__x, 'YYYY-MM-DD HH24:MI:SS')", x=text)
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


def portable(tree: exp.Expr, dialect: str) -> exp.Expr:
    """Rewrite constructs of the user's snippets whose sqlglot spelling is wrong in ``dialect``."""
    return snippet_functions(tree, dialect)


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


# -- calendars: week start, fiscal years, time zones ----------------------------------


def period_of(value: exp.Expr, grain: str, calendar: Calendar, dialect: str) -> exp.Expr:
    """The first day (a DATE) of the ``grain`` period of ``calendar`` holding ``value``.

    Weeks starting on another day than Monday are Monday weeks of the day moved back
    by the offset, moved forward again; fiscal quarters and years are calendar ones
    of the month moved back by the fiscal year's start, moved forward again. Both
    use only the Monday week / quarter / year truncation and date arithmetic every
    dialect has.
    """
    if grain == "week" and calendar.week_offset:
        k = calendar.week_offset
        day = truncate(value, "day", dialect)
        monday = truncate(add_periods(day, exp.Literal.number(-k), "day", dialect), "week", dialect)
        return add_periods(monday, exp.Literal.number(k), "day", dialect)
    if grain in ("fiscal_quarter", "fiscal_year"):
        plain = "quarter" if grain == "fiscal_quarter" else "year"
        shift = calendar.anchor(grain)
        if not shift:
            return truncate(value, plain, dialect)
        month = truncate(value, "month", dialect)
        back = add_periods(month, exp.Literal.number(-shift), "month", dialect)
        return add_periods(truncate(back, plain, dialect), exp.Literal.number(shift), "month", dialect)
    return truncate(value, grain, dialect)


def _extract(value: exp.Expr, part: str, dialect: str) -> exp.Expr:
    if dialect == "sqlite":
        fmt = {"YEAR": "%Y", "MONTH": "%m"}[part]
        return exp.cast(exp.func("STRFTIME", exp.Literal.string(fmt), value), exp.DataType.Type.INT)
    return exp.Extract(this=exp.var(part), expression=value)


def fiscal_label(period: exp.Expr, grain: str, calendar: Calendar, dialect: str) -> exp.Expr:
    """``FY2025 Q1`` / ``FY2025`` for the fiscal period starting on the DATE ``period``.

    The same names :meth:`kpispec.calendar.Calendar.label` gives.
    """
    start = calendar.fiscal_year_start_month
    year = _extract(period.copy(), "YEAR", dialect)
    month = _extract(period.copy(), "MONTH", dialect)
    later = [m for m in range(start, 13)] if start != 1 else []
    fy: exp.Expr = year
    if later and calendar.fiscal_year_label == "end":  # months from the start on end next year
        bump = exp.If(this=exp.In(this=month.copy(), expressions=[exp.Literal.number(m) for m in later]),
                      true=exp.Literal.number(1))
        fy = exp.Add(this=year, expression=exp.Case(ifs=[bump], default=exp.Literal.number(0)))
    elif start != 1:  # label by start year: months before the start belong to last year's
        earlier = [exp.Literal.number(m) for m in range(1, start)]
        back = exp.If(this=exp.In(this=month.copy(), expressions=earlier), true=exp.Literal.number(1))
        fy = exp.Sub(this=year, expression=exp.Case(ifs=[back], default=exp.Literal.number(0)))
    suffix: exp.Expr = exp.Literal.string("")
    if grain == "fiscal_quarter":
        ifs = []
        for q in range(4):
            months = [(start - 1 + 3 * q + i) % 12 + 1 for i in range(3)]
            ifs.append(exp.If(this=exp.In(this=month.copy(),
                                          expressions=[exp.Literal.number(m) for m in months]),
                              true=exp.Literal.string(f" Q{q + 1}")))
        suffix = exp.Case(ifs=ifs)
    text = _CONCAT.get(dialect, "CONCAT(__a, CAST(__b AS VARCHAR), __c)")
    return fill(dialect, text, a=exp.Literal.string("FY"), b=fy, c=suffix)


_CONCAT = {  # 'FY' || year (as text) || quarter, per dialect
    "oracle": "__a || TO_CHAR(__b) || __c",
    "clickhouse": "concat(__a, toString(__b), __c)",
    "tsql": "CONCAT(__a, CAST(__b AS VARCHAR(4)), __c)",
    "mysql": "CONCAT(__a, CAST(__b AS CHAR), __c)",
    "sqlite": "__a || CAST(__b AS TEXT) || __c",
    "bigquery": "CONCAT(__a, CAST(__b AS STRING), __c)",
    "spark": "CONCAT(__a, CAST(__b AS STRING), __c)",
    "databricks": "CONCAT(__a, CAST(__b AS STRING), __c)",
}

#: Wall-clock time in a zone of a naive UTC timestamp, where the engine has a zone database
#: it can be trusted to have (MySQL's needs tables loaded by hand; T-SQL wants Windows names).
_TO_LOCAL = {
    "duckdb": "(__x AT TIME ZONE 'UTC') AT TIME ZONE __z",
    "postgres": "(__x AT TIME ZONE 'UTC') AT TIME ZONE __z",
    "snowflake": "CONVERT_TIMEZONE('UTC', __z, __x)",
    "redshift": "CONVERT_TIMEZONE('UTC', __z, __x)",
    "bigquery": "DATETIME(TIMESTAMP(__x), __z)",
    "spark": "FROM_UTC_TIMESTAMP(__x, __z)",
    "databricks": "FROM_UTC_TIMESTAMP(__x, __z)",
    "trino": "CAST(AT_TIMEZONE(WITH_TIMEZONE(__x, 'UTC'), __z) AS TIMESTAMP)",
    "oracle": "CAST(FROM_TZ(CAST(__x AS TIMESTAMP), 'UTC') AT TIME ZONE __z AS TIMESTAMP)",
    # The instant moved by the zone's offset at that instant: its UTC reading is local time.
    "clickhouse": "addSeconds(__x, timeZoneOffset(toTimeZone(__x, __z)))",
}

_ADD_SECONDS = {
    "sqlite": "DATETIME(__x, __n || ' seconds')",
    "mysql": "DATE_ADD(__x, INTERVAL __n SECOND)",
    "tsql": "DATEADD(SECOND, __n, __x)",
    "datafusion": "__x + CAST(CONCAT(CAST(__n AS VARCHAR), ' seconds') AS INTERVAL)",
}


def to_local(value: exp.Expr, calendar: Calendar, dialect: str,
             span: tuple[dt.date, dt.date] | None = None) -> exp.Expr:
    """The naive UTC timestamp ``value`` as wall-clock time in the calendar's zone.

    Engines with a dependable zone database use it. The others (SQLite, MySQL/MariaDB,
    SQL Server, DataFusion) get the zone's offsets spelled out from Python's zone
    database as one CASE over the instants the offset changes — exact over ``span``
    (the dates the query's periods can reach), the nearest offset outside it.
    """
    if calendar.is_utc:
        return value
    assert calendar.timezone is not None
    template = _TO_LOCAL.get(dialect)
    if template is not None:
        return fill(dialect, template, x=value, z=exp.Literal.string(calendar.timezone))
    offsets = calendar.offsets(*span) if span else calendar.offsets()
    add = _ADD_SECONDS.get(dialect)

    def shifted(seconds: int) -> exp.Expr:
        if not seconds:
            return value.copy()
        n = exp.Literal.number(seconds)
        if add is not None:
            return fill(dialect, add, x=value, n=n)
        return exp.DateAdd(this=value.copy(), expression=n, unit=exp.var("SECOND"))

    if len(offsets) == 1:
        return shifted(offsets[0][1])
    ifs = [exp.If(this=exp.LT(this=value.copy(), expression=timestamp_literal(at, dialect)),
                  true=shifted(before))
           for (_, before), (at, _) in itertools.pairwise(offsets)]
    return exp.Case(ifs=ifs, default=shifted(offsets[-1][1]))


def add_months_clamped(day: exp.Expr, months: int, dialect: str) -> exp.Expr:
    """A DATE ``months`` later (earlier when negative), clamped to the month's last day.

    For days that are not a month's first: SQLite's date modifier would overflow into
    the next month (03-31 minus a month is 03-02) and Oracle's ADD_MONTHS keeps a
    month's last day last (02-29 plus a month is 03-31); every other engine clamps.
    """
    n = exp.Literal.number(months)
    if dialect == "sqlite":
        return fill(dialect, "MIN(DATE(__x, 'start of month', __n || ' months', "
                             "(CAST(STRFTIME('%d', __x) AS INTEGER) - 1) || ' days'), "
                             "DATE(__x, 'start of month', (__n + 1) || ' months', '-1 days'))",
                    x=day, n=n)
    if dialect == "oracle":
        return fill(dialect, "LEAST(ADD_MONTHS(TRUNC(__x, 'MM'), __n) + (EXTRACT(DAY FROM __x) - 1), "
                             "LAST_DAY(ADD_MONTHS(TRUNC(__x, 'MM'), __n)))", x=day, n=n)
    return add_periods(day, n, "month", dialect)
