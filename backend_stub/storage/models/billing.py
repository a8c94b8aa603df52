"""Tables of billing: customers, subscriptions and plan segments, discount grants, catalogue versions, usage
(imported, in suspense, roaming notices), invoice number series, invoices with their lines and timeline events,
and the payments on them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend_stub.storage.base import Base


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_number: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(16), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    channel: Mapped[str] = mapped_column(String(16), default="email")
    language: Mapped[str] = mapped_column(String(8), default="sv")
    reminder_fee_agreed: Mapped[bool] = mapped_column(Boolean, default=True)
    cycle_day: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    msisdn: Mapped[str | None] = mapped_column(String(20), index=True, nullable=True)
    kind: Mapped[str] = mapped_column(String(16))


class PlanSegment(Base):
    __tablename__ = "plan_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    plan_id: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)


class DiscountGrant(Base):
    __tablename__ = "discount_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"), nullable=True)
    discount_id: Mapped[str] = mapped_column(String(64))
    start_period: Mapped[str] = mapped_column(String(7))
    # Own terms (an offer's price terms) instead of the catalogue's discount ``discount_id``:
    # set together, all NULL for a catalogue discount. ``percent`` is a decimal string.
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    percent: Mapped[str | None] = mapped_column(String(16), nullable=True)
    amount_ore: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    applies_to: Mapped[str | None] = mapped_column(String(16), nullable=True)
    periods: Mapped[int | None] = mapped_column(Integer, nullable=True)
    plan_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # only this plan's fee lines
    source: Mapped[str | None] = mapped_column(String(64), nullable=True)  # e.g. "offer:12"


class CatalogueVersion(Base):
    __tablename__ = "catalogue_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source_name: Mapped[str] = mapped_column(String(200))
    document: Mapped[str] = mapped_column(Text)  # the TOML text as loaded


class ImportBatch(Base):
    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)


class UsageEvent(Base):
    """A usage record and its rating. ``invoice_id`` is set when it is billed."""

    __tablename__ = "usage_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(100), unique=True)
    subscription_id: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date] = mapped_column(Date)
    service: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[int] = mapped_column(BigInteger)
    duration_s: Mapped[int] = mapped_column(Integer, default=0)
    volume_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    called_number: Mapped[str] = mapped_column(String(32), default="")
    visited_country: Mapped[str] = mapped_column(String(2), default="")
    plan_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    rate_key: Mapped[str] = mapped_column(String(100))
    destination: Mapped[str] = mapped_column(String(64))
    offpeak: Mapped[bool] = mapped_column(Boolean, default=False)
    billed_units: Mapped[int] = mapped_column(BigInteger)
    included_units: Mapped[int] = mapped_column(BigInteger)
    charged_units: Mapped[int] = mapped_column(BigInteger)
    surcharge_units: Mapped[int] = mapped_column(BigInteger, default=0)
    charge_exact: Mapped[int] = mapped_column(BigInteger)
    fee_exact: Mapped[int] = mapped_column(BigInteger, default=0)
    surcharge_exact: Mapped[int] = mapped_column(BigInteger, default=0)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    invoice_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    batch_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        # One index besides record_id's: inserts are the hot path (bench/rating.py).
        Index("ix_usage_customer_period", "customer_id", "period_start", "started_at"),
    )


class SuspenseRecord(Base):
    """A usage row that could not be rated, kept with its reason until it is re-processed."""

    __tablename__ = "suspense"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(200))
    line_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    record_id: Mapped[str] = mapped_column(String(100), default="", index=True)
    raw: Mapped[dict] = mapped_column(JSON)
    field: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RoamingNotice(Base):
    """Bill-shock notices: non-EU data roaming spend reached 80 % / 100 % of the limit."""

    __tablename__ = "roaming_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(Integer, index=True)
    period_start: Mapped[date] = mapped_column(Date)
    threshold: Mapped[str] = mapped_column(String(8))
    record_id: Mapped[str] = mapped_column(String(100))
    spent_ore: Mapped[int] = mapped_column(BigInteger)
    limit_ore: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("subscription_id", "period_start", "threshold"),)


class InvoiceSeries(Base):
    """The next number of each invoice series. Taken under a row lock when an invoice is issued."""

    __tablename__ = "invoice_series"

    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_number: Mapped[int] = mapped_column(BigInteger)


class Invoice(Base):
    """An issued invoice or credit note. Never changes once issued, except its status cache."""

    __tablename__ = "invoices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    series: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # invoice, credit_note
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    invoice_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    ocr: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    net_ore: Mapped[int] = mapped_column(BigInteger)
    vat_ore: Mapped[int] = mapped_column(BigInteger)
    gross_ore: Mapped[int] = mapped_column(BigInteger)
    rounding_ore: Mapped[int] = mapped_column(BigInteger)
    amount_due_ore: Mapped[int] = mapped_column(BigInteger)
    credits_invoice_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    # one regular invoice per account and period: "customer_id:YYYY-MM-DD", NULL for others
    regular_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    document: Mapped[dict] = mapped_column(JSON)  # the full invoice as issued (seller, buyer, lines, ...)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(8))
    unit_price: Mapped[str | None] = mapped_column(String(32), nullable=True)
    vat_rate: Mapped[str] = mapped_column(String(8))
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    subscription_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rate_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    period_label: Mapped[str | None] = mapped_column(String(7), nullable=True)


class InvoiceEvent(Base):
    """The append-only timeline of an invoice."""

    __tablename__ = "invoice_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class Payment(Base):
    """A payment received. Idempotent on ``reference`` (the provider's or bank's id)."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    method: Mapped[str] = mapped_column(String(16))  # card, swish, bankgiro, agent, credit_balance
    invoice_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"), index=True, nullable=True)
    customer_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    ocr: Mapped[str | None] = mapped_column(String(32), nullable=True)
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="matched")  # matched, unmatched
