"""Plan recommendation: a subscription's real usage of its last three invoiced periods, re-rated under every plan.

For each invoiced period the subscription's stored usage events (late ones included) are
rated again, in memory, on a hypothetical subscription that held one plan for all of its
days in that period (``rating.rate_period``), and invoiced the way the bill run invoices
(``invoicing.build_invoice``: the plan's fee, the usage lines, no discounts, before
öresavrundning). The plans compared are those on sale of the same kind, and the current
one. A plan is recommended when it would have cost less over the periods, or about the same
(at most 5 % more) with a larger data allowance. Add-ons bought are left out: they are a
choice made on the plan the subscriber had.

The result is cached per subscription (``offer_recommendations``) with a fingerprint of
what it depends on (the periods, the customer's event count in each, the segments, the
catalogue), so a late event or a new catalogue makes it stale.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from backend_stub import clock
from backend_stub.domain import invoicing
from backend_stub.domain.catalogue import UNLIMITED, Catalogue, Plan
from backend_stub.domain.periods import Period, PlanSegment, Subscription
from backend_stub.domain.rating import RatedEvent, UsageEvent, event_order, rate_period
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.offers import OfferRecommendation

PERIODS = 3
ABOUT_THE_SAME_PERCENT = 105  # "about the same": at most 5 % more


def last_invoiced_periods(conn: Connection, customer_id: int, n: int = PERIODS) -> list[Period]:
    """The customer's last ``n`` invoiced periods (regular invoices), oldest first."""
    rows = conn.execute(
        select(m.Invoice.period_start, m.Invoice.period_end)
        .where(m.Invoice.customer_id == customer_id, m.Invoice.kind == "invoice", m.Invoice.regular_key.is_not(None))
        .order_by(m.Invoice.period_start.desc())
        .limit(n)
    ).all()
    return [Period(r.period_start, r.period_end) for r in reversed(rows)]


def active_span(subscription: Subscription, period: Period) -> tuple[date, date] | None:
    """First and last day the subscription was active in ``period`` (None: not at all)."""
    days = [
        (max(s.start, period.start), period.end if s.end is None else min(s.end, period.end))
        for s, _ in subscription.segments_in(period)
    ]
    if not days:
        return None
    return min(d[0] for d in days), max(d[1] for d in days)


def on_plan(subscription: Subscription, plan_id: str, period: Period) -> Subscription | None:
    """A hypothetical subscription that held ``plan_id`` on all its days in ``period``."""
    span = active_span(subscription, period)
    if span is None:
        return None
    return Subscription(
        subscription.id,
        subscription.number,
        subscription.customer_id,
        subscription.msisdn,
        (PlanSegment(plan_id, span[0], span[1]),),
    )


