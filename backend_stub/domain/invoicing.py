"""Invoice building: from a period's fees, usage and discounts to lines, VAT and totals.

Pure: ``build_invoice`` is a function of plain values (the account's subscriptions, the
period, the aggregated rated usage, the discounts) and returns an ``InvoiceDraft``. The
number, OCR and dates are given to it when it is issued (``issue``). Rounding happens in
exactly one place per line (``money.exact_to_ore`` / ``round_half_up_div``); VAT per rate
follows ``vat = round_half_up(gross × r / (1 + r))`` (rules §1).

The bill run's composition lives here (fees, discounts, ``build_invoice``, issue, credit notes); the
lines and their totals are in ``invoice_lines``, usage lines in ``invoice_usage``, one-off charges,
add-ons and instalments in ``invoice_charges``. The names callers import from here are re-exported.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from backend_stub.domain.catalogue import Catalogue, Discount, in_language
from backend_stub.domain.errors import Invalid
from backend_stub.domain.invoice_charges import (
    AddonCharge,
    InstalmentCharge,
    InstalmentPlan,
    OneOffCharge,
    addon_line,
    instalment_charges,
    instalment_lines,
    month_amount,
)
from backend_stub.domain.invoice_lines import (
    MONTHS_SV,
    UNITS_EN,
    InvoiceDraft,
    Line,
    VatRow,
    day_label,
    day_label_en,
    dec_str,
    totals,
    unit_in,
)
from backend_stub.domain.invoice_usage import IdentityCache, UsageAggregate, rate_index, usage_lines
from backend_stub.domain.money import (
    ore_to_kr,
    round_fraction,
    round_half_up_div,
)
from backend_stub.domain.ocr import ocr_reference
from backend_stub.domain.periods import Period, Subscription, period_for

__all__ = [
    "MONTHS_SV",
    "UNITS_EN",
    "AddonCharge",
    "CarriedBalance",
    "DiscountGrant",
    "IdentityCache",
    "InstalmentCharge",
    "InstalmentPlan",
    "InvoiceDraft",
    "Line",
    "OneOffCharge",
    "UsageAggregate",
    "VatRow",
    "addon_line",
    "build_invoice",
    "credit_note_lines",
    "credit_note_rounding",
    "dec_str",
    "discount_lines",
    "draft_from_lines",
    "fee_lines",
    "instalment_charges",
    "instalment_lines",
    "issue",
    "month_amount",
    "rate_index",
    "totals",
    "unit_in",
    "usage_lines",
    "with_carried",
]

# The names services import from before the split (rate_index and dec_str are the public ones now).
_rate_index = rate_index
_dec_str = dec_str


@dataclass(frozen=True, slots=True)
class DiscountGrant:
    """A discount given to a subscription (or, with ``subscription_id`` None, the account).

    The terms are the catalogue's discount ``discount_id``, or ``terms`` when the grant
    carries its own (an offer's price terms). ``plan_id`` limits a plan-fee discount to the
    fee lines of that plan (an upgrade's free months do not discount the old plan's days).
    """

    discount_id: str
    start_period: str  # YYYY-MM
    subscription_id: int | None = None
    terms: Discount | None = None
    plan_id: str | None = None

    def active_in(self, period: Period, periods: int) -> bool:
        start = period_for(self.start_period)
        months = (period.start.year - start.start.year) * 12 + period.start.month - start.start.month
        return 0 <= months < periods


_fee_kr = lru_cache(maxsize=1024)(ore_to_kr)  # a plan's fee in kr (an immutable Decimal), once per fee


def fee_lines(catalogue: Catalogue, subscription: Subscription, period: Period) -> list[Line]:
    """Recurring fees of a period, prorated per plan segment: ``fee × days / days_in_period``."""
    lines = []
    for seg, days in subscription.segments_in(period):
        plan = catalogue.plan(seg.plan_id)
        start = max(seg.start, period.start)
        end = period.end if seg.end is None else min(seg.end, period.end)
        if days == period.days:
            quantity = Decimal(1)
            amount = plan.monthly_fee_ore
        else:
            quantity = (Decimal(days) / Decimal(period.days)).quantize(Decimal("0.0001"))
            amount = round_half_up_div(plan.monthly_fee_ore * days, period.days)
        lines.append(
            Line(
                description=f"{plan.name}, {day_label(start)}–{day_label(end)}",
                description_en=f"{in_language(plan, 'en')}, {day_label_en(start)}–{day_label_en(end)}",
                quantity=quantity,
                unit="mån",
                unit_price=_fee_kr(plan.monthly_fee_ore),
                vat_rate=plan.vat_rate,
                amount_ore=amount,
                kind="fee",
                subscription_id=subscription.id,
                msisdn=subscription.msisdn,
                rate_key=f"plan/{plan.id}",
            )
        )
    return lines


def _split_by_rate(amount: int, bases: dict[Decimal, int]) -> dict[Decimal, int]:
    """Split ``amount`` over VAT rates in proportion to ``bases`` (largest remainder, exact)."""
    total = sum(bases.values())
    if total <= 0:
        return {}
    shares = {rate: Fraction(amount * base, total) for rate, base in bases.items()}
    floors = {rate: int(share) for rate, share in shares.items()}
    left = amount - sum(floors.values())
    for rate in sorted(shares, key=lambda r: shares[r] - floors[r], reverse=True)[:left]:
        floors[rate] += 1
    return floors


def discount_lines(catalogue: Catalogue, grants: list[DiscountGrant], period: Period, lines: list[Line]) -> list[Line]:
    """Negative lines for the discounts active in ``period``, at the VAT rate of what they discount."""
    out: list[Line] = []
    for grant in grants:
        discount: Discount | None = grant.terms or catalogue.discounts.get(grant.discount_id)
        if discount is None or not grant.active_in(period, discount.periods):
            continue
        if discount.applies_to == "plan_fee":
            targets = [
                ln
                for ln in lines
                if ln.kind == "fee"
                and (grant.subscription_id is None or ln.subscription_id == grant.subscription_id)
                and (grant.plan_id is None or ln.rate_key == f"plan/{grant.plan_id}")
            ]
            for ln in targets:
                if discount.percent is not None:
                    amount = round_fraction(Fraction(ln.amount_ore) * Fraction(discount.percent) / 100)
                else:
                    amount = min(discount.amount_ore or 0, ln.amount_ore)
                if amount:
                    out.append(
                        Line(
                            discount.name,
                            Decimal(1),
                            "st",
                            None,
                            ln.vat_rate,
                            -amount,
                            "discount",
                            ln.subscription_id,
                            ln.msisdn,
                            rate_key=f"discount/{discount.id}",
                            description_en=discount.name_en,
                        )
                    )
        else:
            bases: dict[Decimal, int] = defaultdict(int)
            for ln in lines + out:
                bases[ln.vat_rate] += ln.amount_ore
            bases = {r: b for r, b in bases.items() if b > 0}
            if discount.percent is not None:
                per_rate = {r: round_fraction(Fraction(b) * Fraction(discount.percent) / 100) for r, b in bases.items()}
            else:
                per_rate = _split_by_rate(min(discount.amount_ore or 0, sum(bases.values())), bases)
            for rate in sorted(per_rate):
                if per_rate[rate]:
                    out.append(
                        Line(
                            discount.name,
                            Decimal(1),
                            "st",
                            None,
                            rate,
                            -per_rate[rate],
                            "discount",
                            rate_key=f"discount/{discount.id}",
                            description_en=discount.name_en,
                        )
                    )
    return out


def build_invoice(
    catalogue: Catalogue,
    customer_id: int,
    subscriptions: list[Subscription],
    period: Period,
    aggregates: list[UsageAggregate],
    grants: list[DiscountGrant] = (),  # type: ignore[assignment]
    one_offs: list[OneOffCharge] = (),  # type: ignore[assignment]
    *,
    addons: list[AddonCharge] = (),  # type: ignore[assignment]
    instalments: list[tuple[InstalmentPlan, list[InstalmentCharge]]] = (),  # type: ignore[assignment]
    msisdns: dict[int, str | None] | None = None,
) -> InvoiceDraft:
    """The invoice of one account for one period, in arrears.

    Fees, usage and late usage per subscription, its add-ons bought in the period, one-off
    charges and credits, discounts, then device instalments (invoice discounts do not reduce
    a device's price). ``msisdns`` names subscriptions that are no longer active (an
    instalment or a late event of an ended subscription).
    """
    lines: list[Line] = []
    msisdn_of = dict(msisdns or {})
    msisdn_of.update({s.id: s.msisdn for s in subscriptions})
    by_sub: dict[int, list[UsageAggregate]] = defaultdict(list)
    for agg in aggregates:
        by_sub[agg.subscription_id].append(agg)
    addons_by_sub: dict[int | None, list[AddonCharge]] = defaultdict(list)
    for addon in sorted(addons, key=lambda a: (a.bought_on, a.addon_id)):
        addons_by_sub[addon.subscription_id].append(addon)
    for sub in sorted(subscriptions, key=lambda s: s.number):
        lines.extend(fee_lines(catalogue, sub, period))
        lines.extend(usage_lines(catalogue, by_sub.pop(sub.id, []), period, msisdn_of))
        lines.extend(addon_line(a, sub.msisdn) for a in addons_by_sub.pop(sub.id, []))
    for rest in by_sub.values():  # usage of subscriptions no longer active (late events)
        lines.extend(usage_lines(catalogue, rest, period, msisdn_of))
    for sub_id, rest_addons in addons_by_sub.items():
        lines.extend(addon_line(a, msisdn_of.get(sub_id) if sub_id else None) for a in rest_addons)
    for charge in one_offs:
        lines.append(
            Line(
                charge.description,
                Decimal(1),
                "st",
                ore_to_kr(charge.amount_ore),
                charge.vat_rate,
                charge.amount_ore,
                "one_off",
                charge.subscription_id,
                msisdn_of.get(charge.subscription_id) if charge.subscription_id else None,
            )
        )
    lines.extend(discount_lines(catalogue, list(grants), period, lines))
    for plan, charges in instalments:
        lines.extend(
            instalment_lines(plan, charges, msisdn_of.get(plan.subscription_id) if plan.subscription_id else None)
        )
    return InvoiceDraft(
        customer_id=customer_id,
        period=period,
        lines=tuple(lines),
        **totals(lines, ore_rounding=catalogue.operator.ore_rounding),
    )


@dataclass(frozen=True, slots=True)
class CarriedBalance:
    """A past-due small balance of an earlier invoice, carried to this one (rules §5)."""

    invoice_number: str
    amount_ore: int


def with_carried(draft: InvoiceDraft, carried: list[CarriedBalance], *, ore_rounding: bool) -> InvoiceDraft:
    """``draft`` with one line per carried balance, outside VAT (rate 0), naming the invoice it comes from."""
    if not carried:
        return draft
    lines = list(draft.lines) + [
        Line(
            f"Ej betalt från faktura {c.invoice_number}",
            Decimal(1),
            "st",
            ore_to_kr(c.amount_ore),
            Decimal(0),
            c.amount_ore,
            "carried",
        )
        for c in carried
    ]
    return replace(draft, lines=tuple(lines), **totals(lines, ore_rounding=ore_rounding))


def issue(
    draft: InvoiceDraft, number: str, invoice_date: date, terms_days: int, ocr: str | None = None
) -> InvoiceDraft:
    """Give a draft its number, OCR reference, invoice date and due date."""
    return replace(
        draft,
        number=number,
        ocr=ocr or ocr_reference(number),
        invoice_date=invoice_date,
        due_date=invoice_date + timedelta(days=terms_days),
    )


def credit_note_lines(
    original: list[Line],
    *,
    amount_ore: int | None = None,
    vat_rate: Decimal | None = None,
    line_indexes: list[int] | None = None,
    reason: str = "",
) -> list[Line]:
    """Lines of a credit note: the whole invoice, some of its lines, or an amount at a VAT rate."""
    if amount_ore is not None:
        if amount_ore <= 0:
            raise Invalid("amount_ore", "a credit is a positive amount to take off")
        rate = vat_rate if vat_rate is not None else (original[0].vat_rate if original else Decimal("0.25"))
        return [
            Line(
                f"Kreditering: {reason}" if reason else "Kreditering",
                Decimal(1),
                "st",
                None,
                rate,
                -amount_ore,
                "credit",
                description_en=f"Credit: {reason}" if reason else "Credit",
            )
        ]
    chosen = original if line_indexes is None else [original[i] for i in line_indexes]
    return [replace(ln, amount_ore=-ln.amount_ore, kind="credit", quantity=-ln.quantity) for ln in chosen]


def credit_note_rounding(gross_ore: int, creditable_ore: int, *, ore_rounding: bool) -> int:
    """Öresavrundning of a credit note of ``gross_ore`` (≤ 0) on an invoice with ``creditable_ore`` left.

    Rounded like an invoice (rules §1): the amount credited to whole kronor, half up on its size,
    so what is left to pay stays whole kronor; never more than is left to credit.
    """
    if not ore_rounding or gross_ore >= 0:
        return 0
    credited = min(round_half_up_div(-gross_ore, 100) * 100, creditable_ore)
    return -credited - gross_ore


def draft_from_lines(
    customer_id: int,
    period: Period,
    lines: list[Line],
    *,
    kind: str,
    ore_rounding: bool,
    rounding_ore: int | None = None,
) -> InvoiceDraft:
    """A draft for given lines (credit notes, replacement invoices)."""
    t = totals(lines, ore_rounding=ore_rounding)
    if rounding_ore is not None:
        t["rounding_ore"] = rounding_ore
        t["amount_due_ore"] = t["gross_ore"] + rounding_ore
    return InvoiceDraft(customer_id=customer_id, period=period, lines=tuple(lines), kind=kind, **t)
