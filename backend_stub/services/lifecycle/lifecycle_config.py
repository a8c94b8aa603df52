"""The operator's lifecycle configuration: sending, dunning, interest rates, bookkeeping accounts, automatic payment.

The terms themselves (what each value means, their defaults) are ``domain.lifecycle_terms``; an operator
overrides any of them in a TOML file named by
``SELFCARE_LIFECYCLE_CONFIG`` (format in docs/lifecycle.md). Folders come from
``SELFCARE_PRINT_DIR`` (default ``var/print``) and ``SELFCARE_COLLECTION_DIR`` (``var/collection``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from backend_stub.domain.lifecycle_terms import (
    REMINDER_FEE_CAP_ORE,
    Accounts,
    AutopayTerms,
    ConfigError,
    DunningTerms,
)
from backend_stub.settings import Settings, settings_for
from selfcare_common.toml_text import control_characters


@dataclass(frozen=True)
class LifecycleConfig:
    dunning: DunningTerms = field(default_factory=DunningTerms)
    autopay: AutopayTerms = field(default_factory=AutopayTerms)
    accounts: Accounts = field(default_factory=Accounts)
    letter_fallback_hours: int = 48
    print_dir: Path = Path("var/print")
    collection_dir: Path = Path("var/collection")
    public_url: str = "http://127.0.0.1:3000"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> LifecycleConfig:
        """The process's configuration (``env``: a mapping of the variables instead, for tests)."""
        return cls.from_settings(settings_for(env))

    @classmethod
    def from_settings(cls, settings: Settings) -> LifecycleConfig:
        """The defaults, the TOML file ``settings.lifecycle_config`` names, then the single variables."""
        cfg = cls()
        path = settings.lifecycle_config
        if path:
            try:
                doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"SELFCARE_LIFECYCLE_CONFIG: {path}: {exc}") from None
            cfg = from_toml(doc, cfg)
        over: dict[str, Any] = {}
        if settings.print_dir:
            over["print_dir"] = settings.print_dir
        if settings.collection_dir:
            over["collection_dir"] = settings.collection_dir
        if settings.public_url:
            over["public_url"] = settings.public_url.rstrip("/")
        if settings.letter_fallback_hours:
            over["letter_fallback_hours"] = _int(settings.letter_fallback_hours, "SELFCARE_LETTER_FALLBACK_HOURS")
        ag: dict[str, Any] = {}
        if settings.autogiro_bankgiro:
            ag["payee_bankgiro"] = _bankgiro(settings.autogiro_bankgiro, "SELFCARE_AUTOGIRO_BANKGIRO")
        if settings.autogiro_customer_number:
            ag["bankgirot_customer_number"] = _bgc_number(
                settings.autogiro_customer_number, "SELFCARE_AUTOGIRO_CUSTOMER_NUMBER"
            )
        if ag:
            over["autopay"] = replace(cfg.autopay, **ag)
        return replace(cfg, **over)


def _int(value: Any, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{name}: must be a whole number")
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: must be a whole number, got {value!r}") from None
    if n < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {n}")
    return n


def _bankgiro(value: Any, name: str) -> str:
    digits = str(value).replace("-", "").replace(" ", "")
    if not digits.isdigit() or not 7 <= len(digits) <= 8:
        raise ConfigError(f"{name}: a bankgiro number of 7 or 8 digits is needed, got {value!r}")
    return digits


def _bgc_number(value: Any, name: str) -> str:
    text = str(value).strip()
    if not text.isdigit() or len(text) > 6:
        raise ConfigError(f"{name}: the customer number at Bankgirot has at most 6 digits, got {value!r}")
    return text.rjust(6, "0")


def _autopay(section: dict[str, Any], base: AutopayTerms) -> AutopayTerms:
    out: dict[str, Any] = {}
    for key, value in section.items():
        name = f"autopay.{key}"
        if key == "payee_bankgiro":
            out[key] = _bankgiro(value, name)
        elif key == "bankgirot_customer_number":
            out[key] = _bgc_number(value, name)
        elif key in ("lead_days", "retry_days", "card_retry_days"):
            out[key] = _int(value, name, 1)
        elif key == "max_retries":
            out[key] = _int(value, name, 0)
        else:
            raise ConfigError(f"{name}: unknown key")
    return replace(base, **out)


def _dec(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{name}: must be a number, got {value!r}") from None


def from_toml(doc: dict[str, Any], base: LifecycleConfig | None = None) -> LifecycleConfig:
    """Apply a parsed TOML document (sections ``sending``, ``dunning``, ``reference_rates``, ``accounts``)."""
    cfg = base or LifecycleConfig()
    controls = control_characters(doc)  # "\u0000" is valid TOML, not a path, address or account
    if controls:
        raise ConfigError(controls[0])
    unknown = set(doc) - {"sending", "dunning", "reference_rates", "accounts", "autopay"}
    if unknown:
        raise ConfigError(f"{sorted(unknown)[0]}: unknown section")
    top: dict[str, Any] = {}
    for key, value in doc.get("sending", {}).items():
        if key == "letter_fallback_hours":
            top[key] = _int(value, "sending.letter_fallback_hours")
        elif key in ("print_dir", "collection_dir"):
            top[key] = Path(str(value))
        elif key == "public_url":
            top[key] = str(value).rstrip("/")
        else:
            raise ConfigError(f"sending.{key}: unknown key")
    d: dict[str, Any] = {}
    names = {f.name for f in fields(DunningTerms)} - {"reference_rates"}
    for key, value in doc.get("dunning", {}).items():
        name = f"dunning.{key}"
        if key not in names:
            raise ConfigError(f"{name}: unknown key")
        if key == "reminder2_days":
            d[key] = None if value in (0, False) else _int(value, name, 1)
        elif key == "overpayment":
            if value not in ("credit", "refund"):
                raise ConfigError(f"{name}: 'credit' or 'refund', not {str(value)[:40]!r}")
            d[key] = value
        elif key == "interest_margin":
            d[key] = _dec(value, name)
        else:
            d[key] = _int(value, name)
    if "reminder_fee_ore" in d and d["reminder_fee_ore"] > REMINDER_FEE_CAP_ORE:
        raise ConfigError(f"dunning.reminder_fee_ore: at most {REMINDER_FEE_CAP_ORE} öre (60 kr) by law")
    if "reference_rates" in doc:
        rates = []
        for i, row in enumerate(doc["reference_rates"], start=1):
            try:
                start = date.fromisoformat(str(row["from"]))
            except (KeyError, ValueError):
                raise ConfigError(f"reference_rates[{i}].from: a date YYYY-MM-DD is needed") from None
            rates.append((start, _dec(row.get("rate"), f"reference_rates[{i}].rate")))
        d["reference_rates"] = tuple(sorted(rates))
    acc: dict[str, Any] = {}
    acc_names = {f.name for f in fields(Accounts)}
    for key, value in doc.get("accounts", {}).items():
        if key not in acc_names:
            raise ConfigError(f"accounts.{key}: unknown key")
        if isinstance(value, dict):
            merged = dict(getattr(cfg.accounts, key))
            merged.update({str(k): str(v) for k, v in value.items()})
            acc[key] = merged
        else:
            if not str(value).isdigit() or len(str(value)) != 4:
                raise ConfigError(f"accounts.{key}: a four-digit BAS account is needed, got {value!r}")
            acc[key] = str(value)
    if "autopay" in doc:
        top["autopay"] = _autopay(doc["autopay"], cfg.autopay)
    return replace(cfg, dunning=replace(cfg.dunning, **d), accounts=replace(cfg.accounts, **acc), **top)
