"""Automatic payment through the HTTP API on SQLite and PostgreSQL: a card saved on the provider's
page and charged on the due date (declined → retry → fallback), the webhook's signature and replay
checks, autogiro through the file routes, and who may do what (404 for another's customer)."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from backend_stub.api.app import create_app
from backend_stub.formats import autogiro as ag
from backend_stub.services.autopay import mandates
from backend_stub.services.lifecycle import messaging, paygw
from backend_stub.storage.models.autopay import PaymentMethod
from tests.conftest import problems, token_for
from tests.lifecycle_support import bill_october

DUE = date(2026, 12, 1)


@pytest.fixture
def setup(core, auth, tmp_path, env):
    env.set("SELFCARE_PRINT_DIR", str(tmp_path / "print"))
    env.set("SELFCARE_AUTOGIRO_CUSTOMER_NUMBER", "471117")
    rows = bill_october(core)
    with TestClient(create_app(core, auth=auth), follow_redirects=False) as client:
        yield client, rows


def _save_card(api, auth, customer_id: int, choice: str) -> str:
    me = token_for(auth, "subscriber", customer_id)
    r = api.put(
        f"/customers/{customer_id}/payment-method",
        headers=me,
        json={"method": "card", "return_url": "http://localhost:3000/payment-method"},
    )
    assert r.status_code == 200, r.text
    url = r.json()["redirect_url"]
    assert url.startswith("/paygw/cards/")
    page = api.get(url)
    assert page.status_code == 200 and "4242" in page.text and "0002" in page.text
    assert "card-number" not in page.text.lower() and "cvc" not in page.text.lower()  # no card data asked for
    done = api.post(url, data={"choice": choice})
    assert done.status_code == 303
    # the provider's card is chosen from today; put the start before the October invoice's due date
    with api.app.state.core.engine.begin() as conn:
        conn.execute(
            update(PaymentMethod)
            .where(PaymentMethod.customer_id == customer_id)
            .values(since=datetime(2026, 11, 21, tzinfo=UTC))
        )
    return done.headers["location"]


def _run(api, auth, on: date) -> dict:
    r = api.post("/autopay/run", headers=token_for(auth, "service"), json={"date": on.isoformat()})
    assert r.status_code == 200, r.text
    return r.json()


def _invoice(api, auth, inv) -> dict:
    return api.get(f"/invoices/{inv.id}", headers=token_for(auth, "subscriber", inv.customer_id)).json()


def test_card_saved_on_the_providers_page_and_charged_on_the_due_date(setup, auth):
    api, rows = setup
    inv = rows["K1"]
    me = token_for(auth, "subscriber", inv.customer_id)
    assert _save_card(api, auth, inv.customer_id, "visa") == "http://localhost:3000/payment-method?card=saved"
    pm = api.get(f"/customers/{inv.customer_id}/payment-method", headers=me).json()
    assert pm == {
        "method": "card",
        "status": "active",
        "autogiro": None,
        "card": {"brand": "visa", "last4": "4242", "expires": "12/30"},
        "since": pm["since"],
        "notice": None,
    }
    assert _run(api, auth, date(2026, 11, 30)).get("paid") is None  # not due yet
    result = _run(api, auth, DUE)
    assert (result["paid"], result["paid_ore"]) == (1, inv.amount_due_ore)
    assert _run(api, auth, DUE).get("paid") is None  # once
    doc = _invoice(api, auth, inv)
    assert doc["status"] == "paid" and doc["payments"][-1]["method"] == "card"
    assert doc["autopay"]["method"] == "card" and doc["autopay"]["status"] == "paid"
    assert doc["autopay"]["draw_date"] == "2026-12-01" and doc["autopay"]["paid_at"]
    assert doc["timeline"][-1]["kind"] == "payment_received"


def test_declined_card_is_retried_then_the_invoice_falls_back(setup, auth, core):
    api, rows = setup
    inv = rows["K2"]  # an SMS customer
    _save_card(api, auth, inv.customer_id, "decline")
    first = _run(api, auth, DUE)
    assert (first["failed"], first["retrying"]) == (1, 1)
    doc = _invoice(api, auth, inv)
    assert doc["timeline"][-1]["kind"] == "autopay_failed"
    assert doc["timeline"][-1]["text"] == (
        "Kortbetalningen 1 december 2026 gick inte igenom (kortet nekades). Vi försöker igen 3 december 2026."
    )
    assert doc["autopay"] == {"method": "card", "status": "retrying", "draw_date": "2026-12-03", "paid_at": None}
    assert _run(api, auth, date(2026, 12, 2)).get("failed") is None  # the retry is on the 3rd
    second = _run(api, auth, date(2026, 12, 3))
    assert (second["failed"], second["fallback"], second["messages"]) == (1, 1, 1)
    doc = _invoice(api, auth, inv)
    assert [e["kind"] for e in doc["timeline"]][-3:] == ["autopay_failed", "autopay_failed", "autopay_fallback"]
    assert doc["autopay"]["status"] == "failed" and doc["balance_ore"] == inv.amount_due_ore
    sms = messaging.list_outbox(core.engine, channel="sms", invoice_id=inv.id)
    assert sms and sms[0]["key"] == f"autopay-fallback:{inv.id}"
    assert _run(api, auth, date(2026, 12, 9)).get("failed") is None  # no more attempts


def test_card_webhook_rejects_bad_signatures_and_replays(setup, auth):
    api, rows = setup
    cid = rows["K1"].customer_id
    me = token_for(auth, "subscriber", cid)
    url = api.put(
        f"/customers/{cid}/payment-method", headers=me, json={"method": "card", "return_url": "/payment-method"}
    ).json()["redirect_url"]
    provider = api.app.state.paygw
    signature, body = provider.complete_card_setup(url.rsplit("/", 1)[1], "visa")
    hook = "/payments/webhook/testpay"
    bad = signature[:-4] + ("0000" if not signature.endswith("0000") else "1111")
    assert api.post(hook, content=body, headers={paygw.SIGNATURE_HEADER: bad}).status_code == 400
    assert api.post(hook, content=body).status_code == 400
    old = paygw.sign(provider.secret, body, int(time.time()) - 301)
    assert api.post(hook, content=body, headers={paygw.SIGNATURE_HEADER: old}).status_code == 400
    forged = json.loads(body)
    forged["data"]["last4"] = "9999"
    assert (
        api.post(hook, content=json.dumps(forged).encode(), headers={paygw.SIGNATURE_HEADER: signature}).status_code
        == 400
    )
    assert api.post(hook, content=body, headers={paygw.SIGNATURE_HEADER: signature}).json() == {"result": "saved"}
    assert api.post(hook, content=body, headers={paygw.SIGNATURE_HEADER: signature}).json() == {"result": "duplicate"}
    again = json.loads(body)
    again["id"] = "evt_other"
    again_body = json.dumps(again).encode()
    sig2 = paygw.sign(provider.secret, again_body, int(time.time()))
    assert api.post(hook, content=again_body, headers={paygw.SIGNATURE_HEADER: sig2}).json() == {"result": "duplicate"}
    assert api.get(f"/customers/{cid}/payment-method", headers=me).json()["card"]["last4"] == "4242"
    assert api.post(url, data={"choice": "visa"}).status_code == 409  # the page is used up
    stranger = json.loads(body)
    stranger["id"], stranger["data"]["session_id"] = "evt_stranger", "no-such-session"
    stranger_body = json.dumps(stranger).encode()
    sig3 = paygw.sign(provider.secret, stranger_body, int(time.time()))
    assert api.post(hook, content=stranger_body, headers={paygw.SIGNATURE_HEADER: sig3}).status_code == 400


def test_autogiro_through_the_api_and_the_file_routes(setup, auth):
    api, rows = setup
    inv = rows["K1"]
    cid = inv.customer_id
    me = token_for(auth, "subscriber", cid)
    service = token_for(auth, "service")
    route = f"/customers/{cid}/payment-method"
    for body, field_ in [
        ({"clearing": "0100", "account": "1234567"}, "clearing"),
        ({"clearing": "5000", "account": "1000005"}, "account"),
        ({"account": "1"}, "clearing"),
        ({"clearing": "8327", "account": "9384750001", "personal_number": "197001011234"}, "personal_number"),
    ]:
        r = api.put(route, headers=me, json={"method": "autogiro", **body})
        assert problems(r)[0].startswith(field_ + ":"), r.text
    r = api.put(
        route,
        headers=me,
        json={"method": "autogiro", "clearing": "8327", "account": "9384750001", "personal_number": "197001011233"},
    )
    assert r.status_code == 200, r.text
    pm = r.json()
    assert (pm["method"], pm["status"], pm["autogiro"]["mandate_status"], pm["autogiro"]["clearing"]) == (
        "autogiro",
        "pending",
        "pending",
        "8327",
    )
    out = api.get("/autogiro/files/outgoing", headers=service, params={"date": "2026-11-20"}).json()
    assert [f["kind"] for f in out["files"]] == ["mandates"] and out["mandates"] == 1
    payer = ag.parse(out["files"][0]["content"].encode(ag.ENCODING)).mandates[0].payer_number
    advice = ag.write_mandate_advice(
        ag.MandateAdviceFile(
            date(2026, 11, 23),
            "471117",
            "50501055",
            [ag.MandateAdvice("50501055", payer, "8327009384750001", "197001011233", "04", "32", date(2026, 11, 23))],
        )
    )
    r = api.post("/autogiro/files", headers=service, files={"file": ("medavi.txt", advice)})
    assert r.status_code == 200 and r.json()["approved"] == 1
    assert (
        api.post("/autogiro/files", headers=service, files={"file": ("medavi.txt", advice)}).json()["duplicate_file"]
        == 1
    )
    assert api.get(route, headers=me).json()["status"] == "active"
    out = api.get("/autogiro/files/outgoing", headers=service, params={"date": "2026-11-27"}).json()
    orders = ag.parse(out["files"][-1]["content"].encode(ag.ENCODING)).payments
    assert [(o.payment_date, o.amount_ore) for o in orders] == [(DUE, inv.amount_due_ore)]
    assert _invoice(api, auth, inv)["autopay"]["status"] == "pending"
    broken = advice.replace(b"AG-MEDAVI", b"AG-XXXXXX")
    r = api.post("/autogiro/files", headers=service, files={"file": ("bad.txt", broken)})
    assert problems(r)[0].startswith("file: line 1:"), r.text
    r = api.put(route, headers=me, json={"method": "manual"})
    assert r.json()["method"] == "manual" and r.json()["status"] == "none"


def test_nobody_reaches_another_customers_payment_method(setup, auth):
    api, rows = setup
    mine, other = rows["K1"].customer_id, rows["K2"].customer_id
    me = token_for(auth, "subscriber", mine)
    route = f"/customers/{other}/payment-method"
    assert api.get(route, headers=me).status_code == 404
    for body in (
        {"method": "manual"},
        {"method": "card", "return_url": "/x"},
        {"method": "autogiro", "clearing": "8327", "account": "9384750001"},
    ):
        assert api.put(route, headers=me, json=body).status_code == 404
    assert api.get(route, headers=token_for(auth, "agent")).status_code == 200  # staff read
    assert api.put(route, headers=token_for(auth, "agent"), json={"method": "manual"}).status_code == 403
    assert api.get("/customers/99999/payment-method", headers=token_for(auth, "service")).status_code == 404
    assert (
        api.put(
            f"/customers/{mine}/payment-method",
            headers=me,
            json={"method": "card", "return_url": "https://evil.example/x"},
        ).status_code
        == 422
    )
    for who in ("subscriber", "agent", "supervisor"):
        headers = token_for(auth, who, mine if who == "subscriber" else None)
        assert api.get("/autogiro/files/outgoing", headers=headers, params={"date": "2026-11-20"}).status_code == 403
        assert api.post("/autogiro/files", headers=headers, files={"file": ("x.txt", b"01")}).status_code == 403
        assert api.post("/autopay/run", headers=headers, json={}).status_code == 403
    assert api.get(route).status_code == 401
    assert mandates.payment_method(api.app.state.core.engine, other)["method"] == "manual"  # untouched
