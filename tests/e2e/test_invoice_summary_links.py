"""The invoice page's usage summary and drill-down sums, and an expired link's way back (390×844).

Element ids: usage-summary (the card), drill-dialog / drill-sum / drill-rounding (records
behind a line), login-link-expired (the sign-in page after a dead link).
"""

from __future__ import annotations

import re

TIMEOUT = 30_000


def _invoice_with_data_allowance(core_api) -> dict:
    for inv in core_api.get("/invoices", params={"kind": "invoice", "limit": 60}).json()["items"]:
        doc = core_api.get(f"/invoices/{inv['id']}").json()
        if any(e.get("data_allowance_bytes") and e["data_bytes"] for e in doc.get("usage_totals") or []) and any(
            ln["kind"] == "connection_fee" for ln in doc["lines"]
        ):
            return doc
    raise AssertionError("the demo data needs an invoice with data use, an allowance and a call fee")


def _ore(text: str) -> int:
    if not re.search(r"\d", text):
        return 0
    value = int(re.sub(r"\D", "", text))
    return -value if text.strip().startswith(("−", "-")) else value


def test_usage_summary_and_drill_down_in_both_languages(page, app_url, shot, core_api, horizontal_overflow):
    doc = _invoice_with_data_allowance(core_api)
    link = core_api.post(f"/invoices/{doc['id']}/link").json()
    assert re.fullmatch(r"/i/[a-z2-7]{16}", link["path"])
    page.goto(app_url + link["path"])
    summary = page.locator("#usage-summary")
    summary.wait_for(timeout=TIMEOUT)
    text = summary.inner_text()
    assert "Du använde" in text and " av " in text and "sms" in text
    bar = page.locator("#usage-summary [role='progressbar']").first
    entry = next(e for e in doc["usage_totals"] if e.get("data_allowance_bytes") and not e["data_unlimited"])
    share = min(100, entry["data_bytes"] * 100 // entry["data_allowance_bytes"])
    assert bar.get_attribute("aria-valuenow") == str(share)  # the bar is the data used of the allowance
    assert horizontal_overflow(page) == 0
    summary.scroll_into_view_if_needed()
    shot("invoice-usage-summary-sv", full_page=False)
    shot("invoice-page-summary-sv")
    # The fee line's records: the fee per call, and they add up to the line.
    fee_line = page.locator(".spec-line-usage", has_text="Öppningsavgift").first
    line_amount = _ore(fee_line.locator("p").nth(2).inner_text())  # description, quantity × price, amount
    fee_line.click()
    dialog = page.locator("#drill-dialog")
    dialog.locator("#drill-sum").wait_for(timeout=TIMEOUT)
    assert dialog.locator("#drill-note").inner_text().startswith("Öppningsavgiften")
    while dialog.locator("#drill-more").count():
        before = dialog.locator(".usage-row").count()
        dialog.locator("#drill-more").click()
        page.wait_for_function(f"() => document.querySelectorAll('#drill-dialog .usage-row').length > {before}")
    costs = [_ore(r.locator("p").last.inner_text()) for r in dialog.locator(".usage-row").all()]
    rounding = _ore(dialog.locator("#drill-rounding").inner_text()) if dialog.locator("#drill-rounding").count() else 0
    assert sum(costs) + rounding == line_amount == _ore(dialog.locator("#drill-sum").inner_text())
    shot("invoice-drill-fee-line-sv", full_page=False)
    page.keyboard.press("Escape")
    # English.
    page.locator("#lang-switch").click()
    page.locator("#usage-summary", has_text="You used").wait_for(timeout=TIMEOUT)
    assert "texts" in page.locator("#usage-summary").inner_text()
    page.locator("#usage-summary").scroll_into_view_if_needed()
    shot("invoice-usage-summary-en", full_page=False)
    shot("invoice-page-summary-en")
    page.locator("#lang-switch").click()
    page.locator("#usage-summary", has_text="Du använde").wait_for(timeout=TIMEOUT)


def test_a_revoked_link_opens_sign_in_then_the_invoice(page, app_url, shot, core_api, otp_code):
    # Not the customer the subscriber flow signs in again and again (sign-in codes are rate limited).
    busy = core_api.get("/invoices", params={"status": "unpaid", "kind": "invoice", "limit": 1}).json()["items"]
    items = core_api.get("/invoices", params={"kind": "invoice", "limit": 50}).json()["items"]
    inv = next(i for i in reversed(items) if not busy or i["customer_number"] != busy[0]["customer_number"])
    link = core_api.post(f"/invoices/{inv['id']}/link").json()
    assert core_api.delete(f"/links/{link['token']}").status_code == 204
    page.goto(app_url + link["path"])
    page.locator("#login-link-expired").wait_for(timeout=TIMEOUT)
    assert inv["id"] not in page.url
    shot("link-expired-sign-in-sv")
    sent = core_api.get("/dev/outbox", params={"customer": inv["customer_number"], "limit": 1}).json()
    page.locator("#login-identifier").fill(inv["customer_number"])
    page.locator("#login-send").click()
    page.locator("#login-code").fill(otp_code(inv["customer_number"], after_id=sent[0]["id"] if sent else 0))
    page.locator("#login-submit").click()
    page.locator("#invoice-number", has_text=inv["number"]).wait_for(timeout=TIMEOUT)
    assert page.url.endswith(f"/invoices/{inv['id']}")
