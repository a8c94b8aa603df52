"""The session: who is signed in (a backend-only JWT), and the interface language.

Two kinds of session exist: a full subscriber session after a one-time-code sign-in, and an
invoice-scoped session opened from an invoice's own link (``/i/<token>``), which reaches
that one invoice and nothing else. Tokens live only in backend-only fields (``_token``);
the browser never sees them. Every page state asks :meth:`SessionState.token_for_customer`
or :meth:`SessionState.token_for_invoice` inside every handler, because the browser can
call any handler with any argument.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

import reflex as rx

from selfcare.api_client import ApiError, get_client, valid_invoice_id
from selfcare.i18n import catalogue, normalise_language

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
    signed_in: bool = False
    scoped: bool = False
    customer_name: str = ""
    customer_number: str = ""
    # The sign-in page says why it is shown: an invoice link that expired (the invoice follows sign-in).
    link_expired: bool = False

    # Backend-only: never sent to the browser, never settable from it.
    _token: str = ""
    _expires_at: float = 0.0
    _customer_id: int = 0
    _scope_invoice: str = ""
    _after_login: str = ""  # where sign-in leads: the invoice of an expired link, else the overview

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
        return ""

    def token_for_customer(self) -> tuple[str, int]:
        """``(token, customer_id)`` of a full session, or ``("", 0)`` (scoped links don't count)."""
        token = self._live_token()
        if not token or self._scope_invoice:
            return "", 0
        return token, self._customer_id

    def token_for_invoice(self, invoice_id: str) -> str:
        """The token that may open ``invoice_id``, or ``""``: a full session, or the link's invoice."""
        if not valid_invoice_id(invoice_id):
            return ""
        token = self._live_token()
        if not token:
            return ""
        if self._scope_invoice and invoice_id != self._scope_invoice:
            return ""
        return token

    def owns_customer(self, customer_id: Any) -> bool:
        return type(customer_id) is int and customer_id == self._customer_id and self._customer_id > 0

    # -- event handlers -----------------------------------------------------------------------

    @rx.event
    def set_lang(self, lang: str):
        """Switch the language (remembered in a cookie)."""
        self.lang = normalise_language(lang if isinstance(lang, str) else None)

    @rx.event
    def require_session(self):
        """on_load guard of the signed-in pages: no live full session → the sign-in page."""
        token, _cid = self.token_for_customer()
        if not token:
            return rx.redirect(LOGIN_ROUTE)
        return None

    @rx.event
    async def sign_out(self):
        token = self._token
        self._drop()
        if token:
            try:
                await get_client().logout(token)
            except ApiError as exc:  # the session is gone on our side either way
                logger.info("logout: %s", exc)
        return rx.redirect(LOGIN_ROUTE)
