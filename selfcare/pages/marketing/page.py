"""``/marketing``: the marketing console (desktop layout, role ``marketing``).

Left: the offers with status and counts. Right: the open offer in tabs (edit, preview,
schedule, results). The only page besides ``/usage`` that loads plotly.
"""

from __future__ import annotations

import reflex as rx

from selfcare import styles
from selfcare.brand import brand
from selfcare.components.layout import error_callout, lang_switch, tr, when_hydrated
from selfcare.pages.marketing.form_panel import image_upload, offer_form
from selfcare.pages.marketing.list_panel import offers_list
from selfcare.pages.marketing.panels import preview_panel, results_panel, schedule_panel
from selfcare.pages.marketing.state import MarketingSessionState, MarketingState

C = styles.C
G = MarketingSessionState
M = MarketingState


def _header() -> rx.Component:
    b = brand()
    return rx.hstack(
        rx.image(src=b.logo, alt="", width="28px", height="28px"),
        rx.text(b.name, " · ", tr("Marketing"), weight="bold", color=C.primary_text),
        rx.spacer(),
        rx.cond(
            G.signed_in,
            rx.hstack(
                rx.text(G.marketer_name, color=C.primary_text, size="2", id="marketer-name"),
                rx.button(
                    rx.icon("log-out", size=14),
                    tr("Sign out"),
                    on_click=G.sign_out,
                    size="1",
                    variant="outline",
                    id="marketing-sign-out",
                    style={"color": C.primary_text},
                ),
                spacing="4",
                align="center",
            ),
        ),
        lang_switch(M.load),
        background=C.primary,
        padding="0.5rem 1.25rem",
        width="100%",
        align="center",
        spacing="3",
    )


def _sign_in() -> rx.Component:
    return when_hydrated(_sign_in_form(), height="24rem")


def _sign_in_form() -> rx.Component:
    return rx.center(
        rx.form(
            rx.vstack(
                rx.heading(tr("Sign in to the marketing console"), size="5", as_="h1"),
                rx.el.label(tr("Username"), html_for="marketing-username"),
                rx.input(
                    name="username",
                    id="marketing-username",
                    auto_complete="username",
                    max_length=64,
                    width="100%",
                    size="3",
                ),
                rx.el.label(tr("Password"), html_for="marketing-password"),
                rx.input(
                    name="password",
                    id="marketing-password",
                    type="password",
                    auto_complete="current-password",
                    max_length=256,
                    width="100%",
                    size="3",
                ),
                error_callout(G.login_error),
                rx.button(
                    tr("Sign in"), type="submit", id="marketing-sign-in", loading=G.signing_in, size="3", width="100%"
                ),
                spacing="2",
                width="22rem",
                align="stretch",
                style=styles.card,
            ),
            on_submit=G.sign_in,
            reset_on_submit=False,
        ),
        padding="4rem 1rem",
        width="100%",
    )


def _messages() -> rx.Component:
    return rx.vstack(
        error_callout(M.error),
        rx.cond(
            M.problems.length() > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("triangle-alert")),
                rx.vstack(
                    rx.foreach(M.problems, lambda p: rx.text(p, size="2", class_name="form-problem")), spacing="1"
                ),
                color_scheme="red",
                role="alert",
                width="100%",
                id="offer-problems",
            ),
        ),
        rx.cond(
            M.notice != "",
            rx.callout(M.notice, icon="circle-check", color_scheme="green", width="100%", id="marketing-notice"),
        ),
        width="100%",
        spacing="2",
    )


def _detail() -> rx.Component:
    return rx.cond(
        M.editing,
        rx.vstack(
            rx.hstack(
                rx.heading(
                    rx.cond(M.selected_id > 0, M.form["name"], tr("New offer")), size="5", as_="h2", id="offer-heading"
                ),
                rx.cond(
                    M.selected_id > 0,
                    rx.badge(M.selected_status_text, variant="soft", radius="full", id="offer-status"),
                ),
                align="center",
                spacing="3",
            ),
            _messages(),
            rx.tabs.root(
                rx.tabs.list(
                    rx.tabs.trigger(tr("Offer"), value="edit", id="tab-edit"),
                    rx.tabs.trigger(tr("Preview"), value="preview", id="tab-preview", disabled=M.selected_id == 0),
                    rx.tabs.trigger(tr("Schedule"), value="schedule", id="tab-schedule", disabled=M.selected_id == 0),
                    rx.tabs.trigger(tr("Results"), value="results", id="tab-results", disabled=M.selected_id == 0),
                ),
                rx.tabs.content(rx.vstack(image_upload(), offer_form(), spacing="4", padding_top="1rem"), value="edit"),
                rx.tabs.content(rx.box(preview_panel(), padding_top="1rem"), value="preview"),
                rx.tabs.content(rx.box(schedule_panel(), padding_top="1rem"), value="schedule"),
                rx.tabs.content(rx.box(results_panel(), padding_top="1rem"), value="results"),
                value=M.tab,
                on_change=M.set_tab,
                width="100%",
            ),
            width="100%",
            spacing="3",
            align="stretch",
        ),
        rx.vstack(
            _messages(), rx.text(tr("Open an offer from the list, or create a new one."), color=C.muted), width="100%"
        ),
    )


def marketing_page() -> rx.Component:
    return rx.box(
        _header(),
        rx.cond(
            G.signed_in,
            rx.grid(
                rx.box(offers_list(), padding="1.25rem", overflow_y="auto", max_height="calc(100vh - 3.5rem)"),
                rx.box(
                    _detail(),
                    padding="1.25rem",
                    overflow_y="auto",
                    max_height="calc(100vh - 3.5rem)",
                    background=C.surface,
                    border_left="1px solid #e3e8eb",
                ),
                columns="minmax(38rem, 1fr) minmax(40rem, 1.3fr)",
                width="100%",
                id="marketing-console",
            ),
            _sign_in(),
        ),
        min_height="100vh",
        background=C.background,
        min_width="64rem",
    )
