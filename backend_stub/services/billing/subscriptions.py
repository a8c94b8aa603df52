"""Changing a subscription's plan from a date (rules §4: each plan is charged for its own days).

The segment in force ends the day before the change and the new plan's segment starts on
it (to the old segment's end). A change is refused on a day inside an already invoiced
period (an issued invoice never changes), when the subscription is not active that day,
or when a later change is already booked. The period's not yet invoiced usage is rated
again on the changed subscription, so usage before the change draws on the old plan's
prorated allowance and usage after it on the new one's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, insert, select, update

from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.periods import Period, PlanSegment, Subscription, period_containing
from backend_stub.services.billing import usage_rerate
from backend_stub.storage.models import billing as m
from backend_stub.storage.repo import load_subscriptions


class PlanChangeError(ValueError):
    """A plan change that cannot be made; the message starts with the field it is about."""


@dataclass(frozen=True)
class PlanChange:
    subscription_id: int
    old_plan_id: str
    new_plan_id: str
    effective_date: date
    before: Subscription
    after: Subscription


def changed_segments(subscription: Subscription, new_plan_id: str, effective: date) -> tuple[PlanSegment, ...]:
    """The subscription's segments with ``new_plan_id`` from ``effective`` (pure; raises ``PlanChangeError``)."""
    current = subscription.segment_on(effective)
    if current is None:
        raise PlanChangeError(f"effective_date: the subscription is not active on {effective.isoformat()}")
    later = [s for s in subscription.segments if s.start > effective]
    if later:
        raise PlanChangeError(
            f"effective_date: a change to {later[0].plan_id} from {later[0].start.isoformat()} is already booked"
        )
    if current.plan_id == new_plan_id:
        raise PlanChangeError(f"plan_id: the subscription already has {new_plan_id}")
    out = []
    for seg in subscription.segments:
        if seg is not current:
            out.append(seg)
        elif seg.start == effective:
            out.append(PlanSegment(new_plan_id, seg.start, seg.end))
        else:
            out.append(PlanSegment(seg.plan_id, seg.start, effective - timedelta(days=1)))
            out.append(PlanSegment(new_plan_id, effective, seg.end))
    return tuple(out)


def with_plan(subscription: Subscription, new_plan_id: str, effective: date) -> Subscription:
    """The subscription as it would be after the change (for order sheets and previews)."""
    return Subscription(
        subscription.id,
        subscription.number,
        subscription.customer_id,
        subscription.msisdn,
        changed_segments(subscription, new_plan_id, effective),
    )


def invoiced_period_containing(conn: Connection, customer_id: int, day: date) -> Period | None:
    """The customer's regular invoice period that contains ``day`` (None: not invoiced yet)."""
    row = conn.execute(
        select(m.Invoice.period_start, m.Invoice.period_end).where(
            m.Invoice.customer_id == customer_id,
            m.Invoice.kind == "invoice",
            m.Invoice.regular_key.is_not(None),
            m.Invoice.period_start <= day,
            m.Invoice.period_end >= day,
        )
    ).first()
    return None if row is None else Period(row.period_start, row.period_end)


def next_period_start(conn: Connection, customer_id: int, today: date) -> date:
    """The first day of the billing period after the one containing ``today`` (the account's cycle day)."""
    cycle = conn.execute(select(m.Customer.cycle_day).where(m.Customer.id == customer_id)).scalar() or 1
    return period_containing(today, cycle).end + timedelta(days=1)


def check_change(
    conn: Connection, catalogue: Catalogue, subscription: Subscription, new_plan_id: str, effective: date
) -> Subscription:
    """Validate a change and return the changed subscription (nothing is written)."""
    new_plan = catalogue.plans.get(new_plan_id)
    if new_plan is None:
        raise PlanChangeError(f"plan_id: unknown plan {new_plan_id!r}")
    current = subscription.segment_on(effective)
    old_plan = catalogue.plans.get(current.plan_id) if current else None
    if old_plan is not None and old_plan.kind != new_plan.kind:
        raise PlanChangeError(f"plan_id: {new_plan_id} is a {new_plan.kind} plan; the subscription is {old_plan.kind}")
    invoiced = invoiced_period_containing(conn, subscription.customer_id, effective)
    if invoiced is not None:
        raise PlanChangeError(f"effective_date: {effective.isoformat()} is inside the invoiced period {invoiced.label}")
    return with_plan(subscription, new_plan_id, effective)


def load_subscription(conn: Connection, subscription_id: int) -> Subscription | None:
    row = conn.execute(select(m.Subscription.customer_id).where(m.Subscription.id == subscription_id)).first()
    if row is None:
        return None
    return next((s for s in load_subscriptions(conn, customer_ids=[row.customer_id]) if s.id == subscription_id), None)


def change_plan(
    conn: Connection, catalogue: Catalogue, subscription_id: int, new_plan_id: str, effective: date
) -> PlanChange:
    """Change the plan from ``effective`` inside the caller's transaction; re-rate the open period's usage."""
    before = load_subscription(conn, subscription_id)
    if before is None:
        raise PlanChangeError("subscription_id: no such subscription")
    after = check_change(conn, catalogue, before, new_plan_id, effective)
    current = before.segment_on(effective)
    assert current is not None
    seg_id = conn.execute(
        select(m.PlanSegment.id).where(
            m.PlanSegment.subscription_id == subscription_id, m.PlanSegment.start_date == current.start
        )
    ).scalar_one()
    if current.start == effective:
        conn.execute(update(m.PlanSegment).where(m.PlanSegment.id == seg_id).values(plan_id=new_plan_id))
    else:
        conn.execute(
            update(m.PlanSegment).where(m.PlanSegment.id == seg_id).values(end_date=effective - timedelta(days=1))
        )
        conn.execute(
            insert(m.PlanSegment).values(
                subscription_id=subscription_id, plan_id=new_plan_id, start_date=effective, end_date=current.end
            )
        )
    cycle = conn.execute(select(m.Customer.cycle_day).where(m.Customer.id == before.customer_id)).scalar() or 1
    # The period's not yet invoiced usage, rated again on the changed subscription (add-ons bought count as before).
    usage_rerate.rerate_period(conn, catalogue, after, period_containing(effective, cycle))
    return PlanChange(subscription_id, current.plan_id, new_plan_id, effective, before, after)
