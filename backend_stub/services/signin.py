"""Sign-in with a one-time code sent by e-mail or SMS.

A code is six digits, single use, valid ten minutes; only a keyed hash of it is stored.
Asking for a code answers the same whether or not the account exists, and both asking
and guessing are rate-limited per identifier (and per client address when given), so
accounts can be neither probed nor brute-forced.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update

from backend_stub import clock
from backend_stub.services.throttle import Limit, hit, throttle_key
from backend_stub.storage import models as m
from backend_stub.storage.access_models import LoginCode

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS_PER_CODE = 5
REQUEST_LIMIT = Limit(3, timedelta(minutes=10))  # codes asked for, per identifier
CLIENT_LIMIT = Limit(20, timedelta(minutes=10))  # codes asked for, per client address
VERIFY_LIMIT = Limit(10, timedelta(minutes=10))  # guesses, per identifier

# deliver(customer_row, channel, text, key): sends the message once per key.
Deliver = Callable[[Any, str, str, str], None]


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many attempts; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignedIn:
    customer_id: int
    customer_number: str
    name: str
    language: str


def normalise_identifier(identifier: str) -> str:
    """``k100001`` → ``K100001``; ``070-123 45 67`` / ``0046701234567`` → ``+46701234567``."""
    raw = identifier.strip()
    compact = re.sub(r"[\s\-()]", "", raw)
    if re.fullmatch(r"(\+|00)?\d{6,15}", compact):
        if compact.startswith("00"):
            compact = "+" + compact[2:]
        elif compact.startswith("0"):
            compact = "+46" + compact[1:]
        elif not compact.startswith("+"):
            compact = "+" + compact
        return compact
    return raw.upper()


def _find_customer(conn, identifier: str) -> Any | None:
    key = normalise_identifier(identifier)
    row = conn.execute(select(m.Customer).where(m.Customer.customer_number == key)).first()
    if row is None and key.startswith("+"):
        cid = conn.execute(select(m.Subscription.customer_id).where(m.Subscription.msisdn == key)
                           .order_by(m.Subscription.id)).scalar()
        if cid is None:
            cid = conn.execute(select(m.Customer.id).where(m.Customer.phone == key)).scalar()
        if cid is not None:
            row = conn.execute(select(m.Customer).where(m.Customer.id == cid)).first()
    return row


def _hash(secret: str, customer_id: int, code: str) -> str:
    return hmac.new(secret.encode(), f"{customer_id}:{code}".encode(), hashlib.sha256).hexdigest()


def request_code(engine: Engine, secret: str, identifier: str, deliver: Deliver, *, client: str | None = None,
                 now: datetime | None = None) -> None:
    """Send a new code to the account behind ``identifier``, if there is one. Raises ``RateLimited``."""
    now = now or clock.now()
    identifier = normalise_identifier(identifier)
    if not identifier:
        raise ValueError("identifier: give a customer number or a phone number")
    with engine.begin() as conn:
        wait = hit(conn, throttle_key("otp-request", identifier), REQUEST_LIMIT, now)
        if not wait and client:
            wait = hit(conn, throttle_key("otp-client", client), CLIENT_LIMIT, now)
        if wait:
            raise RateLimited(wait)
        customer = _find_customer(conn, identifier)
        if customer is None:
            return
        code = f"{secrets.randbelow(1_000_000):06d}"
        # A new code replaces the older ones.
        conn.execute(update(LoginCode).where(LoginCode.customer_id == customer.id, LoginCode.used_at.is_(None))
                     .values(used_at=now))
        row_id = conn.execute(insert(LoginCode).values(
            customer_id=customer.id, code_hash=_hash(secret, customer.id, code), created_at=now,
            expires_at=now + CODE_TTL, attempts=0).returning(LoginCode.id)).scalar_one()
    channel = "sms" if customer.channel == "sms" and customer.phone else "email"
    if customer.language == "en":
        text = f"Your sign-in code is {code}. It is valid for 10 minutes. Never give it to anyone."
    else:
        text = f"Din inloggningskod är {code}. Den gäller i 10 minuter. Lämna aldrig ut den till någon."
    deliver(customer, channel, text, f"otp:{row_id}")


def verify_code(engine: Engine, secret: str, identifier: str, code: str, *,
                now: datetime | None = None) -> SignedIn | None:
    """The customer signed in by ``code``, or None (wrong, used or expired). Raises ``RateLimited``."""
    now = now or clock.now()
    identifier = normalise_identifier(identifier)
    code = re.sub(r"\s", "", code or "")
    with engine.begin() as conn:
        wait = hit(conn, throttle_key("otp-verify", identifier), VERIFY_LIMIT, now)
        if wait:
            raise RateLimited(wait)
        customer = _find_customer(conn, identifier)
        if customer is None or not re.fullmatch(r"\d{6}", code):
            return None
        row = conn.execute(select(LoginCode).where(LoginCode.customer_id == customer.id,
                                                   LoginCode.used_at.is_(None))
                           .order_by(LoginCode.id.desc()).with_for_update()).first()
        if row is None:
            return None
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        if expires <= now or row.attempts >= MAX_ATTEMPTS_PER_CODE:
            return None
        if not hmac.compare_digest(row.code_hash, _hash(secret, customer.id, code)):
            conn.execute(update(LoginCode).where(LoginCode.id == row.id).values(attempts=LoginCode.attempts + 1))
            return None
        used = conn.execute(update(LoginCode).where(LoginCode.id == row.id, LoginCode.used_at.is_(None))
                            .values(used_at=now))
        if used.rowcount != 1:  # a concurrent request used it first
            return None
    return SignedIn(customer.id, customer.customer_number, customer.name, customer.language)
