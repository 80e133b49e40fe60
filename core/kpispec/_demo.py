"""Deterministic demo data: the CRM reference schema behind ``kpispec demo``.

`generate` builds the 15 tables of the reference schema (see the catalog) as
pyarrow tables; `write_duckdb` stores them in a DuckDB file. Every draw is a
`random.Random(seed).random()` call on one stream (the one sequence Python
promises to keep across versions; picks, samples and lognormals are built on
it here), so the same arguments always give byte-identical data.

The tables are derived from one another, so that every metric of the catalog
sees consistent numbers:

- a web visitor converts in a session and becomes a lead a few minutes later;
- converted leads open exactly one ``new`` deal, created at ``converted_at``;
- a won ``new`` deal creates its customer at ``closed_at`` (plus self-serve
  sign-ups); upsell, cross-sell and renewal deals belong to existing customers;
- each customer runs a chain of yearly subscriptions; one not renewed ends the
  customer (``churned_at = renewal_due_at``), a few also leave mid-contract;
- orders, tickets and survey answers fall inside a customer's active life.

Edge cases are always present: churns, subscription starts and a few other
events at exactly 00:00:00 on the first of a month, events on 29 February when
the range covers one, a quota of 0, a missing quota, unresolved tickets, open
deals with an unfinished stage, and a few deals without a region.

pyarrow and duckdb (and the heavier stdlib modules) are imported inside the
functions, so importing this module stays cheap for the CLI.
"""

from __future__ import annotations

import bisect
import calendar
import datetime
import functools
import gc
import itertools
import math
import operator
import os
import random
import types
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow

__all__ = ["COLUMNS", "TABLES", "generate", "write_duckdb"]

# Column types: id/int -> int64, ts -> timestamp[us], str -> utf8, f64 -> float64,
# bool -> bool, date -> date32.
_SCHEMA: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("leads", (("lead_id", "id"), ("created_at", "ts"), ("source", "str"), ("status", "str"),
               ("converted_at", "ts"), ("visitor_id", "id"))),
    ("web_sessions", (("session_id", "id"), ("visitor_id", "id"), ("started_at", "ts"),
                      ("landing_page", "str"), ("clicked", "bool"), ("converted", "bool"))),
    ("deals", (("deal_id", "id"), ("lead_id", "id"), ("customer_id", "id"), ("owner_id", "id"),
               ("region", "str"), ("created_at", "ts"), ("closed_at", "ts"), ("stage", "str"),
               ("amount", "f64"), ("deal_type", "str"))),
    ("deal_stage_history", (("deal_id", "id"), ("stage", "str"), ("entered_at", "ts"),
                            ("exited_at", "ts"))),
    ("customers", (("customer_id", "id"), ("signed_up_at", "ts"), ("churned_at", "ts"),
                   ("region", "str"), ("segment", "str"), ("originated_by", "str"))),
    ("orders", (("order_id", "id"), ("customer_id", "id"), ("ordered_at", "ts"),
                ("amount", "f64"), ("cost", "f64"))),
    ("subscriptions", (("subscription_id", "id"), ("customer_id", "id"), ("started_at", "ts"),
                       ("renewal_due_at", "ts"), ("renewed", "bool"), ("mrr", "f64"))),
    ("spend", (("spent_on", "date"), ("category", "str"), ("channel", "str"), ("amount", "f64"))),
    ("nps_responses", (("response_id", "id"), ("customer_id", "id"), ("responded_at", "ts"),
                       ("score", "int"))),
    ("ces_responses", (("response_id", "id"), ("customer_id", "id"), ("responded_at", "ts"),
                       ("score", "int"))),
    ("tickets", (("ticket_id", "id"), ("customer_id", "id"), ("agent_id", "id"),
                 ("opened_at", "ts"), ("resolved_at", "ts"))),
    ("calls", (("call_id", "id"), ("rep_id", "id"), ("called_at", "ts"), ("direction", "str"),
               ("deal_id", "id"))),
    ("quotas", (("rep_id", "id"), ("period_start", "date"), ("amount", "f64"))),
    ("crm_logins", (("user_id", "id"), ("logged_in_at", "ts"))),
    ("crm_records", (("record_id", "id"), ("user_id", "id"), ("created_at", "ts"),
                     ("record_type", "str"))),
)

TABLES: tuple[str, ...] = tuple(name for name, _ in _SCHEMA)
"""The 15 table names of the reference schema, in catalog order."""

COLUMNS: Mapping[str, tuple[str, ...]] = types.MappingProxyType(
    {name: tuple(col for col, _ in cols) for name, cols in _SCHEMA}
)
"""Column names of every table, in schema order."""

