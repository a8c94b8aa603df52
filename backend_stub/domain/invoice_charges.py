"""Charges billed beside the plans: one-off charges, add-ons and devices on instalment (a month's amount
of the plan, the last month taking what is left).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from backend_stub.domain.invoice_lines import Line, day_label, day_label_en
from backend_stub.domain.money import (
    ore_to_kr,
)
from backend_stub.domain.periods import period_for
from selfcare_common.money_format import format_kr


@dataclass(frozen=True, slots=True)
class OneOffCharge:
    """A one-off charge (positive) or credit (negative) with its own description, e.g. "Byte av SIM-kort"."""

    description: str
    amount_ore: int
    vat_rate: Decimal
    subscription_id: int | None = None


@dataclass(frozen=True, slots=True)
class AddonCharge:
    """An add-on bought in the period: its price on the invoice, a line of its own."""

    addon_id: str
    name: str
    amount_ore: int
    vat_rate: Decimal
    bought_on: date
    subscription_id: int | None = None
    name_en: str = ""


@dataclass(frozen=True, slots=True)
class InstalmentPlan:
    """A device on instalment as the bill run sees it: terms and what earlier invoices billed."""

    id: int
    device_name: str
    months: int
    total_ore: int
    monthly_ore: int
    vat_rate: Decimal
    start_period: str  # YYYY-MM: the month of the first instalment
    months_billed: int = 0
    paid_ore: int = 0
    payoff: bool = False  # paid off early: the whole remainder on the next invoice
    subscription_id: int | None = None
    device_name_en: str = ""


@dataclass(frozen=True, slots=True)
class InstalmentCharge:
    """Months ``first_month``..``last_month`` of an instalment (or its payoff) on one invoice."""

    instalment_id: int
    first_month: int
    last_month: int
    amount_ore: int
    paid_after_ore: int  # invoiced so far, this line included
    left_after_ore: int  # still to invoice after this line
    kind: str  # month, payoff


def month_amount(plan: InstalmentPlan, month: int) -> int:
    """The instalment of month ``month`` (1-based): the monthly amount, the last month the rest."""
    return plan.monthly_ore if month < plan.months else plan.total_ore - plan.monthly_ore * (plan.months - 1)


def _months_between(start_label: str, label: str) -> int:
    a, b = period_for(start_label).start, period_for(label).start
    return (b.year - a.year) * 12 + b.month - a.month


def instalment_charges(plan: InstalmentPlan, label: str) -> list[InstalmentCharge]:
    """What the invoice of period ``label`` bills of ``plan``.

    In arrears, like the plan fee: month k belongs to the period ``start_period + k − 1``. The
    invoice bills every month due by its period and not billed yet (one line each, so a
    missed bill run is caught up), or, after an early payoff, one line for the whole rest.
    """
    left = plan.total_ore - plan.paid_ore
    if left <= 0 or plan.months_billed >= plan.months:
        return []
    if plan.payoff:
        return [InstalmentCharge(plan.id, plan.months_billed + 1, plan.months, left, plan.total_ore, 0, "payoff")]
    due = min(plan.months, _months_between(plan.start_period, label) + 1)
    out = []
    paid = plan.paid_ore
    for month in range(plan.months_billed + 1, due + 1):
        amount = month_amount(plan, month)
        paid += amount
        out.append(InstalmentCharge(plan.id, month, month, amount, paid, plan.total_ore - paid, "month"))
    return out


def instalment_lines(plan: InstalmentPlan, charges: list[InstalmentCharge], msisdn: str | None) -> list[Line]:
    """The invoice lines of ``charges``: the device, the month, and what is paid and left after it."""
    lines = []
    device_en = plan.device_name_en or plan.device_name
    for c in charges:
        state = f"betalt {format_kr(c.paid_after_ore)}, kvar {format_kr(c.left_after_ore)}"
        state_en = f"paid {format_kr(c.paid_after_ore, 'en')}, left {format_kr(c.left_after_ore, 'en')}"
        if c.kind == "payoff":
            several = c.first_month < c.last_month
            months = f"månad {c.first_month}–{c.last_month}" if several else f"månad {c.first_month}"
            months_en = f"months {c.first_month}–{c.last_month}" if several else f"month {c.first_month}"
            text = f"Slutbetalning {plan.device_name}, {months} av {plan.months} ({state})"
            text_en = f"Final payment {device_en}, {months_en} of {plan.months} ({state_en})"
            quantity = Decimal(c.last_month - c.first_month + 1)
            unit_price = None
        else:
            text = f"Delbetalning {plan.device_name}, månad {c.first_month} av {plan.months} ({state})"
            text_en = f"Instalment {device_en}, month {c.first_month} of {plan.months} ({state_en})"
            quantity = Decimal(1)
            unit_price = ore_to_kr(c.amount_ore)
        lines.append(
            Line(
                text,
                quantity,
                "mån",
                unit_price,
                plan.vat_rate,
                c.amount_ore,
                "instalment",
                plan.subscription_id,
                msisdn,
                rate_key=f"instalment/{plan.id}",
                description_en=text_en,
            )
        )
    return lines


def addon_line(charge: AddonCharge, msisdn: str | None) -> Line:
    return Line(
        f"{charge.name}, köpt {day_label(charge.bought_on)}",
        Decimal(1),
        "st",
        ore_to_kr(charge.amount_ore),
        charge.vat_rate,
        charge.amount_ore,
        "addon",
        charge.subscription_id,
        msisdn,
        rate_key=f"addon/{charge.addon_id}",
        description_en=f"{charge.name_en or charge.name}, bought {day_label_en(charge.bought_on)}",
    )
