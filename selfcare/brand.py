"""The operator's brand (name, logo, colours, support contacts) from configuration.

Read from ``selfcare/brand.toml`` or the file named by ``SELFCARE_BRAND_FILE``. A missing
field is an error that names it, so a broken brand file fails at start-up, not on a page.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from selfcare.settings import get_settings
from selfcare_common.toml_text import control_characters

DEFAULT_BRAND_FILE = Path(__file__).parent / "brand.toml"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
COLOUR_NAMES = (
    "primary",
    "primary_text",
    "accent",
    "background",
    "surface",
    "text",
    "muted",
    "danger",
    "success",
    "warning",
)


@dataclass(frozen=True, slots=True)
class Colours:
    primary: str
    primary_text: str
    accent: str
    background: str
    surface: str
    text: str
    muted: str
    danger: str
    success: str
    warning: str


@dataclass(frozen=True, slots=True)
class Support:
    phone: str
    email: str
    web: str
    hours_sv: str
    hours_en: str

    def hours(self, lang: str) -> str:
        return self.hours_en if lang == "en" else self.hours_sv


@dataclass(frozen=True, slots=True)
class Brand:
    name: str
    short_name: str
    logo: str
    favicon: str
    colors: Colours
    support: Support


class BrandError(ValueError):
    """The brand file is missing a field or has a bad value (the message names it)."""


def _field(table: dict, key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BrandError(f"brand file: {where}{key} is missing or empty")
    return value.strip()


def parse_brand(text: str) -> Brand:
    """Parse a brand TOML document; raises :class:`BrandError` naming the bad field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BrandError(f"brand file: {exc}") from None
    controls = control_characters(data)  # "\u0000" is valid TOML, not a text a page or a header can carry
    if controls:
        raise BrandError("brand file: " + "; ".join(controls))
    colours_t = data.get("colors") or {}
    colours = {}
    for key in COLOUR_NAMES:
        value = _field(colours_t, key, "colors.")
        if not _COLOUR.match(value):
            raise BrandError(f"brand file: colors.{key} must be #rrggbb, not {value!r}")
        colours[key] = value
    support_t = data.get("support") or {}
    return Brand(
        name=_field(data, "name", ""),
        short_name=_field(data, "short_name", ""),
        logo=_field(data, "logo", ""),
        favicon=_field(data, "favicon", ""),
        colors=Colours(**colours),
        support=Support(
            **{k: _field(support_t, k, "support.") for k in ("phone", "email", "web", "hours_sv", "hours_en")}
        ),
    )


@cache
def brand() -> Brand:
    """The configured brand (read once per process)."""
    path = get_settings().brand_file or DEFAULT_BRAND_FILE
    return parse_brand(path.read_text(encoding="utf-8"))
