"""Client-side helpers for the uncontrolled text fields of the forms."""

from __future__ import annotations

from typing import TYPE_CHECKING

from selfcare.state import browser

if TYPE_CHECKING:
    from selfcare.state.typed import BoundEvent


def clear_if_sent(element_id: str, sent: str) -> BoundEvent:
    """Empty the field ``element_id`` once its text has been sent, unless it now holds something else.

    Sending takes a moment; a user who started on the next message meanwhile keeps what they typed
    (``rx.set_value`` would wipe it). Carried out by the page's compiled code, not by a script sent
    to ``eval`` (``selfcare.state.browser``).
    """
    return browser.clear_if_sent(element_id, sent)
