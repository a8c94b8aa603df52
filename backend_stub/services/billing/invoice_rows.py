"""The invoices table: find an invoice (or credit note) by id or number, store an issued one with its lines.

What the bill run and credit notes write, and what every service that starts from an invoice
reads (``get_invoice_row``: ``NotFound`` naming the invoice).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from backend_stub.domain import invoicing
from backend_stub.domain.errors import NotFound
from backend_stub.storage.models import billing as m


def get_invoice_row(conn: Connection, invoice_id: str) -> Any:
    row = conn.execute(select(m.Invoice).where((m.Invoice.id == invoice_id) | (m.Invoice.number == invoice_id))).first()
    if row is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return row


def invoice_customer_id(engine: Engine, invoice_id: str) -> int:
    with engine.connect() as conn:
        return get_invoice_row(conn, invoice_id).customer_id


def store_invoice(
    conn: Connection,
    inv_id: str,
    issued: invoicing.InvoiceDraft,
    doc: dict[str, Any],
    *,
    series: str,
    regular_key: str | None,
    now: datetime,
    credits_invoice_id: str | None = None,
) -> None:
    """Insert an issued invoice (or credit note) with its lines."""
    conn.execute(
        insert(m.Invoice).values(
            **invoice_values(
                inv_id,
                issued,
                doc,
                series=series,
                regular_key=regular_key,
                now=now,
                credits_invoice_id=credits_invoice_id,
            )
        )
    )
    if issued.lines:
        conn.execute(insert(m.InvoiceLine), line_values(inv_id, issued))


def invoice_values(
    inv_id: str,
    issued: invoicing.InvoiceDraft,
    doc: dict[str, Any],
    *,
    series: str,
    regular_key: str | None,
    now: datetime,
    credits_invoice_id: str | None = None,
) -> dict[str, Any]:
    return dict(
        id=inv_id,
        number=issued.number,
        series=series,
        kind=issued.kind,
        customer_id=issued.customer_id,
        period_start=issued.period.start,
        period_end=issued.period.end,
        invoice_date=issued.invoice_date,
        due_date=issued.due_date,
        ocr=issued.ocr,
        net_ore=issued.net_ore,
        vat_ore=issued.vat_ore,
        gross_ore=issued.gross_ore,
        rounding_ore=issued.rounding_ore,
        amount_due_ore=issued.amount_due_ore,
        credits_invoice_id=credits_invoice_id,
        regular_key=regular_key,
        document=doc,
        created_at=now,
    )


def line_values(
    inv_id: str, issued: invoicing.InvoiceDraft, line_dicts: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The ``invoice_lines`` rows of ``issued``; ``line_dicts``, its document's lines, give the texts of the
    quantities and prices already written (the same ``Line.as_dict`` texts, not formatted twice)."""
    if line_dicts is not None:
        return [
            {
                "invoice_id": inv_id,
                "position": i,
                "description": ln.description[:300],
                "quantity": d["quantity"],
                "unit": ln.unit,
                "unit_price": d["unit_price"],
                "vat_rate": d["vat_rate"],
                "amount_ore": ln.amount_ore,
                "kind": ln.kind,
                "subscription_id": ln.subscription_id,
                "rate_key": ln.rate_key,
                "period_label": ln.period_label,
            }
            for i, (ln, d) in enumerate(zip(issued.lines, line_dicts, strict=True), start=1)
        ]
    return [
        {
            "invoice_id": inv_id,
            "position": i,
            "description": ln.description[:300],
            "quantity": invoicing._dec_str(ln.quantity),
            "unit": ln.unit,
            "unit_price": None if ln.unit_price is None else str(ln.unit_price),
            "vat_rate": str(ln.vat_rate),
            "amount_ore": ln.amount_ore,
            "kind": ln.kind,
            "subscription_id": ln.subscription_id,
            "rate_key": ln.rate_key,
            "period_label": ln.period_label,
        }
        for i, ln in enumerate(issued.lines, start=1)
    ]
