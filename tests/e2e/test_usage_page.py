"""The usage page on a phone (issue 16 item 3), 390×844, in Swedish and English.

A subscriber with a data allowance gets some data use in the running period (the seeded usage ends
with last month), signs in and opens ``/usage``: the summary says what the core's usage summary says
(``selfcare.pages.usage.summary`` on the core's own figures), the data chart mounts (plotly, under
the page's CSP: no eval, no inline script), layout shifts stay below 0,02 (``PerformanceObserver``
``layout-shift`` entries), and nothing is wider than the screen, at 390 and at 360 px.

Element ids: usage-summary, usage-days-left, usage-sentences (.usage-sentence), usage-data-bar,
usage-plan / usage-plan-text, chart-data / chart-calls / chart-sms / chart-category, usage-list.
Screenshots: ``tests/e2e/screenshots/usage-sv.png``, ``usage-en.png``, ``usage-360.png``.
"""

from __future__ import annotations

import uuid
from typing import Any

from selfcare.pages.usage import summary as words
from tests.e2e.test_security_headers import REPORT_VIOLATIONS

TIMEOUT = 20_000
LIMITED = ("mobil-bas", "mobil-5gb", "mobil-20gb")

COLLECT_SHIFTS = """
window.__layoutShift = 0;
window.__layoutShifts = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (!e.hadRecentInput) { window.__layoutShift += e.value; window.__layoutShifts.push(e.value); }
  }
}).observe({type: "layout-shift", buffered: true});
"""


