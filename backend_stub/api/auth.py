"""The FastAPI side of authentication: who is asking, and what they may reach.

The tokens themselves (signing, checking, roles, revocation lists) are ``services.access.tokens``;
this module attaches them to the app (:func:`configure_auth`), turns a request's bearer token
into a :class:`Principal` (:func:`current_principal`, 401 when refused), lets only some roles
through (:func:`require_roles`, 403) and checks a principal against a customer or an invoice
(:func:`ensure_customer_access`, :func:`ensure_invoice_access`: 404 for what is not theirs).
A signed-in session's token is live only while its ``web_sessions`` row says so
(``services.access.sessions``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Protocol, runtime_checkable

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backend_stub.services.access import sessions as web_sessions
from backend_stub.services.access.tokens import (
    CUSTOMER_STAFF_ROLES,
    AuthError,
    AuthSettings,
    MemoryRevocationList,
    Principal,
    RevocationList,
    Role,
    decode_token,
    issue_token,
    security_now,
)

__all__ = [
    "configure_auth",
    "current_principal",
    "end_session",
    "ensure_customer_access",
    "ensure_invoice_access",
    "require_roles",
    "start_session",
]

# --- FastAPI glue -----------------------------------------------------------------------

_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="A JWT issued by the Selfcare core (claims: sub, role, cid for subscribers).",
)


@runtime_checkable
class SessionStore(Protocol):
    """Where signed-in sessions are kept (``services.access.sessions.DbSessions``)."""

    def is_live(self, jti: str) -> bool:
        """Whether the session ``jti`` may still be used (and count this use)."""
        ...


def configure_auth(
    app: FastAPI,
    settings: AuthSettings,
    revocations: RevocationList | None = None,
    sessions: SessionStore | None = None,
) -> None:
    """Attach auth settings, a revocation store and a session store to ``app`` (``app.state.auth_settings``,
    ``.auth_revocations``, ``.auth_sessions``).

    Without ``revocations`` an in-process :class:`MemoryRevocationList` is used, which is
    right for the embedded single-process default; pass a shared store for several workers.
    Without ``sessions`` a session token (``ses``) is refused: nothing could say it is live.
    """
    app.state.auth_settings = settings
    app.state.auth_revocations = MemoryRevocationList() if revocations is None else revocations
    app.state.auth_sessions = sessions


def session_policy(request: Request) -> Any:
    """The deployment's ``services.access.sessions.SessionPolicy`` (read from the environment at start-up)."""
    return getattr(request.app.state, "session_policy", None) or web_sessions.SessionPolicy()


def start_session(
    request: Request,
    *,
    subject: str,
    role: Role,
    customer_id: int | None = None,
    invoice_id: str | None = None,
    jti: str | None = None,
    now: datetime | None = None,
) -> tuple[str, datetime]:
    """Record a signed-in session and sign its token: ``(token, expires_at)``.

    Its lifetimes are the deployment's ``SessionPolicy`` (``app.state.session_policy``: idle and
    absolute, from the environment); the token's ``exp`` is the absolute end. Blocking (database):
    call it from a worker thread.
    """
    policy = session_policy(request)
    engine = request.app.state.core.engine
    now = security_now() if now is None else now
    jti = jti or uuid.uuid4().hex
    opened = web_sessions.open_session(
        engine,
        policy,
        jti,
        subject=subject,
        role=Role(role).value,
        customer_id=customer_id,
        invoice_id=invoice_id,
        now=now,
    )
    token = issue_token(
        request.app.state.auth_settings,
        subject=subject,
        role=role,
        customer_id=customer_id,
        invoice_id=invoice_id,
        ttl=policy.absolute,
        now=now,
        token_id=jti,
        session=True,
    )
    return token, opened.expires_at


