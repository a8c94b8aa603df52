"""Tables of the charges area: phones on instalment, one-off charges and credits, add-on purchases.

Each row that lands on an invoice is claimed by the bill run in the same transaction that
issues the invoice (``invoice_id`` set, or an ``instalment_bills`` row), so a crashed and
re-run bill run bills it exactly once. Migration: ``0008b``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend_stub.storage.base import Base


class Instalment(Base):
    """A device paid over ``months`` monthly instalments on the customer's invoices (in arrears).

    ``months_billed`` and ``paid_ore`` count the instalments invoiced so far. Status: ``active``,
    ``paid_off`` (the remainder is asked for at once: ``payoff_invoice_id`` is set when billed),
    ``closed`` (every month invoiced).
    """

    __tablename__ = "instalments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(64))
    device_name: Mapped[str] = mapped_column(String(200))
    months: Mapped[int] = mapped_column(Integer)
    total_ore: Mapped[int] = mapped_column(BigInteger)
    monthly_ore: Mapped[int] = mapped_column(BigInteger)
    vat_rate: Mapped[str] = mapped_column(String(8))
    start_period: Mapped[str] = mapped_column(String(7))  # YYYY-MM: the first month invoiced
    months_billed: Mapped[int] = mapped_column(Integer, default=0)
    paid_ore: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    payoff_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    payoff_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payoff_invoice_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InstalmentBill(Base):
    """Months ``first_month``..``last_month`` of an instalment billed on one invoice (or its payoff).

    Unique per (instalment, first month): a month can never be billed twice.
    """

    __tablename__ = "instalment_bills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instalment_id: Mapped[int] = mapped_column(ForeignKey("instalments.id"), index=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    first_month: Mapped[int] = mapped_column(Integer)
    last_month: Mapped[int] = mapped_column(Integer)
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # month, payoff

    __table_args__ = (UniqueConstraint("instalment_id", "first_month"),)


class OneOffCharge(Base):
    """A one-off charge (positive) or credit (negative) for the customer's next invoice, with its reason."""

    __tablename__ = "one_off_charges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"), nullable=True)
    description: Mapped[str] = mapped_column(String(200))
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    vat_rate: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, invoiced
    invoice_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)


class AddonPurchase(Base):
    """An add-on bought for one subscription and billing period.

    ``allowances`` are base units per pool (bytes, seconds, messages; -1 unlimited). They count
    for usage that starts at or after ``bought_epoch`` (UTC epoch seconds, as usage events).
    """

    __tablename__ = "addon_purchases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    addon_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    price_ore: Mapped[int] = mapped_column(BigInteger)
    vat_rate: Mapped[str] = mapped_column(String(8))
    allowances: Mapped[dict] = mapped_column(JSON)
    period_start: Mapped[date] = mapped_column(Date)
    bought_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    bought_epoch: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, invoiced
    invoice_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
