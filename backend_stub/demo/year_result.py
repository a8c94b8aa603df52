"""What the demo's lived year left: its counts, the invoices by state and a few customers in each state to
sign in as (``demo_year.live_the_year`` returns it; the ``seed`` command prints it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from backend_stub.services.lifecycle import ledger
from backend_stub.storage.models import billing as m

STATES = (
    "unpaid",
    "partly_paid",
    "paid",
    "overdue",
    "reminded",
    "in_collection",
    "credited",
    "paid_card",
    "paid_autogiro",
)
"""What a subscriber can meet; ``paid_card``/``paid_autogiro`` are paid invoices drawn automatically."""


@dataclass
class YearResult:
    """What the year did (counts) and where each state can be seen (customer numbers)."""

    start: date
    end: date
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    states: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "counts": dict(self.counts),
            "states": self.states,
            "examples": self.examples,
        }


def summarise(core: Any, result: YearResult, today: date) -> None:
    """Count the invoices by state at the end of the year, with a few customers to sign in as for each."""
    with core.engine.connect() as conn:
        rows = list(conn.execute(select(m.Invoice).where(m.Invoice.kind == "invoice").order_by(m.Invoice.number)))
        states = ledger.invoice_states(conn, rows, today)
        numbers = dict(conn.execute(select(m.Customer.id, m.Customer.customer_number)).all())
        auto = {
            r.invoice_id: r.method
            for r in conn.execute(
                select(m.Payment.invoice_id, m.Payment.method).where(m.Payment.method.in_(["card", "autogiro"]))
            )
        }
    by_state: dict[str, list[str]] = defaultdict(list)
    for inv in rows:
        status = states[inv.id].status
        if status == "paid" and auto.get(inv.id) in ("card", "autogiro"):
            status = f"paid_{auto[inv.id]}"
        by_state[status].append(numbers[inv.customer_id])
    result.states = {s: len(v) for s, v in sorted(by_state.items())}
    result.examples = {s: sorted(set(v))[:3] for s, v in sorted(by_state.items())}
