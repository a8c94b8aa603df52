"""``/``: amount left to pay, next due date, this period's allowances, the latest invoice."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.components.alert_notices import alert_notices
from selfcare.components.autopay_status import addon_shop_link, payment_method_summary
from selfcare.components.instalment_card import instalment_card
from selfcare.components.layout import card, error_callout, page, section_title, skeleton, status_badge, tr
from selfcare.components.lazy import below_the_fold
from selfcare.components.offer_banner import offer_banner
from selfcare.components.pending_changes import PendingChangesState, plan_card
from selfcare.pages.overview.state import OverviewState
from selfcare.state.alerts import AlertNoticesState
from selfcare.state.offers import OffersState
from selfcare.state.payment_method import PaymentMethodState
from selfcare.state.session import SessionState

C = styles.C


def _allowance(a: ObjectVar[dict[str, Any]]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(a["label"], weight="bold"),
            rx.spacer(),
            rx.text(
                a["remaining"].to(str),
                " ",
                tr("left"),
                weight="medium",
                color=rx.cond(a["warn"].to(bool), C.danger, C.text),
            ),
            width="100%",
        ),
        rx.cond(
            a["unlimited"].to(bool),
            rx.text(tr("Used"), ": ", a["used"].to(str), style=styles.muted),
            rx.vstack(
                rx.progress(
                    value=a["percent"].to(int),
                    max=100,
                    color_scheme=rx.cond(a["warn"].to(bool), "red", "blue"),
                    aria_label=a["label"].to(str),
                ),
                rx.text(a["used"].to(str), " ", tr("of"), " ", a["included"].to(str), style=styles.muted),
                rx.cond(
                    a["runs_out"].to(str) != "",
                    rx.text(tr("Runs out around"), " ", a["runs_out"].to(str), color=C.danger, size="2"),
                ),
                spacing="1",
                width="100%",
            ),
        ),
        spacing="1",
        width="100%",
        class_name="allowance",
    )


def _overdue_card() -> rx.Component:
    """Overdue invoices lead the page: how many, the total, the oldest's days late, fees, what comes next,
    and one "Pay all" for all of them."""
    s = OverviewState
    return rx.box(
        rx.vstack(
            rx.hstack(
                rx.icon("triangle-alert", color=C.danger, size=20),
                rx.heading(
                    s.overdue_count,
                    " ",
                    rx.cond(s.overdue_count == 1, tr("overdue invoice"), tr("overdue invoices")),
                    size="4",
                    as_="h2",
                    color=C.danger,
                ),
                align="center",
                spacing="2",
            ),
            rx.text(s.overdue_total, id="overdue-total", style=styles.amount_big, color=C.danger),
            rx.text(s.overdue_oldest, id="overdue-oldest", weight="medium"),
            rx.cond(s.overdue_fees != "", rx.text(s.overdue_fees, size="2", id="overdue-fees")),
            rx.cond(s.overdue_next != "", rx.text(s.overdue_next, size="2", style=styles.muted, id="overdue-next")),
            rx.button(
                rx.icon("credit-card", size=18),
                tr("Pay all"),
                id="pay-all",
                on_click=s.pay_all,
                loading=s.paying_all,
                size="3",
                style=styles.primary_button,
                width="100%",
            ),
            rx.link(tr("See the overdue invoices"), href="/invoices", size="2", style=styles.tap_link),
            spacing="2",
            align="stretch",
            width="100%",
        ),
        style=styles.card,
        border=f"2px solid {C.danger}",
        id="overdue-card",
        role="alert",
    )


def _loading() -> rx.Component:
    """The overview's layout before its data: the greeting, what is left to pay, this period."""
    return rx.vstack(
        skeleton("2rem", "70%"),
        card(skeleton("0.9rem", "8rem"), skeleton("2.2rem", "9rem"), skeleton("1.25rem", "14rem"), min_height="8.5rem"),
        card(skeleton("1.3rem", "50%"), skeleton("1rem", "30%"), skeleton("3rem", "100%"), skeleton("3rem", "100%")),
        spacing="4",
        width="100%",
        align="stretch",
    )


