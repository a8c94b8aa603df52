"""What the invoice says: its labels in Swedish and English, and the locale's way of writing money, dates,
quantities, rates, data volumes and phone numbers. Text is mapped onto Windows-1252 (``sanitize_text``),
the encoding of the PDF core fonts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from selfcare_common.money_format import format_kr

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

_CHAR_MAP: dict[str, str | int | None] = {  # the type str.maketrans takes
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


def as_date(value: str | dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


class Formatter:
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
        return format_date(as_date(value), format="long", locale=self.babel)

    def period(self, start: str | dt.date, end: str | dt.date) -> str:
        """Format ``1-31 oktober 2026`` (en dash); full dates across months."""
        a, b = as_date(start), as_date(end)
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
