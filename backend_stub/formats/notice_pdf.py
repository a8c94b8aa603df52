"""Render a reminder letter or a collection notice of an invoice as an A4 PDF.

Like :mod:`backend_stub.formats.invoice_pdf`, a pure function of a plain dict (no database,
no clock): the same notice always gives the same bytes. A notice names the seller and the
buyer, the invoice (number, OCR reference, invoice and due dates), what is open on the day of
the notice (the invoice amount, the reminder fee, late interest) and what to do about it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from backend_stub.formats.invoice_pdf.text import Formatter, as_date, sanitize_text

__all__ = ["NOTICE_KINDS", "NOTICE_LABELS", "render_notice_pdf"]

NOTICE_KINDS = ("reminder", "collection_notice")

NOTICE_LABELS: dict[str, dict[str, str]] = {
    "sv": {
        "reminder": "Påminnelse {level}",
        "collection_notice": "Meddelande om inkasso",
        "notice_date": "Datum",
        "number": "Fakturanummer",
        "ocr": "OCR-nummer",
        "customer_number": "Kundnummer",
        "invoice_date": "Fakturadatum",
        "due_date": "Förfallodatum",
        "bankgiro": "Bankgiro",
        "amounts": "Det här är obetalt",
        "invoice_amount": "Fakturans belopp",
        "credited": "Krediterat",
        "paid": "Betalt",
        "principal_open": "Kvar av fakturan",
        "fee": "Påminnelseavgift",
        "interest": "Dröjsmålsränta",
        "interest_rate": "Dröjsmålsränta ({rate} % per år)",
        "to_pay": "Att betala",
        "unpaid": "Obetalt",
        "reminder_intro": ("Enligt våra noteringar är faktura {number}, som förföll {due}, inte betald i sin helhet."),
        "reminder_todo": (
            "Betala {amount} till bankgiro {bankgiro} med OCR-nummer {ocr} så snart som möjligt. "
            "Dröjsmålsränta enligt räntelagen löper tills fakturan är betald. Har du redan betalat "
            "kan du bortse från denna påminnelse."
        ),
        "collection_intro": (
            "Faktura {number}, som förföll {due}, är inte betald trots påminnelse. Den lämnades till inkasso {date}."
        ),
        "collection_todo": (
            "Inkassobolaget skickar ett inkassokrav till dig; följ anvisningarna i det. Inkassobolaget "
            "kan ta ut egna avgifter (inkassoavgiften är högst 180 kr). Betala inte längre till oss."
        ),
        "questions": "Frågor? Kontakta kundtjänst: {contact}.",
        "org_number": "Org.nr",
        "vat_number": "Momsreg.nr",
    },
    "en": {
        "reminder": "Reminder {level}",
        "collection_notice": "Notice of collection",
        "notice_date": "Date",
        "number": "Invoice number",
        "ocr": "OCR reference",
        "customer_number": "Customer number",
        "invoice_date": "Invoice date",
        "due_date": "Due date",
        "bankgiro": "Bankgiro",
        "amounts": "What is unpaid",
        "invoice_amount": "Invoice amount",
        "credited": "Credited",
        "paid": "Paid",
        "principal_open": "Left of the invoice",
        "fee": "Reminder fee",
        "interest": "Late interest",
        "interest_rate": "Late interest ({rate}% a year)",
        "to_pay": "To pay",
        "unpaid": "Unpaid",
        "reminder_intro": "Our records show that invoice {number}, due on {due}, is not fully paid.",
        "reminder_todo": (
            "Please pay {amount} to bankgiro {bankgiro} with OCR reference {ocr} as soon as possible. "
            "Late interest runs per the Swedish Interest Act until the invoice is paid. If you have "
            "already paid, please disregard this reminder."
        ),
        "collection_intro": (
            "Invoice {number}, due on {due}, is unpaid despite a reminder. It was handed to a "
            "collection agency on {date}."
        ),
        "collection_todo": (
            "The collection agency will send you a demand for payment; please follow it. The agency "
            "may add its own fees (the collection fee is at most 180 kr). Do not pay us any more."
        ),
        "questions": "Questions? Contact customer service: {contact}.",
        "org_number": "Reg. no.",
        "vat_number": "VAT no.",
    },
}

_ACCENT = (17, 61, 109)
_TEXT = (33, 37, 41)
_MUTED = (108, 117, 125)
_RULE = (222, 226, 230)


class _NoticePDF(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.core_fonts_encoding = "windows-1252"
        self.set_margins(18, 16, 18)

    def normalize_text(self, text: str) -> str:  # fpdf2 runs every text through this before encoding
        return super().normalize_text(sanitize_text(text))

    def style(self, size: float, bold: bool = False, color: tuple[int, int, int] = _TEXT) -> None:
        self.set_font("helvetica", "B" if bold else "", size)
        self.set_text_color(*color)

    def line_text(
        self, text: str, size: float = 10, bold: bool = False, color: tuple[int, int, int] = _TEXT, height: float = 5
    ) -> None:
        self.style(size, bold, color)
        self.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _rows(pdf: _NoticePDF, rows: Sequence[tuple[str, str]], bold_last: bool = False) -> None:
    for i, (label, value) in enumerate(rows):
        last = bold_last and i == len(rows) - 1
        pdf.style(10, bold=last, color=_TEXT if last else _MUTED)
        pdf.cell(90, 6, label)
        pdf.style(10, bold=True)
        pdf.cell(0, 6, value, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_notice_pdf(notice: Mapping[str, Any], locale: str = "sv") -> bytes:
    """Render a reminder letter or collection notice and return the PDF's bytes.

    ``notice`` keys: ``kind`` (``reminder`` or ``collection_notice``), ``date`` (of the notice),
    ``level`` (reminders), ``seller`` and ``buyer`` (as on the invoice document), ``invoice``
    (``number``, ``ocr``, ``customer_number``, ``invoice_date``, ``due_date``, ``amount_due_ore``),
    and the amounts on that day in öre: ``credited_ore``, ``paid_ore``, ``principal_ore`` (left of
    the invoice), ``fees_ore``, ``interest_ore``, ``balance_ore`` (to pay); ``fee_ore`` (the fee this
    reminder added) and ``rate`` (the late-interest rate in %, a decimal string) when known.
    """
    if locale not in NOTICE_LABELS:
        raise ValueError(f"unsupported locale {locale!r}; expected one of {sorted(NOTICE_LABELS)}")
    kind = notice.get("kind")
    if kind not in NOTICE_KINDS:
        raise ValueError(f"kind: unknown notice kind {kind!r}")
    L = NOTICE_LABELS[locale]
    fmt = Formatter(locale, "SEK")
    seller, buyer, inv = notice["seller"], notice["buyer"], notice["invoice"]
    on = as_date(notice["date"])
    title = L["reminder"].format(level=notice.get("level", 1)) if kind == "reminder" else L[kind]

    pdf = _NoticePDF()
    pdf.set_title(f"{title} {inv['number']}")
    pdf.set_author(seller["name"])
    pdf.set_creator("Selfcare")
    pdf.set_producer("Selfcare")
    pdf.set_lang("sv-SE" if locale == "sv" else "en-GB")
    pdf.set_creation_date(dt.datetime(on.year, on.month, on.day, tzinfo=dt.UTC))
    pdf.add_page()
    _head(pdf, seller, buyer, title, L)
    _rows(
        pdf,
        [
            (L["notice_date"], fmt.date(on)),
            (L["number"], str(inv["number"])),
            (L["ocr"], str(inv["ocr"])),
            (L["customer_number"], str(inv["customer_number"])),
            (L["invoice_date"], fmt.date(inv["invoice_date"])),
            (L["due_date"], fmt.date(inv["due_date"])),
            (L["bankgiro"], str(seller.get("bankgiro", ""))),
        ],
    )
    pdf.ln(4)
    due, balance = fmt.date(inv["due_date"]), int(notice["balance_ore"])
    if kind == "reminder":
        pdf.line_text(L["reminder_intro"].format(number=inv["number"], due=due))
    else:
        pdf.line_text(L["collection_intro"].format(number=inv["number"], due=due, date=fmt.date(on)))
    pdf.ln(3)
    pdf.line_text(L["amounts"], size=11, bold=True, color=_ACCENT, height=6)
    _rows(pdf, _amounts(notice, L, fmt, locale), bold_last=True)
    pdf.ln(4)
    if kind == "reminder":
        pdf.line_text(
            L["reminder_todo"].format(amount=fmt.money(balance), bankgiro=seller.get("bankgiro", ""), ocr=inv["ocr"])
        )
    else:
        pdf.line_text(L["collection_todo"])
    _foot(pdf, seller, L)
    return bytes(pdf.output())


def _head(
    pdf: _NoticePDF, seller: Mapping[str, Any], buyer: Mapping[str, Any], title: str, L: Mapping[str, str]
) -> None:
    """The letterhead (the seller), the addressee (the buyer) and the notice's title."""
    pdf.line_text(seller["name"], size=14, bold=True, color=_ACCENT, height=7)
    for ln in seller.get("address", []):
        pdf.line_text(ln, size=9, color=_MUTED, height=4.5)
    pdf.ln(8)
    addr = buyer.get("address") or {}
    for ln in (buyer["name"], addr.get("street", ""), f"{addr.get('postal_code', '')} {addr.get('city', '')}".strip()):
        if ln:
            pdf.line_text(ln, size=10.5, height=5.5)
    pdf.ln(8)
    pdf.line_text(title, size=16, bold=True, color=_ACCENT, height=8)
    pdf.ln(2)


