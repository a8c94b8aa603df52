"""Tables of usage alerts: what each subscription was told, its choices, and its roaming "continue"."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend_stub.storage.base import Base


class UsageAlert(Base):
    """One alert owed to a subscriber (``domain.alerts.Alert``); ``key`` makes it once per threshold.

    ``send_after`` holds an SMS for the day; ``sent_at`` is set when the message is in the outbox
    (``channel`` says how: sms, email or none when the settings turned it off, shown in the app only);
    ``dismissed_at`` when the subscriber closed it in the app.
    """

    __tablename__ = "usage_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    subscription_id: Mapped[int] = mapped_column(Integer, index=True)
    period_start: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(16))
    event_at: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[dict] = mapped_column(JSON)
    channel: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    send_after: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AlertSetting(Base):
    """A subscription's alert choices (no row: the defaults of ``domain.alerts.AlertSettings``)."""

    __tablename__ = "alert_settings"

    subscription_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thresholds: Mapped[dict] = mapped_column(JSON)  # pool -> [80, 100]
    kinds: Mapped[list] = mapped_column(JSON)  # roaming_welcome, fair_use, spend_limit
    channels: Mapped[list] = mapped_column(JSON)  # sms, email, app
    cost_limit_ore: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    spend_limit_ore: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # the level chosen (None: default)
    # Every level in force this far, [[from epoch s, öre], ...] (the rater caps each event at the one of its time).
    spend_limits: Mapped[list | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RoamingContinue(Base):
    """The subscriber chose to go on using data outside the EU/EEA past the spending limit this period."""

    __tablename__ = "roaming_continues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(Integer, index=True)
    period_start: Mapped[date] = mapped_column(Date)
    chosen_at: Mapped[int] = mapped_column(BigInteger)  # epoch seconds: events that start later are charged
    actor: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("subscription_id", "period_start"),)
