"""The payment method page's state and the invoice's autopay status, on the real core (issue #7).

Handlers are called directly, as the browser may call them: any handler, any argument.
"""

from __future__ import annotations

import time

import pytest
from reflex.istate.data import PageData

from selfcare.api_client import NotFound
from selfcare.charges_client import ChargesClient
from selfcare.pages.invoice.state import InvoiceState
from selfcare.state.payment_method import (
    PaymentMethodState,
    autopay_view,
    check_autogiro_form,
    method_view,
    provider_page,
)
from selfcare.state.session import SessionState
from tests.app.conftest import drain, fresh_states, full_page_load, run, shown, subscriber_token, substate

# Customers of the seeded core that these tests change (others are left to other test modules).
OWN, OTHER = 3, 4


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
    return root, session, substate(root, PaymentMethodState)


def _redirects(updates) -> bool:
    return any("_redirect" in repr(u) for u in updates)


def _core_method(client, customer_id: int) -> dict:
    return run(ChargesClient(client).payment_method(subscriber_token(customer_id), customer_id))


PNR = "19700101-1233"  # a valid personal number (check digit 3)


# -- pure ---------------------------------------------------------------------------------------


def test_autogiro_form_shape_names_the_field():
    clearing, account, personal, errors = check_autogiro_form(
        {"clearing": " 8327-9 ", "account": "938 475 000-1", "personal_number": "19700101-1233"}, "en"
    )
    assert (clearing, account, personal, errors) == ("83279", "9384750001", "197001011233", {})
    _c, _a, _p, errors = check_autogiro_form({"clearing": "83", "account": "12ab", "personal_number": "7001"}, "sv")
    assert errors["clearing"].startswith("Clearingnummer") and errors["account"].startswith("Kontonummer")
    assert errors["personal_number"].startswith("Personnummer")
    _c, _a, _p, errors = check_autogiro_form({"clearing": ["8327"], "account": None}, "en")
    assert set(errors) == {"clearing", "account", "personal_number"}
    _c, _a, _p, errors = check_autogiro_form("not a form", "en")
    assert set(errors) == {"clearing", "account", "personal_number"}


def test_autopay_status_texts():
    assert autopay_view(None, "sv") == {"text": "", "tone": "", "failed": "", "paid": ""}
    scheduled = autopay_view(
        {"method": "autogiro", "status": "scheduled", "draw_date": "2026-04-30", "paid_at": None}, "sv"
    )
    assert scheduled["text"] == "Dras via autogiro 30 april" and not scheduled["paid"]
    paid = autopay_view(
        {"method": "autogiro", "status": "paid", "draw_date": "2026-04-30", "paid_at": "2026-04-30T06:10:00+00:00"},
        "sv",
    )
    assert paid["text"] == "Betald med autogiro 30 april" and paid["paid"] == "1"
    assert (
        autopay_view({"method": "card", "status": "paid", "draw_date": "2026-04-30"}, "en")["text"]
        == "Paid by card on 30 April"
    )
    failed = autopay_view({"method": "card", "status": "failed", "draw_date": "2026-04-30"}, "sv")
    assert failed["text"] == "" and failed["failed"] == "1"  # the Pay button comes back
    assert autopay_view({"method": "bitcoin", "status": "paid"}, "sv")["text"] == ""


def test_method_view_and_provider_page():
    v = method_view(
        {
            "method": "autogiro",
            "status": "pending",
            "since": None,
            "notice": None,
            "card": None,
            "autogiro": {"account": "•••• 0001", "clearing": "8327", "mandate_status": "pending", "payer_number": "1"},
        },
        "sv",
    )
    assert v["method_text"] == "Autogiro" and v["status_text"] == "Väntar" and v["pending_note"]
    assert any("•••• 0001" in d and "8327" in d for d in v["details"])
    card = method_view(
        {"method": "card", "status": "active", "card": {"brand": "visa", "last4": "4242", "expires": "12/28"}}, "en"
    )
    assert card["summary"] == "Card •••• 4242" and card["automatic"]
    assert "Visa ending in 4242, valid until 12/28" in card["details"]
    assert method_view({}, "sv")["method"] == "manual"
    assert provider_page("/paygw/cards/abc").endswith("/paygw/cards/abc")
    assert provider_page("/core/paygw/cards/abc").endswith("/core/paygw/cards/abc")
    assert "/core/core/" not in provider_page("/core/paygw/cards/abc")
    for bad in ("https://evil.example/x", "//evil.example/x", "javascript:alert(1)", None, 5):
        assert provider_page(bad) == ""


# -- against the core ---------------------------------------------------------------------------


def test_without_a_session_every_handler_does_nothing(client):
    state = substate(fresh_states(), PaymentMethodState)
    assert _redirects(run(drain(PaymentMethodState.load.fn(state))))
    assert _redirects(
        run(
            drain(
                PaymentMethodState.submit_autogiro.fn(
                    state, {"clearing": "8327", "account": "9384750001", "personal_number": PNR}
                )
            )
        )
    )
    assert _redirects(run(drain(PaymentMethodState.choose_card.fn(state))))
    assert _redirects(run(drain(PaymentMethodState.choose_manual.fn(state))))
    assert shown(state, "view") == {} and not state.loaded


