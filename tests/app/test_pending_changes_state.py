"""The plan card's state (overview and add-on shop) on the real core: a change ordered for the next
period is listed as pending with its date, the plan in force stays the current one, "Ångra" undoes
it until it takes effect (refused after, with a clear message), and nobody undoes another's change."""

from __future__ import annotations

import time
from datetime import date

from sqlalchemy import select

from backend_stub import clock
from backend_stub.clock import FrozenClock
from backend_stub.domain.catalogue import in_language
from backend_stub.services.billing import subscriptions
from backend_stub.storage.models import billing as m
from selfcare.charges_client import ChargesClient
from selfcare.components.pending_changes import PendingChangesState
from selfcare.i18n import format_date
from selfcare.pages.addons.state import active_subscriptions
from selfcare.state.session import SessionState
from tests.app.conftest import drain, fresh_states, run, subscriber_token, substate


def _signed_in(customer_id: int, lang: str = "sv"):
    root = fresh_states()
    session = substate(root, SessionState)
    session._start(
        {
            "access_token": subscriber_token(customer_id),
            "expires_at": time.time() + 600,
            "customer_id": customer_id,
            "name": "Test",
            "customer_number": f"K{100000 + customer_id}",
        }
    )
    session.lang = lang
    return substate(root, PendingChangesState)


def _order_change(core_app) -> tuple[int, int, str, str, date, str]:
    """A plan change for the next period on a seeded customer's mobile subscription."""
    core = core_app.state.core
    catalogue = core.catalogue
    today = core.today()
    with core.engine.begin() as conn:
        for sub_id, customer_id in conn.execute(
            select(m.Subscription.id, m.Subscription.customer_id)
            .where(m.Subscription.kind == "mobile")
            .order_by(m.Subscription.id)
        ):
            sub = subscriptions.load_subscription(conn, sub_id)
            current = sub.segment_on(today) if sub else None
            if current is None or current.end is not None:
                continue
            new_plan = next(
                p
                for p in catalogue.plans.values()
                if p.kind == "mobile" and p.id != current.plan_id and p.tariff is not None
            )
            effective = subscriptions.next_period_start(conn, customer_id, today)
            subscriptions.change_plan(conn, catalogue, sub_id, new_plan.id, effective)
            return (
                customer_id,
                sub_id,
                catalogue.plans[current.plan_id].name,
                new_plan.name,
                effective,
                in_language(new_plan, "en"),
            )
    raise AssertionError("the seeded core has no running mobile subscription")


def _other_customer(customer_id: int) -> int:
    return 1 if customer_id != 1 else 2


def test_a_pending_change_is_listed_refused_after_it_starts_and_undone_before(client, core_app):
    customer_id, sub_id, old_name, new_name, effective, new_name_en = _order_change(core_app)
    state = _signed_in(customer_id)
    run(drain(PendingChangesState.load.fn(state)))
    [change] = state.changes
    assert change["text"] == f"Byter till {new_name} den {format_date(effective, 'sv')}"
    assert change["cancellable"] == "1" and change["msisdn"]
    # The plan in force is the current one, here and in the add-on shop's picker.
    assert {p["plan"] for p in state.plans if p["id"] == str(sub_id)} == {old_name}
    customer = run(ChargesClient(client).customer(subscriber_token(customer_id), customer_id))
    picker = active_subscriptions(customer["subscriptions"], date.fromisoformat(customer["today"]))
    assert next(s["plan"] for s in picker if s["id"] == str(sub_id)) == old_name
    english = _signed_in(customer_id, "en")
    run(drain(PendingChangesState.load.fn(english)))
    assert english.changes[0]["text"] == f"Changes to {new_name_en} on {format_date(effective, 'en')}"

    # Another subscriber calls the handler with this change's id: nothing happens.
    other = _signed_in(_other_customer(customer_id))
    run(drain(PendingChangesState.load.fn(other)))
    run(drain(PendingChangesState.cancel.fn(other, change["id"])))
    assert (
        other.notice == ""
        and len(run(ChargesClient(client).pending_changes(subscriber_token(customer_id), customer_id))["items"]) == 1
    )
    # Even with the id forced into its backend list, the core refuses (404) and nothing changes.
    other._changes = {int(change["id"]): change}
    other._customer_id = _other_customer(customer_id)
    run(drain(PendingChangesState.cancel.fn(other, change["id"])))
    assert other.notice == "" and other.error
    assert len(run(ChargesClient(client).pending_changes(subscriber_token(customer_id), customer_id))["items"]) == 1

    # On the day it takes effect "Ångra" is refused with a clear message; the change stands.
    with clock.use(FrozenClock(effective)):
        run(drain(PendingChangesState.cancel.fn(state, change["id"])))
        assert state.error == f"Bytet till {new_name} har redan börjat gälla och kan inte längre ångras."
        assert state.notice == "" and state.changes == []  # reloaded: nothing pending on that day
        assert {p["plan"] for p in state.plans if p["id"] == str(sub_id)} == {new_name}

    # Before it, it is undone: the plan stays.
    run(drain(PendingChangesState.load.fn(state)))
    assert [c["id"] for c in state.changes] == [change["id"]]
    run(drain(PendingChangesState.cancel.fn(state, change["id"])))
    assert state.error == "" and state.notice.startswith(f"Bytet till {new_name} är ångrat")
    assert state.changes == []
    assert {p["plan"] for p in state.plans if p["id"] == str(sub_id)} == {old_name}
    customer = run(ChargesClient(client).customer(subscriber_token(customer_id), customer_id))
    segments = next(s for s in customer["subscriptions"] if s["id"] == sub_id)["segments"]
    assert [s["status"] for s in segments][-1] == "current" and segments[-1]["end"] is None


def test_without_a_session_nothing_is_listed_or_undone(client, core_app):
    state = substate(fresh_states(), PendingChangesState)
    run(drain(PendingChangesState.load.fn(state)))
    assert state.plans == [] and state.changes == []
    state._changes = {1: {"id": "1", "plan": "x"}}
    run(drain(PendingChangesState.cancel.fn(state, "1")))
    assert state.notice == "" and state.error == ""
