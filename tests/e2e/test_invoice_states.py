"""Every state of an invoice a subscriber meets, in real Chromium at 390×844, in Swedish and in English.

For each state an invoice in that state is found in the seeded app (the demo lives its year: payments,
reminders, a respite, credit notes, autopay) or made through the core's API (a credit note, a respite),
opened (by its own link ``/i/…`` where that suffices, signed in where the page needs a full session), and
what the page shows is compared with the core's JSON of the same invoice (``state``, ``customer_overdue``,
``GET /invoices?customer_id=``'s ``overdue``): what must be there, and what must not. Amounts are formatted
as the app formats them (``selfcare.i18n.format_money``); dates and sentences are written out here from the
issue's wording, so a wrong date, method, count or translation fails.

States: paid (when and how, nothing asked), credited in part and in full (the amount after credits, the
original struck through, the credit notes linked), overdue with a reminder fee (days late, fees, next step,
pay button and QR code, the customer's overdue count), respite granted, automatic payment (no pay button),
a credit balance with the credit note it came from (invoice and overview), the overview with overdue
invoices (the overdue card first, its count and total the core's), and loading (nothing said before the
data is known). Screenshots: ``tests/e2e/screenshots/state-<state>-<sv|en>.png``.

Not covered: an invoice whose small balance was carried to the next invoice. The seeded year has none and
making one needs a bill run of the open period, which would change every account other browser tests use.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from selfcare.i18n import format_money
from selfcare.pages.invoice.state import InvoiceState
from selfcare.pages.overview.state import OverviewState
from tests.e2e.test_english_everywhere import swedish_in
from tests.e2e.test_subscriber_flow import TIMEOUT, _sign_in

SV_MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)
EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# What the page says, by language (the wording; the Swedish is the catalogue's translation).
TEXT: dict[str, dict[str, str]] = {
    "sv": {
        "to_pay": "Att betala inkl. moms",
        "amount": "Fakturabelopp inkl. moms",
        "left": "Kvar att betala",
        "fee": "Påminnelseavgift",
        "interest": "Dröjsmålsränta",
        "settled": "Inget kvar att betala på den här fakturan.",
        "nothing_left": "Inget kvar att betala",
        "due": "Förfaller {date}",
        "was_due": "Förföll {date} · {days} dagar sedan",
        "yesterday": "Förföll {date} · i går",
        "paid_by": "Betald {date} {how}",
        "credited_full": "Helt krediterad: inget att betala.",
        "overdue_note": "Dina fakturor från {seller} ({count} förfallna)",
        "owed": "Du har {amount} tillgodo. Det dras av på din nästa faktura.",
        "credit_note": "Kreditfaktura",
        "pay": "Betala",
        "pay_all": "Betala alla",
        "overdue_1": "förfallen faktura",
        "overdue_n": "förfallna fakturor",
        "oldest": "Den äldsta förföll för {days} dagar sedan.",
        "fees": "Påminnelseavgifter: {amount}.",
        "next_due": "Nästa förfallodag: {date}",
        "nothing": "Inget att betala",
        "autopay_card": "Dras från ditt kort {date}",
        "autopay_autogiro": "Dras via autogiro {date}",
        "autopay_paid_card": "Betald med kort {date}",
        "autopay_paid_autogiro": "Betald med autogiro {date}",
    },
    "en": {
        "to_pay": "To pay incl. VAT",
        "amount": "Invoice amount incl. VAT",
        "left": "Left to pay",
        "fee": "Reminder fee",
        "interest": "Late interest",
        "settled": "Nothing left to pay on this invoice.",
        "nothing_left": "Nothing left to pay",
        "due": "Due {date}",
        "was_due": "Was due {date} · {days} days ago",
        "yesterday": "Was due {date} · yesterday",
        "paid_by": "Paid {date} {how}",
        "credited_full": "Credited in full: nothing to pay.",
        "overdue_note": "Your invoices from {seller} ({count} overdue)",
        "owed": "You have {amount} to your credit. It is taken off your next invoice.",
        "credit_note": "Credit note",
        "pay": "Pay",
        "pay_all": "Pay all",
        "overdue_1": "overdue invoice",
        "overdue_n": "overdue invoices",
        "oldest": "The oldest was due {days} days ago.",
        "fees": "Reminder fees charged: {amount}.",
        "next_due": "Next due date: {date}",
        "nothing": "Nothing to pay",
        "autopay_card": "Charged to your card on {date}",
        "autopay_autogiro": "Drawn by autogiro on {date}",
        "autopay_paid_card": "Paid by card on {date}",
        "autopay_paid_autogiro": "Paid by autogiro on {date}",
    },
}
PAID_HOW = {
    "sv": {
        "card": "med kort",
        "swish": "med Swish",
        "bankgiro": "via Bankgiro",
        "autogiro": "via autogiro",
        "credit_balance": "med ditt tillgodohavande",
    },
    "en": {
        "card": "by card",
        "swish": "with Swish",
        "bankgiro": "by Bankgiro",
        "autogiro": "by autogiro",
        "credit_balance": "from your credit balance",
    },
}
STATUS = {
    "sv": {
        "unpaid": "Obetald",
        "partly_paid": "Delvis betald",
        "paid": "Betald",
        "overdue": "Förfallen",
        "reminded": "Påminnelse skickad",
        "in_collection": "Inkasso",
        "credited": "Krediterad",
        "credit_note": "Kreditfaktura",
    },
    "en": {
        "unpaid": "Unpaid",
        "partly_paid": "Partly paid",
        "paid": "Paid",
        "overdue": "Overdue",
        "reminded": "Reminder sent",
        "in_collection": "Debt collection",
        "credited": "Credited",
        "credit_note": "Credit note",
    },
}
NEXT_STEP = {
    "sv": {
        "overdue": "Om fakturan är obetald {date} tas dröjsmålsränta ut från förfallodagen.",
        "reminder_1": "Om fakturan är obetald {date} skickas en påminnelse.",
        "reminder_fee": "Om fakturan är obetald {date} skickas en påminnelse med {fee} i avgift.",
        "reminder_2": "Om fakturan är obetald {date} skickas en andra påminnelse (ingen avgift).",
        "collection": "Om fakturan är obetald {date} lämnas den till inkasso.",
    },
    "en": {
        "overdue": "If unpaid on {date}, late interest is charged from the due date.",
        "reminder_1": "If unpaid on {date}, a reminder is sent.",
        "reminder_fee": "If unpaid on {date}, a reminder is sent with a fee of {fee}.",
        "reminder_2": "If unpaid on {date}, a second reminder is sent (no fee).",
        "collection": "If unpaid on {date}, the invoice is handed to a debt collection agency.",
    },
}


# --- formatting, written out here (not the app's own code) -----------------------------------


def _date(iso: str, lang: str) -> str:
    """``2026-12-05`` → ``5 december 2026`` / ``5 December 2026``."""
    d = date.fromisoformat(iso[:10])
    return f"{d.day} {(SV_MONTHS if lang == 'sv' else EN_MONTHS)[d.month - 1]} {d.year}"


def _day_month(iso: str, lang: str) -> str:
    """``2026-12-31`` → ``31 december`` / ``31 December`` (the automatic draw's day)."""
    return _date(iso, lang).rsplit(" ", 1)[0]


def _kr(ore: int, lang: str) -> str:
    return format_money(ore, lang)


def _t(lang: str, key: str, **params: Any) -> str:
    return TEXT[lang][key].format(**params)


def _state_line(st: dict[str, Any], lang: str) -> str:
    """What ``#invoice-due`` must say for the core's state ``st``."""
    if st["status"] == "paid" and st.get("paid"):
        return _t(lang, "paid_by", date=_date(st["paid"]["on"], lang), how=PAID_HOW[lang][st["paid"]["method"]])
    if st["status"] == "credited":
        return _t(lang, "credited_full")
    if st["overdue"]:
        due = _date(st["due_date"], lang)
        return (
            _t(lang, "yesterday", date=due)
            if st["days_overdue"] == 1
            else _t(lang, "was_due", date=due, days=st["days_overdue"])
        )
    if st["open"]:
        return _t(lang, "due", date=_date(st["due_date"], lang))
    raise AssertionError(f"no state line written out here for {st}")


def _next_step(step: dict[str, Any], lang: str) -> str:
    key = "reminder_fee" if step["action"] == "reminder_1" and step["fee_ore"] else step["action"]
    return NEXT_STEP[lang][key].format(date=_date(step["on"], lang), fee=_kr(step["fee_ore"], lang))


# --- the core ---------------------------------------------------------------------------------


def _invoices(core_api, **params: Any) -> list[dict[str, Any]]:
    """Every invoice (and credit note) the core lists, newest first, each with its ``state``."""
    items: list[dict[str, Any]] = []
    while True:
        page = core_api.get("/invoices", params={**params, "limit": 200, "offset": len(items)})
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        if not body["items"] or len(items) >= body["total"]:
            return items


def _doc(core_api, invoice_id: str, lang: str = "sv") -> dict[str, Any]:
    resp = core_api.get(f"/invoices/{invoice_id}", params={"lang": lang})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _customer_id(core_api, customer_number: str) -> int:
    return int(core_api.get("/customers", params={"q": customer_number}).json()["items"][0]["id"])


def _busy_customers(core_api) -> set[str]:
    """Customers other browser tests sign in as (sign-in codes are rate limited per customer), so that
    this file signs in and changes others where it can."""
    from tests.e2e.test_support_flow import _email_customer_with_usage_invoice

    unpaid = core_api.get("/invoices", params={"status": "unpaid", "kind": "invoice", "limit": 50}).json()["items"]
    busy = {"K100001"}  # test_app_serves asks for its code
    busy |= {i["customer_number"] for i in unpaid[:1] + unpaid[-1:]}  # the subscriber and English flows
    invoices = core_api.get("/invoices", params={"kind": "invoice", "limit": 50}).json()["items"]
    revoked = next(
        (i for i in reversed(invoices) if not unpaid or i["customer_number"] != unpaid[0]["customer_number"]), None
    )  # the revoked-link test signs in after its link fails
    if revoked:
        busy.add(revoked["customer_number"])
    try:
        busy.add(_email_customer_with_usage_invoice(core_api)[0]["customer_number"])  # the support flow
    except AssertionError:
        pass
    return busy


def _prefer(candidates: list[dict[str, Any]], avoid: set[str]) -> list[dict[str, Any]]:
    """``candidates`` with those of customers in ``avoid`` last (stable)."""
    return sorted(candidates, key=lambda i: i["customer_number"] in avoid)


# --- the page ---------------------------------------------------------------------------------


def _open_by_link(page, app_url: str, core_api, invoice: dict[str, Any]) -> None:
    """Open ``invoice`` by its own link (a session for this one invoice, no sign-in code)."""
    link = core_api.post(f"/invoices/{invoice['id']}/link")
    assert link.status_code == 200, link.text
    page.goto(app_url + link.json()["path"])
    page.wait_for_url(re.compile(rf".*/invoices/{invoice['id']}$"), timeout=TIMEOUT)
    expect(page.locator("#invoice-number")).to_contain_text(invoice["number"], timeout=TIMEOUT)


def _switch_language(page, lang: str) -> None:
    page.locator("#lang-switch").click()
    page.wait_for_function(f"() => document.documentElement.lang === '{lang}'", timeout=TIMEOUT)
    expect(page.locator("#lang-switch")).to_have_text("Svenska" if lang == "en" else "English", timeout=TIMEOUT)


def _absent(page, *selectors: str) -> None:
    for selector in selectors:
        assert page.locator(selector).count() == 0, f"{selector} is shown: {page.locator(selector).all_inner_texts()}"


# The page's visible text without the elements ``selectors`` match (hidden and shown again in one go, so the
# page cannot change in between and nothing is painted).
TEXT_WITHOUT = """(selectors) => {
  const hidden = [];
  for (const selector of selectors) {
    for (const el of document.querySelectorAll(selector)) { hidden.push([el, el.style.display]); el.style.display = "none"; }
  }
  const text = document.body.innerText;
  for (const [el, display] of hidden) el.style.display = display;
  return text;
}"""


def _done(page, name: str, lang: str, shot, horizontal_overflow, doc: dict[str, Any] | None) -> None:
    """Nothing sideways at 390 px; in English no Swedish (but the customer's name and address and the
    messages people wrote); then the screenshot ``state-<name>-<lang>``."""
    page.wait_for_timeout(300)  # late parts (QR code, timeline) settle before the picture
    assert horizontal_overflow(page) == 0, f"{name} ({lang}) scrolls sideways"
    if lang == "en":
        # Left out: the switch's own label and the messages people wrote (in the thread, quoted on the timeline).
        text = page.evaluate(
            TEXT_WITHOUT,
            [
                "#lang-switch",
                ".thread-text",
                ".timeline-event[data-kind='message']",
                ".timeline-event[data-kind='reply']",
            ],
        )
        allowed = _names(doc)
        found = swedish_in(text, allowed)
        assert not found, f"Swedish on the English {name} page:\n" + "\n".join(found)
    shot(f"state-{name}-{lang}")


def _names(doc: dict[str, Any] | None) -> tuple[str, ...]:
    """What may be Swedish on an English page besides UI text: the customer's name and address."""
    buyer = (doc or {}).get("buyer") or {}
    addr = buyer.get("address") or {}
    name = str(buyer.get("name") or "")
    return (name, *name.split(), str(addr.get("street") or ""), str(addr.get("city") or ""))


def _head(page, doc: dict[str, Any], lang: str) -> None:
    """The invoice's head card against the core's state: status, headline, amount, state line, what is left,
    fees, interest, credit notes, the original amount, next step and credit balance (shown or absent)."""
    st = doc["state"]
    expect(page.locator("#invoice-status")).to_have_text(STATUS[lang][st["status"]], timeout=TIMEOUT)
    # "To pay" heads the amount only while it is what is left to pay; else "Invoice amount" (and what is left
    # follows as "Left to pay").
    headline = "to_pay" if st["open"] and st["to_pay_ore"] == st["amount_ore"] else "amount"
    expect(page.locator("#invoice-headline")).to_have_text(_t(lang, headline))
    expect(page.locator("#invoice-amount")).to_have_text(_kr(st["amount_ore"], lang))
    assert st["amount_ore"] == doc["amount_due_ore"] - st["credited_ore"]
    expect(page.locator("#invoice-due")).to_have_text(_state_line(st, lang))
    if st["open"] and st["to_pay_ore"] != st["amount_ore"]:
        expect(page.locator("#invoice-balance")).to_have_text(f"{_t(lang, 'left')}: {_kr(st['to_pay_ore'], lang)}")
    else:
        _absent(page, "#invoice-balance")
    for key, field in (("fee", "fees_ore"), ("interest", "interest_ore")):
        selector = "#invoice-fees" if key == "fee" else "#invoice-interest"
        if st[field]:
            expect(page.locator(selector)).to_have_text(f"{_t(lang, key)}: {_kr(st[field], lang)}")
        else:
            _absent(page, selector)
    if st["credited_ore"]:
        original = page.locator("#invoice-original-amount")
        expect(original).to_have_text(_kr(doc["amount_due_ore"], lang))
        assert "line-through" in original.evaluate("e => getComputedStyle(e).textDecorationLine")
    else:
        _absent(page, "#invoice-original-amount")
    links = page.locator(".credit-note-link")
    expect(links).to_have_count(len(st["credit_notes"]))
    for link, note in zip(links.all(), st["credit_notes"], strict=True):
        assert link.get_attribute("href") == f"/invoices/{note['id']}"
        text = link.inner_text()
        assert note["number"] in text and _date(note["on"], lang) in text, text
        assert _kr(-note["amount_ore"], lang) in text, text
    if st.get("next_step"):
        expect(page.locator("#invoice-next-step")).to_have_text(_next_step(st["next_step"], lang))
    else:
        _absent(page, "#invoice-next-step")
    if st["owed_to_customer_ore"]:
        expect(page.locator("#invoice-owed")).to_have_text(
            _t(lang, "owed", amount=_kr(st["owed_to_customer_ore"], lang))
        )
    else:
        _absent(page, "#invoice-owed")


def _nothing_to_pay(page, doc: dict[str, Any], lang: str) -> None:
    """A closed invoice asks for nothing: no pay button, no QR code, no payment details."""
    _absent(page, "#pay-button", "#qr-code", "#bankgiro", "#ocr", "#invoice-balance", "#invoice-next-step")
    autopay = doc["state"].get("autopay") or {}
    if autopay.get("status") == "paid":
        expect(page.locator("#invoice-autopay")).to_have_text(
            _t(
                lang,
                f"autopay_paid_{autopay['method']}",
                date=_day_month(autopay["paid_at"] or autopay["draw_date"], lang),
            )
        )
        _absent(page, "#invoice-settled")
    else:
        settled = page.locator("#invoice-settled")
        if doc["state"]["status"] == "paid":
            expect(settled).to_have_text(_t(lang, "settled"))
        else:  # the same callout for a credited invoice
            expect(settled).to_contain_text(_t(lang, "nothing_left"))
        _absent(page, "#invoice-autopay")


def _overdue_note(page, doc: dict[str, Any], lang: str, href: str) -> None:
    """ "Your invoices from Nordvik Telecom (2 overdue)", with the core's count, or nothing."""
    count = doc["customer_overdue"]["count"]
    if count:
        note = page.locator("#customer-overdue")
        expect(note).to_have_text(_t(lang, "overdue_note", seller=doc["seller"]["name"], count=count))
        assert note.get_attribute("href") == href
    else:
        _absent(page, "#customer-overdue")


class HeldSocket:
    """Holds the app's state updates (Reflex's Socket.IO frames) from the server, to look at the page before
    its data arrives: once ``arm(trigger)`` is called, every ``42`` frame from the first one that contains
    ``trigger`` on waits until ``release()``. The handshake and pings pass, so the connection stays up."""

    def __init__(self) -> None:
        self.trigger = ""
        self.holding = False
        self.held: list[tuple[Any, Any]] = []

    def route(self, ws: Any) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda message: server.send(message))

        def from_server(message: Any) -> None:
            text = message if isinstance(message, str) else ""
            if self.trigger and not self.holding and self.trigger in text:
                self.holding = True
            if self.holding and text.startswith("42"):
                self.held.append((ws, message))
                return
            ws.send(message)

        server.on_message(from_server)

    def arm(self, trigger: str) -> None:
        self.trigger, self.holding = trigger, False

    def release(self) -> None:
        self.trigger, self.holding = "", False
        held, self.held = self.held, []
        for ws, message in held:
            ws.send(message)


