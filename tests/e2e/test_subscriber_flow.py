"""A subscriber's way through the app in real Chromium at phone size (390×844).

Stable element ids the tests rely on (selfcare/pages/*):

    login-identifier, login-send, login-code, login-submit      sign-in (two steps)
    left-to-pay, next-due, period-usage, latest-invoice          overview
    invoice-list (rows: .invoice-row), page-next, page-prev      invoices
    invoice-amount, invoice-status, invoice-due, pay-button,     the invoice page
    pdf-link, qr-code, bankgiro, ocr, spec-table (.spec-line,
    .spec-line-usage), spec-to-pay, timeline (.timeline-event),
    explain, drill-dialog, not-found
    link-failed                                                  /i/<token> that does not open
    lang-switch, sign-out                                        header
    chart-data, chart-calls, chart-category, chart-invoices,     usage
    usage-list, csv-download, period-select
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import websockets
from pypdf import PdfReader

from selfcare.pages.invoice.state import USAGE_PAGE, InvoiceState
from tests.e2e.page_checks import sections_shown

INVOICE_STATE = InvoiceState.get_full_name()
TIMEOUT = 30_000


def _customer_with_unpaid(core_api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A customer with an unpaid invoice, and that invoice."""
    listed = core_api.get("/invoices", params={"status": "unpaid", "kind": "invoice", "limit": 50}).json()["items"]
    assert listed, "the seeded app has no unpaid invoice"
    invoice = listed[0]
    customer = core_api.get("/customers", params={"q": invoice["customer_number"]}).json()["items"][0]
    return customer, invoice


def _foreign_invoice(core_api, customer_number: str) -> dict[str, Any]:
    items = core_api.get("/invoices", params={"limit": 50}).json()["items"]
    return next(i for i in items if i["customer_number"] != customer_number)


def _sign_in(page, app_url: str, otp_code, customer_number: str) -> None:
    page.goto(app_url + "/login")
    page.locator("#login-identifier").fill(customer_number)
    page.locator("#login-send").click()
    page.locator("#login-code").wait_for(timeout=TIMEOUT)
    page.locator("#login-code").fill(otp_code(customer_number))
    page.locator("#login-submit").click()
    page.locator("#left-to-pay").wait_for(timeout=TIMEOUT)


