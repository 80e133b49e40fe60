"""Hypothesis strategies for whole kpispec projects, their data, and queries over them.

A generated :class:`Project` knows what it means — every model's columns and
their kinds, every snippet as an :mod:`~tests.property.exprs` tree — so it can
be written out as YAML text (exercising the loader, the schema and the
semantic checks) *and* recomputed in plain Python by
:mod:`tests.property.reference`.

Two flavours:

* ``strict=True`` projects are valid by construction and executable: names
  resolve, snippets type-check on DuckDB and SQLite, data is generated for
  every table. Queries over them (:func:`queries`) only use what resolves.
* ``strict=False`` projects roam further: every dialect, reserved words and
  names that collide with what kpispec generates (``period``, CTE names,
  ``__x``), SQL functions and casts in snippets, joins in any direction,
  plugin metric types, nonsense query options. They are only compiled.

Both kinds also take names from the catalog pack (``pack=True``: a project that
lists the CRM pack, whose models refine or replace the pack's and whose metrics
override the pack's). test_mutations.py then breaks valid
projects in small ways, and test_snippets.py fills snippets with token soup.

Draws go through :func:`pick`, :func:`chance` and :func:`ints` (strategies built
once): building a fresh strategy per draw made generation ten times slower.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from hypothesis import strategies as st
from kpispec.compile.dialects import DIALECTS

from .exprs import (
    And,
    Arith,
    Between,
    Case,
    Cmp,
    Coalesce,
    Div,
    Expr,
    InList,
    IsNull,
    Lit,
    Name,
    Not,
    Or,
    Render,
    Templated,
)

DIALECT_ALIASES = ("postgresql", "mariadb", "sqlserver", "mssql", "presto", "spark2")
GRAINS = ("day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
AGGS = ("count", "count_distinct", "sum", "avg", "min", "max", "median", "percentile")
#: Zones whose midnight is never skipped or repeated (so a local date range is well defined).
ZONES = ("UTC", "America/New_York", "Europe/Warsaw", "Asia/Kolkata", "Australia/Adelaide",
         "Pacific/Chatham", "America/Sao_Paulo", "Etc/GMT+5")
BAD_ZONES = ("Mars/Olympus", "Europe/Warsw", "utc+1", "America/New York", "../../etc/passwd",
             "", "\u00e9t\u00e9", "Z")
FORMATS = ("number", "integer", "percent", "currency", "days", "hours", "years")

#: Identifiers the spec schema allows, from the ordinary to the treacherous.
PLAIN_NAMES = ("deals", "leads", "customers", "accounts", "orders", "items", "reps", "events",
               "amount", "stage", "region", "segment", "score", "qty", "price", "status",
               "owner_id", "x", "y", "a1", "_hidden", "t", "created_at", "closed_at", "kind")
RESERVED_NAMES = ("order", "group", "select", "from", "where", "date", "time", "user", "end",
                  "case", "table", "limit", "values", "default", "key", "level", "rows", "start",
                  "interval", "year", "month", "count", "sum", "null", "true", "all", "and", "as",
                  "on", "in", "is", "join", "left", "desc", "window", "filter", "over",
                  "partition", "union", "with", "current_date", "timestamp", "by", "having",
                  "drop", "between", "insert", "values", "fetch", "qualify", "regexp", "xor",
                  "returning", "lateral", "rollback", "glob", "sample", "minus", "delete",
                  "update", "grant", "cast", "like", "escape", "offset", "natural", "pivot")
#: Names kpispec itself uses in the SQL it writes (result columns, CTEs, placeholders).
TRAP_NAMES = ("period", "periods", "period_label", "dimension_keys", "__x", "__n", "spine",
              "x__compare", "a__change", "m__target", "_", "__", "_1", "value", "compare")
MIXED_NAMES = ("Amount", "Region", "REGION", "Sales", "createdAt", "Stage", "OrderID", "T")
#: Physical column names that only a quoted column ``expr`` can reach.
WEIRD_PHYSICAL = ("my col", "it's", 'say "hi"', "za\u017c\u00f3\u0142\u0107", "\u65e5\u4ed8",
                  "select", "1st", "a.b", "--x", "/*c*/", ";drop", "tab\there", "\u00e9", "x y z",
                  "back`tick", "br[ack]et", "$1", "?", ":p", "emoji \U0001f600",
                  "trailing ", "UPPER", "Mixed Case")
TEXT_VALUES = ("won", "lost", "open", "EMEA", "emea", "o'brien", "\u00fcn\u00ef", "", " ", "a b",
               "NULL", "--", "\u65e5")

#: Names of the CRM catalog pack's models and metrics (a project may override them).
PACK_MODELS = ("calls", "customers", "deal_stage_history", "deals", "leads", "nps_responses",
               "orders", "quotas", "spend", "subscriptions", "tickets", "web_sessions")
PACK_METRICS = ("won_revenue", "close_rate", "win_rate", "deals_won", "revenue", "churn_rate",
                "clv", "nps", "cac", "avg_deal_size", "signups", "quota_attainment",
                "customer_retention_cohorts", "visitor_to_won_deal_funnel", "sales_cycle_days")



@functools.cache
def pack_model(name: str) -> dict[str, Any]:
    """The CRM pack's model ``name``, as the catalog ships it."""
    from kpispec.spec.loader import load_yaml
    from kpispec_specs import ROOT

    models = load_yaml(ROOT / "crm" / "models.yaml")["models"]  # reads `on:` as a string
    return next(m for m in models if m["name"] == name)


def _entry_name(entry: Any) -> str:
    return str(entry if isinstance(entry, str) else entry["name"])


def refine_pack_model(model: Model) -> None:
    """Refine the pack's model of the same name: leave out the pack's columns and dimensions
    that are not ours (keeping its lifecycle columns when ours has no lifecycle), so nothing
    of the pack's reaches our queries."""
    base = pack_model(model.name)
    ours = {c.name for c in model.columns} | {d.name for d in model.dimensions}
    keep = set(ours)
    if model.lifecycle is None:
        keep |= set((base.get("lifecycle") or {}).values())
    pack_dimensions = {_entry_name(d) for d in base.get("dimensions") or ()}
    our_dimensions = {d.name for d in model.dimensions}
    offered = [_entry_name(e) for key in ("columns", "dimensions") for e in base.get(key) or ()]
    leave_out = [n for n in dict.fromkeys(offered)
                 if n not in keep or (n in pack_dimensions and n not in our_dimensions)]
    model.extra["refine"] = f"crm.{model.name}"
    if leave_out:
        model.extra["leave_out"] = leave_out


KIND_SQL = {"int": "BIGINT", "float": "DOUBLE", "text": "VARCHAR", "bool": "BOOLEAN",
            "timestamp": "TIMESTAMP", "date": "DATE"}
NUMERIC = ("int", "float")
TIME_KINDS = ("timestamp", "date")


