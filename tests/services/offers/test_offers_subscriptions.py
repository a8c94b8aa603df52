"""Changing a subscription's plan from a date (services/billing/subscriptions.py), pure and on a database."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from backend_stub.domain.periods import PlanSegment, Subscription
from backend_stub.services.billing import subscriptions
from backend_stub.services.billing.subscriptions import PlanChangeError
from backend_stub.storage.models import billing as m
from tests.services.offers.test_offers_targeting import build_operator


def sub(*segments: PlanSegment) -> Subscription:
    return Subscription(1, "S1", 1, "+46701234567", segments)


def test_the_current_segment_ends_the_day_before_and_the_new_one_keeps_its_end():
    s = sub(
        PlanSegment("mobil-bas", date(2025, 1, 1), date(2025, 12, 31)),
        PlanSegment("mobil-5gb", date(2026, 1, 1), date(2027, 6, 30)),
    )
    assert subscriptions.changed_segments(s, "mobil-20gb", date(2026, 11, 21)) == (
        PlanSegment("mobil-bas", date(2025, 1, 1), date(2025, 12, 31)),
        PlanSegment("mobil-5gb", date(2026, 1, 1), date(2026, 11, 20)),
        PlanSegment("mobil-20gb", date(2026, 11, 21), date(2027, 6, 30)),
    )
    # a change on the segment's first day replaces its plan
    assert subscriptions.changed_segments(s, "mobil-20gb", date(2026, 1, 1))[1:] == (
        PlanSegment("mobil-20gb", date(2026, 1, 1), date(2027, 6, 30)),
    )


@pytest.mark.parametrize(
    "segments, plan, day, message",
    [
        (
            (PlanSegment("mobil-5gb", date(2026, 1, 1)),),
            "mobil-5gb",
            date(2026, 11, 21),
            "plan_id: the subscription already has mobil-5gb",
        ),
        (
            (PlanSegment("mobil-5gb", date(2026, 1, 1), date(2026, 6, 30)),),
            "mobil-20gb",
            date(2026, 11, 21),
            "effective_date: the subscription is not active on 2026-11-21",
        ),
        (
            (
                PlanSegment("mobil-5gb", date(2026, 1, 1), date(2026, 11, 30)),
                PlanSegment("mobil-bas", date(2026, 12, 1)),
            ),
            "mobil-20gb",
            date(2026, 11, 21),
            "effective_date: a change to mobil-bas from 2026-12-01 is already booked",
        ),
    ],
)
def test_changes_that_cannot_be_made(segments, plan, day, message):
    with pytest.raises(PlanChangeError) as err:
        subscriptions.changed_segments(sub(*segments), plan, day)
    assert str(err.value) == message


def test_no_change_inside_an_invoiced_period_nor_to_another_kind_of_plan(core):
    ids = build_operator(core)
    cat = core.catalogue
    with core.engine.begin() as conn:
        sid = conn.execute(select(m.Subscription.id).where(m.Subscription.customer_id == ids["K1"])).scalar_one()
        with pytest.raises(PlanChangeError, match="effective_date: 2026-10-15 is inside the invoiced period 2026-10"):
            subscriptions.change_plan(conn, cat, sid, "mobil-20gb", date(2026, 10, 15))
        with pytest.raises(
            PlanChangeError, match="plan_id: bredband-250 is a broadband plan; the subscription is mobile"
        ):
            subscriptions.change_plan(conn, cat, sid, "bredband-250", date(2026, 11, 21))
        with pytest.raises(PlanChangeError, match="plan_id: unknown plan 'mobil-1tb'"):
            subscriptions.change_plan(conn, cat, sid, "mobil-1tb", date(2026, 11, 21))
        start = subscriptions.next_period_start(conn, ids["K1"], date(2026, 11, 21))
        change = subscriptions.change_plan(conn, cat, sid, "mobil-20gb", start)
        assert (change.old_plan_id, change.effective_date) == ("mobil-5gb", date(2026, 12, 1))
        rows = conn.execute(
            select(m.PlanSegment.plan_id, m.PlanSegment.start_date, m.PlanSegment.end_date)
            .where(m.PlanSegment.subscription_id == sid)
            .order_by(m.PlanSegment.start_date)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("mobil-5gb", date(2024, 1, 1), date(2026, 11, 30)),
        ("mobil-20gb", date(2026, 12, 1), None),
    ]
