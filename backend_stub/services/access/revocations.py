"""Revoked token ids in the database, so that every worker refuses a signed-out token."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from backend_stub import clock
from backend_stub.storage.models.access import RevokedToken

GRACE = timedelta(minutes=1)
"""Entries outlive their token a little: the token check allows a few seconds' leeway."""


class DbRevocationList:
    """A :class:`backend_stub.services.access.tokens.RevocationList` shared through the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def revoke(self, jti: str, expires_at: datetime) -> None:
        with self.engine.begin() as conn:
            revoke_in(conn, jti, expires_at)

    def is_revoked(self, jti: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(RevokedToken.jti).where(RevokedToken.jti == jti)).first() is not None


def revoke_in(conn: Connection, jti: str, expires_at: datetime) -> None:
    """Put the token ``jti`` on the revocation list inside the caller's transaction (and forget
    the entries of tokens that have expired anyway).

    Token lifetimes run on the wall clock (``api.auth.security_now``), so expiry is compared
    with it, not with the business clock (which a demo or a test may have moved).
    """
    if not jti:
        raise ValueError("jti must not be empty")
    conn.execute(delete(RevokedToken).where(RevokedToken.expires_at < clock.wall_now() - GRACE))
    try:
        with conn.begin_nested():
            conn.execute(insert(RevokedToken).values(jti=jti, expires_at=expires_at))
    except IntegrityError:
        pass  # already revoked
