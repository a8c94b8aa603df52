"""Payments on invoices: an invoice's items as the allocation takes them, BgMax import, the unmatched queue,
allocation by an agent, refunds. The allocation order itself is ``domain.allocation``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from backend_stub import clock
from backend_stub.domain.allocation import Allocation, allocate
from backend_stub.domain.errors import Invalid, NotFound
from backend_stub.domain.texts import render
from backend_stub.formats.bgmax import parse_bgmax
from backend_stub.services.billing.invoice_rows import get_invoice_row
from backend_stub.services.lifecycle import ledger
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.lifecycle import BankPayment, InvoiceCharge


def _day(value: datetime | date) -> date:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).date()
    return value


def invoice_items(
    conn: Connection, inv: Any
) -> tuple[list[tuple[date, int]], list[tuple[date, str, int]], list[tuple[date, int]]]:
    """An invoice's credits, charges and payments as ``allocate`` takes them."""
    credits = [
        (c.invoice_date, -c.amount_due_ore)
        for c in conn.execute(
            select(m.Invoice.invoice_date, m.Invoice.amount_due_ore).where(m.Invoice.credits_invoice_id == inv.id)
        )
    ]
    charges = [
        (c.accrued_to, c.kind, c.amount_ore)
        for c in conn.execute(
            select(InvoiceCharge.accrued_to, InvoiceCharge.kind, InvoiceCharge.amount_ore).where(
                InvoiceCharge.invoice_id == inv.id
            )
        )
    ]
    pays = [
        (_day(p.received_at), p.amount_ore)
        for p in conn.execute(
            select(m.Payment.received_at, m.Payment.amount_ore)
            .where(m.Payment.invoice_id == inv.id)
            .order_by(m.Payment.received_at, m.Payment.id)
        )
    ]
    return credits, charges, pays


def invoice_allocation(conn: Connection, inv: Any, upto: date | None = None) -> Allocation:
    """``allocate`` on what the database holds for invoice row ``inv``."""
    credits, charges, pays = invoice_items(conn, inv)
    return allocate(inv.amount_due_ore, credits=credits, charges=charges, payments=pays, upto=upto)


# --- BgMax import, the unmatched queue, allocation by an agent, refunds -------------------------------------


