"""The catalogue file's schema (pydantic): what a TOML catalogue may say, and the error every bad field gets.

Amounts are strings (\"199.00\"), never TOML floats. ``without_bad_items`` leaves out the items that fail the
schema so that the rest can still be checked and every error is reported at once.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from selfcare_common.toml_text import printable


class CatalogueError(ValueError):
    """An invalid catalogue. ``errors`` lists every problem as ``field: message``.

    ``located`` is the same list for people, each error followed by its TOML line and the
    id of the item it is in, where the file's text is known (``load_catalogue``).
    """

    def __init__(self, errors: list[str], located: list[str] | None = None):
        self.errors = errors
        self.located = located if located is not None else list(errors)
        super().__init__("invalid catalogue:\n  " + "\n  ".join(errors))


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
    # The spending limits a subscriber may choose among (rising; roaming_data_spend_limit, the default, is one).
    roaming_data_spend_limit_levels: list[Money] = []
    # Usage alerts (docs/alerts.md): the per cents of a period's allowance told by default, one list for every
    # pool (data, voice, sms) or a table per pool; whole numbers 1-100, rising. Checked when compiled.
    usage_alert_percent: list[Any] | dict[str, Any] = [80, 100]
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


def missing_english(doc: CatalogueIn) -> list[str]:
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


def without_bad_items(
    raw: dict[str, Any], exc: ValidationError, kept: dict[str, list[int]], left_out: dict[str, set[Any]]
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


def pydantic_error(err: Any) -> str:
    loc = ""
    for part in err["loc"]:
        loc += f"[{part}]" if isinstance(part, int) else (f".{printable(part)}" if loc else printable(str(part)))
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    elif err["type"] == "missing":
        msg = "required field is missing"
    return f"{loc}: {msg}"
