"""An invoice's own address: ``/i/<id>``, opened without signing in.

The id is 16 random characters (80 bits, lower-case base32: short enough for an SMS and a
QR code on paper, too many to guess). The database keeps only HMAC-SHA256(server secret, id)
as the link's key (``jti``), with the invoice, the customer, the expiry and the revocation.
So that a resend or a PDF downloaded later carries the same address, the row also keeps a
random seed from which only the server (with its secret) derives the id again; neither
column reveals the id without the secret.

Links made before these short ids are JWTs signed with the core's key (audience
``selfcare-invoice-link``, so one can never pass as an API token); they keep working until
they expire, and the database keeps only their SHA-256 (migration 0012h hashed the ones kept
before in place). The first open puts "opened" on the invoice's timeline. An expired or
revoked link is refused with ``LinkGone``, which names the invoice so that the app can ask
the subscriber to sign in and then show it.

Every session opened from a link is recorded with it (``link_sessions``); revoking the link
puts those sessions on the shared revocation list in the same transaction, so they end at
once on every worker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import Engine, delete, insert, select, update

from backend_stub import clock
from backend_stub.domain.errors import Invalid
from backend_stub.services.access.revocations import revoke_in
from backend_stub.services.billing.invoice_rows import NotFound, get_invoice_row
from backend_stub.services.lifecycle import ledger
from backend_stub.storage.models import billing as m
from backend_stub.storage.models.access import InvoiceLink, LinkSession

LINK_AUDIENCE = "selfcare-invoice-link"
LINK_TTL = timedelta(days=180)


SHORT_ID = re.compile(r"^[a-z2-7]{16}$")
_SEED_PREFIX = "seed:"  # ``token`` of a short link: the seed, never the id
_HASH_PREFIX = "sha256:"  # ``token`` of an old long link: its SHA-256, never the JWT


def stored_token_hash(token: str) -> str:
    """What the database keeps of an old long (JWT) link."""
    return _HASH_PREFIX + hashlib.sha256(token.encode()).hexdigest()


class LinkRefused(Exception):
    """The link is malformed or unknown (one answer for all)."""


class LinkGone(LinkRefused):
    """A real link of this invoice that has expired or been revoked: sign in to see it."""

    def __init__(self, invoice_id: str, customer_id: int, reason: str) -> None:
        super().__init__(f"link {reason}")
        self.invoice_id = invoice_id
        self.customer_id = customer_id
        self.reason = reason


def _mac(secret: str, purpose: str, value: str) -> bytes:
    return hmac.new(secret.encode(), f"{purpose}|{value}".encode(), hashlib.sha256).digest()


def short_id(secret: str, seed: str) -> str:
    """The link's 16-character id, derived from its stored seed with the server secret."""
    return base64.b32encode(_mac(secret, "selfcare-invoice-link-id", seed)).decode().lower()[:16]


def link_key(secret: str, link_id: str) -> str:
    """What the database stores to find a link: HMAC-SHA256 of its id with the server secret (hex)."""
    return _mac(secret, "selfcare-invoice-link-key", link_id).hex()


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


def create_link(
    engine: Engine, secret: str, issuer: str, invoice_id: str, *, ttl: timedelta = LINK_TTL, now: datetime | None = None
) -> Link:
    """A new short link to the invoice (by id or number); only its HMAC is stored."""
    now = now or clock.now()
    with engine.begin() as conn:
        inv = get_invoice_row(conn, invoice_id)
        seed = secrets.token_hex(16)
        link_id = short_id(secret, seed)
        expires = now + ttl
        conn.execute(
            insert(InvoiceLink).values(
                jti=link_key(secret, link_id),
                invoice_id=inv.id,
                customer_id=inv.customer_id,
                created_at=now,
                expires_at=expires,
                token=_SEED_PREFIX + seed,
            )
        )
    return Link(link_id, inv.id, expires)


def create_jwt_link(
    engine: Engine, secret: str, issuer: str, invoice_id: str, *, ttl: timedelta = LINK_TTL, now: datetime | None = None
) -> Link:
    """A link of the earlier kind (a signed JWT): what links sent before short ids look like (tests)."""
    now = now or clock.now()
    with engine.begin() as conn:
        inv = get_invoice_row(conn, invoice_id)
        jti = uuid.uuid4().hex
        expires = now + ttl
        token = jwt.encode(
            {
                "iss": issuer,
                "aud": LINK_AUDIENCE,
                "sub": inv.id,
                "cid": inv.customer_id,
                "jti": jti,
                "iat": int(now.timestamp()),
                "exp": int(expires.timestamp()),
            },
            secret,
            algorithm="HS256",
        )
        conn.execute(
            insert(InvoiceLink).values(
                jti=jti,
                invoice_id=inv.id,
                customer_id=inv.customer_id,
                created_at=now,
                expires_at=expires,
                token=stored_token_hash(token),
            )
        )
    return Link(token, inv.id, expires)


def current_link(
    engine: Engine, secret: str, invoice_id: str, *, valid_for: timedelta = timedelta(0), now: datetime | None = None
) -> Link | None:
    """The invoice's newest short link still valid for ``valid_for`` (and made with this secret), or None."""
    now = now or clock.now()
    with engine.connect() as conn:
        inv = get_invoice_row(conn, invoice_id)
        row = conn.execute(
            select(InvoiceLink)
            .where(
                InvoiceLink.invoice_id == inv.id,
                InvoiceLink.revoked_at.is_(None),
                InvoiceLink.token.startswith(_SEED_PREFIX),
                InvoiceLink.expires_at > now + valid_for,
            )
            .order_by(InvoiceLink.created_at.desc())
        ).first()
    if row is not None:
        link_id = short_id(secret, row.token.removeprefix(_SEED_PREFIX))
        if hmac.compare_digest(link_key(secret, link_id), row.jti):  # made with this secret
            return Link(link_id, row.invoice_id, _aware(row.expires_at))
    return None


