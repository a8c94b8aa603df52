"""Sending the browser to the payment provider's hosted page: shared by "Pay" and "Pay all"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx

from selfcare.api_client import core_public_base
from selfcare.i18n import N_, gettext
from selfcare.settings import get_settings
from selfcare.state.browser import go_to
from selfcare.state.calls import Subscriber, core_call
from selfcare.state.session import SessionState

CANNOT_START = N_("The payment could not be started. Please try again.")


def app_origin(state: rx.State) -> str:
    """This app's own address as the browser sees it (the provider's way back)."""
    return str(state.rx_router_page.host or get_settings().app_url or "").rstrip("/")


async def to_checkout(
    state: rx.State, session: SessionState, start: Callable[[], Awaitable[dict[str, Any]]], what: str
) -> Any:
    """Start a checkout with ``start()`` and go to its hosted page (a full page load in the same tab);
    an error is shown on ``state.error`` in the session's language."""
    lang = session._lang()
    async with core_call(state, Subscriber(session), what, CANNOT_START) as call:
        answer = await start()
    if call.failed:
        return call.event
    path = str(answer.get("checkout_path", ""))
    if not path.startswith("/"):
        state.error = gettext(lang, CANNOT_START)
        return None
    return go_to(core_public_base() + path)  # a full page load, without eval (the CSP forbids it)
