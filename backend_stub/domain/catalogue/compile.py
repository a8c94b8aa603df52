"""Compiling a validated catalogue document into the values of ``catalogue.values``.

Every problem is collected, not only the first: a file with several mistakes reports them all at once,
each naming its field (``plans[2].tariff: unknown tariff 'mobi'``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pydantic import ValidationError

from backend_stub.domain.catalogue.schema import (
    CatalogueError,
    CatalogueIn,
    OperatorIn,
    RateIn,
    ZoneIn,
    missing_english,
    pydantic_error,
    without_bad_items,
)
from backend_stub.domain.catalogue.values import (
    ALERT_POOLS,
    FAIR_USE_NAME,
    FAIR_USE_NAME_EN,
    MAX_INSTALMENT_MONTHS,
    SERVICES,
    UNLIMITED,
    Addon,
    Allowance,
    Catalogue,
    Destination,
    Device,
    Discount,
    Offpeak,
    Operator,
    Plan,
    Rate,
    RoamingSettings,
    Tariff,
    Zone,
    instalment_amounts,
)
from backend_stub.domain.money import MoneyError, exact_per_base_unit, kr_to_ore, parse_decimal

_ALLOWANCE_UNITS = {
    "data": {"GB": 1_000_000_000, "MB": 1_000_000, "kB": 1_000},
    "voice": {"min": 60},
    "sms": {"": 1, "st": 1, "sms": 1},
    "mms": {"": 1, "st": 1, "mms": 1},
}


def parse_allowance(pool: str, text: str, *, field: str) -> Allowance:
    """Parse ``"5 GB"``, ``"300 min"``, ``"100"`` or ``"unlimited"`` for an allowance pool."""
    text = str(text).strip()
    units = _ALLOWANCE_UNITS.get(pool)
    if units is None:
        raise CatalogueError([f"{field}: unknown allowance pool {pool!r} (use {', '.join(_ALLOWANCE_UNITS)})"])
    if text.lower() in ("unlimited", "obegränsat", "obegränsad"):
        return Allowance(pool, UNLIMITED, next(iter(units)), next(iter(units.values())), "obegränsat")
    m = re.fullmatch(r"(\d+)\s*([A-Za-z]*)", text)
    if not m or m.group(2) not in units:
        allowed = ", ".join(f"'N {u}'" if u else "'N'" for u in units)
        raise CatalogueError([f"{field}: {text!r} is not an allowance; write {allowed} or 'unlimited'"])
    amount, unit = int(m.group(1)), m.group(2)
    size = units[unit]
    label = f"{amount} {unit}".strip() if unit else f"{amount} st"
    return Allowance(pool, amount * size, unit or "st", size, label)


def _increment(rate: RateIn, field: str) -> tuple[int, int]:
    inc = rate.increment
    if rate.service == "voice":
        if inc is None:
            return 1, 1
        m = re.fullmatch(r"(\d+)/(\d+)", str(inc))
        if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
            raise CatalogueError([f"{field}.increment: write voice increments as 'a/b', e.g. '60/60'"])
        return int(m.group(1)), int(m.group(2))
    if rate.service == "data":
        if inc is None:
            return 1000, 1000
        if isinstance(inc, str) and not (inc.isascii() and inc.isdigit()) or int(inc) < 1:
            raise CatalogueError([f"{field}.increment: data increment is a whole number of bytes ≥ 1"])
        return int(inc), int(inc)
    if inc is not None:
        raise CatalogueError([f"{field}.increment: {rate.service} is charged per message, no increment"])
    return 1, 1


_SERVICE_UNITS = {"voice": ("second", "minute"), "sms": ("message",), "mms": ("message",), "data": ("kB", "MB", "GB")}


def _collecting(errors: list[str], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(...)``, or None with its problems added to ``errors``: a catalogue reports every error at once."""
    try:
        return fn(*args, **kwargs)
    except CatalogueError as exc:
        errors.extend(exc.errors)
    except MoneyError as exc:
        errors.append(str(exc))
    return None


