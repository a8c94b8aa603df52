"""The routes the subscriber app uses: sign-in codes, invoice links, QR, explanation, forecast, paying.

Run on SQLite and PostgreSQL. A subscriber (or a link-limited session) never reaches what
is not theirs, whatever ids they send.
"""

from __future__ import annotations

import json
import re
import time
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from backend_stub.api.app import create_app
from backend_stub.demo.seed import seed
from backend_stub.formats.invoice_qr import parse_payload
from backend_stub.services.lifecycle import paygw
from tests.conftest import problems, token_for

TODAY = date(2026, 11, 21)


@pytest.fixture
def api(core, auth):
    seed(core, 6, 3, today=TODAY, quiet=True)
    with TestClient(create_app(core, auth=auth), follow_redirects=False) as client:
        yield client


def _customers(api, auth) -> list[dict]:
    return api.get("/customers", headers=token_for(auth, "agent"), params={"limit": 50}).json()["items"]


def _invoices(api, auth, customer_id) -> list[dict]:
    r = api.get("/invoices", headers=token_for(auth, "subscriber", customer_id))
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _code_from_outbox(api, auth, customer_number) -> str:
    msgs = api.get("/dev/outbox", headers=token_for(auth, "service"), params={"customer": customer_number}).json()
    assert msgs, "no message in the outbox"
    return re.search(r"\b(\d{6})\b", msgs[0]["text"]).group(1)


