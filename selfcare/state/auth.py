"""Sign-in with customer number or phone number and a one-time code."""

from __future__ import annotations

import logging
import re
from typing import Any

import reflex as rx

from selfcare import client_address
from selfcare.api_client import ApiError, RateLimited, Unauthorized, get_client
from selfcare.i18n import gettext
from selfcare.state.session import SessionState
from selfcare_common import deployment

logger = logging.getLogger(__name__)

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


class LoginState(rx.State):
    """The two steps of signing in: ask for a code, then give it."""

    step: str = "identify"  # identify | code
    identifier: str = ""
    error: str = ""
    busy: bool = False

    @rx.event
    def start_over(self):
        self.step = "identify"
        self.error = ""

    @rx.event
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
        try:
            await get_client().otp_request(identifier, client_address.of_state(self))
        except RateLimited as exc:
            self.error = gettext(lang, "Too many attempts. Try again in {minutes} min.",
                                 minutes=max(1, (exc.retry_after + 59) // 60))
            return
        except ApiError as exc:
            logger.warning("otp request failed: %s", exc)
            self.error = gettext(lang, "We could not send a code just now. Please try again.")
            return
        finally:
            self.busy = False
        self.identifier = identifier
        self.step = "code"

    @rx.event
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
        try:
            answer = await get_client().otp_verify(self.identifier, code, client_address.of_state(self))
        except RateLimited as exc:
            # A back-off, not a dead code: the code stays valid, so the subscriber waits and tries it again.
            self.error = gettext(lang, "Too many attempts. Try again in {minutes} min.",
                                 minutes=max(1, (exc.retry_after + 59) // 60))
            return
        except Unauthorized:
            self.error = gettext(lang, "Wrong or expired code.")
            return
        except ApiError as exc:
            logger.warning("otp verify failed: %s", exc)
            self.error = gettext(lang, "We could not sign you in just now. Please try again.")
            return
        finally:
            self.busy = False
        session._start(answer)
        self.step = "identify"
        self.identifier = ""
        # The invoice of an expired link, if that is how the subscriber came here (its page checks ownership),
        # by way of the cookie route, so that new tabs and reloads find the session (session_cookie).
        yield session._handoff_to("start", session._take_after_login())


def dev_outbox_enabled() -> bool:
    """The demo's outbox page and state exist only with ``SELFCARE_ENV=dev`` (or ``test``); production
    is the default (``backend_stub.deployment``)."""
    return deployment.is_dev()


class OutboxState(rx.State):
    """``/dev/outbox``: the messages the demo would have sent (sign-in codes, invoice links)."""

    messages: list[dict[str, str]] = []
    available: bool = True

    @rx.event
    async def load(self):
        self.available = dev_outbox_enabled()
        if not self.available:
            self.messages = []
            return
        try:
            rows = await get_client().dev_outbox(limit=20)
        except ApiError as exc:
            logger.info("outbox: %s", exc)
            rows = []
        self.messages = [{"id": str(r.get("id", "")), "channel": str(r.get("channel", "")), "to": str(r.get("to", "")),
                          "subject": str(r.get("subject", "") or ""), "text": str(r.get("text", "")),
                          "at": str(r.get("created_at", ""))[:19].replace("T", " ")} for r in rows]
