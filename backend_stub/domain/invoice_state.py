"""One state of an invoice, used everywhere: a pure function of what the ledger holds and today.

Every screen, document, message and API answer that says something about an invoice's money
(the overview, the list, the invoice and link pages, the PDF's payment block, the QR code, the
pay button, reminders, the agents' console) reads it from ``describe``, so they can not
contradict each other: a paid invoice says when and how it was paid and asks for nothing; a
credited invoice's amount is what is left after its credit notes; an overdue one says how many
days late it is and what happens next.

``status`` is the ledger's (``status_of``); ``to_pay_ore`` is what a payment should be now
(what is open, fees and interest included; 0 when closed by a carry or write-off, or when the
customer is owed money); ``payable`` says whether to offer the pay button and the payment QR
code (something to pay and no automatic draw already on its way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

# What ``status`` can say (docs/billing-rules.md explains each one).
STATUSES = (
    "unpaid",
    "partly_paid",
    "paid",
    "overdue",
    "reminded",
    "in_collection",
    "credited",
    "carried",
    "written_off",
    "credit_note",
    "no_payment",
)
OPEN_STATUSES = frozenset({"unpaid", "partly_paid", "overdue", "reminded", "in_collection"})
OVERDUE_STATUSES = frozenset({"overdue", "reminded", "in_collection"})
# Events that close an invoice's small balance (rules §5): carried to the next invoice, or written off.
CLOSING_EVENTS = ("carried", "written_off")
# How money reached an invoice, as a subscriber reads it (methods that are not money are left out).
MONEY_METHODS = frozenset({"card", "swish", "bankgiro", "autogiro", "credit_balance", "manual"})


def status_of(
    *,
    kind: str,
    amount_due_ore: int,
    due_date: date,
    balance_ore: int,
    paid_ore: int,
    credited_ore: int,
    flags: set[str] | frozenset[str],
    today: date,
) -> str:
    """The invoice's status (one of ``STATUSES``) from its amounts, timeline flags and today."""
    if kind == "credit_note":
        return "credit_note"
    if credited_ore and credited_ore >= amount_due_ore:
        return "credited"
    if amount_due_ore <= 0:
        return "no_payment"
    for closing in CLOSING_EVENTS:  # its small balance was moved to the next invoice, or written off
        if closing in flags:
            return closing
    if balance_ore <= 0:
        return "paid"
    if "collection" in flags and "collection_recalled" not in flags:
        return "in_collection"
    if "reminder_sent" in flags:
        return "reminded"
    if today > due_date:
        return "overdue"
    if paid_ore > 0:  # only money received makes an invoice partly paid; a credit note lowers what is due
        return "partly_paid"
    return "unpaid"


@dataclass(frozen=True)
class Payment:
    day: date
    method: str
    amount_ore: int


@dataclass(frozen=True)
class CreditNote:
    id: str
    number: str
    day: date
    credited_ore: int  # positive: what it takes off the invoice


@dataclass(frozen=True)
class NextStep:
    day: date
    action: str  # overdue, reminder_1, reminder_2, collection
    fee_ore: int = 0


@dataclass(frozen=True)
class Facts:
    """What the ledger holds about one invoice (or credit note)."""

    kind: str
    number: str
    amount_due_ore: int
    due_date: date
    status: str
    balance_ore: int
    paid_ore: int = 0
    credited_ore: int = 0
    fees_ore: int = 0
    interest_ore: int = 0
    payments: tuple[Payment, ...] = ()
    credit_notes: tuple[CreditNote, ...] = ()
    carried_to: str | None = None  # the invoice its small balance was moved to
    respite_days: int = 0
    autopay: dict[str, Any] | None = None  # services.autopay.draws.invoice_autopay
    next_step: NextStep | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def describe(f: Facts, today: date) -> dict[str, Any]:
    """The invoice's one state (JSON-ready: dates as ISO text, money in öre)."""
    is_invoice = f.kind == "invoice"
    open_ = f.status in OPEN_STATUSES and f.balance_ore > 0
    to_pay = f.balance_ore if open_ else 0
    autopay = f.autopay or None
    draw_coming = bool(autopay and autopay.get("status") in ("scheduled", "pending", "retrying"))
    paid = None
    if is_invoice and f.status == "paid" and f.paid_ore > 0:
        money = [p for p in f.payments if p.method in MONEY_METHODS and p.amount_ore > 0]
        if money:
            last = max(money, key=lambda p: p.day)
            paid = {"on": last.day.isoformat(), "method": last.method, "amount_ore": f.paid_ore}
    days_overdue = (today - f.due_date).days if open_ and today > f.due_date else 0
    next_step = None
    if open_ and f.next_step is not None and f.status != "in_collection" and not draw_coming:
        next_step = {"on": f.next_step.day.isoformat(), "action": f.next_step.action, "fee_ore": f.next_step.fee_ore}
    return {
        "status": f.status,
        "open": open_,
        "overdue": open_ and f.status in OVERDUE_STATUSES,
        "amount_ore": f.amount_due_ore - f.credited_ore if is_invoice else f.amount_due_ore,
        "original_amount_ore": f.amount_due_ore,
        "to_pay_ore": to_pay,
        "payable": is_invoice and to_pay > 0 and not draw_coming,
        "paid": paid,
        "paid_ore": f.paid_ore,
        "credited_ore": f.credited_ore,
        "credit_notes": [
            {"id": c.id, "number": c.number, "on": c.day.isoformat(), "amount_ore": c.credited_ore}
            for c in f.credit_notes
        ],
        "fees_ore": f.fees_ore,
        "interest_ore": f.interest_ore,
        "due_date": f.due_date.isoformat(),
        "days_overdue": days_overdue,
        "days_to_due": (f.due_date - today).days if open_ and today <= f.due_date else None,
        "carried_to": f.carried_to if f.status == "carried" else None,
        "written_off": f.status == "written_off",
        "owed_to_customer_ore": -f.balance_ore if is_invoice and f.balance_ore < 0 else 0,
        "respite_days": f.respite_days,
        "autopay": autopay,
        "next_step": next_step,
    }


def overdue_summary(states: list[dict[str, Any]]) -> dict[str, Any]:
    """Over a customer's invoices' states: how many are overdue, their total, and the oldest's days late."""
    overdue = [s for s in states if s.get("overdue")]
    return {
        "count": len(overdue),
        "total_ore": sum(s["to_pay_ore"] for s in overdue),
        "oldest_days": max((s["days_overdue"] for s in overdue), default=0),
        "fees_ore": sum(s["fees_ore"] for s in overdue),
    }
