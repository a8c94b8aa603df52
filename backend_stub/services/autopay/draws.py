"""Automatic payment, the draws: what an invoice shows, the steps every draw shares, and card draws.

A draw is scheduled, handed over (pending), paid or failed. The answer says paid: the payment
is recorded with ``ledger.record_payment`` (the one way payments are recorded: BgMax, TestPay),
once per reference; or failed. A failed draw is tried again while the operator's retries last
(``retry_days`` banking days later for autogiro, ``card_retry_days`` for a card), then the
invoice falls back to manual payment: a timeline event and a message to the subscriber.
``run_card_draws(on=D)`` charges the saved cards for the invoices due by D. Dunning holds while
a draw is scheduled or pending (``held_invoice_ids``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from backend_stub import clock
from backend_stub.domain.banking import (
    add_banking_days,
    next_banking_day,
)
from backend_stub.domain.lifecycle_terms import AutopayTerms
from backend_stub.domain.texts import render
from backend_stub.services.autopay.mandates import active_card, customer_row, iso_instant, method_row
from backend_stub.services.lifecycle import ledger, messaging
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.services.lifecycle.messaging import address_line
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.autopay import (
    AutopayDraw,
    PaymentMethod,
)

OPEN_DRAWS = ("scheduled", "pending")


# --- what an invoice shows, and dunning ------------------------------------------------------------------


def latest_draws(conn: Connection, invoice_ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(0, len(invoice_ids), 2000):
        for d in conn.execute(
            select(AutopayDraw)
            .where(AutopayDraw.invoice_id.in_(invoice_ids[i : i + 2000]))
            .order_by(AutopayDraw.attempt)
        ):
            out[d.invoice_id] = d
    return out


def held_invoice_ids(conn: Connection, invoice_ids: list[str]) -> set[str]:
    """Invoices whose automatic draw is scheduled or pending: no reminders while it is."""
    return {i for i, d in latest_draws(conn, invoice_ids).items() if d.status in OPEN_DRAWS}


def _planned_date(method: str, due: date) -> date:
    return next_banking_day(due) if method == "autogiro" else due


def invoice_autopay(
    conn: Connection, inv: Any, balance_ore: int, *, today: date | None = None
) -> dict[str, Any] | None:
    """The invoice JSON's ``autopay``: how it is (or was) paid automatically, or None."""
    if inv.kind != "invoice":
        return None
    today = today or clock.today()
    draw = latest_draws(conn, [inv.id]).get(inv.id)
    if draw is not None and draw.status != "cancelled":
        status = {"paid": "paid", "pending": "pending", "failed": "failed"}.get(draw.status)
        if draw.status == "scheduled":
            status = "retrying" if draw.attempt > 1 else "scheduled"
        return {
            "method": draw.method,
            "status": status,
            "draw_date": draw.draw_date.isoformat(),
            "paid_at": iso_instant(draw.paid_at),
        }
    if balance_ore <= 0 or inv.due_date < today:
        return None
    row = method_row(conn, inv.customer_id)
    if row is None or row.status != "active" or row.method not in ("autogiro", "card"):
        return None
    if row.method == "card" and row.since is not None and inv.due_date < _iso_date(row.since):
        return None
    return {
        "method": row.method,
        "status": "scheduled",
        "draw_date": _planned_date(row.method, inv.due_date).isoformat(),
        "paid_at": None,
    }


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


def add_event(conn: Connection, invoice_id: str, kind: str, data: dict[str, Any], at: datetime) -> None:
    ledger.add_event(conn, invoice_id, kind, render(kind, data, "sv", kind), actor="autopay", at=at, data=data)


def invoice_row(conn: Connection, invoice_id: str) -> Any:
    return conn.execute(select(m.Invoice).where(m.Invoice.id == invoice_id)).one()


def balance_of(conn: Connection, inv: Any) -> int:
    return ledger.invoice_states(conn, [inv])[inv.id].balance_ore