def _amounts(notice: Mapping[str, Any], L: Mapping[str, str], fmt: Formatter, locale: str) -> list[tuple[str, str]]:
    """From the invoice's amount to what is to pay: credited, paid, left of the invoice, fees, interest."""
    inv = notice["invoice"]
    rows = [(L["invoice_amount"], fmt.money(int(inv["amount_due_ore"])))]
    if notice.get("credited_ore"):
        rows.append((L["credited"], fmt.money(-int(notice["credited_ore"]))))
    if notice.get("paid_ore"):
        rows.append((L["paid"], fmt.money(-int(notice["paid_ore"]))))
    rows.append((L["principal_open"], fmt.money(int(notice["principal_ore"]))))
    if notice.get("fees_ore"):
        rows.append((L["fee"], fmt.money(int(notice["fees_ore"]))))
    if notice.get("interest_ore"):
        label = L["interest_rate"].format(rate=_rate(notice["rate"], locale)) if notice.get("rate") else L["interest"]
        rows.append((label, fmt.money(int(notice["interest_ore"]))))
    rows.append((L["to_pay"] if notice["kind"] == "reminder" else L["unpaid"], fmt.money(int(notice["balance_ore"]))))
    return rows


def _foot(pdf: _NoticePDF, seller: Mapping[str, Any], L: Mapping[str, str]) -> None:
    """Where to ask, and the seller's registration under a rule."""
    contact = ", ".join(str(seller[k]) for k in ("support_phone", "support_email") if seller.get(k))
    if contact:
        pdf.ln(2)
        pdf.line_text(L["questions"].format(contact=contact))
    pdf.ln(8)
    pdf.set_draw_color(*_RULE)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(2)
    pdf.line_text(
        f"{seller['name']} · {L['org_number']} {seller.get('org_number', '')} · "
        f"{L['vat_number']} {seller.get('vat_number', '')}",
        size=8,
        color=_MUTED,
        height=4,
    )


def _rate(rate: Any, locale: str) -> str:
    """``"10.50"`` → ``"10,5"`` (sv) / ``"10.5"`` (en): the late-interest rate in per cent."""
    text = str(rate).rstrip("0").rstrip(".") if "." in str(rate) else str(rate)
    return text.replace(".", ",") if locale == "sv" else text
