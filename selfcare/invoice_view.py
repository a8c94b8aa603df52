"""The invoice page's view of one invoice: the core's invoice → the strings its header, totals and
parties show, in the chosen language. Pure, like :mod:`selfcare.presenters` (whose invoice state it
reads), written in one part per block of the page."""

from __future__ import annotations

from typing import Any

from selfcare.i18n import format_date, format_money, format_period, gettext
from selfcare.presenters import next_step_line, state_line, state_of, status_label, status_tone


def _int(value: Any) -> int:
    return value if type(value) is int else 0


def invoice_view(doc: dict[str, Any], lang: str) -> dict[str, Any]:
    """The invoice page's header, totals and sender, as display strings."""
    st = state_of(doc)
    seller = doc.get("seller") or {}
    return {
        **_status(doc, st, lang),
        **_headline(doc, st, lang),
        **_state_texts(doc, st, lang),
        **_overdue(doc, seller, lang),
        **_payment(doc, seller, lang),
        **_parties(doc, seller, lang),
        **_totals(doc, lang),
        "late_note": str(seller.get("late_interest_note", "")),
        "disputes": str(seller.get("disputes", "")),
    }


def _status(doc: dict[str, Any], st: dict[str, Any], lang: str) -> dict[str, Any]:
    """Which document it is and its state (the badge)."""
    status = str(st.get("status") or doc.get("status", ""))
    return {
        "id": str(doc.get("id", "")),
        "number": str(doc.get("number", "")),
        "kind": str(doc.get("kind", "invoice")),
        "status": status_label(status, lang),
        "tone": status_tone(status),
        "payable": bool(st.get("payable")),
        "open": bool(st.get("open")),
        "overdue": bool(st.get("overdue")),
    }


def _headline(doc: dict[str, Any], st: dict[str, Any], lang: str) -> dict[str, Any]:
    """The headline: what is left to pay while the invoice is open; otherwise its amount after credits."""
    amount = _int(st.get("amount_ore", doc.get("amount_due_ore")))
    to_pay = _int(st.get("to_pay_ore"))
    balance = _int(doc.get("balance_ore"))
    return {
        "headline_label": gettext(lang, "To pay incl. VAT")
        if st.get("open") and to_pay == amount
        else gettext(lang, "Invoice amount incl. VAT"),
        "amount": format_money(amount, lang),
        "original_amount": format_money(_int(doc.get("amount_due_ore")), lang)
        if amount != _int(doc.get("amount_due_ore")) and doc.get("kind") == "invoice"
        else "",
        "balance": format_money(to_pay if st.get("open") else max(0, balance), lang),
        "show_balance": bool(st.get("open")) and to_pay != amount,
    }


def _state_texts(doc: dict[str, Any], st: dict[str, Any], lang: str) -> dict[str, Any]:
    """The state in words: the line under the headline, the next step, fees, respite, credits."""
    owed = _int(st.get("owed_to_customer_ore"))
    return {
        "state_line": state_line(st, lang),
        "next_step": next_step_line(st, lang),
        "fees": format_money(_int(st.get("fees_ore")), lang) if _int(st.get("fees_ore")) else "",
        "interest": format_money(_int(st.get("interest_ore")), lang) if _int(st.get("interest_ore")) else "",
        "respite": gettext(lang, "You were granted a respite of {days} days.", days=_int(st.get("respite_days")))
        if st.get("open") and _int(st.get("respite_days"))
        else "",
        "is_credit_note": doc.get("kind") == "credit_note",
        "owed": gettext(
            lang,
            "You have {amount} to your credit. It is taken off your next invoice.",
            amount=format_money(owed, lang),
        )
        if owed > 0
        else "",
        "credit_notes": [
            {
                "id": str(c.get("id", "")),
                "number": str(c.get("number", "")),
                "amount": format_money(-_int(c.get("amount_ore")), lang),
                "date": format_date(str(c["on"]), lang) if c.get("on") else "",
            }
            for c in st.get("credit_notes") or []
            if isinstance(c, dict)
        ],
    }


def _overdue(doc: dict[str, Any], seller: dict[str, Any], lang: str) -> dict[str, Any]:
    """The customer's other overdue invoices (a note above the invoice)."""
    given = doc.get("customer_overdue")
    overdue: dict[str, Any] = given if isinstance(given, dict) else {}
    return {
        "overdue_count": _int(overdue.get("count")),
        "overdue_note": gettext(
            lang,
            "Your invoices from {seller} ({count} overdue)",
            seller=str(seller.get("name", "")),
            count=_int(overdue.get("count")),
        )
        if _int(overdue.get("count"))
        else "",
    }


def _payment(doc: dict[str, Any], seller: dict[str, Any], lang: str) -> dict[str, Any]:
    """Paid and credited so far, the dates and period, and where to pay (OCR reference, bankgiro)."""
    period = doc.get("period") or {}
    return {
        "paid": format_money(_int(doc.get("paid_ore")), lang),
        "credited": format_money(_int(doc.get("credited_ore")), lang),
        "due": format_date(doc["due_date"], lang) if doc.get("due_date") else "",
        "invoice_date": format_date(doc["invoice_date"], lang) if doc.get("invoice_date") else "",
        "period": format_period(period["label"], lang) if period.get("label") else "",
        "period_key": str(period.get("label", "")),
        "ocr": str(doc.get("ocr", "")),
        "bankgiro": str(seller.get("bankgiro", "")),
    }


def _parties(doc: dict[str, Any], seller: dict[str, Any], lang: str) -> dict[str, Any]:
    """The sender (name, address, registration, support) and the customer (name, address, number)."""
    buyer = doc.get("buyer") or {}
    addr = buyer.get("address") or {}
    return {
        "seller_name": str(seller.get("name", "")),
        "seller_lines": [str(x) for x in seller.get("address") or []]
        + [
            gettext(lang, "Org. no. {number}", number=seller.get("org_number", "")),
            gettext(lang, "VAT no. {number}", number=seller.get("vat_number", "")),
        ]
        + ([gettext(lang, "Approved for F-tax")] if seller.get("f_tax_approved") else []),
        "support_phone": str(seller.get("support_phone", "")),
        "support_email": str(seller.get("support_email", "")),
        "buyer_name": str(buyer.get("name", "")),
        "buyer_lines": [
            x
            for x in (str(addr.get("street", "")), f"{addr.get('postal_code', '')} {addr.get('city', '')}".strip())
            if x
        ],
        "customer_number": str(buyer.get("customer_number", doc.get("customer_number", ""))),
    }


def _totals(doc: dict[str, Any], lang: str) -> dict[str, str]:
    """The totals box: net, VAT, gross, öresavrundning and the amount to pay."""
    return {
        "net": format_money(_int(doc.get("net_ore")), lang),
        "vat": format_money(_int(doc.get("vat_ore")), lang),
        "gross": format_money(_int(doc.get("gross_ore")), lang),
        "rounding": format_money(_int(doc.get("rounding_ore")), lang),
        "to_pay": format_money(_int(doc.get("amount_due_ore")), lang),
    }
