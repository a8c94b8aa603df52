"""The phone on instalment, for the overview: "iPhone 16: 8 of 24 months paid, 1 598,00 kr left".

Its own small state (the instalments of the session's customer, loaded when the card mounts);
the card shows nothing when the subscriber has no instalment. The rows are computed from the
core's answer in the session's language of the moment, so a language switch relabels them.
"""

from __future__ import annotations

import logging
from typing import Any

import reflex as rx
from reflex.vars import ObjectVar

from selfcare import styles
from selfcare.api_client import ApiError
from selfcare.charges_client import charges_client
from selfcare.components.layout import card, section_title, status_badge
from selfcare.i18n import format_money, format_period, gettext, normalise_language
from selfcare.state.session import SessionState
from selfcare.state.typed import event

logger = logging.getLogger(__name__)
C = styles.C


def _int(value: Any) -> int:
    return value if type(value) is int else 0


def instalment_row(item: dict[str, Any], lang: str) -> dict[str, str]:
    """One instalment plan as the card shows it."""
    months, billed = _int(item.get("months")), _int(item.get("months_billed"))
    status = str(item.get("status", "active"))
    device = str(item.get("device_name") or item.get("device_id") or "")
    remaining = format_money(_int(item.get("remaining_ore")), lang)
    if status == "paid_off":
        headline = gettext(lang, "{device}: paid off", device=device)
    else:
        headline = gettext(
            lang,
            "{device}: {paid} of {months} months paid, {left} left",
            device=device,
            paid=billed,
            months=months,
            left=remaining,
        )
    start = item.get("start_period")
    try:
        since = format_period(start, lang) if isinstance(start, str) and start else ""
    except ValueError:
        since = ""
    return {
        "id": str(item.get("id", "")),
        "device": device,
        "headline": headline,
        "msisdn": str(item.get("msisdn") or ""),
        "monthly": gettext(lang, "{amount} / month", amount=format_money(_int(item.get("monthly_ore")), lang)),
        "paid": gettext(
            lang,
            "Paid {paid} of {total}",
            paid=format_money(_int(item.get("paid_ore")), lang),
            total=format_money(_int(item.get("total_ore")), lang),
        ),
        "remaining": remaining,
        "months_left": gettext(lang, "{count} months left", count=_int(item.get("months_left"))),
        "since": gettext(lang, "Since {period}", period=since) if since else "",
        "percent": str(min(100, round(billed * 100 / months)) if months > 0 else 0),
        "status": status,
        "status_text": gettext(lang, "Paid off") if status == "paid_off" else "",
    }


class InstalmentCardState(rx.State):
    """The session's customer's instalments (nothing is taken from the browser)."""

    _items: list[dict[str, Any]] = []  # the core's answer, without closed plans

    @rx.var
    async def rows(self) -> list[dict[str, str]]:
        session = await self.get_state(SessionState)
        lang = normalise_language(session.lang)
        return [instalment_row(i, lang) for i in self._items]

    @event
    async def load(self):
        session = await self.get_state(SessionState)
        token, customer_id = session._token_for_customer()
        if not token:
            self._items = []
            return
        try:
            items = await charges_client().instalments(token, customer_id)
        except ApiError as exc:
            logger.info("instalments: %s", exc)
            self._items = []
            return
        self._items = [i for i in items if isinstance(i, dict) and i.get("status") != "closed"]


def _row(r: ObjectVar[dict[str, str]]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon("smartphone", size=18, color=C.primary, flex_shrink="0"),
            rx.text(r["headline"], weight="bold", class_name="instalment-headline"),
            rx.spacer(),
            rx.cond(r["status_text"] != "", status_badge(r["status_text"], "green")),
            width="100%",
            align="start",
            spacing="2",
        ),
        rx.progress(value=r["percent"].to(int), max=100, aria_label=r["device"]),
        rx.text(r["paid"], " · ", r["monthly"], style=styles.muted),
        rx.cond(r["status"] == "active", rx.text(r["months_left"], " · ", r["msisdn"], style=styles.muted)),
        spacing="1",
        width="100%",
        class_name="instalment",
        data_status=r["status"],
    )


def instalment_card() -> rx.Component:
    """The overview's card of phones on instalment (hidden when there are none)."""
    s = InstalmentCardState
    return rx.box(
        rx.cond(
            s.rows.length() > 0,
            card(section_title("Your phone"), rx.foreach(s.rows, _row)),
        ),
        on_mount=InstalmentCardState.load,
        id="instalments",
        width="100%",
    )
