"""Swedish banking: banking days (weekends, Easter and the other bank holidays), bank account numbers by
Bankgirot's "Bankernas kontonummer", personal identity and organisation numbers. Pure: each check takes the
text (and the day, where it matters) and returns the normalised value or raises ``AutopayError`` naming
the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from backend_stub.domain.errors import Invalid
from backend_stub.domain.ocr import has_luhn_digit


class AutopayError(Invalid):
    """Bad input about a payment method (``Invalid``: the field and the message)."""


# --- banking days (Sweden) --------------------------------------------------------------------------------


def _easter(year: int) -> date:
    """Easter Sunday (the Gregorian computus, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    lw = (32 + 2 * e + 2 * i - h - k) % 7
    mm = (a + 11 * h + 22 * lw) // 451
    month = (h + lw - 7 * mm + 114) // 31
    return date(year, month, (h + lw - 7 * mm + 114) % 31 + 1)


def bank_holidays(year: int) -> set[date]:
    """Days that are not banking days in Sweden besides weekends (Midsummer Eve, Christmas Eve and
    New Year's Eve included, as Bankgirot counts them)."""
    easter = _easter(year)
    midsummer_eve = next(date(year, 6, d) for d in range(19, 26) if date(year, 6, d).weekday() == 4)
    return {
        date(year, 1, 1),
        date(year, 1, 6),
        easter - timedelta(days=2),
        easter + timedelta(days=1),
        easter + timedelta(days=39),
        date(year, 5, 1),
        date(year, 6, 6),
        midsummer_eve,
        date(year, 12, 24),
        date(year, 12, 25),
        date(year, 12, 26),
        date(year, 12, 31),
    }


def is_banking_day(d: date) -> bool:
    return d.weekday() < 5 and d not in bank_holidays(d.year)


def next_banking_day(d: date) -> date:
    """``d`` if it is a banking day, else the next one."""
    while not is_banking_day(d):
        d += timedelta(days=1)
    return d


def add_banking_days(d: date, n: int) -> date:
    for _ in range(n):
        d = next_banking_day(d + timedelta(days=1))
    return d


# --- bank accounts and personal numbers -------------------------------------------------------------------

# Bankgirot, "Bankernas kontonummer" (clearing number series per bank, account number types):
# (first clearing, last clearing, type, comment). Type 1: 7-digit account, modulus 11 over the
# clearing's last three digits and the account (comment 1) or the whole clearing and account
# (comment 2). Type 2: comment 1, 10 digits modulus 10; comment 2 (Handelsbanken), 9 digits
# modulus 11; comment 3 (Swedbank 8xxx, Plusgirot), at most 10 digits modulus 10.
CLEARING_SERIES: tuple[tuple[int, int, int, int, str], ...] = (
    (1100, 1199, 1, 1, "Nordea"),
    (1200, 1399, 1, 1, "Danske Bank"),
    (1400, 2099, 1, 1, "Nordea"),
    (2300, 2399, 1, 2, "Ålandsbanken"),
    (2400, 2499, 1, 1, "Danske Bank"),
    (3000, 3299, 1, 1, "Nordea"),
    (3300, 3300, 2, 1, "Nordea personkonto"),
    (3301, 3399, 1, 1, "Nordea"),
    (3400, 3409, 1, 1, "Länsförsäkringar Bank"),
    (3410, 3781, 1, 1, "Nordea"),
    (3782, 3782, 2, 1, "Nordea personkonto"),
    (3783, 3999, 1, 1, "Nordea"),
    (4000, 4999, 1, 2, "Nordea"),
    (5000, 5999, 1, 1, "SEB"),
    (6000, 6999, 2, 2, "Handelsbanken"),
    (7000, 7999, 1, 1, "Swedbank"),
    (8000, 8999, 2, 3, "Swedbank"),
    (9020, 9029, 1, 2, "Länsförsäkringar Bank"),
    (9040, 9049, 1, 2, "Citibank"),
    (9060, 9069, 1, 1, "Länsförsäkringar Bank"),
    (9070, 9079, 1, 1, "Multitude Bank"),
    (9100, 9109, 1, 2, "Nordnet Bank"),
    (9120, 9124, 1, 1, "SEB"),
    (9130, 9149, 1, 1, "SEB"),
    (9150, 9169, 1, 2, "Skandiabanken"),
    (9170, 9179, 1, 1, "Ikano Bank"),
    (9180, 9189, 2, 1, "Danske Bank"),
    (9190, 9199, 1, 2, "DNB Bank"),
    (9230, 9239, 1, 1, "Marginalen Bank"),
    (9250, 9259, 1, 1, "SBAB"),
    (9260, 9269, 1, 2, "DNB Bank"),
    (9270, 9279, 1, 1, "ICA Banken"),
    (9280, 9289, 1, 1, "Resurs Bank"),
    (9300, 9349, 2, 1, "Swedbank (f.d. Sparbanken Öresund)"),
    (9390, 9399, 1, 2, "Landshypotek"),
    (9460, 9469, 1, 1, "Santander Consumer Bank"),
    (9470, 9479, 1, 2, "BNP Paribas"),
    (9500, 9549, 2, 3, "Plusgirot"),
    (9550, 9569, 1, 2, "Avanza Bank"),
    (9570, 9579, 2, 1, "Sparbanken Syd"),
    (9580, 9589, 1, 1, "Aion Bank"),
    (9590, 9599, 1, 2, "Erik Penser"),
    (9630, 9639, 1, 1, "Lån & Spar Bank"),
    (9640, 9649, 1, 2, "Nordax Bank"),
    (9660, 9669, 1, 2, "Svea Bank"),
    (9670, 9679, 1, 2, "JAK Medlemsbank"),
    (9680, 9689, 1, 1, "Bluestep Finans"),
    (9700, 9709, 1, 2, "Ekobanken"),
    (9710, 9719, 1, 2, "Lunar Bank"),
    (9750, 9759, 1, 2, "Northmill Bank"),
    (9780, 9789, 1, 2, "Klarna Bank"),
    (9880, 9889, 1, 2, "Riksgälden"),
    (9890, 9899, 2, 1, "Riksgälden"),
    (9960, 9969, 2, 3, "Plusgirot"),
)


def _mod11(digits: str) -> bool:
    weights = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
    return sum(int(c) * weights[i % 10] for i, c in enumerate(reversed(digits))) % 11 == 0


@dataclass(frozen=True)
class BankAccount:
    clearing: str  # 4 digits
    account: str  # the account number without the clearing number
    bank: str


def check_account(clearing: str, account: str) -> BankAccount:
    """A Swedish bank account by Bankgirot's "Bankernas kontonummer"; ``AutopayError`` naming the field.

    Swedbank's five-digit clearing numbers (8xxx-x) are taken with their check digit, which is
    checked and dropped. Swedbank's 8xxx and Plusgirot's account numbers are checked for length
    only: the document notes that some of Swedbank's valid numbers fail the modulus-10 check.
    """
    c = "".join(ch for ch in str(clearing) if ch not in " -")
    a = "".join(ch for ch in str(account) if ch not in " -.")
    if not c.isascii() or not c.isdigit() or len(c) not in (4, 5):
        raise AutopayError("clearing", "a clearing number has 4 digits (5 for some Swedbank accounts)")
    if len(c) == 5:
        if not c.startswith("8") or not has_luhn_digit(c):
            raise AutopayError("clearing", "a five-digit clearing number is Swedbank's 8xxx-x with a check digit")
        c = c[:4]
    series = next((s for s in CLEARING_SERIES if s[0] <= int(c) <= s[1]), None)
    if series is None:
        raise AutopayError("clearing", f"{c} is not a clearing number of a Swedish bank")
    _lo, _hi, kind, comment, bank = series
    if not a.isascii() or not a.isdigit():
        raise AutopayError("account", "digits only")
    if kind == 1:
        a = a[-7:] if len(a) > 7 and not a[:-7].strip("0") else a
        if len(a) != 7:
            raise AutopayError("account", f"{bank} account numbers have 7 digits after the clearing number")
        if not _mod11((c[1:] if comment == 1 else c) + a):
            raise AutopayError("account", "the check digit does not match (wrong account number?)")
    elif comment == 2:
        a = a.lstrip("0").rjust(9, "0") if len(a) <= 9 or not a[:-9].strip("0") else a
        if len(a) != 9:
            raise AutopayError("account", f"{bank} account numbers have 9 digits")
        if not _mod11(a):
            raise AutopayError("account", "the check digit does not match (wrong account number?)")
    elif comment == 1:
        if len(a) != 10:
            raise AutopayError("account", f"{bank} account numbers have 10 digits")
        if not has_luhn_digit(a):
            raise AutopayError("account", "the check digit does not match (wrong account number?)")
    else:
        a = a.lstrip("0")
        if not 1 <= len(a) <= 10:
            raise AutopayError("account", f"{bank} account numbers have at most 10 digits")
    return BankAccount(c, a, bank)


def check_personal_number(text: str, *, today: date) -> str:
    """A personal identity number (or coordination number) as 12 digits, or an organisation
    number as ``00`` + 10 digits; ``AutopayError`` naming ``personal_number``. ``today`` places a 10-digit
    number's century (a person born 100 years ago is not a newborn)."""
    raw = "".join(ch for ch in str(text) if ch not in " -+")
    if not raw.isascii() or not raw.isdigit() or len(raw) not in (10, 12):
        raise AutopayError("personal_number", "12 digits (ÅÅÅÅMMDDNNNN) or 10 (ÅÅMMDDNNNN)")
    if len(raw) == 10:
        if int(raw[2:4]) >= 20:  # an organisation number (the month digits are 20 or more)
            raw = "00" + raw
        else:
            century = today.year // 100 if int(raw[:2]) <= today.year % 100 else today.year // 100 - 1
            raw = f"{century:02d}{raw}"
    if not has_luhn_digit(raw[2:]):
        raise AutopayError("personal_number", "the check digit does not match")
    if not raw.startswith("00"):
        try:
            day_of_month = int(raw[6:8])
            date(int(raw[:4]), int(raw[4:6]), day_of_month - 60 if day_of_month > 60 else day_of_month)
        except ValueError:
            raise AutopayError("personal_number", "not a date of birth") from None
    return raw