# Records, from the very first paint, whether the overview says "nothing to pay" before its amount is shown.
PAINT_LOG = """(() => {
  window.__paint = [];
  const look = () => {
    if (!document.body) return;
    const text = document.body.innerText || "";
    window.__paint.push({path: location.pathname, amount: !!document.getElementById("left-to-pay"),
                         nothing: /Inget att betala|Nothing to pay/.test(text),
                         skeleton: !!document.getElementById("page-skeleton") ||
                                   !!document.getElementById("left-to-pay-loading")});
  };
  new MutationObserver(look).observe(document, {childList: true, subtree: true, characterData: true});
  document.addEventListener("DOMContentLoaded", look);
})();"""


@pytest.fixture
def held_socket(page) -> Iterator[HeldSocket]:
    held = HeldSocket()
    page.route_web_socket(re.compile(r"/_event"), held.route)
    yield held
    held.release()


def _paint_before_amount(page) -> list[dict[str, Any]]:
    """The paint log of the overview's last load, up to the first paint with ``#left-to-pay``."""
    log = page.evaluate("window.__paint")
    start = max((i for i, e in enumerate(log) if e["path"] != "/"), default=-1) + 1
    on_overview = log[start:]
    first = next((i for i, e in enumerate(on_overview) if e["amount"]), len(on_overview))
    return on_overview[:first]