def end_session(request: Request, principal: Principal) -> None:
    """Sign-out: refuse this token on every worker from now on (blocking: a worker thread)."""
    request.app.state.auth_revocations.revoke(principal.token_id, principal.expires_at)
    if principal.session:
        web_sessions.DbSessions(request.app.state.core.engine).end(principal.token_id)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=message,
        headers={"WWW-Authenticate": "Bearer"},
    )


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """FastAPI dependency: the caller behind the request's bearer token, or 401.

    Sync on purpose: FastAPI runs it in a worker thread, so a revocation store that does
    blocking I/O does not stall the event loop.
    """
    settings: AuthSettings | None = getattr(request.app.state, "auth_settings", None)
    if settings is None:
        raise RuntimeError("authentication is not configured: call configure_auth(app, settings) at start-up")
    if credentials is None:
        raise _unauthorized("missing bearer token")
    revocations: RevocationList | None = getattr(request.app.state, "auth_revocations", None)
    try:
        principal = decode_token(
            settings,
            credentials.credentials,
            revoked=None if revocations is None else revocations.is_revoked,
        )
    except AuthError as exc:
        raise _unauthorized(exc.message) from None
    if principal.session:
        sessions: SessionStore | None = getattr(request.app.state, "auth_sessions", None)
        if sessions is None or not sessions.is_live(principal.token_id):
            raise _unauthorized("session has ended")
    request.state.principal = principal
    return principal


def _join_or(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} or {names[-1]}"


def require_roles(*roles: Role) -> Callable[..., Principal]:
    """Build a dependency that lets only ``roles`` through (403 otherwise) and returns the principal.

    Usage: ``principal: Annotated[Principal, Depends(require_roles(Role.AGENT, Role.SUPERVISOR))]``.
    """
    if not roles:
        raise ValueError("require_roles needs at least one role")
    allowed = list(dict.fromkeys(Role(role) for role in roles))
    message = f"this needs role {_join_or([role.value for role in allowed])}"

    def role_guard(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=message)
        return principal

    role_guard.__name__ = f"require_{'_or_'.join(role.value for role in allowed)}"
    return role_guard


def actor_of(principal: Principal) -> str:
    """Who did it, as the audit log and the timeline write it: ``customer:7`` or ``agent:anna``."""
    if principal.role is Role.SUBSCRIBER:
        return f"customer:{principal.customer_id}"
    return f"{principal.role.value}:{principal.subject}"


def ensure_customer_access(principal: Principal, customer_id: int) -> None:
    """Raise unless ``principal`` may see customer ``customer_id``'s data.

    Agents, supervisors and services see every customer. A subscriber sees only their own
    and gets 404 for any other id, exactly as for an id that does not exist, so ids cannot
    be probed. Marketing works on segments, never on one customer's data: 403.
    """
    if principal.role is Role.SUBSCRIBER:
        # A token from an invoice link reaches that invoice only (ensure_invoice_access), no customer data.
        if principal.customer_id != customer_id or principal.invoice_id is not None:
            raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="customer not found")
        return
    if principal.role in CUSTOMER_STAFF_ROLES:
        return
    raise HTTPException(
        status_code=status.HTTP_403_FORBIDDEN,
        detail=f"role {principal.role} may not access customer data",
    )


def ensure_invoice_access(
    principal: Principal, customer_id: int, invoice_id: str, credits_invoice_id: str | None = None
) -> None:
    """Raise unless ``principal`` may see the invoice ``invoice_id`` of customer ``customer_id``.

    As :func:`ensure_customer_access`, and a link-scoped subscriber token reaches only the
    one invoice it was issued for (404 for every other) and, to read them, its credit notes
    (``credits_invoice_id``: the invoice a credit note credits; given only where a document is read).
    """
    if principal.role is Role.SUBSCRIBER:
        if principal.customer_id != customer_id or (
            principal.invoice_id is not None and principal.invoice_id not in (invoice_id, credits_invoice_id)
        ):
            raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="invoice not found")
        return
    ensure_customer_access(principal, customer_id)
