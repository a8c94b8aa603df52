"""A session that survives new tabs and reloads, and ends everywhere at sign-out (issue 14, item 7).

Real Chromium against the app as the README runs it, and on the scale path (two backend workers,
Redis, PostgreSQL): sign in in one tab, open another, reload, sign out in the second tab, and the
first is signed out too. The cookie that carries the session is ``HttpOnly`` and ``SameSite=Lax``:
page scripts cannot read it. An invoice link's session reaches a new tab the same way. No page may
break the content security policy on the way.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from selfcare.session_cookie import COOKIE
from tests.e2e.test_subscriber_flow import TIMEOUT, _customer_with_unpaid, _sign_in

AT_LOGIN = re.compile(r"/login/?$")


def _session_cookie(context: Any) -> dict[str, Any] | None:
    return next((c for c in context.cookies() if c["name"] == COOKIE), None)


def _watch(pg: Any) -> list[str]:
    """Console errors and CSP violations of a tab (a violation fails the test)."""
    errors: list[str] = []
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def _no_csp_violations(*logs: list[str]) -> None:
    violations = [e for log in logs for e in log if "Content Security Policy" in e or "Refused to" in e]
    assert violations == []


def _two_tabs_one_session(page: Any, app_url: str, otp_code: Any, core_api: Any) -> None:
    customer, invoice = _customer_with_unpaid(core_api)
    first_errors = page.console_errors
    _sign_in(page, app_url, otp_code, customer["customer_number"])
    cookie = _session_cookie(page.context)
    assert cookie is not None, page.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    assert not cookie["secure"]  # plain http on loopback; https deployments get Secure (SELFCARE_PUBLIC_URL)
    assert 11 * 3600 < cookie["expires"] - page.evaluate("Date.now() / 1000") <= 12 * 3600  # the absolute end
    assert COOKIE not in page.evaluate("document.cookie")  # page scripts cannot read it

    # A new tab: the invoice opens straight away, no sign-in.
    second = page.context.new_page()
    second_errors = _watch(second)
    second.goto(f"{app_url}/invoices/{invoice['id']}")
    second.locator("#invoice-amount").wait_for(timeout=TIMEOUT)
    assert invoice["number"] in second.locator("#invoice-number").inner_text()
    # A reload of the first tab keeps it too.
    page.reload()
    page.locator("#left-to-pay").wait_for(timeout=TIMEOUT)

    # Sign out in the second tab: the cookie goes, and the first tab's session has ended as well.
    second.locator("#sign-out").click()
    second.wait_for_url(AT_LOGIN, timeout=TIMEOUT)
    assert _session_cookie(page.context) is None
    page.goto(f"{app_url}/invoices")
    page.wait_for_url(AT_LOGIN, timeout=TIMEOUT)
    third = page.context.new_page()
    third.goto(f"{app_url}/invoices/{invoice['id']}")
    third.wait_for_url(AT_LOGIN, timeout=TIMEOUT)
    _no_csp_violations(first_errors, second_errors)


def test_a_session_reaches_new_tabs_and_reloads_and_sign_out_ends_it_in_every_tab(page, app_url, otp_code, core_api):
    _two_tabs_one_session(page, app_url, otp_code, core_api)


@pytest.mark.scale
def test_the_same_across_two_workers_with_redis(page, app_url, otp_code, core_api):
    _two_tabs_one_session(page, app_url, otp_code, core_api)


def test_an_invoice_links_session_reaches_a_new_tab_of_its_invoice_only(page, app_url, core_api):
    invoice = core_api.get("/invoices", params={"kind": "invoice", "limit": 1}).json()["items"][0]
    other = next(i for i in core_api.get("/invoices", params={"limit": 20}).json()["items"] if i["id"] != invoice["id"])
    link = core_api.post(f"/invoices/{invoice['id']}/link").json()
    page.goto(app_url + link["path"])
    page.locator("#invoice-amount").wait_for(timeout=TIMEOUT)
    assert _session_cookie(page.context)["httpOnly"]
    second = page.context.new_page()
    second_errors = _watch(second)
    second.goto(f"{app_url}/invoices/{invoice['id']}")
    second.locator("#invoice-amount").wait_for(timeout=TIMEOUT)
    assert invoice["number"] in second.locator("#invoice-number").inner_text()
    second.goto(f"{app_url}/invoices/{other['id']}")
    second.locator("#not-found").wait_for(timeout=TIMEOUT)
    assert other["number"] not in second.content()
    # Support revokes the links: the new tab's session ends with them (sign-in, then the invoice).
    assert core_api.post(f"/invoices/{invoice['id']}/links/revoke").json()["revoked"] >= 1
    second.goto(f"{app_url}/invoices/{invoice['id']}")
    second.wait_for_url(AT_LOGIN, timeout=TIMEOUT)
    _no_csp_violations(page.console_errors, second_errors)
