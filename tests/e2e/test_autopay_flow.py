"""Automatic payment, the add-on shop and the phone on instalment, in real Chromium at phone size (issue #7).

A subscriber (390×844) sees their phone's instalment on the overview, tries autogiro (the app and the
core refuse a bad account beside the field), saves a card on the TestPay provider's hosted page, buys
an add-on and sees the allowance grow at once; then the back office runs the bill run and the card
draws through the core's service API, and the new invoice's page says it was paid automatically
instead of asking for payment. It runs against the app in scale mode (see the mark below).

Stable element ids (selfcare/pages/payment_method.py, addons.py, components/instalment_card.py,
autopay_status.py): instalments (.instalment-headline), overview-payment-method(-link),
overview-addons-link, pm-*, addon-*, invoice-autopay.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

TIMEOUT = 30_000
ADDON = "extra-5gb"


def _sign_in(page, app_url: str, otp_code, customer_number: str) -> None:
    page.goto(app_url + "/login")
    page.locator("#login-identifier").fill(customer_number)
    page.locator("#login-send").click()
    page.locator("#login-code").wait_for(timeout=TIMEOUT)
    page.locator("#login-code").fill(otp_code(customer_number))
    page.locator("#login-submit").click()
    page.locator("#left-to-pay").wait_for(timeout=TIMEOUT)


def _buyer(core_api) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A customer paying by hand whose running subscription may buy ADDON, preferring one with a phone on
    instalment: ``(customer, subscription, its add-ons document)``."""
    customers = core_api.get("/customers", params={"limit": 50}).json()["items"]
    found = []
    for listed in customers:
        customer = core_api.get(f"/customers/{listed['id']}").json()
        if core_api.get(f"/customers/{customer['id']}/payment-method").json()["method"] != "manual":
            continue
        for sub in customer["subscriptions"]:
            if sub["segments"] and sub["segments"][-1]["end"] is None:
                doc = core_api.get(f"/subscriptions/{sub['id']}/addons").json()
                if any(a["id"] == ADDON for a in doc["available"]):
                    found.append((customer, sub, doc))
                    break
    assert found, "no customer of the seeded app can buy the add-on"
    with_phone = [f for f in found if core_api.get(f"/customers/{f[0]['id']}/instalments").json()["instalments"]]
    return (with_phone or found)[0]


def _gb(text: str) -> float:
    """``"10 GB"`` / ``"2,8 GB"`` / ``"450 MB"`` as GB."""
    m = re.search(r"([\d\s\u00a0]+(?:,\d+)?)\s*(GB|MB|kB)", text)
    assert m, text
    value = float(re.sub(r"[\s\u00a0]", "", m.group(1)).replace(",", "."))
    return value * {"GB": 1, "MB": 1e-3, "kB": 1e-6}[m.group(2)]


