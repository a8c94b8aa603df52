"""The invoice PDF leads back to the invoice and tells what is left to pay now.

It carries the invoice's short link and a QR code to it; the bank-app (UsingQR) code only
while something is left to pay; and each subscription's usage summary ("Du använde 9,4 GB av
20 GB, 85 min och 40 sms"), whose numbers are the sums of the period's rated events.
"""

from __future__ import annotations

import io
import re
from datetime import date

import pypdf
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select, update

from backend_stub.api.app import create_app
from backend_stub.demo.seed import seed
from backend_stub.formats import invoice_qr
from backend_stub.formats.invoice_pdf import qr_png, usage_sentence
from backend_stub.services.lifecycle import ledger
from backend_stub.storage.models import billing as m
from tests.conftest import token_for

TODAY = date(2026, 11, 21)


@pytest.fixture
def api(core, auth, env):
    env.set("SELFCARE_PUBLIC_URL", "https://mina.nordvik.example")
    seed(core, 8, 2, today=TODAY, quiet=True)
    with TestClient(create_app(core, auth=auth)) as client:
        yield client


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return re.sub(r"[\s\u00a0\u202f]+", " ", " ".join(p.extract_text() or "" for p in reader.pages))


def _images(pdf: bytes) -> list[bytes]:
    """The pixels of every image on the first page (1 bit: what a scanner reads)."""
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    return [img.image.convert("1").tobytes() for img in page.images]


def _pixels(png: bytes) -> bytes:
    return Image.open(io.BytesIO(png)).convert("1").tobytes()


def _open_invoice(api, auth) -> tuple[int, dict]:
    for c in api.get("/customers", headers=token_for(auth, "agent"), params={"limit": 50}).json()["items"]:
        for inv in api.get("/invoices", headers=token_for(auth, "subscriber", c["id"])).json()["items"]:
            if inv["kind"] == "invoice" and inv["balance_ore"] > 0:
                return c["id"], inv
    raise AssertionError("no open invoice in the seed")


def test_pdf_has_the_short_link_and_a_qr_code_to_it_and_the_payment_code(api, auth):
    cid, inv = _open_invoice(api, auth)
    mine = token_for(auth, "subscriber", cid)
    pdf = api.get(f"/invoices/{inv['id']}/pdf", headers=mine).content
    text = _text(pdf)
    found = re.search(r"https://mina\.nordvik\.example/i/([a-z2-7]{16})", text)
    assert found, text[:500]
    url = found.group(0)
    assert len(url) < 60
    # The link works: it opens this invoice.
    opened = api.post("/links/open", headers=token_for(auth, "service"), json={"token": found.group(1)}).json()
    assert opened["invoice_id"] == inv["id"]
    # The QR codes on the page are exactly the code of that link and the bank-app code for the balance.
    doc = api.get(f"/invoices/{inv['id']}", headers=mine).json()
    payment = invoice_qr.payload_text(invoice_qr.payload(doc, amount_ore=doc["balance_ore"]))
    images = _images(pdf)
    assert _pixels(qr_png(url)) in images and _pixels(qr_png(payment)) in images and len(images) == 2
    # The same PDF asked for again leads to the same address.
    assert url in _text(api.get(f"/invoices/{inv['id']}/pdf", headers=mine).content)


def test_a_paid_invoice_says_so_and_has_no_payment_code(api, auth, core):
    cid, inv = _open_invoice(api, auth)
    mine = token_for(auth, "subscriber", cid)
    with core.engine.begin() as conn:
        ledger.record_payment(
            conn,
            invoice_id=inv["id"],
            reference="test-pay-1",
            method="bankgiro",
            amount_ore=inv["balance_ore"],
            customer_id=cid,
        )
    pdf = api.get(f"/invoices/{inv['id']}/pdf", headers=mine).content
    text = _text(pdf)
    assert "Betald" in text and "Fakturan är betald" in text
    url = re.search(r"https://mina\.nordvik\.example/i/[a-z2-7]{16}", text).group(0)
    assert _images(pdf) == [_pixels(qr_png(url))]  # the link's code only
    en = _text(api.get(f"/invoices/{inv['id']}/pdf", headers=mine, params={"lang": "en"}).content)
    assert "This invoice is paid" in en