def draw_failed(
    conn: Connection,
    draw: Any,
    terms: AutopayTerms,
    *,
    code: str,
    reason_sv: str,
    reason_en: str,
    retry: bool,
    today: date,
    now: datetime,
    notes: list[Notification],
    result: RunResult,
) -> None:
    """A draw did not go through: a new attempt while the operator's retries last, else manual payment."""
    conn.execute(
        update(AutopayDraw)
        .where(AutopayDraw.id == draw.id)
        .values(status="failed", result_code=code, result_text=reason_en, updated_at=now)
    )
    inv = invoice_row(conn, draw.invoice_id)
    balance = balance_of(conn, inv)
    data: dict[str, Any] = {
        "method": draw.method,
        "date": draw.draw_date.isoformat(),
        "reason_sv": reason_sv,
        "reason_en": reason_en,
        "attempt": draw.attempt,
    }
    if retry and draw.attempt <= terms.max_retries and balance > 0:
        start = max(draw.draw_date, today)
        when = (
            add_banking_days(start, terms.retry_days)
            if draw.method == "autogiro"
            else start + timedelta(days=terms.card_retry_days)
        )
        conn.execute(
            insert(AutopayDraw).values(
                invoice_id=draw.invoice_id,
                customer_id=draw.customer_id,
                method=draw.method,
                attempt=draw.attempt + 1,
                draw_date=when,
                amount_ore=balance,
                status="scheduled",
                payer_number=draw.payer_number,
                created_at=now,
                updated_at=now,
            )
        )
        add_event(conn, inv.id, "autopay_failed", data | {"retry_date": when.isoformat()}, now)
        result.add("retrying")
        return
    add_event(conn, inv.id, "autopay_failed", data, now)
    fall_back(conn, inv, draw.method, balance, now, notes)
    result.add("fallback")


def fall_back(conn: Connection, inv: Any, method: str, balance: int, now: datetime, notes: list[Notification]) -> None:
    pay_by = max(inv.due_date, now.date() + timedelta(days=7))
    data = {
        "method": method,
        "balance_ore": max(balance, 0),
        "pay_by": pay_by.isoformat(),
        "ocr": inv.ocr,
        "bankgiro": inv.document.get("seller", {}).get("bankgiro", ""),
    }
    add_event(conn, inv.id, "autopay_fallback", data, now)
    if balance > 0:
        notes.append(
            Notification(
                inv.customer_id,
                f"autopay-fallback:{inv.id}",
                (f"Faktura {inv.number}: betala själv", f"Invoice {inv.number}: please pay it yourself"),
                (
                    render("autopay_fallback", data, "sv", "") + f"\nOCR: {inv.ocr}, bankgiro {data['bankgiro']}.\n",
                    render("autopay_fallback", data, "en", "") + f"\nOCR: {inv.ocr}, bankgiro {data['bankgiro']}.\n",
                ),
                inv.id,
            )
        )


def send_notes(
    engine: Engine,
    notes: list[Notification],
    mail: messaging.MailSettings | None,
    sms: messaging.SmsProvider | None,
    result: RunResult,
) -> None:
    """Tell the subscribers, after the changes are committed (each message once per key)."""
    mail = mail or messaging.MailSettings.from_env()
    sms = sms or messaging.OutboxSmsProvider()
    for n in notes:
        with engine.connect() as conn:
            c = customer_row(conn, n.customer_id)
        i = 1 if c.language == "en" else 0
        try:
            if c.channel == "sms" and c.phone:
                messaging.send_sms(
                    engine, sms, to=c.phone, text=f"{n.subject[i]}. {n.text[i]}", key=n.key, invoice_id=n.invoice_id
                )
            elif c.email:
                messaging.send_email(
                    engine, mail, to=c.email, subject=n.subject[i], text=n.text[i], key=n.key, invoice_id=n.invoice_id
                )
            else:
                messaging.record_letter(
                    engine, to=address_line(c), subject=n.subject[i], text=n.text[i], key=n.key, invoice_id=n.invoice_id
                )
            result.add("messages")
        except Exception as exc:  # noqa: BLE001 (a channel failure must not undo the run; the key allows a resend)
            result.errors.append(f"message {n.key}: {type(exc).__name__}: {exc}")


def noon(d: date) -> datetime:
    return datetime.combine(d, time(12, 0), tzinfo=UTC)


# --- cards ------------------------------------------------------------------------------------------------


def run_card_draws(
    engine: Engine,
    provider: Any,
    cfg: LifecycleConfig,
    on: date,
    *,
    now: datetime | None = None,
    mail: messaging.MailSettings | None = None,
    sms: messaging.SmsProvider | None = None,
) -> RunResult:
    """Charge saved cards for day ``on``: invoices due by then (since the card was chosen) and the
    retries planned for then. Safe to run again: a draw is charged once (the provider's payment id
    follows from the draw)."""
    now = now or clock.moment_on(on)
    terms = cfg.autopay
    result = RunResult(on.isoformat())
    notes: list[Notification] = []
    with engine.begin() as conn:
        methods = {
            r.customer_id: r
            for r in conn.execute(
                select(PaymentMethod).where(PaymentMethod.method == "card", PaymentMethod.status == "active")
            )
        }
        if methods:
            candidates = list(
                conn.execute(
                    select(m.Invoice).where(
                        m.Invoice.kind == "invoice",
                        m.Invoice.customer_id.in_(list(methods)),
                        m.Invoice.amount_due_ore > 0,
                        m.Invoice.due_date <= on,
                    )
                )
            )
            drawn = latest_draws(conn, [i.id for i in candidates])
            states = ledger.invoice_states(conn, candidates, on) if candidates else {}
            for inv in candidates:
                since = methods[inv.customer_id].since
                if inv.id in drawn or states[inv.id].balance_ore <= 0 or (since and inv.due_date < _iso_date(since)):
                    continue
                conn.execute(
                    insert(AutopayDraw).values(
                        invoice_id=inv.id,
                        customer_id=inv.customer_id,
                        method="card",
                        attempt=1,
                        draw_date=inv.due_date,
                        amount_ore=states[inv.id].balance_ore,
                        status="scheduled",
                        created_at=now,
                        updated_at=now,
                    )
                )
        due = [
            d.id
            for d in conn.execute(
                select(AutopayDraw.id)
                .where(AutopayDraw.method == "card", AutopayDraw.status == "scheduled", AutopayDraw.draw_date <= on)
                .order_by(AutopayDraw.id)
            )
        ]
    for draw_id in due:
        _charge(engine, provider, terms, draw_id, on, now, notes, result)
    send_notes(engine, notes, mail, sms, result)
    return result


