"""The invoice page's thread with customer service: the messages, a line picker and the write box."""

from __future__ import annotations

import reflex as rx

from selfcare import styles
from selfcare.components.layout import card, error_callout, section_title, tr
from selfcare.components.thread import message_bubble
from selfcare.pages.invoice.state import InvoiceState
from selfcare.pages.invoice.thread import WHOLE_INVOICE, ThreadState
from selfcare.support_client import MAX_MESSAGE

C = styles.C
T = ThreadState


def _write_box() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label(tr("About"), html_for="thread-line", style=styles.muted),
            rx.el.select(
                rx.foreach(T.line_options, lambda o: rx.el.option(o["label"], value=o["value"])),
                name="line",
                id="thread-line",
                default_value=WHOLE_INVOICE,
                style={
                    "width": "100%",
                    "min_height": "44px",
                    "padding": "0 0.5rem",
                    "border_radius": "8px",
                    "border": "1px solid #cfd8dc",
                    "background": C.surface,
                    "font_size": "1rem",
                },
            ),
            rx.text_area(
                name="text",
                id="thread-text",
                max_length=MAX_MESSAGE,
                rows="3",
                width="100%",
                placeholder=tr("Write your question to customer service"),
                size="3",
                aria_label=tr("Your message"),
            ),
            rx.button(
                rx.icon("send", size=18),
                tr("Send"),
                type="submit",
                id="thread-send",
                loading=T.sending,
                size="3",
                style=styles.primary_button,
            ),
            spacing="2",
            width="100%",
            align="stretch",
        ),
        on_submit=T.send,
        reset_on_submit=False,
        width="100%",
    )


def thread_card() -> rx.Component:
    """The invoice's thread with customer service; opens itself for the invoice on the page."""
    return rx.box(
        card(
            section_title("Questions about the invoice"),
            rx.text(tr("Ask customer service here. You can pick the line your question is about."), style=styles.muted),
            rx.cond(
                T.not_found,
                rx.callout(tr("Invoice not found"), icon="circle-alert", color_scheme="gray", id="thread-not-found"),
                rx.vstack(
                    rx.cond(
                        T.messages.length() == 0, rx.text(tr("No messages yet."), style=styles.muted, id="thread-empty")
                    ),
                    rx.vstack(
                        rx.foreach(T.messages, message_bubble),
                        spacing="2",
                        width="100%",
                        align="stretch",
                        id="thread-messages",
                        role="log",
                        aria_live="polite",
                    ),
                    error_callout(T.error),
                    rx.cond(
                        T.notice != "",
                        rx.callout(
                            T.notice, icon="circle-check", color_scheme="green", id="thread-notice", width="100%"
                        ),
                    ),
                    _write_box(),
                    spacing="3",
                    width="100%",
                    align="stretch",
                ),
            ),
        ),
        id="thread",
        width="100%",
        on_mount=T.open(InvoiceState.current_id),
        on_unmount=T.stop,
    )
