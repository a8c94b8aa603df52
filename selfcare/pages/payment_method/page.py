"""``/payment-method``: the current way of paying, and turning on autogiro or a saved card (or back to manual).

Stable element ids (tests/e2e/test_autopay_flow.py): pm-method, pm-status, pm-details, pm-notice,
pm-pending, pm-success, pm-autogiro-open, pm-autogiro-form, pm-clearing, pm-account,
pm-clearing-error, pm-account-error, pm-personal, pm-personal-error, pm-autogiro-submit, pm-card, pm-manual, pm-manual-confirm.
"""

from __future__ import annotations

import reflex as rx

from selfcare import styles
from selfcare.components.layout import card, error_callout, page, section_title, status_badge, tr
from selfcare.components.lazy import below_the_fold
from selfcare.i18n import N_
from selfcare.state.payment_method import PaymentMethodState

C = styles.C
P = PaymentMethodState


def _field(label_key: str, name: str, id_: str, error: rx.Var, placeholder: str, max_length: int) -> rx.Component:
    return rx.vstack(
        rx.el.label(tr(label_key), html_for=id_, style={"font_weight": "600", "font_size": "0.9rem"}),
        rx.input(
            name=name,
            id=id_,
            input_mode="numeric",
            auto_complete="off",
            placeholder=placeholder,
            max_length=max_length,
            size="3",
            width="100%",
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=f"{id_}-error",
        ),
        rx.cond(error != "", rx.text(error, color=C.danger, size="2", id=f"{id_}-error", role="alert")),
        spacing="1",
        width="100%",
        align="stretch",
    )


def _current() -> rx.Component:
    v = P.view
    return card(
        rx.text(tr("How you pay now"), style=styles.label),
        rx.hstack(
            rx.text(v["method_text"].to(str), weight="bold", size="5", id="pm-method"),
            rx.spacer(),
            rx.cond(
                v["status_text"].to(str) != "",
                status_badge(v["status_text"].to(str), v["tone"].to(str), id="pm-status"),
            ),
            width="100%",
            align="center",
        ),
        rx.box(rx.foreach(P.details, lambda d: rx.text(d, style=styles.muted)), id="pm-details", width="100%"),
        rx.cond(
            v["pending_note"].to(str) != "",
            rx.callout(
                v["pending_note"].to(str), icon="hourglass", color_scheme="amber", id="pm-pending", width="100%"
            ),
        ),
        rx.cond(
            v["notice"].to(str) != "",
            rx.callout(
                v["notice"].to(str),
                icon="triangle-alert",
                color_scheme="orange",
                id="pm-notice",
                role="alert",
                width="100%",
            ),
        ),
        rx.cond(
            v["method"].to(str) == "manual",
            rx.text(
                tr(
                    "You pay each invoice yourself: with the Pay button, the QR code or a bank transfer "
                    "with the OCR number."
                ),
                style=styles.muted,
            ),
        ),
        id="pm-current",
    )


def _autogiro_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text(
                tr(
                    "Give the account the invoices are drawn from. You approve the mandate in your internet "
                    "bank; until then you pay as usual."
                ),
                style=styles.muted,
            ),
            _field(N_("Clearing number"), "clearing", "pm-clearing", P.clearing_error, "8327", 6),
            _field(N_("Account number"), "account", "pm-account", P.account_error, "9384750001", 16),
            _field(
                N_("Personal number (the account holder's)"),
                "personal_number",
                "pm-personal",
                P.personal_error,
                "ÅÅÅÅMMDD-NNNN",
                13,
            ),
            rx.button(
                tr("Turn on autogiro"),
                type="submit",
                id="pm-autogiro-submit",
                loading=P.busy,
                size="3",
                style=styles.primary_button,
            ),
            rx.button(tr("Cancel"), type="button", on_click=P.close_autogiro, size="3", style=styles.secondary_button),
            spacing="3",
            width="100%",
            align="stretch",
        ),
        on_submit=P.submit_autogiro,
        reset_on_submit=False,
        id="pm-autogiro-form",
        width="100%",
    )


