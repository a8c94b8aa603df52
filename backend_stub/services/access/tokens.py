"""Who a request speaks for: signed bearer tokens (JWT) and the role model of the core.

Every request into the core carries ``Authorization: Bearer <jwt>``. The token is signed
with a shared HMAC secret (HS256 by default) and names who is asking (``sub``), in which
role (``role``) and, for a subscriber, the one customer they may see (``cid``).

Pure token functions, no framework: :class:`AuthSettings` (how tokens are signed, from the
environment), :func:`issue_token`, :func:`decode_token` (raise :class:`AuthError`), and the
:class:`RevocationList` protocol with an in-process :class:`MemoryRevocationList` (the shared,
database-backed one is ``services.access.revocations``). The FastAPI glue is ``api.auth``;
sending (an invoice's link) and the CLI (``token``) sign with the same settings.
"""

from __future__ import annotations

import heapq
import logging
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import jwt
from jwt import exceptions as jwt_errors

from backend_stub import clock
from backend_stub.settings import Settings, settings_for
from selfcare_common import deployment

logger = logging.getLogger(__name__)

MIN_SECRET_BYTES = deployment.MIN_SECRET_BYTES
"""HMAC secrets shorter than the hash output are brute-forceable offline (RFC 7518 §3.2)."""

HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
"""The secret is shared, so only HMAC algorithms make sense; ``none`` is never allowed."""

DEFAULT_ISSUER = "selfcare-core"
DEFAULT_AUDIENCE = "selfcare-api"

REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub", "jti", "role")


class Role(StrEnum):
    """Who is asking: decides which routes and which customers' data they reach."""

    SUBSCRIBER = "subscriber"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    MARKETING = "marketing"
    SERVICE = "service"


# Roles that may read any customer's data (support staff and back-office services).
CUSTOMER_STAFF_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.SERVICE})