def _left_to_pay(items: list[dict[str, Any]]) -> tuple[int, str | None, int]:
    """From the core's list: what is left to pay, the next coming due date, and the credit owed."""
    states = [i["state"] for i in items if i["kind"] == "invoice"]
    open_ = [s for s in states if s["open"]]
    coming = sorted(s["due_date"] for s in open_ if not s["overdue"])
    return (
        sum(s["to_pay_ore"] for s in open_),
        coming[0] if coming else None,
        sum(s["owed_to_customer_ore"] for s in states),
    )


# --- the states -------------------------------------------------------------------------------


def test_paid_invoice_says_when_and_how_and_asks_for_nothing(
    page, app_url, core_api, shot, horizontal_overflow, held_socket
):
    paid = [
        i
        for i in _invoices(core_api, kind="invoice")
        if i["state"]["status"] == "paid" and i["state"]["paid"] and not i["state"]["credit_notes"]
    ]
    assert paid, "the seeded app has no paid invoice"
    by_card = [i for i in paid if i["state"]["paid"]["method"] == "card"]
    if not by_card:  # not in this seeded year: a quiet customer pays an open invoice by card at TestPay
        target = next(
            i
            for i in _prefer(_invoices(core_api, kind="invoice"), _busy_customers(core_api))
            if i["state"]["payable"] and not i["state"]["credit_notes"]
        )
        started = core_api.post(f"/invoices/{target['id']}/pay", json={"return_url": app_url + "/"})
        assert started.status_code == 200, started.text
        core_api.post(started.json()["checkout_path"], data={"method": "card"})
        by_card = [target]
    invoice = by_card[0]
    doc = _doc(core_api, invoice["id"])
    assert doc["state"]["paid"]["method"] == "card", doc["state"]
    assert doc["state"]["to_pay_ore"] == 0 and not doc["state"]["payable"] and doc["balance_ore"] <= 0

    _open_by_link(page, app_url, core_api, invoice)
    for lang in ("sv", "en"):
        if lang == "en":
            _switch_language(page, "en")
        _head(page, doc, lang)
        _nothing_to_pay(page, doc, lang)
        _overdue_note(page, doc, lang, href="/login")
        _done(page, "paid", lang, shot, horizontal_overflow, doc)

    # The same invoice loading again: until its data is there the page says nothing (no pay button, no "paid").
    for lang in ("en", "sv"):
        if lang == "sv":
            _switch_language(page, "sv")
        held_socket.arm(InvoiceState.get_name())
        page.goto(f"{app_url}/invoices/{invoice['id']}", wait_until="domcontentloaded")
        page.locator("#page-skeleton, #invoice-loading").first.wait_for(timeout=TIMEOUT)
        page.wait_for_timeout(500)
        assert held_socket.held, "the invoice's data was not held back"
        _absent(
            page, "#invoice-amount", "#invoice-due", "#pay-button", "#invoice-settled", "#invoice-autopay", "#qr-code"
        )
        body = page.locator("body").inner_text()
        for word in ("Betald", "Betala", "Paid", "Pay", "kr"):
            assert not re.search(rf"(?<!\w){word}(?!\w)", body), f"{word!r} before the data: {body!r}"
        shot(f"state-invoice-loading-{lang}")
        held_socket.release()
        expect(page.locator("#invoice-due")).to_have_text(_state_line(doc["state"], lang), timeout=TIMEOUT)
        _absent(page, "#pay-button", "#qr-code")