_DAY = 86_400
_HOUR = 3_600
_EPOCH = datetime.date(1970, 1, 1)
_REPS = 12  # deals.owner_id, calls.rep_id, quotas.rep_id are 1..12
_AGENTS = 8  # tickets.agent_id is 1..8
_USERS = 24  # crm_logins.user_id, crm_records.user_id are 1..24
_REP_WEIGHTS = (14, 12, 11, 10, 9, 9, 8, 8, 7, 6, 4, 3)
_ZERO_QUOTA_REP, _MISSING_QUOTA_REP = 12, 11
_REGIONS = ("EMEA", "NA", "APAC", "LATAM")
_REGION_WEIGHTS = (35, 35, 20, 10)
_SEGMENTS = ("smb", "mid_market", "enterprise")
_SOURCES = ("marketing", "outbound", "referral", "partner")
_ORIGIN = {"marketing": "marketing", "outbound": "sales", "partner": "sales",
           "referral": "referral"}
_P_VISITOR = {"marketing": 0.95, "outbound": 0.0, "referral": 0.5, "partner": 0.4}
_P_CONVERT = {"marketing": 0.3, "outbound": 0.22, "referral": 0.5, "partner": 0.35}
_PAGES = ("/", "/pricing", "/features", "/blog/crm-metrics", "/demo", "/contact")
_DEAL_SIZE = {"smb": 6_000.0, "mid_market": 18_000.0, "enterprise": 60_000.0}
_CYCLE_DAYS = {"smb": 21.0, "mid_market": 45.0, "enterprise": 90.0}
_ORDER_SIZE = {"smb": 150.0, "mid_market": 600.0, "enterprise": 2_500.0}
_MRR = {"smb": 300.0, "mid_market": 1_500.0, "enterprise": 6_000.0}
_P_RENEW = {"smb": 0.75, "mid_market": 0.83, "enterprise": 0.9}
_SPEND_PLAN = (  # category, share of the sales+marketing budget, channels and weights
    ("marketing", 0.55, (("paid_search", 40), ("social", 25), ("email", 10), ("events", 25))),
    ("sales", 0.45, (("outbound", 40), ("events", 35), ("tools", 25))),
    ("retention", 0.12, (("email", 40), ("events", 20), ("loyalty", 40))),
    ("crm_software", 0.06, (("tools", 100),)),
)
_NPS_WEIGHTS = (1, 1, 1, 2, 2, 3, 4, 9, 14, 22, 22)
_NPS_WEIGHTS_CHURNER = (4, 4, 4, 5, 5, 6, 6, 8, 8, 6, 4)
_CES_WEIGHTS = (2, 3, 5, 10, 20, 30, 30)
_RECORD_TYPES = ("contact", "company", "deal", "note", "task")

_Cols = dict[str, list[Any]]
_repeat = itertools.repeat
_Sub = tuple[int, int, bool, float]  # started_at, renewal_due_at, renewed, mrr


def _secs(day: datetime.date) -> int:
    """Seconds from 1970-01-01 to midnight of *day*."""
    return (day - _EPOCH).days * _DAY


def _add_months(day: datetime.date, months: int) -> datetime.date:
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return datetime.date(year, month0 + 1, min(day.day, last))


def _plus_one_year(t: int) -> int:
    """*t* + 1 calendar year (29 February → 28 February, as SQL intervals do)."""
    days, rest = divmod(t, _DAY)
    return _next_year(days) * _DAY + rest


@functools.lru_cache(maxsize=4096)
def _next_year(days: int) -> int:
    day = _EPOCH + datetime.timedelta(days=days)
    last = calendar.monthrange(day.year + 1, day.month)[1]
    return (day.replace(year=day.year + 1, day=min(day.day, last)) - _EPOCH).days