@dataclass
class ImportResult:
    source: str
    payments: int = 0  # payment and deduction records in the file
    matched: int = 0
    unmatched: int = 0
    duplicate: int = 0
    foreign_currency: int = 0
    partly_matched: int = 0  # matched, with a rest in the unmatched queue (counted in ``matched``)
    amount_ore: int = 0  # SEK recorded now
    warnings: list[str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def bank_reference(receiver_bankgiro: str, dep: Any, index: int, p: Any) -> str:
    """The bank's identity of a BgMax payment record: receiver, day, deposit serial, position, BGC serial."""
    return (
        f"bgmax:{receiver_bankgiro.lstrip('0')}:{dep.payment_date.isoformat()}:{dep.deposit_serial}:"
        f"{index}:{p.bgc_serial}"
    )


def import_bgmax(engine: Any, data: bytes, source: str) -> ImportResult:
    """Record every payment of a BgMax file once; match on OCR, the rest to the unmatched queue.

    Raises ``BgMaxError`` for a bad file (then nothing is recorded).
    """
    parsed = parse_bgmax(data)
    result = ImportResult(source=source, warnings=parsed.warnings)
    for dep in parsed.deposits:
        for index, p in enumerate(dep.payments, start=1):
            result.payments += 1
            ref = bank_reference(dep.receiver_bankgiro, dep, index, p)
            with engine.begin() as conn:
                outcome = _record_bank_payment(conn, ref, source, dep, p)
            if outcome == "duplicate":
                result.duplicate += 1
            elif outcome == "foreign_currency":
                result.foreign_currency += 1
                result.unmatched += 1
            else:
                result.amount_ore += p.amount_ore
                result.matched += outcome in ("matched", "partly_matched")
                result.partly_matched += outcome == "partly_matched"
                result.unmatched += outcome == "unmatched"
    return result


def _bank_day(day: date) -> datetime:
    """The business time of a payment with a bank date: noon UTC that day (a date-only event)."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


_PAYER_FIELDS = (
    "name",
    "extra_name",
    "address",
    "postal_code",
    "city",
    "country",
    "organisation_number",
    "payer_bankgiro",
)


def _record_bank_payment(conn: Connection, ref: str, source: str, dep: Any, p: Any) -> str:
    """Record one payment of a BgMax file once: on the invoices its OCR references name, what is left
    (or all of it) unmatched. Returns duplicate, foreign_currency, matched, partly_matched or unmatched."""
    if conn.execute(select(BankPayment.id).where(BankPayment.reference == ref)).first() is not None:
        return "duplicate"
    received = _bank_day(dep.payment_date)
    payer = {k: getattr(p, k) for k in _PAYER_FIELDS}
    payer["information"] = p.information
    row = {
        "reference": ref,
        "source": source[:200],
        "line_no": p.line_no,
        "payment_date": dep.payment_date,
        "currency": dep.currency,
        "amount_minor": p.amount_ore,
        "references": p.references,
        "payer": payer,
        "created_at": clock.now(),
    }
    if dep.currency != "SEK":  # invoices are in SEK: an agent decides what this is worth
        conn.execute(insert_bank(row | {"status": "foreign_currency", "payment_refs": []}))
        return "foreign_currency"
    invoices = _named_invoices(conn, p) if p.amount_ore > 0 else []
    parts, rest = _split_over(
        conn, invoices, p.amount_ore, all_matched=bool(invoices) and len(invoices) == len(p.references)
    )
    refs = []
    for i, (inv, amount) in enumerate(parts, start=1):
        pref = ref if len(parts) == 1 and rest == 0 else f"{ref}:{i}"
        ledger.record_payment(
            conn,
            invoice_id=inv.id,
            reference=pref,
            method="bankgiro",
            amount_ore=amount,
            customer_id=inv.customer_id,
            ocr=inv.ocr,
            received_at=received,
            actor="bankgiro",
        )
        refs.append(pref)
    if rest != 0:
        pref = f"{ref}:rest" if parts else ref
        ledger.record_payment(
            conn,
            invoice_id=None,
            reference=pref,
            method="bankgiro",
            amount_ore=rest,
            ocr=(p.references or [""])[0][:32] or None,
            received_at=received,
            actor="bankgiro",
        )
        refs.append(pref)
    status = "matched" if rest == 0 else "unmatched"
    conn.execute(insert_bank(row | {"status": status, "payment_refs": refs}))
    return "partly_matched" if parts and rest else status


def _named_invoices(conn: Connection, p: Any) -> list[Any]:
    """The invoices the payment's OCR references name, each once, in the order named."""
    invoices: list[Any] = []
    for r in p.references:
        inv = conn.execute(
            select(m.Invoice).where(m.Invoice.ocr == r, m.Invoice.kind == "invoice").order_by(m.Invoice.invoice_date)
        ).first()
        if inv is not None and inv.id not in {i.id for i in invoices}:
            invoices.append(inv)
    return invoices


def _split_over(
    conn: Connection, invoices: list[Any], amount: int, *, all_matched: bool
) -> tuple[list[tuple[Any, int]], int]:
    """The amount over the invoices named, each up to its balance, in order: (invoice, amount) parts and the
    rest. One invoice named and found takes it all; with every reference found, an overpayment is a credit
    balance on the last one."""
    parts: list[tuple[Any, int]] = []
    rest = amount
    if len(invoices) == 1 and all_matched:
        return [(invoices[0], rest)], 0
    states = ledger.invoice_states(conn, invoices) if invoices else {}
    for inv in invoices:
        take = min(rest, max(states[inv.id].balance_ore, 0))
        if take > 0:
            parts.append((inv, take))
            rest -= take
    if rest > 0 and all_matched:  # overpayment: credit balance on the last invoice named
        if parts and parts[-1][0].id == invoices[-1].id:
            parts[-1] = (invoices[-1], parts[-1][1] + rest)
        else:
            parts.append((invoices[-1], rest))
        rest = 0
    return parts, rest


def insert_bank(values: dict[str, Any]) -> Any:
    return insert(BankPayment).values(**values)


def list_unmatched(engine: Any, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """The unmatched queue: payments with no invoice, and foreign-currency bank payments, oldest first."""
    with engine.connect() as conn:
        bank = {}
        for b in conn.execute(select(BankPayment).where(BankPayment.status.in_(["unmatched", "foreign_currency"]))):
            for r in b.payment_refs or [b.reference]:
                bank[r] = b
        items = []
        for pay in conn.execute(select(m.Payment).where(m.Payment.status == "unmatched").order_by(m.Payment.id)):
            b = bank.get(pay.reference)
            items.append(
                {
                    "kind": "payment",
                    "id": pay.id,
                    "reference": pay.reference,
                    "method": pay.method,
                    "amount_ore": pay.amount_ore,
                    "currency": "SEK",
                    "ocr": pay.ocr,
                    "received_at": pay.received_at.isoformat(),
                    "references": b.references if b else [],
                    "payer": b.payer if b else {},
                }
            )
        for b in conn.execute(
            select(BankPayment).where(BankPayment.status == "foreign_currency").order_by(BankPayment.id)
        ):
            items.append(
                {
                    "kind": "bank_payment",
                    "id": b.id,
                    "reference": b.reference,
                    "method": "bankgiro",
                    "amount_minor": b.amount_minor,
                    "currency": b.currency,
                    "ocr": None,
                    "received_at": b.payment_date.isoformat(),
                    "references": b.references,
                    "payer": b.payer,
                }
            )
        items += _overpaid(conn)
    return {"total": len(items), "items": items[offset : offset + limit]}


def _overpaid(conn: Connection) -> list[dict[str, Any]]:
    """Overpaid invoices whose surplus is still the customer's credit (not used, not refunded): for an agent
    to refund on request, or leave to the next invoice."""
    events = {
        e.invoice_id: e
        for e in conn.execute(
            select(m.InvoiceEvent).where(m.InvoiceEvent.kind == "overpaid").order_by(m.InvoiceEvent.id)
        )
    }
    if not events:
        return []
    rows = list(conn.execute(select(m.Invoice).where(m.Invoice.id.in_(list(events)))))
    states = ledger.invoice_states(conn, rows)
    out = []
    for inv in sorted(rows, key=lambda r: events[r.id].id):
        credit = -states[inv.id].balance_ore
        if credit > 0:
            e = events[inv.id]
            out.append(
                {
                    "kind": "overpaid",
                    "id": e.id,
                    "invoice_id": inv.id,
                    "invoice_number": inv.number,
                    "customer_id": inv.customer_id,
                    "amount_ore": credit,
                    "currency": "SEK",
                    "reference": (e.data or {}).get("payment_reference"),
                    "method": None,
                    "ocr": inv.ocr,
                    "received_at": e.at.isoformat(),
                    "references": [],
                    "payer": {},
                }
            )
    return out


class AllocationError(Invalid):
    """A payment that cannot be put on that invoice (the field and why)."""


def allocate_payment(engine: Any, payment_id: int, invoice_id: str, *, actor: str) -> dict[str, Any]:
    """An agent puts an unmatched payment on an invoice (its money then counts there, in the usual order)."""
    with engine.begin() as conn:
        pay = conn.execute(select(m.Payment).where(m.Payment.id == payment_id).with_for_update()).first()
        if pay is None:
            raise NotFound(f"payment {payment_id} not found")
        if pay.status != "unmatched" or pay.invoice_id is not None:
            raise AllocationError("payment_id", f"payment {payment_id} is not in the unmatched queue")
        inv = get_invoice_row(conn, invoice_id)
        if inv.kind != "invoice":
            raise AllocationError("invoice_id", "payments go on invoices, not credit notes")
        conn.execute(
            update(m.Payment)
            .where(m.Payment.id == pay.id)
            .values(invoice_id=inv.id, customer_id=inv.customer_id, status="allocated")
        )
        _mark_bank(conn, pay.reference)
        data = {"amount_ore": pay.amount_ore, "reference": pay.reference, "payment_id": pay.id}

        ledger.add_event(
            conn, inv.id, "payment_allocated", render("payment_allocated", data, "sv", ""), actor=actor, data=data
        )
    return {"payment_id": pay.id, "invoice_id": inv.id, "amount_ore": pay.amount_ore}


def allocate_bank_payment(
    engine: Any, bank_payment_id: int, invoice_id: str, amount_ore: int, *, actor: str
) -> dict[str, Any]:
    """An agent books a foreign-currency bank payment on an invoice at the SEK amount the bank credited."""
    if amount_ore <= 0:
        raise AllocationError("amount_ore", "must be more than 0")
    with engine.begin() as conn:
        b = conn.execute(select(BankPayment).where(BankPayment.id == bank_payment_id).with_for_update()).first()
        if b is None:
            raise NotFound(f"bank payment {bank_payment_id} not found")
        if b.status != "foreign_currency":
            raise AllocationError("bank_payment_id", f"{bank_payment_id} is not waiting for an agent")
        inv = get_invoice_row(conn, invoice_id)
        ledger.record_payment(
            conn,
            invoice_id=inv.id,
            reference=b.reference,
            method="bankgiro",
            amount_ore=amount_ore,
            customer_id=inv.customer_id,
            ocr=inv.ocr,
            received_at=_bank_day(b.payment_date),
            actor=actor,
        )  # the money arrived on the bank date, not when an agent booked it
        conn.execute(
            update(BankPayment).where(BankPayment.id == b.id).values(status="allocated", payment_refs=[b.reference])
        )
    return {"bank_payment_id": b.id, "invoice_id": inv.id, "amount_ore": amount_ore}


def _mark_bank(conn: Connection, payment_reference: str) -> None:
    for b in conn.execute(select(BankPayment).where(BankPayment.status == "unmatched")):
        if payment_reference in (b.payment_refs or []):
            conn.execute(update(BankPayment).where(BankPayment.id == b.id).values(status="allocated"))


def refund_credit(engine: Any, customer_id: int, amount_ore: int, *, actor: str, reference: str) -> dict[str, Any]:
    """Pay back (part of) a customer's credit balance: negative payments on the invoices that hold it.

    Idempotent on ``reference`` (the refund's own id, e.g. from the bank order).
    """
    if amount_ore <= 0:
        raise AllocationError("amount_ore", "must be more than 0")
    with engine.begin() as conn:
        if conn.execute(select(m.Payment.id).where(m.Payment.reference.like(f"refund:{reference}:%"))).first():
            return {"refunded_ore": 0, "duplicate": True}
        invs = list(
            conn.execute(
                select(m.Invoice)
                .where(m.Invoice.customer_id == customer_id, m.Invoice.kind == "invoice")
                .order_by(m.Invoice.invoice_date)
            )
        )
        states = ledger.invoice_states(conn, invs)
        available = sum(-s.balance_ore for s in states.values() if s.balance_ore < 0)
        if amount_ore > available:
            raise AllocationError("amount_ore", f"the credit balance is {available} öre")
        left = amount_ore
        for inv in invs:
            if left == 0:
                break
            take = min(left, max(-states[inv.id].balance_ore, 0))
            if take == 0:
                continue
            conn.execute(insert_payment(f"refund:{reference}:{inv.id}", inv, -take))
            data = {"amount_ore": take}
            ledger.add_event(conn, inv.id, "refund", render("refund", data, "sv", ""), actor=actor, data=data)
            left -= take
    return {"refunded_ore": amount_ore, "duplicate": False}


def insert_payment(reference: str, inv: Any, amount: int) -> Any:
    return insert(m.Payment).values(
        reference=reference,
        method="refund",
        invoice_id=inv.id,
        customer_id=inv.customer_id,
        amount_ore=amount,
        received_at=clock.now(),
        status="matched",
    )
