"""How an amount reads, in Swedish and English: one formatter for every text the core writes.

``1 249,00 kr`` (sv) and ``1,249.00 kr`` (en): the operator's invoices say "kr" in both
languages, so the same amount reads the same on the invoice page, the PDF, the timeline,
e-mails, SMS, offers and the CLI (the app's ``selfcare.i18n.format_money`` calls this one).
Babel does the grouping and decimal signs; the amount stays integer öre until it is turned
into a ``Decimal`` here, never a float. The variants are parameters, not copies: ``signed``
(differences), ``short`` (whole kronor without decimals, for offers) and ``plain_spaces``
(a terminal). File formats (SIE, bank files, the QR code) write their own machine numbers.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_decimal

BABEL_LOCALE = {"sv": "sv_SE", "en": "en_GB"}
_LOCALES = {lang: Locale.parse(name) for lang, name in BABEL_LOCALE.items()}  # parsed once, not per amount
SIGNED_MINUS = "\u2212"  # with an explicit sign: "+87,00 kr", "−50,00 kr" (as the app's)


def format_kr(
    ore: int, lang: str = "sv", *, signed: bool = False, short: bool = False, plain_spaces: bool = False
) -> str:
    """``124900`` → ``"1 249,00 kr"`` (sv) / ``"1,249.00 kr"`` (en); ``-5 000`` → ``"-50,00 kr"``.

    ``signed``: an explicit sign, ``"+87,00 kr"`` / ``"−50,00 kr"`` (differences, explanations).
    ``short``: whole kronor without decimals, ``"299 kr"`` (``22450`` still ``"224,50 kr"``).
    ``plain_spaces``: ordinary spaces instead of no-break ones, ``"1 249,00 kr"`` (the CLI).
    """
    if type(ore) is not int:
        raise TypeError(f"money must be integer öre, not {type(ore).__name__}")
    text = _format_kr(ore, "en" if lang == "en" else "sv", signed, short)
    return text.replace("\u00a0", " ") if plain_spaces else text


@lru_cache(maxsize=65_536)  # a bill run writes the same fees and prices thousands of times
def _format_kr(ore: int, lang: str, signed: bool, short: bool) -> str:
    locale = _LOCALES[lang]
    pattern = "#,##0" if short and ore % 100 == 0 else "#,##0.00"
    number = format_decimal(Decimal(abs(ore)).scaleb(-2), format=pattern, locale=locale)
    sign = ("+" if ore > 0 else SIGNED_MINUS if ore < 0 else "") if signed else ("-" if ore < 0 else "")
    return f"{sign}{number}\u00a0kr"