def test_partly_paid_shows_what_is_left_now(api, auth, core):
    cid, inv = _open_invoice(api, auth)
    mine = token_for(auth, "subscriber", cid)
    with core.engine.begin() as conn:
        ledger.record_payment(
            conn, invoice_id=inv["id"], reference="test-pay-2", method="bankgiro", amount_ore=100, customer_id=cid
        )
    doc = api.get(f"/invoices/{inv['id']}", headers=mine).json()
    text = _text(api.get(f"/invoices/{inv['id']}/pdf", headers=mine).content)
    left = f"{doc['balance_ore'] // 100:,}".replace(",", " ") + f",{doc['balance_ore'] % 100:02d} kr"
    assert "Kvar att betala" in text.replace("KVAR ATT BETALA", "Kvar att betala") and left in text


def test_usage_summary_is_the_sum_of_the_periods_rated_events(api, auth, core):
    checked = 0
    for c in api.get("/customers", headers=token_for(auth, "agent"), params={"limit": 50}).json()["items"]:
        mine = token_for(auth, "subscriber", c["id"])
        for inv in api.get("/invoices", headers=mine).json()["items"]:
            doc = api.get(f"/invoices/{inv['id']}", headers=mine).json()
            if doc["kind"] != "invoice":
                continue
            u = m.UsageEvent
            for entry in doc["usage_totals"]:
                where = (
                    u.invoice_id == doc["id"],
                    u.subscription_id == entry["subscription_id"],
                    u.period_start == date.fromisoformat(doc["period"]["start"]),
                )
                with core.engine.connect() as conn:
                    data = conn.execute(
                        select(func.coalesce(func.sum(u.volume_bytes), 0)).where(*where, u.service == "data")
                    ).scalar_one()
                    seconds = conn.execute(
                        select(func.coalesce(func.sum(u.duration_s), 0)).where(*where, u.service == "voice")
                    ).scalar_one()
                    texts = conn.execute(select(func.count()).where(*where, u.service.in_(["sms", "mms"]))).scalar_one()
                assert (entry["data_bytes"], entry["voice_seconds"], entry["texts"]) == (data, seconds, texts)
                assert entry["voice_minutes"] == -(-seconds // 60)
                checked += bool(data or seconds or texts)
            # The same numbers on the PDF, in words.
            if doc["usage_totals"] and checked:
                text = _text(api.get(f"/invoices/{inv['id']}/pdf", headers=mine).content)
                for entry in doc["usage_totals"]:
                    sentence, _share = usage_sentence(entry, "sv")
                    assert re.sub(r"[\s\u00a0]+", " ", sentence) in text
                en = _text(api.get(f"/invoices/{inv['id']}/pdf", headers=mine, params={"lang": "en"}).content)
                assert "You used" in en or "Broadband" in en
    assert checked


def test_an_old_invoice_gets_its_usage_summary_on_read(api, auth, core):
    cid, inv = _open_invoice(api, auth)
    mine = token_for(auth, "subscriber", cid)
    frozen = api.get(f"/invoices/{inv['id']}", headers=mine).json()["usage_totals"]
    assert frozen
    with core.engine.begin() as conn:  # as issued before the summary was kept in the document
        row = conn.execute(select(m.Invoice).where(m.Invoice.id == inv["id"])).one()
        doc = {k: v for k, v in row.document.items() if k != "usage_totals"}
        conn.execute(update(m.Invoice).where(m.Invoice.id == inv["id"]).values(document=doc))
    assert api.get(f"/invoices/{inv['id']}", headers=mine).json()["usage_totals"] == frozen


def test_usage_sentence_reads_like_the_issue_says():
    entry = {
        "kind": "mobile",
        "data_bytes": 9_400_000_000,
        "data_allowance_bytes": 20_000_000_000,
        "data_unlimited": False,
        "voice_minutes": 85,
        "texts": 40,
    }
    sv, share = usage_sentence(entry, "sv")
    en, _ = usage_sentence(entry, "en")
    assert sv.replace("\u00a0", " ") == "Du använde 9,4 GB av 20 GB, 85 min och 40 sms" and share == 0.47
    assert en.replace("\u00a0", " ") == "You used 9.4 GB of 20 GB, 85 min and 40 texts"
    unlimited = {**entry, "data_unlimited": True, "data_allowance_bytes": None}
    assert "obegränsat" in usage_sentence(unlimited, "sv")[0] and usage_sentence(unlimited, "sv")[1] is None
    assert usage_sentence({"kind": "broadband"}, "en") == ("Broadband: unlimited data.", None)
