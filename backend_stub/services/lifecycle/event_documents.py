"""The documents of an invoice's timeline: reminder letters, credit notes and collection notices.

A document belongs to one timeline event (``timeline.DOCUMENT_KINDS``). It is rendered the first
time someone asks for it, from what the database says about that day (a reminder shows what was
open on the day it was sent, not today), and then kept in ``event_documents``, so the same letter
is served every time and recording events (the dunning run, the demo seed) never renders a PDF.
Who may fetch it is decided by the caller exactly as for the invoice itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from backend_stub import clock
from backend_stub.domain.errors import NotFound
from backend_stub.services.billing.invoice_rows import get_invoice_row
from backend_stub.services.billing.invoices import get_invoice
from backend_stub.services.lifecycle import timeline
from backend_stub.services.lifecycle.payments import invoice_allocation, invoice_items
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.lifecycle import EventDocument

FILE_STEM = {
    "sv": {"reminder": "paminnelse", "collection_notice": "inkassomeddelande", "credit_note": "kreditfaktura"},
    "en": {"reminder": "reminder", "collection_notice": "collection-notice", "credit_note": "credit-note"},
}


@dataclass(frozen=True)
class Document:
    kind: str
    filename: str
    pdf: bytes


def event_document(
    engine: Engine, invoice_id: str, event_id: int, lang: str = "sv", *, now: datetime | None = None
) -> Document:
    """The PDF of timeline event ``event_id`` of invoice ``invoice_id`` (id or number) in ``lang``.

    Raises ``NotFound`` when the invoice has no such event or the event carries no document.
    ``now`` stamps a newly kept document (default: the core's clock).
    """
    lang = "en" if lang == "en" else "sv"
    with engine.connect() as conn:
        inv = get_invoice_row(conn, invoice_id)
        event = conn.execute(
            select(m.InvoiceEvent).where(m.InvoiceEvent.id == event_id, m.InvoiceEvent.invoice_id == inv.id)
        ).first()
        if event is None or event.kind not in timeline.DOCUMENT_KINDS:
            raise NotFound(f"invoice {inv.number} has no document for event {event_id}")
        kept = conn.execute(
            select(EventDocument).where(EventDocument.event_id == event.id, EventDocument.lang == lang)
        ).first()
        if kept is not None:
            return Document(kept.kind, kept.filename, bytes(kept.pdf))
        kind = timeline.DOCUMENT_KINDS[event.kind]
        if kind == "credit_note":
            note = conn.execute(
                select(m.Invoice).where(
                    m.Invoice.credits_invoice_id == inv.id,
                    m.Invoice.number == str((event.data or {}).get("credit_note")),
                )
            ).first()
            if note is None:
                raise NotFound(f"the credit note of event {event_id} is not found")
            note_id, number = note.id, note.number
        else:
            notice = _notice(conn, inv, kind, event.data or {})
            number = inv.number
    if kind == "credit_note":
        from backend_stub.formats.invoice_pdf import render_invoice_pdf

        pdf = render_invoice_pdf(get_invoice(engine, note_id, lang=lang), lang)
    else:
        from backend_stub.formats.notice_pdf import render_notice_pdf

        pdf = render_notice_pdf(notice, lang)
    filename = f"{FILE_STEM[lang][kind]}-{number}.pdf"
    if now is None:
        now = clock.now()
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(EventDocument).values(
                    invoice_id=inv.id,
                    event_id=event.id,
                    lang=lang,
                    kind=kind,
                    filename=filename,
                    pdf=pdf,
                    created_at=now,
                )
            )
    except IntegrityError:  # asked for twice at once: the first one kept is the one served
        with engine.connect() as conn:
            kept = conn.execute(
                select(EventDocument).where(EventDocument.event_id == event.id, EventDocument.lang == lang)
            ).one()
        return Document(kept.kind, kept.filename, bytes(kept.pdf))
    return Document(kind, filename, pdf)


def _notice(conn: Any, inv: Any, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """A reminder letter's or collection notice's facts as they stood on the event's day."""
    on = date.fromisoformat(str(data["date"])[:10])
    alloc = invoice_allocation(conn, inv, upto=on)
    credits, _charges, pays = invoice_items(conn, inv)
    credited = sum(a for d, a in credits if d <= on)
    paid = sum(a for d, a in pays if d <= on)
    notice: dict[str, Any] = {
        "kind": kind,
        "date": on.isoformat(),
        "level": int(data.get("level", 1)),
        "seller": inv.document["seller"],
        "buyer": inv.document["buyer"],
        "invoice": {
            "number": inv.number,
            "ocr": inv.ocr,
            "customer_number": inv.document["customer_number"],
            "invoice_date": inv.invoice_date.isoformat(),
            "due_date": inv.due_date.isoformat(),
            "amount_due_ore": inv.amount_due_ore,
        },
        "credited_ore": credited,
        "paid_ore": paid,
        "principal_ore": alloc.principal_open,
        "fees_ore": alloc.fees_open,
        "interest_ore": alloc.interest_open,
        "balance_ore": max(0, alloc.balance),
        "fee_ore": int(data.get("fee_ore", 0)),
        "rate": data.get("rate"),
    }
    if kind == "collection_notice" and "balance_ore" in data:  # the amounts handed over, as recorded that day
        notice.update(
            principal_ore=int(data["principal_ore"]),
            fees_ore=int(data["fees_ore"]),
            interest_ore=int(data["interest_ore"]),
            balance_ore=int(data["balance_ore"]),
        )
    return notice
