"""``/agent`` (the agents' console, desktop layout) and ``/agent/audit`` (supervisors)."""

from __future__ import annotations

import reflex as rx

from selfcare import styles
from selfcare.brand import brand
from selfcare.components.layout import error_callout, lang_switch, tr, when_hydrated
from selfcare.pages.agent.audit import AUDIT_ACTIONS, AuditState
from selfcare.pages.agent.inbox_panel import inbox_panel
from selfcare.pages.agent.invoice_panel import invoice_panel
from selfcare.pages.agent.state import AgentSessionState, AgentState
from selfcare.pages.agent.thread_panel import thread_panel

C = styles.C
G = AgentSessionState


def _header(reload=None) -> rx.Component:
    b = brand()
    return rx.hstack(
        rx.image(src=b.logo, alt="", width="28px", height="28px"),
        rx.text(b.name, " · ", tr("Customer service"), weight="bold", color=C.primary_text),
        rx.spacer(),
        rx.cond(
            G.signed_in,
            rx.hstack(
                rx.link(tr("Inbox"), href="/agent", color=C.primary_text, size="2"),
                rx.cond(
                    G.is_supervisor,
                    rx.link(
                        tr("Audit log"), href="/agent/audit", color=C.primary_text, size="2", id="agent-audit-link"
                    ),
                ),
                rx.text(G.agent_name, color=C.primary_text, size="2", id="agent-name"),
                rx.button(
                    rx.icon("log-out", size=14),
                    tr("Sign out"),
                    on_click=G.sign_out,
                    size="1",
                    variant="outline",
                    id="agent-sign-out",
                    style={"color": C.primary_text},
                ),
                spacing="4",
                align="center",
            ),
        ),
        lang_switch(reload),
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
                rx.heading(tr("Sign in to customer service"), size="5", as_="h1"),
                rx.el.label(tr("Username"), html_for="agent-username"),
                rx.input(
                    name="username",
                    id="agent-username",
                    auto_complete="username",
                    max_length=64,
                    width="100%",
                    size="3",
                ),
                rx.el.label(tr("Password"), html_for="agent-password"),
                rx.input(
                    name="password",
                    id="agent-password",
                    type="password",
                    auto_complete="current-password",
                    max_length=256,
                    width="100%",
                    size="3",
                ),
                error_callout(G.login_error),
                rx.button(
                    tr("Sign in"), type="submit", id="agent-sign-in", loading=G.signing_in, size="3", width="100%"
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


def agent_page() -> rx.Component:
    return rx.box(
        _header(AgentState.load),
        rx.cond(
            G.signed_in,
            rx.grid(
                rx.box(inbox_panel(), overflow_y="auto", max_height="calc(100vh - 4rem)", padding="1rem"),
                rx.box(
                    thread_panel(),
                    overflow_y="auto",
                    max_height="calc(100vh - 4rem)",
                    padding="1rem",
                    border_left="1px solid #e3e8eb",
                    border_right="1px solid #e3e8eb",
                    background=C.surface,
                ),
                rx.box(invoice_panel(), overflow_y="auto", max_height="calc(100vh - 4rem)", padding="1rem"),
                columns="minmax(16rem, 22rem) minmax(24rem, 1fr) minmax(20rem, 28rem)",
                width="100%",
                id="agent-console",
            ),
            _sign_in(),
        ),
        min_height="100vh",
        background=C.background,
        min_width="64rem",
        on_unmount=AgentState.stop,
    )


def audit_page() -> rx.Component:
    a = AuditState
    return rx.box(
        _header(a.load),
        rx.box(
            rx.cond(
                a.allowed,
                rx.vstack(
                    rx.hstack(
                        rx.heading(tr("Audit log"), size="5", as_="h1"),
                        rx.spacer(),
                        rx.el.select(
                            *[rx.el.option(x or "–", value=x) for x in AUDIT_ACTIONS],
                            value=a.action,
                            on_change=a.set_action,
                            id="audit-action",
                            aria_label=tr("Action"),
                        ),
                        rx.text(a.total, size="2", color=C.muted),
                        width="100%",
                        align="center",
                    ),
                    error_callout(a.error),
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell(tr("Time")),
                                rx.table.column_header_cell(tr("Who")),
                                rx.table.column_header_cell(tr("Action")),
                                rx.table.column_header_cell(tr("Target")),
                                rx.table.column_header_cell(tr("Details")),
                            )
                        ),
                        rx.table.body(
                            rx.foreach(
                                a.rows,
                                lambda r: rx.table.row(
                                    rx.table.cell(r["at"]),
                                    rx.table.cell(r["actor"]),
                                    rx.table.cell(r["action"]),
                                    rx.table.cell(r["target"]),
                                    rx.table.cell(r["detail"], max_width="28rem"),
                                    class_name="audit-row",
                                ),
                            )
                        ),
                        width="100%",
                        size="1",
                        id="audit-table",
                    ),
                    width="100%",
                    spacing="3",
                ),
                rx.vstack(
                    rx.heading(tr("Audit log"), size="5", as_="h1"),
                    rx.text(tr("Only supervisors can read the audit log.")),
                    rx.link(tr("Sign in"), href="/agent"),
                    id="audit-refused",
                ),
            ),
            padding="1.5rem",
            max_width="90rem",
            margin="0 auto",
        ),
        min_height="100vh",
        background=C.background,
        min_width="64rem",
    )
