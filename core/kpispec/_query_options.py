"""Query options: checked and turned into the :class:`~kpispec.compile.Query` the compiler takes.

Metric names, the grain (a metric's own, else month), the calendar (the project's,
overridden per query), ``--from``/``--to`` (dates or relative forms counted from
``--as-of``), ``--partial``, comparisons and baselines, and ``--where`` (parsed in the
project's dialect). The same options, by the same names, reach this from the Python
API (:meth:`kpispec.Project.query`, ``compile``, ``run``), the CLI and the test runner.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kpispec.compile import CompiledQuery, Query, compile_query
from kpispec.errors import Location, QueryError
from kpispec.spec.schema import suggest
from kpispec.spec.snippets import parse_snippet

if TYPE_CHECKING:
    from kpispec.project import Project

__all__ = ["build_query", "compile_metrics"]


def build_query(project: Project, metrics: Sequence[str], *, by: Sequence[str] = (),
                grain: str | None = None, start: str | dt.date | None = None,
                end: str | dt.date | None = None, where: str | None = None,
                week_start: str | None = None, fiscal_year_start_month: int | None = None,
                fiscal_year_label: str | None = None, timezone: str | None = None,
                compare: str | None = None,
                baseline: str | tuple[str | dt.date, str | dt.date] | None = None,
                targets: bool = False, partial: str = "keep",
                as_of: str | dt.date | None = None) -> Query:
    """Check and normalise query options into a :class:`Query` (:meth:`kpispec.Project.query`).

    Args:
        start, end: ``--from`` (inclusive) and ``--to`` (exclusive): dates, or relative
            forms counted from ``as_of`` (default: today in the query's time zone) —
            ``-12 months``, ``start_of_quarter``, ``start_of_month -1 month``.
        week_start, fiscal_year_start_month, fiscal_year_label, timezone: override the
            project's calendar for this query.
        compare: ``previous_period``, ``same_period_last_year`` or ``baseline``
            (implied by ``baseline``, a range ``START:END``).
        targets: add ``<metric>__target`` and ``<metric>__attainment``.
        partial: ``keep`` periods the range covers only in part (they are reported), or
            ``drop`` them: the range shrinks to whole periods.
    """
    names = tuple(metrics)
    if not names:
        raise QueryError("name at least one metric (or use --all)")
    for name in names:
        if name not in project.metrics:
            from kpispec.errors import UnknownMetricError

            raise UnknownMetricError(f"unknown metric {name!r}",
                                     hint=suggest(name, project.metrics) or
                                     "Run 'kpispec list' to see the metrics")
    if len(set(names)) != len(names):
        raise QueryError("a metric is named twice")
    if grain is None:
        grains = {g for n in names if (g := project.metrics[n].grain) is not None}
        grain = grains.pop() if len(grains) == 1 else "month"
    from kpispec.calendar import GRAINS, Calendar, parse_relative_date

    if grain not in GRAINS:
        raise QueryError(f"unknown grain {grain!r}", hint=suggest(grain, GRAINS) or
                         f"Choose one of {', '.join(GRAINS)}")
    settings = project.settings
    calendar = Calendar(
        week_start=(week_start or settings.week_start).lower(),
        fiscal_year_start_month=int(settings.fiscal_year_start_month
                                    if fiscal_year_start_month is None else fiscal_year_start_month),
        fiscal_year_label=fiscal_year_label or settings.fiscal_year_label,
        timezone=timezone if timezone is not None else settings.timezone)
    today = _date(as_of, "--as-of") or calendar.today()

    def when(value: str | dt.date | None, option: str) -> dt.date | None:
        if value is None or isinstance(value, dt.date):
            return value
        return parse_relative_date(value, option, calendar, today)

    first, last = when(start, "--from"), when(end, "--to")
    if partial not in ("keep", "drop"):
        raise QueryError(f"--partial {partial!r}: choose keep or drop")
    if partial == "drop":
        if first is not None and calendar.period_start(first, grain) != first:
            first = calendar.add(calendar.period_start(first, grain), 1, grain)
        if last is not None:
            last = calendar.period_start(last, grain)
        if first is not None and last is not None and first >= last:
            raise QueryError(f"--partial drop: no whole {grain} period lies between "
                             f"{start} and {end}")
    window = None
    if baseline is not None:
        if compare not in (None, "baseline"):
            raise QueryError(f"--baseline and --compare {compare} do not go together",
                             hint="A baseline is a comparison of its own: drop --compare")
        compare = "baseline"
        if isinstance(baseline, str):
            left, sep, right = baseline.partition(":")
            if not sep:
                raise QueryError(f"--baseline {baseline!r} is not START:END",
                                 hint="Write e.g. --baseline 2023-01-01:2024-01-01")
            pair: tuple[str | dt.date, str | dt.date] = (left, right)
        else:
            pair = baseline
        a, b = when(pair[0], "--baseline start"), when(pair[1], "--baseline end")
        assert a is not None and b is not None
        window = (a, b)
    elif compare == "baseline":
        raise QueryError("--compare baseline needs --baseline START:END")
    where_tree = None
    if where:
        where_tree = parse_snippet(where, project.settings.dialect, Location("--where"))
    return Query(names, tuple(by), grain, first, last, where_tree, calendar=calendar,
                 compare=compare, baseline=window, targets=targets)


def compile_metrics(project: Project, metrics: Sequence[str], *, dialect: str | None = None,
                    pretty: bool = True, **options: Any) -> CompiledQuery:
    """Compile metrics to SQL (:meth:`kpispec.Project.compile`); ``options`` are those of
    :meth:`~kpispec.Project.query`.

    >>> print(project.compile(["close_rate"], grain="quarter").sql)  # doctest: +SKIP
    """
    try:
        query = project.query(metrics, **options)
        return compile_query(project.models, project.metrics, query,
                             dialect or project.settings.dialect, pretty=pretty)
    except (OverflowError, ValueError) as exc:
        if not isinstance(exc, OverflowError) and "out of range" not in str(exc):
            raise
        # A range, --as-of or relative date at the ends of the calendar (year 1 or 9999),
        # moved past them by a time zone, a period start or a comparison.
        raise QueryError(f"a date of this query falls outside the years 1 to 9999 ({exc})",
                         hint="Query a range well inside the calendar") from None


def _date(value: str | dt.date | None, option: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{option} {value!r} is not a date", hint="Write YYYY-MM-DD") from None