@functools.cache
def _lognormal_table(sigma: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Quantiles of exp(sigma·Z) and their steps: a cheap, exact-enough lognormal."""
    import statistics

    z = statistics.NormalDist()
    points = 1024
    q = tuple(math.exp(sigma * z.inv_cdf((i + 0.5) / (points + 1))) for i in range(points + 1))
    return q, tuple(b - a for a, b in itertools.pairwise(q))


class _Demo:
    """Builds the tables column by column, each step drawing from one stream.

    Times are int seconds since 1970-01-01 (UTC) until `_to_arrow`; customers
    are kept as parallel lists indexed 0..n-1 (customer_id = index + 1).
    """

    def __init__(self, rows: int, seed: int, start: datetime.date, months: int) -> None:
        self.n = rows
        self.u = random.Random(seed).random
        self.start, self.end = start, _add_months(start, months)
        self.t0, self.t1 = _secs(self.start), _secs(self.end)
        first = start.replace(day=1)
        self.bounds = [_secs(_add_months(first, k)) for k in range(months + 2)]
        self.leap: int | None = None  # noon on the first 29 February in range
        for year in range(start.year, self.end.year + 1):
            if calendar.isleap(year) and self.t0 <= _secs(datetime.date(year, 2, 29)) < self.t1:
                self.leap = _secs(datetime.date(year, 2, 29)) + 12 * _HOUR
                break
        self.out: dict[str, _Cols] = {}
        self.sort_by: dict[str, str] = {}  # tables sorted by this column, ids added after

    # -- random helpers -------------------------------------------------------
    def times(self, k: int) -> list[int]:
        t0, span, u = self.t0, self.t1 - self.t0, self.u
        return [t0 + int(u() * span) for _ in _repeat(None, k)]

    def picks(self, values: Sequence[Any], weights: Sequence[int], k: int) -> list[Any]:
        table = [v for v, w in zip(values, weights) for _ in _repeat(None, w)]
        m, u = len(table), self.u
        return [table[int(u() * m)] for _ in _repeat(None, k)]

    def flags(self, p: float, k: int) -> list[bool]:
        u = self.u
        return [u() < p for _ in _repeat(None, k)]

    def lognormals(self, medians: Sequence[float], sigma: float) -> list[float]:
        q, dq = _lognormal_table(sigma)
        top, u = len(dq), self.u
        # Linear interpolation between quantiles at a uniform position x.
        return [m * (q[i := int(x := u() * top)] + dq[i] * (x - i)) for m in medians]

    def money(self, medians: Sequence[float], sigma: float, floor: float) -> list[float]:
        return [max(int(v * 100 + 0.5) / 100, floor) for v in self.lognormals(medians, sigma)]

    def sample(self, items: Sequence[Any], k: int) -> list[Any]:
        pool, u, n = list(items), self.u, len(items)
        for i in range(k):  # partial Fisher-Yates
            j = i + int(u() * (n - i))
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]

    def month_start(self, t: int) -> int:
        return self.bounds[bisect.bisect_right(self.bounds, t) - 1]

    def next_month_start(self, t: int) -> int:
        i = bisect.bisect_right(self.bounds, t)
        if i < len(self.bounds):
            return self.bounds[i]
        day = _EPOCH + datetime.timedelta(days=t // _DAY)
        return _secs(_add_months(day.replace(day=1), 1))

    def snap(self, times: list[int], share: float, floors: Sequence[int] | None = None) -> None:
        """Move about *share* of *times* to 00:00:00 on the first of their month."""
        u, n = self.u, len(times)
        for _ in _repeat(None, int(share * n + u())):
            i = int(u() * n)
            m = self.month_start(times[i])
            if m >= self.t0 and (floors is None or m >= floors[i]):
                times[i] = m

    def in_lives(self, k: int) -> tuple[list[int], list[int]]:
        """*k* (customer index, time) pairs, uniform over the customers' active time."""
        cum, u, signup, end = self.c_cum_life, self.u, self.c_signup, self.c_end
        total, right = cum[-1], bisect.bisect_right
        who = [right(cum, int(u() * total)) for _ in _repeat(None, k)]
        return who, [signup[c] + int(u() * (end[c] - signup[c])) for c in who]

    def active_at(self, t: int) -> int | None:
        for c, (s, e) in enumerate(zip(self.c_signup, self.c_end)):
            if s <= t < e:
                return c
        return None

    # -- leads and web sessions -----------------------------------------------
    def leads(self) -> None:
        u, n, t1 = self.u, 2 * self.n, self.t1
        created = sorted(self.times(n))
        source = self.picks(_SOURCES, (45, 25, 15, 15), n)
        has_visitor = [u() < _P_VISITOR[s] for s in source]
        conv_at = [t + _HOUR + int(_DAY * 20 * u() ** 2) for t in created]
        # Weighted sample without replacement (Efraimidis-Spirakis) of converting leads.
        inverse = {s: 1.0 / p for s, p in _P_CONVERT.items()}
        keys = [u() ** inverse[s] if c < t1 else -1.0 for s, c in zip(source, conv_at)]
        k = min(round(0.62 * self.n), sum(c < t1 for c in conv_at))
        cut = sorted(keys)[-k] if k else 2.0
        chosen = [i for i, key in enumerate(keys) if key >= cut][:k]
        converted = set(chosen)
        status = []
        for i, t in enumerate(created):
            if i in converted:
                status.append("converted")
            elif (t1 - t < 45 * _DAY and u() < 0.8) or u() < 0.08:
                status.append("open")
            else:
                status.append("abandoned")
        # Leads without a web visit may be logged at midnight on the 1st (imports).
        self.snap(created, 0.01, [t1 if v else 0 for v in has_visitor])
        if self.leap is not None:  # the nearest plain lead moves to 23:59:59 on 29 February
            near = bisect.bisect_left(created, self.leap)
            for i in itertools.chain(range(near, n), range(near - 1, -1, -1)):
                if not has_visitor[i] and i not in converted:
                    created[i] = self.leap + 12 * _HOUR - 1
                    break
        self.l_created, self.l_source, self.l_conv_at = created, source, conv_at
        self.l_converted, self.l_has_visitor = chosen, has_visitor
        self.out["leads"] = {
            "created_at": created, "source": source,
            "status": status,
            "converted_at": [conv_at[i] if i in converted else None for i in range(n)],
            "visitor_id": [None] * n,  # filled in by web_sessions()
        }

    def web_sessions(self) -> None:
        u, t0 = self.u, self.t0
        lead_of_visitor = [i for i, v in enumerate(self.l_has_visitor) if v]
        n_conv, n_sessions = len(lead_of_visitor), 6 * self.n
        n_visitors = max(n_conv, int(0.6 * n_sessions))
        n_other = n_sessions - n_conv
        # Visitor v gets id (a·v + b) mod V + 1: a bijection that hides who converted.
        a = max(1, int(n_visitors * 0.618))
        while math.gcd(a, n_visitors) != 1:
            a += 1
        b = int(u() * n_visitors)
        ids = [(a * v + b) % n_visitors + 1 for v in range(n_visitors)]
        visitor = ids[:]  # every visitor has a session: the converting one, or another
        visitor += [ids[int(u() * n_visitors)] for _ in _repeat(None, n_sessions - n_visitors)]
        # Converting sessions start a few minutes before their lead is created.
        started = [max(t0, self.l_created[i] - 60 - int(u() * 1800)) for i in lead_of_visitor]
        started += self.times(n_other)
        self.out["web_sessions"] = {
            "visitor_id": visitor, "started_at": started,
            "landing_page": self.picks(_PAGES, (10, 30, 15, 5, 30, 10), n_conv)
            + self.picks(_PAGES, (35, 20, 20, 15, 5, 5), n_other),
            "clicked": self.flags(0.97, n_conv) + self.flags(0.35, n_other),
            "converted": [True] * n_conv + [False] * n_other,
        }
        self.sort_by["web_sessions"] = "started_at"
        lead_visitor = self.out["leads"]["visitor_id"]
        for v, lead in enumerate(lead_of_visitor):
            lead_visitor[lead] = ids[v]

    # -- deals and customers --------------------------------------------------
    def new_deals(self) -> None:
        """One ``new`` deal per converted lead; each won one creates its customer."""
        u, t1 = self.u, self.t1
        k = len(self.l_converted)
        segs = self.picks(_SEGMENTS, (60, 30, 10), k)
        owners = self.picks(range(1, _REPS + 1), _REP_WEIGHTS, k)
        regions = self.picks(_REGIONS, _REGION_WEIGHTS, k)
        amounts = self.money([_DEAL_SIZE[s] for s in segs], 0.5, 100.0)
        # A deal: lead_id, customer index, owner, region, created, closed, planned close,
        # stage, amount, deal_type.
        self.deals: list[list[Any]] = []
        won_new: list[int] = []
        for j, lead in enumerate(self.l_converted):
            seg, created = segs[j], self.l_conv_at[lead]
            closed = created + int(_DAY * _CYCLE_DAYS[seg] * (0.2 + 1.6 * u()))
            if u() < 0.02:
                closed = self.next_month_start(closed)
            p_win = 0.42 + 0.15 * (self.l_source[lead] == "referral") - 0.1 * (seg == "enterprise")
            if closed >= t1 or u() < 0.03:
                stage = "open"
            else:
                stage = "won" if u() < p_win else "lost"
            region = None if u() < 0.02 else regions[j]
            self.deals.append([lead + 1, None, owners[j], region, created,
                               None if stage == "open" else closed, closed, stage, amounts[j],
                               "new"])
            if stage == "won":
                won_new.append(j)
        # signup, tie-break, region, segment, originated_by, owner, deal index (-1: self-serve)
        cust: list[tuple[int, int, str, str, str, int, int]] = []
        fallback = self.picks(_REGIONS, _REGION_WEIGHTS, len(won_new))
        for j, d in enumerate(won_new):
            deal = self.deals[d]
            origin = _ORIGIN[self.l_source[deal[0] - 1]]
            cust.append((deal[5], d, deal[3] or fallback[j], segs[d], origin, deal[2], d))
        target = max(1, self.n // 3)
        n_self = max(target - len(won_new), max(1, target // 20))
        signups = self.times(n_self)
        self.c_forced_start = -1
        if self.leap is not None:
            signups[0] = self.leap - 2 * _HOUR  # a self-serve sign-up at 10:00 on 29 February
            self.c_forced_start = signups[0]
        seg_self = self.picks(_SEGMENTS, (85, 15), n_self)
        origin_self = self.picks(("marketing", "referral"), (4, 1), n_self)
        owner_self = self.picks(range(1, _REPS + 1), _REP_WEIGHTS, n_self)
        region_self = self.picks(_REGIONS, _REGION_WEIGHTS, n_self)
        for j, t in enumerate(signups):
            cust.append((t, k + j, region_self[j], seg_self[j], origin_self[j], owner_self[j], -1))
        cust.sort()
        self.c_signup = [c[0] for c in cust]
        self.c_region = [c[2] for c in cust]
        self.c_segment = [c[3] for c in cust]
        self.c_origin = [c[4] for c in cust]
        self.c_owner = [c[5] for c in cust]
        for cid, c in enumerate(cust):
            if c[6] >= 0:
                self.deals[c[6]][1] = cid

    def customer_lives(self) -> None:
        """Yearly subscription chains; a customer not renewing churns at the due date."""
        self.c_churn: list[int | None] = []
        self.subs: list[list[_Sub]] = []
        for c in range(len(self.c_signup)):
            churn, subs = self.life(c, force=False)
            self.c_churn.append(churn)
            self.subs.append(subs)
        if not any(ch is not None and ch == self.month_start(ch) for ch in self.c_churn):
            self.c_churn[0], self.subs[0] = self.life(0, force=True)
        self.c_end = [self.t1 if ch is None else ch for ch in self.c_churn]
        lives = (e - s for s, e in zip(self.c_signup, self.c_end))
        self.c_cum_life = list(itertools.accumulate(lives))

    def life(self, c: int, *, force: bool) -> tuple[int | None, list[_Sub]]:
        u, t1 = self.u, self.t1
        s, seg = self.c_signup[c], self.c_segment[c]
        nxt = self.next_month_start(s)
        start = s if (u() < 0.5 or nxt >= t1 or s == self.c_forced_start) else nxt
        leave = s + _DAY + int(365.25 * _DAY * -math.log(1.0 - u()) / 0.07)  # mid-contract exit
        p_renew, mrr = _P_RENEW[seg], self.money([_MRR[seg]], 0.4, 20.0)[0]
        if force and nxt < t1:  # guarantee a churn at 00:00:00 on the first of a month
            if _plus_one_year(nxt) < t1:  # not renewed: churns at the (midnight) due date
                start, leave, p_renew = nxt, t1 + 400 * _DAY, 0.0
            else:  # range too short for a renewal: leaves mid-contract at midnight
                start, leave = s, nxt
        subs: list[_Sub] = []
        while True:
            due = _plus_one_year(start)
            if leave < due:
                subs.append((start, due, False, mrr))
                return (leave if leave < t1 else None), subs
            if due >= t1:
                subs.append((start, due, False, mrr))
                return None, subs
            renewed = u() < p_renew
            subs.append((start, due, renewed, mrr))
            if not renewed:
                return due, subs
            start, mrr = due, int(mrr * (103 + 5 * u()) + 0.5) / 100

    def expansion_deals(self) -> None:
        """Renewal, upsell and cross-sell deals of existing customers."""
        u, t0, t1 = self.u, self.t0, self.t1
        n_exp = self.n - len(self.deals)
        cands = [(c, sub) for c, subs in enumerate(self.subs) for sub in subs
                 if t0 + 90 * _DAY <= sub[1] < t1 + 20 * _DAY and self.c_end[c] >= sub[1]
                 and sub[1] - 90 * _DAY >= self.c_signup[c]]
        for c, (_, due, renewed, mrr) in self.sample(cands, min(round(0.3 * n_exp), len(cands))):
            created = due - int(_DAY * (20 + 70 * u()))
            closed = min(created + int(_DAY * (5 + 25 * u())), due - _DAY)
            stage = "open" if due >= t1 else ("won" if renewed else "lost")
            self.deals.append([None, c, self.c_owner[c], self.c_region[c], created,
                               None if stage == "open" else closed, closed, stage,
                               int(1200 * mrr + 0.5) / 100, "renewal"])
        k = self.n - len(self.deals)
        who, created_at = self.in_lives(k)
        kinds = self.picks(("upsell", "cross_sell"), (55, 45), k)
        amounts = self.money([0.3 * _DEAL_SIZE[self.c_segment[c]] for c in who], 0.5, 100.0)
        for j, c in enumerate(who):
            s = self.c_signup[c]
            created = max(created_at[j], s + min(14 * _DAY, (self.c_end[c] - s) // 2))
            closed = created + int(_DAY * 30 * (0.2 + 1.6 * u()))
            churn = self.c_churn[c]
            if closed >= t1:
                stage = "open"
            elif churn is not None and closed > churn:
                stage = "lost"  # the customer left first
            else:
                stage = "won" if u() < 0.55 else "lost"
            self.deals.append([None, c, self.c_owner[c], self.c_region[c], created,
                               None if stage == "open" else closed, closed, stage, amounts[j],
                               kinds[j]])
        self.deals.sort(key=operator.itemgetter(4))  # ids follow created_at (stable sort)
        cols = list(zip(*self.deals)) if self.deals else [()] * 10
        self.out["deals"] = {
            "lead_id": list(cols[0]),
            "customer_id": [None if c is None else c + 1 for c in cols[1]],
            "owner_id": list(cols[2]), "region": list(cols[3]), "created_at": list(cols[4]),
            "closed_at": list(cols[5]), "stage": list(cols[7]), "amount": list(cols[8]),
            "deal_type": list(cols[9]),
        }

    def stage_history(self) -> None:
        """qualification → proposal → negotiation → won/lost; the current stage has no exit."""
        u, t1 = self.u, self.t1
        ids: list[int] = []
        stages: list[str] = []
        entered: list[int] = []
        exited: list[int | None] = []
        add_id, add_stage = ids.append, stages.append
        add_in, add_out = entered.append, exited.append
        path = ("qualification", "proposal", "negotiation")
        for did, deal in enumerate(self.deals, 1):
            created, closed, plan, stage = deal[4], deal[5], deal[6], deal[7]
            k = 3 if stage != "lost" else 1 + int(u() * 3)
            span = plan - created
            cuts: tuple[int, ...]
            if k == 3:
                a = 0.5 + u()
                b = a + 0.5 + u()
                total = b + 0.5 + u()
                cuts = (created, created + int(span * a / total),
                        created + int(span * b / total), plan)
            elif k == 2:
                a = 0.5 + u()
                total = a + 0.5 + u()
                cuts = (created, created + int(span * a / total), plan)
            else:
                cuts = (created, plan)
            for j in range(k):
                add_id(did)
                add_stage(path[j])
                add_in(cuts[j])
                if closed is None and (j == k - 1 or cuts[j + 1] >= t1):
                    add_out(None)  # the stage an open deal is in now
                    break
                add_out(cuts[j + 1])
            if closed is not None:
                add_id(did)
                add_stage(stage)
                add_in(closed)
                add_out(None)
        self.out["deal_stage_history"] = {
            "deal_id": ids, "stage": stages, "entered_at": entered, "exited_at": exited,
        }

    def customers(self) -> None:
        self.out["customers"] = {
            "signed_up_at": self.c_signup,
            "churned_at": self.c_churn, "region": self.c_region, "segment": self.c_segment,
            "originated_by": self.c_origin,
        }
        rows = sorted((sub[0], c + 1, *sub[1:]) for c, subs in enumerate(self.subs) for sub in subs)
        self.out["subscriptions"] = {
            "customer_id": [r[1] for r in rows], "started_at": [r[0] for r in rows],
            "renewal_due_at": [r[2] for r in rows], "renewed": [r[3] for r in rows],
            "mrr": [r[4] for r in rows],
        }

    # -- customer activity ----------------------------------------------------
    def orders(self) -> None:
        u, k = self.u, 2 * self.n
        who, at = self.in_lives(k)
        self.snap(at, 0.01, [self.c_signup[c] for c in who])
        if self.leap is not None and (c := self.active_at(self.leap + _HOUR)) is not None:
            who[0], at[0] = c, self.leap + _HOUR
        amount = self.money([_ORDER_SIZE[self.c_segment[c]] for c in who], 0.6, 5.0)
        self.out["orders"] = {
            "customer_id": [c + 1 for c in who], "ordered_at": at, "amount": amount,
            "cost": [int(a * (35 + 40 * u()) + 0.5) / 100 for a in amount],
        }
        self.sort_by["orders"] = "ordered_at"

    def surveys(self) -> None:
        k = max(1, self.n // 5)
        who, at = self.in_lives(k)
        good = self.picks(range(11), _NPS_WEIGHTS, k)
        bad = self.picks(range(11), _NPS_WEIGHTS_CHURNER, k)  # customers who later leave
        self.out["nps_responses"] = {
            "customer_id": [c + 1 for c in who], "responded_at": at,
            "score": [good[i] if self.c_churn[c] is None else bad[i] for i, c in enumerate(who)],
        }
        who, at = self.in_lives(k)
        self.out["ces_responses"] = {
            "customer_id": [c + 1 for c in who], "responded_at": at,
            "score": self.picks(range(1, 8), _CES_WEIGHTS, k),
        }
        self.sort_by["nps_responses"] = self.sort_by["ces_responses"] = "responded_at"

    def tickets(self) -> None:
        u, t1, k = self.u, self.t1, max(1, self.n // 2)
        who, opened = self.in_lives(k)
        if self.leap is not None and (c := self.active_at(self.leap - 3 * _HOUR)) is not None:
            who[0], opened[0] = c, self.leap - 3 * _HOUR
        hours = self.lognormals([8.0] * k, 1.0)
        resolved: list[int | None] = []
        for t, h in zip(opened, hours):
            r = t + 60 + int(_HOUR * h)
            resolved.append(None if (r >= t1 or u() < 0.015) else r)
        if all(r is not None for r in resolved):
            resolved[max(range(k), key=opened.__getitem__)] = None
        self.out["tickets"] = {
            "customer_id": [c + 1 for c in who],
            "agent_id": self.picks(range(1, _AGENTS + 1), (16, 14, 14, 12, 12, 12, 10, 10), k),
            "opened_at": opened, "resolved_at": resolved,
        }
        self.sort_by["tickets"] = "opened_at"

    # -- sales team and CRM usage ---------------------------------------------
    def calls(self) -> None:
        u = self.u
        rep: list[int] = []
        at: list[int] = []
        deal: list[int | None] = []
        for did, d in enumerate(self.deals, 1):
            if d[7] == "won" and u() < 0.6:  # the call that clinched the deal
                rep.append(d[2])
                at.append(d[4] + int(u() * (d[5] - d[4])))
                deal.append(did)
        direction = self.picks(("outbound", "inbound"), (3, 1), len(rep))
        rest = max(0, 2 * self.n - len(rep))
        rep += self.picks(range(1, _REPS + 1), _REP_WEIGHTS, rest)
        more = self.times(rest)
        self.snap(more, 0.01)
        if self.leap is not None and more:
            more[0] = self.leap - 3 * _HOUR
        self.out["calls"] = {
            "rep_id": rep, "called_at": at + more,
            "direction": direction + self.picks(("outbound", "inbound"), (13, 7), rest),
            "deal_id": deal + [None] * rest,
        }
        self.sort_by["calls"] = "called_at"

    def quotas(self) -> None:
        u = self.u
        q = datetime.date(self.start.year, 3 * ((self.start.month - 1) // 3) + 1, 1)
        quarters = []
        while q < self.end:
            quarters.append(q)
            q = _add_months(q, 3)
        won = [0.0] * (_REPS + 1)
        for d in self.deals:
            if d[7] == "won":
                won[d[2]] += d[8]
        missing = quarters[1 if len(quarters) > 1 else 0]
        out: _Cols = {"rep_id": [], "period_start": [], "amount": []}
        for q in quarters:
            for rep in range(1, _REPS + 1):
                if rep == _MISSING_QUOTA_REP and q == missing:
                    continue  # no quota set for this rep this quarter
                amount = max(1_000.0, round(won[rep] / len(quarters) * (1.0 + 0.3 * u()), -3))
                if rep == _ZERO_QUOTA_REP and q == quarters[0]:
                    amount = 0.0  # a new hire's ramp quarter
                out["rep_id"].append(rep)
                out["period_start"].append((q - _EPOCH).days)
                out["amount"].append(amount)
        self.out["quotas"] = out

    def spend(self) -> None:
        """Every month, every category and channel; software licences on the 1st."""
        u = self.u
        spans = [(max(a, self.t0) // _DAY, min(b, self.t1) // _DAY)
                 for a, b in zip(self.bounds, self.bounds[1:]) if a < self.t1]
        budget = 1_200.0 * len(self.c_signup) / len(spans)  # sales + marketing, per month
        per = max(1, self.n // 2_500)
        rows: list[tuple[int, str, str, float]] = []
        for m, (lo, hi) in enumerate(spans):
            month_budget = budget * (0.85 + 0.3 * m / len(spans)) * (0.9 + 0.2 * u())
            for category, share, channels in _SPEND_PLAN:
                weight_sum = sum(w for _, w in channels)
                for channel, w in channels:
                    k = 1 if category == "crm_software" else 1 + int(u() * per)
                    parts = [0.5 + u() for _ in _repeat(None, k)]
                    scale = month_budget * share * w / weight_sum / sum(parts)
                    for p in parts:
                        day = lo if category == "crm_software" else lo + int(u() * (hi - lo))
                        cents = max(1, int(p * scale * 100 + 0.5))
                        rows.append((day, category, channel, cents / 100))
        rows.sort()
        self.out["spend"] = {
            "spent_on": [r[0] for r in rows], "category": [r[1] for r in rows],
            "channel": [r[2] for r in rows], "amount": [r[3] for r in rows],
        }

    def crm_usage(self) -> None:
        k = 2 * self.n
        weights = [6] * _REPS + [3] * (_USERS - _REPS)
        at = self.times(k)
        self.snap(at, 0.01)
        if self.leap is not None:
            at[0] = self.leap + 2 * _HOUR
        at.sort()
        self.out["crm_logins"] = {
            "user_id": self.picks(range(1, _USERS + 1), weights, k), "logged_in_at": at,
        }
        k = self.n
        self.out["crm_records"] = {
            "user_id": self.picks(range(1, _USERS + 1), weights, k),
            "created_at": sorted(self.times(k)),
            "record_type": self.picks(_RECORD_TYPES, (30, 15, 15, 25, 15), k),
        }

    def build(self) -> dict[str, _Cols]:
        for step in (self.leads, self.web_sessions, self.new_deals, self.customer_lives,
                     self.expansion_deals, self.stage_history, self.customers, self.orders,
                     self.surveys, self.tickets, self.calls, self.quotas, self.spend,
                     self.crm_usage):
            step()
        return self.out


def _to_arrow(cols: dict[str, _Cols], sort_by: Mapping[str, str]) -> dict[str, pyarrow.Table]:
    """Typed pyarrow tables; *sort_by* tables are sorted (stably) and then numbered."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kinds = {"id": pa.int64(), "int": pa.int64(), "str": pa.string(), "f64": pa.float64(),
             "bool": pa.bool_(), "date": pa.date32(), "ts": pa.timestamp("us")}

    def to_array(values: list[Any], kind: str) -> pyarrow.Array:
        if kind == "ts":  # seconds -> microseconds, vectorised
            seconds = pa.array(values, type=pa.int64())
            return pc.multiply(seconds, 1_000_000).cast(kinds["ts"])
        return pa.array(values, type=kinds[kind])

    tables = {}
    for name, spec in _SCHEMA:
        data = cols[name]
        fields = [(col, kind) for col, kind in spec if col in data]
        table = pa.Table.from_arrays([to_array(data[col], kind) for col, kind in fields],
                                     names=[col for col, _ in fields])
        if name in sort_by:
            table = table.take(pc.sort_indices(table, sort_keys=[(sort_by[name], "ascending")]))
        if len(fields) < len(spec):  # the id column: 1..n in (sorted) row order
            ids = pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), table.num_rows))
            table = table.add_column(0, spec[0][0], ids)
        tables[name] = table
    return tables


def generate(
    rows: int = 5_000,
    *,
    seed: int = 7,
    start: datetime.date = datetime.date(2023, 1, 1),
    months: int = 24,
) -> dict[str, pyarrow.Table]:
    """Generate every table of the CRM reference schema.

    Args:
        rows: number of deals. The other tables scale with it: about 2 × rows
            leads, 6 × rows web sessions, rows / 3 customers, 2 × rows orders,
            2 × rows calls and CRM logins, rows CRM records, rows / 2 tickets and
            rows / 5 NPS and CES answers each.
        seed: seed of the `random.Random` stream.
        start: first day of the range (UTC).
        months: length of the range; events fall in
            [start, start + months months).

    Returns:
        ``{table: pyarrow.Table}`` for the names of `TABLES`, in that order.
        Timestamps are naive ``timestamp[us]`` in UTC, dates ``date32``, ids
        and scores ``int64``, money ``float64`` rounded to cents. The same
        arguments always give byte-identical tables.

    Raises:
        ValueError: if `rows` or `months` is below 1.

    >>> tables = generate(300, seed=1)
    >>> tables["deals"].num_rows, list(tables) == list(TABLES)
    (300, True)
    """
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows must be a positive integer, got {rows!r}")
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValueError(f"months must be a positive integer, got {months!r}")
    start = datetime.date(start.year, start.month, start.day)  # a datetime counts as its day
    # Millions of small containers and no reference cycles: the cyclic GC would only
    # rescan them over and over (about a fifth of the run time), so pause it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        demo = _Demo(rows, seed, start, months)
        return _to_arrow(demo.build(), demo.sort_by)
    finally:
        if gc_was_enabled:
            gc.enable()


def write_duckdb(
    path: str | os.PathLike[str],
    rows: int = 5_000,
    *,
    seed: int = 7,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """Create, or replace, a DuckDB database holding every demo table.

    The database is built in a temporary directory next to *path* and moved
    into place with `os.replace` only once complete, so an error or Ctrl-C
    never leaves a half-written file and an existing database stays as it was.
    A stale ``<path>.wal`` left by the replaced database is removed.

    Args:
        path: the database file to create or replace.
        rows: number of deals, as in `generate`.
        seed: seed, as in `generate`.
        progress: called as ``progress(table, done, total)`` after each table
            is written; an exception it raises aborts the write.

    Returns:
        ``{table: row_count}`` in `TABLES` order.

    Raises:
        ValueError: if `rows` is below 1.
        OSError: if the directory of *path* is missing or not writable.
    """
    import shutil
    import tempfile

    import duckdb

    target = os.path.abspath(os.fspath(path))
    tables = generate(rows, seed=seed)
    workdir = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.", dir=os.path.dirname(target))
    try:
        scratch = os.path.join(workdir, "demo.duckdb")
        con = duckdb.connect(scratch)
        try:
            for done, name in enumerate(TABLES, 1):
                con.from_arrow(tables[name]).create(name)
                if progress is not None:
                    progress(name, done, len(TABLES))
        finally:
            con.close()
        os.replace(scratch, target)
        if os.path.exists(target + ".wal"):
            os.remove(target + ".wal")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {name: tables[name].num_rows for name in TABLES}
