"""``/login``: customer number or phone, then the one-time code."""

from __future__ import annotations

import reflex as rx

from selfcare import styles
from selfcare.components.layout import card, error_callout, page, tr
from selfcare.pages.login.state import LoginState
from selfcare.pages.outbox.state import dev_outbox_enabled
from selfcare.state.session import SessionState

C = styles.C


def _identify_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.label(
                tr("Customer number or mobile number"), html_for="login-identifier", style={"font_weight": "600"}
            ),
            rx.input(
                id="login-identifier",
                name="identifier",
                placeholder="K100001 / 070-123 45 67",
                auto_complete="username",
                input_mode="text",
                size="3",
                width="100%",
                required=True,
                max_length=40,
            ),
            rx.text(tr("We send a one-time code by e-mail or SMS, as you have chosen."), style=styles.muted),
            rx.button(
                tr("Send code"),
                id="login-send",
                type="submit",
                loading=LoginState.busy,
                size="3",
                style=styles.primary_button,
            ),
            spacing="3",
            align="stretch",
        ),
        on_submit=LoginState.request_code,
        reset_on_submit=False,
    )


def _code_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text(tr("If the account exists, a code is on its way to you."), id="login-sent"),
            rx.el.label(tr("One-time code"), html_for="login-code", style={"font_weight": "600"}),
            rx.input(
                id="login-code",
                name="code",
                placeholder="123456",
                auto_complete="one-time-code",
                input_mode="numeric",
                pattern="[0-9 ]*",
                max_length=7,
                size="3",
                width="100%",
                required=True,
                auto_focus=True,
            ),
            rx.button(
                tr("Sign in"),
                id="login-submit",
                type="submit",
                loading=LoginState.busy,
                size="3",
                style=styles.primary_button,
            ),
            rx.button(
                tr("Use another number or ask for a new code"),
                type="button",
                variant="ghost",
                on_click=LoginState.start_over,
                style=styles.tap_button,
            ),
            spacing="3",
            align="stretch",
        ),
        on_submit=LoginState.verify_code,
        reset_on_submit=False,
    )


def login_page() -> rx.Component:
    dev_hint = rx.fragment()
    if dev_outbox_enabled():
        dev_hint = rx.link(
            tr("Demo: see the sent codes"), href="/dev/outbox", id="dev-outbox-link", size="2", style=styles.tap_link
        )
    return page(
        rx.heading(tr("Sign in to My pages"), size="6", as_="h1"),
        card(
            rx.cond(
                SessionState.link_expired,
                rx.callout(
                    tr("The invoice link has expired. Sign in and the invoice opens."),
                    icon="clock",
                    color_scheme="amber",
                    id="login-link-expired",
                ),
            ),
            error_callout(LoginState.error),
            rx.cond(LoginState.step == "code", _code_form(), _identify_form()),
        ),
        dev_hint,
    )
