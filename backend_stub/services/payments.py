"""Payments on invoices: the statutory allocation order, BgMax import, the unmatched queue, refunds.

Allocation (räntelagen / inkassolagen practice): each payment first covers reminder fees,
then late interest, then the invoice amount, in the order things happened; what is left
over is credit balance (used on the next invoice, or refunded by an agent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, select

from backend_stub.storage import models as m
from backend_stub.storage.lifecycle_models import InvoiceCharge


@dataclass(frozen=True)
class Allocation:
    """Where an invoice's money stands: what is open and what was paid, per part."""

    principal_open: int
    fees_open: int
    interest_open: int
    overpaid: int
    principal_paid: int
    fees_paid: int
    interest_paid: int

    @property
    def balance(self) -> int:
        return self.principal_open + self.fees_open + self.interest_open - self.overpaid


def allocate(amount_due: int, *, credits: list[tuple[date, int]], charges: list[tuple[date, str, int]],
             payments: list[tuple[date, int]], upto: date | None = None) -> Allocation:
    """Walk an invoice's credits (positive amounts credited), charges and payments in date order.

    On each day credits and charges come before payments. ``upto`` stops after that day.
    """
    items: list[tuple[date, int, str, int]] = []
    items += [(d, 0, "credit", a) for d, a in credits]
    items += [(d, 0, kind, a) for d, kind, a in charges]
    items += [(d, 1, "payment", a) for d, a in payments]
    items.sort(key=lambda t: (t[0], t[1]))
    principal, fees, interest, over = amount_due, 0, 0, 0
    paid = {"principal": 0, "fees": 0, "interest": 0}
    for d, _o, kind, a in items:
        if upto is not None and d > upto:
            break
        if kind == "credit":
            take = min(a, max(principal, 0))
            principal -= take
            over += a - take  # credited after it was paid: money back to the customer
        elif kind == "reminder_fee":
            fees += a
        elif kind == "interest":
            interest += a
        elif a >= 0:
            rest = a
            for part in ("fees", "interest", "principal"):
                open_ = {"fees": fees, "interest": interest, "principal": principal}[part]
                take = min(rest, max(open_, 0))
                rest -= take
                paid[part] += take
                if part == "fees":
                    fees -= take
                elif part == "interest":
                    interest -= take
                else:
                    principal -= take
            over += rest
        else:  # money out (refund, credit balance moved to another invoice): from the surplus first
            out = -a
            take = min(out, over)
            over -= take
            principal += out - take
            paid["principal"] -= out - take
    return Allocation(principal, fees, interest, over, paid["principal"], paid["fees"], paid["interest"])


def _day(value: datetime | date) -> date:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).date()
    return value


def invoice_items(conn: Connection, inv: Any) -> tuple[list[tuple[date, int]], list[tuple[date, str, int]],
                                                        list[tuple[date, int]]]:
    """An invoice's credits, charges and payments as ``allocate`` takes them."""
    credits = [(c.invoice_date, -c.amount_due_ore) for c in conn.execute(
        select(m.Invoice.invoice_date, m.Invoice.amount_due_ore).where(m.Invoice.credits_invoice_id == inv.id))]
    charges = [(c.accrued_to, c.kind, c.amount_ore) for c in conn.execute(
        select(InvoiceCharge.accrued_to, InvoiceCharge.kind, InvoiceCharge.amount_ore)
        .where(InvoiceCharge.invoice_id == inv.id))]
    pays = [(_day(p.received_at), p.amount_ore) for p in conn.execute(
        select(m.Payment.received_at, m.Payment.amount_ore).where(m.Payment.invoice_id == inv.id)
        .order_by(m.Payment.received_at, m.Payment.id))]
    return credits, charges, pays


def invoice_allocation(conn: Connection, inv: Any, upto: date | None = None) -> Allocation:
    """``allocate`` on what the database holds for invoice row ``inv``."""
    credits, charges, pays = invoice_items(conn, inv)
    return allocate(inv.amount_due_ore, credits=credits, charges=charges, payments=pays, upto=upto)
