"""Sign-in with a one-time code sent by e-mail or SMS.

A code is six digits, single use, valid ten minutes; only a keyed hash of it is stored.

Throttling slows attackers down without handing them a lockout (``services.access.throttle.Backoff``:
a few tries free, then each one more waits twice as long, never a hard lock; a successful
sign-in takes its tries back). Every count is kept per client address *and* identifier
(normalised: a phone number in any spelling is one E.164 number, a customer number is
upper-cased), per client address over all identifiers (against SMS and e-mail pumping), and
per identifier over all clients (generous, against guessing from many addresses):

* asking for a code never cancels a code another client asked for, only the asking client's
  own earlier one;
* wrong guesses from other clients count against a code (at most ``MAX_GUESSES_PER_CODE``
  of them), never against the client that asked for it: its own right code keeps working,
  slowed only by its own back-off (and its own ``MAX_OWN_GUESSES_PER_CODE``). When the
  per-identifier count is exhausted, only the client that asked for a code may still try it;
* asking and guessing do the same work and give the same answer whether or not the account
  exists: an unknown identifier gets a code stored all the same (never sent), and the message
  itself goes out on a worker thread after the answer (``DELIVERIES``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import re
import secrets
import threading
import unicodedata
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, delete, insert, or_, select, update

from backend_stub import clock
from backend_stub.domain.errors import Invalid
from backend_stub.services.access.throttle import Backoff, backoff_hit, backoff_refund, backoff_reset, throttle_key
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.access import LoginCode

logger = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
MAX_GUESSES_PER_CODE = 10
"""Wrong guesses from clients other than the one that asked, over all of them, before a code is dead for them."""
MAX_OWN_GUESSES_PER_CODE = 5
"""Wrong guesses from the client that asked before the code is dead for it too (it may ask again)."""

# Asking for a code.
ASK_PER_CLIENT_IDENTIFIER = Backoff(
    free=3, base=timedelta(seconds=30), cap=timedelta(minutes=15), forget=timedelta(hours=1)
)
ASK_PER_CLIENT = Backoff(free=20, base=timedelta(seconds=30), cap=timedelta(hours=1), forget=timedelta(hours=1))
ASK_PER_IDENTIFIER = Backoff(free=10, base=timedelta(minutes=1), cap=timedelta(hours=6), forget=timedelta(hours=24))
# Guessing (a guess is counted when made and taken back when it was right).
GUESS_PER_CLIENT_IDENTIFIER = Backoff(
    free=3, base=timedelta(seconds=2), cap=timedelta(minutes=15), forget=timedelta(hours=1)
)
GUESS_PER_CLIENT = Backoff(free=30, base=timedelta(seconds=2), cap=timedelta(minutes=15), forget=timedelta(hours=1))
GUESS_PER_IDENTIFIER = Backoff(free=30, base=timedelta(minutes=1), cap=timedelta(hours=1), forget=timedelta(hours=24))

UNKNOWN_CLIENT = "-"  # the caller named no client address: one bucket per identifier

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


_SEPARATORS = re.compile(r"[\s\-().,/]")
_PHONE = re.compile(r"(\+|00)?[0-9]{6,15}")


def _ascii_digits(text: str) -> str:
    """Any Unicode decimal digit (fullwidth, Arabic-Indic …) as its ASCII digit."""
    return "".join(
        str(unicodedata.decimal(ch)) if not ch.isascii() and unicodedata.decimal(ch, None) is not None else ch
        for ch in text
    )


def normalise_identifier(identifier: str) -> str:
    """One spelling per account: ``k 100001`` → ``K100001``; ``070-123 45 67``, ``0046701234567``,
    ``+46 (0)70 123 45 67`` and ``+46701234567`` → ``+46701234567`` (E.164, Sweden by default)."""
    raw = _ascii_digits(unicodedata.normalize("NFKC", identifier or "")).strip()
    compact = _SEPARATORS.sub("", raw.replace("(0)", ""))
    if _PHONE.fullmatch(compact):
        if compact.startswith("00"):
            compact = "+" + compact[2:]
        elif compact.startswith("0"):
            compact = "+46" + compact[1:]
        elif not compact.startswith("+"):
            compact = "+" + compact
        if compact.startswith("+460"):  # a trunk 0 kept after the country code
            compact = "+46" + compact[4:]
        return compact
    return re.sub(r"\s", "", raw).upper()


def client_key(client: str | None) -> str | None:
    """What a client address is counted as: the IPv4 address, or the /64 network of an IPv6 one
    (one subscriber line gets a whole /64). None when no address was given."""
    if not client or not client.strip():
        return None
    try:
        address = ipaddress.ip_address(client.strip())
    except ValueError:
        return client.strip().lower()[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _key(kind: str, *parts: str) -> str:
    return throttle_key(kind, "\x1f".join(parts))


def _find_customer(conn, key: str) -> Any | None:
    """The account behind a normalised identifier, in one query whatever the identifier is (so the
    time taken does not say which kind matched): its customer number, else a subscription's
    number, else the customer's contact phone."""
    subscribers = select(m.Subscription.customer_id).where(m.Subscription.msisdn == key)
    rank = case((m.Customer.customer_number == key, 0), (m.Customer.id.in_(subscribers), 1), else_=2)
    return conn.execute(
        select(m.Customer)
        .where(or_(m.Customer.customer_number == key, m.Customer.id.in_(subscribers), m.Customer.phone == key))
        .order_by(rank, m.Customer.id)
        .limit(1)
    ).first()


