"""Render an issued invoice or credit note as an A4 PDF.

The renderer is a pure function of the invoice dict (see :func:`render_invoice_pdf`):
no database, no network, no clock. The same dict always gives the same bytes.

It prints every item Swedish invoice law asks for (mervärdesskattelagen 17 kap. 24 §:
date of issue, a unique sequential number, the seller's VAT number, seller's and
buyer's names and addresses, what was supplied and how much, the period of supply,
the taxable amount and VAT per rate, the VAT rate per line, the VAT total and, for a
credit note, a reference to the invoice it changes) plus what a telecom subscriber
expects: the plans and what they include, a usage summary, how to pay (OCR, Bankgiro,
due date), support contacts, how to dispute the invoice and the late-interest note.

Only the PDF core font Helvetica is used, so no font file is needed on any machine.
Text is encoded as Windows-1252 (the PDF's WinAnsiEncoding), which covers Swedish
(å ä ö é), the en dash and the euro sign; other characters are mapped by
:func:`sanitize_text`.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import segno
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from backend_stub.formats import invoice_qr
from selfcare_common.money_format import format_kr

__all__ = ["LABELS", "data_volume", "qr_png", "render_invoice_pdf", "sanitize_text", "usage_sentence"]

# --------------------------------------------------------------------------- labels

LABELS: dict[str, dict[str, Any]] = {
    "sv": {
        "invoice": "Faktura",
        "credit_note": "Kreditfaktura",
        "number": "Fakturanummer",
        "credit_number": "Kreditfakturanummer",
        "invoice_date": "Fakturadatum",
        "credit_date": "Datum",
        "due_date": "Förfallodatum",
        "customer_number": "Kundnummer",
        "period": "Period",
        "ocr": "OCR-nummer",
        "bankgiro": "Bankgiro",
        "credits_invoice": "Krediterar faktura",
        "credit_reason": "Orsak",
        "bill_to": "Faktureras till",
        "amount_due": "Att betala",
        "amount_credited": "Krediterat belopp",
        "no_payment": "Ingen betalning krävs.",
        "credit_balance": ("{amount} tillgodoförs ditt konto och används på nästa faktura."),
        "credit_note_settle": (
            "Ingen betalning krävs. Beloppet räknas av mot faktura {number}; "
            "är den redan betald tillgodoförs beloppet ditt konto."
        ),
        "pay_hint": "Ange OCR-numret när du betalar.",
        "plans": "Ditt abonnemang",
        "plans_many": "Dina abonnemang",
        "col_msisdn": "Nummer",
        "col_plan": "Abonnemang",
        "col_allowances": "Ingår",
        "usage": "Din förbrukning under perioden",
        "col_service": "Tjänst",
        "col_used": "Använt",
        "col_included": "Ingår i abonnemanget",
        "specification": "Specifikation",
        "col_description": "Beskrivning",
        "col_quantity": "Antal",
        "col_unit_price": "À-pris",
        "col_vat": "Moms",
        "col_amount": "Belopp",
        "prices_incl_vat": "Priser och belopp inklusive moms.",
        "prices_excl_vat": "Priser och belopp exklusive moms.",
        "group_msisdn": "Abonnemang {msisdn}",
        "group_other": "Övrigt",
        "vat_spec": "Momsspecifikation",
        "col_vat_rate": "Momssats",
        "col_vat_base": "Underlag",
        "col_vat_amount": "Moms",
        "net_total": "Summa exkl. moms",
        "vat_total": "Moms",
        "gross_total": "Summa inkl. moms",
        "rounding": "Öresavrundning",
        "questions": "Frågor om fakturan?",
        "support": "Kundservice",
        "org_number": "Org.nr",
        "vat_number": "Momsreg.nr",
        "f_tax": "Godkänd för F-skatt",
        "page": "Sida {page} av {pages}",
        "continued": "{title} {number} (forts.)",
        "left_to_pay": "Kvar att betala",
        "status": "Status",
        "paid": "Betald",
        "credited": "Krediterad",
        "paid_note": "Fakturan är betald. Tack!",
        "paid_on": "Betald {date}",
        "paid_by": {
            "card": "Betald {date} med kort",
            "swish": "Betald {date} med Swish",
            "bankgiro": "Betald {date} via Bankgiro",
            "autogiro": "Betald {date} via autogiro",
            "credit_balance": "Betald {date} med ditt tillgodohavande",
        },
        "carried": "Flyttad till faktura {number}",
        "carried_note": "Det som var kvar att betala finns nu på faktura {number}.",
        "written_off": "Avskriven",
        "written_off_note": "Det lilla belopp som var kvar är avskrivet. Inget kvar att betala.",
        "credited_note": "Fakturan är krediterad. Inget kvar att betala.",
        "left_note": "Av {amount} återstår {left}. Ange OCR-numret när du betalar.",
        "pay_qr": "Skanna i bankappen",
        "online": "Fakturan på webben",
        "online_text": "Se specifikation och samtal, betala eller ställ en fråga om fakturan:",
        "used": "Du använde {data}, {minutes} och {texts}",
        "data_of": "{used} av {allowance}",
        "data_unlimited": "{used} (obegränsat)",
        "minutes": "{n}\u00a0min",
        "texts": "{n}\u00a0sms",
        "broadband": "Bredband: obegränsad surf.",
        "prorated": "Surfmängden är räknad för de dagar abonnemanget var aktivt.",
    },
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "number": "Invoice number",
        "credit_number": "Credit note number",
        "invoice_date": "Invoice date",
        "credit_date": "Date",
        "due_date": "Due date",
        "customer_number": "Customer number",
        "period": "Period",
        "ocr": "OCR reference",
        "bankgiro": "Bankgiro",
        "credits_invoice": "Credits invoice",
        "credit_reason": "Reason",
        "bill_to": "Bill to",
        "amount_due": "Amount due",
        "amount_credited": "Amount credited",
        "no_payment": "No payment is required.",
        "credit_balance": ("{amount} is added to your account and used on your next invoice."),
        "credit_note_settle": (
            "No payment is required. The amount is set off against invoice {number}; "
            "if that invoice is already paid, it is added to your account."
        ),
        "pay_hint": "Please quote the OCR reference when you pay.",
        "plans": "Your plan",
        "plans_many": "Your plans",
        "col_msisdn": "Number",
        "col_plan": "Plan",
        "col_allowances": "Includes",
        "usage": "Your usage this period",
        "col_service": "Service",
        "col_used": "Used",
        "col_included": "Included in plan",
        "specification": "Specification",
        "col_description": "Description",
        "col_quantity": "Quantity",
        "col_unit_price": "Unit price",
        "col_vat": "VAT",
        "col_amount": "Amount",
        "prices_incl_vat": "Prices and amounts include VAT.",
        "prices_excl_vat": "Prices and amounts exclude VAT.",
        "group_msisdn": "Subscription {msisdn}",
        "group_other": "Other",
        "vat_spec": "VAT specification",
        "col_vat_rate": "VAT rate",
        "col_vat_base": "Taxable amount",
        "col_vat_amount": "VAT",
        "net_total": "Total excl. VAT",
        "vat_total": "VAT",
        "gross_total": "Total incl. VAT",
        "rounding": "Rounding",
        "questions": "Questions about your invoice?",
        "support": "Customer service",
        "org_number": "Reg. no.",
        "vat_number": "VAT no.",
        "f_tax": "Approved for F-tax",
        "page": "Page {page} of {pages}",
        "continued": "{title} {number} (continued)",
        "left_to_pay": "Left to pay",
        "status": "Status",
        "paid": "Paid",
        "credited": "Credited",
        "paid_note": "This invoice is paid. Thank you!",
        "paid_on": "Paid {date}",
        "paid_by": {
            "card": "Paid {date} by card",
            "swish": "Paid {date} with Swish",
            "bankgiro": "Paid {date} by Bankgiro",
            "autogiro": "Paid {date} by autogiro",
            "credit_balance": "Paid {date} from your credit balance",
        },
        "carried": "Moved to invoice {number}",
        "carried_note": "What was left to pay is now on invoice {number}.",
        "written_off": "Written off",
        "written_off_note": "The small amount left was written off. Nothing left to pay.",
        "credited_note": "This invoice is credited. Nothing is left to pay.",
        "left_note": "Of {amount}, {left} is left to pay. Please quote the OCR reference when you pay.",
        "pay_qr": "Scan in your bank app",
        "online": "Your invoice online",
        "online_text": "See the specification and calls, pay, or ask about the invoice:",
        "used": "You used {data}, {minutes} and {texts}",
        "data_of": "{used} of {allowance}",
        "data_unlimited": "{used} (unlimited)",
        "minutes": "{n}\u00a0min",
        "texts": "{n}\u00a0texts",
        "broadband": "Broadband: unlimited data.",
        "prorated": "The data allowance is counted for the days the subscription was active.",
    },
}

_BABEL_LOCALE = {"sv": "sv_SE", "en": "en_GB"}
_UNITS_EN = {"mån": "mo", "st": "pcs", "sms": "SMS"}

# --------------------------------------------------------------------------- text

_CHAR_MAP = {
    "\u202f": "\u00a0",  # narrow no-break space (babel) -> no-break space
    "\u2009": " ",  # thin space
    "\u2007": "\u00a0",  # figure space
    "\u2002": " ",
    "\u2003": " ",
    "\u2212": "-",  # minus sign (babel) -> hyphen-minus
    "\u2010": "-",
    "\u2011": "-",
    "\u2043": "-",
    "\u200b": "",  # zero-width space
    "\ufeff": "",
}


def sanitize_text(text: str) -> str:
    """Map ``text`` onto Windows-1252, the encoding of the PDF core fonts.

    Narrow and figure no-break spaces become U+00A0 (still unbreakable), thin spaces a
    normal space, the minus sign a hyphen; any other character that Windows-1252 cannot
    hold becomes ``?`` rather than failing the whole invoice.
    """
    out = text.translate(str.maketrans(_CHAR_MAP))
    return out.encode("cp1252", errors="replace").decode("cp1252")


# --------------------------------------------------------------------------- formatting


def _as_date(value: str | dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


class _Formatter:
    """Locale-aware formatting of money, dates, quantities and rates."""

    def __init__(self, locale: str, currency: str) -> None:
        self.lang = locale
        self.babel = _BABEL_LOCALE[locale]
        self.currency = currency

    def money(self, ore: int) -> str:
        if self.currency == "SEK":  # the one money format of every screen and document
            return format_kr(int(ore), self.lang)
        amount = Decimal(int(ore)) / 100
        return format_currency(amount, self.currency, format="#,##0.00\u00a0¤", locale=self.babel)

    def price(self, value: str | None) -> str:
        """Format a unit price in kronor (2 to 4 decimals), e.g. ``0,0115 kr``."""
        if value in (None, ""):
            return ""
        amount = Decimal(str(value))
        pattern = "#,##0.00##\u00a0¤"
        return format_currency(
            amount,
            self.currency,
            format=pattern,
            locale=self.babel,
            currency_digits=False,
        )

    def date(self, value: str | dt.date | dt.datetime) -> str:
        return format_date(_as_date(value), format="long", locale=self.babel)

    def period(self, start: str | dt.date, end: str | dt.date) -> str:
        """Format ``1-31 oktober 2026`` (en dash); full dates across months."""
        a, b = _as_date(start), _as_date(end)
        if (a.year, a.month) == (b.year, b.month):
            month_year = format_date(b, format="MMMM y", locale=self.babel)
            return f"{a.day}\u2013{b.day} {month_year}"
        return f"{self.date(a)} \u2013 {self.date(b)}"

    def quantity(self, value: str | None, unit: str | None) -> str:
        if value in (None, ""):
            return ""
        qty = format_decimal(Decimal(str(value)), format="#,##0.###", locale=self.babel)
        unit = unit or ""
        if self.lang == "en":
            unit = _UNITS_EN.get(unit, unit)
        return f"{qty}\u00a0{unit}" if unit else qty

    def rate(self, value: str) -> str:
        pct = Decimal(str(value)) * 100
        text = format_decimal(pct, format="#,##0.##", locale=self.babel)
        return f"{text}\u00a0%" if self.lang == "sv" else f"{text}%"


def data_volume(volume: int, locale: str) -> str:
    """Data in decimal units as the usage summary writes it: ``9,4 GB``, ``20 GB``, ``350 MB``."""
    babel = _BABEL_LOCALE[locale]
    if volume >= 1_000_000_000 or volume == 0:
        gb = (Decimal(volume) / 10**9).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")
        return f"{format_decimal(gb, format='#,##0.#', locale=babel)}\u00a0GB"
    mb = (Decimal(volume) / 10**6).quantize(Decimal("1"), rounding="ROUND_HALF_UP")
    return f"{format_decimal(mb, format='#,##0', locale=babel)}\u00a0MB"


def usage_sentence(entry: Mapping[str, Any], locale: str) -> tuple[str, float | None]:
    """ "Du använde 9,4 GB av 20 GB, 85 min och 40 sms" and the data bar's share (None: no bar)."""
    L = LABELS[locale]
    if entry.get("kind") == "broadband":
        return L["broadband"], None
    used = data_volume(int(entry.get("data_bytes") or 0), locale)
    allowance = entry.get("data_allowance_bytes")
    if entry.get("data_unlimited"):
        data = L["data_unlimited"].format(used=used)
    elif allowance:
        data = L["data_of"].format(used=used, allowance=data_volume(int(allowance), locale))
    else:
        data = used
    babel = _BABEL_LOCALE[locale]
    minutes = L["minutes"].format(n=format_decimal(int(entry.get("voice_minutes") or 0), locale=babel))
    texts = L["texts"].format(n=format_decimal(int(entry.get("texts") or 0), locale=babel))
    text = L["used"].format(data=data, minutes=minutes, texts=texts)
    share = None
    if allowance and not entry.get("data_unlimited"):
        share = min(1.0, int(entry.get("data_bytes") or 0) / int(allowance))  # a drawing, not money
    return text, share