def _plain(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def _subscriber_with_data_allowance(core_api) -> tuple[dict[str, Any], dict[str, Any]]:
    """A customer (from the end of the list: the other tests take the first ones) with one running
    mobile subscription on a plan with a data allowance."""
    items = core_api.get("/customers", params={"limit": 200}).json()["items"]
    for row in reversed(items):
        customer = core_api.get(f"/customers/{row['id']}").json()
        running = [s for s in customer["subscriptions"] if s.get("plan_id")]
        if len(running) == 1 and running[0]["plan_id"] in LIMITED and running[0].get("msisdn"):
            return customer, running[0]
    raise AssertionError("the seeded app has no customer with one mobile subscription on a limited plan")


def _use_data(core_api, customer: dict[str, Any], sub: dict[str, Any]) -> None:
    """Data use today, in the running period: 45 % of the plan's allowance."""
    included = {"mobil-bas": 1, "mobil-5gb": 5, "mobil-20gb": 20}[sub["plan_id"]] * 1_000_000_000
    today = customer["today"]
    records = [
        {
            "record_id": f"e2e-usage-{uuid.uuid4().hex}",
            "msisdn": sub["msisdn"],
            "service": "data",
            "started_at": f"{today}T0{h}:00:00+01:00",
            "volume_bytes": included * 15 // 100,
        }
        for h in (7, 8, 9)
    ]
    answer = core_api.post("/usage", json={"records": records}).json()
    assert answer["rated"] == 3, answer


def _sentences(page) -> list[str]:
    return [_plain(t) for t in page.locator("#usage-sentences .usage-sentence").all_inner_texts()]


def test_usage_page_on_a_phone_in_both_languages(page, app_url, otp_code, core_api, shot, horizontal_overflow):
    customer, sub = _subscriber_with_data_allowance(core_api)
    _use_data(core_api, customer, sub)
    violations: list[dict[str, Any]] = []
    page.expose_function("__reportCspViolation", lambda v: violations.append(v))
    page.add_init_script(REPORT_VIOLATIONS)
    page.add_init_script(COLLECT_SHIFTS)

    number = customer["customer_number"]
    page.goto(app_url + "/login")
    page.locator("#login-identifier").fill(number)
    page.locator("#login-send").click()
    page.locator("#login-code").wait_for(timeout=TIMEOUT)
    page.locator("#login-code").fill(otp_code(number))
    page.locator("#login-submit").click()
    page.locator("#left-to-pay").wait_for(timeout=TIMEOUT)

    page.goto(app_url + "/usage")
    page.locator("#usage-sentences .usage-sentence").first.wait_for(timeout=TIMEOUT)
    period = page.locator("#period-select").input_value()
    assert period == customer["today"][:7]  # this period by default
    summary = core_api.get("/usage/summary", params={"customer_id": customer["id"], "period": period}).json()
    assert summary["days_left"] > 0 and any(a["pool"] == "data" and a["used"] > 0 for a in summary["allowances"])
    expected = [_plain(t) for t in words.summary_sentences(summary, "sv")]
    assert _sentences(page) == expected
    assert expected[0].startswith("Du har använt ") and " av " in expected[0]
    assert _plain(page.locator("#usage-days-left").inner_text()).lower() == words.days_left_text(summary, "sv").lower()
    bar = page.locator("#usage-data-bar")
    assert int(bar.get_attribute("aria-valuenow")) == words.data_bar(summary)

    # The first chart is on the first screen, but waits for the first touch or scroll: until then no plotly,
    # only its title on the card. Then it mounts (plotly, under the CSP) in the box kept for it.
    box_before = page.locator("#chart-data").bounding_box()
    page.wait_for_timeout(500)
    assert page.locator("#chart-data [data-shown]").get_attribute("data-shown") == "false"
    assert page.locator("#chart-data .chart-facade").is_visible()
    assert not page.evaluate("() => performance.getEntriesByType('resource').some((r) => r.name.includes('plotly'))")
    page.mouse.wheel(0, 120)
    page.locator("#chart-data .js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
    assert page.locator("#chart-data").bounding_box()["height"] == box_before["height"]
    ticks = page.locator("#chart-data .xtick text").all_text_contents()  # SVG: no innerText
    assert 2 <= len(ticks) <= 5 and all(t.strip() for t in ticks), ticks
    assert page.locator("#chart-data .ytitle").text_content() == "GB"
    for chart in ("chart-calls", "chart-sms", "chart-category", "chart-invoices"):
        page.locator(f"#{chart}").scroll_into_view_if_needed()
        page.locator(f"#{chart} .js-plotly-plot .main-svg").first.wait_for(timeout=TIMEOUT)
    assert page.locator("#chart-calls .ytitle").text_content() == "min"
    assert page.locator("#chart-sms .ytitle").text_content() == "sms"
    page.locator("#usage-list").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    shifts = page.evaluate("() => window.__layoutShifts")
    assert page.evaluate("() => window.__layoutShift") < 0.02, shifts
    assert horizontal_overflow(page) == 0
    page.evaluate("() => window.scrollTo(0, 0)")
    shot("usage-sv")

    # The plan line, when re-rating found a cheaper plan, says so in the page's words.
    if page.locator("#usage-plan-text").count():
        assert "hade räckt:" in page.locator("#usage-plan-text").inner_text()

    page.locator("#lang-switch").click()
    page.locator("#usage-sentences .usage-sentence", has_text="You have used").first.wait_for(timeout=TIMEOUT)
    assert _sentences(page) == [_plain(t) for t in words.summary_sentences(summary, "en")]
    for chart in ("chart-data", "chart-calls", "chart-sms", "chart-category", "chart-invoices"):
        page.locator(f"#{chart}").scroll_into_view_if_needed()
        page.locator(f"#{chart} .js-plotly-plot .main-svg").first.wait_for(timeout=TIMEOUT)
    assert page.locator("#chart-sms .ytitle").text_content() == "texts"
    page.evaluate("() => window.scrollTo(0, 0)")
    shot("usage-en")

    page.set_viewport_size({"width": 360, "height": 780})
    page.wait_for_timeout(500)
    assert horizontal_overflow(page) == 0
    page.locator("#chart-data").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    shot("usage-360", full_page=False)
    page.locator("#lang-switch").click()  # back to Swedish for the tests after this one
    page.locator("#usage-sentences .usage-sentence", has_text="Du har").first.wait_for(timeout=TIMEOUT)

    assert violations == [], violations
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
