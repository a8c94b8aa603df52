"""The usage alerts on a page (issue 17): each alert's sentence, its one tap out, and a close button; a data alert
that an offer targets opens that offer's order sheet on the page."""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.components.layout import tr
from selfcare.components.order_sheet import state_order_sheet
from selfcare.state.alerts import AlertNoticesState

N = AlertNoticesState


def _notice(item: ObjectVar[dict[str, str]]) -> rx.Component:
    alert_id = item["id"].to(str)
    return rx.callout.root(
        rx.vstack(
            rx.callout.text(item["text"].to(str), size="2"),
            rx.hstack(
                rx.cond(
                    item["action"].to(str) == "offer",
                    rx.button(  # the offer that targets this alert: its order sheet, here
                        item["action_label"].to(str),
                        variant="soft",
                        size="2",
                        on_click=N.open_offer(alert_id),
                        style={"min_height": styles.TAP},
                        class_name="alert-action alert-offer",
                    ),
                    rx.link(
                        item["action_label"].to(str),
                        href=item["href"].to(str),
                        weight="bold",
                        style={**styles.tap_link, "min_height": styles.TAP},
                        class_name="alert-action",
                    ),
                ),
                rx.spacer(),
                rx.button(
                    tr("Close"),
                    variant="ghost",
                    size="2",
                    on_click=N.dismiss(alert_id),
                    style={"min_height": styles.TAP, "min_width": styles.TAP},
                    class_name="alert-dismiss",
                ),
                align="center",
                width="100%",
            ),
            spacing="1",
            width="100%",
        ),
        color_scheme=item["tone"].to(str),
        role="status",
        width="100%",
        id="alert-" + alert_id,
        class_name="alert-notice",
    )


def alert_notices() -> rx.Component:
    """The subscriber's alerts (nothing shown when there are none). ``AlertNoticesState.load`` runs with the page's
    on_load, so they are there when the page first shows: nothing moves when they arrive."""
    return rx.box(
        rx.foreach(N.notices, _notice),
        state_order_sheet(N, confirm_label=tr("Add"), on_confirm=N.confirm, id_="alert-order-sheet"),
        id="alert-notices",
        width="100%",
        style={"display": "flex", "flex_direction": "column", "gap": "0.5rem"},
    )