def _compile_rate(rate: RateIn, *, key: str, name: str, category: str, field: str, name_en: str = "") -> Rate:
    errors: list[str] = []

    def check(fn, *args, **kwargs):  # every problem of the rate, not only the first
        return _collecting(errors, fn, *args, **kwargs)

    if rate.per not in _SERVICE_UNITS[rate.service]:
        errors.append(f"{field}.per: {rate.service} is priced per {' or '.join(_SERVICE_UNITS[rate.service])}")
    price = check(parse_decimal, rate.price, field=f"{field}.price")
    exact = None
    if price is not None and price < 0:
        errors.append(f"{field}.price: must not be negative")
    elif price is not None and not errors:
        exact = check(exact_per_base_unit, price, rate.per, field=f"{field}.price")
    blocks = check(_increment, rate, field)
    fee = 0
    if rate.connection_fee is not None:
        if rate.service != "voice":
            errors.append(f"{field}.connection_fee: only voice rates have a connection fee")
        else:
            fee_kr = check(parse_decimal, rate.connection_fee, field=f"{field}.connection_fee")
            if fee_kr is not None:
                fee = check(exact_per_base_unit, fee_kr, "message", field=f"{field}.connection_fee") or 0
    off_exact = off_price = None
    if rate.offpeak_price is not None:
        off_price = check(parse_decimal, rate.offpeak_price, field=f"{field}.offpeak_price")
        if off_price is not None and rate.per in _SERVICE_UNITS[rate.service]:
            off_exact = check(exact_per_base_unit, off_price, rate.per, field=f"{field}.offpeak_price")
    if rate.allowance and rate.allowance not in _ALLOWANCE_UNITS:
        errors.append(f"{field}.allowance: unknown allowance pool {rate.allowance!r}")
    if errors:
        raise CatalogueError(errors)
    assert price is not None and exact is not None and blocks is not None
    return Rate(
        key=key,
        service=rate.service,
        name=name,
        category=category,
        price=price,
        per=rate.per,
        exact_per_unit=exact,
        first_block=blocks[0],
        next_block=blocks[1],
        connection_fee_exact=fee,
        allowance=rate.allowance,
        offpeak_exact_per_unit=off_exact,
        offpeak_price=off_price,
        name_en=name_en,
    )


_SERVICE_NAMES = {"voice": "Samtal", "sms": "SMS", "mms": "MMS", "data": "Surf"}
_SERVICE_NAMES_EN = {"voice": "Calls", "sms": "SMS", "mms": "MMS", "data": "Data"}