@pytest.mark.parametrize("extent", ["part", "full"])
def test_credited_invoice_shows_the_amount_after_its_credit_notes(
    page, app_url, core_api, shot, horizontal_overflow, extent
):
    """Credited in part (paid, then an agent's credit) or in full: the headline is the amount after credit, the
    original struck through, each credit note linked (its link opens that credit note), nothing to pay."""
    credited = [
        i
        for i in _invoices(core_api, kind="invoice")
        if i["state"]["credit_notes"] and not i["state"]["owed_to_customer_ore"]
    ]
    found = [i for i in credited if (i["state"]["status"] == "credited") == (extent == "full")]
    if not found:  # not in this seeded year: an agent credits an open invoice of a quiet customer
        target = next(
            i
            for i in _prefer(_invoices(core_api, kind="invoice"), _busy_customers(core_api))
            if i["state"]["status"] == "unpaid" and not i["state"]["autopay"] and i["state"]["amount_ore"] > 10000
        )
        body = {"reason": f"E2E: credited in {extent}", **({"amount_ore": 5000} if extent == "part" else {})}
        made = core_api.post(f"/invoices/{target['id']}/credit-notes", json=body)
        assert made.status_code == 201, made.text
        found = [target]
    invoice = found[0]
    doc = _doc(core_api, invoice["id"])
    st = doc["state"]
    assert st["credited_ore"] == sum(c["amount_ore"] for c in st["credit_notes"]) > 0
    if extent == "full":
        assert st["status"] == "credited" and st["amount_ore"] == 0

    name = "credited" if extent == "part" else "credited-full"
    _open_by_link(page, app_url, core_api, invoice)
    for lang in ("sv", "en"):
        if lang == "en":
            _switch_language(page, "en")
        _head(page, doc, lang)
        if st["open"]:  # credited in part, the rest not paid yet
            expect(page.locator("#pay-button")).to_be_visible()
        else:
            _nothing_to_pay(page, doc, lang)
        _done(page, name, lang, shot, horizontal_overflow, doc)

    # Each credit note's link leads to that credit note (opened here by its own link: the invoice's link
    # session reaches the invoice only).
    note = st["credit_notes"][0]
    note_doc = _doc(core_api, note["id"])
    assert note_doc["kind"] == "credit_note" and note_doc["number"] == note["number"]
    assert note_doc["amount_due_ore"] == -note["amount_ore"]
    _open_by_link(page, app_url, core_api, note_doc)
    expect(page.locator("#invoice-status")).to_have_text(STATUS["en"]["credit_note"], timeout=TIMEOUT)
    expect(page.locator("#invoice-amount")).to_have_text(_kr(note_doc["amount_due_ore"], "en"))
    _absent(page, "#pay-button", "#qr-code")


