"""Tables of the autopay area: payment methods, autogiro mandates and files, saved cards, draws.

Card data never reaches these tables: a saved card is the provider's token with brand, last four
digits and expiry. ``testpay_cards`` is the built-in test provider's own vault (its side, not ours).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend_stub.storage.base import Base


class PaymentMethod(Base):
    """How a customer pays: ``manual`` (status ``none``), ``autogiro`` or ``card``."""

    __tablename__ = "payment_methods"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    method: Mapped[str] = mapped_column(String(16))  # manual, autogiro, card
    status: Mapped[str] = mapped_column(String(16))  # none, pending, active, failed
    since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    notice: Mapped[str | None] = mapped_column(Text, nullable=True)  # a notice key (services.autopay.NOTICES)
    personal_number: Mapped[str | None] = mapped_column(String(12), nullable=True)  # for autogiro mandates
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AutogiroMandate(Base):
    """A mandate (medgivande) at Bankgirot: pending → approved / rejected; approved → withdrawn."""

    __tablename__ = "autogiro_mandates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    payer_number: Mapped[str] = mapped_column(String(16), unique=True)
    clearing: Mapped[str] = mapped_column(String(4))
    account: Mapped[str] = mapped_column(String(12))
    personal_number: Mapped[str | None] = mapped_column(String(12), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, approved, rejected, withdrawn
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    request_file_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the file its TK04 went in
    cancel_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cancel_file_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the file its TK03 went in
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    answer_code: Mapped[str | None] = mapped_column(String(8), nullable=True)  # "04/32": information/comment
    answer_text: Mapped[str | None] = mapped_column(Text, nullable=True)


class SavedCard(Base):
    """A card saved at the payment provider: its token and what may be shown, nothing more."""

    __tablename__ = "autopay_cards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    brand: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    expires: Mapped[str] = mapped_column(String(5))  # MM/YY
    status: Mapped[str] = mapped_column(String(16))  # active, removed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CardSetupSession(Base):
    """A visit to the provider's hosted page to save a card."""

    __tablename__ = "card_setup_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    return_url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # open, saved, failed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TestPayCard(Base):
    """The test provider's vault: which of its test cards a token stands for (the provider's side)."""

    __tablename__ = "testpay_cards"
    __test__ = False  # not a pytest test class

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), unique=True)
    brand: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    expires: Mapped[str] = mapped_column(String(5))
    behaviour: Mapped[str] = mapped_column(String(16))  # approve, decline
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AutopayDraw(Base):
    """One attempt to draw an invoice automatically (autogiro order or card charge)."""

    __tablename__ = "autopay_draws"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    method: Mapped[str] = mapped_column(String(16))  # autogiro, card
    attempt: Mapped[int] = mapped_column(Integer)
    draw_date: Mapped[date] = mapped_column(Date)
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)  # scheduled, pending, paid, failed, cancelled
    payer_number: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the payment's reference when paid
    order_file_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    result_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (UniqueConstraint("invoice_id", "attempt"),)


class AutogiroFile(Base):
    """An Autogiro file written (``out``) or imported (``in``), kept whole. Imports are once per content."""

    __tablename__ = "autogiro_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # in, out
    kind: Mapped[str] = mapped_column(String(20))  # mandates, payments, mandate_advice, payment_spec, rejected
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    for_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    records: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)  # as ISO 8859-1 text
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("direction", "sha256"),)


class AutogiroRecordRef(Base):
    """An answer record already applied (the same record in another file changes nothing)."""

    __tablename__ = "autogiro_record_refs"

    ref: Mapped[str] = mapped_column(String(200), primary_key=True)
    file_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
