"""The offer banners of a page (overview, invoice) and their order sheet.

At most two banners, each a card readable at 360 px: image (if any), title, body, price terms,
the "recommended for you" figures when the offer is a cheaper plan for this subscriber, the call
to action (opens the order sheet) and a dismiss button. Loading them is the slot's own
``on_mount`` (one real view each time the page is shown), so the page's own load is untouched.
No charting code here: these pages stay light.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.components.layout import tr
from selfcare.components.order_sheet import state_order_sheet
from selfcare.state.offers import OffersState

C = styles.C
B = OffersState


def banner_card(b: ObjectVar[dict[str, str]], interactive: bool = True) -> rx.Component:
    """One banner (a ``banner_view`` dict). ``interactive=False``: the marketing preview, buttons do nothing."""
    dismiss = {"on_click": B.dismiss(b["offer_id"])} if interactive else {}
    cta = {"on_click": B.open_order(b["offer_id"])} if interactive else {}
    return rx.box(
        rx.cond(
            b["image"] != "",
            rx.image(
                src=b["image"],
                alt="",
                # A fixed box: the banner keeps its height while the image loads (no layout shift).
                width="100%",
                height="10rem",
                object_fit="cover",
                border_radius=f"{styles.RADIUS} {styles.RADIUS} 0 0",
                display="block",
                loading="lazy",
                class_name="offer-image",
            ),
        ),
        rx.vstack(
            rx.hstack(
                rx.text(tr("Offer"), style=styles.label, color=C.primary),
                rx.spacer(),
                rx.icon_button(
                    rx.icon("x", size=18),
                    variant="ghost",
                    **dismiss,
                    color_scheme="gray",
                    size="2",
                    aria_label=tr("No thanks, hide the offer"),
                    title=tr("No thanks, hide the offer"),
                    class_name="offer-dismiss",
                    style=styles.tap_button,
                ),
                width="100%",
                align="center",
            ),
            rx.heading(b["title"], size="4", as_="h2", class_name="offer-title", margin_top="-0.25rem"),
            rx.cond(b["body"] != "", rx.text(b["body"], class_name="offer-body")),
            rx.cond(
                b["recommendation"] != "",
                rx.hstack(
                    rx.icon("sparkles", size=18, color=C.success, flex_shrink="0", margin_top="0.15rem"),
                    rx.vstack(
                        rx.text(tr("Recommended for you"), weight="bold", size="2"),
                        rx.text(b["recommendation"], size="2", class_name="offer-recommendation"),
                        spacing="0",
                    ),
                    align="start",
                    spacing="2",
                    padding="0.5rem 0.6rem",
                    border_radius="8px",
                    background="#e9f6ee",
                    width="100%",
                ),
            ),
            rx.cond(b["terms"] != "", rx.text(b["terms"], weight="bold", color=C.primary, class_name="offer-terms")),
            rx.cond(b["msisdn"] != "", rx.text(tr("For"), " ", b["msisdn"], style=styles.muted)),
            rx.button(
                b["cta"],
                rx.icon("chevron-right", size=18),
                size="3",
                **cta,
                class_name="offer-cta",
                style=styles.primary_button,
            ),
            spacing="2",
            width="100%",
            align="stretch",
            padding="1rem",
        ),
        style={**styles.card, "padding": "0", "overflow": "hidden", "border_left": f"4px solid {C.accent}"},
        class_name="offer-banner",
        data_offer=b["offer_id"],
        role="region",
        aria_label=b["title"],
    )


def offer_banner(placement: str) -> rx.Component:
    """The banner slot of ``placement`` (``overview`` or ``invoice``): banners and the order sheet."""
    return rx.box(
        rx.vstack(rx.foreach(B.banners, lambda b: banner_card(b)), spacing="3", width="100%", align="stretch"),
        state_order_sheet(B, confirm_label=tr("Add"), on_confirm=B.confirm),
        id="offer-banner",
        width="100%",
        on_mount=B.load(placement),
        display=rx.cond(B.banners.length() > 0, "block", "none"),
    )
