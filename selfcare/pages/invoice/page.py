"""``/invoices/[invoice_id]``: the invoice as a living page."""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.components.icons import timeline_icon
from selfcare.components.layout import card, error_callout, page, section_title, skeleton, tr
from selfcare.components.lazy import below_the_fold
from selfcare.components.offer_banner import offer_banner
from selfcare.components.usage_row import usage_row
from selfcare.pages.invoice.head_card import head_card
from selfcare.pages.invoice.state import InvoiceState
from selfcare.pages.invoice.thread_card import thread_card
from selfcare.state.offers import OffersState
from selfcare.state.session import SessionState

C = styles.C
S = InvoiceState


def _kv(label_key: str, value: rx.Var, id_: str) -> rx.Component:
    return rx.hstack(
        rx.text(tr(label_key), style=styles.muted),
        rx.spacer(),
        rx.text(value, weight="bold", id=id_, font_variant_numeric="tabular-nums"),
        width="100%",
        align="baseline",
    )


def _overdue_note() -> rx.Component:
    """ "Your invoices from Nordvik Telecom (2 overdue)": all of them are one tap away (a link's session
    signs in first)."""
    return rx.link(
        rx.hstack(
            rx.icon("files", size=18),
            rx.text(S.view["overdue_note"].to(str), weight="medium"),
            rx.spacer(),
            rx.icon("chevron-right", size=16),
            width="100%",
            align="center",
        ),
        href=rx.cond(SessionState.signed_in, "/invoices", "/login"),
        id="customer-overdue",
        underline="none",
        color=C.danger,
        padding="0.75rem 1rem",
        border="1px solid",
        border_radius="12px",
        width="100%",
    )


def _payment_details() -> rx.Component:
    v = S.view
    return card(
        section_title("Pay with your bank app"),
        _kv("Bankgiro", v["bankgiro"].to(str), "bankgiro"),
        _kv("OCR number", v["ocr"].to(str), "ocr"),
        _kv("Amount", v["balance"].to(str), "qr-amount"),
        _kv("Due date", v["due"].to(str), "qr-due"),
        rx.cond(
            S.qr_svg != "",
            rx.vstack(
                rx.box(
                    rx.html(S.qr_svg),
                    id="qr-code",
                    width="180px",
                    height="180px",
                    margin="0 auto",
                    role="img",
                    aria_label=tr("QR code for your bank app"),
                    style={"& svg": {"width": "100%", "height": "100%"}},
                ),
                rx.text(
                    tr("Scan the code in your bank app to fill in the payment."),
                    style=styles.muted,
                    text_align="center",
                ),
                align="center",
                width="100%",
                spacing="1",
            ),
        ),
    )


def _explain() -> rx.Component:
    return rx.cond(
        S.explain_summary != "",
        card(
            section_title("Why is this invoice different?"),
            rx.text(S.explain_summary),
            rx.foreach(
                S.explain_rows,
                lambda r: rx.hstack(
                    rx.text(
                        r["delta"],
                        weight="bold",
                        color=rx.cond(r["tone"] == "red", C.danger, C.success),
                        min_width="6.5rem",
                        font_variant_numeric="tabular-nums",
                    ),
                    rx.text(r["text"]),
                    align="start",
                    width="100%",
                    class_name="explain-item",
                ),
            ),
            id="explain",
        ),
    )


def _spec_line(line: ObjectVar[dict[str, str]]) -> rx.Component:
    body = rx.hstack(
        rx.vstack(
            rx.text(line["description"], weight="medium"),
            rx.text(
                line["quantity"], " × ", line["unit_price"], " · ", tr("VAT"), " ", line["vat"], style=styles.muted
            ),
            spacing="0",
            align="start",
            flex="1",
            min_width="0",
        ),
        rx.text(line["amount"], weight="medium", white_space="nowrap", font_variant_numeric="tabular-nums"),
        rx.cond(line["drill"] != "", rx.icon("chevron-right", size=16, color=C.muted)),
        width="100%",
        align="center",
        padding="0.5rem 0",
        border_bottom="1px solid #eef1f3",
    )
    return rx.cond(
        line["drill"] != "",
        rx.box(
            body,
            on_click=S.open_line(line["position"].to(int)),
            cursor="pointer",
            role="button",
            tab_index=0,
            class_name="spec-line spec-line-usage",
        ),  # named by what it shows, amount included
        rx.box(body, class_name="spec-line"),
    )


def _total(label_key: str, value: rx.Var, strong: bool = False, id_: str | None = None) -> rx.Component:
    return rx.hstack(
        rx.text(tr(label_key), weight="bold" if strong else "regular"),
        rx.spacer(),
        rx.text(value, weight="bold" if strong else "regular", id=id_, font_variant_numeric="tabular-nums"),
        width="100%",
    )


