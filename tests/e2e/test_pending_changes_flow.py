"""Pending changes in real Chromium at 390×844: a plan change ordered for the next period shows on the
overview as "Byter till … den …" with "Ångra", the plan in force stays the current one (overview and
add-on shop), English reads the same, and "Ångra" undoes it.

Element ids (selfcare/components/pending_changes.py): plan-card (.plan-row), pending-changes
(.pending-change[data-change], .pending-cancel), pending-notice, pending-error; addon-subscription.
"""

from __future__ import annotations

from sqlalchemy import select

from backend_stub.core import Core
from backend_stub.domain.catalogue import in_language
from backend_stub.services.billing import subscriptions
from backend_stub.storage.db import make_engine
from backend_stub.storage.models import billing as m
from selfcare.i18n import format_date
from tests.e2e.test_subscriber_flow import TIMEOUT, _sign_in


def _order_next_period_change(running_app, avoid: set[str]) -> tuple[str, str, str, object, str]:
    """A plan change from the next period on a running mobile subscription, written to the app's database
    (not for the customers in ``avoid``, whom other browser tests sign in: sign-in codes are rate limited)."""
    core = Core(make_engine(running_app.database_url))
    try:
        catalogue, today = core.catalogue, core.today()
        with core.engine.begin() as conn:
            rows = conn.execute(
                select(m.Subscription.id, m.Customer.customer_number, m.Customer.id)
                .join(m.Customer, m.Customer.id == m.Subscription.customer_id)
                .where(m.Subscription.kind == "mobile")
                .order_by(m.Subscription.id.desc())
            ).all()
            for sub_id, number, customer_id in rows:
                if number in avoid:
                    continue
                sub = subscriptions.load_subscription(conn, sub_id)
                current = sub.segment_on(today) if sub else None
                if current is None or current.end is not None or len(sub.segments) != 1:
                    continue
                new_plan = next(
                    p
                    for p in catalogue.plans.values()
                    if p.kind == "mobile" and p.tariff is not None and p.id != current.plan_id
                )
                effective = subscriptions.next_period_start(conn, customer_id, today)
                subscriptions.change_plan(conn, catalogue, sub_id, new_plan.id, effective)
                return (
                    number,
                    catalogue.plans[current.plan_id].name,
                    new_plan.name,
                    effective,
                    in_language(new_plan, "en"),
                )
    finally:
        core.engine.dispose()
    raise AssertionError("the seeded app has no running mobile subscription without a change")


def test_a_pending_plan_change_is_shown_and_undone(
    page, app_url, shot, otp_code, running_app, core_api, horizontal_overflow
):
    unpaid = core_api.get("/invoices", params={"status": "unpaid", "kind": "invoice", "limit": 50}).json()["items"]
    avoid = {i["customer_number"] for i in unpaid[:1] + unpaid[-1:]}  # the subscriber and English flows' customers
    number, old_plan, new_plan, effective, new_plan_en = _order_next_period_change(running_app, avoid)
    _sign_in(page, app_url, otp_code, number)

    change = page.locator("#pending-changes .pending-change").first
    change.wait_for(timeout=TIMEOUT)
    assert f"Byter till {new_plan} den {format_date(effective, 'sv')}" in change.inner_text()
    assert old_plan in page.locator("#plan-card .plan-row").first.inner_text()  # the plan in force today
    assert new_plan not in page.locator("#plan-card .plan-row").first.inner_text()
    assert change.locator(".pending-cancel").inner_text().strip() == "Ångra"
    assert horizontal_overflow(page) == 0
    change.scroll_into_view_if_needed()
    shot("pending-change-overview-sv")

    page.locator("#lang-switch").click()
    page.locator(
        "#pending-changes .pending-change", has_text=f"Changes to {new_plan_en} on {format_date(effective, 'en')}"
    ).wait_for(timeout=TIMEOUT)
    assert page.locator("#pending-changes .pending-cancel").first.inner_text().strip() == "Undo"
    assert horizontal_overflow(page) == 0
    page.locator("#pending-changes").scroll_into_view_if_needed()
    shot("pending-change-overview-en")
    page.locator("#lang-switch").click()
    page.locator("#pending-changes .pending-cancel", has_text="Ångra").wait_for(timeout=TIMEOUT)

    # The add-on shop shows the plan in force, with the change below it.
    page.goto(app_url + "/addons")
    page.locator("#pending-changes .pending-change").first.wait_for(timeout=TIMEOUT)
    picker = page.locator("#addon-subscription")
    shown = picker.inner_text() if picker.count() else page.locator("#plan-card").inner_text()
    assert old_plan in shown

    # "Ångra": the change is gone and the plan stays.
    page.goto(app_url + "/")
    page.locator("#pending-changes .pending-cancel").first.click()
    page.locator("#pending-notice", has_text="är ångrat").wait_for(timeout=TIMEOUT)
    assert page.locator("#pending-changes").count() == 0
    assert old_plan in page.locator("#plan-card .plan-row").first.inner_text()
    assert horizontal_overflow(page) == 0
    shot("pending-change-undone-sv")