def qr_png(text: str) -> bytes:
    """A QR code (error correction M) as PNG bytes, for the PDF."""
    buf = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buf, kind="png", scale=4, border=2)
    return buf.getvalue()


def format_msisdn(msisdn: str | None) -> str:
    """Format a Swedish E.164 mobile number as subscribers write it: 070-123 45 67."""
    if not msisdn:
        return ""
    if msisdn.startswith("+46") and msisdn[3:].isdigit():
        national = "0" + msisdn[3:]
        if len(national) == 10 and national.startswith("07"):
            return f"{national[:3]}-{national[3:6]} {national[6:8]} {national[8:]}"
        return national
    return msisdn


# --------------------------------------------------------------------------- layout

_ACCENT = (17, 61, 109)
_ACCENT_LIGHT = (234, 241, 249)
_TEXT = (33, 37, 41)
_MUTED = (108, 117, 125)
_RULE = (222, 226, 230)
_HEAD_FILL = (244, 246, 248)
_MARGIN = 18.0
_FOOTER_H = 24.0


class _InvoicePDF(FPDF):
    """FPDF with the invoice's running header (pages 2+) and footer (every page)."""

    def __init__(self, inv: Mapping[str, Any], labels: Mapping[str, str]) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.inv = inv
        self.L = labels
        self.core_fonts_encoding = "windows-1252"
        self.set_margins(_MARGIN, 16, _MARGIN)
        self.set_auto_page_break(True, margin=_FOOTER_H + 8)
        self.alias_nb_pages("{nb}")
        self.table_header_active = False

    # fpdf2 runs every text through this before encoding it.
    def normalize_text(self, text: str) -> str:
        return super().normalize_text(sanitize_text(text))

    @property
    def content_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def style(self, size: float, bold: bool = False, color: tuple[int, int, int] = _TEXT) -> None:
        self.set_font("helvetica", "B" if bold else "", size)
        self.set_text_color(*color)

    def header(self) -> None:
        if self.page_no() == 1:
            return
        seller = self.inv["seller"]
        title = self.L["credit_note"] if self.inv["kind"] == "credit_note" else self.L["invoice"]
        self.set_y(12)
        self.style(11, bold=True, color=_ACCENT)
        self.cell(self.content_width / 2, 6, seller["name"])
        self.style(9, color=_MUTED)
        right = self.L["continued"].format(title=title, number=self.inv["number"])
        right += f"  \u00b7  {self.L['customer_number']} {self.inv['customer_number']}"
        self.cell(self.content_width / 2, 6, right, align=Align.R)
        self.set_draw_color(*_RULE)
        self.line(self.l_margin, 20, self.w - self.r_margin, 20)
        self.set_y(25)
        if self.table_header_active:
            _table_header(self)

    def footer(self) -> None:
        seller = self.inv["seller"]
        top = self.h - _FOOTER_H
        self.set_draw_color(*_RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, top, self.w - self.r_margin, top)
        widths = (52.0, 50.0, 52.0, self.content_width - 154.0)
        col1 = [seller["name"], *seller.get("address", [])]
        col2 = [
            f"{self.L['org_number']} {seller['org_number']}",
            f"{self.L['vat_number']} {seller['vat_number']}",
        ]
        if seller.get("f_tax_approved", True):
            col2.append(self.L["f_tax"])
        col3 = [f"{self.L['bankgiro']} {seller['bankgiro']}"]
        col3 += [seller[k] for k in ("support_email", "support_phone", "website") if seller.get(k)]
        col4 = [self.L["page"].format(page=self.page_no(), pages="{nb}")]
        x = self.l_margin
        for i, (w, lines) in enumerate(zip(widths, (col1, col2, col3, col4), strict=True)):
            y = top + 3
            for j, text in enumerate(lines):
                self.set_xy(x, y)
                self.style(7.5, bold=(i == 0 and j == 0), color=_TEXT if j == 0 else _MUTED)
                self.cell(w, 3.6, text, align=Align.R if i == 3 else Align.L)
                y += 3.6
            x += w


