"""Automatic payment, the payment method: manual, autogiro (a mandate at Bankgirot) or a saved card.

Choosing autogiro creates a mandate (``pending``) that the next mandate file sends
(``autogiro_files.export_autogiro``); Bankgirot's advice makes it ``approved``, ``rejected``
or ``withdrawn``. A card is saved at the provider's hosted page (``services.lifecycle.paygw``:
only its token, brand, last four digits and expiry reach us). Changing the method cancels the
mandates, forgets the cards and drops the draws not yet handed over. The notices the
subscriber reads are in both languages here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from backend_stub import clock
from backend_stub.domain.banking import (
    AutopayError,
    check_account,
    check_personal_number,
)
from backend_stub.domain.errors import NotFound
from backend_stub.formats import autogiro as ag
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.autopay import (
    AutogiroMandate,
    AutopayDraw,
    CardSetupSession,
    PaymentMethod,
    SavedCard,
)

METHODS = ("manual", "autogiro", "card")


# --- notices ----------------------------------------------------------------------------------------------

MANDATE_REASON_SV = {
    "02": "avslutat av dig eller din bank",
    "03": "kontot kan inte användas för autogiro",
    "04": "medgivandet saknas hos Bankgirot",
    "05": "fel kontonummer eller personnummer",
    "07": "banken svarade inte på förfrågan",
    "10": "det finns redan ett medgivande",
    "20": "fel personnummer",
    "21": "fel betalarnummer",
    "23": "fel kontonummer",
    "29": "fel bankgironummer hos oss",
    "30": "vårt bankgironummer är avregistrerat",
    "33": "avslutat",
    "98": "bankgironumret är avslutat",
}
NOTICES = {
    "personal_number_needed": (
        "Vi behöver ditt personnummer för att kunna skicka autogiromedgivandet till banken.",
        "We need your personal identity number to send the autogiro mandate to the bank.",
    ),
    "mandate_pending": (
        "Medgivandet skickas till din bank. Det tar vanligen några bankdagar innan autogiro är igång.",
        "The mandate is on its way to your bank. Autogiro usually starts within a few banking days.",
    ),
    "mandate_rejected": (
        "Banken godkände inte autogiromedgivandet ({reason_sv}). Betala fakturorna själv tills vidare.",
        "The bank did not approve the autogiro mandate ({reason_en}). Please pay your invoices yourself for now.",
    ),
    "mandate_withdrawn": (
        "Autogiromedgivandet har avslutats ({reason_sv}). Betala fakturorna själv, eller anmäl autogiro igen.",
        "The autogiro mandate has ended ({reason_en}). Please pay your invoices yourself, or sign up again.",
    ),
    "card_setup_failed": ("Kortet sparades inte. Försök gärna igen.", "The card was not saved. Please try again."),
}


def notice_text(notice: str | None, lang: str) -> str | None:
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


def method_row(conn: Connection, customer_id: int) -> Any:
    return conn.execute(select(PaymentMethod).where(PaymentMethod.customer_id == customer_id)).first()


def set_method(conn: Connection, customer_id: int, now: datetime, **values: Any) -> None:
    values["updated_at"] = now
    if method_row(conn, customer_id) is None:
        base = {"method": "manual", "status": "none", "since": None, "notice": None, "personal_number": None}
        conn.execute(insert(PaymentMethod).values(customer_id=customer_id, **(base | values)))
    else:
        conn.execute(update(PaymentMethod).where(PaymentMethod.customer_id == customer_id).values(**values))


def customer_row(conn: Connection, customer_id: int) -> Any:
    row = conn.execute(select(m.Customer).where(m.Customer.id == customer_id)).first()
    if row is None:
        raise NotFound(f"customer {customer_id} not found")
    return row


def current_mandate(conn: Connection, customer_id: int) -> Any:
    """The customer's newest mandate that is not cancelled by us."""
    return conn.execute(
        select(AutogiroMandate)
        .where(AutogiroMandate.customer_id == customer_id, AutogiroMandate.cancel_requested_at.is_(None))
        .order_by(AutogiroMandate.id.desc())
    ).first()


def active_card(conn: Connection, customer_id: int) -> Any:
    return conn.execute(
        select(SavedCard)
        .where(SavedCard.customer_id == customer_id, SavedCard.status == "active")
        .order_by(SavedCard.id.desc())
    ).first()


def iso_instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def payment_method(engine: Engine, customer_id: int, *, lang: str | None = None) -> dict[str, Any]:
    """``GET /customers/{id}/payment-method`` (docs/autopay.md). ``NotFound`` for an unknown customer."""
    with engine.connect() as conn:
        customer = customer_row(conn, customer_id)
        lang = lang or ("en" if customer.language == "en" else "sv")
        row = method_row(conn, customer_id)
        out: dict[str, Any] = {
            "method": "manual",
            "status": "none",
            "autogiro": None,
            "card": None,
            "since": None,
            "notice": None,
        }
        if row is None:
            return out
        out.update(
            method=row.method, status=row.status, since=iso_instant(row.since), notice=notice_text(row.notice, lang)
        )
        if row.method == "autogiro":
            mandate = current_mandate(conn, customer_id)
            if mandate is not None:
                out["autogiro"] = {
                    "account": "•••• " + mandate.account[-4:],
                    "clearing": mandate.clearing,
                    "mandate_status": mandate.status,
                    "payer_number": mandate.payer_number,
                }
        if row.method == "card":
            card = active_card(conn, customer_id)
            if card is not None:
                out["card"] = {"brand": card.brand, "last4": card.last4, "expires": card.expires}
        return out


