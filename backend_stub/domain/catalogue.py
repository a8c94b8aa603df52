"""The product catalogue: plans, tariffs, destinations, roaming zones, add-ons, discounts, devices.

The operator keeps the catalogue as a TOML file in version control (format in
``docs/catalogue.md``). ``load_catalogue`` validates it with pydantic and compiles it into
plain frozen values that the rating engine reads on its hot path. Every error names the
field, e.g. ``plans[2].tariff: unknown tariff 'mobi'``.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from backend_stub.domain.errors import Invalid
from backend_stub.domain.money import MoneyError, exact_per_base_unit, kr_to_ore, parse_decimal, round_half_up_div
from selfcare_common.toml_text import control_characters, printable

logger = logging.getLogger(__name__)

SERVICES = ("voice", "sms", "mms", "data")
CATEGORIES = ("domestic", "international", "premium")
UNLIMITED = -1

# --------------------------------------------------------------------------- errors


class CatalogueError(ValueError):
    """An invalid catalogue. ``errors`` lists every problem as ``field: message``.

    ``located`` is the same list for people, each error followed by its TOML line and the
    id of the item it is in, where the file's text is known (``load_catalogue``).
    """

    def __init__(self, errors: list[str], located: list[str] | None = None):
        self.errors = errors
        self.located = located if located is not None else list(errors)
        super().__init__("invalid catalogue:\n  " + "\n  ".join(errors))


# --------------------------------------------------------------------------- file schema

Money = str  # amounts are written as strings ("199.00"), never as TOML floats


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OperatorIn(_Model):
    name: str
    org_number: str
    vat_number: str
    address: list[str]
    bankgiro: str
    support_email: str
    support_phone: str
    website: str = ""
    disputes: str = ""
    late_interest_note: str = ""
    disputes_en: str = ""
    late_interest_note_en: str = ""
    payment_terms_days: int = Field(30, ge=0, le=365)
    ore_rounding: bool = True
    currency: Literal["SEK"] = "SEK"
    vat_rate: Money = "0.25"

    @field_validator("bankgiro")
    @classmethod
    def _bankgiro(cls, v: str) -> str:
        if not re.fullmatch(r"\d{3,4}-\d{4}", v):
            raise ValueError("a Bankgiro number looks like 5050-1055")
        return v


class PriceIn(_Model):
    price: Money
    per: Literal["second", "minute", "message", "kB", "MB", "GB"]


class SettingsIn(_Model):
    wholesale_data_cap_eur_per_gb: dict[str, Money]
    eur_to_sek: Money
    eu_fair_use_surcharge: PriceIn
    roaming_data_spend_limit: Money = "575.00"
    roaming_data_notify_at: list[Money] = ["0.8", "1.0"]
    # Roam like at home (Regulation (EU) 2022/612 art. 4): calls, SMS and MMS made while roaming in the
    # EU/EEA to a number in the EU/EEA cost what a call home to this domestic destination class costs.
    eu_roaming_calls_as: str | None = None


class DestinationIn(_Model):
    id: str
    name: str
    name_en: str = ""
    category: Literal["domestic", "international", "premium"]
    prefixes: list[str] = Field(min_length=1)
    eea: bool = False  # numbers in the EU/EEA (an international class whose calls roam like at home)

    @field_validator("prefixes")
    @classmethod
    def _prefixes(cls, v: list[str]) -> list[str]:
        for p in v:
            if not re.fullmatch(r"\+\d{1,15}", p):
                raise ValueError(f"prefix {p!r} must be '+' and digits (E.164)")
        return v


class RateIn(_Model):
    service: Literal["voice", "sms", "mms", "data"]
    destination: str | None = None
    price: Money
    per: Literal["second", "minute", "message", "kB", "MB", "GB"]
    increment: str | int | None = None
    connection_fee: Money | None = None
    offpeak_price: Money | None = None
    allowance: str = ""


class BandIn(_Model):
    from_: str = Field(alias="from")
    to: str


class OffpeakIn(_Model):
    weekdays: BandIn | None = None
    weekend: bool = False


class TariffIn(_Model):
    id: str
    name: str
    rates: list[RateIn]
    offpeak: OffpeakIn | None = None


class ZoneIn(_Model):
    id: str
    name: str
    name_en: str = ""
    eu: bool = False
    countries: list[str] = Field(min_length=1)
    rates: list[RateIn] = []


class PlanIn(_Model):
    id: str
    name: str
    kind: Literal["mobile", "broadband"]
    monthly_fee: Money
    tariff: str | None = None
    allowances: dict[str, str] = {}
    description: str = ""
    on_sale: bool = True
    vat_rate: Money | None = None
    name_en: str = ""
    description_en: str = ""


class AddonIn(_Model):
    id: str
    name: str
    price: Money
    allowances: dict[str, str] = {}
    plans: list[str] = []
    name_en: str = ""


class DeviceIn(_Model):
    id: str
    name: str
    cash_price: Money
    months: list[int] = Field(min_length=1)
    vat_rate: Money | None = None
    description: str = ""
    name_en: str = ""
    description_en: str = ""


class DiscountIn(_Model):
    id: str
    name: str
    percent: Money | None = None
    amount: Money | None = None
    applies_to: Literal["plan_fee", "invoice"]
    periods: int = Field(ge=1)
    name_en: str = ""


class CatalogueIn(_Model):
    operator: OperatorIn
    settings: SettingsIn
    destinations: list[DestinationIn]
    tariffs: list[TariffIn]
    roaming_zones: list[ZoneIn]
    plans: list[PlanIn] = Field(min_length=1)
    addons: list[AddonIn] = []
    discounts: list[DiscountIn] = []
    devices: list[DeviceIn] = []


# --------------------------------------------------------------------------- compiled values


@dataclass(frozen=True, slots=True)
class Rate:
    """One priced service: what a base unit (second, message, byte) costs, exactly."""

    key: str  # stable id used to group invoice lines, e.g. "mobil/voice/se-mobile"
    service: str
    name: str  # what the invoice line says
    category: str  # domestic, international, premium, eu_roaming, roaming
    price: Decimal  # as written, for the invoice's unit price
    per: str
    exact_per_unit: int
    first_block: int  # voice: a seconds; data: bytes increment; sms: 1
    next_block: int  # voice: b seconds
    connection_fee_exact: int
    allowance: str  # pool name, "" for none
    offpeak_exact_per_unit: int | None = None
    offpeak_price: Decimal | None = None
    name_en: str = ""  # the line's text in English ("" = the Swedish name)


@dataclass(frozen=True, slots=True)
class Offpeak:
    weekday_from: time | None
    weekday_to: time | None
    weekend: bool

    def is_offpeak(self, weekday: int, minute_of_day: int) -> bool:
        """Whether a local time (Monday = 0) falls in the off-peak band."""
        if self.weekend and weekday >= 5:
            return True
        if self.weekday_from is None or self.weekday_to is None:
            return False
        start = self.weekday_from.hour * 60 + self.weekday_from.minute
        end = self.weekday_to.hour * 60 + self.weekday_to.minute
        if start <= end:
            return start <= minute_of_day < end
        return minute_of_day >= start or minute_of_day < end


@dataclass(frozen=True, slots=True)
class Tariff:
    id: str
    name: str
    rates: dict[tuple[str, str], Rate]  # (service, destination id or "") -> rate
    offpeak: Offpeak | None


@dataclass(frozen=True, slots=True)
class Destination:
    id: str
    name: str
    category: str
    eea: bool = False
    name_en: str = ""


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    name: str
    eu: bool
    countries: frozenset[str]
    rates: dict[str, Rate]  # service -> rate
    name_en: str = ""


@dataclass(frozen=True, slots=True)
class Allowance:
    """An allowance in base units (seconds, messages, bytes), or unlimited."""

    pool: str
    amount: int  # base units, UNLIMITED = -1
    unit: str  # what the catalogue wrote the amount in: GB, MB, min, st
    unit_size: int  # base units per unit, for proration to whole units
    label: str  # "5 GB", "obegränsat"

    @property
    def unlimited(self) -> bool:
        return self.amount == UNLIMITED


@dataclass(frozen=True, slots=True)
class Plan:
    id: str
    name: str
    kind: str
    monthly_fee_ore: int
    vat_rate: Decimal
    tariff: Tariff | None
    allowances: dict[str, Allowance]
    description: str
    on_sale: bool
    name_en: str = ""
    description_en: str = ""

    @property
    def fee_ex_vat(self) -> Fraction:
        r = Fraction(self.vat_rate)
        return Fraction(self.monthly_fee_ore) / (1 + r)


@dataclass(frozen=True, slots=True)
class Addon:
    id: str
    name: str
    price_ore: int
    allowances: dict[str, Allowance]
    plans: frozenset[str]  # the plans it may be bought on; empty = every mobile plan
    name_en: str = ""


@dataclass(frozen=True, slots=True)
class Device:
    """A device sold on instalment: its cash price (incl. VAT) and the terms it may be paid over."""

    id: str
    name: str
    cash_price_ore: int
    months: tuple[int, ...]
    vat_rate: Decimal
    description: str = ""
    name_en: str = ""
    description_en: str = ""


@dataclass(frozen=True, slots=True)
class Discount:
    id: str
    name: str
    percent: Decimal | None
    amount_ore: int | None
    applies_to: str
    periods: int
    name_en: str = ""


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    org_number: str
    vat_number: str
    address: tuple[str, ...]
    bankgiro: str
    support_email: str
    support_phone: str
    website: str
    disputes: str
    late_interest_note: str
    payment_terms_days: int
    ore_rounding: bool
    vat_rate: Decimal
    disputes_en: str = ""
    late_interest_note_en: str = ""


@dataclass(frozen=True, slots=True)
class RoamingSettings:
    wholesale_cap_eur_per_gb: dict[int, Decimal]
    eur_to_sek: Decimal
    fair_use_surcharge: Rate
    data_spend_limit_ore: int
    notify_at: tuple[Decimal, ...]
    calls_as: str = ""  # domestic destination class pricing calls to EU/EEA numbers while EU roaming; "" = none

    def wholesale_cap(self, year: int) -> Decimal:
        """The regulated wholesale data cap for ``year`` (the latest known year before it)."""
        years = sorted(y for y in self.wholesale_cap_eur_per_gb if y <= year)
        if not years:
            years = sorted(self.wholesale_cap_eur_per_gb)
        return self.wholesale_cap_eur_per_gb[years[-1]]


DESTINATION_CACHE_SIZE = 200_000


@dataclass(frozen=True)
class Catalogue:
    """A validated, compiled catalogue. Plain values; safe to share between threads."""

    operator: Operator
    roaming: RoamingSettings
    destinations: dict[str, Destination]
    prefixes: dict[str, str]  # E.164 prefix -> destination id
    tariffs: dict[str, Tariff]
    zones: tuple[Zone, ...]
    country_zone: dict[str, Zone]
    default_zone: Zone | None
    plans: dict[str, Plan]
    addons: dict[str, Addon]
    discounts: dict[str, Discount]
    source: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)
    max_prefix_len: int = 16
    devices: dict[str, Device] = field(default_factory=dict)
    # Items without an English text (English shows the Swedish one): reported at load, not errors.
    warnings: tuple[str, ...] = ()
    # Numbers already looked up (subscribers call the same numbers again and again); bounded.
    _destination_cache: dict[str, Destination | None] = field(default_factory=dict, repr=False, compare=False)

    def destination_of(self, number: str) -> Destination | None:
        """The destination class of an E.164 number: longest prefix match."""
        cache = self._destination_cache
        try:
            return cache[number]
        except KeyError:
            pass
        found = None
        prefixes = self.prefixes
        for length in range(min(len(number), self.max_prefix_len), 1, -1):
            dest_id = prefixes.get(number[:length])
            if dest_id is not None:
                found = self.destinations[dest_id]
                break
        if len(cache) >= DESTINATION_CACHE_SIZE:
            cache.clear()
        cache[number] = found
        return found

    def zone_of(self, country: str) -> Zone | None:
        """The roaming zone of a visited country (ISO 3166-1 alpha-2)."""
        return self.country_zone.get(country, self.default_zone)

    def plan(self, plan_id: str) -> Plan:
        try:
            return self.plans[plan_id]
        except KeyError:
            raise KeyError(f"unknown plan {plan_id!r}") from None


# --------------------------------------------------------------------------- compilation

MAX_INSTALMENT_MONTHS = 60


def instalment_amounts(total_ore: int, months: int) -> tuple[int, int]:
    """(monthly amount, last month's amount) of ``total_ore`` paid over ``months``.

    The monthly amount is ``total / months`` rounded half up to whole öre; the last month
    takes what is left, so the months add up to the cash price exactly. 7 990 kr over 24
    months: 332,92 kr × 23 + 332,84 kr.
    """
    if months < 1:
        raise Invalid("months", "at least 1")
    monthly = round_half_up_div(total_ore, months)
    return monthly, total_ore - monthly * (months - 1)


_ALLOWANCE_UNITS = {
    "data": {"GB": 1_000_000_000, "MB": 1_000_000, "kB": 1_000},
    "voice": {"min": 60},
    "sms": {"": 1, "st": 1, "sms": 1},
    "mms": {"": 1, "st": 1, "mms": 1},
}


def allowance_label(pool: str, units: int) -> str:
    """A (prorated) allowance in base units as the invoice shows it: ``2 500 000 000`` data → ``"2,5 GB"``.

    Data in GB from 1 GB up, else MB; voice in minutes; messages whole. At most two decimals,
    rounded down, so the label never promises more than is included.
    """
    if units == UNLIMITED:
        return "obegränsat"
    if pool == "data":
        unit, size = ("GB", 1_000_000_000) if units >= 1_000_000_000 else ("MB", 1_000_000)
    elif pool == "voice":
        unit, size = "min", 60
    else:
        return f"{units} st"
    hundredths = units * 100 // size
    whole, rest = divmod(hundredths, 100)
    decimals = f"{rest:02d}".rstrip("0")
    return f"{whole}{',' + decimals if decimals else ''} {unit}"


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
FAIR_USE_NAME = "Surf i EU/EES utöver skälig användning"
FAIR_USE_NAME_EN = "Data in the EU/EEA beyond fair use"


def in_language(item: Any, lang: str, field: str = "name") -> str:
    """``item.<field>`` in ``lang``: the English text (``<field>_en``) for "en" where the catalogue has
    one, else the Swedish text (Swedish is the fallback)."""
    if lang == "en":
        english = getattr(item, f"{field}_en", "")
        if english:
            return english
    return getattr(item, field)


def _missing_english(doc: CatalogueIn) -> list[str]:
    """``section[i]: no name_en …`` for every subscriber-facing text without an English version."""
    out: list[str] = []

    def check(where: str, item: Any, *fields: str) -> None:
        missing = [f"{f}_en" for f in fields if getattr(item, f, "") and not getattr(item, f"{f}_en", "")]
        if missing:
            out.append(f"{where}: no {' or '.join(missing)} (English shows the Swedish text)")

    check("operator", doc.operator, "disputes", "late_interest_note")
    for section, fields in (
        ("destinations", ("name",)),
        ("roaming_zones", ("name",)),
        ("plans", ("name", "description")),
        ("addons", ("name",)),
        ("discounts", ("name",)),
        ("devices", ("name", "description")),
    ):
        for i, item in enumerate(getattr(doc, section)):
            check(f"{section}[{i}]", item, *fields)
    return out


def _parse_time(text: str, field: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise CatalogueError([f"{field}: {text!r} is not a time like '18:00'"]) from None


def compile_catalogue(raw: dict[str, Any]) -> Catalogue:
    """Validate a catalogue document (the parsed TOML) and compile it.

    Every error is collected and raised in one ``CatalogueError``: items that fail the
    schema are left out and the rest is still checked (keeping each item's own index in
    the error paths), so a file with several mistakes reports them all at once.
    """
    errors: list[str] = []
    kept: dict[str, list[int]] = {}  # original index of each item of a list section that passed the schema
    left_out: dict[str, set[str]] = {}  # ids of the items left out, so nothing reports them as unknown
    try:
        doc = CatalogueIn.model_validate(raw)
    except ValidationError as exc:
        errors = [_pydantic_error(e) for e in exc.errors()]
        partial = _without_bad_items(raw, exc, kept, left_out)
        if partial is None:
            raise CatalogueError(errors) from None
        doc = partial

    def numbered(section: str, items: list) -> Any:
        return zip(kept.get(section, range(len(items))), items, strict=True)

    def left_out_id(section: str, item_id: Any) -> bool:
        return item_id in left_out.get(section, ())

    def guard(fn, *args, **kwargs):  # collect errors instead of stopping at the first
        return _collecting(errors, fn, *args, **kwargs)

    op = doc.operator
    vat_rate = guard(parse_decimal, op.vat_rate, field="operator.vat_rate")
    if vat_rate is None:  # not `or`: a 0 % rate is a rate
        vat_rate = Decimal("0.25")
    operator = Operator(
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

    destinations: dict[str, Destination] = {}
    prefixes: dict[str, str] = {}
    for i, dest in numbered("destinations", doc.destinations):
        f = f"destinations[{i}]"
        if dest.id in destinations:
            errors.append(f"{f}.id: duplicate destination {dest.id!r}")
        if dest.eea and dest.category != "international":
            errors.append(f"{f}.eea: only an international class is marked as EU/EEA numbers")
        destinations[dest.id] = Destination(dest.id, dest.name, dest.category, dest.eea, dest.name_en)
        for p in dest.prefixes:
            if p in prefixes and prefixes[p] != dest.id:
                errors.append(f"{f}.prefixes: {p} is already used by destination {prefixes[p]!r}")
            prefixes[p] = dest.id

    tariffs: dict[str, Tariff] = {}
    for i, t in numbered("tariffs", doc.tariffs):
        f = f"tariffs[{i}]"
        rates: dict[tuple[str, str], Rate] = {}
        for j, r in enumerate(t.rates):
            rf = f"{f}.rates[{j}]"
            if r.service == "data":
                if r.destination:
                    errors.append(f"{rf}.destination: data rates have no destination")
                dest_key, name, category = "", "Surf", "domestic"
                name_en = "Data"
            else:
                if not r.destination or r.destination not in destinations:
                    if not left_out_id("destinations", r.destination):
                        errors.append(f"{rf}.destination: unknown destination {r.destination!r}")
                    continue
                dest = destinations[r.destination]
                dest_key, name, category = dest.id, f"{_SERVICE_NAMES[r.service]} {dest.name}", dest.category
                name_en = f"{_SERVICE_NAMES_EN[r.service]} to {dest.name_en}" if dest.name_en else ""
            if (r.service, dest_key) in rates:
                errors.append(f"{rf}: a second {r.service} rate for {dest_key or 'data'}")
            rate = guard(
                _compile_rate,
                r,
                key=f"{t.id}/{r.service}/{dest_key or 'data'}",
                name=name,
                category=category,
                field=rf,
                name_en=name_en,
            )
            if rate:
                rates[(r.service, dest_key)] = rate
        offpeak = None
        if t.offpeak:
            wd = t.offpeak.weekdays
            offpeak = Offpeak(
                guard(_parse_time, wd.from_, f"{f}.offpeak.weekdays.from") if wd else None,
                guard(_parse_time, wd.to, f"{f}.offpeak.weekdays.to") if wd else None,
                t.offpeak.weekend,
            )
        if t.id in tariffs:
            errors.append(f"{f}.id: duplicate tariff {t.id!r}")
        tariffs[t.id] = Tariff(t.id, t.name, rates, offpeak)

    zones: list[Zone] = []
    country_zone: dict[str, Zone] = {}
    default_zone = None
    for i, z in numbered("roaming_zones", doc.roaming_zones):
        f = f"roaming_zones[{i}]"
        zrates: dict[str, Rate] = {}
        if z.eu and z.rates:
            errors.append(f"{f}.rates: the EU/EEA zone roams like at home and has no rates of its own")
        for j, r in enumerate(z.rates):
            if r.destination:
                errors.append(f"{f}.rates[{j}].destination: roaming rates apply to any destination")
            rate = guard(
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
                    errors.append(f"{f}.rates: no {service} rate (a zone outside the EU/EEA needs all four)")
        zone = Zone(z.id, z.name, z.eu, frozenset(z.countries), zrates, z.name_en)
        zones.append(zone)
        for c in z.countries:
            if c == "*":
                if default_zone is not None:
                    errors.append(f"{f}.countries: only one zone may use '*'")
                default_zone = zone
            elif not re.fullmatch(r"[A-Z]{2}", c):
                errors.append(f"{f}.countries: {c!r} is not an ISO 3166-1 alpha-2 code")
            elif c in country_zone:
                errors.append(f"{f}.countries: {c} is already in zone {country_zone[c].id!r}")
            else:
                country_zone[c] = zone
    if "SE" in country_zone:
        errors.append("roaming_zones: SE is the home network, not a roaming country")

    s = doc.settings
    caps: dict[int, Decimal] = {}
    for year, cap in s.wholesale_data_cap_eur_per_gb.items():
        if not year.isdigit():
            errors.append(f"settings.wholesale_data_cap_eur_per_gb: {year!r} is not a year")
            continue
        caps[int(year)] = guard(parse_decimal, cap, field=f"settings.wholesale_data_cap_eur_per_gb.{year}") or Decimal(
            0
        )
    eur_to_sek = guard(parse_decimal, s.eur_to_sek, field="settings.eur_to_sek") or Decimal(1)
    surcharge = guard(
        _compile_rate,
        RateIn(service="data", price=s.eu_fair_use_surcharge.price, per=s.eu_fair_use_surcharge.per),
        key="roaming/eu/fair-use",
        name=FAIR_USE_NAME,
        category="eu_roaming",
        field="settings.eu_fair_use_surcharge",
        name_en=FAIR_USE_NAME_EN,
    )
    spend_limit = guard(kr_to_ore, s.roaming_data_spend_limit, field="settings.roaming_data_spend_limit") or 0
    calls_as = s.eu_roaming_calls_as or ""
    if (
        calls_as
        and not left_out_id("destinations", calls_as)
        and (calls_as not in destinations or destinations[calls_as].category != "domestic")
    ):
        errors.append(f"settings.eu_roaming_calls_as: {calls_as!r} is not a domestic destination class")
    notify = tuple(
        guard(parse_decimal, x, field="settings.roaming_data_notify_at") or Decimal(1) for x in s.roaming_data_notify_at
    )
    if surcharge and caps:
        # Regulation (EU) 2022/612 art. 8: the surcharge must not exceed the wholesale cap (ex VAT) of any
        # year it is charged in; one surcharge serves every listed year, so the lowest cap binds.
        cap_sek_per_gb_incl_vat = min(caps.values()) * eur_to_sek * (1 + vat_rate)
        per_gb = Fraction(surcharge.exact_per_unit * 1_000_000_000, 100 * 6 * 10**9)  # kr per GB
        if per_gb > Fraction(cap_sek_per_gb_incl_vat):
            errors.append("settings.eu_fair_use_surcharge: above the regulated wholesale cap")

    plans: dict[str, Plan] = {}
    for i, p in numbered("plans", doc.plans):
        f = f"plans[{i}]"
        fee = guard(kr_to_ore, p.monthly_fee, field=f"{f}.monthly_fee")
        tariff = None
        if p.kind == "mobile":
            if not p.tariff or p.tariff not in tariffs:
                if not left_out_id("tariffs", p.tariff):
                    errors.append(f"{f}.tariff: unknown tariff {p.tariff!r}")
            else:
                tariff = tariffs[p.tariff]
        allowances = {}
        for pool, text in p.allowances.items():
            a = guard(parse_allowance, pool, text, field=f"{f}.allowances.{pool}")
            if a:
                allowances[pool] = a
        rate = guard(parse_decimal, p.vat_rate, field=f"{f}.vat_rate") if p.vat_rate else vat_rate
        if p.id in plans:
            errors.append(f"{f}.id: duplicate plan {p.id!r}")
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

    addons: dict[str, Addon] = {}
    for i, a in numbered("addons", doc.addons):
        f = f"addons[{i}]"
        price = guard(kr_to_ore, a.price, field=f"{f}.price")
        allowances = {}
        for pool, text in a.allowances.items():
            al = guard(parse_allowance, pool, text, field=f"{f}.allowances.{pool}")
            if al:
                allowances[pool] = al
        for pid in a.plans:
            if pid not in plans and not left_out_id("plans", pid):
                errors.append(f"{f}.plans: unknown plan {pid!r}")
        if a.id in addons:
            errors.append(f"{f}.id: duplicate add-on {a.id!r}")
        if price is not None and price < 0:
            errors.append(f"{f}.price: must not be negative")
        addons[a.id] = Addon(a.id, a.name, price or 0, allowances, frozenset(a.plans), a.name_en)

    discounts: dict[str, Discount] = {}
    for i, dsc in numbered("discounts", doc.discounts):
        f = f"discounts[{i}]"
        if (dsc.percent is None) == (dsc.amount is None):
            errors.append(f"{f}: give exactly one of percent or amount")
            continue
        pct = amount = None
        if dsc.percent is not None:
            pct = guard(parse_decimal, dsc.percent, field=f"{f}.percent")
            if pct is not None and not (0 < pct <= 100):
                errors.append(f"{f}.percent: must be above 0 and at most 100")
        else:
            amount = guard(kr_to_ore, dsc.amount, field=f"{f}.amount")
            if amount is not None and amount <= 0:
                errors.append(f"{f}.amount: must be positive (it is subtracted)")
        discounts[dsc.id] = Discount(dsc.id, dsc.name, pct, amount, dsc.applies_to, dsc.periods, dsc.name_en)

    devices: dict[str, Device] = {}
    for i, dv in numbered("devices", doc.devices):
        f = f"devices[{i}]"
        if dv.id in devices:
            errors.append(f"{f}.id: duplicate device {dv.id!r}")
        cash = guard(kr_to_ore, dv.cash_price, field=f"{f}.cash_price")
        if cash is not None and cash <= 0:
            errors.append(f"{f}.cash_price: must be above 0")
            cash = None
        for j, months in enumerate(dv.months):
            if not 1 <= months <= MAX_INSTALMENT_MONTHS:
                errors.append(f"{f}.months[{j}]: {months} is not a term of 1..{MAX_INSTALMENT_MONTHS} months")
            elif cash is not None and min(instalment_amounts(cash, months)) <= 0:
                errors.append(f"{f}.months[{j}]: {dv.cash_price} kr cannot be paid over {months} months")
        if len(set(dv.months)) != len(dv.months):
            errors.append(f"{f}.months: a term is listed twice")
        rate = guard(parse_decimal, dv.vat_rate, field=f"{f}.vat_rate") if dv.vat_rate else vat_rate
        if rate is not None and not 0 <= rate < 1:
            errors.append(f'{f}.vat_rate: {dv.vat_rate} is not a rate like "0.25"')
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

    if errors:
        raise CatalogueError(errors)
    assert surcharge is not None
    return Catalogue(
        operator=operator,
        roaming=RoamingSettings(caps, eur_to_sek, surcharge, spend_limit, notify, calls_as),
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
        warnings=tuple(_missing_english(doc)),
    )


_LIST_SECTIONS = ("destinations", "tariffs", "roaming_zones", "plans", "addons", "discounts", "devices")
# Stand-ins for a table that fails the schema, so that the other sections can still be checked (the
# catalogue is refused anyway).
_STAND_INS: dict[str, dict[str, Any]] = {
    "operator": {
        "name": "",
        "org_number": "",
        "vat_number": "",
        "address": [],
        "bankgiro": "0000-0000",
        "support_email": "",
        "support_phone": "",
    },
    "settings": {
        "wholesale_data_cap_eur_per_gb": {},
        "eur_to_sek": "1",
        "eu_fair_use_surcharge": {"price": "0", "per": "GB"},
    },
}


def _without_bad_items(
    raw: dict[str, Any], exc: ValidationError, kept: dict[str, list[int]], left_out: dict[str, set[str]]
) -> CatalogueIn | None:
    """The document without the items that fail the schema, or None if what is left is no document.

    Fills ``kept`` (original index of each remaining item, by section) and ``left_out`` (ids of the
    removed items, by section).
    """
    bad: dict[str, set[int]] = {}
    whole: set[str] = set()
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) >= 2 and loc[0] in _LIST_SECTIONS and isinstance(loc[1], int):
            bad.setdefault(str(loc[0]), set()).add(loc[1])
        elif loc:
            whole.add(str(loc[0]))
    partial = {k: v for k, v in raw.items() if k in CatalogueIn.model_fields}
    for section in whole:
        if section in _STAND_INS:
            vat_rate = raw.get("operator", {}).get("vat_rate") if isinstance(raw.get("operator"), dict) else None
            partial[section] = {
                **_STAND_INS[section],
                **({"vat_rate": vat_rate} if section == "operator" and isinstance(vat_rate, str) else {}),
            }
        elif section in _LIST_SECTIONS:
            partial[section] = []
            left_out[section] = {item.get("id") for item in raw.get(section) or [] if isinstance(item, dict)}
    for section, indices in bad.items():
        if section in whole:
            continue
        items = raw.get(section) or []
        kept[section] = [i for i in range(len(items)) if i not in indices]
        partial[section] = [items[i] for i in kept[section]]
        left_out[section] = {items[i].get("id") for i in indices if isinstance(items[i], dict)}
    try:
        return CatalogueIn.model_validate(partial)
    except ValidationError:
        return None


def _located(errors: list[str], text: str) -> list[str]:
    """Each error with the TOML line of its field (or of the nearest enclosing one) and its item's id."""
    lines, ids = _toml_paths(text)
    out = []
    for error in errors:
        path = error.split(": ", 1)[0]
        where = []
        probe = path
        while probe:
            if probe in lines:
                where.append(f"line {lines[probe]}")
                break
            probe = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", probe) if re.search(r"(\.[^.\[]+|\[\d+\])$", probe) else ""
        item = re.match(r"[a-z_]+\[\d+\]", path)
        if item and ids.get(item.group()):
            where.append(f"id {ids[item.group()]!r}")
        out.append(f"{error} ({', '.join(where)})" if where else error)
    return out


def _toml_paths(text: str) -> tuple[dict[str, int], dict[str, str]]:
    """First line of each field path of a catalogue's TOML text (``plans[2].monthly_fee``), and item ids.

    A plain line scan of the layout the catalogue uses (tables, arrays of tables, one inline
    table per line in arrays), good enough to point a person at the right line.
    """
    lines: dict[str, int] = {}
    ids: dict[str, str] = {}
    counts: dict[str, int] = {}
    table = ""
    array_key = ""
    array_items = 0
    for n, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = re.fullmatch(r"\[\[\s*([\w.-]+)\s*\]\]|\[\s*([\w.-]+)\s*\]", stripped.split("#")[0].strip())
        if header:
            array_key = ""
            name = header.group(1) or header.group(2)
            parent, _, last = name.rpartition(".")
            base = ""
            if parent:  # a sub-table of the latest item of its parent array (tariffs.offpeak)
                base = (
                    next(
                        (
                            p
                            for p in sorted(lines, key=lines.__getitem__, reverse=True)
                            if re.fullmatch(rf"{re.escape(parent)}\[\d+\]", p)
                        ),
                        parent,
                    )
                    + "."
                )
            if header.group(1):
                counts[base + last] = counts.get(base + last, -1) + 1
                table = f"{base}{last}[{counts[base + last]}]"
            else:
                table = base + last
            lines.setdefault(table, n)
            continue
        if array_key:
            if stripped.startswith("{"):
                lines.setdefault(f"{array_key}[{array_items}]", n)
                array_items += 1
            if stripped.startswith("]"):
                array_key = ""
            continue
        key = re.match(r"([\w-]+|\"[^\"]*\")\s*=\s*(.*)", stripped)
        if key:
            name = key.group(1).strip('"')
            path = f"{table}.{name}" if table else name
            lines.setdefault(path, n)
            value = key.group(2)
            if name == "id" and re.match(r"[a-z_]+\[\d+\]$", table):
                ids[table] = value.split("#")[0].strip().strip('"')
            if value.startswith("[") and not value.rstrip().endswith("]"):
                array_key, array_items = path, 0
    return lines, ids


def _pydantic_error(err: Any) -> str:
    loc = ""
    for part in err["loc"]:
        loc += f"[{part}]" if isinstance(part, int) else (f".{printable(part)}" if loc else printable(str(part)))
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    elif err["type"] == "missing":
        msg = "required field is missing"
    return f"{loc}: {msg}"


def load_catalogue(path: str | Path) -> Catalogue:
    """Read and compile a catalogue TOML file; ``CatalogueError`` names every bad field."""
    path = Path(path)
    data = path.read_bytes()
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CatalogueError([f"{path.name}: not UTF-8 (byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError([f"{path.name}: not valid TOML: {exc}"]) from None
    return _compiled(raw, data.decode("utf-8"))


def _compiled(raw: dict[str, Any], text: str) -> Catalogue:
    controls = control_characters(raw)  # "\u0000" is valid TOML, not a text the system can carry
    try:
        catalogue = compile_catalogue(raw)
    except CatalogueError as exc:
        errors = controls + exc.errors
        raise CatalogueError(errors, _located(errors, text)) from None
    if controls:
        raise CatalogueError(controls, _located(controls, text))
    if catalogue.warnings:  # each with its TOML line and item id, like the errors
        catalogue = replace(catalogue, warnings=tuple(_located(list(catalogue.warnings), text)))
        for warning in catalogue.warnings:
            logger.warning("catalogue: %s", warning)
    return catalogue


def parse_catalogue_text(text: str) -> Catalogue:
    """Compile a catalogue from TOML text (the API's upload and the tests)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError([f"not valid TOML: {exc}"]) from None
    return _compiled(raw, text)


DEFAULT_CATALOGUE = Path(__file__).parent.parent / "catalogues" / "nordvik.toml"