# ---------------------------------------------------------------------------------
# Cheap draws (strategies built once: building one per draw dominates generation time)
# ---------------------------------------------------------------------------------

BOOLS = st.booleans()


@functools.cache
def ints(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


def pick(draw: st.DrawFn, options: Sequence[Any]) -> Any:
    """One of ``options`` (a sequence built at draw time: no strategy per call)."""
    seq = options if isinstance(options, (list, tuple, str)) else list(options)
    return seq[draw(ints(0, len(seq) - 1))]


def chance(draw: st.DrawFn, n: int) -> bool:
    """True one time in ``n`` (hypothesis favours 0, so the rare answer is the last)."""
    return draw(ints(0, n - 1)) == n - 1


# ---------------------------------------------------------------------------------
# The project model
# ---------------------------------------------------------------------------------


@dataclass
class Column:
    name: str  # the name specs use
    kind: str  # int | float | text | bool | timestamp | date
    physical: str  # the table's column (differs when renamed through `expr`)
    typed: bool = False  # declared with a `type:`
    expr_sql: str | None = None  # an `expr:` written as is (token soup)


@dataclass
class Dimension:
    name: str
    expr: Expr  # over the model's columns
    kind: str
    written: bool  # {name, expr} rather than a plain column name


@dataclass
class Model:
    name: str
    table: str  # as written in the spec
    physical_table: str  # the table created in the engine
    pk: str
    time: str | None
    columns: list[Column]
    declare_columns: bool
    dimensions: list[Dimension] = field(default_factory=list)
    joins: list[tuple[str, str, str]] = field(default_factory=list)  # (model, on, to)
    lifecycle: tuple[str, str | None] | None = None
    sql_filter: Expr | None = None  # the model is `sql: SELECT * FROM table WHERE …`
    sql_form: str = "plain"  # plain | nested | cte | columns: how that SELECT is written
    extra: dict[str, Any] = field(default_factory=dict)  # description, label

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def dimension(self, name: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.name == name), None)

    def time_columns(self) -> list[Column]:
        return [c for c in self.columns if c.kind in TIME_KINDS]


@dataclass
class Measure:
    model: str
    agg: str
    expr: Expr | None = None
    filter: Expr | None = None
    time: str | None = None  # explicit `time:`
    p: float | None = None
    window: str | None = None
    cumulative: bool = False
    grain_to_date: str | None = None
    at: str | None = None

    @property
    def windowed(self) -> bool:
        return bool(self.window or self.cumulative or self.grain_to_date or self.at)


@dataclass
class Metric:
    name: str
    type: str  # simple | ratio | derived | nps | funnel | cohort_retention
    measure: Measure | None = None
    numerator: Measure | None = None
    denominator: Measure | None = None
    scale: float | None = None
    expr: Expr | None = None  # derived: over metric (and input) names
    inputs: list[tuple[str, str, str | None]] = field(default_factory=list)  # (name, metric, offset)
    filter: Expr | None = None
    grain: str | None = None
    targets: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # label, description, format, meta, …

    def measures(self) -> list[Measure]:
        return [m for m in (self.measure, self.numerator, self.denominator) if m is not None]


@dataclass
class Project:
    dialect: str  # the project dialect snippets are written in
    settings: dict[str, Any]
    models: list[Model]
    metrics: list[Metric]
    quote_all: bool = False
    split_files: bool = False

    @property
    def render(self) -> Render:
        return Render(self.dialect, quote_all=self.quote_all)

    def model(self, name: str) -> Model:
        return next(m for m in self.models if m.name == name)

    def metric(self, name: str) -> Metric:
        return next(m for m in self.metrics if m.name == name)

    # -- YAML ------------------------------------------------------------------------

    def model_doc(self, model: Model) -> dict[str, Any]:
        r = self.render
        doc: dict[str, Any] = {"name": model.name}
        if model.sql_filter is not None or model.extra.get("as_sql"):
            where = f" WHERE {model.sql_filter.sql(r)}" if model.sql_filter is not None else ""
            table = _table_sql(model.table, r)
            doc["sql"] = {
                "plain": f"SELECT * FROM {table}{where}",
                "nested": f"SELECT * FROM (SELECT * FROM {table}) AS inner_rows{where}",
                "cte": f"WITH base AS (SELECT * FROM {table}) SELECT * FROM base{where}",
                "columns": "SELECT " + ", ".join(r.ident(c.physical) for c in model.columns)
                           + f" FROM {table}{where}",
            }[model.sql_form]
        else:
            doc["table"] = model.table
        doc["primary_key"] = model.pk
        if model.time is not None:
            doc["time"] = model.time
        if model.declare_columns:
            cols: list[Any] = []
            for c in model.columns:
                if c.physical == c.name and not c.typed and c.expr_sql is None:
                    cols.append(c.name)
                else:
                    entry: dict[str, Any] = {"name": c.name}
                    if c.typed:
                        entry["type"] = c.kind
                    if c.expr_sql is not None:
                        entry["expr"] = c.expr_sql
                    elif c.physical != c.name:
                        entry["expr"] = Name(c.physical).sql(r)
                    cols.append(entry)
            doc["columns"] = cols
        if model.dimensions:
            dims: list[Any] = []
            for d in model.dimensions:
                if d.written:
                    dims.append({"name": d.name, "expr": d.expr.sql(r)})
                else:
                    dims.append(d.name)
            doc["dimensions"] = dims
        if model.joins:
            joins = []
            for target, on, to in model.joins:
                join: dict[str, Any] = {"model": target, "on": on}
                if to != on:
                    join["to"] = to
                joins.append(join)
            doc["joins"] = joins
        if model.lifecycle is not None:
            start, end = model.lifecycle
            doc["lifecycle"] = {"start": start, **({"end": end} if end else {})}
        doc.update({k: v for k, v in model.extra.items() if k != "as_sql"})
        return doc

    def measure_doc(self, m: Measure) -> dict[str, Any]:
        r = self.render
        doc: dict[str, Any] = {"model": m.model, "agg": m.agg}
        if m.expr is not None:
            doc["expr"] = m.expr.sql(r)
        if m.filter is not None:
            doc["filter"] = m.filter.sql(r)
        if m.time is not None:
            doc["time"] = m.time
        if m.p is not None:
            doc["p"] = m.p
        if m.window is not None:
            doc["window"] = m.window
        if m.cumulative:
            doc["cumulative"] = True
        if m.grain_to_date is not None:
            doc["grain_to_date"] = m.grain_to_date
        if m.at is not None:
            doc["at"] = m.at
        return doc

    def metric_doc(self, metric: Metric) -> dict[str, Any]:
        r = self.render
        doc: dict[str, Any] = {"name": metric.name, "type": metric.type}
        if metric.measure is not None:
            doc["measure"] = self.measure_doc(metric.measure)
        if metric.numerator is not None:
            doc["numerator"] = self.measure_doc(metric.numerator)
        if metric.denominator is not None:
            doc["denominator"] = self.measure_doc(metric.denominator)
        if metric.scale is not None:
            doc["scale"] = metric.scale
        if metric.expr is not None:
            doc["expr"] = metric.expr.sql(r)
        if metric.inputs:
            doc["inputs"] = [{"name": n, "metric": m, **({"offset": o} if o else {})}
                             for n, m, o in metric.inputs]
        if metric.filter is not None:
            doc["filter"] = metric.filter.sql(r)
        if metric.grain is not None:
            doc["grain"] = metric.grain
        if metric.targets is not None:
            doc["targets"] = metric.targets
        doc.update(metric.extra)
        return doc

    def docs(self) -> dict[str, dict[str, Any]]:
        """The spec documents, by file name."""
        models = [self.model_doc(m) for m in self.models]
        metrics = [self.metric_doc(m) for m in self.metrics]
        if self.split_files:
            return {"models.yaml": {"models": models},
                    "metrics/metrics.yml": {"version": 1, "metrics": metrics}}
        return {"project.yaml": {"models": models, "metrics": metrics}}

    def files(self) -> dict[str, str]:
        out = {name: dump_yaml(doc) for name, doc in self.docs().items()}
        settings = dict(self.settings)
        if any("{{" in text for text in out.values()):
            settings["vars"] = {**settings.get("vars", {}), "limit_value": Templated().value}
        if settings:
            out["kpispec.yaml"] = dump_yaml(settings)
        return out


