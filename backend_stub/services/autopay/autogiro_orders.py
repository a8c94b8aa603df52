"""Autogiro's payment orders: which invoices are drawn on which day, and an order recorded as a draw.

First draws are invoices due within the operator's lead days of customers whose mandate is approved
(drawn on the due date, or the next banking day); new attempts are draws scheduled again after a
failure (``draws.draw_failed``). ``autogiro_files`` writes them into the day's order file.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from backend_stub.domain.banking import next_banking_day
from backend_stub.services.autopay.draws import (
    Notification,
    RunResult,
    add_event,
    balance_of,
    fall_back,
    invoice_row,
    latest_draws,
)
from backend_stub.services.lifecycle import ledger
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.autopay import AutogiroMandate, AutopayDraw, PaymentMethod

Order = tuple[Any, int, Any, date, Any]  # (invoice, amount, mandate, draw date, existing draw or None)


def drawable_mandates(conn: Connection) -> dict[int, Any]:
    """Per account, its approved mandate not being cancelled, where Autogiro is the active payment method."""
    return {
        x.customer_id: x
        for x in conn.execute(
            select(AutogiroMandate)
            .join(PaymentMethod, PaymentMethod.customer_id == AutogiroMandate.customer_id)
            .where(
                AutogiroMandate.status == "approved",
                AutogiroMandate.cancel_requested_at.is_(None),
                PaymentMethod.method == "autogiro",
                PaymentMethod.status == "active",
            )
        )
    }


def first_orders(conn: Connection, mandates: dict[int, Any], on: date, first_day: date, last_day: date) -> list[Order]:
    """First draws: invoices of those accounts due by ``last_day`` with a balance and no draw yet, drawn on
    their due date (the next banking day) if Bankgirot can still have the order by then."""
    orders: list[Order] = []
    candidates = list(
        conn.execute(
            select(m.Invoice).where(
                m.Invoice.kind == "invoice",
                m.Invoice.customer_id.in_(list(mandates)),
                m.Invoice.amount_due_ore > 0,
                m.Invoice.due_date >= on,
                m.Invoice.due_date <= last_day,
            )
        )
    )
    drawn = latest_draws(conn, [i.id for i in candidates])
    states = ledger.invoice_states(conn, candidates, on) if candidates else {}
    for inv in candidates:
        when = next_banking_day(inv.due_date)
        if inv.id in drawn or states[inv.id].balance_ore <= 0 or when < first_day:
            continue
        orders.append((inv, states[inv.id].balance_ore, mandates[inv.customer_id], when, None))
    return orders


def new_attempts(
    conn: Connection,
    mandates: dict[int, Any],
    first_day: date,
    last_day: date,
    now: datetime,
    result: RunResult,
    notes: list[Notification],
) -> list[Order]:
    """New attempts scheduled by ``last_day``: cancelled when nothing is left to pay; without a mandate
    any more the invoice falls back to being paid by hand."""
    orders: list[Order] = []
    for draw in conn.execute(
        select(AutopayDraw).where(
            AutopayDraw.method == "autogiro", AutopayDraw.status == "scheduled", AutopayDraw.draw_date <= last_day
        )
    ):
        mandate = mandates.get(draw.customer_id)
        inv = invoice_row(conn, draw.invoice_id)
        balance = balance_of(conn, inv)
        if balance <= 0:
            conn.execute(
                update(AutopayDraw)
                .where(AutopayDraw.id == draw.id)
                .values(status="cancelled", updated_at=now, result_text="nothing left to pay")
            )
            continue
        if mandate is None:  # the mandate ended before the new attempt: the invoice is paid by hand
            conn.execute(
                update(AutopayDraw)
                .where(AutopayDraw.id == draw.id)
                .values(status="failed", updated_at=now, result_text="no approved mandate for the new attempt")
            )
            fall_back(conn, inv, "autogiro", balance, now, notes)
            result.add("fallback")
            continue
        orders.append((inv, balance, mandate, max(next_banking_day(draw.draw_date), first_day), draw))
    return orders


def record_order(conn: Connection, order: Order, file_id: int, now: datetime) -> None:
    """The order as a pending draw (a new one, or the scheduled attempt's), and ``autopay_ordered``."""
    inv, amount, mandate, when, existing = order
    if existing is None:
        conn.execute(
            insert(AutopayDraw).values(
                invoice_id=inv.id,
                customer_id=inv.customer_id,
                method="autogiro",
                attempt=1,
                draw_date=when,
                amount_ore=amount,
                status="pending",
                payer_number=mandate.payer_number,
                order_file_id=file_id,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        conn.execute(
            update(AutopayDraw)
            .where(AutopayDraw.id == existing.id)
            .values(
                status="pending",
                draw_date=when,
                amount_ore=amount,
                payer_number=mandate.payer_number,
                order_file_id=file_id,
                updated_at=now,
            )
        )
    add_event(
        conn, inv.id, "autopay_ordered", {"method": "autogiro", "amount_ore": amount, "date": when.isoformat()}, now
    )
