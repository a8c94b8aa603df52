"""``/usage``: this period in words first, then the charts (plotly, mounted as they scroll into view)
and the itemised list. The only page that loads plotly, and only when a chart is on screen."""

from __future__ import annotations

import reflex as rx

from selfcare import styles
from selfcare.components.alert_notices import alert_notices
from selfcare.components.layout import card, error_callout, page, section_title, skeleton, tr
from selfcare.components.lazy import below_the_fold, lazy_mount
from selfcare.components.order_sheet import state_order_sheet
from selfcare.components.usage_row import usage_row
from selfcare.pages.usage.state import CATEGORIES, SERVICES, UsageState
from selfcare.presenters import CATEGORY_TEXT, SERVICE_TEXT
from selfcare.state.alerts import AlertNoticesState

C = styles.C
S = UsageState
PLOT_CONFIG = {"displayModeBar": False, "responsive": True, "scrollZoom": False, "staticPlot": False}
CHART_HEIGHT = "240px"  # charts.HEIGHT: the box is reserved before the chart mounts


def _chart(fig, id_: str, label: str) -> rx.Component:
    """A chart's card: the plotly figure, mounted once on screen and touched (``lazy.py``); until then its
    title on an empty card of the final size (hidden by CSS once the chart is in)."""
    return rx.box(
        lazy_mount(
            rx.plotly.basic(data=fig, config=PLOT_CONFIG, use_resize_handler=True, width="100%", height=CHART_HEIGHT),
            margin="0px",
            after_interaction=True,
            height=CHART_HEIGHT,
            width="100%",
            position="relative",
            z_index="1",
        ),
        rx.text(tr(label), class_name="chart-facade", aria_hidden="true"),
        style={**styles.card, "position": "relative"},
        padding="0.5rem",
        id=id_,
        overflow="hidden",
        class_name="usage-chart",
        role="img",
        aria_label=tr(label),
        height=f"calc({CHART_HEIGHT} + 1rem)",
        contain="layout size",
    )


_CHOSEN = {"background": C.primary, "color": C.primary_text, "border": f"1px solid {C.primary}"}
_NOT_CHOSEN = {"background": C.surface, "color": C.primary, "border": f"1px solid {C.primary}"}


def _choice(label: rx.Var, value: str, current: rx.Var, handler) -> rx.Component:
    """A filter button (brand colours: white on the primary colour, or the primary colour on white)."""
    chosen = current == value
    return rx.button(
        label,
        on_click=handler(value),
        size="2",
        aria_pressed=chosen,
        style={
            "cursor": "pointer",
            "min_height": "44px",
            "background": rx.cond(chosen, _CHOSEN["background"], _NOT_CHOSEN["background"]),
            "color": rx.cond(chosen, _CHOSEN["color"], _NOT_CHOSEN["color"]),
            "border": _CHOSEN["border"],
        },
    )


def _filters() -> rx.Component:
    service_labels, category_labels = SERVICE_TEXT, CATEGORY_TEXT
    return rx.vstack(
        rx.hstack(
            _choice(tr("All"), "", S.service, S.choose_service),
            *[_choice(tr(service_labels[s]), s, S.service, S.choose_service) for s in SERVICES],
            wrap="wrap",
            spacing="1",
            id="filter-service",
            role="group",
            aria_label=tr("Type"),
        ),
        rx.hstack(
            _choice(tr("All"), "", S.category, S.choose_category),
            *[_choice(tr(category_labels[c]), c, S.category, S.choose_category) for c in CATEGORIES],
            wrap="wrap",
            spacing="1",
            id="filter-category",
            role="group",
            aria_label=tr("Category"),
        ),
        spacing="2",
        width="100%",
    )


def _summary() -> rx.Component:
    """The period in words: what was used, whether it lasts, the days left; the data bar. Its box has
    the same height before the figures come (skeleton lines), so nothing below moves."""
    bar = rx.cond(
        S.data_share >= 0,
        rx.box(
            rx.box(height="100%", width=S.data_share.to_string() + "%", background=C.primary, border_radius="5px"),
            role="progressbar",
            aria_valuenow=S.data_share,
            aria_valuemin=0,
            aria_valuemax=100,
            aria_label=tr("Share of the data allowance used"),
            width="100%",
            height="10px",
            background="#e6eaee",
            border_radius="5px",
            id="usage-data-bar",
        ),
    )
    ready = rx.vstack(
        rx.text(S.days_left, style=styles.label, id="usage-days-left"),
        rx.vstack(
            rx.foreach(S.summary_lines, lambda t: rx.text(t, class_name="usage-sentence", size="3")),
            spacing="1",
            width="100%",
            id="usage-sentences",
        ),
        bar,
        spacing="2",
        width="100%",
        align="stretch",
    )
    waiting = rx.vstack(
        skeleton("0.9rem", "40%"),
        skeleton("1.2rem"),
        skeleton("1.2rem", "85%"),
        skeleton("1.2rem", "70%"),
        skeleton("10px"),
        spacing="2",
        width="100%",
    )
    return rx.box(
        rx.cond(S.summary_ready, ready, waiting),
        style=styles.card,
        id="usage-summary",
        min_height="9.5rem",
        aria_live="polite",
    )


