"""``/addons``: the add-on shop (extra data and the like for this period), with the shared order sheet.

Stable element ids (tests/e2e/test_autopay_flow.py): addon-subscription (select, when more than
one), addon-allowances (rows: .addon-allowance, the amount left: .addon-left), addon-list (rows:
.addon-offer, buttons .addon-buy with data-addon), addon-notice, addon-bought; the sheet is
``addon-sheet`` (``addon-sheet-confirm``, ``addon-sheet-done``, ``addon-sheet-close``).
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.components.layout import card, error_callout, page, section_title, tr
from selfcare.components.order_sheet import order_sheet
from selfcare.components.pending_changes import PendingChangesState, plan_card
from selfcare.pages.addons.state import AddonsState

C = styles.C
A = AddonsState


def _allowance(a: ObjectVar[dict[str, Any]]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(a["label"], weight="bold"),
            rx.spacer(),
            rx.text(
                a["left"].to(str),
                " ",
                tr("left"),
                weight="medium",
                class_name="addon-left",
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
                rx.text(a["used"].to(str), " ", tr("of"), " ", a["total"].to(str), style=styles.muted),
                rx.cond(
                    a["bought"].to(str) != "",
                    rx.text(
                        a["included"].to(str),
                        " ",
                        tr("included"),
                        " + ",
                        a["bought"].to(str),
                        " ",
                        tr("bought this period"),
                        size="2",
                        color=C.success,
                        class_name="addon-bought-amount",
                    ),
                ),
                spacing="1",
                width="100%",
            ),
        ),
        spacing="1",
        width="100%",
        class_name="addon-allowance",
        data_pool=a["pool"].to(str),
    )


def _offer(o: ObjectVar[dict[str, str]]) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(o["name"], weight="bold"),
            rx.text(o["gives"], " · ", o["price"], style=styles.muted),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.button(
            tr("Buy"),
            on_click=A.open_sheet(o["id"]),
            size="3",
            class_name="addon-buy",
            data_addon=o["id"],
            style={
                "background": C.primary,
                "color": C.primary_text,
                "cursor": "pointer",
                "min_height": "44px",
                "min_width": "5.5rem",
            },
        ),
        width="100%",
        align="center",
        padding="0.6rem 0",
        border_bottom="1px solid #eef1f3",
        class_name="addon-offer",
    )


def _only_subscription() -> ObjectVar[dict[str, str]]:
    """The one subscription when there is only one (as the list's item: Reflex's list fields read as
    ``ArrayVar[Sequence[Never]]`` to mypy, so the item's type is said here)."""
    return A.subscriptions[0].to(dict[str, str])


def _subscription_picker() -> rx.Component:
    return rx.cond(
        A.subscriptions.length() > 1,
        rx.vstack(
            rx.el.label(tr("Subscription"), html_for="addon-subscription", style=styles.label),
            rx.el.select(
                rx.foreach(A.subscriptions, lambda s: rx.el.option(s["msisdn"], " · ", s["plan"], value=s["id"])),
                value=A.selected,
                on_change=A.select_subscription,
                id="addon-subscription",
                style={
                    "width": "100%",
                    "min_height": "44px",
                    "padding": "0 0.5rem",
                    "border_radius": "8px",
                    "border": "1px solid #cfd8dc",
                    "background": C.surface,
                    "font_size": "1rem",
                },
            ),
            spacing="1",
            width="100%",
        ),
        rx.cond(
            A.subscriptions.length() == 1,
            rx.text(_only_subscription()["msisdn"], " · ", _only_subscription()["plan"], style=styles.muted),
        ),
    )


def _shop() -> rx.Component:
    return rx.vstack(
        card(
            section_title("Left this period"),
            rx.text(A.period, style=styles.muted),
            _subscription_picker(),
            rx.box(
                rx.foreach(A.allowances, _allowance),
                id="addon-allowances",
                width="100%",
                style={"display": "flex", "flex_direction": "column", "gap": "0.75rem"},
            ),
        ),
        card(
            section_title("Add to this period"),
            rx.cond(
                A.available.length() == 0,
                rx.text(tr("There are no add-ons for this subscription right now."), style=styles.muted),
            ),
            rx.box(rx.foreach(A.available, _offer), id="addon-list", width="100%"),
            rx.text(
                tr(
                    "An add-on applies from the moment you buy it to the end of the period. The price comes on "
                    "your next invoice."
                ),
                size="2",
                color=C.muted,
            ),
        ),
        rx.cond(
            A.bought.length() > 0,
            card(
                section_title("Bought this period"),
                rx.foreach(
                    A.bought,
                    lambda b: rx.hstack(
                        rx.vstack(
                            rx.text(b["name"], weight="medium"), rx.text(b["at"], style=styles.muted), spacing="0"
                        ),
                        rx.spacer(),
                        rx.text(b["price"], white_space="nowrap"),
                        width="100%",
                        align="center",
                        padding="0.4rem 0",
                        border_bottom="1px solid #eef1f3",
                        class_name="addon-bought-row",
                    ),
                ),
                id="addon-bought",
            ),
        ),
        spacing="4",
        width="100%",
        align="stretch",
    )


def addons_page() -> rx.Component:
    return page(
        rx.link(
            rx.hstack(rx.icon("chevron-left", size=16), tr("Overview"), align="center", spacing="1"),
            href="/",
            size="2",
            style=styles.tap_link,
        ),
        rx.heading(tr("Add-ons"), size="6", as_="h1"),
        error_callout(A.error),
        rx.cond(
            A.notice != "",
            rx.callout(
                A.notice, icon="circle-check", color_scheme="green", id="addon-notice", role="status", width="100%"
            ),
        ),
        rx.cond(
            A.loaded,
            rx.cond(
                A.subscriptions.length() > 0,
                rx.vstack(plan_card(load_on_mount=False), _shop(), spacing="4", width="100%", align="stretch"),
                card(rx.text(tr("You have no active subscription to add to."))),
            ),
            rx.cond(A.error == "", rx.center(rx.spinner(size="3"), padding="3rem", width="100%")),
        ),
        order_sheet(
            title=A.sheet_title,
            what_you_get=A.sheet_get,
            terms=A.sheet_terms,
            cost_lines=A.sheet_lines,
            total=A.sheet_total,
            total_label=tr("On your next invoice"),
            costs_heading=tr("What it costs"),
            confirm_label=tr("Buy"),
            on_confirm=A.confirm_purchase,
            on_cancel=A.close_sheet,
            open=A.sheet_open,
            busy=A.buying,
            error=A.sheet_error,
            done=A.sheet_done,
            id_="addon-sheet",
        ),
        active="Overview",
        reload=[AddonsState.load, PendingChangesState.load],
    )