def test_overdue_invoice_with_a_reminder_fee(page, app_url, core_api, shot, horizontal_overflow):
    """Days late, the reminder fee and interest, what is left, the next step, the pay button and QR code, and
    the customer's overdue count (the core's) on the invoice's own link page; then in English."""
    overdue = [i for i in _invoices(core_api, kind="invoice") if i["state"]["overdue"] and i["state"]["fees_ore"]]
    assert overdue, "the seeded app has no overdue invoice with a reminder fee"
    invoice = max(overdue, key=lambda i: i["state"]["days_overdue"])
    doc = _doc(core_api, invoice["id"])
    st = doc["state"]
    assert st["payable"] and st["to_pay_ore"] == doc["balance_ore"] > 0 and st["days_overdue"] > 0
    customer_id = doc["customer_id"]
    summary = core_api.get("/invoices", params={"customer_id": customer_id, "limit": 200}).json()["overdue"]
    assert doc["customer_overdue"]["count"] == summary["count"] >= 1

    _open_by_link(page, app_url, core_api, invoice)
    for lang in ("sv", "en"):
        if lang == "en":
            _switch_language(page, "en")
        _head(page, doc, lang)
        assert ("dagar sedan" if lang == "sv" else "days ago") in page.locator("#invoice-due").inner_text()
        expect(page.locator("#pay-button")).to_have_text(_t(lang, "pay"))
        page.locator("#qr-code svg").wait_for(timeout=TIMEOUT)
        expect(page.locator("#qr-amount")).to_have_text(_kr(st["to_pay_ore"], lang))
        expect(page.locator("#ocr")).to_have_text(doc["ocr"])
        _absent(page, "#invoice-settled", "#invoice-autopay", "#invoice-owed")
        _overdue_note(page, doc, lang, href="/login")
        _done(page, "overdue", lang, shot, horizontal_overflow, doc)


