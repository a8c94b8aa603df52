"""The thread on the invoice page: its handlers called directly, as the browser could (any id, any text)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from backend_stub.services.access.tokens import AuthSettings, Role, issue_token
from selfcare.pages.invoice.state import InvoiceState
from selfcare.pages.invoice.thread import ThreadState
from selfcare.state.session import SessionState
from selfcare.support_client import SupportClient
from tests.app.conftest import SECRET, drain, fresh_states, run, shown, subscriber_token, substate


def _agent_token() -> str:
    return issue_token(AuthSettings(secret=SECRET), subject="tester", role=Role.AGENT, ttl=timedelta(minutes=10))


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
    return root


def _invoice_ids(client, customer_id: int) -> list[str]:
    return [i["id"] for i in run(client.invoices(subscriber_token(customer_id), customer_id))["items"]]


def _open(root, invoice_id: str) -> ThreadState:
    run(drain(InvoiceState.open_invoice.fn(substate(root, InvoiceState), invoice_id)))
    thread = substate(root, ThreadState)
    run(drain(ThreadState.open.fn(thread, invoice_id)))
    return thread


def test_ask_about_a_line_and_see_it_as_written(client):
    own = _invoice_ids(client, 4)[0]
    root = _signed_in(4)
    thread = _open(root, own)
    assert not thread.not_found and thread.invoice_id == own
    options = shown(thread, "line_options")
    assert options[0]["value"] == "0" and len(options) > 1
    text = '<script>alert("x")</script> [link](http://evil.example) **bold**'
    updates = run(drain(ThreadState.send.fn(thread, {"text": text, "line": "1"})))
    assert shown(thread, "error") == "" and shown(thread, "notice")
    msg = shown(thread, "messages")[-1]
    assert msg["text"] == text and msg["mine"] == "1" and msg["read"] == "Skickat"
    assert msg["line"].startswith("Om rad 1")
    assert any("open_invoice" in repr(u) for u in updates)  # the timeline is refreshed
    # The core has it as written, on this invoice's thread.
    stored = run(SupportClient(client).thread(subscriber_token(4), own))
    assert [m["text"] for m in stored["messages"]] == [text]


def test_bad_input_is_refused_with_a_reason(client):
    own = _invoice_ids(client, 3)[1]
    thread = _open(_signed_in(3), own)
    before = list(shown(thread, "messages"))  # other tests may have written on this invoice
    run(drain(ThreadState.send.fn(thread, {"text": "   "})))
    assert shown(thread, "error") and shown(thread, "messages") == before
    run(drain(ThreadState.send.fn(thread, {"text": "x" * 2001})))
    assert "2000" in shown(thread, "error") and shown(thread, "messages") == before
    run(drain(ThreadState.send.fn(thread, {"text": "hej", "line": "999"})))
    assert shown(thread, "error") and shown(thread, "messages") == before
    run(drain(ThreadState.send.fn(thread, "not a form")))
    assert shown(thread, "error") and shown(thread, "messages") == before


def test_foreign_invoice_yields_nothing(client):
    foreign = _invoice_ids(client, 2)[0]
    run(SupportClient(client).post_message(subscriber_token(2), foreign, "customer 2's own question"))
    root = _signed_in(1)
    thread = _open(root, foreign)
    assert thread.not_found and shown(thread, "messages") == [] and thread.invoice_id == ""
    for bad in ("", "../audit", "00000000-0000-0000-0000-000000000000", 42):
        run(drain(ThreadState.open.fn(thread, bad)))  # type: ignore[arg-type]
        assert thread.not_found and shown(thread, "messages") == []
    # Posting to it by forcing the id (the browser cannot set it, but even so) does nothing.
    thread.invoice_id = foreign
    run(drain(ThreadState.send.fn(thread, {"text": "let me in"})))
    assert shown(thread, "messages") == [] and thread.not_found
    stored = run(SupportClient(client).thread(subscriber_token(2), foreign))
    texts = [m["text"] for m in stored["messages"]]
    assert "customer 2's own question" in texts and "let me in" not in texts


def test_link_session_reaches_only_its_invoice(client):
    first, second = _invoice_ids(client, 1)[:2]
    link = run(client.create_link(subscriber_token(1), first))
    opened = run(client.open_link(link["token"]))
    root = fresh_states()
    substate(root, SessionState)._start(opened, scope_invoice=opened["invoice_id"])
    thread = _open(root, first)
    assert not thread.not_found
    run(drain(ThreadState.send.fn(thread, {"text": "via the link"})))
    assert [m["text"] for m in shown(thread, "messages")] == ["via the link"]
    other = _open(root, second)
    assert other.not_found and shown(other, "messages") == []


def test_a_reply_arrives_by_the_poll_and_refreshes_the_invoice(client, env):
    env.set("SELFCARE_THREAD_POLL_S", "0.2")
    own = _invoice_ids(client, 1)[2]
    root = _signed_in(1)
    thread = _open(root, own)
    run(drain(ThreadState.send.fn(thread, {"text": "Why so expensive?"})))

    async def scenario() -> list:
        poll = ThreadState.poll.fn(thread)
        first = asyncio.ensure_future(poll.__anext__())
        await asyncio.sleep(0.3)
        await SupportClient(client).thread(_agent_token(), own)  # the agent reads the question
        await SupportClient(client).post_message(_agent_token(), own, "We have looked at it.")
        update = await asyncio.wait_for(first, 5)
        ThreadState.stop.fn(thread)  # the page closes: the poll ends
        rest = [u async for u in poll]
        return [update, *rest]

    updates = run(scenario())
    assert "open_invoice" in repr(updates[0]) and len(updates) == 1
    messages = shown(thread, "messages")
    assert [m["author"] for m in messages] == ["customer", "agent"]
    assert messages[1]["text"] == "We have looked at it." and messages[1]["who"].startswith("tester")
    assert messages[0]["read"] == "Läst"  # the agent's read reached the subscriber's page


def test_sign_out_stops_the_poll(client, env):
    env.set("SELFCARE_THREAD_POLL_S", "0.2")
    own = _invoice_ids(client, 1)[1]
    root = _signed_in(1)
    thread = _open(root, own)
    substate(root, SessionState)._drop()

    async def scenario() -> list:
        return [u async for u in ThreadState.poll.fn(thread)]

    assert run(asyncio.wait_for(scenario(), 5)) == []
    assert thread.invoice_id == "" and shown(thread, "messages") == []
