"""Revoked token ids in the database, so that every worker refuses a signed-out token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from backend_stub import clock
from backend_stub.storage.access_models import RevokedToken


class DbRevocationList:
    """A :class:`backend_stub.api.auth.RevocationList` shared through the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def revoke(self, jti: str, expires_at: datetime) -> None:
        if not jti:
            raise ValueError("jti must not be empty")
        now = clock.now()
        with self.engine.begin() as conn:
            conn.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
            try:
                with conn.begin_nested():
                    conn.execute(insert(RevokedToken).values(jti=jti, expires_at=expires_at))
            except IntegrityError:
                pass  # already revoked

    def is_revoked(self, jti: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(RevokedToken.jti).where(RevokedToken.jti == jti)).first() is not None
