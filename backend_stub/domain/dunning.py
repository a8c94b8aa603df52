"""The dunning rules (rules §6): when each step falls due, the reminder fee, late interest, respite.

Pure: the invoice's due date, its step events (``STEP_KINDS``, in recording order) and the
operator's ``DunningTerms`` give the ``Schedule``; ``upcoming`` lists the steps not yet taken,
``reminder_fee`` is the one rule for the fee (agreed, capped by law, once per invoice) and
``interest_owed`` the late interest day by day. ``services.lifecycle.dunning`` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from backend_stub.domain.allocation import allocate
from backend_stub.domain.invoice_state import NextStep
from backend_stub.domain.lifecycle_terms import REMINDER_FEE_CAP_ORE, DunningTerms

STEP_KINDS = ("overdue", "reminder_sent", "collection", "respite")


@dataclass(frozen=True)
class Schedule:
    """The dates of an invoice's dunning steps, as they stand (taken steps carry their real date)."""

    overdue: date
    reminder_1: date
    reminder_2: date | None
    collection: date
    respite_days: int
    done: dict[str, date]


def schedule(due: date, events: list[Any], terms: DunningTerms) -> Schedule:
    done: dict[str, date] = {}
    respite = 0
    for e in events:
        d = e.data or {}
        if e.kind == "overdue":
            done["overdue"] = date.fromisoformat(d["date"])
        elif e.kind == "reminder_sent":
            done[f"reminder_{d.get('level', 1)}"] = date.fromisoformat(d["date"])
        elif e.kind == "collection":
            done["collection"] = date.fromisoformat(d["date"])
        elif e.kind == "respite":
            respite += int(d.get("days", 0))
    gap = timedelta(days=terms.min_days_between_steps)
    r1 = done.get("reminder_1") or due + timedelta(days=terms.reminder1_days + respite)
    r2 = None
    last = r1
    if terms.reminder2_days is not None:
        r2 = done.get("reminder_2") or max(due + timedelta(days=terms.reminder2_days + respite), r1 + gap)
        last = r2
    coll = done.get("collection") or max(due + timedelta(days=terms.collection_days + respite), last + gap)
    return Schedule(due + timedelta(days=1), r1, r2, coll, respite, done)


def interest_owed(
    amount_due_ore: int,
    due_date: date,
    *,
    credits: list[tuple[date, int]],
    charges: list[tuple[date, str, int]],
    payments: list[tuple[date, int]],
    terms: DunningTerms,
    today: date,
) -> tuple[int, Decimal]:
    """Late interest owed in total from the day after the due date through ``today`` (öre), and today's rate.

    ``credits``, ``charges`` and ``payments`` are the invoice's items as ``domain.allocation.allocate`` takes them.

    Per day: the invoice amount still open at the start of the day × (reference rate + margin) / 365.
    """
    dates = sorted({d for d, _ in credits} | {d for d, _k, _a in charges} | {d for d, _ in payments})
    total = Decimal(0)
    d = due_date + timedelta(days=1)
    cache: dict[date | None, int] = {}
    while d <= today:
        # the principal only changes on days something happened: allocate once per such day
        prior = [x for x in dates if x < d]
        key = prior[-1] if prior else None
        if key not in cache:
            cache[key] = allocate(
                amount_due_ore, credits=credits, charges=charges, payments=payments, upto=d - timedelta(days=1)
            ).principal_open
        principal = cache[key]
        if principal > 0:
            total += Decimal(principal) * terms.interest_rate(d) / Decimal(100) / Decimal(terms.interest_day_basis)
        d += timedelta(days=1)
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP)), terms.interest_rate(today)


def reminder_fee(terms: DunningTerms, *, fee_agreed: bool, fee_charged: bool = False) -> int:
    """The fee reminder 1 carries (rules §6): the terms' fee, never above the cap, when the customer's
    terms agreed to one and none is charged on the invoice yet (at most once per invoice); else 0."""
    if not fee_agreed or fee_charged:
        return 0
    return max(0, min(terms.reminder_fee_ore, REMINDER_FEE_CAP_ORE))


def upcoming(
    sched: Schedule, terms: DunningTerms, today: date, *, fee_agreed: bool, fee_charged: bool
) -> list[NextStep]:
    """The dunning steps not yet taken on an open invoice, in order, each on its day (never before today).

    Reminder 1 carries the reminder fee (``reminder_fee``)."""
    fee = reminder_fee(terms, fee_agreed=fee_agreed, fee_charged=fee_charged)
    out = []
    for action, when in (
        ("reminder_1", sched.reminder_1),
        ("reminder_2", sched.reminder_2),
        ("collection", sched.collection),
    ):
        if when is None or action in sched.done:
            continue
        out.append(NextStep(max(when, today), action, fee if action == "reminder_1" else 0))
    return out


def respite_status(inv: Any, state: Any, sched: Schedule, terms: DunningTerms) -> dict[str, Any]:
    """Whether a respite can be asked for (``inv``: the invoice row, ``state``: its balance), and why not."""
    reason = None
    if inv.kind != "invoice" or state.balance_ore <= 0:
        reason = "nothing to pay"
    elif "collection" in sched.done:
        reason = "in collection"
    elif sched.respite_days:
        reason = "already granted"
    elif terms.respite_max_days <= 0:
        reason = "not offered"
    return {
        "allowed": reason is None,
        "max_days": terms.respite_max_days,
        "reason": reason,
        "granted_days": sched.respite_days,
    }


@dataclass
class StepEvent:
    """A dunning-step event not stored yet (what ``schedule`` would make of it: a respite being granted)."""

    kind: str
    data: dict[str, Any]
