"""Pending changes: ordered plan changes that take effect after the core's today, and undoing one.

A plan change ordered for a later day (an offer accepted "from the next period", or
``subscriptions.change_plan`` with a later date) is stored at once as the subscription's next
plan segment. Until the day it starts that segment is *pending*: the plan in force is the one of
the segment that contains today, and the subscriber may cancel ("Ångra") the change. On and after
its first day the change is current and can no longer be undone here.

Add-ons always count from the moment they are bought (``services.charges.addons``), so they are never
pending. A change's id is its plan segment's id; every function takes the customer the caller
acts for, and a change of another customer is ``NotFound`` exactly like one that does not exist.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update

from backend_stub import clock
from backend_stub.domain.catalogue import Catalogue, in_language
from backend_stub.domain.errors import Conflict, NotFound
from backend_stub.domain.periods import period_containing
from backend_stub.domain.texts import render
from backend_stub.services.billing import subscriptions, usage_rerate
from backend_stub.services.lifecycle import ledger
from backend_stub.services.support import audit
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.offers import OfferAcceptance


class AlreadyInEffect(Conflict):
    """The change has taken effect and can no longer be undone (the API answers 409)."""


def segment_status(start: date, end: date | None, today: date) -> str:
    """``"pending"`` (starts after today), ``"ended"`` (ended before today) or ``"current"``."""
    if start > today:
        return "pending"
    if end is not None and end < today:
        return "ended"
    return "current"


def _plan_name(catalogue: Catalogue, plan_id: str, lang: str = "sv") -> str:
    plan = catalogue.plans.get(plan_id)
    return in_language(plan, lang) if plan is not None else plan_id


def _segments(conn: Connection, customer_id: int, subscription_id: int | None = None) -> list[Any]:
    q = (
        select(
            m.PlanSegment.id,
            m.PlanSegment.subscription_id,
            m.PlanSegment.plan_id,
            m.PlanSegment.start_date,
            m.PlanSegment.end_date,
            m.Subscription.msisdn,
            m.Subscription.subscription_number.label("number"),
        )
        .join(m.Subscription, m.Subscription.id == m.PlanSegment.subscription_id)
        .where(m.Subscription.customer_id == customer_id)
        .order_by(m.PlanSegment.subscription_id, m.PlanSegment.start_date)
    )
    if subscription_id is not None:
        q = q.where(m.PlanSegment.subscription_id == subscription_id)
    return list(conn.execute(q))


def _changes(rows: list[Any]) -> list[tuple[Any, Any]]:
    """(previous segment, segment) pairs where a subscription's plan changes (the segment follows on)."""
    out = []
    for prev, seg in zip(rows, rows[1:], strict=False):
        if (
            prev.subscription_id == seg.subscription_id
            and prev.end_date is not None
            and prev.end_date + timedelta(days=1) == seg.start_date
        ):
            out.append((prev, seg))
    return out


def _entry(catalogue: Catalogue, prev: Any, seg: Any, today: date) -> dict[str, Any]:
    return {
        "id": seg.id,
        "kind": "plan_change",
        "subscription_id": seg.subscription_id,
        "msisdn": seg.msisdn or seg.number,
        "from_plan_id": prev.plan_id,
        "from_plan_name": _plan_name(catalogue, prev.plan_id),
        "plan_id": seg.plan_id,
        "from_plan_name_en": _plan_name(catalogue, prev.plan_id, "en"),
        "plan_name": _plan_name(catalogue, seg.plan_id),
        "plan_name_en": _plan_name(catalogue, seg.plan_id, "en"),
        "effective_date": seg.start_date.isoformat(),
        "cancellable": seg.start_date > today,
    }


def pending_changes(
    engine: Engine, catalogue: Catalogue, customer_id: int, *, today: date | None = None
) -> list[dict[str, Any]]:
    """The customer's plan changes that start after ``today`` (the core clock's day), soonest first."""
    today = today or clock.today()
    with engine.connect() as conn:
        pairs = [(p, s) for p, s in _changes(_segments(conn, customer_id)) if s.start_date > today]
    pairs.sort(key=lambda ps: (ps[1].start_date, ps[1].id))
    return [_entry(catalogue, p, s, today) for p, s in pairs]


