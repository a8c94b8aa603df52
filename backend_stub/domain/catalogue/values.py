"""The compiled catalogue: plain frozen values the rating engine reads on its hot path, and the queries on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from fractions import Fraction
from typing import Any

from backend_stub.domain.errors import Invalid
from backend_stub.domain.money import round_half_up_div

SERVICES = ("voice", "sms", "mms", "data")
CATEGORIES = ("domestic", "international", "premium")
UNLIMITED = -1


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
    # The spending limits a subscriber may choose (öre, rising; the default ``data_spend_limit_ore`` among them).
    spend_limit_levels_ore: tuple[int, ...] = ()

    def spend_limit_levels(self) -> tuple[int, ...]:
        return self.spend_limit_levels_ore or (self.data_spend_limit_ore,)

    def wholesale_cap(self, year: int) -> Decimal:
        """The regulated wholesale data cap for ``year`` (the latest known year before it)."""
        years = sorted(y for y in self.wholesale_cap_eur_per_gb if y <= year)
        if not years:
            years = sorted(self.wholesale_cap_eur_per_gb)
        return self.wholesale_cap_eur_per_gb[years[-1]]


DESTINATION_CACHE_SIZE = 200_000
ALERT_POOLS = ("data", "voice", "sms")  # the allowance pools that have usage alerts


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
    # Usage alerts: the per cents of each pool's allowance told by default (``settings.usage_alert_percent``).
    alert_percent: dict[str, tuple[int, ...]] = field(default_factory=lambda: dict.fromkeys(ALERT_POOLS, (80, 100)))
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
