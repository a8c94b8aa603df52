"""A language switch relabels what a state computed from the core's answer, without loading it again.

The invoice page's thread (authors, read marks, times, line choices, its notes), the payment method
(the page and the overview's card) and the overview's instalment card keep the core's answer and
show it in the session's language of the moment. Each test switches the language with the session's
own handler and checks both the state and what Reflex would send the browser (the delta).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from backend_stub.services.access.tokens import AuthSettings, Role, issue_token
from selfcare.components.instalment_card import InstalmentCardState
from selfcare.pages.invoice.state import InvoiceState
from selfcare.pages.invoice.thread import ThreadState
from selfcare.state.payment_method import PaymentMethodState
from selfcare.state.session import SessionState
from selfcare.support_client import SupportClient
from tests.app.conftest import SECRET, drain, fresh_states, run, shown, subscriber_token, substate

CUSTOMER = 2


def _signed_in(customer_id: int):
    root = fresh_states()
    substate(root, SessionState)._start(
        {
            "access_token": subscriber_token(customer_id),
            "expires_at": time.time() + 600,
            "customer_id": customer_id,
            "name": "Test",
            "customer_number": f"K{100000 + customer_id}",
        }
    )
    return root


def _switch(root, lang: str) -> dict[str, Any]:
    """The session's own handler, then what the browser would be sent (the state's part of the delta)."""
    root._clean()
    SessionState.set_lang.fn(substate(root, SessionState), lang)
    return run(root._get_resolved_delta())


def _sent(delta: dict[str, Any], cls: type, var: str) -> Any:
    part = delta[cls.get_full_name()]
    (key,) = [k for k in part if k.split("_rx_state_")[0] == var]
    return part[key]


def test_the_thread_follows_the_language(client):
    token = subscriber_token(CUSTOMER)
    invoice_id = run(client.invoices(token, CUSTOMER))["items"][1]["id"]
    support = SupportClient(client)
    question = run(support.post_message(token, invoice_id, "Vad är rad 1?", 1))
    agent = issue_token(AuthSettings(secret=SECRET), subject="tester", role=Role.AGENT, ttl=timedelta(minutes=10))
    answer = run(support.post_message(agent, invoice_id, "Det är din abonnemangsavgift."))
    root = _signed_in(CUSTOMER)
    invoice = substate(root, InvoiceState)
    run(drain(InvoiceState.open_invoice.fn(invoice, invoice_id)))
    thread = substate(root, ThreadState)
    run(drain(ThreadState.open.fn(thread, invoice_id)))
    run(drain(ThreadState.send.fn(thread, {"text": "  "})))  # a note of the page: "write your message first"

    def rows(messages: list[dict[str, str]]) -> tuple[dict[str, str], dict[str, str]]:
        by_id = {m["id"]: m for m in messages}
        return by_id[str(question["id"])], by_id[str(answer["id"])]

    mine, theirs = rows(shown(thread, "messages"))
    sv_line_1 = invoice.lines[0]["description"]
    assert (mine["who"], mine["read"], mine["line"]) == ("Du", "Skickat", f"Om rad 1: {sv_line_1}")
    assert theirs["who"] == "tester, kundtjänst" and theirs["read"] == ""
    month = {
        "sv": (
            "januari",
            "februari",
            "mars",
            "april",
            "maj",
            "juni",
            "juli",
            "augusti",
            "september",
            "oktober",
            "november",
            "december",
        ),
        "en": (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
    }
    assert any(f" {m} " in mine["at"] for m in month["sv"])
    assert shown(thread, "line_options")[0]["label"] == "Hela fakturan"
    assert shown(thread, "error") == "Skriv ditt meddelande först."

    delta = _switch(root, "en")
    sent_mine, sent_theirs = rows(_sent(delta, ThreadState, "messages"))
    assert (sent_mine["who"], sent_mine["read"]) == ("You", "Sent")
    assert sent_theirs["who"] == "tester, customer service"
    assert any(f" {m} " in sent_mine["at"] for m in month["en"]) and sent_mine["text"] == "Vad är rad 1?"
    assert _sent(delta, ThreadState, "line_options")[0]["label"] == "The whole invoice"
    assert _sent(delta, ThreadState, "error") == "Write your message first."
    assert rows(shown(thread, "messages")) == (sent_mine, sent_theirs)

    # The line's own description is the invoice's: the page loads the invoice again in English.
    run(drain(InvoiceState.open_invoice.fn(invoice, invoice_id)))
    en_line_1 = invoice.lines[0]["description"]
    assert rows(shown(thread, "messages"))[0]["line"] == f"About line 1: {en_line_1}"
    assert shown(thread, "line_options")[1]["label"].startswith(f"1. {en_line_1} · ")

    # And back.
    delta = _switch(root, "sv")
    assert rows(_sent(delta, ThreadState, "messages"))[0]["who"] == "Du"
    assert _sent(delta, ThreadState, "error") == "Skriv ditt meddelande först."


def test_the_payment_method_card_follows_the_language():
    root = _signed_in(CUSTOMER)
    pm = substate(root, PaymentMethodState)
    pm._doc = {
        "method": "card",
        "status": "active",
        "since": "2026-03-10",
        "notice": None,
        "card": {"brand": "visa", "last4": "4242", "expires": "12/28"},
    }
    pm.loaded = True
    view = shown(pm, "view")
    assert (view["method_text"], view["summary"], view["status_text"]) == ("Kort", "Kort •••• 4242", "Aktiv")
    assert shown(pm, "details") == ["Visa som slutar på 4242, giltigt till 12/28", "Sedan 10 mars 2026"]

    delta = _switch(root, "en")
    view = _sent(delta, PaymentMethodState, "view")
    assert (view["method_text"], view["summary"], view["status_text"]) == ("Card", "Card •••• 4242", "Active")
    assert _sent(delta, PaymentMethodState, "details") == [
        "Visa ending in 4242, valid until 12/28",
        "Since 10 March 2026",
    ]
    assert shown(pm, "view") == view


def test_the_instalment_card_follows_the_language():
    root = _signed_in(CUSTOMER)
    card = substate(root, InstalmentCardState)
    card._items = [
        {
            "id": 1,
            "device_name": "iPhone 16",
            "months": 24,
            "months_billed": 8,
            "months_left": 16,
            "status": "active",
            "monthly_ore": 19975,
            "paid_ore": 159800,
            "total_ore": 479400,
            "remaining_ore": 319600,
            "start_period": "2026-03",
            "msisdn": "46701234567",
        }
    ]
    (row,) = shown(card, "rows")
    assert row["headline"] == "iPhone 16: 8 av 24 månader betalda, 3\u00a0196,00\u00a0kr kvar"
    assert row["monthly"] == "199,75\u00a0kr / månad"

    (row,) = _sent(_switch(root, "en"), InstalmentCardState, "rows")
    assert row["headline"] == "iPhone 16: 8 of 24 months paid, 3,196.00\u00a0kr left"
    assert row["monthly"] == "199.75\u00a0kr / month" and row["since"] == "Since March 2026"
