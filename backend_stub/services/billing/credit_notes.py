"""Credit notes: a whole invoice, some of its lines, or an amount, credited; numbered in the ``K`` series.

The invoice itself never changes: its balance and status follow from the credit note (rules §1:
the credit note has its own öresavrundning, so what is left to pay stays whole kronor).
``preview_credit_note`` shows what issuing would do without doing it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, select

from backend_stub import clock
from backend_stub.domain import invoicing
from backend_stub.domain.catalogue import Catalogue
from backend_stub.domain.errors import Invalid
from backend_stub.domain.periods import Period
from backend_stub.services.billing import documents
from backend_stub.services.billing.invoice_rows import get_invoice_row, store_invoice
from backend_stub.services.billing.invoices import get_invoice
from backend_stub.services.billing.numbering import CREDIT_SERIES, ensure_series, lock_series, take_numbers
from backend_stub.services.lifecycle import ledger
from backend_stub.storage.models import billing as m
from selfcare_common.money_format import format_kr


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
        doc = documents.invoice_document(
            catalogue, customer, [], issued, credits={"credits_invoice": inv.number, "credit_reason": req.reason}
        )
        cn_id = str(uuid.uuid4())
        store_invoice(
            conn, cn_id, issued, doc, series=CREDIT_SERIES, regular_key=None, now=now, credits_invoice_id=inv.id
        )
        new_state = ledger.invoice_states(conn, [inv])[inv.id]
        new_amount = inv.amount_due_ore - new_state.credited_ore
        ledger.add_event(
            conn,
            inv.id,
            "corrected",
            f"Fakturan ändrades. Nytt belopp är {format_kr(new_amount)}.",
            actor=req.actor,
            at=now,
            data={
                "credit_note": number,
                "credited_ore": -issued.amount_due_ore,
                "new_amount_ore": new_amount,
                "reason": req.reason,
            },
        )
        ledger.add_event(
            conn,
            cn_id,
            "created",
            f"Kreditfaktura till faktura {inv.number}: {req.reason}",
            actor=req.actor,
            at=now,
            data={"credits_invoice": inv.number, "reason": req.reason, "credited_ore": -issued.amount_due_ore},
        )
    return get_invoice(engine, cn_id)


def _credit_draft(
    conn: Connection, inv: Any, req: CreditRequest, *, ore_rounding: bool
) -> tuple[invoicing.InvoiceDraft, ledger.InvoiceState]:
    """The credit note ``req`` would issue for ``inv`` (not numbered, not stored) and the invoice's state now.

    The one computation of a credit note's lines, VAT and öresavrundning (rules §1: its own rounding,
    so what is left to pay stays whole kronor), for issuing and for previews.
    """
    if not req.reason.strip():
        raise Invalid("reason", "a credit note needs a reason")
    if inv.kind != "invoice":
        raise Invalid("invoice", "only an invoice can be credited")
    state = ledger.invoice_states(conn, [inv])[inv.id]
    creditable = inv.amount_due_ore - state.credited_ore
    original = [_line_from_dict(d) for d in inv.document["lines"]]
    full = req.amount_ore is None and req.line_positions is None
    rounding = None
    if full:
        if state.credited_ore:
            raise Invalid("invoice", "it is already partly credited; credit the rest as an amount")
        lines = invoicing.credit_note_lines(original, reason=req.reason)
        rounding = -inv.rounding_ore
    elif req.line_positions is not None:
        bad = [p for p in req.line_positions if not 1 <= p <= len(original)]
        if bad or not req.line_positions:
            raise Invalid(
                "line_positions",
                f"invoice {inv.number} has lines 1–{len(original)}, not {', '.join(map(str, bad)) or 'none'}",
            )
        if len(set(req.line_positions)) != len(req.line_positions):
            raise Invalid("line_positions", "a line is named twice")
        lines = invoicing.credit_note_lines(
            original, line_indexes=[p - 1 for p in req.line_positions], reason=req.reason
        )
    else:
        rates = sorted({ln.vat_rate for ln in original})
        if req.vat_rate is None and len(rates) > 1:
            raise Invalid(
                "vat_rate",
                f"invoice {inv.number} has several VAT rates "
                f"({', '.join(map(str, rates))}); say which one the amount is credited at",
            )
        if req.vat_rate is not None and rates and req.vat_rate not in rates:
            raise Invalid("vat_rate", f"invoice {inv.number} has no lines at VAT rate {req.vat_rate}")
        lines = invoicing.credit_note_lines(
            original, amount_ore=req.amount_ore, vat_rate=req.vat_rate, reason=req.reason
        )
    gross = sum(ln.amount_ore for ln in lines)
    if -(gross + (rounding or 0)) > creditable:  # a full credit takes back the invoice's own rounding too
        raise Invalid("amount_ore", f"at most {creditable} öre is left to credit on invoice {inv.number}")
    if rounding is None:  # its own öresavrundning, so what is left to pay stays whole kronor
        rounding = invoicing.credit_note_rounding(gross, creditable, ore_rounding=ore_rounding)
    draft = invoicing.draft_from_lines(
        inv.customer_id,
        Period(inv.period_start, inv.period_end),
        lines,
        kind="credit_note",
        ore_rounding=False,
        rounding_ore=rounding,
    )
    if draft.amount_due_ore == 0:
        raise Invalid("amount_ore", "the credit rounds to 0 kr (öresavrundning); credit at least 0,50 kr")
    return draft, state


def preview_credit_note(engine: Engine, catalogue: Catalogue, invoice_id: str, req: CreditRequest) -> dict[str, Any]:
    """What ``create_credit_note`` would do, without doing it: the credit note's lines and rounding, and the
    invoice's amount and balance before and after (``ValueError`` as the issue itself would raise)."""
    with engine.connect() as conn:
        inv = get_invoice_row(conn, invoice_id)
        draft, state = _credit_draft(conn, inv, req, ore_rounding=catalogue.operator.ore_rounding)
    credited = -draft.amount_due_ore
    amount = inv.amount_due_ore - state.credited_ore
    return {
        "invoice_id": inv.id,
        "invoice_number": inv.number,
        "credited_ore": credited,
        "lines": [
            {"description": ln.description, "amount_ore": ln.amount_ore, "vat_rate": str(ln.vat_rate)}
            for ln in draft.lines
        ],
        "vat_ore": draft.vat_ore,
        "rounding_ore": draft.rounding_ore,
        "amount_ore": amount,
        "new_amount_ore": amount - credited,
        "balance_ore": state.balance_ore,
        "new_balance_ore": state.balance_ore - credited,
    }


def _line_from_dict(d: dict[str, Any]) -> invoicing.Line:
    return invoicing.Line(
        description=d["description"],
        quantity=Decimal(d["quantity"]),
        unit=d["unit"],
        unit_price=None if d["unit_price"] is None else Decimal(d["unit_price"]),
        vat_rate=Decimal(d["vat_rate"]),
        amount_ore=d["amount_ore"],
        kind=d["kind"],
        subscription_id=d.get("subscription_id"),
        msisdn=d.get("msisdn"),
        period_label=d.get("period"),
        rate_key=d.get("rate_key"),
        description_en=d.get("description_en", ""),
    )
