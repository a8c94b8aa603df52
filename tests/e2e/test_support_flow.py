"""Issue 5 in real Chromium, two browser contexts at once: a subscriber (390×844) asks about a line
of their invoice; an agent (desktop) answers and credits 50 kr from the console (previewed, cancelled,
previewed again and confirmed); the subscriber's
open page shows the answer and the new amount without a reload; the answer's e-mail arrives at
the app's SMTP server on loopback; a message with ``<script>`` and markdown stays text.

Element ids (selfcare/components/thread.py, agent_*.py, pages/agent.py): thread, thread-line,
thread-text, thread-send, thread-messages (.thread-message, .thread-text, .thread-line),
agent-username, agent-password, agent-sign-in, inbox (.inbox-row[data-invoice]),
agent-messages, agent-reply-text, agent-reply-send, agent-credit-line, agent-credit-amount,
agent-credit-reason, agent-credit-send (a preview), agent-confirm (agent-confirm-left, .agent-confirm-line,
agent-confirm-yes, agent-confirm-no), agent-waive-send (only with a reminder fee), agent-notice,
agent-invoice-balance, agent-audit-link,
audit-table (.audit-row).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.page_checks import sections_shown
from tests.e2e.test_subscriber_flow import TIMEOUT, _sign_in

DESKTOP = {"width": 1440, "height": 900}
SCRIPT_TEXT = (
    '<script>window.__pwned = 1</script> <img src=x onerror="window.__pwned=2"> [klicka](https://evil.example)'
)


def _kr(text: str) -> Decimal:
    m = re.search(r"(-?[\d\s\u00a0]+,\d\d)\s*kr", text)
    assert m, text
    return Decimal(re.sub(r"[\s\u00a0]", "", m.group(1)).replace(",", "."))


def _ask(page, text: str) -> Any:
    """Write ``text`` in the invoice's thread, send it, and return its bubble once it is shown."""
    box = page.locator("#thread-text")
    expect(box).to_have_value("", timeout=TIMEOUT)  # the previous message has left the box
    box.fill(text)
    expect(box).to_have_value(text)
    page.locator("#thread-send").click()
    bubble = (
        page.locator("#thread-messages .thread-mine").filter(has=page.locator(".thread-text", has_text=text[:40])).first
    )
    bubble.wait_for(timeout=TIMEOUT)
    expect(box).to_have_value("", timeout=TIMEOUT)  # sent: the box is empty again
    return bubble


def _email_customer_with_usage_invoice(core_api) -> tuple[dict[str, Any], dict[str, Any], int]:
    """A customer who gets e-mail, one of their open invoices, and a usage line on it."""
    items = core_api.get("/invoices", params={"status": "unpaid", "kind": "invoice", "limit": 100}).json()["items"]
    for invoice in items:
        listed = core_api.get("/customers", params={"q": invoice["customer_number"]}).json()["items"][0]
        customer = core_api.get(f"/customers/{listed['id']}").json()  # with the channel
        if customer.get("channel") != "email" or not customer.get("email") or invoice["amount_due_ore"] < 10000:
            continue
        doc = core_api.get(f"/invoices/{invoice['id']}").json()
        lines = [i for i, line in enumerate(doc["lines"], start=1) if line.get("kind") == "usage"]
        if lines:
            return customer, invoice, lines[0]
    raise AssertionError("the seeded app has no unpaid invoice with usage for an e-mail customer")


