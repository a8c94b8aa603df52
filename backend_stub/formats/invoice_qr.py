"""The Swedish invoice QR code for bank apps ("UsingQR", Betalningsinformation i QR-kod).

The code holds a compact JSON object; the keys follow UsingQR AB's specification
(version 1): ``uqr`` format version, ``tp`` type (1 = invoice), ``nme`` payee name,
``cc`` country, ``cid`` payee's organisation number, ``iref`` the payment reference (the
OCR number), ``idt`` invoice date and ``ddt`` due date (``YYYYMMDD``), ``due`` amount to
pay, ``cur`` currency, ``vat`` VAT amount, ``pt`` payment type (``BG`` Bankgiro) and
``acc`` the account. Amounts are written as JSON numbers with two decimals, from integer
öre (never through a float).
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import segno

FORMAT_VERSION = 1
TYPE_INVOICE = 1


def _kr(ore: int) -> Decimal:
    return (Decimal(ore) / 100).quantize(Decimal("0.01"))


def payload(doc: dict[str, Any], *, amount_ore: int | None = None) -> dict[str, Any]:
    """The UsingQR fields for an invoice document (``amount_ore`` overrides the amount, e.g. the balance)."""
    seller = doc["seller"]
    due = doc["amount_due_ore"] if amount_ore is None else amount_ore
    if due < 0:
        raise ValueError("amount_ore: a QR code for payment needs an amount ≥ 0")
    if not doc.get("ocr"):
        raise ValueError("ocr: the invoice has no payment reference")
    return {
        "uqr": FORMAT_VERSION,
        "tp": TYPE_INVOICE,
        "nme": seller["name"],
        "cc": "SE",
        "cid": seller["org_number"],
        "iref": doc["ocr"],
        "idt": doc["invoice_date"].replace("-", ""),
        "ddt": doc["due_date"].replace("-", ""),
        "due": _kr(due),
        "cur": doc.get("currency", "SEK"),
        "vat": _kr(doc["vat_ore"]),
        "pt": "BG",
        "acc": seller["bankgiro"],
    }


def payload_text(fields: dict[str, Any]) -> str:
    """The compact JSON written into the code (Decimals as numbers with two decimals)."""
    parts = []
    for key, value in fields.items():
        if isinstance(value, Decimal):
            parts.append(f"{json.dumps(key)}:{value:.2f}")
        else:
            parts.append(f"{json.dumps(key)}:{json.dumps(value, ensure_ascii=False)}")
    return "{" + ",".join(parts) + "}"


def parse_payload(text: str) -> dict[str, Any]:
    """Read a code's JSON back (amounts as Decimal): for tests and for checking what we print."""
    return json.loads(text, parse_float=Decimal)


def qr_svg(text: str, *, scale: int = 4, dark: str = "#000") -> str:
    """The QR code as an SVG document (error correction M, quiet zone 4 modules)."""
    buf = io.BytesIO()
    segno.make(text, error="m", micro=False).save(
        buf, kind="svg", scale=scale, dark=dark, xmldecl=False, svgns=True, nl=False
    )
    return buf.getvalue().decode()
