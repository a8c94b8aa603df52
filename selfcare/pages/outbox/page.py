"""``/dev/outbox``: the demo's sent messages (sign-in codes); not in production."""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.components.layout import card, page, tr
from selfcare.pages.outbox.state import OutboxState


def _message(msg: ObjectVar[dict[str, str]]) -> rx.Component:
    return card(
        rx.hstack(
            rx.badge(msg["channel"]),
            rx.text(msg["to"], weight="bold", size="2"),
            rx.spacer(),
            rx.text(msg["at"], style=styles.muted),
            wrap="wrap",
            align="center",
        ),
        rx.cond(msg["subject"] != "", rx.text(msg["subject"], weight="medium")),
        rx.text(msg["text"], white_space="pre-wrap", class_name="outbox-text"),
    )


def outbox_page() -> rx.Component:
    return page(
        rx.heading(tr("Sent messages (demo)"), size="6", as_="h1"),
        rx.cond(
            OutboxState.available,
            rx.vstack(
                rx.text(tr("Messages the demo would have sent by e-mail or SMS, newest first."), style=styles.muted),
                rx.button(tr("Refresh"), on_click=OutboxState.load, variant="soft", style={"cursor": "pointer"}),
                rx.link(tr("Back to sign-in"), href="/login"),
                rx.foreach(OutboxState.messages, _message),
                spacing="3",
                align="stretch",
                id="outbox",
            ),
            rx.text(tr("Not available.")),
        ),
    )
