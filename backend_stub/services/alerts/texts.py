"""What an alert says, in Swedish and English: the same figures in the SMS, the e-mail and the app.

Amounts through the one kronor formatter (``selfcare_common.money_format``), allowances as the
invoice writes them (``catalogue.allowance_label``), countries by their names in the language
(babel). Each text ends with where to act: the app's page for it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel import Locale

from backend_stub.domain import alerts as rules
from backend_stub.domain.catalogue import Catalogue, allowance_label
from selfcare_common.money_format import format_kr

_LOCALES = {"sv": Locale.parse("sv_SE"), "en": Locale.parse("en_GB")}
_POOL = {
    "sv": {"data": "din surf", "voice": "dina samtalsminuter", "sms": "dina sms"},
    "en": {"data": "your data", "voice": "your call minutes", "sms": "your texts"},
}
_PER = ({"minute": "min", "message": "st"}, {"minute": "min", "message": "text"})
PAGES = {  # where each alert's one tap out leads in the app
    rules.ALLOWANCE: "/addons",
    rules.WELCOME: "/usage",
    rules.FAIR_USE: "/usage",
    rules.SPEND_LIMIT: "/usage",
    rules.COST: "/usage",
}


def amount(pool: str, units: int, lang: str) -> str:
    label = allowance_label(pool, units)
    if pool == "sms":
        label = label.removesuffix(" st") + (" sms" if lang == "sv" else " texts")
    return label.replace(",", ".") if lang == "en" else label


def country_name(code: str, lang: str) -> str:
    return _LOCALES["en" if lang == "en" else "sv"].territories.get(code, code)


def alert_text(kind: str, level: str, data: dict[str, Any], lang: str, catalogue: Catalogue, link: str) -> str:
    """The alert's message (one paragraph, SMS-sized where it can be)."""
    en = lang == "en"
    if kind == rules.ALLOWANCE:
        pool, percent = data["pool"], int(data["percent"])
        whole = amount(pool, int(data["included"]), lang)
        what = _POOL["en" if en else "sv"][pool]
        if percent >= 100:
            text = (
                f"You have used all of {what} ({whole}) this period. Buy more or see a bigger plan: {link}"
                if en
                else f"Nu har du använt all {what.removeprefix('din ').removeprefix('dina ')} ({whole}) den här perioden. "
                f"Köp mer eller se en större plan: {link}"
            )
            return text
        return (
            f"You have used {percent} % of {what} ({amount(pool, int(data['used']), lang)} of {whole}) this period. "
            f"Buy more: {link}"
            if en
            else f"Du har använt {percent} % av {what} ({amount(pool, int(data['used']), lang)} av {whole}) "
            f"den här perioden. Köp mer: {link}"
        )
    if kind == rules.WELCOME:
        return _welcome(data, lang, catalogue, link)
    if kind == rules.FAIR_USE:
        price = _surcharge(catalogue, lang)
        return (
            f"You have used the fair-use data volume for roaming in the EU/EEA this period. Data beyond it costs "
            f"{price}. {link}"
            if en
            else f"Du har använt den skäliga surfvolymen för roaming i EU/EES den här perioden. Surf utöver kostar "
            f"{price}. {link}"
        )
    if kind == rules.SPEND_LIMIT:
        limit = format_kr(int(data["limit_ore"]), lang)
        if level == "100":
            return (
                f"You have reached your limit of {limit} for data outside the EU/EEA. Data abroad is stopped for the "
                f"rest of the period. To go on, choose Continue data abroad: {link}"
                if en
                else f"Du har nått din gräns på {limit} för surf utanför EU/EES. Surfen utomlands är stoppad resten av "
                f"perioden. Vill du fortsätta, välj Fortsätt surfa utomlands: {link}"
            )
        spent = format_kr(int(data["spent_ore"]), lang)
        return (
            f"You have used {spent} of your {limit} limit for data outside the EU/EEA ({level} %). {link}"
            if en
            else f"Du har surfat för {spent} av din gräns på {limit} utanför EU/EES ({level} %). {link}"
        )
    if kind == rules.COST:
        forecast, limit = format_kr(int(data["forecast_ore"]), lang), format_kr(int(data["limit_ore"]), lang)
        return (
            f"Your bill for this period is heading for {forecast}, above your cost warning of {limit}. {link}"
            if en
            else f"Din faktura för perioden ser ut att bli {forecast}, över din kostnadsvarning på {limit}. {link}"
        )
    raise ValueError(f"kind: no text for alert kind {kind!r}")


def _welcome(data: dict[str, Any], lang: str, catalogue: Catalogue, link: str) -> str:
    en = lang == "en"
    country = country_name(data["country"], lang)
    zone = next((z for z in catalogue.zones if z.id == data.get("zone")), None)
    if zone is None or zone.eu:
        return (
            f"Welcome to {country}! In the EU/EEA you call, text and use data as at home. {link}"
            if en
            else f"Välkommen till {country}! I EU/EES ringer, sms:ar och surfar du som hemma. {link}"
        )
    prices = []
    for service, label_sv, label_en in (
        ("voice", "samtal", "calls"),
        ("sms", "sms", "texts"),
        ("data", "surf", "data"),
    ):
        rate = zone.rates.get(service)
        if rate is not None:
            price = f"{_price(rate.price, lang)}/{_PER[lang == 'en'].get(rate.per, rate.per)}"
            prices.append(f"{label_en if en else label_sv} {price}")
    limit = format_kr(catalogue.roaming.data_spend_limit_ore, lang)
    listed = ", ".join(prices)
    return (
        f"Welcome to {country} ({zone.name_en or zone.name}): {listed}. Data stops at {limit} a month unless you "
        f"choose to go on. {link}"
        if en
        else f"Välkommen till {country} ({zone.name}): {listed}. Surfen stoppas vid {limit} per månad om du inte "
        f"väljer att fortsätta. {link}"
    )


def _price(price: Any, lang: str) -> str:
    """A unit price in kronor as the price list writes it (öre precision where it has it)."""
    ore = int((Decimal(price) * 100).to_integral_value())
    if Decimal(price) * 100 != ore:  # finer than öre (0,0115 kr/s): written as is
        text = format(Decimal(price).normalize(), "f")
        return (text if lang == "en" else text.replace(".", ",")) + "\u00a0kr"  # as format_kr writes kr
    return format_kr(ore, lang)


def _surcharge(catalogue: Catalogue, lang: str) -> str:
    rate = catalogue.roaming.fair_use_surcharge
    return f"{_price(rate.price, lang)}/{_PER[lang == 'en'].get(rate.per, rate.per)}"
