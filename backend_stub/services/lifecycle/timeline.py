"""An invoice's timeline: its events in business-time order, each with its texts and the document it carries.

``business_time`` places an event in time for ordering (rules §7); ``DOCUMENT_KINDS`` names the
events that carry a document (a reminder letter, a credit note, a collection notice). The texts
are ``domain.texts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from backend_stub.clock import start_of_day, to_instant
from backend_stub.domain.texts import LANGS, render

# --- order and documents ------------------------------------------------------------------------

DATE_ONLY_KINDS = frozenset({"overdue", "reminder_sent", "collection"})
"""Events that happen on a day, not at an instant: placed at the start of that Stockholm day (``data["date"]``)."""

DOCUMENT_KINDS = {"reminder_sent": "reminder", "collection": "collection_notice", "corrected": "credit_note"}
"""Event kind → the kind of document it carries (rendered when first asked for, then kept)."""


def business_time(kind: str, data: Mapping[str, Any] | None, at: datetime) -> tuple[datetime, bool]:
    """When the event happened in the business, as an aware UTC instant, and whether it is date-only.

    A date-only event (the due date passed, a dunning step) is placed at midnight Stockholm time
    at the start of its day (``clock.start_of_day``); any other event at its stamped ``at``.
    """
    if kind in DATE_ONLY_KINDS and (data or {}).get("date"):
        try:
            return start_of_day(date.fromisoformat(str(data["date"])[:10])), True  # type: ignore[index]
        except ValueError:
            pass
    return to_instant(at), False


def document_ref(kind: str, invoice_id: str, event_id: int) -> dict[str, Any] | None:
    """The document an event carries (kind and the API path it is fetched from), or None."""
    doc_kind = DOCUMENT_KINDS.get(kind)
    if doc_kind is None:
        return None
    return {"kind": doc_kind, "event_id": event_id, "path": f"/invoices/{invoice_id}/documents/{event_id}"}


def entries(invoice_id: str, events: list[Any], context: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    """An invoice's timeline: each event with time, actor and text (in ``lang``, both in ``texts``).

    Ordered by business time (``business_time``), ties in the order they were recorded (event id),
    whatever order the events were stored in. ``at`` is the business time; ``recorded_at`` when
    the core wrote it down.
    """
    rows = []
    for e in events:
        at, date_only = business_time(e.kind, e.data, e.at)
        rows.append((at, e.id, date_only, e))
    rows.sort(key=lambda r: (r[0], r[1]))
    out = []
    for at, _id, date_only, e in rows:
        texts = {code: render(e.kind, e.data, code, e.text, context) for code in LANGS}
        entry = {
            "id": e.id,
            "at": at.isoformat(),
            "date_only": date_only,
            "recorded_at": to_instant(e.at).isoformat(),
            "actor": e.actor,
            "kind": e.kind,
            "text": texts.get(lang, texts["sv"]),
            "texts": texts,
            "data": e.data,
            "document": document_ref(e.kind, invoice_id, e.id),
        }
        out.append(entry)
    return out
