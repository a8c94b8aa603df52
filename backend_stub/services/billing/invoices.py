"""The invoice view: lists with balance and status, one invoice with everything a reader sees.

It composes what the other parts know of an invoice: its document and rows (billing), the
ledger's balance and status, the timeline, the dunning step that comes next
(``services.lifecycle.dunning``) and how it is paid automatically (``services.autopay.draws``),
into the one state every reader shows (``domain.invoice_state``). None of those parts import
this view. Credit notes are ``credit_notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from backend_stub import clock
from backend_stub.domain import invoice_state
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.dunning import schedule, upcoming
from backend_stub.domain.lifecycle_terms import DunningTerms
from backend_stub.domain.periods import Period, period_for
from backend_stub.services.autopay.draws import invoice_autopay
from backend_stub.services.billing import documents
from backend_stub.services.billing.invoice_rows import get_invoice_row
from backend_stub.services.billing.usage_totals import totals_for_invoice
from backend_stub.services.lifecycle import dunning, ledger, timeline
from backend_stub.services.lifecycle.lifecycle_config import LifecycleConfig
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.lifecycle import InvoiceCharge
from backend_stub.storage.repo import chunks


@dataclass
class _Batched:
    """What the invoices' facts need besides their rows and states, read in a few queries."""

    pays: dict[str, list[invoice_state.Payment]]
    notes: dict[str, list[invoice_state.CreditNote]]
    carried: dict[str, str] = field(default_factory=dict)  # invoice id → the invoice it was carried to
    steps: dict[str, list[Any]] = field(default_factory=dict)  # dunning events (with terms)
    fee_charged: set[str] = field(default_factory=set)
    fee_agreed: dict[int, bool] = field(default_factory=dict)


def invoice_facts(
    conn: Connection,
    rows: list[Any],
    states: dict[str, ledger.InvoiceState],
    today: date,
    *,
    terms: DunningTerms | None = None,
    autopay: dict[str, Any] | None = None,
) -> dict[str, invoice_state.Facts]:
    """What ``invoice_state.describe`` needs of each invoice row, batched (a few queries whatever the count).

    With ``terms`` (the dunning terms), an open invoice's next dunning step is included; ``autopay`` maps an
    invoice id to its automatic payment (``services.autopay.draws.invoice_autopay``).
    """
    got = _load_batched(conn, rows, with_dunning=terms is not None)
    out = {}
    for r in rows:
        st = states[r.id]
        next_step = None
        respite = 0
        if terms is not None and r.kind == "invoice":
            respite, next_step = _dunning_facts(r, st, got, terms, today)
        out[r.id] = invoice_state.Facts(
            kind=r.kind,
            number=r.number,
            amount_due_ore=r.amount_due_ore,
            due_date=r.due_date,
            status=st.status,
            balance_ore=st.balance_ore,
            paid_ore=st.paid_ore,
            credited_ore=st.credited_ore,
            fees_ore=st.fees_ore,
            interest_ore=st.interest_ore,
            payments=tuple(got.pays[r.id]),
            credit_notes=tuple(got.notes[r.id]),
            carried_to=got.carried.get(r.id) or None,
            respite_days=respite,
            autopay=(autopay or {}).get(r.id),
            next_step=next_step,
        )
    return out


def _dunning_facts(
    r: Any, st: ledger.InvoiceState, got: _Batched, terms: DunningTerms, today: date
) -> tuple[int, invoice_state.NextStep | None]:
    """The invoice's respite days and, while something is left to pay, its next dunning step (before the
    due date: that it becomes overdue)."""
    sched = schedule(r.due_date, got.steps[r.id], terms)
    if st.balance_ore <= 0:
        return sched.respite_days, None
    coming = upcoming(
        sched, terms, today, fee_agreed=bool(got.fee_agreed.get(r.customer_id)), fee_charged=r.id in got.fee_charged
    )
    if today <= r.due_date:
        return sched.respite_days, invoice_state.NextStep(sched.overdue, "overdue")
    return sched.respite_days, coming[0] if coming else None


