"""``/settings``: usage alerts per subscription, a card each (issue 17)."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.components.layout import card, error_callout, page, tr
from selfcare.i18n import N_
from selfcare.pages.settings.state import SettingsState

S = SettingsState

_KINDS = (
    ("roaming_welcome", N_("Welcome abroad, with the prices")),
    ("fair_use", N_("EU fair-use volume used up")),
    ("spend_limit", N_("80 % of the spending limit for data outside the EU")),
)
_CHANNELS = (("sms", N_("SMS")), ("email", N_("E-mail")), ("app", N_("In the app")))


_TICK_STYLE = {
    "display": "flex",
    "align_items": "center",
    "gap": "0.6rem",
    "min_height": styles.TAP,
    "cursor": "pointer",
}
_BOX_STYLE = {"width": "1.25rem", "height": "1.25rem", "accent_color": styles.C.primary}


def _tick(item: ObjectVar[dict[str, Any]], name: str, label: str, suffix: str = "") -> rx.Component:
    """A checkbox with its label as one tap target of at least 44 px."""
    ticked: Any = item["ticked"].to(dict)
    return rx.el.label(
        rx.el.input(
            type="checkbox",
            name=name,
            default_checked=ticked[name],
            id=f"alert-{name}-" + item["id"].to(str),
            style=_BOX_STYLE,
        ),
        rx.text(tr(label), suffix, as_="span", size="2"),
        style=_TICK_STYLE,
    )


def _threshold_tick(tick: ObjectVar[dict[str, Any]], sub_id: Any) -> rx.Component:
    """One of the catalogue's per cents of a pool (its label from the state, in the session's language)."""
    name = tick["name"].to(str)
    return rx.el.label(
        rx.el.input(
            type="checkbox",
            name=name,
            default_checked=tick["checked"].to(bool),
            id="alert-" + name + "-" + sub_id,
            style=_BOX_STYLE,
        ),
        rx.text(tick["label"].to(str), as_="span", size="2"),
        style=_TICK_STYLE,
    )


def _group(title: str, *ticks: rx.Component) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(tr(title), style={"font_weight": "600", "font_size": "0.95rem", "padding": "0"}),
        *ticks,
        style={"border": "none", "padding": "0", "margin": "0"},
    )


def _thresholds(item: ObjectVar[dict[str, Any]]) -> rx.Component:
    """The allowance thresholds: the catalogue's per cents, for the pools the plan limits (unlimited ones never
    alert)."""
    sub_id = item["id"].to(str)
    ticks: Any = item["ticks"].to(list[dict[str, Any]])
    return rx.cond(
        item["any_pool"].to(bool),
        _group(N_("Tell me when I have used"), rx.foreach(ticks, lambda t: _threshold_tick(t, sub_id))),
    )


def _spend_limit(item: ObjectVar[dict[str, Any]], sub_id: Any) -> rx.Component:
    """The spending limit for data outside the EU/EEA: one of the operator's levels (``575 kr``)."""
    limits: Any = item["limits"].to(list[dict[str, str]])
    error = S.field_errors.get(sub_id + ":spend_limit", "")
    return rx.fragment(
        rx.el.label(
            tr("Spending limit for data outside the EU each month"),
            html_for="spend-limit-" + sub_id,
            style={"font_weight": "600", "font_size": "0.95rem"},
        ),
        rx.el.select(
            rx.foreach(limits, lambda o: rx.el.option(o["label"].to(str), value=o["value"].to(str))),
            name="spend_limit",
            id="spend-limit-" + sub_id,
            default_value=item["spend_limit"].to(str),
            style={
                "min_height": styles.TAP,
                "width": "100%",
                "font_size": "1rem",
                "padding": "0 0.5rem",
                "border_radius": "var(--radius-2)",
                "border": "1px solid var(--gray-7)",
                "background": "var(--color-background)",
            },
        ),
        rx.cond(error != "", rx.text(error, color="red", size="2", role="alert")),
    )


def _cost_limit(item: ObjectVar[dict[str, Any]], sub_id: Any) -> rx.Component:
    error = S.field_errors.get(sub_id + ":cost_limit", "")
    return rx.fragment(
        rx.el.label(
            tr("Cost warning when the month's bill looks like going over (kr)"),
            html_for="cost-" + sub_id,
            style={"font_weight": "600", "font_size": "0.95rem"},
        ),
        rx.input(
            name="cost_limit",
            id="cost-" + sub_id,
            default_value=item["cost_limit"].to(str),
            input_mode="decimal",
            placeholder=tr("e.g. 400"),
            size="3",
            width="100%",
        ),
        rx.cond(error != "", rx.text(error, color="red", size="2", role="alert")),
    )


def _roaming_stop(item: ObjectVar[dict[str, Any]], sub_id: Any) -> rx.Component:
    """Past the spending limit abroad: the way to go on (once per period), or that it was chosen."""
    return rx.fragment(
        rx.cond(
            item["can_continue"].to(bool),
            rx.vstack(
                rx.text(
                    tr("Data outside the EU is stopped: you reached the spending limit this period."),
                    size="2",
                    weight="bold",
                ),
                rx.button(
                    tr("Continue data abroad this period"),
                    type="button",
                    size="3",
                    on_click=S.continue_roaming(sub_id),
                    style={"min_height": styles.TAP},
                    id="continue-" + sub_id,
                ),
                spacing="2",
                align="stretch",
                width="100%",
            ),
        ),
        rx.cond(
            item["continued"].to(bool),
            rx.text(tr("You chose to go on using data abroad this period."), size="2"),
        ),
    )


def _card(item: ObjectVar[dict[str, Any]]) -> rx.Component:
    sub_id = item["id"].to(str)
    return card(
        rx.el.form(
            rx.vstack(
                rx.heading(item["msisdn"].to(str), size="4", as_="h2"),
                rx.text(item["plan"].to(str), size="2", color=styles.C.muted),
                rx.el.input(type="hidden", name="subscription", value=sub_id),
                _thresholds(item),
                _group(N_("When I travel"), *[_tick(item, f"kind_{kind}", label) for kind, label in _KINDS]),
                rx.text(
                    tr("When data outside the EU reaches the spending limit we always tell you and stop it."),
                    size="1",
                    color=styles.C.muted,
                ),
                rx.cond(item["limits"].to(list).length() > 1, _spend_limit(item, sub_id)),
                _group(N_("How"), *[_tick(item, f"channel_{ch}", label) for ch, label in _CHANNELS]),
                _cost_limit(item, sub_id),
                rx.button(
                    tr("Save"), type="submit", size="3", loading=S.saving == sub_id, style={"min_height": styles.TAP}
                ),
                _roaming_stop(item, sub_id),
                spacing="3",
                align="stretch",
                width="100%",
            ),
            on_submit=S.save,
            id="alerts-" + sub_id,
        ),
    )


def settings_page() -> rx.Component:
    return page(
        rx.heading(tr("Alerts"), size="6", as_="h1"),
        rx.text(tr("We tell you before your bill does: choose what, when and how."), size="2"),
        error_callout(S.error),
        rx.cond(
            S.notice != "",
            rx.callout(S.notice, icon="circle-check", color_scheme="green", role="status", width="100%"),
        ),
        rx.cond(
            S.loaded,
            rx.cond(
                S.cards.length() > 0,
                rx.foreach(S.cards, _card),
                card(rx.text(tr("You have no active subscription."))),
            ),
            rx.cond(S.error == "", rx.center(rx.spinner(size="3"), padding="3rem", width="100%")),
        ),
        active="Usage",
        reload=SettingsState.load,
    )