def test_sign_in_with_a_one_time_code(api, auth):
    service = token_for(auth, "service")
    c = _customers(api, auth)[0]
    r = api.post("/auth/otp/request", headers=service, json={"identifier": c["customer_number"].lower()})
    assert r.status_code == 202 and r.json() == {"status": "sent"}
    # An unknown account gets the very same answer, and nothing is sent.
    before = len(api.get("/dev/outbox", headers=service).json())
    r2 = api.post("/auth/otp/request", headers=service, json={"identifier": "K999999"})
    assert (r2.status_code, r2.json()) == (202, {"status": "sent"})
    assert len(api.get("/dev/outbox", headers=service).json()) == before
    code = _code_from_outbox(api, auth, c["customer_number"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert (
        api.post(
            "/auth/otp/verify", headers=service, json={"identifier": c["customer_number"], "code": wrong}
        ).status_code
        == 401
    )
    r = api.post("/auth/otp/verify", headers=service, json={"identifier": c["customer_number"], "code": code})
    assert r.status_code == 200, r.text
    session = r.json()
    assert session["customer_id"] == c["id"] and session["customer_number"] == c["customer_number"]
    bearer = {"Authorization": f"Bearer {session['access_token']}"}
    assert api.get(f"/customers/{c['id']}", headers=bearer).status_code == 200
    # single use
    assert (
        api.post(
            "/auth/otp/verify", headers=service, json={"identifier": c["customer_number"], "code": code}
        ).status_code
        == 401
    )
    # sign-out revokes the token
    assert api.post("/auth/logout", headers=bearer).status_code == 204
    assert api.get(f"/customers/{c['id']}", headers=bearer).status_code == 401
    # the routes are for the app's backend only
    assert (
        api.post(
            "/auth/otp/request", headers=token_for(auth, "subscriber", c["id"]), json={"identifier": "K1"}
        ).status_code
        == 403
    )


def test_sign_in_by_phone_number_in_national_format(api, auth):
    service = token_for(auth, "service")
    c = next(x for x in _customers(api, auth) if x.get("phone"))
    national = "0" + c["phone"][3:]  # +4670… → 070…
    spaced = f"{national[:3]}-{national[3:6]} {national[6:8]} {national[8:]}"
    assert api.post("/auth/otp/request", headers=service, json={"identifier": spaced}).status_code == 202
    code = _code_from_outbox(api, auth, c["customer_number"])
    r = api.post("/auth/otp/verify", headers=service, json={"identifier": national, "code": code})
    assert r.status_code == 200 and r.json()["customer_id"] == c["id"]


def test_code_requests_and_guesses_back_off(api, auth, frozen_clock):
    """Asking and guessing back off instead of locking (issue 14): see tests/test_signin_throttle.py."""
    service = token_for(auth, "service")
    c = _customers(api, auth)[1]
    for _ in range(3):
        assert (
            api.post("/auth/otp/request", headers=service, json={"identifier": c["customer_number"]}).status_code == 202
        )
    r = api.post("/auth/otp/request", headers=service, json={"identifier": c["customer_number"]})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    # the same for an account that does not exist (no probing)
    for _ in range(3):
        api.post("/auth/otp/request", headers=service, json={"identifier": "K424242"})
    assert api.post("/auth/otp/request", headers=service, json={"identifier": "K424242"}).status_code == 429
    code = _code_from_outbox(api, auth, c["customer_number"])
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    for _ in range(3):
        assert (
            api.post(
                "/auth/otp/verify", headers=service, json={"identifier": c["customer_number"], "code": wrong}
            ).status_code
            == 401
        )
    # the fourth guess waits (even the right one): back-off, not a burnt code
    r = api.post("/auth/otp/verify", headers=service, json={"identifier": c["customer_number"], "code": code})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    frozen_clock.advance(timedelta(seconds=int(r.headers["retry-after"])))
    assert (
        api.post(
            "/auth/otp/verify", headers=service, json={"identifier": c["customer_number"], "code": code}
        ).status_code
        == 200
    )


def test_invoice_link_opens_one_invoice_only(api, auth):
    service = token_for(auth, "service")
    cs = _customers(api, auth)
    mine, other = cs[0]["id"], cs[1]["id"]
    inv, older = _invoices(api, auth, mine)[:2]
    link = api.post(f"/invoices/{inv['id']}/link", headers=token_for(auth, "subscriber", mine)).json()
    assert link["path"] == f"/i/{link['token']}"
    # Another subscriber cannot make a link to it.
    assert api.post(f"/invoices/{inv['id']}/link", headers=token_for(auth, "subscriber", other)).status_code == 404
    opened = api.post("/links/open", headers=service, json={"token": link["token"]}).json()
    assert opened["invoice_id"] == inv["id"] and opened["first_open"] is True
    scoped = {"Authorization": f"Bearer {opened['access_token']}"}
    doc = api.get(f"/invoices/{inv['id']}", headers=scoped).json()
    assert [e["kind"] for e in doc["timeline"]].count("opened") == 1
    for path in (
        f"/invoices/{inv['id']}/pdf",
        f"/invoices/{inv['id']}/qr",
        f"/invoices/{inv['id']}/explain",
        f"/invoices/{inv['id']}/usage",
    ):
        assert api.get(path, headers=scoped).status_code == 200, path
    # ... and nothing else: not the customer's other invoices, list, customer data or usage.
    for path in (
        f"/invoices/{older['id']}",
        f"/invoices/{older['id']}/pdf",
        "/invoices",
        f"/customers/{mine}",
        f"/usage?customer_id={mine}",
        f"/customers/{mine}/forecast",
    ):
        assert api.get(path, headers=scoped).status_code == 404, path
    # A second open is not a new "opened" event.
    again = api.post("/links/open", headers=service, json={"token": link["token"]}).json()
    assert again["first_open"] is False
    doc = api.get(f"/invoices/{inv['id']}", headers=scoped).json()
    assert [e["kind"] for e in doc["timeline"]].count("opened") == 1
    # Tampering with the link opens nothing (404); a revoked link is gone (410, see test_invoice_links.py).
    tampered = link["token"][:-2] + ("aa" if not link["token"].endswith("aa") else "bb")
    assert api.post("/links/open", headers=service, json={"token": tampered}).status_code == 404
    assert api.post("/links/open", headers=service, json={"token": opened["access_token"]}).status_code == 404
    assert api.delete(f"/links/{link['token']}", headers=token_for(auth, "agent")).status_code == 204
    assert api.post("/links/open", headers=service, json={"token": link["token"]}).status_code == 410


def test_qr_code_follows_usingqr(api, auth):
    c = _customers(api, auth)[0]["id"]
    inv = _invoices(api, auth, c)[0]
    doc = api.get(f"/invoices/{inv['id']}", headers=token_for(auth, "subscriber", c)).json()
    qr = api.get(f"/invoices/{inv['id']}/qr", headers=token_for(auth, "subscriber", c)).json()
    fields = parse_payload(qr["text"])
    assert fields["uqr"] == 1 and fields["tp"] == 1
    assert fields["nme"] == doc["seller"]["name"] and fields["cid"] == doc["seller"]["org_number"]
    assert fields["iref"] == doc["ocr"] and fields["pt"] == "BG" and fields["acc"] == doc["seller"]["bankgiro"]
    assert fields["ddt"] == doc["due_date"].replace("-", "") and fields["idt"] == doc["invoice_date"].replace("-", "")
    assert fields["due"] * 100 == max(0, doc["balance_ore"]) and fields["cur"] == "SEK"
    assert re.search(r'"due":\d+\.\d{2}[,}]', qr["text"])  # a number with two decimals, never a float repr
    assert qr["svg"].startswith("<svg") and "</svg>" in qr["svg"]


def test_explanation_adds_up_to_the_difference(api, auth):
    c = _customers(api, auth)[2]["id"]
    latest, previous = _invoices(api, auth, c)[:2]
    ex = api.get(f"/invoices/{latest['id']}/explain", headers=token_for(auth, "subscriber", c)).json()
    assert ex["previous"]["id"] == previous["id"]
    assert ex["difference_ore"] == latest["amount_due_ore"] - previous["amount_due_ore"]
    assert sum(i["delta_ore"] for i in ex["items"]) == ex["difference_ore"]
    assert all(i["text"].startswith(("+", "−")) for i in ex["items"])
    en = api.get(f"/invoices/{latest['id']}/explain?lang=en", headers=token_for(auth, "subscriber", c)).json()
    assert [i["delta_ore"] for i in en["items"]] == [i["delta_ore"] for i in ex["items"]]
    other = _customers(api, auth)[3]["id"]
    assert api.get(f"/invoices/{latest['id']}/explain", headers=token_for(auth, "subscriber", other)).status_code == 404


def test_line_drill_down_returns_the_records_behind_a_line(api, auth):
    for c in _customers(api, auth):
        for inv in _invoices(api, auth, c["id"]):
            doc = api.get(f"/invoices/{inv['id']}", headers=token_for(auth, "agent")).json()
            for pos, line in enumerate(doc["lines"], start=1):
                if line["kind"] == "usage" and line["rate_key"]:
                    r = api.get(
                        f"/invoices/{inv['id']}/lines/{pos}/usage", headers=token_for(auth, "subscriber", c["id"])
                    ).json()
                    assert r["line"] == line and r["total"] > 0
                    assert {i["rate_key"] for i in r["items"]} == {line["rate_key"]}
                    assert (
                        api.get(
                            f"/invoices/{inv['id']}/lines/{len(doc['lines']) + 1}/usage",
                            headers=token_for(auth, "agent"),
                        ).status_code
                        == 404
                    )
                    return
    pytest.fail("no usage line in the seeded invoices")


def test_pay_through_the_test_provider(api, auth):
    c = _customers(api, auth)[0]["id"]
    me = token_for(auth, "subscriber", c)
    inv = next(i for i in _invoices(api, auth, c) if i["balance_ore"] > 0)
    r = api.post(f"/invoices/{inv['id']}/pay", headers=me, json={"return_url": "http://localhost:3000/x?y=1"})
    assert r.status_code == 200, r.text
    checkout = r.json()
    assert checkout["amount_ore"] == inv["balance_ore"]
    page = api.get(checkout["checkout_path"])
    assert page.status_code == 200 and "4242" in page.text and "<input" in page.text
    assert "card-number" not in page.text.lower()  # no card data is ever asked for
    done = api.post(checkout["checkout_path"], data={"method": "swish"})
    assert done.status_code == 303 and done.headers["location"] == "http://localhost:3000/x?y=1&payment=paid"
    doc = api.get(f"/invoices/{inv['id']}", headers=me).json()
    assert doc["status"] == "paid" and doc["balance_ore"] == 0
    assert doc["timeline"][-1]["kind"] == "payment_received"
    assert doc["payments"][-1]["method"] == "swish"
    en = api.get(f"/invoices/{inv['id']}?lang=en", headers=me).json()
    assert en["timeline"][-1]["text"] == en["timeline"][-1]["texts"]["en"] != doc["timeline"][-1]["text"]
    # the page cannot be used twice; nothing left to pay
    assert api.post(checkout["checkout_path"], data={"method": "card"}).status_code == 409
    assert api.post(f"/invoices/{inv['id']}/pay", headers=me, json={"return_url": "/x"}).status_code == 422


def test_pay_refuses_foreign_invoices_and_foreign_return_addresses(api, auth):
    cs = _customers(api, auth)
    inv = next(i for i in _invoices(api, auth, cs[0]["id"]) if i["balance_ore"] > 0)
    other = token_for(auth, "subscriber", cs[1]["id"])
    assert api.post(f"/invoices/{inv['id']}/pay", headers=other, json={"return_url": "/x"}).status_code == 404
    me = token_for(auth, "subscriber", cs[0]["id"])
    for bad in ("https://evil.example/phish", "//evil.example/x", "javascript:alert(1)"):
        r = api.post(f"/invoices/{inv['id']}/pay", headers=me, json={"return_url": bad})
        assert problems(r)[0].startswith("return_url:"), r.text
    assert (
        api.post(f"/invoices/{inv['id']}/pay", headers=token_for(auth, "agent"), json={"return_url": "/x"}).status_code
        == 403
    )


def test_webhook_is_signed_timely_and_once(api, auth, core):
    c = _customers(api, auth)[0]["id"]
    me = token_for(auth, "subscriber", c)
    inv = next(i for i in _invoices(api, auth, c) if i["balance_ore"] > 0)
    checkout = api.post(f"/invoices/{inv['id']}/pay", headers=me, json={"return_url": "/back"}).json()
    provider = api.app.state.paygw
    session = checkout["checkout_path"].rsplit("/", 1)[1]
    signature, body = provider.complete(session, "card")
    url = "/payments/webhook/testpay"
    bad = signature[:-4] + ("0000" if not signature.endswith("0000") else "1111")
    assert api.post(url, content=body, headers={paygw.SIGNATURE_HEADER: bad}).status_code == 400
    assert api.post(url, content=body).status_code == 400
    old = paygw.sign(provider.secret, body, int(time.time()) - 301)
    assert api.post(url, content=body, headers={paygw.SIGNATURE_HEADER: old}).status_code == 400
    forged = json.loads(body)
    forged["data"]["amount_ore"] = 1
    forged_body = json.dumps(forged).encode()
    r = api.post(url, content=forged_body, headers={paygw.SIGNATURE_HEADER: signature})
    assert r.status_code == 400  # the signature covers the body
    ok = api.post(url, content=body, headers={paygw.SIGNATURE_HEADER: signature})
    assert ok.json() == {"result": "recorded"}
    assert api.post(url, content=body, headers={paygw.SIGNATURE_HEADER: signature}).json() == {"result": "duplicate"}
    # a new event about the same provider payment records nothing new
    again = json.loads(body)
    again["id"] = "evt_other"
    again_body = json.dumps(again).encode()
    sig2 = paygw.sign(provider.secret, again_body, int(time.time()))
    assert api.post(url, content=again_body, headers={paygw.SIGNATURE_HEADER: sig2}).json() == {"result": "duplicate"}
    doc = api.get(f"/invoices/{inv['id']}", headers=me).json()
    assert sum(p["amount_ore"] for p in doc["payments"] if p["method"] == "card") == inv["balance_ore"]


def test_failed_payment_is_on_the_timeline(api, auth):
    c = _customers(api, auth)[0]["id"]
    me = token_for(auth, "subscriber", c)
    inv = next(i for i in _invoices(api, auth, c) if i["balance_ore"] > 0)
    checkout = api.post(f"/invoices/{inv['id']}/pay", headers=me, json={"return_url": "/back"}).json()
    done = api.post(checkout["checkout_path"], data={"method": "fail"})
    assert done.headers["location"] == "/back?payment=failed"
    doc = api.get(f"/invoices/{inv['id']}", headers=me).json()
    assert doc["timeline"][-1]["kind"] == "payment_failed" and doc["balance_ore"] == inv["balance_ore"]


def test_forecast_for_own_account_only(api, auth):
    cs = _customers(api, auth)
    r = api.get(f"/customers/{cs[0]['id']}/forecast", headers=token_for(auth, "subscriber", cs[0]["id"]))
    assert r.status_code == 200
    f = r.json()
    assert f["forecast_ore"] >= f["so_far_ore"] >= f["fees_ore"] >= 0
    assert (
        api.get(f"/customers/{cs[0]['id']}/forecast", headers=token_for(auth, "subscriber", cs[1]["id"])).status_code
        == 404
    )


def test_codes_expire_after_ten_minutes(core):
    from datetime import UTC, datetime, timedelta

    from backend_stub.services.access import signin

    seed(core, 2, 1, today=TODAY, quiet=True)
    sent: list[str] = []
    secret = "k" * 40
    t0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    with core.engine.connect() as conn:
        from sqlalchemy import select

        from backend_stub.storage.models import billing as m

        number = conn.execute(select(m.Customer.customer_number).order_by(m.Customer.id)).scalar()
    signin.request_code(core.engine, secret, number, lambda c, ch, text, key: sent.append(text), now=t0)
    code = re.search(r"\d{6}", sent[-1]).group(0)
    late = t0 + timedelta(minutes=10, seconds=1)
    assert signin.verify_code(core.engine, secret, number, code, now=late) is None
    signin.request_code(core.engine, secret, number, lambda c, ch, text, key: sent.append(text), now=late)
    code2 = re.search(r"\d{6}", sent[-1]).group(0)
    assert signin.verify_code(core.engine, secret, number, code, now=late) is None or code == code2
    who = signin.verify_code(core.engine, secret, number, code2, now=late + timedelta(minutes=9))
    assert who is not None and who.customer_number == number


def test_forecast_warns_before_an_allowance_runs_out(core):
    from backend_stub.services.billing.forecast import forecast

    seed(core, 6, 2, today=date(2026, 11, 1), quiet=True)
    # Mid-October, with October's usage imported: the pace so far projects each pool's end.
    results = [forecast(core.engine, core.catalogue, cid, today=date(2026, 10, 10)) for cid in range(1, 7)]
    for f in results:
        assert f["days_left"] == 22 and f["days_elapsed"] == 10
        for a in f["allowances"]:
            if a["runs_out_on"]:
                assert "2026-10-10" <= a["runs_out_on"] <= "2026-10-31"
                assert any(w["pool"] == a["pool"] for w in f["warnings"])
    assert any(f["warnings"] for f in results), "the seeded usage has someone running out of data"
