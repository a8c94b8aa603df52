"""The invoice's own short link: ``/i/<16 characters>``, only its HMAC in the database.

Old long (JWT) links keep working until they expire; an expired or revoked link of either
kind answers 410 naming its invoice, so that the app can ask the subscriber to sign in and
then show that invoice. The e-mail and SMS carry the short link.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend_stub import clock
from backend_stub.api.app import create_app
from backend_stub.demo.seed import seed
from backend_stub.services.lifecycle import links, sending
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.storage.models.access import InvoiceLink
from tests.conftest import SECRET, token_for

TODAY = date(2026, 11, 21)


@pytest.fixture
def api(core, auth):
    seed(core, 3, 2, today=TODAY, quiet=True)
    with TestClient(create_app(core, auth=auth)) as client:
        yield client


def _invoice(api, auth) -> dict:
    return api.get("/invoices", headers=token_for(auth, "agent"), params={"kind": "invoice", "limit": 1}).json()[
        "items"
    ][0]


def test_a_link_is_short_and_the_database_keeps_only_its_hmac(api, auth, core):
    inv = _invoice(api, auth)
    link = api.post(f"/invoices/{inv['id']}/link", headers=token_for(auth, "agent")).json()
    assert re.fullmatch(r"/i/[a-z2-7]{16}", link["path"]) and link["path"] == f"/i/{link['token']}"
    link_id = link["token"]
    with core.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(InvoiceLink))]
    assert len(rows) == 1
    assert not any(link_id in str(value) for row in rows for value in row.values())  # no plaintext anywhere
    expected = hmac.new(SECRET.encode(), f"selfcare-invoice-link-key|{link_id}".encode(), hashlib.sha256).hexdigest()
    assert rows[0]["jti"] == expected
    # Asked again (a resend, the PDF), the invoice keeps its address; no second row.
    again = api.post(f"/invoices/{inv['id']}/link", headers=token_for(auth, "agent")).json()
    assert again["token"] == link_id
    with core.engine.connect() as conn:
        assert len(list(conn.execute(select(InvoiceLink.jti)))) == 1


def test_open_by_short_link_then_gone_when_revoked_or_expired(api, auth, core):
    service = token_for(auth, "service")
    inv = _invoice(api, auth)
    link = api.post(f"/invoices/{inv['id']}/link", headers=token_for(auth, "agent")).json()
    opened = api.post("/links/open", headers=service, json={"token": link["token"]})
    assert opened.status_code == 200 and opened.json()["invoice_id"] == inv["id"]
    assert api.post("/links/open", headers=service, json={"token": "a" * 16}).status_code == 404
    # Expired: the invoice is named (for the app's backend) so the subscriber can sign in to it.
    with clock.use(clock.FrozenClock(clock.now() + links.LINK_TTL + timedelta(seconds=1))):
        gone = api.post("/links/open", headers=service, json={"token": link["token"]})
    assert gone.status_code == 410
    assert gone.json()["detail"]["invoice_id"] == inv["id"] and gone.json()["detail"]["reason"] == "expired"
    # Revoked by support (by the short id): gone too.
    assert api.delete(f"/links/{link['token']}", headers=token_for(auth, "agent")).status_code == 204
    gone = api.post("/links/open", headers=service, json={"token": link["token"]})
    assert gone.status_code == 410 and gone.json()["detail"]["reason"] == "revoked"
    # A subscriber's own token can not ask (the route is the app's backend's).
    assert (
        api.post("/links/open", headers=token_for(auth, "subscriber", 1), json={"token": link["token"]}).status_code
        == 403
    )


def test_old_long_links_work_until_they_expire(api, auth, core):
    service = token_for(auth, "service")
    inv = _invoice(api, auth)
    old = links.create_jwt_link(core.engine, SECRET, auth.issuer, inv["id"], ttl=timedelta(days=10))
    assert len(old.token) > 100  # what was sent before short links
    assert api.post("/links/open", headers=service, json={"token": old.token}).json()["invoice_id"] == inv["id"]
    with clock.use(clock.FrozenClock(clock.now() + timedelta(days=11))):
        gone = api.post("/links/open", headers=service, json={"token": old.token})
    assert gone.status_code == 410 and gone.json()["detail"]["invoice_id"] == inv["id"]
    # The current link is a new short one, not the long one.
    assert re.fullmatch(r"[a-z2-7]{16}", links.invoice_link(core.engine, SECRET, auth.issuer, inv["id"]).token)


def test_e_mail_and_sms_carry_the_short_link(api, auth, core, env):
    env.set("SELFCARE_JWT_SECRET", SECRET)
    inv = _invoice(api, auth)
    cfg = LifecycleConfig(public_url="https://mina.nordvik.example")
    url = sending.default_link_builder(core.engine, cfg)(inv["id"])
    assert re.fullmatch(r"https://mina\.nordvik\.example/i/[a-z2-7]{16}", url)
    assert url == sending.default_link_builder(core.engine, cfg)(inv["id"])  # a resend: the same address
    doc = api.get(f"/invoices/{inv['id']}", headers=token_for(auth, "agent")).json()
    _subject, text, page = sending.invoice_email(doc, url, "sv")
    assert url in text and f'href="{url}"' in page
    sms = sending.invoice_sms(doc, url, "en")
    assert sms.endswith(url) and len(sms) <= 160
    opened = api.post("/links/open", headers=token_for(auth, "service"), json={"token": url.rsplit("/", 1)[1]})
    assert opened.status_code == 200
