"""An invoice's lines and its totals: ``Line`` (quantity × unit price, VAT rate, amount in öre), the VAT
per rate and the totals of a draft (``totals``), and how a line's texts read in Swedish and English.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from babel.dates import format_date

from backend_stub.domain.catalogue import Rate
from backend_stub.domain.money import (
    round_half_up_div,
)
from backend_stub.domain.periods import Period

MONTHS_SV = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]

# Units as an English line reads them ("1 mo × 199.00", "7 × 0.99"); the stored unit is Swedish.
UNITS_EN = {"mån": "mo", "st": "", "s": "s", "min": "min", "kB": "kB", "MB": "MB", "GB": "GB"}


def unit_in(unit: str, lang: str) -> str:
    """A line's unit as ``lang`` writes it (``mån`` → ``mo`` in English)."""
    return UNITS_EN.get(unit, unit) if lang == "en" else unit


@dataclass(frozen=True, slots=True)
class Line:
    """One invoice line. ``amount_ore`` is VAT-inclusive and already rounded.

    ``description`` is Swedish; ``description_en`` the same line in English where the catalogue
    has English texts ("" = none: English shows the Swedish text).
    """

    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal | None  # kr, incl. VAT
    vat_rate: Decimal
    amount_ore: int
    kind: str  # fee, usage, connection_fee, late_usage, discount, one_off, addon, instalment, credit, rounding
    subscription_id: int | None = None
    msisdn: str | None = None
    period_label: str | None = None  # late usage: the period it belongs to
    rate_key: str | None = None
    description_en: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = {
            "description": self.description,
            "quantity": dec_str(self.quantity),
            "unit": self.unit,
            "unit_price": None if self.unit_price is None else str(self.unit_price),
            "vat_rate": str(self.vat_rate),
            "amount_ore": self.amount_ore,
            "kind": self.kind,
            "subscription_id": self.subscription_id,
            "msisdn": self.msisdn,
            "period": self.period_label,
            "rate_key": self.rate_key,
        }
        if self.description_en:
            out["description_en"] = self.description_en
        return out


@dataclass(frozen=True, slots=True)
class VatRow:
    rate: Decimal
    gross_ore: int
    net_ore: int
    vat_ore: int

    def as_dict(self) -> dict[str, Any]:
        return {"rate": str(self.rate), "gross_ore": self.gross_ore, "net_ore": self.net_ore, "vat_ore": self.vat_ore}


@dataclass(frozen=True)
class InvoiceDraft:
    """An invoice before (or after) issue. Totals follow from the lines."""

    customer_id: int
    period: Period
    lines: tuple[Line, ...]
    vat: tuple[VatRow, ...]
    net_ore: int
    vat_ore: int
    gross_ore: int
    rounding_ore: int
    amount_due_ore: int
    kind: str = "invoice"
    number: str | None = None
    ocr: str | None = None
    invoice_date: date | None = None
    due_date: date | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def dec_str(value: Decimal) -> str:
    text = format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    return text


def day_label(day: date) -> str:
    return f"{day.day} {MONTHS_SV[day.month - 1]}"


@lru_cache(maxsize=1024)
def day_label_en(day: date) -> str:
    """``1 Nov`` (babel's abbreviated month, en_GB); a bill run asks for the same few days thousands of times."""
    return format_date(day, "d MMM", locale="en_GB")


def totals(lines: list[Line] | tuple[Line, ...], *, ore_rounding: bool) -> dict[str, Any]:
    """VAT per rate, net/VAT/gross totals, öresavrundning and amount due for lines."""
    by_rate: dict[Decimal, int] = defaultdict(int)
    for line in lines:
        by_rate[line.vat_rate] += line.amount_ore
    vat_rows = []
    for rate in sorted(by_rate):
        gross = by_rate[rate]
        share, whole = _vat_share(rate)
        vat = round_half_up_div(gross * share, whole)  # = money.vat_of_gross(gross, rate), without Fractions
        vat_rows.append(VatRow(rate, gross, gross - vat, vat))
    gross = sum(r.gross_ore for r in vat_rows)
    vat = sum(r.vat_ore for r in vat_rows)
    rounding = 0
    if ore_rounding and gross > 0:
        rounding = round_half_up_div(gross, 100) * 100 - gross
    return {
        "vat": tuple(vat_rows),
        "net_ore": gross - vat,
        "vat_ore": vat,
        "gross_ore": gross,
        "rounding_ore": rounding,
        "amount_due_ore": gross + rounding,
    }


@lru_cache(maxsize=64)
def _vat_share(rate: Decimal) -> tuple[int, int]:
    """``r / (1 + r)`` as (numerator, denominator): the VAT in a gross amount is
    ``round_half_up(gross × numerator / denominator)`` (rules §1, ``money.vat_of_gross``)."""
    r = Fraction(rate)
    share = r / (1 + r)
    return share.numerator, share.denominator


def fee_target_en(rate: Rate | None, name_en: str) -> str:
    """What a connection fee is for, in English: "calls to Sweden premium numbers"."""
    if rate is not None and rate.name_en.startswith("Calls "):
        return "c" + rate.name_en[1:]
    return name_en