def _option(icon: str, title_key: str, text_key: str, button: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon(icon, size=20, color=C.primary, flex_shrink="0"),
            rx.text(tr(title_key), weight="bold"),
            align="center",
            spacing="2",
        ),
        rx.text(tr(text_key), style=styles.muted),
        button,
        spacing="2",
        width="100%",
        align="stretch",
        padding="0.75rem 0",
        border_top="1px solid #eef1f3",
    )


def _autogiro_choice() -> rx.Component:
    """Autogiro, unless it is the method in force: its form, or the button that opens it."""
    autogiro_on = (P.view["method"].to(str) == "autogiro") & (P.view["status"].to(str) != "failed")
    return rx.cond(
        ~autogiro_on,
        _option(
            "landmark",
            N_("Autogiro"),
            N_("Drawn from your bank account on the due date."),
            rx.cond(
                P.form_open,
                _autogiro_form(),
                rx.button(
                    tr("Pay by autogiro"),
                    id="pm-autogiro-open",
                    on_click=P.open_autogiro,
                    size="3",
                    style=styles.secondary_button,
                ),
            ),
        ),
    )


def _card_choice() -> rx.Component:
    """A card, unless it is the method in force (saved with the payment provider)."""
    card_on = (P.view["method"].to(str) == "card") & (P.view["status"].to(str) != "failed")
    return rx.cond(
        ~card_on,
        _option(
            "credit-card",
            N_("Card"),
            N_("Saved with our payment provider; your card number never reaches us."),
            rx.button(
                tr("Pay by card"),
                id="pm-card",
                on_click=P.choose_card,
                loading=P.busy,
                size="3",
                style=styles.secondary_button,
            ),
        ),
    )


def _manual_choice() -> rx.Component:
    """Back to paying by hand, asked twice (while something else is in force)."""
    return rx.cond(
        P.view["method"].to(str) != "manual",
        _option(
            "hand-coins",
            N_("Manual payment"),
            N_("Stop paying automatically and pay each invoice yourself."),
            rx.cond(
                P.confirm_manual,
                rx.vstack(
                    rx.text(
                        tr("Stop automatic payment? Invoices not yet drawn must then be paid by you."),
                        weight="medium",
                    ),
                    rx.button(
                        tr("Yes, I pay by hand"),
                        id="pm-manual-confirm",
                        on_click=P.choose_manual,
                        loading=P.busy,
                        size="3",
                        color_scheme="red",
                        width="100%",
                        min_height="44px",
                    ),
                    rx.button(tr("Keep it"), on_click=P.keep_method, size="3", style=styles.secondary_button),
                    spacing="2",
                    width="100%",
                    align="stretch",
                ),
                rx.button(
                    tr("Stop automatic payment"),
                    id="pm-manual",
                    on_click=P.ask_manual,
                    size="3",
                    style=styles.secondary_button,
                ),
            ),
        ),
    )


def _choices() -> rx.Component:
    """The ways to pay automatically, each but the one in force, and the way back to paying by hand."""
    return card(
        section_title("Pay automatically"),
        rx.text(tr("The invoice is paid on its due date and you get no reminder to pay by hand."), style=styles.muted),
        _autogiro_choice(),
        _card_choice(),
        _manual_choice(),
        id="pm-choices",
    )


def payment_method_page() -> rx.Component:
    return page(
        rx.link(
            rx.hstack(rx.icon("chevron-left", size=16), tr("Overview"), align="center", spacing="1"),
            href="/",
            size="2",
            style=styles.tap_link,
        ),
        rx.heading(tr("Payment method"), size="6", as_="h1"),
        error_callout(P.error),
        rx.cond(
            P.success != "",
            rx.callout(
                P.success, icon="circle-check", color_scheme="green", id="pm-success", role="status", width="100%"
            ),
        ),
        rx.cond(
            P.loaded,
            rx.vstack(_current(), below_the_fold(_choices()), spacing="4", width="100%", align="stretch"),
            rx.cond(P.error == "", rx.center(rx.spinner(size="3"), padding="3rem", width="100%")),
        ),
        active="Overview",
        reload=PaymentMethodState.load,
    )
