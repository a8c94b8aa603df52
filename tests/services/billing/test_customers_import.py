"""services.billing.customers: a customer's rows apply all together or not at all."""

from __future__ import annotations

import io

from sqlalchemy import select

from backend_stub.services.billing.customers import import_customers, read_customers_csv
from backend_stub.storage.models import billing as m
from tests.conftest import FIXTURES

HEADER = (FIXTURES / "customers.csv").read_text(encoding="utf-8").splitlines()[0]


def import_text(core, text: str):
    return import_customers(core.engine, core.catalogue, read_customers_csv(io.StringIO(text, newline="")))


def segments_of(core, subscription_number: str) -> list[tuple[str, str, str | None]]:
    with core.engine.connect() as conn:
        q = (
            select(m.PlanSegment.plan_id, m.PlanSegment.start_date, m.PlanSegment.end_date)
            .join(m.Subscription, m.Subscription.id == m.PlanSegment.subscription_id)
            .where(m.Subscription.subscription_number == subscription_number)
            .order_by(m.PlanSegment.start_date)
        )
        return [(r.plan_id, r.start_date.isoformat(), r.end_date and r.end_date.isoformat()) for r in conn.execute(q)]


def test_a_plan_change_whose_second_row_is_bad_leaves_the_subscription_unchanged(core):
    assert import_text(core, (FIXTURES / "customers.csv").read_text(encoding="utf-8")).errors == []
    before = segments_of(core, "S1")
    assert before == [("mobil-5gb", "2024-01-01", None)]
    anna = "K1,S1,Anna Svensson,anna@example.se,+46701234567,Storgatan 1,111 22,Stockholm,email,+46701234567"
    cecilia = "K3,S4,Cecilia Ek,c@example.se,,Gatan 1,111 22,Stockholm,email,+46701112233"
    text = (
        "\n".join(
            [
                HEADER,
                f"{anna},mobil-5gb,2024-01-01,2026-10-14,true,,,1",  # line 2: the old plan ends
                f"{anna},mobil-99gb,2026-10-15,,true,,,1",  # line 3: the new plan is not in the catalogue
                f"{cecilia},mobil-5gb,2026-01-01,,true,,,1",  # line 4: another customer, fine
            ]
        )
        + "\n"
    )
    result = import_text(core, text)
    assert segments_of(core, "S1") == before  # line 2 alone would have ended Anna's plan on 10-14
    assert "line 3: plan 'mobil-99gb' is not in the catalogue" in result.errors
    assert "line 2: not applied: customer K1 is imported all or nothing and its line 3 was rejected" in result.errors
    assert len(result.errors) == 2
    assert segments_of(core, "S4") == [("mobil-5gb", "2026-01-01", None)]  # the other customer is applied
    assert (result.customers, result.subscriptions) == (1, 1)


def test_a_customer_whose_segments_overlap_is_not_applied_at_all(core):
    anna = "K1,S1,Anna Svensson,anna@example.se,+46701234567,Storgatan 1,111 22,Stockholm,email,+46701234567"
    text = (
        "\n".join(
            [
                HEADER,
                f"{anna},mobil-5gb,2024-01-01,,true,,,1",  # line 2: open, so it overlaps line 3
                f"{anna},mobil-20gb,2026-10-15,,true,,,1",  # line 3
                "K1,S5,Anna Svensson,anna@example.se,+46701234567,Storgatan 1,111 22,Stockholm,email,,bredband-100,"
                "2026-01-01,,true,,,1",  # line 4: the same customer's broadband
            ]
        )
        + "\n"
    )
    result = import_text(core, text)
    assert result.errors[0].startswith("line 3: ")
    assert result.errors[1] == (
        "lines 2, 4: not applied: customer K1 is imported all or nothing and its line 3 was rejected"
    )
    assert segments_of(core, "S1") == [] and segments_of(core, "S5") == []
    assert result.customers == 0
