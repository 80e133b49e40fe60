"""kpispec's own sqlglot expression nodes, and the dialect-free builders that use them.

The tree builder writes what a query means with these nodes — the first day of a
period, a DATE moved by periods, a naive UTC timestamp as local time, a fiscal
period's name, an exact percentile — and never how a dialect spells it. Each
dialect's class (:mod:`kpispec.compile.dialects`) spells them: its Generator
renders them directly, and :meth:`~kpispec.compile.dialects.Spelling.lower`
turns a whole tree into standard sqlglot nodes (what ``modify_query`` plugins
receive).

The builders below hold the composition that is the same for every dialect
(a week starting on Sunday is a Monday week moved back and forth again); the
dates themselves come from :mod:`kpispec.calendar`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import TYPE_CHECKING, ClassVar

from sqlglot import exp

if TYPE_CHECKING:
    from kpispec.calendar import Calendar

__all__ = [
    "NODES", "AddMonthsClamped", "AddPeriods", "AddSeconds", "DateLiteral", "DatePart", "Instant",
    "LabelConcat", "Node", "NullSafeEq", "Percentile", "TimestampLiteral", "ToLocal", "Truncate",
    "add_periods", "constant_row", "date_literal", "fiscal_label", "is_constant_row", "offsets_case", "period_of",
    "timestamp_literal", "to_local",
]


class Node(exp.Expression, exp.Func):
    """A kpispec node: a meaning each dialect's class spells."""


class Truncate(Node):
    """The first day (a DATE) of the ``grain`` period (day … year) holding ``this``; weeks
    start on Monday."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "grain": True}


class AddPeriods(Node):
    """The DATE ``this`` (a period's first day) plus ``expression`` ``unit`` s (day or month)."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True, "unit": True}


class AddMonthsClamped(Node):
    """The DATE ``this`` plus ``expression`` months, clamped to the month's last day."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True}


class AddSeconds(Node):
    """The timestamp ``this`` plus ``expression`` seconds."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True}


class DateLiteral(Node):
    """A DATE constant (``this``: its ISO text), whatever the session's settings."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True}


class TimestampLiteral(Node):
    """A naive timestamp constant (``this``: ``YYYY-MM-DD HH:MM:SS``; ``date``: the ISO day
    when it is midnight)."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "date": False}


class Instant(Node):
    """The first moment of the DATE ``this``, comparable with naive timestamp columns."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True}


class ToLocal(Node):
    """The naive UTC timestamp ``this`` as wall-clock time in the zone ``zone``; ``first``
    and ``last`` (ISO dates, or absent: unbounded) are where the zone's offsets must be
    exact, for engines without a zone database (:func:`offsets_case`)."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "zone": True, "first": False,
                                            "last": False}

    def span(self) -> tuple[dt.date, dt.date] | None:
        first, last = self.args.get("first"), self.args.get("last")
        if first is None or last is None:
            return None
        return dt.date.fromisoformat(first.name), dt.date.fromisoformat(last.name)


class DatePart(Node):
    """The ``part`` (``YEAR`` or ``MONTH``) of the DATE ``this``, a number."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "part": True}


class LabelConcat(Node):
    """The text ``this`` || ``expression`` (a year, as text) || ``suffix``."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True, "suffix": True}


class Percentile(Node):
    """The exact, linearly interpolated percentile ``expression`` of ``this``, an aggregate."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True}


class NullSafeEq(Node):
    """``this`` equals ``expression``, where two NULLs are equal."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True}


#: Every kpispec node class (each dialect's Generator spells them all).
NODES: tuple[type[Node], ...] = (Truncate, AddPeriods, AddMonthsClamped, AddSeconds, DateLiteral,
                                 TimestampLiteral, Instant, ToLocal, DatePart, LabelConcat,
                                 Percentile, NullSafeEq)

_CONSTANT_ROW = "kpispec_constant_row"
_STEP = {"day": ("day", 1), "week": ("day", 7), "month": ("month", 1),
         "quarter": ("month", 3), "year": ("month", 12),
         "fiscal_quarter": ("month", 3), "fiscal_year": ("month", 12)}


def constant_row(value: exp.Expr, alias: str) -> exp.Select:
    """``SELECT value AS alias``: a row of constants (a dialect may need a FROM for it)."""
    select = exp.select(exp.alias_(value, alias))
    select.meta[_CONSTANT_ROW] = True
    return select


