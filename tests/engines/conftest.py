"""Fixtures for the cross-check of kpispec's numbers on DuckDB against plain Python.

Three pieces:

* ``make_data`` builds small deterministic datasets (lists of dicts with
  ``datetime`` values) and ``write_tables`` stores them in a DuckDB file;
* :class:`Reference` recomputes metrics over the same row lists in plain
  Python (no SQL, no kpispec), following the catalog's "Precise rules": a row
  belongs to the period of its measure's time column, ``--from`` is
  inclusive and ``--to`` exclusive, counts and sums over no rows are 0,
  averages and divisions by 0 are NULL, filters follow SQL's three-valued
  logic (NULL is not true), and every period of the range is present;
* :meth:`Reference.check` compares a kpispec result table with the Python
  computation row by row.

The test project lives in ``tests/engines/specs``; :data:`PY_METRICS` mirrors
its metrics, ``model_dimensions`` its models (joins included).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

SPECS = Path(__file__).parent / "specs"

Row = Mapping[str, Any]
Pred = Callable[[str, Row], Any]  # (model, row) -> True / False / None (SQL NULL)

# ---------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------


def as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def period_start(value: dt.date | dt.datetime, grain: str) -> dt.date:
    """First day of the ``grain`` period holding ``value``; weeks start on Monday."""
    d = as_date(value)
    if grain == "day":
        return d
    if grain == "week":
        return d - dt.timedelta(days=d.weekday())
    if grain == "month":
        return dt.date(d.year, d.month, 1)
    if grain == "quarter":
        return dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    if grain == "year":
        return dt.date(d.year, 1, 1)
    raise ValueError(grain)


def next_period(start: dt.date, grain: str) -> dt.date:
    if grain == "day":
        return start + dt.timedelta(days=1)
    if grain == "week":
        return start + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def periods_between(first: dt.date, last: dt.date, grain: str) -> list[dt.date]:
    """Period starts from ``first`` to ``last``, both included."""
    out = []
    p = first
    while p <= last:
        out.append(p)
        p = next_period(p, grain)
    return out


def in_range(value: dt.date | dt.datetime, start: dt.date | None, end: dt.date | None) -> bool:
    """``start`` <= value < ``end`` (dates mean midnight)."""
    if isinstance(value, dt.datetime):
        lo = dt.datetime.combine(start, dt.time()) if start else None
        hi = dt.datetime.combine(end, dt.time()) if end else None
    else:
        lo, hi = start, end
    return (lo is None or value >= lo) and (hi is None or value < hi)


# ---------------------------------------------------------------------------------
# SQL semantics in Python
# ---------------------------------------------------------------------------------


def quantile_cont(values: Sequence[float], p: float) -> float | None:
    """DuckDB's quantile_cont / SQL percentile_cont: linear interpolation between
    the order statistics at positions floor and ceil of (n - 1) × p."""
    if not values:
        return None
    v = sorted(values)
    pos = (len(v) - 1) * p
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (pos - lo) * (v[hi] - v[lo])


def aggregate(agg: str, values: list[Any], p: float | None = None) -> Any:
    """``values``: one entry per row that passes every filter (None = SQL NULL expr)."""
    present = [v for v in values if v is not None]
    if agg == "count":
        return len(present)
    if agg == "count_distinct":
        return len(set(present))
    if agg == "sum":
        return sum(present) if present else 0  # COALESCE(SUM, 0): a sum over no rows is 0
    if not present:
        return None
    if agg == "avg":
        return sum(present) / len(present)
    if agg == "min":
        return min(present)
    if agg == "max":
        return max(present)
    if agg == "median":
        return statistics.median(present)
    if agg == "percentile":
        return quantile_cont(present, p)
    raise ValueError(agg)


def div(a: Any, b: Any) -> Any:
    """SQL division that is NULL, never an error, when the divisor is 0."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def sub(a: Any, b: Any) -> Any:
    return None if a is None or b is None else a - b


def truthy(value: Any) -> bool:
    """A SQL condition holds only when TRUE (NULL does not)."""
    return value is True


# ---------------------------------------------------------------------------------
# Python mirror of metrics
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class M:
    """A measure: model, aggregation, value of a row, row filter, time column."""

    model: str
    agg: str
    expr: Callable[[Row], Any] | None = None
    filter: Pred | None = None
    time: str | None = None  # None: the model's time
    p: float | None = None


