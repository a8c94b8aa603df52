"""The open thread in the console: messages (text only), reply, assign, resolve, credit, waive a fee."""

from __future__ import annotations

import reflex as rx

from selfcare import styles
from selfcare.components.layout import error_callout, tr
from selfcare.components.thread import message_bubble
from selfcare.state.agent import AgentSessionState, AgentState
from selfcare.support_client import MAX_MESSAGE

C = styles.C
A = AgentState
FIELD = {"width": "100%", "min_height": "36px", "padding": "0 0.5rem", "border_radius": "6px",
         "border": "1px solid #cfd8dc", "background": C.surface}


def _actions() -> rx.Component:
    mine = A.thread_assigned == AgentSessionState.username
    return rx.hstack(
        rx.badge(A.thread_status_text, variant="soft", id="agent-thread-status"),
        rx.cond(A.thread_assigned != "", rx.text(tr("Assigned to"), " ", A.thread_assigned, size="1",
                                                 id="agent-thread-assigned")),
        rx.spacer(),
        rx.cond(mine,
                rx.button(tr("Release"), on_click=A.release, size="1", variant="outline", id="agent-release"),
                rx.button(tr("Assign to me"), on_click=A.assign_to_me, size="1", variant="outline",
                          id="agent-assign")),
        rx.button(tr("Mark resolved"), on_click=A.resolve, size="1", variant="outline", id="agent-resolve",
                  disabled=A.thread_status == "resolved"),
        width="100%", align="center", wrap="wrap",
    )


def _reply() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text_area(name="text", id="agent-reply-text", max_length=MAX_MESSAGE, rows="4", width="100%",
                         placeholder=tr("Write your answer"), aria_label=tr("Your answer")),
            rx.button(rx.icon("send", size=16), tr("Send reply"), type="submit", id="agent-reply-send"),
            spacing="2", width="100%", align="end",
        ),
        on_submit=A.reply, reset_on_submit=False, width="100%",
    )


def _credit() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading(tr("Credit"), size="3", as_="h3"),
            rx.el.select(rx.foreach(A.line_options, lambda o: rx.el.option(o["label"], value=o["value"])),
                         name="line", id="agent-credit-line", default_value="0", style=FIELD,
                         aria_label=tr("What to credit")),
            rx.input(name="amount", id="agent-credit-amount", placeholder=tr("Amount in kr, e.g. 50"),
                     input_mode="decimal", width="100%"),
            rx.input(name="reason", id="agent-credit-reason", placeholder=tr("Reason (shown on the credit note)"),
                     max_length=500, width="100%"),
            rx.button(tr("Issue credit note"), type="submit", id="agent-credit-send", color_scheme="orange"),
            spacing="2", width="100%", align="stretch",
        ),
        on_submit=A.credit, reset_on_submit=False, width="100%",
    )


def _waive() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="reason", id="agent-waive-reason", placeholder=tr("Reason for waiving the reminder fee"),
                     max_length=500, flex="1"),
            rx.button(tr("Waive reminder fee"), type="submit", id="agent-waive-send", variant="outline"),
            width="100%",
        ),
        on_submit=A.waive_fee, reset_on_submit=False, width="100%",
    )


def thread_panel() -> rx.Component:
    return rx.cond(
        A.invoice_id == "",
        rx.center(rx.text(tr("Choose a thread in the inbox."), color=C.muted), padding="3rem", width="100%"),
        rx.vstack(
            rx.heading(A.view["buyer_name"].to(str), " · ", tr("Invoice"), " ", A.view["number"].to(str), size="4",
                       as_="h2", id="agent-thread-title"),
            _actions(),
            error_callout(A.error),
            rx.cond(A.notice != "", rx.callout(A.notice, icon="circle-check", color_scheme="green", width="100%",
                                               id="agent-notice")),
            rx.vstack(rx.foreach(A.messages, lambda m: message_bubble(m)), spacing="2", width="100%",
                      align="stretch", id="agent-messages", role="log", max_height="45vh", overflow_y="auto"),
            _reply(),
            rx.separator(),
            _credit(),
            _waive(),
            spacing="3", width="100%", align="stretch", id="agent-thread",
        ),
    )
