"""Automatic payment: each customer's payment method (manual, autogiro, saved card) and the draws.

Autogiro (Bankgirot's direct debit, files in ``formats.autogiro``):

* Choosing autogiro creates a mandate (``pending``); ``export_autogiro`` puts it in the next
  mandate file (TK04; a cancelled one as TK03). Bankgirot's mandate advice (TK73) makes it
  ``approved``, ``rejected`` or ``withdrawn``.
* ``export_autogiro(on=D)`` also writes a payment order file (TK82) with the invoices of
  customers whose mandate is approved that fall due within the operator's lead days, each
  to be drawn on its due date (the next banking day if that is not one).
* The answer (payment specification, or rejected orders) says paid: the payment is recorded
  with ``ledger.record_payment`` (the one way payments are recorded: BgMax, TestPay), once per
  bank reference; or failed. A draw that failed for want of cover (status 1), or was rejected
  for a reason that is not about the mandate, is ordered again ``retry_days`` banking days later,
  ``max_retries`` times; then, and at once when the mandate is gone (status 2, rejection codes
  01-03), the invoice falls back to manual payment: a timeline event and a message to the
  subscriber. Status 9 (renewed funds) means Bankgirot itself tries again: the draw stays pending.
* Importing the same file twice changes nothing (the file's hash), and neither does the same
  record in another file (a reference per record).

Card: the card is saved at the provider's hosted page (``services.paygw``; only its token,
brand, last four digits and expiry reach us). ``run_card_draws(on=D)`` charges the invoices due
by D, with the same retry rule (``card_retry_days`` later) and the same fallback.

Dunning holds while a draw is scheduled or pending (``held_invoice_ids``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from backend_stub import clock
from backend_stub.domain.errors import NotFound
from backend_stub.domain.ocr import has_luhn_digit
from backend_stub.domain.texts import render
from backend_stub.formats import autogiro as ag
from backend_stub.services.lifecycle import ledger, messaging
from backend_stub.services.lifecycle.lifecycle_config import AutopayTerms, LifecycleConfig
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.autopay import (
    AutogiroFile,
    AutogiroMandate,
    AutogiroRecordRef,
    AutopayDraw,
    CardSetupSession,
    PaymentMethod,
    SavedCard,
)

METHODS = ("manual", "autogiro", "card")
OPEN_DRAWS = ("scheduled", "pending")


class AutopayError(ValueError):
    """Bad input; the message starts with the field's name."""


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
    return {date(year, 1, 1), date(year, 1, 6), easter - timedelta(days=2), easter + timedelta(days=1),
            easter + timedelta(days=39), date(year, 5, 1), date(year, 6, 6), midsummer_eve,
            date(year, 12, 24), date(year, 12, 25), date(year, 12, 26), date(year, 12, 31)}


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
    (1100, 1199, 1, 1, "Nordea"), (1200, 1399, 1, 1, "Danske Bank"), (1400, 2099, 1, 1, "Nordea"),
    (2300, 2399, 1, 2, "Ålandsbanken"), (2400, 2499, 1, 1, "Danske Bank"), (3000, 3299, 1, 1, "Nordea"),
    (3300, 3300, 2, 1, "Nordea personkonto"), (3301, 3399, 1, 1, "Nordea"),
    (3400, 3409, 1, 1, "Länsförsäkringar Bank"), (3410, 3781, 1, 1, "Nordea"),
    (3782, 3782, 2, 1, "Nordea personkonto"), (3783, 3999, 1, 1, "Nordea"), (4000, 4999, 1, 2, "Nordea"),
    (5000, 5999, 1, 1, "SEB"), (6000, 6999, 2, 2, "Handelsbanken"), (7000, 7999, 1, 1, "Swedbank"),
    (8000, 8999, 2, 3, "Swedbank"), (9020, 9029, 1, 2, "Länsförsäkringar Bank"), (9040, 9049, 1, 2, "Citibank"),
    (9060, 9069, 1, 1, "Länsförsäkringar Bank"), (9070, 9079, 1, 1, "Multitude Bank"),
    (9100, 9109, 1, 2, "Nordnet Bank"), (9120, 9124, 1, 1, "SEB"), (9130, 9149, 1, 1, "SEB"),
    (9150, 9169, 1, 2, "Skandiabanken"), (9170, 9179, 1, 1, "Ikano Bank"), (9180, 9189, 2, 1, "Danske Bank"),
    (9190, 9199, 1, 2, "DNB Bank"), (9230, 9239, 1, 1, "Marginalen Bank"), (9250, 9259, 1, 1, "SBAB"),
    (9260, 9269, 1, 2, "DNB Bank"), (9270, 9279, 1, 1, "ICA Banken"), (9280, 9289, 1, 1, "Resurs Bank"),
    (9300, 9349, 2, 1, "Swedbank (f.d. Sparbanken Öresund)"), (9390, 9399, 1, 2, "Landshypotek"),
    (9460, 9469, 1, 1, "Santander Consumer Bank"), (9470, 9479, 1, 2, "BNP Paribas"),
    (9500, 9549, 2, 3, "Plusgirot"), (9550, 9569, 1, 2, "Avanza Bank"), (9570, 9579, 2, 1, "Sparbanken Syd"),
    (9580, 9589, 1, 1, "Aion Bank"), (9590, 9599, 1, 2, "Erik Penser"), (9630, 9639, 1, 1, "Lån & Spar Bank"),
    (9640, 9649, 1, 2, "Nordax Bank"), (9660, 9669, 1, 2, "Svea Bank"), (9670, 9679, 1, 2, "JAK Medlemsbank"),
    (9680, 9689, 1, 1, "Bluestep Finans"), (9700, 9709, 1, 2, "Ekobanken"), (9710, 9719, 1, 2, "Lunar Bank"),
    (9750, 9759, 1, 2, "Northmill Bank"), (9780, 9789, 1, 2, "Klarna Bank"), (9880, 9889, 1, 2, "Riksgälden"),
    (9890, 9899, 2, 1, "Riksgälden"), (9960, 9969, 2, 3, "Plusgirot"),
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
        raise AutopayError("clearing: a clearing number has 4 digits (5 for some Swedbank accounts)")
    if len(c) == 5:
        if not c.startswith("8") or not has_luhn_digit(c):
            raise AutopayError("clearing: a five-digit clearing number is Swedbank's 8xxx-x with a check digit")
        c = c[:4]
    series = next((s for s in CLEARING_SERIES if s[0] <= int(c) <= s[1]), None)
    if series is None:
        raise AutopayError(f"clearing: {c} is not a clearing number of a Swedish bank")
    _lo, _hi, kind, comment, bank = series
    if not a.isascii() or not a.isdigit():
        raise AutopayError("account: digits only")
    if kind == 1:
        a = a[-7:] if len(a) > 7 and not a[:-7].strip("0") else a
        if len(a) != 7:
            raise AutopayError(f"account: {bank} account numbers have 7 digits after the clearing number")
        if not _mod11((c[1:] if comment == 1 else c) + a):
            raise AutopayError("account: the check digit does not match (wrong account number?)")
    elif comment == 2:
        a = a.lstrip("0").rjust(9, "0") if len(a) <= 9 or not a[:-9].strip("0") else a
        if len(a) != 9:
            raise AutopayError(f"account: {bank} account numbers have 9 digits")
        if not _mod11(a):
            raise AutopayError("account: the check digit does not match (wrong account number?)")
    elif comment == 1:
        if len(a) != 10:
            raise AutopayError(f"account: {bank} account numbers have 10 digits")
        if not has_luhn_digit(a):
            raise AutopayError("account: the check digit does not match (wrong account number?)")
    else:
        a = a.lstrip("0")
        if not 1 <= len(a) <= 10:
            raise AutopayError(f"account: {bank} account numbers have at most 10 digits")
    return BankAccount(c, a, bank)


