"""``/``: amount left to pay, next due date, this period's allowances, the latest invoice."""

from __future__ import annotations

import reflex as rx

from selfcare import styles
from selfcare.components.autopay_status import addon_shop_link, payment_method_summary
from selfcare.components.instalment_card import instalment_card
from selfcare.components.layout import card, error_callout, page, section_title, status_badge, tr
from selfcare.components.offer_banner import offer_banner
from selfcare.components.pending_changes import PendingChangesState, plan_card
from selfcare.state.overview import OverviewState
from selfcare.state.session import SessionState

C = styles.C


def _allowance(a: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.text(a["label"], weight="bold"), rx.spacer(),
                  rx.text(a["remaining"].to(str), " ", tr("left"), weight="medium",
                          color=rx.cond(a["warn"].to(bool), C.danger, C.text)), width="100%"),
        rx.cond(
            a["unlimited"].to(bool),
            rx.text(tr("Used"), ": ", a["used"].to(str), style=styles.muted),
            rx.vstack(
                rx.progress(value=a["percent"].to(int), max=100, color_scheme=rx.cond(a["warn"].to(bool), "red",
                                                                                       "blue"),
                            aria_label=a["label"].to(str)),
                rx.text(a["used"].to(str), " ", tr("of"), " ", a["included"].to(str), style=styles.muted),
                rx.cond(a["runs_out"].to(str) != "",
                        rx.text(tr("Runs out around"), " ", a["runs_out"].to(str), color=C.danger, size="2")),
                spacing="1", width="100%",
            ),
        ),
        spacing="1", width="100%", class_name="allowance",
    )


def overview_page() -> rx.Component:
    s = OverviewState
    return page(
        rx.heading(tr("Hello"), " ", SessionState.customer_name, size="6", as_="h1"),
        error_callout(s.error),
        card(
            rx.text(tr("Left to pay"), style=styles.label),
            rx.text(s.left_to_pay, id="left-to-pay", style=styles.amount_big),
            rx.cond(s.has_open,
                    rx.text(tr("Next due date"), ": ", rx.text.strong(s.next_due), id="next-due"),
                    rx.text(tr("Nothing to pay right now."), color=C.success)),
        ),
        offer_banner("overview"),
        card(
            rx.hstack(section_title("This period"), rx.spacer(), rx.text(s.days_left, style=styles.muted),
                      align="baseline", width="100%"),
            rx.text(s.period, style=styles.muted),
            rx.foreach(s.warnings, lambda w: rx.callout(w, icon="triangle-alert", color_scheme="orange",
                                                        class_name="forecast-warning")),
            rx.foreach(s.allowances, _allowance),
            rx.cond(s.forecast != "",
                    rx.text(tr("So far"), " ", rx.text.strong(s.so_far), " · ", tr("Forecast for the period"), " ",
                            rx.text.strong(s.forecast), id="forecast")),
            rx.link(tr("See your usage"), href="/usage"),
            addon_shop_link(),
            id="period-usage",
        ),
        plan_card(),
        instalment_card(),
        payment_method_summary(),
        rx.cond(
            s.latest.contains("id"),
            card(
                section_title("Latest invoice"),
                rx.link(
                    rx.hstack(
                        rx.vstack(rx.text(s.latest["period"], weight="bold"),
                                  rx.text(tr("Due"), " ", s.latest["due"], style=styles.muted), spacing="0"),
                        rx.spacer(),
                        rx.vstack(rx.text(s.latest["amount"], weight="bold"),
                                  status_badge(s.latest["status"], s.latest["tone"]), align="end", spacing="1"),
                        width="100%", align="center",
                    ),
                    href="/invoices/" + s.latest["id"], underline="none", color=C.text, id="latest-invoice",
                ),
                rx.link(tr("All invoices"), href="/invoices"),
            ),
        ),
        active="Overview", reload=[OverviewState.load, PendingChangesState.load],
    )