def aggregate(subscription_id: int, period: Period, rated: list[RatedEvent]) -> list[invoicing.UsageAggregate]:
    """Rated events summed per (rate, band), as the bill run's SQL sums them."""
    sums: dict[tuple[str, bool], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for r in rated:
        s = sums[(r.rate_key, r.offpeak)]
        s[0] += r.charged_units
        s[1] += r.charge_exact - r.fee_exact - r.surcharge_exact
        s[2] += 1 if r.fee_exact > 0 else 0
        s[3] += r.fee_exact
        s[4] += r.surcharge_units
        s[5] += r.surcharge_exact
    return [
        invoicing.UsageAggregate(subscription_id, period.start, key, offpeak, *values)
        for (key, offpeak), values in sums.items()
    ]


def period_cost(
    catalogue: Catalogue, subscription: Subscription, plan_id: str, period: Period, events: list[UsageEvent]
) -> int | None:
    """What ``period`` would have cost on ``plan_id`` (öre incl. VAT, this subscription's lines)."""
    hypothetical = on_plan(subscription, plan_id, period)
    if hypothetical is None:
        return None
    outcomes, _ = rate_period(catalogue, hypothetical, period, events)
    rated = [o for o in outcomes if isinstance(o, RatedEvent)]
    draft = invoicing.build_invoice(
        catalogue, subscription.customer_id, [hypothetical], period, aggregate(subscription.id, period, rated)
    )
    return sum(line.amount_ore for line in draft.lines)


def data_bytes(plan: Plan) -> int:
    """The plan's data allowance in bytes as the API shows it: ``UNLIMITED`` (-1), none = 0."""
    a = plan.allowances.get("data")
    return 0 if a is None else a.amount


def data_rank(allowance_bytes: int) -> tuple[bool, int]:
    """Orders data allowances: more bytes is more, unlimited (-1) above every amount."""
    return allowance_bytes == UNLIMITED, allowance_bytes


def candidate_plans(catalogue: Catalogue, current: Plan) -> list[Plan]:
    """Plans on sale of the current plan's kind, and the current plan, cheapest first."""
    plans = [p for p in catalogue.plans.values() if p.kind == current.kind and (p.on_sale or p.id == current.id)]
    return sorted(plans, key=lambda p: (p.monthly_fee_ore, p.id))


def best_plan(plans: list[dict[str, Any]]) -> str | None:
    """The recommended plan id: cheaper over the periods, else about the same with more data; None: keep."""
    current = next((p for p in plans if p["current"]), None)
    if current is None or not current["per_period_ore"]:
        return None
    others = [p for p in plans if not p["current"]]
    cheaper = [p for p in others if p["total_ore"] < current["total_ore"]]
    if cheaper:
        return min(cheaper, key=lambda p: (p["total_ore"], tuple(-x for x in data_rank(p["data_bytes"]))))["plan_id"]
    more = [
        p
        for p in others
        if p["total_ore"] * 100 <= current["total_ore"] * ABOUT_THE_SAME_PERCENT
        and data_rank(p["data_bytes"]) > data_rank(current["data_bytes"])
    ]
    if more:
        return min(more, key=lambda p: (p["total_ore"], p["plan_id"]))["plan_id"]
    return None


def is_better(recommendation: dict[str, Any], plan_id: str) -> bool:
    """Whether ``plan_id`` would have served this subscriber better than the current plan (the rule above)."""
    plans = recommendation["plans"]
    current = next((p for p in plans if p["current"]), None)
    offered = next((p for p in plans if p["plan_id"] == plan_id), None)
    if current is None or offered is None or offered["current"] or not current["per_period_ore"]:
        return False
    if offered["total_ore"] < current["total_ore"]:
        return True
    return offered["total_ore"] * 100 <= current["total_ore"] * ABOUT_THE_SAME_PERCENT and data_rank(
        offered.get("data_bytes", 0)
    ) > data_rank(current.get("data_bytes", 0))


def current_plan_id(subscription: Subscription, today: date) -> str | None:
    seg = subscription.segment_on(today) or (subscription.segments[-1] if subscription.segments else None)
    return None if seg is None else seg.plan_id


def compute(
    catalogue: Catalogue,
    subscription: Subscription,
    periods: list[Period],
    events: dict[date, list[UsageEvent]],
    today: date,
) -> dict[str, Any]:
    """The recommendation from plain values (pure): every candidate plan's cost per period."""
    plan_id = current_plan_id(subscription, today)
    current = catalogue.plans.get(plan_id or "")
    periods = [p for p in periods if active_span(subscription, p) is not None]
    out: dict[str, Any] = {
        "subscription_id": subscription.id,
        "msisdn": subscription.msisdn,
        "periods": [p.label for p in periods],
        "current_plan_id": plan_id,
        "plans": [],
        "best_plan_id": None,
    }
    if current is None:
        return out
    for plan in candidate_plans(catalogue, current):
        costs = [period_cost(catalogue, subscription, plan.id, p, events.get(p.start, [])) or 0 for p in periods]
        out["plans"].append(
            {
                "plan_id": plan.id,
                "name": plan.name,
                "monthly_fee_ore": plan.monthly_fee_ore,
                "per_period_ore": costs,
                "total_ore": sum(costs),
                "current": plan.id == current.id,
                "data_bytes": data_bytes(plan),
            }
        )
    out["best_plan_id"] = best_plan(out["plans"])
    return out


def load_events(conn: Connection, subscription: Subscription, periods: list[Period]) -> dict[date, list[UsageEvent]]:
    """The subscription's stored usage of ``periods`` (late events included), in rating order."""
    if not periods:
        return {}
    u = m.UsageEvent
    out: dict[date, list[UsageEvent]] = defaultdict(list)
    msisdn = subscription.msisdn or ""
    for r in conn.execute(
        select(
            u.period_start,
            u.record_id,
            u.service,
            u.started_at,
            u.duration_s,
            u.volume_bytes,
            u.called_number,
            u.visited_country,
        ).where(
            u.customer_id == subscription.customer_id,
            u.subscription_id == subscription.id,
            u.period_start.in_([p.start for p in periods]),
        )
    ):
        out[r.period_start].append(
            UsageEvent(
                r.record_id,
                msisdn,
                r.service,
                r.started_at,
                r.duration_s,
                r.volume_bytes,
                r.called_number,
                r.visited_country,
            )
        )
    for evs in out.values():
        evs.sort(key=event_order)
    return out


_last_digest: list[tuple[Catalogue, str]] = []  # the catalogue in force and its digest


def catalogue_digest(catalogue: Catalogue) -> str:
    """A short digest of the catalogue document (memoised for the catalogue in force)."""
    if _last_digest and _last_digest[0][0] is catalogue:
        return _last_digest[0][1]
    text = json.dumps(catalogue.source, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    _last_digest[:] = [(catalogue, digest)]
    return digest


def event_counts(conn: Connection, customer_ids: list[int], starts: list[date]) -> dict[tuple[int, date], int]:
    """The customers' event count per period start (an index-only count: the cache fingerprint)."""
    if not customer_ids or not starts:
        return {}
    u = m.UsageEvent
    return {
        (r[0], r[1]): int(r[2])
        for r in conn.execute(
            select(u.customer_id, u.period_start, func.count())
            .where(u.customer_id.in_(customer_ids), u.period_start.in_(starts))
            .group_by(u.customer_id, u.period_start)
        )
    }


def fingerprint(
    catalogue: Catalogue,
    subscription: Subscription,
    periods: list[Period],
    counts: dict[tuple[int, date], int],
    today: date,
) -> str:
    segs = ";".join(f"{s.plan_id}:{s.start}:{s.end}" for s in subscription.segments)
    per = ",".join(f"{p.start}={counts.get((subscription.customer_id, p.start), 0)}" for p in periods)
    seg_digest = hashlib.sha256(segs.encode()).hexdigest()[:12]
    return f"{catalogue_digest(catalogue)}|{current_plan_id(subscription, today)}|{seg_digest}|{per}"


def recommendation(
    conn: Connection,
    catalogue: Catalogue,
    subscription: Subscription,
    today: date,
    *,
    periods: list[Period] | None = None,
    use_cache: bool = True,
) -> dict[str, Any]:
    """The recommendation for one subscription (cached; computed again when its inputs changed)."""
    if periods is None:
        periods = last_invoiced_periods(conn, subscription.customer_id)
    counts = event_counts(conn, [subscription.customer_id], [p.start for p in periods])
    key = fingerprint(catalogue, subscription, periods, counts, today)
    if use_cache:
        hit = conn.execute(
            select(OfferRecommendation.result).where(
                OfferRecommendation.subscription_id == subscription.id, OfferRecommendation.fingerprint == key
            )
        ).first()
        if hit is not None:
            return hit.result
    result = compute(catalogue, subscription, periods, load_events(conn, subscription, periods), today)
    if use_cache:
        store(conn, subscription.id, key, result)
    return result


def store(conn: Connection, subscription_id: int, key: str, result: dict[str, Any]) -> None:
    """Replace the cached recommendation of a subscription (safe when two workers compute it at once)."""
    now = clock.now()
    if conn.dialect.name == "postgresql":
        stmt = pg_insert(OfferRecommendation).values(
            subscription_id=subscription_id, fingerprint=key, result=result, computed_at=now
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["subscription_id"], set_={"fingerprint": key, "result": result, "computed_at": now}
            )
        )
        return
    conn.execute(delete(OfferRecommendation).where(OfferRecommendation.subscription_id == subscription_id))
    conn.execute(
        insert(OfferRecommendation).values(
            subscription_id=subscription_id, fingerprint=key, result=result, computed_at=now
        )
    )


def for_api(result: dict[str, Any]) -> dict[str, Any]:
    """The contract's shape of a recommendation (``GET /customers/{cid}/recommendation``)."""
    return {
        "subscription_id": result["subscription_id"],
        "periods": result["periods"],
        "current_plan_id": result["current_plan_id"],
        "plans": [
            {k: p[k] for k in ("plan_id", "name", "monthly_fee_ore", "per_period_ore", "total_ore", "current")}
            for p in result["plans"]
        ],
        "best_plan_id": result["best_plan_id"],
    }