def _plan() -> rx.Component:
    """``Mobil 5 GB hade räckt: 100 kr/mån billigare`` and the order sheet of the offer that sells it."""
    return rx.cond(
        S.plan_text != "",
        rx.hstack(
            rx.icon("sparkles", size=18, color=C.success, flex_shrink="0", margin_top="0.15rem"),
            rx.vstack(
                rx.text(S.plan_text, weight="bold", id="usage-plan-text"),
                rx.text(S.plan_basis, size="2", id="usage-plan-basis"),
                rx.cond(
                    S.plan_orderable,
                    rx.button(
                        tr("See the offer"),
                        rx.icon("chevron-right", size=18),
                        on_click=S.open_plan_order,
                        id="usage-plan-order",
                        size="3",
                        style=styles.secondary_button,
                    ),
                ),
                spacing="2",
                width="100%",
                align="stretch",
            ),
            align="start",
            spacing="2",
            padding="0.75rem",
            border_radius="12px",
            background="#e9f6ee",
            width="100%",
            id="usage-plan",
        ),
    )


def _sheet() -> rx.Component:
    return state_order_sheet(S, confirm_label=tr("Change plan"), on_confirm=S.confirm_plan, id_="usage-plan-sheet")


def _itemised() -> rx.Component:
    """The period's records, filterable, pageable, downloadable."""
    return card(
        section_title("Itemised usage"),
        _filters(),
        rx.hstack(
            rx.text(S.total, " ", tr("records"), style=styles.muted),
            rx.spacer(),
            rx.button(
                rx.icon("download", size=16),
                tr("Download CSV"),
                on_click=S.download_csv,
                id="csv-download",
                size="2",
                style={"cursor": "pointer", "min_height": "44px", **_NOT_CHOSEN},
            ),
            width="100%",
            align="center",
        ),
        rx.box(rx.foreach(S.rows, usage_row), width="100%", id="usage-list"),
        rx.hstack(
            rx.button(
                rx.icon("chevron-left"),
                on_click=S.prev_page,
                disabled=~S.has_prev,
                variant="outline",
                aria_label=tr("Newer"),
                style={"min_width": "44px", "min_height": "44px"},
            ),
            rx.text(S.page + 1, style=styles.muted),
            rx.button(
                rx.icon("chevron-right"),
                on_click=S.next_page,
                disabled=~S.has_next,
                variant="outline",
                aria_label=tr("Older"),
                style={"min_width": "44px", "min_height": "44px"},
            ),
            justify="between",
            align="center",
            width="100%",
        ),
    )


def _loading() -> rx.Component:
    """Before hydration: the page's first blocks at their final size."""
    return rx.fragment(
        skeleton("2rem", "45%"), skeleton("4rem"), skeleton("9.5rem"), skeleton(f"calc({CHART_HEIGHT} + 1rem)")
    )


def usage_page() -> rx.Component:
    return page(
        rx.heading(tr("Usage"), size="6", as_="h1"),
        error_callout(S.error),
        alert_notices(),
        rx.vstack(
            rx.el.label(tr("Period"), html_for="period-select", style={"font_weight": "600"}),
            rx.el.select(
                rx.foreach(S.period_options, lambda o: rx.el.option(o["label"], value=o["value"])),
                id="period-select",
                value=S.period,
                on_change=S.choose_period,
                style={
                    "width": "100%",
                    "min_height": "44px",
                    "padding": "0 0.5rem",
                    "border_radius": "8px",
                    "border": "1px solid #c5ced3",
                    "background": C.surface,
                    "font_size": "1rem",
                },
            ),
            spacing="1",
            width="100%",
        ),
        _summary(),
        # What follows the summary comes with it (the plan line is asked for alongside the summary):
        # until then one tall placeholder holds the footer below the screen, so nothing visible moves.
        rx.cond(
            S.summary_ready,
            rx.vstack(
                _plan(),
                _sheet(),
                _chart(S.data_fig, "chart-data", "Data used this period"),
                rx.cond(
                    S.mobile,
                    rx.fragment(
                        _chart(S.calls_fig, "chart-calls", "Call minutes per day"),
                        _chart(S.sms_fig, "chart-sms", "Texts per day"),
                    ),
                ),
                _chart(S.category_fig, "chart-category", "Cost by category (kr)"),
                _chart(S.invoices_fig, "chart-invoices", "Your last invoices (kr)"),
                below_the_fold(_itemised()),
                rx.link(tr("Alerts: choose what we tell you, and how"), href="/settings", style=styles.tap_link),
                spacing="4",
                width="100%",
                align="stretch",
            ),
            rx.box(skeleton(f"calc({CHART_HEIGHT} + 1rem)"), min_height="100vh", width="100%", id="usage-waiting"),
        ),
        active="Usage",
        reload=[UsageState.load, AlertNoticesState.load],
        loading=_loading(),
    )