def _charge(
    engine: Engine,
    provider: Any,
    terms: AutopayTerms,
    draw_id: int,
    on: date,
    now: datetime,
    notes: list[Notification],
    result: RunResult,
) -> None:
    """Charge the saved card for a scheduled draw: paid, or declined (retried per the terms)."""
    chargeable = _what_to_charge(engine, draw_id, now, notes, result)
    if chargeable is None:
        return
    token, balance = chargeable
    # The provider is asked outside our transaction; the key makes a repeated call the same charge.
    answer = provider.charge_saved_card(token, balance, f"draw:{draw_id}:{balance}", now=now)
    with engine.begin() as conn:
        draw = conn.execute(select(AutopayDraw).where(AutopayDraw.id == draw_id).with_for_update()).one()
        if draw.status != "scheduled":
            return
        inv = invoice_row(conn, draw.invoice_id)
        if answer["status"] == "succeeded":
            _card_paid(conn, draw.id, inv, f"testpay:{answer['payment_id']}", balance, on, now, result)
            return
        conn.execute(update(AutopayDraw).where(AutopayDraw.id == draw.id).values(amount_ore=balance, draw_date=on))
        draw = conn.execute(select(AutopayDraw).where(AutopayDraw.id == draw.id)).one()
        code = str(answer.get("decline_code") or "declined")
        draw_failed(
            conn,
            draw,
            terms,
            code=code[:32],
            reason_sv="kortet nekades",
            reason_en=f"the card was declined ({code})",
            retry=True,
            today=on,
            now=now,
            notes=notes,
            result=result,
        )
        result.add("failed")


def _what_to_charge(
    engine: Engine, draw_id: int, now: datetime, notes: list[Notification], result: RunResult
) -> tuple[str, int] | None:
    """The saved card's token and the invoice's balance, or None: the draw is no longer scheduled, or it
    is cancelled (nothing left to pay, or no saved card; a new attempt then falls back to paying by hand)."""
    with engine.begin() as conn:
        draw = conn.execute(select(AutopayDraw).where(AutopayDraw.id == draw_id).with_for_update()).one()
        if draw.status != "scheduled":
            return None
        inv = invoice_row(conn, draw.invoice_id)
        balance = balance_of(conn, inv)
        card = active_card(conn, draw.customer_id)
        row = method_row(conn, draw.customer_id)
        if balance <= 0 or card is None or row is None or row.method != "card":
            conn.execute(
                update(AutopayDraw)
                .where(AutopayDraw.id == draw.id)
                .values(
                    status="cancelled",
                    updated_at=now,
                    result_text="nothing left to pay" if balance <= 0 else "no saved card",
                )
            )
            if balance > 0 and draw.attempt > 1:
                fall_back(conn, inv, "card", balance, now, notes)
                result.add("fallback")
            return None
        return card.token, balance


def _card_paid(
    conn: Connection,
    draw_id: int,
    inv: Any,
    reference: str,
    balance: int,
    on: date,
    now: datetime,
    result: RunResult,
) -> None:
    """The card payment recorded on the invoice, and the draw paid."""
    ledger.record_payment(
        conn,
        invoice_id=inv.id,
        reference=reference,
        method="card",
        amount_ore=balance,
        customer_id=inv.customer_id,
        received_at=now,
        actor="testpay",
    )
    conn.execute(
        update(AutopayDraw)
        .where(AutopayDraw.id == draw_id)
        .values(
            status="paid",
            amount_ore=balance,
            reference=reference,
            paid_at=now,
            result_code="succeeded",
            updated_at=now,
            draw_date=on,
        )
    )
    result.add("paid")
    result.add("paid_ore", balance)
