"""Client-side helpers for the uncontrolled text fields of the forms."""

from __future__ import annotations

import json

import reflex as rx


def clear_if_sent(element_id: str, sent: str) -> rx.event.EventSpec:
    """Empty the field ``element_id`` once its text has been sent, unless it now holds something else.

    Sending takes a moment; a user who started on the next message meanwhile keeps what they typed
    (``rx.set_value`` would wipe it).
    """
    return rx.call_script(
        f"(() => {{ const f = document.getElementById({json.dumps(element_id)}); "
        f"if (f && f.value.trim() === {json.dumps(sent.strip())}) {{ f.value = ''; }} }})()")