@dataclass(frozen=True)
class Simple:
    measure: M
    filter: Pred | None = None


@dataclass(frozen=True)
class Ratio:
    numerator: M
    denominator: M
    scale: float | None = None
    filter: Pred | None = None


@dataclass(frozen=True)
class Derived:
    refs: tuple[str, ...]
    fn: Callable[..., Any]  # fn(*values of refs)
    filter: Pred | None = None


def col(name: str) -> Callable[[Row], Any]:
    return lambda r: r[name]


def eq(dim: str, value: Any, *, dims: Callable[[], Mapping[str, Mapping[str, Callable]]]) -> Pred:
    """``dim = value`` where ``dim`` is a dimension (maybe through joins) of the row's model."""
    return lambda model, r: None if (v := dims()[model][dim](r)) is None else v == value


@dataclass
class Reference:
    """Plain-Python computation of kpispec queries over row lists."""

    data: Mapping[str, list[dict[str, Any]]]
    times: Mapping[str, str]  # model -> default time column
    dims: Mapping[str, Mapping[str, Callable[[Row], Any]]]  # model -> dim name -> fn(row)
    metrics: Mapping[str, Any]
    tables: Mapping[str, str] = field(default_factory=dict)  # model -> table (default: same)
    views: Mapping[str, Callable[[Row], bool]] = field(default_factory=dict)  # model -> row filter
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)
    _rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    # -- pieces ---------------------------------------------------------------------

    def rows(self, model: str) -> list[dict[str, Any]]:
        if model not in self._rows:
            rows = self.data[self.tables.get(model, model)]
            keep = self.views.get(model)
            self._rows[model] = [r for r in rows if keep is None or keep(r)]
        return self._rows[model]

    def leaves(self, name: str, filters: tuple[Pred, ...] = ()) -> list[tuple[M, tuple[Pred, ...]]]:
        metric = self.metrics[name]
        if metric.filter is not None:
            filters = filters + (metric.filter,)
        if isinstance(metric, Simple):
            return [(metric.measure, filters)]
        if isinstance(metric, Ratio):
            return [(metric.numerator, filters), (metric.denominator, filters)]
        return [leaf for ref in metric.refs for leaf in self.leaves(ref, filters)]

    def _key(self, m: M, r: Row, by: Sequence[str], grain: str) -> tuple[Any, ...]:
        t = r[m.time or self.times[m.model]]
        return (period_start(t, grain), *[self.dims[m.model][d](r) for d in by])

    def _base(self, m: M, r: Row, q: Query) -> bool:
        t = r[m.time or self.times[m.model]]
        return (t is not None and in_range(t, q.start, q.end)
                and (q.where is None or truthy(q.where(m.model, r))))

    def _passes(self, m: M, filters: tuple[Pred, ...], r: Row) -> bool:
        preds = ([m.filter] if m.filter else []) + list(filters)
        return all(truthy(f(m.model, r)) for f in preds)

    def groups(self, m: M, filters: tuple[Pred, ...], q: Query) -> dict[tuple[Any, ...], list[Any]]:
        """The measure's values (one per counted row) by (period, dimension values)."""
        cache_key = (m, filters, q)
        if cache_key not in self._cache:
            out: dict[tuple[Any, ...], list[Any]] = {}
            for r in self.rows(m.model):
                if self._base(m, r, q) and self._passes(m, filters, r):
                    out.setdefault(self._key(m, r, q.by, q.grain), []).append(
                        m.expr(r) if m.expr else 1)
            self._cache[cache_key] = out
        return self._cache[cache_key]

    def measure(self, m: M, filters: tuple[Pred, ...], key: tuple[Any, ...], q: Query) -> Any:
        return aggregate(m.agg, self.groups(m, filters, q).get(key, []), m.p)

    def value(self, name: str, key: tuple[Any, ...], q: Query,
              filters: tuple[Pred, ...] = ()) -> Any:
        metric = self.metrics[name]
        if metric.filter is not None:
            filters = filters + (metric.filter,)
        if isinstance(metric, Simple):
            return self.measure(metric.measure, filters, key, q)
        if isinstance(metric, Ratio):
            num = self.measure(metric.numerator, filters, key, q)
            den = self.measure(metric.denominator, filters, key, q)
            if metric.scale is not None and num is not None:
                num = num * metric.scale
            return div(num, den)
        return metric.fn(*[self.value(ref, key, q, filters) for ref in metric.refs])

    # -- a whole query -----------------------------------------------------------------

    def keys(self, q: Query) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
        """(keys that must appear: rows counted by some measure,
            keys that may appear: rows in range and passing --where)."""
        must: set[tuple[Any, ...]] = set()
        may: set[tuple[Any, ...]] = set()
        for name in q.metrics:
            for m, filters in self.leaves(name):
                for r in self.rows(m.model):
                    if self._base(m, r, q):
                        key = self._key(m, r, q.by, q.grain)
                        may.add(key)
                        if self._passes(m, filters, r):
                            must.add(key)
        return must, may

    def spine(self, q: Query, must: set[tuple[Any, ...]]) -> list[dt.date]:
        seen = sorted({k[0] for k in must})
        first = period_start(q.start, q.grain) if q.start else seen[0]
        last = period_start(q.end - dt.timedelta(days=1), q.grain) if q.end else seen[-1]
        return periods_between(first, last, q.grain)

    def row(self, key: tuple[Any, ...], q: Query) -> dict[str, Any]:
        out = {"period": key[0]}
        out.update({d.replace(".", "__"): v for d, v in zip(q.by, key[1:])})
        out.update({name: self.value(name, key, q) for name in q.metrics})
        return out

    def expected(self, q: Query) -> list[dict[str, Any]]:
        """The result kpispec must return: one row per (period, dimension values)
        counted by some measure, and a row with NULL dimensions (0 counts, NULL
        averages and ratios) for each period of the spine with no such row."""
        must, _ = self.keys(q)
        keys = set(must)
        for p in self.spine(q, must):
            if not any(k[0] == p for k in must):
                keys.add((p, *[None] * len(q.by)))
        return [self.row(k, q) for k in sorted(keys, key=sort_key)]

    def check(self, table: Any, q: Query) -> list[dict[str, Any]]:
        """Assert ``table`` (a kpispec result) is the Python result of ``q``.

        A (period, dimension values) pair whose rows are in range but counted by
        no measure may be present or not (catalog: "may be left out"); when
        present its values must be those of no rows (0 or NULL), and a period
        shown only through such pairs needs no NULL-dimension row of its own.
        Everything else must match exactly, in order. Returns the expected rows.
        """
        columns = ["period", *[d.replace(".", "__") for d in q.by], *q.metrics]
        assert table.column_names == columns
        actual = table.to_pylist()
        width = 1 + len(q.by)
        keys = [tuple(r[c] for c in columns[:width]) for r in actual]
        assert keys == sorted(keys, key=sort_key), \
            "rows are not ordered by period, then dimensions (NULL last)"
        assert len(set(keys)) == len(keys), "a (period, dimensions) pair appears twice"
        must, may = self.keys(q)
        spine = self.spine(q, must)
        assert sorted({k[0] for k in keys}) == spine, "the periods are not the period spine"
        normalized = []
        for k, r in zip(keys, actual):
            if k in must:
                normalized.append(r)
                continue
            placeholder = (all(v is None for v in k[1:])
                           and not any(m[0] == k[0] for m in must))
            assert k in may or placeholder, f"unexpected row {r}"
            assert r == approx_row(self.row(k, q)), f"row {k} should hold the values of no rows"
            if placeholder:
                normalized.append(r)
        shown = {r["period"] for r in normalized}
        normalized += [self.row((p, *[None] * len(q.by)), q) for p in spine if p not in shown]
        normalized.sort(key=lambda r: sort_key(tuple(r[c] for c in columns[:width])))
        expected = self.expected(q)
        if normalized != [approx_row(r) for r in expected]:
            _fail(normalized, expected)
        return expected


