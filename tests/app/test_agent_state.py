"""The agents' console: its handlers called directly (any handler, any argument), on the real core."""

from __future__ import annotations

import time
import uuid

import pytest

from backend_stub.services.support import agents
from selfcare.api_client import Unauthorized
from selfcare.i18n import format_money
from selfcare.pages.agent.audit import AuditState
from selfcare.pages.agent.rows import parse_kr, waited
from selfcare.pages.agent.state import AgentSessionState, AgentState
from selfcare.state.session import SessionState
from selfcare.support_client import SupportClient
from tests.app.conftest import drain, fresh_states, run, service_token, subscriber_token, substate

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def accounts(core_app) -> dict[str, str]:
    engine = core_app.state.core.engine
    suffix = uuid.uuid4().hex[:6]
    names = {"agent": f"anna{suffix}", "supervisor": f"sara{suffix}"}
    agents.create_agent(engine, names["agent"], "Anna Agent", PASSWORD, "agent")
    agents.create_agent(engine, names["supervisor"], "Sara Supervisor", PASSWORD, "supervisor")
    return names


def _console(username: str | None):
    root = fresh_states()
    agent = substate(root, AgentSessionState)
    if username:
        run(drain(AgentSessionState.sign_in.fn(agent, {"username": username, "password": PASSWORD})))
        assert agent.signed_in, agent.login_error
    return root, agent, substate(root, AgentState)


def _asked(client, customer_id: int, text: str, line: int | None = 1, index: int = 0) -> str:
    """A subscriber asks on their newest invoice (or the ``index``-th newest); returns its id."""
    invoice_id = run(client.invoices(subscriber_token(customer_id), customer_id))["items"][index]["id"]
    run(SupportClient(client).post_message(subscriber_token(customer_id), invoice_id, text, line))
    return invoice_id


def test_amounts_and_waits_are_parsed_and_shown():
    assert parse_kr("50") == 5000 and parse_kr("49,50") == 4950 and parse_kr("1 249,50 kr") == 124950
    for bad in ("", "0", "-5", "abc", "1,234", "1e3", "NaN", None, 50):
        assert parse_kr(bad) is None, bad
    assert waited(59, "sv") == "0 min" and waited(3 * 3600 + 600, "en") == "3 h 10 min"


def test_without_an_agent_session_every_handler_does_nothing(client, accounts):
    invoice_id = _asked(client, 2, "Is anyone there?")
    _root, _agent, console = _console(None)
    run(drain(AgentState.load.fn(console)))
    run(drain(AgentState.open_thread.fn(console, invoice_id)))
    assert console.inbox == [] and console.invoice_id == "" and console.messages == []
    # Even with the id forced into the state, nothing reaches the core.
    console.invoice_id, console.thread_id = invoice_id, 1
    run(drain(AgentState.reply.fn(console, {"text": "forged reply"})))
    run(drain(AgentState.credit.fn(console, {"amount": "50", "reason": "forged"})))
    run(drain(AgentState.waive_fee.fn(console, {"reason": "forged"})))
    run(drain(AgentState.assign_to_me.fn(console)))
    run(drain(AgentState.resolve.fn(console)))
    thread = run(SupportClient(client).thread(subscriber_token(2), invoice_id))
    assert {m["author"] for m in thread["messages"]} == {"customer"} and thread["thread"]["status"] == "waiting"
    assert thread["thread"]["assigned_to"] is None
    audit = substate(_root, AuditState)
    run(drain(AuditState.load.fn(audit)))
    assert not audit.allowed and audit.rows == []
    # A subscriber's session is not an agent's.
    session = substate(_root, SessionState)
    session._start({"access_token": subscriber_token(2), "expires_at": time.time() + 600, "customer_id": 2})
    run(drain(AgentState.load.fn(console)))
    assert console.inbox == []


def test_wrong_password_is_refused(client, accounts):
    root = fresh_states()
    agent = substate(root, AgentSessionState)
    run(drain(AgentSessionState.sign_in.fn(agent, {"username": accounts["agent"], "password": "wrong password!"})))
    assert not agent.signed_in and agent.login_error and agent._token == ""
    run(drain(AgentSessionState.sign_in.fn(agent, {"username": "", "password": "x"})))
    assert "Användarnamn" in agent.login_error


