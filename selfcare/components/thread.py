"""One message of a thread (text only): on the invoice page (``pages/invoice/thread_card.py``) and in the console."""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles

C = styles.C


def message_bubble(m: ObjectVar[dict[str, str]], mine_side: str = "end") -> rx.Component:
    """One message. The text is a plain text node: never HTML, never markdown."""
    mine = m["mine"] == "1"
    return rx.box(
        rx.vstack(
            rx.hstack(
                rx.text(m["who"], weight="bold", size="2", class_name="thread-who"),
                rx.text(m["at"], size="1", color=C.muted),
                spacing="2",
                align="baseline",
                wrap="wrap",
            ),
            rx.cond(m["line"] != "", rx.text(m["line"], size="1", color=C.muted, class_name="thread-line")),
            rx.text(m["text"], size="2", white_space="pre-wrap", class_name="thread-text"),
            rx.cond(
                m["read"] != "", rx.text(m["read"], size="1", color=C.muted, class_name="thread-read", align="right")
            ),
            spacing="1",
            align="stretch",
        ),
        background=rx.cond(mine, "#e6f6fa", "#f3f5f7"),
        border_radius="10px",
        padding="0.6rem 0.75rem",
        max_width="88%",
        align_self=rx.cond(mine, f"flex-{mine_side}", "flex-start"),
        class_name=rx.cond(mine, "thread-message thread-mine", "thread-message thread-theirs"),
        data_author=m["author"],
        data_id=m["id"],
    )
