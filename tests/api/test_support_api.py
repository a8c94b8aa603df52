"""Threads on invoices, the agents' inbox, credits from the thread and the audit log (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend_stub import clock
from backend_stub.api.app import create_app
from backend_stub.demo.seed import seed
from backend_stub.services.support import agents
from backend_stub.storage.models.support import Agent
from tests.conftest import token_for
from tests.services.lifecycle.test_messaging import smtp_server  # noqa: F401 (a fixture: a real SMTP server on loopback)

PASSWORD = "correct horse battery staple"


@pytest.fixture
def api(core, auth):
    seed(core, 4, 2, today=date(2026, 11, 21), quiet=True)
    agents.create_agent(core.engine, "anna", "Anna Berg", PASSWORD, "agent")
    agents.create_agent(core.engine, "sven", "Sven Ek", PASSWORD, "supervisor")
    with TestClient(create_app(core, auth=auth)) as client:
        yield client


def _login(api, auth, username, password=PASSWORD):
    return api.post(
        "/agent-auth/login", headers=token_for(auth, "service"), json={"username": username, "password": password}
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _first_invoice(api, auth, customer_id):
    return api.get("/invoices", headers=token_for(auth, "subscriber", customer_id)).json()["items"][0]


def test_agent_sign_in_hashes_limits_and_audits(api, auth, core):
    with core.engine.connect() as conn:
        stored = conn.execute(select(Agent.password_hash).where(Agent.username == "anna")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert _login(api, auth, "anna", "wrong password!!").status_code == 401
    assert _login(api, auth, "nobody", PASSWORD).status_code == 401  # the same answer
    ok = _login(api, auth, "ANNA")
    assert ok.status_code == 200 and ok.json()["role"] == "agent"
    agent = _bearer(ok.json()["access_token"])
    assert api.get("/agent/inbox", headers=agent).status_code == 200
    # sign-out: the token is dead everywhere
    assert api.post("/auth/logout", headers=agent).status_code == 204
    assert api.get("/agent/inbox", headers=agent).status_code == 401
    # Successful sign-ins are never counted (issue 14: they used to lock the account) …
    for _ in range(8):
        assert _login(api, auth, "anna").status_code == 200
    # … failed ones back off: five free, then the next try (even the right one) waits.
    for _ in range(5):
        assert _login(api, auth, "anna", "wrong password!!").status_code == 401
    r = _login(api, auth, "anna")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    sup = _bearer(_login(api, auth, "sven").json()["access_token"])
    log = api.get("/audit", headers=sup, params={"actor": "anna"}).json()["items"]
    assert {e["action"] for e in log} >= {"sign_in", "sign_in_failed", "sign_in_limited"}
    assert api.get("/audit", headers=token_for(auth, "agent")).status_code == 403


@pytest.fixture
def smtp_settings(smtp_server, env):  # noqa: F811
    """The SMTP server in the environment, before the app (which reads its settings once) is made."""
    env.set("SELFCARE_SMTP_HOST", "127.0.0.1")
    env.set("SELFCARE_SMTP_PORT", str(smtp_server[1]))
    return smtp_server


def test_question_reply_and_credit_from_the_thread(smtp_settings, api, auth):
    inbox_smtp, port = smtp_settings
    customers = [
        api.get(f"/customers/{x['id']}", headers=token_for(auth, "agent")).json()
        for x in api.get("/customers", headers=token_for(auth, "agent")).json()["items"]
    ]
    c = next(x for x in customers if x["channel"] == "email" and x["email"])
    me = token_for(auth, "subscriber", c["id"])
    inv = _first_invoice(api, auth, c["id"])
    question = "Vad är den här raden? <script>alert(1)</script> [klicka](http://evil.example)"
    r = api.post(f"/invoices/{inv['id']}/thread/messages", headers=me, json={"text": question, "line_position": 1})
    assert r.status_code == 201, r.text
    assert r.json()["text"] == question  # stored as written; shown as text by the app
    agent = _bearer(_login(api, auth, "anna").json()["access_token"])
    box = api.get("/agent/inbox", headers=agent).json()
    waiting = box["items"][0]
    assert waiting["invoice_id"] == inv["id"] and waiting["status"] == "waiting"
    assert waiting["waiting_seconds"] >= 0 and waiting["last_message"]["line_position"] == 1
    assert api.post(f"/threads/{waiting['id']}/assign", headers=agent).json()["assigned_to"] == "anna"
    seen = api.get(f"/invoices/{inv['id']}/thread", headers=agent).json()
    last_id = seen["messages"][-1]["id"]
    reply = api.post(
        f"/invoices/{inv['id']}/thread/messages",
        headers=agent,
        json={"text": "Det är samtal till Världen zon 1. Vi krediterar 50 kr."},
    )
    assert reply.status_code == 201 and reply.json()["author_name"] == "Anna"
    before = api.get(f"/invoices/{inv['id']}", headers=me).json()
    credit = api.post(
        f"/invoices/{inv['id']}/thread/credit", headers=agent, json={"amount_ore": 5000, "reason": "Goodwill"}
    )
    assert credit.status_code == 201, credit.text
    after = api.get(f"/invoices/{inv['id']}", headers=me).json()
    assert after["balance_ore"] == before["balance_ore"] - 5000
    assert after["timeline"][-1]["kind"] == "corrected" and "Nytt belopp" in after["timeline"][-1]["text"]
    # the subscriber polls and gets the reply and the note of the change, and has read the question's answer
    new = api.get(f"/invoices/{inv['id']}/thread", headers=me, params={"after": last_id}).json()["messages"]
    assert [x["author"] for x in new] == ["agent", "agent"] and "Nytt belopp" in new[1]["text"]
    assert api.get(f"/invoices/{inv['id']}/thread", headers=agent).json()["thread"]["status"] == "answered"
    # the e-mail about the reply reached the SMTP server, with the invoice's own link
    assert inbox_smtp.messages and inbox_smtp.envelopes[-1][1] == [c["email"]]
    assert "/i/" in inbox_smtp.messages[-1].get_content()
    en = api.get(f"/invoices/{inv['id']}?lang=en", headers=me).json()["timeline"]
    asked = next(e for e in en if e["kind"] == "message")
    assert asked["text"].startswith(f"Question to customer service from {c['name']} (line 1): ")
    assert "<script>" in asked["text"]
    assert re.match(r"Answer from customer service \(\w+\): ", next(e for e in en if e["kind"] == "reply")["text"])
    timeline_kinds = [e["kind"] for e in after["timeline"]]
    assert "message" in timeline_kinds and "reply" in timeline_kinds
    sup = _bearer(_login(api, auth, "sven").json()["access_token"])
    actions = {e["action"] for e in api.get("/audit", headers=sup, params={"actor": "agent:anna"}).json()["items"]}
    assert actions >= {"view", "reply", "credit", "assign"}


def test_big_credits_need_a_supervisor(api, auth, env):
    env.set("SELFCARE_AGENT_CREDIT_LIMIT_ORE", "10000")
    customers = api.get("/customers", headers=token_for(auth, "agent")).json()["items"]
    inv = max((_first_invoice(api, auth, c["id"]) for c in customers), key=lambda i: i["amount_due_ore"])
    assert inv["amount_due_ore"] > 10000 + 100, "seeded data has an invoice above the limit"
    agent = _bearer(_login(api, auth, "anna").json()["access_token"])
    r = api.post(f"/invoices/{inv['id']}/thread/credit", headers=agent, json={"amount_ore": 10001, "reason": "x"})
    assert r.status_code == 403 and "supervisor" in r.json()["detail"]
    sup = _bearer(_login(api, auth, "sven").json()["access_token"])
    assert (
        api.post(
            f"/invoices/{inv['id']}/thread/credit", headers=sup, json={"amount_ore": 10001, "reason": "x"}
        ).status_code
        == 201
    )
    # at the limit an agent may
    assert (
        api.post(
            f"/invoices/{inv['id']}/thread/credit", headers=agent, json={"amount_ore": 10000, "reason": "y"}
        ).status_code
        == 201
    )


def test_nobody_reaches_another_subscribers_thread(api, auth):
    customers = api.get("/customers", headers=token_for(auth, "agent")).json()["items"]
    a, b = customers[0]["id"], customers[1]["id"]
    inv_a = _first_invoice(api, auth, a)
    other = token_for(auth, "subscriber", b)
    assert api.get(f"/invoices/{inv_a['id']}/thread", headers=other).status_code == 404
    assert api.post(f"/invoices/{inv_a['id']}/thread/messages", headers=other, json={"text": "hej"}).status_code == 404
    # subscribers cannot act as agents
    assert (
        api.post(
            f"/invoices/{inv_a['id']}/thread/credit",
            headers=token_for(auth, "subscriber", a),
            json={"amount_ore": 100, "reason": "x"},
        ).status_code
        == 403
    )
    assert api.get("/agent/inbox", headers=token_for(auth, "subscriber", a)).status_code == 403
    # a link session writes on its own invoice only
    link = api.post(f"/invoices/{inv_a['id']}/link", headers=token_for(auth, "agent")).json()
    scoped = _bearer(
        api.post("/links/open", headers=token_for(auth, "service"), json={"token": link["token"]}).json()[
            "access_token"
        ]
    )
    assert (
        api.post(
            f"/invoices/{inv_a['id']}/thread/messages", headers=scoped, json={"text": "Fråga via länken"}
        ).status_code
        == 201
    )
    inv_a2 = api.get("/invoices", headers=token_for(auth, "subscriber", a)).json()["items"][1]
    assert api.post(f"/invoices/{inv_a2['id']}/thread/messages", headers=scoped, json={"text": "x"}).status_code == 404


def test_messages_are_limited_in_length_and_rate(api, auth):
    c = api.get("/customers", headers=token_for(auth, "agent")).json()["items"][0]["id"]
    me = token_for(auth, "subscriber", c)
    inv = _first_invoice(api, auth, c)
    url = f"/invoices/{inv['id']}/thread/messages"
    assert api.post(url, headers=me, json={"text": "x" * 2001}).status_code == 422
    assert api.post(url, headers=me, json={"text": "   \u0000  "}).status_code == 422
    assert api.post(url, headers=me, json={"text": "hej", "line_position": 999}).status_code == 422
    codes = [api.post(url, headers=me, json={"text": f"fråga {i}"}).status_code for i in range(11)]
    assert codes[:10] == [201] * 10 and codes[10] == 429


def test_agent_waives_a_reminder_fee(api, auth, core):

    from sqlalchemy import insert

    from backend_stub.storage.models.lifecycle import InvoiceCharge

    c = api.get("/customers", headers=token_for(auth, "agent")).json()["items"][0]["id"]
    inv = _first_invoice(api, auth, c)
    agent = _bearer(_login(api, auth, "anna").json()["access_token"])
    url = f"/invoices/{inv['id']}/thread/waive-fee"
    assert api.post(url, headers=agent, json={"reason": "no fee"}).status_code == 422  # nothing to waive
    with core.engine.begin() as conn:
        conn.execute(
            insert(InvoiceCharge).values(
                invoice_id=inv["id"],
                kind="reminder_fee",
                amount_ore=6000,
                accrued_to=date(2026, 11, 21),
                key="test-fee",
                created_at=clock.now(),
            )
        )
    me = token_for(auth, "subscriber", c)
    before = api.get(f"/invoices/{inv['id']}", headers=me).json()["balance_ore"]
    r = api.post(url, headers=agent, json={"reason": "Första påminnelsen, vi bjuder"})
    assert r.status_code == 200 and r.json()["waived_ore"] == 6000
    after = api.get(f"/invoices/{inv['id']}", headers=me).json()
    assert after["balance_ore"] == before - 6000 and after["timeline"][-1]["kind"] == "fee_waived"
    en = api.get(f"/invoices/{inv['id']}?lang=en", headers=me).json()["timeline"][-1]["text"]
    assert en.startswith("The reminder fee of") and "was waived" in en
    assert api.post(url, headers=token_for(auth, "subscriber", c), json={"reason": "x"}).status_code == 403
    assert api.post(url, headers=agent, json={"reason": "again"}).status_code == 422


def test_credit_preview_is_the_credit_note_the_core_would_issue_and_issues_nothing(api, auth, core):
    from backend_stub.storage.models import billing as m

    customers = api.get("/customers", headers=token_for(auth, "agent")).json()["items"]
    inv = max((_first_invoice(api, auth, c["id"]) for c in customers), key=lambda i: i["amount_due_ore"])
    agent = _bearer(_login(api, auth, "anna").json()["access_token"])
    before = api.get(f"/invoices/{inv['id']}", headers=agent).json()
    me = token_for(auth, "subscriber", before["customer_id"])
    body = {"line_positions": [1], "reason": "Fel avgift"}
    with core.engine.connect() as conn:
        notes_before = conn.execute(select(m.Invoice.id).where(m.Invoice.kind == "credit_note")).all()
    preview = api.post(f"/invoices/{inv['id']}/thread/credit/preview", headers=agent, json=body)
    assert preview.status_code == 200, preview.text
    p = preview.json()
    line_one = before["lines"][0]
    assert p["lines"][0]["amount_ore"] == -line_one["amount_ore"] and p["credited_ore"] == line_one["amount_ore"]
    assert p["amount_ore"] == before["amount_due_ore"] - before["credited_ore"]
    assert p["new_amount_ore"] == p["amount_ore"] - p["credited_ore"]
    assert p["new_balance_ore"] == before["balance_ore"] - p["credited_ore"]
    with core.engine.connect() as conn:  # a preview issues nothing
        assert conn.execute(select(m.Invoice.id).where(m.Invoice.kind == "credit_note")).all() == notes_before
    # The issued credit note is the preview: same lines, same rounding, same new amount.
    issued = api.post(f"/invoices/{inv['id']}/thread/credit", headers=agent, json=body).json()
    note = api.get(f"/invoices/{issued['credit_note']['id']}", headers=agent).json()
    assert [(ln["description"], ln["amount_ore"]) for ln in note["lines"]] == [
        (ln["description"], ln["amount_ore"]) for ln in p["lines"]
    ]
    assert -note["amount_due_ore"] == p["credited_ore"] and note["rounding_ore"] == p["rounding_ore"]
    assert issued["invoice"]["new_amount_ore"] == p["new_amount_ore"]
    # who may preview: agents only; nothing to credit is refused like the credit itself
    assert api.post(f"/invoices/{inv['id']}/thread/credit/preview", headers=me, json=body).status_code == 403
    assert (
        api.post(f"/invoices/{inv['id']}/thread/credit/preview", headers=agent, json={"reason": "x"}).status_code == 422
    )
    assert api.post("/invoices/nope/thread/credit/preview", headers=agent, json=body).status_code == 404


def test_waive_preview_shows_the_fee_and_the_balance_after(api, auth, core):
    from sqlalchemy import insert

    from backend_stub.storage.models.lifecycle import InvoiceCharge

    c = api.get("/customers", headers=token_for(auth, "agent")).json()["items"][0]["id"]
    inv = _first_invoice(api, auth, c)
    agent = _bearer(_login(api, auth, "anna").json()["access_token"])
    url = f"/invoices/{inv['id']}/thread/waive-fee/preview"
    assert api.post(url, headers=agent).status_code == 422  # no fee: nothing to preview
    assert api.get(f"/invoices/{inv['id']}", headers=agent).json()["reminder_fees_ore"] == 0
    with core.engine.begin() as conn:
        conn.execute(
            insert(InvoiceCharge).values(
                invoice_id=inv["id"],
                kind="reminder_fee",
                amount_ore=6000,
                accrued_to=date(2026, 11, 21),
                key="test-fee",
                created_at=clock.now(),
            )
        )
    doc = api.get(f"/invoices/{inv['id']}", headers=agent).json()
    assert doc["reminder_fees_ore"] == 6000
    p = api.post(url, headers=agent).json()
    assert p["fee_ore"] == 6000 and p["new_balance_ore"] == doc["balance_ore"] - 6000
    assert api.get(f"/invoices/{inv['id']}", headers=agent).json()["balance_ore"] == doc["balance_ore"]
    assert api.post(url, headers=token_for(auth, "subscriber", c)).status_code == 403
    api.post(f"/invoices/{inv['id']}/thread/waive-fee", headers=agent, json={"reason": "ok"})
    assert api.get(f"/invoices/{inv['id']}", headers=agent).json()["reminder_fees_ore"] == 0
    assert api.post(url, headers=agent).status_code == 422


def test_every_change_to_a_thread_is_signalled_to_the_open_pages(api, auth, env):
    """The core publishes "this thread changed" after a question, a read, a reply and a credit (selfcare_common.
    thread_signal), and not when a page reads a thread with nothing new: quiet pages cost the core nothing."""
    from selfcare_common import thread_signal

    env.unset("REDIS_URL")
    heard: list[str] = []
    stop = thread_signal.listen(heard.append)
    try:
        me = token_for(auth, "subscriber", 1)
        inv = _first_invoice(api, auth, 1)
        path = f"/invoices/{inv['id']}/thread"
        assert api.post(f"{path}/messages", headers=me, json={"text": "Varför?"}).status_code == 201
        assert heard == [inv["id"]]
        api.get(path, headers=me)  # the subscriber reads: nothing of the agent's to mark read
        assert heard == [inv["id"]]
        agent = _bearer(_login(api, auth, "anna").json()["access_token"])
        api.get(path, headers=agent)  # the agent reads the question: the subscriber's page shows "read"
        assert heard == [inv["id"]] * 2
        api.get(path, headers=agent)  # read again: nothing changed
        api.post(f"{path}/messages", headers=agent, json={"text": "Därför."})
        api.post(f"{path}/credit", headers=agent, json={"amount_ore": 100, "reason": "Goodwill"})
        assert heard == [inv["id"]] * 4
    finally:
        stop()
