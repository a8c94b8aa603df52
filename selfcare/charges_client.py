"""The charges and automatic-payment routes of the core (issue #7 contract) for the app.

Instalments, one-off charges, add-ons and the payment method. A thin layer over
:class:`selfcare.api_client.CoreClient` (same connection pool, transport and typed errors),
plus :class:`Invalid` for a 422 whose message names the field (a bad clearing number, an
add-on not allowed on the plan) and :class:`Forbidden` for a 403 that is not an expired
session. Ids are checked for shape here, so nothing but a positive integer reaches a URL.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from selfcare.api_client import ApiError, CoreClient, NotFound, RateLimited, Unauthorized, get_client

logger = logging.getLogger(__name__)

MAX_DESCRIPTION = 200
MAX_REASON = 500


class Invalid(ApiError):
    """The core refused the input (422); ``detail`` names the field when the core did."""


class Forbidden(ApiError):
    """Signed in, but the role may not do this (e.g. a subscriber adding a charge)."""


def _id(value: object, what: str) -> int:
    if type(value) is not int or value <= 0:
        raise NotFound(404, f"{what} not found")
    return value


def _detail_text(detail: Any) -> str:
    """FastAPI's 422 detail as one readable line: a string as is, a validation list as ``field: message``."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = [str(x) for x in item.get("loc") or [] if x not in ("body", "query", "path", "header")]
                parts.append(f"{'.'.join(loc)}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
        return "; ".join(p for p in parts if p)
    return ""


class ChargesClient:
    """Calls of the charges and autopay routes; every one takes the caller's token."""

    def __init__(self, core: CoreClient | None = None) -> None:
        self._core = core

    @property
    def core(self) -> CoreClient:
        return self._core or get_client()

    async def _json(self, method: str, path: str, token: str, **kwargs: Any) -> Any:
        """One call; the typed errors of :class:`CoreClient`, plus :class:`Invalid` and :class:`Forbidden`.

        A 422's detail is made readable here (FastAPI's validation list becomes ``field: message``);
        every other status goes through the core client's own mapping, from the same response.
        """
        if not token:
            raise Unauthorized(401, "no session")
        try:
            resp = await self.core._http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except httpx.HTTPError as exc:
            logger.warning("core unreachable: %s %s: %s", method, path, exc)
            raise ApiError(0, "core unreachable") from None
        if resp.status_code < 400:
            return resp.json() if resp.content else None
        try:
            body = resp.json()
        except ValueError:
            body = None
        detail = _detail_text(body.get("detail")) if isinstance(body, dict) else resp.text[:200]
        if resp.status_code == 422:
            raise Invalid(422, detail)
        if resp.status_code == 403:
            raise Forbidden(403, detail)
        if resp.status_code == 404:
            raise NotFound(404, detail)
        if resp.status_code == 401:
            raise Unauthorized(401, detail)
        if resp.status_code == 429:
            retry = resp.headers.get("Retry-After", "60")
            raise RateLimited(429, detail, int(retry) if retry.isdigit() else 60)
        raise ApiError(resp.status_code, detail)

    # -- the customer's subscriptions ---------------------------------------------------------

    async def customer(self, token: str, customer_id: int) -> dict[str, Any]:
        """``GET /customers/{id}``: subscriptions (``id``, ``msisdn``, plan segments) and the core's ``today``."""
        return dict(await self._json("GET", f"/customers/{_id(customer_id, 'customer')}", token) or {})

    async def subscriptions(self, token: str, customer_id: int) -> list[dict[str, Any]]:
        """The customer's subscriptions (``id``, ``msisdn``, plan segments) from ``GET /customers/{id}``."""
        return list((await self.customer(token, customer_id)).get("subscriptions") or [])

    async def pending_changes(self, token: str, customer_id: int) -> dict[str, Any]:
        """``GET /customers/{id}/pending-changes``: plan changes ordered for a later day, and the core's ``today``."""
        return dict(await self._json("GET", f"/customers/{_id(customer_id, 'customer')}/pending-changes", token) or {})

    async def cancel_pending_change(self, token: str, customer_id: int, change_id: int) -> dict[str, Any]:
        """Undo one pending change (404 not the customer's, 409 already in effect: ``ApiError`` with status)."""
        return await self._json(
            "POST",
            f"/customers/{_id(customer_id, 'customer')}/pending-changes/{_id(change_id, 'change')}/cancel",
            token,
        )

    # -- instalments --------------------------------------------------------------------------

    async def instalments(self, token: str, customer_id: int) -> list[dict[str, Any]]:
        doc = await self._json("GET", f"/customers/{_id(customer_id, 'customer')}/instalments", token)
        return list((doc or {}).get("instalments") or [])

    async def payoff(self, token: str, instalment_id: int) -> dict[str, Any]:
        return await self._json("POST", f"/instalments/{_id(instalment_id, 'instalment')}/payoff", token)

    # -- one-off charges and credits (staff) --------------------------------------------------

    async def charges(self, token: str, customer_id: int) -> list[dict[str, Any]]:
        doc = await self._json("GET", f"/customers/{_id(customer_id, 'customer')}/charges", token)
        return list((doc or {}).get("charges") or [])

    async def add_charge(
        self,
        token: str,
        customer_id: int,
        *,
        description: str,
        amount_ore: int,
        reason: str,
        subscription_id: int | None = None,
        vat_rate: str = "0.25",
    ) -> dict[str, Any]:
        if type(amount_ore) is not int:
            raise TypeError("amount_ore must be integer öre")
        body = {
            "subscription_id": subscription_id,
            "description": description,
            "amount_ore": amount_ore,
            "vat_rate": vat_rate,
            "reason": reason,
        }
        return await self._json("POST", f"/customers/{_id(customer_id, 'customer')}/charges", token, json=body)

    async def delete_charge(self, token: str, charge_id: int) -> None:
        await self._json("DELETE", f"/charges/{_id(charge_id, 'charge')}", token)

    # -- add-ons ------------------------------------------------------------------------------

    async def addons(self, token: str, subscription_id: int, lang: str = "sv") -> dict[str, Any]:
        return await self._json(
            "GET", f"/subscriptions/{_id(subscription_id, 'subscription')}/addons", token, params={"lang": lang}
        )

    async def buy_addon(self, token: str, subscription_id: int, addon_id: str) -> dict[str, Any]:
        return await self._json(
            "POST", f"/subscriptions/{_id(subscription_id, 'subscription')}/addons", token, json={"addon_id": addon_id}
        )

    # -- payment method -----------------------------------------------------------------------

    async def payment_method(self, token: str, customer_id: int, lang: str | None = None) -> dict[str, Any]:
        """How the customer pays; ``lang`` (sv/en) is the language of the core's notice."""
        params = {"lang": lang} if lang in ("sv", "en") else {}
        return await self._json(
            "GET", f"/customers/{_id(customer_id, 'customer')}/payment-method", token, params=params
        )

    async def _put_method(self, token: str, customer_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return await self._json("PUT", f"/customers/{_id(customer_id, 'customer')}/payment-method", token, json=body)

    async def set_autogiro(
        self, token: str, customer_id: int, clearing: str, account: str, personal_number: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"method": "autogiro", "clearing": clearing, "account": account}
        if personal_number:
            body["personal_number"] = personal_number
        return await self._put_method(token, customer_id, body)

    async def set_card(self, token: str, customer_id: int, return_url: str) -> dict[str, Any]:
        """Start saving a card: ``{"redirect_url": …}`` of the provider's hosted page."""
        return await self._put_method(token, customer_id, {"method": "card", "return_url": return_url})

    async def set_manual(self, token: str, customer_id: int) -> dict[str, Any]:
        return await self._put_method(token, customer_id, {"method": "manual"})


def charges_client() -> ChargesClient:
    """The charges calls on the process-wide core client."""
    return ChargesClient()
