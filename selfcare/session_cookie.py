"""The session cookie: a signed-in session that new tabs and reloads find again.

The session's token lives in the backend (``SessionState._token``), keyed by the tab's Reflex client
token, which a new tab does not have. So the browser also keeps the token in a cookie that page
scripts cannot read (``HttpOnly``, ``SameSite=Lax``, ``Secure`` on https) and that only a plain HTTP
response can set. The websocket's handshake carries it to the backend (Reflex keeps the handshake's
headers, never sending cookies to the page), where ``SessionState`` adopts it in a tab that has no
session yet.

Setting and clearing it is a hand-off from the tab's state to :data:`START_PATH` / :data:`END_PATH`,
two routes of the app's backend outside Reflex's own (``/_event``, ``/ping``, ``/_upload``…):

1. an event handler (sign-in, an invoice link opened, sign-out) records a one-time nonce in its
   ``SessionState`` and sends the browser (a full page load) to the route with a *grant*: the tab's
   client token, the nonce, the purpose and the page's origin, signed with the JWT secret, valid for
   :data:`GRANT_TTL_S` seconds;
2. the route checks the signature before touching any state, takes the nonce out of that tab's state
   (single use: ``app.modify_state``, shared by every worker through Reflex's state manager, Redis on
   the scale path) with the session's token, sets or clears the cookie and sends the browser on to
   the page the handler chose (on the page's own origin, never one named in the URL).

An invoice link (``/i/<token>``) opens in one step where the backend serves the pages (production,
one port): :func:`open_link_route` opens it at the core, sets the cookie to the link's session and
redirects to ``/invoices/<id>``, so the invoice page is the only page loaded. Anything else (a link
that expired or was revoked, a browser with another customer's full session in its cookie, which a
link never replaces) falls through to the Reflex page ``/i/[link_token]`` and its state
(``LinkState``). A browser with the same customer's full session goes straight to the invoice, the
cookie unchanged.

Sign-out revokes both the tab's token and the cookie's at the core (``/auth/logout``), so the session
ends on every worker and in every tab; the idle (30 min) and absolute (12 h) limits are the core's
(``backend_stub.services.access.sessions``), so a cookie never outlives its session.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import quote, urlsplit

import jwt
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from selfcare.settings import get_settings

logger = logging.getLogger(__name__)

COOKIE = "selfcare_session"
START_PATH = "/session/start"
LINK_PREFIX = "/i/"
END_PATH = "/session/end"
GRANT_TTL_S = 60
GRANT_AUDIENCE = "selfcare-session-handoff"
PURPOSES = ("start", "end")
MAX_COOKIE_TOKEN = 4000
SAME_DOMAIN_HOSTNAMES = ("localhost", "0.0.0.0", "::", "0:0:0:0:0:0:0:0")
"""Reflex's frontend reaches a backend on one of these through the page's own host name
(``getBackendURL`` in Reflex's ``state.js``); :func:`backend_base` does the same."""

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def digest(token: str) -> str:
    """What the state remembers of a token it must not adopt again (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest() if token else ""


def read_cookie(header: str) -> str:
    """The session cookie's value in a ``Cookie`` header, or ``""``."""
    if not header or COOKIE not in header:
        return ""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return ""
    morsel = jar.get(COOKIE)
    value = morsel.value if morsel is not None else ""
    return value if 0 < len(value) <= MAX_COOKIE_TOKEN else ""


def backend_base(api_url: str, page_origin: str) -> str:
    """Where the browser reaches the app's backend, as Reflex's frontend computes it: ``api_url``, with
    the page's host name when it names the local machine (and https without a port on an https page)."""
    api = urlsplit(api_url)
    page = urlsplit(page_origin)
    scheme, host, port = api.scheme or "http", api.hostname or "", api.port
    if host in SAME_DOMAIN_HOSTNAMES and page.hostname:
        host = page.hostname
        if page.scheme == "https":
            scheme, port = "https", None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}{f':{port}' if port else ''}"


