"""The offer form of the marketing console: content, what it sells, price terms, cap, placements,
segment rules (plans, data usage, overage, roaming, tenure, exclusions, recommendation) and the image."""

from __future__ import annotations

import reflex as rx

from selfcare import styles
from selfcare.components.layout import tr
from selfcare.i18n import N_
from selfcare.pages.marketing.image import MAX_IMAGE_BYTES
from selfcare.pages.marketing.state import MarketingState

C = styles.C
M = MarketingState

_INPUT = {
    "width": "100%",
    "min_height": "36px",
    "padding": "0 0.5rem",
    "border_radius": "6px",
    "border": "1px solid #cfd8dc",
    "background": C.surface,
    "font_size": "0.95rem",
}


def _label(key: str, html_for: str) -> rx.Component:
    return rx.el.label(tr(key), html_for=html_for, style={"font_size": "0.85rem", "font_weight": "600"})


def field(key: str, name: str, *, type_: str = "text", width: str = "100%", hint: str = "", **props) -> rx.Component:
    """A labelled input whose starting value is the form's ``name``."""
    return rx.vstack(
        _label(key, f"offer-{name}"),
        rx.el.input(name=name, id=f"offer-{name}", type=type_, default_value=M.form[name], style=_INPUT, **props),
        *([rx.text(tr(hint), size="1", color=C.muted)] if hint else []),
        spacing="1",
        width=width,
        align="stretch",
    )


def number(key: str, name: str, width: str = "7rem") -> rx.Component:
    return field(key, name, type_="number", width=width, min="0", step="1")


def check(key: str, name: str) -> rx.Component:
    return rx.el.label(
        rx.el.input(
            type="checkbox",
            name=name,
            id=f"offer-{name}",
            default_checked=M.form[name] == "on",
            style={"width": "18px", "height": "18px"},
        ),
        tr(key),
        style={"display": "flex", "gap": "0.5rem", "align_items": "center", "cursor": "pointer"},
    )


def _group(title: str, *children: rx.Component) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(tr(title), style={"font_weight": "700", "padding": "0 0.35rem"}),
        rx.vstack(*children, spacing="3", width="100%", align="stretch"),
        style={"border": "1px solid #dfe6ea", "border_radius": "8px", "padding": "0.75rem 1rem", "width": "100%"},
    )


def _row(*children: rx.Component) -> rx.Component:
    return rx.hstack(*children, spacing="3", width="100%", align="end", wrap="wrap")


def image_upload() -> rx.Component:
    """The banner image: drop or choose one file (PNG, JPEG, WebP, ≤ 1 MB; checked again on upload)."""
    return _group(
        N_("Image"),
        rx.hstack(
            rx.cond(
                M.image_src != "",
                rx.image(
                    src=M.image_src, alt="", width="12rem", height="auto", border_radius="6px", id="offer-image-preview"
                ),
            ),
            rx.upload(
                rx.vstack(
                    rx.icon("image-up", size=22, color=C.primary),
                    rx.text(tr("Drop a picture here or click to choose one"), size="2"),
                    rx.text(tr("PNG, JPEG or WebP, at most 1 MB"), size="1", color=C.muted),
                    align="center",
                    spacing="1",
                ),
                id="offer-image",
                multiple=False,
                max_files=1,
                max_size=MAX_IMAGE_BYTES,
                accept={"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"], "image/webp": [".webp"]},
                on_drop=M.upload_image,
                on_drop_rejected=M.image_rejected,
                border="1px dashed #9fb3bd",
                border_radius="8px",
                padding="1rem",
                cursor="pointer",
                flex="1",
            ),
            rx.cond(
                M.image_src != "",
                rx.button(tr("Remove"), on_click=M.remove_image, variant="soft", size="1", color_scheme="red"),
            ),
            width="100%",
            align="center",
            spacing="3",
        ),
        rx.cond(
            M.image_error != "",
            rx.callout(M.image_error, icon="triangle-alert", color_scheme="red", id="offer-image-error", size="1"),
        ),
    )


def _banner_group() -> rx.Component:
    """The banner's own texts."""
    return _group(
        N_("Banner"),
        field(N_("Internal name"), "name", max_length=120),
        field(N_("Title"), "title", max_length=120),
        rx.vstack(
            _label(N_("Text"), "offer-body"),
            rx.el.textarea(
                name="body",
                id="offer-body",
                default_value=M.form["body"],
                rows=3,
                max_length=600,
                style={**_INPUT, "padding": "0.5rem"},
            ),
            spacing="1",
            width="100%",
        ),
        field(N_("Button text"), "cta", max_length=40),
    )


