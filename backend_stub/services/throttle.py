"""Rate limits that every worker shares: fixed-window counters in the database."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from backend_stub.storage.access_models import Throttle


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
    if row.count >= limit.count:
        return max(1, int((start + limit.window - now).total_seconds() + 0.999))
    conn.execute(update(Throttle).where(Throttle.key == key).values(count=Throttle.count + 1))
    return 0


def _aware(value: datetime, like: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were stored in UTC."""
    return value.replace(tzinfo=like.tzinfo) if value.tzinfo is None else value
