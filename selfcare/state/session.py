"""The session: who is signed in (a backend-only JWT), and the interface language.

Two kinds of session exist: a full subscriber session after a one-time-code sign-in, and an
invoice-scoped session opened from an invoice's own link (``/i/<token>``), which reaches
that one invoice (and its credit notes) and nothing else. Tokens live only in backend-only
fields (``_token``); page scripts never see them. Every page state asks
:meth:`SessionState._token_for_customer` or :meth:`SessionState._token_for_invoice` inside every
handler, because the browser can call any handler with any argument.

New tabs and reloads: the session's token is also in an ``HttpOnly`` cookie
(``selfcare.session_cookie``), set and cleared by a hand-off to a plain HTTP route after sign-in,
an opened link and sign-out. A tab without a session adopts the cookie's token from its
websocket's handshake. The core ends sessions (idle 30 min, at most 12 h, sign-out on every
worker); a token the core refused or that was signed out is never adopted again by that tab.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime
from typing import Any

import reflex as rx

from selfcare import session_cookie
from selfcare.api_client import ApiError, get_client, valid_invoice_id
from selfcare.i18n import catalogue, normalise_language
from selfcare.state.typed import event

logger = logging.getLogger(__name__)

LOGIN_ROUTE = "/login"
ONE_YEAR_S = 365 * 24 * 3600


def _epoch(expires_at: Any, fallback_s: int = 3600) -> float:
    """``expires_at`` from the core (ISO 8601 or epoch seconds) as epoch seconds."""
    if isinstance(expires_at, int | float) and not isinstance(expires_at, bool):
        return float(expires_at)
    if isinstance(expires_at, str):
        try:
            return datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return time.time() + fallback_s


class SessionState(rx.State):
    """Session and language; shared by every page."""

    # Remembered in the browser; validated wherever it is used (the cookie is the browser's).
    lang: str = rx.Cookie("sv", name="selfcare_lang", max_age=ONE_YEAR_S, same_site="lax")

    # What the page may show about the session.
    signed_in: rx.Field[bool] = rx.field(False)
    scoped: rx.Field[bool] = rx.field(False)
    customer_name: rx.Field[str] = rx.field("")
    customer_number: rx.Field[str] = rx.field("")
    # The sign-in page says why it is shown: an invoice link that expired (the invoice follows sign-in).
    link_expired: rx.Field[bool] = rx.field(False)

    # Backend-only: never sent to the browser, never settable from it.
    _token: str = ""
    _expires_at: float = 0.0
    _customer_id: int = 0
    _scope_invoice: str = ""
    _after_login: str = ""  # where sign-in leads: the invoice of an expired link, else the overview
    _scope_related: list[str] = []  # a link session's credit notes of its invoice (read-only pages)
    _refused: str = ""  # digest of the last token dropped here: the cookie's copy is not adopted again
    # The one pending hand-off to the cookie route (session_cookie): nonce, purpose, deadline, then where.
    _handoff: str = ""
    _handoff_purpose: str = ""
    _handoff_until: float = 0.0
    _handoff_next: str = ""

    @rx.var
    def locale(self) -> str:
        return normalise_language(self.lang)

    @rx.var
    def t(self) -> dict[str, str]:
        """The UI texts in the chosen language (from the babel catalogue)."""
        return catalogue(normalise_language(self.lang))

    # -- helpers for other states (not event handlers: leading underscore) ---------------------

    def _lang(self) -> str:
        return normalise_language(self.lang)

    def _start(self, answer: dict[str, Any], *, scope_invoice: str = "") -> None:
        self._token = str(answer["access_token"])
        self._expires_at = _epoch(answer.get("expires_at"))
        self._customer_id = int(answer["customer_id"])
        self._scope_invoice = scope_invoice
        self._scope_related = []
        self.scoped = bool(scope_invoice)
        self.signed_in = not scope_invoice
        self.customer_name = str(answer.get("name") or "")
        self.customer_number = str(answer.get("customer_number") or "")
        if answer.get("language") in ("sv", "en") and not scope_invoice:
            self.lang = answer["language"]

    def _remember_invoice(self, invoice_id: str) -> None:
        """After the next sign-in, show this invoice (from an expired or revoked link)."""
        if valid_invoice_id(invoice_id):
            self._after_login = f"/invoices/{invoice_id}"
            self.link_expired = True

    def _take_after_login(self) -> str:
        """Where to go once signed in (once): the remembered invoice, or the overview."""
        target, self._after_login, self.link_expired = self._after_login or "/", "", False
        return target

    def _drop(self) -> None:
        if self._token:
            self._refused = session_cookie.digest(self._token)
        self._scope_related = []
        self._after_login = ""
        self.link_expired = False
        self._token = ""
        self._expires_at = 0.0
        self._customer_id = 0
        self._scope_invoice = ""
        self.signed_in = False
        self.scoped = False
        self.customer_name = ""
        self.customer_number = ""

    def _live_token(self) -> str:
        if self._token and time.time() < self._expires_at:
            return self._token
        if self._token:
            self._drop()  # expired: forget it
        return self._adopt_cookie()

    def _adopt_cookie(self) -> str:
        """A new tab or a reload: the session in the cookie of the websocket's handshake, if it is a
        live subscriber session this tab has not dropped. The core checks it again on every call."""
        headers = getattr(self, "rx_router_headers", None)
        token = session_cookie.read_cookie(str(getattr(headers, "cookie", "") or ""))
        if not token or session_cookie.digest(token) == self._refused:
            return ""
        claims = session_cookie.verify_session_token(token)
        if claims is None:
            self._refused = session_cookie.digest(token)
            return ""
        scope = str(claims.get("inv") or "")
        self._start(
            {
                "access_token": token,
                "expires_at": claims["exp"],
                "customer_id": claims["cid"],
                "customer_number": "" if scope else claims["sub"],
            },
            scope_invoice=scope,
        )
        return token

    # -- the hand-off to the cookie route ------------------------------------------------------

    def _handoff_to(self, purpose: str, next_path: str) -> Any:
        """Send the browser through the cookie route (``start``: set it to this session; ``end``:
        clear it), then on to ``next_path`` on this page's origin. Return it from the handler."""
        from rxconfig import allowed_origins
        from selfcare.state.browser import go_to

        origins = allowed_origins()
        headers = getattr(self, "rx_router_headers", None)
        origin = str(getattr(headers, "origin", "") or "").rstrip("/")
        origin = origin if origin in origins else origins[0]
        client_token = str(getattr(getattr(self, "rx_router_session", None), "client_token", "") or "")
        if not client_token:  # no tab to hand off from (not a browser's event): no cookie, straight on
            return rx.redirect(next_path if next_path.startswith("/") and not next_path.startswith("//") else "/")
        url, nonce = session_cookie.handoff_url(rx.config.get_config().api_url, origin, client_token, purpose)
        self._handoff, self._handoff_purpose = nonce, purpose
        self._handoff_until = time.time() + session_cookie.GRANT_TTL_S
        self._handoff_next = next_path if next_path.startswith("/") and not next_path.startswith("//") else "/"
        return go_to(url)

    def _redeem_handoff(self, nonce: str, purpose: str) -> dict[str, Any] | None:
        """The cookie route takes the pending hand-off (once): the token to set and where to go next."""
        pending, self._handoff = self._handoff, ""
        if not (
            pending
            and secrets.compare_digest(pending, nonce)
            and purpose == self._handoff_purpose
            and time.time() < self._handoff_until
        ):
            return None
        if purpose == "start":
            token = self._live_token()
            if not token:
                return None
            return {"token": token, "expires_at": self._expires_at, "next": self._handoff_next}
        return {"token": "", "expires_at": 0.0, "next": self._handoff_next}

    def _token_for_customer(self) -> tuple[str, int]:
        """``(token, customer_id)`` of a full session, or ``("", 0)`` (scoped links don't count)."""
        token = self._live_token()
        if not token or self._scope_invoice:
            return "", 0
        return token, self._customer_id

    def _token_for_invoice(self, invoice_id: str) -> str:
        """The token that may open ``invoice_id``, or ``""``: a full session, or the link's invoice."""
        if not valid_invoice_id(invoice_id):
            return ""
        token = self._live_token()
        if not token:
            return ""
        if self._scope_invoice and invoice_id != self._scope_invoice and invoice_id not in self._scope_related:
            return ""
        return token

    def _allow_related(self, invoice_ids: list[str]) -> None:
        """A link session's invoice page names its credit notes: they may be opened too (read-only; the
        core allows a link's token to read its invoice's credit notes and nothing else)."""
        if self._scope_invoice:
            self._scope_related = [i for i in invoice_ids if valid_invoice_id(i)][:50]

    def _owns_customer(self, customer_id: Any) -> bool:
        return type(customer_id) is int and customer_id == self._customer_id and self._customer_id > 0

    # -- event handlers -----------------------------------------------------------------------

    @event
    def set_lang(self, lang: str):
        """Switch the language (remembered in a cookie)."""
        self.lang = normalise_language(lang if isinstance(lang, str) else None)

    @event
    def require_session(self):
        """on_load guard of the signed-in pages: no live full session → the sign-in page."""
        token, _cid = self._token_for_customer()
        if not token:
            return rx.redirect(LOGIN_ROUTE)
        return None

    @event
    def at_sign_in(self):
        """on_load of the sign-in page: a tab that finds a live session (the cookie) goes on to the overview."""
        token, _cid = self._token_for_customer()
        if token:
            return rx.redirect(self._take_after_login())
        return None

    @event
    async def sign_out(self):
        """End the session at the core (every worker, every tab), then clear the cookie on the way out."""
        token = self._token
        self._drop()
        if token:
            try:
                await get_client().logout(token)
            except ApiError as exc:  # the session is gone on our side either way
                logger.info("logout: %s", exc)
        return self._handoff_to("end", LOGIN_ROUTE)
