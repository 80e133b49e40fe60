"""Options several ``kpispec`` commands share: the project, template variables, the query.

Every command that reads a project takes it as ``-p/--project PATH`` (default: the
current directory); ``validate`` and ``list`` also take it as a positional ``PATH``,
the older form. Metric arguments and ``--by`` complete names from that project
(see :mod:`kpispec._completion`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from kpispec._completion import complete_dimensions, complete_metrics

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["GRAINS", "metrics_argument", "path_argument", "path_option", "project_path",
           "query_options", "var_option"]

GRAINS = ("day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

path_option = click.option("--project", "-p", "path", default=".", show_default=True,
                           type=click.Path(), help="Project directory or spec file.")
#: The older positional form of ``-p`` (``kpispec validate specs/``); ``-p`` wins the help.
path_argument = click.argument("path_arg", required=False, metavar="[PATH]", type=click.Path())
var_option = click.option("--var", "variables", multiple=True, metavar="NAME=VALUE",
                          help="Set a template variable (repeatable; overrides kpispec.yaml).")
metrics_argument = click.argument("metrics", nargs=-1, shell_complete=complete_metrics)


def project_path(option: str, positional: str | None) -> str:
    """The project a command reads: ``-p PATH`` or the positional ``PATH``, not two different ones.

    >>> project_path(".", "specs"), project_path("specs", None), project_path("specs", "specs")
    ('specs', 'specs', 'specs')
    """
    if positional is None or positional == option:
        return option
    if option != ".":
        raise click.UsageError(f"the project is given twice: -p {option} and {positional}; "
                               "give it once, as -p PATH")
    return positional


def query_options(fn: F) -> F:
    """The query options of ``compile`` and ``run`` (the names of the Python API's keywords)."""
    options = [
        click.option("--by", "by", multiple=True, metavar="DIM", shell_complete=complete_dimensions,
                     help="Group by a dimension (repeatable; joined ones as model.dim; "
                          "'kpispec dimensions METRIC' lists them)."),
        click.option("--grain", type=click.Choice(GRAINS),
                     help="Period grain (default: the metrics' grain, else month)."),
        click.option("--from", "start", metavar="DATE",
                     help="First day, inclusive: YYYY-MM-DD, or relative: today, '-12 months', "
                          "start_of_quarter, 'start_of_month -1 month'."),
        click.option("--to", "end", metavar="DATE",
                     help="Last day, exclusive (same forms as --from)."),
        click.option("--as-of", "as_of", metavar="DATE",
                     help="The day relative --from/--to count from (default: today in the "
                          "query's time zone)."),
        click.option("--partial", type=click.Choice(["keep", "drop"]), default="keep",
                     show_default=True,
                     help="Periods the range covers only in part: keep them (and say so) or "
                          "drop them."),
        click.option("--where", metavar="EXPR",
                     help="A filter over dimensions and columns, in the project dialect."),
        click.option("--compare", type=click.Choice(["previous_period", "same_period_last_year"]),
                     help="Add <metric>__compare, __change and __change_pct against this period."),
        click.option("--baseline", metavar="START:END",
                     help="Compare every period with the value over this range instead."),
        click.option("--targets", is_flag=True,
                     help="Add <metric>__target and <metric>__attainment for metrics with targets."),
        click.option("--week-start", "week_start", type=click.Choice(_WEEKDAYS),
                     help="First day of a week (default: the project's week_start)."),
        click.option("--fiscal-year-start-month", "fiscal_year_start_month",
                     type=click.IntRange(1, 12), metavar="1-12",
                     help="Month fiscal years start in (default: the project's)."),
        click.option("--fiscal-year-label", "fiscal_year_label", type=click.Choice(["end", "start"]),
                     help="Name fiscal years by the year they end (default) or start in."),
        click.option("--timezone", metavar="ZONE",
                     help="IANA time zone periods are read in (default: the project's, else UTC)."),
        var_option,
        path_option,
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn
