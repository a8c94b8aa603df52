"""Style tokens from the operator's brand: one place for colours, spacing and widths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from selfcare.brand import brand

if TYPE_CHECKING:
    from reflex.app import ComponentStyle

C = brand().colors
MAX_WIDTH = "40rem"
RADIUS = "12px"

card: dict[str, Any] = {
    "background": C.surface,
    "border_radius": RADIUS,
    "padding": "1rem",
    "width": "100%",
    "box_shadow": "0 1px 2px rgba(16, 40, 52, 0.08), 0 0 0 1px rgba(16, 40, 52, 0.06)",
}
muted: dict[str, Any] = {"color": C.muted, "font_size": "0.875rem"}
label: dict[str, Any] = {
    "color": C.muted,
    "font_size": "0.8rem",
    "text_transform": "uppercase",
    "letter_spacing": "0.04em",
    "font_weight": "600",
}
amount_big: dict[str, Any] = {
    "font_size": "2rem",
    "font_weight": "700",
    "color": C.text,
    "line_height": "1.1",
    "font_variant_numeric": "tabular-nums",
}
primary_button: dict[str, Any] = {
    "background": C.primary,
    "color": C.primary_text,
    "width": "100%",
    "min_height": "48px",
    "font_size": "1rem",
    "cursor": "pointer",
}
secondary_button: dict[str, Any] = {
    "background": C.surface,
    "color": C.primary,
    "width": "100%",
    "min_height": "44px",
    "border": f"1px solid {C.primary}",
    "cursor": "pointer",
}
# Tap targets of at least 44 × 44 px (WCAG 2.5.5; Apple's and Google's guidance): a link standing alone
# (its line box grows, the text stays where it was), a row-wide control, a button.
TAP = "44px"
tap_link: dict[str, Any] = {"display": "inline-flex", "align_items": "center", "min_height": TAP, "min_width": TAP}
tap_block: dict[str, Any] = {"min_height": TAP, "padding_block": "10px", "box_sizing": "border-box"}
tap_button: dict[str, Any] = {"min_height": TAP, "min_width": TAP, "cursor": "pointer"}
base_style: ComponentStyle = {  # the app's global style (rx.App(style=...))
    "font_family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "color": C.text,
    "background": C.background,
    "overflow_wrap": "anywhere",
}
