"""``/invoices``: every invoice, newest first, with paging."""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.components.layout import error_callout, page, status_badge, tr
from selfcare.pages.invoices.state import InvoicesState

C = styles.C


def _row(inv: ObjectVar[dict[str, str]]) -> rx.Component:
    return rx.link(
        rx.box(
            rx.hstack(
                rx.vstack(
                    rx.text(inv["period"], weight="bold"),
                    rx.text(tr("Invoice"), " ", inv["number"], style=styles.muted),
                    rx.text(
                        inv["state_line"],
                        size="2",
                        class_name="invoice-state",
                        color=rx.cond(inv["overdue"] != "", C.danger, C.muted),
                        weight=rx.cond(inv["overdue"] != "", "medium", "regular"),
                    ),
                    spacing="0",
                    align="start",
                ),
                rx.spacer(),
                rx.vstack(
                    rx.text(inv["amount"], weight="bold", class_name="invoice-amount"),
                    status_badge(inv["status"], inv["tone"]),
                    rx.cond(inv["open"] != "", rx.text(tr("Left"), " ", inv["to_pay"], size="1", color=C.muted)),
                    spacing="1",
                    align="end",
                ),
                width="100%",
                align="center",
            ),
            style=styles.card,
        ),
        href="/invoices/" + inv["id"],
        underline="none",
        color=C.text,
        class_name="invoice-row",
        width="100%",
    )


def invoices_page() -> rx.Component:
    s = InvoicesState
    return page(
        rx.heading(tr("Invoices"), size="6", as_="h1"),
        error_callout(s.error),
        rx.vstack(rx.foreach(s.rows, _row), spacing="2", width="100%", id="invoice-list"),
        rx.cond(s.total == 0, rx.cond(~s.loading, rx.text(tr("No invoices yet.")))),
        rx.hstack(
            rx.button(
                rx.icon("chevron-left"),
                tr("Newer"),
                on_click=s.prev_page,
                disabled=~s.has_prev,
                variant="soft",
                id="page-prev",
                style=styles.tap_button,
            ),
            rx.text(s.page + 1, " / ", s.pages, style=styles.muted),
            rx.button(
                tr("Older"),
                rx.icon("chevron-right"),
                on_click=s.next_page,
                disabled=~s.has_next,
                variant="soft",
                id="page-next",
                style=styles.tap_button,
            ),
            justify="between",
            align="center",
            width="100%",
        ),
        active="Invoices",
        reload=InvoicesState.load,
    )