def invoice_link(engine: Engine, secret: str, issuer: str, invoice_id: str, *, now: datetime | None = None) -> Link:
    """The invoice's current short link (the newest one still valid for a week), else a new one.

    Sending and the PDF use this, so a resend carries the same address as the first message.
    """
    now = now or clock.now()
    link = current_link(engine, secret, invoice_id, valid_for=timedelta(days=7), now=now)
    return link if link is not None else create_link(engine, secret, issuer, invoice_id, now=now)


def open_link(
    engine: Engine,
    secret: str,
    issuer: str,
    token: str,
    *,
    now: datetime | None = None,
    session_id: str | None = None,
    session_expires_at: datetime | None = None,
) -> OpenedLink:
    """Check the link, record the first open and the session about to be opened from it
    (``session_id``: the token id of that session, which revoking the link revokes).

    Raises ``LinkGone`` for a real link that expired or was revoked, ``LinkRefused`` otherwise.
    """
    now = now or clock.now()
    if SHORT_ID.match(token):
        where = InvoiceLink.jti == link_key(secret, token)
        claims = None
    else:
        try:  # a link of the earlier kind: the signature must hold; expiry is checked below
            claims = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                audience=LINK_AUDIENCE,
                issuer=issuer,
                options={"require": ["exp", "iat", "sub", "jti", "cid"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise LinkRefused("link not found") from None
        where = InvoiceLink.jti == claims["jti"]
    if session_id is not None and session_expires_at is None:
        raise Invalid("session_expires_at", "needed with session_id")
    with engine.begin() as conn:
        # Locked until the session is recorded, so a revocation either comes first (410) or sees it.
        row = conn.execute(select(InvoiceLink).where(where).with_for_update()).first()
        if row is None or (
            claims is not None and (row.invoice_id != claims["sub"] or row.customer_id != claims["cid"])
        ):
            raise LinkRefused("link not found")
        if row.revoked_at is not None:
            raise LinkGone(row.invoice_id, row.customer_id, "revoked")
        if _aware(row.expires_at) <= now or (claims is not None and claims["exp"] <= now.timestamp()):
            raise LinkGone(row.invoice_id, row.customer_id, "expired")
        if session_id is not None:
            conn.execute(
                delete(LinkSession).where(
                    LinkSession.link_jti == row.jti, LinkSession.expires_at < clock.wall_now() - timedelta(minutes=1)
                )
            )
            conn.execute(
                insert(LinkSession).values(
                    jti=session_id, link_jti=row.jti, opened_at=now, expires_at=session_expires_at
                )
            )
        first = (
            conn.execute(
                update(InvoiceLink)
                .where(InvoiceLink.jti == row.jti, InvoiceLink.first_opened_at.is_(None))
                .values(first_opened_at=now)
            ).rowcount
            == 1
        )
        if first and not _opened_before(conn, row.invoice_id):
            ledger.add_event(
                conn, row.invoice_id, "opened", "Fakturan öppnades.", actor="customer", at=now, data={"via": "link"}
            )
    return OpenedLink(row.invoice_id, row.customer_id, first)


def revoke_links(
    engine: Engine,
    *,
    token: str | None = None,
    invoice_id: str | None = None,
    now: datetime | None = None,
    secret: str | None = None,
) -> int:
    """Revoke one link (by its id or token; a short id needs ``secret``) or every link of an invoice,
    and end every session opened from them (on the shared revocation list, in the same transaction).

    Returns how many links were revoked.
    """
    now = now or clock.now()
    with engine.begin() as conn:
        q = select(InvoiceLink.jti).where(InvoiceLink.revoked_at.is_(None))
        if token is not None and SHORT_ID.match(token):
            if secret is None:
                raise Invalid("secret", "a short link is found by its HMAC")
            q = q.where(InvoiceLink.jti == link_key(secret, token))
        elif token is not None:
            q = q.where(InvoiceLink.token == stored_token_hash(token))
        elif invoice_id is not None:
            try:
                inv = get_invoice_row(conn, invoice_id)
            except NotFound:
                return 0
            q = q.where(InvoiceLink.invoice_id == inv.id)
        else:
            raise ValueError("give a token or an invoice id")
        jtis = list(conn.execute(q.with_for_update()).scalars())
        if not jtis:
            return 0
        conn.execute(update(InvoiceLink).where(InvoiceLink.jti.in_(jtis)).values(revoked_at=now))
        sessions = conn.execute(
            select(LinkSession.jti, LinkSession.expires_at).where(LinkSession.link_jti.in_(jtis))
        ).all()
        for session in sessions:
            revoke_in(conn, session.jti, _aware(session.expires_at))
        return len(jtis)


def _opened_before(conn, invoice_id: str) -> bool:
    return (
        conn.execute(
            select(m.InvoiceEvent.id)
            .where(m.InvoiceEvent.invoice_id == invoice_id, m.InvoiceEvent.kind == "opened")
            .limit(1)
        ).first()
        is not None
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def invoice_link_path(engine: Engine, settings, invoice_id: str, *, create: bool = True) -> str:
    """``/i/<id>`` of the invoice's current link (``settings``: the core's ``AuthSettings``);
    ``""`` when there is none and ``create`` is false."""
    if create:
        return invoice_link(engine, settings.secret, settings.issuer, invoice_id).path
    link = current_link(engine, settings.secret, invoice_id)
    return link.path if link is not None else ""
