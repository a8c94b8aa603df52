"""Every subscriber page is accessible and steady on a phone (issue 16, item 4 and "How it is checked").

Each page, opened as a subscriber opens it (signed in through the session cookie, or by the invoice's
own link, or signed out for the sign-in page) at 390×844, in Swedish and then, after the language
switch, in English:

* axe-core finds no violation (every rule it runs by default: contrast, names, roles, WCAG 2.2's
  target size …);
* every link, button and disclosure standing on its own is at least 44 × 44 CSS px;
* no CSP violation.

And the first load of every page but usage (for now) shifts its layout by less than 0,02 (the sum of its
``layout-shift`` entries): the skeletons hold the final layout, and what loads later does not push
anything in sight.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.page_checks import TIMEOUT, assert_stable, axe_violations, ready, small_targets, watch

COOKIE = "selfcare_session"
CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")

# name → (path, or a function of the subscriber's facts to it; what shows the page is there; session)
PAGES: dict[str, tuple[str, str, str]] = {
    "sign-in": ("/login", "#login-identifier", "none"),
    "overview": ("/", "#left-to-pay", "cookie"),
    "invoice list": ("/invoices", ".invoice-row", "cookie"),
    "invoice": ("/invoices/{invoice_id}", "#invoice-amount", "cookie"),
    "invoice link": ("{link}", "#invoice-amount", "link"),
    "add-ons": ("/addons", "h1", "cookie"),
    "payment method": ("/payment-method", "h1", "cookie"),
    "usage": ("/usage", "h1", "cookie"),
    "alert settings": ("/settings", "form[id^=alerts-]", "cookie"),
}
# The pages whose first load is measured for layout shift (issue 16: overview, invoice and usage; the
# others too). Usage: add it here once its rebuilt page holds its layout.
STEADY = ("overview", "invoice", "sign-in", "invoice list", "invoice link", "add-ons", "payment method", "usage")


def _subscriber(core_api: httpx.Client) -> dict[str, str]:
    """A customer with an unpaid invoice (the last listed: the flow tests pay the first) and a session token."""
    items = core_api.get("/invoices", params={"kind": "invoice", "status": "unpaid", "limit": 50}).json()["items"]
    assert items, "the seeded app has no unpaid invoice"
    invoice = items[-1]
    number = invoice["customer_number"]
    assert core_api.post("/auth/otp/request", json={"identifier": number}).status_code == 202
    deadline = time.monotonic() + 15
    while True:
        sent = core_api.get("/dev/outbox", params={"customer": number, "limit": 5}).json()
        found = next((m for m in (CODE_RE.search(x.get("text") or "") for x in sent) if m), None)
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert found, f"no sign-in code for {number}"
    answer = core_api.post("/auth/otp/verify", json={"identifier": number, "code": found.group(1)})
    answer.raise_for_status()
    return {"number": number, "invoice_id": invoice["id"], "token": answer.json()["access_token"]}


@pytest.fixture
def open_page(page: Any, app_url: str, core_api: httpx.Client) -> Callable[[str], Any]:
    """``open_page(name)``: the watched ``page`` (tests/e2e/page_checks.py) on that subscriber page, ready."""
    watch(page)

    def go(name: str) -> Any:
        path, selector, session = PAGES[name]
        facts = _subscriber(core_api) if session != "none" else {}
        if session == "cookie":
            page.context.add_cookies([{"name": COOKIE, "value": facts["token"], "url": app_url}])
        if session == "link":
            facts["link"] = core_api.post(f"/invoices/{facts['invoice_id']}/link").json()["path"]
        page.goto(app_url + path.format(**facts))
        ready(page, selector)
        return page

    return go


def _switch_to_english(page: Any) -> None:
    page.locator("#lang-switch").click()
    page.wait_for_function("() => document.documentElement.lang === 'en'", timeout=TIMEOUT)
    page.locator("#lang-switch", has_text="Svenska").wait_for(timeout=TIMEOUT)
    page.wait_for_load_state("networkidle", timeout=TIMEOUT)
    page.wait_for_timeout(800)


@pytest.mark.parametrize("name", list(PAGES))
def test_page_accessible_in_both_languages(open_page, name):
    page = open_page(name)
    for lang in ("sv", "en"):
        if lang == "en":
            _switch_to_english(page)
        assert page.evaluate("() => document.documentElement.lang") == lang
        found = axe_violations(page)
        assert not found, f"{name} ({lang}):\n" + "\n".join(found)
        small = small_targets(page)
        assert not small, f"{name} ({lang}): tap targets under 44 × 44 px:\n" + "\n".join(small)
    assert page.csp_violations == [], name


@pytest.mark.parametrize("name", STEADY)
def test_first_load_keeps_its_layout(open_page, name):
    page = open_page(name)
    assert_stable(page, name)
    assert page.csp_violations == [], name


@pytest.mark.parametrize("name", ["overview", "invoice", "sign-in"])
def test_first_load_in_english_keeps_its_layout(open_page, page, app_url, name):
    """The frame is prerendered without a language; what hydration adds in English (a wider language button,
    longer labels) must not change its height: the brand stays on one line."""
    page.context.add_cookies([{"name": "selfcare_lang", "value": "en", "url": app_url}])
    open_page(name)
    assert page.evaluate("() => document.documentElement.lang") == "en"
    assert_stable(page, f"{name} (en)")
    brand = page.locator("header a[href='/'] p")
    assert brand.evaluate("(e) => e.getBoundingClientRect().height <= parseFloat(getComputedStyle(e).lineHeight) + 1")