def test_sign_in_overview_invoice_pay_pdf_english(page, app_url, shot, otp_code, core_api, horizontal_overflow):
    customer, invoice = _customer_with_unpaid(core_api)
    number = customer["customer_number"]

    page.goto(app_url + "/login")
    page.locator("#login-identifier").wait_for(timeout=TIMEOUT)
    shot("subscriber-login")
    _sign_in(page, app_url, otp_code, number)
    page.get_by_text("Kvar att betala").first.wait_for()
    assert re.search(r"\d+,\d\d\s*kr", page.locator("#left-to-pay").inner_text())
    page.locator("#period-usage .allowance").first.wait_for(timeout=TIMEOUT)
    assert horizontal_overflow(page) == 0
    shot("subscriber-overview")

    page.goto(app_url + "/invoices")
    page.locator(".invoice-row").first.wait_for(timeout=TIMEOUT)
    assert horizontal_overflow(page) == 0
    shot("subscriber-invoices")

    page.goto(f"{app_url}/invoices/{invoice['id']}")
    amount = page.locator("#invoice-amount")
    amount.wait_for(timeout=TIMEOUT)
    due_kr = f"{invoice['amount_due_ore'] // 100:,}".replace(",", "\u00a0") + f",{invoice['amount_due_ore'] % 100:02d}"
    assert due_kr in amount.inner_text().replace(" ", "\u00a0")
    assert page.locator("#invoice-status").inner_text() == "Obetald"
    assert page.locator("#ocr").inner_text() == invoice["ocr"]
    page.locator("#qr-code svg").wait_for(timeout=TIMEOUT)
    sections_shown(page)  # the specification, timeline and thread render once the first screen is up
    spec = page.locator("#spec-table")
    assert spec.locator(".spec-line").count() >= 1 and "Att betala" in spec.inner_text()
    assert page.locator("#timeline .timeline-event").count() >= 1
    assert horizontal_overflow(page) == 0
    shot("subscriber-invoice")
    if page.locator(".spec-line-usage").count():
        page.locator(".spec-line-usage").first.click()
        page.locator("#drill-dialog").wait_for(timeout=TIMEOUT)
        shot("subscriber-invoice-drilldown")
        page.keyboard.press("Escape")
        page.locator("#drill-dialog").wait_for(state="hidden")

    # The PDF, downloaded through the page, carries the invoice's number and OCR.
    with page.expect_download(timeout=TIMEOUT) as download:
        page.locator("#pdf-link").click()
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(download.value.path().read_bytes())).pages)
    assert invoice["number"] in pdf_text and invoice["ocr"] in pdf_text

    # Pay through the test provider's hosted page; back on the invoice it is paid.
    page.locator("#pay-button").click()
    page.locator("#pay-card").wait_for(timeout=TIMEOUT)
    shot("subscriber-paygw")
    page.locator("#pay-card").click()
    page.wait_for_url(re.compile(rf".*/invoices/{invoice['id']}(\?.*)?$"), timeout=TIMEOUT)
    page.locator("#invoice-status", has_text="Betald").wait_for(timeout=TIMEOUT)
    assert page.locator("#pay-button").count() == 0
    sections_shown(page)
    assert page.locator("#timeline").get_by_text(re.compile("Betalning", re.I)).count() >= 1
    shot("subscriber-invoice-paid")

    # English, remembered across pages.
    page.locator("#lang-switch").click()
    page.locator("#invoice-status", has_text="Paid").wait_for(timeout=TIMEOUT)
    assert "Specification" in page.locator("#spec-table").inner_text()
    page.goto(app_url + "/invoices")
    page.get_by_role("heading", name="Invoices").wait_for(timeout=TIMEOUT)
    shot("subscriber-invoices-english")
    page.locator("#lang-switch").click()
    page.get_by_role("heading", name="Fakturor").wait_for(timeout=TIMEOUT)

    page.goto(app_url + "/usage")
    page.locator("#usage-sentences .usage-sentence").first.wait_for(timeout=TIMEOUT)  # this period
    page.locator("#period-select").select_option(index=1)  # the seeded usage ends last month
    page.locator("#usage-list .usage-row").first.wait_for(timeout=TIMEOUT)
    page.mouse.wheel(0, 120)  # charts mount when on screen and the page is touched or scrolled
    page.locator("#chart-data .js-plotly-plot").wait_for(timeout=60_000)
    assert horizontal_overflow(page) == 0
    shot("subscriber-usage")

    page.locator("#sign-out").click()
    page.locator("#login-identifier").wait_for(timeout=TIMEOUT)
    page.goto(app_url + "/invoices")
    page.locator("#login-identifier").wait_for(timeout=TIMEOUT)


def test_invoice_link_opens_without_sign_in_and_tampering_fails(page, app_url, shot, core_api):
    invoice = core_api.get("/invoices", params={"kind": "invoice", "limit": 1}).json()["items"][0]
    link = core_api.post(f"/invoices/{invoice['id']}/link").json()
    page.goto(app_url + link["path"])
    page.locator("#invoice-amount").wait_for(timeout=TIMEOUT)
    assert invoice["number"] in page.locator("#invoice-number").inner_text()
    page.locator("#timeline .timeline-event[data-kind*='open']").first.wait_for(timeout=TIMEOUT)
    shot("subscriber-link-invoice")
    # The link's session reaches this invoice only.
    other = next(i for i in core_api.get("/invoices", params={"limit": 20}).json()["items"] if i["id"] != invoice["id"])
    page.goto(f"{app_url}/invoices/{other['id']}")
    page.locator("#not-found").wait_for(timeout=TIMEOUT)
    assert other["number"] not in page.content()
    # A tampered link opens nothing.
    tampered = link["path"][:-3] + ("xyz" if not link["path"].endswith("xyz") else "abc")
    page.goto(app_url + tampered)
    page.locator("#link-failed").wait_for(timeout=TIMEOUT)
    shot("subscriber-link-tampered")


async def _call_handler(app_url: str, token: str, invoice_id: str) -> list[str]:
    """Call InvoiceState.open_invoice over Reflex's event socket as a hostile page script would."""
    ws_url = app_url.replace("http://", "ws://") + f"/_event/?EIO=4&transport=websocket&token={token}"
    frames: list[str] = []
    async with websockets.connect(ws_url, origin=app_url, open_timeout=10) as ws:  # type: ignore[arg-type]
        await asyncio.wait_for(ws.recv(), 10)
        await ws.send("40/_event,")  # Reflex's Socket.IO namespace
        await asyncio.wait_for(ws.recv(), 10)
        event = {
            "name": f"{INVOICE_STATE}.open_invoice",
            "payload": {"invoice_id": invoice_id},
            "router_data": {"pathname": "/invoices", "asPath": "/invoices"},
        }
        await ws.send("42/_event," + json.dumps(["event", event]))
        deadline = asyncio.get_running_loop().time() + 15
        while asyncio.get_running_loop().time() < deadline:
            try:
                frame = str(await asyncio.wait_for(ws.recv(), 2))
            except TimeoutError:
                break
            if frame == "2":
                await ws.send("3")
                continue
            frames.append(frame)
            if '"final":true' in frame.replace(" ", ""):
                break
    return frames


