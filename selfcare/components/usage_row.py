"""One usage record in a list: the invoice page's itemised usage and line drill-down, and ``/usage``."""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles

C = styles.C


def usage_row(r: ObjectVar[dict[str, str]]) -> rx.Component:
    """One usage record (``presenters.usage_row``): what, when and to which number; amount and cost."""
    return rx.hstack(
        rx.vstack(
            rx.text(r["description"], size="2", weight="medium"),
            rx.text(r["at"], " ", r["number"], size="1", color=C.muted),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.vstack(
            rx.text(r["amount"], size="2"), rx.text(r["cost"], size="1", color=C.muted), align="end", spacing="0"
        ),
        width="100%",
        padding="0.35rem 0",
        border_bottom="1px solid #eef1f3",
        class_name="usage-row",
    )
