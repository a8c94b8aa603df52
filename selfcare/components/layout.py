"""The frame of every page: brand header, language switch, navigation, support footer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import reflex as rx
from reflex.vars.base import Var, VarData
from reflex_base.utils.imports import ImportVar

if TYPE_CHECKING:
    from selfcare.state.typed import BoundEvent

from selfcare import styles
from selfcare.brand import brand
from selfcare.components.lazy import after_hydration
from selfcare.state.session import SessionState

C = styles.C


# <html lang> follows the chosen language. Before hydration assets/lang-sync.js (loaded on every page by
# selfcare.py) sets it from the language cookie; afterwards an effect compiled into every page (below) sets it
# from the session. Compiled, not evaluated: the pages' CSP allows no eval (docs/security.md "Headers").
LANG_SYNC_SCRIPT = "/lang-sync.js"


class _HtmlLang(rx.Fragment):
    """Renders nothing; its effect keeps ``<html lang>`` equal to the session's language."""

    def add_hooks(self) -> list[str | Var]:
        locale = SessionState.locale
        effect = (
            f"useEffect(() => {{ const lang = {locale!s}; "
            "if (lang === 'sv' || lang === 'en') document.documentElement.lang = lang; "
            f"}}, [{locale!s}])"
        )
        var_data = VarData.merge(locale._get_all_var_data(), VarData(imports={"react": [ImportVar(tag="useEffect")]}))
        return [Var(_js_expr=effect, _var_data=var_data)]


def lang_sync() -> rx.Component:
    """``<html lang>`` follows the session's language (no DOM watching: an observer of the whole page cost the
    usage page's charts over a second of main thread on a phone)."""
    return _HtmlLang.create()


def tr(msgid: str) -> rx.Var:
    """A UI text in the chosen language (looked up in the babel catalogue on the backend)."""
    return SessionState.t[msgid]


def lang_switch(reload: BoundEvent | list[BoundEvent] | None = None) -> rx.Component:
    """Svenska ⇄ English; the page's own reload (one handler or a list) runs after, so data comes back
    formatted anew."""
    after = list(reload) if isinstance(reload, list | tuple) else [reload] if reload is not None else []
    style = {
        "background": "transparent",
        "color": C.primary_text,
        "border": "1px solid rgba(255,255,255,0.6)",
        "cursor": "pointer",
        "min_height": styles.TAP,
        "padding_inline": "10px",
        "flex_shrink": "0",
    }
    return rx.cond(
        SessionState.locale == "sv",
        rx.button(
            "English",
            id="lang-switch",
            lang="en",
            on_click=[SessionState.set_lang("en"), *after],
            size="2",
            style=style,
        ),
        rx.button(
            "Svenska",
            id="lang-switch",
            lang="sv",
            on_click=[SessionState.set_lang("sv"), *after],
            size="2",
            style=style,
        ),
    )


def header(reload=None) -> rx.Component:
    b = brand()
    return rx.el.header(
        rx.hstack(
            rx.link(
                rx.hstack(
                    rx.image(src=b.logo, alt="", width="32px", height="32px", flex_shrink="0"),
                    # One line in both languages (the language button is wider in English): a brand that
                    # wrapped made the header taller once the page was hydrated, and everything moved down.
                    rx.text(
                        b.name,
                        weight="bold",
                        color=C.primary_text,
                        font_size="clamp(1rem, 4.4vw, 1.125rem)",
                        white_space="nowrap",
                        overflow="hidden",
                        text_overflow="ellipsis",
                    ),
                    align="center",
                    spacing="2",
                    min_width="0",
                ),
                href="/",
                underline="none",
                aria_label=b.name,
                style={**styles.tap_link, "min_width": "0"},
            ),
            rx.spacer(),
            rx.cond(rx.State.is_hydrated, lang_switch(reload)),
            rx.cond(
                SessionState.signed_in | SessionState.scoped,
                rx.button(
                    rx.icon("log-out", size=16),
                    id="sign-out",
                    on_click=SessionState.sign_out,
                    size="2",
                    aria_label=tr("Sign out"),
                    title=tr("Sign out"),
                    style={"background": "transparent", "color": C.primary_text, **styles.tap_button},
                ),
            ),
            align="center",
            width="100%",
            max_width=styles.MAX_WIDTH,
            margin="0 auto",
            spacing="2",
        ),
        background=C.primary,
        padding="0.6rem 1rem",
        width="100%",
        position="sticky",
        top="0",
        z_index="10",
        display="block",
    )


def nav_item(label_key: str, href: str, icon: str, active: str) -> rx.Component:
    is_active = label_key == active
    return rx.link(
        rx.vstack(
            rx.icon(icon, size=20), rx.text(tr(label_key), size="1", weight="medium"), align="center", spacing="0"
        ),
        href=href,
        underline="none",
        flex="1",
        padding="0.4rem 0",
        text_align="center",
        color=C.primary if is_active else C.muted,
        border_bottom=f"3px solid {C.primary}" if is_active else "3px solid transparent",
        aria_current="page" if is_active else None,
    )


