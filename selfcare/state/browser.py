"""What the backend asks the browser to do outside Reflex's routes, without sending it code to run.

Reflex's ``rx.call_script`` sends JavaScript that the page runs with ``eval``; the pages' CSP forbids
``eval`` (``script-src`` without ``'unsafe-eval'``, docs/security.md "Headers"). The few things the
app needs are fixed operations compiled into the page instead: a handler returns
``go_to(url)`` (a full page load, e.g. the payment provider's hosted page, which is not a route
of this app) or ``clear_if_sent(field, text)``; that sets :class:`BrowserState`'s ``order``, and
:func:`browser_orders` (on every page, an app wrap) carries it out once. An order carries a
ticket; the tab remembers the tickets it has carried out (``sessionStorage``), so a reload or the
way back from the provider does not repeat it.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import reflex as rx

if TYPE_CHECKING:
    from selfcare.state.typed import BoundEvent
from reflex.utils.imports import ImportVar
from reflex.vars.base import VarData

from selfcare.state.typed import DictField, dict_field, event

DONE_KEY = "selfcare-browser-order"
"""``sessionStorage`` key: the ticket of the last order this tab carried out."""


def _safe_target(url: object) -> str:
    """A path on this site (``/core/paygw/…``) or an http(s) URL; anything else is refused ("")."""
    if not isinstance(url, str) or not url or len(url) > 2000 or any(c in url for c in "\r\n\t\\ "):
        return ""
    if url.startswith("/"):
        return "" if url.startswith("//") else url
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


class BrowserState(rx.State):
    """The one order for the browser (see the module's docstring)."""

    order: DictField[dict[str, str]] = dict_field()

    @event
    def go(self, url: str):
        """A full page load of ``url`` (same tab)."""
        target = _safe_target(url)
        if target:
            self.order = {"ticket": secrets.token_hex(8), "go": target}

    @event
    def clear_field(self, field_id: str, sent: str):
        """Empty the text field ``field_id`` if it still holds ``sent`` (what was just sent)."""
        if isinstance(field_id, str) and isinstance(sent, str) and field_id.replace("-", "").isalnum():
            self.order = {"ticket": secrets.token_hex(8), "clear": field_id, "sent": sent.strip()}


def go_to(url: str) -> BoundEvent:
    """Return this from a handler: the browser loads ``url`` as a new page in the same tab."""
    return BrowserState.go(url)


def clear_if_sent(element_id: str, sent: str) -> BoundEvent:
    """Return/yield this from a handler: empty ``element_id`` once its text has been sent, unless it now
    holds something else (a user who started on the next message keeps it; ``rx.set_value`` would wipe it)."""
    return BrowserState.clear_field(element_id, sent)


def _order_hook() -> rx.Var:
    order = str(BrowserState.order)  # the JS expression (an f-string of the Var would embed Reflex's marker)
    effect = (
        "useEffect(() => {"
        f" const order = {order};"
        " if (!order || !order.ticket) return;"
        f" const done = window.sessionStorage.getItem({DONE_KEY!r});"
        " if (done === order.ticket) return;"
        f" window.sessionStorage.setItem({DONE_KEY!r}, order.ticket);"
        " if (order.go) { window.location.assign(order.go); return; }"
        " if (order.clear) {"
        " const field = document.getElementById(order.clear);"
        " if (field && field.value.trim() === order.sent) { field.value = ''; }"
        " }"
        f" }}, [{order}]);"
    )
    return rx.Var(
        "null",
        _var_data=VarData.merge(
            BrowserState.order._get_all_var_data(),
            VarData(imports={"react": [ImportVar(tag="useEffect")]}, hooks={effect: None}),
        ),
    )


@rx.memo
def browser_orders() -> rx.Component:
    """Renders nothing; carries out :class:`BrowserState`'s orders (its hooks run inside the state providers)."""
    return rx.fragment(_order_hook())