def _specification() -> rx.Component:
    v = S.view
    return card(
        section_title("Specification"),
        rx.text(tr("Tap a usage line to see the calls, texts and data behind it."), style=styles.muted),
        rx.box(rx.foreach(S.lines, _spec_line), width="100%"),
        rx.foreach(
            S.vat_rows,
            lambda r: rx.text(
                tr("VAT"),
                " ",
                r["rate"],
                ": ",
                r["vat"],
                " ",
                tr("of"),
                " ",
                r["net"],
                style=styles.muted,
                class_name="vat-row",
            ),
        ),
        _total("Net", v["net"].to(str)),
        _total("VAT", v["vat"].to(str)),
        _total("Total incl. VAT", v["gross"].to(str)),
        _total("Rounding", v["rounding"].to(str)),
        rx.cond(
            v["is_credit_note"].to(bool),
            _total("Credited", v["to_pay"].to(str), strong=True, id_="spec-to-pay"),
            _total("To pay", v["to_pay"].to(str), strong=True, id_="spec-to-pay"),
        ),
        id="spec-table",
    )


def _plans() -> rx.Component:
    return rx.cond(
        S.plans.length() > 0,
        card(
            section_title("Your plan"),
            rx.foreach(
                S.plans,
                lambda p: rx.vstack(
                    rx.hstack(
                        rx.text(p["name"], weight="bold"),
                        rx.spacer(),
                        rx.text(p["fee"], " / ", tr("month")),
                        width="100%",
                    ),
                    rx.text(p["msisdn"], " · ", p["span"], style=styles.muted),
                    rx.text(tr("Includes"), ": ", p["includes"]),
                    rx.text(p["description"], style=styles.muted),
                    spacing="0",
                    width="100%",
                    class_name="plan",
                ),
            ),
            id="plans",
        ),
    )


def _usage_summary() -> rx.Component:
    """What each subscription used in the period, with one bar for data against the allowance."""
    return rx.cond(
        S.usage_summary.length() > 0,
        card(
            section_title("Your usage this period"),
            rx.foreach(
                S.usage_summary,
                lambda u: rx.vstack(
                    rx.text(u["who"], size="2", style=styles.muted),
                    rx.text(u["text"], weight="medium"),
                    rx.cond(
                        u["bar"] != "",
                        rx.box(
                            rx.box(height="100%", width=u["bar"] + "%", background=C.primary, border_radius="4px"),
                            role="progressbar",
                            aria_valuenow=u["bar"],
                            aria_valuemin="0",
                            aria_valuemax="100",
                            aria_label=u["text"],
                            width="100%",
                            height="8px",
                            background="#e6eaee",
                            border_radius="4px",
                            overflow="hidden",
                            class_name="usage-bar",
                        ),
                    ),
                    rx.cond(u["note"] != "", rx.text(u["note"], size="1", color=C.muted)),
                    spacing="1",
                    width="100%",
                    class_name="usage-summary",
                ),
            ),
            id="usage-summary",
        ),
    )


def _more(condition: rx.Var, handler, element_id: str) -> rx.Component:
    """ "Show more" under a list of records that has more than one page."""
    return rx.cond(
        condition,
        rx.button(
            tr("Show more"),
            on_click=handler,
            id=element_id,
            variant="soft",
            size="3",
            width="100%",
            margin_top="0.5rem",
        ),
    )


def _usage() -> rx.Component:
    return rx.cond(
        S.usage_rows.length() > 0,
        card(
            section_title("Itemised usage"),
            rx.el.details(
                rx.el.summary(
                    tr("Show"),
                    " ",
                    S.usage_total,
                    " ",
                    tr("records"),
                    style={"cursor": "pointer", "color": C.primary, "font_weight": "600", **styles.tap_block},
                ),
                rx.box(rx.foreach(S.usage_rows, usage_row), width="100%"),
                _more(S.usage_rows.length() < S.usage_total, S.more_usage, "usage-more"),
            ),
            id="invoice-usage",
        ),
    )


def _timeline() -> rx.Component:
    return card(
        section_title("Timeline"),
        rx.foreach(
            S.timeline,
            lambda e: rx.hstack(
                timeline_icon(e["icon"], size=18, color=C.primary, flex_shrink="0"),
                rx.vstack(rx.text(e["text"]), rx.text(e["at"], style=styles.muted), spacing="0"),
                align="start",
                width="100%",
                class_name="timeline-event",
                data_kind=e["kind"],
            ),
        ),
        id="timeline",
    )


def _parties() -> rx.Component:
    v = S.view
    return card(
        section_title("Sender and recipient"),
        rx.text(v["seller_name"].to(str), weight="bold"),
        rx.foreach(v["seller_lines"].to(list[str]), lambda x: rx.text(x, style=styles.muted)),
        rx.text(tr("Customer service"), ": ", v["support_phone"].to(str), " · ", v["support_email"].to(str), size="2"),
        rx.separator(),
        rx.text(v["buyer_name"].to(str), weight="bold"),
        rx.foreach(v["buyer_lines"].to(list[str]), lambda x: rx.text(x, style=styles.muted)),
        rx.text(tr("Customer number"), ": ", v["customer_number"].to(str), style=styles.muted),
        rx.text(tr("Invoice date"), ": ", v["invoice_date"].to(str), style=styles.muted),
        rx.text(v["late_note"].to(str), size="1", color=C.muted),
        rx.text(v["disputes"].to(str), size="1", color=C.muted),
    )


