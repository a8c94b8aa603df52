"""The usage-alert routes of the core for the app (issue 17): notices, settings, the roaming "continue".

The same connection, typed errors and 422 reading as :class:`selfcare.charges_client.ChargesClient`;
ids are checked for shape before they reach a URL.
"""

from __future__ import annotations

from typing import Any

from selfcare.charges_client import ChargesClient, _id


class AlertsClient(ChargesClient):
    """Calls of the alerts routes; every one takes the caller's token."""

    async def alerts(self, token: str, customer_id: int, lang: str = "sv") -> list[dict[str, Any]]:
        """``GET /customers/{id}/alerts``: the alerts the app shows, newest first, with their text in ``lang``."""
        path = f"/customers/{_id(customer_id, 'customer')}/alerts"
        doc = await self._json("GET", path, token, params={"lang": "en" if lang == "en" else "sv"}) or {}
        return [x for x in doc.get("items") or [] if isinstance(x, dict)]

    async def dismiss(self, token: str, customer_id: int, alert_id: int) -> None:
        path = f"/customers/{_id(customer_id, 'customer')}/alerts/{_id(alert_id, 'alert')}/dismiss"
        await self._json("POST", path, token)

    async def settings(self, token: str, subscription_id: int) -> dict[str, Any]:
        path = f"/subscriptions/{_id(subscription_id, 'subscription')}/alert-settings"
        return dict(await self._json("GET", path, token) or {})

    async def put_settings(self, token: str, subscription_id: int, choice: dict[str, Any]) -> dict[str, Any]:
        path = f"/subscriptions/{_id(subscription_id, 'subscription')}/alert-settings"
        return dict(await self._json("PUT", path, token, json=choice) or {})

    async def continue_roaming(self, token: str, subscription_id: int) -> dict[str, Any]:
        path = f"/subscriptions/{_id(subscription_id, 'subscription')}/roaming/continue"
        return dict(await self._json("POST", path, token) or {})


def alerts_client() -> AlertsClient:
    """The alerts calls on the process-wide core client."""
    return AlertsClient()