def test_bad_shape_never_reaches_the_core(client):
    _root, _session, pm = _signed_in(OWN)
    run(drain(PaymentMethodState.load.fn(pm)))
    before = _core_method(client, OWN)
    run(drain(PaymentMethodState.open_autogiro.fn(pm)))
    run(drain(PaymentMethodState.submit_autogiro.fn(pm, {"clearing": "83", "account": "abc"})))
    assert pm.clearing_error and pm.account_error and pm.form_open
    assert _core_method(client, OWN) == before


def test_the_bank_rules_of_the_core_show_beside_the_field(client):
    _root, _session, pm = _signed_in(OWN)
    run(drain(PaymentMethodState.load.fn(pm)))
    # 0999: the right shape, but no Swedish bank has that clearing number.
    run(
        drain(
            PaymentMethodState.submit_autogiro.fn(
                pm, {"clearing": "0999", "account": "9384750001", "personal_number": PNR}
            )
        )
    )
    assert (pm.clearing_error or pm.account_error) and not pm.success
    assert _core_method(client, OWN)["method"] != "autogiro"


def test_autogiro_is_pending_until_the_bank_approves_then_back_to_manual(client):
    _root, _session, pm = _signed_in(OWN)
    run(drain(PaymentMethodState.load.fn(pm)))
    # A personal number with a wrong check digit: the core says so, beside the field.
    run(
        drain(
            PaymentMethodState.submit_autogiro.fn(
                pm, {"clearing": "8327", "account": "9384750001", "personal_number": "197001011234"}
            )
        )
    )
    assert pm.personal_error and _core_method(client, OWN)["method"] != "autogiro"
    run(
        drain(
            PaymentMethodState.submit_autogiro.fn(
                pm, {"clearing": "8327", "account": "9384750001", "personal_number": PNR}
            )
        )
    )
    assert pm.clearing_error == pm.account_error == pm.personal_error == pm.error == ""
    view = shown(pm, "view")
    assert view["method"] == "autogiro" and view["status"] == "pending" and view["pending_note"]
    assert pm.success and not pm.form_open
    core = _core_method(client, OWN)
    assert core["method"] == "autogiro" and core["autogiro"]["mandate_status"] == "pending"
    assert "9384750001" not in str(core)  # the page shows a masked account
    run(drain(PaymentMethodState.ask_manual.fn(pm)))
    assert pm.confirm_manual
    run(drain(PaymentMethodState.choose_manual.fn(pm)))
    assert shown(pm, "view")["method"] == "manual" and not pm.confirm_manual
    assert _core_method(client, OWN)["method"] == "manual"


def test_card_goes_to_the_providers_page(client):
    _root, _session, pm = _signed_in(OWN)
    run(drain(PaymentMethodState.load.fn(pm)))
    updates = run(drain(PaymentMethodState.choose_card.fn(pm)))
    path = full_page_load(updates)
    assert "/paygw/" in path and not path.startswith("//")
    # The hosted page exists on the core (no sign-in: the session id is the key).
    core_path = path[path.index("/paygw/") :]
    resp = run(client._http.get(core_path))
    assert resp.status_code == 200 and "<form" in resp.text.lower()
    # The payer saves the provider's test card; the provider sends the browser back here.
    back = run(client._http.post(core_path, data={"choice": "visa"}))
    assert back.status_code == 303 and back.headers["location"].endswith("/payment-method?card=saved")
    pm.rx_router_page = PageData(path="/payment-method", params={"card": "saved"})
    run(drain(PaymentMethodState.load.fn(pm)))
    view = shown(pm, "view")
    assert view["method"] == "card" and view["status"] == "active" and pm.success and not pm.error
    assert any("4242" in d for d in shown(pm, "details")) and view["summary"].endswith("4242")
    # A return that claims success while the core has no card shows the failure, never a success.
    run(drain(PaymentMethodState.choose_manual.fn(pm)))
    pm.success = ""
    run(drain(PaymentMethodState.load.fn(pm)))
    assert shown(pm, "view")["method"] == "manual" and pm.error and not pm.success


def test_only_the_sessions_own_customer_is_reached(client):
    own_root, _s, pm = _signed_in(OWN)
    run(drain(PaymentMethodState.load.fn(pm)))
    assert pm.loaded
    # Another subscriber's customer is out of reach through the API (404, not 403)...
    with pytest.raises(NotFound):
        run(ChargesClient(client).set_manual(subscriber_token(OWN), OTHER))
    with pytest.raises(NotFound):
        run(ChargesClient(client).payment_method(subscriber_token(OWN), OTHER))
    # ...and the state keeps nothing of a previous session's customer.
    session = substate(own_root, SessionState)
    session._start(
        {
            "access_token": subscriber_token(OTHER),
            "expires_at": time.time() + 600,
            "customer_id": OTHER,
            "name": "Other",
            "customer_number": f"K{100000 + OTHER}",
        }
    )
    run(drain(PaymentMethodState.open_autogiro.fn(pm)))
    assert shown(pm, "view") == {} and not pm.loaded
    session._drop()
    assert _redirects(run(drain(PaymentMethodState.choose_manual.fn(pm))))


def test_invoice_page_has_no_autopay_for_manual_payers(client):
    customer_id = 1
    invoice_id = run(client.invoices(subscriber_token(customer_id), customer_id))["items"][0]["id"]
    root = fresh_states()
    substate(root, SessionState)._start(
        {"access_token": subscriber_token(customer_id), "expires_at": time.time() + 600, "customer_id": customer_id}
    )
    inv = substate(root, InvoiceState)
    run(drain(InvoiceState.open_invoice.fn(inv, invoice_id)))
    assert inv.view and inv.autopay["text"] == ""
