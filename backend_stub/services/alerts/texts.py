"""What an alert says, in Swedish and English: the same figures in the SMS, the e-mail and the app.

An alert is a sentence (what happened, with the figures) and its one way out (the action's label and
the app's page for it). A message is ``"<sentence> <action>: <link>"``; the app shows the sentence
with the action as its button. Amounts through the one kronor formatter
(``selfcare_common.money_format``), allowances as the invoice writes them
(``catalogue.allowance_label``), countries by their names in the language (babel).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from babel import Locale

from backend_stub.domain import alerts as rules
from backend_stub.domain.catalogue import Catalogue, allowance_label
from backend_stub.domain.texts import day
from selfcare_common.money_format import format_kr

_LOCALES = {"sv": Locale.parse("sv_SE"), "en": Locale.parse("en_GB")}
_POOL = {
    "sv": {"data": "din surf", "voice": "dina samtalsminuter", "sms": "dina sms"},
    "en": {"data": "your data", "voice": "your call minutes", "sms": "your texts"},
}
_ALL = {"data": "all surf", "voice": "alla samtalsminuter", "sms": "alla sms"}
_PER = ({"minute": "min", "message": "st"}, {"minute": "min", "message": "text"})

# The one tap out of each alert: (the app's page, the action in Swedish, in English).
ACTIONS: dict[str, tuple[str, str, str]] = {
    "buy": ("/addons", "Köp mer", "Buy more"),
    "usage": ("/usage", "Se din förbrukning", "See your usage"),
    "continue": ("/settings", "Fortsätt surfa utomlands", "Continue data abroad"),
}


def action_of(kind: str, level: str) -> str:
    if kind == rules.ALLOWANCE:
        return "buy"
    if kind == rules.SPEND_LIMIT and level == "100":
        return "continue"
    return "usage"


def amount(pool: str, units: int, lang: str) -> str:
    label = allowance_label(pool, units)
    if pool == "sms":
        label = label.removesuffix(" st") + (" sms" if lang == "sv" else " texts")
    return label.replace(",", ".") if lang == "en" else label


def country_name(code: str, lang: str) -> str:
    return _LOCALES["en" if lang == "en" else "sv"].territories.get(code, code)


def sentence(kind: str, level: str, data: dict[str, Any], lang: str, catalogue: Catalogue) -> str:
    """What the alert tells, with its figures, in ``lang``."""
    en = lang == "en"
    if kind == rules.ALLOWANCE:
        pool, percent = data["pool"], int(data["percent"])
        whole = amount(pool, int(data["included"]), lang)
        if percent >= 100:
            if en:
                return f"You have used all of {_POOL['en'][pool]} ({whole}) this period."
            return f"Nu har du använt {_ALL[pool]} ({whole}) den här perioden."
        used = amount(pool, int(data["used"]), lang)
        percent = max(percent, min(99, int(data["used"]) * 100 // int(data["included"])))  # the share read now
        if en:
            return f"You have used {percent} % of {_POOL['en'][pool]} ({used} of {whole}) this period."
        return f"Du har använt {percent} % av {_POOL['sv'][pool]} ({used} av {whole}) den här perioden."
    if kind == rules.WELCOME:
        return _welcome(data, lang, catalogue)
    if kind == rules.FAIR_USE:
        price = _surcharge(catalogue, lang)
        if en:
            return f"You have used the fair-use data volume for roaming in the EU/EEA this period. Data beyond it costs {price}."
        return (
            f"Du har använt den skäliga surfvolymen för roaming i EU/EES den här perioden. Surf utöver kostar {price}."
        )
    if kind == rules.SPEND_LIMIT:
        limit = format_kr(int(data["limit_ore"]), lang)
        if level == "100":
            if en:
                return (
                    f"You have reached your limit of {limit} for data outside the EU/EEA. Data abroad is stopped "
                    "for the rest of the period."
                )
            return (
                f"Du har nått din gräns på {limit} för surf utanför EU/EES. Surfen utomlands är stoppad resten av "
                "perioden."
            )
        spent = format_kr(int(data["spent_ore"]), lang)
        if en:
            return f"You have used {spent} of your {limit} limit for data outside the EU/EEA ({level} %)."
        return f"Du har surfat för {spent} av din gräns på {limit} utanför EU/EES ({level} %)."
    if kind == rules.COST:
        forecast, limit = format_kr(int(data["forecast_ore"]), lang), format_kr(int(data["limit_ore"]), lang)
        if en:
            return f"Your bill for this period is heading for {forecast}, above your cost warning of {limit}."
        return f"Din faktura för perioden ser ut att bli {forecast}, över din kostnadsvarning på {limit}."
    raise ValueError(f"kind: no text for alert kind {kind!r}")


def message(kind: str, level: str, data: dict[str, Any], lang: str, catalogue: Catalogue, base_url: str) -> str:
    """The SMS or e-mail: the sentence, then the action and its link in the app."""
    page, sv, en = ACTIONS[action_of(kind, level)]
    return f"{sentence(kind, level, data, lang, catalogue)} {en if lang == 'en' else sv}: {base_url}{page}"


def continued(lang: str, until: date) -> str:
    """The confirmation of "continue data abroad", with the period's last day."""
    if lang == "en":
        return f"You chose to go on using data outside the EU/EEA until {day(until, 'en')}. It is charged by your price list."
    return (
        f"Du har valt att fortsätta surfa utanför EU/EES till och med {day(until, 'sv')}. "
        "Surfen debiteras enligt din prislista."
    )


def _welcome(data: dict[str, Any], lang: str, catalogue: Catalogue) -> str:
    en = lang == "en"
    country = country_name(data["country"], lang)
    zone = next((z for z in catalogue.zones if z.id == data.get("zone")), None)
    if zone is None or zone.eu:
        if en:
            return f"Welcome to {country}! In the EU/EEA you call, text and use data as at home."
        return f"Välkommen till {country}! I EU/EES ringer, sms:ar och surfar du som hemma."
    prices = []
    for service, label_sv, label_en in (
        ("voice", "samtal", "calls"),
        ("sms", "sms", "texts"),
        ("data", "surf", "data"),
    ):
        rate = zone.rates.get(service)
        if rate is not None:
            prices.append(f"{label_en if en else label_sv} {_unit_price(rate.price, rate.per, lang)}")
    limit = format_kr(int(data.get("limit_ore") or catalogue.roaming.data_spend_limit_ore), lang)
    listed = ", ".join(prices)
    if en:
        return (
            f"Welcome to {country} ({zone.name_en or zone.name}): {listed}. Data stops at {limit} a month unless "
            "you choose to go on."
        )
    return (
        f"Välkommen till {country} ({zone.name}): {listed}. Surfen stoppas vid {limit} per månad om du inte "
        "väljer att fortsätta."
    )


def _unit_price(price: Decimal, per: str, lang: str) -> str:
    """A unit price as the price list writes it: ``9,90 kr/min``; finer than öre as is (``0,049 kr/MB``)."""
    unit = _PER[lang == "en"].get(per, per)
    ore = price * 100
    if ore == ore.to_integral_value():
        return f"{format_kr(int(ore), lang)}/{unit}"
    text = format(price.normalize(), "f")
    return f"{text if lang == 'en' else text.replace('.', ',')}\u00a0kr/{unit}"  # no-break space, as format_kr


def _surcharge(catalogue: Catalogue, lang: str) -> str:
    rate = catalogue.roaming.fair_use_surcharge
    return _unit_price(rate.price, rate.per, lang)