def _fail(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> NoReturn:
    lines = ["kpispec's rows differ from the Python computation:"]
    for i in range(max(len(actual), len(expected))):
        a = actual[i] if i < len(actual) else None
        e = expected[i] if i < len(expected) else None
        if a is None or e is None or a != approx_row(e):
            lines.append(f"  row {i}:\n    kpispec {a}\n    python  {e}")
    raise AssertionError("\n".join(lines[:40]))


def sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """Period, then dimensions with NULL last."""
    return tuple((v is None, v if v is not None else 0) for v in key)


def approx_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: pytest.approx(v, rel=1e-9, abs=1e-9) if isinstance(v, float) else v
            for k, v in row.items()}


@dataclass(frozen=True)
class Query:
    metrics: tuple[str, ...]
    by: tuple[str, ...] = ()
    grain: str = "month"
    start: dt.date | None = None
    end: dt.date | None = None
    where: Pred | None = None
    where_sql: str | None = None

    def options(self) -> dict[str, Any]:
        return {"by": list(self.by), "grain": self.grain, "start": self.start, "end": self.end,
                "where": self.where_sql}


# ---------------------------------------------------------------------------------
# The test project's data
# ---------------------------------------------------------------------------------

REGIONS = ["EMEA", "APAC", "AMER"]
GAP = (2024, 5)  # no row of any table, by any time column, in May 2024
NO_PROSPECTS = (2024, 9)  # no prospects in September 2024 (won sales close then)
DATA_MONTHS = [(y, m) for y, m in [(2023, 11), (2023, 12)] + [(2024, m) for m in range(1, 13)]
               if (y, m) != GAP]