def is_constant_row(node: exp.Expr) -> bool:
    """True for a SELECT :func:`constant_row` made."""
    return isinstance(node, exp.Select) and bool(node.meta.get(_CONSTANT_ROW))


def add_periods(start: exp.Expr, count: exp.Expr, grain: str) -> AddPeriods:
    """``start`` (a period's first day) moved ``count`` ``grain`` periods later, as a DATE."""
    unit, step = _STEP[grain]
    n = count if step == 1 else exp.Mul(this=count, expression=exp.Literal.number(step))
    return AddPeriods(this=start, expression=n, unit=unit)


def date_literal(value: dt.date) -> DateLiteral:
    return DateLiteral(this=exp.Literal.string(value.isoformat()))


def timestamp_literal(value: dt.date) -> TimestampLiteral:
    """Midnight of ``value``, or ``value`` itself when it is a datetime."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    stamp = exp.Literal.string(moment.strftime("%Y-%m-%d %H:%M:%S"))
    if moment.time() == dt.time():
        return TimestampLiteral(this=stamp, date=exp.Literal.string(moment.date().isoformat()))
    return TimestampLiteral(this=stamp)


def period_of(value: exp.Expr, grain: str, calendar: Calendar) -> exp.Expr:
    """The first day (a DATE) of the ``grain`` period of ``calendar`` holding ``value``.

    Weeks starting on another day than Monday are Monday weeks of the day moved back
    by the offset, moved forward again; fiscal quarters and years are calendar ones
    of the month moved back by the fiscal year's start, moved forward again.
    """
    if grain == "week" and calendar.week_offset:
        k = calendar.week_offset
        day = Truncate(this=value, grain="day")
        monday = Truncate(this=add_periods(day, exp.Literal.number(-k), "day"), grain="week")
        return add_periods(monday, exp.Literal.number(k), "day")
    if grain in ("fiscal_quarter", "fiscal_year"):
        plain = "quarter" if grain == "fiscal_quarter" else "year"
        shift = calendar.anchor(grain)
        if not shift:
            return Truncate(this=value, grain=plain)
        month = Truncate(this=value, grain="month")
        back = add_periods(month, exp.Literal.number(-shift), "month")
        return add_periods(Truncate(this=back, grain=plain), exp.Literal.number(shift), "month")
    return Truncate(this=value, grain=grain)


def fiscal_label(period: exp.Expr, grain: str, calendar: Calendar) -> exp.Expr:
    """``FY2025 Q1`` / ``FY2025`` for the fiscal period starting on the DATE ``period``.

    The same names :meth:`kpispec.calendar.Calendar.label` gives.
    """
    start = calendar.fiscal_year_start_month
    year = DatePart(this=period.copy(), part="YEAR")
    month = DatePart(this=period.copy(), part="MONTH")
    later = list(range(start, 13)) if start != 1 else []
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
    return LabelConcat(this=exp.Literal.string("FY"), expression=fy, suffix=suffix)


def to_local(value: exp.Expr, calendar: Calendar,
             span: tuple[dt.date, dt.date] | None = None) -> exp.Expr:
    """The naive UTC timestamp ``value`` as wall-clock time in the calendar's zone
    (``span``: the dates the query's periods can reach; None: unbounded)."""
    if calendar.is_utc:
        return value
    assert calendar.timezone is not None
    first, last = (exp.Literal.string(day.isoformat()) for day in span) if span else (None, None)
    return ToLocal(this=value, zone=exp.Literal.string(calendar.timezone), first=first, last=last)


def offsets_case(value: exp.Expr, offsets: tuple[tuple[dt.datetime, int], ...]) -> exp.Expr:
    """``value`` moved by a zone's UTC ``offsets`` (:meth:`kpispec.calendar.Calendar.offsets`):
    one CASE over the instants the offset changes, for engines without a zone database."""

    def shifted(seconds: int) -> exp.Expr:
        if not seconds:
            return value.copy()
        return AddSeconds(this=value.copy(), expression=exp.Literal.number(seconds))

    if len(offsets) == 1:
        return shifted(offsets[0][1])
    ifs = [exp.If(this=exp.LT(this=value.copy(), expression=timestamp_literal(at)),
                  true=shifted(before))
           for (_, before), (at, _) in itertools.pairwise(offsets)]
    return exp.Case(ifs=ifs, default=shifted(offsets[-1][1]))
