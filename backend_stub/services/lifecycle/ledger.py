"""Balances and statuses of invoices, payments and the customer's credit balance.

An invoice's balance is its amount due plus reminder fees and late interest charged on it,
less what was paid on it, plus its credit notes (negative amounts). A negative balance is money the operator owes the customer: it is
used on the customer's next invoice (a transfer recorded as two ``credit_balance``
payments, so every öre stays traceable).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from backend_stub import clock
from backend_stub.domain import invoice_state
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.lifecycle import InvoiceCharge
from selfcare_common.money_format import format_kr

# Statuses and the events that close a small balance live with the one state of an invoice.
STATUSES = invoice_state.STATUSES
CLOSING_EVENTS = invoice_state.CLOSING_EVENTS
# Payment methods that close a small balance without money (not counted as paid).
CLOSING_METHODS = ("carried", "written_off")


@dataclass(frozen=True)
class InvoiceState:
    balance_ore: int
    paid_ore: int
    credited_ore: int
    status: str
    fees_ore: int = 0  # reminder fees charged (services.lifecycle.dunning)
    interest_ore: int = 0  # late interest charged (services.lifecycle.dunning)


def invoice_states(conn: Connection, invoices: list[Any], today: date | None = None) -> dict[str, InvoiceState]:
    """Balance and status of each invoice row (batched: three queries whatever the count)."""
    today = today or clock.today()
    ids = [inv.id for inv in invoices]
    # Keyed as the nullable columns read back (payments.invoice_id, invoices.credits_invoice_id); the
    # queries below ask for these invoices' rows, so no key is ever None.
    paid: dict[str | None, int] = defaultdict(int)
    closed: dict[str | None, int] = defaultdict(int)  # carried to the next invoice or written off
    credited: dict[str | None, int] = defaultdict(int)
    flags: dict[str, set[str]] = defaultdict(set)
    charges: dict[tuple[str, str], int] = defaultdict(int)
    for i in range(0, len(ids), 2000):
        part = ids[i : i + 2000]
        for inv_id, method, total in conn.execute(
            select(m.Payment.invoice_id, m.Payment.method, func.sum(m.Payment.amount_ore))
            .where(m.Payment.invoice_id.in_(part))
            .group_by(m.Payment.invoice_id, m.Payment.method)
        ):
            if method in CLOSING_METHODS:
                closed[inv_id] += int(total)
            else:
                paid[inv_id] += int(total)
        for inv_id, total in conn.execute(
            select(m.Invoice.credits_invoice_id, func.sum(m.Invoice.amount_due_ore))
            .where(m.Invoice.credits_invoice_id.in_(part))
            .group_by(m.Invoice.credits_invoice_id)
        ):
            credited[inv_id] = -int(total)
        for inv_id, kind in conn.execute(
            select(m.InvoiceEvent.invoice_id, m.InvoiceEvent.kind)
            .where(
                m.InvoiceEvent.invoice_id.in_(part),
                m.InvoiceEvent.kind.in_(["reminder_sent", "collection", "collection_recalled", *CLOSING_EVENTS]),
            )
            .distinct()
        ):
            flags[inv_id].add(kind)
        for inv_id, kind, total in conn.execute(
            select(InvoiceCharge.invoice_id, InvoiceCharge.kind, func.sum(InvoiceCharge.amount_ore))
            .where(InvoiceCharge.invoice_id.in_(part))
            .group_by(InvoiceCharge.invoice_id, InvoiceCharge.kind)
        ):
            charges[(inv_id, kind)] = int(total)
    out = {}
    for inv in invoices:
        p, c = paid[inv.id], credited[inv.id]
        fees, interest = charges[(inv.id, "reminder_fee")], charges[(inv.id, "interest")]
        balance = inv.amount_due_ore + fees + interest - p - c - closed[inv.id]
        out[inv.id] = InvoiceState(
            balance,
            p,
            c,
            invoice_state.status_of(
                kind=inv.kind,
                amount_due_ore=inv.amount_due_ore,
                due_date=inv.due_date,
                balance_ore=balance,
                paid_ore=p,
                credited_ore=c,
                flags=flags[inv.id],
                today=today,
            ),
            fees,
            interest,
        )
    return out


def add_event(
    conn: Connection,
    invoice_id: str,
    kind: str,
    text: str,
    *,
    actor: str = "system",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append an entry to an invoice's timeline."""
    conn.execute(
        insert(m.InvoiceEvent).values(
            invoice_id=invoice_id, at=at or clock.now(), actor=actor, kind=kind, text=text, data=data or {}
        )
    )