# Scale mode (its own PostgreSQL database, Redis, two workers): this test runs a bill run of the open period for
# every account, which the default app's other browser tests must not see (their seeded history would change).
@pytest.mark.scale
def test_automatic_payment_addon_and_instalment(page, app_url, shot, otp_code, core_api, horizontal_overflow):
    customer, sub, addons_before = _buyer(core_api)
    cid = customer["id"]
    if not core_api.get(f"/customers/{cid}/instalments").json()["instalments"]:
        device = core_api.get("/catalogue").json()["devices"][0]
        created = core_api.post(
            f"/customers/{cid}/instalments",
            json={
                "subscription_id": sub["id"],
                "device_id": device["id"],
                "months": device["months"][0],
                "start_period": addons_before["period"],
            },
        )
        assert created.status_code == 201, created.text
    instalment = core_api.get(f"/customers/{cid}/instalments").json()["instalments"][0]

    # The overview: the phone on instalment and how the subscriber pays.
    _sign_in(page, app_url, otp_code, customer["customer_number"])
    headline = page.locator("#instalments .instalment-headline").first
    headline.wait_for(timeout=TIMEOUT)
    assert f"{instalment['months_billed']} av {instalment['months']} månader betalda" in headline.inner_text()
    assert "kvar" in headline.inner_text()
    page.locator("#overview-payment-method", has_text="Manuell betalning").wait_for(timeout=TIMEOUT)
    assert horizontal_overflow(page) == 0
    shot("autopay-overview-before")

    # The payment method page: autogiro's form refuses a bad shape in the app, a bad account in the core.
    page.locator("#overview-payment-method-link").click()
    page.locator("#pm-method", has_text="Manuell betalning").wait_for(timeout=TIMEOUT)
    page.locator("#pm-autogiro-open").click()
    page.locator("#pm-clearing").fill("83")
    page.locator("#pm-account").fill("12ab")
    page.locator("#pm-autogiro-submit").click()
    page.locator("#pm-clearing-error").wait_for(timeout=TIMEOUT)
    page.locator("#pm-account-error").wait_for(timeout=TIMEOUT)
    page.locator("#pm-clearing").fill("0999")
    page.locator("#pm-account").fill("9384750001")
    page.locator("#pm-personal").fill("19700101-1233")
    page.locator("#pm-autogiro-submit").click()
    page.locator("#pm-clearing-error", has_text="ingen svensk bank").wait_for(timeout=TIMEOUT)
    assert page.locator("#pm-account-error").count() == 0
    assert horizontal_overflow(page) == 0
    shot("autopay-autogiro-form-errors")
    assert core_api.get(f"/customers/{cid}/payment-method").json()["method"] == "manual"

    # A card, saved on the provider's hosted page; back on the page it is active.
    page.locator("#pm-card").click()
    page.locator("#save-card").wait_for(timeout=TIMEOUT)
    assert "/core/paygw/cards/" in page.url
    shot("autopay-testpay-save-card")
    page.locator("#save-card").click()
    page.wait_for_url(re.compile(r".*/payment-method/?\?card=saved$"), timeout=TIMEOUT)
    page.locator("#pm-method", has_text="Kort").wait_for(timeout=TIMEOUT)
    page.locator("#pm-success").wait_for(timeout=TIMEOUT)
    assert page.locator("#pm-autogiro-form").count() == 0 and page.locator("#pm-clearing-error").count() == 0
    assert page.locator("#pm-status").inner_text() == "Aktiv"
    assert "4242" in page.locator("#pm-details").inner_text()
    assert horizontal_overflow(page) == 0
    shot("autopay-card-saved")
    method = core_api.get(f"/customers/{cid}/payment-method").json()
    assert method["method"] == "card" and method["status"] == "active" and method["card"]["last4"] == "4242"

    # The add-on shop: buy Extra 5 GB through the order sheet; the allowance grows at once.
    page.goto(app_url + "/")
    assert page.locator("#overview-addons-link").get_attribute("href") == "/addons"
    page.goto(f"{app_url}/addons?sub={sub['id']}")
    data_left = page.locator(".addon-allowance[data-pool='data'] .addon-left")
    data_left.wait_for(timeout=TIMEOUT)
    left_before = _gb(data_left.inner_text())
    assert horizontal_overflow(page) == 0
    shot("addons-shop")
    page.locator(f".addon-buy[data-addon='{ADDON}']").click()
    page.locator("#addon-sheet").wait_for(timeout=TIMEOUT)
    assert "49,00" in page.locator("#addon-sheet-total").inner_text()
    page.wait_for_timeout(400)  # the sheet's opening animation
    shot("addons-order-sheet", full_page=False)
    page.locator("#addon-sheet-confirm").click()
    page.locator("#addon-sheet-done").wait_for(timeout=TIMEOUT)
    shot("addons-order-done")
    page.locator("#addon-sheet-close").click()
    page.locator("#addon-sheet").wait_for(state="hidden", timeout=TIMEOUT)
    page.locator("#addon-notice").wait_for(timeout=TIMEOUT)
    assert abs(_gb(data_left.inner_text()) - (left_before + 5)) < 0.011
    page.locator("#addon-bought .addon-bought-row").first.wait_for(timeout=TIMEOUT)
    assert horizontal_overflow(page) == 0
    shot("addons-allowance-grown")
    after = core_api.get(f"/subscriptions/{sub['id']}/addons").json()["allowances"]["data"]
    assert after["bought"] == addons_before["allowances"]["data"]["bought"] + 5_000_000_000

    # The back office: this period's bill run (before the month has ended, so explicitly allowed:
    # the test cannot wait for the month to end), then the card draws on the new invoice's due date.
    period = addons_before["period"]
    billed = core_api.post("/bill-runs", json={"period": period, "allow_open_period": True})
    assert billed.status_code == 200, billed.text
    invoice = core_api.get("/invoices", params={"customer_id": cid, "period": period, "kind": "invoice"}).json()[
        "items"
    ][0]
    doc = core_api.get(f"/invoices/{invoice['id']}").json()
    assert any("5 GB" in line["description"] for line in doc["lines"])
    assert doc["autopay"] and doc["autopay"]["method"] == "card" and doc["autopay"]["status"] != "paid"
    page.goto(f"{app_url}/invoices/{invoice['id']}")
    page.locator("#invoice-autopay", has_text="Dras från ditt kort").wait_for(timeout=TIMEOUT)
    assert page.locator("#pay-button").count() == 0 and page.locator("#qr-code").count() == 0
    shot("autopay-invoice-scheduled")
    ran = core_api.post("/autopay/run", json={"date": invoice["due_date"]})
    assert ran.status_code == 200, ran.text
    assert core_api.get(f"/invoices/{invoice['id']}").json()["autopay"]["status"] == "paid"

    # The subscriber's invoice page: paid automatically, no Pay button.
    page.reload()
    page.locator("#invoice-autopay", has_text="Betald med kort").wait_for(timeout=TIMEOUT)
    page.locator("#invoice-status", has_text="Betald").wait_for(timeout=TIMEOUT)
    assert page.locator("#pay-button").count() == 0
    assert horizontal_overflow(page) == 0
    shot("autopay-invoice-paid")
    page.locator("#lang-switch").click()
    page.locator("#invoice-autopay", has_text="Paid by card on").wait_for(timeout=TIMEOUT)
    page.locator("#lang-switch").click()
    page.locator("#invoice-autopay", has_text="Betald med kort").wait_for(timeout=TIMEOUT)


