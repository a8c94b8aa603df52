"""Tests for backend_stub.formats.invoice_pdf: the mandatory fields are in the PDF."""

from __future__ import annotations

import copy
import io
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pypdf
import pytest

from backend_stub.formats.invoice_pdf import render_invoice_pdf, sanitize_text

SELLER: dict[str, Any] = {
    "name": "Nordvik Telecom AB",
    "org_number": "559123-4567",
    "vat_number": "SE559123456701",
    "address": ["Box 1234", "111 22 Stockholm"],
    "bankgiro": "5050-1055",
    "support_email": "kundservice@nordvik.example",
    "support_phone": "0771-12 34 56",
    "website": "https://nordvik.example",
    "disputes": (
        "Har du frågor om fakturan? Skriv till oss direkt på fakturan eller ring "
        "kundservice. "
        "Tvister kan prövas av Allmänna reklamationsnämnden (ARN)."
    ),
    "late_interest_note": ("Vid försenad betalning debiteras dröjsmålsränta enligt räntelagen."),
}

A = "+46701234567"
B = "+46709876543"


def _line(
    description: str,
    quantity: str,
    unit: str,
    unit_price: str | None,
    amount_ore: int,
    kind: str,
    msisdn: str | None,
    vat_rate: str = "0.25",
) -> dict[str, Any]:
    return {
        "description": description,
        "quantity": quantity,
        "unit": unit,
        "unit_price": unit_price,
        "vat_rate": vat_rate,
        "amount_ore": amount_ore,
        "kind": kind,
        "msisdn": msisdn,
    }


def _round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _finish(invoice: dict[str, Any], ore_rounding: bool = True) -> dict[str, Any]:
    """Fill vat/net/gross/rounding/amount due from the lines (billing-rules §1)."""
    by_rate: dict[str, int] = {}
    for line in invoice["lines"]:
        by_rate[line["vat_rate"]] = by_rate.get(line["vat_rate"], 0) + line["amount_ore"]
    vat_rows = []
    for rate, gross in sorted(by_rate.items(), key=lambda kv: Decimal(kv[0]), reverse=True):
        r = Decimal(rate)
        vat = _round_half_up(Decimal(gross) * r / (1 + r))
        vat_rows.append({"rate": rate, "net_ore": gross - vat, "vat_ore": vat})
    gross = sum(by_rate.values())
    due = _round_half_up(Decimal(gross) / 100) * 100 if ore_rounding else gross
    invoice["vat"] = vat_rows
    invoice["vat_ore"] = sum(v["vat_ore"] for v in vat_rows)
    invoice["net_ore"] = sum(v["net_ore"] for v in vat_rows)
    invoice["gross_ore"] = gross
    invoice["rounding_ore"] = due - gross
    invoice["amount_due_ore"] = due
    return invoice


def make_invoice() -> dict[str, Any]:
    """Build a self-consistent consumer invoice of 1 249,00 kr (all at 25 % VAT)."""
    lines = [
        _line("Mobil 5 GB, månadsavgift oktober", "1", "mån", "199.00", 19900, "fee", A),
        _line("Samtal till Norden", "12", "min", "1.90", 2280, "usage", A),
        _line("Surf i EU utöver fair use-volym", "0.5", "GB", "12.00", 600, "usage", A),
        _line(
            "Mobil Obegränsad, månadsavgift oktober",
            "1",
            "mån",
            "349.00",
            34900,
            "fee",
            B,
        ),
        _line(
            "Rabatt 50 % – 3 månader (1 av 3)",
            "1",
            "st",
            "-174.50",
            -17450,
            "discount",
            B,
        ),
        _line("SMS till betalnummer", "2", "st", "29.00", 5800, "usage", B),
        _line(
            "Samtal september 2026, sent inkomna",
            "3",
            "min",
            "0.69",
            207,
            "late_usage",
            B,
        ),
        _line("Delbetalning telefon, 3 av 24", "1", "st", "758.00", 75800, "one_off", None),
        _line("Pappersfaktura", "1", "st", "29.00", 2900, "one_off", None),
    ]
    invoice: dict[str, Any] = {
        "kind": "invoice",
        "number": "100234",
        "credits_invoice": None,
        "credit_reason": None,
        "customer_number": "K10042",
        "invoice_date": "2026-11-01",
        "due_date": "2026-12-01",
        "period": {"start": "2026-10-01", "end": "2026-10-31"},
        "ocr": "10023483",
        "currency": "SEK",
        "seller": copy.deepcopy(SELLER),
        "buyer": {
            "name": "Åsa Öberg",
            "customer_number": "K10042",
            "address": {
                "street": "Storgatan 12 B",
                "postal_code": "832 41",
                "city": "Frösön",
            },
        },
        "lines": lines,
        "plans": [
            {
                "msisdn": A,
                "plan_name": "Mobil 5 GB",
                "allowances": "5 GB surf, fria samtal och sms",
            },
            {
                "msisdn": B,
                "plan_name": "Mobil Obegränsad",
                "allowances": "Obegränsad surf, samtal och sms i Sverige, 25 GB i EU",
            },
        ],
        "usage_summary": [
            {"label": "Data 070-123 45 67", "used": "3,2 GB", "included": "5 GB"},
            {"label": "Samtal 070-123 45 67", "used": "212 min", "included": "Fria"},
            {
                "label": "Data 070-987 65 43",
                "used": "41,7 GB",
                "included": "Obegränsad",
            },
        ],
    }
    return _finish(invoice)