def test_agent_answers_credits_and_resolves(client, accounts):
    invoice_id = _asked(client, 3, "Vad är den här raden?", line=1)
    root, agent, console = _console(accounts["agent"])
    assert "_token" not in str(agent.get_delta())
    run(drain(AgentState.load.fn(console)))
    row = next(r for r in console.inbox if r["invoice_id"] == invoice_id)
    assert row["status_key"] == "waiting" and row["waited"].endswith("min")
    assert console.inbox[0]["status_key"] == "waiting"  # waiting threads first

    run(drain(AgentState.open_thread.fn(console, invoice_id)))
    assert console.invoice_id == invoice_id and console.messages[-1]["text"] == "Vad är den här raden?"
    assert console.lines and console.timeline and console.usage_title.startswith("1.")
    assert console.view["number"] and console.other_invoices  # the customer's other invoices

    run(drain(AgentState.assign_to_me.fn(console)))
    assert console.thread_assigned == accounts["agent"]
    run(drain(AgentState.reply.fn(console, {"text": "Raden är din fasta avgift."})))
    assert console.error == "" and console.messages[-1]["mine"] == "1"

    before = console.view["balance"]
    run(drain(AgentState.credit.fn(console, {"line": "0", "amount": "50", "reason": "Goodwill"})))
    assert console.confirm_kind == "credit" and console.view["balance"] == before  # previewed, not issued
    run(drain(AgentState.confirm.fn(console)))
    assert console.error == "" and "50" not in before and console.view["balance"] != before
    assert "Nytt belopp" in console.messages[-1]["text"] or "Fakturan ändrades" in console.messages[-1]["text"]
    run(drain(AgentState.credit.fn(console, {"line": "0", "amount": "600", "reason": "Too much"})))
    assert "arbetsledare" in console.error  # above the limit: a supervisor's decision
    run(drain(AgentState.credit.fn(console, {"line": "0", "amount": "tio", "reason": "x"})))
    assert console.error.startswith("Belopp")
    run(drain(AgentState.credit.fn(console, {"line": "0", "amount": "5", "reason": " "})))
    assert console.error.startswith("Orsak")

    run(drain(AgentState.resolve.fn(console)))
    assert console.thread_status == "resolved"
    thread = run(SupportClient(client).thread(subscriber_token(3), invoice_id))
    assert [m["author"] for m in thread["messages"]][-3:] == ["customer", "agent", "agent"]

    # The audit log is for supervisors only; it has what the agent did.
    audit = substate(root, AuditState)
    run(drain(AuditState.load.fn(audit)))
    assert not audit.allowed and audit.rows == []
    sroot, _sup, _ = _console(accounts["supervisor"])
    saudit = substate(sroot, AuditState)
    run(drain(AuditState.load.fn(saudit)))
    mine = {r["action"] for r in saudit.rows if r["actor"] == f"agent:{accounts['agent']}"}
    assert {"view", "assign", "reply", "credit", "credit_refused", "resolve"} <= mine

    # Signed out: the token is gone and revoked.
    token = agent._token
    run(drain(AgentSessionState.sign_out.fn(agent)))
    assert agent._token == "" and console.invoice_id == "" and console.inbox == []
    with pytest.raises(Unauthorized):
        run(SupportClient(client).inbox(token))


def _credit_notes(client, invoice_id: str) -> list[dict]:
    return run(client.invoice(service_token(), invoice_id))["credit_notes"]


