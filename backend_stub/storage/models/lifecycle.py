"""Tables of the invoice lifecycle: the message outbox, the fees and interest charged on invoices, bank payments,
and the documents of timeline events.

A timeline event's document (a reminder letter, a credit note, a collection notice) is rendered the first time
someone asks for it and then kept (one row per event and language), so the same letter is served every time
and seeding many invoices stays fast. Migration: ``0010t``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend_stub.storage.base import Base


class OutboxMessage(Base):
    """Every e-mail, SMS and letter sent (or queued). ``key`` makes a send idempotent."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))  # email, sms, letter
    to: Mapped[str] = mapped_column(String(300), index=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text, nullable=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, recorded, failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    invoice_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"), nullable=True, index=True)


class InvoiceCharge(Base):
    """A reminder fee or late interest added to an invoice's balance. ``key`` makes a charge idempotent."""

    __tablename__ = "invoice_charges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # reminder_fee, interest
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    accrued_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    accrued_to: Mapped[date] = mapped_column(Date)  # the day it applies (fees) or the last day accrued (interest)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BankPayment(Base):
    """A payment record from a bank file (BgMax) as received, and where its money went.

    ``reference`` is the bank's identity of the record (idempotency); ``payment_refs`` the
    ``payments.reference`` values it was recorded under (one per invoice it was split over).
    """

    __tablename__ = "bank_payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(120), unique=True)
    source: Mapped[str] = mapped_column(String(200))
    line_no: Mapped[int] = mapped_column(Integer)
    payment_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # öre for SEK, cents for EUR
    references: Mapped[list] = mapped_column(JSON, default=list)
    payer: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), index=True)  # matched, unmatched, foreign_currency, allocated
    payment_refs: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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
