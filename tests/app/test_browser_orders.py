"""Fail-closed app states and the browser's orders without eval (issue 14: production default, CSP).

The pages' CSP has no ``'unsafe-eval'``, so no handler may answer with ``rx.call_script`` (Reflex runs
it with ``eval``); full page loads and field clearing are orders carried out by compiled page code.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from selfcare.pages.invoice.state import InvoiceState
from selfcare.pages.outbox import state as outbox_state
from selfcare.pages.outbox.state import OutboxState
from selfcare.state.browser import DONE_KEY, BrowserState, browser_orders, clear_if_sent, go_to
from selfcare.state.session import SessionState
from tests.app.conftest import drain, fresh_states, full_page_load, run, subscriber_token, substate
from tests.conftest import Env

SELFCARE = Path(__file__).resolve().parents[2] / "selfcare"


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
    return root, session


def test_no_handler_sends_script_to_eval():
    """``rx.call_script``/``call_function``/``run_script`` from a handler would be run with eval, which the
    pages' CSP refuses: the app must not use them."""
    offenders = [
        f"{path.relative_to(SELFCARE)}:{n}"
        for path in SELFCARE.rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\brx\.(call_script|call_function|run_script)\(", line)
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "url", ["/core/paygw/checkout/abc", "https://pay.example/checkout?s=1", "http://127.0.0.1:3000/core/paygw/cards/x"]
)
def test_go_sets_an_order_with_a_fresh_ticket(url: str):
    browser = substate(fresh_states(), BrowserState)
    BrowserState.go.fn(browser, url)
    first = dict(browser.order)
    BrowserState.go.fn(browser, url)
    assert first["go"] == browser.order["go"] == url
    assert first["ticket"] and first["ticket"] != browser.order["ticket"]  # the same address twice is two loads


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "//evil.example/x",
        "data:text/html,<script>",
        "/x\nSet-Cookie: a",
        "",
        None,
        5,
        "ftp://files.example/x",
    ],
)
def test_go_refuses_what_is_not_a_page_address(url):
    browser = substate(fresh_states(), BrowserState)
    BrowserState.go.fn(browser, url)
    assert browser.order == {}


def test_clear_field_order():
    browser = substate(fresh_states(), BrowserState)
    BrowserState.clear_field.fn(browser, "thread-text", "  Hej!  ")
    assert browser.order["clear"] == "thread-text" and browser.order["sent"] == "Hej!" and browser.order["ticket"]
    BrowserState.clear_field.fn(browser, 'x" onload="', "text")  # not an element id: the order stays as it was
    assert browser.order["clear"] == "thread-text"
    spec = clear_if_sent("agent-reply-text", "Svar")
    assert spec.handler.fn.__qualname__ == "BrowserState.clear_field"


def test_the_page_code_that_carries_out_orders_has_no_eval():
    from reflex.compiler import compiler
    from reflex_base.components import memo

    browser_orders()
    definitions = [d for key, d in memo.MEMOS.items() if "BrowserOrders" in str(key) or "browser_orders" in str(key)]
    [(_path, code)] = compiler.compile_memo_components(definitions)[0]
    assert "window.location.assign(order.go)" in code and DONE_KEY in code
    assert "eval" not in code and "Function(" not in code


def test_pay_goes_to_the_providers_page_without_eval(client):
    """Pay on an open invoice: one order for a full page load of the provider's hosted page on the core."""
    root, _session = _signed_in(1)
    inv = substate(root, InvoiceState)
    items = run(client.invoices(subscriber_token(1), 1))["items"]
    target = ""
    for item in items:
        run(drain(InvoiceState.open_invoice.fn(inv, item["id"])))
        updates = run(drain(InvoiceState.pay.fn(inv)))
        if inv.error:
            inv.error = ""
            continue  # nothing to pay on this one
        target = full_page_load(updates)
        break
    assert target, "the seeded customer needs an invoice with something to pay"
    assert "/paygw/checkout/" in target and not target.startswith("//")
    assert go_to(target).handler.fn.__qualname__ == "BrowserState.go"
    page = run(client._http.get(target[target.index("/paygw/") :]))
    assert page.status_code == 200 and "<form" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_outbox_state_gives_nothing_outside_dev(client, monkeypatch: pytest.MonkeyPatch, env: Env):
    """The app's outbox state hands out sign-in codes only with SELFCARE_ENV=dev/test: unset, empty or
    any other name is production, and there it does not even ask the core."""
    asked: list[int] = []

    async def outbox(*_args, **_kwargs):
        asked.append(1)
        return [{"id": 1, "channel": "sms", "to": "+46700000000", "text": "Din kod: 123456", "created_at": ""}]

    monkeypatch.setattr(client, "dev_outbox", outbox)
    state = substate(fresh_states(), OutboxState)
    for deployment in (None, "", "production", "staging", "Dev"):
        if deployment is None:
            env.unset("SELFCARE_ENV")
        else:
            env.set("SELFCARE_ENV", deployment)
        assert not outbox_state.dev_outbox_enabled()
        run(drain(OutboxState.load.fn(state)))
        assert state.messages == [] and state.available is False
    assert asked == []
    env.set("SELFCARE_ENV", "dev")
    run(drain(OutboxState.load.fn(state)))
    assert state.available and state.messages[0]["text"] == "Din kod: 123456"  # the demo still has it