def _load_batched(conn: Connection, rows: list[Any], *, with_dunning: bool) -> _Batched:
    """Payments, credit notes and carried balances of the invoices; with dunning, their dunning events,
    reminder fees charged and whether each customer agreed to reminder fees."""
    ids = [r.id for r in rows]
    got = _Batched(pays={i: [] for i in ids}, notes={i: [] for i in ids}, steps={i: [] for i in ids})
    for part in chunks(ids):
        for p in conn.execute(
            select(m.Payment.invoice_id, m.Payment.received_at, m.Payment.method, m.Payment.amount_ore)
            .where(m.Payment.invoice_id.in_(part))
            .order_by(m.Payment.received_at, m.Payment.id)
        ):
            got.pays[p.invoice_id].append(
                invoice_state.Payment(clock.stockholm_date(p.received_at), p.method, p.amount_ore)
            )
        for c in conn.execute(
            select(
                m.Invoice.id,
                m.Invoice.number,
                m.Invoice.invoice_date,
                m.Invoice.amount_due_ore,
                m.Invoice.credits_invoice_id,
            )
            .where(m.Invoice.credits_invoice_id.in_(part))
            .order_by(m.Invoice.number)
        ):
            got.notes[c.credits_invoice_id].append(
                invoice_state.CreditNote(c.id, c.number, c.invoice_date, -c.amount_due_ore)
            )
        for e in conn.execute(
            select(m.InvoiceEvent.invoice_id, m.InvoiceEvent.data).where(
                m.InvoiceEvent.invoice_id.in_(part), m.InvoiceEvent.kind == "carried"
            )
        ):
            got.carried[e.invoice_id] = str((e.data or {}).get("to_invoice") or "")
        if with_dunning:
            for inv_id, events in dunning.events_of(conn, list(part)).items():
                got.steps[inv_id] = events
            got.fee_charged.update(
                conn.execute(
                    select(InvoiceCharge.invoice_id).where(
                        InvoiceCharge.invoice_id.in_(part), InvoiceCharge.kind == "reminder_fee"
                    )
                ).scalars()
            )
    if with_dunning:
        cids = list({r.customer_id for r in rows})
        got.fee_agreed = dict(
            conn.execute(select(m.Customer.id, m.Customer.reminder_fee_agreed).where(m.Customer.id.in_(cids))).all()
        )
    return got


def _summary(inv: Any, state: ledger.InvoiceState, customer_number: str, view: dict[str, Any]) -> dict[str, Any]:
    return {
        "state": view,
        "id": inv.id,
        "number": inv.number,
        "kind": inv.kind,
        "customer_number": customer_number,
        "period": f"{inv.period_start.year:04d}-{inv.period_start.month:02d}",
        "period_start": inv.period_start.isoformat(),
        "period_end": inv.period_end.isoformat(),
        "invoice_date": inv.invoice_date.isoformat(),
        "due_date": inv.due_date.isoformat(),
        "ocr": inv.ocr,
        "gross_ore": inv.gross_ore,
        "amount_due_ore": inv.amount_due_ore,
        "balance_ore": state.balance_ore,
        "paid_ore": state.paid_ore,
        "credited_ore": state.credited_ore,
        "status": state.status,
        "credits_invoice_id": inv.credits_invoice_id,
    }


def list_invoices(
    engine: Engine,
    *,
    customer_id: int | None = None,
    period: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 20,
    offset: int = 0,
    today: date | None = None,
    terms: DunningTerms | None = None,
) -> dict[str, Any]:
    """Invoices newest first with balance, status and ``state`` (``invoice_state.describe``); ``total`` counts
    all matches. For one customer, ``overdue`` sums up all their overdue invoices (``overdue_summary``)."""
    with engine.connect() as conn:
        q = select(m.Invoice, m.Customer.customer_number).join(m.Customer, m.Customer.id == m.Invoice.customer_id)
        if customer_id is not None:
            q = q.where(m.Invoice.customer_id == customer_id)
        if period:
            p = period_for(period)
            q = q.where(m.Invoice.period_start >= p.start, m.Invoice.period_start <= p.end)
        if kind:
            q = q.where(m.Invoice.kind == kind)
        q = q.order_by(m.Invoice.invoice_date.desc(), m.Invoice.number.desc())
        if status:  # status is computed, so filter after computing it
            rows = list(conn.execute(q))
            states = ledger.invoice_states(conn, rows, today)
            rows = [r for r in rows if states[r.id].status == status]
            total = len(rows)
            rows = rows[offset : offset + limit]
        else:
            total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rows = list(conn.execute(q.limit(limit).offset(offset)))
            states = ledger.invoice_states(conn, rows, today)
        today = today or clock.today()
        autopay = None
        if customer_id is not None:  # a subscriber's list: each open invoice's automatic payment, as on its page
            autopay = {
                r.id: invoice_autopay(conn, r, states[r.id].balance_ore, today=today)
                for r in rows
                if r.kind == "invoice" and states[r.id].balance_ore > 0
            }
        facts = invoice_facts(conn, rows, states, today, terms=_terms(terms), autopay=autopay)
        items = [_summary(r, states[r.id], r.customer_number, invoice_state.describe(facts[r.id], today)) for r in rows]
        overdue = _overdue_of(conn, customer_id, today) if customer_id is not None else None
        return {"total": total, "limit": limit, "offset": offset, "items": items, "overdue": overdue}


def _terms(terms: DunningTerms | None) -> DunningTerms:
    return terms if terms is not None else LifecycleConfig.from_env().dunning


def _overdue_of(conn: Connection, customer_id: int, today: date) -> dict[str, Any]:
    """The customer's overdue invoices: how many, their total and the oldest's days late (all pages)."""
    rows = list(
        conn.execute(
            select(m.Invoice).where(
                m.Invoice.customer_id == customer_id, m.Invoice.kind == "invoice", m.Invoice.due_date < today
            )
        )
    )
    states = ledger.invoice_states(conn, rows, today)
    facts = invoice_facts(conn, rows, states, today)
    views = [invoice_state.describe(facts[r.id], today) for r in rows]
    summary = invoice_state.overdue_summary(views)
    summary["invoice_ids"] = [
        r.id
        for r, v in sorted(zip(rows, views, strict=True), key=lambda t: (t[0].due_date, t[0].number))
        if v["overdue"]
    ]
    return summary


