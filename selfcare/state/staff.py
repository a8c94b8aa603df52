"""Staff sign-in, shared by the support console (``/agent``) and the marketing console (``/marketing``).

Both sign in with a username and password through the core (``/agent-auth/login``, which
rate-limits and audits every try); each console keeps only the roles it serves and logs any
other session straight out again, so a token never outlives a refused sign-in.

:class:`StaffSessionState` is that session once: the token (backend-only), sign-in, sign-out and
the role check. Each console's session inherits it (a Reflex state mixin: each console has its own
session, the two never share a token) and says which roles it keeps, what it remembers of the
account, and which console state it opens and clears.
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar, Self

import reflex as rx

from selfcare import client_address
from selfcare.api_client import ApiError, RateLimited, Unauthorized
from selfcare.i18n import N_, gettext
from selfcare.state.calls import Visitor, core_call
from selfcare.state.session import SessionState, _epoch
from selfcare.state.typed import event
from selfcare.support_client import Forbidden, support_client

logger = logging.getLogger(__name__)

STAFF_SESSION_FALLBACK_S = 8 * 3600  # when the core's answer has no readable expiry


def check_credentials(form: Any, lang: str) -> tuple[str, str, str]:
    """``(username, password, error)``: the form's fields, or an error naming the missing one."""
    username = form.get("username") if isinstance(form, dict) else None
    password = form.get("password") if isinstance(form, dict) else None
    if not isinstance(username, str) or not username.strip() or len(username) > 64:
        return "", "", gettext(lang, "Username: fill in your username.")
    if not isinstance(password, str) or not password or len(password) > 256:
        return "", "", gettext(lang, "Password: fill in your password.")
    return username.strip(), password, ""


class StaffSessionState(rx.State, mixin=True):
    """Who is signed in to a console. The token never reaches the browser.

    A console's session sets the class constants and fills in :meth:`_took`, :meth:`_forget_account`
    and :meth:`_console`.
    """

    ROLES: ClassVar[tuple[str, ...]] = ()  # the roles this console keeps
    CONSOLE: ClassVar[str] = ""  # its name in the log
    ROUTE: ClassVar[str] = "/"  # where sign-out leads
    REFUSED: ClassVar[str] = ""  # what an account of another console is told (a message id)

    signed_in: rx.Field[bool] = rx.field(False)
    login_error: rx.Field[str] = rx.field("")
    signing_in: rx.Field[bool] = rx.field(False)

    _token: str = ""
    _expires_at: float = 0.0

    # -- what each console fills in -------------------------------------------------------------

    def _took(self, answer: dict[str, Any]) -> None:
        """Remember who signed in (from the core's answer)."""

    def _forget_account(self) -> None:
        """Forget what :meth:`_took` remembered."""

    def _console(self) -> Any:
        """The console's state class: its ``load`` follows a sign-in, its ``_forget()`` a sign-out."""
        raise NotImplementedError

    # -- the session ----------------------------------------------------------------------------

    @classmethod
    async def of(cls, state: rx.State) -> tuple[Self, str, str]:
        """This console's session of ``state``'s tab: ``(session, live token or "", language)``."""
        session = await state.get_state(cls)
        return session, session._live_token(), await session._lang()

    async def _lang(self) -> str:
        return (await self.get_state(SessionState))._lang()

    def _live_token(self) -> str:
        """The token, or ``""`` (never signed in, signed out or expired: then dropped)."""
        if self._token and time.time() < self._expires_at:
            return self._token
        if self._token:
            self._drop()
        return ""

    def _drop(self) -> None:
        self._token = ""
        self._expires_at = 0.0
        self.signed_in = False
        self._forget_account()

    def _lost(self, lang: str) -> None:
        """The core no longer accepts the session: dropped, and the sign-in says why."""
        self._drop()
        self.login_error = gettext(lang, "Your session has ended. Sign in again.")

    async def _refuse_role(self, answer: dict[str, Any], lang: str) -> bool:
        """An account of another console: its session is not kept here (logged out at once)."""
        if answer.get("role") in self.ROLES:
            return False
        try:
            await support_client().logout(str(answer.get("access_token") or ""))
        except ApiError as exc:
            logger.info("logout of a refused %s session: %s", self.CONSOLE, exc)
        self.login_error = gettext(lang, self.REFUSED)
        return True

    # -- event handlers -------------------------------------------------------------------------

    @event
    async def sign_in(self, form: dict[str, Any]):
        """Username and password → a session of this console (the core rate-limits and audits every try)."""
        lang = await self._lang()
        username, password, self.login_error = check_credentials(form, lang)
        if self.login_error:
            return
        self.signing_in = True
        yield
        wrong = N_("Wrong username or password.")
        async with core_call(
            self,
            Visitor(lang),
            f"{self.CONSOLE} sign-in",
            N_("Sign-in is not possible just now. Please try again."),
            error="login_error",
            busy="signing_in",
            refused={
                RateLimited: lambda exc: gettext(
                    lang, "Too many tries. Try again in {minutes} minutes.", minutes=max(1, -(-exc.retry_after // 60))
                ),
                Unauthorized: wrong,
                Forbidden: wrong,
            },
        ) as call:
            answer = await support_client().agent_login(
                username, password, client=client_address.of_state(self) or None
            )
        if call.failed or await self._refuse_role(answer, lang):
            return
        self._token = str(answer["access_token"])
        self._expires_at = _epoch(answer.get("expires_at"), STAFF_SESSION_FALLBACK_S)
        self.signed_in = True
        self._took(answer)
        yield self._console().load

    @event
    async def sign_out(self):
        """End the session at the core; the console forgets what it showed."""
        token = self._token
        self._drop()
        (await self.get_state(self._console()))._forget()
        if token:
            try:
                await support_client().logout(token)
            except ApiError as exc:
                logger.info("%s logout: %s", self.CONSOLE, exc)
        return rx.redirect(self.ROUTE)
