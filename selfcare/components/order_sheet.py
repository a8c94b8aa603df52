"""The order sheet: a web shop's "confirm your order" step, as a bottom sheet on a phone.

Shared by the offers (plan upgrades, add-ons from a banner) and the add-on shop/instalments,
so it holds no state of its own: the caller's state passes everything in.

Props of :func:`order_sheet` (each a plain value or a state Var):

- ``title`` – heading of the sheet (``str`` or ``Var[str]``).
- ``what_you_get`` – ``Var[list[str]]``: "what you get" lines, one bullet each.
- ``terms`` – the price terms text ("250 Mbit/s, 3 mån 0 kr, sedan 449 kr/mån"); empty → hidden.
- ``cost_lines`` – ``Var[list[dict[str, str]]]`` with keys ``description`` and ``amount`` (amount
  already formatted, e.g. "132,67 kr"), or ``Var[list[tuple[str, str]]]`` / ``list[list[str]]``
  as ``(description, amount text)``. What this period will cost with the change; empty → hidden.
- ``total`` – the total text of those lines ("132,67 kr"); ``total_label`` its label
  (default: the translated "This period in total").
- ``confirm_label`` – the confirm button's text ("Lägg till" / "Add").
- ``on_confirm`` / ``on_cancel`` – events of the two buttons (``on_cancel`` also runs when the
  sheet is closed with Esc or a tap outside it).
- ``open`` – ``Var[bool]``: whether the sheet is shown.
- ``busy`` – ``Var[bool]``: the order is being placed (confirm shows a spinner, both buttons wait).
- ``error`` – ``Var[str]``: a message shown above the buttons when not empty.
- ``done`` – optional ``Var[str]``: when not empty the order went through; the sheet shows this
  confirmation ("Klart! Din nya plan gäller från 21 nov") and one close button (``on_cancel``).
- ``summary`` – optional text under the heading: what changes when ("Mobil 5 GB → Mobil 20 GB
  från 21 nov"); empty → hidden.
- ``costs_heading`` – optional heading over the cost lines (default: the translated
  "What this period will cost").
- ``cancel_label``, ``close_label`` – optional button texts (default "Cancel" / "Close", translated).
- ``id_`` – the element id prefix (default ``order-sheet``; the buttons are ``<id>-confirm``,
  ``<id>-cancel``, ``<id>-close``; the cost lines have class ``order-line``).

Texts given as ``str`` are shown as they are (translate them before, e.g. with ``tr``).

:func:`state_order_sheet` is the sheet of a state that includes
:class:`selfcare.state.order_sheet.OrderSheetMixin` (the offer banners, the usage page's cheaper plan).
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

import reflex as rx

from selfcare import styles
from selfcare.components.layout import tr
from selfcare.state.order_sheet import OrderSheetMixin

C = styles.C

# Below Reflex's first breakpoint (30em) the sheet sits at the bottom edge, full width, like a
# native bottom sheet; from there up it is a centred dialog.
_PHONE, _WIDE = 0, 1


def _text(value: Any) -> Any:
    return value if value is not None else ""


def _is_pair_list(cost_lines: Any) -> bool:
    """Whether ``cost_lines`` holds tuples/lists (index access) rather than dicts (key access)."""
    var_type = getattr(cost_lines, "_var_type", None)
    args = get_args(var_type) if var_type is not None else ()
    if not args:
        return False
    inner = args[0]
    return (get_origin(inner) or inner) in (tuple, list)


def _cost_line(line: rx.Var, pairs: bool) -> rx.Component:
    description = line.to(list[str])[0] if pairs else line.to(dict[str, str])["description"]
    amount = line.to(list[str])[1] if pairs else line.to(dict[str, str])["amount"]
    return rx.hstack(
        rx.text(description, size="2", flex="1", min_width="0"),
        rx.text(amount, size="2", white_space="nowrap", font_variant_numeric="tabular-nums"),
        width="100%",
        align="start",
        padding="0.3rem 0",
        border_bottom="1px solid #eef1f3",
        class_name="order-line",
    )


# phone: a bottom sheet across the full width; wider: a centred dialog
SHEET_STYLE = {
    "position": ["fixed", "relative"],
    "left": ["0", "auto"],
    "right": ["0", "auto"],
    "bottom": ["0", "auto"],
    "width": ["100%", "min(32rem, 94vw)"],
    "max_width": ["100%", "32rem"],
    "margin": "0",
    "border_radius": [f"{styles.RADIUS} {styles.RADIUS} 0 0", styles.RADIUS],
    "padding": ["1.25rem 1rem calc(1rem + env(safe-area-inset-bottom))", "1.5rem"],
    "max_height": ["88vh", "90vh"],
    "overflow_y": "auto",
}


def _costs(cost_lines: Any, pairs: bool, total: Any, costs_heading: Any, total_label: Any, id_: str) -> rx.Component:
    """What this period will cost: the lines and the total (nothing without lines)."""
    return rx.cond(
        cost_lines.to(list).length() > 0 if isinstance(cost_lines, rx.Var) else bool(cost_lines),
        rx.vstack(
            rx.text(
                costs_heading if costs_heading is not None else tr("What this period will cost"), style=styles.label
            ),
            rx.box(rx.foreach(cost_lines, lambda line: _cost_line(line, pairs)), width="100%"),
            rx.hstack(
                rx.text(total_label if total_label is not None else tr("This period in total"), weight="bold"),
                rx.spacer(),
                rx.text(
                    total, weight="bold", white_space="nowrap", font_variant_numeric="tabular-nums", id=f"{id_}-total"
                ),
                width="100%",
                align="baseline",
            ),
            spacing="1",
            width="100%",
            align="stretch",
            id=f"{id_}-costs",
        ),
    )


def _what_you_get(what_you_get: Any, id_: str) -> rx.Component:
    """What the order gives, a tick before each (nothing when empty)."""
    return rx.cond(
        what_you_get.to(list).length() > 0 if isinstance(what_you_get, rx.Var) else bool(what_you_get),
        rx.el.ul(
            rx.foreach(
                what_you_get,
                lambda item: rx.el.li(
                    rx.hstack(
                        rx.icon("check", size=16, color=C.success, flex_shrink="0", margin_top="0.2rem"),
                        rx.text(item),
                        spacing="2",
                        align="start",
                    ),
                    class_name="order-get",
                ),
            ),
            style={
                "list_style": "none",
                "margin": "0",
                "padding": "0",
                "display": "flex",
                "flex_direction": "column",
                "gap": "0.25rem",
            },
            id=f"{id_}-get",
        ),
    )


def _buttons(
    confirm_label: Any, on_confirm: Any, cancel_label: Any, on_cancel: Any, busy: Any, id_: str
) -> rx.Component:
    """Cancel and confirm: side by side, or stacked with confirm on top on a phone; both wait while busy."""
    confirm = rx.button(
        confirm_label,
        on_click=on_confirm,
        loading=busy,
        disabled=busy,
        size="3",
        id=f"{id_}-confirm",
        style=styles.primary_button,
    )
    cancel = rx.button(
        cancel_label if cancel_label is not None else tr("Cancel"),
        on_click=on_cancel,
        disabled=busy,
        size="3",
        id=f"{id_}-cancel",
        style=styles.secondary_button,
    )
    return rx.box(
        cancel,
        confirm,
        width="100%",
        margin_top="0.25rem",
        style={"display": "flex", "gap": "0.5rem", "flex_direction": ["column-reverse", "row"]},
    )


def _finished(done: Any, close_label: Any, on_cancel: Any, id_: str) -> rx.Component:
    """The order went through: the confirmation and one close button."""
    return rx.vstack(
        rx.callout(done, icon="circle-check", color_scheme="green", width="100%", id=f"{id_}-done", role="status"),
        rx.button(
            close_label if close_label is not None else tr("Close"),
            on_click=on_cancel,
            size="3",
            id=f"{id_}-close",
            style=styles.primary_button,
        ),
        spacing="3",
        width="100%",
        align="stretch",
    )


def order_sheet(
    *,
    title: Any,
    what_you_get: Any,
    terms: Any,
    cost_lines: Any,
    total: Any,
    confirm_label: Any,
    on_confirm: Any,
    on_cancel: Any,
    open: Any,  # noqa: A002 - the prop's name
    busy: Any = False,
    error: Any = "",
    done: Any = "",
    summary: Any = "",
    total_label: Any = None,
    costs_heading: Any = None,
    cancel_label: Any = None,
    close_label: Any = None,
    id_: str = "order-sheet",
) -> rx.Component:
    """The order sheet (see the module docstring for the props)."""
    pairs = _is_pair_list(cost_lines)
    terms = _text(terms)
    done = _text(done)
    error = _text(error)
    summary = _text(summary)
    order = rx.vstack(
        rx.cond(summary != "", rx.text(summary, weight="medium", id=f"{id_}-summary")),
        _what_you_get(what_you_get, id_),
        rx.cond(terms != "", rx.text(terms, weight="bold", color=C.primary, id=f"{id_}-terms")),
        _costs(cost_lines, pairs, total, costs_heading, total_label, id_),
        rx.cond(
            error != "",
            rx.callout(error, icon="triangle-alert", color_scheme="red", role="alert", width="100%", id=f"{id_}-error"),
        ),
        _buttons(confirm_label, on_confirm, cancel_label, on_cancel, busy, id_),
        spacing="3",
        width="100%",
        align="stretch",
    )

    def _on_open_change(value: rx.Var) -> Any:
        return on_cancel

    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title, size="5", margin_bottom="0.5rem"),
            rx.dialog.description(
                rx.cond(done != "", tr("Order confirmed"), tr("Check your order")),
                style=styles.muted,
                margin_bottom="0.75rem",
            ),
            rx.cond(done != "", _finished(done, close_label, on_cancel, id_), order),
            id=id_,
            aria_busy=busy,
            style={**SHEET_STYLE},
        ),
        open=open,
        on_open_change=_on_open_change,
    )


def state_order_sheet(
    state: type[OrderSheetMixin], *, confirm_label: Any, on_confirm: Any, id_: str = "order-sheet"
) -> rx.Component:
    """The order sheet of a state that includes :class:`OrderSheetMixin` (its ``sheet_*`` vars; Cancel
    and Close are its ``close_order``)."""
    return order_sheet(
        title=state.sheet_title,
        what_you_get=state.sheet_get,
        terms=state.sheet_terms,
        cost_lines=state.sheet_lines,
        total=state.sheet_total,
        confirm_label=confirm_label,
        on_confirm=on_confirm,
        on_cancel=state.close_order,
        open=state.sheet_open,
        busy=state.sheet_busy,
        error=state.sheet_error,
        done=state.sheet_done,
        summary=state.sheet_change,
        id_=id_,
    )
