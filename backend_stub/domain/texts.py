"""Timeline texts in Swedish and English, rendered from an event's kind and parameters: a leaf module.

Events are stored with ``kind`` and ``data`` (plus the Swedish text as written at the time);
``render`` gives the text in the reader's language. Kinds it does not know keep their stored text.
Money and dates are formatted with babel and dates are written out ("1 december 2026", ``day``),
never ISO. Every area's event kinds are here (usage, offers, pending changes, automatic payment …),
so a service writing an event and the timeline reading it import only this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from babel.dates import format_date

from selfcare_common.money_format import format_kr

LANGS = ("sv", "en")
BABEL_LOCALE = {"sv": "sv_SE", "en": "en_GB"}


def day(d: date | datetime | str, lang: str = "sv") -> str:
    """``2026-04-14`` → ``"14 april 2026"`` / ``"14 April 2026"`` (babel's long date)."""
    if isinstance(d, str):
        d = date.fromisoformat(d[:10])
    elif isinstance(d, datetime):
        d = d.date()
    return _long_date(d, "en" if lang == "en" else "sv")


@lru_cache(maxsize=4096)
def _long_date(d: date, lang: str) -> str:
    return format_date(d, format="long", locale=BABEL_LOCALE[lang])  # the same few days, over and over


CHANNEL = {
    "sv": {"email": "e-post", "sms": "sms", "letter": "brev"},
    "en": {"email": "e-mail", "sms": "text message", "letter": "letter"},
}

Renderer = Callable[[Mapping[str, Any], str], str | None]


def _created(d: Mapping[str, Any], lang: str) -> str | None:
    if d.get("credits_invoice"):  # a credit note's own timeline
        if lang == "en":
            return f"Credit note for invoice {d['credits_invoice']} created: {format_kr(d['credited_ore'], lang)}. {d['reason']}"
        return (
            f"Kreditfaktura till faktura {d['credits_invoice']} skapad: {format_kr(d['credited_ore'])}. {d['reason']}"
        )
    if "amount_due_ore" not in d or "due_date" not in d:
        return None
    if lang == "en":
        return f"Invoice created: {format_kr(d['amount_due_ore'], lang)} to pay by {day(d['due_date'], lang)}."
    return f"Fakturan skapades: {format_kr(d['amount_due_ore'])} att betala senast {day(d['due_date'])}."


def _sent(d: Mapping[str, Any], lang: str) -> str:
    ch = CHANNEL[lang].get(d.get("channel", ""), d.get("channel", ""))
    to = d.get("to", "")
    if lang == "en":
        base = "Not opened in time, so sent as a letter" if d.get("fallback") else f"Sent by {ch}"
        return f"{base}{' to ' + to if to else ''}."
    base = "Inte öppnad i tid, skickad som brev" if d.get("fallback") else f"Skickad med {ch}"
    return f"{base}{' till ' + to if to else ''}."


PAYMENT_METHOD = {
    "sv": {
        "bankgiro": "bankgiro",
        "card": "kort",
        "swish": "Swish",
        "autogiro": "autogiro",
        "agent": "kundtjänst",
        "credit_balance": "tillgodohavande",
        "refund": "återbetalning",
    },
    "en": {
        "bankgiro": "bank giro",
        "card": "card",
        "swish": "Swish",
        "autogiro": "direct debit (autogiro)",
        "agent": "customer service",
        "credit_balance": "credit balance",
        "refund": "refund",
    },
}


def _payment(d: Mapping[str, Any], lang: str) -> str:
    left = max(0, int(d.get("remaining_ore", 0)))
    method = d.get("method") or ""
    how = PAYMENT_METHOD[lang].get(method, method)
    if lang == "en":
        return f"Payment received{' by ' + how if how else ''}: {format_kr(d['amount_ore'], lang)}. Left to pay: {format_kr(left, lang)}."
    return f"Betalning mottagen{' via ' + how if how else ''}: {format_kr(d['amount_ore'])}. Kvar att betala: {format_kr(left)}."


def _corrected(d: Mapping[str, Any], lang: str) -> str:
    note = d.get("credit_note")
    if lang == "en":
        head = (
            f"Credit note {note} of {format_kr(d['credited_ore'], lang)}: the"
            if note and "credited_ore" in d
            else "The"
        )
        return f"{head} invoice was changed. The new amount is {format_kr(d['new_amount_ore'], lang)}."
    head = f"Kreditfaktura {note} på {format_kr(d['credited_ore'])}: f" if note and "credited_ore" in d else "F"
    return f"{head}akturan ändrades. Nytt belopp är {format_kr(d['new_amount_ore'])}."


def _reminder(d: Mapping[str, Any], lang: str) -> str:
    level = int(d.get("level", 1))
    fee = int(d.get("fee_ore", 0))
    if lang == "en":
        text = f"Reminder {level} sent"
        return text + (f" with a reminder fee of {format_kr(fee, lang)}." if fee else " (no fee).")
    text = f"Påminnelse {level} skickad"
    return text + (f" med påminnelseavgift {format_kr(fee)}." if fee else " (ingen avgift).")


def _overdue(d: Mapping[str, Any], lang: str) -> str:
    if lang == "en":
        return f"The due date ({day(d['due_date'], lang)}) passed without full payment."
    return f"Förfallodagen ({day(d['due_date'])}) passerade utan full betalning."


def _interest(d: Mapping[str, Any], lang: str) -> str:
    if lang == "en":
        return f"Late interest {format_kr(d['amount_ore'], lang)} ({d['rate']} % a year) up to {day(d['to'], lang)}."
    return f"Dröjsmålsränta {format_kr(d['amount_ore'])} ({d['rate'].replace('.', ',')} % per år) till och med {day(d['to'])}."


def _collection(d: Mapping[str, Any], lang: str) -> str:
    when = f" {day(d['date'], lang)}" if d.get("date") else ""
    if lang == "en":
        return f"Handed to the collection agency{when} ({format_kr(d['balance_ore'], lang)} unpaid)."
    return f"Lämnad till inkasso{when} ({format_kr(d['balance_ore'])} obetalt)."


def _respite(d: Mapping[str, Any], lang: str) -> str:
    if lang == "en":
        return f"Respite granted: {d['days']} more days. Reminders move accordingly (next step {day(d['next_date'], lang)})."
    return f"Anstånd beviljat: {d['days']} dagar till. Påminnelserna flyttas (nästa steg {day(d['next_date'])})."


def _allocated(d: Mapping[str, Any], lang: str) -> str:
    if lang == "en":
        return (
            f"Payment {format_kr(d['amount_ore'], lang)} (ref. {d['reference']}) allocated to this invoice by an agent."
        )
    return f"Betalning {format_kr(d['amount_ore'])} (ref. {d['reference']}) fördelad till fakturan av handläggare."


def _overpaid(d: Mapping[str, Any], lang: str) -> str:
    if d.get("refund"):
        if lang == "en":
            return (
                f"The payment was {format_kr(d['amount_ore'], lang)} more than was left to pay; it is paid back to you."
            )
        return f"Betalningen var {format_kr(d['amount_ore'])} mer än det som var kvar att betala; det betalas tillbaka till dig."
    if lang == "en":
        return (
            f"The payment was {format_kr(d['amount_ore'], lang)} more than was left to pay; "
            "it is your credit balance, taken off your next invoice."
        )
    return (
        f"Betalningen var {format_kr(d['amount_ore'])} mer än det som var kvar att betala; "
        "det är ditt tillgodohavande och dras av på nästa faktura."
    )


def _refund(d: Mapping[str, Any], lang: str) -> str:
    if lang == "en":
        return f"Credit balance refunded: {format_kr(d['amount_ore'], lang)}."
    return f"Tillgodohavande återbetalt: {format_kr(d['amount_ore'])}."


def _credit_applied(d: Mapping[str, Any], lang: str) -> str:
    if lang == "en":
        return f"Credit from invoice {d['from_invoice']} applied: {format_kr(d['amount_ore'], lang)}."
    return f"Tillgodohavande från faktura {d['from_invoice']} avräknat: {format_kr(d['amount_ore'])}."


def _opened(d: Mapping[str, Any], lang: str) -> str:
    if d.get("via") == "link":  # only the first open of the invoice's own link is recorded
        return "The invoice was opened from its link." if lang == "en" else "Fakturan öppnades från sin länk."
    return "The invoice was opened." if lang == "en" else "Fakturan öppnades."


def _payment_failed(d: Mapping[str, Any], lang: str) -> str:
    if lang == "en":
        return "The payment did not go through. The invoice is still unpaid."
    return "Betalningen genomfördes inte. Fakturan är fortfarande obetald."


def _message(d: Mapping[str, Any], lang: str) -> str:
    line = d.get("line_position")
    who = d.get("author_name")
    if lang == "en":
        return (
            f"Question to customer service{' from ' + who if who else ''}{f' (line {line})' if line else ''}: "
            f"{d['excerpt']}"
        )
    return f"Fråga till kundtjänst{' från ' + who if who else ''}{f' (rad {line})' if line else ''}: {d['excerpt']}"


def _reply(d: Mapping[str, Any], lang: str) -> str:
    who = f" ({d['author_name']})" if d.get("author_name") else ""
    return (
        f"Answer from customer service{who}: {d['excerpt']}"
        if lang == "en"
        else f"Svar från kundtjänst{who}: {d['excerpt']}"
    )


def _fee_waived(d: Mapping[str, Any], lang: str) -> str:
    if lang == "en":
        return f"The reminder fee of {format_kr(d['amount_ore'], lang)} was waived ({d['reason']})."
    return f"Påminnelseavgiften på {format_kr(d['amount_ore'])} togs bort. ({d['reason']})"


def _en(d: Mapping[str, Any], key: str) -> Any:
    """A catalogue name in English (``<key>_en``, stored beside the Swedish one), else the Swedish name."""
    return d.get(f"{key}_en") or d[key]


def _charge_added(d: Mapping[str, Any], lang: str) -> str:
    amount = int(d["amount_ore"])
    if lang == "en":
        return f"{'One-off charge' if amount >= 0 else 'Credit'}: {d['description']}, {format_kr(amount, lang)}."
    return f"{'Engångsavgift' if amount >= 0 else 'Kreditering'}: {d['description']}, {format_kr(amount)}."


def _addon_purchased(d: Mapping[str, Any], lang: str) -> str:
    if lang == "en":
        return f"Add-on bought {day(d['bought_on'], lang)}: {_en(d, 'name')}, {format_kr(d['amount_ore'], lang)}."
    return f"Tillägg köpt {day(d['bought_on'])}: {d['name']}, {format_kr(d['amount_ore'])}."


def _instalment_payoff(d: Mapping[str, Any], lang: str) -> str:
    if lang == "en":
        return (
            f"{_en(d, 'device_name')} paid off early: the remaining {format_kr(d['amount_ore'], lang)} is on this "
            "invoice."
        )
    return (
        f"{d['device_name']} slutbetalas i förtid: återstående {format_kr(d['amount_ore'])} finns på den här fakturan."
    )


RENDERERS: dict[str, Renderer] = {
    "created": _created,
    "sent": _sent,
    "payment_received": _payment,
    "corrected": _corrected,
    "reminder_sent": _reminder,
    "overdue": _overdue,
    "interest": _interest,
    "collection": _collection,
    "respite": _respite,
    "payment_allocated": _allocated,
    "refund": _refund,
    "overpaid": _overpaid,
    "credit_applied": _credit_applied,
    "opened": _opened,
    "payment_failed": _payment_failed,
    "message": _message,
    "reply": _reply,
    "fee_waived": _fee_waived,
    "charge_added": _charge_added,
    "addon_purchased": _addon_purchased,
    "instalment_payoff": _instalment_payoff,
}


def _offer_accepted(d: Mapping[str, Any], lang: str) -> str:
    terms = d.get("terms_en" if lang == "en" else "terms_sv") or ""
    when = day(d["effective_date"], lang)
    if lang == "en":
        change = (
            f"{d['msisdn']} changes from {_en(d, 'old_plan')} to {_en(d, 'new_plan')} on {when}"
            if d.get("old_plan")
            else f"{_en(d, 'new_plan')} added to {d['msisdn']} from {when}"
        )
        return f"Offer accepted: {change}.{' ' + terms + '.' if terms else ''}"
    change = (
        f"{d['msisdn']} byter från {d['old_plan']} till {d['new_plan']} den {when}"
        if d.get("old_plan")
        else f"{d['new_plan']} läggs till på {d['msisdn']} från {when}"
    )
    return f"Erbjudande antaget: {change}.{' ' + terms + '.' if terms else ''}"


def _late_usage(d: Mapping[str, Any], lang: str) -> str:
    month = format_date(date.fromisoformat(f"{d['period']}-01"), "LLLL yyyy", locale=BABEL_LOCALE[lang])
    n = int(d["count"])
    if lang == "en":
        return (
            f"{n} usage record{'s' if n != 1 else ''} for {month} arrived after this invoice was issued; "
            f"{'they are' if n != 1 else 'it is'} billed on the next invoice."
        )
    return (
        f"{n} {'användningsposter' if n != 1 else 'användningspost'} för {month} kom in efter att fakturan "
        f"skapades; {'de' if n != 1 else 'den'} debiteras på nästa faktura."
    )


RENDERERS["late_usage"] = _late_usage  # usage import (services/billing/usage.py)


def _roaming_continued(d: Mapping[str, Any], lang: str) -> str:
    when = day(str(d["chosen_at"]), lang)
    if lang == "en":
        return f"On {when} you chose to go on using data outside the EU/EEA on {d['msisdn']} past the spending limit."
    return f"Den {when} valde du att fortsätta surfa utanför EU/EES på {d['msisdn']} efter kostnadsgränsen."


RENDERERS["roaming_continued"] = _roaming_continued  # the bill run, from the usage alerts' choice (docs/alerts.md)
RENDERERS["offer_accepted"] = _offer_accepted  # offers (services/offers/accepting.py)


def _plan_change_cancelled(d: Mapping[str, Any], lang: str) -> str:
    when = day(d["effective_date"], lang)
    if lang == "en":
        return f"Plan change cancelled: {d['msisdn']} keeps {d['plan']} (was to change to {d['cancelled_plan']} on {when})."
    return f"Planbyte ångrat: {d['msisdn']} behåller {d['plan']} (skulle byta till {d['cancelled_plan']} den {when})."


RENDERERS["plan_change_cancelled"] = _plan_change_cancelled  # pending changes (services/charges/pending.py)


def _autopay_ordered(d: Mapping[str, Any], lang: str) -> str:
    if lang == "en":
        return f"{format_kr(d['amount_ore'], 'en')} will be drawn by {d.get('method', 'autogiro')} on {day(d['date'], 'en')}."
    return f"{format_kr(d['amount_ore'])} dras via {d.get('method', 'autogiro')} {day(d['date'])}."


def _autopay_failed(d: Mapping[str, Any], lang: str) -> str:
    autogiro = d.get("method", "autogiro") == "autogiro"
    if lang == "en":
        what = "The autogiro draw" if autogiro else "The card payment"
        text = f"{what} on {day(d['date'], 'en')} did not go through ({d['reason_en']})."
        return text + (f" We try again on {day(d['retry_date'], 'en')}." if d.get("retry_date") else "")
    what = "Autogirodragningen" if autogiro else "Kortbetalningen"
    text = f"{what} {day(d['date'])} gick inte igenom ({d['reason_sv']})."
    return text + (f" Vi försöker igen {day(d['retry_date'])}." if d.get("retry_date") else "")


def _autopay_fallback(d: Mapping[str, Any], lang: str) -> str:
    if lang == "en":
        return (
            f"Automatic payment did not work. Please pay {format_kr(d['balance_ore'], 'en')} yourself by "
            f"{day(d['pay_by'], 'en')}."
        )
    return (
        f"Den automatiska betalningen fungerade inte. Betala {format_kr(d['balance_ore'])} själv senast "
        f"{day(d['pay_by'])}."
    )


# automatic payment (services/autopay)
RENDERERS["autopay_ordered"] = _autopay_ordered
RENDERERS["autopay_failed"] = _autopay_failed
RENDERERS["autopay_fallback"] = _autopay_fallback


def render(
    kind: str, data: Mapping[str, Any] | None, lang: str, stored_text: str, context: Mapping[str, Any] | None = None
) -> str:
    """The event's text in ``lang`` ("sv" or "en"); the stored text when the kind or its data is unknown."""
    if lang not in LANGS:
        lang = "sv"
    fn = RENDERERS.get(kind)
    if fn is None:
        return stored_text
    params = dict(context or {})
    params.update(data or {})
    try:
        text = fn(params, lang)
    except (KeyError, ValueError, TypeError, AttributeError):
        return stored_text
    return stored_text if text is None else text