def _payer_number(conn: Connection, customer: Any) -> str:
    digits = "".join(ch for ch in customer.customer_number if ch.isdigit()).lstrip("0") or str(customer.id)
    seq = (
        conn.execute(
            select(func.count()).select_from(AutogiroMandate).where(AutogiroMandate.customer_id == customer.id)
        ).scalar_one()
        + 1
    )
    number = f"{digits[-13:]}{seq:02d}"
    while conn.execute(select(AutogiroMandate.id).where(AutogiroMandate.payer_number == number)).first():
        seq += 1
        number = f"{digits[-13:]}{seq:02d}"
    return number


def _cancel_mandates(conn: Connection, customer_id: int, now: datetime) -> None:
    """Ask Bankgirot to cancel the customer's live mandates (TK03 in the next file)."""
    for mandate in conn.execute(
        select(AutogiroMandate).where(
            AutogiroMandate.customer_id == customer_id,
            AutogiroMandate.cancel_requested_at.is_(None),
            AutogiroMandate.status.in_(["pending", "approved"]),
        )
    ).all():
        if mandate.status == "pending" and mandate.request_file_id is None:  # never sent: nothing to cancel there
            conn.execute(
                update(AutogiroMandate)
                .where(AutogiroMandate.id == mandate.id)
                .values(status="withdrawn", cancel_requested_at=now, cancel_file_id=0, answered_at=now)
            )
        else:
            conn.execute(
                update(AutogiroMandate).where(AutogiroMandate.id == mandate.id).values(cancel_requested_at=now)
            )


def _forget_cards(conn: Connection, customer_id: int, now: datetime) -> None:
    conn.execute(
        update(SavedCard)
        .where(SavedCard.customer_id == customer_id, SavedCard.status == "active")
        .values(status="removed", removed_at=now)
    )


def _cancel_scheduled(conn: Connection, customer_id: int, now: datetime) -> None:
    """Draws not yet handed to the bank or provider are dropped (an order already at Bankgirot stays)."""
    conn.execute(
        update(AutopayDraw)
        .where(AutopayDraw.customer_id == customer_id, AutopayDraw.status == "scheduled")
        .values(status="cancelled", updated_at=now, result_text="payment method changed")
    )


def set_autogiro(
    engine: Engine,
    customer_id: int,
    clearing: str,
    account: str,
    personal_number: str | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Pay by autogiro from this account: a new mandate, pending until Bankgirot answers.

    Without a personal identity number (given now or before) the mandate waits, with a notice
    saying so, unless the account is a Nordea personkonto (whose number is the personal number).
    """
    now = now or clock.now()
    acct = check_account(clearing, account)
    pnr = check_personal_number(personal_number, today=now.date()) if personal_number else None
    with engine.begin() as conn:
        customer = customer_row(conn, customer_id)
        row = method_row(conn, customer_id)
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
        conn.execute(
            insert(AutogiroMandate).values(
                customer_id=customer_id,
                payer_number=_payer_number(conn, customer),
                clearing=acct.clearing,
                account=acct.account,
                personal_number=pnr,
                status="pending",
                requested_at=now,
            )
        )
        set_method(
            conn,
            customer_id,
            now,
            method="autogiro",
            status="pending",
            since=now,
            notice="mandate_pending" if pnr else "personal_number_needed",
            **({"personal_number": pnr} if pnr else {}),
        )
    return payment_method(engine, customer_id)


def set_manual(engine: Engine, customer_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """Stop paying automatically: the mandate is cancelled in the next file, a saved card forgotten."""
    now = now or clock.now()
    with engine.begin() as conn:
        customer_row(conn, customer_id)
        _cancel_mandates(conn, customer_id, now)
        _forget_cards(conn, customer_id, now)
        _cancel_scheduled(conn, customer_id, now)
        set_method(conn, customer_id, now, method="manual", status="none", since=now, notice=None)
    return payment_method(engine, customer_id)


def start_card_setup(
    engine: Engine, provider: Any, customer_id: int, return_url: str, *, now: datetime | None = None
) -> str:
    """A session at the provider's hosted card page; the method changes when the card is saved."""
    with engine.connect() as conn:
        customer_row(conn, customer_id)
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
    conn.execute(
        insert(SavedCard).values(
            customer_id=s.customer_id,
            token=card["token"],
            brand=card["brand"][:16],
            last4=card["last4"][-4:],
            expires=card["expires"][:5],
            status="active",
            created_at=now,
        )
    )
    set_method(conn, s.customer_id, now, method="card", status="active", since=now, notice=None)
    return "saved"


def card_setup_failed(conn: Connection, session_id: str, *, now: datetime) -> str | None:
    s = conn.execute(select(CardSetupSession).where(CardSetupSession.id == session_id)).first()
    if s is None:
        return None
    if s.status != "open":
        return "duplicate"
    conn.execute(update(CardSetupSession).where(CardSetupSession.id == s.id).values(status="failed"))
    row = method_row(conn, s.customer_id)
    if row is None or row.method == "manual":
        set_method(conn, s.customer_id, now, notice="card_setup_failed")
    return "failed"
