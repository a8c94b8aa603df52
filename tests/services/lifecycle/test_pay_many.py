"""One checkout that pays several invoices ("Betala alla"), oldest due date first.

The ledger every test starts from (business time 2026-12-05, after that day's dunning run):

    K1  100003  September  due 2026-10-31  199,00 + reminder fee 60,00 + interest  → reminded
    K1  100001  October    due 2026-12-01  219,00 + interest                       → overdue
    K2  100004, 100002     the same months, another customer's

September is billed after October, so its number is higher: the order of payment is by due
date, not by number. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend_stub.api.app import create_app
from backend_stub.core import Core
from backend_stub.domain.allocation import split_over_invoices
from backend_stub.services.billing import billrun, credit_notes, invoices
from backend_stub.services.lifecycle import dunning, ledger, paygw
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.services.lifecycle.payments import invoice_allocation
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.access import PaymentSession
from selfcare.api_client import CoreClient, NotFound
from selfcare_common.money_format import format_kr
from tests.conftest import problems, run_coroutine, token_for
from tests.lifecycle_support import bill_october

WEBHOOK = "/payments/webhook/testpay"


@pytest.fixture
def cfg(tmp_path: Path) -> LifecycleConfig:
    return LifecycleConfig(print_dir=tmp_path / "print", collection_dir=tmp_path / "inkasso")


@pytest.fixture
def api(core: Core, auth, cfg: LifecycleConfig):
    bill_october(core)
    billrun.run_bill_run(core.engine, core.catalogue, "2026-09", invoice_date=date(2026, 10, 1))
    dunning.run_dunning(core.engine, cfg)  # 2026-12-05: September reminded (fee), both accrue interest
    with TestClient(create_app(core, auth=auth), follow_redirects=False) as client:
        yield client


def _account(core: Core, customer_number: str) -> tuple[int, Any, Any]:
    """(customer id, September invoice row, October invoice row)."""
    with core.engine.connect() as conn:
        cid = conn.execute(select(m.Customer.id).where(m.Customer.customer_number == customer_number)).scalar_one()
        rows = {
            r.period_start.month: r
            for r in conn.execute(select(m.Invoice).where(m.Invoice.customer_id == cid, m.Invoice.kind == "invoice"))
        }
    return cid, rows[9], rows[10]


def _state(core: Core, inv_id: str) -> ledger.InvoiceState:
    with core.engine.connect() as conn:
        inv = conn.execute(select(m.Invoice).where(m.Invoice.id == inv_id)).one()
        return ledger.invoice_states(conn, [inv])[inv_id]


def _allocation(core: Core, inv_id: str):
    with core.engine.connect() as conn:
        return invoice_allocation(conn, conn.execute(select(m.Invoice).where(m.Invoice.id == inv_id)).one())


def _session_status(core: Core, checkout: dict[str, Any]) -> str:
    with core.engine.connect() as conn:
        return conn.execute(
            select(PaymentSession.status).where(PaymentSession.provider_payment_id == checkout["payment_id"])
        ).scalar_one()


def _payments(core: Core, payment_id: str) -> dict[str, tuple[str, int]]:
    """reference → (invoice id, amount) of the payments recorded for a provider payment."""
    with core.engine.connect() as conn:
        return {
            p.reference: (p.invoice_id, p.amount_ore)
            for p in conn.execute(select(m.Payment).where(m.Payment.reference.like(f"testpay:{payment_id}%")))
        }


def _pay_all(
    api: TestClient, me: dict[str, str], cid: int, invoice_ids: list[str] | None = None, return_url: str = "/invoices"
) -> dict[str, Any]:
    r = api.post(f"/customers/{cid}/pay", headers=me, json={"invoice_ids": invoice_ids, "return_url": return_url})
    assert r.status_code == 200, r.text
    return r.json()


def _deliver(api: TestClient, signature: str, body: bytes) -> str:
    r = api.post(WEBHOOK, content=body, headers={paygw.SIGNATURE_HEADER: signature})
    assert r.status_code == 200, r.text
    return r.json()["result"]


def test_split_over_invoices_oldest_first_rest_on_the_last():
    assert split_over_invoices(500, [200, 300]) == [200, 300]
    assert split_over_invoices(400, [200, 300]) == [200, 200]  # the newer one waits
    assert split_over_invoices(150, [200, 300]) == [150, 0]
    assert split_over_invoices(700, [200, 300]) == [200, 500]  # surplus: credit balance on the last
    assert split_over_invoices(500, [0, -50, 300]) == [0, 0, 500]  # paid or in credit meanwhile: nothing
    assert split_over_invoices(300, [0, 0]) == [0, 300]
    with pytest.raises(ValueError, match="balances"):
        split_over_invoices(100, [])


def test_pay_all_overdue_oldest_due_first(api, core, auth):
    cid, sep, oct_ = _account(core, "K1")
    assert sep.number > oct_.number and sep.due_date < oct_.due_date
    s_sep, s_oct = _state(core, sep.id), _state(core, oct_.id)
    assert (s_sep.status, s_oct.status) == ("reminded", "overdue")
    assert s_sep.fees_ore == 6000 and s_sep.interest_ore > 0 and s_oct.interest_ore > 0
    me = token_for(auth, "subscriber", cid)

    checkout = _pay_all(api, me, cid)  # no ids: every overdue invoice
    assert checkout["invoices"] == [
        {"id": sep.id, "number": sep.number, "amount_ore": s_sep.balance_ore},
        {"id": oct_.id, "number": oct_.number, "amount_ore": s_oct.balance_ore},
    ]
    assert checkout["amount_ore"] == s_sep.balance_ore + s_oct.balance_ore
    assert checkout["payment_id"].startswith("tp_") and checkout["checkout_path"].startswith("/paygw/checkout/")

    # named in any order, they are paid in the same order
    named = _pay_all(api, me, cid, [oct_.id, sep.id])
    assert [i["number"] for i in named["invoices"]] == [sep.number, oct_.number]
    assert named["amount_ore"] == checkout["amount_ore"]

    # the hosted page lists what it pays
    page = api.get(named["checkout_path"])
    assert page.status_code == 200 and 'id="invoices"' in page.text
    assert page.text.index(sep.number) < page.text.index(oct_.number)
    for amount in (named["amount_ore"], s_sep.balance_ore, s_oct.balance_ore):
        assert format_kr(amount) in page.text
    done = api.post(named["checkout_path"], data={"method": "card"})
    assert done.status_code == 303 and done.headers["location"] == "/invoices?payment=paid"
    assert (_state(core, sep.id).balance_ore, _state(core, oct_.id).balance_ore) == (0, 0)
    assert _state(core, sep.id).status == _state(core, oct_.id).status == "paid"

    # nothing overdue any more
    r = api.post(f"/customers/{cid}/pay", headers=me, json={"return_url": "/x"})
    assert problems(r)[0] == "invoice_ids: nothing overdue to pay"


def test_only_overdue_invoices_without_ids(api, core, auth, frozen_clock):
    cid, sep, oct_ = _account(core, "K1")
    me = token_for(auth, "subscriber", cid)
    frozen_clock.set(datetime.fromisoformat("2026-11-15T10:00:00+01:00"))  # October not due yet
    assert (_state(core, sep.id).status, _state(core, oct_.id).status) == ("reminded", "unpaid")
    checkout = _pay_all(api, me, cid)
    assert [i["id"] for i in checkout["invoices"]] == [sep.id]
    # a named invoice need not be overdue
    assert [i["id"] for i in _pay_all(api, me, cid, [oct_.id])["invoices"]] == [oct_.id]


def test_a_new_checkout_supersedes_open_ones_sharing_an_invoice(api, core, auth):
    cid, sep, oct_ = _account(core, "K1")
    me = token_for(auth, "subscriber", cid)
    r = api.post(f"/invoices/{sep.id}/pay", headers=me, json={"return_url": "/back"})
    assert r.status_code == 200
    single = r.json()  # a checkout of one invoice answers the same shape
    assert single["invoices"] == [{"id": sep.id, "number": sep.number, "amount_ore": single["amount_ore"]}]
    other = api.post(f"/invoices/{oct_.id}/pay", headers=me, json={"return_url": "/back"}).json()
    assert _session_status(core, single) == _session_status(core, other) == "open"  # nothing shared

    both = _pay_all(api, me, cid)
    assert _session_status(core, single) == _session_status(core, other) == "superseded"
    page = api.get(single["checkout_path"])
    assert page.status_code == 200 and 'data-reason="superseded"' in page.text and "pay-card" not in page.text
    refused = api.post(single["checkout_path"], data={"method": "card"})
    assert refused.status_code == 409 and "ersatts av en nyare" in refused.text and "replaced" in refused.text
    with pytest.raises(paygw.PaymentError, match="session: this payment was replaced by a newer one"):
        api.app.state.paygw.complete(single["checkout_path"].rsplit("/", 1)[1], "card")

    # and the other way round: a checkout of one invoice supersedes the one over both
    again = api.post(f"/invoices/{oct_.id}/pay", headers=me, json={"return_url": "/back"}).json()
    assert _session_status(core, both) == "superseded" and _session_status(core, again) == "open"
    assert api.post(both["checkout_path"], data={"method": "swish"}).status_code == 409
    latest = _pay_all(api, me, cid)

    # paying through the normal page: the latest pays both, every older one stays refused
    assert api.post(latest["checkout_path"], data={"method": "swish"}).status_code == 303
    for old in (single, other, both, again):
        r = api.post(old["checkout_path"], data={"method": "card"})
        assert r.status_code == 409, old
    assert api.post(latest["checkout_path"], data={"method": "card"}).status_code == 409  # paid: not twice
    assert 'data-reason="paid"' in api.get(latest["checkout_path"]).text
    for inv in (sep, oct_):
        assert _state(core, inv.id).balance_ore == 0  # never below zero
    with core.engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(m.Payment).where(m.Payment.customer_id == cid)).scalar_one()
            == 2
        )


def test_a_confirmed_superseded_checkout_is_recorded_anyway(api, core, auth):
    """Two checkouts of one invoice both paid (the provider took the money before the second one
    superseded the first): the second payment is not lost; the surplus is credit balance."""
    cid, sep, oct_ = _account(core, "K1")
    me = token_for(auth, "subscriber", cid)
    first = api.post(f"/invoices/{sep.id}/pay", headers=me, json={"return_url": "/back"}).json()
    provider = api.app.state.paygw
    signature, body = provider.complete(first["checkout_path"].rsplit("/", 1)[1], "card")  # not yet delivered
    second = _pay_all(api, me, cid)
    assert _session_status(core, first) == "superseded"
    assert api.post(second["checkout_path"], data={"method": "card"}).status_code == 303
    assert _state(core, sep.id).balance_ore == 0

    assert _deliver(api, signature, body) == "recorded"  # late, for a superseded checkout
    assert _payments(core, first["payment_id"]) == {f"testpay:{first['payment_id']}": (sep.id, first["amount_ore"])}
    assert _state(core, sep.id).balance_ore == -first["amount_ore"]
    assert _state(core, oct_.id).balance_ore == 0
    with core.engine.connect() as conn:
        assert ledger.customer_credit_balance(conn, cid) == first["amount_ore"]
    assert _session_status(core, first) == "paid"
    assert _deliver(api, signature, body) == "duplicate"
    assert _state(core, sep.id).balance_ore == -first["amount_ore"]


def test_the_payment_goes_to_fees_interest_and_principal_oldest_invoice_first(api, core, auth, cfg, frozen_clock):
    """Checkout over both on 10 December evening; the provider confirms on 11 December after that
    morning's dunning run: October is reminded (fee 60,00) and both accrued more interest, so the
    money no longer covers both. September (older due date, higher number) is paid in full; on
    October the rest pays the fee, then the interest, and only then the invoice amount."""
    cid, sep, oct_ = _account(core, "K1")
    me = token_for(auth, "subscriber", cid)
    frozen_clock.set(datetime.fromisoformat("2026-12-10T21:00:00+01:00"))
    checkout = _pay_all(api, me, cid)
    amount = checkout["amount_ore"]
    session = checkout["checkout_path"].rsplit("/", 1)[1]
    signature, body = api.app.state.paygw.complete(session, "swish")

    frozen_clock.set(datetime.fromisoformat("2026-12-11T07:00:00+01:00"))
    dunning.run_dunning(core.engine, cfg)
    before_sep, before_oct = _state(core, sep.id), _state(core, oct_.id)
    assert before_oct.fees_ore == 6000 and before_oct.status == "reminded"
    grown = before_sep.balance_ore + before_oct.balance_ore - amount
    assert grown > 6000  # the new fee and interest

    assert _deliver(api, signature, body) == "recorded"
    pid = checkout["payment_id"]
    assert _payments(core, pid) == {
        f"testpay:{pid}:1": (sep.id, before_sep.balance_ore),
        f"testpay:{pid}:2": (oct_.id, amount - before_sep.balance_ore),
    }
    a_sep, a_oct = _allocation(core, sep.id), _allocation(core, oct_.id)
    assert (a_sep.fees_open, a_sep.interest_open, a_sep.principal_open, a_sep.overpaid) == (0, 0, 0, 0)
    assert (a_sep.fees_paid, a_sep.principal_paid) == (6000, sep.amount_due_ore)
    assert (a_oct.fees_open, a_oct.interest_open) == (0, 0)  # fee and interest first …
    assert (a_oct.fees_paid, a_oct.interest_paid) == (6000, before_oct.interest_ore)
    assert a_oct.principal_open == grown > 0  # … what is missing is left on the invoice amount
    assert _state(core, oct_.id).balance_ore == grown
    for inv in (sep, oct_):  # each has its own "payment received" entry
        doc = invoices.get_invoice(core.engine, inv.id)
        assert doc["timeline"][-1]["kind"] == "payment_received"

    # replays: the same delivery, and another event about the same provider payment
    assert _deliver(api, signature, body) == "duplicate"
    again = json.loads(body)
    again["id"] = "evt_" + uuid.uuid4().hex
    again_body = json.dumps(again).encode()
    provider = api.app.state.paygw
    assert _deliver(api, paygw.sign(provider.secret, again_body, int(time.time())), again_body) == "duplicate"
    assert len(_payments(core, pid)) == 2 and _state(core, oct_.id).balance_ore == grown


def test_a_failed_payment_is_on_every_invoice_of_the_checkout(api, core, auth):
    cid, sep, oct_ = _account(core, "K1")
    me = token_for(auth, "subscriber", cid)
    checkout = _pay_all(api, me, cid, return_url="/back")
    done = api.post(checkout["checkout_path"], data={"method": "fail"})
    assert done.headers["location"] == "/back?payment=failed"
    for inv in (sep, oct_):
        doc = invoices.get_invoice(core.engine, inv.id)
        assert doc["timeline"][-1]["kind"] == "payment_failed" and doc["balance_ore"] > 0
    r = api.post(checkout["checkout_path"], data={"method": "card"})
    assert r.status_code == 409 and 'data-reason="failed"' in r.text


def test_an_expired_checkout_cannot_be_paid(api, core, auth, frozen_clock):
    cid, _sep, _oct = _account(core, "K1")
    checkout = _pay_all(api, token_for(auth, "subscriber", cid), cid)
    frozen_clock.advance(paygw.SESSION_TTL)
    r = api.post(checkout["checkout_path"], data={"method": "card"})
    assert r.status_code == 409 and 'data-reason="expired"' in r.text
    assert _session_status(core, checkout) == "open"


def test_another_customers_invoice_is_not_found(api, core, auth):
    cid, sep, oct_ = _account(core, "K1")
    cid2, sep2, _oct2 = _account(core, "K2")
    me = token_for(auth, "subscriber", cid)
    open_one = api.post(f"/invoices/{sep.id}/pay", headers=me, json={"return_url": "/back"}).json()
    unknown = str(uuid.uuid4())
    for ids in ([sep2.id], [sep.id, sep2.id], [sep2.number], [unknown], [sep.id, unknown]):
        r = api.post(f"/customers/{cid}/pay", headers=me, json={"invoice_ids": ids, "return_url": "/x"})
        assert (r.status_code, r.json()["detail"]) == (404, "invoice not found"), ids
    assert _session_status(core, open_one) == "open"  # a refused request supersedes nothing
    # another subscriber, a link session, marketing: not theirs
    assert (
        api.post(
            f"/customers/{cid}/pay", headers=token_for(auth, "subscriber", cid2), json={"return_url": "/x"}
        ).status_code
        == 404
    )
    link = api.post(f"/invoices/{sep.id}/link", headers=me).json()
    opened = api.post("/links/open", headers=token_for(auth, "service"), json={"token": link["token"]}).json()
    link_session = {"Authorization": f"Bearer {opened['access_token']}"}
    assert api.post(f"/customers/{cid}/pay", headers=link_session, json={"return_url": "/x"}).status_code == 404
    assert (
        api.post(f"/customers/{cid}/pay", headers=token_for(auth, "agent"), json={"return_url": "/x"}).status_code
        == 403
    )
    # the app's backend (service) may, for that customer's own invoices only
    service = token_for(auth, "service")
    assert (
        api.post(
            f"/customers/{cid}/pay", headers=service, json={"invoice_ids": [oct_.id], "return_url": "/x"}
        ).status_code
        == 200
    )
    assert (
        api.post(
            f"/customers/{cid}/pay", headers=service, json={"invoice_ids": [sep2.id], "return_url": "/x"}
        ).status_code
        == 404
    )
    r = api.post("/customers/999999/pay", headers=service, json={"return_url": "/x"})
    assert (r.status_code, r.json()["detail"]) == (404, "customer not found")


def test_checkouts_made_at_once_leave_one_open(api, core, auth):
    """Four checkouts of the same invoices at the same moment (the app's button pressed in four
    tabs): each supersedes the one before it, whatever the interleaving; exactly one stays open."""
    cid, sep, oct_ = _account(core, "K1")
    provider = paygw.TestPayProvider(core.engine, "webhook-secret-" + "w" * 32)
    with ThreadPoolExecutor(4) as pool:
        made = list(
            pool.map(
                lambda ids: provider.create_customer_checkout(cid, ids, "/x"),
                [None, [sep.id, oct_.id], [oct_.id, sep.id], None],
            )
        )
    with core.engine.connect() as conn:
        statuses = dict(conn.execute(select(PaymentSession.provider_payment_id, PaymentSession.status)).all())
    assert sorted(statuses[c.payment_id] for c in made) == ["open", "superseded", "superseded", "superseded"]


def test_bad_input_is_refused_naming_the_field(api, core, auth):
    cid, sep, oct_ = _account(core, "K1")
    me = token_for(auth, "subscriber", cid)
    service = token_for(auth, "service")

    def pay(body: dict[str, Any], who: dict[str, str] = me, customer: Any = cid) -> httpx.Response:
        return api.post(f"/customers/{customer}/pay", headers=who, json=body)

    # ids beyond 64 bits, or not ids at all: a clear 404/422, never a 500
    for customer in (2**63, 2**64 + 1, -1, 0, "x"):
        for who in (me, service):
            r = pay({"return_url": "/x"}, who, customer)
            assert r.status_code in (404, 422), (customer, r.text)
    r = pay({"invoice_ids": [2**70], "return_url": "/x"})
    assert r.status_code == 422 and "invoice_ids" in r.text
    r = pay({"invoice_ids": ["9" * 30], "return_url": "/x"})
    assert r.status_code == 404
    r = pay({"invoice_ids": ["x" * 65], "return_url": "/x"})
    assert r.status_code == 422 and "invoice_ids" in r.text
    r = pay({"invoice_ids": [str(uuid.uuid4()) for _ in range(paygw.MAX_INVOICES + 1)], "return_url": "/x"})
    assert r.status_code == 422 and "invoice_ids" in r.text
    r = pay({"invoice_ids": [], "return_url": "/x"})
    assert problems(r)[0].startswith("invoice_ids:")
    r = pay({"invoice_ids": [sep.id, sep.number], "return_url": "/x"})
    assert problems(r)[0] == f"invoice_ids: invoice {sep.number} is named twice"
    r = pay({"invoice_ids": [sep.id], "return_url": "https://evil.example/phish"})
    assert problems(r)[0].startswith("return_url:")
    r = pay({"invoice_ids": [sep.id]})
    assert r.status_code == 422 and "return_url" in r.text

    # a credit note, and an invoice with nothing left to pay
    note = credit_notes.create_credit_note(
        core.engine, core.catalogue, sep.id, credit_notes.CreditRequest(reason="Goodwill", amount_ore=5000)
    )
    r = pay({"invoice_ids": [note["id"]], "return_url": "/x"})
    assert problems(r)[0] == f"invoice_ids: {note['number']} is a credit note, not paid"
    owed = _state(core, oct_.id).balance_ore
    with core.engine.begin() as conn:
        ledger.record_payment(
            conn, invoice_id=oct_.id, reference="bg-oct", method="bankgiro", amount_ore=owed, customer_id=cid
        )
    r = pay({"invoice_ids": [sep.id, oct_.id], "return_url": "/x"})
    assert problems(r)[0] == f"invoice_ids: invoice {oct_.number} has nothing left to pay"
    left = _pay_all(api, me, cid)  # no ids: the one still overdue, less its credit
    assert left["invoices"] == [{"id": sep.id, "number": sep.number, "amount_ore": _state(core, sep.id).balance_ore}]


def test_app_client_pay_many(api, core, auth):
    cid, sep, oct_ = _account(core, "K1")
    token = token_for(auth, "subscriber", cid)["Authorization"].split(" ", 1)[1]

    async def go() -> None:
        client = CoreClient(base_url="http://core", transport=httpx.ASGITransport(app=api.app))
        try:
            answer = await client.pay_many(token, cid, None, "/invoices")
            assert [i["id"] for i in answer["invoices"]] == [sep.id, oct_.id]
            assert answer["amount_ore"] == sum(i["amount_ore"] for i in answer["invoices"])
            one = await client.pay_many(token, cid, [oct_.id], "/invoices")
            assert [i["id"] for i in one["invoices"]] == [oct_.id]
            with pytest.raises(NotFound):  # never reaches a URL or the core
                await client.pay_many(token, cid, ["../customers/2"], "/invoices")
        finally:
            await client.aclose()

    run_coroutine(go())


def test_replays_at_the_same_moment_record_once(api, core, auth):
    """The provider delivers the same payment twice at once (two event ids): one records, one is a duplicate."""
    cid, sep, oct_ = _account(core, "K1")
    provider = paygw.TestPayProvider(core.engine, "webhook-secret-" + "w" * 32)
    checkout = provider.create_customer_checkout(cid, None, "/x")
    _signature, body = provider.complete(checkout.session_id, "card")
    deliveries = []
    for _ in range(3):
        event = json.loads(body)
        event["id"] = "evt_" + uuid.uuid4().hex
        raw = json.dumps(event).encode()
        deliveries.append((paygw.sign(provider.secret, raw, int(time.time())), raw))
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda d: provider.handle_webhook(*d), deliveries))
    assert sorted(results) == ["duplicate", "duplicate", "recorded"]
    assert sorted(_payments(core, checkout.payment_id)) == [f"testpay:{checkout.payment_id}:{n}" for n in (1, 2)]
    assert _state(core, sep.id).balance_ore == _state(core, oct_.id).balance_ore == 0