# The navigation's height, held by the skeleton before the page is hydrated (no shift when it comes).
NAV_HEIGHT = "3.5rem"
# The content column reaches at least the bottom of the first screen, so the footer, which comes with the
# content, starts below it: the content filling in never pushes the footer down within sight.
CONTENT_MIN_HEIGHT = "calc(100vh - 6.5rem)"


def nav(active: str) -> rx.Component:
    return rx.cond(
        SessionState.signed_in,
        rx.el.nav(
            rx.hstack(
                nav_item("Overview", "/", "house", active),
                nav_item("Invoices", "/invoices", "receipt-text", active),
                nav_item("Usage", "/usage", "chart-column", active),
                width="100%",
                max_width=styles.MAX_WIDTH,
                margin="0 auto",
                spacing="0",
                height=NAV_HEIGHT,
                background=C.surface,
                border_bottom="1px solid #e3e8eb",
            ),
            display="block",
            width="100%",
        ),
    )


def footer() -> rx.Component:
    s = brand().support
    return rx.el.footer(
        rx.vstack(
            rx.text(tr("Customer service"), weight="bold", size="2"),
            rx.hstack(
                rx.icon("phone", size=14),
                rx.link(s.phone, href=f"tel:{s.phone.replace(' ', '')}", size="2", style=styles.tap_link),
                rx.text("·", size="2"),
                rx.text(rx.cond(SessionState.locale == "en", s.hours_en, s.hours_sv), size="2"),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.hstack(
                rx.icon("mail", size=14),
                rx.link(s.email, href=f"mailto:{s.email}", size="2", style=styles.tap_link),
                align="center",
                spacing="2",
            ),
            spacing="1",
            padding="1.5rem 1rem 2rem",
            width="100%",
            max_width=styles.MAX_WIDTH,
            margin="0 auto",
            color=C.muted,
        ),
        display="block",
        width="100%",
    )


def page(*children: rx.Component, active: str = "", reload=None, loading: rx.Component | None = None) -> rx.Component:
    """A page of the app: header, navigation, the content column, footer.

    Until the page is hydrated (its on-load handlers have run), ``loading`` holds the place: grey
    blocks in the final layout, no text (so nothing false and nothing in the wrong language)."""
    return rx.box(
        lang_sync(),
        header(reload),
        # Until the session's language is known nothing with text is shown (no flash of Swedish).
        after_hydration(
            rx.fragment(
                nav(active),
                rx.el.main(
                    rx.vstack(
                        *children,
                        spacing="4",
                        width="100%",
                        max_width=styles.MAX_WIDTH,
                        margin="0 auto",
                        padding="1rem",
                        align="stretch",
                        min_height=CONTENT_MIN_HEIGHT,
                    ),
                    display="block",
                    width="100%",
                ),
                footer(),
            ),
            rx.el.main(
                rx.box(height=NAV_HEIGHT, width="100%", background=C.surface, border_bottom="1px solid #e6eaee"),
                rx.vstack(
                    loading, width="100%", max_width=styles.MAX_WIDTH, margin="0 auto", padding="1rem", align="stretch"
                )
                if loading is not None
                else rx.fragment(),
                id="page-skeleton",
                min_height="60vh",
                width="100%",
                aria_busy="true",
                display="block",
            ),
        ),
        min_height="100vh",
        width="100%",
        background=C.background,
        overflow_x="hidden",
        class_name="page-frame",
    )


def when_hydrated(form: rx.Component, height: str) -> rx.Component:
    """A sign-in form that exists only once the page is hydrated (the staff pages prerender their frame).

    The pages paint before their scripts run (``page_shells``): a prerendered form could be filled in and
    sent before React handles it, and the browser would then send it itself, as a GET with the password
    in the address. Until then a box of the form's height holds its place."""
    return rx.cond(rx.State.is_hydrated, form, rx.box(height=height, width="100%", aria_busy="true"))


def card(*children: rx.Component, **props) -> rx.Component:
    return rx.box(rx.vstack(*children, spacing="2", align="stretch", width="100%"), style=styles.card, **props)


def skeleton(height: str, width: str = "100%", **props) -> rx.Component:
    """A grey block holding the place of a value not known yet: the final layout's size, and no text
    (nothing to flash in the wrong language, nothing false said before the data is there)."""
    return rx.box(
        height=height,
        width=width,
        background="#e6eaee",
        border_radius="6px",
        aria_hidden="true",
        class_name="skeleton",
        **props,
    )


def section_title(key: str) -> rx.Component:
    return rx.heading(tr(key), size="4", as_="h2", margin_top="0.25rem")


def status_badge(text, tone, **props) -> rx.Component:
    return rx.badge(text, color_scheme=tone, variant="soft", size="2", radius="full", **props)


def error_callout(message: rx.Var) -> rx.Component:
    return rx.cond(
        message != "", rx.callout(message, icon="triangle-alert", color_scheme="red", role="alert", width="100%")
    )


def offer_banner() -> rx.Component:
    """The slot for an offer that fits the subscriber (filled by the offers feature later)."""
    return rx.box(id="offer-banner", width="100%")
