"""Sending the browser to the payment provider's hosted page: shared by "Pay" and "Pay all"."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx

from selfcare.api_client import ApiError, Unauthorized, core_public_base
from selfcare.i18n import gettext
from selfcare.state.browser import go_to
from selfcare.state.session import LOGIN_ROUTE, SessionState

logger = logging.getLogger(__name__)


def app_origin(state: rx.State) -> str:
    """This app's own address as the browser sees it (the provider's way back)."""
    return str(state.rx_router_page.host or os.environ.get("SELFCARE_APP_URL", "")).rstrip("/")


async def to_checkout(state: rx.State, session: SessionState, start: Callable[[], Awaitable[dict[str, Any]]],
                      what: str) -> Any:
    """Start a checkout with ``start()`` and go to its hosted page (a full page load in the same tab);
    an error is shown on ``state.error`` in the session's language."""
    lang = session._lang()
    try:
        answer = await start()
    except Unauthorized:
        session._drop()
        return rx.redirect(LOGIN_ROUTE)
    except ApiError as exc:
        logger.warning("%s: %s", what, exc)
        state.error = gettext(lang, "The payment could not be started. Please try again.")
        return None
    path = str(answer.get("checkout_path", ""))
    if not path.startswith("/"):
        state.error = gettext(lang, "The payment could not be started. Please try again.")
        return None
    return go_to(core_public_base() + path)  # a full page load, without eval (the CSP forbids it)