def record_payment(
    conn: Connection,
    *,
    invoice_id: str | None,
    reference: str,
    method: str,
    amount_ore: int,
    customer_id: int | None = None,
    ocr: str | None = None,
    received_at: datetime | None = None,
    actor: str = "system",
) -> bool:
    """Record a payment once (idempotent on ``reference``); returns False if already recorded."""
    if conn.execute(select(m.Payment.id).where(m.Payment.reference == reference)).first() is not None:
        return False
    at = received_at or clock.now()
    conn.execute(
        insert(m.Payment).values(
            reference=reference,
            method=method,
            invoice_id=invoice_id,
            customer_id=customer_id,
            ocr=ocr,
            amount_ore=amount_ore,
            received_at=at,
            status="matched" if invoice_id else "unmatched",
        )
    )
    if invoice_id:
        inv = conn.execute(select(m.Invoice).where(m.Invoice.id == invoice_id)).one()
        state = invoice_states(conn, [inv])[inv.id]
        add_event(
            conn,
            invoice_id,
            "payment_received",
            f"Betalning mottagen: {format_kr(amount_ore)}. Kvar att betala: {format_kr(max(0, state.balance_ore))}.",
            actor=actor,
            at=at,
            data={"amount_ore": amount_ore, "remaining_ore": state.balance_ore, "method": method},
        )
        surplus = min(amount_ore, -state.balance_ore) if amount_ore > 0 else 0
        if surplus > 0 and method not in CLOSING_METHODS and method != "credit_balance":
            # More than was left (e.g. paid twice, or after a credit): never a silent negative balance.
            # The surplus is the customer's credit balance (rules §5), and the agents see it in their
            # attention queue (payments.list_unmatched, kind "overpaid") to refund it if asked.
            data = {"amount_ore": surplus, "payment_reference": reference}
            add_event(
                conn,
                invoice_id,
                "overpaid",
                f"Betalningen var {format_kr(surplus)} mer än det som var kvar "
                "att betala; det är ditt tillgodohavande och dras av på nästa faktura.",
                actor=actor,
                at=at,
                data=data,
            )
    return True


def apply_credit_balance(conn: Connection, customer_id: int, invoice_id: str, now: datetime) -> int:
    """Use the customer's credit balance (invoices with a negative balance) on ``invoice_id``."""
    invoices = list(
        conn.execute(select(m.Invoice).where(m.Invoice.customer_id == customer_id, m.Invoice.kind == "invoice"))
    )
    if len(invoices) < 2:
        return 0
    states = invoice_states(conn, invoices)
    target = states[invoice_id]
    need = target.balance_ore
    used = 0
    for inv in sorted(invoices, key=lambda i: i.invoice_date):
        if need <= 0:
            break
        if inv.id == invoice_id or states[inv.id].balance_ore >= 0:
            continue
        amount = min(need, -states[inv.id].balance_ore)
        conn.execute(
            insert(m.Payment),
            [
                {
                    "reference": f"credit:{inv.id}:{invoice_id}:out",
                    "method": "credit_balance",
                    "invoice_id": inv.id,
                    "customer_id": customer_id,
                    "amount_ore": -amount,
                    "received_at": now,
                    "status": "matched",
                },
                {
                    "reference": f"credit:{inv.id}:{invoice_id}:in",
                    "method": "credit_balance",
                    "invoice_id": invoice_id,
                    "customer_id": customer_id,
                    "amount_ore": amount,
                    "received_at": now,
                    "status": "matched",
                },
            ],
        )
        add_event(
            conn,
            invoice_id,
            "credit_applied",
            f"Tillgodohavande från faktura {inv.number} avräknat: {format_kr(amount)}.",
            at=now,
            data={"amount_ore": amount, "from_invoice": inv.number},
        )
        need -= amount
        used += amount
    return used


def customer_credit_balance(conn: Connection, customer_id: int) -> int:
    """What the operator owes the customer (öre, ≥ 0)."""
    invoices = list(
        conn.execute(select(m.Invoice).where(m.Invoice.customer_id == customer_id, m.Invoice.kind == "invoice"))
    )
    return sum(-s.balance_ore for s in invoice_states(conn, invoices).values() if s.balance_ore < 0)