def cancel_change(
    engine: Engine, catalogue: Catalogue, customer_id: int, change_id: int, *, actor: str, now: datetime | None = None
) -> dict[str, Any]:
    """Undo the pending plan change ``change_id`` of ``customer_id``: the plan before it runs on.

    ``NotFound`` when the customer has no such change, ``AlreadyInEffect`` once it has started.
    A discount the accepted offer granted on the new plan goes with it (so does the acceptance:
    the offer counts as not taken). Audited, and noted on the customer's latest invoice's timeline.
    """
    if isinstance(change_id, bool) or not isinstance(change_id, int):
        raise NotFound("change_id: no such pending change")
    now = now or clock.now()
    today = clock.stockholm_date(now)
    with engine.begin() as conn:
        target = conn.execute(
            select(m.PlanSegment.subscription_id)
            .join(m.Subscription, m.Subscription.id == m.PlanSegment.subscription_id)
            .where(m.PlanSegment.id == change_id, m.Subscription.customer_id == customer_id)
        ).scalar()
        if target is None:
            raise NotFound("change_id: no such pending change")
        pair = next(((p, s) for p, s in _changes(_segments(conn, customer_id, target)) if s.id == change_id), None)
        if pair is None:  # the subscription's first segment: not a change of plan
            raise NotFound("change_id: no such pending change")
        prev, seg = pair
        entry = _entry(catalogue, prev, seg, today)
        if seg.start_date <= today:
            raise AlreadyInEffect(
                f"change_id: the change to {entry['plan_name']} took effect on "
                f"{seg.start_date.isoformat()} and can no longer be undone"
            )
        conn.execute(delete(m.PlanSegment).where(m.PlanSegment.id == seg.id))
        conn.execute(update(m.PlanSegment).where(m.PlanSegment.id == prev.id).values(end_date=seg.end_date))
        _drop_offer_terms(conn, seg)
        after = subscriptions.load_subscription(conn, seg.subscription_id)
        cycle = conn.execute(select(m.Customer.cycle_day).where(m.Customer.id == customer_id)).scalar() or 1
        if after is not None:  # usage already imported for those days (rare) is rated on the plan that stays
            usage_rerate.rerate_period(conn, catalogue, after, period_containing(seg.start_date, cycle))
        data = {
            "msisdn": entry["msisdn"],
            "plan": _plan_name(catalogue, prev.plan_id),
            "cancelled_plan": _plan_name(catalogue, seg.plan_id),
            "effective_date": seg.start_date.isoformat(),
            "change_id": seg.id,
        }
        audit.log(conn, actor[:64], "cancel_plan_change", f"subscription:{seg.subscription_id}", data, at=now)
        invoice_id = conn.execute(
            select(m.Invoice.id)
            .where(m.Invoice.customer_id == customer_id, m.Invoice.kind == "invoice")
            .order_by(m.Invoice.period_start.desc(), m.Invoice.number.desc())
            .limit(1)
        ).scalar()
        if invoice_id is not None:
            ledger.add_event(
                conn,
                invoice_id,
                "plan_change_cancelled",
                render("plan_change_cancelled", data, "sv", "Planbytet ångrades."),
                actor=actor[:64],
                data=data,
                at=now,
            )
    return {**entry, "cancellable": False, "status": "cancelled"}


def _drop_offer_terms(conn: Connection, seg: Any) -> None:
    """The offer acceptance that ordered this change, and the discount it granted on the new plan."""
    rows = list(
        conn.execute(
            select(OfferAcceptance.id, OfferAcceptance.grant_id).where(
                OfferAcceptance.subscription_id == seg.subscription_id,
                OfferAcceptance.plan_id == seg.plan_id,
                OfferAcceptance.effective_date == seg.start_date,
            )
        )
    )
    for row in rows:
        if row.grant_id is not None:
            conn.execute(delete(m.DiscountGrant).where(m.DiscountGrant.id == row.grant_id))
        conn.execute(delete(OfferAcceptance).where(OfferAcceptance.id == row.id))
