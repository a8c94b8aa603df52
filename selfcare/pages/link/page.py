"""``/i/[link_token]``: a spinner while the link opens its invoice, or why it does not work."""

from __future__ import annotations

import reflex as rx

from selfcare import styles
from selfcare.components.layout import card, page, tr
from selfcare.pages.link.state import LinkState


def link_page() -> rx.Component:
    return page(
        rx.cond(
            LinkState.failed,
            card(
                rx.heading(tr("The link does not work"), size="5", as_="h1"),
                rx.text(tr("It may have expired or been replaced. Sign in to see all your invoices.")),
                rx.link(tr("Sign in"), href="/login", style=styles.tap_link),
                id="link-failed",
            ),
            rx.center(rx.spinner(size="3"), padding="3rem", width="100%"),
        ),
    )