def test_a_credit_is_previewed_then_issued_once_on_confirm(client, accounts):
    invoice_id = _asked(client, 3, "Kan ni kreditera?", index=2)  # an invoice no other test writes on
    _root, _agent, console = _console(accounts["agent"])
    run(drain(AgentState.open_thread.fn(console, invoice_id)))
    notes = len(_credit_notes(client, invoice_id))
    doc = run(client.invoice(service_token(), invoice_id))
    # Confirming with nothing previewed issues nothing.
    run(drain(AgentState.confirm.fn(console)))
    assert console.error.startswith("Inget att bekräfta") and len(_credit_notes(client, invoice_id)) == notes

    # Preview: what the invoice will look like after the credit, from the core's own computation.
    run(drain(AgentState.credit.fn(console, {"line": "0", "amount": "49,99", "reason": "Goodwill"})))
    assert console.error == "" and console.confirm_kind == "credit"
    assert any(x["amount"] == "-49,99\u00a0kr" for x in console.confirm_lines), console.confirm_lines
    balance = doc["balance_ore"]
    # the credit note carries its own öresavrundning (rules §1): 49,99 kr credits 50,00 kr
    assert console.confirm_left == (
        f"Kvar att betala: {format_money(balance, 'sv')} → {format_money(balance - 5000, 'sv')}"
    )
    assert len(_credit_notes(client, invoice_id)) == notes  # the preview issued nothing

    # Cancel: nothing issued, and confirm afterwards has nothing to issue.
    run(drain(AgentState.cancel_confirmation.fn(console)))
    assert console.confirm_kind == "" and console._pending == {}
    run(drain(AgentState.confirm.fn(console)))
    assert len(_credit_notes(client, invoice_id)) == notes

    # Preview, then confirm: exactly one credit note, the one previewed; a second confirm issues nothing.
    run(drain(AgentState.credit.fn(console, {"line": "0", "amount": "49,99", "reason": "Goodwill"})))
    run(drain(AgentState.confirm.fn(console)))
    assert console.error == "" and "Kreditfaktura" in console.notice
    [new] = [n for n in _credit_notes(client, invoice_id)][notes:]
    assert new["amount_due_ore"] == -5000  # 49,99 kr and its öresavrundning 0,01 kr
    run(drain(AgentState.confirm.fn(console)))
    assert len(_credit_notes(client, invoice_id)) == notes + 1

    # A preview is for the invoice it was made on: opening another thread drops it.
    run(drain(AgentState.credit.fn(console, {"line": "0", "amount": "10", "reason": "x"})))
    other = next(i["id"] for i in console.other_invoices)
    run(drain(AgentState.open_thread.fn(console, other)))
    run(drain(AgentState.confirm.fn(console)))
    assert (
        len(_credit_notes(client, invoice_id)) == notes + 1
        and _credit_notes(client, other) == run(client.invoice(service_token(), other))["credit_notes"]
    )
    assert console.notice == ""


def test_the_waive_button_is_there_only_with_a_fee_and_waiving_is_confirmed(client, core_app, accounts):
    from sqlalchemy import insert

    from backend_stub import clock
    from backend_stub.storage.models.lifecycle import InvoiceCharge

    invoice_id = _asked(client, 2, "Varför en avgift?", index=2)  # an invoice no other test writes on
    _root, _agent, console = _console(accounts["agent"])
    run(drain(AgentState.open_thread.fn(console, invoice_id)))
    assert console.fee_to_waive == ""  # no reminder fee: no waive button
    run(drain(AgentState.waive_fee.fn(console, {"reason": "x"})))
    assert console.confirm_kind == "" and console.error  # and the handler refuses too
    with core_app.state.core.engine.begin() as conn:
        conn.execute(
            insert(InvoiceCharge).values(
                invoice_id=invoice_id,
                kind="reminder_fee",
                amount_ore=6000,
                accrued_to=clock.today(),
                key=f"state-test-fee-{invoice_id}",
                created_at=clock.now(),
            )
        )
    run(drain(AgentState.open_thread.fn(console, invoice_id)))
    assert console.fee_to_waive == "60,00\u00a0kr"
    balance = run(client.invoice(service_token(), invoice_id))["balance_ore"]
    run(drain(AgentState.waive_fee.fn(console, {"reason": "Vi bjuder"})))
    assert console.confirm_kind == "waive" and console.confirm_lines[0]["amount"] == "-60,00\u00a0kr"
    assert run(client.invoice(service_token(), invoice_id))["balance_ore"] == balance  # not yet
    run(drain(AgentState.confirm.fn(console)))
    assert console.error == "" and console.notice and console.fee_to_waive == ""  # waived: the button is gone
    assert run(client.invoice(service_token(), invoice_id))["balance_ore"] == balance - 6000
