"""``/i/<id>``: an expired or revoked invoice link opens sign-in, and sign-in opens that invoice."""

from __future__ import annotations

from reflex.istate.data import PageData

from selfcare.pages.invoice.state import InvoiceState
from selfcare.pages.link.state import LinkState
from selfcare.pages.login.state import LoginState
from selfcare.state.session import LOGIN_ROUTE, SessionState
from tests.app.conftest import (
    drain,
    fresh_states,
    handed_off,
    latest_code,
    run,
    service_token,
    subscriber_token,
    substate,
)
from tests.app.test_states import _ids


def _open(root, link_id: str) -> list:
    state = substate(root, LinkState)
    state.rx_router_page = PageData(path=f"/i/{link_id}", params={"link_token": link_id})
    return run(drain(LinkState.open.fn(state)))


def _redirect_to(updates, session=None) -> str:
    """Where the handler sends the browser: a redirect, or a hand-off through the cookie route."""
    text = repr(updates)
    if "BrowserState.go" in text and session is not None:
        return handed_off(updates, session)
    assert "_redirect" in text, text
    return text


def test_a_revoked_link_leads_through_sign_in_to_its_invoice(client):
    invoice_id = _ids(client, 3)[0]
    link = run(client.create_link(subscriber_token(3), invoice_id))
    root = fresh_states()
    session = substate(root, SessionState)
    # While valid: the invoice opens without signing in (a session for this one invoice).
    assert _redirect_to(_open(root, link["token"]), session) == f"/invoices/{invoice_id}"
    assert session.scoped and not session.signed_in
    # Support revokes it; the same link now asks for a sign-in and remembers the invoice.
    resp = run(client._http.delete(f"/links/{link['token']}", headers={"Authorization": f"Bearer {service_token()}"}))
    assert resp.status_code == 204
    updates = _open(root, link["token"])
    assert LOGIN_ROUTE in _redirect_to(updates) and invoice_id not in repr(updates)  # the id stays backend-only
    assert session.link_expired and not session.scoped and session._token == ""
    assert not substate(root, LinkState).failed
    # Sign in: the invoice follows.
    login = substate(root, LoginState)
    run(drain(LoginState.request_code.fn(login, {"identifier": "K100003"})))
    code = run(latest_code(client, "K100003"))
    updates = run(drain(LoginState.verify_code.fn(login, {"code": code})))
    assert session.signed_in and _redirect_to(updates, session) == f"/invoices/{invoice_id}"
    assert not session.link_expired and session._after_login == ""
    inv = substate(root, InvoiceState)
    run(drain(InvoiceState.open_invoice.fn(inv, invoice_id)))
    assert inv.view["id"] == invoice_id
    # Already signed in: a dead link of one's own goes straight to the invoice.
    assert f"/invoices/{invoice_id}" in _redirect_to(_open(root, link["token"]))


def test_an_unknown_link_remembers_nothing(client):
    root = fresh_states()
    session = substate(root, SessionState)
    updates = _open(root, "a" * 16)
    assert substate(root, LinkState).failed and "_redirect" not in repr(updates)
    assert not session.link_expired and session._after_login == ""