def _ts(rng: random.Random, months: Sequence[tuple[int, int]]) -> dt.datetime:
    y, m = rng.choice(list(months))
    last = (dt.date(y + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.datetime(y, m, rng.randint(1, last), rng.randrange(24), rng.randrange(60),
                       rng.randrange(60))


def make_data(seed: int = 20240601) -> dict[str, list[dict[str, Any]]]:
    """Deterministic tables: accounts, sales, sale_items, prospects, budgets."""
    rng = random.Random(seed)
    accounts = [{"account_id": i,
                 "region": [*REGIONS, None][i % 4],
                 "segment": ["smb", "enterprise", "mid", None, "enterprise", "smb"][i % 6],
                 "signed_up_at": dt.datetime(2023, 1 + i % 10, 1 + i, 9, 30)}
                for i in range(1, 13)]
    sales: list[dict[str, Any]] = []

    def sale(**kw: Any) -> None:
        row = {"sale_id": len(sales) + 1, "account_id": None, "owner_id": 1, "region": "EMEA",
               "stage": "open", "amount": 100.0, "created_at": None, "closed_at": None}
        row.update(kw)
        sales.append(row)

    for _ in range(170):
        created = _ts(rng, DATA_MONTHS)
        stage = rng.choices(["won", "lost", "open"], [5, 3, 2])[0]
        closed = None
        if stage != "open":
            later = [ym for ym in DATA_MONTHS if ym >= (created.year, created.month)]
            closed = _ts(rng, later[:3])
            if closed < created:
                closed = created + dt.timedelta(hours=rng.randint(1, 5))
                if (closed.year, closed.month) != (created.year, created.month):
                    closed = created
        sale(account_id=rng.choice([*range(1, 13), None]) if rng.random() > 0.05 else None,
             owner_id=rng.randint(1, 6),
             region=rng.choices([*REGIONS, None], [4, 3, 3, 1])[0],
             stage=stage,
             amount=None if rng.random() < 0.05 else round(rng.uniform(20, 3000), 2),
             created_at=created, closed_at=closed)
    # Edge rows: range boundaries, leap day, NULL times, ties, September closings.
    sale(created_at=dt.datetime(2024, 1, 1), stage="won", closed_at=dt.datetime(2024, 7, 1),
         amount=500.0, region="APAC", account_id=2, owner_id=2)
    sale(created_at=dt.datetime(2024, 7, 1), stage="won", closed_at=dt.datetime(2024, 7, 1, 0, 0, 1),
         amount=700.0, region="EMEA", account_id=1, owner_id=3)
    sale(created_at=dt.datetime(2024, 6, 30, 23, 59, 59, 999999), stage="lost",
         closed_at=dt.datetime(2024, 6, 30, 23, 59, 59, 999999), amount=1000.0, region="AMER",
         account_id=3, owner_id=4)
    sale(created_at=dt.datetime(2023, 12, 31, 23, 59, 59), stage="won",
         closed_at=dt.datetime(2024, 1, 1), amount=1234.5, region=None, account_id=None, owner_id=5)
    sale(created_at=dt.datetime(2024, 2, 29, 12), stage="won", closed_at=dt.datetime(2024, 2, 29, 18),
         amount=200.0, region="EMEA", account_id=5, owner_id=1)
    sale(created_at=None, stage="won", closed_at=dt.datetime(2024, 3, 3), amount=999.0,
         region="EMEA", account_id=1, owner_id=6)
    sale(created_at=dt.datetime(2024, 3, 4), stage="won", closed_at=None, amount=888.0,
         region="APAC", account_id=2, owner_id=6)
    sale(created_at=None, stage="open", closed_at=None, amount=50.0, region=None)
    for i, amount in enumerate([300.0, 300.0, 1500.0, None]):
        sale(created_at=dt.datetime(2024, 8, 20 + i, 10), stage="won",
             closed_at=dt.datetime(2024, 9, 2 + i, 10), amount=amount,
             region=["EMEA", "AMER", None, "APAC"][i], account_id=[2, 5, None, 4][i], owner_id=i + 1)
    sales.sort(key=lambda r: (r["created_at"] is None, r["created_at"] or dt.datetime.min, r["sale_id"]))

    items: list[dict[str, Any]] = []
    for s in sales:
        if s["created_at"] is None:
            continue
        for k in range(rng.choice([0, 1, 1, 2, 3, 4])):
            added = s["created_at"] + dt.timedelta(seconds=k)
            if added.month != s["created_at"].month:
                added = s["created_at"]
            items.append({"item_id": len(items) + 1, "sale_id": s["sale_id"],
                          "qty": rng.randint(1, 5), "price": round(rng.uniform(5, 200), 2),
                          "added_at": added})
    items.append({"item_id": len(items) + 1, "sale_id": 1, "qty": 3, "price": 10.0,
                  "added_at": None})

    prospect_months = [ym for ym in DATA_MONTHS if ym != NO_PROSPECTS]
    prospects = [{"prospect_id": i + 1,
                  "region": rng.choices([*REGIONS, None], [4, 3, 3, 1])[0],
                  "source": rng.choice(["web", "referral", "event"]),
                  "created_at": None if i % 50 == 7 else _ts(rng, prospect_months)}
                 for i in range(220)]
    for when in (dt.datetime(2024, 1, 1), dt.datetime(2024, 7, 1), dt.datetime(2023, 12, 31, 23, 59, 59)):
        prospects.append({"prospect_id": len(prospects) + 1, "region": "EMEA", "source": "web",
                          "created_at": when})

    budgets = []
    for y, m in DATA_MONTHS:
        for region in REGIONS:
            amount = 0.0 if (y, m, region) == (2024, 3, "AMER") else round(rng.uniform(500, 5000), 2)
            budgets.append({"budget_id": len(budgets) + 1, "region": region,
                            "budget_month": dt.date(y, m, 1), "amount": amount})
    return {"accounts": accounts, "sales": sales, "sale_items": items, "prospects": prospects,
            "budgets": budgets}


TYPES = {
    "accounts": {"account_id": "int64", "region": "string", "segment": "string",
                 "signed_up_at": "timestamp"},
    "sales": {"sale_id": "int64", "account_id": "int64", "owner_id": "int64", "region": "string",
              "stage": "string", "amount": "float64", "created_at": "timestamp",
              "closed_at": "timestamp"},
    "sale_items": {"item_id": "int64", "sale_id": "int64", "qty": "int64", "price": "float64",
                   "added_at": "timestamp"},
    "prospects": {"prospect_id": "int64", "region": "string", "source": "string",
                  "created_at": "timestamp"},
    "budgets": {"budget_id": "int64", "region": "string", "budget_month": "date",
                "amount": "float64"},
}


def write_tables(path: Path, data: Mapping[str, list[dict[str, Any]]],
                 types: Mapping[str, Mapping[str, str]]) -> None:
    """Write each table into a DuckDB file through a typed pyarrow table."""
    import duckdb
    import pyarrow as pa

    arrow = {"int64": pa.int64(), "string": pa.string(), "float64": pa.float64(),
             "timestamp": pa.timestamp("us"), "date": pa.date32()}
    con = duckdb.connect(str(path))
    try:
        for name, rows in data.items():
            schema = pa.schema([(c, arrow[t]) for c, t in types[name].items()])
            table = pa.Table.from_pylist(rows, schema=schema)
            con.from_arrow(table).create(name)
    finally:
        con.close()


def model_dimensions(data: Mapping[str, list[dict[str, Any]]]
                     ) -> dict[str, dict[str, Callable[[Row], Any]]]:
    """Each model's dimensions as Python functions of a row, joins followed by hand."""
    accounts = {a["account_id"]: a for a in data["accounts"]}
    sales = {s["sale_id"]: s for s in data["sales"]}

    def account(r: Row) -> Row:
        return accounts.get(r["account_id"], {})

    def sale(r: Row) -> Row:
        return sales.get(r["sale_id"], {"account_id": None})

    def band(r: Row) -> str:
        a = r["amount"]
        if a is not None and a >= 1000:
            return "large"
        if a is not None and a >= 200:
            return "medium"
        return "small"  # NULL amount: no WHEN holds, so ELSE

    return {
        "accounts": {"region": col("region"), "segment": col("segment")},
        "sales": {
            "region": col("region"), "sales.region": col("region"), "stage": col("stage"),
            "rep": col("owner_id"), "size_band": band,
            "segment": lambda r: account(r).get("segment"),
            "accounts.segment": lambda r: account(r).get("segment"),
            "accounts.region": lambda r: account(r).get("region"),
        },
        "sale_items": {
            "sales.region": lambda r: sale(r).get("region"),
            "stage": lambda r: sale(r).get("stage"),
            "segment": lambda r: account(sale(r)).get("segment"),
            "accounts.segment": lambda r: account(sale(r)).get("segment"),
        },
        "prospects": {"region": col("region"), "source": col("source")},
        "budgets": {"region": col("region")},
        "closed_sales": {"region": col("region")},
    }


def py_metrics(dims: Callable[[], Mapping[str, Mapping[str, Callable]]]) -> dict[str, Any]:
    """The metrics of tests/engines/specs/metrics.yaml, in Python."""
    amount = col("amount")
    won = lambda model, r: r["stage"] == "won"
    lost = lambda model, r: r["stage"] == "lost"
    closed = lambda model, r: r["stage"] in ("won", "lost")

    def ge(value: float) -> Pred:
        return lambda model, r: None if r["amount"] is None else r["amount"] >= value

    metrics: dict[str, Any] = {
        "sales_count": Simple(M("sales", "count")),
        "won_sales_created": Simple(M("sales", "count", filter=won)),
        "priced_sales": Simple(M("sales", "count", amount)),
        "active_reps": Simple(M("sales", "count_distinct", col("owner_id"))),
        "sales_amount": Simple(M("sales", "sum", amount)),
        "avg_amount": Simple(M("sales", "avg", amount)),
        "min_amount": Simple(M("sales", "min", amount)),
        "max_amount": Simple(M("sales", "max", amount)),
        "median_amount": Simple(M("sales", "median", amount)),
        "p90_amount": Simple(M("sales", "percentile", amount, p=0.9)),
        "won_count": Simple(M("sales", "count", filter=won, time="closed_at")),
        "won_amount": Simple(M("sales", "sum", amount, won, "closed_at")),
        "lost_count": Simple(M("sales", "count", filter=lost, time="closed_at")),
        "lost_amount": Simple(M("sales", "sum", amount, lost, "closed_at")),
        "win_rate": Ratio(M("sales", "count", filter=won, time="closed_at"),
                          M("sales", "count", filter=closed, time="closed_at"), 100),
        "prospects_created": Simple(M("prospects", "count")),
        "close_rate": Ratio(M("sales", "count", filter=won, time="closed_at"),
                            M("prospects", "count"), 100),
        "item_revenue": Simple(M("sale_items", "sum", lambda r: r["qty"] * r["price"])),
        "item_count": Simple(M("sale_items", "count")),
        "budget_amount": Simple(M("budgets", "sum", amount)),
        "budget_attainment": Ratio(M("sales", "sum", amount, won, "closed_at"),
                                   M("budgets", "sum", amount), 100),
        "avg_won_amount": Derived(("won_amount", "won_count"), div),
        "net_closed_amount": Derived(("won_amount", "lost_amount"), sub),
        "win_minus_close_rate": Derived(("win_rate", "close_rate"), sub),
        "won_amount_per_prospect": Derived(("won_amount", "prospects_created"), div),
        "large_sales": Simple(M("sales", "count"), filter=ge(1000)),
        "large_band_sales": Simple(M("sales", "count",
                                     filter=eq("size_band", "large", dims=dims))),
        "enterprise_won_amount": Simple(M("sales", "sum", amount, won, "closed_at"),
                                        filter=eq("segment", "enterprise", dims=dims)),
        "enterprise_win_rate": Ratio(M("sales", "count", filter=won, time="closed_at"),
                                     M("sales", "count", filter=closed, time="closed_at"), 100,
                                     filter=eq("accounts.segment", "enterprise", dims=dims)),
        "emea_net_closed_amount": Derived(("won_amount", "lost_amount"), sub,
                                          filter=eq("region", "EMEA", dims=dims)),
        "closed_emea_or_unknown": Simple(
            M("sales", "count", filter=closed, time="closed_at"),
            filter=lambda model, r: r["region"] is None or r["region"] == "EMEA"),
        "rep3_sales": Simple(M("sales", "count", filter=eq("rep", 3, dims=dims))),
        "won_median_amount": Simple(M("sales", "median", amount, won, "closed_at")),
        "won_p25_amount": Simple(M("sales", "percentile", amount, won, "closed_at", p=0.25)),
        "emea_close_rate": Ratio(M("sales", "count", filter=won, time="closed_at"),
                                 M("prospects", "count"), 100,
                                 filter=eq("region", "EMEA", dims=dims)),
        "emea_win_minus_close_rate": Derived(("win_minus_close_rate",), lambda v: v,
                                             filter=eq("region", "EMEA", dims=dims)),
        "won_lost_ratio": Derived(("won_count", "lost_count"), div),
        "half_net_closed_amount": Derived(("won_amount", "lost_amount"),
                                          lambda a, b: None if sub(a, b) is None else sub(a, b) / 2),
        "closed_amount": Simple(M("closed_sales", "sum", amount)),
        "closed_avg_amount": Simple(M("closed_sales", "avg", amount)),
    }
    return metrics


# ---------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def data() -> dict[str, list[dict[str, Any]]]:
    return make_data()


@pytest.fixture(scope="session")
def source(tmp_path_factory: pytest.TempPathFactory, data: Any) -> str:
    """A DuckDB file holding the test tables, as a --source URL."""
    path = tmp_path_factory.mktemp("engines") / "engines.duckdb"
    write_tables(path, data, TYPES)
    return f"duckdb:///{path}"


@pytest.fixture(scope="session")
def project() -> Any:
    import kpispec

    return kpispec.load_project(SPECS)


@pytest.fixture(scope="session")
def ref(data: Any) -> Reference:
    dims = model_dimensions(data)
    return Reference(data=data,
                     times={"accounts": "signed_up_at", "sales": "created_at",
                            "sale_items": "added_at", "prospects": "created_at",
                            "budgets": "budget_month", "closed_sales": "closed_at"},
                     tables={"closed_sales": "sales"},
                     views={"closed_sales": lambda r: r["stage"] in ("won", "lost")},
                     dims=dims, metrics=py_metrics(lambda: dims))


@pytest.fixture(scope="session")
def run(project: Any, source: str, ref: Reference) -> Callable[..., list[dict[str, Any]]]:
    """run(metrics, by=..., grain=..., start=..., end=..., where=(sql, python predicate))
    runs the query with kpispec on DuckDB, checks it against Python and returns
    the expected rows."""

    def _run(metrics: Sequence[str], *, by: Sequence[str] = (), grain: str = "month",
             start: dt.date | None = None, end: dt.date | None = None,
             where: tuple[str, Pred] | None = None) -> list[dict[str, Any]]:
        q = Query(tuple(metrics), tuple(by), grain, start, end,
                  where[1] if where else None, where[0] if where else None)
        table = project.run(list(metrics), source=source, **q.options())
        return ref.check(table, q)

    return _run