def make_credit_note() -> dict[str, Any]:
    """Build a partial credit note of invoice 100233 (negative amounts)."""
    invoice = make_invoice()
    invoice.update(
        {
            "kind": "credit_note",
            "number": "100235",
            "credits_invoice": "100233",
            "credit_reason": "Felaktigt debiterad roaming i september",
            "invoice_date": "2026-11-03",
            "due_date": None,
            "ocr": None,
            "period": {"start": "2026-09-01", "end": "2026-09-30"},
            "lines": [
                _line(
                    "Kreditering: surf utanför EU, september",
                    "1",
                    "st",
                    "-249.00",
                    -24900,
                    "credit",
                    A,
                )
            ],
            "usage_summary": [],
        }
    )
    return _finish(invoice)


def page_texts(data: bytes) -> list[str]:
    """Return each page's text with all whitespace (incl. nbsp) collapsed."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return [re.sub(r"[\s\u00a0\u202f\u2009]+", " ", p.extract_text() or "") for p in reader.pages]


def pdf_text(data: bytes) -> tuple[str, int]:
    """All pages' text, normalised as in :func:`page_texts`, and the page count."""
    pages = page_texts(data)
    return " ".join(pages), len(pages)


def test_fixture_is_self_consistent() -> None:
    inv = make_invoice()
    assert sum(line["amount_ore"] for line in inv["lines"]) == inv["gross_ore"] == 124937
    assert inv["vat"] == [{"rate": "0.25", "net_ore": 99950, "vat_ore": 24987}]
    assert inv["net_ore"] + inv["vat_ore"] == inv["gross_ore"]
    assert inv["amount_due_ore"] == 124900 and inv["rounding_ore"] == -37


def test_invoice_has_all_mandatory_fields() -> None:
    inv = make_invoice()
    data = render_invoice_pdf(inv)
    assert data.startswith(b"%PDF-")
    text, pages = pdf_text(data)
    assert pages == 2  # page 1: summary and specification; page 2: totals
    expected = [
        # seller
        "Nordvik Telecom AB",
        "Box 1234",
        "111 22 Stockholm",
        "Org.nr 559123-4567",
        "Momsreg.nr SE559123456701",
        "Godkänd för F-skatt",
        "Bankgiro",
        "5050-1055",
        # buyer
        "Åsa Öberg",
        "Storgatan 12 B",
        "832 41 Frösön",
        "K10042",
        # invoice facts
        "Faktura",
        "Fakturanummer",
        "100234",
        "Fakturadatum",
        "1 november 2026",
        "Förfallodatum",
        "1 december 2026",
        "1–31 oktober 2026",
        "OCR-nummer",
        "10023483",
        # amounts
        "Att betala",
        "1 249,00 kr",
        "Momsspecifikation",
        "25 %",
        "999,50 kr",  # VAT base at 25 %
        "249,87 kr",  # VAT at 25 %
        "1 249,37 kr",  # gross
        "Öresavrundning",
        "-0,37 kr",
        # lines
        "199,00 kr",
        "0,69 kr",
        "-174,50 kr",
        "12 min",
        "0,5 GB",
        # plans and usage
        "Mobil 5 GB",
        "5 GB surf, fria samtal och sms",
        "070-123 45 67",
        "3,2 GB",
        "41,7 GB",
        # contacts, disputes, late interest
        "kundservice@nordvik.example",
        "0771-12 34 56",
        "Allmänna reklamationsnämnden (ARN)",
        "dröjsmålsränta enligt räntelagen",
    ]
    for needle in expected:
        assert needle in text, f"{needle!r} missing from the PDF text"
    for line in inv["lines"]:
        assert line["description"] in text, line["description"]
    assert "Kreditfaktura" not in text


def test_metadata_and_determinism() -> None:
    inv = make_invoice()
    first = render_invoice_pdf(inv)
    assert render_invoice_pdf(copy.deepcopy(inv)) == first
    meta = pypdf.PdfReader(io.BytesIO(first)).metadata
    assert meta is not None
    assert meta.title == "Faktura 100234"
    assert meta.author == "Nordvik Telecom AB"
    created = meta.creation_date
    assert created is not None and created.date().isoformat() == "2026-11-01"


