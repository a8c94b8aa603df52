"""Money: whole öre for booked amounts, exact integers for rated charges.

Booked amounts (invoice lines, VAT, totals, payments, fees) are ``int`` öre. Rated
charges are kept exact, unrounded, as ``int`` in units of ``1 / EXACT_PER_ORE`` öre: a
unit chosen so that every price the catalogue can express (4-decimal kronor per second,
minute, message, kB or MB; 2-decimal kronor per GB) times a whole number of seconds,
messages or bytes is a whole number of exact units. Sums stay exact; rounding to öre
happens once, per invoice line, half up (``round_half_up``).

No floats anywhere: ``Decimal`` strings from the catalogue are converted exactly.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from selfcare_common.rounding import round_half_up_div  # once for the core and the app

#: Exact charge units per öre (1 kr = 100 öre = 6·10¹¹ exact units).
EXACT_PER_ORE = 6 * 10**9
EXACT_PER_KR = 100 * EXACT_PER_ORE

#: How many base units (seconds, messages, bytes) one pricing unit holds.
PRICING_UNITS: dict[str, int] = {
    "second": 1,
    "minute": 60,
    "message": 1,
    "kB": 1_000,
    "MB": 1_000_000,
    "GB": 1_000_000_000,
}


class MoneyError(ValueError):
    """An amount that cannot be represented exactly by the money rules."""


def parse_decimal(text: str | int | Decimal, *, field: str, max_places: int = 4) -> Decimal:
    """Parse a decimal amount from text, refusing floats and more than ``max_places`` decimals."""
    if isinstance(text, float) or isinstance(text, bool):
        raise MoneyError(f'{field}: write amounts as strings like "199.00", not as {type(text).__name__}')
    try:
        value = Decimal(str(text).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise MoneyError(f"{field}: {text!r} is not a number") from exc
    if not value.is_finite():
        raise MoneyError(f"{field}: {text!r} is not a finite number")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > max_places:
        raise MoneyError(f"{field}: {text!r} has more than {max_places} decimals")
    return value


def kr_to_ore(amount: Decimal | str | int, *, field: str = "amount") -> int:
    """Exact conversion of a kronor amount with at most 2 decimals to öre."""
    value = amount if isinstance(amount, Decimal) else parse_decimal(amount, field=field, max_places=2)
    ore = value * 100
    if ore != ore.to_integral_value():
        raise MoneyError(f"{field}: {amount} kr is not a whole number of öre")
    return int(ore)


def ore_to_kr(ore: int) -> Decimal:
    """Öre as a 2-decimal kronor ``Decimal`` (for display and JSON)."""
    return (Decimal(ore) / 100).quantize(Decimal("0.01"))


def exact_to_ore(exact: int) -> int:
    """Round an exact charge to whole öre, half up: the one rounding of an invoice line."""
    return round_half_up_div(exact, EXACT_PER_ORE)


def round_fraction(value: Fraction) -> int:
    """Round a ``Fraction`` of öre half up to whole öre."""
    return round_half_up_div(value.numerator, value.denominator)


def exact_per_base_unit(price_kr: Decimal, per: str, *, field: str) -> int:
    """Exact units charged per base unit (second, message or byte) for ``price_kr`` per ``per``.

    Raises ``MoneyError`` naming ``field`` when the price is not representable exactly,
    e.g. a per-GB price with more than 2 decimals.
    """
    if per not in PRICING_UNITS:
        raise MoneyError(f"{field}: unknown price unit {per!r} (use one of {', '.join(PRICING_UNITS)})")
    value = Fraction(price_kr) * EXACT_PER_KR / PRICING_UNITS[per]
    if value.denominator != 1:
        raise MoneyError(f"{field}: {price_kr} kr per {per} cannot be charged exactly; use fewer decimals")
    return int(value)


def vat_of_gross(gross_ore: int, rate: Decimal) -> int:
    """VAT contained in a VAT-inclusive amount: ``round_half_up(gross × r / (1 + r))``."""
    r = Fraction(rate)
    return round_fraction(Fraction(gross_ore) * r / (1 + r))


def quantize_kr(value: Decimal) -> Decimal:
    """A kronor value to 2 decimals, half up (display of per-unit prices)."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
