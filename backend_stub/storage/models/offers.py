"""Tables of the offers area: offers, their banner images, tracking events, acceptances, targeting caches.

Images are kept in the database (every worker serves them). ``offer_usage_stats`` and
``offer_recommendations`` are caches of what an invoiced period's usage says about a
subscription; each row carries the fingerprint it was computed from (``services.offers.targeting``),
so a late event that lands in an invoiced period makes it stale.
"""

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
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend_stub.storage.base import Base


class OfferImage(Base):
    """A banner image (PNG, JPEG or WebP), checked by content on upload."""

    __tablename__ = "offer_images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Offer(Base):
    """An upsell offer: banner texts, what it sells on which terms, when, to whom (``rules``)."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    cta: Mapped[str] = mapped_column(String(80))
    image_id: Mapped[int | None] = mapped_column(ForeignKey("offer_images.id"), nullable=True)
    sells_kind: Mapped[str] = mapped_column(String(8))  # plan, addon
    sells_id: Mapped[str] = mapped_column(String(64))
    # Price terms: a discount on what it sells (NULL periods = no terms). percent is a decimal string.
    terms_percent: Mapped[str | None] = mapped_column(String(16), nullable=True)
    terms_amount_ore: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    terms_periods: Mapped[int | None] = mapped_column(Integer, nullable=True)
    terms_text_sv: Mapped[str] = mapped_column(String(300))
    terms_text_en: Mapped[str] = mapped_column(String(300))
    effective: Mapped[str] = mapped_column(String(16))  # now, next_period
    scheduled: Mapped[bool] = mapped_column(Boolean, default=False)  # False: a draft
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    cap_impressions: Mapped[int] = mapped_column(Integer)
    cap_days: Mapped[int] = mapped_column(Integer)
    placements: Mapped[list] = mapped_column(JSON)
    rules: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OfferEvent(Base):
    """An impression, click or dismissal, once per real view (``view_id`` comes from the client)."""

    __tablename__ = "offer_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    customer_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # impression, click, dismiss
    placement: Mapped[str] = mapped_column(String(16))
    view_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("offer_id", "customer_id", "kind", "view_id", name="uq_offer_events_view"),
        Index("ix_offer_events_customer", "customer_id", "offer_id", "kind"),
    )


class OfferAcceptance(Base):
    """A subscriber's yes to an offer: the plan change (or add-on) and the discount grant it made."""

    __tablename__ = "offer_acceptances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    old_plan_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    plan_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    addon_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    effective_date: Mapped[date] = mapped_column(Date)
    # What it adds to the monthly revenue, ignoring the temporary discount (new fee − old fee, or the add-on).
    extra_monthly_ore: Mapped[int] = mapped_column(BigInteger)
    grant_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(64))
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("offer_id", "subscription_id", name="uq_offer_acceptances_sub"),)


class OfferUsageStats(Base):
    """Cache: what one invoiced period's usage of a subscription says for targeting.

    ``fingerprint`` is the customer's event count in that period when computed: a late
    event changes it, and the row is computed again.
    """

    __tablename__ = "offer_usage_stats"

    subscription_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    fingerprint: Mapped[int] = mapped_column(BigInteger)
    data_bytes: Mapped[int] = mapped_column(BigInteger)  # home and EU data that draws on the allowance
    overage_exact: Mapped[int] = mapped_column(BigInteger)  # usage charged beyond an allowance
    roaming_events: Mapped[int] = mapped_column(Integer)  # EU or non-EU roaming events
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OfferRecommendation(Base):
    """Cache: a subscription's last three invoiced periods re-rated under every plan on sale."""

    __tablename__ = "offer_recommendations"

    subscription_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(300))
    result: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


__all__ = ["Offer", "OfferAcceptance", "OfferEvent", "OfferImage", "OfferRecommendation", "OfferUsageStats"]
