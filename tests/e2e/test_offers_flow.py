"""Issue 6 in real Chromium: marketing (desktop) creates an offer for heavy data users (data ≥ 90 %
in 2 of the last 3 periods) and schedules it; a matching subscriber (390×844) sees it on the
invoice page, a non-matching one does not; the subscriber opens the order sheet and accepts;
the subscription changes (checked through the core API); the results count one impression,
one click and one acceptance.

Element ids (selfcare/components/offer_banner.py, order_sheet.py, marketing_*.py,
pages/marketing.py): marketing-username, marketing-password, marketing-sign-in, new-offer,
offer-<field> (offer form), offer-save, marketing-notice, tab-preview, segment-preview,
segment-count, preview-customer, preview-show, preview-banner, tab-schedule, schedule-save,
offer-status-text, tab-results, result-impressions, result-clicks, result-acceptances,
offers-table (.offer-row[data-offer]), offer-banner (.offer-banner[data-offer], .offer-cta),
order-sheet (.order-line, order-sheet-total, order-sheet-confirm, order-sheet-done).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from typing import Any

import pytest

from tests.e2e.conftest import E2E_DIR, SCREENSHOTS
from tests.e2e.page_checks import assert_stable, watch
from tests.e2e.test_subscriber_flow import TIMEOUT, _sign_in

DESKTOP = {"width": 1440, "height": 1000}
PASSWORD = "e2e-marketing-password-0123"
HEAVY_DATA = {"data_usage": {"min_percent": 90, "periods": 2, "of_last": 3}}
SELLS = {"kind": "plan", "id": "mobil-20gb"}
_CREATED: set[str] = set()


@pytest.fixture
def marketer(running_app) -> str:
    """A marketing account in the app under test (created once per app)."""
    username = "e2e-marketing"
    if running_app.url not in _CREATED:
        env = {**running_app.env, "SELFCARE_AGENT_PASSWORD": PASSWORD}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "backend_stub",
                "create-agent",
                "--username",
                username,
                "--name",
                "Maja Marknad",
                "--role",
                "marketing",
            ],
            cwd=E2E_DIR.parents[1],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        _CREATED.add(running_app.url)
    return username


def _customer(core_api, number: str) -> dict[str, Any]:
    listed = core_api.get("/customers", params={"q": number}).json()["items"][0]
    return core_api.get(f"/customers/{listed['id']}").json()


def _latest_invoice(core_api, customer_id: int) -> dict[str, Any]:
    items = core_api.get("/invoices", params={"customer_id": customer_id, "limit": 5}).json()["items"]
    return next(i for i in items if i.get("kind", "invoice") == "invoice")


def _audience(core_api) -> tuple[str, str]:
    """A customer the heavy-data rules match now, and one they do not (both with an invoice)."""
    preview = core_api.post("/marketing/segments/preview", json={"rules": HEAVY_DATA, "sells": SELLS})
    preview.raise_for_status()
    sample = [x["customer_number"] for x in preview.json()["sample"]]
    assert sample, f"no seeded customer uses ≥ 90 % of their data in 2 of 3 periods: {preview.json()}"
    everyone = [c["customer_number"] for c in core_api.get("/customers", params={"limit": 100}).json()["items"]]
    others = [n for n in everyone if n not in sample]
    assert others
    return sample[0], others[0]


def _fill(desk, field: str, value: str) -> None:
    desk.locator(f"#offer-{field}").fill(value)


def test_marketing_offer_to_heavy_data_user_accepted_and_counted(
    browser, page, app_url, shot, otp_code, core_api, marketer, horizontal_overflow
):
    match, other = _audience(core_api)
    desk_ctx = browser.new_context(viewport=DESKTOP, locale="sv-SE", timezone_id="Europe/Stockholm")
    desk_ctx.set_default_timeout(20_000)
    offer_id = 0
    try:
        desk = desk_ctx.new_page()
        errors: list[str] = []
        desk.on("pageerror", lambda exc: errors.append(str(exc)))

        # --- marketing signs in, creates the offer, previews and schedules it --------------------------
        desk.goto(app_url + "/marketing")
        desk.locator("#marketing-username").fill(marketer)
        desk.locator("#marketing-password").fill(PASSWORD)
        desk.locator("#marketing-sign-in").click()
        desk.locator("#new-offer").click()
        desk.locator("#offer-form").wait_for(timeout=TIMEOUT)
        desk.locator("#offer-sells option[value='plan:mobil-20gb']").wait_for(state="attached", timeout=TIMEOUT)
        _fill(desk, "name", "E2E tung surf → 20 GB")
        _fill(desk, "title", "Slut på surf igen?")
        _fill(desk, "body", "Du har använt nästan all surf flera månader i rad. Med 20 GB räcker det.")
        _fill(desk, "cta", "Visa erbjudandet")
        desk.locator("#offer-sells").select_option("plan:mobil-20gb")
        _fill(desk, "terms_percent", "100")
        _fill(desk, "terms_periods", "3")
        _fill(desk, "terms_text_sv", "20 GB, 3 mån 0 kr, sedan 299 kr/mån")
        _fill(desk, "terms_text_en", "20 GB, 3 months 0 kr, then 299 kr/month")
        desk.locator("#offer-placement_overview").uncheck()  # the invoice page only: one view, one impression
        _fill(desk, "data_min_percent", "90")
        _fill(desk, "data_periods", "2")
        _fill(desk, "data_of_last", "3")
        desk.locator("#offer-save").click()
        desk.locator("#marketing-notice", has_text="utkast").wait_for(timeout=TIMEOUT)
        row = desk.locator(".offer-row", has_text="E2E tung surf")
        row.wait_for(timeout=TIMEOUT)
        offer_id = int(row.get_attribute("data-offer"))
        stored = core_api.get(f"/marketing/offers/{offer_id}").json()
        # (the core leaves out the values that equal the rule's defaults: 90 % and "of the last 3")
        assert stored["status"] == "draft"
        assert {"min_percent": 90, "periods": 1, "of_last": 3, **stored["rules"]["data_usage"]} == HEAVY_DATA[
            "data_usage"
        ]
        assert stored["sells"] == SELLS and stored["placements"] == ["invoice"]
        assert stored["terms"]["periods"] == 3

        desk.locator("#tab-preview").click()
        desk.locator("#segment-preview").click()
        desk.locator("#segment-count", has_text="kunder matchar nu").wait_for(timeout=TIMEOUT)
        assert not desk.locator("#segment-count").inner_text().startswith("0 ")
        desk.locator("#preview-customer").fill(match)
        desk.locator("#preview-show").click()
        desk.locator("#preview-banner .offer-title", has_text="Slut på surf igen?").wait_for(timeout=TIMEOUT)
        assert "Matchar" in desk.locator("#preview-matches").inner_text()
        desk.screenshot(path=str(SCREENSHOTS / "offers-marketing-preview.png"), full_page=True)

        desk.locator("#tab-schedule").click()
        desk.locator("#schedule-save").click()
        desk.locator("#offer-status-text", has_text="Aktiv").wait_for(timeout=TIMEOUT)
        assert core_api.get(f"/marketing/offers/{offer_id}").json()["status"] == "active"

        # --- the matching subscriber, on a phone, sees it on the invoice page ---------------------------
        customer = _customer(core_api, match)
        invoice = _latest_invoice(core_api, customer["id"])
        watch(page)
        _sign_in(page, app_url, otp_code, match)
        assert page.locator(f".offer-banner[data-offer='{offer_id}']").count() == 0  # not on the overview
        page.goto(f"{app_url}/invoices/{invoice['id']}")
        banner = page.locator(f".offer-banner[data-offer='{offer_id}']")
        banner.wait_for(timeout=TIMEOUT)
        # The banner arrives after the page has shown (its own event): it moves nothing already on screen.
        page.wait_for_load_state("networkidle", timeout=TIMEOUT)
        assert_stable(page, "the invoice page as its offer banner arrives")
        # It sits under the amount, the pay button and the explanation (on a phone, below the first screen).
        assert page.evaluate(
            "() => !!(document.querySelector('#explain').compareDocumentPosition("
            "document.querySelector('#offer-banner')) & Node.DOCUMENT_POSITION_FOLLOWING)"
        )
        assert "Slut på surf igen?" in banner.inner_text() and "3 mån 0 kr" in banner.inner_text()
        assert page.locator("#offer-banner .offer-banner").count() <= 2
        assert horizontal_overflow(page) == 0
        banner.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "offers-banner-phone.png"))

        # --- the order sheet, then "Lägg till" ----------------------------------------------------------
        banner.locator(".offer-cta").click()
        sheet = page.locator("#order-sheet")
        sheet.locator(".order-line").first.wait_for(timeout=TIMEOUT)
        subscription_id = next(
            b["subscription_id"]
            for b in core_api.get(f"/customers/{customer['id']}/offers", params={"placement": "invoice"}).json()[
                "banners"
            ]
            if b["offer_id"] == offer_id
        )
        order = core_api.get(
            f"/customers/{customer['id']}/offers/{offer_id}/order", params={"subscription_id": subscription_id}
        ).json()
        lines = sheet.locator(".order-line").all_inner_texts()
        assert len(lines) == len(order["this_period"]["lines"])
        assert [x["description"] for x in order["this_period"]["lines"]] == [ln.split("\n")[0] for ln in lines]
        assert "kr" in sheet.locator("#order-sheet-total").inner_text()
        assert horizontal_overflow(page) == 0
        page.screenshot(path=str(SCREENSHOTS / "offers-order-sheet-phone.png"))
        sheet.locator("#order-sheet-confirm").click()
        sheet.locator("#order-sheet-done", has_text="Klart! Din nya plan gäller från").wait_for(timeout=TIMEOUT)
        page.screenshot(path=str(SCREENSHOTS / "offers-accepted-phone.png"))
        sheet.locator("#order-sheet-close").click()
        assert page.locator(f".offer-banner[data-offer='{offer_id}']").count() == 0

        # The subscription changed in the core: a segment of the new plan from the effective date.
        after = core_api.get(f"/customers/{customer['id']}").json()
        changed = next(s for s in after["subscriptions"] if s["id"] == subscription_id)
        new_segments = [
            g for g in changed["segments"] if g["plan_id"] == "mobil-20gb" and g["start"] >= order["effective_date"]
        ]
        assert new_segments and date.fromisoformat(new_segments[0]["start"]) == date.fromisoformat(
            order["effective_date"]
        )

        # --- a subscriber the rules do not match sees no banner -------------------------------------------
        other_ctx = browser.new_context(
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            locale="sv-SE",
            timezone_id="Europe/Stockholm",
        )
        other_ctx.set_default_timeout(20_000)
        try:
            phone = other_ctx.new_page()
            other_customer = _customer(core_api, other)
            other_invoice = _latest_invoice(core_api, other_customer["id"])
            _sign_in(phone, app_url, otp_code, other)
            phone.goto(f"{app_url}/invoices/{other_invoice['id']}")
            phone.locator("#invoice-amount").wait_for(timeout=TIMEOUT)
            phone.wait_for_timeout(1500)  # the banners load after the invoice
            assert phone.locator(f".offer-banner[data-offer='{offer_id}']").count() == 0
            banners = core_api.get(f"/customers/{other_customer['id']}/offers", params={"placement": "invoice"}).json()[
                "banners"
            ]
            assert offer_id not in [b["offer_id"] for b in banners]
        finally:
            other_ctx.close()

        # --- the results: one impression, one click, one acceptance -------------------------------------
        desk.locator(f".offer-row[data-offer='{offer_id}']").click()
        desk.locator("#tab-results").click()
        desk.locator("#result-acceptances", has_text="1").wait_for(timeout=TIMEOUT)
        assert desk.locator("#result-impressions").inner_text() == "1"
        assert desk.locator("#result-clicks").inner_text() == "1"
        assert desk.locator("#result-acceptances").inner_text() == "1"
        desk.locator("#results-funnel .js-plotly-plot").wait_for(timeout=TIMEOUT)
        desk.screenshot(path=str(SCREENSHOTS / "offers-marketing-results.png"), full_page=True)
        results = core_api.get(f"/marketing/offers/{offer_id}/results").json()
        assert (results["impressions"], results["clicks"], results["acceptances"]) == (1, 1, 1)
        assert errors == []
        assert page.console_errors == []
    finally:
        if offer_id:
            core_api.post(f"/marketing/offers/{offer_id}/stop")
        desk_ctx.close()


def test_support_staff_are_refused_by_the_marketing_console(browser, app_url, agent_credentials, marketer):
    ctx = browser.new_context(viewport=DESKTOP, locale="sv-SE")
    try:
        desk = ctx.new_page()
        desk.goto(app_url + "/marketing")
        desk.locator("#marketing-username").fill(agent_credentials["agent"])
        desk.locator("#marketing-password").fill(agent_credentials["password"])
        desk.locator("#marketing-sign-in").click()
        desk.get_by_text("Det här är inget marknadskonto").wait_for(timeout=TIMEOUT)
        assert desk.locator("#offers-table, #new-offer").count() == 0
        desk.goto(app_url + "/agent")
        desk.locator("#agent-username").fill(marketer)
        desk.locator("#agent-password").fill(PASSWORD)
        desk.locator("#agent-sign-in").click()
        desk.get_by_text("Det här är inget kundtjänstkonto").wait_for(timeout=TIMEOUT)
    finally:
        ctx.close()
