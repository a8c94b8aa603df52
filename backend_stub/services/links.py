"""An invoice's own address: ``/i/<token>``, opened without signing in.

The token is a JWT signed with the core's key (audience ``selfcare-invoice-link``, so it
can never pass as an API token), naming the invoice and the customer, expiring, and
recorded by its id so that it can be revoked. The first open puts "opened" on the
invoice's timeline.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import Engine, insert, select, update

from backend_stub import clock
from backend_stub.services import ledger
from backend_stub.services.invoices import NotFound, get_invoice_row
from backend_stub.storage.access_models import InvoiceLink

LINK_AUDIENCE = "selfcare-invoice-link"
LINK_TTL = timedelta(days=180)


class LinkRefused(Exception):
    """The link is malformed, expired, revoked or unknown (one answer for all)."""


@dataclass(frozen=True)
class Link:
    token: str
    invoice_id: str
    expires_at: datetime

    @property
    def path(self) -> str:
        return f"/i/{self.token}"


@dataclass(frozen=True)
class OpenedLink:
    invoice_id: str
    customer_id: int
    first_open: bool


def create_link(engine: Engine, secret: str, issuer: str, invoice_id: str, *, ttl: timedelta = LINK_TTL,
                now: datetime | None = None) -> Link:
    """A new link to the invoice (by id or number)."""
    now = now or clock.now()
    with engine.begin() as conn:
        inv = get_invoice_row(conn, invoice_id)
        jti = uuid.uuid4().hex
        expires = now + ttl
        token = jwt.encode({"iss": issuer, "aud": LINK_AUDIENCE, "sub": inv.id, "cid": inv.customer_id, "jti": jti,
                            "iat": int(now.timestamp()), "exp": int(expires.timestamp())}, secret, algorithm="HS256")
        conn.execute(insert(InvoiceLink).values(jti=jti, invoice_id=inv.id, customer_id=inv.customer_id,
                                                created_at=now, expires_at=expires, token=token))
    return Link(token, inv.id, expires)


def invoice_link(engine: Engine, secret: str, issuer: str, invoice_id: str, *, now: datetime | None = None) -> Link:
    """The invoice's current link (the newest one still valid for a week), else a new one.

    Sending uses this, so a resend carries the same address as the first message.
    """
    now = now or clock.now()
    with engine.connect() as conn:
        inv = get_invoice_row(conn, invoice_id)
        row = conn.execute(select(InvoiceLink).where(InvoiceLink.invoice_id == inv.id,
                                                     InvoiceLink.revoked_at.is_(None),
                                                     InvoiceLink.expires_at > now + timedelta(days=7))
                           .order_by(InvoiceLink.created_at.desc())).first()
    if row is not None:
        return Link(row.token, row.invoice_id, _aware(row.expires_at))
    return create_link(engine, secret, issuer, inv.id, now=now)


def open_link(engine: Engine, secret: str, issuer: str, token: str, *, now: datetime | None = None) -> OpenedLink:
    """Check the link and record the first open. Raises ``LinkRefused``."""
    now = now or clock.now()
    try:
        # expiry is checked against ``now`` below (the stored row holds the same ``exp``); PyJWT's own
        # checks would read the wall clock, so a link opened in business time (the demo's year) would fail
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=LINK_AUDIENCE, issuer=issuer,
                            options={"require": ["exp", "iat", "sub", "jti", "cid"], "verify_exp": False,
                                     "verify_iat": False})
    except jwt.PyJWTError:
        raise LinkRefused("link not found") from None
    with engine.begin() as conn:
        row = conn.execute(select(InvoiceLink).where(InvoiceLink.jti == claims["jti"])).first()
        if (row is None or row.revoked_at is not None or row.invoice_id != claims["sub"]
                or row.customer_id != claims["cid"] or _aware(row.expires_at) <= now):
            raise LinkRefused("link not found")
        first = conn.execute(update(InvoiceLink).where(InvoiceLink.jti == row.jti,
                                                       InvoiceLink.first_opened_at.is_(None))
                             .values(first_opened_at=now)).rowcount == 1
        if first and not _opened_before(conn, row.invoice_id):
            ledger.add_event(conn, row.invoice_id, "opened", "Fakturan öppnades.", actor="customer", at=now,
                             data={"via": "link"})
    return OpenedLink(row.invoice_id, row.customer_id, first)


def revoke_links(engine: Engine, *, token: str | None = None, invoice_id: str | None = None,
                 now: datetime | None = None) -> int:
    """Revoke one link (by its token) or every link of an invoice; returns how many."""
    now = now or clock.now()
    with engine.begin() as conn:
        q = update(InvoiceLink).where(InvoiceLink.revoked_at.is_(None))
        if token is not None:
            q = q.where(InvoiceLink.token == token)
        elif invoice_id is not None:
            try:
                inv = get_invoice_row(conn, invoice_id)
            except NotFound:
                return 0
            q = q.where(InvoiceLink.invoice_id == inv.id)
        else:
            raise ValueError("give a token or an invoice id")
        return conn.execute(q.values(revoked_at=now)).rowcount


def _opened_before(conn, invoice_id: str) -> bool:
    from backend_stub.storage import models as m

    return conn.execute(select(m.InvoiceEvent.id).where(m.InvoiceEvent.invoice_id == invoice_id,
                                                        m.InvoiceEvent.kind == "opened").limit(1)).first() is not None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def invoice_link_path(engine: Engine, settings, invoice_id: str) -> str:
    """``/i/<token>`` of the invoice's current link (``settings``: the core's ``AuthSettings``)."""
    return invoice_link(engine, settings.secret, settings.issuer, invoice_id).path
