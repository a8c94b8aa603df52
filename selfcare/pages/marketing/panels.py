"""The selected offer's other panels in the marketing console: preview, schedule/stop, results."""

from __future__ import annotations

import reflex as rx

from selfcare import styles
from selfcare.components.layout import tr
from selfcare.components.offer_banner import banner_card
from selfcare.i18n import N_
from selfcare.pages.marketing.state import MarketingState

C = styles.C
M = MarketingState
PLOT_CONFIG = {"displayModeBar": False, "responsive": True}
_INPUT = {
    "min_height": "36px",
    "padding": "0 0.5rem",
    "border_radius": "6px",
    "border": "1px solid #cfd8dc",
    "background": C.surface,
    "font_size": "0.95rem",
}


def _box(*children: rx.Component, **props) -> rx.Component:
    return rx.vstack(*children, spacing="3", width="100%", align="stretch", style=styles.card, **props)


def _audience() -> rx.Component:
    """How many subscribers the saved rules match now, and a few of them (a tap previews for one)."""
    return _box(
        rx.heading(tr("Audience now"), size="4", as_="h2"),
        rx.hstack(
            rx.button(
                rx.icon("users", size=16),
                tr("Count matching subscribers"),
                on_click=M.preview_segment,
                id="segment-preview",
                size="2",
            ),
            rx.text(M.segment_text, weight="bold", id="segment-count"),
            align="center",
            spacing="3",
        ),
        rx.cond(
            M.segment_sample.length() > 0,
            rx.hstack(
                rx.text(tr("For example"), ":", size="2", color=C.muted),
                rx.foreach(
                    M.segment_sample,
                    lambda x: rx.button(
                        x["customer_number"],
                        " ",
                        x["name"],
                        variant="soft",
                        size="1",
                        class_name="segment-sample",
                        on_click=M.use_sample(x["customer_number"]),
                    ),
                ),
                wrap="wrap",
                spacing="2",
                align="center",
            ),
        ),
    )


def _as_subscriber() -> rx.Component:
    """One subscriber's view: whether the rules match them and why, and the banner as they would see it."""
    return _box(
        rx.heading(tr("As a subscriber sees it"), size="4", as_="h2"),
        rx.form(
            rx.hstack(
                rx.el.input(
                    name="customer_number",
                    id="preview-customer",
                    placeholder="K100004",
                    default_value=M.preview_customer,
                    max_length=20,
                    style=_INPUT,
                    aria_label=tr("Customer number"),
                ),
                rx.button(tr("Show"), type="submit", size="2", id="preview-show"),
                spacing="2",
                align="center",
            ),
            on_submit=M.preview_for,
            reset_on_submit=False,
        ),
        rx.cond(
            M.preview_matches != "",
            rx.vstack(
                rx.text(M.preview_customer, ": ", rx.text.strong(M.preview_matches), id="preview-matches"),
                rx.el.ul(
                    rx.foreach(M.preview_reasons, lambda r: rx.el.li(r, class_name="preview-reason")),
                    style={"margin": "0", "padding_left": "1.2rem"},
                ),
                spacing="1",
            ),
        ),
        rx.cond(
            M.preview_banner.contains("offer_id"),
            rx.box(
                banner_card(M.preview_banner, interactive=False),
                width="360px",
                padding="0.75rem",
                background=C.background,
                border_radius="12px",
                id="preview-banner",
            ),
        ),
    )


def preview_panel() -> rx.Component:
    """How many subscribers match now (saved rules), and the banner as one of them would see it."""
    return rx.vstack(_audience(), _as_subscriber(), spacing="4", width="100%")


def schedule_panel() -> rx.Component:
    """Start and end of the selected offer (Stockholm time); stop it at once."""
    return _box(
        rx.heading(tr("Schedule"), size="4", as_="h2"),
        rx.text(tr("Empty start: from now. Empty end: until stopped."), size="2", color=C.muted),
        rx.form(
            rx.hstack(
                rx.vstack(
                    rx.el.label(tr("Start"), html_for="schedule-start"),
                    rx.el.input(
                        type="datetime-local",
                        name="starts_at",
                        id="schedule-start",
                        default_value=M.starts_at,
                        style=_INPUT,
                    ),
                    spacing="1",
                ),
                rx.vstack(
                    rx.el.label(tr("End"), html_for="schedule-end"),
                    rx.el.input(
                        type="datetime-local", name="ends_at", id="schedule-end", default_value=M.ends_at, style=_INPUT
                    ),
                    spacing="1",
                ),
                rx.button(
                    rx.icon("calendar-check", size=16), tr("Schedule"), type="submit", id="schedule-save", size="2"
                ),
                spacing="3",
                align="end",
                wrap="wrap",
            ),
            on_submit=M.schedule,
            reset_on_submit=False,
            key=M.form_key,
        ),
        rx.separator(),
        rx.hstack(
            rx.text(tr("Status"), ": ", rx.text.strong(M.selected_status_text, id="offer-status-text")),
            rx.spacer(),
            rx.cond(
                (M.selected_status == "active") | (M.selected_status == "scheduled"),
                rx.button(
                    rx.icon("octagon-x", size=16),
                    tr("Stop the offer"),
                    on_click=M.stop_offer,
                    color_scheme="red",
                    variant="soft",
                    size="2",
                    id="stop-offer",
                ),
            ),
            width="100%",
            align="center",
        ),
    )


def _figure(label_key: str, value: rx.Var, id_: str) -> rx.Component:
    return rx.vstack(
        rx.text(tr(label_key), size="1", color=C.muted, text_transform="uppercase"),
        rx.text(value, size="6", weight="bold", id=id_),
        spacing="0",
        style={**styles.card, "width": "auto", "min_width": "9rem"},
    )


def results_panel() -> rx.Component:
    """Impressions, clicks, acceptances, conversion rate, extra monthly revenue; per day and as a funnel."""
    r = M.results
    return rx.vstack(
        rx.hstack(
            _figure(N_("Impressions"), r["impressions"], "result-impressions"),
            _figure(N_("Clicks"), r["clicks"], "result-clicks"),
            _figure(N_("Acceptances"), r["acceptances"], "result-acceptances"),
            _figure(N_("Dismissals"), r["dismissals"], "result-dismissals"),
            _figure(N_("Conversion"), r["conversion"], "result-conversion"),
            _figure(N_("Extra monthly revenue"), r["extra_revenue"], "result-revenue"),
            rx.button(
                rx.icon("refresh-cw", size=14),
                tr("Refresh"),
                on_click=M.show_results,
                variant="soft",
                size="2",
                id="results-refresh",
            ),
            wrap="wrap",
            spacing="3",
            align="center",
        ),
        rx.text(
            tr(
                "Conversion: acceptances per subscriber view. Extra revenue: the monthly fee difference of "
                "accepted upgrades (or the add-on's price), before any temporary discount."
            ),
            size="1",
            color=C.muted,
        ),
        rx.grid(
            rx.box(
                rx.plotly.basic(
                    data=M.daily_fig, config=PLOT_CONFIG, use_resize_handler=True, width="100%", height="300px"
                ),
                style=styles.card,
                id="results-daily",
            ),
            rx.box(
                rx.plotly.basic(
                    data=M.funnel_fig, config=PLOT_CONFIG, use_resize_handler=True, width="100%", height="300px"
                ),
                style=styles.card,
                id="results-funnel",
            ),
            columns="2",
            spacing="4",
            width="100%",
        ),
        spacing="4",
        width="100%",
        align="stretch",
    )