def test_respite_granted_moves_the_next_step(page, app_url, core_api, shot, horizontal_overflow):
    """An overdue invoice with a respite: the next step on its (moved) day, the respite on the timeline, and
    the respite the core's next-steps answer reports."""
    invoices = _invoices(core_api, kind="invoice")
    granted = [i for i in invoices if i["state"]["open"] and i["state"]["respite_days"]]
    if not granted:  # not in this seeded year: a quiet customer asks for more time on an open invoice
        busy = _busy_customers(core_api)
        target = next(
            i
            for i in _prefer(invoices, busy)
            if i["state"]["open"] and i["state"]["status"] != "in_collection" and i["state"]["next_step"]
        )
        asked = core_api.post(f"/invoices/{target['id']}/respite", json={"days": 14})
        assert asked.status_code == 200, asked.text
        granted = [target]
    invoice = granted[0]
    docs = {lang: _doc(core_api, invoice["id"], lang) for lang in ("sv", "en")}
    st = docs["sv"]["state"]
    steps = core_api.get(f"/invoices/{invoice['id']}/next-steps").json()
    assert steps["respite"]["granted_days"] == st["respite_days"] > 0 and not steps["respite"]["allowed"]
    assert st["next_step"] and st["next_step"]["on"] in {s["date"] for s in steps["steps"]}

    _open_by_link(page, app_url, core_api, invoice)
    for lang in ("sv", "en"):
        if lang == "en":
            _switch_language(page, "en")
        _head(page, docs[lang], lang)
        respite = [e for e in docs[lang]["timeline"] if e["kind"] == "respite"]
        assert respite, "the core's timeline has no respite"
        days = str(st["respite_days"])
        expect(page.locator("#invoice-respite")).to_contain_text(days)
        shown = page.locator("#timeline .timeline-event[data-kind='respite']")
        expect(shown).to_have_count(len(respite))
        assert (respite[-1].get("texts") or {}).get(lang, respite[-1]["text"]) in shown.last.inner_text()
        expect(page.locator("#pay-button")).to_be_visible()
        _done(page, "respite", lang, shot, horizontal_overflow, docs[lang])


def test_automatic_payment_shows_the_draw_and_no_pay_button(page, app_url, core_api, shot, horizontal_overflow):
    """An open invoice the card or autogiro will pay: the draw and its day instead of a pay button or QR code."""
    scheduled = None
    for item in _invoices(core_api, kind="invoice"):
        if item["state"]["open"] and not item["state"]["overdue"]:
            doc = _doc(core_api, item["id"])
            if (doc["state"].get("autopay") or {}).get("status") == "scheduled":
                scheduled = doc
                break
    assert scheduled, "the seeded app has no open invoice with an automatic draw coming"
    doc = scheduled
    st, autopay = doc["state"], doc["state"]["autopay"]
    assert not st["payable"] and st["to_pay_ore"] > 0 and doc["autopay"] == autopay

    _open_by_link(page, app_url, core_api, doc)
    for lang in ("sv", "en"):
        if lang == "en":
            _switch_language(page, "en")
        _head(page, doc, lang)
        expect(page.locator("#invoice-autopay")).to_have_text(
            _t(lang, f"autopay_{autopay['method']}", date=_day_month(autopay["draw_date"], lang))
        )
        _absent(page, "#pay-button", "#qr-code", "#bankgiro", "#invoice-settled")
        _done(page, "autopay", lang, shot, horizontal_overflow, doc)


def _quiet_customer_with_paid_invoice(core_api, avoid: set[str]) -> dict[str, Any]:
    """A paid invoice (paid by hand, more than 100 kr) of a customer no other browser test signs in as,
    with nothing overdue; the one that already has a credit balance if any."""
    invoices = _invoices(core_api, kind="invoice")
    overdue_customers = {i["customer_number"] for i in invoices if i["state"]["overdue"]}
    owed = [i for i in invoices if i["state"]["owed_to_customer_ore"] and i["customer_number"] not in avoid]
    if owed:
        return owed[0]
    candidates = [
        i
        for i in invoices
        if i["state"]["status"] == "paid"
        and i["state"]["paid"]
        and i["state"]["paid"]["method"] in ("bankgiro", "swish", "card")
        and not i["state"]["autopay"]
        and i["state"]["amount_ore"] > 10000
        and i["customer_number"] not in overdue_customers
    ]
    candidates = _prefer(candidates, avoid)
    assert candidates, "the seeded app has no paid invoice to credit"
    return candidates[0]