def _left_to_pay() -> rx.Component:
    """What is left to pay, the next due date (or "nothing to pay"), and money owed to the subscriber."""
    s = OverviewState
    return card(
        rx.text(tr("Left to pay"), style=styles.label),
        rx.cond(
            s.loaded,
            rx.fragment(
                rx.text(s.left_to_pay, id="left-to-pay", style=styles.amount_big),
                rx.cond(
                    s.next_due != "",
                    rx.text(tr("Next due date"), ": ", rx.text.strong(s.next_due), id="next-due"),
                    rx.cond(
                        s.has_open,
                        rx.fragment(),
                        rx.text(tr("Nothing to pay right now."), color=C.success, id="nothing-to-pay"),
                    ),
                ),
                rx.cond(s.owed != "", rx.text(s.owed, color=C.success, size="2", id="credit-owed")),
            ),
            # Until the invoices are known: the same room, nothing said.
            rx.vstack(skeleton("2.2rem", "9rem"), skeleton("1.25rem", "14rem"), spacing="2", id="left-to-pay-loading"),
        ),
        min_height="8.5rem",
    )


def _this_period() -> rx.Component:
    """This period: days left, warnings, the allowances, so far and the forecast, links to usage and add-ons."""
    s = OverviewState
    return card(
        rx.hstack(
            section_title("This period"),
            rx.spacer(),
            rx.text(s.days_left, style=styles.muted),
            align="baseline",
            width="100%",
        ),
        rx.text(s.period, style=styles.muted),
        rx.foreach(
            s.warnings,
            lambda w: rx.callout(w, icon="triangle-alert", color_scheme="orange", class_name="forecast-warning"),
        ),
        rx.foreach(s.allowances, _allowance),
        rx.cond(
            s.forecast != "",
            rx.text(
                tr("So far"),
                " ",
                rx.text.strong(s.so_far),
                " · ",
                tr("Forecast for the period"),
                " ",
                rx.text.strong(s.forecast),
                id="forecast",
            ),
        ),
        rx.link(tr("See your usage"), href="/usage", style=styles.tap_link),
        addon_shop_link(),
        id="period-usage",
    )


def _latest_invoice() -> rx.Component:
    """The latest invoice, one tap away (nothing until there is one)."""
    latest = OverviewState.latest
    return rx.cond(
        latest.contains("id"),
        card(
            section_title("Latest invoice"),
            rx.link(
                rx.hstack(
                    rx.vstack(
                        rx.text(latest["period"], weight="bold"),
                        rx.text(latest["state_line"], style=styles.muted),
                        spacing="0",
                    ),
                    rx.spacer(),
                    rx.vstack(
                        rx.text(latest["amount"], weight="bold"),
                        status_badge(latest["status"], latest["tone"]),
                        align="end",
                        spacing="1",
                    ),
                    width="100%",
                    align="center",
                ),
                href="/invoices/" + latest["id"],
                underline="none",
                color=C.text,
                id="latest-invoice",
            ),
            rx.link(tr("All invoices"), href="/invoices", style=styles.tap_link),
        ),
    )


def overview_page() -> rx.Component:
    s = OverviewState
    return page(
        rx.heading(tr("Hello"), " ", SessionState.customer_name, size="6", as_="h1"),
        error_callout(s.error),
        alert_notices(),
        rx.cond(s.overdue_count > 0, _overdue_card()),
        _left_to_pay(),
        _this_period(),
        # The banners come in their own event after the page has shown: under what the subscriber came
        # to read, so that their arrival moves nothing already on screen (no layout shift).
        offer_banner("overview"),
        # Below the first screen: rendered when the browser is idle or they scroll near (components/lazy.py).
        below_the_fold(plan_card()),
        below_the_fold(instalment_card()),
        below_the_fold(payment_method_summary()),
        below_the_fold(_latest_invoice()),
        # The payment method card's labels follow the language by themselves; its notice is the core's own
        # text, asked for again in the new language.
        active="Overview",
        reload=[
            OverviewState.load,
            PendingChangesState.load,
            PaymentMethodState.load,
            AlertNoticesState.load,
            OffersState.reload,
        ],
        loading=_loading(),
    )
