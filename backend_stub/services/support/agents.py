"""Support agents: accounts with Argon2id password hashes, sign-in with rate limits and audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from backend_stub import clock
from backend_stub.domain.errors import Invalid
from backend_stub.services.access import sessions
from backend_stub.services.access.signin import UNKNOWN_CLIENT, RateLimited, client_key
from backend_stub.services.access.throttle import (
    Backoff,
    backoff_hit,
    backoff_mark,
    backoff_refund,
    backoff_reset,
    backoff_seen_since,
    throttle_key,
)
from backend_stub.services.support import audit
from backend_stub.services.support.roles import ROLES
from backend_stub.storage.models.support import Agent

# Failed tries, with exponential back-off (never a hard lock); a successful sign-in is never counted.
TRIES_PER_CLIENT_USER = Backoff(free=5, base=timedelta(seconds=2), cap=timedelta(minutes=15), forget=timedelta(hours=1))
TRIES_PER_CLIENT = Backoff(free=30, base=timedelta(seconds=2), cap=timedelta(minutes=15), forget=timedelta(hours=1))
# Against guessing from many addresses; a client the agent signed in from lately is not held up by it.
TRIES_PER_USER = Backoff(free=50, base=timedelta(minutes=1), cap=timedelta(minutes=15), forget=timedelta(hours=24))
KNOWN_CLIENT_FOR = timedelta(days=30)
MIN_PASSWORD = 12

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
# A hash to verify against when the user does not exist, so timing does not tell.
_DUMMY = _hasher.hash("not-a-real-password-xxxxxxxx")


@dataclass(frozen=True)
class AgentInfo:
    id: int
    username: str
    name: str
    role: str


def create_agent(engine: Engine, username: str, name: str, password: str, role: str = "agent") -> AgentInfo:
    username = username.strip().lower()
    if not username or len(username) > 64:
        raise Invalid("username", "1–64 characters")
    if role not in ROLES:
        raise Invalid("role", f"one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", f"at least {MIN_PASSWORD} characters")
    try:
        with engine.begin() as conn:
            agent_id = conn.execute(
                insert(Agent)
                .values(
                    username=username,
                    name=name.strip() or username,
                    role=role,
                    password_hash=_hasher.hash(password),
                    active=True,
                    created_at=clock.now(),
                )
                .returning(Agent.id)
            ).scalar_one()
            audit.log(conn, "system", "agent_created", username, {"role": role})
    except IntegrityError:
        raise Invalid("username", f"{username!r} exists already") from None
    return AgentInfo(agent_id, username, name.strip() or username, role)


def deactivate_agent(engine: Engine, username: str, *, actor: str = "system") -> int:
    """Close a staff account: it cannot sign in again, and every session it has ends at once (on every
    worker, ``services.access.sessions``). Returns how many sessions ended; ``LookupError`` for no such account."""
    username = username.strip().lower()
    now = clock.wall_now()
    with engine.begin() as conn:
        found = conn.execute(update(Agent).where(Agent.username == username).values(active=False)).rowcount
        if not found:
            raise LookupError(f"username: no staff account {username!r}")
        ended = sessions.end_subject_in(conn, username, now)
        audit.log(conn, actor, "agent_deactivated", username, {"sessions_ended": ended}, at=clock.now())
    return ended


def _key(kind: str, *parts: str) -> str:
    return throttle_key(kind, "\x1f".join(parts))


def authenticate(
    engine: Engine, username: str, password: str, *, client: str | None = None, now: datetime | None = None
) -> AgentInfo | None:
    """The agent, or None for a wrong name or password. Raises ``RateLimited``. Every try is audited.

    Failed tries back off per username and client address, per client address, and (generously)
    per username over all clients, which a client the agent signed in from in the last 30 days
    skips: nobody can lock an agent out from elsewhere. A successful sign-in is never counted.
    """
    now = now or clock.now()
    username = username.strip().lower()
    ck = client_key(client)
    pair_key = _key("staff", ck or UNKNOWN_CLIENT, username)
    known_key = _key("staff-known", ck or UNKNOWN_CLIENT, username)
    user_key = _key("staff-user", username)
    try:
        with engine.begin() as conn:  # counted now (so that parallel tries cannot slip through), taken back if right
            wait = backoff_hit(conn, pair_key, TRIES_PER_CLIENT_USER, now)
            if not wait and ck:
                wait = backoff_hit(conn, _key("staff-client", ck), TRIES_PER_CLIENT, now)
            known = ck is not None and backoff_seen_since(conn, known_key, now - KNOWN_CLIENT_FOR)
            if not wait and not known:
                wait = backoff_hit(conn, user_key, TRIES_PER_USER, now)
            if wait:
                raise RateLimited(wait)  # rolls back: a refused try is not counted
    except RateLimited:
        with engine.begin() as conn:
            audit.log(conn, username or "?", "sign_in_limited", "agent", {"client": client}, at=now)
        raise
    with engine.connect() as conn:
        row = conn.execute(select(Agent).where(Agent.username == username, Agent.active.is_(True))).first()
    try:  # outside any transaction: Argon2 takes a while, and the same while for a user who does not exist
        _hasher.verify(row.password_hash if row else _DUMMY, password)
        ok = row is not None
    except (VerificationError, InvalidHashError):
        ok = False
    with engine.begin() as conn:
        audit.log(conn, username or "?", "sign_in" if ok else "sign_in_failed", "agent", {"client": client}, at=now)
        if ok and row is not None:  # ok: the row's password verified
            backoff_reset(conn, pair_key)
            if ck:
                backoff_refund(conn, _key("staff-client", ck))
                backoff_mark(conn, known_key, now)
            if not known:
                backoff_refund(conn, user_key)
            if _hasher.check_needs_rehash(row.password_hash):
                conn.execute(update(Agent).where(Agent.id == row.id).values(password_hash=_hasher.hash(password)))
    if not ok or row is None:
        return None
    return AgentInfo(row.id, row.username, row.name, row.role)