class AuthError(Exception):
    """A token was refused. ``message`` is safe to show to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as established by a verified token."""

    subject: str
    role: Role
    customer_id: int | None
    token_id: str
    expires_at: datetime
    # Set for tokens got from an invoice's own link: they reach that one invoice only.
    invoice_id: str | None = None
    # A signed-in session's token (``ses`` claim): live only while its ``web_sessions`` row says so
    # (idle and absolute limits, sign-out; ``services.access.sessions``).
    session: bool = False

    def __post_init__(self) -> None:
        if self.role is Role.SUBSCRIBER and self.customer_id is None:
            raise ValueError("a subscriber principal needs a customer_id")
        if self.role is not Role.SUBSCRIBER and self.customer_id is not None:
            raise ValueError(f"a {self.role} principal must not carry a customer_id")


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """How tokens are signed and checked. The secret is kept out of ``repr``."""

    secret: str = field(repr=False)
    issuer: str = DEFAULT_ISSUER
    audience: str = DEFAULT_AUDIENCE
    algorithm: str = "HS256"
    default_ttl: timedelta = timedelta(hours=1)
    leeway_s: int = 10

    def __post_init__(self) -> None:
        if len(self.secret.encode("utf-8")) < MIN_SECRET_BYTES:
            raise ValueError(
                f"the JWT secret is too short: it needs at least {MIN_SECRET_BYTES} bytes "
                "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if self.algorithm not in HMAC_ALGORITHMS:
            raise ValueError(f"JWT algorithm {self.algorithm!r} is not allowed; use one of {sorted(HMAC_ALGORITHMS)}")
        if not self.issuer:
            raise ValueError("the JWT issuer must not be empty")
        if not self.audience:
            raise ValueError("the JWT audience must not be empty")
        if self.default_ttl <= timedelta(0):
            raise ValueError("default_ttl must be positive")
        if self.leeway_s < 0:
            raise ValueError("leeway_s must not be negative")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuthSettings:
        """Build settings from ``SELFCARE_JWT_SECRET``, ``SELFCARE_JWT_ISSUER``, ``SELFCARE_JWT_AUDIENCE``.

        Without a secret, development (``SELFCARE_ENV=dev`` or ``test``, ``selfcare_common.deployment``)
        gets a random one generated once per process (tokens then die with the process, and several
        workers would not accept each other's tokens); anywhere else, production by default, a
        missing secret is a ``deployment.ConfigurationError`` (a ``ValueError``) naming the variable.
        A secret shorter than 32 bytes is refused with ``ValueError``.
        """
        return cls.from_settings(settings_for(environ))

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthSettings:
        """The signing settings of ``settings`` (see :meth:`from_env`)."""
        secret = settings.require_secret() or _process_dev_secret()
        return cls(secret=secret, issuer=settings.jwt_issuer, audience=settings.jwt_audience)


_dev_secret: str | None = None
_dev_secret_lock = threading.Lock()


def _process_dev_secret() -> str:
    """Return this process's random development secret, generating it on first use."""
    global _dev_secret
    with _dev_secret_lock:
        if _dev_secret is None:
            _dev_secret = secrets.token_urlsafe(48)
            logger.warning(
                "SELFCARE_JWT_SECRET is not set: using a random secret for this process only "
                "(development mode; tokens will not survive a restart or work across workers)"
            )
        return _dev_secret


def security_now() -> datetime:
    """Real time for token lifetimes: PyJWT checks ``exp`` against the wall clock, so issuing
    on a fixed business clock (``SELFCARE_CLOCK`` in a demo) would mint tokens born expired."""
    return clock.wall_now()


_utcnow = security_now


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (e.g. datetime.now(UTC))")


def issue_token(
    settings: AuthSettings,
    *,
    subject: str,
    role: Role,
    customer_id: int | None = None,
    ttl: timedelta | None = None,
    now: datetime | None = None,
    invoice_id: str | None = None,
    token_id: str | None = None,
    session: bool = False,
) -> str:
    """Sign a token for ``subject`` in ``role``, valid from ``now`` for ``ttl`` (default: settings).

    ``token_id`` (the ``jti``; default: a fresh random one) lets the caller record the token
    before handing it out, e.g. a session opened from an invoice link, so revoking the link ends it.
    ``session``: the token is a signed-in session recorded under ``token_id`` in ``web_sessions``
    (``services.access.sessions``); every request with it asks that record whether it is still live.

    A subscriber's token carries ``cid``, the one customer they may see; it is required for
    subscribers and refused for every other role. Raises ``ValueError`` on bad arguments.
    """
    role = Role(role)
    if not subject:
        raise ValueError("subject must not be empty")
    if role is Role.SUBSCRIBER:
        if customer_id is None:
            raise ValueError("a subscriber token needs a customer_id")
        if type(customer_id) is not int:
            raise ValueError(f"customer_id must be an int, not {type(customer_id).__name__}")
    elif customer_id is not None:
        raise ValueError(f"customer_id is only for subscriber tokens, not for role {role}")
    lifetime = settings.default_ttl if ttl is None else ttl
    if lifetime <= timedelta(0):
        raise ValueError("ttl must be positive")
    issued_at = _utcnow() if now is None else now
    _require_aware(issued_at, "now")

    claims: dict[str, Any] = {
        "sub": subject,
        "role": role.value,
        "iat": int(issued_at.timestamp()),
        "nbf": int(issued_at.timestamp()),
        "exp": int((issued_at + lifetime).timestamp()),
        "iss": settings.issuer,
        "aud": settings.audience,
        "jti": token_id or uuid.uuid4().hex,
    }
    if customer_id is not None:
        claims["cid"] = customer_id
    if invoice_id is not None:
        if role is not Role.SUBSCRIBER or not invoice_id:
            raise ValueError("only subscriber tokens can be limited to one invoice")
        claims["inv"] = invoice_id
    if session:
        if not token_id:
            raise ValueError("a session token needs the token_id it was recorded under")
        claims["ses"] = 1
    return jwt.encode(claims, settings.secret, algorithm=settings.algorithm)


def decode_token(
    settings: AuthSettings,
    token: str,
    *,
    revoked: Callable[[str], bool] | None = None,
) -> Principal:
    """Verify ``token`` and return who it speaks for; raise :class:`AuthError` if it is refused.

    The algorithm is pinned by ``settings`` (the token's own header is never trusted), and
    signature, expiry, not-before, issuer and audience are all checked. ``revoked`` is
    asked about the token id once the token is otherwise valid.
    """
    if not isinstance(token, str) or not token:
        raise AuthError("token is malformed")
    try:
        claims = jwt.decode(
            token,
            settings.secret,
            algorithms=[settings.algorithm],
            audience=settings.audience,
            issuer=settings.issuer,
            leeway=settings.leeway_s,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt_errors.PyJWTError as exc:
        raise AuthError(_describe(exc)) from None

    principal = _principal_from_claims(claims)
    if revoked is not None and revoked(principal.token_id):
        raise AuthError("token was revoked")
    return principal


def _describe(exc: jwt_errors.PyJWTError) -> str:
    """Turn a PyJWT failure into a message that is clear and safe to send back."""
    # Order matters: several of these are subclasses of DecodeError / InvalidTokenError.
    if isinstance(exc, jwt_errors.ExpiredSignatureError):
        return "token expired"
    if isinstance(exc, jwt_errors.ImmatureSignatureError):
        return "token is not valid yet"
    if isinstance(exc, jwt_errors.InvalidSignatureError):
        return "token signature is invalid"
    if isinstance(exc, jwt_errors.InvalidAlgorithmError):
        return "token algorithm is not allowed"
    if isinstance(exc, jwt_errors.InvalidAudienceError):
        return "token audience is wrong"
    if isinstance(exc, jwt_errors.InvalidIssuerError):
        return "token issuer is wrong"
    if isinstance(exc, jwt_errors.MissingRequiredClaimError):
        return f"token is missing the {exc.claim!r} claim"
    if isinstance(exc, jwt_errors.InvalidSubjectError):
        return "token subject is invalid"
    if isinstance(exc, jwt_errors.InvalidJTIError):
        return "token id (jti) is invalid"
    if isinstance(exc, jwt_errors.InvalidIssuedAtError):
        return "token issued-at time (iat) is invalid"
    if isinstance(exc, jwt_errors.DecodeError):
        return "token is malformed"
    return "token is invalid"


def _principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Check the claims PyJWT does not know about and build the principal."""
    try:
        role = Role(claims["role"])
    except (ValueError, TypeError):
        raise AuthError("token role is unknown") from None
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise AuthError("token subject is invalid")
    token_id = claims["jti"]
    if not isinstance(token_id, str) or not token_id:
        raise AuthError("token id (jti) is invalid")

    customer_id = claims.get("cid")
    if role is Role.SUBSCRIBER:
        # bool is an int subclass; a `true` cid must not become customer 1.
        if type(customer_id) is not int:
            raise AuthError("subscriber token has no valid customer id (cid)")
    elif customer_id is not None:
        raise AuthError(f"token for role {role} must not carry a customer id (cid)")

    try:
        expires_at = datetime.fromtimestamp(claims["exp"], tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise AuthError("token is malformed") from None
    invoice_id = claims.get("inv")
    if invoice_id is not None and (role is not Role.SUBSCRIBER or not isinstance(invoice_id, str) or not invoice_id):
        raise AuthError("token invoice scope (inv) is invalid")
    session = claims.get("ses", 0)
    if session not in (0, 1) or isinstance(session, bool):
        raise AuthError("token session flag (ses) is invalid")
    return Principal(
        subject=subject,
        role=role,
        customer_id=customer_id,
        token_id=token_id,
        expires_at=expires_at,
        invoice_id=invoice_id,
        session=session == 1,
    )


@runtime_checkable
class RevocationList(Protocol):
    """Where revoked token ids (jti) are kept until the token would have expired anyway."""

    def revoke(self, jti: str, expires_at: datetime) -> None:
        """Refuse the token ``jti`` from now on; it may be forgotten after ``expires_at``."""
        ...

    def is_revoked(self, jti: str) -> bool:
        """Whether the token ``jti`` has been revoked."""
        ...


class MemoryRevocationList:
    """A thread-safe, in-process :class:`RevocationList`.

    Entries are dropped ``grace`` after their expiry; the grace must exceed the decode
    leeway, or a revoked token would come back to life for the leeway's few seconds. Good
    for one process and for tests; several workers need a shared store.
    """

    def __init__(self, *, grace: timedelta = timedelta(minutes=1), clock: Callable[[], datetime] = _utcnow) -> None:
        if grace < timedelta(0):
            raise ValueError("grace must not be negative")
        self._grace = grace
        self._clock = clock
        self._lock = threading.Lock()
        self._expiry: dict[str, datetime] = {}
        self._queue: list[tuple[datetime, str]] = []  # min-heap by expiry, for cheap purging

    def revoke(self, jti: str, expires_at: datetime) -> None:
        """Refuse the token ``jti`` until ``expires_at`` (plus the grace) has passed."""
        _require_aware(expires_at, "expires_at")
        if not jti:
            raise ValueError("jti must not be empty")
        with self._lock:
            known = self._expiry.get(jti)
            if known is None or expires_at > known:
                self._expiry[jti] = expires_at
                heapq.heappush(self._queue, (expires_at, jti))
            self._purge()

    def is_revoked(self, jti: str) -> bool:
        """Whether ``jti`` was revoked and its entry has not expired yet."""
        with self._lock:
            self._purge()
            return jti in self._expiry

    def __len__(self) -> int:
        with self._lock:
            self._purge()
            return len(self._expiry)

    def _purge(self) -> None:
        """Drop entries past expiry + grace. Caller holds the lock."""
        cutoff = self._clock() - self._grace
        while self._queue and self._queue[0][0] < cutoff:
            expires_at, jti = heapq.heappop(self._queue)
            # A later revoke may have extended this jti; only the newest heap entry counts.
            if self._expiry.get(jti) == expires_at:
                del self._expiry[jti]
