"""The console's one-off charges beside the open invoice: add a charge or credit with a reason to the
customer's next invoice, see the pending ones, remove one.

Stable element ids: agent-charges (the panel), agent-charge-form, agent-charge-kind,
agent-charge-description, agent-charge-amount, agent-charge-vat, agent-charge-subscription,
agent-charge-reason, agent-charge-add, agent-charge-pending (rows: .agent-charge, their remove
buttons .agent-charge-remove).
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.components.layout import error_callout, tr
from selfcare.pages.agent.charges import AgentChargesState
from selfcare.pages.agent.state import AgentState

C = styles.C
G = AgentChargesState
FIELD = {
    "width": "100%",
    "min_height": "36px",
    "padding": "0 0.5rem",
    "border_radius": "6px",
    "border": "1px solid #cfd8dc",
    "background": C.surface,
}
ROW = {"width": "100%", "padding": "0.3rem 0", "border_bottom": "1px solid #eef1f3"}


def _pending(c: ObjectVar[dict[str, str]]) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(c["description"], size="2", weight="medium"),
            rx.text(c["reason"], size="1", color=C.muted),
            rx.text(
                c["by"],
                " · ",
                c["at"],
                rx.cond(c["msisdn"] != "", " · " + c["msisdn"], ""),
                " · ",
                tr("VAT"),
                " ",
                c["vat"],
                size="1",
                color=C.muted,
            ),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.text(
            c["amount"],
            size="2",
            white_space="nowrap",
            font_variant_numeric="tabular-nums",
            color=rx.cond(c["credit"] != "", C.success, C.text),
        ),
        rx.icon_button(
            rx.icon("trash_2", size=14),
            on_click=G.remove(c["id"]),
            size="1",
            variant="ghost",
            color_scheme="red",
            aria_label=tr("Remove"),
            class_name="agent-charge-remove",
        ),
        style=ROW,
        align="center",
        class_name="agent-charge",
    )


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.el.select(
                rx.el.option(tr("Charge"), value="charge"),
                rx.el.option(tr("Credit"), value="credit"),
                name="kind",
                id="agent-charge-kind",
                default_value="charge",
                style=FIELD,
                aria_label=tr("Charge or credit"),
            ),
            rx.input(
                name="description",
                id="agent-charge-description",
                max_length=200,
                width="100%",
                placeholder=tr("Text on the invoice, e.g. SIM card replacement"),
            ),
            rx.hstack(
                rx.input(
                    name="amount",
                    id="agent-charge-amount",
                    placeholder=tr("Amount in kr, e.g. 99"),
                    input_mode="decimal",
                    flex="1",
                ),
                rx.el.select(
                    *[
                        rx.el.option(f"{label} %", value=value)
                        for value, label in (("0.25", "25"), ("0.12", "12"), ("0.06", "6"), ("0", "0"))
                    ],
                    name="vat",
                    id="agent-charge-vat",
                    default_value="0.25",
                    style={**FIELD, "width": "6rem"},
                    aria_label=tr("VAT"),
                ),
                width="100%",
            ),
            rx.el.select(
                rx.el.option(tr("The whole account"), value=""),
                rx.foreach(G.subscriptions, lambda s: rx.el.option(s["label"], value=s["value"])),
                name="subscription",
                id="agent-charge-subscription",
                default_value="",
                style=FIELD,
                aria_label=tr("Subscription"),
            ),
            rx.input(
                name="reason",
                id="agent-charge-reason",
                max_length=500,
                width="100%",
                placeholder=tr("Reason (kept in the audit log)"),
            ),
            rx.button(tr("Add to next invoice"), type="submit", id="agent-charge-add", loading=G.busy),
            spacing="2",
            width="100%",
            align="stretch",
        ),
        on_submit=G.add,
        reset_on_submit=False,
        width="100%",
        id="agent-charge-form",
    )


def agent_charges_panel() -> rx.Component:
    """Mounted in the invoice panel; it loads anew whenever another invoice is opened (``key``)."""
    return rx.vstack(
        rx.heading(tr("One-off charges"), size="3", as_="h3"),
        rx.text(G.customer, size="1", color=C.muted),
        error_callout(G.error),
        rx.cond(
            G.notice != "",
            rx.callout(
                G.notice, icon="circle-check", color_scheme="green", size="1", width="100%", id="agent-charge-notice"
            ),
        ),
        rx.text(tr("Pending for the next invoice"), size="1", weight="bold", color=C.muted),
        rx.cond(G.pending.length() == 0, rx.text(tr("Nothing pending."), size="1", color=C.muted)),
        rx.box(rx.foreach(G.pending, _pending), width="100%", id="agent-charge-pending"),
        _form(),
        spacing="2",
        width="100%",
        align="stretch",
        padding="0.75rem",
        border="1px solid #e3e8eb",
        border_radius="8px",
        background=C.surface,
        id="agent-charges",
        key=AgentState.invoice_id,
        on_mount=AgentChargesState.load,
    )
