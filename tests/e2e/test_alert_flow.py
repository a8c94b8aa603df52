"""From a usage alert to a bought add-on on a phone (issue 17), 390×844, Swedish then English.

A subscriber with a data allowance uses 85 % of it today (records posted to the core as a usage file
would bring them); the import tells them by their channel and the app shows the alert on the overview
and the usage page. Its one tap out opens the add-on shop on that subscription; the add-on is bought
through the order sheet; closed, the alert stays closed. Screenshots: ``alert-overview-sv.png``,
``alert-overview-en.png``, ``alert-shop.png``.
"""

from __future__ import annotations

import uuid

from tests.e2e.page_checks import TIMEOUT, ready
from tests.e2e.test_accessibility import COOKIE, _switch_to_english
from tests.e2e.test_usage_page import _subscriber_with_data_allowance

INCLUDED = {"mobil-bas": 1, "mobil-5gb": 5, "mobil-20gb": 20}


def _session(core_api, number: str) -> str:
    from tests.e2e.test_accessibility import CODE_RE

    assert core_api.post("/auth/otp/request", json={"identifier": number}).status_code == 202
    sent = core_api.get("/dev/outbox", params={"customer": number, "limit": 5}).json()
    code = next(m.group(1) for m in (CODE_RE.search(x.get("text") or "") for x in sent) if m)
    return core_api.post("/auth/otp/verify", json={"identifier": number, "code": code}).json()["access_token"]


def test_an_alert_leads_to_a_bought_add_on(page, app_url, core_api, shot, horizontal_overflow):
    customer, sub = _subscriber_with_data_allowance(core_api)
    included = INCLUDED[sub["plan_id"]] * 1_000_000_000
    today = customer["today"]
    record = {
        "record_id": f"e2e-alert-{uuid.uuid4().hex}",
        "msisdn": sub["msisdn"],
        "service": "data",
        "started_at": f"{today}T06:30:00+01:00",
        "volume_bytes": included * 85 // 100,
    }
    answer = core_api.post("/usage", json={"records": [record]}).json()
    assert answer["rated"] == 1 and answer["alerts"] >= 1, answer

    page.context.add_cookies(
        [{"name": COOKIE, "value": _session(core_api, customer["customer_number"]), "url": app_url}]
    )
    page.goto(app_url + "/")
    ready(page, "#left-to-pay")
    notice = page.locator(".alert-notice").first
    notice.wait_for(timeout=TIMEOUT)
    assert "av din surf" in notice.inner_text()
    assert horizontal_overflow(page) == 0
    shot("alert-overview-sv")

    page.goto(app_url + "/usage")
    ready(page, "#usage-sentences")
    assert page.locator(".alert-notice").count() >= 1  # the usage page shows it too

    page.goto(app_url + "/")
    ready(page, ".alert-notice")
    _switch_to_english(page)
    page.locator(".alert-notice", has_text="of your data").first.wait_for(timeout=TIMEOUT)
    shot("alert-overview-en")

    # The alert's tap: the shop on that subscription with the order sheet of its cheapest data add-on, prefilled.
    page.locator(".alert-notice .alert-action").first.click()
    page.wait_for_url(f"**/addons?sub={sub['id']}&pool=data", timeout=TIMEOUT)
    page.locator("#addon-sheet").wait_for(timeout=TIMEOUT)
    page.wait_for_timeout(400)  # the sheet's opening animation
    offered = core_api.get(f"/subscriptions/{sub['id']}/addons").json()["available"]
    cheapest = min((a for a in offered if "data" in (a.get("allowances") or {})), key=lambda a: a["price_ore"])
    price = f"{cheapest['price_ore'] // 100}.{cheapest['price_ore'] % 100:02d}"  # the page is in English now
    assert price in page.locator("#addon-sheet").inner_text()
    shot("alert-shop")
    page.locator("#addon-sheet-confirm").click()
    page.locator("#addon-sheet-done").wait_for(timeout=TIMEOUT)
    bought = core_api.get(f"/subscriptions/{sub['id']}/addons").json()["bought"]
    assert bought, "the add-on was not bought"

    page.goto(app_url + "/")
    ready(page, ".alert-notice")
    page.locator(".alert-notice .alert-dismiss").first.click()
    page.wait_for_timeout(500)
    alerts = core_api.get(f"/customers/{customer['id']}/alerts").json()["items"]
    page.reload()
    ready(page, "#left-to-pay")
    assert page.locator(".alert-notice").count() == len(alerts)  # the closed one stays closed
