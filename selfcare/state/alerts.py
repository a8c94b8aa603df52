"""The usage alerts the app shows on the overview and the usage page (issue 17): each with its sentence from the
core in the session's language, its one tap out, and a close button.

Handlers never take an alert or a subscription on the browser's word: an id must be one this state loaded
for the session's own customer, and the core checks again (another customer's id answers 404 there).

A data alert that an active offer targets (the core's ``action`` "offer", rule ``data_alert``) opens that
offer's order sheet, the one its banner opens (:class:`selfcare.state.order_sheet.OrderSheetMixin`): the browser
sends the alert's id, and the offer and subscription come from what the core gave this customer (``_offers``).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from selfcare.alerts_client import alerts_client
from selfcare.api_client import NotFound
from selfcare.i18n import N_
from selfcare.state.calls import Subscriber, core_call
from selfcare.state.order_sheet import GONE, OrderSheetMixin, offer_refusals
from selfcare.state.session import LOGIN_ROUTE, SessionState
from selfcare.state.typed import event

POOLS = ("data", "voice", "sms")
ACTION_PATHS = {"buy": "/addons", "usage": "/usage", "continue": "/settings", "offer": ""}


def notice_view(item: dict[str, Any]) -> dict[str, str] | None:
    """One alert as the page shows it (strings only), or None when the core's answer is not one."""
    if type(item.get("id")) is not int or not isinstance(item.get("text"), str):
        return None
    action = item.get("action") if item.get("action") in ACTION_PATHS else "usage"
    if action == "offer" and not (type(item.get("offer_id")) is int and type(item.get("subscription_id")) is int):
        action = "buy"  # an offer without its ids: the shop, as without an offer
    path = ACTION_PATHS[str(action)]
    if action == "buy" and type(item.get("subscription_id")) is int:
        path += f"?sub={item['subscription_id']}"  # the shop opens on that subscription,
        pool = (item.get("data") or {}).get("pool") if isinstance(item.get("data"), dict) else None
        if pool in POOLS:
            path += f"&pool={pool}"  # with the order sheet of an add-on for what ran low
    return {
        "id": str(item["id"]),
        "text": item["text"],
        "action": str(action),
        "action_label": str(item.get("action_label") or ""),
        "href": path,
        "tone": "amber" if item.get("kind") in ("allowance", "spend_limit", "cost") else "blue",
    }


class AlertNoticesState(OrderSheetMixin, rx.State):
    """The signed-in subscriber's alerts, not dismissed, and the order sheet of an offer one of them opens."""

    notices: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    error: rx.Field[str] = rx.field("")
    _customer_id: int = 0
    _offers: dict[str, tuple[int, int]] = {}  # alert id → (offer id, subscription id), as the core gave them

    async def _session(self) -> tuple[SessionState, str, int]:
        session = await self.get_state(SessionState)
        token, customer_id = session._token_for_customer()
        if not token or customer_id != self._customer_id:
            self._forget()
        return session, token, customer_id

    def _forget(self) -> None:
        self.notices = []
        self._offers = {}
        self._customer_id = 0
        self._close_sheet()

    @event
    async def load(self):
        """on_mount of the notices: the alerts in the session's language (failures are logged; nothing shown)."""
        session, token, customer_id = await self._session()
        if not token:
            return
        async with core_call(self, Subscriber(session, forget=self._forget), "alerts", None, quiet=True) as call:
            items = await alerts_client().alerts(token, customer_id, session._lang())
            self._customer_id = customer_id
            self.notices = [v for v in (notice_view(x) for x in items) if v is not None][:3]
            shown = {n["id"] for n in self.notices if n["action"] == "offer"}
            self._offers = {
                str(x["id"]): (x["offer_id"], x["subscription_id"]) for x in items if str(x.get("id")) in shown
            }
        if call.event:
            yield call.event

    @event
    async def dismiss(self, alert_id: str):
        """Close one of the loaded alerts (any other id changes nothing)."""
        session, token, customer_id = await self._session()
        if not token or not any(n["id"] == alert_id for n in self.notices) or not alert_id.isdigit():
            return
        async with core_call(
            self,
            Subscriber(session, forget=self._forget),
            f"dismiss alert {alert_id}",
            N_("The notice could not be closed just now. Please try again."),
            quiet=True,
        ) as call:
            await alerts_client().dismiss(token, customer_id, int(alert_id))
            self.notices = [n for n in self.notices if n["id"] != alert_id]
        if call.event:
            yield call.event

    # -- the order sheet of the offer a data alert opens ----------------------------------------

    def _offer_of(self, alert_id: Any) -> tuple[int, int]:
        """``(offer id, subscription id)`` of an alert loaded for this customer with an offer, or ``(0, 0)``."""
        if type(alert_id) is not str or not alert_id.isdigit() or self._customer_id <= 0:
            return 0, 0
        return self._offers.get(alert_id, (0, 0))

    @event
    async def open_offer(self, alert_id: str):
        """The alert's tap: the order sheet of the offer that targets it (another alert id opens nothing)."""
        session, token, customer_id = await self._session()
        if not token:
            self._forget()
            return
        offer, subscription = self._offer_of(alert_id)
        if not offer:
            return
        async for step in self._open_sheet(
            Subscriber(session, forget=self._forget),
            token,
            customer_id,
            offer,
            subscription,
            what=f"order sheet {offer} from alert {alert_id}",
            refused={NotFound: GONE},
            title=next((n["action_label"] for n in self.notices if n["id"] == alert_id), ""),
        ):
            yield step

    @event
    async def confirm(self):
        """ "Add": the offer on show is accepted for the alert's subscription (no ids from the browser)."""
        session, token, customer_id = await self._session()
        if not token:
            self._forget()
            yield rx.redirect(LOGIN_ROUTE)
            return
        offer, subscription = self._sheet_offer, self._sheet_subscription
        if not self._sheet_confirmable() or (offer, subscription) not in self._offers.values():
            return
        lang = session._lang()
        async for step in self._place_order(
            Subscriber(session, forget=self._forget),
            token,
            customer_id,
            what=f"accept offer {offer} from an alert",
            refused=offer_refusals(lang),
        ):
            yield step
        if self.sheet_done:  # taken: the alert's tap is the shop again (the core says so)
            self._offers = {k: v for k, v in self._offers.items() if v != (offer, subscription)}
            yield AlertNoticesState.load
            yield self._reload_page()
