"""Rate limits that every worker shares, in the database.

Two kinds: :class:`Limit`, a fixed-window counter (``hit``: at most so many per window, e.g.
messages per customer), and :class:`Backoff`, exponential back-off (``backoff_hit``: a few
events free, then each one more waits twice as long as the one before, up to a cap; nothing
is ever locked for good, and a quiet spell forgets the count). Sign-in uses back-off, so that
an attacker's failures slow the attacker down without handing them a way to lock anyone out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from backend_stub.storage.models.access import Backoff as BackoffRow
from backend_stub.storage.models.access import Throttle


@dataclass(frozen=True)
class Limit:
    """At most ``count`` hits per ``window``."""

    count: int
    window: timedelta


def throttle_key(kind: str, value: str) -> str:
    """A fixed-length key that keeps identifiers (phone numbers, addresses) out of the table."""
    return f"{kind}:{hashlib.sha256(value.strip().lower().encode()).hexdigest()[:40]}"


def hit(conn: Connection, key: str, limit: Limit, now: datetime) -> int:
    """Count one hit on ``key``; return 0 if allowed, else the seconds until it will be.

    A refused hit is not counted, so waiting out the window always helps.
    """
    row = conn.execute(select(Throttle).where(Throttle.key == key).with_for_update()).first()
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(Throttle).values(key=key, window_start=now, count=1))
            return 0
        except IntegrityError:  # another worker created it first
            row = conn.execute(select(Throttle).where(Throttle.key == key).with_for_update()).one()
    start = _aware(row.window_start, now)
    if now - start >= limit.window:
        conn.execute(update(Throttle).where(Throttle.key == key).values(window_start=now, count=1))
        return 0
    counted: int = row.count  # type: ignore[assignment]  # the column "count": SQLAlchemy types it as tuple.count
    if counted >= limit.count:
        return max(1, int((start + limit.window - now).total_seconds() + 0.999))
    conn.execute(update(Throttle).where(Throttle.key == key).values(count=Throttle.count + 1))
    return 0


@dataclass(frozen=True)
class Backoff:
    """``free`` events without waiting; then the next one waits ``base`` after the last, the one
    after that twice as long, and so on up to ``cap``. ``forget``: after this long without an event
    the count starts over."""

    free: int
    base: timedelta
    cap: timedelta
    forget: timedelta

    def wait_after(self, count: int) -> timedelta:
        """How long after the last event the next one may come, when ``count`` have been counted."""
        if count < self.free:
            return timedelta(0)
        doublings = min(count - self.free, 40)  # 2**40 × base is past any cap
        return min(self.cap, self.base * (2**doublings))


def backoff_hit(conn: Connection, key: str, policy: Backoff, now: datetime) -> int:
    """Count one event on ``key`` if its back-off allows it: return 0; else the seconds to wait.

    The event is counted before the caller knows how it ends (a guess, a sign-in), so that
    parallel requests cannot all slip through before any is counted; a caller whose event
    turned out well takes it back with :func:`backoff_refund` or :func:`backoff_reset`.
    A refused event is not counted: waiting always helps.
    """
    row = conn.execute(select(BackoffRow).where(BackoffRow.key == key).with_for_update()).first()
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(BackoffRow).values(key=key, count=1, last_at=now))
            return 0
        except IntegrityError:  # another worker created it first
            row = conn.execute(select(BackoffRow).where(BackoffRow.key == key).with_for_update()).one()
    last = _aware(row.last_at, now)
    counted: int = row.count  # type: ignore[assignment]  # the column "count": SQLAlchemy types it as tuple.count
    count = 0 if now - last >= policy.forget else counted
    ready = last + policy.wait_after(count)
    if now < ready:
        return max(1, int((ready - now).total_seconds() + 0.999))
    conn.execute(update(BackoffRow).where(BackoffRow.key == key).values(count=count + 1, last_at=now))
    return 0


def backoff_refund(conn: Connection, key: str) -> None:
    """Take back one counted event (it ended well: a right code, a sign-in)."""
    conn.execute(
        update(BackoffRow).where(BackoffRow.key == key, BackoffRow.count > 0).values(count=BackoffRow.count - 1)
    )


def backoff_reset(conn: Connection, key: str) -> None:
    """Forget every event counted on ``key``."""
    conn.execute(delete(BackoffRow).where(BackoffRow.key == key))


def backoff_mark(conn: Connection, key: str, now: datetime) -> None:
    """Remember that something happened on ``key`` now (e.g. a sign-in from a client), uncounted."""
    if conn.execute(update(BackoffRow).where(BackoffRow.key == key).values(last_at=now)).rowcount == 0:
        try:
            with conn.begin_nested():
                conn.execute(insert(BackoffRow).values(key=key, count=0, last_at=now))
        except IntegrityError:
            conn.execute(update(BackoffRow).where(BackoffRow.key == key).values(last_at=now))


def backoff_seen_since(conn: Connection, key: str, since: datetime) -> bool:
    """Whether ``key`` was marked (or counted) at ``since`` or later."""
    last = conn.execute(select(BackoffRow.last_at).where(BackoffRow.key == key)).scalar()
    return last is not None and _aware(last, since) >= since


def _aware(value: datetime, like: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were stored in UTC."""
    return value.replace(tzinfo=like.tzinfo) if value.tzinfo is None else value
