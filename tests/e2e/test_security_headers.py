"""Every page works under its Content-Security-Policy, and every answer carries the security headers (issue 14).

A subscriber signs in, opens the overview, the invoices, an invoice (QR, explanation, a message to customer
service), pays it on the provider's hosted page and comes back, switches language, opens usage (plotly
charts), payment method and add-ons, an invoice link; the agent's and marketing's sign-in pages are opened
too. Every ``securitypolicyviolation`` of every page (reported to the test through a Playwright binding,
which the CSP does not govern) fails the test, as does a CSP that allows ``'unsafe-inline'`` or
``'unsafe-eval'`` scripts. Framing by a foreign page is refused, and an anonymous upload larger than the
cap is refused before it is read.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

TIMEOUT = 30_000

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__reportCspViolation({page: location.pathname, directive: e.violatedDirective,
                               blocked: e.blockedURI, sample: e.sample, source: e.sourceFile, line: e.lineNumber});
});
"""

BASE_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}


def _directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        if part.strip():
            name, *sources = part.split()
            out[name] = sources
    return out


def _check_headers(headers: dict[str, str], what: str, *, page: bool) -> None:
    for name, value in BASE_HEADERS.items():
        assert headers.get(name) == value, (what, name, headers)
    assert "camera=()" in headers.get("permissions-policy", ""), what
    assert "strict-transport-security" not in headers, what  # plain http here: no HSTS
    csp = _directives(headers.get("content-security-policy", ""))
    assert csp.get("frame-ancestors") == ["'none'"], (what, csp)
    if page:
        scripts = csp["script-src"]
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts and "*" not in scripts, (what, csp)
        assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"], (what, csp)


@pytest.fixture
def csp_page(page: Any) -> Any:
    """``page`` with every CSP violation, of every document it loads, collected in ``page.csp_violations``."""
    violations: list[dict[str, Any]] = []
    page.expose_function("__reportCspViolation", lambda violation: violations.append(violation))
    page.add_init_script(REPORT_VIOLATIONS)
    page.csp_violations = violations
    page.navigations = []
    page.on("response", lambda r: page.navigations.append(r) if r.request.is_navigation_request() else None)
    return page


def _customer_with_unpaid(core_api) -> tuple[dict[str, Any], dict[str, Any]]:
    listed = core_api.get("/invoices", params={"status": "unpaid", "kind": "invoice", "limit": 50}).json()["items"]
    assert listed, "the seeded app has no unpaid invoice"
    # Not the first one: the subscriber flow test pays that one.
    invoice = listed[-1]
    customer = core_api.get("/customers", params={"q": invoice["customer_number"]}).json()["items"][0]
    return customer, invoice


def test_every_subscriber_page_works_under_its_csp(csp_page, app_url, otp_code, core_api):
    page = csp_page
    customer, invoice = _customer_with_unpaid(core_api)
    number = customer["customer_number"]

    page.goto(app_url + "/login")
    page.locator("#login-identifier").fill(number)
    page.locator("#login-send").click()
    page.locator("#login-code").wait_for(timeout=TIMEOUT)
    page.locator("#login-code").fill(otp_code(number))
    page.locator("#login-submit").click()
    page.locator("#left-to-pay").wait_for(timeout=TIMEOUT)
    page.locator("#period-usage .allowance").first.wait_for(timeout=TIMEOUT)

    page.goto(app_url + "/invoices")
    page.locator(".invoice-row").first.wait_for(timeout=TIMEOUT)

    page.goto(f"{app_url}/invoices/{invoice['id']}")
    page.locator("#invoice-amount").wait_for(timeout=TIMEOUT)
    page.locator("#qr-code svg").wait_for(timeout=TIMEOUT)
    # A message to customer service: sent, the box is emptied by the page's compiled code (no eval).
    box = page.locator("#thread-text")
    box.fill("Hej! Varför är fakturan högre än förra månaden?")
    page.locator("#thread-send").click()
    page.locator("#thread-messages .thread-text", has_text="Varför är fakturan").first.wait_for(timeout=TIMEOUT)
    page.wait_for_function("() => document.getElementById('thread-text').value === ''", timeout=TIMEOUT)

    # Pay: a full page load of the provider's hosted page (no eval), pay, and back.
    page.locator("#pay-button").click()
    page.locator("#pay-card").wait_for(timeout=TIMEOUT)
    hosted = page.navigations[-1]
    assert "/core/paygw/checkout/" in hosted.url
    _check_headers(hosted.headers, "hosted payment page", page=False)
    page.locator("#pay-card").click()
    page.wait_for_url(re.compile(rf".*/invoices/{invoice['id']}(\?.*)?$"), timeout=TIMEOUT)
    page.locator("#invoice-status", has_text="Betald").wait_for(timeout=TIMEOUT)
    page.reload()  # the way back does not repeat the full page load (one order, carried out once)
    page.locator("#invoice-status", has_text="Betald").wait_for(timeout=TIMEOUT)
    assert "/paygw/" not in page.url

    page.locator("#lang-switch").click()
    page.locator("#invoice-status", has_text="Paid").wait_for(timeout=TIMEOUT)
    page.wait_for_function("() => document.documentElement.lang === 'en'", timeout=TIMEOUT)  # lang-sync.js ran
    page.locator("#lang-switch").click()
    page.locator("#invoice-status", has_text="Betald").wait_for(timeout=TIMEOUT)

    page.goto(app_url + "/usage")
    page.locator("#usage-sentences .usage-sentence").first.wait_for(timeout=TIMEOUT)  # this period
    page.locator("#period-select").select_option(index=1)  # the seeded usage ends last month
    page.locator("#usage-list .usage-row").first.wait_for(timeout=TIMEOUT)
    page.mouse.wheel(0, 120)  # charts mount when on screen and the page is touched or scrolled
    page.locator("#chart-data .js-plotly-plot").wait_for(timeout=60_000)
    page.locator("#csv-download").click()  # rx.download: a data URL, no eval

    page.goto(app_url + "/payment-method")
    page.locator("#pm-card").wait_for(timeout=TIMEOUT)
    page.goto(app_url + "/addons")
    page.get_by_role("heading", level=1).first.wait_for(timeout=TIMEOUT)
    page.wait_for_load_state("networkidle")

    link = core_api.post(f"/invoices/{invoice['id']}/link").json()
    page.goto(app_url + link["path"])
    page.locator("#invoice-amount").wait_for(timeout=TIMEOUT)

    for path in ("/agent", "/marketing", "/dev/outbox"):
        page.goto(app_url + path)
        page.wait_for_load_state("networkidle")

    app_pages = [r for r in page.navigations if "/core/" not in r.url and r.status == 200]
    assert len(app_pages) >= 10
    for response in app_pages:
        _check_headers(response.headers, response.url, page=True)
    assert page.csp_violations == [], page.csp_violations
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors

    # The control: an injected inline script is refused, and the collector sees it.
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__injected = 1';"
        " document.head.appendChild(s); }"
    )
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__injected") is None
    assert [v["directive"] for v in page.csp_violations] == ["script-src-elem"], page.csp_violations


