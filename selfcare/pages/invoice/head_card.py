"""The invoice page's first card: who sends it and what it is, what is left to pay and what happens
next, and the buttons (Pay, or the automatic payment; the PDF). One part per block, top to bottom."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.components.autopay_status import invoice_autopay, invoice_autopay_failed
from selfcare.components.layout import card, status_badge, tr
from selfcare.pages.invoice.state import InvoiceState

C = styles.C
S = InvoiceState

View = ObjectVar[dict[str, Any]]


def head_card() -> rx.Component:
    """The invoice's first card (see the module docstring)."""
    v = S.view
    return card(
        _title(v),
        *_amount(v),
        *_state(v),
        _credit_notes(v),
        *_notes(v),
        _pay_or_settled(v),
        rx.cond(S.autopay["failed"].to(str) != "", invoice_autopay_failed()),
        _pdf_button(),
    )


def _title(v: View) -> rx.Component:
    """The sender, the page's heading (credit note or invoice, number, period) and the status badge."""
    return rx.hstack(
        rx.vstack(
            rx.text(v["seller_name"].to(str), weight="bold", id="invoice-sender"),
            # The page's one level-one heading: what this document is.
            rx.heading(
                rx.cond(v["is_credit_note"].to(bool), tr("Credit note"), tr("Invoice")),
                " ",
                v["number"].to(str),
                " · ",
                v["period"].to(str),
                as_="h1",
                size="2",
                weight="regular",
                style=styles.muted,
                id="invoice-number",
            ),
            spacing="0",
        ),
        rx.spacer(),
        status_badge(v["status"].to(str), v["tone"].to(str), id="invoice-status"),
        width="100%",
        align="start",
    )


def _amount(v: View) -> tuple[rx.Component, ...]:
    """The headline and its amount (struck through beside it: the amount before credits)."""
    return (
        rx.text(v["headline_label"].to(str), style=styles.label, margin_top="0.5rem", id="invoice-headline"),
        rx.hstack(
            rx.text(v["amount"].to(str), id="invoice-amount", style=styles.amount_big),
            rx.cond(
                v["original_amount"].to(str) != "",
                rx.text(
                    v["original_amount"].to(str),
                    text_decoration="line-through",
                    style=styles.muted,
                    id="invoice-original-amount",
                ),
            ),
            align="baseline",
            spacing="3",
        ),
    )


def _state(v: View) -> tuple[rx.Component, ...]:
    """The state in one line (due, paid, overdue), what is left to pay, the reminder fee and late interest."""
    return (
        rx.text(
            v["state_line"].to(str),
            id="invoice-due",
            weight="medium",
            color=rx.cond(v["overdue"].to(bool), C.danger, C.text),
        ),
        rx.cond(
            v["show_balance"].to(bool),
            rx.text(
                tr("Left to pay"),
                ": ",
                rx.text.strong(v["balance"].to(str), id="invoice-balance-amount"),
                id="invoice-balance",
            ),
        ),
        rx.cond(
            v["fees"].to(str) != "",
            rx.text(tr("Reminder fee"), ": ", v["fees"].to(str), style=styles.muted, id="invoice-fees"),
        ),
        rx.cond(
            v["interest"].to(str) != "",
            rx.text(tr("Late interest"), ": ", v["interest"].to(str), style=styles.muted, id="invoice-interest"),
        ),
    )


def _credit_notes(v: View) -> rx.Component:
    """The credit notes against this invoice, each a link to its own page."""
    return rx.foreach(
        v["credit_notes"].to(list[dict[str, str]]),
        lambda c: rx.link(
            rx.hstack(
                rx.icon("undo-2", size=16, flex_shrink="0"),
                rx.text(tr("Credit note"), " ", c["number"], " · ", c["date"], flex="1", min_width="0"),
                rx.text(c["amount"], font_variant_numeric="tabular-nums", white_space="nowrap"),
                width="100%",
                align="center",
            ),
            href="/invoices/" + c["id"],
            class_name="credit-note-link",
            width="100%",
            padding="0.35rem 0",
        ),
    )


def _notes(v: View) -> tuple[rx.Component, ...]:
    """What happens next (the dunning step), a respite granted, money owed to the customer."""
    return (
        rx.cond(
            v["next_step"].to(str) != "",
            rx.callout(
                v["next_step"].to(str),
                icon="calendar-clock",
                color_scheme=rx.cond(v["overdue"].to(bool), "red", "gray"),
                size="1",
                id="invoice-next-step",
            ),
        ),
        rx.cond(v["respite"].to(str) != "", rx.text(v["respite"].to(str), size="2", id="invoice-respite")),
        rx.cond(
            v["owed"].to(str) != "",
            rx.callout(v["owed"].to(str), icon="piggy-bank", color_scheme="green", size="1", id="invoice-owed"),
        ),
    )


def _pay_or_settled(v: View) -> rx.Component:
    """The automatic payment when there is one; else Pay while payable; else "nothing left to pay"."""
    return rx.cond(
        S.autopay["text"].to(str) != "",
        invoice_autopay(S.autopay),
        rx.cond(
            v["payable"].to(bool),
            rx.button(
                rx.icon("credit-card", size=18),
                tr("Pay"),
                id="pay-button",
                on_click=S.pay,
                loading=S.paying,
                size="3",
                style=styles.primary_button,
                margin_top="0.5rem",
            ),
            rx.cond(
                v["open"].to(bool),
                rx.fragment(),
                rx.callout(
                    tr("Nothing left to pay on this invoice."),
                    icon="circle-check",
                    color_scheme="green",
                    id="invoice-settled",
                ),
            ),
        ),
    )


def _pdf_button() -> rx.Component:
    return rx.button(
        rx.icon("file-down", size=18),
        tr("Download PDF"),
        id="pdf-link",
        on_click=S.download_pdf,
        size="3",
        style=styles.secondary_button,
    )