def _parse_time(text: str, field: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise CatalogueError([f"{field}: {text!r} is not a time like '18:00'"]) from None


@dataclass
class _Compiling:
    """A compilation under way: the errors so far, and which items of the list sections passed the schema."""

    errors: list[str]
    kept: dict[str, list[int]] = field(default_factory=dict)  # original index of each item that passed
    left_out: dict[str, set[Any]] = field(default_factory=dict)  # ids left out, so nothing reports them as unknown

    def numbered(self, section: str, items: list[Any]) -> Iterator[tuple[int, Any]]:
        """Each item with its index in the file (items left out keep their numbers out of the paths)."""
        return zip(self.kept.get(section, range(len(items))), items, strict=True)

    def left_out_id(self, section: str, item_id: Any) -> bool:
        return item_id in self.left_out.get(section, ())

    def guard(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(...)``, or None with its errors collected instead of stopping at the first."""
        return _collecting(self.errors, fn, *args, **kwargs)


def compile_catalogue(raw: dict[str, Any]) -> Catalogue:
    """Validate a catalogue document (the parsed TOML) and compile it.

    Every error is collected and raised in one ``CatalogueError``: items that fail the
    schema are left out and the rest is still checked (keeping each item's own index in
    the error paths), so a file with several mistakes reports them all at once.
    """
    doc, c = _validated(raw)
    operator = _operator(c, doc.operator)
    vat_rate = operator.vat_rate
    destinations, prefixes = _destinations(c, doc)
    tariffs = _tariffs(c, doc, destinations)
    zones, country_zone, default_zone = _zones(c, doc)
    roaming = _roaming(c, doc, destinations, vat_rate)
    plans = _plans(c, doc, tariffs, vat_rate)
    addons = _addons(c, doc, plans)
    discounts = _discounts(c, doc)
    devices = _devices(c, doc, vat_rate)
    alert_percent = _alert_percent(c, doc.settings.usage_alert_percent)
    if c.errors:
        raise CatalogueError(c.errors)
    assert roaming is not None
    return Catalogue(
        operator=operator,
        roaming=roaming,
        destinations=destinations,
        prefixes=prefixes,
        tariffs=tariffs,
        zones=tuple(zones),
        country_zone=country_zone,
        default_zone=default_zone,
        plans=plans,
        addons=addons,
        discounts=discounts,
        source=raw,
        max_prefix_len=max((len(p) for p in prefixes), default=2),
        devices=devices,
        warnings=tuple(missing_english(doc)),
        alert_percent=alert_percent,
    )


def _validated(raw: dict[str, Any]) -> tuple[CatalogueIn, _Compiling]:
    """The document, or what is left of it without the items that fail the schema (their errors kept)."""
    kept: dict[str, list[int]] = {}
    left_out: dict[str, set[Any]] = {}
    try:
        return CatalogueIn.model_validate(raw), _Compiling([])
    except ValidationError as exc:
        errors = [pydantic_error(e) for e in exc.errors()]
        partial = without_bad_items(raw, exc, kept, left_out)
        if partial is None:
            raise CatalogueError(errors) from None
        return partial, _Compiling(errors, kept, left_out)


def _operator(c: _Compiling, op: OperatorIn) -> Operator:
    """The operator's own facts; its VAT rate is the default of every plan and device."""
    vat_rate = c.guard(parse_decimal, op.vat_rate, field="operator.vat_rate")
    if vat_rate is None:  # not `or`: a 0 % rate is a rate
        vat_rate = Decimal("0.25")
    return Operator(
        name=op.name,
        org_number=op.org_number,
        vat_number=op.vat_number,
        address=tuple(op.address),
        bankgiro=op.bankgiro,
        support_email=op.support_email,
        support_phone=op.support_phone,
        website=op.website,
        disputes=op.disputes,
        late_interest_note=op.late_interest_note,
        payment_terms_days=op.payment_terms_days,
        ore_rounding=op.ore_rounding,
        vat_rate=vat_rate,
        disputes_en=op.disputes_en,
        late_interest_note_en=op.late_interest_note_en,
    )


def _destinations(c: _Compiling, doc: CatalogueIn) -> tuple[dict[str, Destination], dict[str, str]]:
    """The destination classes and the prefix table (each prefix in one class only)."""
    destinations: dict[str, Destination] = {}
    prefixes: dict[str, str] = {}
    for i, dest in c.numbered("destinations", doc.destinations):
        f = f"destinations[{i}]"
        if dest.id in destinations:
            c.errors.append(f"{f}.id: duplicate destination {dest.id!r}")
        if dest.eea and dest.category != "international":
            c.errors.append(f"{f}.eea: only an international class is marked as EU/EEA numbers")
        destinations[dest.id] = Destination(dest.id, dest.name, dest.category, dest.eea, dest.name_en)
        for p in dest.prefixes:
            if p in prefixes and prefixes[p] != dest.id:
                c.errors.append(f"{f}.prefixes: {p} is already used by destination {prefixes[p]!r}")
            prefixes[p] = dest.id
    return destinations, prefixes


def _tariffs(c: _Compiling, doc: CatalogueIn, destinations: dict[str, Destination]) -> dict[str, Tariff]:
    """The usage tariffs: a rate per service and destination class (data has one rate), and off-peak hours."""
    tariffs: dict[str, Tariff] = {}
    for i, t in c.numbered("tariffs", doc.tariffs):
        f = f"tariffs[{i}]"
        rates: dict[tuple[str, str], Rate] = {}
        for j, r in enumerate(t.rates):
            _add_tariff_rate(c, rates, t.id, r, f"{f}.rates[{j}]", destinations)
        offpeak = None
        if t.offpeak:
            wd = t.offpeak.weekdays
            offpeak = Offpeak(
                c.guard(_parse_time, wd.from_, f"{f}.offpeak.weekdays.from") if wd else None,
                c.guard(_parse_time, wd.to, f"{f}.offpeak.weekdays.to") if wd else None,
                t.offpeak.weekend,
            )
        if t.id in tariffs:
            c.errors.append(f"{f}.id: duplicate tariff {t.id!r}")
        tariffs[t.id] = Tariff(t.id, t.name, rates, offpeak)
    return tariffs


def _add_tariff_rate(
    c: _Compiling,
    rates: dict[tuple[str, str], Rate],
    tariff_id: str,
    r: RateIn,
    rf: str,
    destinations: dict[str, Destination],
) -> None:
    """One rate of a tariff, named after its service and destination class (data: "Surf")."""
    if r.service == "data":
        if r.destination:
            c.errors.append(f"{rf}.destination: data rates have no destination")
        dest_key, name, category = "", "Surf", "domestic"
        name_en = "Data"
    else:
        if not r.destination or r.destination not in destinations:
            if not c.left_out_id("destinations", r.destination):
                c.errors.append(f"{rf}.destination: unknown destination {r.destination!r}")
            return
        dest = destinations[r.destination]
        dest_key, name, category = dest.id, f"{_SERVICE_NAMES[r.service]} {dest.name}", dest.category
        name_en = f"{_SERVICE_NAMES_EN[r.service]} to {dest.name_en}" if dest.name_en else ""
    if (r.service, dest_key) in rates:
        c.errors.append(f"{rf}: a second {r.service} rate for {dest_key or 'data'}")
    rate = c.guard(
        _compile_rate,
        r,
        key=f"{tariff_id}/{r.service}/{dest_key or 'data'}",
        name=name,
        category=category,
        field=rf,
        name_en=name_en,
    )
    if rate:
        rates[(r.service, dest_key)] = rate


def _zones(c: _Compiling, doc: CatalogueIn) -> tuple[list[Zone], dict[str, Zone], Zone | None]:
    """The roaming zones, each visited country in one zone, and the zone of every other country ("*")."""
    zones: list[Zone] = []
    country_zone: dict[str, Zone] = {}
    default_zone = None
    for i, z in c.numbered("roaming_zones", doc.roaming_zones):
        f = f"roaming_zones[{i}]"
        zone = _zone(c, z, f)
        zones.append(zone)
        for country in z.countries:
            if country == "*":
                if default_zone is not None:
                    c.errors.append(f"{f}.countries: only one zone may use '*'")
                default_zone = zone
            elif not re.fullmatch(r"[A-Z]{2}", country):
                c.errors.append(f"{f}.countries: {country!r} is not an ISO 3166-1 alpha-2 code")
            elif country in country_zone:
                c.errors.append(f"{f}.countries: {country} is already in zone {country_zone[country].id!r}")
            else:
                country_zone[country] = zone
    if "SE" in country_zone:
        c.errors.append("roaming_zones: SE is the home network, not a roaming country")
    return zones, country_zone, default_zone


def _zone(c: _Compiling, z: ZoneIn, f: str) -> Zone:
    """One roaming zone: the EU/EEA zone roams like at home; any other zone prices all four services."""
    zrates: dict[str, Rate] = {}
    if z.eu and z.rates:
        c.errors.append(f"{f}.rates: the EU/EEA zone roams like at home and has no rates of its own")
    for j, r in enumerate(z.rates):
        if r.destination:
            c.errors.append(f"{f}.rates[{j}].destination: roaming rates apply to any destination")
        rate = c.guard(
            _compile_rate,
            r,
            key=f"roaming/{z.id}/{r.service}",
            name=f"{_SERVICE_NAMES[r.service]} utomlands, {z.name}",
            category="roaming",
            field=f"{f}.rates[{j}]",
            name_en=f"{_SERVICE_NAMES_EN[r.service]} abroad, {z.name_en}" if z.name_en else "",
        )
        if rate:
            zrates[r.service] = rate
    if not z.eu:
        for service in SERVICES:
            if service not in zrates:
                c.errors.append(f"{f}.rates: no {service} rate (a zone outside the EU/EEA needs all four)")
    return Zone(z.id, z.name, z.eu, frozenset(z.countries), zrates, z.name_en)


def _roaming(
    c: _Compiling, doc: CatalogueIn, destinations: dict[str, Destination], vat_rate: Decimal
) -> RoamingSettings | None:
    """The EU roaming settings (None only with errors): wholesale caps, the fair-use surcharge, the spend limit."""
    s = doc.settings
    caps: dict[int, Decimal] = {}
    for year, cap in s.wholesale_data_cap_eur_per_gb.items():
        if not year.isdigit():
            c.errors.append(f"settings.wholesale_data_cap_eur_per_gb: {year!r} is not a year")
            continue
        caps[int(year)] = c.guard(
            parse_decimal, cap, field=f"settings.wholesale_data_cap_eur_per_gb.{year}"
        ) or Decimal(0)
    eur_to_sek = c.guard(parse_decimal, s.eur_to_sek, field="settings.eur_to_sek") or Decimal(1)
    surcharge = c.guard(
        _compile_rate,
        RateIn(service="data", price=s.eu_fair_use_surcharge.price, per=s.eu_fair_use_surcharge.per),
        key="roaming/eu/fair-use",
        name=FAIR_USE_NAME,
        category="eu_roaming",
        field="settings.eu_fair_use_surcharge",
        name_en=FAIR_USE_NAME_EN,
    )
    spend_limit = c.guard(kr_to_ore, s.roaming_data_spend_limit, field="settings.roaming_data_spend_limit") or 0
    calls_as = s.eu_roaming_calls_as or ""
    if (
        calls_as
        and not c.left_out_id("destinations", calls_as)
        and (calls_as not in destinations or destinations[calls_as].category != "domestic")
    ):
        c.errors.append(f"settings.eu_roaming_calls_as: {calls_as!r} is not a domestic destination class")
    notify = tuple(
        c.guard(parse_decimal, x, field="settings.roaming_data_notify_at") or Decimal(1)
        for x in s.roaming_data_notify_at
    )
    if surcharge and caps:
        # Regulation (EU) 2022/612 art. 8: the surcharge must not exceed the wholesale cap (ex VAT) of any
        # year it is charged in; one surcharge serves every listed year, so the lowest cap binds.
        cap_sek_per_gb_incl_vat = min(caps.values()) * eur_to_sek * (1 + vat_rate)
        per_gb = Fraction(surcharge.exact_per_unit * 1_000_000_000, 100 * 6 * 10**9)  # kr per GB
        if per_gb > Fraction(cap_sek_per_gb_incl_vat):
            c.errors.append("settings.eu_fair_use_surcharge: above the regulated wholesale cap")
    if surcharge is None:
        return None
    levels = _spend_limit_levels(c, s.roaming_data_spend_limit_levels, spend_limit)
    return RoamingSettings(caps, eur_to_sek, surcharge, spend_limit, notify, calls_as, levels)


def _spend_limit_levels(c: _Compiling, texts: list[str], default_ore: int) -> tuple[int, ...]:
    """The spending limits a subscriber may choose: above 0 kr, rising, the default among them (none: the default)."""
    f = "settings.roaming_data_spend_limit_levels"
    parsed = [c.guard(kr_to_ore, x, field=f) for x in texts]
    levels = tuple(x for x in parsed if x is not None)
    if not levels or len(levels) < len(parsed):
        return ()
    if min(levels) <= 0 or list(levels) != sorted(set(levels)):
        c.errors.append(f"{f}: amounts above 0 kr, rising, each once")
    elif default_ore not in levels:
        c.errors.append(f"{f}: roaming_data_spend_limit (the default) must be one of the levels")
    return levels


def _alert_percent(c: _Compiling, raw: list[Any] | dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """``settings.usage_alert_percent``: one list for every pool or a table per pool (a pool left out: none)."""
    f = "settings.usage_alert_percent"
    if isinstance(raw, list):
        return dict.fromkeys(ALERT_POOLS, _percents(c, raw, f))
    for pool in set(raw) - set(ALERT_POOLS):
        c.errors.append(f"{f}: {pool!r} is not a pool with alerts (use {', '.join(ALERT_POOLS)})")
    return {pool: _percents(c, raw[pool], f"{f}.{pool}") if pool in raw else () for pool in ALERT_POOLS}


def _percents(c: _Compiling, values: Any, f: str) -> tuple[int, ...]:
    if not isinstance(values, list) or not all(type(v) is int and 1 <= v <= 100 for v in values):
        c.errors.append(f"{f}: whole per cents from 1 to 100, e.g. [80, 100]")
        return ()
    if values != sorted(set(values)):
        c.errors.append(f"{f}: rising, each once, e.g. [80, 100]")
        return ()
    return tuple(values)


def _allowances(c: _Compiling, texts: dict[str, str], f: str) -> dict[str, Allowance]:
    """The allowance pools of a plan or add-on (``"5 GB"``, ``"unlimited"``), the bad ones reported."""
    allowances = {}
    for pool, text in texts.items():
        a = c.guard(parse_allowance, pool, text, field=f"{f}.allowances.{pool}")
        if a:
            allowances[pool] = a
    return allowances


def _plans(c: _Compiling, doc: CatalogueIn, tariffs: dict[str, Tariff], vat_rate: Decimal) -> dict[str, Plan]:
    """The plans: a mobile plan names its tariff; a plan's VAT rate is the operator's unless it says."""
    plans: dict[str, Plan] = {}
    for i, p in c.numbered("plans", doc.plans):
        f = f"plans[{i}]"
        fee = c.guard(kr_to_ore, p.monthly_fee, field=f"{f}.monthly_fee")
        tariff = None
        if p.kind == "mobile":
            if not p.tariff or p.tariff not in tariffs:
                if not c.left_out_id("tariffs", p.tariff):
                    c.errors.append(f"{f}.tariff: unknown tariff {p.tariff!r}")
            else:
                tariff = tariffs[p.tariff]
        allowances = _allowances(c, p.allowances, f)
        rate = c.guard(parse_decimal, p.vat_rate, field=f"{f}.vat_rate") if p.vat_rate else vat_rate
        if p.id in plans:
            c.errors.append(f"{f}.id: duplicate plan {p.id!r}")
        plans[p.id] = Plan(
            p.id,
            p.name,
            p.kind,
            fee or 0,
            vat_rate if rate is None else rate,
            tariff,
            allowances,
            p.description,
            p.on_sale,
            p.name_en,
            p.description_en,
        )
    return plans


def _addons(c: _Compiling, doc: CatalogueIn, plans: dict[str, Plan]) -> dict[str, Addon]:
    """The add-ons: extra allowances at a price, on the plans they name (none named: every mobile plan)."""
    addons: dict[str, Addon] = {}
    for i, a in c.numbered("addons", doc.addons):
        f = f"addons[{i}]"
        price = c.guard(kr_to_ore, a.price, field=f"{f}.price")
        allowances = _allowances(c, a.allowances, f)
        for pid in a.plans:
            if pid not in plans and not c.left_out_id("plans", pid):
                c.errors.append(f"{f}.plans: unknown plan {pid!r}")
        if a.id in addons:
            c.errors.append(f"{f}.id: duplicate add-on {a.id!r}")
        if price is not None and price < 0:
            c.errors.append(f"{f}.price: must not be negative")
        addons[a.id] = Addon(a.id, a.name, price or 0, allowances, frozenset(a.plans), a.name_en)
    return addons


def _discounts(c: _Compiling, doc: CatalogueIn) -> dict[str, Discount]:
    """The discounts: a percentage or an amount (exactly one), for a number of periods."""
    discounts: dict[str, Discount] = {}
    for i, dsc in c.numbered("discounts", doc.discounts):
        f = f"discounts[{i}]"
        if (dsc.percent is None) == (dsc.amount is None):
            c.errors.append(f"{f}: give exactly one of percent or amount")
            continue
        pct = amount = None
        if dsc.percent is not None:
            pct = c.guard(parse_decimal, dsc.percent, field=f"{f}.percent")
            if pct is not None and not (0 < pct <= 100):
                c.errors.append(f"{f}.percent: must be above 0 and at most 100")
        else:
            amount = c.guard(kr_to_ore, dsc.amount, field=f"{f}.amount")
            if amount is not None and amount <= 0:
                c.errors.append(f"{f}.amount: must be positive (it is subtracted)")
        discounts[dsc.id] = Discount(dsc.id, dsc.name, pct, amount, dsc.applies_to, dsc.periods, dsc.name_en)
    return discounts


def _devices(c: _Compiling, doc: CatalogueIn, vat_rate: Decimal) -> dict[str, Device]:
    """The devices sold on instalment: each term must pay the cash price off in whole öre."""
    devices: dict[str, Device] = {}
    for i, dv in c.numbered("devices", doc.devices):
        f = f"devices[{i}]"
        if dv.id in devices:
            c.errors.append(f"{f}.id: duplicate device {dv.id!r}")
        cash = c.guard(kr_to_ore, dv.cash_price, field=f"{f}.cash_price")
        if cash is not None and cash <= 0:
            c.errors.append(f"{f}.cash_price: must be above 0")
            cash = None
        for j, months in enumerate(dv.months):
            if not 1 <= months <= MAX_INSTALMENT_MONTHS:
                c.errors.append(f"{f}.months[{j}]: {months} is not a term of 1..{MAX_INSTALMENT_MONTHS} months")
            elif cash is not None and min(instalment_amounts(cash, months)) <= 0:
                c.errors.append(f"{f}.months[{j}]: {dv.cash_price} kr cannot be paid over {months} months")
        if len(set(dv.months)) != len(dv.months):
            c.errors.append(f"{f}.months: a term is listed twice")
        rate = c.guard(parse_decimal, dv.vat_rate, field=f"{f}.vat_rate") if dv.vat_rate else vat_rate
        if rate is not None and not 0 <= rate < 1:
            c.errors.append(f'{f}.vat_rate: {dv.vat_rate} is not a rate like "0.25"')
        devices[dv.id] = Device(
            dv.id,
            dv.name,
            cash or 0,
            tuple(sorted(dv.months)),
            vat_rate if rate is None else rate,
            dv.description,
            dv.name_en,
            dv.description_en,
        )
    return devices
