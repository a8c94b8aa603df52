"""Invoice queries and corrections: lists with balance and status, one invoice, credit notes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from backend_stub import clock
from backend_stub.domain import invoice_state, invoicing
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.errors import NotFound
from backend_stub.domain.periods import Period, period_for
from backend_stub.services.billing import documents
from backend_stub.services.billing.billrun import CREDIT_SERIES, ensure_series, lock_series, store_invoice, take_numbers
from backend_stub.services.lifecycle import dunning, ledger, timeline
from backend_stub.services.lifecycle.lifecycle_config import DunningTerms, LifecycleConfig
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.lifecycle import InvoiceCharge
from backend_stub.storage.repo import chunks
from selfcare_common.money_format import format_kr


def invoice_facts(conn: Connection, rows: list[Any], states: dict[str, ledger.InvoiceState], today: date, *,
                  terms: DunningTerms | None = None, autopay: dict[str, Any] | None = None
                  ) -> dict[str, invoice_state.Facts]:
    """What ``invoice_state.describe`` needs of each invoice row, batched (a few queries whatever the count).

    With ``terms`` (the dunning terms), an open invoice's next dunning step is included; ``autopay`` maps an
    invoice id to its automatic payment (``services.autopay.invoice_autopay``).
    """
    ids = [r.id for r in rows]
    pays: dict[str, list[invoice_state.Payment]] = {i: [] for i in ids}
    notes: dict[str, list[invoice_state.CreditNote]] = {i: [] for i in ids}
    carried: dict[str, str] = {}
    steps: dict[str, list[Any]] = {i: [] for i in ids}
    fee_charged: set[str] = set()
    fee_agreed: dict[int, bool] = {}
    for part in chunks(ids):
        for p in conn.execute(select(m.Payment.invoice_id, m.Payment.received_at, m.Payment.method, m.Payment.amount_ore)
                              .where(m.Payment.invoice_id.in_(part)).order_by(m.Payment.received_at, m.Payment.id)):
            pays[p.invoice_id].append(invoice_state.Payment(clock.stockholm_date(p.received_at), p.method, p.amount_ore))
        for c in conn.execute(select(m.Invoice.id, m.Invoice.number, m.Invoice.invoice_date, m.Invoice.amount_due_ore,
                                     m.Invoice.credits_invoice_id)
                              .where(m.Invoice.credits_invoice_id.in_(part)).order_by(m.Invoice.number)):
            notes[c.credits_invoice_id].append(invoice_state.CreditNote(c.id, c.number, c.invoice_date,
                                                                        -c.amount_due_ore))
        for e in conn.execute(select(m.InvoiceEvent.invoice_id, m.InvoiceEvent.data).where(
                m.InvoiceEvent.invoice_id.in_(part), m.InvoiceEvent.kind == "carried")):
            carried[e.invoice_id] = str((e.data or {}).get("to_invoice") or "")
        if terms is not None:
            for inv_id, events in dunning.events_of(conn, part).items():
                steps[inv_id] = events
            fee_charged.update(conn.execute(select(InvoiceCharge.invoice_id).where(
                InvoiceCharge.invoice_id.in_(part), InvoiceCharge.kind == "reminder_fee")).scalars())
    if terms is not None:
        cids = list({r.customer_id for r in rows})
        fee_agreed = dict(conn.execute(select(m.Customer.id, m.Customer.reminder_fee_agreed)
                                       .where(m.Customer.id.in_(cids))).all())
    out = {}
    for r in rows:
        st = states[r.id]
        next_step = None
        respite = 0
        if terms is not None and r.kind == "invoice":
            sched = dunning.schedule(r.due_date, steps[r.id], terms)
            respite = sched.respite_days
            if st.balance_ore > 0:
                coming = dunning.upcoming(sched, terms, today, fee_agreed=bool(fee_agreed.get(r.customer_id)),
                                          fee_charged=r.id in fee_charged)
                if today <= r.due_date:
                    next_step = invoice_state.NextStep(sched.overdue, "overdue")
                elif coming:
                    next_step = coming[0]
        out[r.id] = invoice_state.Facts(
            kind=r.kind, number=r.number, amount_due_ore=r.amount_due_ore, due_date=r.due_date, status=st.status,
            balance_ore=st.balance_ore, paid_ore=st.paid_ore, credited_ore=st.credited_ore, fees_ore=st.fees_ore,
            interest_ore=st.interest_ore, payments=tuple(pays[r.id]), credit_notes=tuple(notes[r.id]),
            carried_to=carried.get(r.id) or None, respite_days=respite, autopay=(autopay or {}).get(r.id),
            next_step=next_step)
    return out


def _summary(inv: Any, state: ledger.InvoiceState, customer_number: str, view: dict[str, Any]) -> dict[str, Any]:
    return {"state": view,
        "id": inv.id, "number": inv.number, "kind": inv.kind, "customer_number": customer_number,
        "period": f"{inv.period_start.year:04d}-{inv.period_start.month:02d}",
        "period_start": inv.period_start.isoformat(), "period_end": inv.period_end.isoformat(),
        "invoice_date": inv.invoice_date.isoformat(), "due_date": inv.due_date.isoformat(), "ocr": inv.ocr,
        "gross_ore": inv.gross_ore, "amount_due_ore": inv.amount_due_ore, "balance_ore": state.balance_ore,
        "paid_ore": state.paid_ore, "credited_ore": state.credited_ore, "status": state.status,
        "credits_invoice_id": inv.credits_invoice_id,
    }


def list_invoices(engine: Engine, *, customer_id: int | None = None, period: str | None = None,
                  status: str | None = None, kind: str | None = None, limit: int = 20, offset: int = 0,
                  today: date | None = None, terms: DunningTerms | None = None) -> dict[str, Any]:
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
            rows = rows[offset: offset + limit]
        else:
            total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rows = list(conn.execute(q.limit(limit).offset(offset)))
            states = ledger.invoice_states(conn, rows, today)
        today = today or clock.today()
        autopay = None
        if customer_id is not None:  # a subscriber's list: each open invoice's automatic payment, as on its page
            from backend_stub.services.autopay.draws import invoice_autopay

            autopay = {r.id: invoice_autopay(conn, r, states[r.id].balance_ore, today=today) for r in rows
                       if r.kind == "invoice" and states[r.id].balance_ore > 0}
        facts = invoice_facts(conn, rows, states, today, terms=_terms(terms), autopay=autopay)
        items = [_summary(r, states[r.id], r.customer_number, invoice_state.describe(facts[r.id], today))
                 for r in rows]
        overdue = _overdue_of(conn, customer_id, today) if customer_id is not None else None
        return {"total": total, "limit": limit, "offset": offset, "items": items, "overdue": overdue}


def _terms(terms: DunningTerms | None) -> DunningTerms:
    return terms if terms is not None else LifecycleConfig.from_env().dunning


def _overdue_of(conn: Connection, customer_id: int, today: date) -> dict[str, Any]:
    """The customer's overdue invoices: how many, their total and the oldest's days late (all pages)."""
    rows = list(conn.execute(select(m.Invoice).where(m.Invoice.customer_id == customer_id, m.Invoice.kind == "invoice",
                                                     m.Invoice.due_date < today)))
    states = ledger.invoice_states(conn, rows, today)
    facts = invoice_facts(conn, rows, states, today)
    views = [invoice_state.describe(facts[r.id], today) for r in rows]
    summary = invoice_state.overdue_summary(views)
    summary["invoice_ids"] = [r.id for r, v in sorted(zip(rows, views, strict=True), key=lambda t: (t[0].due_date,
                              t[0].number)) if v["overdue"]]
    return summary


def invoices_for_period(engine: Engine, label: str) -> list[dict[str, Any]]:
    """Every invoice of a period as its full document (the ``invoices --json`` contract)."""
    p = period_for(label)
    with engine.connect() as conn:
        rows = list(conn.execute(select(m.Invoice).where(
            m.Invoice.period_start >= p.start, m.Invoice.period_start <= p.end).order_by(m.Invoice.number)))
        today = clock.today()
        states = ledger.invoice_states(conn, rows, today)
        facts = invoice_facts(conn, rows, states, today, terms=_terms(None))
        return [_full(r, states[r.id]) | {"state": invoice_state.describe(facts[r.id], today)} for r in rows]


def _full(inv: Any, state: ledger.InvoiceState) -> dict[str, Any]:
    doc = dict(inv.document)
    doc.update({"id": inv.id, "status": state.status, "balance_ore": state.balance_ore, "paid_ore": state.paid_ore,
                "credited_ore": state.credited_ore})
    return doc


def invoice_as_listed(engine: Engine, invoice_id: str) -> dict[str, Any]:
    """One invoice or credit note in the shape ``invoices --json`` prints (document, status, balance)."""
    with engine.connect() as conn:
        inv = get_invoice_row(conn, invoice_id)
        today = clock.today()
        states = ledger.invoice_states(conn, [inv], today)
        facts = invoice_facts(conn, [inv], states, today, terms=_terms(None))
        return _full(inv, states[inv.id]) | {"state": invoice_state.describe(facts[inv.id], today)}


def get_invoice_row(conn: Connection, invoice_id: str) -> Any:
    row = conn.execute(select(m.Invoice).where((m.Invoice.id == invoice_id) | (m.Invoice.number == invoice_id))).first()
    if row is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return row


def get_invoice(engine: Engine, invoice_id: str, *, today: date | None = None, lang: str = "sv",
                catalogue: Catalogue | None = None, terms: DunningTerms | None = None) -> dict[str, Any]:
    """One invoice: its document, balance, status, timeline, payments and credit notes.

    Each timeline entry's ``text`` is in ``lang`` ("sv" or "en"); ``texts`` holds both. The
    document's texts (lines, units, plans, the seller's policy texts) are in ``lang`` too, with the
    Swedish ones kept beside them (``documents.localized``).
    With ``catalogue``, an invoice issued before its usage summary was kept in the document gets it
    computed from its rated events (``services.usage_totals``).
    """
    with engine.connect() as conn:
        inv = get_invoice_row(conn, invoice_id)
        state = ledger.invoice_states(conn, [inv], today)[inv.id]
        doc = documents.localized(_full(inv, state), lang)  # texts in the reader's language
        doc["customer_id"] = inv.customer_id
        doc["credits_invoice_id"] = inv.credits_invoice_id  # a credit note's invoice (None for an invoice)
        if catalogue is not None and inv.kind == "invoice" and "usage_totals" not in doc:
            from backend_stub.services.billing.usage_totals import totals_for_invoice

            doc["usage_totals"] = documents.localized_usage(totals_for_invoice(
                conn, catalogue, inv.id, inv.customer_id, Period(inv.period_start, inv.period_end)), lang)
        doc["reminder_fees_ore"] = state.fees_ore  # charged less waived (services.dunning, threads)
        ctx = {"due_date": inv.due_date.isoformat(), "number": inv.number}
        events = list(conn.execute(select(m.InvoiceEvent).where(m.InvoiceEvent.invoice_id == inv.id)))
        doc["timeline"] = timeline.entries(inv.id, events, ctx, lang)  # in business-time order (rules §7)
        doc["payments"] = [
            {"reference": p.reference, "method": p.method, "amount_ore": p.amount_ore,
             "received_at": p.received_at.isoformat()}
            for p in conn.execute(select(m.Payment).where(m.Payment.invoice_id == inv.id).order_by(m.Payment.id))
        ]
        doc["credit_notes"] = [
            {"id": c.id, "number": c.number, "amount_due_ore": c.amount_due_ore, "invoice_date": c.invoice_date.isoformat()}
            for c in conn.execute(select(m.Invoice).where(m.Invoice.credits_invoice_id == inv.id))
        ]
        from backend_stub.services.autopay.draws import invoice_autopay  # automatic payment (docs/autopay.md)

        doc["autopay"] = invoice_autopay(conn, inv, state.balance_ore, today=today)
        today = today or clock.today()
        facts = invoice_facts(conn, [inv], {inv.id: state}, today, terms=_terms(terms),
                              autopay={inv.id: doc["autopay"]})[inv.id]
        doc["state"] = invoice_state.describe(facts, today)  # the one state every reader shows
        if inv.kind == "invoice":
            overdue = _overdue_of(conn, inv.customer_id, today)
            overdue.pop("invoice_ids")  # counts only: a link's session reads this one invoice
            doc["customer_overdue"] = overdue
        return doc


def invoice_customer_id(engine: Engine, invoice_id: str) -> int:
    with engine.connect() as conn:
        return get_invoice_row(conn, invoice_id).customer_id


@dataclass(frozen=True)
class CreditRequest:
    reason: str
    amount_ore: int | None = None  # a partial credit of this amount
    vat_rate: Decimal | None = None
    line_positions: list[int] | None = None  # 1-based positions of lines to credit in full
    actor: str = "system"


def create_credit_note(engine: Engine, catalogue: Catalogue, invoice_id: str, req: CreditRequest) -> dict[str, Any]:
    """Issue a credit note for an invoice (whole, some lines, or an amount), linked to it.

    The invoice itself never changes: its balance and status follow from the credit note.
    A credit can not exceed what is left to credit on the invoice.
    """
    now = clock.now()
    with engine.begin() as conn:
        ensure_series(conn, CREDIT_SERIES)
        lock_series(conn, CREDIT_SERIES)
        inv = get_invoice_row(conn, invoice_id)
        draft, _state = _credit_draft(conn, inv, req, ore_rounding=catalogue.operator.ore_rounding)
        number = take_numbers(conn, CREDIT_SERIES, 1)[0]
        issued = invoicing.issue(draft, number, now.date(), 0, ocr=inv.ocr)
        customer = conn.execute(select(m.Customer).where(m.Customer.id == inv.customer_id)).one()
        doc = documents.invoice_document(catalogue, customer, [], issued, credits={
            "credits_invoice": inv.number, "credit_reason": req.reason})
        cn_id = str(uuid.uuid4())
        store_invoice(conn, cn_id, issued, doc, series=CREDIT_SERIES, regular_key=None, now=now,
                      credits_invoice_id=inv.id)
        new_state = ledger.invoice_states(conn, [inv])[inv.id]
        new_amount = inv.amount_due_ore - new_state.credited_ore
        ledger.add_event(conn, inv.id, "corrected",
                         f"Fakturan ändrades. Nytt belopp är {format_kr(new_amount)}.",
                         actor=req.actor, at=now, data={"credit_note": number, "credited_ore": -issued.amount_due_ore,
                                                        "new_amount_ore": new_amount, "reason": req.reason})
        ledger.add_event(conn, cn_id, "created", f"Kreditfaktura till faktura {inv.number}: {req.reason}",
                         actor=req.actor, at=now, data={"credits_invoice": inv.number, "reason": req.reason,
                                                        "credited_ore": -issued.amount_due_ore})
    return get_invoice(engine, cn_id)


def _credit_draft(conn: Connection, inv: Any, req: CreditRequest, *, ore_rounding: bool
                  ) -> tuple[invoicing.InvoiceDraft, ledger.InvoiceState]:
    """The credit note ``req`` would issue for ``inv`` (not numbered, not stored) and the invoice's state now.

    The one computation of a credit note's lines, VAT and öresavrundning (rules §1: its own rounding,
    so what is left to pay stays whole kronor), for issuing and for previews.
    """
    if not req.reason.strip():
        raise ValueError("reason: a credit note needs a reason")
    if inv.kind != "invoice":
        raise ValueError("invoice: only an invoice can be credited")
    state = ledger.invoice_states(conn, [inv])[inv.id]
    creditable = inv.amount_due_ore - state.credited_ore
    original = [_line_from_dict(d) for d in inv.document["lines"]]
    full = req.amount_ore is None and req.line_positions is None
    rounding = None
    if full:
        if state.credited_ore:
            raise ValueError("invoice: it is already partly credited; credit the rest as an amount")
        lines = invoicing.credit_note_lines(original, reason=req.reason)
        rounding = -inv.rounding_ore
    elif req.line_positions is not None:
        bad = [p for p in req.line_positions if not 1 <= p <= len(original)]
        if bad or not req.line_positions:
            raise ValueError(f"line_positions: invoice {inv.number} has lines 1–{len(original)}, "
                             f"not {', '.join(map(str, bad)) or 'none'}")
        if len(set(req.line_positions)) != len(req.line_positions):
            raise ValueError("line_positions: a line is named twice")
        lines = invoicing.credit_note_lines(original, line_indexes=[p - 1 for p in req.line_positions],
                                            reason=req.reason)
    else:
        rates = sorted({ln.vat_rate for ln in original})
        if req.vat_rate is None and len(rates) > 1:
            raise ValueError(f"vat_rate: invoice {inv.number} has several VAT rates "
                             f"({', '.join(map(str, rates))}); say which one the amount is credited at")
        if req.vat_rate is not None and rates and req.vat_rate not in rates:
            raise ValueError(f"vat_rate: invoice {inv.number} has no lines at VAT rate {req.vat_rate}")
        lines = invoicing.credit_note_lines(original, amount_ore=req.amount_ore, vat_rate=req.vat_rate,
                                            reason=req.reason)
    gross = sum(ln.amount_ore for ln in lines)
    if -(gross + (rounding or 0)) > creditable:  # a full credit takes back the invoice's own rounding too
        raise ValueError(f"amount_ore: at most {creditable} öre is left to credit on invoice {inv.number}")
    if rounding is None:  # its own öresavrundning, so what is left to pay stays whole kronor
        rounding = invoicing.credit_note_rounding(gross, creditable,
                                                  ore_rounding=ore_rounding)
    draft = invoicing.draft_from_lines(inv.customer_id, Period(inv.period_start, inv.period_end), lines,
                                       kind="credit_note", ore_rounding=False, rounding_ore=rounding)
    if draft.amount_due_ore == 0:
        raise ValueError("amount_ore: the credit rounds to 0 kr (öresavrundning); credit at least 0,50 kr")
    return draft, state


def preview_credit_note(engine: Engine, catalogue: Catalogue, invoice_id: str, req: CreditRequest) -> dict[str, Any]:
    """What ``create_credit_note`` would do, without doing it: the credit note's lines and rounding, and the
    invoice's amount and balance before and after (``ValueError`` as the issue itself would raise)."""
    with engine.connect() as conn:
        inv = get_invoice_row(conn, invoice_id)
        draft, state = _credit_draft(conn, inv, req, ore_rounding=catalogue.operator.ore_rounding)
    credited = -draft.amount_due_ore
    amount = inv.amount_due_ore - state.credited_ore
    return {"invoice_id": inv.id, "invoice_number": inv.number, "credited_ore": credited,
            "lines": [{"description": ln.description, "amount_ore": ln.amount_ore, "vat_rate": str(ln.vat_rate)}
                      for ln in draft.lines],
            "vat_ore": draft.vat_ore, "rounding_ore": draft.rounding_ore,
            "amount_ore": amount, "new_amount_ore": amount - credited,
            "balance_ore": state.balance_ore, "new_balance_ore": state.balance_ore - credited}


def _line_from_dict(d: dict[str, Any]) -> invoicing.Line:
    return invoicing.Line(
        description=d["description"], quantity=Decimal(d["quantity"]), unit=d["unit"],
        unit_price=None if d["unit_price"] is None else Decimal(d["unit_price"]), vat_rate=Decimal(d["vat_rate"]),
        amount_ore=d["amount_ore"], kind=d["kind"], subscription_id=d.get("subscription_id"), msisdn=d.get("msisdn"),
        period_label=d.get("period"), rate_key=d.get("rate_key"), description_en=d.get("description_en", ""))

