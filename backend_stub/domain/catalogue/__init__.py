"""The product catalogue: plans, tariffs, destinations, roaming zones, add-ons, discounts, devices.

The operator keeps the catalogue as a TOML file in version control (format in
``docs/catalogue.md``). ``load_catalogue`` validates it with pydantic and compiles it into
plain frozen values that the rating engine reads on its hot path. Every error names the
field, e.g. ``plans[2].tariff: unknown tariff 'mobi'``.

The package in reading order: ``schema`` (what the file may say, ``CatalogueError``), ``values``
(the compiled catalogue and its queries), ``compile`` (document → values, every error at once),
``loading`` (TOML text or file → catalogue, errors pointed at their lines).
"""

from __future__ import annotations

from backend_stub.domain.catalogue.compile import compile_catalogue, parse_allowance
from backend_stub.domain.catalogue.loading import DEFAULT_CATALOGUE, load_catalogue, parse_catalogue_text
from backend_stub.domain.catalogue.schema import CatalogueError, CatalogueIn, Money
from backend_stub.domain.catalogue.values import (
    ALERT_POOLS,
    CATEGORIES,
    DESTINATION_CACHE_SIZE,
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
    allowance_label,
    in_language,
    instalment_amounts,
)

__all__ = [
    "ALERT_POOLS",
    "CATEGORIES",
    "DEFAULT_CATALOGUE",
    "DESTINATION_CACHE_SIZE",
    "FAIR_USE_NAME",
    "FAIR_USE_NAME_EN",
    "MAX_INSTALMENT_MONTHS",
    "SERVICES",
    "UNLIMITED",
    "Addon",
    "Allowance",
    "Catalogue",
    "CatalogueError",
    "CatalogueIn",
    "Destination",
    "Device",
    "Discount",
    "Money",
    "Offpeak",
    "Operator",
    "Plan",
    "Rate",
    "RoamingSettings",
    "Tariff",
    "Zone",
    "allowance_label",
    "compile_catalogue",
    "in_language",
    "instalment_amounts",
    "load_catalogue",
    "parse_allowance",
    "parse_catalogue_text",
]
