"""Support agents: accounts with Argon2id password hashes, sign-in with rate limits and audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from backend_stub import clock
from backend_stub.services import audit
from backend_stub.services.signin import RateLimited
from backend_stub.services.throttle import Limit, hit, throttle_key
from backend_stub.storage.support_models import Agent

ROLES = ("agent", "supervisor", "marketing")  # staff accounts; marketing has its own console
LOGIN_LIMIT = Limit(5, timedelta(minutes=15))  # failed and successful tries per username
CLIENT_LIMIT = Limit(30, timedelta(minutes=15))  # per client address
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
        raise ValueError("username: 1–64 characters")
    if role not in ROLES:
        raise ValueError(f"role: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password: at least {MIN_PASSWORD} characters")
    try:
        with engine.begin() as conn:
            agent_id = conn.execute(insert(Agent).values(
                username=username, name=name.strip() or username, role=role, password_hash=_hasher.hash(password),
                active=True, created_at=clock.now()).returning(Agent.id)).scalar_one()
            audit.log(conn, "system", "agent_created", username, {"role": role})
    except IntegrityError:
        raise ValueError(f"username: {username!r} exists already") from None
    return AgentInfo(agent_id, username, name.strip() or username, role)


def authenticate(engine: Engine, username: str, password: str, *, client: str | None = None,
                 now: datetime | None = None) -> AgentInfo | None:
    """The agent, or None for a wrong name or password. Raises ``RateLimited``. Every try is audited."""
    now = now or clock.now()
    username = username.strip().lower()
    with engine.begin() as conn:
        wait = hit(conn, throttle_key("agent-login", username), LOGIN_LIMIT, now)
        if not wait and client:
            wait = hit(conn, throttle_key("agent-client", client), CLIENT_LIMIT, now)
        if wait:  # logged, then refused (after the commit, so the entry stays)
            audit.log(conn, username or "?", "sign_in_limited", "agent", {"client": client}, at=now)
            row, ok = None, False
        else:
            row = conn.execute(select(Agent).where(Agent.username == username, Agent.active.is_(True))).first()
            try:
                _hasher.verify(row.password_hash if row else _DUMMY, password)
                ok = row is not None
            except (VerificationError, InvalidHashError):
                ok = False
            audit.log(conn, username or "?", "sign_in" if ok else "sign_in_failed", "agent", {"client": client},
                      at=now)
            if ok and _hasher.check_needs_rehash(row.password_hash):
                conn.execute(update(Agent).where(Agent.id == row.id).values(password_hash=_hasher.hash(password)))
    if wait:
        raise RateLimited(wait)
    if not ok or row is None:
        return None
    return AgentInfo(row.id, row.username, row.name, row.role)