def invoices_for_period(engine: Engine, label: str) -> list[dict[str, Any]]:
    """Every invoice of a period as its full document (the ``invoices --json`` contract)."""
    p = period_for(label)
    with engine.connect() as conn:
        rows = list(
            conn.execute(
                select(m.Invoice)
                .where(m.Invoice.period_start >= p.start, m.Invoice.period_start <= p.end)
                .order_by(m.Invoice.number)
            )
        )
        today = clock.today()
        states = ledger.invoice_states(conn, rows, today)
        facts = invoice_facts(conn, rows, states, today, terms=_terms(None))
        return [_full(r, states[r.id]) | {"state": invoice_state.describe(facts[r.id], today)} for r in rows]


def _full(inv: Any, state: ledger.InvoiceState) -> dict[str, Any]:
    doc = dict(inv.document)
    doc.update(
        {
            "id": inv.id,
            "status": state.status,
            "balance_ore": state.balance_ore,
            "paid_ore": state.paid_ore,
            "credited_ore": state.credited_ore,
        }
    )
    return doc


def invoice_as_listed(engine: Engine, invoice_id: str) -> dict[str, Any]:
    """One invoice or credit note in the shape ``invoices --json`` prints (document, status, balance)."""
    with engine.connect() as conn:
        inv = get_invoice_row(conn, invoice_id)
        today = clock.today()
        states = ledger.invoice_states(conn, [inv], today)
        facts = invoice_facts(conn, [inv], states, today, terms=_terms(None))
        return _full(inv, states[inv.id]) | {"state": invoice_state.describe(facts[inv.id], today)}


def get_invoice(
    engine: Engine,
    invoice_id: str,
    *,
    today: date | None = None,
    lang: str = "sv",
    catalogue: Catalogue | None = None,
    terms: DunningTerms | None = None,
) -> dict[str, Any]:
    """One invoice: its document, balance, status, timeline, payments and credit notes.

    Each timeline entry's ``text`` is in ``lang`` ("sv" or "en"); ``texts`` holds both. The
    document's texts (lines, units, plans, the seller's policy texts) are in ``lang`` too, with the
    Swedish ones kept beside them (``documents.localized``).
    With ``catalogue``, an invoice issued before its usage summary was kept in the document gets it
    computed from its rated events (``services.billing.usage_totals``).
    """
    with engine.connect() as conn:
        inv = get_invoice_row(conn, invoice_id)
        state = ledger.invoice_states(conn, [inv], today)[inv.id]
        doc = documents.localized(_full(inv, state), lang)  # texts in the reader's language
        doc["customer_id"] = inv.customer_id
        doc["credits_invoice_id"] = inv.credits_invoice_id  # a credit note's invoice (None for an invoice)
        if catalogue is not None and inv.kind == "invoice" and "usage_totals" not in doc:
            doc["usage_totals"] = documents.localized_usage(
                totals_for_invoice(conn, catalogue, inv.id, inv.customer_id, Period(inv.period_start, inv.period_end)),
                lang,
            )
        doc["reminder_fees_ore"] = state.fees_ore  # charged less waived (services.lifecycle.dunning, threads)
        ctx = {"due_date": inv.due_date.isoformat(), "number": inv.number}
        events = list(conn.execute(select(m.InvoiceEvent).where(m.InvoiceEvent.invoice_id == inv.id)))
        doc["timeline"] = timeline.entries(inv.id, events, ctx, lang)  # in business-time order (rules §7)
        doc["payments"] = [
            {
                "reference": p.reference,
                "method": p.method,
                "amount_ore": p.amount_ore,
                "received_at": p.received_at.isoformat(),
            }
            for p in conn.execute(select(m.Payment).where(m.Payment.invoice_id == inv.id).order_by(m.Payment.id))
        ]
        doc["credit_notes"] = [
            {
                "id": c.id,
                "number": c.number,
                "amount_due_ore": c.amount_due_ore,
                "invoice_date": c.invoice_date.isoformat(),
            }
            for c in conn.execute(select(m.Invoice).where(m.Invoice.credits_invoice_id == inv.id))
        ]

        doc["autopay"] = invoice_autopay(conn, inv, state.balance_ore, today=today)
        today = today or clock.today()
        facts = invoice_facts(
            conn, [inv], {inv.id: state}, today, terms=_terms(terms), autopay={inv.id: doc["autopay"]}
        )[inv.id]
        doc["state"] = invoice_state.describe(facts, today)  # the one state every reader shows
        if inv.kind == "invoice":
            overdue = _overdue_of(conn, inv.customer_id, today)
            overdue.pop("invoice_ids")  # counts only: a link's session reads this one invoice
            doc["customer_overdue"] = overdue
        return doc