def test_credit_balance_on_the_invoice_and_the_overview(
    page, app_url, core_api, otp_code, shot, horizontal_overflow, held_socket
):
    """An agent credits 50 kr on a paid invoice: the customer is owed it. Signed in, the overview says so; the
    invoice shows the amount after credit, the credit balance and the credit note, whose link opens it.

    Loading: the overview's data is held back right after sign-in (and again after going back to it by the
    menu, in English) and the page, looked at then and recorded from its first paint on, says nothing about
    money: no "nothing to pay", no amounts. (What shows is the page's own blank #page-skeleton: Reflex marks a
    page hydrated only after its on_load handlers have run, so #left-to-pay-loading is not seen in practice.)
    """
    busy = _busy_customers(core_api)
    invoice = _quiet_customer_with_paid_invoice(core_api, busy)
    if not invoice["state"]["owed_to_customer_ore"]:
        made = core_api.post(
            f"/invoices/{invoice['id']}/credit-notes",
            json={"reason": "E2E: goodwill credit on a paid invoice", "amount_ore": 5000},
        )
        assert made.status_code == 201, made.text
    doc = _doc(core_api, invoice["id"])
    st = doc["state"]
    assert st["owed_to_customer_ore"] == -doc["balance_ore"] > 0 and not st["open"]
    assert st["amount_ore"] == doc["amount_due_ore"] - st["credited_ore"]
    number = invoice["customer_number"]
    customer_id = doc["customer_id"]
    listing = _invoices(core_api, customer_id=customer_id)
    left, next_due, owed = _left_to_pay(listing)
    assert owed >= st["owed_to_customer_ore"]

    # Sign in; the overview's data is held back at first: nothing is said about money before it is known.
    page.add_init_script(PAINT_LOG)
    page.goto(app_url + "/login")
    page.locator("#login-identifier").fill(number)
    page.locator("#login-send").click()
    page.locator("#login-code").wait_for(timeout=TIMEOUT)
    page.locator("#login-code").fill(otp_code(number))
    held_socket.arm(OverviewState.get_name())
    page.locator("#login-submit").click()
    page.wait_for_url(re.compile(r".*/$"), timeout=TIMEOUT)
    page.locator("#page-skeleton, #left-to-pay-loading").first.wait_for(timeout=TIMEOUT)
    page.wait_for_timeout(500)
    assert held_socket.held, "the overview's data was not held back"
    _absent(page, "#left-to-pay", "#nothing-to-pay", "#credit-owed", "#overdue-card", "#next-due")
    assert _t("sv", "nothing") not in page.locator("body").inner_text()
    shot("state-loading-sv")
    held_socket.release()

    overview = {"left": page.locator("#left-to-pay"), "owed": page.locator("#credit-owed")}
    for lang in ("sv", "en"):
        if lang == "en":
            _switch_language(page, "en")
        expect(overview["left"]).to_have_text(_kr(left, lang), timeout=TIMEOUT)
        expect(overview["owed"]).to_have_text(_t(lang, "owed", amount=_kr(owed, lang)))
        if next_due:
            expect(page.locator("#next-due")).to_have_text(_t(lang, "next_due", date=_date(next_due, lang)))
            _absent(page, "#nothing-to-pay")
        _absent(page, "#overdue-card")
        _done(page, "overview-owed", lang, shot, horizontal_overflow, doc)
    paint = _paint_before_amount(page)
    assert paint and any(e["skeleton"] for e in paint), paint
    assert not any(e["nothing"] for e in paint), f"'nothing to pay' before the amount was known: {paint}"

    # English, loading again (by the menu, as a subscriber goes back to the overview).
    page.get_by_role("link", name="Invoices").first.click()
    page.locator(".invoice-row").first.wait_for(timeout=TIMEOUT)
    held_socket.arm(OverviewState.get_name())
    page.get_by_role("link", name="Overview").first.click()
    page.wait_for_url(re.compile(r".*/$"), timeout=TIMEOUT)
    page.locator("#page-skeleton, #left-to-pay-loading").first.wait_for(timeout=TIMEOUT)
    page.wait_for_timeout(500)
    assert held_socket.held, "the overview's data was not held back"
    _absent(page, "#nothing-to-pay")
    assert _t("en", "nothing") not in page.locator("body").inner_text()
    shot("state-loading-en")
    held_socket.release()
    expect(overview["left"]).to_have_text(_kr(left, "en"), timeout=TIMEOUT)
    paint = _paint_before_amount(page)
    assert not any(e["nothing"] for e in paint), f"'nothing to pay' before the amount was known: {paint}"

    # The credited invoice, signed in: the amount after credit, what is owed, and the credit note's link.
    _switch_language(page, "sv")
    page.goto(f"{app_url}/invoices/{invoice['id']}")
    expect(page.locator("#invoice-number")).to_contain_text(invoice["number"], timeout=TIMEOUT)
    for lang in ("sv", "en"):
        if lang == "en":
            _switch_language(page, "en")
        _head(page, doc, lang)
        _nothing_to_pay(page, doc, lang)
        _done(page, "owed", lang, shot, horizontal_overflow, doc)
    note = st["credit_notes"][-1]
    page.locator(f".credit-note-link[href='/invoices/{note['id']}']").click()
    page.wait_for_url(re.compile(rf".*/invoices/{note['id']}$"), timeout=TIMEOUT)
    note_doc = _doc(core_api, note["id"])
    for lang in ("en", "sv"):
        if lang == "sv":
            _switch_language(page, "sv")
        expect(page.locator("#invoice-number")).to_contain_text(note["number"], timeout=TIMEOUT)
        expect(page.locator("#invoice-status")).to_have_text(STATUS[lang]["credit_note"])
        expect(page.locator("#invoice-amount")).to_have_text(_kr(note_doc["amount_due_ore"], lang))
        _absent(page, "#pay-button", "#qr-code", "#invoice-owed")
        _done(page, "credit-note", lang, shot, horizontal_overflow, note_doc)