def _call_handler_sync(app_url: str, token: str, invoice_id: str) -> list[str]:
    # Playwright's sync API owns this thread's event loop: talk to the socket from another thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _call_handler(app_url, token, invoice_id)).result(timeout=60)


def test_foreign_invoice_stays_hidden(page, app_url, shot, otp_code, core_api):
    customer, own = _customer_with_unpaid(core_api)
    foreign = _foreign_invoice(core_api, customer["customer_number"])
    _sign_in(page, app_url, otp_code, customer["customer_number"])
    # By address: another subscriber's invoice id in the URL.
    page.goto(f"{app_url}/invoices/{foreign['id']}")
    page.locator("#not-found").wait_for(timeout=TIMEOUT)
    assert foreign["number"] not in page.content() and foreign["ocr"] not in page.content()
    shot("subscriber-foreign-invoice")
    # By calling the state handler directly with the signed-in session's token.
    token = page.evaluate("window.sessionStorage.getItem('token')")
    page.goto("about:blank")  # the tab lets go of its socket
    frames = _call_handler_sync(app_url, token, foreign["id"])
    joined = "\n".join(frames)
    assert '"not_found' in joined and "true" in joined, joined[:2000]
    assert foreign["ocr"] not in joined and foreign["id"] not in joined.replace(f'"invoice_id":"{foreign["id"]}"', "")
    # The same channel does show the subscriber's own invoice (the check above is not vacuous).
    own_frames = "\n".join(_call_handler_sync(app_url, token, own["id"]))
    assert own["ocr"] in own_frames


def test_itemised_usage_shows_more_on_request(page, app_url, otp_code, core_api, shot, horizontal_overflow):
    """An invoice with more records than one page: "Visa fler" adds the next page under the first."""
    from playwright.sync_api import expect

    busy = None
    for invoice in core_api.get("/invoices", params={"kind": "invoice", "limit": 100}).json()["items"]:
        total = core_api.get(f"/invoices/{invoice['id']}/usage", params={"limit": 1}).json()["total"]
        if total > USAGE_PAGE:
            busy = invoice
            break
    assert busy, f"the seeded app has no invoice with more than {USAGE_PAGE} usage records"
    _sign_in(page, app_url, otp_code, busy["customer_number"])
    page.goto(f"{app_url}/invoices/{busy['id']}")
    page.locator("#invoice-usage summary").click()
    rows = page.locator("#invoice-usage .usage-row")
    expect(rows).to_have_count(USAGE_PAGE, timeout=TIMEOUT)
    first = rows.first.inner_text()
    page.locator("#usage-more").click()
    expect(rows).to_have_count(min(2 * USAGE_PAGE, total), timeout=TIMEOUT)
    assert rows.first.inner_text() == first  # added under the first page, not instead of it
    if total <= 2 * USAGE_PAGE:
        expect(page.locator("#usage-more")).to_have_count(0)
    assert horizontal_overflow(page) == 0
    rows.last.scroll_into_view_if_needed()
    shot("subscriber-invoice-usage-more", full_page=False)


@pytest.mark.scale
def test_sign_in_to_payment_at_scale(page, app_url, otp_code, core_api):
    customer, invoice = _customer_with_unpaid(core_api)
    _sign_in(page, app_url, otp_code, customer["customer_number"])
    page.goto(f"{app_url}/invoices/{invoice['id']}")
    page.locator("#pay-button").wait_for(timeout=TIMEOUT)
    page.locator("#pay-button").click()
    page.locator("#pay-swish").wait_for(timeout=TIMEOUT)
    page.locator("#pay-swish").click()
    page.wait_for_url(re.compile(rf".*/invoices/{invoice['id']}(\?.*)?$"), timeout=TIMEOUT)
    page.locator("#invoice-status", has_text="Betald").wait_for(timeout=TIMEOUT)
