"""An independent plain-Python implementation of the CRM catalog (CATALOG.md).

Written from /work/shared/CATALOG.md alone (never from the YAML in specs/crm),
so that comparing it with kpispec's SQL checks both. Input: the reference
tables as lists of row dicts (``pyarrow.Table.to_pylist()``: timestamps are
naive UTC ``datetime``, dates ``date``, NULL is ``None``). Output, per metric:
``{(period_start_date, dimension_value_or_None): value}``.

Natural dimension and grain chosen for each metric (what test_catalog.py asks
kpispec for; "-" = no dimension):

    metric                          grain     dimension (result column <- source column)
    cac                             month     -
    cac_payback_months              month     -
    marketing_originated_pct        month     -
    traffic_to_lead_rate            month     -
    landing_page_conversion_rate    month     landing_page <- web_sessions.landing_page
    clicks_without_conversion       month     -
    signups                         month     -
    marketing_roi                   month     -
    lead_abandonment_rate           month     -
    close_rate                      month     -
    win_rate                        month     -
    sales_cycle_days                month     rep <- deals.owner_id
    stage_duration_days             month     stage <- deal_stage_history.stage
    avg_deal_size                   month     -
    net_new_revenue                 month     -
    quota_attainment                quarter   rep <- deals.owner_id / quotas.rep_id
    calls_made                      month     direction <- calls.direction
    sales_per_call                  month     -
    churn_rate                      month     -
    retention_rate                  month     -
    renewal_rate                    month     -
    avg_purchase_value              month     -
    purchase_frequency              month     -
    avg_customer_lifespan_years     month     -
    clv                             year      -
    clv_net                         year      -
    upsell_rate                     month     -
    cross_sell_rate                 month     -
    avg_revenue_per_customer        month     -
    customer_retention_cost         month     -
    nps                             month     -
    ces                             month     -
    avg_resolution_hours            month     agent_id <- tickets.agent_id
    logins_per_user                 month     -
    records_created                 month     -
    crm_roi                         month     -

Readings taken where the catalog could be read two ways (each follows the
"Precise rules"):

* Every measure is placed by the time column its text names, else by the
  table's event time: leads.created_at, web_sessions.started_at,
  customers.signed_up_at ("signed up") / churned_at ("churned"),
  subscriptions.started_at ("started") / renewal_due_at ("due"),
  spend.spent_on, orders.ordered_at, deal_stage_history.exited_at,
  tickets.resolved_at, calls.called_at, quotas.period_start,
  nps/ces_responses.responded_at, crm_logins.logged_in_at,
  crm_records.created_at. "Deals won" / "deals lost" are deals with stage
  'won' / 'lost' placed by closed_at (a deal with NULL closed_at is in no
  period, so an open deal is never won).
* "Deals won" in close_rate, win_rate, sales_per_call, avg_deal_size and
  quota_attainment means every won deal, whatever its deal_type (only
  net_new_revenue, upsell_rate and cross_sell_rate filter on deal_type).
* sales_per_call = (deals won, by closed_at) / (calls, by called_at) — not
  "calls with a deal_id": the rules say deals won are always placed by
  closed_at, and the catalog's text is "deals won / calls".
* cac_payback_months: the average mrr is over every subscription started in
  the period (renewal subscriptions included); gross_margin = 0.8.
* marketing_roi: a won deal's lead source is leads.source through
  deals.lead_id; a deal with no lead (NULL lead_id) is not marketing's.
  "marketing spend" is spend with category = 'marketing'.
* traffic_to_lead_rate: every lead created (any source) / distinct non-NULL
  web_sessions.visitor_id of sessions started in the period.
* clicks_without_conversion: clicked is TRUE and converted is FALSE.
* upsell_rate / cross_sell_rate: distinct non-NULL deals.customer_id of won
  deals of that deal_type closed in the period / customers active at period
  end.
* churn_rate numerator: customers whose churned_at is in the period (a
  customer who signs up and churns within one period counts there, though
  not in the denominator).
* retention_rate = 100 × (E − N) / S with E = active at period end, N =
  customers signed up in the period (by signed_up_at), S = active at period
  start. A customer signing up at exactly the first instant of a period is
  in both S and N (signed_up_at <= t).
* stage_duration_days: rows with NULL exited_at (the stage a deal is in now)
  are in no period; the average is over rows whose exited_at is in the period.
* avg_resolution_hours: tickets with NULL resolved_at are excluded; resolved
  tickets are placed by resolved_at (the rules) and grouped by agent_id.
* quota_attainment = 100 × (sum of won deal amount by closed_at, per
  owner_id) / (sum of quotas.amount by period_start, per rep_id), at quarter
  grain; a (quarter, rep) with no quota row or a quota sum of 0 is NULL.
* nps: nps_responses use the 0–10 scale (promoters 9–10, detractors 0–6).
* logins_per_user: logins / distinct user_id among that period's logins.
* clv = avg_purchase_value × purchase_frequency × avg_customer_lifespan_years,
  each of the same period (year grain); NULL when any factor is NULL.
  avg_customer_lifespan_years averages over customers whose churned_at is in
  the period.
* clv_net = (sum of orders.amount − orders.cost) / distinct ordering
  customers × avg_customer_lifespan_years − cac, all of the same period
  (year grain; cac at year grain = that year's marketing+sales spend / that
  year's sign-ups). NULL when any part is NULL.
* crm_roi: gross profit of a period is the sum of (amount − cost) of its
  orders; "the same period a year earlier" is the period starting 12 months
  earlier (month: 12 months, quarter: 4 quarters, year: the previous year).
  A period a year earlier with no orders has gross profit 0 (a sum over no
  rows is 0) — so 2023's months of the demo are compared with 0, not NULL.
  NULL when the period's crm_software spend is 0.
* Period spine (which periods must appear when no --from/--to is given):
  from the first to the last period holding a row counted by one of the
  metric's measures (after its filters, placed by its time column). A
  measure "customers active at period start/end" reads the customers table;
  its rows are placed by signed_up_at and by churned_at (the events that
  change the active set). crm_roi's year-earlier gross profit contributes
  the orders of their own periods only (not shifted a year forward). A
  period of the spine with no row at all appears as (period, None).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Row = Mapping[str, Any]
Tables = Mapping[str, list[dict[str, Any]]]
Key = tuple[dt.date, Any]
Groups = dict[Key, list[Any]]

GROSS_MARGIN = 0.8
_GRAIN_MONTHS = {"month": 1, "quarter": 3, "year": 12}


# ---------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------


def period_start(value: dt.date | dt.datetime, grain: str) -> dt.date:
    """The first day of the period (month, quarter or year) holding ``value``."""
    d = value.date() if isinstance(value, dt.datetime) else value
    if grain == "month":
        return dt.date(d.year, d.month, 1)
    if grain == "quarter":
        return dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    if grain == "year":
        return dt.date(d.year, 1, 1)
    raise ValueError(f"unsupported grain {grain!r}")


def add_months(d: dt.date, months: int) -> dt.date:
    index = d.year * 12 + d.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def next_period(p: dt.date, grain: str) -> dt.date:
    return add_months(p, _GRAIN_MONTHS[grain])


def instant(p: dt.date) -> dt.datetime:
    """The first instant of a period (midnight of its first day)."""
    return dt.datetime.combine(p, dt.time())


def periods_between(first: dt.date, last: dt.date, grain: str) -> list[dt.date]:
    out, p = [], first
    while p <= last:
        out.append(p)
        p = next_period(p, grain)
    return out


# ---------------------------------------------------------------------------------
# Arithmetic with SQL's NULL
# ---------------------------------------------------------------------------------


def div(a: Any, b: Any) -> float | None:
    """A ratio: NULL when either side is NULL or the denominator is 0."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def pct(a: Any, b: Any) -> float | None:
    r = div(a, b)
    return None if r is None else 100 * r


