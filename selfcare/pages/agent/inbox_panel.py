"""The console's inbox: threads waiting for an answer first, with how long they have waited."""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.components.layout import tr
from selfcare.pages.agent.state import AgentState

C = styles.C
A = AgentState


def _filter_button(label_key: str, value: str) -> rx.Component:
    active = A.inbox_filter == value
    return rx.button(
        tr(label_key),
        on_click=A.set_filter(value),
        size="1",
        variant=rx.cond(active, "solid", "outline"),
        class_name="inbox-filter",
        data_filter=value,
    )


def _row(r: ObjectVar[dict[str, str]]) -> rx.Component:
    selected = A.invoice_id == r["invoice_id"]
    return rx.box(
        rx.hstack(
            rx.badge(r["status"], color_scheme=r["tone"].to(str), variant="soft"),
            rx.cond(
                r["waited"] != "",
                rx.text(r["waited"], size="1", weight="bold", color=C.danger, class_name="inbox-waited"),
            ),
            rx.spacer(),
            rx.cond(r["assigned"] != "", rx.text("→ ", r["assigned"], size="1", color=C.muted)),
            width="100%",
            align="center",
        ),
        rx.text(r["customer"], weight="bold", size="2"),
        rx.text(tr("Invoice"), " ", r["invoice_number"], size="1", color=C.muted),
        rx.text(r["excerpt"], size="2", class_name="inbox-excerpt", no_of_lines=2),
        on_click=A.open_thread(r["invoice_id"]),
        role="button",
        tab_index=0,
        cursor="pointer",
        padding="0.6rem 0.75rem",
        border_radius="8px",
        width="100%",
        background=rx.cond(selected, "#e6f6fa", "transparent"),
        border="1px solid #e3e8eb",
        class_name="inbox-row",
        data_invoice=r["invoice_id"],
        data_status=r["status_key"],
    )


def inbox_panel() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(tr("Inbox"), size="4", as_="h2"),
            rx.spacer(),
            rx.text(A.inbox_total, size="1", color=C.muted),
            rx.icon_button(
                rx.icon("refresh-cw", size=14),
                on_click=A.load,
                size="1",
                variant="ghost",
                aria_label=tr("Refresh"),
                id="inbox-refresh",
            ),
            width="100%",
            align="center",
        ),
        rx.hstack(
            _filter_button("All", ""),
            _filter_button("Waiting", "waiting"),
            _filter_button("Mine", "mine"),
            _filter_button("Resolved", "resolved"),
            spacing="1",
            wrap="wrap",
        ),
        rx.cond(A.inbox.length() == 0, rx.text(tr("No threads."), color=C.muted, size="2")),
        rx.vstack(rx.foreach(A.inbox, _row), spacing="2", width="100%", id="inbox"),
        spacing="2",
        width="100%",
        align="stretch",
    )
