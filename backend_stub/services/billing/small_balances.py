"""Small balances (rules §5): past-due remainders below the operator's minimum are not reminded but
carried to the account's next invoice, or written off when the bill run makes none for it."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import Connection, insert, select

from backend_stub.services.lifecycle import ledger
from backend_stub.storage.models import billing as m
from selfcare_common.money_format import format_kr

# Per account: (invoice id, invoice number, balance in öre), oldest first.
SmallBalances = dict[int, list[tuple[str, str, int]]]


def small_balances(
    conn: Connection, today: date, minimum_ore: int, customer_ids: list[int] | None = None
) -> SmallBalances:
    """Past-due invoices with 0 < balance < ``minimum_ore`` per customer: (id, number, balance), oldest first.

    Balances not yet due are never carried (rules §5). ``customer_ids`` limits it to those accounts.
    """
    q = select(m.Invoice).where(m.Invoice.kind == "invoice", m.Invoice.amount_due_ore > 0, m.Invoice.due_date < today)
    if customer_ids is not None:
        q = q.where(m.Invoice.customer_id.in_(customer_ids))
    rows = list(conn.execute(q.order_by(m.Invoice.invoice_date, m.Invoice.number)))
    out: SmallBalances = defaultdict(list)
    states = ledger.invoice_states(conn, rows, today)
    for inv in rows:
        st = states[inv.id]
        if 0 < st.balance_ore < minimum_ore and st.status not in ledger.CLOSING_EVENTS:
            out[inv.customer_id].append((inv.id, inv.number, st.balance_ore))
    return out


def close_small_balance(
    conn: Connection, inv_id: str, number: str, amount: int, how: str, to_number: str | None, now: datetime
) -> None:
    """Close a small balance on its invoice: carried to invoice ``to_number``, or written off (rules §5)."""
    conn.execute(
        insert(m.Payment).values(
            reference=f"{how}:{inv_id}",
            method=how,
            invoice_id=inv_id,
            customer_id=None,
            amount_ore=amount,
            received_at=now,
            status="matched",
        )
    )
    if how == "carried":
        text = f"Obetalt belopp {format_kr(amount)} flyttat till faktura {to_number}."
    else:
        text = f"Obetalt belopp {format_kr(amount)} avskrivet (ingen ny faktura att föra det till)."
    ledger.add_event(conn, inv_id, how, text, at=now, data={"amount_ore": amount, "to_invoice": to_number})