# Specification table columns: (label key, width mm, alignment)
_COLS: tuple[tuple[str, float, Align], ...] = (
    ("col_description", 78.0, Align.L),
    ("col_quantity", 24.0, Align.R),
    ("col_unit_price", 26.0, Align.R),
    ("col_vat", 16.0, Align.R),
    ("col_amount", 30.0, Align.R),
)
_ROW_PAD = 1.1
_LINE_H = 4.0


def _table_header(pdf: _InvoicePDF) -> None:
    pdf.set_fill_color(*_HEAD_FILL)
    pdf.style(8, bold=True, color=_MUTED)
    pdf.set_x(pdf.l_margin)
    for key, width, align in _COLS:
        pdf.cell(width, 6.5, pdf.L[key], align=align, fill=True)
    pdf.ln(6.5)


def _section_title(pdf: _InvoicePDF, text: str, space_needed: float = 20.0) -> None:
    if pdf.get_y() + space_needed > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(4)
    pdf.style(10.5, bold=True, color=_ACCENT)
    pdf.cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)


def _key_value_rows(pdf: _InvoicePDF, x: float, y: float, w: float, rows: Sequence[tuple[str, str]]) -> float:
    """Label left, value right, one row each; returns the y below the last row."""
    label_w = 36.0
    for label, value in rows:
        pdf.set_xy(x, y)
        pdf.style(8.5, color=_MUTED)
        pdf.cell(label_w, 5, label)
        pdf.style(9, bold=True)
        lines = pdf.multi_cell(w - label_w, 5, value, align=Align.R, dry_run=True, output="LINES")
        pdf.set_xy(x + label_w, y)
        pdf.multi_cell(w - label_w, 5, value, align=Align.R)
        y += 5 * max(1, len(lines))
    return y