def check_personal_number(text: str, *, today: date | None = None) -> str:
    """A personal identity number (or coordination number) as 12 digits, or an organisation
    number as ``00`` + 10 digits; ``AutopayError`` naming ``personal_number``."""
    today = today or clock.today()
    raw = "".join(ch for ch in str(text) if ch not in " -+")
    if not raw.isascii() or not raw.isdigit() or len(raw) not in (10, 12):
        raise AutopayError("personal_number: 12 digits (ÅÅÅÅMMDDNNNN) or 10 (ÅÅMMDDNNNN)")
    if len(raw) == 10:
        if int(raw[2:4]) >= 20:  # an organisation number (the month digits are 20 or more)
            raw = "00" + raw
        else:
            century = today.year // 100 if int(raw[:2]) <= today.year % 100 else today.year // 100 - 1
            raw = f"{century:02d}{raw}"
    if not has_luhn_digit(raw[2:]):
        raise AutopayError("personal_number: the check digit does not match")
    if not raw.startswith("00"):
        try:
            day_of_month = int(raw[6:8])
            date(int(raw[:4]), int(raw[4:6]), day_of_month - 60 if day_of_month > 60 else day_of_month)
        except ValueError:
            raise AutopayError("personal_number: not a date of birth") from None
    return raw


# --- notices ----------------------------------------------------------------------------------------------

MANDATE_REASON_SV = {
    "02": "avslutat av dig eller din bank", "03": "kontot kan inte användas för autogiro",
    "04": "medgivandet saknas hos Bankgirot", "05": "fel kontonummer eller personnummer",
    "07": "banken svarade inte på förfrågan", "10": "det finns redan ett medgivande",
    "20": "fel personnummer", "21": "fel betalarnummer", "23": "fel kontonummer",
    "29": "fel bankgironummer hos oss", "30": "vårt bankgironummer är avregistrerat", "33": "avslutat",
    "98": "bankgironumret är avslutat",
}
NOTICES = {
    "personal_number_needed": (
        "Vi behöver ditt personnummer för att kunna skicka autogiromedgivandet till banken.",
        "We need your personal identity number to send the autogiro mandate to the bank."),
    "mandate_pending": (
        "Medgivandet skickas till din bank. Det tar vanligen några bankdagar innan autogiro är igång.",
        "The mandate is on its way to your bank. Autogiro usually starts within a few banking days."),
    "mandate_rejected": (
        "Banken godkände inte autogiromedgivandet ({reason_sv}). Betala fakturorna själv tills vidare.",
        "The bank did not approve the autogiro mandate ({reason_en}). Please pay your invoices yourself for now."),
    "mandate_withdrawn": (
        "Autogiromedgivandet har avslutats ({reason_sv}). Betala fakturorna själv, eller anmäl autogiro igen.",
        "The autogiro mandate has ended ({reason_en}). Please pay your invoices yourself, or sign up again."),
    "card_setup_failed": ("Kortet sparades inte. Försök gärna igen.", "The card was not saved. Please try again."),
}


def _notice_text(notice: str | None, lang: str) -> str | None:
    if not notice:
        return None
    key, _, code = notice.partition(":")
    if key not in NOTICES:
        return None
    sv, en = NOTICES[key]
    reason_sv = MANDATE_REASON_SV.get(code, f"kod {code}")
    reason_en = ag.MANDATE_COMMENT.get(code, f"code {code}")
    return (en if lang == "en" else sv).format(reason_sv=reason_sv, reason_en=reason_en)


# --- the payment method -----------------------------------------------------------------------------------


def _method_row(conn: Connection, customer_id: int) -> Any:
    return conn.execute(select(PaymentMethod).where(PaymentMethod.customer_id == customer_id)).first()


def _set_method(conn: Connection, customer_id: int, now: datetime, **values: Any) -> None:
    values["updated_at"] = now
    if _method_row(conn, customer_id) is None:
        base = {"method": "manual", "status": "none", "since": None, "notice": None, "personal_number": None}
        conn.execute(insert(PaymentMethod).values(customer_id=customer_id, **(base | values)))
    else:
        conn.execute(update(PaymentMethod).where(PaymentMethod.customer_id == customer_id).values(**values))


def _customer(conn: Connection, customer_id: int) -> Any:
    row = conn.execute(select(m.Customer).where(m.Customer.id == customer_id)).first()
    if row is None:
        raise NotFound(f"customer {customer_id} not found")
    return row