def _drill() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(S.drill_title),
            rx.dialog.description(S.drill_total, " ", tr("records"), style=styles.muted),
            rx.cond(S.drill_note != "", rx.text(S.drill_note, size="2", style=styles.muted, id="drill-note")),
            rx.box(
                rx.foreach(S.drill_rows, usage_row),
                _more(S.drill_rows.length() < S.drill_total, S.more_drill, "drill-more"),
                max_height="60vh",
                overflow_y="auto",
                width="100%",
                id="drill-rows",
            ),
            # The records add up to the line: their display rounding, then the line's own amount.
            rx.cond(
                S.drill_rounding != "",
                rx.hstack(
                    rx.text(tr("Rounding of the records"), size="2", color=C.muted),
                    rx.spacer(),
                    rx.text(S.drill_rounding, size="2", font_variant_numeric="tabular-nums"),
                    width="100%",
                    padding="0.35rem 0",
                    id="drill-rounding",
                ),
            ),
            rx.cond(
                S.drill_amount != "",
                rx.hstack(
                    rx.text(tr("Line total"), weight="bold", size="2"),
                    rx.spacer(),
                    rx.text(S.drill_amount, weight="bold", size="2", font_variant_numeric="tabular-nums"),
                    width="100%",
                    padding="0.35rem 0",
                    border_top="1px solid #d8dee3",
                    id="drill-sum",
                ),
            ),
            rx.dialog.close(
                rx.button(tr("Close"), on_click=S.close_line, style=styles.secondary_button, margin_top="0.75rem")
            ),
            max_width="min(36rem, 94vw)",
            id="drill-dialog",
        ),
        open=S.drill_open,
        on_open_change=S.set_drill_open,
    )


def _loading() -> rx.Component:
    """The invoice's layout before its data: grey blocks where the values go, no text, no spinner jump."""
    return rx.vstack(
        card(
            skeleton("1.1rem", "60%"),
            skeleton("0.9rem", "40%"),
            skeleton("2.2rem", "10rem", margin_top="0.5rem"),
            skeleton("1.1rem", "14rem"),
            skeleton("2.75rem", "100%", margin_top="0.5rem"),
            skeleton("2.75rem", "100%"),
        ),
        card(skeleton("1.3rem", "50%"), skeleton("1rem", "100%"), skeleton("1rem", "100%"), skeleton("1rem", "80%")),
        spacing="4",
        width="100%",
        align="stretch",
        id="invoice-loading",
        aria_busy="true",
    )


def invoice_page() -> rx.Component:
    return page(
        rx.cond(
            S.not_found,
            card(
                rx.heading(tr("Invoice not found"), size="5", as_="h1"),
                rx.text(tr("The invoice does not exist or is not yours.")),
                rx.cond(SessionState.signed_in, rx.link(tr("All invoices"), href="/invoices", style=styles.tap_link)),
                id="not-found",
            ),
            rx.cond(
                S.view.contains("id"),
                rx.vstack(
                    rx.cond(
                        SessionState.signed_in,
                        rx.link(
                            rx.hstack(
                                rx.icon("chevron-left", size=16), tr("All invoices"), align="center", spacing="1"
                            ),
                            href="/invoices",
                            size="2",
                            style=styles.tap_link,
                        ),
                    ),
                    error_callout(S.error),
                    head_card(),
                    rx.cond(S.view["overdue_note"].to(str) != "", _overdue_note()),
                    rx.cond(S.view["payable"].to(bool), _payment_details()),
                    rx.cond(S.view["is_credit_note"].to(bool), rx.fragment(), _explain()),
                    # The banners come in their own event after the page has shown: under the amount and
                    # the pay button, so that their arrival moves nothing the subscriber is about to tap.
                    offer_banner("invoice"),
                    # Below the first screen: rendered when the browser is idle or they scroll near (lazy.py).
                    below_the_fold(_usage_summary()),
                    below_the_fold(_specification()),
                    below_the_fold(_plans()),
                    below_the_fold(rx.cond(S.view["is_credit_note"].to(bool), rx.fragment(), _usage())),
                    below_the_fold(_timeline()),
                    below_the_fold(thread_card()),
                    below_the_fold(_parties()),
                    _drill(),
                    spacing="4",
                    width="100%",
                    align="stretch",
                ),
                _loading(),
            ),
        ),
        active="Invoices",
        reload=[InvoiceState.load, OffersState.reload],
        loading=_loading(),
    )