def mul(*xs: Any) -> float | None:
    if any(x is None for x in xs):
        return None
    out = 1.0
    for x in xs:
        out *= x
    return out


def sub(a: Any, b: Any) -> float | None:
    return None if a is None or b is None else a - b


def count(values: list[Any]) -> int:
    """count(*) of the group's rows (every row of the group counts)."""
    return len(values)


def total(values: list[Any]) -> float:
    """sum over the group; NULLs skipped; 0 over no rows."""
    present = [v for v in values if v is not None]
    return math.fsum(present) if present else 0


def mean(values: list[Any]) -> float | None:
    present = [v for v in values if v is not None]
    return math.fsum(present) / len(present) if present else None


def distinct(values: list[Any]) -> int:
    return len({v for v in values if v is not None})


def days(a: dt.datetime, b: dt.datetime) -> float:
    """Exact days from a to b (seconds / 86,400)."""
    return (b - a).total_seconds() / 86_400


def hours(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a).total_seconds() / 3_600


def years(a: dt.datetime, b: dt.datetime) -> float:
    return days(a, b) / 365.25


# ---------------------------------------------------------------------------------
# Grouping rows into (period, dimension) buckets
# ---------------------------------------------------------------------------------


def group(rows: Iterable[Row], time: str, grain: str, *,
          where: Callable[[Row], bool] | None = None,
          value: Callable[[Row], Any] | None = None,
          dim: str | Callable[[Row], Any] | None = None) -> Groups:
    """One value per counted row, by (period of ``time``, dimension value).

    Rows whose time is NULL are in no period; ``where`` must be True (not
    merely truthy-NULL) for a row to count.
    """
    out: Groups = {}
    for r in rows:
        t = r[time]
        if t is None or (where is not None and where(r) is not True):
            continue
        if dim is None:
            d = None
        elif callable(dim):
            d = dim(r)
        else:
            d = r[dim]
        out.setdefault((period_start(t, grain), d), []).append(value(r) if value else 1)
    return out


