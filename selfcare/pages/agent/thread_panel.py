"""The open thread in the console: messages (text only), reply, assign, resolve, credit, waive a fee."""

from __future__ import annotations

import reflex as rx

from selfcare import styles
from selfcare.components.layout import error_callout, tr
from selfcare.components.thread import message_bubble
from selfcare.pages.agent.state import AgentSessionState, AgentState
from selfcare.support_client import MAX_MESSAGE

C = styles.C
A = AgentState
FIELD = {
    "width": "100%",
    "min_height": "36px",
    "padding": "0 0.5rem",
    "border_radius": "6px",
    "border": "1px solid #cfd8dc",
    "background": C.surface,
}


def _actions() -> rx.Component:
    mine = A.thread_assigned == AgentSessionState.username
    return rx.hstack(
        rx.badge(A.thread_status_text, variant="soft", id="agent-thread-status"),
        rx.cond(
            A.thread_assigned != "",
            rx.text(tr("Assigned to"), " ", A.thread_assigned, size="1", id="agent-thread-assigned"),
        ),
        rx.spacer(),
        rx.cond(
            mine,
            rx.button(tr("Release"), on_click=A.release, size="1", variant="outline", id="agent-release"),
            rx.button(tr("Assign to me"), on_click=A.assign_to_me, size="1", variant="outline", id="agent-assign"),
        ),
        rx.button(
            tr("Mark resolved"),
            on_click=A.resolve,
            size="1",
            variant="outline",
            id="agent-resolve",
            disabled=A.thread_status == "resolved",
        ),
        width="100%",
        align="center",
        wrap="wrap",
    )


def _reply() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text_area(
                name="text",
                id="agent-reply-text",
                max_length=MAX_MESSAGE,
                rows="4",
                width="100%",
                placeholder=tr("Write your answer"),
                aria_label=tr("Your answer"),
            ),
            rx.button(rx.icon("send", size=16), tr("Send reply"), type="submit", id="agent-reply-send"),
            spacing="2",
            width="100%",
            align="end",
        ),
        on_submit=A.reply,
        reset_on_submit=False,
        width="100%",
    )


def _credit() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading(tr("Credit"), size="3", as_="h3"),
            rx.el.select(
                rx.foreach(A.line_options, lambda o: rx.el.option(o["label"], value=o["value"])),
                name="line",
                id="agent-credit-line",
                default_value="0",
                style=FIELD,
                aria_label=tr("What to credit"),
            ),
            rx.input(
                name="amount",
                id="agent-credit-amount",
                placeholder=tr("Amount in kr, e.g. 50"),
                input_mode="decimal",
                width="100%",
            ),
            rx.input(
                name="reason",
                id="agent-credit-reason",
                placeholder=tr("Reason (shown on the credit note)"),
                max_length=500,
                width="100%",
            ),
            rx.button(tr("Preview credit note"), type="submit", id="agent-credit-send", color_scheme="orange"),
            spacing="2",
            width="100%",
            align="stretch",
        ),
        on_submit=A.credit,
        reset_on_submit=False,
        width="100%",
    )


def _waive() -> rx.Component:
    """Only where the invoice has a reminder fee that is not waived yet."""
    return rx.cond(
        A.fee_to_waive != "",
        rx.form(
            rx.hstack(
                rx.input(
                    name="reason",
                    id="agent-waive-reason",
                    placeholder=tr("Reason for waiving the reminder fee"),
                    max_length=500,
                    flex="1",
                ),
                rx.button(
                    tr("Waive reminder fee"),
                    " (",
                    A.fee_to_waive,
                    ")",
                    type="submit",
                    id="agent-waive-send",
                    variant="outline",
                ),
                width="100%",
            ),
            on_submit=A.waive_fee,
            reset_on_submit=False,
            width="100%",
        ),
    )


def _confirmation() -> rx.Component:
    """The credit or waiver as the invoice will show it, waiting for "Confirm" (nothing is issued before)."""
    return rx.cond(
        A.confirm_kind != "",
        rx.vstack(
            rx.heading(
                rx.cond(
                    A.confirm_kind == "credit",
                    tr("Check the credit note before you issue it"),
                    tr("Check the waiver before you confirm it"),
                ),
                size="3",
                as_="h3",
            ),
            rx.foreach(
                A.confirm_lines,
                lambda x: rx.hstack(
                    rx.text(x["description"], size="2", flex="1"),
                    rx.text(x["amount"], size="2", white_space="nowrap", font_variant_numeric="tabular-nums"),
                    width="100%",
                    class_name="agent-confirm-line",
                ),
            ),
            rx.cond(A.confirm_amount != "", rx.text(A.confirm_amount, size="2", id="agent-confirm-amount")),
            rx.text(A.confirm_left, weight="bold", id="agent-confirm-left"),
            rx.hstack(
                rx.button(tr("Cancel"), on_click=A.cancel_confirmation, variant="outline", id="agent-confirm-no"),
                rx.button(
                    rx.cond(A.confirm_kind == "credit", tr("Confirm and issue credit note"), tr("Confirm waiver")),
                    on_click=A.confirm,
                    color_scheme="orange",
                    id="agent-confirm-yes",
                ),
                justify="end",
                width="100%",
                spacing="2",
            ),
            spacing="2",
            width="100%",
            align="stretch",
            padding="0.75rem",
            border="2px solid #f5a524",
            border_radius="8px",
            background="#fff8eb",
            id="agent-confirm",
            role="dialog",
            aria_label=tr("Confirm"),
        ),
    )


def thread_panel() -> rx.Component:
    return rx.cond(
        A.invoice_id == "",
        rx.center(rx.text(tr("Choose a thread in the inbox."), color=C.muted), padding="3rem", width="100%"),
        rx.vstack(
            rx.heading(
                A.view["buyer_name"].to(str),
                " · ",
                tr("Invoice"),
                " ",
                A.view["number"].to(str),
                size="4",
                as_="h2",
                id="agent-thread-title",
            ),
            _actions(),
            error_callout(A.error),
            rx.cond(
                A.notice != "",
                rx.callout(A.notice, icon="circle-check", color_scheme="green", width="100%", id="agent-notice"),
            ),
            rx.vstack(
                rx.foreach(A.messages, lambda m: message_bubble(m)),
                spacing="2",
                width="100%",
                align="stretch",
                id="agent-messages",
                role="log",
                max_height="45vh",
                overflow_y="auto",
            ),
            _reply(),
            rx.separator(),
            _credit(),
            _waive(),
            _confirmation(),
            spacing="3",
            width="100%",
            align="stretch",
            id="agent-thread",
        ),
    )
