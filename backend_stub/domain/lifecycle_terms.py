"""The operator's terms of the invoice lifecycle, as values: dunning and late interest, bookkeeping accounts,
automatic payment. Pure: the configuration file and the environment are read by
``services.lifecycle.lifecycle_config``, which builds these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

REMINDER_FEE_CAP_ORE = 6000  # lag (1981:739) om ersättning för inkassokostnader: 60 kr
COLLECTION_FEE_CAP_ORE = 18000  # inkassoavgift: 180 kr

# Riksbanken's reference rate (räntelagen 9 §), set per calendar half-year. The operator keeps this table current.
DEFAULT_REFERENCE_RATES: tuple[tuple[date, Decimal], ...] = (
    (date(2024, 1, 1), Decimal("4.00")),
    (date(2024, 7, 1), Decimal("3.75")),
    (date(2025, 1, 1), Decimal("2.50")),
    (date(2025, 7, 1), Decimal("2.00")),
    (date(2026, 1, 1), Decimal("1.75")),
)


class ConfigError(ValueError):
    """A bad value in the lifecycle configuration; the message names the key."""


@dataclass(frozen=True)
class DunningTerms:
    reminder1_days: int = 10  # days after the due date
    reminder2_days: int | None = 24  # None: no second reminder
    collection_days: int = 45
    min_days_between_steps: int = 10
    reminder_fee_ore: int = 6000  # charged with reminder 1 where the customer agreed to it; capped at 60 kr
    interest_margin: Decimal = Decimal("8")  # percentage points above the reference rate (räntelagen 6 §)
    interest_day_basis: int = 365
    respite_max_days: int = 14
    # Rules §5: an open balance below this is never reminded, bears no fee or interest, and once past due
    # is carried to the next invoice (or written off when there is none).
    small_balance_ore: int = 1000
    # A payment beyond what is owed (rules §6): "credit" (the customer's credit balance, used on the
    # next invoice; agents see it in their queue) or "refund" (paid back at once).
    overpayment: str = "credit"
    reference_rates: tuple[tuple[date, Decimal], ...] = DEFAULT_REFERENCE_RATES

    def reference_rate(self, on: date) -> Decimal:
        rate = None
        for start, value in self.reference_rates:
            if start <= on:
                rate = value
        if rate is None:
            raise ConfigError(f"reference_rates: no reference rate for {on.isoformat()}")
        return rate

    def interest_rate(self, on: date) -> Decimal:
        """Annual late-interest rate in percent on ``on``."""
        return self.reference_rate(on) + self.interest_margin


@dataclass(frozen=True)
class Accounts:
    """BAS accounts for the SIE export."""

    receivables: str = "1510"  # Kundfordringar
    bank: str = "1930"  # Företagskonto
    output_vat: dict[str, str] = field(default_factory=lambda: {"25": "2611", "12": "2621", "6": "2631", "0": "3001"})
    revenue: dict[str, str] = field(
        default_factory=lambda: {
            "fee": "3011",
            "usage": "3012",
            "connection_fee": "3012",
            "late_usage": "3012",
            "one_off": "3013",
            "discount": "3019",
            "credit": "3019",
            "rounding": "3740",
        }
    )
    revenue_default: str = "3010"
    reminder_fees: str = "3930"  # Påminnelseavgifter (outside VAT)
    interest: str = "8313"  # Ränteintäkter från kortfristiga fordringar
    rounding: str = "3740"  # Öres- och kronutjämning
    unmatched_payments: str = "2999"  # Oidentifierade inbetalningar
    write_offs: str = "6351"  # Konstaterade förluster på kundfordringar (small balances written off)
    names: dict[str, str] = field(
        default_factory=lambda: {
            "1510": "Kundfordringar",
            "1930": "Företagskonto",
            "2611": "Utgående moms 25 %",
            "2621": "Utgående moms 12 %",
            "2631": "Utgående moms 6 %",
            "3001": "Försäljning",
            "3010": "Försäljning tjänster",
            "3011": "Abonnemangsavgifter",
            "3012": "Samtal, sms och data",
            "3013": "Engångsavgifter",
            "3019": "Rabatter och krediteringar",
            "3740": "Öres- och kronutjämning",
            "3930": "Påminnelseavgifter",
            "8313": "Ränteintäkter kundfordringar",
            "2999": "Oidentifierade inbetalningar",
            "6351": "Konstaterade förluster på kundfordringar",
        }
    )

    def vat_account(self, rate: str) -> str:
        key = _rate_key(rate)
        if key not in self.output_vat:
            raise ConfigError(f"accounts.output_vat: no account for VAT rate {rate} %")
        return self.output_vat[key]

    def revenue_account(self, kind: str) -> str:
        return self.revenue.get(kind, self.revenue_default)


def _rate_key(rate: str) -> str:
    d = Decimal(str(rate))
    if d < 1:  # 0.25 → 25
        d = d * 100
    return str(d.normalize().quantize(Decimal(1)) if d == d.to_integral() else d.normalize())


@dataclass(frozen=True)
class AutopayTerms:
    """Automatic payment (services.autopay): autogiro at Bankgirot and saved cards."""

    payee_bankgiro: str | None = None  # the operator's bankgiro for Autogiro; None: the catalogue's
    bankgirot_customer_number: str = "000000"  # the payee's customer number at Bankgirot (6 digits)
    lead_days: int = 5  # invoices due within this many days go into the payment order file
    retry_days: int = 3  # banking days after a failed draw (no cover) until the new attempt
    max_retries: int = 1  # new attempts after a failed draw, then the invoice falls back to manual payment
    card_retry_days: int = 2  # days after a declined card charge until the next attempt