def _table_sql(table: str, r: Render) -> str:
    return ".".join(r.ident(part) for part in table.split("."))


def dump_yaml(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


# ---------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------


@functools.cache
def names(strict: bool, pool: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    regex = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)
    pools = [st.sampled_from(PLAIN_NAMES), st.sampled_from(RESERVED_NAMES),
             st.sampled_from(MIXED_NAMES), st.sampled_from(TRAP_NAMES), regex]
    if pool:  # names an installed pack uses too, half the time
        pools = [st.sampled_from(pool)] * len(pools) + pools
    pools.append(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{40,70}", fullmatch=True))
    return st.one_of(pools)


def fresh(draw: st.DrawFn, strategy: st.SearchStrategy[str] | Sequence[str], taken: set[str]
          ) -> str:
    """A name not in ``taken`` (compared case-insensitively), added to it."""
    lowered = {t.lower() for t in taken}
    for _ in range(8):
        name = pick(draw, strategy) if isinstance(strategy, (list, tuple)) else draw(strategy)
        if name.lower() not in lowered:
            break
    else:
        base = name if len(name) < 50 else name[:50]
        name = next(f"{base}_{i}" for i in range(len(taken) + 1) if f"{base}_{i}".lower()
                    not in lowered)
    taken.add(name)
    return name


# ---------------------------------------------------------------------------------
# Expressions over a scope of typed names
# ---------------------------------------------------------------------------------

Atom = tuple[Expr, str]  # an expression usable in a snippet, and its kind


def text_values() -> st.SearchStrategy[str]:
    return TEXTS


#: Mostly a few common values (so filters and groups hit), sometimes odd ones.
TEXTS = st.one_of(st.sampled_from(TEXT_VALUES[:3]), st.sampled_from(TEXT_VALUES[:3]),
                  st.sampled_from(TEXT_VALUES))
INT_LISTS = st.lists(st.one_of(st.integers(-2, 30), st.none()), min_size=1, max_size=4)
TEXT_LISTS = st.lists(st.one_of(TEXTS, st.none()), min_size=1, max_size=4)
COLUMN_KINDS = st.lists(st.sampled_from(("text", "text", "int", "float", "bool")), min_size=1,
                        max_size=4)


def literal(draw: st.DrawFn, kind: str) -> Any:
    if kind == "int":
        return draw(ints(-5, 60))
    if kind == "float":
        return pick(draw, (0.5, 1.25, 10.0, 99.5, -2.5, 0.0))
    if kind == "text":
        return draw(text_values())
    if kind == "bool":
        return draw(BOOLS)
    if kind == "timestamp":
        return draw(timestamps())
    return draw(dates())


def num_expr(draw: st.DrawFn, atoms: Sequence[Atom], depth: int = 2) -> Expr:
    nums = [a for a, k in atoms if k in NUMERIC]
    options = ["lit"] + (["atom", "atom", "atom"] if nums else [])
    if depth > 0 and nums:
        options += ["arith", "case", "coalesce"]
    choice = pick(draw, options)
    if choice == "atom":
        return pick(draw, nums)
    if choice == "lit":
        return Lit(draw(ints(-3, 20)))
    if choice == "arith":
        return Arith(pick(draw, "+-*"), num_expr(draw, atoms, depth - 1),
                     num_expr(draw, atoms, depth - 1))
    if choice == "case":
        return Case(bool_expr(draw, atoms, depth - 1), num_expr(draw, atoms, depth - 1),
                    num_expr(draw, atoms, depth - 1))
    return Coalesce(pick(draw, nums), Lit(draw(ints(0, 9))))


def text_expr(draw: st.DrawFn, atoms: Sequence[Atom], depth: int = 1) -> Expr:
    texts = [a for a, k in atoms if k == "text"]
    if not texts:
        return Lit(draw(text_values()))
    choice = pick(draw, ["atom", "atom", "case", "coalesce"] if depth > 0 else ["atom"])
    if choice == "atom":
        return pick(draw, texts)
    if choice == "case":
        return Case(bool_expr(draw, atoms, 0), Lit(draw(text_values())),
                    text_expr(draw, atoms, depth - 1))
    return Coalesce(pick(draw, texts), Lit(draw(text_values())))


def bool_expr(draw: st.DrawFn, atoms: Sequence[Atom], depth: int = 2) -> Expr:
    """A boolean snippet whose names all come from ``atoms`` (compared to their own kind)."""
    kinds = {k for _, k in atoms}
    options = ["isnull"] if atoms else []
    if kinds & set(NUMERIC):
        options += ["cmp_num", "between", "in_num"]
    if "text" in kinds:
        options += ["eq_text", "eq_text", "in_text", "lt_text"]
    if "bool" in kinds:
        options += ["bool"]
    if kinds & set(TIME_KINDS):
        options += ["cmp_time"]
    if depth > 0 and atoms:
        options += ["not", "and", "or"]
    if not options:
        return Cmp("=", Lit(1), Lit(draw(ints(0, 1))))
    choice = pick(draw, options)
    of_kind = lambda *ks: [a for a, k in atoms if k in ks]  # noqa: E731
    if choice == "isnull":
        return IsNull(pick(draw, [a for a, _ in atoms]), draw(BOOLS))
    if choice == "cmp_num":
        bound: Expr = Templated() if chance(draw, 8) else Lit(draw(ints(-2, 40)))
        return Cmp(pick(draw, ("=", "<>", "<", "<=", ">", ">=")), num_expr(draw, atoms, 1), bound)
    if choice == "between":
        low = draw(ints(-2, 30))
        return Between(pick(draw, of_kind(*NUMERIC)), low, low + draw(ints(0, 30)))
    if choice == "in_num":
        values = tuple(draw(INT_LISTS))
        return InList(pick(draw, of_kind("int")) if of_kind("int")
                      else Lit(1), values, draw(BOOLS))
    if choice == "eq_text":
        return Cmp(pick(draw, ("=", "<>")), text_expr(draw, atoms, 1),
                   Lit(draw(text_values())))
    if choice == "lt_text":
        return Cmp(pick(draw, ("<", ">=")), pick(draw, of_kind("text")),
                   Lit(pick(draw, ("f", "m", "won"))))
    if choice == "in_text":
        values = tuple(draw(TEXT_LISTS))
        return InList(pick(draw, of_kind("text")), values, draw(BOOLS))
    if choice == "bool":
        col = pick(draw, of_kind("bool"))
        return Cmp("=", col, Lit(draw(BOOLS)))
    if choice == "cmp_time":
        col, kind = pick(draw, [(a, k) for a, k in atoms if k in TIME_KINDS])
        value = draw(timestamps()) if kind == "timestamp" else draw(dates())
        return Cmp(pick(draw, ("<", ">=", "<>")), col, Lit(value))
    if choice == "not":
        return Not(bool_expr(draw, atoms, depth - 1))
    if choice == "and":
        return And(bool_expr(draw, atoms, depth - 1), bool_expr(draw, atoms, depth - 1))
    return Or(bool_expr(draw, atoms, depth - 1), bool_expr(draw, atoms, depth - 1))


@dataclass(frozen=True)
class Raw(Expr):
    """Snippet text taken as is (loose projects only: not evaluated)."""

    text: str

    def sql(self, r: Render) -> str:
        return self.text


#: SQL a user might plausibly write in a snippet; `{c}` is a column, `{n}` a number column.
FANCY = (
    "UPPER({c}) = 'WON'", "LOWER({c}) LIKE 'w%'", "{c} ILIKE '%o%'", "LENGTH({c}) > 2",
    "ABS({n}) > 1", "ROUND({n}, 1)", "CAST({n} AS INTEGER)", "CAST({c} AS VARCHAR)",
    "TRY_CAST({c} AS DOUBLE)", "{n} / 2", "{n} // 2", "{n} % 3", "{n} ^ 2", "-{n}",
    "NULLIF({n}, 0)", "GREATEST({n}, 1)", "LEAST({n}, 1)", "IF({n} > 1, 1, 0)",
    "IIF({n} > 1, 1, 0)", "CASE {c} WHEN 'won' THEN 1 ELSE 0 END", "{c} || '-x'",
    "CONCAT({c}, 'x')", "EXTRACT(year FROM {c})", "DATE_TRUNC('month', {c})",
    "date_diff('day', {c}, {c})", "{c} + INTERVAL 1 DAY", "{c} > CURRENT_DATE", "NOW() > {c}",
    "{c} IS DISTINCT FROM 'x'", "{c} SIMILAR TO 'a.*'", "regexp_matches({c}, 'a+')",
    "{c}::TEXT", "{c} IN ('a', 'b')", "NOT {c}", "{c} = TRUE", "{n} BETWEEN 1 AND 2",
    "COALESCE({c}, {n})", "{c}[1]", "{c}->>'k'", "strftime({c}, '%Y')", "{c} COLLATE nocase",
    "EXISTS(x)", "x.y.z = 1", "{c}.{c} = 1", "lambda_x -> 1", "[1, 2]", "{{'a': 1}}",
    "STRUCT_PACK(a := 1)", "ARRAY[1]", "DATE '2024-01-01' < {c}", "TIMESTAMP '2024-01-01'",
    "INTERVAL '3' MONTH", "1e308 * 1e308", "9223372036854775807 + 1", "0.0 / 0",
    "'\u00e9t\u00e9' = {c}", "'a''b' = {c}", "$$x$$ = {c}", "E'\\n' = {c}",
)


def fancy_expr(draw: st.DrawFn, atoms: Sequence[Atom], names_pool: Sequence[str]) -> Expr:
    """A snippet from :data:`FANCY` over names of any kind (may well not type-check)."""
    r = Render("duckdb")
    pool = [a.sql(r) for a, _ in atoms] or [r.ident(n) for n in names_pool] or ["x"]
    template = pick(draw, FANCY)
    return Raw(template.format(c=pick(draw, pool), n=pick(draw, pool)))


# ---------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------

DAY0 = dt.date(2023, 10, 1)
DAYS = 640  # data from 2023-10-01 to mid 2025
DENSE = 92  # most of it from 2024-01-01 on, for 150 days


@functools.cache
def dates() -> st.SearchStrategy[dt.date]:
    """Days of the data: two in three in the busy stretch (DENSE), the rest anywhere."""
    return st.one_of(st.integers(0, DAYS), st.integers(DENSE, DENSE + 150),
                     st.integers(DENSE, DENSE + 150)).map(lambda n: DAY0 + dt.timedelta(days=n))


@functools.cache
def timestamps() -> st.SearchStrategy[dt.datetime]:
    times = st.one_of(st.just(dt.time(0, 0)), st.just(dt.time(23, 59, 59)),
                      st.just(dt.time(4, 30)), st.builds(dt.time, st.integers(0, 23),
                                                          st.integers(0, 59), st.integers(0, 59)))
    return st.builds(dt.datetime.combine, dates(), times)


@functools.cache
def values(kind: str) -> st.SearchStrategy[Any]:
    if kind == "int":
        return st.integers(-5, 60)
    if kind == "float":
        return st.one_of(st.integers(-400, 4000).map(lambda n: n / 4), st.just(0.1))
    if kind == "text":
        return text_values()
    if kind == "bool":
        return st.booleans()
    if kind == "timestamp":
        return timestamps()
    return dates()


@functools.cache
def values_or_null(kind: str) -> st.SearchStrategy[Any]:
    return st.one_of([values(kind)] * 7 + [st.none()])


#: Rare times far from the rest: long spines, the ends of time zone offset tables.
EXTREME_TIMES = (dt.datetime(1970, 1, 1), dt.datetime(1999, 12, 31, 23, 59, 59),
                 dt.datetime(2038, 1, 19, 3, 14, 8), dt.datetime(2100, 3, 1, 12))


# ---------------------------------------------------------------------------------
# Projects
# ---------------------------------------------------------------------------------


def own_atoms(model: Model) -> list[Atom]:
    """Columns and the model's own dimensions, unqualified (measure snippets)."""
    atoms: list[Atom] = [(Name(c.name), c.kind) for c in model.columns]
    names = {c.name for c in model.columns}
    atoms += [(Name(d.name), d.kind) for d in model.dimensions if d.name not in names]
    return atoms


def reachable(project: Project, model: Model) -> dict[str, list[str]]:
    """Models reached from ``model`` through joins, with their join path (model names)."""
    found: dict[str, list[str]] = {model.name: []}
    frontier = [model.name]
    ambiguous: set[str] = set()
    while frontier:
        level: dict[str, list[str]] = {}
        for name in frontier:
            for target, _, _ in project.model(name).joins:
                if target in found:
                    continue
                if target in level:
                    ambiguous.add(target)
                level[target] = [*found[name], target]
        found.update(level)
        frontier = list(level)
    return {k: v for k, v in found.items() if k not in ambiguous}


def metric_atoms(project: Project, model: Model) -> tuple[list[Atom], set[str]]:
    """Names a metric filter or --where may use from ``model``, and the ambiguous ones.

    Declared columns, then own dimensions, then dimensions of joined models (plain when
    only one joined model has it, else qualified), then qualified joined dimensions.
    """
    atoms = own_atoms(model)
    taken = {n for a, _ in atoms for n in a.names()}
    others = [project.model(n) for n in reachable(project, model) if n != model.name]
    counts: dict[str, int] = {}
    for other in others:
        for d in other.dimensions:
            counts[d.name] = counts.get(d.name, 0) + 1
    ambiguous = {n for n, c in counts.items() if c > 1 and n not in taken}
    if not model.declare_columns:
        # an undeclared column loses to a joined dimension of the same name (resolution
        # step 3 before 4): leave such names out rather than guess their kind
        shadowed = {c.name for c in model.columns if c.name in counts
                    and model.dimension(c.name) is None}
        atoms = [(a, k) for a, k in atoms if not (a.names() & shadowed)]
        taken -= shadowed
        ambiguous |= shadowed
    for other in others:
        for d in other.dimensions:
            if d.name not in taken and d.name not in ambiguous:
                atoms.append((Name(d.name), d.kind))
            atoms.append((Name(d.name, other.name), d.kind))
    return atoms, ambiguous


def common_atoms(project: Project, models: Sequence[Model]) -> list[Atom]:
    """Metric-level names that resolve the same way from every model of ``models``."""
    if not models:
        return []
    per_model = []
    for m in models:
        atoms, _ = metric_atoms(project, m)
        per_model.append({a.names().pop(): (a, k) for a, k in atoms})
    shared = set(per_model[0])
    for table in per_model[1:]:
        shared &= set(table)
    # each model resolves a name on its own (a conformed dimension means each model's
    # own one); the kinds must agree so the snippet type-checks everywhere
    return [per_model[0][name] for name in sorted(shared)
            if len({table[name][1] for table in per_model}) == 1]


@st.composite
def model_specs(draw: st.DrawFn, strict: bool, taken_models: set[str],
                taken_tables: set[str], pack: bool = False) -> Model:
    name = fresh(draw, names(strict, PACK_MODELS if pack else ()), taken_models)
    table_name = fresh(draw, names(strict), taken_tables)
    schema = pick(draw, ["", "", "", "main."])
    # a refinement keeps the pack's joins on columns it has: ours never take those names
    taken: set[str] = {str(j["on"]) for j in pack_model(name).get("joins") or ()} \
        if pack and name in PACK_MODELS else set()
    pk = fresh(draw, ("id", f"{name}_id", "key", "pk", "ID", "order"), taken)
    columns = [Column(pk, "int", pk)]
    n_time = draw(ints(0 if not strict and chance(draw, 8) else 1, 2))
    for _ in range(n_time):
        cname = fresh(draw, names(strict), taken)
        columns.append(Column(cname, pick(draw, ("timestamp", "timestamp", "date")),
                              cname))
    for kind in draw(COLUMN_KINDS):
        cname = fresh(draw, names(strict), taken)
        columns.append(Column(cname, kind, cname))
    declare = draw(BOOLS)
    replace = False
    if pack and name in PACK_MODELS:
        # refining a pack's model merges its declared columns into ours: declare ours too
        # (else every name we use is unknown), or replace the pack's model whole
        replace = draw(BOOLS)
        declare = declare or not replace
    if declare:
        physical_taken = {c.name for c in columns}
        for c in columns[1:]:
            if chance(draw, 6):
                c.physical = fresh(draw, WEIRD_PHYSICAL, physical_taken)
            if c.kind == "date" or chance(draw, 4):
                c.typed = True
    times = [c for c in columns if c.kind in TIME_KINDS]
    time = pick(draw, [c.name for c in times]) if times else None
    if not strict and chance(draw, 15):
        time = None
    model = Model(name=name, table=schema + table_name, physical_table=table_name, pk=pk,
                  time=time, columns=columns, declare_columns=declare)
    if replace:
        model.extra["replace"] = True
    # dimensions: plain columns, and expressions with fresh names
    for c in columns[1:]:
        if c.kind in ("text", "int", "bool") and draw(BOOLS):
            model.dimensions.append(Dimension(c.name, Name(c.name), c.kind, False))
    for _ in range(draw(ints(0, 2))):
        dname = fresh(draw, names(strict), taken)
        atoms: list[Atom] = [(Name(c.name), c.kind) for c in columns]
        if draw(BOOLS):
            model.dimensions.append(Dimension(dname, text_expr(draw, atoms), "text", True))
        else:
            model.dimensions.append(Dimension(
                dname, Case(bool_expr(draw, atoms, 1), Lit("yes"), Lit("no")), "text", True))
    if not strict and chance(draw, 4):
        model.dimensions.append(Dimension(fresh(draw, names(False), taken),
                                          fancy_expr(draw, own_atoms(model), []), "text", True))
    if len(times) >= 2 and chance(draw, 3):
        model.lifecycle = (times[0].name, times[1].name if draw(BOOLS) else None)
    if chance(draw, 5):
        model.extra["as_sql"] = True
        model.sql_form = pick(draw, ("plain", "nested", "cte", "columns"))
        if draw(BOOLS):
            model.sql_filter = bool_expr(draw, [(Name(c.physical), c.kind) for c in columns], 1)
    if chance(draw, 4):
        model.extra["description"] = draw(FREE_TEXT)
    if chance(draw, 5):
        model.extra["label"] = draw(st.one_of(
            SHORT_TEXT,
            st.dictionaries(st.sampled_from(("en", "pl", "it", "zh", "pt-BR")),
                            FREE_TEXT, min_size=1, max_size=3)))
    if pack and name in PACK_MODELS and not replace:
        refine_pack_model(model)
    return model


def add_joins(draw: st.DrawFn, models: list[Model], strict: bool) -> None:
    """Many-to-one joins: each model may join later ones (a chain when strict) on a new column."""
    for i, model in enumerate(models):
        targets = models[i + 1:i + 2] if strict else models
        for target in targets:
            if chance(draw, 3):
                continue
            if target is model and strict:
                continue
            taken = {c.name for c in model.columns} | {d.name for d in model.dimensions}
            if draw(BOOLS) and target.pk.lower() not in {t.lower() for t in taken}:
                on = target.pk
                taken.add(on)
            else:
                on = fresh(draw, (f"{target.name}_ref", "fk", "ref", "parent"),
                           taken)
            model.columns.append(Column(on, "int", on))
            to = target.pk
            if not strict and chance(draw, 15):  # may fan out, or not exist
                to = pick(draw, [c.name for c in target.columns])
            model.joins.append((target.name, on, to))


def measure_specs(draw: st.DrawFn, project: Project, strict: bool,
                  model: Model | None = None) -> Measure:
    model = model or pick(draw, project.models)
    atoms = own_atoms(model)
    # qualified names of joined models' dimensions are allowed in measure snippets too
    for other in reachable(project, model):
        if other != model.name and chance(draw, 4):
            atoms += [(Name(d.name, other), d.kind) for d in project.model(other).dimensions]
    agg = pick(draw, AGGS + ("count", "sum", "count", "sum"))
    m = Measure(model=model.name, agg=agg)
    if agg in ("sum", "avg", "min", "max", "median", "percentile"):
        m.expr = num_expr(draw, atoms)
    elif agg == "count_distinct" or chance(draw, 4):
        m.expr = pick(draw, [a for a, _ in atoms])
    if agg == "percentile":
        m.p = pick(draw, (0.1, 0.25, 0.5, 0.9, 0.99))
    if chance(draw, 3):
        m.filter = bool_expr(draw, atoms, 1)
    times = model.time_columns()
    if times and (model.time is None or chance(draw, 3)):
        m.time = pick(draw, times).name
    window = pick(draw, ("none",) * 20 + ("window", "cumulative", "to_date", "at"))
    if window == "window":
        m.window = f"{draw(ints(1, 4))} {pick(draw, ('day', 'days', 'week', 'months', 'quarter', 'year'))}"
    elif window == "cumulative":
        m.cumulative = True
    elif window == "to_date":
        m.grain_to_date = pick(draw, GRAINS)
    elif window == "at" and model.lifecycle is not None:
        m.at = pick(draw, ("period_start", "period_end"))
        m.time = None
    if not strict:
        if chance(draw, 5):
            m.filter = fancy_expr(draw, atoms, [])
        if chance(draw, 7):
            m.expr = fancy_expr(draw, atoms, [])
    return m


def targets_spec(draw: st.DrawFn, grain: str | None) -> dict[str, Any]:
    targets: dict[str, Any] = {}
    if draw(BOOLS):
        targets["value"] = pick(draw, (0, 1, 10, 2.5, 1000, -3))
    if not targets or draw(BOOLS):
        tgrain = pick(draw, ("day", "month", "quarter", "year"))
        if draw(BOOLS) or grain is None or grain.startswith("fiscal") or grain == "week":
            targets["grain"] = tgrain
        else:
            tgrain = grain
        starts = sorted({_align(d, tgrain) for d in draw(st.lists(dates(), min_size=1, max_size=3))})
        targets["periods"] = [{"period": d.isoformat() if draw(BOOLS) else d,
                               "value": pick(draw, (0, 5, 7.5, 100))} for d in starts]
    if draw(BOOLS):
        targets["higher_is_better"] = draw(BOOLS)
    return targets


def _align(day: dt.date, grain: str) -> dt.date:
    if grain == "day":
        return day
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return dt.date(day.year, 1, 1)


#: Free text for labels and descriptions. No "{": a file with {{, {% or {# is a Jinja
#: template (docs: Templating), which free text is not meant to be.
FREE_TEXT = st.text(max_size=30).filter(lambda t: "{" not in t)
SHORT_TEXT = st.text(min_size=1, max_size=12).filter(lambda t: "{" not in t)


def metric_extras(draw: st.DrawFn) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if chance(draw, 4):
        extra["label"] = draw(st.one_of(
            SHORT_TEXT,
            st.dictionaries(st.sampled_from(("en", "pl", "it", "zh", "ru", "ro")),
                            FREE_TEXT, min_size=1, max_size=3)))
    if chance(draw, 4):
        extra["description"] = draw(FREE_TEXT)
    if chance(draw, 4):
        extra["format"] = pick(draw, FORMATS)
    if chance(draw, 6):
        extra["meta"] = {"helper": draw(BOOLS), "owner": draw(FREE_TEXT)}
    return extra


@st.composite
def projects(draw: st.DrawFn, strict: bool = True, max_models: int = 3,
             max_metrics: int = 6, pack: bool = False) -> Project:
    """A whole project. ``strict``: valid and executable on DuckDB/SQLite (see module doc)."""
    if strict:
        # snippets in another dialect are transpiled for the engine that runs them
        dialect = pick(draw, ("duckdb",) * 6 + ("postgres", "postgres", "mysql", "snowflake",
                                                 "bigquery", "sqlite", "trino", "tsql"))
    else:
        dialect = pick(draw, DIALECTS + DIALECT_ALIASES)
    settings: dict[str, Any] = {}
    if dialect != "duckdb" or draw(BOOLS):
        settings["dialect"] = dialect
    if chance(draw, 3):
        settings["week_start"] = pick(draw, WEEKDAYS)
    if chance(draw, 3):
        settings["fiscal_year_start_month"] = draw(ints(1, 12))
    if chance(draw, 4):
        settings["fiscal_year_label"] = pick(draw, ("start", "end"))
    if chance(draw, 5):
        settings["timezone"] = pick(draw, ZONES)
    if chance(draw, 6):
        settings["version"] = 1
        settings["name"] = draw(FREE_TEXT)
    if pack:  # a project with its own specs includes a pack only when it lists it
        settings["packs"] = ["crm"]
    taken_models: set[str] = set()
    taken_tables: set[str] = set()
    models = [draw(model_specs(strict, taken_models, taken_tables, pack))
              for _ in range(draw(ints(1, max_models)))]
    add_joins(draw, models, strict)
    project = Project(dialect=dialect, settings=settings, models=models, metrics=[],
                      quote_all=chance(draw, 5),
                      split_files=draw(BOOLS))
    taken_metrics: set[str] = set()
    for _ in range(draw(ints(1, max_metrics))):
        project.metrics.append(metric_spec(draw, project, strict, taken_metrics, pack))
    return project


def metric_spec(draw: st.DrawFn, project: Project, strict: bool, taken: set[str],
                pack: bool = False) -> Metric:
    kinds = ["simple", "simple", "ratio"]
    referable = [m.name for m in project.metrics]
    if referable:
        kinds.append("derived")
    if not strict and chance(draw, 3):
        kinds += ["nps", "funnel", "cohort_retention"]
    kind = pick(draw, kinds)
    name = fresh(draw, names(strict, PACK_METRICS if pack else ()), taken)
    metric = Metric(name=name, type=kind, extra=metric_extras(draw))
    if kind == "simple":
        metric.measure = measure_specs(draw, project, strict)
    elif kind == "ratio":
        metric.numerator = measure_specs(draw, project, strict)
        metric.denominator = measure_specs(draw, project, strict)
        if draw(BOOLS):
            metric.scale = pick(draw, (100, 1000, 0.5, 1, -1))
    elif kind == "derived":
        metric.expr = derived_expr(draw, referable, metric, taken)
    else:
        plugin_metric(draw, project, metric)
    models = [project.model(m.model) for m in metric.measures()]
    if kind == "derived":
        models = [project.model(m.model) for m in reached_measures(project, metric)]
    if chance(draw, 4) and kind in ("simple", "ratio", "derived"):
        atoms = common_atoms(project, models) if strict else \
            [a for m in models for a in metric_atoms(project, m)[0]]
        if atoms:
            metric.filter = bool_expr(draw, atoms, 1)
    if chance(draw, 4):
        metric.grain = pick(draw, GRAINS)
    if chance(draw, 4):
        metric.targets = targets_spec(draw, metric.grain)
    return metric


def reached_measures(project: Project, metric: Metric, seen: frozenset[str] = frozenset()
                     ) -> list[Measure]:
    """Every measure a metric reads, through derived metrics."""
    if metric.type != "derived":
        return metric.measures()
    out: list[Measure] = []
    refs = {m for m in metric.expr.names()} if metric.expr is not None else set()
    refs |= {m for _, m, _ in metric.inputs}
    for ref in sorted(refs):
        if ref in seen:
            continue
        try:
            other = project.metric(ref)
        except StopIteration:
            continue
        out += reached_measures(project, other, seen | {metric.name})
    return out


def derived_expr(draw: st.DrawFn, metric_names: Sequence[str], metric: Metric,
                 taken: set[str]) -> Expr:
    names = list(metric_names)
    if chance(draw, 6):  # an input at an offset
        base = pick(draw, names)
        input_name = f"{base}_before"[:60]
        if input_name.lower() not in {t.lower() for t in taken}:
            taken.add(input_name)
            offset = pick(draw, (None, "1 month", "2 months", "1 year", "1 quarter",
                                           "7 days", "1 week", "52 weeks"))
            metric.inputs.append((input_name, base, offset))
            names.append(input_name)

    def term(depth: int) -> Expr:
        choice = pick(draw, ["name", "name", "lit"] + (["op"] * 2 if depth else []))
        if choice == "name":
            return Name(pick(draw, names))
        if choice == "lit":
            return Lit(pick(draw, (2, 100, 0, 1)))
        op = pick(draw, "+-*/")
        a, b = term(depth - 1), term(depth - 1)
        return Div(a, b) if op == "/" else Arith(op, a, b)

    expr = term(2)
    if not expr.names() & set(names):
        expr = Arith("+", Name(pick(draw, names)), expr)
    return expr


def plugin_metric(draw: st.DrawFn, project: Project, metric: Metric) -> None:
    """Fields of the CRM plugin metric types (nps, funnel, cohort_retention)."""
    model = pick(draw, project.models)
    cols = [c.name for c in model.columns]
    if metric.type == "nps":
        metric.extra.update({"model": model.name, "score": pick(draw, cols),
                             "scale": pick(draw, ("0-10", "1-5", "0-100"))})
        if draw(BOOLS):
            metric.extra["promoters"] = {"min": pick(draw, (9, 4, 11, 0.5))}
        if draw(BOOLS):
            metric.extra["detractors"] = {"max": pick(draw, (6, 2, 9, -1))}
        if draw(BOOLS) and model.time_columns():
            metric.extra["time"] = pick(draw, model.time_columns()).name
    elif metric.type == "funnel":
        steps = []
        for i in range(draw(ints(2, 3))):
            m = pick(draw, project.models)
            step: dict[str, Any] = {"name": f"step{i}", "model": m.name}
            mcols = [c.name for c in m.columns]
            if i == 0:
                step["count"] = pick(draw, mcols)
            else:
                step["on"] = pick(draw, mcols)
                if draw(BOOLS):
                    step["within"] = f"{draw(ints(1, 40))} days"
            if draw(BOOLS):
                step["filter"] = bool_expr(draw, own_atoms(m), 1).sql(project.render)
            steps.append(step)
        metric.extra["steps"] = steps
    else:
        metric.extra["model"] = model.name
        if draw(BOOLS):
            metric.extra["ages"] = draw(ints(0, 14))


# ---------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------


@st.composite
def datasets(draw: st.DrawFn, project: Project, max_rows: int = 24) -> dict[str, list[dict[str, Any]]]:
    """Rows per model (keyed by physical column name); joins hit, miss or are NULL."""
    rows: dict[str, list[dict[str, Any]]] = {}
    keys: dict[str, list[int]] = {}
    extreme = chance(draw, 12)  # a few times far away: long spines, zone table ends
    for model in reversed(project.models):  # join targets first
        n = draw(ints(0, max_rows)) if chance(draw, 4) else draw(ints(max_rows // 3, max_rows))
        pks = draw(st.lists(st.integers(1, 40), min_size=n, max_size=n, unique=True))
        keys[model.name] = pks
        join_cols = {on: target for target, on, _ in model.joins}
        table = []
        for pk in pks:
            row: dict[str, Any] = {}
            for c in model.columns:
                if c.name == model.pk:
                    row[c.physical] = pk
                elif c.name in join_cols:
                    parents = (keys.get(join_cols[c.name]) or [99]) + [None, 77]
                    row[c.physical] = pick(draw, parents)
                else:
                    row[c.physical] = draw(values_or_null(c.kind))
                    if extreme and c.kind == "timestamp" and chance(draw, 10):
                        row[c.physical] = pick(draw, EXTREME_TIMES)
            table.append(row)
        rows[model.name] = table
    return rows


# ---------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------


@dataclass
class Query:
    metrics: list[str]
    options: dict[str, Any]
    where: Expr | None = None  # the tree behind options["where"], for the reference

    def cli_args(self) -> list[str]:
        args = list(self.metrics)
        flags = {"start": "--from", "end": "--to", "as_of": "--as-of", "where": "--where",
                 "grain": "--grain", "compare": "--compare", "baseline": "--baseline",
                 "week_start": "--week-start", "fiscal_year_start_month":
                 "--fiscal-year-start-month", "fiscal_year_label": "--fiscal-year-label",
                 "timezone": "--timezone", "partial": "--partial", "dialect": "--dialect"}
        for key, value in self.options.items():
            if key == "by":
                for dim in value:
                    args += ["--by", dim]
            elif key == "targets":
                if value:
                    args.append("--targets")
            elif value is not None:
                args += [flags[key], str(value)]
        return args


RELATIVE = ("today", "yesterday", "tomorrow", "start_of_month", "start_of_quarter",
            "start_of_year", "start_of_week", "start_of_fiscal_quarter", "start_of_fiscal_year",
            "-12 months", "-3 months", "+1 day", "start_of_month -1 month",
            "start_of_quarter -1 quarter", "2024-01-31 +1 month", "start_of_year -1 year +2 weeks",
            "-1 years", "start_of_day")
BAD_DATES = ("2024-13-01", "2024-02-30", "yesterday-ish", "", " ", "-1 fortnight", "0000-01-01",
             "2024/01/01", "start_of_decade", "+-1 day", "1e9 days", "\u0661\u0662", "-1.5 days",
             "2024-01-01T00:00", "20240101", "+1 day +1 dayz")
#: Dates at the ends of Python's calendar, and relative dates past them.
EXTREME_DATES = ("0001-01-01", "9999-12-31", "-99999999 years", "2024-01-01 +999999 months",
                 "9999-12-31 +1 day", "0001-01-01 -1 day")


def range_dates(draw: st.DrawFn, strict: bool) -> tuple[str | None, str | None, str | None]:
    """(--from, --to, --as-of)."""
    as_of = (DAY0 + dt.timedelta(days=draw(ints(60, DAYS)))).isoformat()
    kind = pick(draw, ("none", "iso", "iso", "iso", "aligned", "relative", "half")
                                + (() if strict else ("bad",)))
    if kind == "none":
        return None, None, None
    if kind in ("iso", "aligned"):
        a = DAY0 + dt.timedelta(days=draw(ints(-40, DAYS) if chance(draw, 3) else
                                          ints(DENSE - 30, DENSE + 100)))
        b = a + dt.timedelta(days=draw(ints(1, 400)))
        if kind == "aligned":
            a, b = a.replace(day=1), b.replace(day=1) + dt.timedelta(days=32)
            b = b.replace(day=1)
        return a.isoformat(), b.isoformat(), None
    if kind == "relative":
        return (pick(draw, RELATIVE), pick(draw, RELATIVE),
                as_of if strict or draw(BOOLS) else None)
    if kind == "half":
        a = DAY0 + dt.timedelta(days=draw(ints(0, DAYS)))
        return (a.isoformat(), None, None) if draw(BOOLS) else (None, a.isoformat(), None)
    odd = BAD_DATES + RELATIVE + EXTREME_DATES
    return (pick(draw, odd), pick(draw, odd), pick(draw, (None, "2024-05-17", "not-a-date")))


def reachable_dimensions(project: Project, model: Model) -> list[str]:
    """`--by` names that resolve from ``model`` (own dims, unambiguous joined, qualified)."""
    own = [d.name for d in model.dimensions]
    out = list(own) + [f"{model.name}.{d}" for d in own]
    counts: dict[str, int] = {}
    others = [project.model(n) for n in reachable(project, model) if n != model.name]
    for other in others:
        for d in other.dimensions:
            counts[d.name] = counts.get(d.name, 0) + 1
            out.append(f"{other.name}.{d.name}")
    out += [n for n, c in counts.items() if c == 1 and n not in own]
    return out


def dimension_kind(project: Project, model: Model, name: str) -> str | None:
    """The kind of the dimension ``--by name`` means from ``model`` (own, qualified, joined)."""
    owner, _, plain = name.rpartition(".")
    if owner:
        dim = project.model(owner).dimension(plain)
        return dim.kind if dim else None
    if model.dimension(plain) is not None:
        return model.dimension(plain).kind  # type: ignore[union-attr]
    for other in reachable(project, model):
        dim = project.model(other).dimension(plain)
        if dim is not None:
            return dim.kind
    return None


@st.composite
def queries(draw: st.DrawFn, project: Project, strict: bool = True) -> Query:
    names = [m.name for m in project.metrics]
    if strict:
        names = [m.name for m in project.metrics if m.type in ("simple", "ratio", "derived")]
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    if not strict and chance(draw, 11):
        chosen = pick(draw, [[], ["no_such_metric"], chosen + chosen[:1]])
    options: dict[str, Any] = {}
    where: Expr | None = None
    measures = [m for n in chosen if n in names for m in reached_measures(project, project.metric(n))]
    models = [project.model(m.model) for m in measures]
    if strict:
        # each measure's model resolves a --by name on its own (conformed dimensions), to
        # dimensions of one kind (a bool on one model and text on another mix in one column)
        dims = set.intersection(*(set(reachable_dimensions(project, m)) for m in models)) \
            if models else set()
        dims = {d for d in dims if len({dimension_kind(project, m, d) for m in models}) == 1}
    else:
        dims = {d for m in project.models for d in reachable_dimensions(project, m)}
        dims |= {"nope", "x.y", "period", "amount"}
    if dims and draw(BOOLS):
        options["by"] = draw(st.lists(st.sampled_from(sorted(dims)), min_size=1, max_size=2,
                                      unique=True))
    if draw(ints(0, 3)):
        options["grain"] = pick(draw, GRAINS if strict else GRAINS + ("decade", "Month", ""))
    start, end, as_of = range_dates(draw, strict)
    if start is not None:
        options["start"] = start
    if end is not None:
        options["end"] = end
    if as_of is not None:
        options["as_of"] = as_of
    if chance(draw, 3):
        atoms = common_atoms(project, models) if strict else \
            [a for m in project.models for a in metric_atoms(project, m)[0]]
        if atoms:
            where = bool_expr(draw, atoms, 1)
            options["where"] = where.sql(project.render)
        elif not strict:
            options["where"] = "1 = 1"
    if chance(draw, 4):
        options["compare"] = pick(draw, ("previous_period", "same_period_last_year"))
    elif chance(draw, 7):
        a = DAY0 + dt.timedelta(days=draw(ints(0, 300)))
        b = a + dt.timedelta(days=draw(ints(1, 200)))
        options["baseline"] = f"{a}:{b}"
        if not strict and draw(BOOLS):
            options["baseline"] = pick(draw, ("2024-01-01", "a:b", ":", "2024-02-01:2024-01-01",
                                                        "start_of_year -1 year:start_of_year"))
    if chance(draw, 4):
        options["targets"] = True
    if chance(draw, 5):
        options["week_start"] = pick(draw, WEEKDAYS)
    if chance(draw, 5):
        options["fiscal_year_start_month"] = draw(ints(1, 12))
    if chance(draw, 6):
        options["fiscal_year_label"] = pick(draw, ("start", "end"))
    if chance(draw, 6):
        options["timezone"] = pick(draw, ZONES if strict else ZONES + BAD_ZONES)
    if chance(draw, 5):
        options["partial"] = pick(draw, ("keep", "drop"))
    if not strict and chance(draw, 9):
        options["compare"] = pick(draw, ("baseline", "yesterday", "previous_period"))
    return Query(chosen, options, where)
