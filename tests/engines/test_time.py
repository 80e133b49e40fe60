"""Time as users mean it, on every engine, against an independent Python reference.

The project in ``specs_time/`` runs on a small deterministic dataset
(``time_reference.make_data``: deals and customer lifecycles, with timestamps at
and around local midnights starting months, DST changes and Feb 29). Each case
is one query; its rows are compared, row by row, with ``time_reference`` — its own
period, week, fiscal-year, time-zone, window, comparison and target logic over
zoneinfo and datetime, sharing no code with kpispec.

Every case runs on DuckDB and SQLite. PostgreSQL, MariaDB, chDB and DataFusion
run :data:`SUBSET`, a few combined queries that still cover a week start, a fiscal
grain, every time zone at month grain, every window, every comparison and targets;
Spark, where each query costs seconds, runs the smaller :data:`SPARK` set that
covers the same. Data is loaded once per engine per module; server schemas are
dropped afterwards. An engine is skipped only when its driver or server is missing
outside CI; in CI (CI set) that fails. Floats are compared with rel 1e-9.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import importlib.util
import io
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kpispec
import pytest

from tests.engines import time_reference as ref
from tests.engines.time_reference import Cal, D, Query

SPECS = Path(__file__).parent / "specs_time"

NY, KOLKATA, SYDNEY, WARSAW = ref.ZONES
WINDOWS = ("amount_90d", "deals_3m", "deals_cumulative", "amount_mtd", "deals_qtd", "amount_ytd",
           "deals_fytd")
PLAIN = ("deal_count", "deal_amount", "active_customers")


@dataclass(frozen=True)
class Case:
    """A query: ``q`` is what the reference computes; ``api`` replaces kpispec options
    (relative dates, ``as_of``, ``partial``) that must mean the same."""

    id: str
    q: Query
    api: tuple[tuple[str, Any], ...] = field(default=())

    def options(self) -> dict[str, Any]:
        return {**self.q.options(), **dict(self.api)}


def _cases() -> list[Case]:
    cases: list[Case] = []
    add = cases.append

    # -- week starts: a range with partial first and last weeks, Feb 29 and a DST change
    for day in ref.WEEKDAYS:
        add(Case(f"week_{day}", Query(PLAIN + ("amount_90d", "deals_3m"), "week",
                                      D(2024, 2, 15), D(2024, 4, 20), cal=Cal(week_start=day))))

    # -- fiscal grains: values and labels
    for fy in (1, 2, 4, 7):
        qtd = ("deals_qtd",) if fy in (1, 4, 7) else ()
        add(Case(f"fiscal_quarter_fy{fy}", Query(PLAIN + ("deals_fytd",) + qtd, "fiscal_quarter",
                                                 D(2023, 1, 1), D(2025, 7, 1), cal=Cal(fy_start=fy))))
        ytd = ("amount_ytd",) if fy == 1 else ()
        add(Case(f"fiscal_year_fy{fy}", Query(PLAIN + ("deals_fytd",) + ytd, "fiscal_year",
                                              D(2022, 10, 1), D(2025, 7, 1), cal=Cal(fy_start=fy))))
    for fy in (7, 1):
        for grain in ("fiscal_quarter", "fiscal_year"):
            add(Case(f"{grain}_fy{fy}_label_start",
                     Query(("deal_count", "deal_amount"), grain, D(2023, 1, 1), D(2025, 7, 1),
                           cal=Cal(fy_start=fy, fy_label="start"))))

    # -- time zones at day grain (across DST changes and month ends) and month grain
    days = {NY: [(D(2024, 2, 26), D(2024, 3, 14)), (D(2024, 10, 29), D(2024, 11, 6))],
            KOLKATA: [(D(2024, 2, 26), D(2024, 3, 4)), (D(2024, 12, 29), D(2025, 1, 3))],
            SYDNEY: [(D(2024, 3, 29), D(2024, 4, 10)), (D(2024, 9, 29), D(2024, 10, 8))],
            WARSAW: [(D(2024, 3, 28), D(2024, 4, 3)), (D(2024, 10, 25), D(2024, 11, 2))]}
    zone_metrics = PLAIN + ("dated_deals", "signups", "churned_customers")
    for tz, ranges in days.items():
        name = tz.split("/")[1].lower()
        for start, end in ranges:
            add(Case(f"tz_{name}_day_{start:%m%d}", Query(zone_metrics, "day", start, end, cal=Cal(tz=tz))))
        add(Case(f"tz_{name}_month", Query(zone_metrics, "month", D(2023, 10, 1), D(2025, 2, 1),
                                           cal=Cal(tz=tz))))
    add(Case("tz_new_york_month_unbounded", Query(("deal_count", "deal_amount"), "month",
                                                  cal=Cal(tz=NY))))  # offsets for 1970-2100 on SQLite
    add(Case("tz_new_york_week_sunday", Query(zone_metrics, "week", D(2024, 2, 25), D(2024, 3, 24),
                                              cal=Cal(week_start="sunday", tz=NY))))

    # -- windows: rolling, cumulative and to date
    for tz in (None, SYDNEY):
        name = "utc" if tz is None else "sydney"
        cal = Cal(fy_start=7, tz=tz)
        add(Case(f"windows_day_{name}", Query(WINDOWS, "day", D(2024, 2, 20), D(2024, 4, 10), cal=cal)))
        add(Case(f"windows_week_{name}", Query(WINDOWS, "week", D(2024, 11, 18), D(2025, 2, 10), cal=cal)))
        add(Case(f"windows_month_{name}", Query(WINDOWS, "month", D(2023, 11, 1), D(2025, 3, 1), cal=cal)))
    add(Case("windows_week_friday_clamped", Query(("deals_3m", "amount_90d"), "week", D(2024, 5, 17),
                                                  D(2024, 6, 7), cal=Cal(week_start="friday"))))
    add(Case("windows_quarter_fy4_warsaw", Query(("amount_90d", "deals_3m", "deals_cumulative", "deals_qtd",
                                                  "amount_ytd", "deals_fytd"), "quarter",
                                                 D(2023, 1, 1), D(2025, 7, 1), cal=Cal(fy_start=4, tz=WARSAW))))
    add(Case("windows_fiscal_quarter_fy7", Query(("amount_90d", "deals_3m", "deals_cumulative", "deals_qtd",
                                                  "deals_fytd"), "fiscal_quarter", D(2023, 7, 1),
                                                 D(2025, 7, 1), cal=Cal(fy_start=7))))

    # -- comparisons
    ranges = {"day": (D(2024, 2, 25), D(2024, 3, 15)), "week": (D(2024, 2, 5), D(2024, 5, 6)),
              "month": (D(2024, 1, 1), D(2025, 1, 1)), "fiscal_quarter": (D(2024, 1, 1), D(2025, 7, 1))}
    for kind in ("previous_period", "same_period_last_year"):
        for grain, (start, end) in ranges.items():
            add(Case(f"{kind}_{grain}", Query(PLAIN + ("amount_90d",), grain, start, end,
                                              cal=Cal(fy_start=7), compare=kind)))
    add(Case("previous_period_month_partial_feb29",
             Query(("deal_count", "deal_amount", "deals_cumulative"), "month", D(2024, 3, 31),
                   D(2024, 6, 15), compare="previous_period")))
    add(Case("previous_period_month_by_region",
             Query(("deal_count", "deal_amount"), "month", D(2024, 1, 1), D(2024, 7, 1), by=("region",),
                   compare="previous_period")))
    add(Case("same_period_last_year_day_new_york",
             Query(("deal_count", "deal_amount", "active_customers", "deals_3m"), "day", D(2024, 3, 5),
                   D(2024, 3, 15), cal=Cal(tz=NY), compare="same_period_last_year")))
    add(Case("same_period_last_year_month_warsaw",
             Query(PLAIN + ("amount_90d",), "month", D(2024, 1, 1), D(2025, 1, 1), cal=Cal(tz=WARSAW),
                   compare="same_period_last_year")))
    base = (D(2023, 1, 1), D(2023, 4, 1))
    add(Case("baseline_month_partial_range", Query(PLAIN + ("amount_90d", "deals_cumulative", "amount_ytd"),
                                                   "month", D(2024, 1, 1), D(2024, 7, 1), compare="baseline",
                                                   baseline=(D(2023, 1, 15), D(2023, 4, 10)))))
    add(Case("baseline_month_by_region", Query(("deal_count", "deal_amount"), "month", D(2024, 1, 1),
                                               D(2024, 7, 1), by=("region",), compare="baseline",
                                               baseline=base)))
    add(Case("baseline_week_new_york", Query(PLAIN + ("deals_3m",), "week", D(2024, 3, 4), D(2024, 4, 1),
                                             cal=Cal(tz=NY), compare="baseline",
                                             baseline=(D(2023, 3, 6), D(2023, 3, 13)))))

    # -- targets
    add(Case("targets_month", Query(("deal_count", "deal_amount", "churned_customers", "signups"), "month",
                                    D(2023, 11, 1), D(2024, 8, 1), targets=True)))
    add(Case("targets_quarter", Query(("deal_amount", "quarter_amount", "churned_customers"), "quarter",
                                      D(2024, 1, 1), D(2024, 10, 1), targets=True)))
    add(Case("targets_month_unbounded", Query(("deal_count", "deal_amount"), "month", targets=True)))

    # -- relative --from/--to with as_of
    as_of = D(2024, 5, 17)
    utc = Cal()
    q_start = utc.period_start(as_of, "quarter")
    add(Case("relative_last_quarter", Query(PLAIN, "month", ref.add_months(q_start, -3), q_start),
             (("start", "start_of_quarter -1 quarter"), ("end", "start_of_quarter"), ("as_of", as_of))))
    add(Case("relative_last_12_months", Query(PLAIN, "month", ref.add_months(as_of, -12), as_of),
             (("start", "-12 months"), ("end", "today"), ("as_of", as_of))))
    sunday = Cal(week_start="sunday")
    w_start = sunday.period_start(as_of, "week")
    add(Case("relative_weeks_sunday", Query(PLAIN, "week", w_start - dt.timedelta(weeks=3), w_start, cal=sunday),
             (("start", "start_of_week -3 weeks"), ("end", "start_of_week"), ("as_of", as_of))))
    fy7 = Cal(fy_start=7)
    fy_start = fy7.period_start(as_of, "fiscal_year")
    add(Case("relative_fiscal_year", Query(PLAIN, "fiscal_quarter", fy_start, ref.add_months(fy_start, 12),
                                           cal=fy7),
             (("start", "start_of_fiscal_year"), ("end", "start_of_fiscal_year +1 year"), ("as_of", as_of))))
    ny_day = D(2024, 3, 10)
    add(Case("relative_days_new_york", Query(PLAIN, "day", ny_day - dt.timedelta(days=3),
                                             ny_day + dt.timedelta(days=1), cal=Cal(tz=NY)),
             (("start", "-3 days"), ("end", "tomorrow"), ("as_of", ny_day))))
    add(Case("relative_clamped_month", Query(("deal_count", "deal_amount"), "day", D(2024, 2, 29),
                                             D(2024, 3, 2)),
             (("start", "2024-01-31 +1 month"), ("end", "2024-01-31 +1 month +2 days"))))
    y_start = utc.period_start(as_of, "year")
    add(Case("relative_baseline", Query(("deal_count", "deal_amount"), "month", D(2024, 1, 1), as_of,
                                        compare="baseline", baseline=(ref.add_months(y_start, -12), y_start)),
             (("start", "start_of_year"), ("end", "today"), ("as_of", as_of),
              ("baseline", "start_of_year -1 year:start_of_year"))))

    # -- partial periods: keep (the default) and drop
    partial = PLAIN + ("amount_90d", "deals_cumulative")
    add(Case("partial_keep_month", Query(partial, "month", D(2024, 3, 15), D(2024, 6, 15)),
             (("partial", "keep"),)))
    add(Case("partial_drop_month", Query(partial, "month", D(2024, 4, 1), D(2024, 6, 1)),
             (("start", D(2024, 3, 15)), ("end", D(2024, 6, 15)), ("partial", "drop"))))
    add(Case("partial_keep_week_warsaw", Query(partial, "week", D(2024, 3, 27), D(2024, 4, 20),
                                               cal=Cal(week_start="sunday", tz=WARSAW))))
    add(Case("partial_drop_week_warsaw", Query(partial, "week", D(2024, 3, 31), D(2024, 4, 14),
                                               cal=Cal(week_start="sunday", tz=WARSAW)),
             (("start", "2024-03-27"), ("end", "2024-04-20"), ("partial", "drop"))))
    add(Case("partial_drop_aligned_range", Query(partial, "month", D(2024, 3, 1), D(2024, 6, 1)),
             (("partial", "drop"),)))

    # -- combined queries: the subset every other engine runs (also run above)
    everything = ("deal_count", "deal_amount", "dated_deals", "active_customers") + WINDOWS
    add(Case("combined_new_york_month_previous",
             Query(everything, "month", D(2023, 11, 1), D(2025, 1, 1), cal=Cal(fy_start=4, tz=NY),
                   compare="previous_period")))
    add(Case("combined_kolkata_month_last_year",
             Query(("deal_count", "deal_amount", "signups", "churned_customers", "active_customers",
                    "amount_90d", "deals_3m"), "month", D(2024, 1, 1), D(2025, 1, 1), cal=Cal(tz=KOLKATA),
                   compare="same_period_last_year")))
    add(Case("combined_sydney_month_baseline",
             Query(("deal_count", "deal_amount", "active_customers", "deals_cumulative", "amount_ytd"), "month",
                   D(2024, 1, 1), D(2024, 10, 1), cal=Cal(tz=SYDNEY), compare="baseline",
                   baseline=(D(2023, 7, 1), D(2023, 10, 1)))))
    add(Case("combined_warsaw_month_targets",
             Query(("deal_count", "deal_amount", "churned_customers", "signups", "amount_mtd"), "month",
                   D(2023, 11, 1), D(2024, 8, 1), cal=Cal(tz=WARSAW), targets=True)))
    add(Case("combined_week_sunday_last_year",
             Query(PLAIN + ("amount_90d", "deals_3m", "amount_mtd"), "week", D(2024, 2, 15), D(2024, 4, 20),
                   cal=Cal(week_start="sunday"), compare="same_period_last_year")))
    add(Case("combined_fiscal_quarter_fy7_label_start_previous",
             Query(PLAIN + ("deals_fytd", "deals_qtd"), "fiscal_quarter", D(2023, 7, 1), D(2025, 7, 1),
                   cal=Cal(fy_start=7, fy_label="start", tz=SYDNEY), compare="previous_period")))
    add(Case("combined_day_new_york_dst_previous",
             Query(PLAIN + ("amount_90d", "deals_3m"), "day", D(2024, 3, 6), D(2024, 3, 14), cal=Cal(tz=NY),
                   compare="previous_period")))
    # 3 months before 2024-05-30 and 2024-05-31 is 2024-02-29 (clamped), not March 1st or 2nd
    add(Case("combined_day_months_clamped", Query(("deals_3m", "deal_count"), "day", D(2024, 5, 27),
                                                  D(2024, 6, 2))))
    add(Case("combined_baseline_by_region_new_york",
             Query(("deal_count", "deal_amount"), "month", D(2024, 1, 1), D(2024, 7, 1), by=("region",),
                   cal=Cal(tz=NY), compare="baseline", baseline=(D(2023, 1, 1), D(2023, 4, 1)))))

    # -- Spark answers each query in seconds: fewer, smaller queries that still cover it all
    add(Case("spark_new_york_month_previous",
             Query(("deal_count", "active_customers", "amount_90d", "deals_cumulative"), "month", D(2024, 1, 1),
                   D(2024, 7, 1), cal=Cal(tz=NY), compare="previous_period")))
    add(Case("spark_kolkata_month_last_year",
             Query(("deal_count", "deals_3m", "amount_ytd"), "month", D(2024, 1, 1), D(2024, 7, 1),
                   cal=Cal(tz=KOLKATA), compare="same_period_last_year")))
    add(Case("spark_sydney_month_baseline",
             Query(("deal_amount", "amount_mtd", "deals_qtd"), "month", D(2024, 1, 1), D(2024, 7, 1),
                   cal=Cal(tz=SYDNEY), compare="baseline", baseline=(D(2023, 7, 1), D(2023, 10, 1)))))
    add(Case("spark_warsaw_month_targets",
             Query(("deal_count", "deal_amount", "churned_customers", "dated_deals"), "month", D(2024, 1, 1),
                   D(2024, 7, 1), cal=Cal(tz=WARSAW), targets=True)))
    add(Case("spark_week_sunday", Query(("deal_count", "active_customers", "amount_90d"), "week",
                                        D(2024, 2, 15), D(2024, 4, 20), cal=Cal(week_start="sunday"))))
    add(Case("spark_fiscal_quarter_fy7_label_start",
             Query(("deal_count", "deals_fytd"), "fiscal_quarter", D(2023, 7, 1), D(2025, 7, 1),
                   cal=Cal(fy_start=7, fy_label="start"))))
    return cases


CASES = _cases()
#: What PostgreSQL, MariaDB, chDB and DataFusion run.
SUBSET = [c for c in CASES if c.id.startswith("combined_")]
#: What Spark runs.
SPARK = [c for c in CASES if c.id.startswith("spark_")]


# ---------------------------------------------------------------------------------
# Data, project, engines
# ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data() -> dict[str, list[dict[str, Any]]]:
    return ref.make_data()


@pytest.fixture(scope="module")
def tables(data: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return ref.arrow_tables(data)


@pytest.fixture(scope="module")
def reference(data: dict[str, list[dict[str, Any]]]) -> ref.Reference:
    return ref.Reference(data)


@pytest.fixture(scope="module")
def project() -> kpispec.Project:
    return kpispec.load_project(SPECS)


def _duckdb(tables: dict[str, Any], tmp: Path) -> tuple[str, Callable[[], None]]:
    import duckdb

    path = tmp / "time.duckdb"
    con = duckdb.connect(str(path))
    try:
        for name, table in tables.items():
            con.from_arrow(table).create(name)
    finally:
        con.close()
    return f"duckdb:///{path}", lambda: None


def _sqlite(tables: dict[str, Any], tmp: Path) -> tuple[str, Callable[[], None]]:
    from tests.engines import load_sqlite

    return load_sqlite.load(tables, directory=tmp), lambda: None


def _postgres(tables: dict[str, Any], tmp: Path) -> tuple[str, Callable[[], None]]:
    from tests.engines import load_postgres

    url = load_postgres.load(tables, schema=f"kpispec_time_{uuid.uuid4().hex[:8]}")
    return url, lambda: load_postgres.drop(url)


def _mysql(tables: dict[str, Any], tmp: Path) -> tuple[str, Callable[[], None]]:
    from tests.engines import load_mysql

    url = load_mysql.load(tables, database=f"kpispec_time_{uuid.uuid4().hex[:8]}")
    return url, lambda: load_mysql.drop(url)


def _chdb(tables: dict[str, Any], tmp: Path) -> tuple[str, Callable[[], None]]:
    from tests.engines import load_clickhouse

    return load_clickhouse.load(tables, directory=tmp), lambda: None


def _datafusion(tables: dict[str, Any], tmp: Path) -> tuple[str, Callable[[], None]]:
    from tests.engines import load_datafusion

    return load_datafusion.load(tables, tmp), lambda: None


def _spark(tables: dict[str, Any], tmp: Path) -> tuple[str, Callable[[], None]]:
    from tests.engines import load_spark

    return load_spark.load(tables, tmp), lambda: None


# engine -> (driver module, server port or None, loader)
ENGINES: dict[str, tuple[str, int | None, Callable[[dict[str, Any], Path], tuple[str, Callable[[], None]]]]] = {
    "duckdb": ("duckdb", None, _duckdb),
    "sqlite": ("sqlite3", None, _sqlite),
    "postgres": ("psycopg", 5432, _postgres),
    "mysql": ("pymysql", 3306, _mysql),
    "chdb": ("chdb", None, _chdb),
    "datafusion": ("datafusion", None, _datafusion),
    "spark": ("pyspark", None, _spark),
}


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


@contextmanager
def _engine(name: str, tables: dict[str, Any], factory: pytest.TempPathFactory) -> Iterator[str]:
    """Load the tables into engine ``name`` and give its URL; drop them afterwards.

    A missing driver or server skips, except in CI (CI set), where it fails.
    """
    driver, port, loader = ENGINES[name]
    try:
        importlib.import_module(driver)
    except ImportError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{name}: {exc} — CI installs every driver with the test extra")
        pytest.skip(f"{name}: {exc}")
    if port is not None and not _listening(port):
        if os.environ.get("CI"):
            pytest.fail(f"{name}: no server on 127.0.0.1:{port} — CI starts one")
        pytest.skip(f"{name}: no server on 127.0.0.1:{port}")
    url, cleanup = loader(tables, factory.mktemp(f"time_{name}"))
    try:
        yield url
    finally:
        cleanup()


@pytest.fixture(scope="module")
def duckdb_url(tables: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _engine("duckdb", tables, tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="module", params=["duckdb", "sqlite"])
def fast_engine(request: pytest.FixtureRequest, tables: dict[str, Any],
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    if request.param == "duckdb":  # the same file the tests of notes and the CLI read
        yield "duckdb", request.getfixturevalue("duckdb_url")
        return
    with _engine(request.param, tables, tmp_path_factory) as url:
        yield request.param, url


@pytest.fixture(scope="module", params=["postgres", "mysql", "chdb", "datafusion"])
def other_engine(request: pytest.FixtureRequest, tables: dict[str, Any],
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with _engine(request.param, tables, tmp_path_factory) as url:
        yield request.param, url


@pytest.fixture(scope="module", autouse=True)
def _spark_warm(request: pytest.FixtureRequest, tables: dict[str, Any], project: kpispec.Project,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """When this run has Spark tests, load Spark's files and start Spark in the background
    at once, with the first Spark query: the JVM's start and warm-up (tens of seconds)
    then overlap with the other engines' tests. kpispec's Spark source starts one session
    per master under a lock, so a Spark test waits for it; a failure here is left for the
    Spark tests to report. Gives the Spark URL (None: no Spark tests, or no pyspark)."""
    wanted = any(item.module is request.module and "spark" in getattr(item, "fixturenames", ())
                 for item in request.session.items)
    if not wanted or importlib.util.find_spec("pyspark") is None:
        yield None
        return
    from kpispec.project import parse_source_url
    from kpispec_builtins.spark_source import connect

    url, _ = _spark(tables, tmp_path_factory.mktemp("time_spark"))
    first = SPARK[0]
    sql = project.compile(list(first.q.metrics), dialect="spark", **first.options()).sql

    def warm() -> None:
        try:
            connection = connect(parse_source_url(url))
            try:
                connection.execute(sql, timeout=None).read_all()
            finally:
                connection.close()
        except Exception:  # the Spark tests say what went wrong
            pass

    thread = threading.Thread(target=warm, name="kpispec-time-spark-warm-up", daemon=True)
    thread.start()
    try:
        yield url
    finally:
        thread.join()


@pytest.fixture(scope="module")
def spark(_spark_warm: str | None, tables: dict[str, Any],
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    if _spark_warm is not None:
        yield "spark", _spark_warm
        return
    with _engine("spark", tables, tmp_path_factory) as url:
        yield "spark", url


# ---------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------


def _check(project: kpispec.Project, reference: ref.Reference, case: Case, engine: str, url: str) -> None:
    table = project.run(list(case.q.metrics), source=url, **case.options())
    problems = ref.differences(table.column_names, table.to_pylist(), reference.expected(case.q),
                               case.q.columns())
    if problems:
        shown = "\n  ".join(problems[:15])
        pytest.fail(f"{case.id} on {engine}: {len(problems)} difference(s)\n  {shown}\n"
                    f"query: {case.q.metrics} {case.options()}", pytrace=False)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, fast_engine: tuple[str, str], project: kpispec.Project,
              reference: ref.Reference) -> None:
    _check(project, reference, case, *fast_engine)


@pytest.mark.parametrize("case", SUBSET, ids=[c.id for c in SUBSET])
def test_case_on_other_engines(case: Case, other_engine: tuple[str, str], project: kpispec.Project,
                               reference: ref.Reference) -> None:
    _check(project, reference, case, *other_engine)


@pytest.mark.parametrize("case", SPARK, ids=[c.id for c in SPARK])
def test_case_on_spark(case: Case, spark: tuple[str, str], project: kpispec.Project,
                       reference: ref.Reference) -> None:
    _check(project, reference, case, *spark)


def test_the_subsets_cover_what_every_engine_must_run() -> None:
    for cases in (SUBSET, SPARK):
        qs = [c.q for c in cases]
        assert any(q.grain == "week" and q.cal.week_start != "monday" for q in qs)
        assert any(q.grain.startswith("fiscal_") for q in qs)
        assert {q.cal.tz for q in qs if q.grain == "month"} >= set(ref.ZONES)
        assert {m for q in qs for m in q.metrics} >= set(WINDOWS)
        assert {q.compare for q in qs} >= {"previous_period", "same_period_last_year", "baseline"}
        assert any(q.targets for q in qs)


# ---------------------------------------------------------------------------------
# What the reference relies on, stated once
# ---------------------------------------------------------------------------------


def test_the_data_holds_the_edges_it_is_meant_to(data: dict[str, list[dict[str, Any]]]) -> None:
    times = {r["closed_at"] for r in data["deals"]}
    assert dt.datetime(2024, 3, 10, 7) in times  # New York springs forward
    assert dt.datetime(2024, 3, 31, 1) in times  # Warsaw
    assert dt.datetime(2024, 4, 6, 16) in times  # Sydney falls back
    assert dt.datetime(2024, 2, 29, 23, 59, 59, 999999) in times
    assert dt.datetime(2024, 2, 29, 18, 30) in times  # Kolkata's 2024-03-01 00:00
    assert any(c["churned_at"] is None for c in data["customers"])


def test_reference_calendar_examples() -> None:
    assert Cal(fy_start=7).label(D(2024, 7, 1), "fiscal_quarter") == "FY2025 Q1"
    assert Cal(fy_start=7, fy_label="start").label(D(2025, 4, 1), "fiscal_quarter") == "FY2024 Q4"
    assert Cal(fy_start=2).period_start(D(2024, 1, 31), "fiscal_quarter") == D(2023, 11, 1)
    assert Cal(week_start="sunday").period_start(D(2024, 3, 9), "week") == D(2024, 3, 3)
    assert ref.add_months(D(2024, 5, 31), -3) == D(2024, 2, 29)
    assert Cal(tz=NY).local(dt.datetime(2024, 3, 10, 7)) == dt.datetime(2024, 3, 10, 3)
    assert Cal(tz=KOLKATA).local(dt.datetime(2024, 2, 29, 18, 30)) == dt.datetime(2024, 3, 1)
    assert ref.compare_step("same_period_last_year", "week") == (("days", 364), 52)


# ---------------------------------------------------------------------------------
# Notes, errors and the CLI
# ---------------------------------------------------------------------------------


def _stderr_notes(text: str) -> list[str]:
    return [line.removeprefix("note: ") for line in text.splitlines() if line.startswith("note: ")]


def test_target_notes_through_write_result(project: kpispec.Project, duckdb_url: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from kpispec.output import write_result

    rows = write_result(project, ["deal_amount", "signups"], source=duckdb_url, sinks=["csv:-"],
                        options={"start": "2024-01-01", "end": "2024-04-01", "targets": True})
    captured = capsys.readouterr()
    assert rows == 3
    assert _stderr_notes(captured.err) == [
        "signups has no targets: no signups__target column",
        "deal_amount: 3 target period(s) not in the result, so their targets were not compared: "
        "2023-12-01, 2024-06-01, 2030-01-01",
    ]
    assert captured.out.splitlines()[0] == \
        "period,deal_amount,deal_amount__target,deal_amount__attainment,signups"

    write_result(project, ["deal_amount", "quarter_amount"], source=duckdb_url, sinks=["csv:-"],
                 options={"start": "2024-01-01", "end": "2024-10-01", "targets": True, "grain": "quarter"})
    assert _stderr_notes(capsys.readouterr().err) == [
        "deal_amount: its targets per month period do not apply by quarter; its constant target "
        "150000 does",
        "quarter_amount: 1 target period(s) not in the result, so their targets were not compared: "
        "2024-10-01",
    ]

    # Without --from/--to the missing periods come from the rows returned.
    write_result(project, ["deal_amount"], source=duckdb_url, sinks=["csv:-"], options={"targets": True})
    assert _stderr_notes(capsys.readouterr().err) == [
        "deal_amount: 1 target period(s) not in the result, so their targets were not compared: 2030-01-01",
    ]


def test_target_notes_from_the_cli(duckdb_url: str) -> None:
    from click.testing import CliRunner
    from kpispec.cli import main

    result = CliRunner().invoke(main, ["run", "deal_amount", "-p", str(SPECS), "--source", duckdb_url,
                                       "--targets", "--from", "2024-02-01", "--to", "2024-04-01",
                                       "--sink", "csv:-"])
    assert result.exit_code == 0, result.output
    assert _stderr_notes(result.stderr) == [
        "deal_amount: 4 target period(s) not in the result, so their targets were not compared: "
        "2023-12-01, 2024-01-01, 2024-06-01, 2030-01-01"]
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["period", "deal_amount", "deal_amount__target", "deal_amount__attainment"]
    assert [r[0] for r in rows[1:]] == ["2024-02-01", "2024-03-01"]
    assert float(rows[1][2]) == 150000 and float(rows[2][2]) == 0
    assert rows[2][3] == ""  # a target of 0: no attainment


def test_per_period_targets_need_their_grain(project: kpispec.Project) -> None:
    with pytest.raises(kpispec.QueryError) as info:
        project.compile(["quarter_amount"], grain="month", targets=True)
    assert "the targets of 'quarter_amount' are per quarter period; this query is by month" in str(info.value)


def test_partial_period_notes(project: kpispec.Project) -> None:
    keep = project.compile(["deal_count"], start="2024-03-15", end="2024-06-15")
    assert [n.split(":")[0] for n in keep.notes] == [
        "the first month period (2024-03-01) is partial",
        "the last month period (2024-06-01) is partial"]
    drop = project.compile(["deal_count"], start="2024-03-15", end="2024-06-15", partial="drop")
    assert drop.notes == ()
    assert (drop.query.start, drop.query.end) == (D(2024, 4, 1), D(2024, 6, 1))
    with pytest.raises(kpispec.QueryError, match="no whole month period lies between"):
        project.compile(["deal_count"], start="2024-03-15", end="2024-04-15", partial="drop")


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
