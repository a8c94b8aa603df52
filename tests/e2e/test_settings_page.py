"""The alert settings page on a phone (issue 17), 390×844, in Swedish and English: a subscriber turns the
80 % data alert off, sets a cost warning and chooses a spending limit for data abroad (a select of the
catalogue's levels), and after a reload the page shows what the core keeps.
Screenshots: ``tests/e2e/screenshots/settings-sv.png``, ``settings-en.png``."""

from __future__ import annotations

from tests.e2e.page_checks import TIMEOUT, ready
from tests.e2e.test_accessibility import COOKIE, _subscriber, _switch_to_english


def test_a_subscriber_chooses_their_alerts(page, app_url, core_api, shot, horizontal_overflow):
    facts = _subscriber(core_api)
    page.context.add_cookies([{"name": COOKIE, "value": facts["token"], "url": app_url}])
    page.goto(f"{app_url}/settings")
    ready(page, "form[id^=alerts-]")
    form = page.locator("form[id^=alerts-]").first
    sub_id = (form.get_attribute("id") or "").removeprefix("alerts-")
    data_80 = page.locator(f"#alert-data_80-{sub_id}")
    assert data_80.is_checked()
    shot("settings-sv")
    assert horizontal_overflow(page) == 0
    data_80.uncheck()
    page.locator(f"#cost-{sub_id}").fill("400")
    limit = page.locator(f"#spend-limit-{sub_id}")
    assert limit.input_value() == "57500"
    options = [o.strip().replace("\u00a0", " ") for o in limit.locator("option").all_inner_texts()]
    assert options == ["575 kr (standard)", "1 150 kr", "2 300 kr"]
    limit.select_option("115000")
    form.get_by_role("button", name="Spara").click()
    page.get_by_text("Dina aviseringar är sparade.").wait_for(timeout=TIMEOUT)
    kept = core_api.get(f"/subscriptions/{sub_id}/alert-settings").json()
    assert kept["thresholds"]["data"] == [100] and kept["cost_limit_ore"] == 40_000
    assert kept["spend_limit_ore"] == 115_000
    page.reload()
    ready(page, "form[id^=alerts-]")
    assert not page.locator(f"#alert-data_80-{sub_id}").is_checked()
    assert page.locator(f"#cost-{sub_id}").input_value() == "400,00"
    assert page.locator(f"#spend-limit-{sub_id}").input_value() == "115000"
    _switch_to_english(page)
    page.get_by_role("heading", name="Alerts").wait_for(timeout=TIMEOUT)
    assert page.get_by_text("Tell me when I have used").first.is_visible()
    shot("settings-en")