def test_no_rounding_line_when_zero() -> None:
    inv = _finish(make_invoice(), ore_rounding=False)
    assert inv["rounding_ore"] == 0
    text, _ = pdf_text(render_invoice_pdf(inv))
    assert "Öresavrundning" not in text
    assert "1 249,37 kr" in text


def test_credit_note() -> None:
    data = render_invoice_pdf(make_credit_note())
    text, _ = pdf_text(data)
    for needle in (
        "Kreditfaktura",
        "100235",
        "Krediterar faktura",
        "100233",
        "Felaktigt debiterad roaming i september",
        "Krediterat belopp",
        "-249,00 kr",
        "3 november 2026",
        "Kreditering: surf utanför EU, september",
        "Org.nr 559123-4567",
        "Momsreg.nr SE559123456701",
        "-199,20 kr",  # net
        "-49,80 kr",  # VAT
    ):
        assert needle in text, needle
    assert "Att betala" not in text
    assert "Förfallodatum" not in text
    meta = pypdf.PdfReader(io.BytesIO(data)).metadata
    assert meta is not None and meta.title == "Kreditfaktura 100235"


def test_english() -> None:
    data = render_invoice_pdf(make_invoice(), locale="en")
    text, _ = pdf_text(data)
    for needle in (
        "Invoice",
        "Invoice number",
        "1 November 2026",
        "1 December 2026",
        "Amount due",
        "1,249.00 kr",
        "VAT specification",
        "25%",
        "999.50 kr",
        "249.87 kr",
        "Reg. no. 559123-4567",
        "VAT no. SE559123456701",
        "OCR reference",
        "10023483",
    ):
        assert needle in text, needle
    assert "Att betala" not in text
    meta = pypdf.PdfReader(io.BytesIO(data)).metadata
    assert meta is not None and meta.title == "Invoice 100234"


def test_many_lines_span_pages_with_repeated_header() -> None:
    inv = make_invoice()
    inv["lines"] = [
        _line(
            f"Samtal nr {i:03d} till 08-123 456 {i:02d}",
            "3",
            "min",
            "0.69",
            207,
            "usage",
            A,
        )
        for i in range(80)
    ]
    inv = _finish(inv)
    data = render_invoice_pdf(inv)
    text, pages = pdf_text(data)
    assert pages > 1
    for i in range(80):
        assert f"Samtal nr {i:03d}" in text
    with_lines = [page for page in page_texts(data) if "Samtal nr" in page]
    assert len(with_lines) > 1
    for page in with_lines:  # the table header is repeated on every page of the table
        assert "Beskrivning Antal À-pris Moms Belopp" in page
    assert f"Sida {pages} av {pages}" in text
    assert "165,60 kr" in text  # 80 x 2,07 kr
    assert "166,00 kr" in text  # to pay after öresavrundning


def test_several_vat_rates() -> None:
    inv = make_invoice()
    inv["lines"].append(
        _line(
            "Digital tidning, oktober",
            "1",
            "mån",
            "53.00",
            5300,
            "fee",
            None,
            vat_rate="0.06",
        )
    )
    inv = _finish(inv)
    assert [v["rate"] for v in inv["vat"]] == ["0.25", "0.06"]
    text, _ = pdf_text(render_invoice_pdf(inv))
    assert "6 %" in text
    assert "50,00 kr" in text and "3,00 kr" in text  # 53 kr at 6 %: base 50, VAT 3


def test_negative_invoice_asks_for_no_payment() -> None:
    inv = make_invoice()
    inv["lines"] = [
        _line("Mobil 5 GB, månadsavgift", "1", "mån", "199.00", 19900, "fee", A),
        _line(
            "Återbetalning felaktig debitering",
            "1",
            "st",
            "-249.00",
            -24900,
            "credit",
            A,
        ),
    ]
    inv = _finish(inv)
    text, _ = pdf_text(render_invoice_pdf(inv))
    assert "Ingen betalning krävs" in text
    assert "50,00 kr tillgodoförs ditt konto" in text


def test_unicode_text_is_sanitised() -> None:
    assert sanitize_text("1\u202f249,00\u00a0kr") == "1\u00a0249,00\u00a0kr"
    assert sanitize_text("\u22125 \u2013 åäö €") == "-5 \u2013 åäö €"
    assert sanitize_text("\u4e2d") == "?"
    inv = make_invoice()
    inv["lines"][0]["description"] = "Mobil 5\u202fGB \u2212 oktober \u2192 special ✓"
    text, _ = pdf_text(render_invoice_pdf(inv))
    assert "Mobil 5 GB - oktober ? special ?" in text


def test_rejects_unknown_locale_and_kind() -> None:
    with pytest.raises(ValueError):
        render_invoice_pdf(make_invoice(), locale="de")
    inv = make_invoice()
    inv["kind"] = "receipt"
    with pytest.raises(ValueError):
        render_invoice_pdf(inv)