def _current_mandate(conn: Connection, customer_id: int) -> Any:
    """The customer's newest mandate that is not cancelled by us."""
    return conn.execute(select(AutogiroMandate).where(AutogiroMandate.customer_id == customer_id,
                                                      AutogiroMandate.cancel_requested_at.is_(None))
                        .order_by(AutogiroMandate.id.desc())).first()


def _active_card(conn: Connection, customer_id: int) -> Any:
    return conn.execute(select(SavedCard).where(SavedCard.customer_id == customer_id, SavedCard.status == "active")
                        .order_by(SavedCard.id.desc())).first()


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def payment_method(engine: Engine, customer_id: int, *, lang: str | None = None) -> dict[str, Any]:
    """``GET /customers/{id}/payment-method`` (docs/autopay.md). ``NotFound`` for an unknown customer."""
    with engine.connect() as conn:
        customer = _customer(conn, customer_id)
        lang = lang or ("en" if customer.language == "en" else "sv")
        row = _method_row(conn, customer_id)
        out: dict[str, Any] = {"method": "manual", "status": "none", "autogiro": None, "card": None, "since": None,
                               "notice": None}
        if row is None:
            return out
        out.update(method=row.method, status=row.status, since=_iso(row.since), notice=_notice_text(row.notice, lang))
        if row.method == "autogiro":
            mandate = _current_mandate(conn, customer_id)
            if mandate is not None:
                out["autogiro"] = {"account": "•••• " + mandate.account[-4:], "clearing": mandate.clearing,
                                   "mandate_status": mandate.status, "payer_number": mandate.payer_number}
        if row.method == "card":
            card = _active_card(conn, customer_id)
            if card is not None:
                out["card"] = {"brand": card.brand, "last4": card.last4, "expires": card.expires}
        return out


def _payer_number(conn: Connection, customer: Any) -> str:
    digits = "".join(ch for ch in customer.customer_number if ch.isdigit()).lstrip("0") or str(customer.id)
    seq = conn.execute(select(func.count()).select_from(AutogiroMandate)
                       .where(AutogiroMandate.customer_id == customer.id)).scalar_one() + 1
    number = f"{digits[-13:]}{seq:02d}"
    while conn.execute(select(AutogiroMandate.id).where(AutogiroMandate.payer_number == number)).first():
        seq += 1
        number = f"{digits[-13:]}{seq:02d}"
    return number


def _cancel_mandates(conn: Connection, customer_id: int, now: datetime) -> None:
    """Ask Bankgirot to cancel the customer's live mandates (TK03 in the next file)."""
    for mandate in conn.execute(select(AutogiroMandate).where(
            AutogiroMandate.customer_id == customer_id, AutogiroMandate.cancel_requested_at.is_(None),
            AutogiroMandate.status.in_(["pending", "approved"]))).all():
        if mandate.status == "pending" and mandate.request_file_id is None:  # never sent: nothing to cancel there
            conn.execute(update(AutogiroMandate).where(AutogiroMandate.id == mandate.id).values(
                status="withdrawn", cancel_requested_at=now, cancel_file_id=0, answered_at=now))
        else:
            conn.execute(update(AutogiroMandate).where(AutogiroMandate.id == mandate.id)
                         .values(cancel_requested_at=now))


def _forget_cards(conn: Connection, customer_id: int, now: datetime) -> None:
    conn.execute(update(SavedCard).where(SavedCard.customer_id == customer_id, SavedCard.status == "active")
                 .values(status="removed", removed_at=now))


def _cancel_scheduled(conn: Connection, customer_id: int, now: datetime) -> None:
    """Draws not yet handed to the bank or provider are dropped (an order already at Bankgirot stays)."""
    conn.execute(update(AutopayDraw).where(AutopayDraw.customer_id == customer_id, AutopayDraw.status == "scheduled")
                 .values(status="cancelled", updated_at=now, result_text="payment method changed"))


def set_autogiro(engine: Engine, customer_id: int, clearing: str, account: str, personal_number: str | None = None,
                 *, now: datetime | None = None) -> dict[str, Any]:
    """Pay by autogiro from this account: a new mandate, pending until Bankgirot answers.

    Without a personal identity number (given now or before) the mandate waits, with a notice
    saying so, unless the account is a Nordea personkonto (whose number is the personal number).
    """
    now = now or clock.now()
    acct = check_account(clearing, account)
    pnr = check_personal_number(personal_number, today=now.date()) if personal_number else None
    with engine.begin() as conn:
        customer = _customer(conn, customer_id)
        row = _method_row(conn, customer_id)
        if pnr is None and row is not None and row.personal_number:
            pnr = row.personal_number
        if pnr is None and acct.clearing in ("3300", "3782"):
            try:
                pnr = check_personal_number(acct.account, today=now.date())
            except AutopayError:
                pnr = None
        _cancel_mandates(conn, customer_id, now)
        _forget_cards(conn, customer_id, now)
        _cancel_scheduled(conn, customer_id, now)
        conn.execute(insert(AutogiroMandate).values(
            customer_id=customer_id, payer_number=_payer_number(conn, customer), clearing=acct.clearing,
            account=acct.account, personal_number=pnr, status="pending", requested_at=now))
        _set_method(conn, customer_id, now, method="autogiro", status="pending", since=now,
                    notice="mandate_pending" if pnr else "personal_number_needed",
                    **({"personal_number": pnr} if pnr else {}))
    return payment_method(engine, customer_id)


