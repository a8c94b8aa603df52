"""Tables of sign-in, sessions, invoice links, revoked tokens and the test payment provider."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend_stub.storage.base import Base


class LoginCode(Base):
    """A one-time sign-in code (only its keyed hash is stored).

    ``subject`` is whom it signs in: ``c:<customer id>``, or ``i:<hash of the identifier>`` for an
    identifier that belongs to nobody (a code is made and stored all the same, never sent, so that
    asking costs the same work either way; hence no foreign key, whose check would cost only for a
    customer). ``client_key`` is the client address that asked for it.
    """

    __tablename__ = "login_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)
    client_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # wrong guesses from other clients
    own_attempts: Mapped[int] = mapped_column(Integer, default=0)  # … and from the client that asked


class Throttle(Base):
    """Fixed-window counters for rate limits shared by every worker (key = what is limited)."""

    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    count: Mapped[int] = mapped_column(Integer)


class Backoff(Base):
    """Exponential back-off counters shared by every worker (``services.access.throttle.Backoff``):
    how many events were counted on ``key`` and when the last one was."""

    __tablename__ = "backoffs"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RevokedToken(Base):
    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class InvoiceLink(Base):
    """An invoice's own address (``/i/<id>``). Never the link itself: ``jti`` is HMAC-SHA256 of a
    short link's id (``token`` then holds ``seed:<seed>``, from which only the server secret derives
    the id again), or the id of an old long (JWT) link (``token`` then holds ``sha256:<hash of the JWT>``)."""

    __tablename__ = "invoice_links"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    token: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    first_opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LinkSession(Base):
    """A session opened from an invoice link (its token id), so that revoking the link ends it."""

    __tablename__ = "link_sessions"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    link_jti: Mapped[str] = mapped_column(ForeignKey("invoice_links.jti"), index=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A signed-in session (its token id): who, since when, last seen, until when at the latest, and
    when it ended (sign-out, link revocation, a deactivated agent). ``services.access.sessions`` owns it."""

    __tablename__ = "web_sessions"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    invoice_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    idle_s: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PaymentSession(Base):
    """A checkout at the test payment provider: one payment over one or more invoices
    (``PaymentSessionInvoice``; ``invoice_id`` is the first of them, paid first)."""

    __tablename__ = "payment_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    return_url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # open, paid, failed, superseded
    provider_payment_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PaymentSessionInvoice(Base):
    """An invoice a checkout pays, in the order its money is applied (oldest due date first)."""

    __tablename__ = "payment_session_invoices"
    __table_args__ = (UniqueConstraint("session_id", "invoice_id"),)

    session_id: Mapped[str] = mapped_column(ForeignKey("payment_sessions.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1, 2, … in payment order
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_ore: Mapped[int] = mapped_column(BigInteger)  # its balance when the checkout was made


class WebhookEvent(Base):
    """Webhook deliveries already handled (replay protection)."""

    __tablename__ = "webhook_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(32))