def _secret() -> str:
    from selfcare.api_client import _jwt_secret

    return _jwt_secret()


def make_grant(client_token: str, nonce: str, purpose: str, origin: str, now: float | None = None) -> str:
    """The signed, short-lived grant of a hand-off (see the module's docstring)."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose: one of {PURPOSES}")
    issued = int(time.time() if now is None else now)
    return jwt.encode(
        {
            "aud": GRANT_AUDIENCE,
            "c": client_token,
            "n": nonce,
            "p": purpose,
            "o": origin,
            "iat": issued,
            "exp": issued + GRANT_TTL_S,
        },
        _secret(),
        algorithm="HS256",
    )


def read_grant(grant: str) -> dict[str, str] | None:
    """A grant's claims if it is ours, unexpired and well formed; else ``None``."""
    if not isinstance(grant, str) or not 20 < len(grant) < 2000:
        return None
    try:
        claims = jwt.decode(
            grant, _secret(), algorithms=["HS256"], audience=GRANT_AUDIENCE, options={"require": ["exp", "iat", "aud"]}
        )
    except jwt.PyJWTError:
        return None
    fields: dict[str, str] = {}
    for key in ("c", "n", "p", "o"):
        value = claims.get(key)
        if not (isinstance(value, str) and 0 < len(value) <= 200):
            return None
        fields[key] = value
    return fields if fields["p"] in PURPOSES else None


def verify_session_token(token: str) -> dict[str, Any] | None:
    """The claims of a subscriber session token from the cookie, checked here (signature, issuer,
    audience, expiry) before the tab adopts it; the core checks it again, with its idle limit and
    sign-out, on every call. ``None`` for anything else."""
    if not token:
        return None
    try:
        claims = jwt.decode(
            token,
            _secret(),
            algorithms=["HS256"],
            audience=get_settings().jwt_audience,
            issuer=get_settings().jwt_issuer,
            options={"require": ["exp", "sub", "jti", "role", "cid"]},
        )
    except jwt.PyJWTError:
        return None
    if claims.get("role") != "subscriber" or claims.get("ses") != 1 or type(claims.get("cid")) is not int:
        return None
    invoice = claims.get("inv")
    if invoice is not None and not isinstance(invoice, str):
        return None
    return claims


def _secure(request: Request) -> bool:
    public = get_settings().public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


def _set_cookie(response: Response, token: str, expires_at: float, secure: bool) -> None:
    max_age = max(0, int(expires_at - time.time()))
    response.set_cookie(COOKIE, token, max_age=max_age, path="/", httponly=True, samesite="lax", secure=secure)


def _clear_cookie(response: Response, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=secure)


async def _redeem(client_token: str, nonce: str, purpose: str) -> dict[str, Any] | None:
    """Take the hand-off out of the tab's state (once): ``{"token", "expires_at", "next"}``."""
    import reflex as rx

    from selfcare.selfcare import app as rx_app
    from selfcare.state.session import SessionState

    async with rx_app.modify_state(rx.BaseStateToken(ident=client_token, cls=SessionState)) as state:
        session = state if isinstance(state, SessionState) else await state.get_state(SessionState)
        return session._redeem_handoff(nonce, purpose)