def set_manual(engine: Engine, customer_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """Stop paying automatically: the mandate is cancelled in the next file, a saved card forgotten."""
    now = now or clock.now()
    with engine.begin() as conn:
        _customer(conn, customer_id)
        _cancel_mandates(conn, customer_id, now)
        _forget_cards(conn, customer_id, now)
        _cancel_scheduled(conn, customer_id, now)
        _set_method(conn, customer_id, now, method="manual", status="none", since=now, notice=None)
    return payment_method(engine, customer_id)


def start_card_setup(engine: Engine, provider: Any, customer_id: int, return_url: str, *,
                     now: datetime | None = None) -> str:
    """A session at the provider's hosted card page; the method changes when the card is saved."""
    with engine.connect() as conn:
        _customer(conn, customer_id)
    return provider.create_card_setup(customer_id, return_url, now=now)


def card_saved(conn: Connection, session_id: str, card: dict[str, str], *, now: datetime) -> str | None:
    """The provider's ``card.saved`` (inside its webhook transaction): the card is the payment method."""
    s = conn.execute(select(CardSetupSession).where(CardSetupSession.id == session_id)).first()
    if s is None:
        return None
    if s.status != "open":
        return "duplicate"
    conn.execute(update(CardSetupSession).where(CardSetupSession.id == s.id).values(status="saved"))
    _cancel_mandates(conn, s.customer_id, now)
    _forget_cards(conn, s.customer_id, now)
    _cancel_scheduled(conn, s.customer_id, now)
    conn.execute(insert(SavedCard).values(customer_id=s.customer_id, token=card["token"], brand=card["brand"][:16],
                                          last4=card["last4"][-4:], expires=card["expires"][:5], status="active",
                                          created_at=now))
    _set_method(conn, s.customer_id, now, method="card", status="active", since=now, notice=None)
    return "saved"


def card_setup_failed(conn: Connection, session_id: str, *, now: datetime) -> str | None:
    s = conn.execute(select(CardSetupSession).where(CardSetupSession.id == session_id)).first()
    if s is None:
        return None
    if s.status != "open":
        return "duplicate"
    conn.execute(update(CardSetupSession).where(CardSetupSession.id == s.id).values(status="failed"))
    row = _method_row(conn, s.customer_id)
    if row is None or row.method == "manual":
        _set_method(conn, s.customer_id, now, notice="card_setup_failed")
    return "failed"


# --- what an invoice shows, and dunning ------------------------------------------------------------------


def _latest_draws(conn: Connection, invoice_ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(0, len(invoice_ids), 2000):
        for d in conn.execute(select(AutopayDraw).where(AutopayDraw.invoice_id.in_(invoice_ids[i:i + 2000]))
                              .order_by(AutopayDraw.attempt)):
            out[d.invoice_id] = d
    return out


def held_invoice_ids(conn: Connection, invoice_ids: list[str]) -> set[str]:
    """Invoices whose automatic draw is scheduled or pending: no reminders while it is."""
    return {i for i, d in _latest_draws(conn, invoice_ids).items() if d.status in OPEN_DRAWS}


def _planned_date(method: str, due: date) -> date:
    return next_banking_day(due) if method == "autogiro" else due


def invoice_autopay(conn: Connection, inv: Any, balance_ore: int, *, today: date | None = None) -> dict[str, Any] | None:
    """The invoice JSON's ``autopay``: how it is (or was) paid automatically, or None."""
    if inv.kind != "invoice":
        return None
    today = today or clock.today()
    draw = _latest_draws(conn, [inv.id]).get(inv.id)
    if draw is not None and draw.status != "cancelled":
        status = {"paid": "paid", "pending": "pending", "failed": "failed"}.get(draw.status)
        if draw.status == "scheduled":
            status = "retrying" if draw.attempt > 1 else "scheduled"
        return {"method": draw.method, "status": status, "draw_date": draw.draw_date.isoformat(),
                "paid_at": _iso(draw.paid_at)}
    if balance_ore <= 0 or inv.due_date < today:
        return None
    row = _method_row(conn, inv.customer_id)
    if row is None or row.status != "active" or row.method not in ("autogiro", "card"):
        return None
    if row.method == "card" and row.since is not None and inv.due_date < _iso_date(row.since):
        return None
    return {"method": row.method, "status": "scheduled", "draw_date": _planned_date(row.method, inv.due_date).isoformat(),
            "paid_at": None}


def _iso_date(value: datetime) -> date:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).date()


# --- draws: shared steps ---------------------------------------------------------------------------------


@dataclass
class Notification:
    customer_id: int
    key: str
    subject: tuple[str, str]
    text: tuple[str, str]
    invoice_id: str | None = None


@dataclass
class RunResult:
    """What a run did (counts), the files it wrote or read, and anything that went wrong."""

    date: str
    counts: dict[str, int] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def as_dict(self) -> dict[str, Any]:
        return {"date": self.date, **self.counts, "files": self.files, "errors": self.errors}


def _event(conn: Connection, invoice_id: str, kind: str, data: dict[str, Any], at: datetime) -> None:
    ledger.add_event(conn, invoice_id, kind, render(kind, data, "sv", kind), actor="autopay", at=at, data=data)


def _invoice(conn: Connection, invoice_id: str) -> Any:
    return conn.execute(select(m.Invoice).where(m.Invoice.id == invoice_id)).one()


def _balance(conn: Connection, inv: Any) -> int:
    return ledger.invoice_states(conn, [inv])[inv.id].balance_ore


def _draw_failed(conn: Connection, draw: Any, terms: AutopayTerms, *, code: str, reason_sv: str, reason_en: str,
                 retry: bool, today: date, now: datetime, notes: list[Notification], result: RunResult) -> None:
    """A draw did not go through: a new attempt while the operator's retries last, else manual payment."""
    conn.execute(update(AutopayDraw).where(AutopayDraw.id == draw.id).values(
        status="failed", result_code=code, result_text=reason_en, updated_at=now))
    inv = _invoice(conn, draw.invoice_id)
    balance = _balance(conn, inv)
    data: dict[str, Any] = {"method": draw.method, "date": draw.draw_date.isoformat(), "reason_sv": reason_sv,
                            "reason_en": reason_en, "attempt": draw.attempt}
    if retry and draw.attempt <= terms.max_retries and balance > 0:
        start = max(draw.draw_date, today)
        when = (add_banking_days(start, terms.retry_days) if draw.method == "autogiro"
                else start + timedelta(days=terms.card_retry_days))
        conn.execute(insert(AutopayDraw).values(
            invoice_id=draw.invoice_id, customer_id=draw.customer_id, method=draw.method, attempt=draw.attempt + 1,
            draw_date=when, amount_ore=balance, status="scheduled", payer_number=draw.payer_number, created_at=now,
            updated_at=now))
        _event(conn, inv.id, "autopay_failed", data | {"retry_date": when.isoformat()}, now)
        result.add("retrying")
        return
    _event(conn, inv.id, "autopay_failed", data, now)
    _fallback(conn, inv, draw.method, balance, now, notes)
    result.add("fallback")


def _fallback(conn: Connection, inv: Any, method: str, balance: int, now: datetime, notes: list[Notification]) -> None:
    pay_by = max(inv.due_date, now.date() + timedelta(days=7))
    data = {"method": method, "balance_ore": max(balance, 0), "pay_by": pay_by.isoformat(), "ocr": inv.ocr,
            "bankgiro": inv.document.get("seller", {}).get("bankgiro", "")}
    _event(conn, inv.id, "autopay_fallback", data, now)
    if balance > 0:
        notes.append(Notification(
            inv.customer_id, f"autopay-fallback:{inv.id}",
            (f"Faktura {inv.number}: betala själv", f"Invoice {inv.number}: please pay it yourself"),
            (render("autopay_fallback", data, "sv", "") + f"\nOCR: {inv.ocr}, bankgiro {data['bankgiro']}.\n",
             render("autopay_fallback", data, "en", "") + f"\nOCR: {inv.ocr}, bankgiro {data['bankgiro']}.\n"),
            inv.id))


def _send(engine: Engine, notes: list[Notification], mail: messaging.MailSettings | None,
          sms: messaging.SmsProvider | None, result: RunResult) -> None:
    """Tell the subscribers, after the changes are committed (each message once per key)."""
    from backend_stub.services.lifecycle.messaging import address_line

    mail = mail or messaging.MailSettings.from_env()
    sms = sms or messaging.OutboxSmsProvider()
    for n in notes:
        with engine.connect() as conn:
            c = _customer(conn, n.customer_id)
        i = 1 if c.language == "en" else 0
        try:
            if c.channel == "sms" and c.phone:
                messaging.send_sms(engine, sms, to=c.phone, text=f"{n.subject[i]}. {n.text[i]}", key=n.key,
                                   invoice_id=n.invoice_id)
            elif c.email:
                messaging.send_email(engine, mail, to=c.email, subject=n.subject[i], text=n.text[i], key=n.key,
                                     invoice_id=n.invoice_id)
            else:
                messaging.record_letter(engine, to=address_line(c), subject=n.subject[i], text=n.text[i], key=n.key,
                                        invoice_id=n.invoice_id)
            result.add("messages")
        except Exception as exc:  # noqa: BLE001 (a channel failure must not undo the run; the key allows a resend)
            result.errors.append(f"message {n.key}: {type(exc).__name__}: {exc}")


def _noon(d: date) -> datetime:
    return datetime.combine(d, time(12, 0), tzinfo=UTC)


# --- autogiro: the files out ------------------------------------------------------------------------------


def payee_bankgiro(cfg: LifecycleConfig, catalogue: Any) -> str:
    """The bankgiro number Autogiro draws to: the setting, else the operator's bankgiro in the catalogue."""
    value = cfg.autopay.payee_bankgiro or "".join(ch for ch in catalogue.operator.bankgiro if ch.isdigit())
    if not value:
        raise AutopayError("payee_bankgiro: no bankgiro number for Autogiro (autopay.payee_bankgiro)")
    return value


def _store_file(conn: Connection, direction: str, kind: str, name: str, data: bytes, for_date: date | None,
                records: int, now: datetime, result: dict[str, Any] | None = None) -> int:
    return conn.execute(insert(AutogiroFile).values(
        direction=direction, kind=kind, name=name[:200], sha256=hashlib.sha256(data).hexdigest(), for_date=for_date,
        records=records, content=data.decode(ag.ENCODING), result=result, created_at=now)
        .returning(AutogiroFile.id)).scalar_one()


def _file_dict(f: Any) -> dict[str, Any]:
    return {"id": f.id, "kind": f.kind, "name": f.name, "for_date": f.for_date.isoformat() if f.for_date else None,
            "records": f.records, "sha256": f.sha256, "content": f.content}


def outgoing_files(engine: Engine, on: date) -> list[dict[str, Any]]:
    """The files written for day ``on`` (mandates, payment orders), oldest first."""
    with engine.connect() as conn:
        return [_file_dict(f) for f in conn.execute(select(AutogiroFile).where(
            AutogiroFile.direction == "out", AutogiroFile.for_date == on).order_by(AutogiroFile.id))]


def export_autogiro(engine: Engine, catalogue: Any, cfg: LifecycleConfig, on: date, *,
                    now: datetime | None = None, mail: messaging.MailSettings | None = None,
                    sms: messaging.SmsProvider | None = None) -> RunResult:
    """Write day ``on``'s files to Bankgirot: new and cancelled mandates, and payment orders for the
    invoices due within the lead days (each drawn on its due date, moved to a banking day).

    Idempotent: what went into a file is marked, so a second run the same day writes nothing new.
    The result lists every file of the day.
    """
    now = now or clock.moment_on(on)
    terms = cfg.autopay
    bg = payee_bankgiro(cfg, catalogue)
    result = RunResult(on.isoformat())
    notes: list[Notification] = []
    with engine.begin() as conn:
        _export_mandates(conn, bg, terms, on, now, result)
        _export_payments(conn, bg, terms, on, now, result, notes)
    result.files = outgoing_files(engine, on)
    _send(engine, notes, mail, sms, result)
    return result


def _export_mandates(conn: Connection, bg: str, terms: AutopayTerms, on: date, now: datetime,
                     result: RunResult) -> None:
    creates = list(conn.execute(select(AutogiroMandate).where(
        AutogiroMandate.status == "pending", AutogiroMandate.request_file_id.is_(None),
        AutogiroMandate.cancel_requested_at.is_(None), AutogiroMandate.personal_number.is_not(None))
        .order_by(AutogiroMandate.id)))
    cancels = list(conn.execute(select(AutogiroMandate).where(
        AutogiroMandate.cancel_requested_at.is_not(None), AutogiroMandate.cancel_file_id.is_(None))
        .order_by(AutogiroMandate.id)))
    if not creates and not cancels:
        return
    records = ([ag.MandateRequest("cancel", x.payer_number) for x in cancels]
               + [ag.MandateRequest("create", x.payer_number, clearing=x.clearing, account=x.account,
                                    personal_number=x.personal_number) for x in creates])
    data = ag.write_request(ag.RequestFile(on, terms.bankgirot_customer_number, bg, mandates=records))
    seq = conn.execute(select(func.count()).select_from(AutogiroFile).where(
        AutogiroFile.direction == "out", AutogiroFile.for_date == on)).scalar_one() + 1
    file_id = _store_file(conn, "out", "mandates", f"autogiro-medgivanden-{on.isoformat()}-{seq}.txt", data, on,
                          len(records), now)
    if creates:
        conn.execute(update(AutogiroMandate).where(AutogiroMandate.id.in_([x.id for x in creates]))
                     .values(request_file_id=file_id))
    if cancels:
        conn.execute(update(AutogiroMandate).where(AutogiroMandate.id.in_([x.id for x in cancels]))
                     .values(cancel_file_id=file_id))
    result.add("mandates", len(creates))
    result.add("cancellations", len(cancels))


def _export_payments(conn: Connection, bg: str, terms: AutopayTerms, on: date, now: datetime,
                     result: RunResult, notes: list[Notification]) -> None:
    first_day = add_banking_days(on, 1)  # Bankgirot needs the order the banking day before at the latest
    last_day = on + timedelta(days=terms.lead_days)
    mandates = {x.customer_id: x for x in conn.execute(
        select(AutogiroMandate).join(PaymentMethod, PaymentMethod.customer_id == AutogiroMandate.customer_id)
        .where(AutogiroMandate.status == "approved", AutogiroMandate.cancel_requested_at.is_(None),
               PaymentMethod.method == "autogiro", PaymentMethod.status == "active"))}
    orders: list[tuple[Any, int, Any, date, Any]] = []  # (invoice, amount, mandate, draw date, existing draw)
    if mandates:
        candidates = list(conn.execute(select(m.Invoice).where(
            m.Invoice.kind == "invoice", m.Invoice.customer_id.in_(list(mandates)), m.Invoice.amount_due_ore > 0,
            m.Invoice.due_date >= on, m.Invoice.due_date <= last_day)))
        drawn = _latest_draws(conn, [i.id for i in candidates])
        states = ledger.invoice_states(conn, candidates, on) if candidates else {}
        for inv in candidates:
            when = next_banking_day(inv.due_date)
            if inv.id in drawn or states[inv.id].balance_ore <= 0 or when < first_day:
                continue
            orders.append((inv, states[inv.id].balance_ore, mandates[inv.customer_id], when, None))
    for draw in conn.execute(select(AutopayDraw).where(
            AutopayDraw.method == "autogiro", AutopayDraw.status == "scheduled", AutopayDraw.draw_date <= last_day)):
        mandate = mandates.get(draw.customer_id)
        inv = _invoice(conn, draw.invoice_id)
        balance = _balance(conn, inv)
        if balance <= 0:
            conn.execute(update(AutopayDraw).where(AutopayDraw.id == draw.id).values(
                status="cancelled", updated_at=now, result_text="nothing left to pay"))
            continue
        if mandate is None:  # the mandate ended before the new attempt: the invoice is paid by hand
            conn.execute(update(AutopayDraw).where(AutopayDraw.id == draw.id).values(
                status="failed", updated_at=now, result_text="no approved mandate for the new attempt"))
            _fallback(conn, inv, "autogiro", balance, now, notes)
            result.add("fallback")
            continue
        orders.append((inv, balance, mandate, max(next_banking_day(draw.draw_date), first_day), draw))
    if not orders:
        return
    payments = [ag.PaymentOrder(when, mandate.payer_number, amount, (inv.ocr or inv.number)[:16])
                for inv, amount, mandate, when, _d in orders]
    data = ag.write_request(ag.RequestFile(on, terms.bankgirot_customer_number, bg, payments=payments))
    seq = conn.execute(select(func.count()).select_from(AutogiroFile).where(
        AutogiroFile.direction == "out", AutogiroFile.for_date == on)).scalar_one() + 1
    file_id = _store_file(conn, "out", "payments", f"autogiro-betalningar-{on.isoformat()}-{seq}.txt", data, on,
                          len(payments), now)
    for inv, amount, mandate, when, existing in orders:
        if existing is None:
            conn.execute(insert(AutopayDraw).values(
                invoice_id=inv.id, customer_id=inv.customer_id, method="autogiro", attempt=1, draw_date=when,
                amount_ore=amount, status="pending", payer_number=mandate.payer_number, order_file_id=file_id,
                created_at=now, updated_at=now))
        else:
            conn.execute(update(AutopayDraw).where(AutopayDraw.id == existing.id).values(
                status="pending", draw_date=when, amount_ore=amount, payer_number=mandate.payer_number,
                order_file_id=file_id, updated_at=now))
        _event(conn, inv.id, "autopay_ordered", {"method": "autogiro", "amount_ore": amount, "date": when.isoformat()},
               now)
    result.add("orders", len(orders))
    result.add("amount_ore", sum(o[1] for o in orders))


# --- autogiro: the answers in -----------------------------------------------------------------------------


def import_autogiro(engine: Engine, catalogue: Any, cfg: LifecycleConfig, data: bytes, source: str, *,
                    today: date | None = None, now: datetime | None = None,
                    mail: messaging.MailSettings | None = None, sms: messaging.SmsProvider | None = None) -> RunResult:
    """Apply an answer file from Bankgirot (mandate advice, payment specification, rejected orders).

    Raises ``AutogiroError`` for a bad file (nothing applied) and ``AutopayError`` for a file of
    another payee. The same file again, or a record already applied, changes nothing.
    """
    now = now or (clock.moment_on(today) if today else clock.now())
    today = today or clock.stockholm_date(now)
    parsed = ag.parse(data)
    if isinstance(parsed, ag.RequestFile):
        raise AutopayError("file: this is a file to Bankgirot (TK01 AUTOGIRO), not an answer from Bankgirot")
    bg = payee_bankgiro(cfg, catalogue)
    if parsed.bankgiro.lstrip("0") != bg.lstrip("0"):
        raise AutopayError(f"file: it is for bankgiro {parsed.bankgiro.lstrip('0')}, ours is {bg}")
    kind = {ag.MandateAdviceFile: "mandate_advice", ag.PaymentSpecFile: "payment_spec",
            ag.RejectedFile: "rejected"}[type(parsed)]
    result = RunResult(today.isoformat())
    result.counts["kind"] = kind  # type: ignore[assignment]
    digest = hashlib.sha256(data).hexdigest()
    notes: list[Notification] = []
    with engine.begin() as conn:
        old = conn.execute(select(AutogiroFile).where(AutogiroFile.direction == "in",
                                                      AutogiroFile.sha256 == digest)).first()
        if old is not None:
            result.add("duplicate_file")
            result.files = [{"id": old.id, "kind": old.kind, "name": old.name}]
            return result
        records = {"mandate_advice": lambda: parsed.advices, "payment_spec": lambda: parsed.results,
                   "rejected": lambda: parsed.orders}[kind]()
        file_id = _store_file(conn, "in", kind, source, data, None, len(records), now)
        for record in records:
            ref = _record_ref(kind, record)
            try:
                with conn.begin_nested():
                    conn.execute(insert(AutogiroRecordRef).values(ref=ref, file_id=file_id, created_at=now))
            except IntegrityError:
                result.add("duplicate_records")
                continue
            if kind == "mandate_advice":
                _apply_advice(conn, record, now, notes, result)
            elif kind == "payment_spec":
                _apply_result(conn, record, bg, cfg.autopay, today, now, notes, result)
            else:
                _apply_rejection(conn, record, cfg.autopay, today, now, notes, result)
        conn.execute(update(AutogiroFile).where(AutogiroFile.id == file_id).values(result=dict(result.counts)))
    result.files = [{"id": file_id, "kind": kind, "name": source}]
    _send(engine, notes, mail, sms, result)
    return result


def _record_ref(kind: str, r: Any) -> str:
    if kind == "mandate_advice":
        parts = ["medavi", r.payer_number, r.info_code, r.comment_code, r.advice_date.isoformat(), r.account]
    elif kind == "payment_spec":
        parts = ["spec", r.record_type, r.payment_date.isoformat(), r.payer_number, str(r.amount_ore), r.reference,
                 r.status_code, r.payee_bankgiro]
    else:
        parts = ["rejected", r.record_type, r.payment_date_raw, r.payer_number, str(r.amount_ore), r.reference,
                 r.comment_code]
    return ":".join(p.strip() for p in parts)[:200]


def _mandate_by_payer(conn: Connection, payer_number: str) -> Any:
    return conn.execute(select(AutogiroMandate).where(
        AutogiroMandate.payer_number == payer_number.lstrip("0"))).first()


def _apply_advice(conn: Connection, a: ag.MandateAdvice, now: datetime, notes: list[Notification],
                  result: RunResult) -> None:
    mandate = _mandate_by_payer(conn, a.payer_number)
    if mandate is None:
        result.add("unknown")
        return
    outcome = a.outcome
    if outcome == "renumbered":
        result.add("ignored")
        return
    new_status = {"approved": "approved", "rejected": "rejected", "withdrawn": "withdrawn"}[outcome]
    conn.execute(update(AutogiroMandate).where(AutogiroMandate.id == mandate.id).values(
        status=new_status, answered_at=now, answer_code=f"{a.info_code}/{a.comment_code}", answer_text=a.text))
    result.add(new_status)
    current = _current_mandate(conn, mandate.customer_id)
    row = _method_row(conn, mandate.customer_id)
    if current is None or current.id != mandate.id or row is None or row.method != "autogiro":
        return  # an old mandate (replaced or cancelled by us): the payment method is not about it
    if outcome == "approved":
        _set_method(conn, mandate.customer_id, now, status="active", since=now, notice=None)
        return
    notice = f"mandate_{outcome}:{a.comment_code}"
    _set_method(conn, mandate.customer_id, now, status="failed", notice=notice)
    sv, en = _notice_text(notice, "sv") or "", _notice_text(notice, "en") or ""
    notes.append(Notification(mandate.customer_id, f"autogiro-mandate:{mandate.id}:{outcome}",
                              ("Autogiro: medgivandet gäller inte", "Autogiro: the mandate is not in force"),
                              (sv + "\n", en + "\n")))


def _pending_draw(conn: Connection, payer_number: str, amount: int, when: date | None) -> Any:
    q = select(AutopayDraw).where(AutopayDraw.method == "autogiro", AutopayDraw.status == "pending",
                                  AutopayDraw.payer_number == payer_number.lstrip("0"),
                                  AutopayDraw.amount_ore == amount).order_by(AutopayDraw.draw_date, AutopayDraw.id)
    rows = list(conn.execute(q))
    exact = [d for d in rows if when is not None and d.draw_date == when]
    return (exact or rows or [None])[0]


STATUS_SV = {"1": "täckning saknades på kontot", "2": "kontot är inte kopplat till autogiro (avslutat)"}


def _apply_result(conn: Connection, r: ag.PaymentResult, bg: str, terms: AutopayTerms, today: date, now: datetime,
                  notes: list[Notification], result: RunResult) -> None:
    if r.record_type != "82":
        result.add("ignored")  # outgoing payments and refunds: not drawn by this system
        return
    draw = _pending_draw(conn, r.payer_number, r.amount_ore, r.payment_date)
    if draw is None:
        result.add("unknown")
        return
    if r.status_code == "0":
        reference = f"autogiro:{bg}:{r.payment_date.isoformat()}:{r.payer_number.lstrip('0')}:{draw.id}"
        inv = _invoice(conn, draw.invoice_id)
        ledger.record_payment(conn, invoice_id=inv.id, reference=reference, method="autogiro", amount_ore=r.amount_ore,
                              customer_id=inv.customer_id, ocr=inv.ocr, received_at=_noon(r.payment_date),
                              actor="autogiro")
        conn.execute(update(AutopayDraw).where(AutopayDraw.id == draw.id).values(
            status="paid", reference=reference, result_code="0", result_text=r.text, paid_at=_noon(r.payment_date),
            updated_at=now))
        result.add("paid")
        result.add("paid_ore", r.amount_ore)
    elif r.status_code == "9":  # Bankgirot tries again itself: still pending
        conn.execute(update(AutopayDraw).where(AutopayDraw.id == draw.id).values(
            result_code="9", result_text=r.text, updated_at=now))
        result.add("renewed")
    else:
        _draw_failed(conn, draw, terms, code=r.status_code, reason_sv=STATUS_SV.get(r.status_code, r.text),
                     reason_en=r.text, retry=r.status_code == "1", today=today, now=now, notes=notes, result=result)
        result.add("failed")


def _apply_rejection(conn: Connection, o: ag.RejectedOrder, terms: AutopayTerms, today: date, now: datetime,
                     notes: list[Notification], result: RunResult) -> None:
    if o.record_type != "82":
        result.add("ignored")
        return
    draw = _pending_draw(conn, o.payer_number, o.amount_ore, o.payment_date)
    if draw is None:
        result.add("unknown")
        return
    mandate_gone = o.comment_code in ag.MANDATE_REJECTION_CODES
    reason_sv = {"01": "medgivande saknas", "02": "kontot är inte godkänt eller avslutat",
                 "03": "medgivandet är stoppat"}.get(o.comment_code, f"avvisad av Bankgirot (kod {o.comment_code})")
    _draw_failed(conn, draw, terms, code=o.comment_code, reason_sv=reason_sv, reason_en=o.text, retry=not mandate_gone,
                 today=today, now=now, notes=notes, result=result)
    result.add("rejected_orders")


# --- cards ------------------------------------------------------------------------------------------------


def run_card_draws(engine: Engine, provider: Any, cfg: LifecycleConfig, on: date, *, now: datetime | None = None,
                   mail: messaging.MailSettings | None = None, sms: messaging.SmsProvider | None = None) -> RunResult:
    """Charge saved cards for day ``on``: invoices due by then (since the card was chosen) and the
    retries planned for then. Safe to run again: a draw is charged once (the provider's payment id
    follows from the draw)."""
    now = now or clock.moment_on(on)
    terms = cfg.autopay
    result = RunResult(on.isoformat())
    notes: list[Notification] = []
    with engine.begin() as conn:
        methods = {r.customer_id: r for r in conn.execute(select(PaymentMethod).where(
            PaymentMethod.method == "card", PaymentMethod.status == "active"))}
        if methods:
            candidates = list(conn.execute(select(m.Invoice).where(
                m.Invoice.kind == "invoice", m.Invoice.customer_id.in_(list(methods)), m.Invoice.amount_due_ore > 0,
                m.Invoice.due_date <= on)))
            drawn = _latest_draws(conn, [i.id for i in candidates])
            states = ledger.invoice_states(conn, candidates, on) if candidates else {}
            for inv in candidates:
                since = methods[inv.customer_id].since
                if inv.id in drawn or states[inv.id].balance_ore <= 0 or (since and inv.due_date < _iso_date(since)):
                    continue
                conn.execute(insert(AutopayDraw).values(
                    invoice_id=inv.id, customer_id=inv.customer_id, method="card", attempt=1, draw_date=inv.due_date,
                    amount_ore=states[inv.id].balance_ore, status="scheduled", created_at=now, updated_at=now))
        due = [d.id for d in conn.execute(select(AutopayDraw.id).where(
            AutopayDraw.method == "card", AutopayDraw.status == "scheduled", AutopayDraw.draw_date <= on)
            .order_by(AutopayDraw.id))]
    for draw_id in due:
        _charge(engine, provider, terms, draw_id, on, now, notes, result)
    _send(engine, notes, mail, sms, result)
    return result


def _charge(engine: Engine, provider: Any, terms: AutopayTerms, draw_id: int, on: date, now: datetime,
            notes: list[Notification], result: RunResult) -> None:
    with engine.begin() as conn:
        draw = conn.execute(select(AutopayDraw).where(AutopayDraw.id == draw_id).with_for_update()).one()
        if draw.status != "scheduled":
            return
        inv = _invoice(conn, draw.invoice_id)
        balance = _balance(conn, inv)
        card = _active_card(conn, draw.customer_id)
        row = _method_row(conn, draw.customer_id)
        if balance <= 0 or card is None or row is None or row.method != "card":
            conn.execute(update(AutopayDraw).where(AutopayDraw.id == draw.id).values(
                status="cancelled", updated_at=now,
                result_text="nothing left to pay" if balance <= 0 else "no saved card"))
            if balance > 0 and draw.attempt > 1:
                _fallback(conn, inv, "card", balance, now, notes)
                result.add("fallback")
            return
        token = card.token
    # The provider is asked outside our transaction; the key makes a repeated call the same charge.
    answer = provider.charge_saved_card(token, balance, f"draw:{draw_id}:{balance}", now=now)
    with engine.begin() as conn:
        draw = conn.execute(select(AutopayDraw).where(AutopayDraw.id == draw_id).with_for_update()).one()
        if draw.status != "scheduled":
            return
        inv = _invoice(conn, draw.invoice_id)
        if answer["status"] == "succeeded":
            reference = f"testpay:{answer['payment_id']}"
            ledger.record_payment(conn, invoice_id=inv.id, reference=reference, method="card", amount_ore=balance,
                                  customer_id=inv.customer_id, received_at=now, actor="testpay")
            conn.execute(update(AutopayDraw).where(AutopayDraw.id == draw.id).values(
                status="paid", amount_ore=balance, reference=reference, paid_at=now, result_code="succeeded",
                updated_at=now, draw_date=on))
            result.add("paid")
            result.add("paid_ore", balance)
            return
        conn.execute(update(AutopayDraw).where(AutopayDraw.id == draw.id).values(amount_ore=balance, draw_date=on))
        draw = conn.execute(select(AutopayDraw).where(AutopayDraw.id == draw.id)).one()
        code = str(answer.get("decline_code") or "declined")
        _draw_failed(conn, draw, terms, code=code[:32], reason_sv="kortet nekades",
                     reason_en=f"the card was declined ({code})", retry=True, today=on, now=now, notes=notes,
                     result=result)
        result.add("failed")
