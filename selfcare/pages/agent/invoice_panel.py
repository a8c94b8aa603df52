"""The invoice beside the thread: amount and status, specification, usage of the line asked about,
timeline, payments and the customer's other invoices."""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.components.icons import timeline_icon
from selfcare.components.layout import status_badge, tr
from selfcare.pages.agent.charges_panel import agent_charges_panel
from selfcare.pages.agent.state import AgentState

C = styles.C
A = AgentState
ROW = {"width": "100%", "padding": "0.25rem 0", "border_bottom": "1px solid #eef1f3"}


def _box(title_key: str, *children: rx.Component, **props) -> rx.Component:
    return rx.vstack(
        rx.heading(tr(title_key), size="3", as_="h3"),
        *children,
        spacing="1",
        width="100%",
        align="stretch",
        padding="0.75rem",
        border="1px solid #e3e8eb",
        border_radius="8px",
        background=C.surface,
        **props,
    )


def _line(x: ObjectVar[dict[str, str]]) -> rx.Component:
    return rx.hstack(
        rx.text(x["position"], ".", size="1", color=C.muted, min_width="1.5rem"),
        rx.text(x["description"], size="2", flex="1"),
        rx.text(x["amount"], size="2", white_space="nowrap", font_variant_numeric="tabular-nums"),
        rx.cond(
            x["drill"] != "",
            rx.icon_button(
                rx.icon("list", size=12),
                size="1",
                variant="ghost",
                on_click=A.show_line(x["position"]),
                aria_label=tr("Itemised usage"),
            ),
        ),
        style=ROW,
        align="center",
        class_name="agent-spec-line",
    )


def _summary() -> rx.Component:
    """Number, period and status; to pay, left to pay, credited; due date and OCR reference."""
    v = A.view
    return _box(
        "Invoice",
        rx.hstack(
            rx.text(v["number"].to(str), " · ", v["period"].to(str), weight="bold"),
            rx.spacer(),
            status_badge(v["status"].to(str), v["tone"].to(str), id="agent-invoice-status"),
            width="100%",
        ),
        rx.hstack(
            rx.text(tr("To pay"), size="2"),
            rx.spacer(),
            rx.text(v["amount"].to(str), weight="bold", id="agent-invoice-amount"),
            width="100%",
        ),
        rx.hstack(
            rx.text(tr("Left to pay"), size="2"),
            rx.spacer(),
            rx.text(v["balance"].to(str), weight="bold", id="agent-invoice-balance"),
            width="100%",
        ),
        rx.hstack(rx.text(tr("Credited"), size="2"), rx.spacer(), rx.text(v["credited"].to(str)), width="100%"),
        rx.text(tr("Due"), " ", v["due"].to(str), " · OCR ", v["ocr"].to(str), size="1", color=C.muted),
    )


def _usage() -> rx.Component:
    """The itemised usage of the line the customer asks about (nothing when the thread names no line)."""
    return rx.cond(
        A.usage_title != "",
        _box(
            "Itemised usage",
            rx.text(A.usage_title, " · ", A.usage_total, " ", tr("records"), size="1", color=C.muted),
            rx.box(
                rx.foreach(
                    A.usage_rows,
                    lambda r: rx.hstack(
                        rx.text(r["at"], size="1", min_width="7rem"),
                        rx.text(r["description"], size="1", flex="1"),
                        rx.text(r["amount"], size="1"),
                        rx.text(r["cost"], size="1", color=C.muted),
                        style=ROW,
                        class_name="agent-usage-row",
                    ),
                ),
                max_height="16rem",
                overflow_y="auto",
                width="100%",
            ),
            id="agent-usage",
        ),
    )


def _timeline() -> rx.Component:
    return _box(
        "Timeline",
        rx.foreach(
            A.timeline,
            lambda e: rx.hstack(
                timeline_icon(e["icon"], size=14, color=C.primary, flex_shrink="0"),
                rx.vstack(rx.text(e["text"], size="1"), rx.text(e["at"], size="1", color=C.muted), spacing="0"),
                style=ROW,
                align="start",
                class_name="agent-timeline-event",
            ),
        ),
        id="agent-timeline",
    )


def _payments() -> rx.Component:
    return _box(
        "Payments",
        rx.cond(A.payments.length() == 0, rx.text(tr("No payments yet."), size="1", color=C.muted)),
        rx.foreach(
            A.payments,
            lambda p: rx.hstack(
                rx.text(p["at"], size="1"),
                rx.text(p["method"], size="1", color=C.muted),
                rx.spacer(),
                rx.text(p["amount"], size="1"),
                style=ROW,
            ),
        ),
        id="agent-payments",
    )


def _other_invoices() -> rx.Component:
    """The customer's other invoices; a tap opens that invoice here."""
    return _box(
        "The customer's other invoices",
        rx.foreach(
            A.other_invoices,
            lambda i: rx.hstack(
                rx.link(i["number"], on_click=A.open_thread(i["id"]), size="1", cursor="pointer"),
                rx.text(i["period"], size="1", color=C.muted),
                rx.spacer(),
                rx.text(i["amount"], size="1"),
                rx.badge(i["status"], size="1", variant="soft"),
                style=ROW,
            ),
        ),
        id="agent-other-invoices",
    )


def invoice_panel() -> rx.Component:
    """The open thread's invoice, one box per part (nothing while no invoice is open)."""
    return rx.cond(
        A.invoice_id == "",
        rx.box(),
        rx.vstack(
            _summary(),
            _box("Specification", rx.foreach(A.lines, _line), id="agent-spec"),
            _usage(),
            _timeline(),
            _payments(),
            agent_charges_panel(),
            _other_invoices(),
            spacing="3",
            width="100%",
            align="stretch",
        ),
    )
