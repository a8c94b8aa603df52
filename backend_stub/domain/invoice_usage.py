"""The usage lines of an invoice: rated usage summed per rate (``UsageAggregate``) becomes one line per
rate and unit, with its allowance and the EU fair-use surcharge, in Swedish and English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from backend_stub.domain.catalogue import FAIR_USE_NAME_EN, Catalogue, Rate, in_language
from backend_stub.domain.invoice_lines import Line, fee_target_en
from backend_stub.domain.money import (
    EXACT_PER_KR,
    PRICING_UNITS,
    exact_to_ore,
)
from backend_stub.domain.periods import Period


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


_CACHE = IdentityCache()  # per catalogue and rate: what every invoice of a bill run asks again


def _rates_of(catalogue: Catalogue) -> dict[str, Rate]:
    """``rate_index`` of ``catalogue``, built once (shared: read it, never change it)."""
    return _CACHE.get(catalogue, "rates", lambda: rate_index(catalogue))


def _rate_texts(rate: Rate | None, rate_key: str) -> tuple[str, str, str, str, Decimal | None]:
    """A rate's line texts: (name, English name, connection fee text, its English, fee per call in kr)."""
    name = rate.name if rate else rate_key
    name_en = in_language(rate, "en") if rate else rate_key
    fee_price = Fraction(rate.connection_fee_exact, EXACT_PER_KR) if rate else None
    return (
        name,
        name_en,
        f"Öppningsavgift {name.removeprefix('Samtal ')}",
        f"Connection fee, {fee_target_en(rate, name_en)}",
        Decimal(fee_price.numerator) / Decimal(fee_price.denominator) if fee_price else None,
    )


def rate_index(catalogue: Catalogue) -> dict[str, Rate]:
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
    lines: list[Line] = []
    for agg in sorted(aggregates, key=lambda a: (a.subscription_id, a.period_start, a.rate_key, a.offpeak)):
        lines += _aggregate_lines(catalogue, rates.get(agg.rate_key), agg, period, msisdn_of.get(agg.subscription_id))
    return lines


def _aggregate_lines(
    catalogue: Catalogue, rate: Rate | None, agg: UsageAggregate, period: Period, msisdn: str | None
) -> list[Line]:
    """One aggregate's lines: its usage, its connection fees and its EU fair-use surcharge, each rounded once.
    Late usage (an earlier period's) says its period."""
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
    vat_rate = catalogue.operator.vat_rate
    lines: list[Line] = []
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
        lines.append(_surcharge_line(catalogue, agg, kind, suffix, label, msisdn))
    return lines


def _surcharge_line(
    catalogue: Catalogue, agg: UsageAggregate, kind: str, suffix: str, label: str | None, msisdn: str | None
) -> Line:
    """The EU fair-use surcharge on data roamed beyond fair use (its own rate, its own line)."""
    surcharge = catalogue.roaming.fair_use_surcharge
    return Line(
        description=f"{surcharge.name}{suffix}",
        description_en=f"{surcharge.name_en or FAIR_USE_NAME_EN}{suffix}",
        quantity=_quantity(agg.surcharge_units, surcharge.per),
        unit=_UNIT_LABEL[surcharge.per],
        unit_price=surcharge.price,
        vat_rate=catalogue.operator.vat_rate,
        amount_ore=exact_to_ore(agg.surcharge_exact),
        kind=kind,
        subscription_id=agg.subscription_id,
        msisdn=msisdn,
        period_label=label,
        rate_key=surcharge.key,
    )
