"""Documents of an invoice's timeline events: reminder letters, credit notes, collection notices.

A document is rendered the first time someone asks for it and then kept here (one row per event
and language), so the same letter is served every time and seeding many invoices stays fast.
Migration: ``0010t``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend_stub.storage.models import Base


class EventDocument(Base):
    """The PDF of one timeline event in one language (``kind``: reminder, credit_note, collection_notice)."""

    __tablename__ = "event_documents"
    __table_args__ = (UniqueConstraint("event_id", "lang"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("invoice_events.id"))
    lang: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(200))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