def test_overview_leads_with_the_overdue_invoices(page, app_url, core_api, otp_code, shot, horizontal_overflow):
    """The customer with the most overdue: the overdue card comes before "Left to pay", its count, total,
    oldest, fees and next step are the core's; the invoice page's note counts the same and leads to the list."""
    invoices = _invoices(core_api, kind="invoice")
    late = {}
    for item in invoices:
        if item["state"]["overdue"]:
            late.setdefault(item["customer_number"], []).append(item)
    assert late, "the seeded app has no overdue invoice"
    busy = _busy_customers(core_api)
    number = max(late, key=lambda n: (len(late[n]), sum(i["state"]["fees_ore"] for i in late[n]), n not in busy))
    customer_id = _customer_id(core_api, number)
    listing = core_api.get("/invoices", params={"customer_id": customer_id, "limit": 50}).json()
    summary = listing["overdue"]
    mine = [i for i in listing["items"] if i["state"]["overdue"]]
    assert summary["count"] == len(mine) >= 1
    assert summary["total_ore"] == sum(i["state"]["to_pay_ore"] for i in mine)
    assert summary["oldest_days"] == max(i["state"]["days_overdue"] for i in mine)
    assert summary["fees_ore"] == sum(i["state"]["fees_ore"] for i in mine)
    left, next_due, _owed = _left_to_pay(listing["items"])
    oldest = min(mine, key=lambda i: i["state"]["due_date"])
    oldest_doc = _doc(core_api, oldest["id"])

    _sign_in(page, app_url, otp_code, number)
    card = page.locator("#overdue-card")
    for lang in ("sv", "en"):
        if lang == "en":
            _switch_language(page, "en")
        expect(page.locator("#left-to-pay")).to_have_text(_kr(left, lang), timeout=TIMEOUT)
        card.wait_for(timeout=TIMEOUT)
        first = page.evaluate(
            "() => !!(document.querySelector('#overdue-card').compareDocumentPosition("
            "document.querySelector('#left-to-pay')) & Node.DOCUMENT_POSITION_FOLLOWING)"
        )
        assert first, "the overdue card is not before Left to pay"
        heading = _t(lang, "overdue_1" if summary["count"] == 1 else "overdue_n")
        expect(card.get_by_role("heading")).to_have_text(f"{summary['count']} {heading}")
        expect(page.locator("#overdue-total")).to_have_text(_kr(summary["total_ore"], lang))
        expect(page.locator("#overdue-oldest")).to_have_text(_t(lang, "oldest", days=summary["oldest_days"]))
        if summary["fees_ore"]:
            expect(page.locator("#overdue-fees")).to_have_text(_t(lang, "fees", amount=_kr(summary["fees_ore"], lang)))
        else:
            _absent(page, "#overdue-fees")
        if oldest["state"]["next_step"]:
            expect(page.locator("#overdue-next")).to_have_text(_next_step(oldest["state"]["next_step"], lang))
        else:
            _absent(page, "#overdue-next")
        expect(page.locator("#pay-all")).to_have_text(_t(lang, "pay_all"))
        if next_due:
            expect(page.locator("#next-due")).to_have_text(_t(lang, "next_due", date=_date(next_due, lang)))
        else:
            _absent(page, "#next-due")
        _absent(page, "#nothing-to-pay", "#left-to-pay-loading")
        _done(page, "overview-overdue", lang, shot, horizontal_overflow, oldest_doc)

    # The oldest overdue invoice, signed in: the same count, and the note leads to all invoices.
    doc = oldest_doc
    page.goto(f"{app_url}/invoices/{oldest['id']}")
    expect(page.locator("#invoice-number")).to_contain_text(oldest["number"], timeout=TIMEOUT)
    _head(page, doc, "en")
    _overdue_note(page, doc, "en", href="/invoices")
    assert doc["customer_overdue"]["count"] == summary["count"]
    page.locator("#customer-overdue").click()
    page.wait_for_url(re.compile(r".*/invoices$"), timeout=TIMEOUT)
    rows = page.locator(".invoice-row")
    rows.first.wait_for(timeout=TIMEOUT)
    shown = 0
    for item in mine:
        row = rows.filter(has_text=item["number"])
        if row.count():  # on the list's first page
            expect(row.locator(".invoice-state")).to_have_text(_state_line(item["state"], "en"))
            shown += 1
    assert shown, "none of the overdue invoices is on the list's first page"
