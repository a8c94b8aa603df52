"""The invoice document: its blocks in order on A4 pages, one PDF whose bytes are a function of the dict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from backend_stub.formats.invoice_pdf.blocks import (
    draw_contacts,
    draw_link,
    draw_payment_box,
    draw_plans_and_usage,
    draw_specification,
    draw_top,
    draw_totals,
)
from backend_stub.formats.invoice_pdf.page import InvoicePDF
from backend_stub.formats.invoice_pdf.text import LABELS, Formatter, as_date


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
    fmt = Formatter(locale, str(invoice.get("currency") or "SEK"))
    pdf = InvoicePDF(invoice, labels)

    title_word = labels["credit_note"] if invoice["kind"] == "credit_note" else labels["invoice"]
    title = f"{title_word} {invoice['number']}"
    issued = as_date(invoice["invoice_date"])
    pdf.set_title(title)
    pdf.set_author(invoice["seller"]["name"])
    pdf.set_subject(f"{title} \u2013 {invoice['buyer']['name']}")
    pdf.set_creator("Selfcare")
    pdf.set_producer("Selfcare")
    pdf.set_lang("sv-SE" if locale == "sv" else "en-GB")
    pdf.set_creation_date(dt.datetime(issued.year, issued.month, issued.day, tzinfo=dt.UTC))

    pdf.add_page()
    draw_top(pdf, fmt)
    draw_payment_box(pdf, fmt)
    draw_link(pdf)
    draw_plans_and_usage(pdf)
    draw_specification(pdf, fmt)
    draw_totals(pdf, fmt)
    draw_contacts(pdf)
    return bytes(pdf.output())
