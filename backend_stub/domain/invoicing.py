"""Invoice building: from a period's fees, usage and discounts to lines, VAT and totals.

Pure: ``build_invoice`` is a function of plain values (the account's subscriptions, the
period, the aggregated rated usage, the discounts) and returns an ``InvoiceDraft``. The
number, OCR and dates are given to it when it is issued (``issue``). Rounding happens in
exactly one place per line (``money.exact_to_ore`` / ``round_half_up_div``); VAT per rate
follows ``vat = round_half_up(gross × r / (1 + r))`` (rules §1).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from babel.dates import format_date

from backend_stub.domain.catalogue import FAIR_USE_NAME_EN, Catalogue, Discount, Rate, in_language
from backend_stub.domain.errors import Invalid
from backend_stub.domain.money import (
    EXACT_PER_KR,
    PRICING_UNITS,
    exact_to_ore,
    ore_to_kr,
    round_fraction,
    round_half_up_div,
)
from backend_stub.domain.ocr import ocr_reference
from backend_stub.domain.periods import Period, Subscription, period_for
from selfcare_common.money_format import format_kr

MONTHS_SV = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]
# Units as an English line reads them ("1 mo × 199.00", "7 × 0.99"); the stored unit is Swedish.
UNITS_EN = {"mån": "mo", "st": "", "s": "s", "min": "min", "kB": "kB", "MB": "MB", "GB": "GB"}


def unit_in(unit: str, lang: str) -> str:
    """A line's unit as ``lang`` writes it (``mån`` → ``mo`` in English)."""
    return UNITS_EN.get(unit, unit) if lang == "en" else unit


class IdentityCache:
    """Values derived from immutable catalogue objects (the catalogue, a plan, a rate), by the object's
    identity and plain values: a bill run asks the same ones for every account.

    Each entry keeps its object, so an id is never taken for another object's while cached. Bounded.
    """

    def __init__(self, maxsize: int = 4096):
        self._entries: dict[tuple[int, Any], tuple[Any, Any]] = {}
        self._maxsize = maxsize

    def get(self, obj: Any, key: Any, compute: Any) -> Any:
        """The value for ``(obj, key)``, from ``compute()`` the first time."""
        entry = self._entries.get((id(obj), key))
        if entry is not None and entry[0] is obj:
            return entry[1]
        value = compute()
        if len(self._entries) >= self._maxsize:
            self._entries.clear()
        self._entries[(id(obj), key)] = (obj, value)
        return value


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
            "quantity": _dec_str(self.quantity),
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


@dataclass(frozen=True, slots=True)
class UsageAggregate:
    """Rated usage of one subscription summed per rate (what ``storage`` aggregates in SQL)."""

    subscription_id: int
    period_start: date
    rate_key: str
    offpeak: bool
    charged_units: int
    usage_exact: int  # usage part of the charge
    fee_count: int
    fee_exact: int
    surcharge_units: int
    surcharge_exact: int


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
        f"{charge.name}, köpt {_day_label(charge.bought_on)}",
        Decimal(1),
        "st",
        ore_to_kr(charge.amount_ore),
        charge.vat_rate,
        charge.amount_ore,
        "addon",
        charge.subscription_id,
        msisdn,
        rate_key=f"addon/{charge.addon_id}",
        description_en=f"{charge.name_en or charge.name}, bought {_day_label_en(charge.bought_on)}",
    )


def _dec_str(value: Decimal) -> str:
    text = format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    return text


def _day_label(day: date) -> str:
    return f"{day.day} {MONTHS_SV[day.month - 1]}"


@lru_cache(maxsize=1024)
def _day_label_en(day: date) -> str:
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


_CACHE = IdentityCache()  # per catalogue and rate: what every invoice of a bill run asks again


def _rates_of(catalogue: Catalogue) -> dict[str, Rate]:
    """``_rate_index`` of ``catalogue``, built once (shared: read it, never change it)."""
    return _CACHE.get(catalogue, "rates", lambda: _rate_index(catalogue))


def _rate_texts(rate: Rate | None, rate_key: str) -> tuple[str, str, str, str, Decimal | None]:
    """A rate's line texts: (name, English name, connection fee text, its English, fee per call in kr)."""
    name = rate.name if rate else rate_key
    name_en = in_language(rate, "en") if rate else rate_key
    fee_price = Fraction(rate.connection_fee_exact, EXACT_PER_KR) if rate else None
    return (
        name,
        name_en,
        f"Öppningsavgift {name.removeprefix('Samtal ')}",
        f"Connection fee, {_fee_target_en(rate, name_en)}",
        Decimal(fee_price.numerator) / Decimal(fee_price.denominator) if fee_price else None,
    )


