"""Automatic payment in two places: the invoice page's status ("Drawn by autogiro on 30 April",
"Paid by autogiro on 30 April") in place of the Pay button, and the overview's payment method summary.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.components.layout import card, section_title, status_badge, tr
from selfcare.state.payment_method import PaymentMethodState

C = styles.C


def invoice_autopay(autopay: ObjectVar[dict[str, str]]) -> rx.Component:
    """The invoice's automatic payment (``autopay_view``), shown when ``text`` is set."""
    text = autopay["text"].to(str)
    return rx.cond(
        autopay["paid"].to(str) != "",
        rx.callout(
            text,
            icon="circle-check",
            color_scheme="green",
            id="invoice-autopay",
            role="status",
            width="100%",
            margin_top="0.5rem",
            data_paid="1",
        ),
        rx.callout(
            text,
            icon="calendar-clock",
            color_scheme=rx.cond(autopay["tone"].to(str) == "orange", "orange", "blue"),
            id="invoice-autopay",
            role="status",
            width="100%",
            margin_top="0.5rem",
        ),
    )


def invoice_autopay_failed() -> rx.Component:
    return rx.callout(
        tr("The automatic payment did not go through. Please pay this invoice yourself."),
        icon="triangle-alert",
        color_scheme="orange",
        id="invoice-autopay-failed",
        width="100%",
        margin_top="0.5rem",
    )


def payment_method_summary() -> rx.Component:
    """The overview's "Payment method" card: how the subscriber pays, and a link to change it."""
    p = PaymentMethodState
    v = p.view
    return rx.box(
        rx.cond(
            p.loaded,
            card(
                rx.hstack(
                    section_title("Payment method"),
                    rx.spacer(),
                    rx.cond(v["status_text"].to(str) != "", status_badge(v["status_text"].to(str), v["tone"].to(str))),
                    align="center",
                    width="100%",
                ),
                rx.text(v["summary"].to(str), weight="bold", id="overview-payment-method"),
                rx.cond(
                    v["notice"].to(str) != "",
                    rx.callout(v["notice"].to(str), icon="triangle-alert", color_scheme="orange", width="100%"),
                ),
                rx.cond(
                    v["automatic"].to(bool),
                    rx.text(tr("Your invoices are paid automatically on their due date."), style=styles.muted),
                    rx.text(
                        tr("Pay automatically by autogiro or card, and never miss a due date."), style=styles.muted
                    ),
                ),
                rx.link(
                    rx.cond(v["automatic"].to(bool), tr("Change payment method"), tr("Pay automatically")),
                    href="/payment-method",
                    id="overview-payment-method-link",
                    style=styles.tap_link,
                ),
            ),
        ),
        on_mount=PaymentMethodState.load,
        width="100%",
    )


def addon_shop_link() -> rx.Component:
    """The overview's way into the add-on shop (below this period's allowances)."""
    return rx.link(
        rx.hstack(rx.icon("package_plus", size=16), tr("Buy extra data"), align="center", spacing="1"),
        href="/addons",
        id="overview-addons-link",
        style=styles.tap_link,
    )
