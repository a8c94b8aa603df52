"""The add-on shop's state on the real core: what is left, the order sheet, buying, and that nothing is
ever bought for a subscription this session's customer does not own (issue #7)."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest

from selfcare.api_client import NotFound
from selfcare.charges_client import ChargesClient
from selfcare.pages.addons.state import AddonsState, active_subscriptions, allowance_rows, cheapest_for, offer_rows
from selfcare.state.session import SessionState
from tests.app.conftest import drain, fresh_states, run, service_token, subscriber_token, substate

ADDON = "extra-5gb"
GB5 = 5_000_000_000


def _signed_in(customer_id: int):
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
    return root, session, substate(root, AddonsState)


def _shop_customers(client) -> list[tuple[int, int]]:
    """``(customer id, subscription id)`` of the seeded customers whose running subscription may buy ADDON."""
    found = []
    charges = ChargesClient(client)
    for customer_id in range(1, 5):
        token = subscriber_token(customer_id)
        customer = run(charges.customer(token, customer_id))
        for sub in active_subscriptions(customer["subscriptions"], date.fromisoformat(customer["today"])):
            doc = run(charges.addons(token, int(sub["id"])))
            if any(a["id"] == ADDON for a in doc["available"]):
                found.append((customer_id, int(sub["id"])))
                break
    return found


@pytest.fixture
def buyers(client) -> list[tuple[int, int]]:
    found = _shop_customers(client)
    assert len(found) >= 2, "the seeded core needs two customers who can buy the add-on"
    return found


def _bought(client, subscription_id: int) -> list[dict[str, Any]]:
    return run(ChargesClient(client).addons(service_token(), subscription_id))["bought"]


def _data(state: AddonsState) -> dict[str, Any]:
    return next(a for a in state.allowances if a["pool"] == "data")


# -- pure ---------------------------------------------------------------------------------------


def test_presenters_show_left_bought_and_offers():
    rows = allowance_rows(
        {
            "data": {
                "included": 5 * 10**9,
                "bought": 5 * 10**9,
                "used": 72 * 10**8,
                "left": 28 * 10**8,
                "unlimited": False,
            },
            "voice": {"included": 0, "bought": 0, "used": 600, "left": None, "unlimited": True},
        },
        "sv",
    )
    assert [r["pool"] for r in rows] == ["data", "voice"]
    assert rows[0]["left"] == "2,8 GB" and rows[0]["total"] == "10 GB" and rows[0]["bought"] == "5 GB"
    assert rows[0]["percent"] == 72 and not rows[0]["warn"]
    assert rows[1]["left"] == "Obegränsat" and rows[1]["unlimited"]
    offers = offer_rows(
        [
            {
                "id": ADDON,
                "name": "Extra 5 GB denna månad",
                "price_ore": 4900,
                "allowances": {"data": GB5},
                "labels": ["5 GB"],
            },
            {"id": "bad", "price_ore": 49.0},
        ],
        "sv",
    )
    assert offers == [{"id": ADDON, "name": "Extra 5 GB denna månad", "price": "49,00\u00a0kr", "gives": "5 GB"}]
    subs = active_subscriptions(
        [
            {
                "id": 1,
                "msisdn": "+4670",
                "segments": [{"plan_id": "a", "plan_name": "A", "start": "2026-01-01", "end": None}],
            },
            {
                "id": 2,
                "msisdn": "+4671",
                "segments": [{"plan_id": "a", "plan_name": "A", "start": "2025-01-01", "end": "2025-06-01"}],
            },
            {"id": "3", "msisdn": "+4672", "segments": []},
        ],
        date(2026, 12, 5),
    )
    assert subs == [{"id": "1", "msisdn": "+4670", "plan": "A"}]


# -- against the core ---------------------------------------------------------------------------


def test_an_alert_opens_the_cheapest_add_on_for_the_pool_that_ran_low():
    offers = {
        "data-10gb": {"price_ore": 9900, "allowances": {"data": 10}},
        "data-5gb": {"price_ore": 4900, "allowances": {"data": 5}},
        "calls-100": {"price_ore": 2900, "allowances": {"voice": 6000}},
        "bundle": {"price_ore": 3900, "allowances": {"data": 1, "sms": 100}},
        "odd": {"price_ore": "1", "allowances": {"data": 1}},  # no price in öre: never chosen
    }
    assert cheapest_for(offers, "data") == "bundle"
    assert cheapest_for(offers, "voice") == "calls-100"
    assert cheapest_for(offers, "sms") == "bundle"
    assert cheapest_for(offers, "") == "" and cheapest_for(offers, "roaming") == "" and cheapest_for({}, "data") == ""


def test_without_a_session_the_shop_is_empty(client):
    shop = substate(fresh_states(), AddonsState)
    assert any("_redirect" in repr(u) for u in run(drain(AddonsState.load.fn(shop))))
    run(drain(AddonsState.open_sheet.fn(shop, ADDON)))
    run(drain(AddonsState.confirm_purchase.fn(shop)))
    assert not shop.sheet_open and shop.subscriptions == [] and shop.allowances == []


def test_buying_grows_the_allowance_at_once(client, buyers):
    customer_id, sub_id = buyers[0]
    _root, _session, shop = _signed_in(customer_id)
    run(drain(AddonsState.load.fn(shop)))
    assert shop.loaded and shop.selected == str(sub_id) and shop.error == ""
    assert ADDON in [a["id"] for a in shop.available]
    before = run(ChargesClient(client).addons(subscriber_token(customer_id), sub_id))["allowances"]["data"]
    run(drain(AddonsState.open_sheet.fn(shop, ADDON)))
    assert shop.sheet_open and shop.sheet_title and shop.sheet_total == "49,00\u00a0kr"
    assert shop.sheet_lines and shop.sheet_get
    run(drain(AddonsState.confirm_purchase.fn(shop)))
    assert shop.sheet_error == "" and shop.sheet_done and shop.notice
    after = run(ChargesClient(client).addons(subscriber_token(customer_id), sub_id))["allowances"]["data"]
    assert after["bought"] == before["bought"] + GB5
    assert after["left"] >= before["left"] + GB5 or after["used"] > before["used"]
    # The page shows the core's new figures, loaded anew after the purchase.
    assert _data(shop)["total"] == allowance_rows({"data": after}, "sv")[0]["total"]
    assert any(b["name"] for b in shop.bought)
    # The sheet is done: pressing confirm again buys nothing more.
    count = len(_bought(client, sub_id))
    run(drain(AddonsState.confirm_purchase.fn(shop)))
    assert len(_bought(client, sub_id)) == count
    run(drain(AddonsState.close_sheet.fn(shop)))
    assert not shop.sheet_open


def test_a_foreign_subscription_is_never_bought_for(client, buyers):
    (customer_id, _own_sub), (_other_customer, foreign_sub) = buyers[0], buyers[1]
    _root, _session, shop = _signed_in(customer_id)
    run(drain(AddonsState.load.fn(shop)))
    shown = shop.selected
    foreign_before = len(_bought(client, foreign_sub))
    # The browser names the foreign subscription: nothing changes.
    run(drain(AddonsState.select_subscription.fn(shop, str(foreign_sub))))
    assert shop.selected == shown
    # The browser sets the shown subscription itself (as a tampered delta would): no sheet, no purchase.
    shop.selected = str(foreign_sub)
    run(drain(AddonsState.open_sheet.fn(shop, ADDON)))
    assert not shop.sheet_open
    shop.sheet_open, shop._pending = True, ADDON
    run(drain(AddonsState.confirm_purchase.fn(shop)))
    assert not shop.sheet_done
    assert len(_bought(client, foreign_sub)) == foreign_before
    # An add-on that is not on offer opens nothing either.
    shop.selected = shown
    run(drain(AddonsState.open_sheet.fn(shop, "free-unlimited")))
    assert not shop.sheet_open
    # Through the API the foreign subscription does not exist for this subscriber.
    with pytest.raises(NotFound):
        run(ChargesClient(client).buy_addon(subscriber_token(customer_id), foreign_sub, ADDON))
    with pytest.raises(NotFound):
        run(ChargesClient(client).addons(subscriber_token(customer_id), foreign_sub))
    assert len(_bought(client, foreign_sub)) == foreign_before


def test_a_changed_session_finds_nothing_loaded(client, buyers):
    (customer_id, own_sub), (other_customer, foreign_sub) = buyers[0], buyers[1]
    _root, session, shop = _signed_in(customer_id)
    run(drain(AddonsState.load.fn(shop)))
    run(drain(AddonsState.open_sheet.fn(shop, ADDON)))
    assert shop.sheet_open
    own_before, foreign_before = len(_bought(client, own_sub)), len(_bought(client, foreign_sub))
    # Another subscriber signs in in the same tab before the confirm arrives.
    session._start(
        {
            "access_token": subscriber_token(other_customer),
            "expires_at": time.time() + 600,
            "customer_id": other_customer,
        }
    )
    run(drain(AddonsState.confirm_purchase.fn(shop)))
    assert not shop.sheet_done and shop.subscriptions == [] and shop.allowances == []
    assert len(_bought(client, own_sub)) == own_before and len(_bought(client, foreign_sub)) == foreign_before


# -- the console's one-off charges (the agent side of the same contract) -------------------------


def _console(client):
    import uuid

    from backend_stub.services.support import agents
    from selfcare.pages.agent.state import AgentSessionState, AgentState

    engine = client._http._transport.app.state.core.engine
    username, password = f"chg{uuid.uuid4().hex[:6]}", "correct horse battery staple"
    agents.create_agent(engine, username, "Cilla Charges", password, "agent")
    root = fresh_states()
    agent = substate(root, AgentSessionState)
    run(drain(AgentSessionState.sign_in.fn(agent, {"username": username, "password": password})))
    assert agent.signed_in, agent.login_error
    return root, agent, substate(root, AgentState)


def test_agent_adds_lists_and_removes_a_one_off_charge(client):
    from selfcare.pages.agent.charges import AgentChargesState
    from selfcare.pages.agent.state import AgentState

    customer_id = 2
    invoice_id = run(client.invoices(subscriber_token(customer_id), customer_id))["items"][0]["id"]
    root, agent, console = _console(client)
    charges = substate(root, AgentChargesState)
    # Nothing open in the console: nothing is loaded or added.
    run(drain(AgentChargesState.load.fn(charges)))
    run(
        drain(
            AgentChargesState.add.fn(
                charges, {"description": "Byte av SIM-kort", "amount": "99", "reason": "Trasigt kort"}
            )
        )
    )
    assert charges.customer == "" and charges.pending == []
    run(drain(AgentState.open_thread.fn(console, invoice_id)))
    assert console.invoice_id == invoice_id
    run(drain(AgentChargesState.load.fn(charges)))
    assert charges.customer.endswith(f"K{100000 + customer_id}") and charges.subscriptions
    before = len(run(ChargesClient(client).charges(service_token(), customer_id)))
    # Bad input: the error names the field, nothing reaches the core.
    for form, field in (
        ({"description": "", "amount": "99", "reason": "x"}, "Beskrivning"),
        ({"description": "SIM", "amount": "-5", "reason": "x"}, "Belopp"),
        ({"description": "SIM", "amount": "99", "reason": ""}, "Orsak"),
        ({"description": "SIM", "amount": "99", "reason": "x", "vat": "0.99"}, "Moms"),
        ({"description": "SIM", "amount": "99", "reason": "x", "subscription": "999999"}, "Abonnemang"),
    ):
        run(drain(AgentChargesState.add.fn(charges, form)))
        assert charges.error.startswith(field), (form, charges.error)
    assert len(run(ChargesClient(client).charges(service_token(), customer_id))) == before
    sub = charges.subscriptions[0]["value"]
    run(
        drain(
            AgentChargesState.add.fn(
                charges,
                {
                    "kind": "charge",
                    "description": "Byte av SIM-kort",
                    "amount": "99",
                    "vat": "0.25",
                    "subscription": sub,
                    "reason": "Trasigt kort",
                },
            )
        )
    )
    run(
        drain(
            AgentChargesState.add.fn(
                charges, {"kind": "credit", "description": "Goodwill", "amount": "50,00", "reason": "Lång väntetid"}
            )
        )
    )
    assert charges.error == "" and charges.notice
    listed = {c["description"]: c for c in charges.pending}
    assert listed["Byte av SIM-kort"]["amount"] == "+99,00\u00a0kr" and listed["Byte av SIM-kort"]["msisdn"]
    assert listed["Goodwill"]["amount"] == "−50,00\u00a0kr" and listed["Goodwill"]["credit"] == "1"
    core = {c["description"]: c for c in run(ChargesClient(client).charges(service_token(), customer_id))}
    assert core["Byte av SIM-kort"]["amount_ore"] == 9900 and core["Goodwill"]["amount_ore"] == -5000
    assert core["Byte av SIM-kort"]["status"] == "pending" and core["Byte av SIM-kort"]["created_by"]
    # Only a charge this console listed for this customer can be removed.
    run(drain(AgentChargesState.remove.fn(charges, "999999")))
    assert charges.error and len(charges.pending) == 2
    run(drain(AgentChargesState.remove.fn(charges, listed["Goodwill"]["id"])))
    assert [c["description"] for c in charges.pending] == ["Byte av SIM-kort"]
    assert "Goodwill" not in {
        c["description"] for c in run(ChargesClient(client).charges(service_token(), customer_id))
    }
    # A subscriber may read but never add charges.
    from selfcare.charges_client import Forbidden

    with pytest.raises(Forbidden):
        run(
            ChargesClient(client).add_charge(
                subscriber_token(customer_id), customer_id, description="x", amount_ore=-100, reason="x"
            )
        )
    # Signed out: the panel forgets the customer.
    agent._drop()
    run(drain(AgentChargesState.load.fn(charges)))
    assert charges.pending == [] and charges.customer == ""
    run(ChargesClient(client).delete_charge(service_token(), core["Byte av SIM-kort"]["id"]))  # leave the core as found