def _sells_group() -> rx.Component:
    """What the offer sells, on which terms, from when."""
    return _group(
        N_("What it sells"),
        rx.vstack(
            _label(N_("Sells"), "offer-sells"),
            rx.el.select(
                rx.el.option("–", value=""),
                rx.foreach(M.sells_options, lambda o: rx.el.option(o["label"], value=o["value"])),
                name="sells",
                id="offer-sells",
                default_value=M.form["sells"],
                style=_INPUT,
            ),
            spacing="1",
            width="100%",
        ),
        _row(
            field(N_("Discount (%)"), "terms_percent", width="8rem", inputmode="decimal"),
            field(N_("Discount (kr)"), "terms_amount_kr", width="8rem", inputmode="decimal"),
            number(N_("Discount months"), "terms_periods", "9rem"),
        ),
        field(N_("Price terms (Swedish)"), "terms_text_sv", hint=N_("E.g. 3 mån 0 kr, sedan 299 kr/mån")),
        field(N_("Price terms (English)"), "terms_text_en", hint=N_("E.g. 3 months 0 kr, then 299 kr/month")),
        rx.vstack(
            _label(N_("Takes effect"), "offer-effective"),
            rx.el.select(
                rx.el.option(tr("Now (prorated)"), value="now"),
                rx.el.option(tr("From the next period"), value="next_period"),
                name="effective",
                id="offer-effective",
                default_value=M.form["effective"],
                style=_INPUT,
            ),
            spacing="1",
            width="16rem",
        ),
    )


def _where_group() -> rx.Component:
    """Which pages show it, its priority and how often one subscriber sees it."""
    return _group(
        N_("Where and how often"),
        rx.hstack(
            check(N_("Overview"), "placement_overview"), check(N_("Invoice page"), "placement_invoice"), spacing="5"
        ),
        _row(
            number(N_("Priority"), "priority"),
            number(N_("Shown at most (times)"), "cap_impressions", "11rem"),
            number(N_("Per (days)"), "cap_days"),
        ),
    )


def _who_group() -> rx.Component:
    """Who sees it: the segment rules."""
    return _group(
        N_("Who sees it"),
        rx.vstack(
            rx.text(tr("Current plan (none ticked: any plan)"), size="2", weight="bold"),
            rx.hstack(
                rx.foreach(
                    M.plan_options,
                    lambda p: rx.el.label(
                        rx.el.input(
                            type="checkbox",
                            name="rule_plan_" + p["id"],
                            id="offer-plan-" + p["id"],
                            default_checked=M.form_plans.contains(p["id"]),
                            style={"width": "18px", "height": "18px"},
                        ),
                        p["name"],
                        style={"display": "flex", "gap": "0.4rem", "align_items": "center", "cursor": "pointer"},
                    ),
                ),
                spacing="4",
                wrap="wrap",
            ),
            spacing="1",
            width="100%",
        ),
        rx.text(
            tr("Data usage: at least this share of the allowance in N of the last M invoiced periods"),
            size="2",
            weight="bold",
        ),
        _row(
            number(N_("At least (%)"), "data_min_percent"),
            number(N_("In (periods)"), "data_periods"),
            number(N_("Of the last"), "data_of_last"),
        ),
        rx.text(tr("Overage: paid beyond the allowance in N of the last M periods"), size="2", weight="bold"),
        _row(
            field(N_("At least (kr)"), "overage_min_kr", width="8rem", inputmode="decimal"),
            number(N_("In (periods)"), "overage_periods"),
            number(N_("Of the last"), "overage_of_last"),
        ),
        rx.text(tr("Roaming: any use abroad in N of the last M periods"), size="2", weight="bold"),
        _row(number(N_("In (periods)"), "roaming_periods"), number(N_("Of the last"), "roaming_of_last")),
        rx.text(tr("Tenure in months"), size="2", weight="bold"),
        _row(number(N_("At least"), "tenure_min"), number(N_("At most"), "tenure_max")),
        rx.hstack(
            check(N_("Not with overdue invoices"), "exclude_overdue"),
            check(N_("Not in collection"), "exclude_collection"),
            check(N_("Only where the plan is cheaper for them (recommendation)"), "recommended"),
            check(N_("When they reach 80 % of their data this period (shown with the alert)"), "data_alert"),
            spacing="5",
            wrap="wrap",
        ),
    )


def offer_form() -> rx.Component:
    """The form; its inputs start from ``MarketingState.form`` (re-mounted when another offer opens)."""
    return rx.form(
        rx.vstack(
            _banner_group(),
            _sells_group(),
            _where_group(),
            _who_group(),
            rx.button(
                rx.icon("save", size=16),
                rx.cond(M.selected_id > 0, tr("Save changes"), tr("Create offer")),
                type="submit",
                loading=M.busy,
                size="3",
                id="offer-save",
            ),
            spacing="4",
            width="100%",
            align="stretch",
        ),
        on_submit=M.save,
        reset_on_submit=False,
        key=M.form_key,
        width="100%",
        id="offer-form",
    )
