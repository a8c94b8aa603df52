"""Translations and locale formatting: every user-facing text goes through the babel catalogues.

The catalogues are ``selfcare/locales/<lang>/LC_MESSAGES/messages.po`` with English msgids.
They are parsed once per process with babel (no separate compile step is needed).
Money is integer öre and is formatted with babel for the locale (``1 249,00 kr``), never
through float.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from selfcare_common.money_format import format_kr  # pure (babel only): one money format for core and app

LANGUAGES: tuple[str, ...] = ("sv", "en")
DEFAULT_LANGUAGE = "sv"
LOCALES_DIR = Path(__file__).parent / "locales"

# Times are shown on the operator's clock, summer and winter time alike (the core sends UTC instants).
STOCKHOLM = ZoneInfo("Europe/Stockholm")

# The babel locale used for formatting each UI language.
_FORMAT_LOCALE = {"sv": "sv_SE", "en": "en_GB"}


def normalise_language(lang: str | None) -> str:
    """A supported language code; anything else (a tampered cookie, say) becomes Swedish."""
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid → translated text for ``lang``; untranslated entries fall back to the msgid."""
    lang = normalise_language(lang)
    path = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        cat = read_po(fh, locale=lang)
    return {str(m.id): (str(m.string) or str(m.id)) for m in cat if m.id and isinstance(m.id, str)}


def N_(msgid: str) -> str:
    """Mark a text for the catalogue where it is defined; it is translated where it is shown."""
    return msgid


def gettext(lang: str, msgid: str, **params: object) -> str:
    """Translate ``msgid`` into ``lang`` and fill ``{name}`` placeholders."""
    text = catalogue(normalise_language(lang)).get(msgid, msgid)
    return text.format(**params) if params else text


def later(msgid: str, **params: object) -> list:
    """A text kept untranslated in a state (``[msgid, params]``), translated where it is shown by
    :func:`translate_later`, so it follows a language switch."""
    return [msgid, params]


def translate_later(text: list | tuple, lang: str) -> str:
    """A :func:`later` text in ``lang``; ``""`` for no text."""
    if not text:
        return ""
    msgid, params = text
    return gettext(lang, msgid, **params)


_KR = re.compile(r"\d{1,7}([.,]\d{1,2})?")  # whole kronor, or kronor and öre


def parse_kr(text: object) -> int | None:
    """``"50"``, ``"50,00"``, ``"1 249,50 kr"`` → öre; ``None`` when it is not a positive amount in kr."""
    if not isinstance(text, str):
        return None
    cleaned = text.lower().replace("kr", "").replace("\u00a0", "").replace(" ", "").strip()
    if not _KR.fullmatch(cleaned):
        return None
    amount = Decimal(cleaned.replace(",", "."))
    if amount <= 0:
        return None
    return int(amount * 100)


def format_money(ore: int, lang: str) -> str:
    """``124900`` → ``1 249,00 kr`` (sv) or ``1,249.00 kr`` (en); negative ``-50,00 kr``.

    The core's one money formatter (``selfcare_common.money_format``, pure: babel only), so the
    app and the core's texts read alike: the operator's invoices say "kr" in both languages.
    """
    return format_kr(ore, normalise_language(lang))


def format_signed_money(ore: int, lang: str) -> str:
    """Like :func:`format_money` with an explicit sign: ``+87,00 kr``, ``−50,00 kr``."""
    return format_kr(ore, normalise_language(lang), signed=True)


def _as_date(value: date | datetime | str) -> date | datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    return value


def format_date(value: date | datetime | str, lang: str) -> str:
    """``2026-03-10`` → ``10 mars 2026`` (sv) or ``10 March 2026`` (en)."""
    d = _as_date(value)
    if isinstance(d, datetime):
        d = d.date()
    return _babel_date(d, format="long", locale=_FORMAT_LOCALE[normalise_language(lang)])


def format_short_date(value: date | datetime | str, lang: str) -> str:
    """``2026-03-10`` → ``10 mars`` / ``10 Mar``: for tables on a phone."""
    d = _as_date(value)
    if isinstance(d, datetime):
        d = d.date()
    return _babel_date(d, format="d MMM", locale=_FORMAT_LOCALE[normalise_language(lang)])


def format_datetime(value: datetime | str, lang: str) -> str:
    """A timestamp as ``10 mars 2026 14:05``, in Stockholm time.

    An instant with an offset (``2026-07-01T12:00:00+00:00`` from the core) is shown on the
    Stockholm clock (``14:00`` in summer, ``13:00`` in winter), date included; a time without an
    offset is taken as already being Stockholm wall time.
    """
    d = _as_date(value)
    if not isinstance(d, datetime):
        d = datetime(d.year, d.month, d.day)
    if d.tzinfo is not None:
        d = d.astimezone(STOCKHOLM)
    loc = _FORMAT_LOCALE[normalise_language(lang)]
    return f"{_babel_date(d.date(), format='long', locale=loc)} {_babel_datetime(d, format='HH:mm', locale=loc)}"


def format_period(period: str, lang: str) -> str:
    """``2026-03`` → ``mars 2026`` / ``March 2026``."""
    year, month = (int(p) for p in period.split("-")[:2])
    loc = Locale.parse(_FORMAT_LOCALE[normalise_language(lang)])
    return f"{loc.months['stand-alone']['wide'][month]} {year}"


def format_number(value: int | Decimal, lang: str, fmt: str | None = None) -> str:
    """A number in the locale's notation (``3,2`` in Swedish)."""
    return format_decimal(value, format=fmt, locale=_FORMAT_LOCALE[normalise_language(lang)])


def format_bytes(volume: int, lang: str) -> str:
    """Data volume as the operator bills it (decimal units): ``3,2 GB``, ``450 MB``."""
    if volume >= 1_000_000_000:
        return f"{format_number(Decimal(volume).scaleb(-9).quantize(Decimal('0.01')), lang, '#,##0.##')} GB"
    if volume >= 1_000_000:
        return f"{format_number(Decimal(volume).scaleb(-6).quantize(Decimal('1')), lang)} MB"
    return f"{format_number(Decimal(volume).scaleb(-3).quantize(Decimal('1')), lang)} kB"


def format_duration(seconds: int, lang: str) -> str:
    """Call length as ``12:05`` (min:s) or ``1:02:03``."""
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
