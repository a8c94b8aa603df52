"""``/login``: sign-in with customer number or phone number and a one-time code."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import reflex as rx

from selfcare import client_address
from selfcare.api_client import RateLimited, Unauthorized, get_client
from selfcare.i18n import N_, gettext
from selfcare.state.calls import Visitor, core_call
from selfcare.state.session import SessionState
from selfcare.state.typed import event

MAX_IDENTIFIER = 40
_CODE = re.compile(r"^\d{6}$")
_IDENTIFIER = re.compile(r"^[0-9A-Za-z +\-()]+$")


def clean_identifier(value: Any) -> str:
    """A customer number (``K100001``) or phone number as typed; ``""`` if it cannot be one."""
    if not isinstance(value, str):
        return ""
    value = value.strip()[:MAX_IDENTIFIER]
    return value if _IDENTIFIER.match(value) else ""


def clean_code(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    value = re.sub(r"\s", "", value)
    return value if _CODE.match(value) else ""


def _wait(lang: str) -> Callable[[RateLimited], str]:
    """The sentence for the core's back-off (429), in minutes."""
    return lambda exc: gettext(
        lang, "Too many attempts. Try again in {minutes} min.", minutes=max(1, (exc.retry_after + 59) // 60)
    )


class LoginState(rx.State):
    """The two steps of signing in: ask for a code, then give it."""

    step: rx.Field[str] = rx.field("identify")  # identify | code
    identifier: rx.Field[str] = rx.field("")
    error: rx.Field[str] = rx.field("")
    busy: rx.Field[bool] = rx.field(False)

    @event
    def start_over(self):
        self.step = "identify"
        self.error = ""

    @event
    async def request_code(self, form_data: dict[str, Any]):
        """Ask the core to send a code. The answer is the same whether the account exists or not."""
        session = await self.get_state(SessionState)
        lang = session._lang()
        identifier = clean_identifier((form_data or {}).get("identifier"))
        if not identifier:
            self.error = gettext(lang, "Enter your customer number or mobile number.")
            return
        self.busy = True
        self.error = ""
        yield
        async with core_call(
            self,
            Visitor(lang),
            "otp request failed",
            N_("We could not send a code just now. Please try again."),
            busy="busy",
            refused={RateLimited: _wait(lang)},
        ) as call:
            await get_client().otp_request(identifier, client_address.of_state(self))
        if call.failed:
            return
        self.identifier = identifier
        self.step = "code"

    @event
    async def verify_code(self, form_data: dict[str, Any]):
        session = await self.get_state(SessionState)
        lang = session._lang()
        code = clean_code((form_data or {}).get("code"))
        if not self.identifier or self.step != "code":
            self.step = "identify"
            return
        if not code:
            self.error = gettext(lang, "The code is 6 digits.")
            return
        self.busy = True
        self.error = ""
        yield
        # A back-off is not a dead code: the code stays valid, so the subscriber waits and tries it again.
        async with core_call(
            self,
            Visitor(lang),
            "otp verify failed",
            N_("We could not sign you in just now. Please try again."),
            busy="busy",
            refused={RateLimited: _wait(lang), Unauthorized: N_("Wrong or expired code.")},
        ) as call:
            answer = await get_client().otp_verify(self.identifier, code, client_address.of_state(self))
        if call.failed:
            return
        session._start(answer)
        self.step = "identify"
        self.identifier = ""
        # The invoice of an expired link, if that is how the subscriber came here (its page checks ownership),
        # by way of the cookie route, so that new tabs and reloads find the session (session_cookie).
        yield session._handoff_to("start", session._take_after_login())