async def handle(request: Request) -> Response:
    """``GET /session/start`` and ``GET /session/end`` (see the module's docstring)."""
    grant = read_grant(request.query_params.get("g", ""))
    if grant is None:
        return PlainTextResponse("This sign-in step has expired. Go back and sign in again.", status_code=400)
    purpose = "start" if request.url.path == START_PATH else "end"
    if grant["p"] != purpose:
        return PlainTextResponse("This sign-in step is not valid here.", status_code=400)
    secure = _secure(request)
    origin = grant["o"].rstrip("/")
    try:
        handed = await _redeem(grant["c"], grant["n"], purpose)
    except Exception:  # noqa: BLE001 - a state store that fails must not show a stack trace; say it once
        logger.exception("session hand-off")
        handed = None
    if purpose == "start":
        if not handed:
            return RedirectResponse(origin + "/login", status_code=303)
        response = RedirectResponse(origin + handed["next"], status_code=303)
        _set_cookie(response, handed["token"], handed["expires_at"], secure)
        return response
    # Sign-out: the cookie's session ends at the core too (it may be another tab's newer one).
    cookie_token = read_cookie(request.headers.get("cookie", ""))
    if handed is not None and cookie_token:
        from selfcare.api_client import ApiError, get_client

        try:
            await get_client().logout(cookie_token)
        except ApiError as exc:  # refused: it had ended already
            logger.info("logout of the cookie's session: %s", exc)
    response = RedirectResponse(origin + (handed["next"] if handed else "/login"), status_code=303)
    if handed is not None:
        _clear_cookie(response, secure)
    return response


def full_session_in(cookie_header: str) -> dict[str, Any] | None:
    """The claims of a full (not link-limited) subscriber session in a ``Cookie`` header, or ``None``."""
    claims = verify_session_token(read_cookie(cookie_header))
    return claims if claims is not None and not claims.get("inv") else None


def _link_token(path: str) -> str:
    token = path[len(LINK_PREFIX) :].rstrip("/")
    return token if 10 <= len(token) <= 2000 and all(c.isalnum() or c in "-_.~" for c in token) else ""


async def open_link_route(request: Request) -> Response | None:
    """``GET /i/<token>``: the link's session into the cookie and on to its invoice, or ``None`` to let
    the Reflex page handle it (see the module's docstring)."""
    from selfcare.api_client import ApiError, get_client, valid_invoice_id

    token = _link_token(request.url.path)
    if not token:
        return None
    full = full_session_in(request.headers.get("cookie", ""))
    try:
        answer = await get_client().open_link(token)
    except ApiError:
        return None  # gone or unknown: the page says so (and remembers the invoice for after sign-in)
    invoice_id = str(answer.get("invoice_id", ""))
    claims = verify_session_token(str(answer.get("access_token", "")))
    if not valid_invoice_id(invoice_id) or claims is None:
        return None
    response = RedirectResponse(f"/invoices/{invoice_id}", status_code=303)
    if full is None:
        _set_cookie(response, answer["access_token"], float(claims["exp"]), _secure(request))
        return response
    # Signed in already: the customer's own invoice opens in their full session (the cookie is kept);
    # another customer's link goes to the page, which never replaces a full session with a link's.
    return response if full["cid"] == claims["cid"] else None


def api_transformer(inner: ASGIApp) -> ASGIApp:
    """``rx.App(api_transformer=...)``: answer the two session routes and open invoice links; pass
    everything else on. Their answers are never stored by a browser or a proxy (``no-store``)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path") or "")
        if scope.get("type") == "http" and scope.get("method") == "GET" and path.startswith(LINK_PREFIX):
            link_response = await open_link_route(Request(scope, receive))
            if link_response is not None:
                link_response.headers["cache-control"] = "no-store"
                await link_response(scope, receive, send)
                return
        if scope.get("type") == "http" and scope.get("path") in (START_PATH, END_PATH):
            if scope.get("method") not in ("GET", "HEAD"):
                response: Response = PlainTextResponse("method not allowed", status_code=405, headers={"Allow": "GET"})
            else:
                response = await handle(Request(scope, receive))
            response.headers["cache-control"] = "no-store"
            await response(scope, receive, send)
            return
        await inner(scope, receive, send)

    return app


def handoff_url(api_url: str, page_origin: str, client_token: str, purpose: str) -> tuple[str, str]:
    """``(url, nonce)`` of a new hand-off: where to send the browser, and what the state keeps."""
    nonce = secrets.token_urlsafe(24)
    path = START_PATH if purpose == "start" else END_PATH
    grant = make_grant(client_token, nonce, purpose, page_origin)
    return f"{backend_base(api_url, page_origin)}{path}?g={quote(grant)}", nonce
