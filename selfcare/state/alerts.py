"""The usage alerts the app shows on the overview and the usage page (issue 17): each with its sentence from the
core in the session's language, its one tap out, and a close button.

Handlers never take an alert or a subscription on the browser's word: an id must be one this state loaded
for the session's own customer, and the core checks again (another customer's id answers 404 there).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from selfcare.alerts_client import alerts_client
from selfcare.i18n import N_
from selfcare.state.calls import Subscriber, core_call
from selfcare.state.session import SessionState
from selfcare.state.typed import event

ACTION_PATHS = {"buy": "/addons", "usage": "/usage", "continue": "/settings"}


def notice_view(item: dict[str, Any]) -> dict[str, str] | None:
    """One alert as the page shows it (strings only), or None when the core's answer is not one."""
    if type(item.get("id")) is not int or not isinstance(item.get("text"), str):
        return None
    action = item.get("action") if item.get("action") in ACTION_PATHS else "usage"
    path = ACTION_PATHS[str(action)]
    if action == "buy" and type(item.get("subscription_id")) is int:
        path += f"?sub={item['subscription_id']}"  # the shop opens on that subscription
    return {
        "id": str(item["id"]),
        "text": item["text"],
        "action": str(action),
        "action_label": str(item.get("action_label") or ""),
        "href": path,
        "tone": "amber" if item.get("kind") in ("allowance", "spend_limit", "cost") else "blue",
    }


class AlertNoticesState(rx.State):
    """The signed-in subscriber's alerts, not dismissed."""

    notices: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    error: rx.Field[str] = rx.field("")
    _customer_id: int = 0

    async def _session(self) -> tuple[SessionState, str, int]:
        session = await self.get_state(SessionState)
        token, customer_id = session._token_for_customer()
        if not token or customer_id != self._customer_id:
            self._forget()
        return session, token, customer_id

    def _forget(self) -> None:
        self.notices = []
        self._customer_id = 0

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
