"""Signed-in sessions: an idle limit, an absolute limit, and an end that every worker sees at once.

A session is the token a sign-in hands out (its ``jti``): a subscriber's after a one-time code, an
invoice link's (that one invoice), a staff member's. Its row in ``web_sessions`` says when it was
last used; the token check (``api.auth.current_principal``) asks :meth:`DbSessions.is_live` for every
request made with a session token, and the session is over when

* it has not been used for ``idle`` (``SELFCARE_SESSION_IDLE_MINUTES``, default 30),
* its absolute lifetime has passed (``SELFCARE_SESSION_MAX_HOURS``, default 12; the token's ``exp``
  says the same, so the token dies with it even where nobody asks this table), or
* it was ended: sign-out (:func:`end`), revocation of the invoice link it was opened from, an agent's
  deactivation (:func:`end_subject`).

The table is the core's database, so every worker of the core (and every worker of the app, which
reaches the core with the session's token) sees an end at once. Times are the wall clock
(``clock.wall_now``), like the token's own lifetime: a demo's moved business clock must not end or
prolong sessions. ``last_seen_at`` is written at most once per :data:`TOUCH_EVERY`, so a busy page
costs one read per request, not a write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, select, update

from backend_stub import clock
from backend_stub.settings import Settings, settings_for
from backend_stub.storage.models.access import WebSession

IDLE_VAR = "SELFCARE_SESSION_IDLE_MINUTES"
MAX_VAR = "SELFCARE_SESSION_MAX_HOURS"
DEFAULT_IDLE = timedelta(minutes=30)
DEFAULT_MAX = timedelta(hours=12)
TOUCH_EVERY = timedelta(seconds=30)
KEEP_ENDED = timedelta(days=1)
"""Rows of sessions over for this long are removed when a new session starts."""


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a session lives: ``idle`` without use, ``absolute`` at most."""

    idle: timedelta = DEFAULT_IDLE
    absolute: timedelta = DEFAULT_MAX

    def __post_init__(self) -> None:
        if self.idle <= timedelta(0) or self.absolute <= timedelta(0):
            raise ValueError("session lifetimes must be positive")
        if self.idle > self.absolute:
            raise ValueError(f"{IDLE_VAR} must not be longer than {MAX_VAR}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SessionPolicy:
        """From ``SELFCARE_SESSION_IDLE_MINUTES`` (1..1440) and ``SELFCARE_SESSION_MAX_HOURS`` (1..720);
        a bad value is a ``ValueError`` naming the variable (``backend_stub.settings``)."""
        return cls.from_settings(settings_for(environ))

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionPolicy:
        """The lifetimes the settings give (checked there: 1..1440 minutes, 1..720 hours)."""
        return cls(
            idle=timedelta(minutes=settings.session_idle_minutes), absolute=timedelta(hours=settings.session_max_hours)
        )


@dataclass(frozen=True, slots=True)
class Opened:
    jti: str
    expires_at: datetime


def open_in(
    conn: Connection,
    policy: SessionPolicy,
    jti: str,
    *,
    subject: str,
    role: str,
    customer_id: int | None = None,
    invoice_id: str | None = None,
    now: datetime | None = None,
) -> Opened:
    """Record a session about to be handed out (inside the caller's transaction)."""
    now = clock.wall_now() if now is None else now
    conn.execute(delete(WebSession).where(WebSession.expires_at < now - KEEP_ENDED))
    expires_at = now + policy.absolute
    conn.execute(
        insert(WebSession).values(
            jti=jti,
            subject=subject[:64],
            role=role,
            customer_id=customer_id,
            invoice_id=invoice_id,
            created_at=now,
            last_seen_at=now,
            idle_s=int(policy.idle.total_seconds()),
            expires_at=expires_at,
        )
    )
    return Opened(jti, expires_at)


def open_session(engine: Engine, policy: SessionPolicy, jti: str, **kwargs) -> Opened:
    with engine.begin() as conn:
        return open_in(conn, policy, jti, **kwargs)


def end_in(conn: Connection, jti: str, now: datetime | None = None) -> bool:
    """End one session; whether it was live."""
    now = clock.wall_now() if now is None else now
    return (
        conn.execute(
            update(WebSession).where(WebSession.jti == jti, WebSession.ended_at.is_(None)).values(ended_at=now)
        ).rowcount
        > 0
    )


def end_subject_in(conn: Connection, subject: str, now: datetime | None = None) -> int:
    """End every session of ``subject`` (a staff username, a customer number); how many were live."""
    now = clock.wall_now() if now is None else now
    return conn.execute(
        update(WebSession).where(WebSession.subject == subject, WebSession.ended_at.is_(None)).values(ended_at=now)
    ).rowcount


def end_customer_in(conn: Connection, customer_id: int, now: datetime | None = None) -> int:
    """End every session that reaches customer ``customer_id``'s data: signed-in and invoice-link ones."""
    now = clock.wall_now() if now is None else now
    return conn.execute(
        update(WebSession)
        .where(WebSession.customer_id == customer_id, WebSession.ended_at.is_(None))
        .values(ended_at=now)
    ).rowcount


class DbSessions:
    """The session check every worker shares (``app.state.auth_sessions``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def is_live(self, jti: str, now: datetime | None = None) -> bool:
        """Whether the session ``jti`` may be used now; counts this use (idle time starts again)."""
        now = clock.wall_now() if now is None else now
        with self.engine.connect() as conn:
            row = conn.execute(
                select(WebSession.last_seen_at, WebSession.idle_s, WebSession.expires_at, WebSession.ended_at).where(
                    WebSession.jti == jti
                )
            ).first()
        if row is None or row.ended_at is not None:
            return False
        last_seen, expires_at = clock.to_instant(row.last_seen_at), clock.to_instant(row.expires_at)
        if now >= expires_at or now - last_seen > timedelta(seconds=row.idle_s):
            return False
        if now - last_seen >= TOUCH_EVERY:
            with self.engine.begin() as conn:
                conn.execute(
                    update(WebSession)
                    .where(WebSession.jti == jti, WebSession.last_seen_at < now)
                    .values(last_seen_at=now)
                )
        return True

    def end(self, jti: str) -> bool:
        with self.engine.begin() as conn:
            return end_in(conn, jti)