def _rate_index(catalogue: Catalogue) -> dict[str, Rate]:
    index: dict[str, Rate] = {}
    for tariff in catalogue.tariffs.values():
        for rate in tariff.rates.values():
            index[rate.key] = rate
    for zone in catalogue.zones:
        for rate in zone.rates.values():
            index[rate.key] = rate
    surcharge = catalogue.roaming.fair_use_surcharge
    index[surcharge.key] = surcharge
    return index


def _quantity(units: int, per: str) -> Decimal:
    """Base units (seconds, messages, bytes) in the rate's pricing unit, 4 decimals at most."""
    q = Decimal(units) / Decimal(PRICING_UNITS[per])
    return q.quantize(Decimal("0.0001")).normalize() if q != q.to_integral_value() else q.to_integral_value()


_UNIT_LABEL = {"second": "s", "minute": "min", "message": "st", "kB": "kB", "MB": "MB", "GB": "GB"}


def usage_lines(
    catalogue: Catalogue,
    aggregates: list[UsageAggregate],
    period: Period,
    msisdn_of: dict[int, str | None],
) -> list[Line]:
    """Invoice lines for rated usage: one per (subscription, rate, band, period), fees apart.

    Usage of an earlier period (late events) gets lines of its own naming that period.
    Each line is the exact sum of its events' charges, rounded once.
    """
    rates = _rates_of(catalogue)
    vat_rate = catalogue.operator.vat_rate
    lines: list[Line] = []
    for agg in sorted(aggregates, key=lambda a: (a.subscription_id, a.period_start, a.rate_key, a.offpeak)):
        rate = rates.get(agg.rate_key)
        late = agg.period_start < period.start
        label = f"{agg.period_start.year:04d}-{agg.period_start.month:02d}" if late else None
        kind = "late_usage" if late else "usage"
        suffix = f" (period {label})" if late else ""
        if rate is None:
            name, name_en, fee_text, fee_text_en, fee_unit_price = _rate_texts(None, agg.rate_key)
        else:
            name, name_en, fee_text, fee_text_en, fee_unit_price = _CACHE.get(
                rate, "texts", lambda rate=rate: _rate_texts(rate, rate.key)
            )
        msisdn = msisdn_of.get(agg.subscription_id)
        if agg.usage_exact or agg.charged_units and (rate is None or rate.exact_per_unit):
            per = rate.per if rate else "second"
            price = (rate.offpeak_price if agg.offpeak else rate.price) if rate else None
            lines.append(
                Line(
                    description=f"{name}{' lågtrafik' if agg.offpeak else ''}{suffix}",
                    description_en=f"{name_en}{' off-peak' if agg.offpeak else ''}{suffix}",
                    quantity=_quantity(agg.charged_units, per),
                    unit=_UNIT_LABEL[per],
                    unit_price=price,
                    vat_rate=vat_rate,
                    amount_ore=exact_to_ore(agg.usage_exact),
                    kind=kind,
                    subscription_id=agg.subscription_id,
                    msisdn=msisdn,
                    period_label=label,
                    rate_key=agg.rate_key,
                )
            )
        if agg.fee_exact:
            lines.append(
                Line(
                    description=f"{fee_text}{suffix}",
                    description_en=f"{fee_text_en}{suffix}",
                    quantity=Decimal(agg.fee_count),
                    unit="st",
                    unit_price=fee_unit_price,
                    vat_rate=vat_rate,
                    amount_ore=exact_to_ore(agg.fee_exact),
                    kind="connection_fee" if not late else "late_usage",
                    subscription_id=agg.subscription_id,
                    msisdn=msisdn,
                    period_label=label,
                    rate_key=agg.rate_key,
                )
            )
        if agg.surcharge_exact:
            surcharge = catalogue.roaming.fair_use_surcharge
            lines.append(
                Line(
                    description=f"{surcharge.name}{suffix}",
                    description_en=f"{surcharge.name_en or FAIR_USE_NAME_EN}{suffix}",
                    quantity=_quantity(agg.surcharge_units, surcharge.per),
                    unit=_UNIT_LABEL[surcharge.per],
                    unit_price=surcharge.price,
                    vat_rate=vat_rate,
                    amount_ore=exact_to_ore(agg.surcharge_exact),
                    kind=kind,
                    subscription_id=agg.subscription_id,
                    msisdn=msisdn,
                    period_label=label,
                    rate_key=surcharge.key,
                )
            )
    return lines


def _fee_target_en(rate: Rate | None, name_en: str) -> str:
    """What a connection fee is for, in English: "calls to Sweden premium numbers"."""
    if rate is not None and rate.name_en.startswith("Calls "):
        return "c" + rate.name_en[1:]
    return name_en


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
                description=f"{plan.name}, {_day_label(start)}–{_day_label(end)}",
                description_en=f"{in_language(plan, 'en')}, {_day_label_en(start)}–{_day_label_en(end)}",
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