def test_a_foreign_page_cannot_frame_the_app(page, app_url):
    """``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``: /agent inside another site's iframe stays empty."""
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "frame-ancestors" in m.text or "X-Frame" in m.text else None)
    page.set_content(f'<iframe id="victim" src="{app_url}/agent" width="400" height="300"></iframe>')
    page.wait_for_timeout(3000)
    frame = page.frame_locator("#victim")
    assert frame.locator("#agent-username").count() == 0
    assert blocked, "the browser did not report the refused frame"


def test_every_answer_has_the_headers_and_uploads_are_capped(app_url):
    with httpx.Client(timeout=30) as client:
        for path, is_page in (
            ("/", True),
            ("/login", True),
            ("/core/health", False),
            ("/core/invoices", False),
            ("/ping", False),
            ("/favicon.svg", False),
            ("/lang-sync.js", False),
            ("/core/docs", False),
        ):
            resp = client.get(app_url + path, follow_redirects=True)
            _check_headers(dict(resp.headers), path, page=is_page)
        big = client.post(
            app_url + "/_upload",
            content=b"x" * (3 * 1024 * 1024),
            headers={"content-type": "multipart/form-data; boundary=x"},
        )
        assert big.status_code == 413
        _check_headers(dict(big.headers), "/_upload 413", page=False)
        small = client.post(
            app_url + "/_upload", content=b"--x--\r\n", headers={"content-type": "multipart/form-data; boundary=x"}
        )
        assert small.status_code != 413  # Reflex's own answer (no upload token): the cap did not refuse it


def test_an_invoice_link_opens_in_one_step_through_the_whole_front(app_url, core_api):
    """``GET /i/<token>`` with no session: 303 to the invoice with the link's session in the cookie, through every
    layer of the front as served (the shells must not hide the link's address from the one-step open)."""
    invoice = core_api.get("/invoices", params={"kind": "invoice", "limit": 1}).json()["items"][0]
    link = core_api.post(f"/invoices/{invoice['id']}/link").json()["path"]
    with httpx.Client(timeout=30) as client:
        resp = client.get(app_url + link)
    assert resp.status_code == 303, resp.status_code
    assert resp.headers["location"] == f"/invoices/{invoice['id']}"
    assert resp.headers["set-cookie"].startswith("selfcare_session=")
    _check_headers(dict(resp.headers), link, page=False)


def test_the_built_pages_paint_first_and_dynamic_routes_get_their_own_shell(app_url):
    """The production build as served (selfcare/page_shells.py): every page's module loader waits for a paint,
    and an invoice's address is answered with the invoice page's own prerendered shell, which names the
    invoice page's module from the start (not the SPA fallback, which discovers it a round trip later)."""
    with httpx.Client(timeout=30) as client:
        for path, module in (
            ("/login/", "_login_._index"),
            # the address every link uses, without the slash: the page itself, no redirect first
            ("/login", "_login_._index"),
            ("/usage", "_usage_._index"),
            ("/invoices", "_invoices_._index"),
            ("/invoices/50a2a058-09e0-40f8-8414-f0862326160f", "_invoices_.__invoice_id_._index"),
            ("/i/not-a-real-token", "_i_.__link_token_._index"),
        ):
            resp = client.get(app_url + path)
            assert resp.status_code == 200, (path, resp.status_code, resp.headers.get("location"))
            html = resp.text
            assert f'fetchpriority="low" href="/assets/{module}-' in html, path
            loader = re.search(r'<script type="module" async="">(.*?)</script>', html, re.S)
            assert loader and loader.group(1).startswith("await new Promise("), path
            assert f'import("/assets/{module}-' in loader.group(1), path
            _check_headers(dict(resp.headers), path, page=True)
        # A page shows before its scripts run: no form may be in the prerendered HTML, or a quick user's
        # browser would send it itself (a GET, the password in the address) before React handles it.
        for path in ("/login/", "/agent/", "/marketing/", "/", "/payment-method/", "/settings/", "/addons/"):
            html = client.get(app_url + path).text
            assert "<form" not in html and 'type="password"' not in html, path