def is_(column: str, *values: Any) -> Callable[[Row], bool]:
    """SQL ``column IN (values)``: False for NULL (never counted)."""
    return lambda r: r[column] is not None and r[column] in values


class Customers:
    """"Active at t": signed_up_at <= t and (churned_at is null or churned_at > t)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def active_at_start(self, p: dt.date) -> int:
        t = instant(p)
        return sum(1 for c in self.rows
                   if c["signed_up_at"] is not None and c["signed_up_at"] <= t
                   and (c["churned_at"] is None or c["churned_at"] > t))

    def active_at_end(self, p: dt.date, grain: str) -> int:
        """Signed up before the next period starts and not churned before it."""
        t = instant(next_period(p, grain))
        return sum(1 for c in self.rows
                   if c["signed_up_at"] is not None and c["signed_up_at"] < t
                   and (c["churned_at"] is None or c["churned_at"] >= t))

    def event_periods(self, grain: str) -> set[dt.date]:
        """Periods where the active set changes: sign-ups and churns (the spine)."""
        return {period_start(c[col], grain) for c in self.rows
                for col in ("signed_up_at", "churned_at") if c[col] is not None}


# ---------------------------------------------------------------------------------
# Assembling a result
# ---------------------------------------------------------------------------------

Fn = Callable[[Key, Mapping[str, list[Any]]], Any]


@dataclass
class Plan:
    """A metric's measures grouped by (period, dimension) — ``parts`` — and how to
    combine one key's values into the metric's value — ``fn(key, {part: values})``.
    ``spine`` adds periods holding rows that no part counts (snapshot measures)."""

    parts: dict[str, Groups]
    fn: Fn
    spine: set[dt.date] = field(default_factory=set)


def assemble(grain: str, plan: Plan, start: dt.date | None = None,
             end: dt.date | None = None) -> dict[Key, Any]:
    """Evaluate the plan on every key that some part has rows for, plus
    ``(period, None)`` for each period of the spine without any row.

    Without a range the spine runs from the first to the last period with rows;
    ``start`` (inclusive) and ``end`` (exclusive) fix it instead (--from/--to).
    """
    keys: set[Key] = set()
    for groups in plan.parts.values():
        keys |= set(groups)
    periods = {k[0] for k in keys} | plan.spine
    if start is not None:
        first = period_start(start, grain)
        keys = {k for k in keys if k[0] >= first}
    elif periods:
        first = min(periods)
    else:
        return {}
    if end is not None:
        last = period_start(end - dt.timedelta(days=1), grain)
        keys = {k for k in keys if k[0] <= last}
    elif periods:
        last = max(periods)
    else:
        return {}
    for p in periods_between(first, last, grain):
        if not any(k[0] == p for k in keys):
            keys.add((p, None))
    empty: list[Any] = []
    return {k: plan.fn(k, {name: groups.get(k, empty) for name, groups in plan.parts.items()})
            for k in sorted(keys, key=lambda k: (k[0], k[1] is None,
                                                 k[1] if k[1] is not None else 0))}


# ---------------------------------------------------------------------------------
# The metrics
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefMetric:
    name: str
    grain: str
    dim: str | None  # the dimension asked of kpispec (its result column), or None
    plan: Callable[[Tables, str, bool], Plan]  # (tables, grain, group by the dimension?)
    empty: Any  # the value of a (period, dimension) pair with no rows: 0 or None


def _won(r: Row) -> bool:
    return r["stage"] == "won"


def _by(column: str, on: bool) -> str | None:
    return column if on else None


def _cac(t: Tables, g: str, on: bool) -> Plan:
    parts = {
        "spend": group(t["spend"], "spent_on", g, where=is_("category", "marketing", "sales"),
                       value=lambda r: r["amount"]),
        "signups": group(t["customers"], "signed_up_at", g),
    }
    return Plan(parts, lambda k, v: div(total(v["spend"]), count(v["signups"])))


def _cac_payback_months(t: Tables, g: str, on: bool) -> Plan:
    cac = _cac(t, g, on)
    parts = {**cac.parts,
             "subs": group(t["subscriptions"], "started_at", g, value=lambda r: r["mrr"])}
    return Plan(parts, lambda k, v: div(cac.fn(k, v), mul(mean(v["subs"]), GROSS_MARGIN)))


def _marketing_originated_pct(t: Tables, g: str, on: bool) -> Plan:
    parts = {"mkt": group(t["customers"], "signed_up_at", g,
                          where=is_("originated_by", "marketing")),
             "all": group(t["customers"], "signed_up_at", g)}
    return Plan(parts, lambda k, v: pct(count(v["mkt"]), count(v["all"])))


def _traffic_to_lead_rate(t: Tables, g: str, on: bool) -> Plan:
    parts = {"leads": group(t["leads"], "created_at", g),
             "visitors": group(t["web_sessions"], "started_at", g,
                               value=lambda r: r["visitor_id"])}
    return Plan(parts, lambda k, v: pct(count(v["leads"]), distinct(v["visitors"])))


def _landing_page_conversion_rate(t: Tables, g: str, on: bool) -> Plan:
    dim = _by("landing_page", on)
    parts = {"conv": group(t["web_sessions"], "started_at", g,
                           where=lambda r: r["converted"] is True, dim=dim),
             "all": group(t["web_sessions"], "started_at", g, dim=dim)}
    return Plan(parts, lambda k, v: pct(count(v["conv"]), count(v["all"])))


def _clicks_without_conversion(t: Tables, g: str, on: bool) -> Plan:
    parts = {"rows": group(t["web_sessions"], "started_at", g,
                           where=lambda r: r["clicked"] is True and r["converted"] is False)}
    return Plan(parts, lambda k, v: count(v["rows"]))


def _signups(t: Tables, g: str, on: bool) -> Plan:
    parts = {"rows": group(t["web_sessions"], "started_at", g,
                           where=lambda r: r["converted"] is True)}
    return Plan(parts, lambda k, v: count(v["rows"]))


def _marketing_roi(t: Tables, g: str, on: bool) -> Plan:
    source = {lead["lead_id"]: lead["source"] for lead in t["leads"]}
    parts = {
        "won": group(t["deals"], "closed_at", g,
                     where=lambda r: _won(r) and source.get(r["lead_id"]) == "marketing",
                     value=lambda r: r["amount"]),
        "spend": group(t["spend"], "spent_on", g, where=is_("category", "marketing"),
                       value=lambda r: r["amount"]),
    }

    def fn(k: Key, v: Mapping[str, list[Any]]) -> Any:
        spend = total(v["spend"])
        return pct(total(v["won"]) - spend, spend)

    return Plan(parts, fn)


def _lead_abandonment_rate(t: Tables, g: str, on: bool) -> Plan:
    parts = {"abandoned": group(t["leads"], "created_at", g, where=is_("status", "abandoned")),
             "all": group(t["leads"], "created_at", g)}
    return Plan(parts, lambda k, v: pct(count(v["abandoned"]), count(v["all"])))


def _close_rate(t: Tables, g: str, on: bool) -> Plan:
    parts = {"won": group(t["deals"], "closed_at", g, where=_won),
             "leads": group(t["leads"], "created_at", g)}
    return Plan(parts, lambda k, v: pct(count(v["won"]), count(v["leads"])))


def _win_rate(t: Tables, g: str, on: bool) -> Plan:
    parts = {"won": group(t["deals"], "closed_at", g, where=_won),
             "closed": group(t["deals"], "closed_at", g, where=is_("stage", "won", "lost"))}
    return Plan(parts, lambda k, v: pct(count(v["won"]), count(v["closed"])))


def _sales_cycle_days(t: Tables, g: str, on: bool) -> Plan:
    parts = {"won": group(t["deals"], "closed_at", g, where=_won, dim=_by("owner_id", on),
                          value=lambda r: None if r["created_at"] is None
                          else days(r["created_at"], r["closed_at"]))}
    return Plan(parts, lambda k, v: mean(v["won"]))


def _stage_duration_days(t: Tables, g: str, on: bool) -> Plan:
    parts = {"rows": group(t["deal_stage_history"], "exited_at", g, dim=_by("stage", on),
                           value=lambda r: None if r["entered_at"] is None
                           else days(r["entered_at"], r["exited_at"]))}
    return Plan(parts, lambda k, v: mean(v["rows"]))


def _avg_deal_size(t: Tables, g: str, on: bool) -> Plan:
    parts = {"won": group(t["deals"], "closed_at", g, where=_won, value=lambda r: r["amount"])}
    return Plan(parts, lambda k, v: mean(v["won"]))


def _net_new_revenue(t: Tables, g: str, on: bool) -> Plan:
    parts = {"won": group(t["deals"], "closed_at", g,
                          where=lambda r: _won(r) and r["deal_type"] == "new",
                          value=lambda r: r["amount"])}
    return Plan(parts, lambda k, v: total(v["won"]))


def _quota_attainment(t: Tables, g: str, on: bool) -> Plan:
    parts = {"won": group(t["deals"], "closed_at", g, where=_won, dim=_by("owner_id", on),
                          value=lambda r: r["amount"]),
             "quota": group(t["quotas"], "period_start", g, dim=_by("rep_id", on),
                            value=lambda r: r["amount"])}

    def fn(k: Key, v: Mapping[str, list[Any]]) -> Any:
        if not v["quota"]:
            return None  # no quota for this rep in this period
        return pct(total(v["won"]), total(v["quota"]))

    return Plan(parts, fn)


def _calls_made(t: Tables, g: str, on: bool) -> Plan:
    parts = {"calls": group(t["calls"], "called_at", g, dim=_by("direction", on))}
    return Plan(parts, lambda k, v: count(v["calls"]))


def _sales_per_call(t: Tables, g: str, on: bool) -> Plan:
    parts = {"won": group(t["deals"], "closed_at", g, where=_won),
             "calls": group(t["calls"], "called_at", g)}
    return Plan(parts, lambda k, v: div(count(v["won"]), count(v["calls"])))


def _churn_rate(t: Tables, g: str, on: bool) -> Plan:
    cust = Customers(t["customers"])
    parts = {"churned": group(t["customers"], "churned_at", g)}
    return Plan(parts, lambda k, v: pct(count(v["churned"]), cust.active_at_start(k[0])),
                cust.event_periods(g))


def _retention_rate(t: Tables, g: str, on: bool) -> Plan:
    cust = Customers(t["customers"])
    parts = {"signups": group(t["customers"], "signed_up_at", g)}

    def fn(k: Key, v: Mapping[str, list[Any]]) -> Any:
        return pct(cust.active_at_end(k[0], g) - count(v["signups"]), cust.active_at_start(k[0]))

    return Plan(parts, fn, cust.event_periods(g))


def _renewal_rate(t: Tables, g: str, on: bool) -> Plan:
    parts = {"renewed": group(t["subscriptions"], "renewal_due_at", g,
                              where=lambda r: r["renewed"] is True),
             "due": group(t["subscriptions"], "renewal_due_at", g)}
    return Plan(parts, lambda k, v: pct(count(v["renewed"]), count(v["due"])))


def _orders(t: Tables, g: str) -> Groups:
    return group(t["orders"], "ordered_at", g, value=lambda r: r)


def _amounts(rows: list[Row]) -> list[Any]:
    return [r["amount"] for r in rows]


def _buyers(rows: list[Row]) -> int:
    return distinct([r["customer_id"] for r in rows])


def _profit(rows: list[Row]) -> float:
    return total([None if r["amount"] is None or r["cost"] is None else r["amount"] - r["cost"]
                  for r in rows])


def _avg_purchase_value(t: Tables, g: str, on: bool) -> Plan:
    return Plan({"orders": _orders(t, g)},
                lambda k, v: div(total(_amounts(v["orders"])), count(v["orders"])))


def _purchase_frequency(t: Tables, g: str, on: bool) -> Plan:
    return Plan({"orders": _orders(t, g)},
                lambda k, v: div(count(v["orders"]), _buyers(v["orders"])))


def _lifespans(t: Tables, g: str) -> Groups:
    return group(t["customers"], "churned_at", g,
                 value=lambda r: None if r["signed_up_at"] is None
                 else years(r["signed_up_at"], r["churned_at"]))


def _avg_customer_lifespan_years(t: Tables, g: str, on: bool) -> Plan:
    return Plan({"life": _lifespans(t, g)}, lambda k, v: mean(v["life"]))


def _clv(t: Tables, g: str, on: bool) -> Plan:
    def fn(k: Key, v: Mapping[str, list[Any]]) -> Any:
        orders = v["orders"]
        value = div(total(_amounts(orders)), count(orders))
        frequency = div(count(orders), _buyers(orders))
        return mul(value, frequency, mean(v["life"]))

    return Plan({"orders": _orders(t, g), "life": _lifespans(t, g)}, fn)


def _clv_net(t: Tables, g: str, on: bool) -> Plan:
    cac = _cac(t, g, on)

    def fn(k: Key, v: Mapping[str, list[Any]]) -> Any:
        profit_per_customer = div(_profit(v["orders"]), _buyers(v["orders"]))
        return sub(mul(profit_per_customer, mean(v["life"])), cac.fn(k, v))

    return Plan({**cac.parts, "orders": _orders(t, g), "life": _lifespans(t, g)}, fn)


def _expansion_rate(deal_type: str) -> Callable[[Tables, str, bool], Plan]:
    def plan(t: Tables, g: str, on: bool) -> Plan:
        cust = Customers(t["customers"])
        parts = {"buyers": group(t["deals"], "closed_at", g,
                                 where=lambda r: _won(r) and r["deal_type"] == deal_type,
                                 value=lambda r: r["customer_id"])}
        return Plan(parts,
                    lambda k, v: pct(distinct(v["buyers"]), cust.active_at_end(k[0], g)),
                    cust.event_periods(g))

    return plan


def _avg_revenue_per_customer(t: Tables, g: str, on: bool) -> Plan:
    return Plan({"orders": _orders(t, g)},
                lambda k, v: div(total(_amounts(v["orders"])), _buyers(v["orders"])))


def _customer_retention_cost(t: Tables, g: str, on: bool) -> Plan:
    cust = Customers(t["customers"])
    parts = {"spend": group(t["spend"], "spent_on", g, where=is_("category", "retention"),
                            value=lambda r: r["amount"])}
    return Plan(parts, lambda k, v: div(total(v["spend"]), cust.active_at_end(k[0], g)),
                cust.event_periods(g))


def _nps(t: Tables, g: str, on: bool) -> Plan:
    parts = {"scores": group(t["nps_responses"], "responded_at", g, value=lambda r: r["score"])}

    def fn(k: Key, v: Mapping[str, list[Any]]) -> Any:
        scores = v["scores"]
        promoters = sum(1 for s in scores if s is not None and 9 <= s <= 10)
        detractors = sum(1 for s in scores if s is not None and 0 <= s <= 6)
        return pct(promoters - detractors, count(scores))

    return Plan(parts, fn)


def _ces(t: Tables, g: str, on: bool) -> Plan:
    parts = {"scores": group(t["ces_responses"], "responded_at", g, value=lambda r: r["score"])}
    return Plan(parts, lambda k, v: mean(v["scores"]))


def _avg_resolution_hours(t: Tables, g: str, on: bool) -> Plan:
    parts = {"resolved": group(t["tickets"], "resolved_at", g, dim=_by("agent_id", on),
                               value=lambda r: hours(r["opened_at"], r["resolved_at"]))}
    return Plan(parts, lambda k, v: mean(v["resolved"]))


def _logins_per_user(t: Tables, g: str, on: bool) -> Plan:
    parts = {"logins": group(t["crm_logins"], "logged_in_at", g, value=lambda r: r["user_id"])}
    return Plan(parts, lambda k, v: div(count(v["logins"]), distinct(v["logins"])))


def _records_created(t: Tables, g: str, on: bool) -> Plan:
    parts = {"records": group(t["crm_records"], "created_at", g)}
    return Plan(parts, lambda k, v: count(v["records"]))


def _crm_roi(t: Tables, g: str, on: bool) -> Plan:
    orders = _orders(t, g)
    parts = {"orders": orders,
             "software": group(t["spend"], "spent_on", g, where=is_("category", "crm_software"),
                               value=lambda r: r["amount"])}

    def fn(k: Key, v: Mapping[str, list[Any]]) -> Any:
        year_earlier = (add_months(k[0], -12), k[1])
        profit_before = _profit(orders.get(year_earlier, []))  # 0 over no rows
        software = total(v["software"])
        return pct(_profit(v["orders"]) - profit_before - software, software)

    return Plan(parts, fn)


METRICS: dict[str, RefMetric] = {m.name: m for m in [
    RefMetric("cac", "month", None, _cac, None),
    RefMetric("cac_payback_months", "month", None, _cac_payback_months, None),
    RefMetric("marketing_originated_pct", "month", None, _marketing_originated_pct, None),
    RefMetric("traffic_to_lead_rate", "month", None, _traffic_to_lead_rate, None),
    RefMetric("landing_page_conversion_rate", "month", "landing_page",
              _landing_page_conversion_rate, None),
    RefMetric("clicks_without_conversion", "month", None, _clicks_without_conversion, 0),
    RefMetric("signups", "month", None, _signups, 0),
    RefMetric("marketing_roi", "month", None, _marketing_roi, None),
    RefMetric("lead_abandonment_rate", "month", None, _lead_abandonment_rate, None),
    RefMetric("close_rate", "month", None, _close_rate, None),
    RefMetric("win_rate", "month", None, _win_rate, None),
    RefMetric("sales_cycle_days", "month", "rep", _sales_cycle_days, None),
    RefMetric("stage_duration_days", "month", "stage", _stage_duration_days, None),
    RefMetric("avg_deal_size", "month", None, _avg_deal_size, None),
    RefMetric("net_new_revenue", "month", None, _net_new_revenue, 0),
    RefMetric("quota_attainment", "quarter", "rep", _quota_attainment, None),
    RefMetric("calls_made", "month", "direction", _calls_made, 0),
    RefMetric("sales_per_call", "month", None, _sales_per_call, None),
    RefMetric("churn_rate", "month", None, _churn_rate, None),
    RefMetric("retention_rate", "month", None, _retention_rate, None),
    RefMetric("renewal_rate", "month", None, _renewal_rate, None),
    RefMetric("avg_purchase_value", "month", None, _avg_purchase_value, None),
    RefMetric("purchase_frequency", "month", None, _purchase_frequency, None),
    RefMetric("avg_customer_lifespan_years", "month", None, _avg_customer_lifespan_years, None),
    RefMetric("clv", "year", None, _clv, None),
    RefMetric("clv_net", "year", None, _clv_net, None),
    RefMetric("upsell_rate", "month", None, _expansion_rate("upsell"), None),
    RefMetric("cross_sell_rate", "month", None, _expansion_rate("cross_sell"), None),
    RefMetric("avg_revenue_per_customer", "month", None, _avg_revenue_per_customer, None),
    RefMetric("customer_retention_cost", "month", None, _customer_retention_cost, None),
    RefMetric("nps", "month", None, _nps, None),
    RefMetric("ces", "month", None, _ces, None),
    RefMetric("avg_resolution_hours", "month", "agent_id", _avg_resolution_hours, None),
    RefMetric("logins_per_user", "month", None, _logins_per_user, None),
    RefMetric("records_created", "month", None, _records_created, 0),
    RefMetric("crm_roi", "month", None, _crm_roi, None),
]}

assert len(METRICS) == 36, len(METRICS)


def compute(name: str, tables: Tables, grain: str | None = None, *, by_dim: bool = True,
            start: dt.date | None = None, end: dt.date | None = None) -> dict[Key, Any]:
    """``{(period, dimension value or None): value}`` of one metric.

    ``grain``: the metric's natural grain unless given; ``by_dim``: group by the
    metric's natural dimension (if it has one); ``start``/``end``: --from/--to.
    """
    metric = METRICS[name]
    g = grain or metric.grain
    return assemble(g, metric.plan(tables, g, by_dim and metric.dim is not None), start, end)


def to_rows(arrow_tables: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """``{table: pyarrow.Table}`` → ``{table: [row dict, ...]}``."""
    return {name: table.to_pylist() for name, table in arrow_tables.items()}