def _draw_top(pdf: _InvoicePDF, fmt: _Formatter) -> None:
    inv, L = pdf.inv, pdf.L
    seller, buyer = inv["seller"], inv["buyer"]
    is_credit = inv["kind"] == "credit_note"
    left_w = 92.0
    right_x = pdf.l_margin + 100.0
    right_w = pdf.w - pdf.r_margin - right_x

    # Seller "logo" area: wordmark and address.
    pdf.set_xy(pdf.l_margin, 16)
    pdf.style(19, bold=True, color=_ACCENT)
    pdf.cell(left_w, 9, seller["name"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.style(8.5, color=_MUTED)
    for line in seller.get("address", []):
        pdf.cell(left_w, 4, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    contact = [seller[k] for k in ("website", "support_phone") if seller.get(k)]
    if contact:
        pdf.cell(left_w, 4, "  \u00b7  ".join(contact), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    seller_bottom = pdf.get_y()

    # Title and key facts.
    pdf.set_xy(right_x, 14)
    pdf.style(24, bold=True, color=_TEXT)
    pdf.cell(right_w, 11, L["credit_note"] if is_credit else L["invoice"], align=Align.R)
    facts: list[tuple[str, str]] = [
        (L["credit_number"] if is_credit else L["number"], str(inv["number"])),
        (
            L["credit_date"] if is_credit else L["invoice_date"],
            fmt.date(inv["invoice_date"]),
        ),
    ]
    if not is_credit and inv.get("due_date"):
        facts.append((L["due_date"], fmt.date(inv["due_date"])))
    facts.append((L["customer_number"], str(inv["customer_number"])))
    if inv.get("period"):
        facts.append((L["period"], fmt.period(inv["period"]["start"], inv["period"]["end"])))
    if is_credit and inv.get("credits_invoice"):
        facts.append((L["credits_invoice"], str(inv["credits_invoice"])))
    if not is_credit and inv.get("ocr"):
        facts.append((L["ocr"], str(inv["ocr"])))
    facts_bottom = _key_value_rows(pdf, right_x, 28, right_w, facts)

    # Buyer.
    y = max(seller_bottom + 10, 50.0)
    pdf.set_xy(pdf.l_margin, y)
    pdf.style(8, color=_MUTED)
    pdf.cell(left_w, 4.5, L["bill_to"].upper(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.style(11, bold=True)
    pdf.cell(left_w, 5.5, buyer["name"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    addr = buyer.get("address") or {}
    pdf.style(10)
    if addr.get("street"):
        pdf.cell(left_w, 5, addr["street"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    city = " ".join(p for p in (addr.get("postal_code"), addr.get("city")) if p)
    if city:
        pdf.cell(left_w, 5, city, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.style(8.5, color=_MUTED)
    buyer_no = buyer.get("customer_number") or inv["customer_number"]
    pdf.cell(
        left_w,
        5,
        f"{L['customer_number']} {buyer_no}",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_y(max(pdf.get_y(), facts_bottom) + 7)


def _payment_qr_text(inv: Mapping[str, Any], left: int) -> str | None:
    """The bank-app code (UsingQR) for what is left to pay now; None when nothing is."""
    if inv["kind"] != "invoice" or left <= 0 or not inv.get("ocr") or not inv.get("due_date"):
        return None
    return invoice_qr.payload_text(invoice_qr.payload(dict(inv), amount_ore=left))


def _draw_payment_box(pdf: _InvoicePDF, fmt: _Formatter) -> None:
    """How to pay, from the invoice's state when the dict has it (``balance_ore``, ``status``):
    a PDF downloaded later shows what is left to pay now, or that the invoice is paid."""
    inv, L = pdf.inv, pdf.L
    is_credit = inv["kind"] == "credit_note"
    due = int(inv["amount_due_ore"])
    st = inv.get("state") if isinstance(inv.get("state"), dict) else None  # backend_stub.domain.invoice_state
    if st is not None and not is_credit:
        left = int(st["to_pay_ore"])
        settled = due > 0 and not st["open"]
        amount = int(st["amount_ore"])
    else:
        left = int(inv["balance_ore"]) if "balance_ore" in inv and not is_credit else max(due, 0)
        settled = due > 0 and left <= 0
        amount = due
    x, y, w = pdf.l_margin, pdf.get_y(), pdf.content_width
    qr_text = None

    if is_credit:
        cells = [(L["amount_credited"], fmt.money(due))]
        if inv.get("credits_invoice"):
            cells.append((L["credits_invoice"], str(inv["credits_invoice"])))
        cells.append((L["credit_date"], fmt.date(inv["invoice_date"])))
        note = L["credit_note_settle"].format(number=inv.get("credits_invoice") or "")
        if inv.get("credit_reason"):
            note = f"{L['credit_reason']}: {inv['credit_reason']}\n{note}"
    elif settled:  # settled since it was issued: paid (when, how), credited, moved or written off
        status = (st or {}).get("status") or inv.get("status")
        paid = (st or {}).get("paid")
        if status == "carried":
            label, note = (
                L["carried"].format(number=st["carried_to"]),
                L["carried_note"].format(number=st["carried_to"]),
            )
        elif status == "written_off":
            label, note = L["written_off"], L["written_off_note"]
        elif status == "credited":
            label, note = L["credited"], L["credited_note"]
        elif isinstance(paid, dict):
            label = L["paid_by"].get(paid["method"], L["paid_on"]).format(date=fmt.date(paid["on"]))
            note = L["paid_note"]
        else:
            label, note = L["paid"], L["paid_note"]
        cells = [
            (L["status"], label),
            (
                L["amount_due"] if status != "credited" else L["amount_credited"],
                fmt.money(amount if status != "credited" else due),
            ),
            (L["ocr"], str(inv.get("ocr") or "")),
        ]
    else:
        shown = max(left, 0)
        partly = left != amount and left > 0
        cells = [
            (L["left_to_pay"] if partly else L["amount_due"], fmt.money(shown)),
            (L["due_date"], fmt.date(inv["due_date"])),
            (L["ocr"], str(inv.get("ocr") or "")),
            (L["bankgiro"], str(inv["seller"]["bankgiro"])),
        ]
        if due <= 0:
            note = L["no_payment"]
            if due < 0:
                note += " " + L["credit_balance"].format(amount=fmt.money(-due))
        elif partly:
            note = L["left_note"].format(amount=fmt.money(amount), left=fmt.money(left))
        else:
            note = L["pay_hint"]
        if left > 0:
            qr_text = _payment_qr_text(inv, left)

    qr_size = 30.0 if qr_text else 0.0
    text_w = w - 12 - (qr_size + 4 if qr_text else 0)
    pdf.style(8.5)
    note_lines = pdf.multi_cell(text_w, 4.2, note, align=Align.L, dry_run=True, output="LINES")
    h = max(21 + 4.2 * len(note_lines) + 2, qr_size + 10 if qr_text else 0)
    pdf.set_fill_color(*_ACCENT_LIGHT)
    pdf.rect(x, y, w, h, style="F")
    pdf.set_fill_color(*_ACCENT)
    pdf.rect(x, y, 1.6, h, style="F")

    first_w = 54.0 if not qr_text else 46.0
    rest_w = (w - 6 - first_w - (qr_size + 4 if qr_text else 0)) / max(1, len(cells) - 1)
    cx = x + 6
    for i, (label, value) in enumerate(cells):
        cw = first_w if i == 0 else rest_w
        pdf.set_xy(cx, y + 4)
        pdf.style(8, color=_MUTED)
        pdf.cell(cw, 4, label.upper())
        pdf.set_xy(cx, y + 9)
        if i == 0:
            pdf.style(17 if not qr_text else 15, bold=True, color=_ACCENT)
            pdf.cell(cw, 9, value)
        else:
            pdf.style(10 if qr_text else 11, bold=True)
            pdf.cell(cw, 9, value)
        cx += cw
    pdf.set_xy(x + 6, y + 20)
    pdf.style(8.5, color=_TEXT)
    pdf.multi_cell(text_w, 4.2, note, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if qr_text:
        qx = x + w - qr_size - 3
        pdf.image(io.BytesIO(qr_png(qr_text)), x=qx, y=y + 2, w=qr_size, h=qr_size)
        pdf.set_xy(qx - 4, y + 2 + qr_size)
        pdf.style(6.5, color=_MUTED)
        pdf.cell(qr_size + 8, 4, L["pay_qr"], align=Align.C)
    pdf.set_y(y + h + 2)


def _draw_link(pdf: _InvoicePDF) -> None:
    """The invoice's own short link and a QR code to it (``link_url``, when the dict has it)."""
    url = pdf.inv.get("link_url")
    if not url:
        return
    L = pdf.L
    x, y, w = pdf.l_margin, pdf.get_y() + 1, pdf.content_width
    size = 22.0
    pdf.image(io.BytesIO(qr_png(str(url))), x=x, y=y, w=size, h=size)
    pdf.set_xy(x + size + 4, y + 3)
    pdf.style(9.5, bold=True, color=_ACCENT)
    pdf.cell(w - size - 4, 5, L["online"], new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.style(8.5)
    pdf.multi_cell(w - size - 4, 4.2, L["online_text"], align=Align.L, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.style(10, bold=True)
    pdf.cell(w - size - 4, 6, str(url), link=str(url), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), y + size) + 2)


def _simple_table(
    pdf: _InvoicePDF,
    headers: Sequence[str],
    widths: Sequence[float],
    rows: Sequence[Sequence[str]],
    bold_first: bool = True,
) -> None:
    """Draw a light table whose cells wrap; rows never split over a page."""
    pdf.set_fill_color(*_HEAD_FILL)
    pdf.style(8, bold=True, color=_MUTED)
    pdf.set_x(pdf.l_margin)
    for text, width in zip(headers, widths, strict=True):
        pdf.cell(width, 6, text, fill=True)
    pdf.ln(6)
    for row in rows:
        heights = []
        for i, (text, width) in enumerate(zip(row, widths, strict=True)):
            pdf.style(8.5, bold=bold_first and i == 0)
            lines = pdf.multi_cell(width, _LINE_H, text, align=Align.L, dry_run=True, output="LINES")
            heights.append(len(lines) * _LINE_H)
        h = max(heights) + 2 * _ROW_PAD
        if pdf.get_y() + h > pdf.page_break_trigger:
            pdf.add_page()
        y = pdf.get_y()
        x = pdf.l_margin
        for i, (text, width) in enumerate(zip(row, widths, strict=True)):
            pdf.style(8.5, bold=bold_first and i == 0)
            pdf.set_xy(x, y + _ROW_PAD)
            pdf.multi_cell(width, _LINE_H, text, align=Align.L)
            x += width
        pdf.set_draw_color(*_RULE)
        pdf.line(pdf.l_margin, y + h, pdf.l_margin + sum(widths), y + h)
        pdf.set_y(y + h)


def _draw_plans_and_usage(pdf: _InvoicePDF) -> None:
    inv, L = pdf.inv, pdf.L
    plans = inv.get("plans") or []
    if plans:
        _section_title(pdf, L["plans_many"] if len(plans) > 1 else L["plans"])
        w = pdf.content_width
        rows = [
            [
                format_msisdn(p.get("msisdn")) or "-",
                p.get("plan_name", ""),
                p.get("allowances", ""),
            ]
            for p in plans
        ]
        _simple_table(
            pdf,
            [L["col_msisdn"], L["col_plan"], L["col_allowances"]],
            [34.0, 50.0, w - 84.0],
            rows,
        )
    totals = inv.get("usage_totals") or []
    if totals:
        _section_title(pdf, L["usage"])
        locale = "en" if L is LABELS["en"] else "sv"
        w = pdf.content_width
        for entry in totals:
            text, share = usage_sentence(entry, locale)
            if pdf.get_y() + 16 > pdf.page_break_trigger:
                pdf.add_page()
            pdf.style(8.5, bold=True)
            who = " \u00b7 ".join(p for p in (format_msisdn(entry.get("msisdn")), entry.get("plan_name")) if p)
            pdf.cell(w, 4.6, who, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.style(8.5)
            pdf.multi_cell(w, 4.4, text + ".", align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            if share is not None:
                by = pdf.get_y() + 0.8
                pdf.set_fill_color(*_HEAD_FILL)
                pdf.rect(pdf.l_margin, by, 80, 2.6, style="F")
                pdf.set_fill_color(*_ACCENT)
                if share > 0:
                    pdf.rect(pdf.l_margin, by, max(0.6, 80 * share), 2.6, style="F")
                pdf.set_y(by + 3.6)
            if entry.get("prorated") and entry.get("data_allowance_bytes"):
                pdf.style(7.5, color=_MUTED)
                pdf.cell(w, 4, L["prorated"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1.5)
    usage = inv.get("usage_summary") or []
    if usage:
        _section_title(pdf, L["usage"])
        w = pdf.content_width
        rows = [[u.get("label", ""), u.get("used", ""), u.get("included", "")] for u in usage]
        _simple_table(
            pdf,
            [L["col_service"], L["col_used"], L["col_included"]],
            [60.0, 50.0, w - 110.0],
            rows,
        )


def _group_lines(
    lines: Sequence[Mapping[str, Any]],
) -> list[tuple[str | None, list[Mapping[str, Any]]]]:
    """Group lines by MSISDN in order of first appearance; account-level lines last."""
    groups: dict[str | None, list[Mapping[str, Any]]] = {}
    for line in lines:
        groups.setdefault(line.get("msisdn") or None, []).append(line)
    ordered = [(k, v) for k, v in groups.items() if k is not None]
    if None in groups:
        ordered.append((None, groups[None]))
    return ordered


def _draw_specification(pdf: _InvoicePDF, fmt: _Formatter) -> None:
    inv, L = pdf.inv, pdf.L
    _section_title(pdf, L["specification"], space_needed=30)
    pdf.style(8, color=_MUTED)
    incl = inv.get("prices_include_vat", True)
    pdf.cell(0, 4, L["prices_incl_vat"] if incl else L["prices_excl_vat"])
    pdf.ln(5)
    _table_header(pdf)
    pdf.table_header_active = True

    plan_names = {p.get("msisdn"): p.get("plan_name") for p in inv.get("plans") or []}
    groups = _group_lines(inv.get("lines") or [])
    show_groups = len(groups) > 1 or (groups and groups[0][0] is not None)
    desc_w = _COLS[0][1]
    for msisdn, lines in groups:
        if show_groups:
            if pdf.get_y() + 6 + _LINE_H + 2 * _ROW_PAD > pdf.page_break_trigger:
                pdf.add_page()
            if msisdn is None:
                title = L["group_other"]
            else:
                title = L["group_msisdn"].format(msisdn=format_msisdn(msisdn))
                if plan_names.get(msisdn):
                    title += f" \u2013 {plan_names[msisdn]}"
            pdf.ln(1)
            pdf.style(8.5, bold=True, color=_ACCENT)
            pdf.cell(0, 5.5, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for line in lines:
            pdf.style(8.5)
            desc = str(line.get("description", ""))
            desc_lines = pdf.multi_cell(desc_w, _LINE_H, desc, align=Align.L, dry_run=True, output="LINES")
            h = len(desc_lines) * _LINE_H + 2 * _ROW_PAD
            if pdf.get_y() + h > pdf.page_break_trigger:
                pdf.add_page()
            y = pdf.get_y()
            values = [
                desc,
                fmt.quantity(line.get("quantity"), line.get("unit")),
                fmt.price(line.get("unit_price")),
                fmt.rate(line["vat_rate"]) if line.get("vat_rate") is not None else "",
                fmt.money(int(line["amount_ore"])),
            ]
            x = pdf.l_margin
            for (_, width, align), text in zip(_COLS, values, strict=True):
                pdf.set_xy(x, y + _ROW_PAD)
                pdf.multi_cell(width, _LINE_H, text, align=align)
                x += width
            pdf.set_draw_color(*_RULE)
            pdf.line(pdf.l_margin, y + h, pdf.l_margin + pdf.content_width, y + h)
            pdf.set_y(y + h)
    pdf.table_header_active = False


def _draw_totals(pdf: _InvoicePDF, fmt: _Formatter) -> None:
    inv, L = pdf.inv, pdf.L
    is_credit = inv["kind"] == "credit_note"
    vat_rows = inv.get("vat") or []
    rounding = int(inv.get("rounding_ore") or 0)
    totals: list[tuple[str, str]] = [
        (L["net_total"], fmt.money(int(inv["net_ore"]))),
        (L["vat_total"], fmt.money(int(inv["vat_ore"]))),
        (L["gross_total"], fmt.money(int(inv["gross_ore"]))),
    ]
    if rounding:
        totals.append((L["rounding"], fmt.money(rounding)))
    final_label = L["amount_credited"] if is_credit else L["amount_due"]
    final_value = fmt.money(int(inv["amount_due_ore"]))

    needed = max(6 + 6 * (len(vat_rows) + 1), 5.5 * len(totals) + 12) + 8
    if pdf.get_y() + needed > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(6)
    top = pdf.get_y()

    # VAT per rate (left).
    x = pdf.l_margin
    widths = (24.0, 34.0, 30.0)
    pdf.style(9, bold=True, color=_ACCENT)
    pdf.set_xy(x, top)
    pdf.cell(sum(widths), 5, L["vat_spec"])
    pdf.set_xy(x, top + 6)
    pdf.set_fill_color(*_HEAD_FILL)
    pdf.style(8, bold=True, color=_MUTED)
    heads = (L["col_vat_rate"], L["col_vat_base"], L["col_vat_amount"])
    for i, (text, width) in enumerate(zip(heads, widths, strict=True)):
        pdf.cell(width, 6, text, fill=True, align=Align.L if i == 0 else Align.R)
    y = top + 12
    for row in vat_rows:
        pdf.set_xy(x, y)
        pdf.style(8.5)
        cells = (
            fmt.rate(row["rate"]),
            fmt.money(int(row["net_ore"])),
            fmt.money(int(row["vat_ore"])),
        )
        for i, (text, width) in enumerate(zip(cells, widths, strict=True)):
            pdf.cell(width, 6, text, align=Align.L if i == 0 else Align.R)
        pdf.set_draw_color(*_RULE)
        pdf.line(x, y + 6, x + sum(widths), y + 6)
        y += 6
    left_bottom = y

    # Totals (right).
    tw = 80.0
    tx = pdf.w - pdf.r_margin - tw
    y = top
    for label, value in totals:
        pdf.set_xy(tx, y)
        pdf.style(9, color=_MUTED)
        pdf.cell(tw / 2, 5.5, label)
        pdf.style(9)
        pdf.cell(tw / 2, 5.5, value, align=Align.R)
        y += 5.5
    y += 1.5
    pdf.set_draw_color(*_TEXT)
    pdf.set_line_width(0.4)
    pdf.line(tx, y, tx + tw, y)
    pdf.set_line_width(0.2)
    pdf.set_xy(tx, y + 1.5)
    pdf.style(11, bold=True)
    pdf.cell(tw / 2, 7, final_label)
    pdf.style(12, bold=True, color=_ACCENT)
    pdf.cell(tw / 2, 7, final_value, align=Align.R)
    pdf.set_y(max(left_bottom, y + 9))


def _draw_contacts(pdf: _InvoicePDF) -> None:
    inv, L = pdf.inv, pdf.L
    seller = inv["seller"]
    contact = [seller[k] for k in ("support_email", "support_phone", "website") if seller.get(k)]
    paragraphs = []
    if contact:
        paragraphs.append(f"{L['support']}: " + "  \u00b7  ".join(contact))
    for key in ("disputes", "late_interest_note"):
        if seller.get(key):
            paragraphs.append(str(seller[key]))
    if not paragraphs:
        return
    text = "\n".join(paragraphs)
    pdf.style(8.5)
    w = pdf.content_width - 10
    lines = pdf.multi_cell(w, 4.2, text, align=Align.L, dry_run=True, output="LINES")
    h = 12 + 4.2 * len(lines)
    if pdf.get_y() + h + 6 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(6)
    y = pdf.get_y()
    pdf.set_draw_color(*_RULE)
    pdf.rect(pdf.l_margin, y, pdf.content_width, h, style="D")
    pdf.set_xy(pdf.l_margin + 5, y + 3.5)
    pdf.style(9.5, bold=True, color=_ACCENT)
    pdf.cell(w, 5, L["questions"], new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_x(pdf.l_margin + 5)
    pdf.style(8.5)
    pdf.multi_cell(w, 4.2, text, align=Align.L)
    pdf.set_y(y + h)


def render_invoice_pdf(invoice: Mapping[str, Any], locale: str = "sv") -> bytes:
    """Render an invoice or credit note as an A4 PDF and return the file's bytes.

    ``invoice`` is an issued invoice as a plain dict: money as integer öre in
    ``*_ore`` keys, quantities, unit prices and VAT rates as decimal strings, dates as
    ISO strings or ``date`` objects.

    Required keys: ``kind`` (``"invoice"`` or ``"credit_note"``), ``number``,
    ``customer_number``, ``invoice_date``, ``seller`` (``name``, ``org_number``,
    ``vat_number``, ``address`` lines, ``bankgiro``), ``buyer`` (``name``, ``address``
    with ``street``, ``postal_code``, ``city``), ``lines`` (``description``,
    ``quantity``, ``unit``, ``unit_price``, ``vat_rate``, ``amount_ore``, ``msisdn``),
    ``vat`` (``rate``, ``net_ore``, ``vat_ore``), ``net_ore``, ``vat_ore``,
    ``gross_ore``, ``amount_due_ore``; for an invoice also ``due_date`` and ``ocr``.

    Optional: ``period`` (``start``, ``end``), ``currency`` (default SEK),
    ``rounding_ore`` (printed only when non-zero), ``credits_invoice`` and
    ``credit_reason`` (credit notes), ``plans`` (``msisdn``, ``plan_name``,
    ``allowances``), ``usage_summary`` (``label``, ``used``, ``included``), the
    seller's ``support_email``, ``support_phone``, ``website``, ``disputes`` and
    ``late_interest_note``, ``seller["f_tax_approved"]`` (default true) and
    ``prices_include_vat`` (default true: consumer prices); ``usage_totals`` (per
    subscription: ``data_bytes``, ``data_allowance_bytes``, ``data_unlimited``,
    ``voice_minutes``, ``texts``, ``kind``; see ``services.billing.usage_totals``), ``link_url``
    (the invoice's own short link: printed with a QR code to it), and the invoice's state
    now, ``balance_ore`` and ``status``: the payment block then shows what is left to pay
    (a bank-app QR code only while something is) or that the invoice is paid.

    Amounts are printed as given, with their sign: a credit note normally carries
    negative amounts. An invoice whose amount due is zero or negative asks for no
    payment. ``locale`` is ``"sv"`` (default) or ``"en"``; it changes the labels and
    the formatting of money and dates, not the texts inside the data.

    The output is deterministic: the PDF's creation date is the invoice date.
    """
    if locale not in LABELS:
        raise ValueError(f"unsupported locale {locale!r}; expected one of {sorted(LABELS)}")
    if invoice.get("kind") not in ("invoice", "credit_note"):
        raise ValueError(f"unknown invoice kind {invoice.get('kind')!r}")
    labels = LABELS[locale]
    fmt = _Formatter(locale, str(invoice.get("currency") or "SEK"))
    pdf = _InvoicePDF(invoice, labels)

    title_word = labels["credit_note"] if invoice["kind"] == "credit_note" else labels["invoice"]
    title = f"{title_word} {invoice['number']}"
    issued = _as_date(invoice["invoice_date"])
    pdf.set_title(title)
    pdf.set_author(invoice["seller"]["name"])
    pdf.set_subject(f"{title} \u2013 {invoice['buyer']['name']}")
    pdf.set_creator("Selfcare")
    pdf.set_producer("Selfcare")
    pdf.set_lang("sv-SE" if locale == "sv" else "en-GB")
    pdf.set_creation_date(dt.datetime(issued.year, issued.month, issued.day, tzinfo=dt.UTC))

    pdf.add_page()
    _draw_top(pdf, fmt)
    _draw_payment_box(pdf, fmt)
    _draw_link(pdf)
    _draw_plans_and_usage(pdf)
    _draw_specification(pdf, fmt)
    _draw_totals(pdf, fmt)
    _draw_contacts(pdf)
    return bytes(pdf.output())
