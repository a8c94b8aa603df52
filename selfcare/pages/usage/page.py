"""``/usage``: charts for a chosen period and the itemised list. The only page that loads plotly."""

from __future__ import annotations

import reflex as rx

from selfcare import styles
from selfcare.components.layout import card, error_callout, page, section_title, tr
from selfcare.components.usage_row import usage_row
from selfcare.pages.usage.state import CATEGORIES, SERVICES, UsageState
from selfcare.presenters import CATEGORY_TEXT, SERVICE_TEXT

C = styles.C
S = UsageState
PLOT_CONFIG = {"displayModeBar": False, "responsive": True, "scrollZoom": False}


def _chart(fig, id_: str) -> rx.Component:
    return rx.box(
        rx.plotly.basic(data=fig, config=PLOT_CONFIG, use_resize_handler=True, width="100%", height="260px"),
        style=styles.card, padding="0.5rem", id=id_, overflow="hidden", class_name="usage-chart",
    )


def _choice(label: rx.Var, value: str, current: rx.Var, handler) -> rx.Component:
    return rx.button(label, on_click=handler(value), size="1", variant=rx.cond(current == value, "solid", "soft"),
                     style={"cursor": "pointer"})


def _filters() -> rx.Component:
    service_labels, category_labels = SERVICE_TEXT, CATEGORY_TEXT
    return rx.vstack(
        rx.hstack(_choice(tr("All"), "", S.service, S.choose_service),
                  *[_choice(tr(service_labels[s]), s, S.service, S.choose_service) for s in SERVICES],
                  wrap="wrap", spacing="1", id="filter-service", role="group", aria_label=tr("Type")),
        rx.hstack(_choice(tr("All"), "", S.category, S.choose_category),
                  *[_choice(tr(category_labels[c]), c, S.category, S.choose_category) for c in CATEGORIES],
                  wrap="wrap", spacing="1", id="filter-category", role="group", aria_label=tr("Category")),
        spacing="2", width="100%",
    )


def usage_page() -> rx.Component:
    return page(
        rx.heading(tr("Usage"), size="6", as_="h1"),
        error_callout(S.error),
        rx.vstack(
            rx.el.label(tr("Period"), html_for="period-select", style={"font_weight": "600"}),
            rx.el.select(
                rx.foreach(S.period_options, lambda o: rx.el.option(o["label"], value=o["value"])),
                id="period-select", value=S.period, on_change=S.choose_period,
                style={"width": "100%", "min_height": "44px", "padding": "0 0.5rem", "border_radius": "8px",
                       "border": "1px solid #c5ced3", "background": C.surface, "font_size": "1rem"},
            ),
            spacing="1", width="100%",
        ),
        _chart(S.data_fig, "chart-data"),
        _chart(S.calls_fig, "chart-calls"),
        _chart(S.category_fig, "chart-category"),
        _chart(S.invoices_fig, "chart-invoices"),
        card(
            section_title("Itemised usage"),
            _filters(),
            rx.hstack(rx.text(S.total, " ", tr("records"), style=styles.muted), rx.spacer(),
                      rx.button(rx.icon("download", size=16), tr("Download CSV"), on_click=S.download_csv,
                                id="csv-download", variant="soft", size="2", style={"cursor": "pointer"}),
                      width="100%", align="center"),
            rx.box(rx.foreach(S.rows, usage_row), width="100%", id="usage-list"),
            rx.hstack(
                rx.button(rx.icon("chevron-left"), on_click=S.prev_page, disabled=~S.has_prev, variant="soft",
                          aria_label=tr("Newer")),
                rx.text(S.page + 1, style=styles.muted),
                rx.button(rx.icon("chevron-right"), on_click=S.next_page, disabled=~S.has_next, variant="soft",
                          aria_label=tr("Older")),
                justify="between", align="center", width="100%",
            ),
        ),
        active="Usage", reload=UsageState.load,
    )