def _subject(customer: Any | None, identifier: str) -> str:
    return f"c:{customer.id}" if customer is not None else "i:" + throttle_key("id", identifier)[-40:]


def _hash(secret: str, subject: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{subject}:{code}".encode(), hashlib.sha256).hexdigest()


def request_code(
    engine: Engine,
    secret: str,
    identifier: str,
    deliver: Deliver,
    *,
    client: str | None = None,
    now: datetime | None = None,
) -> None:
    """Make a code for the account behind ``identifier`` and hand it to ``deliver``, if there is one.

    Raises ``RateLimited``, or ``ValueError`` naming the field for an empty identifier.
    """
    now = now or clock.now()
    identifier = normalise_identifier(identifier)
    if not identifier:
        raise Invalid("identifier", "give a customer number or a phone number")
    ck = client_key(client)
    with engine.begin() as conn:
        wait_s = backoff_hit(conn, _key("ask", ck or UNKNOWN_CLIENT, identifier), ASK_PER_CLIENT_IDENTIFIER, now)
        if not wait_s and ck:
            wait_s = backoff_hit(conn, _key("ask-client", ck), ASK_PER_CLIENT, now)
        if not wait_s:
            wait_s = backoff_hit(conn, _key("ask-id", identifier), ASK_PER_IDENTIFIER, now)
        if wait_s:
            raise RateLimited(wait_s)  # (the transaction rolls back: nothing of this request is counted)
        customer = _find_customer(conn, identifier)
        subject = _subject(customer, identifier)
        code = f"{secrets.randbelow(1_000_000):06d}"
        conn.execute(
            delete(LoginCode).where(LoginCode.subject == subject, LoginCode.expires_at < now - timedelta(days=1))
        )
        # A new code replaces the older ones this client asked for, never another client's.
        same_client = LoginCode.client_key == ck if ck else LoginCode.client_key.is_(None)
        conn.execute(
            update(LoginCode)
            .where(LoginCode.subject == subject, LoginCode.used_at.is_(None), same_client)
            .values(used_at=now)
        )
        row_id = conn.execute(
            insert(LoginCode)
            .values(
                subject=subject,
                client_key=ck,
                code_hash=_hash(secret, subject, code),
                created_at=now,
                expires_at=now + CODE_TTL,
                attempts=0,
                own_attempts=0,
            )
            .returning(LoginCode.id)
        ).scalar_one()
    if customer is None:
        return
    channel = "sms" if customer.channel == "sms" and customer.phone else "email"
    if customer.language == "en":
        text = f"Your sign-in code is {code}. It is valid for 10 minutes. Never give it to anyone."
    else:
        text = f"Din inloggningskod är {code}. Den gäller i 10 minuter. Lämna aldrig ut den till någon."
    deliver(customer, channel, text, f"otp:{row_id}")


def verify_code(
    engine: Engine, secret: str, identifier: str, code: str, *, client: str | None = None, now: datetime | None = None
) -> SignedIn | None:
    """The customer signed in by ``code``, or None (wrong, used or expired). Raises ``RateLimited``."""
    now = now or clock.now()
    identifier = normalise_identifier(identifier)
    code = re.sub(r"\s", "", code or "")
    ck = client_key(client)
    with engine.begin() as conn:
        own_key = _key("guess", ck or UNKNOWN_CLIENT, identifier)
        wait_s = backoff_hit(conn, own_key, GUESS_PER_CLIENT_IDENTIFIER, now)
        if not wait_s and ck:
            wait_s = backoff_hit(conn, _key("guess-client", ck), GUESS_PER_CLIENT, now)
        if wait_s:
            raise RateLimited(wait_s)
        # Over the per-identifier count only the client that asked for a code may still try it.
        crowd_wait = backoff_hit(conn, _key("guess-id", identifier), GUESS_PER_IDENTIFIER, now)
        customer = _find_customer(conn, identifier)
        subject = _subject(customer, identifier)
        live = conn.execute(
            select(LoginCode)
            .where(LoginCode.subject == subject, LoginCode.used_at.is_(None), LoginCode.expires_at > now)
            .order_by(LoginCode.id.desc())
            .with_for_update()
        ).all()
        own = [
            row
            for row in live
            if ck is not None and row.client_key == ck and row.own_attempts < MAX_OWN_GUESSES_PER_CODE
        ]
        own_ids = {row.id for row in own}
        if crowd_wait:
            if not own:
                raise RateLimited(crowd_wait)
            candidates = own
        else:
            candidates = own + [
                row for row in live if row.attempts < MAX_GUESSES_PER_CODE and (ck is None or row.client_key != ck)
            ]
        digest = _hash(secret, subject, code) if re.fullmatch(r"[0-9]{6}", code) else ""
        match = None
        for row in candidates:  # every candidate is compared: the same work whichever matches
            if hmac.compare_digest(row.code_hash, digest or "-" * 64) and match is None:
                match = row
        if match is None:
            others = [row.id for row in candidates if row.id not in own_ids]
            if others:
                conn.execute(update(LoginCode).where(LoginCode.id.in_(others)).values(attempts=LoginCode.attempts + 1))
            if own_ids:
                conn.execute(
                    update(LoginCode).where(LoginCode.id.in_(own_ids)).values(own_attempts=LoginCode.own_attempts + 1)
                )
            return None
        used = conn.execute(
            update(LoginCode).where(LoginCode.id == match.id, LoginCode.used_at.is_(None)).values(used_at=now)
        )
        if used.rowcount != 1 or customer is None:  # a concurrent request used it first
            return None
        # Signed in: its tries are taken back, and so is the asking that led here.
        backoff_reset(conn, own_key)
        if ck:
            backoff_refund(conn, _key("guess-client", ck))
        if not crowd_wait:
            backoff_refund(conn, _key("guess-id", identifier))
        asker = match.client_key
        backoff_reset(conn, _key("ask", asker or UNKNOWN_CLIENT, identifier))
        if asker:
            backoff_refund(conn, _key("ask-client", asker))
        backoff_refund(conn, _key("ask-id", identifier))
    return SignedIn(customer.id, customer.customer_number, customer.name, customer.language)


class Deliveries:
    """Sign-in messages go out on worker threads after the answer is given, so that asking for a
    code takes as long whether or not a message is sent (handing an e-mail to SMTP alone takes
    longer than all the rest). Each process has its own threads (made on first use after a fork)."""

    def __init__(self, workers: int = 1) -> None:  # one: messages leave in the order asked (the newest code last)
        self._workers = workers
        self._lock = threading.Lock()
        self._pool: tuple[int, ThreadPoolExecutor] | None = None
        self._pending: set[Future] = set()

    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        with self._lock:
            if self._pool is None or self._pool[0] != os.getpid():
                self._pool = (os.getpid(), ThreadPoolExecutor(self._workers, thread_name_prefix="signin-delivery"))
                self._pending = set()
            future = self._pool[1].submit(self._send, fn, *args)
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)

    @staticmethod
    def _send(fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:  # the outbox keeps it as failed/pending; the subscriber can ask again
            logger.exception("a sign-in message could not be sent")

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every message handed over so far has been sent (the dev outbox, tests)."""
        with self._lock:
            pending = list(self._pending)
        if pending:
            wait(pending, timeout=timeout)


DELIVERIES = Deliveries()
