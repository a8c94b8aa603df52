"""The marketing console's list of offers: status, window, priority and the counts so far."""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.components.layout import tr
from selfcare.i18n import N_
from selfcare.pages.marketing.state import MarketingState

C = styles.C
M = MarketingState


def _row(r: ObjectVar[dict[str, str]]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(rx.text(r["name"], weight="bold"), rx.text(r["title"], size="1", color=C.muted), spacing="0")
        ),
        rx.table.cell(
            rx.badge(
                r["status"],
                color_scheme=r["tone"].to(str),
                variant="soft",
                radius="full",
                class_name="offer-status",
                data_status=r["status_key"],
            )
        ),
        rx.table.cell(r["window"], size="1"),
        rx.table.cell(r["priority"], text_align="right"),
        rx.table.cell(r["impressions"], text_align="right", class_name="offer-impressions"),
        rx.table.cell(r["clicks"], text_align="right", class_name="offer-clicks"),
        rx.table.cell(r["acceptances"], text_align="right", class_name="offer-acceptances"),
        on_click=M.select(r["id"]),
        cursor="pointer",
        class_name="offer-row",
        data_offer=r["id"],
        background=rx.cond(M.selected_id.to(str) == r["id"], "#e6f6fa", "transparent"),
    )


def offers_list() -> rx.Component:
    """The table of offers (newest first); a row opens the offer."""
    return rx.vstack(
        rx.hstack(
            rx.heading(tr("Offers"), size="5", as_="h1"),
            rx.spacer(),
            rx.button(rx.icon("refresh-cw", size=14), tr("Refresh"), on_click=M.load, variant="soft", size="2"),
            rx.button(rx.icon("plus", size=14), tr("New offer"), on_click=M.new_offer, size="2", id="new-offer"),
            width="100%",
            align="center",
        ),
        rx.cond(
            M.rows.length() > 0,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(tr(key), white_space="nowrap")
                            for key in (
                                N_("Offer"),
                                N_("Status"),
                                N_("Shown"),
                                N_("Priority"),
                                N_("Impressions"),
                                N_("Clicks"),
                                N_("Acceptances"),
                            )
                        ]
                    )
                ),
                rx.table.body(rx.foreach(M.rows, _row)),
                width="100%",
                size="1",
                id="offers-table",
            ),
            rx.text(tr("No offers yet. Create the first one."), color=C.muted, id="offers-empty"),
        ),
        width="100%",
        spacing="3",
        align="stretch",
    )
