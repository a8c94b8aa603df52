"""What offer targeting knows of a customer: subscriptions, invoiced periods, tenure, payment standing,
and per (subscription, invoiced period) the data used, the overage and the roaming events.

The period figures are cached in ``offer_usage_stats``; each row keeps the customer's event count of
that period (its fingerprint), so a late event makes it stale and it is computed again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from backend_stub import clock
from backend_stub.domain.catalogue import UNLIMITED, Catalogue, Rate
from backend_stub.domain.periods import Period, Subscription, period_containing
from backend_stub.domain.rating import prorated_units
from backend_stub.services.lifecycle import ledger
from backend_stub.services.offers import recommend
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.alerts import UsageAlert
from backend_stub.storage.models.offers import OfferUsageStats
from backend_stub.storage.repo import chunks, load_subscriptions

MAX_PERIODS = 12


@dataclass(frozen=True)
class PeriodStats:
    data_bytes: int = 0
    overage_exact: int = 0
    roaming_events: int = 0


@dataclass
class SubscriberFacts:
    """What targeting knows of one customer on ``today``."""

    customer_id: int
    customer_number: str
    name: str
    subscriptions: list[Subscription]  # all of them, ended ones too
    periods: list[Period]  # invoiced periods, newest first
    first_start: date | None
    overdue: bool
    collection: bool
    stats: dict[tuple[int, date], PeriodStats] = field(default_factory=dict)
    # Subscriptions told this period that they reached 80 % (or all) of their data (a usage alert).
    data_alerted: set[int] = field(default_factory=set)

    def active(self, today: date) -> list[Subscription]:
        return [s for s in self.subscriptions if s.segment_on(today) is not None]


def tenure_months(first: date | None, today: date) -> int:
    """Whole months from ``first`` to ``today``."""
    if first is None or first > today:
        return 0
    months = (today.year - first.year) * 12 + today.month - first.month
    return months - 1 if today.day < first.day else months


def _rate_index(catalogue: Catalogue) -> dict[str, Rate]:
    index = {r.key: r for t in catalogue.tariffs.values() for r in t.rates.values()}
    index.update({r.key: r for z in catalogue.zones for r in z.rates.values()})
    return index


def load_facts(
    conn: Connection,
    catalogue: Catalogue,
    customer_ids: Iterable[int],
    today: date,
    *,
    periods_needed: int = MAX_PERIODS,
) -> dict[int, SubscriberFacts]:
    """Facts of many customers with a handful of queries (and the cached period stats)."""
    ids = sorted(set(customer_ids))
    facts: dict[int, SubscriberFacts] = {}
    for part in chunks(ids, 2000):
        for r in conn.execute(
            select(m.Customer.id, m.Customer.customer_number, m.Customer.name).where(m.Customer.id.in_(part))
        ):
            facts[r.id] = SubscriberFacts(r.id, r.customer_number, r.name, [], [], None, False, False)
    if not facts:
        return facts
    for sub in load_subscriptions(conn, customer_ids=list(facts)):
        f = facts[sub.customer_id]
        f.subscriptions.append(sub)
        for seg in sub.segments:
            f.first_start = seg.start if f.first_start is None else min(f.first_start, seg.start)
    due: list[Any] = []
    for part in chunks(list(facts), 2000):
        for inv in conn.execute(select(m.Invoice).where(m.Invoice.customer_id.in_(part), m.Invoice.kind == "invoice")):
            if inv.regular_key is not None:
                facts[inv.customer_id].periods.append(Period(inv.period_start, inv.period_end))
            if inv.due_date < today:
                due.append(inv)
    for f in facts.values():
        f.periods.sort(reverse=True)
        del f.periods[max(periods_needed, recommend.PERIODS) :]
    if due:
        states = ledger.invoice_states(conn, due, today)
        for inv in due:
            status = states[inv.id].status
            if status in ("overdue", "reminded", "in_collection"):
                facts[inv.customer_id].overdue = True
            if status == "in_collection":
                facts[inv.customer_id].collection = True
    if periods_needed:
        _attach_stats(conn, catalogue, facts, periods_needed)
    _attach_data_alerts(conn, facts, today)
    return facts


def _attach_data_alerts(conn: Connection, facts: dict[int, SubscriberFacts], today: date) -> None:
    """Which subscriptions reached 80 % of their data in the period that holds ``today``."""
    a, c = UsageAlert, m.Customer
    for part in chunks(list(facts), 2000):
        q = (
            select(a.customer_id, a.subscription_id, a.period_start, c.cycle_day)
            .join(c, c.id == a.customer_id)
            .where(a.customer_id.in_(part), a.kind == "allowance", a.level.in_(("data-80", "data-100")))
            .where(a.period_start <= today)
        )
        for customer_id, sub_id, pstart, cycle_day in conn.execute(q):
            if period_containing(today, cycle_day).start == pstart:
                facts[customer_id].data_alerted.add(sub_id)


def _attach_stats(conn: Connection, catalogue: Catalogue, facts: dict[int, SubscriberFacts], n: int) -> None:
    wanted = {(cid, p.start): p for cid, f in facts.items() for p in f.periods[:n]}
    if not wanted:
        return
    starts = sorted({k[1] for k in wanted})
    cids = sorted({k[0] for k in wanted})
    counts = recommend.event_counts(conn, cids, starts)
    cached: dict[tuple[int, date], dict[int, Any]] = defaultdict(dict)
    s = OfferUsageStats
    for part in chunks(cids, 2000):
        for r in conn.execute(select(s).where(s.customer_id.in_(part), s.period_start.in_(starts))):
            cached[(r.customer_id, r.period_start)][r.subscription_id] = r
    stale: list[tuple[int, date]] = []
    for key, period in wanted.items():
        cid, start = key
        subs = [sub.id for sub in facts[cid].subscriptions if sub.segments_in(period)]
        rows = cached.get(key, {})
        count = counts.get(key, 0)
        if all(sid in rows and rows[sid].fingerprint == count for sid in subs):
            for sid in subs:
                r = rows[sid]
                facts[cid].stats[(sid, start)] = PeriodStats(r.data_bytes, r.overage_exact, r.roaming_events)
        else:
            stale.append(key)
    if stale:
        _compute_stats(conn, catalogue, facts, wanted, stale, counts)


def _compute_stats(
    conn: Connection,
    catalogue: Catalogue,
    facts: dict[int, SubscriberFacts],
    wanted: dict[tuple[int, date], Period],
    stale: list[tuple[int, date]],
    counts: dict[tuple[int, date], int],
) -> None:
    rates = _rate_index(catalogue)
    todo = set(stale)
    sums: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    u = m.UsageEvent
    cids = sorted({k[0] for k in stale})
    starts = sorted({k[1] for k in stale})
    for part in chunks(cids, 2000):
        q = (
            select(
                u.customer_id,
                u.subscription_id,
                u.period_start,
                u.rate_key,
                u.category,
                func.count(),
                func.sum(u.billed_units - u.surcharge_units),
                func.sum(u.charge_exact - u.fee_exact - u.surcharge_exact),
                func.sum(u.surcharge_exact),
            )
            .where(u.customer_id.in_(part), u.period_start.in_(starts))
            .group_by(u.customer_id, u.subscription_id, u.period_start, u.rate_key, u.category)
        )
        for cid, sid, start, rate_key, category, count, units, usage_exact, surcharge in conn.execute(q):
            if (cid, start) not in todo:
                continue
            s = sums[(sid, start)]
            rate = rates.get(rate_key)
            pool = rate.allowance if rate is not None and category != "roaming" else ""
            if pool == "data":
                s[0] += int(units or 0)
            if pool:
                s[1] += int(usage_exact or 0)
            s[1] += int(surcharge or 0)
            if category in ("roaming", "eu_roaming"):
                s[2] += int(count)
    now = clock.now()
    rows = []
    for cid, start in stale:
        period = wanted[(cid, start)]
        for sub in facts[cid].subscriptions:
            if not sub.segments_in(period):
                continue
            data, overage, roaming = sums.get((sub.id, start), (0, 0, 0))
            facts[cid].stats[(sub.id, start)] = PeriodStats(data, overage, roaming)
            rows.append(
                {
                    "subscription_id": sub.id,
                    "period_start": start,
                    "customer_id": cid,
                    "fingerprint": counts.get((cid, start), 0),
                    "data_bytes": data,
                    "overage_exact": overage,
                    "roaming_events": roaming,
                    "computed_at": now,
                }
            )
    _upsert_stats(conn, rows)


def _upsert_stats(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = dialect_insert(OfferUsageStats)
    stmt = stmt.on_conflict_do_update(
        index_elements=["subscription_id", "period_start"],
        set_={
            c: stmt.excluded[c]
            for c in ("customer_id", "fingerprint", "data_bytes", "overage_exact", "roaming_events", "computed_at")
        },
    )
    for part in chunks(rows, 1000):
        conn.execute(stmt, list(part))


def data_allowance(catalogue: Catalogue, sub: Subscription, period: Period) -> int:
    """The data allowance of ``sub`` in ``period``, prorated per plan segment (UNLIMITED = -1)."""
    total = 0
    for seg, days in sub.segments_in(period):
        plan = catalogue.plans.get(seg.plan_id)
        a = plan.allowances.get("data") if plan else None
        if a is None:
            continue
        if a.amount == UNLIMITED:
            return UNLIMITED
        total += prorated_units(a.amount, days, period.days)
    return total