def test_agent_adds_and_removes_a_one_off_charge(browser, app_url, core_api, agent_credentials):
    """The console (desktop): a SIM card replacement for the customer's next invoice, listed, then removed."""
    from datetime import timedelta

    from backend_stub.services.access.tokens import AuthSettings, Role, issue_token
    from tests.e2e.app_process import SECRET
    from tests.e2e.conftest import SCREENSHOTS

    invoice = core_api.get("/invoices", params={"kind": "invoice", "limit": 1}).json()["items"][0]
    customer = core_api.get("/customers", params={"q": invoice["customer_number"]}).json()["items"][0]
    token = issue_token(
        AuthSettings(secret=SECRET),
        subject=customer["customer_number"],
        role=Role.SUBSCRIBER,
        customer_id=customer["id"],
        ttl=timedelta(minutes=10),
    )
    asked = core_api.post(
        f"/invoices/{invoice['id']}/thread/messages",
        json={"text": "Mitt SIM-kort är trasigt."},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert asked.status_code in (200, 201), asked.text
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="sv-SE", timezone_id="Europe/Stockholm")
    ctx.set_default_timeout(20_000)
    try:
        desk = ctx.new_page()
        errors: list[str] = []
        desk.on("pageerror", lambda exc: errors.append(str(exc)))
        desk.goto(app_url + "/agent")
        desk.locator("#agent-username").fill(agent_credentials["agent"])
        desk.locator("#agent-password").fill(agent_credentials["password"])
        desk.locator("#agent-sign-in").click()
        desk.locator(f".inbox-row[data-invoice='{invoice['id']}']").first.click()
        panel = desk.locator("#agent-charges")
        panel.get_by_text(customer["customer_number"]).wait_for(timeout=TIMEOUT)
        desk.locator("#agent-charge-description").fill("Byte av SIM-kort")
        desk.locator("#agent-charge-amount").fill("99")
        desk.locator("#agent-charge-add").click()
        panel.get_by_text("Orsak").first.wait_for(timeout=TIMEOUT)  # the reason is required, named
        desk.locator("#agent-charge-reason").fill("Trasigt SIM-kort, nytt skickat")
        desk.locator("#agent-charge-add").click()
        row = desk.locator("#agent-charge-pending .agent-charge", has_text="Byte av SIM-kort")
        row.wait_for(timeout=TIMEOUT)
        assert "+99,00" in row.inner_text()
        pending = [
            c
            for c in core_api.get(f"/customers/{customer['id']}/charges").json()["charges"]
            if c["description"] == "Byte av SIM-kort" and c["status"] == "pending"
        ]
        assert len(pending) == 1 and pending[0]["amount_ore"] == 9900 and pending[0]["created_by"]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        desk.screenshot(path=str(SCREENSHOTS / "charges-agent-console.png"), full_page=True)
        row.locator(".agent-charge-remove").click()
        row.wait_for(state="detached", timeout=TIMEOUT)
        assert not [
            c
            for c in core_api.get(f"/customers/{customer['id']}/charges").json()["charges"]
            if c["id"] == pending[0]["id"]
        ]
        assert errors == []
    finally:
        ctx.close()