def test_subscriber_asks_agent_answers_and_credits_live(
    browser, page, app_url, shot, otp_code, core_api, smtp_sink, agent_credentials, horizontal_overflow
):
    customer, invoice, line = _email_customer_with_usage_invoice(core_api)

    # --- the subscriber, on a phone, asks about one line --------------------------------------
    _sign_in(page, app_url, otp_code, customer["customer_number"])
    page.goto(f"{app_url}/invoices/{invoice['id']}")
    page.locator("#thread-text").wait_for(timeout=TIMEOUT)
    sections_shown(page)
    balance_before = _kr(page.locator("#invoice-amount").inner_text())
    asked_before = page.locator("#timeline .timeline-event[data-kind='message']").count()
    page.locator("#thread-line").select_option(str(line))
    # The invoice may already have a message of the customer's (another browser test writes one
    # through the core): the one sent here is found by its text.
    mine = _ask(page, "Vad är det här för avgift? Jag var inte utomlands.")
    assert f"Om rad {line}" in mine.inner_text()
    assert horizontal_overflow(page) == 0
    # The question is on the invoice's timeline too (the page settles before the next message).
    expect(page.locator("#timeline .timeline-event[data-kind='message']")).to_have_count(
        asked_before + 1, timeout=TIMEOUT
    )
    # A message that tries HTML, script and markdown is shown as the text it is.
    _ask(page, SCRIPT_TEXT)
    texts = page.locator("#thread-messages .thread-text").all_inner_texts()
    assert SCRIPT_TEXT in texts
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("#thread-messages script, #thread-messages img, #thread-messages a").count() == 0
    shot("support-subscriber-asked")

    # --- the agent, at a desk, in another browser context at the same time ----------------------
    agent_ctx = browser.new_context(viewport=DESKTOP, locale="sv-SE", timezone_id="Europe/Stockholm")
    agent_ctx.set_default_timeout(20_000)
    try:
        desk = agent_ctx.new_page()
        errors: list[str] = []
        desk.on("pageerror", lambda exc: errors.append(str(exc)))
        desk.goto(app_url + "/agent")
        desk.locator("#agent-username").fill(agent_credentials["agent"])
        desk.locator("#agent-password").fill(agent_credentials["password"])
        desk.locator("#agent-sign-in").click()
        row = desk.locator(f".inbox-row[data-invoice='{invoice['id']}']")
        row.wait_for(timeout=TIMEOUT)
        assert row.get_attribute("data-status") == "waiting"
        assert desk.locator(".inbox-row").first.get_attribute("data-status") == "waiting"  # waiting first
        row.click()
        desk.locator("#agent-messages .thread-text", has_text="Vad är det här").wait_for(timeout=TIMEOUT)
        assert SCRIPT_TEXT in desk.locator("#agent-messages .thread-text").all_inner_texts()
        assert desk.evaluate("() => window.__pwned") is None
        desk.locator("#agent-usage .agent-usage-row").first.wait_for(timeout=TIMEOUT)  # the line asked about

        reply = "Hej! Avgiften gäller samtal till utlandet. Vi krediterar 50 kr som kompensation."
        desk.locator("#agent-reply-text").fill(reply)
        desk.locator("#agent-reply-send").click()
        desk.locator("#agent-messages .thread-text", has_text="Vi krediterar 50 kr").wait_for(timeout=TIMEOUT)

        notes_before = len(core_api.get(f"/invoices/{invoice['id']}").json()["credit_notes"])
        desk.locator("#agent-credit-line").select_option("0")
        desk.locator("#agent-credit-amount").fill("50")
        desk.locator("#agent-credit-reason").fill("Kompensation för otydlig avgift")
        desk.locator("#agent-credit-send").click()
        # First what the invoice will look like after the credit; nothing is issued yet.
        confirm = desk.locator("#agent-confirm")
        confirm.wait_for(timeout=TIMEOUT)
        assert "-50,00" in confirm.locator(".agent-confirm-line").first.inner_text()
        left = desk.locator("#agent-confirm-left").inner_text()
        assert left.startswith("Kvar att betala") and _kr(left.split("→")[1]) == balance_before - 50
        assert _kr(desk.locator("#agent-invoice-balance").inner_text()) == balance_before
        assert desk.locator("#agent-waive-send").count() == 0  # no reminder fee on this invoice: no waive button
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        desk.locator("#agent-confirm-yes").scroll_into_view_if_needed()  # the thread column scrolls on its own
        desk.screenshot(path=str(SCREENSHOTS / "support-agent-confirm-credit.png"))
        # Cancel leaves nothing issued; preview again and confirm issues it.
        desk.locator("#agent-confirm-no").click()
        expect(confirm).to_have_count(0, timeout=TIMEOUT)
        assert _kr(desk.locator("#agent-invoice-balance").inner_text()) == balance_before
        desk.locator("#agent-credit-send").click()
        desk.locator("#agent-confirm-yes").click()
        desk.locator("#agent-notice", has_text="Kreditfaktura").wait_for(timeout=TIMEOUT)
        assert _kr(desk.locator("#agent-invoice-balance").inner_text()) == balance_before - 50
        assert len(core_api.get(f"/invoices/{invoice['id']}").json()["credit_notes"]) == notes_before + 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        desk.screenshot(path=str(SCREENSHOTS / "support-agent-console.png"), full_page=True)
        assert errors == []
    finally:
        agent_ctx.close()

    # --- back on the phone: the answer and the new amount, without a reload -----------------------
    page.locator("#thread-messages .thread-theirs .thread-text", has_text="Vi krediterar 50 kr").wait_for(
        timeout=TIMEOUT
    )
    # The headline is the amount after the credit, and the credit note is linked under it.
    page.locator(".credit-note-link").first.wait_for(timeout=TIMEOUT)
    assert _kr(page.locator("#invoice-amount").inner_text()) == balance_before - 50
    page.locator("#timeline .timeline-event", has_text="Nytt belopp").first.wait_for(timeout=TIMEOUT)
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1  # still the same page
    assert page.evaluate("() => window.__pwned") is None
    shot("support-subscriber-answered")

    # --- the e-mail with the invoice's link reached the SMTP server --------------------------------
    mail = smtp_sink.wait_for(lambda m: m["To"] == customer["email"] and invoice["number"] in str(m["Subject"]))
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "/i/" in body and app_url.split("//")[1] in body


def test_supervisor_reads_the_audit_log(browser, app_url, agent_credentials):
    ctx = browser.new_context(viewport=DESKTOP, locale="sv-SE")
    try:
        desk = ctx.new_page()
        desk.goto(app_url + "/agent")
        desk.locator("#agent-username").fill(agent_credentials["supervisor"])
        desk.locator("#agent-password").fill(agent_credentials["password"])
        desk.locator("#agent-sign-in").click()
        desk.locator("#agent-audit-link").click()
        desk.locator("#audit-table .audit-row").first.wait_for(timeout=TIMEOUT)
        assert desk.locator("#audit-table .audit-row", has_text="sign_in").count() >= 1
        # An agent (not a supervisor) is refused.
        desk.locator("#agent-sign-out").click()
        desk.locator("#agent-username").fill(agent_credentials["agent"])
        desk.locator("#agent-password").fill(agent_credentials["password"])
        desk.locator("#agent-sign-in").click()
        desk.locator("#agent-console").wait_for(timeout=TIMEOUT)
        assert desk.locator("#agent-audit-link").count() == 0
        desk.goto(app_url + "/agent/audit")
        desk.locator("#audit-refused").wait_for(timeout=TIMEOUT)
    finally:
        ctx.close()
